//! flowc as users get it: the limits a build from the lock file sets, re-tuned at the nightly
//! job's cadence (or by a job every few minutes that writes the values into a ConfigMap which
//! each step reads when it starts), with the lock file's input-scaling and retry rules.
//!
//! At each tuning the policy writes, per step, what `flowc autotune --write` writes: the
//! static limit ([`crate::model::decide_memory`] without an input), the input-scaling rule when
//! one was fitted ([`LockedRule::scaling`]), and the retry rule (the first retry's limit for a
//! kill at the static limit, then the bump). Between tunings nothing moves: a run gets the
//! locked limit (scaled by its input when the rule and an input known before the start exist),
//! and an OOM-killed attempt gets the retry rule applied to the killed limit, the same rule the
//! local runner and Argo's `podSpecPatch` apply. With no tuning yet, a step keeps the memory
//! the trace requested.

use super::Policy;
use crate::history::StepKey;
use crate::model::{
    decide_memory, round_up_mib, InputScaling, Observation, RetryRule, TunerConfig,
};
use std::collections::BTreeMap;

/// How often the lock file is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    /// The tuner is asked before every run, and its retry is computed after each kill (the
    /// replay of earlier versions; no lock file could do this).
    Live,
    /// A job starts every `minutes` minutes (at multiples of the period in trace time), tunes
    /// on the runs that ended before it started and writes the values into a ConfigMap, which is
    /// in force from the next period's start (the job has a whole period to read, tune and
    /// apply). Each step reads the ConfigMap when it starts (`flowc build --target argo
    /// --memory-from-configmap`), so a run sees values tuned on runs that ended at least one
    /// period and at most two periods before it started.
    Periodic {
        /// The job's period, minutes (at least 1).
        minutes: u32,
    },
    /// The lock file is rewritten once per day of trace time (00:00 UTC), from the runs that
    /// ended before.
    Nightly,
}

/// The period of the ConfigMap job the replay scores by default, minutes.
pub const DEFAULT_PERIOD_MINUTES: u32 = 1;

impl Cadence {
    /// The label in tables.
    pub fn label(self) -> String {
        match self {
            Cadence::Live => "tuner asked before every run (no lock file)".to_string(),
            Cadence::Periodic { minutes } => {
                let every = if minutes == 1 {
                    "minute".to_string()
                } else {
                    format!("{minutes} minutes")
                };
                format!(
                    "lock values re-tuned every {every} into a ConfigMap that each step reads \
                     when it starts (tuned on runs that ended one to two periods before)"
                )
            }
            Cadence::Nightly => {
                "lock file rewritten nightly (once per day of trace time)".to_string()
            }
        }
    }

    /// The ConfigMap job's cadence with the default period.
    pub fn periodic() -> Self {
        Cadence::Periodic {
            minutes: DEFAULT_PERIOD_MINUTES,
        }
    }

    /// The tuning in force for a run starting at `now_ms`: its epoch and the time before which
    /// the runs it was tuned on had ended (`None` for [`Cadence::Live`]).
    pub fn tuning_at(self, now_ms: i64) -> Option<(i64, i64)> {
        match self {
            Cadence::Live => None,
            Cadence::Nightly => {
                let day = now_ms.div_euclid(DAY_MS);
                Some((day, day * DAY_MS))
            }
            Cadence::Periodic { minutes } => {
                let period = i64::from(minutes.max(1)) * 60_000;
                // The job that started one period before the current one.
                let job = now_ms.div_euclid(period) - 1;
                Some((job, job * period))
            }
        }
    }
}

/// What the lock file holds for one step's memory.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedRule {
    /// The static limit (and request), bytes.
    pub limit: u64,
    /// The input-scaling rule, for runners that know the input size before the start.
    pub scaling: Option<InputScaling>,
    /// The retry rule.
    pub retry: RetryRule,
}

