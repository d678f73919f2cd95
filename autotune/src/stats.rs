//! Weighted statistics for the tuner: recency weights, weighted quantiles, weighted least
//! squares with a significance test, and the tail of a Gaussian kernel density estimate.
//! Distribution functions come from `statrs`.
//!
//! All functions are total: empty or degenerate input gives `None` (or a documented fallback),
//! never a panic or a NaN in the result.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::erf::erfc;

/// Weight of an observation `age_ms` old with the given half-life (1 when fresh, ½ one
/// half-life later).
pub fn decay_weight(age_ms: i64, half_life_hours: f64) -> f64 {
    if half_life_hours <= 0.0 {
        return 1.0;
    }
    let hours = age_ms.max(0) as f64 / 3_600_000.0;
    0.5f64.powf(hours / half_life_hours).max(1e-12)
}

/// Recency weights for observations ending at `ends_ms` (any order): an observation ages only
/// when it is both old in time (`half_life_hours`) and superseded by many newer observations
/// (`half_life_runs`), so a step that runs once a day keeps weeks of memory while a step with
/// hundreds of tasks an hour follows the clock.
pub fn recency_weights(ends_ms: &[i64], half_life_hours: f64, half_life_runs: f64) -> Vec<f64> {
    let latest = ends_ms.iter().copied().max().unwrap_or(0);
    let mut sorted: Vec<i64> = ends_ms.to_vec();
    sorted.sort_unstable();
    ends_ms
        .iter()
        .map(|&end| {
            let hours = (latest - end).max(0) as f64 / 3_600_000.0;
            let newer = (sorted.len() - sorted.partition_point(|&t| t <= end)) as f64;
            let by_time = if half_life_hours > 0.0 {
                hours / half_life_hours
            } else {
                0.0
            };
            let by_count = if half_life_runs > 0.0 {
                newer / half_life_runs
            } else {
                f64::INFINITY
            };
            0.5f64.powf(by_time.min(by_count)).max(1e-12)
        })
        .collect()
}

/// The weighted `q`-quantile (lower definition: the smallest value whose cumulative weight
/// reaches `q`). `None` for empty input or zero total weight.
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(weights)
        .filter(|(v, w)| v.is_finite() && **w > 0.0)
        .map(|(v, w)| (*v, *w))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let target = q.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    for (v, w) in &pairs {
        acc += w;
        if acc >= target - 1e-12 * total {
            return Some(*v);
        }
    }
    pairs.last().map(|p| p.0)
}

/// Weighted mean and standard deviation.
pub fn weighted_mean_sd(values: &[f64], weights: &[f64]) -> Option<(f64, f64)> {
    let total: f64 = weights.iter().sum();
    if values.is_empty() || total <= 0.0 {
        return None;
    }
    let mean = values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total;
    let var = values
        .iter()
        .zip(weights)
        .map(|(v, w)| w * (v - mean).powi(2))
        .sum::<f64>()
        / total;
    Some((mean, var.max(0.0).sqrt()))
}

/// Kish's effective sample size of a set of weights.
pub fn effective_n(weights: &[f64]) -> f64 {
    let s: f64 = weights.iter().sum();
    let s2: f64 = weights.iter().map(|w| w * w).sum();
    if s2 > 0.0 {
        s * s / s2
    } else {
        0.0
    }
}

/// A weighted straight-line fit `y = intercept + slope·x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// Intercept.
    pub intercept: f64,
    /// Slope.
    pub slope: f64,
    /// Weighted Pearson correlation.
    pub r: f64,
    /// Two-sided p-value of the slope (Student's t with n−2 degrees of freedom, n = effective
    /// sample size).
    pub p_value: f64,
}

