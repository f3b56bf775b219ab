//! AFL++ entry point for the `sbom` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::sbom(data));
}
