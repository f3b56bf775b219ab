//! AFL++ entry point for the `wheel` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::wheel(data));
}
