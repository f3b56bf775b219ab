//! AFL++ entry point for the `installed_record` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::installed_record(data));
}
