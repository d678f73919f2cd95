//! flowc's tuner.
//!
//! [`decide_memory`] is the single memory rule, used both by [`recommend`] (the nightly CLI
//! path) and by the replay in [`crate::eval`], so the evaluation measures exactly what users
//! get. In order (`docs/autotune.md` has the full description and the measurements):
//!
//! 1. **History.** Measured peaks of the step, newest `window`, weighted by recency
//!    (`half_life_hours`, but only as far as `half_life_runs` newer runs replaced them). OOM
//!    kills are censored observations: "needed more than this limit".
//! 2. **Minimum history.** With no measured run the current limit stays. With fewer than
//!    `min_history`, the tuner only trims a clearly oversized limit, keeping `early_headroom`
//!    (2×) over the largest peak and cutting by at most `early_max_cut` (to a quarter), and only
//!    when the few peaks agree (largest/smallest ≤ `early_max_spread`) and the input is not
//!    larger than any seen.
//! 3. **Model.** See [`memory::MemoryFit`]: the limit is the smoothed distribution's upper
//!    `1 − risk` quantile, or a lower one (down to `max_risk`) when leaving a distinct upper
//!    cluster to retries has the lower expected cost; scaled by input size only when the
//!    history shows a strong relation; while the sample is small, also a Student's t
//!    prediction bound.
//! 4. **Hysteresis.** A cut smaller than `hysteresis` (10 %) keeps the old value. No limit is
//!    cut below `min_limit_bytes`.
//! 5. **OOM.** Never at or below a limit that was OOM-killed for a comparable input (input at
//!    least 90 % of the killed run's, or unknown); a retry after a kill gets at least
//!    max(`oom_bump` × limit, limit + `oom_bump_min_bytes`), escalating on repeated kills, and
//!    at least the cheapest limit for a run known to need more than the kill
//!    ([`MemoryFit::retry_estimate`]).
//! 6. **Bounds.** `auto(min…, max…)` from the source clamp the result (in [`recommend`]).

pub mod cpu;
pub mod gpu;
pub mod memory;
pub mod recommend;
pub mod retry;

pub use memory::{Estimate, InputScaling, MemoryFit, ModelKind};
pub use recommend::{recommend, Confidence, ConfidenceLevel, Recommendation};
pub use retry::RetryRule;

use crate::history::{Execution, Outcome};
use crate::units::{GIB, MIB};
use serde::Serialize;

