//! The memory model of one step: a recency-weighted, kernel-smoothed distribution of peaks,
//! optionally scaled by input size, from which the limit is the value exceeded with probability
//! at most `risk`.
//!
//! Two families compete. The constant model smooths log peaks with a Gaussian kernel and takes
//! the upper `1 − risk` quantile (or, up to `max_risk` and only below a distinct upper cluster,
//! the cheapest value in expected GB·h, leaving the cluster's rare runs to retries). An
//! input model (linear or power law in input bytes) is fitted only with enough points, a wide
//! enough input range, a strong correlation (r ≥ 0.8) and a significant slope (Student's t); its
//! log residuals get the same kernel treatment. It is used only if it cuts the expected
//! reservation clearly, and inside the input range seen it can only lower the constant model's
//! `1 − risk` quantile (`cover_limit`: input models are not capped by the cheaper limit, which
//! may leave to retries exactly the large runs that the input explains).
//! Just beyond that range a close fit is followed; further out the limit grows at most as fast
//! as the largest inputs grew their peaks.

use super::{Observation, TunerConfig};
use crate::stats::{fit_line, recency_weights, Kde};
use serde::Serialize;

const MIN_BASE: f64 = 1_048_576.0;

/// Which family set the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Not enough history: the current value is kept (or trimmed with wide headroom).
    Insufficient,
    /// Upper quantile of recent peaks.
    Constant,
    /// Peak = a + b·input, times an upper quantile of the ratio.
    Linear,
    /// Peak = e^a·input^b, times an upper quantile of the ratio.
    PowerLaw,
}

/// An input-size scaling rule, for runners that know each run's input size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InputScaling {
    /// Linear or power law.
    pub kind: ModelKind,
    /// Intercept (bytes for linear, log-bytes for power law).
    pub a: f64,
    /// Slope (bytes per input byte, or exponent).
    pub b: f64,
    /// Multiplier applied to the fitted value (the safety margin).
    pub multiplier: f64,
    /// Correlation of the fit.
    pub r: f64,
    /// Largest input seen.
    pub max_input_bytes: u64,
    /// The limit never exceeds this inside the input range seen (the constant model's limit).
    pub cap_bytes: u64,
}

impl InputScaling {
    /// The fitted value for an input of `x` bytes times the safety multiplier, bytes.
    pub fn scaled(&self, x: f64) -> f64 {
        self.base(x) * self.multiplier
    }

    fn base(&self, x: f64) -> f64 {
        match self.kind {
            ModelKind::Linear => (self.a + self.b * x).max(MIN_BASE),
            _ => (self.a + self.b * x.max(1.0).ln()).exp().max(MIN_BASE),
        }
    }
}

/// A fitted memory model.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryFit {
    /// Measured executions used.
    pub n: usize,
    /// Effective sample size after recency weighting.
    pub n_eff: f64,
    /// Limit of the constant model, bytes.
    pub constant_limit: f64,
    /// The constant model's upper `1 − risk` quantile, bytes: the limit that covers every kind
    /// of run seen, which `constant_limit` may undercut when leaving a rare upper cluster to
    /// retries is cheaper. Input models are capped by this, not by `constant_limit`.
    pub cover_limit: f64,
    /// Weighted dispersion of log peaks (robust), for confidence.
    pub log_spread: f64,
    /// The chosen input model, if any.
    pub scaling: Option<InputScaling>,
    kde: Kde,
    /// The same density weighted by runtime (costs are per hour).
    timed: Kde,
    residual_kde: Option<Kde>,
    /// Largest input seen (all measured points had an input).
    pub max_input: Option<f64>,
    /// Elasticity of peak to input for inputs beyond the range seen, 0..=1.
    pub extrapolation_slope: f64,
    /// Largest peak seen.
    pub max_peak: u64,
    /// Student's t upper prediction bound of the next peak, while the sample is small.
    pub small_sample_bound: Option<f64>,
    /// Correlation above which the input model is followed beyond the input range seen.
    pub extrapolate_min_r: f64,
    /// How far beyond the largest input seen the input model is followed.
    pub extrapolate_factor: f64,
}

/// A limit with the estimated probability that a run needs more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Limit in bytes.
    pub bytes: f64,
    /// Estimated probability that a run exceeds it.
    pub risk: f64,
    /// Model that produced it.
    pub kind: ModelKind,
}

