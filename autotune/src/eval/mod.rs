//! The evaluation: replay traces in time order and score flowc's tuner against the VPA-like and
//! KRR-like baselines in the same run.
//!
//! Rules (see [`replay`]): executions of one workflow are replayed in start order; for each, a
//! policy sees only the observations of the same step that finished before it started and sets
//! the limit. An execution whose peak exceeds its limit fails, is charged its full runtime at
//! that limit, and is retried at the policy's next limit (which has seen the kill). The first
//! executions of a step, with nothing finished yet, get the memory the trace requested, or
//! [`EvalConfig::default_memory_bytes`] (2 GiB) when the trace has none: the same for all three
//! policies. Executions without a measured peak cannot be scored and are skipped (counted).
//!
//! A policy is given only what is known before a run starts ([`replay::BeforeStart`]): input
//! sizes measured while a run ran (Nextflow's `rchar`) are withheld, so the input model is off
//! for traces that have no other input measure.

pub mod cv;
pub mod deployed;
pub mod lagged;
pub mod replay;
pub mod table;

use crate::baselines::{KrrLike, VpaLike};
use crate::history::{History, StepKey};
use crate::model::{MemoryFit, Observation, TunerConfig};
use serde::Serialize;
use std::collections::BTreeMap;

pub use deployed::{Cadence, DeployedPolicy};
pub use lagged::{Lagged, VPA_RECOMMENDER_INTERVAL_MINUTES};

pub use crate::policy::Policy;

/// The retries after an OOM kill that `flowc build --target argo` gives a tuned step with a
/// retry rule (`retryStrategy` with the expression `lastRetry.exitCode == '137'`), and that the
/// replay gives every policy; `flowc_targets::argo::OOM_RETRIES` is the same number (a CLI
/// test checks).
pub const OOM_RETRIES: u32 = 5;

/// Settings of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalConfig {
    /// flowc's tuner settings.
    pub tuner: TunerConfig,
    /// Limit of a step's first runs when the trace requested none (all policies).
    pub default_memory_bytes: u64,
    /// Attempts a run gets, for every policy: 1 + the OOM retries `flowc build` gives a tuned
    /// step ([`OOM_RETRIES`]). A run killed at every attempt is *exhausted*: its step fails,
    /// and it is counted ([`PolicyMetrics::exhausted`]) and then charged once more at its peak,
    /// as if re-run by hand with enough memory; every attempt before counts as a failure.
    pub max_attempts: u32,
    /// How flowc's values reach the runs: asked live, through a ConfigMap re-tuned every few
    /// minutes, or through a lock file rewritten nightly.
    pub cadence: Cadence,
    /// How often the baselines recompute, minutes ([`Lagged`]; VPA's recommender loop, 1 by
    /// default; 0: before every run).
    pub baseline_interval_minutes: u32,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            tuner: TunerConfig::default(),
            default_memory_bytes: crate::units::GIB * 2,
            max_attempts: 1 + OOM_RETRIES,
            cadence: Cadence::periodic(),
            baseline_interval_minutes: VPA_RECOMMENDER_INTERVAL_MINUTES,
        }
    }
}

/// One policy's score on a workflow (or in total).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyMetrics {
    /// Policy name.
    pub policy: String,
    /// Executions replayed.
    pub executions: usize,
    /// Memory reserved (limit × runtime, failed attempts included), GB·h.
    pub reserved_gb_h: f64,
    /// Memory the oracle reserves (peak × runtime), GB·h.
    pub oracle_gb_h: f64,
    /// Memory wasted: (limit − peak) × runtime for successful attempts plus limit × runtime for
    /// failed ones, GB·h.
    pub wasted_gb_h: f64,
    /// Failed (OOM-killed) attempts.
    pub oom_failures: usize,
    /// Executions killed more than once (their first retry did not cover them).
    pub repeated_failures: usize,
    /// Executions killed at every attempt they had ([`EvalConfig::max_attempts`]): the step
    /// failed.
    pub exhausted: usize,
    /// The same metrics per step (for diagnostics; not serialized).
    #[serde(skip)]
    pub by_step: BTreeMap<String, PolicyMetrics>,
}

impl PolicyMetrics {
    /// Reserved memory over the oracle's.
    pub fn ratio(&self) -> f64 {
        if self.oracle_gb_h > 0.0 {
            self.reserved_gb_h / self.oracle_gb_h
        } else {
            1.0
        }
    }

    /// OOM failures per execution.
    pub fn oom_rate(&self) -> f64 {
        if self.executions > 0 {
            self.oom_failures as f64 / self.executions as f64
        } else {
            0.0
        }
    }

    fn add(&mut self, o: &PolicyMetrics) {
        self.executions += o.executions;
        self.reserved_gb_h += o.reserved_gb_h;
        self.oracle_gb_h += o.oracle_gb_h;
        self.wasted_gb_h += o.wasted_gb_h;
        self.oom_failures += o.oom_failures;
        self.repeated_failures += o.repeated_failures;
        self.exhausted += o.exhausted;
    }
}

