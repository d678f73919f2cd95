//! Numerical tests of raking: hand-worked table, a published IPF example,
//! agreement with the row-by-row reference, convergence, trimming, errors.

mod common;

use common::{margin, max_rel_diff, TestRng};
use flowc_survey::reference::rake_rows;
use flowc_survey::synth::{synth_panel, synth_targets};
use flowc_survey::{rake, rake_into, CatVar, RakeOptions, SurveyError, Target};

/// Hand-worked 2×2 example (sex × age, 6 rows, no base weights).
///
/// Rows: (M,Y) (M,Y) (M,O) (F,Y) (F,O) (F,O), so the cell counts are
/// MY=2, MO=1, FY=1, FO=2. Targets (totals): sex M=3.5, F=8; age Y=4, O=7.5.
///
/// Sweep 1, sex: margins M=3, F=3 → factors M=3.5/3=7/6, F=8/3.
///   Row weights: MY=7/6, MO=7/6, FY=8/3, FO=8/3.
/// Sweep 1, age: margins Y = 2·7/6 + 8/3 = 5, O = 7/6 + 2·8/3 = 6.5
///   → factors Y = 4/5, O = 7.5/6.5 = 15/13.
///   Row weights: MY = 7/6·4/5 = 14/15, MO = 7/6·15/13 = 35/26,
///                FY = 8/3·4/5 = 32/15, FO = 8/3·15/13 = 40/13.
///
/// Fixed point: IPF keeps the seed's cross-product ratio
/// (MY·FO)/(MO·FY) = (2·2)/(1·1) = 4 and meets the margins. The cell totals
/// x = [[2, 1.5], [2, 6]] (row factors 1 and 2 times column factors 1 and 1.5
/// applied to the counts) have margins M=3.5, F=8, Y=4, O=7.5 and ratio
/// (2·6)/(1.5·2) = 4, so they are the solution: the row weights converge to
/// MY=1, MO=1.5, FY=2, FO=3.
#[test]
fn hand_worked_two_by_two() {
    let sex = [0u32, 0, 0, 1, 1, 1];
    let age = [0u32, 0, 1, 0, 1, 1];
    let vars = [CatVar::new("sex", &sex, 2), CatVar::new("age", &age, 2)];
    let t_sex = [3.5, 8.0];
    let t_age = [4.0, 7.5];
    let targets = [Target::Totals(&t_sex), Target::Totals(&t_age)];

    let one = RakeOptions {
        max_iterations: 1,
        ..RakeOptions::default()
    };
    let r1 = rake(&vars, &targets, None, &one).unwrap();
    let expect1 = [
        14.0 / 15.0,
        14.0 / 15.0,
        35.0 / 26.0,
        32.0 / 15.0,
        40.0 / 13.0,
        40.0 / 13.0,
    ];
    assert!(
        max_rel_diff(&r1.weights, &expect1) < 1e-14,
        "{:?}",
        r1.weights
    );
    assert_eq!(r1.report.iterations, 1);
    assert!(!r1.report.converged);

    let opts = RakeOptions {
        tolerance: 1e-12,
        ..RakeOptions::default()
    };
    let r = rake(&vars, &targets, None, &opts).unwrap();
    assert!(r.report.converged);
    let expect = [1.0, 1.0, 1.5, 2.0, 3.0, 3.0];
    assert!(max_rel_diff(&r.weights, &expect) < 1e-10, "{:?}", r.weights);
    assert_eq!(r.report.cells, 4);
    // The reference gives the same.
    let reference = rake_rows(&vars, &targets, None, &opts).unwrap();
    assert!(max_rel_diff(&reference.weights, &expect) < 1e-10);
}

