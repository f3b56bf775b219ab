//! AFL++ entry point for the `cargo_checksum` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::cargo_checksum(data));
}
