//! The replay simulator for one workflow.
//!
//! Time model: an execution keeps its trace start time. Its first attempt runs `runtime`; each
//! failed attempt ends (and becomes visible to later executions) `runtime` after it started, and
//! the next attempt starts then, so a run with k failures finishes at start + (k+1) × runtime.
//! A policy sees, for an execution starting at t, the observations of the same step visible by
//! t; a retry also sees the kills of its own execution.
//!
//! Honesty: a policy is given only what a runner knows before the execution starts
//! ([`BeforeStart`]: its start time, the memory the trace requested, and an input size known
//! before the start), and the observations of runs that already ended. What the execution turns
//! out to need ([`Measured`]: its peak and runtime) only scores the limit the policy set. Input
//! sizes measured while a run ran (Nextflow's `rchar`) never reach a policy, neither for the run
//! being sized nor in the observations of past runs ([`Execution::input_before_start`]).
//! Executions starting at the same instant are replayed in (step, task, attempt) order, never
//! by when they end.

use super::{EvalConfig, Policy, PolicyMetrics};
use crate::history::{Execution, StepKey};
use crate::model::Observation;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Replays `runs` (one workflow) with each policy independently. Returns the metrics per policy
/// (in the order given), the number of executions skipped for lack of a peak, and the number of
/// steps.
pub fn replay_workflow(
    runs: &[&Execution],
    policies: &mut [Box<dyn Policy>],
    cfg: &EvalConfig,
) -> (Vec<PolicyMetrics>, usize, usize) {
    let mut scored: Vec<&Execution> = runs
        .iter()
        .copied()
        .filter(|e| e.peak_memory_bytes.is_some())
        .collect();
    let skipped = runs.len() - scored.len();
    // Only what is known at the start orders executions (a stable sort keeps the history's
    // order for full ties).
    scored.sort_by(|a, b| {
        (a.start_ms, &a.step, &a.task, a.attempt).cmp(&(b.start_ms, &b.step, &b.task, b.attempt))
    });
    let steps: Vec<StepKey> = {
        let mut keys: Vec<StepKey> = scored.iter().map(|e| e.key()).collect();
        keys.sort();
        keys.dedup();
        keys
    };
    let metrics = policies
        .iter_mut()
        .map(|p| replay_one(&scored, &steps, p.as_mut(), cfg))
        .collect();
    (metrics, skipped, steps.len())
}

/// What a runner knows about an execution before it starts: everything a policy is given about
/// the run it sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeforeStart {
    /// Start, epoch milliseconds.
    pub start_ms: i64,
    /// The limit the trace requested for it (given to a step's first runs), if any.
    pub requested: Option<u64>,
    /// Input size known before the start; `None` for a measure taken while it ran.
    pub input: Option<u64>,
}

impl BeforeStart {
    /// The pre-start view of an execution.
    pub fn of(e: &Execution) -> Self {
        BeforeStart {
            start_ms: e.start_ms,
            requested: e.memory_in_force(),
            input: e.input_before_start(),
        }
    }
}

/// What an execution turned out to need: known only after it ran, used only for scoring.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measured {
    peak: u64,
    wall_seconds: f64,
}

/// Observations waiting to become visible, in visibility order (ties in insertion order).
#[derive(Default)]
struct Pending {
    heap: BinaryHeap<Reverse<(i64, u64, usize)>>,
    obs: BTreeMap<u64, Observation>,
    seq: u64,
}

impl Pending {
    fn push(&mut self, step: usize, o: Observation) {
        self.heap.push(Reverse((o.end_ms, self.seq, step)));
        self.obs.insert(self.seq, o);
        self.seq += 1;
    }

    /// The next observation visible at `now`, if any.
    fn pop_visible(&mut self, now: i64) -> Option<(usize, Observation)> {
        let Reverse((t, id, step)) = *self.heap.peek()?;
        if t > now {
            return None;
        }
        self.heap.pop();
        self.obs.remove(&id).map(|o| (step, o))
    }
}

fn replay_one(
    scored: &[&Execution],
    steps: &[StepKey],
    policy: &mut dyn Policy,
    cfg: &EvalConfig,
) -> PolicyMetrics {
    let mut m = PolicyMetrics {
        policy: policy.name().to_string(),
        ..Default::default()
    };
    let mut visible: Vec<Vec<Observation>> = vec![Vec::new(); steps.len()];
    let mut pending = Pending::default();
    for e in scored {
        let Some(peak) = e.peak_memory_bytes else {
            continue;
        };
        let known = BeforeStart::of(e);
        let measured = Measured {
            peak,
            wall_seconds: e.wall_seconds.max(0.0),
        };
        while let Some((step, o)) = pending.pop_visible(known.start_ms) {
            visible[step].push(o);
        }
        let Ok(step) = steps.binary_search(&e.key()) else {
            continue;
        };
        let run = run_execution(&steps[step], &visible[step], &known, &measured, policy, cfg);
        for o in run.observations {
            pending.push(step, o);
        }
        m.executions += 1;
        m.reserved_gb_h += run.score.reserved_gb_h;
        m.wasted_gb_h += run.score.wasted_gb_h;
        m.oracle_gb_h += run.score.oracle_gb_h;
        m.oom_failures += run.score.oom_failures;
        m.repeated_failures += usize::from(run.score.oom_failures > 1);
        m.exhausted += run.score.exhausted;
        let s = m.by_step.entry(e.step.clone()).or_default();
        s.executions += 1;
        s.reserved_gb_h += run.score.reserved_gb_h;
        s.wasted_gb_h += run.score.wasted_gb_h;
        s.oracle_gb_h += run.score.oracle_gb_h;
        s.oom_failures += run.score.oom_failures;
        s.repeated_failures += usize::from(run.score.oom_failures > 1);
        s.exhausted += run.score.exhausted;
    }
    m
}

