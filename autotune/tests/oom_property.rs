//! Property-style test: whatever the history, the tuner never recommends a memory limit at or
//! below one that was OOM-killed for a comparable (or unknown) input while the kill is recent
//! (fewer than `kill_memory_runs` measured runs ended after it), and a retry always gets more
//! than the killed limit. Histories come from a small deterministic generator.

use flowc_autotune::model::{decide_memory, retry_limit, Observation};
use flowc_autotune::{recommend, Execution, History, Outcome, StepKey, TunerConfig};
use std::collections::BTreeMap;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const MIB: u64 = 1 << 20;

fn random_history(rng: &mut Rng) -> Vec<Observation> {
    let n = 1 + rng.below(60) as usize;
    let base = (50 + rng.below(8000)) * MIB;
    let with_input = rng.below(2) == 0;
    (0..n)
        .map(|i| {
            let input = with_input.then(|| (1 + rng.below(1000)) * MIB);
            let scale = input.map_or(1.0, |x| x as f64 / (500 * MIB) as f64);
            let peak = (base as f64 * (0.5 + rng.below(1000) as f64 / 1000.0) * scale.max(0.1))
                as u64
                + MIB;
            let oom = rng.below(6) == 0;
            let limit = if oom {
                peak.saturating_sub(rng.below(peak / 2 + 1)).max(MIB)
            } else {
                peak + rng.below(peak + 1)
            };
            Observation {
                end_ms: i as i64 * 60_000 + rng.below(3_600_000) as i64,
                peak: (!oom).then_some(peak),
                limit: Some(limit),
                oom,
                input,
                wall_seconds: 1.0 + rng.below(3600) as f64,
            }
        })
        .collect()
}

/// Whether a kill is surely recent: fewer than `kill_memory_runs` measured runs ended at or
/// after it (ties counted as newer, so the tuner's own order cannot make it older).
fn recent(obs: &[Observation], kill: &Observation, cfg: &TunerConfig) -> bool {
    let newer = obs
        .iter()
        .filter(|o| o.peak.is_some() && o.end_ms >= kill.end_ms)
        .count();
    (newer as f64) < cfg.kill_memory_runs
}

#[test]
fn never_at_or_below_an_oom_killed_limit() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cfg = TunerConfig::default();
    for case in 0..400 {
        let mut obs = random_history(&mut rng);
        obs.sort_by_key(|o| o.end_ms);
        let current = (64 + rng.below(16_000)) * MIB;
        let input = obs
            .first()
            .and_then(|o| o.input)
            .map(|_| (1 + rng.below(1000)) * MIB);
        let d = decide_memory(&obs, current, input, &cfg, None);
        for o in obs.iter().filter(|o| o.oom && recent(&obs, o, &cfg)) {
            let comparable = match (input, o.input) {
                (Some(x), Some(k)) => x as f64 >= 0.9 * k as f64,
                _ => true,
            };
            if comparable {
                let killed = o.limit.unwrap_or(0);
                assert!(
                    d.limit > killed,
                    "case {case}: limit {} not above killed {killed}",
                    d.limit
                );
            }
        }
        if let Some(kill) = obs.iter().rev().find(|o| o.oom) {
            let killed = kill.limit.unwrap_or(0);
            let r = retry_limit(&obs, current, kill.input, killed, &cfg);
            assert!(
                r > killed,
                "case {case}: retry {r} not above killed {killed}"
            );
        }
    }
}

#[test]
fn recommendations_stay_above_killed_limits() {
    let mut rng = Rng(42);
    for case in 0..100 {
        let obs = random_history(&mut rng);
        let runs: Vec<Execution> = obs
            .iter()
            .map(|o| {
                let mut e = Execution::new(
                    "p",
                    "s",
                    o.end_ms - (o.wall_seconds * 1000.0) as i64,
                    o.wall_seconds,
                );
                e.end_ms = o.end_ms;
                e.peak_memory_bytes = o.peak;
                e.memory_limit_bytes = o.limit;
                e.input_bytes = o.input;
                e.input_timing = flowc_autotune::history::InputTiming::BeforeStart;
                e.outcome = if o.oom { Outcome::Oom } else { Outcome::Ok };
                e
            })
            .collect();
        let cfg = TunerConfig::default();
        let max_killed = obs
            .iter()
            .filter(|o| o.oom && recent(&obs, o, &cfg))
            .filter_map(|o| o.limit)
            .max();
        let h = History::from_executions(runs);
        let recs = recommend(&h, &BTreeMap::new(), &cfg);
        let r = recs
            .iter()
            .find(|r| r.key == StepKey::new("p", "s"))
            .expect("a recommendation");
        if let Some(k) = max_killed {
            assert!(
                r.memory.new_limit > k,
                "case {case}: {} not above {k}",
                r.memory.new_limit
            );
        }
    }
}
