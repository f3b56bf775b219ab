//! AFL++ entry point for the `sdist` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::sdist(data));
}