/// The limit for a run with `input` bytes known before the start, under a locked rule: the
/// scaled value inside the input range the rule was fitted on (never above its cap), growing
/// in proportion to the input beyond it; the static limit when the input is unknown. This is
/// what the local runner computes from the lock file (`MemoryScaling::limit_for` in the
/// compiler's plan).
pub fn locked_limit(rule: &LockedRule, input: Option<u64>) -> u64 {
    match (&rule.scaling, input.filter(|x| *x > 0)) {
        (Some(s), Some(x)) => {
            let x = x as f64;
            let over = (x / s.max_input_bytes.max(1) as f64).max(1.0);
            let bytes = (s.scaled(x)).min(s.cap_bytes as f64 * over);
            round_up_mib(bytes)
        }
        _ => rule.limit,
    }
}

/// The lock file as of one tuning.
#[derive(Debug, Clone)]
struct Locked {
    /// Tuning epoch: the job's period ([`Cadence::Periodic`]) or the day ([`Cadence::Nightly`]).
    epoch: i64,
    /// The step's rule, `None` while no run has ended.
    rule: Option<LockedRule>,
    /// The observations the rule was tuned on (to compute the first retry on demand).
    tuned_on: usize,
}

/// flowc deployed through the lock file at a cadence.
#[derive(Debug)]
pub struct DeployedPolicy {
    /// Settings.
    pub config: TunerConfig,
    /// When the lock file is rewritten.
    pub cadence: Cadence,
    locks: BTreeMap<StepKey, Locked>,
}

const DAY_MS: i64 = 86_400_000;

impl DeployedPolicy {
    /// A policy with the given settings and cadence (not [`Cadence::Live`]).
    pub fn new(config: TunerConfig, cadence: Cadence) -> Self {
        DeployedPolicy {
            config,
            cadence,
            locks: BTreeMap::new(),
        }
    }

    /// The observations the tuning in force at `now_ms` saw: those that ended before the job
    /// (or the night's tuning) started.
    fn tuned_obs<'a>(&self, obs: &'a [Observation], now_ms: i64) -> (i64, &'a [Observation]) {
        match self.cadence.tuning_at(now_ms) {
            Some((epoch, before)) => {
                // Observations arrive in visibility order, so the prefix is what had ended.
                let cut = obs.partition_point(|o| o.end_ms <= before);
                (epoch, &obs[..cut])
            }
            None => (obs.len() as i64, obs),
        }
    }

    /// The lock in force for `step` at `now_ms`, re-tuned when its epoch changed.
    fn lock(&mut self, step: &StepKey, obs: &[Observation], now_ms: i64, initial: u64) -> &Locked {
        let (epoch, seen) = self.tuned_obs(obs, now_ms);
        let stale = self.locks.get(step).is_none_or(|l| l.epoch != epoch);
        if stale {
            let previous = self
                .locks
                .get(step)
                .and_then(|l| l.rule.as_ref().map(|r| r.limit))
                .unwrap_or(initial);
            let current =
                if seen.iter().filter(|o| o.peak.is_some()).count() < self.config.min_history {
                    initial
                } else {
                    previous
                };
            let rule = (!seen.is_empty()).then(|| {
                let d = decide_memory(seen, current, None, &self.config, None);
                LockedRule {
                    limit: d.limit,
                    scaling: d.fit.as_ref().and_then(|f| f.scaling),
                    retry: RetryRule::bump(&self.config),
                }
            });
            self.locks.insert(
                step.clone(),
                Locked {
                    epoch,
                    rule,
                    tuned_on: seen.len(),
                },
            );
        }
        &self.locks[step]
    }
}

