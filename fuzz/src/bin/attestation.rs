//! AFL++ entry point for the `attestation` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::attestation(data));
}
