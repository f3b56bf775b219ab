//! AFL++ entry point for the `openvex` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::openvex(data));
}
