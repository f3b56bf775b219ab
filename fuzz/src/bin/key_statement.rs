//! AFL++ entry point for the `key_statement` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::key_statement(data));
}
