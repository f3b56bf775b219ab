//! AFL++ entry point for the `drill_scenario` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::drill_scenario(data));
}
