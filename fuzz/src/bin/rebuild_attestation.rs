//! AFL++ entry point for the `rebuild_attestation` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::rebuild_attestation(data));
}
