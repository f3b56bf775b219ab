//! AFL++ entry point for the `requirements_txt` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::requirements_txt(data));
}
