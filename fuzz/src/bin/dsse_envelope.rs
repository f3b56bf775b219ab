//! AFL++ entry point for the `dsse_envelope` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::dsse_envelope(data));
}
