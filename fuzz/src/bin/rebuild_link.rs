//! AFL++ entry point for the `rebuild_link` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::rebuild_link(data));
}