/// Every knob of the tuner, with the defaults the evaluation in `docs/autotune.md` uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TunerConfig {
    /// Measured runs needed before the model sets the limit.
    pub min_history: usize,
    /// Half-life of an observation's weight, hours (see `half_life_runs`).
    pub half_life_hours: f64,
    /// Newer observations that halve an observation's weight; an observation ages only when it
    /// is old in hours *and* in newer runs.
    pub half_life_runs: f64,
    /// Target probability that a run exceeds its limit.
    pub risk: f64,
    /// Largest risk accepted when that lowers the expected cost (a rare, far outlier is cheaper
    /// to retry than to reserve for on every run). Equal to `risk` disables the trade.
    pub max_risk: f64,
    /// A limit below the one at `risk` is considered only where no run seen lies within this
    /// much (relative) above it: runs are left to retries only across an empty band, below a
    /// distinct upper cluster, not inside a continuous tail (which is heavier than the
    /// kernel's). 0 disables the condition.
    pub trade_min_gap: f64,
    /// Cost of an OOM failure beyond its wasted attempt, in units of the run's peak.
    pub oom_penalty: f64,
    /// Smallest kernel bandwidth, in log-bytes (0.003 ≈ 0.3 %).
    pub min_bandwidth: f64,
    /// Most recent measured runs used.
    pub window: usize,
    /// Below this effective sample size the limit also respects a Student's t prediction bound
    /// (capped at the current limit and at `small_sample_headroom` × the largest peak).
    pub small_sample_n: f64,
    /// Cap of the small-sample bound, as a multiple of the largest peak.
    pub small_sample_headroom: f64,
    /// Points needed before an input relation is tested.
    pub regression_min_points: usize,
    /// Correlation an input relation needs.
    pub regression_min_r: f64,
    /// Correlation above which an input model is followed beyond the input range seen…
    pub extrapolate_min_r: f64,
    /// …up to this multiple of the largest input seen.
    pub extrapolate_factor: f64,
    /// Largest p-value of the slope for an input relation.
    pub regression_max_p: f64,
    /// Largest/smallest input needed before an input relation is tested.
    pub min_input_spread: f64,
    /// An input model must reserve at most this fraction of what the constant model reserves.
    pub input_model_gain: f64,
    /// Relative cut below which the old value is kept.
    pub hysteresis: f64,
    /// Multiplier for the retry after an OOM kill.
    pub oom_bump: f64,
    /// Smallest absolute bump after an OOM kill.
    pub oom_bump_min_bytes: u64,
    /// Headroom over the largest peak while history is short (0 disables trimming).
    pub early_headroom: f64,
    /// While history is short, the limit is cut to no less than this fraction of the current.
    pub early_max_cut: f64,
    /// While history is short, trimming needs the peaks to agree: largest/smallest at most this.
    pub early_max_spread: f64,
    /// An input this many times the largest seen counts as "beyond the range seen".
    pub input_guard: f64,
    /// Quantile of CPU use (cores) for the CPU request.
    pub cpu_quantile: f64,
    /// Also recommend a CPU limit.
    pub cpu_limit: bool,
    /// GPU utilisation at or below which a GPU counts as idle.
    pub gpu_idle_util: f64,
    /// Memory assumed when neither history nor the source gives one.
    pub default_memory_bytes: u64,
    /// The tuner cuts no limit below this, bytes (VPA's recommender has a floor of 250 MiB):
    /// below it a limit saves nothing measurable, and a peak of a few MB is the noise of a
    /// wrapper process, not the workload's need.
    pub min_limit_bytes: u64,
    /// The floor applies to a step only where it is the cheaper limit: where the expected cost
    /// of the kills it prevents (failed attempts, retries) exceeds the memory it reserves on
    /// every run ([`MemoryFit::expected_cost`]). `false`: a fixed floor for every step.
    pub floor_by_cost: bool,
    /// Measured runs ending after an OOM kill for which the kill still holds the limit above the
    /// killed one (infinite: forever).
    pub kill_memory_runs: f64,
}

impl Default for TunerConfig {
    fn default() -> Self {
        TunerConfig {
            min_history: 5,
            half_life_hours: 24.0,
            half_life_runs: 30.0,
            risk: 0.005,
            max_risk: 0.1,
            oom_penalty: 1.0,
            trade_min_gap: 0.1,
            min_bandwidth: 0.003,
            window: 150,
            small_sample_n: 20.0,
            small_sample_headroom: 1.5,
            regression_min_points: 8,
            regression_min_r: 0.8,
            regression_max_p: 0.01,
            extrapolate_min_r: 0.9,
            extrapolate_factor: 1.5,
            min_input_spread: 1.5,
            input_model_gain: 0.9,
            hysteresis: 0.1,
            oom_bump: 1.4,
            oom_bump_min_bytes: 100 * MIB,
            early_headroom: 2.0,
            early_max_cut: 0.25,
            early_max_spread: 1.5,
            input_guard: 1.0,
            cpu_quantile: 0.9,
            cpu_limit: false,
            gpu_idle_util: 0.05,
            default_memory_bytes: 2 * GIB,
            min_limit_bytes: 256 * MIB,
            floor_by_cost: true,
            kill_memory_runs: 30.0,
        }
    }
}

/// What the memory rule needs to know about one past run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Observation {
    /// When it ended (epoch ms); recency weights count from here.
    pub end_ms: i64,
    /// Peak memory, for runs that measured one (not for OOM kills).
    pub peak: Option<u64>,
    /// The limit it ran under.
    pub limit: Option<u64>,
    /// Killed for memory.
    pub oom: bool,
    /// Input bytes known before the run started ([`Execution::input_before_start`]); a
    /// measure taken while it ran is never here.
    pub input: Option<u64>,
    /// Runtime, seconds.
    pub wall_seconds: f64,
}

impl Observation {
    /// The observation an execution gives, if any (cached and cancelled runs give none).
    pub fn from_execution(e: &Execution) -> Option<Observation> {
        let oom = e.outcome == Outcome::Oom;
        if !(oom || e.outcome.measured()) {
            return None;
        }
        let peak = if oom { None } else { e.peak_memory_bytes };
        if !oom && peak.is_none() {
            return None;
        }
        Some(Observation {
            end_ms: e.end_ms,
            peak,
            limit: e.memory_in_force(),
            oom,
            input: e.input_before_start(),
            wall_seconds: e.wall_seconds,
        })
    }
}

