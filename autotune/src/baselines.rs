//! The two rules of thumb flowc's tuner is measured against, implemented as specified.
//!
//! - **VPA-like**: the Kubernetes Vertical Pod Autoscaler's memory recommender. Peaks go into a
//!   histogram with exponential buckets (first bucket 10 MB, each 5 % wider, VPA's defaults)
//!   whose weights decay with a 24 h half-life; the limit is the end of the bucket holding the
//!   weighted P90, times 1.15. An OOM kill adds the sample max(1.2 × limit, limit + 100 MiB),
//!   and the retry gets at least that bump.
//! - **KRR-like**: Robusta KRR's simple strategy: the largest peak seen, times 1.15. An OOM kill
//!   counts as a peak at the killed limit (it needed at least that), so the retry gets 1.15 ×
//!   the limit.
//!
//! Neither has a minimum-history rule: both act on the first observation.

use crate::eval::Policy;
use crate::history::StepKey;
use crate::model::Observation;
use crate::stats::decay_weight;
use crate::units::MIB;
use std::collections::BTreeMap;

/// VPA's first bucket size, bytes.
const FIRST_BUCKET: f64 = 1e7;
/// VPA's bucket growth ratio.
const BUCKET_RATIO: f64 = 1.05;

/// VPA-like recommender.
#[derive(Debug, Clone)]
pub struct VpaLike {
    /// Half-life of sample weights, hours (24).
    pub half_life_hours: f64,
    /// Percentile (0.9).
    pub percentile: f64,
    /// Safety margin (1.15).
    pub margin: f64,
}

impl Default for VpaLike {
    fn default() -> Self {
        VpaLike {
            half_life_hours: 24.0,
            percentile: 0.9,
            margin: 1.15,
        }
    }
}

fn bucket(v: f64) -> usize {
    if v < FIRST_BUCKET {
        return 0;
    }
    ((v * (BUCKET_RATIO - 1.0) / FIRST_BUCKET + 1.0).ln() / BUCKET_RATIO.ln())
        .floor()
        .max(0.0) as usize
}

fn bucket_start(i: usize) -> f64 {
    FIRST_BUCKET * (BUCKET_RATIO.powi(i as i32) - 1.0) / (BUCKET_RATIO - 1.0)
}

/// VPA's OOM bump of a killed limit.
pub fn vpa_oom_bump(limit: u64) -> u64 {
    ((limit as f64 * 1.2).ceil() as u64).max(limit.saturating_add(100 * MIB))
}

impl VpaLike {
    /// The recommendation at `now_ms` from the observations.
    pub fn recommend(&self, obs: &[Observation], now_ms: i64) -> Option<u64> {
        let mut buckets: BTreeMap<usize, f64> = BTreeMap::new();
        let mut total = 0.0;
        for o in obs {
            let sample = match (o.oom, o.peak, o.limit) {
                (true, _, Some(limit)) => vpa_oom_bump(limit) as f64,
                (false, Some(peak), _) => peak as f64,
                _ => continue,
            };
            let w = decay_weight(now_ms - o.end_ms, self.half_life_hours);
            *buckets.entry(bucket(sample)).or_default() += w;
            total += w;
        }
        if total <= 0.0 {
            return None;
        }
        let mut acc = 0.0;
        for (b, w) in &buckets {
            acc += w;
            if acc >= self.percentile * total - 1e-12 * total {
                return Some((bucket_start(b + 1) * self.margin).ceil() as u64);
            }
        }
        None
    }
}

impl Policy for VpaLike {
    fn name(&self) -> &'static str {
        "VPA-like"
    }

    fn limit(
        &mut self,
        _step: &StepKey,
        obs: &[Observation],
        _input: Option<u64>,
        now_ms: i64,
        initial: u64,
    ) -> u64 {
        self.recommend(obs, now_ms).unwrap_or(initial)
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
        self.limit(step, obs, input, now_ms, initial)
            .max(vpa_oom_bump(killed))
    }
}

/// KRR-like recommender.
#[derive(Debug, Clone)]
pub struct KrrLike {
    /// Margin over the largest peak (1.15).
    pub margin: f64,
}

impl Default for KrrLike {
    fn default() -> Self {
        KrrLike { margin: 1.15 }
    }
}

impl KrrLike {
    /// The recommendation from the observations.
    pub fn recommend(&self, obs: &[Observation]) -> Option<u64> {
        let max = obs
            .iter()
            .filter_map(|o| if o.oom { o.limit } else { o.peak })
            .max()?;
        Some((max as f64 * self.margin).ceil() as u64)
    }
}

impl Policy for KrrLike {
    fn name(&self) -> &'static str {
        "KRR-like"
    }

    fn limit(
        &mut self,
        _step: &StepKey,
        obs: &[Observation],
        _input: Option<u64>,
        _now_ms: i64,
        initial: u64,
    ) -> u64 {
        self.recommend(obs).unwrap_or(initial)
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
        self.limit(step, obs, input, now_ms, initial)
            .max((killed as f64 * self.margin).ceil() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(end_ms: i64, peak: u64) -> Observation {
        Observation {
            end_ms,
            peak: Some(peak),
            limit: None,
            oom: false,
            input: None,
            wall_seconds: 1.0,
        }
    }

    #[test]
    fn buckets_are_vpa_shaped() {
        assert_eq!(bucket(0.0), 0);
        assert_eq!(bucket(FIRST_BUCKET), 1);
        let b = bucket(1e9);
        assert!(bucket_start(b) <= 1e9 && 1e9 < bucket_start(b + 1));
    }

    #[test]
    fn vpa_p90_times_margin() {
        let obs: Vec<Observation> = (0..10)
            .map(|i| ok(0, if i == 9 { 2_000_000_000 } else { 1_000_000_000 }))
            .collect();
        let r = VpaLike::default().recommend(&obs, 0).unwrap() as f64;
        assert!(r > 1.15e9 && r < 1.15e9 * 1.06, "{r}");
        let oom = Observation {
            end_ms: 0,
            peak: None,
            limit: Some(1 << 30),
            oom: true,
            input: None,
            wall_seconds: 1.0,
        };
        let mut v = VpaLike::default();
        assert!(
            v.retry(&StepKey::new("p", "s"), &[oom], None, 0, 1, 1 << 30) >= vpa_oom_bump(1 << 30)
        );
    }

    #[test]
    fn krr_max_times_margin() {
        let obs = [ok(0, 100), ok(1, 300), ok(2, 200)];
        assert_eq!(KrrLike::default().recommend(&obs), Some(345));
    }
}
