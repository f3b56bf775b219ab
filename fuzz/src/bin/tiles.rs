//! AFL++ entry point for the `tiles` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::tiles(data));
}
