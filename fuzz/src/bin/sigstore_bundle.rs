//! AFL++ entry point for the `sigstore_bundle` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::sigstore_bundle(data));
}
