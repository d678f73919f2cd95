//! Seeded random streams, whose output is fixed by their seed on every platform:
//!
//! - [`Rng`], ChaCha8 (the generator of flowc-survey), for long streams (`sample`);
//! - [`RowRng`], SplitMix64 from a per-row key, for the few draws of one row of a synthetic
//!   panel: a ChaCha8 stream costs a key setup and four blocks before its first number, too
//!   much for three streams per row of a ten-million-row panel.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The draws every generator offers, from its 64-bit output.
pub(crate) trait Draw {
    /// A uniform 64-bit integer.
    fn next(&mut self) -> u64;

    /// A uniform float in `[0, 1)` with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias (Lemire's method).
    fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A standard normal deviate (Box–Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index drawn with probabilities `p` (summing to 1).
    fn categorical(&mut self, p: &[f64]) -> usize {
        let u = self.uniform();
        let mut acc = 0.0;
        for (i, &x) in p.iter().enumerate() {
            acc += x;
            if u < acc {
                return i;
            }
        }
        p.len().saturating_sub(1)
    }
}

/// A ChaCha8 stream.
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `stream` of the generator seeded with `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Rng(inner)
    }
}

impl Draw for Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A SplitMix64 stream starting from a key mixed from `seed` and a row's `id`.
pub(crate) struct RowRng(u64);

impl RowRng {
    /// The stream of row `id` under `seed`.
    pub(crate) fn new(seed: u64, id: u64) -> Self {
        RowRng(mix(&[seed, id]))
    }
}

impl Draw for RowRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// A 64-bit mix of values (SplitMix64 finaliser over each), to derive seeds and streams.
pub(crate) fn mix(values: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for &v in values {
        h ^= v.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

/// A partial Fisher–Yates draw of `k` of the indices `0..n` without replacement, returned in
/// ascending order.
pub(crate) fn choose(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool.sort_unstable();
    pool
}