/// Weighted least squares. `None` with fewer than 3 points or no spread in x or y.
pub fn fit_line(xs: &[f64], ys: &[f64], ws: &[f64]) -> Option<LineFit> {
    if xs.len() < 3 || xs.len() != ys.len() || xs.len() != ws.len() {
        return None;
    }
    let (mx, sx) = weighted_mean_sd(xs, ws)?;
    let (my, sy) = weighted_mean_sd(ys, ws)?;
    if sx <= 1e-12 * mx.abs().max(1.0) || sy <= 1e-12 * my.abs().max(1.0) {
        return None;
    }
    let total: f64 = ws.iter().sum();
    let cov = xs
        .iter()
        .zip(ys)
        .zip(ws)
        .map(|((x, y), w)| w * (x - mx) * (y - my))
        .sum::<f64>()
        / total;
    let r = (cov / (sx * sy)).clamp(-1.0, 1.0);
    let slope = cov / (sx * sx);
    let n = effective_n(ws);
    let p_value = if n > 2.5 {
        let df = n - 2.0;
        let t = r * (df / (1.0 - r * r).max(1e-12)).sqrt();
        match StudentsT::new(0.0, 1.0, df) {
            Ok(dist) => (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0),
            Err(_) => 1.0,
        }
    } else {
        1.0
    };
    Some(LineFit {
        intercept: my - slope * mx,
        slope,
        r,
        p_value,
    })
}

/// How much wider a small sample's upper tail should be: the ratio of Student's t quantile
/// (n − 1 degrees of freedom) to the normal quantile at 1 − `alpha`. At `alpha` = 1 %: about 3
/// for n = 3, 1.35 for n = 7, 1.06 for n = 30, → 1.
pub fn small_sample_inflation(n: f64, alpha: f64) -> f64 {
    let p = 1.0 - alpha.clamp(1e-6, 0.5);
    let df = (n - 1.0).max(1.0);
    let t = StudentsT::new(0.0, 1.0, df)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or(f64::NAN);
    let z = statrs::distribution::Normal::new(0.0, 1.0)
        .map(|d| d.inverse_cdf(p))
        .unwrap_or(f64::NAN);
    let ratio = t / z;
    if ratio.is_finite() {
        ratio.max(1.0)
    } else {
        1.0
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (at least 1).
pub fn student_t_quantile(df: f64, p: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|d| d.inverse_cdf(p.clamp(1e-9, 1.0 - 1e-9)))
        .unwrap_or(f64::INFINITY)
}

/// A Gaussian kernel density estimate over weighted samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Kde {
    points: Vec<(f64, f64)>,
    /// Bandwidth.
    pub bandwidth: f64,
}

impl Kde {
    /// Builds the estimate. The bandwidth is Silverman's rule on the upper-tail scale
    /// (min(sd, (P90 − P50)/1.28)), times `inflate`, and at least `min_bandwidth`.
    pub fn new(values: &[f64], weights: &[f64], min_bandwidth: f64, inflate: f64) -> Option<Kde> {
        let total: f64 = weights.iter().sum();
        if values.is_empty() || total <= 0.0 {
            return None;
        }
        let points: Vec<(f64, f64)> = values
            .iter()
            .zip(weights)
            .map(|(v, w)| (*v, w / total))
            .collect();
        let (_, sd) = weighted_mean_sd(values, weights)?;
        // The upper tail is what matters: its scale is (P90 − P50) / z(0.9), so a long lower
        // tail (small runs) does not widen the kernel at the top.
        let upper =
            weighted_quantile(values, weights, 0.9)? - weighted_quantile(values, weights, 0.5)?;
        let scale = sd.min(upper / 1.2816);
        let n = effective_n(weights).max(1.0);
        let bandwidth = (0.9 * scale * n.powf(-0.2) * inflate)
            .max(min_bandwidth)
            .max(1e-9);
        Some(Kde { points, bandwidth })
    }

    /// The same kernels and bandwidth with each point's weight multiplied by `factors`
    /// (missing factors count as 1), renormalised.
    pub fn reweighted(&self, factors: &[f64]) -> Kde {
        let raw: Vec<f64> = self
            .points
            .iter()
            .enumerate()
            .map(|(i, (_, w))| w * factors.get(i).copied().unwrap_or(1.0).max(0.0))
            .collect();
        let total: f64 = raw.iter().sum();
        if total <= 0.0 {
            return self.clone();
        }
        let points = self
            .points
            .iter()
            .zip(&raw)
            .map(|((v, _), w)| (*v, w / total))
            .collect();
        Kde {
            points,
            bandwidth: self.bandwidth,
        }
    }

    /// P(X > c) under the estimate.
    pub fn tail(&self, c: f64) -> f64 {
        let h = self.bandwidth;
        self.points
            .iter()
            .map(|(v, w)| w * 0.5 * erfc((c - v) / (h * std::f64::consts::SQRT_2)))
            .sum()
    }