/// The phase the rule was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// No measured run: current value kept.
    NoHistory,
    /// Fewer than `min_history` measured runs: trimmed at most.
    ShortHistory,
    /// Model fitted.
    Fitted,
}

/// The memory rule's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryDecision {
    /// Limit, bytes (rounded up to a MiB).
    pub limit: u64,
    /// Phase.
    pub phase: Phase,
    /// Model that set the value.
    pub kind: ModelKind,
    /// Estimated probability that a run exceeds the limit (None without a model).
    pub risk: Option<f64>,
    /// The value was kept because the change was small.
    pub held_by_hysteresis: bool,
    /// An earlier OOM kill set a floor that lifted the value.
    pub oom_floor: Option<u64>,
    /// What the tuner's floor ([`TunerConfig::min_limit_bytes`]) did, when the model's limit
    /// was below it.
    pub floor: Option<FloorNote>,
    /// The model, when fitted (for confidence and reports).
    #[serde(skip)]
    pub fit: Option<MemoryFit>,
}

/// Why the floor did or did not lift a fitted limit that lay below it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FloorNote {
    /// The fixed floor lifted the limit ([`TunerConfig::floor_by_cost`] off).
    Fixed {
        /// The floor, bytes.
        floor: u64,
    },
    /// The floor lifted the limit because it is the cheaper one: the kills it prevents cost
    /// more than it reserves.
    Cheaper {
        /// The floor, bytes.
        floor: u64,
        /// Expected cost at the floor over the expected cost at the model's limit (< 1).
        cost_ratio: f64,
    },
    /// The floor was waived: at the model's limit, the expected kills cost less than the floor
    /// would reserve.
    Waived {
        /// The floor, bytes.
        floor: u64,
        /// Expected cost at the floor over the expected cost at the model's limit (≥ 1).
        cost_ratio: f64,
    },
}

