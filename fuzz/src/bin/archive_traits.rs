//! AFL++ entry point for the `archive_traits` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::archive_traits(data));
}