/// Scores of all policies on one workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowEval {
    /// Workflow (pipeline) name.
    pub workflow: String,
    /// Executions replayed.
    pub executions: usize,
    /// Steps.
    pub steps: usize,
    /// flowc, VPA-like, KRR-like, in that order.
    pub policies: Vec<PolicyMetrics>,
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Per workflow, by name.
    pub workflows: Vec<WorkflowEval>,
    /// Totals, same policy order.
    pub total: Vec<PolicyMetrics>,
    /// Executions skipped for lack of a measured peak.
    pub skipped: usize,
    /// Executions whose input size was known before they started (given to flowc's policy).
    pub inputs_before_start: usize,
    /// Executions with only an input measure taken while they ran (given to no policy).
    pub inputs_withheld: usize,
    /// Reader warnings (malformed records skipped in lenient mode, unmatched series).
    pub warnings: usize,
    /// The settings used.
    pub config: EvalConfig,
}

impl EvalReport {
    /// Deterministic Markdown tables (see [`table`]).
    pub fn to_markdown(&self) -> String {
        table::markdown(self)
    }
}

/// flowc's tuner as a replay policy: remembers each step's current limit (for hysteresis and
/// the short-history rule) and caches the fitted model per observation count.
#[derive(Debug, Default)]
pub struct FlowcPolicy {
    /// Settings.
    pub config: TunerConfig,
    current: BTreeMap<StepKey, u64>,
    cache: BTreeMap<StepKey, (usize, Option<MemoryFit>)>,
}

impl FlowcPolicy {
    /// A policy with the given settings.
    pub fn new(config: TunerConfig) -> Self {
        FlowcPolicy {
            config,
            current: BTreeMap::new(),
            cache: BTreeMap::new(),
        }
    }
}

impl Policy for FlowcPolicy {
    fn name(&self) -> &'static str {
        "flowc"
    }

    fn limit(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        _now_ms: i64,
        initial: u64,
    ) -> u64 {
        // While history is short, the reference is the limit the trace requested (cuts do not
        // compound from run to run); afterwards it is the tuner's own last value.
        let measured = obs.iter().filter(|o| o.peak.is_some()).count();
        let current = if measured < self.config.min_history {
            initial
        } else {
            *self.current.get(step).unwrap_or(&initial)
        };
        let stale = self.cache.get(step).is_none_or(|(n, _)| *n != obs.len());
        if stale {
            self.cache
                .insert(step.clone(), (obs.len(), MemoryFit::fit(obs, &self.config)));
        }
        let fit = self.cache.get(step).and_then(|(_, f)| f.as_ref());
        let d = crate::model::decide_memory(obs, current, input, &self.config, fit);
        self.current.insert(step.clone(), d.limit);
        d.limit
    }

    fn retry(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        _now_ms: i64,
        initial: u64,
        killed: u64,
    ) -> u64 {
        let measured = obs.iter().filter(|o| o.peak.is_some()).count();
        let current = if measured < self.config.min_history {
            initial
        } else {
            *self.current.get(step).unwrap_or(&initial)
        };
        crate::model::retry_limit(obs, current, input, killed, &self.config)
    }
}

/// What `flowc autotune eval` prints: the tables with flowc deployed through a ConfigMap
/// re-tuned every 10 minutes and through a lock file rewritten nightly, then the leave-one-workflow-out cross-validation of
/// the defaults (at `config`'s cadence).
pub fn full_markdown(history: &History, config: &EvalConfig) -> String {
    let mut out = String::new();
    for cadence in [Cadence::periodic(), Cadence::Nightly] {
        let c = EvalConfig {
            cadence,
            ..config.clone()
        };
        out.push_str(&evaluate_history(history, &c).to_markdown());
        out.push('\n');
    }
    let grid = cv::grid(&config.tuner);
    out.push_str(&cv::cross_validate(history, config, grid).to_markdown());
    out
}

/// The cadences of [`cadence_sweep`]: the tuner asked before every run, the ConfigMap job
/// every 1, 2, 5, 10, 30 and 60 minutes, and the nightly lock file.
pub fn sweep_cadences() -> Vec<Cadence> {
    let mut out = vec![Cadence::Live];
    out.extend([1, 2, 5, 10, 30, 60].map(|minutes| Cadence::Periodic { minutes }));
    out.push(Cadence::Nightly);
    out
}

