//! AFL++ entry point for the `release_meta` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::release_meta(data));
}
