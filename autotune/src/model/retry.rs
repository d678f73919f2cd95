//! The retry rule a lock file carries: where the retry of an OOM-killed attempt goes, without
//! asking the tuner again. The local runner and Argo's `podSpecPatch` apply it; the replay of
//! the deployed behaviour ([`crate::eval::deployed`]) scores it.

use super::{retry_limit, round_up_mib, Observation, TunerConfig};
use serde::Serialize;

/// An attempt killed at `k` bytes is retried at max(`first`, `factor` × k, k + `min_step`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RetryRule {
    /// The first retry's limit after a kill at the static limit, bytes.
    pub first: u64,
    /// Multiplier over the killed limit.
    pub factor: f64,
    /// Smallest step over the killed limit, bytes.
    pub min_step: u64,
}

impl RetryRule {
    /// The rule for a step whose static limit is `limit`, tuned on `obs`: its first retry is
    /// the tuner's retry for a kill at `limit` ([`retry_limit`]: above a distinct upper cluster
    /// at once), then the bump of `cfg`.
    pub fn for_limit(obs: &[Observation], limit: u64, initial: u64, cfg: &TunerConfig) -> Self {
        let mut seen = obs.to_vec();
        seen.push(Observation {
            end_ms: obs.last().map_or(0, |o| o.end_ms),
            peak: None,
            limit: Some(limit),
            oom: true,
            input: None,
            wall_seconds: 0.0,
        });
        let current = limit.max(initial.min(limit));
        RetryRule {
            first: retry_limit(&seen, current, None, limit, cfg),
            factor: cfg.oom_bump,
            min_step: cfg.oom_bump_min_bytes,
        }
    }

    /// The rule without a tuned first retry: the bump alone.
    pub fn bump(cfg: &TunerConfig) -> Self {
        RetryRule {
            first: 0,
            factor: cfg.oom_bump,
            min_step: cfg.oom_bump_min_bytes,
        }
    }

    /// The limit after a kill at `killed`.
    pub fn after(&self, killed: u64) -> u64 {
        let bumped = (killed as f64 * self.factor).max(killed.saturating_add(self.min_step) as f64);
        self.first.max(round_up_mib(bumped))
    }

    /// The limits of attempts 0..=`retries` of a run whose first attempt gets `limit` (what
    /// Argo's `podSpecPatch` lists by `{{retries}}`).
    pub fn ladder(&self, limit: u64, retries: usize) -> Vec<u64> {
        let mut out = vec![limit];
        for _ in 0..retries {
            let last = *out.last().unwrap_or(&limit);
            out.push(self.after(last));
        }
        out
    }
}
