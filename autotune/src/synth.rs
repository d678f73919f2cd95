//! Synthetic stress traces: a seeded generator of workflows with a known structure, so the
//! tuner's behaviour on each shape can be asserted (not just its total on real traces).
//!
//! Every shape is one workflow named `synth-SHAPE` with the executions of a replayable history
//! (peak, runtime, start, the memory the trace requested, and an input size where the shape has
//! one). The same seed gives the same executions on every machine: the generator is a
//! SplitMix64 stream, and no clock or global state is read. `docs/autotune.md` ("Synthetic
//! stress traces") describes each shape and the behaviour the tests expect of it.
//!
//! | shape | structure |
//! |---|---|
//! | `heavy-tail` | log-normal body (500 MB) with a Pareto tail (α = 2.5) in 5 % of runs |
//! | `bimodal` | 96 % of runs at 450–550 MB, 4 % at 950–1,000 MB, nothing in the input tells them apart |
//! | `input-driven` | peak = 200 MB + 0.8 × input (±3 %), inputs from 100 MB to 10 GB, known before the start |
//! | `drifting` | peaks grow from 1 GB to 2 GB over 20 days (±3 %) |
//! | `tiny-tasks` | 4,000 tasks of 5–40 MB and 5–30 s, 200 at a time |
//! | `burst` | waves of 150 tasks starting at the same instant (nothing finished before a wave), 1 GB ± 20 % |

use crate::history::{Execution, InputTiming, Outcome};
use crate::units::GIB;

/// One shape of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// Log-normal body with a Pareto tail.
    HeavyTail,
    /// A rare, distinct upper cluster.
    Bimodal,
    /// Peak proportional to an input size known before the start.
    InputDriven,
    /// Peaks growing steadily over days.
    Drifting,
    /// Thousands of tiny, short tasks.
    TinyTasks,
    /// Waves of tasks starting together, with nothing finished before each wave.
    Burst,
}

impl Shape {
    /// Every shape, in a fixed order.
    pub const ALL: [Shape; 6] = [
        Shape::HeavyTail,
        Shape::Bimodal,
        Shape::InputDriven,
        Shape::Drifting,
        Shape::TinyTasks,
        Shape::Burst,
    ];

    /// The shape's name (`heavy-tail`, …).
    pub fn name(self) -> &'static str {
        match self {
            Shape::HeavyTail => "heavy-tail",
            Shape::Bimodal => "bimodal",
            Shape::InputDriven => "input-driven",
            Shape::Drifting => "drifting",
            Shape::TinyTasks => "tiny-tasks",
            Shape::Burst => "burst",
        }
    }

    /// The workflow name of its executions, `synth-NAME`.
    pub fn workflow(self) -> String {
        format!("synth-{}", self.name())
    }
}

/// SplitMix64: small, seeded, the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream for a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const MB: f64 = 1e6;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z: every synthetic trace starts here.
const EPOCH_MS: i64 = 1_767_225_600_000;

/// One execution of a synthetic workflow.
fn execution(shape: Shape, step: &str, i: usize, start_ms: i64, wall: f64, peak: f64) -> Execution {
    let mut e = Execution::new(&shape.workflow(), step, start_ms, wall);
    e.task = format!("{step}[{i}]");
    e.run_id = format!("{}-{}", shape.name(), i);
    e.peak_memory_bytes = Some(peak.max(MB).round() as u64);
    e.outcome = Outcome::Ok;
    e
}

