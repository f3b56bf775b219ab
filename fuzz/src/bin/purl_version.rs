//! AFL++ entry point for the `purl_version` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::purl_version(data));
}