/// The memory limit for a run with `input` bytes, given the step's history, the current limit,
/// and optionally an already fitted model for exactly these observations.
pub fn decide_memory(
    obs: &[Observation],
    current: u64,
    input: Option<u64>,
    cfg: &TunerConfig,
    fit: Option<&MemoryFit>,
) -> MemoryDecision {
    let measured: Vec<&Observation> = obs.iter().filter(|o| o.peak.is_some()).collect();
    let owned;
    let fit = match fit {
        Some(f) => Some(f),
        None => {
            owned = MemoryFit::fit(obs, cfg);
            owned.as_ref()
        }
    };
    let mut d = MemoryDecision {
        limit: current,
        phase: Phase::NoHistory,
        kind: ModelKind::Insufficient,
        risk: None,
        held_by_hysteresis: false,
        oom_floor: None,
        floor: None,
        fit: None,
    };
    let mut bytes = current as f64;
    if let Some(fit) = fit {
        d.phase = Phase::Fitted;
        let est = fit.limit_for(input);
        bytes = fit.guard_for_input(input, cfg, est.bytes);
        if let Some(bound) = fit.small_sample_bound {
            let headroom = fit.max_peak as f64 * cfg.small_sample_headroom;
            bytes = bytes.max(bound.min(current as f64).min(headroom));
        }
        d.kind = est.kind;
        d.risk = Some(est.risk);
        // Hysteresis applies to the step-wide value; input-scaled limits differ run to run.
        if est.kind == ModelKind::Constant
            && bytes < current as f64
            && bytes > current as f64 * (1.0 - cfg.hysteresis)
        {
            bytes = current as f64;
            d.held_by_hysteresis = true;
        }
        d.fit = Some(fit.clone());
    } else if !measured.is_empty() {
        d.phase = Phase::ShortHistory;
        let max_peak = measured.iter().filter_map(|o| o.peak).max().unwrap_or(0) as f64;
        let min_peak = measured
            .iter()
            .filter_map(|o| o.peak)
            .min()
            .unwrap_or(0)
            .max(1) as f64;
        let consistent = max_peak / min_peak <= cfg.early_max_spread;
        let max_input = measured
            .iter()
            .map(|o| o.input)
            .collect::<Option<Vec<u64>>>()
            .and_then(|v| v.into_iter().max());
        let beyond = matches!((input, max_input), (Some(x), Some(m)) if x as f64 > cfg.input_guard * m as f64);
        if cfg.early_headroom > 0.0 && !beyond && consistent {
            let trimmed = (max_peak * cfg.early_headroom)
                .max(current as f64 * cfg.early_max_cut)
                .max(cfg.min_limit_bytes as f64);
            bytes = bytes.min(trimmed);
        }
    }
    if let (Phase::Fitted, Some(fit)) = (d.phase, fit) {
        // The tuner does not cut a limit below `min_limit_bytes`, unless (`floor_by_cost`) the
        // kills the floor prevents cost less than the memory it reserves.
        let floor = cfg.min_limit_bytes.min(current);
        if bytes < floor as f64 {
            let note = if cfg.floor_by_cost {
                let model = fit.expected_cost(bytes, cfg);
                let ratio = if model > 0.0 {
                    fit.expected_cost(floor as f64, cfg) / model
                } else {
                    f64::INFINITY
                };
                if ratio < 1.0 {
                    FloorNote::Cheaper {
                        floor,
                        cost_ratio: ratio,
                    }
                } else {
                    FloorNote::Waived {
                        floor,
                        cost_ratio: ratio,
                    }
                }
            } else {
                FloorNote::Fixed { floor }
            };
            if !matches!(note, FloorNote::Waived { .. }) {
                bytes = floor as f64;
            }
            d.floor = Some(note);
        }
    }
    // Never below a limit that was OOM-killed for a comparable input, until `kill_memory_runs`
    // measured runs have ended after the kill (a far run of a heavy tail does not hold every
    // later limit above its kill forever).
    let mut newer = 0usize;
    let mut recent_kills = Vec::new();
    for o in obs.iter().rev() {
        if o.peak.is_some() {
            newer += 1;
        } else if o.oom && (newer as f64) < cfg.kill_memory_runs {
            recent_kills.push(o);
        }
    }
    for o in recent_kills {
        let Some(killed) = o.limit else { continue };
        let comparable = match (input, o.input) {
            (Some(x), Some(k)) => x as f64 >= 0.9 * k as f64,
            _ => true,
        };
        if comparable && (killed as f64) >= bytes {
            bytes = killed as f64 + MIB as f64;
            d.oom_floor = Some(killed);
        }
    }
    d.limit = round_up_mib(bytes);
    d
}

/// The limit for the retry of a run that was just OOM-killed at `killed` (its kill is already in
/// `obs`).
///
/// Consecutive kills of the same run (the trailing kills in `obs`) escalate the bump: the k-th
/// retry gets `oom_bump`^k, so a badly underestimated run converges in a few attempts.
pub fn retry_limit(
    obs: &[Observation],
    current: u64,
    input: Option<u64>,
    killed: u64,
    cfg: &TunerConfig,
) -> u64 {
    let d = decide_memory(obs, current, input, cfg, None);
    let kills = obs.iter().rev().take_while(|o| o.oom).count().max(1);
    let factor = cfg
        .oom_bump
        .powi(i32::try_from(kills).unwrap_or(i32::MAX).min(8));
    let bump = (killed as f64 * factor).max(killed.saturating_add(cfg.oom_bump_min_bytes) as f64);
    // A kill means this run is unlike what the model expected for it: it goes where the step's
    // input-independent distribution puts runs that need more than the killed limit, at the
    // lowest expected cost (just above the kill in a continuous tail, above the cluster when
    // the step has a distinct upper cluster); with short history, at least a quarter of the
    // requested limit.
    let fallback = match &d.fit {
        Some(fit) => fit.retry_estimate(killed as f64, cfg).unwrap_or(0.0),
        None => current as f64 * cfg.early_max_cut,
    };
    d.limit.max(round_up_mib(bump.max(fallback)))
}