/// The 4×4 example of the Wikipedia article "Iterative proportional fitting"
/// (also in the `ipfn` README), with the converged table as published in the
/// documentation of ProportionalFitting.jl (6 significant digits).
#[test]
fn wikipedia_four_by_four() {
    let seed = [
        [40.0, 30.0, 20.0, 10.0],
        [35.0, 50.0, 100.0, 75.0],
        [30.0, 80.0, 70.0, 120.0],
        [20.0, 30.0, 40.0, 50.0],
    ];
    let published = [
        [64.5585, 46.2325, 35.3843, 3.82473],
        [49.9679, 68.1594, 156.499, 25.3742],
        [56.7219, 144.428, 145.082, 53.7673],
        [28.7516, 41.18, 63.0347, 17.0337],
    ];
    // One row per cell, the seed value as base weight.
    let mut rows = Vec::new();
    let mut cols = Vec::new();
    let mut base = Vec::new();
    for (i, r) in seed.iter().enumerate() {
        for (j, &x) in r.iter().enumerate() {
            rows.push(i as u32);
            cols.push(j as u32);
            base.push(x);
        }
    }
    let vars = [CatVar::new("row", &rows, 4), CatVar::new("col", &cols, 4)];
    let row_t = [150.0, 300.0, 400.0, 150.0];
    let col_t = [200.0, 300.0, 400.0, 100.0];
    let targets = [Target::Totals(&row_t), Target::Totals(&col_t)];
    let opts = RakeOptions {
        tolerance: 1e-10,
        ..RakeOptions::default()
    };
    let r = rake(&vars, &targets, Some(&base), &opts).unwrap();
    assert!(r.report.converged);
    for (k, w) in r.weights.iter().enumerate() {
        let p = published[k / 4][k % 4];
        assert!((w - p).abs() / p < 2e-5, "cell {k}: {w} vs published {p}");
    }
}

/// A random panel: `levels.len()` variables, `n` rows, random base weights
/// (varying within cells) and random share targets.
struct RandomPanel {
    codes: Vec<Vec<u32>>,
    levels: Vec<usize>,
    base: Vec<f64>,
    targets: Vec<Vec<f64>>,
}

impl RandomPanel {
    fn new(seed: u64, n: usize, levels: &[usize]) -> Self {
        let mut rng = TestRng(seed);
        let codes: Vec<Vec<u32>> = levels
            .iter()
            .map(|&l| {
                // Unequal level probabilities; every level present.
                let p: Vec<f64> = (0..l).map(|_| 0.2 + rng.uniform()).collect();
                let s: f64 = p.iter().sum();
                let mut c: Vec<u32> = (0..n)
                    .map(|_| {
                        let mut u = rng.uniform() * s;
                        let mut k = 0;
                        while k + 1 < l && u >= p[k] {
                            u -= p[k];
                            k += 1;
                        }
                        k as u32
                    })
                    .collect();
                for (k, x) in c.iter_mut().take(l).enumerate() {
                    *x = k as u32;
                }
                c
            })
            .collect();
        let base = (0..n).map(|_| 0.5 + 1.5 * rng.uniform()).collect();
        let targets = levels
            .iter()
            .map(|&l| {
                let t: Vec<f64> = (0..l).map(|_| 0.3 + rng.uniform()).collect();
                let s: f64 = t.iter().sum();
                t.iter().map(|x| x / s).collect()
            })
            .collect();
        RandomPanel {
            codes,
            levels: levels.to_vec(),
            base,
            targets,
        }
    }

    fn vars(&self) -> Vec<CatVar<'_>> {
        self.codes
            .iter()
            .zip(&self.levels)
            .map(|(c, &l)| CatVar::new("v", c, l))
            .collect()
    }

    fn targets(&self) -> Vec<Target<'_>> {
        self.targets.iter().map(|t| Target::Shares(t)).collect()
    }
}

#[test]
fn agrees_with_reference_on_random_panels() {
    let cases: [(u64, usize, &[usize]); 5] = [
        (1, 2000, &[2, 6, 8, 4]),
        (2, 1500, &[3, 3]),
        (3, 3000, &[2, 5, 7]),
        (4, 800, &[4]),
        (5, 2500, &[2, 6, 8, 4, 3]),
    ];
    for (seed, n, levels) in cases {
        let p = RandomPanel::new(seed, n, levels);
        for base in [None, Some(p.base.as_slice())] {
            let opts = RakeOptions {
                tolerance: 1e-10,
                ..RakeOptions::default()
            };
            let fast = rake(&p.vars(), &p.targets(), base, &opts).unwrap();
            let slow = rake_rows(&p.vars(), &p.targets(), base, &opts).unwrap();
            assert!(fast.report.converged, "seed {seed}");
            assert_eq!(
                fast.report.iterations, slow.report.iterations,
                "seed {seed}"
            );
            let d = max_rel_diff(&fast.weights, &slow.weights);
            assert!(d < 1e-9, "seed {seed}: max relative difference {d}");
        }
    }
}

