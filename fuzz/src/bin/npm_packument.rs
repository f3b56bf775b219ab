//! AFL++ entry point for the `npm_packument` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::npm_packument(data));
}
