//! AFL++ entry point for the `ledger_record` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::ledger_record(data));
}
