//! AFL++ entry point for the `scan_attestation` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::scan_attestation(data));
}
