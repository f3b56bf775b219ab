//! AFL++ entry point for the `rego_eval` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::rego_eval(data));
}