impl MemoryFit {
    /// Fits on measured observations (the most recent `window`). `None` with fewer than
    /// `min_history` measured observations.
    pub fn fit(obs: &[Observation], cfg: &TunerConfig) -> Option<MemoryFit> {
        let measured: Vec<&Observation> = obs.iter().filter(|o| o.peak.is_some()).collect();
        let measured = &measured[measured.len().saturating_sub(cfg.window)..];
        if measured.len() < cfg.min_history.max(1) {
            return None;
        }
        let ends: Vec<i64> = measured.iter().map(|o| o.end_ms).collect();
        let ws = recency_weights(&ends, cfg.half_life_hours, cfg.half_life_runs);
        let ys: Vec<f64> = measured
            .iter()
            .map(|o| (o.peak.unwrap_or(0) as f64).max(MIN_BASE))
            .collect();
        let lys: Vec<f64> = ys.iter().map(|y| y.ln()).collect();
        let runtimes: Vec<f64> = measured.iter().map(|o| o.wall_seconds.max(1e-3)).collect();
        let n_eff = crate::stats::effective_n(&ws);
        let kde = Kde::new(
            &lys,
            &ws,
            cfg.min_bandwidth,
            crate::stats::small_sample_inflation(n_eff, cfg.risk),
        )?;
        let uc = cost_optimal(&kde, &runtimes, cfg, cfg.oom_bump_min_bytes as f64);
        let constant_limit = uc.exp();
        let cover_limit = kde.upper_quantile(cfg.risk).exp().max(constant_limit);
        let total: f64 = ws.iter().sum();
        let const_score = ws
            .iter()
            .zip(&lys)
            .map(|(w, l)| w * (uc - l).exp())
            .sum::<f64>()
            / total;
        let log_spread = kde_scale(&lys, &ws);
        // With few runs the kernel can be fooled (two clusters, a quiet upper tail): a Student's
        // t prediction bound on the log peaks keeps the limit honest until history builds up.
        let small_sample_bound = (n_eff < cfg.small_sample_n)
            .then(|| crate::stats::weighted_mean_sd(&lys, &ws))
            .flatten()
            .map(|(mean, sd)| {
                let t = crate::stats::student_t_quantile(n_eff - 1.0, 1.0 - cfg.risk);
                (mean + t * sd * (1.0 + 1.0 / n_eff).sqrt()).exp()
            });
        let max_peak = measured.iter().filter_map(|o| o.peak).max().unwrap_or(0);

        let inputs: Option<Vec<f64>> = measured
            .iter()
            .map(|o| o.input.filter(|x| *x > 0).map(|x| x as f64))
            .collect();
        let mut fit = MemoryFit {
            n: measured.len(),
            n_eff,
            constant_limit,
            cover_limit,
            log_spread,
            scaling: None,
            timed: kde.reweighted(&runtimes),
            kde,
            residual_kde: None,
            small_sample_bound,
            extrapolate_min_r: cfg.extrapolate_min_r,
            extrapolate_factor: cfg.extrapolate_factor,
            max_input: None,
            extrapolation_slope: 1.0,
            max_peak,
        };
        let Some(xs) = inputs else { return Some(fit) };
        let x_max = xs.iter().copied().fold(0.0, f64::max);
        let x_min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        fit.max_input = Some(x_max);
        let lxs: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
        fit.extrapolation_slope = extrapolation_slope(&lxs, &lys, &ws);
        if measured.len() < cfg.regression_min_points || x_max < cfg.min_input_spread * x_min {
            return Some(fit);
        }
        let mut best_score = const_score * cfg.input_model_gain;
        // Two fitted parameters: residuals understate the spread of a new run.
        let inflate = crate::stats::small_sample_inflation(n_eff - 1.0, cfg.risk)
            * (n_eff / (n_eff - 2.0).max(1.0)).sqrt();
        let candidates = [
            (ModelKind::Linear, fit_line(&xs, &ys, &ws)),
            (ModelKind::PowerLaw, fit_line(&lxs, &lys, &ws)),
        ];
        for (kind, line) in candidates {
            let Some(line) = line else { continue };
            if line.slope <= 0.0
                || line.r < cfg.regression_min_r
                || line.p_value > cfg.regression_max_p
            {
                continue;
            }
            let mut scaling = InputScaling {
                kind,
                a: line.intercept,
                b: line.slope,
                multiplier: 1.0,
                r: line.r,
                max_input_bytes: x_max as u64,
                cap_bytes: cover_limit.ceil() as u64,
            };
            let lbase: Vec<f64> = xs.iter().map(|x| scaling.base(*x).ln()).collect();
            let resid: Vec<f64> = lys.iter().zip(&lbase).map(|(l, b)| l - b).collect();
            let Some(rk) = Kde::new(&resid, &ws, cfg.min_bandwidth, inflate) else {
                continue;
            };
            // The retry's smallest bump is in bytes; in residual units it is relative to the
            // typical fitted value.
            let typical = crate::stats::weighted_mean_sd(&lbase, &ws).map_or(1.0, |m| m.0.exp());
            let ur = cost_optimal(
                &rk,
                &runtimes,
                cfg,
                cfg.oom_bump_min_bytes as f64 / typical.max(1.0),
            );
            let score = ws
                .iter()
                .zip(lbase.iter().zip(&lys))
                .map(|(w, (b, l))| w * (ur + b - l).exp().min(cover_limit / l.exp()))
                .sum::<f64>()
                / total;
            if score < best_score {
                best_score = score;
                scaling.multiplier = ur.exp();
                fit.scaling = Some(scaling);
                fit.residual_kde = Some(rk);
            }
        }
        Some(fit)
    }

