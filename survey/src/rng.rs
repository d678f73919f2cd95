//! Seeded random numbers: a thin wrapper over ChaCha8 (`rand_chacha`), whose
//! output stream is fixed by its seed and stream number on every platform.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic random stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream `stream` of the generator seeded with `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Rng(inner)
    }

    /// Moves to the `index`-th 64-bit output of the stream (0 is the first).
    pub(crate) fn seek(&mut self, index: u64) {
        self.0.set_word_pos(u128::from(index) * 2);
    }

    /// Fills `out` with the next 64-bit outputs (the numbers `next_u64` would give, drawn in
    /// bulk).
    pub(crate) fn fill(&mut self, out: &mut [u64]) {
        let mut bytes = vec![0u8; out.len() * 8];
        self.0.fill_bytes(&mut bytes);
        for (x, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(b);
            *x = u64::from_le_bytes(word);
        }
    }

    /// A uniform 64-bit integer.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (`n > 0`), without modulo bias
    /// (Lemire's multiply-and-reject method).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A standard normal deviate (Box–Muller, one of the pair).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // in (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An index drawn from cumulative probabilities `cum` (last entry 1).
    pub(crate) fn categorical(&mut self, cum: &[f64]) -> u32 {
        let u = self.uniform();
        let idx = cum.iter().position(|&c| u < c).unwrap_or(cum.len() - 1);
        idx as u32
    }
}

/// A 64-bit mix of a tuple of codes (SplitMix64 finaliser), used to give each
/// stratum its own random stream.
pub(crate) fn mix_codes(codes: &[u32]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for &c in codes {
        h ^= u64::from(c).wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_and_deterministic() {
        let mut a = Rng::new(7, 1);
        let mut b = Rng::new(7, 1);
        for n in 1..200u64 {
            let x = a.below(n);
            assert!(x < n);
            assert_eq!(x, b.below(n));
        }
    }

    #[test]
    fn seek_matches_the_sequential_stream() {
        let mut a = Rng::new(7, 3);
        let seq: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        for start in [0u64, 1, 7, 14, 63, 64, 99] {
            let mut b = Rng::new(7, 3);
            b.seek(start);
            assert_eq!(b.next_u64(), seq[start as usize], "at {start}");
        }
    }

    #[test]
    fn fill_matches_next_u64() {
        let mut a = Rng::new(5, 2);
        let seq: Vec<u64> = (0..300).map(|_| a.next_u64()).collect();
        let mut b = Rng::new(5, 2);
        let mut got = vec![0u64; 300];
        b.fill(&mut got[..7]);
        b.fill(&mut got[7..300]);
        assert_eq!(got, seq);
    }

    #[test]
    fn streams_differ() {
        assert_ne!(Rng::new(7, 1).next_u64(), Rng::new(7, 2).next_u64());
        assert_ne!(mix_codes(&[0, 1]), mix_codes(&[1, 0]));
    }
}