#[test]
fn agrees_with_reference_when_trimming() {
    for seed in 10..14u64 {
        let p = RandomPanel::new(seed, 2000, &[2, 6, 8, 4]);
        let opts = RakeOptions {
            tolerance: 1e-9,
            cap: Some(1.8),
            floor: Some(0.5),
            ..RakeOptions::default()
        };
        // Base weights vary within cells: the row-exact trimming path.
        for base in [None, Some(p.base.as_slice())] {
            let fast = rake(&p.vars(), &p.targets(), base, &opts).unwrap();
            let slow = rake_rows(&p.vars(), &p.targets(), base, &opts).unwrap();
            assert_eq!(fast.report.iterations, slow.report.iterations);
            assert_eq!(fast.report.trim_rounds, slow.report.trim_rounds);
            assert_eq!(fast.report.trimmed, slow.report.trimmed);
            assert!(
                fast.report.trimmed > 0,
                "seed {seed}: trimming not exercised"
            );
            let d = max_rel_diff(&fast.weights, &slow.weights);
            assert!(d < 1e-9, "seed {seed}: max relative difference {d}");
        }
    }
}

/// Targets near the (base-weighted) sample margins, which keep sparse tables
/// feasible.
fn near_sample_targets(p: &RandomPanel, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = TestRng(seed);
    p.codes
        .iter()
        .zip(&p.levels)
        .map(|(c, &l)| {
            let m = margin(c, l, &p.base);
            let t: Vec<f64> = m.iter().map(|x| x * (1.0 + 0.05 * rng.uniform())).collect();
            let s: f64 = t.iter().sum();
            t.iter().map(|x| x / s).collect()
        })
        .collect()
}

/// Level counts whose power-of-two padding exceeds the dense limit but whose
/// exact product does not use the mixed-radix (multiplying) dense layout.
#[test]
fn agrees_with_reference_on_mixed_radix_layout() {
    let p = RandomPanel::new(22, 20_000, &[2100, 1500]);
    const { assert!(4096 * 2048 > flowc_survey::cells::DENSE_LIMIT) };
    const { assert!(2100 * 1500 <= flowc_survey::cells::DENSE_LIMIT) };
    let targets = near_sample_targets(&p, 98);
    let t: Vec<Target<'_>> = targets.iter().map(|t| Target::Shares(t)).collect();
    let opts = RakeOptions {
        tolerance: 1e-10,
        max_iterations: 30,
        ..RakeOptions::default()
    };
    let fast = rake(&p.vars(), &t, Some(&p.base), &opts).unwrap();
    let slow = rake_rows(&p.vars(), &t, Some(&p.base), &opts).unwrap();
    assert_eq!(fast.report.iterations, slow.report.iterations);
    let d = max_rel_diff(&fast.weights, &slow.weights);
    assert!(d < 1e-9, "max relative difference {d}");
}

/// Level counts whose product exceeds the dense limit use the hashed layout.
#[test]
fn agrees_with_reference_on_hashed_layout() {
    let p = RandomPanel::new(21, 3000, &[200, 150, 160]);
    const { assert!(200 * 150 * 160 > flowc_survey::cells::DENSE_LIMIT) };
    let targets = near_sample_targets(&p, 99);
    let t: Vec<Target<'_>> = targets.iter().map(|t| Target::Shares(t)).collect();
    let opts = RakeOptions {
        tolerance: 1e-10,
        max_iterations: 40,
        ..RakeOptions::default()
    };
    let fast = rake(&p.vars(), &t, Some(&p.base), &opts).unwrap();
    let slow = rake_rows(&p.vars(), &t, Some(&p.base), &opts).unwrap();
    assert_eq!(fast.report.iterations, slow.report.iterations);
    let d = max_rel_diff(&fast.weights, &slow.weights);
    assert!(d < 1e-9, "max relative difference {d}");
}

