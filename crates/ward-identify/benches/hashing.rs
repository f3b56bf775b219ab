//! SHA-256 + SHA-512 of a large file in ward's one streamed pass.
//!
//! `cargo bench -p ward-identify --bench hashing -- FILE`

#![allow(clippy::print_stdout, clippy::expect_used, missing_docs)]

use std::time::Instant;

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .expect("usage: hashing FILE");
    let size = std::fs::metadata(&path).expect("stat").len();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let file = std::fs::File::open(&path).expect("open");
        let (digests, n) = ward_identify::hash::digest_reader(file).expect("read");
        assert_eq!(n, size);
        std::hint::black_box(digests);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "ward one-pass SHA-256+SHA-512: {:.2} s for {} MiB = {:.0} MiB/s (best of 3)",
        best,
        size >> 20,
        size as f64 / (1 << 20) as f64 / best
    );
}