    /// The smallest c with P(X > c) ≤ `alpha` (bisection to 1e-6 of the bandwidth).
    pub fn upper_quantile(&self, alpha: f64) -> f64 {
        let alpha = alpha.clamp(1e-9, 0.5);
        let lo0 = self
            .points
            .iter()
            .map(|p| p.0)
            .fold(f64::INFINITY, f64::min);
        let hi0 = self
            .points
            .iter()
            .map(|p| p.0)
            .fold(f64::NEG_INFINITY, f64::max);
        let (mut lo, mut hi) = (lo0 - 8.0 * self.bandwidth, hi0 + 8.0 * self.bandwidth);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.tail(mid) > alpha {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-6 * self.bandwidth {
                break;
            }
        }
        hi
    }

    /// Distance from `c` up to the nearest sample above it (infinite when none is above).
    pub fn gap_above(&self, c: f64) -> f64 {
        self.points
            .iter()
            .map(|p| p.0 - c)
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min)
    }

    /// The smallest c ≥ `above` with P(X > c | X > `above`) ≤ `alpha`: where to look for a value
    /// known to exceed `above` (a run killed at that limit). `None` when the estimate puts
    /// (numerically) no mass above `above`.
    pub fn conditional_upper_quantile(&self, above: f64, alpha: f64) -> Option<f64> {
        let base = self.tail(above);
        if base.is_nan() || base <= 1e-300 {
            return None;
        }
        let target = base * alpha.clamp(1e-9, 1.0);
        let mut lo = above;
        let top = self.points.iter().map(|p| p.0).fold(above, f64::max);
        let mut hi = top + 8.0 * self.bandwidth;
        let mut grow = 0;
        while self.tail(hi) > target {
            hi += 8.0 * self.bandwidth;
            grow += 1;
            if grow > 64 {
                return None;
            }
        }
        for _ in 0..80 {
            let mid = 0.5 * (lo + hi);
            if self.tail(mid) > target {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo < 1e-6 * self.bandwidth {
                break;
            }
        }
        Some(hi)
    }
}

impl Kde {
    /// Expected waste, in units of e^x, of the limit e^`c` for a value X with this density over
    /// log values: the unused part E[(e^c − e^X)+] when the run fits; when it does not, the
    /// failed attempt (e^c), the unused part of the retry at R = max(`fail_factor` · e^c,
    /// e^c + `min_bump`) and a penalty of `penalty` × e^X for the failure itself.
    pub fn expected_cost_exp(&self, c: f64, fail_factor: f64, min_bump: f64, penalty: f64) -> f64 {
        let h = self.bandwidth;
        let ec = c.exp();
        let retry = (ec * fail_factor).max(ec + min_bump.max(0.0));
        let lr = retry.ln();
        self.points
            .iter()
            .map(|(u, w)| {
                let z = (c - u) / h;
                let zr = (lr - u) / h;
                let m = (u + h * h / 2.0).exp();
                let below = normal_cdf(z);
                let unused = ec * below - m * normal_cdf(z - h);
                let retry_unused =
                    retry * (normal_cdf(zr) - below) - m * (normal_cdf(zr - h) - normal_cdf(z - h));
                let fail = (1.0 - below) * ec
                    + retry_unused.max(0.0)
                    + penalty * m * (1.0 - normal_cdf(z - h));
                w * (unused + fail)
            })
            .sum()
    }

    /// The log-limit for the retry of a value known to exceed e^`above` (a run killed at that
    /// limit) with the lowest expected cost under this density conditioned on X > `above`:
    /// the unused part E[(e^c − e^X)+ | X > above] plus, when X > c again, a failed attempt
    /// at e^c times `fail_factor` and a penalty of `penalty` × e^X. Candidates run from
    /// `above` to the conditional upper 0.1 % quantile. `None` when the density puts
    /// (numerically) no mass above `above`.
    pub fn retry_cost_optimal(&self, above: f64, fail_factor: f64, penalty: f64) -> Option<f64> {
        let top = self.conditional_upper_quantile(above, 1e-3)?;
        let h = self.bandwidth;
        let cost = |c: f64| -> f64 {
            let ec = c.exp();
            self.points
                .iter()
                .map(|(u, w)| {
                    let zl = (above - u) / h;
                    let zc = (c - u) / h;
                    let m = (u + h * h / 2.0).exp();
                    let unused = ec * (normal_cdf(zc) - normal_cdf(zl))
                        - m * (normal_cdf(zc - h) - normal_cdf(zl - h));
                    let fail = (1.0 - normal_cdf(zc)) * ec * fail_factor
                        + penalty * m * (1.0 - normal_cdf(zc - h));
                    w * (unused.max(0.0) + fail)
                })
                .sum()
        };
        let steps = 96;
        let mut best = (cost(top), top);
        for i in 0..steps {
            let c = above + (top - above) * f64::from(i) / f64::from(steps);
            let v = cost(c);
            if v < best.0 {
                best = (v, c);
            }
        }
        Some(best.1)
    }
}

