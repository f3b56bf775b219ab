//! AFL++ entry point for the `sdist_pkg_info` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::sdist_pkg_info(data));
}