/// One execution's attempts: its score and the observations it leaves for later executions.
struct Run {
    score: PolicyMetrics,
    observations: Vec<Observation>,
}

/// Sizes one execution from what is known before it starts, then plays its attempts against
/// what it turned out to need.
fn run_execution(
    key: &StepKey,
    seen: &[Observation],
    known: &BeforeStart,
    measured: &Measured,
    policy: &mut dyn Policy,
    cfg: &EvalConfig,
) -> Run {
    let initial = known.requested.unwrap_or(cfg.default_memory_bytes);
    let runtime_ms = (measured.wall_seconds * 1000.0).round() as i64;
    let gb_h = |bytes: u64| bytes as f64 * measured.wall_seconds / 3600.0 / crate::units::GB;
    let mut limit = if seen.is_empty() {
        initial
    } else {
        policy.limit(key, seen, known.input, known.start_ms, initial)
    };
    let mut score = PolicyMetrics::default();
    let mut observations = Vec::new();
    let mut t = known.start_ms;
    let mut local: Option<Vec<Observation>> = None;
    let mut attempts = 1;
    while limit < measured.peak {
        score.oom_failures += 1;
        score.reserved_gb_h += gb_h(limit);
        score.wasted_gb_h += gb_h(limit);
        t = t.saturating_add(runtime_ms);
        let kill = Observation {
            end_ms: t,
            peak: None,
            limit: Some(limit),
            oom: true,
            input: known.input,
            wall_seconds: measured.wall_seconds,
        };
        observations.push(kill);
        let own = local.get_or_insert_with(|| seen.to_vec());
        own.push(kill);
        if attempts >= cfg.max_attempts {
            score.exhausted += 1;
            limit = measured.peak;
            break;
        }
        attempts += 1;
        limit = policy.retry(key, own, known.input, t, initial, limit);
    }
    score.reserved_gb_h += gb_h(limit);
    score.wasted_gb_h += gb_h(limit - measured.peak);
    score.oracle_gb_h += gb_h(measured.peak);
    observations.push(Observation {
        end_ms: t.saturating_add(runtime_ms),
        peak: Some(measured.peak),
        limit: Some(limit),
        oom: false,
        input: known.input,
        wall_seconds: measured.wall_seconds,
    });
    Run {
        score,
        observations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::KrrLike;
    use crate::units::GIB;

    fn run(step: &str, start_s: i64, wall: f64, peak: u64) -> Execution {
        let mut e = Execution::new("wf", step, start_s * 1000, wall);
        e.peak_memory_bytes = Some(peak);
        e.memory_limit_bytes = Some(4 * GIB);
        e
    }

    #[test]
    fn sees_only_finished_runs_and_charges_failures() {
        // Run 1 finishes at 3600 s with 1 GiB; run 2 starts before that (gets the request);
        // run 3 starts after (gets 1.15 GiB) and needs 2 GiB: it fails at 1.15, 1.32, 1.52 and
        // 1.75 GiB, each retry 15 % above the last kill.
        let runs = [
            run("s", 0, 3600.0, GIB),
            run("s", 100, 3600.0, GIB),
            run("s", 4000, 3600.0, 2 * GIB),
        ];
        let refs: Vec<&Execution> = runs.iter().collect();
        // Without KRR's 100-point wait, so that it acts on the first observation.
        let krr = KrrLike {
            points_required: 0,
            ..KrrLike::default()
        };
        let mut policies: Vec<Box<dyn Policy>> = vec![Box::new(krr)];
        let (m, skipped, steps) = replay_workflow(&refs, &mut policies, &EvalConfig::default());
        assert_eq!((skipped, steps), (0, 1));
        let m = &m[0];
        assert_eq!(m.oom_failures, 4);
        let gib_gb = GIB as f64 / 1e9;
        // Oracle: 1 + 1 + 2 GiB for an hour each.
        assert!((m.oracle_gb_h - 4.0 * gib_gb).abs() < 1e-6);
        assert!(m.reserved_gb_h > m.oracle_gb_h);
        assert!(m.wasted_gb_h > 6.0 * gib_gb);
    }

    /// Records the steps a policy is asked to size, in order.
    struct Order(std::rc::Rc<std::cell::RefCell<Vec<String>>>);

    impl Policy for Order {
        fn name(&self) -> &'static str {
            "order"
        }
        fn limit(&mut self, s: &StepKey, _: &[Observation], _: Option<u64>, _: i64, i: u64) -> u64 {
            self.0.borrow_mut().push(s.step.clone());
            i
        }
        fn retry(
            &mut self,
            _: &StepKey,
            _: &[Observation],
            _: Option<u64>,
            _: i64,
            i: u64,
            k: u64,
        ) -> u64 {
            i.max(k * 2)
        }
    }

    #[test]
    fn simultaneous_starts_are_not_ordered_by_when_they_end() {
        // Both steps have a finished run; then both start at 1000 s, and `a` ends later.
        let runs = [
            run("a", 0, 10.0, GIB),
            run("b", 0, 10.0, GIB),
            run("a", 1000, 500.0, GIB),
            run("b", 1000, 5.0, GIB),
        ];
        let refs: Vec<&Execution> = runs.iter().rev().collect();
        let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut policies: Vec<Box<dyn Policy>> = vec![Box::new(Order(order.clone()))];
        replay_workflow(&refs, &mut policies, &EvalConfig::default());
        assert_eq!(*order.borrow(), ["a", "b"]);
    }
}