#[test]
fn converges_to_1e6_on_synthetic_panel() {
    let panel = synth_panel(42, 20_000);
    let targets = synth_targets();
    let vars = panel.vars();
    let r = rake(
        &vars,
        &targets.targets(),
        Some(&panel.base_weight),
        &RakeOptions::default(),
    )
    .unwrap();
    assert!(r.report.converged);
    assert!(r.report.iterations > 2, "raking should have work to do");
    assert!(r.report.max_rel_error <= 1e-6);
    // Independent check of the margins from the weights.
    let total: f64 = panel.base_weight.iter().sum();
    for (var, target) in vars.iter().zip(targets.targets()) {
        let m = margin(&var.codes.to_u32_vec(), var.n_levels, &r.weights);
        for (&m, &s) in m.iter().zip(target.values()) {
            let t = s * total;
            assert!((m - t).abs() / t <= 1e-6, "{}: {m} vs {t}", var.name);
        }
    }
    let sum: f64 = r.weights.iter().sum();
    assert!((sum - total).abs() / total < 1e-9);
}

#[test]
fn trimming_bounds_are_respected() {
    let panel = synth_panel(7, 20_000);
    let targets = synth_targets();
    let vars = panel.vars();
    let plain = rake(&vars, &targets.targets(), None, &RakeOptions::default()).unwrap();
    let mean = plain.weights.iter().sum::<f64>() / plain.weights.len() as f64;
    let max_ratio = plain.weights.iter().fold(0.0f64, |a, &w| a.max(w)) / mean;
    let min_ratio = plain.weights.iter().fold(f64::INFINITY, |a, &w| a.min(w)) / mean;
    let (cap, floor) = (
        1.0 + 0.7 * (max_ratio - 1.0),
        min_ratio + 0.3 * (1.0 - min_ratio),
    );
    assert!(cap > 1.0 && floor < 1.0);
    for base in [None, Some(panel.base_weight.as_slice())] {
        let opts = RakeOptions {
            cap: Some(cap),
            floor: Some(floor),
            ..RakeOptions::default()
        };
        let r = rake(&vars, &targets.targets(), base, &opts).unwrap();
        assert!(r.report.converged, "{:?}", r.report);
        assert!(r.report.trimmed > 0);
        assert!(r.report.trim_rounds > 0);
        let (lo, hi) = r.report.weight_bounds.unwrap();
        let mean = r.weights.iter().sum::<f64>() / r.weights.len() as f64;
        assert!((lo - floor * mean).abs() < 1e-9 * mean);
        assert!((hi - cap * mean).abs() < 1e-9 * mean);
        for &w in &r.weights {
            assert!(
                w <= hi * (1.0 + 1e-6) && w >= lo * (1.0 - 1e-6),
                "{w} outside [{lo}, {hi}]"
            );
        }
        assert!(r.report.max_rel_error <= 1e-6);
    }
}

#[test]
fn infeasible_trimming_is_reported_not_hidden() {
    let panel = synth_panel(3, 5_000);
    let targets = synth_targets();
    let opts = RakeOptions {
        cap: Some(1.0),
        floor: Some(1.0),
        max_trim_rounds: 5,
        ..RakeOptions::default()
    };
    let r = rake(&panel.vars(), &targets.targets(), None, &opts).unwrap();
    assert!(!r.report.converged);
    assert_eq!(r.report.trim_rounds, 5);
}

#[test]
fn totals_and_shares_mix() {
    let sex = [0, 0, 1, 1, 1];
    let age = [0u32, 1, 0, 1, 1];
    let vars = [CatVar::new("sex", &sex, 2), CatVar::new("age", &age, 2)];
    let t_sex = [0.5, 0.5];
    let t_age = [40.0, 60.0];
    let r = rake(
        &vars,
        &[Target::Shares(&t_sex), Target::Totals(&t_age)],
        None,
        &RakeOptions::default(),
    )
    .unwrap();
    // Shares are scaled to the totals' sum (100), not to the 5 sample rows.
    assert!((r.report.target_total - 100.0).abs() < 1e-12);
    let m = margin(&sex, 2, &r.weights);
    assert!((m[0] - 50.0).abs() < 1e-4 && (m[1] - 50.0).abs() < 1e-4);
}

