//! The interface between a memory policy (flowc's tuner, or a baseline such as VPA or KRR) and
//! the replay that scores it: the replay asks for a limit before each run and after each kill.

use crate::history::StepKey;
use crate::model::Observation;

/// A memory policy the replay can drive.
pub trait Policy {
    /// Display name.
    fn name(&self) -> &'static str;
    /// Limit for a run about to start, from the step's finished observations (never empty).
    fn limit(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now_ms: i64,
        initial: u64,
    ) -> u64;
    /// Limit for the retry of a run just killed at `killed` (its kill is the last observation).
    fn retry(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now_ms: i64,
        initial: u64,
        killed: u64,
    ) -> u64;
}
