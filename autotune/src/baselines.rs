//! The two recommenders flowc's tuner is measured against, with their real defaults.
//!
//! - **VPA-like**: the Kubernetes Vertical Pod Autoscaler's recommender (`vertical-pod-autoscaler/
//!   pkg/recommender`). Peaks go into a histogram with exponential buckets (first bucket 10 MB,
//!   each 5 % wider) whose weights decay with a 24 h half-life
//!   (`memory-histogram-decay-half-life`); the target is the end of the bucket holding the
//!   weighted P90 (`target-memory-percentile`), plus 15 % (`recommendation-margin-fraction`),
//!   and at least 250 MiB (`pod-recommendation-min-memory-mb`, applied after the margin). An
//!   OOM kill adds the sample max(1.2 × limit, limit + 100 MiB) (`oom-bump-up-ratio`,
//!   `oom-min-bump-up-bytes`).
//! - **KRR-like**: Robusta KRR's `simple` strategy: the largest peak seen in the last 14 days
//!   (`history_duration` 336 h), plus 15 % (`memory_buffer_percentage`), rounded up to a MiB and
//!   at least 100 MiB (`--mem-min 100`); no recommendation (the requested limit stays) until the
//!   step's pods have 100 Prometheus points (`points_required`), one per 1.25 minutes of runtime
//!   (`timeframe_duration`). OOM data is off by default (`use_oomkill_data`), but a killed pod's
//!   working set reached its limit before the kill, so a kill counts as a peak at the killed
//!   limit.
//!
//! Both act from the first observation otherwise. The replay gives both a retry after a kill of
//! at least their own bump of the killed limit (VPA: its OOM sample; KRR: 1.15 × the limit):
//! neither tool retries a pod, and a runner that asked them again at once would get a limit
//! that one kill may not have moved, so this favours the baselines. `docs/autotune.md` lists
//! the sources. The replay scores memory only; the CPU defaults (VPA: P90 + 15 %, at least
//! 25 millicores; KRR: P95, at least 10 millicores) are not used.

use crate::history::StepKey;
use crate::model::Observation;
use crate::policy::Policy;
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
    /// Half-life of sample weights, hours (`memory-histogram-decay-half-life`, 24 h).
    pub half_life_hours: f64,
    /// Percentile (`target-memory-percentile`, 0.9).
    pub percentile: f64,
    /// Safety margin added to the percentile (`recommendation-margin-fraction`, 0.15).
    pub margin_fraction: f64,
    /// Smallest recommendation, bytes (`pod-recommendation-min-memory-mb`, 250 MiB).
    pub min_memory_bytes: u64,
    /// OOM sample ratio over the killed limit (`oom-bump-up-ratio`, 1.2).
    pub oom_bump_ratio: f64,
    /// Smallest OOM bump, bytes (`oom-min-bump-up-bytes`, 100 MiB).
    pub oom_min_bump_bytes: u64,
}

