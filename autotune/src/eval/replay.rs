//! The replay simulator for one workflow.
//!
//! Time model: an execution keeps its trace start time. Its first attempt runs `runtime`; each
//! failed attempt ends (and becomes visible to later executions) `runtime` after it started, and
//! the next attempt starts then, so a run with k failures finishes at start + (k+1) × runtime.
//! A policy sees, for an execution starting at t, the observations of the same step visible by
//! t; a retry also sees the kills of its own execution.

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
    scored.sort_by(|a, b| {
        (a.start_ms, a.end_ms, &a.step, &a.task, a.attempt)
            .cmp(&(b.start_ms, b.end_ms, &b.step, &b.task, b.attempt))
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
        while let Some((step, o)) = pending.pop_visible(e.start_ms) {
            visible[step].push(o);
        }
        let Ok(step) = steps.binary_search(&e.key()) else {
            continue;
        };
        let key = &steps[step];
        let initial = e.memory_in_force().unwrap_or(cfg.default_memory_bytes);
        let runtime_ms = (e.wall_seconds * 1000.0).round().max(0.0) as i64;
        let hours = e.wall_seconds.max(0.0) / 3600.0;
        let mut limit = if visible[step].is_empty() {
            initial
        } else {
            policy.limit(key, &visible[step], e.input_bytes, e.start_ms, initial)
        };
        let mut t = e.start_ms;
        let mut local: Option<Vec<Observation>> = None;
        let mut attempts = 1;
        let mut failed_gb_h_acc = 0.0;
        let mut attempts_failed = 0;
        while limit < peak {
            m.oom_failures += 1;
            attempts_failed += 1;
            let gb_h = limit as f64 * hours / crate::units::GB;
            failed_gb_h_acc += gb_h;
            m.reserved_gb_h += gb_h;
            m.wasted_gb_h += gb_h;
            t = t.saturating_add(runtime_ms);
            let kill = Observation {
                end_ms: t,
                peak: None,
                limit: Some(limit),
                oom: true,
                input: e.input_bytes,
                wall_seconds: e.wall_seconds,
            };
            pending.push(step, kill);
            let seen = local.get_or_insert_with(|| visible[step].clone());
            seen.push(kill);
            if attempts >= cfg.max_attempts {
                limit = peak;
                break;
            }
            attempts += 1;
            limit = policy.retry(key, seen, e.input_bytes, t, initial, limit);
        }
        m.executions += 1;
        let reserved = limit as f64 * hours / crate::units::GB;
        let wasted = (limit - peak) as f64 * hours / crate::units::GB;
        let failed_gb_h = failed_gb_h_acc;
        m.reserved_gb_h += reserved;
        m.wasted_gb_h += wasted;
        m.oracle_gb_h += peak as f64 * hours / crate::units::GB;
        let s = m.by_step.entry(e.step.clone()).or_default();
        s.executions += 1;
        s.reserved_gb_h += reserved + failed_gb_h;
        s.wasted_gb_h += wasted + failed_gb_h;
        s.oracle_gb_h += peak as f64 * hours / crate::units::GB;
        s.oom_failures += attempts_failed;
        let done = Observation {
            end_ms: t.saturating_add(runtime_ms),
            peak: Some(peak),
            limit: Some(limit),
            oom: false,
            input: e.input_bytes,
            wall_seconds: e.wall_seconds,
        };
        pending.push(step, done);
    }
    m
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
        let mut policies: Vec<Box<dyn Policy>> = vec![Box::new(KrrLike::default())];
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
}
