//! AFL++ entry point for the `wheel_metadata` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::wheel_metadata(data));
}
