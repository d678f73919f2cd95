//! Seeded random streams, whose output is fixed by their seed on every platform:
//!
//! - [`Rng`], ChaCha8 (the generator of flowc-survey), for long streams (`sample`);
//! - [`RowRng`], SplitMix64 from a per-row key, for the few draws of one row of a synthetic
//!   panel: a ChaCha8 stream costs a key setup and four blocks before its first number, too
//!   much for three streams per row of a ten-million-row panel.
//!
//! Normal deviates use the ziggurat method, whose tables are computed once from `exp` and `ln`.

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

    /// A standard normal deviate, by the ziggurat method (Marsaglia and Tsang 2000, 256
    /// layers): one 64-bit draw, a multiplication and a comparison in about 99 % of cases,
    /// instead of a logarithm and a cosine (Box–Muller).
    fn normal(&mut self) -> f64 {
        let z = ziggurat();
        loop {
            let bits = self.next();
            let i = (bits & 0xff) as usize;
            // A uniform in (-1, 1) from the other 53 bits.
            let u = ((bits >> 11) as f64 + 0.5) * (2.0 / (1u64 << 53) as f64) - 1.0;
            let x = u * z.x[i];
            if x.abs() < z.x[i + 1] {
                return x;
            }
            if i == 0 {
                // The tail beyond R (Marsaglia 1964).
                loop {
                    let a = -(1.0 - self.uniform()).ln() / ZIG_R;
                    let b = -(1.0 - self.uniform()).ln();
                    if 2.0 * b >= a * a {
                        return if u < 0.0 { -(ZIG_R + a) } else { ZIG_R + a };
                    }
                }
            }
            if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * self.uniform() < (-0.5 * x * x).exp() {
                return x;
            }
        }
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

/// The start of the normal's tail, and the area of each of the ziggurat's 256 layers.
const ZIG_R: f64 = 3.654_152_885_361_009;
const ZIG_V: f64 = 0.004_928_673_233_99;

/// The ziggurat's layers: `x[i]` is the right edge of layer `i` (`x[0] = V / f(R)` for the
/// base layer with the tail, `x[1] = R`, `x[256] = 0`), `f[i] = exp(-x[i]² / 2)`.
struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

fn ziggurat() -> &'static Ziggurat {
    static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let pdf = |x: f64| (-0.5 * x * x).exp();
        let mut x = [0.0; 257];
        x[0] = ZIG_V / pdf(ZIG_R);
        x[1] = ZIG_R;
        for i in 2..256 {
            // Layer i - 1 has area V: x[i-1] × (f(x[i]) − f(x[i-1])) = V.
            x[i] = (-2.0 * (ZIG_V / x[i - 1] + pdf(x[i - 1])).ln()).sqrt();
        }
        let f = x.map(pdf);
        Ziggurat { x, f }
    })
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

/// One 64-bit hash of a row `id` under `seed` (one SplitMix64 finaliser), for a single draw
/// (a third of [`RowRng::new`] and a first number).
pub(crate) fn row_hash(seed: u64, id: u64) -> u64 {
    let mut z = seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ziggurat_layers_are_consistent() {
        let z = ziggurat();
        for i in 1..256 {
            assert!(z.x[i] > z.x[i + 1], "layer {i}");
            // Every layer but the base has area V.
            let area = z.x[i] * (z.f[i + 1] - z.f[i]);
            assert!((area - ZIG_V).abs() < 1e-9, "layer {i}: {area}");
        }
        assert!(z.x[255] > 0.2 && z.x[256] == 0.0);
    }

    #[test]
    fn normal_deviates_have_the_normal_moments_and_tails() {
        let n = 400_000;
        let mut r = RowRng::new(7, 1);
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.01, "{var}");
        assert!((kurt - 3.0).abs() < 0.05, "{kurt}");
        // P(|X| > 1.96) = 0.05 and P(X > 3.654) (the tail) = 1.29e-4.
        let beyond = |t: f64| xs.iter().filter(|x| x.abs() > t).count() as f64 / n as f64;
        assert!((beyond(1.96) - 0.05).abs() < 0.002, "{}", beyond(1.96));
        let tail = xs.iter().filter(|&&x| x > ZIG_R).count() as f64 / n as f64;
        assert!((tail - 1.29e-4).abs() < 6e-5, "{tail}");
    }
}
