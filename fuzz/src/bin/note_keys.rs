//! AFL++ entry point for the `note_keys` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::note_keys(data));
}
