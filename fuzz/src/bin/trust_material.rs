//! AFL++ entry point for the `trust_material` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::trust_material(data));
}
