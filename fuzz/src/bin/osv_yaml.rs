//! AFL++ entry point for the `osv_yaml` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::osv_yaml(data));
}
