//! AFL++ entry point for the `npm_packument_cooldown` fuzz target.

fn main() {
    afl::fuzz!(|data: &[u8]| ward_fuzz::npm_packument_cooldown(data));
}