/// The executions of one shape for a seed.
pub fn generate(shape: Shape, seed: u64) -> Vec<Execution> {
    // Each shape draws from its own stream, so adding a shape changes no other.
    let mut rng = Rng::new(seed ^ (shape as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    match shape {
        Shape::HeavyTail => heavy_tail(&mut rng),
        Shape::Bimodal => bimodal(&mut rng),
        Shape::InputDriven => input_driven(&mut rng),
        Shape::Drifting => drifting(&mut rng),
        Shape::TinyTasks => tiny_tasks(&mut rng),
        Shape::Burst => burst(&mut rng),
    }
}

/// Every shape for a seed, in [`Shape::ALL`] order.
pub fn generate_all(seed: u64) -> Vec<Execution> {
    Shape::ALL.iter().flat_map(|s| generate(*s, seed)).collect()
}

/// 400 runs, one every 30 minutes, 10–20 minutes each, requested 4 GiB.
fn heavy_tail(rng: &mut Rng) -> Vec<Execution> {
    (0..400)
        .map(|i| {
            let body = 500.0 * MB * (0.08 * rng.normal()).exp();
            let peak = if rng.unit() < 0.05 {
                // Pareto(α = 2.5) above the body: most tail runs are near it, a few far.
                body * (1.0 - rng.unit()).powf(-1.0 / 2.5)
            } else {
                body
            };
            let start = EPOCH_MS + i as i64 * 30 * MINUTE_MS;
            let mut e = execution(
                Shape::HeavyTail,
                "align",
                i,
                start,
                rng.range(600.0, 1200.0),
                peak,
            );
            e.memory_limit_bytes = Some(4 * GIB);
            e
        })
        .collect()
}

/// 400 runs, one every 15 minutes, 10 minutes each; every run has a 4 % chance of needing
/// twice the memory, with nothing in the input to say so. Requested 2 GiB.
fn bimodal(rng: &mut Rng) -> Vec<Execution> {
    (0..400)
        .map(|i| {
            let peak = if rng.unit() < 0.04 {
                rng.range(950.0, 1000.0) * MB
            } else {
                rng.range(450.0, 550.0) * MB
            };
            let start = EPOCH_MS + i as i64 * 15 * MINUTE_MS;
            let mut e = execution(Shape::Bimodal, "blast", i, start, 600.0, peak);
            e.memory_limit_bytes = Some(2 * GIB);
            e
        })
        .collect()
}

/// 300 runs, one an hour; the input (known before the start) ranges log-uniformly over
/// 100 MB–10 GB and the peak is 200 MB + 0.8 × input, ±3 %. Requested 16 GiB.
fn input_driven(rng: &mut Rng) -> Vec<Execution> {
    (0..300)
        .map(|i| {
            let input = (rng.range(100.0f64.ln(), 10_000.0f64.ln())).exp() * MB;
            let peak = (200.0 * MB + 0.8 * input) * (0.03 * rng.normal()).exp();
            let start = EPOCH_MS + i as i64 * 60 * MINUTE_MS;
            let wall = 60.0 + input / MB * 0.1;
            let mut e = execution(Shape::InputDriven, "dedup", i, start, wall, peak);
            e.input_bytes = Some(input.round() as u64);
            e.input_timing = InputTiming::BeforeStart;
            e.memory_limit_bytes = Some(16 * GIB);
            e
        })
        .collect()
}

/// 480 runs, one every hour for 20 days; the typical peak grows linearly from 1 GB to 2 GB,
/// ±3 %. Requested 4 GiB.
fn drifting(rng: &mut Rng) -> Vec<Execution> {
    (0..480)
        .map(|i| {
            let level = 1000.0 + 1000.0 * i as f64 / 480.0;
            let peak = level * MB * (0.03 * rng.normal()).exp();
            let start = EPOCH_MS + i as i64 * 60 * MINUTE_MS;
            let mut e = execution(Shape::Drifting, "train", i, start, 1200.0, peak);
            e.memory_limit_bytes = Some(4 * GIB);
            e
        })
        .collect()
}

/// 4,000 tasks of 5–40 MB (log-uniform) running 5–30 s, in waves of 200 starting a minute
/// apart. No requested memory (the replay's default applies, as for WfCommons traces).
fn tiny_tasks(rng: &mut Rng) -> Vec<Execution> {
    (0..4000)
        .map(|i| {
            let peak = rng.range(5.0f64.ln(), 40.0f64.ln()).exp() * MB;
            let wave = (i / 200) as i64;
            let start = EPOCH_MS + wave * MINUTE_MS + (i % 200) as i64 * 100;
            execution(
                Shape::TinyTasks,
                "count",
                i,
                start,
                rng.range(5.0, 30.0),
                peak,
            )
        })
        .collect()
}

/// Four waves of 150 tasks, a day apart; every task of a wave starts at the same instant, so
/// nothing of its wave has finished when it is sized. Peaks 1 GB ± 20 % (log-normal), runs of
/// 20–40 minutes, requested 8 GiB.
fn burst(rng: &mut Rng) -> Vec<Execution> {
    (0..600)
        .map(|i| {
            let wave = (i / 150) as i64;
            let peak = 1000.0 * MB * (0.2 * rng.normal()).exp();
            let start = EPOCH_MS + wave * DAY_MS;
            let mut e = execution(
                Shape::Burst,
                "map",
                i,
                start,
                rng.range(1200.0, 2400.0),
                peak,
            );
            e.memory_limit_bytes = Some(8 * GIB);
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_traces_and_another_seed_others() {
        let a = generate_all(7);
        assert_eq!(a, generate_all(7));
        assert_ne!(a, generate_all(8));
        assert_eq!(a.len(), 400 + 400 + 300 + 480 + 4000 + 600);
    }

    #[test]
    fn each_shape_has_its_structure() {
        let peaks = |s: Shape| -> Vec<f64> {
            generate(s, 1)
                .iter()
                .filter_map(|e| e.peak_memory_bytes)
                .map(|p| p as f64 / MB)
                .collect()
        };
        let bi = peaks(Shape::Bimodal);
        let upper = bi.iter().filter(|p| **p >= 950.0).count();
        assert!(bi.iter().all(|p| *p < 550.0 || *p >= 950.0));
        assert!((8..=28).contains(&upper), "{upper}");
        let tiny = peaks(Shape::TinyTasks);
        assert!(tiny.iter().all(|p| (5.0..=40.0).contains(p)));
        let drift = peaks(Shape::Drifting);
        assert!(drift[..48].iter().sum::<f64>() < 0.6 * drift[432..].iter().sum::<f64>());
        let burst = generate(Shape::Burst, 1);
        assert!(burst[..150].iter().all(|e| e.start_ms == burst[0].start_ms));
        assert!(generate(Shape::InputDriven, 1)
            .iter()
            .all(|e| e.input_before_start().is_some()));
    }
}
