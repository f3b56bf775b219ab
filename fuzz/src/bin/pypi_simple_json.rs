//! AFL++ entry point for the `pypi_simple_json` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::pypi_simple_json(data));
}
