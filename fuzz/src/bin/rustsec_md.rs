//! AFL++ entry point for the `rustsec_md` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::rustsec_md(data));
}
