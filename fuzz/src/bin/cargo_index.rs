//! AFL++ entry point for the `cargo_index` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::cargo_index(data));
}
