//! Per-step recommendations for the CLI: memory limit and request, CPU request (and limit),
//! GPU count, with confidence, estimated OOM risk, expected savings and the reasons.
//!
//! The memory request equals the limit: memory is not compressible, and a pod using more than
//! it requested is the first to be evicted under node pressure.

use super::cpu::{decide_cpu, CpuDecision};
use super::gpu::{decide_gpu, GpuDecision};
use super::{decide_memory, FloorNote, MemoryDecision, ModelKind, Observation, Phase, TunerConfig};
use crate::bounds::StepBounds;
use crate::history::{Execution, History, Outcome, StepKey};
use crate::units::{format_bytes, format_cpu};
use serde::Serialize;
use std::collections::BTreeMap;

/// How much to trust a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfidenceLevel {
    /// Little or noisy history.
    Low,
    /// Usable history.
    Medium,
    /// Plenty of consistent history.
    High,
}

/// Confidence as a level and a number in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Confidence {
    /// Level.
    pub level: ConfidenceLevel,
    /// Score, 0..=1.
    pub score: f64,
}

impl Confidence {
    fn from_score(score: f64) -> Self {
        let score = (score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
        let level = if score >= 0.7 {
            ConfidenceLevel::High
        } else if score >= 0.4 {
            ConfidenceLevel::Medium
        } else {
            ConfidenceLevel::Low
        };
        Confidence { level, score }
    }
}

/// Memory part of a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryRecommendation {
    /// Limit in force.
    pub old_limit: Option<u64>,
    /// Recommended limit.
    pub new_limit: u64,
    /// Request in force.
    pub old_request: Option<u64>,
    /// Recommended request (equal to the limit).
    pub new_request: u64,
    /// Model used.
    pub model: ModelKind,
    /// Phase of the rule.
    pub phase: Phase,
    /// Estimated probability that a run exceeds the new limit.
    pub oom_risk: Option<f64>,
    /// Input-size scaling for runners that know a run's input.
    pub input_scaling: Option<super::InputScaling>,
    /// The retry rule for an attempt OOM-killed at the new limit (none without a measured run).
    pub retry: Option<super::RetryRule>,
}

/// One step's recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// The step.
    pub key: StepKey,
    /// Executions seen.
    pub executions: usize,
    /// Of which OOM-killed.
    pub ooms: usize,
    /// Memory.
    pub memory: MemoryRecommendation,
    /// CPU.
    pub cpu: CpuDecision,
    /// CPU request in force.
    pub old_cpu_request: Option<u64>,
    /// GPU.
    pub gpu: GpuDecision,
    /// Confidence.
    pub confidence: Confidence,
    /// GB·h of memory the new limit would have saved over the executions seen (negative: cost).
    pub saved_gb_hours: f64,
    /// Whether anything changes.
    pub changed: bool,
    /// Why, in sentences.
    pub reasons: Vec<String>,
}

/// Recommends for every step in the history and every step named in `bounds` (steps without
/// history keep their values). Output is ordered by step key.
pub fn recommend(
    history: &History,
    bounds: &BTreeMap<StepKey, StepBounds>,
    cfg: &TunerConfig,
) -> Vec<Recommendation> {
    let mut keys: Vec<&StepKey> = history.steps.keys().chain(bounds.keys()).collect();
    keys.sort();
    keys.dedup();
    let empty = Vec::new();
    keys.into_iter()
        .map(|k| {
            let runs = history.steps.get(k).unwrap_or(&empty);
            recommend_step(k, runs, &bounds.get(k).copied().unwrap_or_default(), cfg)
        })
        .collect()
}

