//! AFL++ entry point for the `policy_toml` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::policy_toml(data));
}
