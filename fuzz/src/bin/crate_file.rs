//! AFL++ entry point for the `crate_file` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::crate_file(data));
}
