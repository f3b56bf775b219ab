//! AFL++ entry point for the `rego` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::rego(data));
}