    /// The limit for a run with the given input size (unknown input: the constant model).
    pub fn limit_for(&self, input: Option<u64>) -> Estimate {
        let constant = Estimate {
            bytes: self.constant_limit,
            risk: self.kde.tail(self.constant_limit.ln()),
            kind: ModelKind::Constant,
        };
        let (Some(x), Some(x_max)) = (input.filter(|x| *x > 0).map(|x| x as f64), self.max_input)
        else {
            return constant;
        };
        match (&self.scaling, &self.residual_kde) {
            (Some(s), Some(rk)) => {
                let base = s.base(x);
                // Inside the range seen the input model may only lower the constant limit.
                // Just beyond it (up to `extrapolate_factor` × the largest input) a close fit
                // (r ≥ `extrapolate_min_r`) is followed; further out, or with a looser fit, the
                // limit grows no faster than the elasticity seen among the larger inputs.
                let cap = if x <= x_max {
                    self.cover_limit
                } else if s.r >= self.extrapolate_min_r && x <= x_max * self.extrapolate_factor {
                    f64::INFINITY
                } else {
                    self.cover_limit * (x / x_max).powf(self.extrapolation_slope)
                };
                let bytes = (base * s.multiplier).min(cap);
                Estimate {
                    bytes,
                    risk: rk.tail(bytes.ln() - base.ln()),
                    kind: s.kind,
                }
            }
            _ => constant,
        }
    }

    /// Where the retry of a run killed at `killed` bytes should go: the limit with the lowest
    /// expected cost for a run known to need more than `killed`, under the constant model's
    /// distribution conditioned on exceeding the kill (see [`Kde::retry_cost_optimal`]). A
    /// continuous tail puts it a little above the kill; a distinct upper cluster puts it
    /// above the cluster. `None` when the model puts no mass above the kill.
    pub fn retry_estimate(&self, killed: f64, cfg: &TunerConfig) -> Option<f64> {
        self.kde
            .retry_cost_optimal(killed.max(1.0).ln(), cfg.oom_bump, cfg.oom_penalty)
            .map(f64::exp)
    }

    /// Expected cost of a static limit of `bytes` per run, in byte-hours per hour of a typical
    /// run (runtime-weighted): its unused memory, and for runs above it the failed attempt,
    /// the retry's unused memory and the failure penalty (the cost the replay counts).
    pub fn expected_cost(&self, bytes: f64, cfg: &TunerConfig) -> f64 {
        self.timed.expected_cost_exp(
            bytes.max(1.0).ln(),
            cfg.oom_bump,
            cfg.oom_bump_min_bytes as f64,
            cfg.oom_penalty,
        )
    }

    /// P(peak > `bytes`) under the constant model.
    pub fn constant_tail(&self, bytes: f64) -> f64 {
        self.kde.tail(bytes.max(1.0).ln())
    }

