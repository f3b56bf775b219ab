//! AFL++ entry point for the `package_lock` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::package_lock(data));
}
