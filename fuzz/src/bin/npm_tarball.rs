//! AFL++ entry point for the `npm_tarball` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::npm_tarball(data));
}