/// Recommends for one step from its executions (ordered by start).
pub fn recommend_step(
    key: &StepKey,
    runs: &[Execution],
    bounds: &StepBounds,
    cfg: &TunerConfig,
) -> Recommendation {
    let last = runs.last();
    let old_limit = bounds
        .current
        .memory_bytes
        .or_else(|| last.and_then(Execution::memory_in_force));
    let old_request = last.and_then(|e| e.memory_request_bytes).or(old_limit);
    let current = old_limit.unwrap_or(cfg.default_memory_bytes);
    let mut obs: Vec<Observation> = runs
        .iter()
        .filter_map(Observation::from_execution)
        .collect();
    obs.sort_by_key(|o| o.end_ms);
    let d = decide_memory(&obs, current, None, cfg, None);
    let measured: Vec<u64> = obs.iter().filter_map(|o| o.peak).collect();
    let ooms = runs.iter().filter(|e| e.outcome == Outcome::Oom).count();
    let mut reasons = memory_reasons(&d, &measured, cfg);
    let mut new_limit = d.limit;
    let clamped = bounds.clamp_memory(new_limit);
    if clamped != new_limit {
        reasons.push(if clamped < new_limit {
            format!(
                "capped by the source's max bound {} (the model asked for {})",
                format_bytes(clamped),
                format_bytes(new_limit)
            )
        } else {
            format!("raised to the source's min bound {}", format_bytes(clamped))
        });
        new_limit = clamped;
    }
    // The static limit covers runs of any input size: its risk is the constant model's tail.
    let risk = d.fit.as_ref().map(|f| f.constant_tail(new_limit as f64));
    let cpu = decide_cpu(runs, cfg);
    let old_cpu_request = bounds
        .current
        .cpu_millis
        .or_else(|| last.and_then(|e| e.cpu_request_millis));
    let cpu = CpuDecision {
        request_millis: cpu.request_millis.map(|m| bounds.clamp_cpu(m)),
        ..cpu
    };
    if let Some(req) = cpu.request_millis {
        reasons.push(format!(
            "CPU request {} from the upper {:.0} % of cores used ({:.2})",
            format_cpu(req),
            cfg.cpu_quantile * 100.0,
            cpu.cores_quantile
        ));
    }
    let mut gpu = decide_gpu(runs, cfg);
    gpu.current = bounds.current.gpu.unwrap_or(gpu.current);
    gpu.recommended = bounds.clamp_gpu(
        if gpu.recommended == 0 && gpu.current > 0 && gpu.measured >= cfg.min_history {
            0
        } else {
            gpu.current
        },
    );
    if gpu.current > 0 && gpu.recommended < gpu.current {
        reasons.push(format!(
            "GPU idle in all {} measured runs (highest mean utilisation {:.0} %): drop it",
            gpu.measured,
            gpu.max_util.unwrap_or(0.0) * 100.0
        ));
    }
    let hours: f64 = runs
        .iter()
        .filter(|e| e.outcome != Outcome::Cached)
        .map(|e| e.wall_seconds)
        .sum::<f64>()
        / 3600.0;
    let saved_gb_hours = old_limit.map_or(0.0, |old| {
        (old as f64 - new_limit as f64) * hours / crate::units::GB
    });
    let score = match (&d.phase, &d.fit) {
        (Phase::Fitted, Some(f)) => {
            let amount = 1.0 - (-f.n_eff / 15.0).exp();
            let spread = 1.0 / (1.0 + 4.0 * f.log_spread);
            let oom_penalty = if ooms > 0 { 0.85 } else { 1.0 };
            amount * spread * oom_penalty
        }
        _ => 0.1 * measured.len().min(3) as f64,
    };
    let changed = old_limit != Some(new_limit)
        || (cpu.request_millis.is_some() && cpu.request_millis != old_cpu_request)
        || gpu.recommended != gpu.current;
    Recommendation {
        key: key.clone(),
        executions: runs.len(),
        ooms,
        memory: MemoryRecommendation {
            old_limit,
            new_limit,
            old_request,
            new_request: new_limit,
            model: d.kind,
            phase: d.phase,
            oom_risk: risk.map(|r| (r * 10_000.0).round() / 10_000.0),
            input_scaling: d.fit.as_ref().and_then(|f| f.scaling),
            retry: (d.phase != Phase::NoHistory)
                .then(|| super::RetryRule::for_limit(&obs, new_limit, current, cfg)),
        },
        cpu,
        old_cpu_request,
        gpu,
        confidence: Confidence::from_score(score),
        saved_gb_hours,
        changed,
        reasons,
    }
}

