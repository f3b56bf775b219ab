//! AFL++ entry point for the `osv_json` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::osv_json(data));
}
