//! AFL++ entry point for the `cargo_lock` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::cargo_lock(data));
}
