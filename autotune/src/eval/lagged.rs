//! A baseline as it reaches pods: VPA's recommender recomputes its recommendations once per
//! loop (`--recommender-interval`, 1 minute by default) and the admission controller gives a new
//! pod the last one computed, so a pod that starts within a loop of another pod's end does not
//! see it. KRR is a command someone runs; the replay runs it as often as flowc's job. A
//! [`Lagged`] policy sizes a run from the observations that ended before the last loop
//! started, as [`super::Cadence::Periodic`] does for flowc; a retry still sees everything
//! (the replay's retry favours the baselines, as before).

use super::{Cadence, Policy};
use crate::history::StepKey;
use crate::model::Observation;

/// VPA's `--recommender-interval` default, minutes.
pub const VPA_RECOMMENDER_INTERVAL_MINUTES: u32 = 1;

/// A policy that sees what had ended before its last loop started.
pub struct Lagged {
    inner: Box<dyn Policy>,
    loop_every: Cadence,
}

impl Lagged {
    /// `inner`, recomputed every `minutes` minutes (0: before every run).
    pub fn every(inner: Box<dyn Policy>, minutes: u32) -> Box<dyn Policy> {
        if minutes == 0 {
            return inner;
        }
        Box::new(Lagged {
            inner,
            loop_every: Cadence::Periodic { minutes },
        })
    }
}

impl Policy for Lagged {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn limit(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now_ms: i64,
        initial: u64,
    ) -> u64 {
        let before = self
            .loop_every
            .tuning_at(now_ms)
            .map_or(i64::MAX, |(_, before)| before);
        // Observations arrive in visibility order, so the prefix is what had ended.
        let seen = &obs[..obs.partition_point(|o| o.end_ms <= before)];
        if seen.is_empty() {
            return initial;
        }
        self.inner.limit(step, seen, input, now_ms, initial)
    }

    fn retry(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now_ms: i64,
        initial: u64,
        killed: u64,
    ) -> u64 {
        self.inner.retry(step, obs, input, now_ms, initial, killed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baselines::VpaLike;
    use crate::units::MIB;

    #[test]
    fn a_run_ended_in_the_current_loop_is_not_seen() {
        let obs = [Observation {
            end_ms: 61_000,
            peak: Some(600 * MIB),
            limit: Some(4096 * MIB),
            oom: false,
            input: None,
            wall_seconds: 60.0,
        }];
        let key = StepKey::new("p", "s");
        let mut p = Lagged::every(Box::new(VpaLike::default()), 1);
        // Ended at 1:01; the loop in force at 2:30 started at 1:00.
        assert_eq!(p.limit(&key, &obs, None, 150_000, 4096 * MIB), 4096 * MIB);
        // At 3:00 the loop that started at 2:00 saw it.
        assert!(p.limit(&key, &obs, None, 180_000, 4096 * MIB) < 1024 * MIB);
    }
}