/// Standard normal CDF via `statrs`' complementary error function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        let w = [1.0; 4];
        assert_eq!(weighted_quantile(&v, &w, 0.5), Some(2.0));
        assert_eq!(weighted_quantile(&v, &w, 0.9), Some(4.0));
        assert_eq!(weighted_quantile(&v, &[0.0, 0.0, 0.0, 1.0], 0.1), Some(4.0));
        assert_eq!(weighted_quantile(&[], &[], 0.5), None);
    }

    #[test]
    fn decay() {
        assert_eq!(decay_weight(0, 24.0), 1.0);
        assert!((decay_weight(24 * 3_600_000, 24.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn line_fit_and_significance() {
        let xs: Vec<f64> = (0..20).map(f64::from).collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| 3.0 + 2.0 * x + if (*x as i32) % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let f = fit_line(&xs, &ys, &[1.0; 20]).unwrap();
        assert!((f.slope - 2.0).abs() < 0.01 && f.r > 0.99 && f.p_value < 1e-6);
        let flat = fit_line(&xs, &[5.0; 20], &[1.0; 20]);
        assert!(flat.is_none());
    }

    #[test]
    fn kde_tail_and_quantile() {
        let k = Kde::new(&[0.0; 10], &[1.0; 10], 1.0, 1.0).unwrap();
        assert!((k.tail(0.0) - 0.5).abs() < 1e-9);
        let q = k.upper_quantile(0.01);
        assert!((q - 2.326).abs() < 1e-3, "{q}");
    }

    #[test]
    fn conditional_quantile_and_gaps() {
        // Two clusters: 96 % at 0, 4 % at 1 (log units), narrow kernels.
        let mut v = vec![0.0; 96];
        v.extend([1.0; 4]);
        let k = Kde::new(&v, &[1.0; 100], 0.01, 1.0).unwrap();
        // Known to exceed 0.2: almost surely in the upper cluster.
        let q = k.conditional_upper_quantile(0.2, 0.05).unwrap();
        assert!(q > 1.0 && q < 1.2, "{q}");
        // Nothing above far out.
        assert!(k.conditional_upper_quantile(50.0, 0.05).is_none());
        assert!((k.gap_above(0.1) - 0.9).abs() < 1e-12);
        assert!(k.gap_above(1.5).is_infinite());
        // The cheapest retry after a kill at 0.2 is above the upper cluster, not a small bump.
        let r = k.retry_cost_optimal(0.2, 1.4, 1.0).unwrap();
        assert!(r > 1.0, "{r}");
    }

    #[test]
    fn expected_cost_charges_failures_and_the_retry() {
        let k = Kde::new(&[0.0; 10], &[1.0; 10], 0.05, 1.0).unwrap();
        // Far above: pure unused memory, e^1 − e^0 per run.
        let high = k.expected_cost_exp(1.0, 1.4, 0.0, 1.0);
        assert!(
            (high - (1f64.exp() - (0.05f64 * 0.05 / 2.0).exp())).abs() < 1e-3,
            "{high}"
        );
        // Far below: every run fails; a failed attempt, the retry's unused part, the penalty.
        let low = k.expected_cost_exp(-1.0, 1.4, 0.0, 1.0);
        assert!(low > 1.0, "{low}");
        // A minimum bump makes failures dearer.
        assert!(
            k.expected_cost_exp(-0.05, 1.0, 2.0, 1.0) > k.expected_cost_exp(-0.05, 1.0, 0.0, 1.0)
        );
    }
}