/// Why the floor applies to a step, or not.
fn floor_reason(note: FloorNote) -> String {
    match note {
        FloorNote::Fixed { floor } => format!(
            "held at the floor of {}: the model asked for less, but below it a limit saves nothing measurable and small peaks are often a wrapper's noise",
            format_bytes(floor)
        ),
        FloorNote::Cheaper { floor, cost_ratio } => format!(
            "held at the floor of {}: the kills a lower limit would cause cost more than the floor reserves (expected cost {:.0} % of the model's limit's)",
            format_bytes(floor),
            100.0 * cost_ratio
        ),
        FloorNote::Waived { floor, cost_ratio } => format!(
            "below the floor of {}: the rare kills at this limit cost less than the floor would reserve on every run (the floor's expected cost is {:.1}× this limit's)",
            format_bytes(floor),
            cost_ratio.min(1e6)
        ),
    }
}

/// The sentences that explain a memory decision.
fn memory_reasons(d: &MemoryDecision, measured: &[u64], cfg: &TunerConfig) -> Vec<String> {
    let mut reasons = Vec::new();
    match d.phase {
        Phase::NoHistory => reasons.push("no measured run yet: the current limit stays".to_string()),
        Phase::ShortHistory => reasons.push(format!(
            "only {} measured run(s), {} needed to fit a model: the limit is at most trimmed to {}× the largest peak ({})",
            measured.len(),
            cfg.min_history,
            cfg.early_headroom,
            format_bytes(measured.iter().copied().max().unwrap_or(0))
        )),
        Phase::Fitted => {
            let mut sorted = measured.to_vec();
            sorted.sort_unstable();
            let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
            reasons.push(format!(
                "{} measured runs: median peak {}, largest {}",
                measured.len(),
                format_bytes(median),
                format_bytes(sorted.last().copied().unwrap_or(0))
            ));
            reasons.push(match (&d.kind, d.fit.as_ref().and_then(|f| f.scaling)) {
                (ModelKind::Linear | ModelKind::PowerLaw, _) | (_, Some(_)) => {
                    let r = d.fit.as_ref().and_then(|f| f.scaling).map_or(0.0, |s| s.r);
                    format!("peak memory follows input size (r = {r:.2}): the limit scales with input where the runner knows it; the static limit covers the largest inputs seen")
                }
                _ => format!(
                    "limit = recency-weighted peaks (half-life {} h), smoothed, upper {:.1} % quantile",
                    cfg.half_life_hours,
                    100.0 * (1.0 - cfg.risk)
                ),
            });
            if d.kind == ModelKind::Constant && median > 0 {
                reasons.push(format!(
                    "margin {:.0} % over the median peak, from the spread of the recent peaks: an estimated {:.2} % of runs need more",
                    100.0 * (d.limit as f64 / median as f64 - 1.0),
                    100.0
                        * d.fit
                            .as_ref()
                            .map_or(0.0, |f| f.constant_tail(d.limit as f64))
                ));
            }
            // The cost trade left a distinct upper cluster of runs to retries.
            let above = d
                .fit
                .as_ref()
                .filter(|f| f.constant_limit < f.cover_limit)
                .map_or(0, |f| {
                    measured
                        .iter()
                        .filter(|p| **p as f64 > f.constant_limit)
                        .count()
                });
            if above > 0 && d.kind == ModelKind::Constant {
                reasons.push(format!(
                    "{above} of {} runs peaked above this limit (up to {}): retrying such rare runs costs less than reserving for them on every run",
                    measured.len(),
                    format_bytes(measured.iter().copied().max().unwrap_or(0))
                ));
            }
        }
    }
    if let Some(note) = d.floor {
        reasons.push(floor_reason(note));
    }
    if d.held_by_hysteresis {
        reasons.push(format!(
            "change under {:.0} %: the current limit stays",
            cfg.hysteresis * 100.0
        ));
    }
    if let Some(killed) = d.oom_floor {
        reasons.push(format!(
            "an earlier run was OOM-killed at {}: the limit stays above it",
            format_bytes(killed)
        ));
    }
    reasons
}
