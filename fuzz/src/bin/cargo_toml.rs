//! AFL++ entry point for the `cargo_toml` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::cargo_toml(data));
}