    /// Guard for inputs beyond the range seen: when no input model was chosen, an input more
    /// than `input_guard` times the largest seen scales the constant limit by the elasticity of
    /// peak to input among the larger inputs seen (0 for flat peaks, at most 1).
    pub fn guard_for_input(&self, input: Option<u64>, cfg: &TunerConfig, bytes: f64) -> f64 {
        match (input.filter(|x| *x > 0), self.max_input) {
            (Some(x), Some(x_max))
                if self.scaling.is_none() && (x as f64) > cfg.input_guard * x_max =>
            {
                bytes * (x as f64 / x_max).powf(self.extrapolation_slope)
            }
            _ => bytes,
        }
    }
}

/// The log-limit with the lowest expected cost (unused memory, failed attempts, the retry's
/// unused memory and a penalty per failure) among those whose risk lies between `risk` and
/// `max_risk`. With `max_risk` ≤ `risk` this is simply the upper `1 − risk` quantile.
///
/// Costs are weighted by each run's runtime (`runtimes`): memory is charged per hour, and the
/// large runs in a tail are often the long ones, whose failures cost the most. The retry gets
/// at least `min_bump` more (in the density's units), so a small step is rarely left to
/// retries. A limit below the `risk` quantile must sit below an empty band of `trade_min_gap`
/// (no run seen there).
fn cost_optimal(kde: &Kde, runtimes: &[f64], cfg: &TunerConfig, min_bump: f64) -> f64 {
    let hi = kde.upper_quantile(cfg.risk);
    if cfg.max_risk <= cfg.risk {
        return hi;
    }
    let lo = kde.upper_quantile(cfg.max_risk);
    let gap = cfg.trade_min_gap.ln_1p();
    let timed = kde.reweighted(runtimes);
    let cost = |c: f64| timed.expected_cost_exp(c, cfg.oom_bump, min_bump, cfg.oom_penalty);
    let steps = 48;
    let mut best = (cost(hi), hi);
    for i in 0..steps {
        let c = lo + (hi - lo) * f64::from(i) / f64::from(steps);
        // Only below a distinct upper cluster (no run seen in the band above the limit) is it
        // worth leaving runs to retries: a continuous tail is heavier than the kernel's.
        if gap > 0.0 && kde.gap_above(c) < gap {
            continue;
        }
        let v = cost(c);
        if v < best.0 {
            best = (v, c);
        }
    }
    best.1
}

/// The kernel scale (robust dispersion) of weighted values.
fn kde_scale(values: &[f64], weights: &[f64]) -> f64 {
    let sd = crate::stats::weighted_mean_sd(values, weights).map_or(0.0, |m| m.1);
    let q = |p| crate::stats::weighted_quantile(values, weights, p).unwrap_or(0.0);
    let iqr = q(0.75) - q(0.25);
    if iqr > 0.0 {
        sd.min(iqr / 1.34)
    } else {
        sd
    }
}

/// Elasticity of peak to input among the larger inputs (the upper half, or all points when the
/// upper half spans too little input), clamped to 0..=1.
/// Flat peaks give 0; too few points or no input spread give 1 (assume proportional growth).
fn extrapolation_slope(lxs: &[f64], lys: &[f64], ws: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = lxs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
    let upper: Vec<usize> = (0..lxs.len()).filter(|i| lxs[*i] >= median).collect();
    let pick = |v: &[f64]| upper.iter().map(|i| v[*i]).collect::<Vec<f64>>();
    let spread = |idx: &[usize]| {
        let xs: Vec<f64> = idx.iter().map(|i| lxs[*i]).collect();
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - xs.iter().copied().fold(f64::INFINITY, f64::min)
    };
    // The upper half is used when it spans enough input to measure a slope (a factor 1.5);
    // otherwise all points are.
    let (ux, uy, uw) = if upper.len() >= 3 && spread(&upper) >= 1.5f64.ln() {
        (pick(lxs), pick(lys), pick(ws))
    } else {
        (lxs.to_vec(), lys.to_vec(), ws.to_vec())
    };
    let y_spread = uy.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - uy.iter().copied().fold(f64::INFINITY, f64::min);
    if y_spread < 0.02 {
        return 0.0;
    }
    match fit_line(&ux, &uy, &uw) {
        Some(f) => f.slope.clamp(0.0, 1.0),
        None => 1.0,
    }
}
