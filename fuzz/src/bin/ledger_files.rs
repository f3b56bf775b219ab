//! AFL++ entry point for the `ledger_files` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::ledger_files(data));
}
