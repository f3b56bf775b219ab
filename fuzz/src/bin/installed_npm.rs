//! AFL++ entry point for the `installed_npm` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::installed_npm(data));
}
