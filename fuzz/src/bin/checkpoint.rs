//! AFL++ entry point for the `checkpoint` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::checkpoint(data));
}
