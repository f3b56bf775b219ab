//! AFL++ entry point for the `certificate` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::certificate(data));
}
