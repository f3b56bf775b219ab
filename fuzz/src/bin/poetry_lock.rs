//! AFL++ entry point for the `poetry_lock` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::poetry_lock(data));
}