impl Default for VpaLike {
    fn default() -> Self {
        VpaLike {
            half_life_hours: 24.0,
            percentile: 0.9,
            margin_fraction: 0.15,
            min_memory_bytes: 250 * MIB,
            oom_bump_ratio: 1.2,
            oom_min_bump_bytes: 100 * MIB,
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

/// VPA's OOM bump of a killed limit with its default settings: max(1.2 × limit, limit + 100 MiB).
pub fn vpa_oom_bump(limit: u64) -> u64 {
    VpaLike::default().oom_bump(limit)
}

impl VpaLike {
    /// The OOM sample for a kill at `limit`: max(ratio × limit, limit + least bump).
    pub fn oom_bump(&self, limit: u64) -> u64 {
        ((limit as f64 * self.oom_bump_ratio).ceil() as u64)
            .max(limit.saturating_add(self.oom_min_bump_bytes))
    }

    /// The recommendation at `now_ms` from the observations (None without any sample).
    pub fn recommend(&self, obs: &[Observation], now_ms: i64) -> Option<u64> {
        let mut buckets: BTreeMap<usize, f64> = BTreeMap::new();
        let mut total = 0.0;
        for o in obs {
            let sample = match (o.oom, o.peak, o.limit) {
                (true, _, Some(limit)) => self.oom_bump(limit) as f64,
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
                let target = (bucket_start(b + 1) * (1.0 + self.margin_fraction)).ceil() as u64;
                return Some(target.max(self.min_memory_bytes));
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
            .max(self.oom_bump(killed))
    }
}

/// KRR-like recommender.
#[derive(Debug, Clone)]
pub struct KrrLike {
    /// Buffer added to the largest peak (`memory_buffer_percentage`, 15 %), as a fraction.
    pub margin_fraction: f64,
    /// Smallest recommendation, bytes (`--mem-min`, 100 MiB).
    pub min_memory_bytes: u64,
    /// Prometheus points needed before recommending (`points_required`, 100).
    pub points_required: u64,
    /// Seconds of runtime per point (`timeframe_duration`, 1.25 minutes).
    pub step_seconds: f64,
    /// History used, hours (`history_duration`, 336 h = 14 days).
    pub history_hours: f64,
}

impl Default for KrrLike {
    fn default() -> Self {
        KrrLike {
            margin_fraction: 0.15,
            min_memory_bytes: 100 * MIB,
            points_required: 100,
            step_seconds: 75.0,
            history_hours: 336.0,
        }
    }
}

impl KrrLike {
    /// Points a run of `wall_seconds` leaves in Prometheus: one per step, at least one.
    fn points(&self, wall_seconds: f64) -> u64 {
        if self.step_seconds <= 0.0 || !wall_seconds.is_finite() {
            return 1;
        }
        (wall_seconds.max(0.0) / self.step_seconds).ceil().max(1.0) as u64
    }

    /// The recommendation at `now_ms` from the observations of the last `history_hours` (None
    /// while they hold fewer than `points_required` points, or no peak).
    pub fn recommend(&self, obs: &[Observation], now_ms: i64) -> Option<u64> {
        let since = now_ms.saturating_sub((self.history_hours * 3_600_000.0) as i64);
        let recent = obs.iter().filter(|o| o.end_ms >= since);
        let mut points = 0u64;
        let mut max = None;
        for o in recent {
            points = points.saturating_add(self.points(o.wall_seconds));
            let peak = if o.oom { o.limit } else { o.peak };
            max = max.max(peak);
        }
        if points < self.points_required {
            return None;
        }
        Some(self.round(max? as f64 * (1.0 + self.margin_fraction)))
    }

    /// Rounds up to a whole MiB and applies the minimum, as KRR formats its result.
    fn round(&self, bytes: f64) -> u64 {
        let mib = (bytes / MIB as f64).ceil().clamp(0.0, 1.7e13) as u64;
        (mib * MIB).max(self.min_memory_bytes)
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
            .max(self.round(killed as f64 * (1.0 + self.margin_fraction)))
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
            wall_seconds: 3600.0,
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
    fn vpa_p90_plus_margin() {
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
    fn vpa_floor_is_250_mib_after_the_margin() {
        let v = VpaLike::default();
        // A 20 MB step: P90 bucket end × 1.15 is about 25 MB, lifted to the floor.
        assert_eq!(v.recommend(&[ok(0, 20_000_000)], 0), Some(250 * MIB));
        // 300 MB is above the floor: the margin decides.
        let r = v.recommend(&[ok(0, 300_000_000)], 0).unwrap();
        assert!(r > 345_000_000 && r < 345_000_000 * 106 / 100, "{r}");
        // The OOM sample of a small limit is the 100 MiB least bump.
        assert_eq!(vpa_oom_bump(50 * MIB), 150 * MIB);
        assert_eq!(vpa_oom_bump(1000 * MIB), 1200 * MIB);
    }

    #[test]
    fn krr_max_plus_margin_rounded_with_its_floor() {
        let k = KrrLike::default();
        let obs = [
            ok(0, 400 * MIB),
            ok(1, 1000 * MIB),
            ok(2, 800 * MIB),
            ok(3, 500 * MIB),
        ];
        // 4 hours of runtime: 192 points. 1000 MiB × 1.15 = 1150 MiB.
        assert_eq!(k.recommend(&obs, 3), Some(1150 * MIB));
        // A 10 MB step (one run of 125 minutes: 100 points) gets the 100 MiB minimum.
        let long = Observation {
            wall_seconds: 7500.0,
            ..ok(0, 10_000_000)
        };
        assert_eq!(k.recommend(&[long], 0), Some(100 * MIB));
        // A kill counts as a peak at the killed limit.
        let kill = Observation {
            end_ms: 4,
            peak: None,
            limit: Some(2000 * MIB),
            oom: true,
            input: None,
            wall_seconds: 3600.0,
        };
        let mut with_kill = obs.to_vec();
        with_kill.push(kill);
        assert_eq!(k.recommend(&with_kill, 4), Some(2300 * MIB));
    }

    #[test]
    fn krr_waits_for_100_points_and_forgets_after_14_days() {
        let k = KrrLike::default();
        let short = |end_ms, peak| Observation {
            wall_seconds: 60.0,
            ..ok(end_ms, peak)
        };
        let mut obs: Vec<Observation> = (0..99).map(|i| short(i, 500 * MIB)).collect();
        assert_eq!(
            k.recommend(&obs, 100),
            None,
            "99 one-minute runs: 99 points"
        );
        let mut policy = KrrLike::default();
        let key = StepKey::new("p", "s");
        assert_eq!(policy.limit(&key, &obs, None, 100, 4 << 30), 4 << 30);
        obs.push(short(99, 500 * MIB));
        assert_eq!(k.recommend(&obs, 100), Some(575 * MIB));
        let fifteen_days = 15 * 24 * 3_600_000;
        assert_eq!(k.recommend(&obs, fifteen_days), None);
    }
}
