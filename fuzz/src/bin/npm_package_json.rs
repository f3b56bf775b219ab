//! AFL++ entry point for the `npm_package_json` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::npm_package_json(data));
}