#[test]
fn rake_is_reproducible_and_rake_into_matches() {
    let panel = synth_panel(11, 10_000);
    let targets = synth_targets();
    let opts = RakeOptions::default();
    let a = rake(
        &panel.vars(),
        &targets.targets(),
        Some(&panel.base_weight),
        &opts,
    )
    .unwrap();
    let b = rake(
        &panel.vars(),
        &targets.targets(),
        Some(&panel.base_weight),
        &opts,
    )
    .unwrap();
    assert_eq!(a, b);
    let mut out = vec![0.0; panel.len()];
    let report = rake_into(
        &panel.vars(),
        &targets.targets(),
        Some(&panel.base_weight),
        &opts,
        &mut out,
    )
    .unwrap();
    assert_eq!(report, a.report);
    assert!(out
        .iter()
        .zip(&a.weights)
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

/// Zero base weights stay zero and are ignored by trimming.
#[test]
fn zero_base_weights_stay_zero() {
    let p = RandomPanel::new(31, 1000, &[2, 3]);
    let mut base = p.base.clone();
    for w in base.iter_mut().step_by(7) {
        *w = 0.0;
    }
    let opts = RakeOptions {
        cap: Some(1.6),
        floor: Some(0.6),
        ..RakeOptions::default()
    };
    let fast = rake(&p.vars(), &p.targets(), Some(&base), &opts).unwrap();
    let slow = rake_rows(&p.vars(), &p.targets(), Some(&base), &opts).unwrap();
    for (k, w) in fast.weights.iter().enumerate() {
        if k % 7 == 0 {
            assert_eq!(*w, 0.0);
        }
    }
    assert!(max_rel_diff(&fast.weights, &slow.weights) < 1e-9);
}

// ---- errors -------------------------------------------------------------

const SEX: [u32; 6] = [0, 0, 0, 1, 1, 1];
const AGE: [u32; 6] = [0, 1, 2, 0, 1, 2];
const SEX_LABELS: [&str; 2] = ["male", "female"];
const AGE_LABELS: [&str; 3] = ["young", "middle", "old"];

fn small_vars<'a>(sex: &'a [u32], age: &'a [u32]) -> [CatVar<'a>; 2] {
    [
        CatVar::new("sex", sex, 2).with_labels(&SEX_LABELS),
        CatVar::new("age", age, 3).with_labels(&AGE_LABELS),
    ]
}

fn rake_err(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    base: Option<&[f64]>,
    opts: &RakeOptions,
) -> SurveyError {
    let fast = rake(vars, targets, base, opts).unwrap_err();
    let slow = rake_rows(vars, targets, base, opts).unwrap_err();
    assert_eq!(fast.code(), slow.code(), "{fast} / {slow}");
    fast
}

const T_SEX: [f64; 2] = [0.5, 0.5];
const T_AGE: [f64; 3] = [0.3, 0.3, 0.4];

#[test]
fn error_length_mismatch() {
    let vars = small_vars(&SEX, &AGE);
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    let e = rake_err(&vars, &t, Some(&[1.0; 5]), &RakeOptions::default());
    assert_eq!(e.code(), "S001");
    assert!(e.to_string().contains("base weights"), "{e}");
    let short = [0u32, 1];
    let vars = small_vars(&SEX, &short);
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S001");
    assert!(e.to_string().contains("'age'"), "{e}");
    let vars = small_vars(&SEX, &AGE);
    let e = rake_err(&vars, &t[..1], None, &RakeOptions::default());
    assert_eq!(e.code(), "S001");
}

#[test]
fn error_level_out_of_range() {
    let age = [0, 1, 2, 0, 3, 2];
    let vars = small_vars(&SEX, &age);
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(
        e,
        SurveyError::LevelOutOfRange {
            variable: "age".into(),
            row: 4,
            code: 3,
            n_levels: 3
        }
    );
    assert!(e.to_string().starts_with("S002: variable 'age'"), "{e}");
}

#[test]
fn error_invalid_weight() {
    let vars = small_vars(&SEX, &AGE);
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let base = [1.0, 1.0, bad, 1.0, 1.0, 1.0];
        let e = rake_err(&vars, &t, Some(&base), &RakeOptions::default());
        assert_eq!(e.code(), "S003");
        assert!(
            matches!(e, SurveyError::InvalidWeight { row: 2, .. }),
            "{e}"
        );
    }
}