/// Rounds bytes up to a whole MiB (at least 1 MiB).
pub fn round_up_mib(bytes: f64) -> u64 {
    if !bytes.is_finite() || bytes <= 0.0 {
        return MIB;
    }
    let mib = (bytes / MIB as f64).ceil().clamp(1.0, 1.7e13);
    mib as u64 * MIB
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(end_ms: i64, peak: u64, input: Option<u64>) -> Observation {
        Observation {
            end_ms,
            peak: Some(peak),
            limit: Some(8 * GIB),
            oom: false,
            input,
            wall_seconds: 60.0,
        }
    }

    #[test]
    fn keeps_current_without_history() {
        let d = decide_memory(&[], 4 * GIB, None, &TunerConfig::default(), None);
        assert_eq!((d.limit, d.phase), (4 * GIB, Phase::NoHistory));
    }

    #[test]
    fn short_history_only_trims_with_headroom() {
        let obs = [ok(0, GIB, None)];
        let d = decide_memory(&obs, 16 * GIB, None, &TunerConfig::default(), None);
        assert_eq!(d.phase, Phase::ShortHistory);
        assert_eq!(d.limit, 4 * GIB); // at most a 4x cut
        let d = decide_memory(&obs, 3 * GIB, None, &TunerConfig::default(), None);
        assert_eq!(d.limit, 2 * GIB);
    }

    #[test]
    fn stable_peaks_get_a_tight_limit() {
        let obs: Vec<Observation> = (0..30)
            .map(|i| ok(i * 1000, 10 * GIB + (i as u64 % 3) * MIB, None))
            .collect();
        let d = decide_memory(&obs, 20 * GIB, None, &TunerConfig::default(), None);
        assert_eq!(d.phase, Phase::Fitted);
        assert!(
            d.limit > 10 * GIB + 2 * MIB && d.limit < 11 * GIB,
            "{}",
            d.limit
        );
    }

    #[test]
    fn never_below_an_oom_killed_limit() {
        let mut obs: Vec<Observation> = (0..10).map(|i| ok(i, GIB, Some(100))).collect();
        obs.push(Observation {
            end_ms: 20,
            peak: None,
            limit: Some(3 * GIB),
            oom: true,
            input: Some(100),
            wall_seconds: 1.0,
        });
        let d = decide_memory(&obs, 4 * GIB, Some(100), &TunerConfig::default(), None);
        assert!(d.limit > 3 * GIB);
        assert_eq!(d.oom_floor, Some(3 * GIB));
        // A much smaller input is not comparable.
        let d = decide_memory(&obs, 4 * GIB, Some(10), &TunerConfig::default(), None);
        assert!(d.limit < 3 * GIB);
        let r = retry_limit(&obs, 4 * GIB, Some(100), 3 * GIB, &TunerConfig::default());
        assert!(r as f64 >= 3.6 * GIB as f64);
    }

    #[test]
    fn uses_input_only_when_related() {
        // Peak = 100 MiB + input, strongly related.
        let obs: Vec<Observation> = (1..=40u64)
            .map(|i| ok(i as i64, 100 * MIB + i * 50 * MIB, Some(i * 50 * MIB)))
            .collect();
        let small = decide_memory(
            &obs,
            8 * GIB,
            Some(5 * 50 * MIB),
            &TunerConfig::default(),
            None,
        );
        let large = decide_memory(
            &obs,
            8 * GIB,
            Some(38 * 50 * MIB),
            &TunerConfig::default(),
            None,
        );
        assert!(
            matches!(small.kind, ModelKind::Linear | ModelKind::PowerLaw),
            "{:?}",
            small.kind
        );
        assert!(
            small.limit < large.limit / 3,
            "{} {}",
            small.limit,
            large.limit
        );
        assert!(large.limit >= 100 * MIB + 38 * 50 * MIB);
        // Unrelated input: constant model.
        let flat: Vec<Observation> = (1..=40u64)
            .map(|i| ok(i as i64, GIB + (i * 7919 % 13) * MIB, Some(i * 50 * MIB)))
            .collect();
        let d = decide_memory(
            &flat,
            8 * GIB,
            Some(10 * MIB),
            &TunerConfig::default(),
            None,
        );
        assert_eq!(d.kind, ModelKind::Constant);
    }

    /// 96 runs between 470 and 545 MiB and every 25th run at 900 MiB (4 %), no input sizes.
    fn bimodal() -> Vec<Observation> {
        (0..100u64)
            .map(|i| {
                let peak = if i % 25 == 12 {
                    900 * MIB
                } else {
                    (470 + (i * 37) % 76) * MIB
                };
                ok(i as i64 * 1000, peak, None)
            })
            .collect()
    }

    #[test]
    fn leaves_a_distinct_upper_cluster_to_retries_and_retries_above_it() {
        let cfg = TunerConfig::default();
        let obs = bimodal();
        let d = decide_memory(&obs, 2 * GIB, None, &cfg, None);
        // Covers the bulk, not the 4 % at 900 MiB: reserving for them on every run costs more
        // than their retries.
        assert!(
            d.limit >= 545 * MIB && d.limit < 700 * MIB,
            "{}",
            d.limit / MIB
        );
        // Without the trade, the limit covers the cluster.
        let strict = TunerConfig {
            max_risk: cfg.risk,
            ..cfg.clone()
        };
        let s = decide_memory(&obs, 2 * GIB, None, &strict, None);
        assert!(s.limit > 900 * MIB, "{}", s.limit / MIB);
        // A run killed at the traded limit is one of the cluster: its retry goes above the
        // cluster at once instead of climbing there by 1.4× bumps.
        let mut killed = obs.clone();
        killed.push(Observation {
            end_ms: 200_000,
            peak: None,
            limit: Some(d.limit),
            oom: true,
            input: None,
            wall_seconds: 60.0,
        });
        let r = retry_limit(&killed, d.limit, None, d.limit, &cfg);
        assert!(r > 900 * MIB, "retry {} after {}", r / MIB, d.limit / MIB);
        assert!(r < 1100 * MIB, "retry {}", r / MIB);
        // The kill lifts later limits only just above the killed one.
        let after = decide_memory(&killed, d.limit, None, &cfg, None);
        assert!(after.limit > d.limit && after.limit < 700 * MIB);
    }

    #[test]
    fn the_recommendation_says_when_rare_runs_are_left_to_retries() {
        let runs: Vec<Execution> = bimodal()
            .iter()
            .map(|o| {
                let mut e = Execution::new("p", "s", o.end_ms - 60_000, 60.0);
                e.end_ms = o.end_ms;
                e.peak_memory_bytes = o.peak;
                e.memory_limit_bytes = Some(2 * GIB);
                e.outcome = Outcome::Ok;
                e
            })
            .collect();
        let key = crate::history::StepKey::new("p", "s");
        let cfg = TunerConfig::default();
        let r = recommend::recommend_step(&key, &runs, &Default::default(), &cfg);
        assert!(r.memory.new_limit < 700 * MIB);
        assert!(
            r.reasons
                .iter()
                .any(|x| x.starts_with("4 of 100 runs peaked above this limit")),
            "{:?}",
            r.reasons
        );
        // Without the trade, no such reason.
        let strict = TunerConfig {
            max_risk: cfg.risk,
            ..cfg
        };
        let r = recommend::recommend_step(&key, &runs, &Default::default(), &strict);
        assert!(!r.reasons.iter().any(|x| x.contains("peaked above")));
    }

    #[test]
    fn a_continuous_tail_is_cut_into_only_when_trading_anywhere() {
        // 90 runs between 480 and 520 MiB, and a tail of 10 spread evenly (in log) from 560 to
        // 900 MiB: no empty band of 10 % above any run.
        let obs: Vec<Observation> = (0..100u64)
            .map(|i| {
                let peak = if i % 10 == 3 {
                    560.0 * (900.0f64 / 560.0).powf((i / 10) as f64 / 9.0)
                } else {
                    480.0 + ((i * 13) % 41) as f64
                };
                ok(i as i64 * 1000, (peak * MIB as f64) as u64, None)
            })
            .collect();
        // With the empty-band condition (the default, chosen by cross-validation) the tail is
        // covered.
        let d = decide_memory(&obs, 4 * GIB, None, &TunerConfig::default(), None);
        assert!(d.limit >= 900 * MIB, "{}", d.limit / MIB);
        // Trading anywhere, the cost trade cuts into it.
        let anywhere = TunerConfig {
            trade_min_gap: 0.0,
            ..TunerConfig::default()
        };
        let l = decide_memory(&obs, 4 * GIB, None, &anywhere, None);
        assert!(l.limit < 900 * MIB, "{} {}", l.limit / MIB, d.limit / MIB);
    }

    #[test]
    fn a_fixed_floor_holds_every_step() {
        let obs: Vec<Observation> = (0..30).map(|i| ok(i * 1000, 3 * MIB, None)).collect();
        let cfg = TunerConfig {
            floor_by_cost: false,
            ..TunerConfig::default()
        };
        let d = decide_memory(&obs, 2 * GIB, None, &cfg, None);
        assert_eq!(d.limit, cfg.min_limit_bytes);
        assert_eq!(
            d.floor,
            Some(FloorNote::Fixed {
                floor: cfg.min_limit_bytes
            })
        );
        // A limit already below the minimum is not raised to it.
        let d = decide_memory(&obs, 100 * MIB, None, &cfg, None);
        assert_eq!(d.limit, 100 * MIB);
        // Short history trims no lower either.
        let d = decide_memory(&obs[..2], 600 * MIB, None, &cfg, None);
        assert_eq!(
            (d.phase, d.limit),
            (Phase::ShortHistory, cfg.min_limit_bytes)
        );
    }

    #[test]
    fn the_floor_by_cost_is_waived_for_tiny_steps_and_says_why() {
        // Peaks of 5-40 MiB: a kill costs a tiny attempt and a retry 100 MiB higher; the floor
        // would reserve 256 MiB on every run.
        let obs: Vec<Observation> = (0..60u64)
            .map(|i| ok(i as i64 * 1000, (5 + (i * 7) % 36) * MIB, None))
            .collect();
        let cfg = TunerConfig::default();
        assert!(cfg.floor_by_cost);
        let d = decide_memory(&obs, 2 * GIB, None, &cfg, None);
        assert!(d.limit < 64 * MIB, "{}", d.limit / MIB);
        match d.floor {
            Some(FloorNote::Waived { floor, cost_ratio }) => {
                assert_eq!(floor, cfg.min_limit_bytes);
                assert!(cost_ratio > 3.0, "{cost_ratio}");
            }
            other => panic!("{other:?}"),
        }
        // A step whose peaks are near the floor is not affected.
        let big: Vec<Observation> = (0..60u64)
            .map(|i| ok(i as i64 * 1000, (300 + i % 5) * MIB, None))
            .collect();
        assert_eq!(decide_memory(&big, 2 * GIB, None, &cfg, None).floor, None);
    }

    #[test]
    fn a_kill_stops_holding_the_limit_after_thirty_newer_runs() {
        let cfg = TunerConfig::default();
        let mut obs: Vec<Observation> = (0..30).map(|i| ok(i * 1000, 500 * MIB, None)).collect();
        obs.push(Observation {
            end_ms: 40_000,
            peak: None,
            limit: Some(2 * GIB),
            oom: true,
            input: None,
            wall_seconds: 60.0,
        });
        obs.extend((0..29).map(|i| ok(50_000 + i * 1000, 500 * MIB, None)));
        let held = decide_memory(&obs, 4 * GIB, None, &cfg, None);
        assert_eq!(held.oom_floor, Some(2 * GIB));
        assert!(held.limit > 2 * GIB);
        obs.push(ok(90_000, 500 * MIB, None));
        let free = decide_memory(&obs, 4 * GIB, None, &cfg, None);
        assert_eq!(free.oom_floor, None);
        assert!(free.limit < GIB, "{}", free.limit / MIB);
    }

    #[test]
    fn input_model_is_not_capped_by_the_traded_constant_limit() {
        // Peak = 10 % of input. 92 runs read 1–2 GiB; every 12th reads 20 GiB and peaks at 2 GiB:
        // a distinct upper cluster for the constant model, but one the input explains.
        let obs: Vec<Observation> = (0..100u64)
            .map(|i| {
                let input = if i % 12 == 6 {
                    20 * GIB
                } else {
                    GIB + (i * 41 % 100) * GIB / 100
                };
                let peak = input / 10 + (i % 7) * MIB;
                ok(i as i64 * 1000, peak, Some(input))
            })
            .collect();
        let cfg = TunerConfig::default();
        let fit = MemoryFit::fit(&obs, &cfg).expect("fitted");
        assert!(fit.scaling.is_some());
        assert!(
            fit.constant_limit < GIB as f64,
            "the constant model leaves the large runs to retries: {}",
            fit.constant_limit
        );
        let big = decide_memory(&obs, 4 * GIB, Some(20 * GIB), &cfg, None);
        assert!(big.limit > 2 * GIB + 6 * MIB, "{}", big.limit / MIB);
        let small = decide_memory(&obs, 4 * GIB, Some(GIB), &cfg, None);
        assert!(small.limit < GIB / 2, "{}", small.limit / MIB);
    }
}