/// One row per cadence of [`sweep_cadences`] (baselines as `config` says), then the tuner
/// asked live and the one-minute job against baselines asked before every run: flowc's
/// totals against the better baseline's and its worst workflow.
pub fn cadence_sweep(history: &History, config: &EvalConfig) -> String {
    let mut rows: Vec<EvalConfig> = sweep_cadences()
        .into_iter()
        .map(|cadence| EvalConfig {
            cadence,
            ..config.clone()
        })
        .collect();
    for cadence in [Cadence::Live, Cadence::periodic()] {
        rows.push(EvalConfig {
            cadence,
            baseline_interval_minutes: 0,
            ..config.clone()
        });
    }
    let mut out = String::from(
        "| flowc's values | baselines recompute | flowc wasted | flowc reserved / oracle | flowc OOM | better baseline wasted (OOM) | flowc / better | worst workflow |\n|---|---|---:|---:|---:|---:|---:|---|\n",
    );
    for c in rows {
        let r = evaluate_history(history, &c);
        let Some(flowc) = r.total.first() else {
            continue;
        };
        let better = r.total[1..]
            .iter()
            .min_by(|a, b| a.wasted_gb_h.total_cmp(&b.wasted_gb_h))
            .cloned()
            .unwrap_or_default();
        let worst = r
            .workflows
            .iter()
            .filter_map(|w| table::waste_vs_better(&w.policies).map(|x| (x, &w.workflow)))
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
            .map_or(String::new(), |(x, w)| format!("`{w}`, {x:.3}"));
        let cadence = match c.cadence {
            Cadence::Live => "tuner asked before every run".to_string(),
            Cadence::Periodic { minutes } => format!("ConfigMap job every {minutes} min"),
            Cadence::Nightly => "nightly lock file".to_string(),
        };
        let baselines = match c.baseline_interval_minutes {
            0 => "before every run".to_string(),
            m => format!("every {m} min"),
        };
        out.push_str(&format!(
            "| {cadence} | {baselines} | {:.2} | {:.3} | {} ({:.2} %) | {:.2} ({}, {}) | {:.3} | {worst} |\n",
            flowc.wasted_gb_h,
            flowc.ratio(),
            flowc.oom_failures,
            100.0 * flowc.oom_rate(),
            better.wasted_gb_h,
            better.policy,
            better.oom_failures,
            table::waste_vs_better(&r.total).unwrap_or(0.0),
        ));
    }
    out
}

/// flowc's policy for a tuner configuration at a cadence.
pub fn flowc_policy(tuner: &TunerConfig, cadence: Cadence) -> Box<dyn Policy> {
    match cadence {
        Cadence::Live => Box::new(FlowcPolicy::new(tuner.clone())),
        c => Box::new(DeployedPolicy::new(tuner.clone(), c)),
    }
}

/// VPA-like and KRR-like, recomputed as often as `config` says.
pub fn baselines(config: &EvalConfig) -> Vec<Box<dyn Policy>> {
    let every = config.baseline_interval_minutes;
    vec![
        Lagged::every(Box::new(VpaLike::default()), every),
        Lagged::every(Box::new(KrrLike::default()), every),
    ]
}

/// The history's executions by workflow (pipeline), in name order.
pub fn by_workflow(history: &History) -> BTreeMap<&str, Vec<&crate::history::Execution>> {
    let mut by_workflow: BTreeMap<&str, Vec<&crate::history::Execution>> = BTreeMap::new();
    for e in history.executions() {
        by_workflow.entry(e.pipeline.as_str()).or_default().push(e);
    }
    by_workflow
}

/// Replays every workflow of the history with the three policies.
pub fn evaluate_history(history: &History, config: &EvalConfig) -> EvalReport {
    let mut workflows = Vec::new();
    let mut skipped = 0;
    let mut total: Vec<PolicyMetrics> = Vec::new();
    for (name, runs) in by_workflow(history) {
        let mut policies: Vec<Box<dyn Policy>> = vec![flowc_policy(&config.tuner, config.cadence)];
        policies.extend(baselines(config));
        let (metrics, skip, steps) = replay::replay_workflow(&runs, &mut policies, config);
        skipped += skip;
        if total.is_empty() {
            total = metrics
                .iter()
                .map(|m| PolicyMetrics {
                    policy: m.policy.clone(),
                    ..Default::default()
                })
                .collect();
        }
        for (t, m) in total.iter_mut().zip(&metrics) {
            t.add(m);
        }
        let executions = metrics.first().map_or(0, |m| m.executions);
        workflows.push(WorkflowEval {
            workflow: name.to_string(),
            executions,
            steps,
            policies: metrics,
        });
    }
    let scored = || {
        history
            .executions()
            .filter(|e| e.peak_memory_bytes.is_some())
    };
    EvalReport {
        workflows,
        total,
        skipped,
        inputs_before_start: scored()
            .filter(|e| e.input_before_start().is_some())
            .count(),
        inputs_withheld: scored()
            .filter(|e| e.input_bytes.is_some() && e.input_before_start().is_none())
            .count(),
        warnings: history.warnings.len(),
        config: config.clone(),
    }
}