#[test]
fn error_invalid_target() {
    let vars = small_vars(&SEX, &AGE);
    for bad in [-0.1, f64::NAN] {
        let t_age = [0.3, bad, 0.4];
        let t = [Target::Shares(&T_SEX), Target::Shares(&t_age)];
        let e = rake_err(&vars, &t, None, &RakeOptions::default());
        assert_eq!(e.code(), "S004");
        assert!(
            e.to_string().contains("'age'") && e.to_string().contains("middle"),
            "{e}"
        );
    }
    let zero = [0.0, 0.0];
    let t = [Target::Totals(&zero), Target::Shares(&T_AGE)];
    assert_eq!(
        rake_err(&vars, &t, None, &RakeOptions::default()).code(),
        "S004"
    );
}

#[test]
fn error_target_level_count() {
    let vars = small_vars(&SEX, &AGE);
    let t_age = [0.5, 0.5];
    let t = [Target::Shares(&T_SEX), Target::Shares(&t_age)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(
        e,
        SurveyError::TargetLevelCount {
            variable: "age".into(),
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn error_shares_do_not_sum_to_one() {
    let vars = small_vars(&SEX, &AGE);
    let t_age = [0.3, 0.3, 0.3];
    let t = [Target::Shares(&T_SEX), Target::Shares(&t_age)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S006");
    assert!(
        e.to_string().contains("'age'") && e.to_string().contains("0.9"),
        "{e}"
    );
    // A looser tolerance accepts rounded published shares.
    let opts = RakeOptions {
        total_tolerance: 0.15,
        ..RakeOptions::default()
    };
    assert!(rake(&vars, &t, None, &opts).is_ok());
}

#[test]
fn error_inconsistent_totals() {
    let vars = small_vars(&SEX, &AGE);
    let t_sex = [500.0, 500.0];
    let t_age = [300.0, 300.0, 450.0];
    let t = [Target::Totals(&t_sex), Target::Totals(&t_age)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S007");
    let msg = e.to_string();
    assert!(msg.contains("inconsistent targets"), "{msg}");
    assert!(
        msg.contains("'age' totals 1050") && msg.contains("'sex' totals 1000"),
        "{msg}"
    );
    // Within tolerance they are accepted and rescaled to the first total.
    let t_age = [300.0, 300.0, 400.0000001];
    let t = [Target::Totals(&t_sex), Target::Totals(&t_age)];
    let r = rake(&vars, &t, None, &RakeOptions::default()).unwrap();
    assert!(r.report.converged);
    assert_eq!(r.report.target_total, 1000.0);
}

#[test]
fn error_empty_level() {
    // No sample row is 'old' but the target asks for 40 %.
    let age = [0, 1, 1, 0, 1, 0];
    let vars = small_vars(&SEX, &age);
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S008");
    let msg = e.to_string();
    assert!(
        msg.contains("empty cell") && msg.contains("'age' level 'old'"),
        "{msg}"
    );
    // Rows present only with zero weight are empty too.
    let base = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    let e = rake_err(
        &small_vars(&SEX, &AGE),
        &t,
        Some(&base),
        &RakeOptions::default(),
    );
    assert_eq!(e.code(), "S008");
}

#[test]
fn error_missing_target() {
    let vars = small_vars(&SEX, &AGE);
    let t_age = [0.5, 0.5, 0.0];
    let t = [Target::Shares(&T_SEX), Target::Shares(&t_age)];
    let e = rake_err(&vars, &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S009");
    assert!(e.to_string().contains("'age' level 'old'"), "{e}");
}

#[test]
fn error_no_data() {
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    let e = rake_err(&small_vars(&[], &[]), &t, None, &RakeOptions::default());
    assert_eq!(e.code(), "S010");
    let e = rake_err(
        &small_vars(&SEX, &AGE),
        &t,
        Some(&[0.0; 6]),
        &RakeOptions::default(),
    );
    assert_eq!(e.code(), "S010");
    let e = rake(&[], &[], None, &RakeOptions::default()).unwrap_err();
    assert_eq!(e.code(), "S010");
}

#[test]
fn error_invalid_option() {
    let vars = small_vars(&SEX, &AGE);
    let t = [Target::Shares(&T_SEX), Target::Shares(&T_AGE)];
    let bad = [
        RakeOptions {
            tolerance: 0.0,
            ..RakeOptions::default()
        },
        RakeOptions {
            max_iterations: 0,
            ..RakeOptions::default()
        },
        RakeOptions {
            cap: Some(0.5),
            ..RakeOptions::default()
        },
        RakeOptions {
            floor: Some(1.5),
            ..RakeOptions::default()
        },
        RakeOptions {
            total_tolerance: f64::NAN,
            ..RakeOptions::default()
        },
    ];
    for opts in bad {
        assert_eq!(rake_err(&vars, &t, None, &opts).code(), "S011");
    }
}

#[test]
fn error_out_of_range_on_hashed_layout() {
    let a: Vec<u32> = (0..100).map(|i| i % 3000).collect();
    let mut b: Vec<u32> = (0..100).map(|i| (i * 7) % 3000).collect();
    b[57] = 5000;
    let vars = [CatVar::new("a", &a, 3000), CatVar::new("b", &b, 3000)];
    let ta = vec![1.0; 3000];
    let t = [Target::Totals(&ta), Target::Totals(&ta)];
    let e = rake(&vars, &t, None, &RakeOptions::default()).unwrap_err();
    assert!(
        matches!(e, SurveyError::LevelOutOfRange { row: 57, .. }),
        "{e}"
    );
}

/// The four variables of `panel` with their codes narrowed to `u8` and `u16`.
struct Narrow {
    bytes: Vec<Vec<u8>>,
    halves: Vec<Vec<u16>>,
}

impl Narrow {
    fn of(vars: &[CatVar<'_>]) -> Narrow {
        let wide: Vec<Vec<u32>> = vars.iter().map(|v| v.codes.to_u32_vec()).collect();
        Narrow {
            bytes: wide
                .iter()
                .map(|c| c.iter().map(|&x| u8::try_from(x).unwrap()).collect())
                .collect(),
            halves: wide
                .iter()
                .map(|c| c.iter().map(|&x| u16::try_from(x).unwrap()).collect())
                .collect(),
        }
    }
}

#[test]
fn one_and_two_byte_codes_rake_to_the_same_weights_as_four_byte_ones() {
    let panel = synth_panel(9, 100_003);
    let targets = synth_targets();
    let wide = panel.vars();
    let narrow = Narrow::of(&wide);
    let bytes: Vec<CatVar<'_>> = wide
        .iter()
        .zip(&narrow.bytes)
        .map(|(v, c)| CatVar::new(v.name, c, v.n_levels))
        .collect();
    let halves: Vec<CatVar<'_>> = wide
        .iter()
        .zip(&narrow.halves)
        .map(|(v, c)| CatVar::new(v.name, c, v.n_levels))
        .collect();
    // Mixed widths in one group of four: widened a block at a time.
    let mixed = vec![bytes[0], halves[1], wide[2], bytes[3]];
    let opts = RakeOptions {
        cap: Some(3.0),
        ..RakeOptions::default()
    };
    let base = Some(panel.base_weight.as_slice());
    let expected = rake(&wide, &targets.targets(), base, &opts).unwrap();
    assert!(expected.report.converged && expected.report.iterations > 2);
    for vars in [&bytes, &halves, &mixed] {
        let got = rake(vars, &targets.targets(), base, &opts).unwrap();
        let same = got
            .weights
            .iter()
            .zip(&expected.weights)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "the same weights, bit for bit");
        assert_eq!(got.report, expected.report);
    }
}

#[test]
fn an_out_of_range_one_byte_code_is_reported_at_its_row() {
    let panel = synth_panel(3, 70_000);
    let targets = synth_targets();
    let mut narrow = Narrow::of(&panel.vars());
    narrow.bytes[2][65_537] = 8; // region has 8 levels
    let vars: Vec<CatVar<'_>> = panel
        .vars()
        .iter()
        .zip(&narrow.bytes)
        .map(|(v, c)| CatVar::new(v.name, c, v.n_levels))
        .collect();
    let e = rake(&vars, &targets.targets(), None, &RakeOptions::default()).unwrap_err();
    assert_eq!(
        e,
        SurveyError::LevelOutOfRange {
            variable: "region".into(),
            row: 65_537,
            code: 8,
            n_levels: 8
        }
    );
}