impl Policy for DeployedPolicy {
    fn name(&self) -> &'static str {
        "flowc"
    }

    fn limit(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now_ms: i64,
        initial: u64,
    ) -> u64 {
        match &self.lock(step, obs, now_ms, initial).rule {
            Some(rule) => locked_limit(rule, input),
            None => initial,
        }
    }

    fn retry(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        _input: Option<u64>,
        _now_ms: i64,
        initial: u64,
        killed: u64,
    ) -> u64 {
        // The kill does not re-tune the lock: the rule in force at the run's start applies.
        let Some(locked) = self.locks.get(step) else {
            return RetryRule::bump(&self.config).after(killed);
        };
        let tuned_on = locked.tuned_on.min(obs.len());
        let Some(rule) = locked.rule.clone() else {
            return RetryRule::bump(&self.config).after(killed);
        };
        let mut retry = rule.retry;
        if retry.first == 0 {
            // The tuner's first retry for a kill at the static limit, as `flowc autotune`
            // writes it into the lock file.
            retry = RetryRule::for_limit(&obs[..tuned_on], rule.limit, initial, &self.config);
            if let Some(l) = self.locks.get_mut(step) {
                if let Some(r) = l.rule.as_mut() {
                    r.retry = retry;
                }
            }
        }
        retry.after(killed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MIB;

    fn ok(end_ms: i64, peak: u64) -> Observation {
        Observation {
            end_ms,
            peak: Some(peak),
            limit: Some(4096 * MIB),
            oom: false,
            input: None,
            wall_seconds: 60.0,
        }
    }

    #[test]
    fn the_retry_rule_climbs_from_the_first_retry() {
        let r = RetryRule {
            first: 963 * MIB,
            factor: 1.4,
            min_step: 100 * MIB,
        };
        assert_eq!(r.after(558 * MIB), 963 * MIB);
        assert_eq!(r.after(963 * MIB), round_up_mib(963.0 * 1.4 * MIB as f64));
        assert_eq!(r.after(100 * MIB), 963 * MIB);
        let ladder = r.ladder(558 * MIB, 3);
        assert_eq!(ladder.len(), 4);
        assert_eq!(ladder[1], 963 * MIB);
        assert!(ladder[3] > ladder[2]);
    }

    #[test]
    fn nightly_lock_moves_only_at_midnight() {
        let mut p = DeployedPolicy::new(TunerConfig::default(), Cadence::Nightly);
        let key = StepKey::new("p", "s");
        // Thirty runs of 500 MiB that ended on day 1.
        let obs: Vec<Observation> = (0..30)
            .map(|i| ok(DAY_MS + (i + 1) * 1000, 500 * MIB))
            .collect();
        // Still day 1: the lock was written at its midnight, before any run ended.
        assert_eq!(
            p.limit(&key, &obs, None, DAY_MS + 40_000, 4096 * MIB),
            4096 * MIB
        );
        // Day 2: tuned on all thirty.
        let l = p.limit(&key, &obs, None, 2 * DAY_MS + 1, 4096 * MIB);
        assert!(l < 1024 * MIB && l > 500 * MIB, "{}", l / MIB);
        // Every minute: not in the minute the runs ended in, nor the next (the job that started
        // then saw none of them had ended), but from the one after.
        let mut e = DeployedPolicy::new(TunerConfig::default(), Cadence::periodic());
        let period = 60_000;
        assert_eq!(
            e.limit(&key, &obs, None, DAY_MS + period + 1, 4096 * MIB),
            4096 * MIB
        );
        assert_eq!(
            e.limit(&key, &obs, None, DAY_MS + 2 * period, 4096 * MIB),
            l
        );
    }

    #[test]
    fn a_periodic_job_sees_only_runs_that_ended_before_it_started() {
        let c = Cadence::Periodic { minutes: 10 };
        // A run starting at 00:25 reads the ConfigMap the 00:10 job wrote (in force from
        // 00:20), tuned on runs that ended by 00:10.
        assert_eq!(c.tuning_at(25 * 60_000), Some((1, 10 * 60_000)));
        assert_eq!(c.tuning_at(20 * 60_000), Some((1, 10 * 60_000)));
        assert_eq!(c.tuning_at(19 * 60_000), Some((0, 0)));
        assert_eq!(Cadence::Nightly.tuning_at(DAY_MS + 5), Some((1, DAY_MS)));
        assert_eq!(Cadence::Live.tuning_at(5), None);
    }
}
