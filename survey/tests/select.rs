//! Tests of stratified selection: allocation, kept distributions,
//! reproducibility.

use flowc_survey::synth::synth_panel;
use flowc_survey::{select_active, CatVar, Codes, SelectOptions};

fn shares(codes: Codes<'_>, n_levels: usize, rows: &[usize]) -> Vec<f64> {
    let codes = codes.to_u32_vec();
    let mut m = vec![0.0; n_levels];
    for &r in rows {
        m[codes[r] as usize] += 1.0;
    }
    let n = rows.len() as f64;
    m.iter().map(|x| x / n).collect()
}

/// Largest deviation, in rows, of a level count of the selection from its
/// proportional target `N × eligible count / eligible rows`.
fn max_unit_deviation(vars: &[CatVar<'_>], eligible: &[usize], rows: &[usize]) -> f64 {
    let big_n = rows.len() as f64;
    let mut worst: f64 = 0.0;
    for var in vars {
        let a = shares(var.codes, var.n_levels, eligible);
        let s = shares(var.codes, var.n_levels, rows);
        for (x, y) in a.iter().zip(&s) {
            worst = worst.max((x - y).abs() * big_n);
        }
    }
    worst
}

/// Stated tolerance: every level share of every variable within 0.002
/// (0.2 point) of the eligible rows' share, and its count within 2 rows of
/// the proportional target; every stratum within 1/N.
#[test]
fn selection_keeps_distributions() {
    let panel = synth_panel(17, 50_000);
    let vars = panel.vars();
    let opts = SelectOptions {
        share: 0.3,
        seed: 2024,
    };
    let sel = select_active(&vars, None, &opts).unwrap();
    assert_eq!(sel.rows.len(), 15_000);
    assert!(
        sel.rows.windows(2).all(|w| w[0] < w[1]),
        "ascending, unique"
    );
    let all: Vec<usize> = (0..panel.len()).collect();
    for var in &vars {
        let a = shares(var.codes, var.n_levels, &all);
        let s = shares(var.codes, var.n_levels, &sel.rows);
        for (x, y) in a.iter().zip(&s) {
            assert!((x - y).abs() < 0.002, "{}: {x} vs {y}", var.name);
        }
    }
    let dev = max_unit_deviation(&vars, &all, &sel.rows);
    assert!(dev < 2.0, "level count deviation {dev} rows");
    let n_sel = sel.rows.len() as f64;
    let total: usize = sel.strata.iter().map(|s| s.available).sum();
    for st in &sel.strata {
        let diff = st.selected as f64 / n_sel - st.available as f64 / total as f64;
        assert!(diff.abs() < 1.0 / n_sel, "{:?}", st);
        assert!(st.selected <= st.available);
    }
    let sum: usize = sel.strata.iter().map(|s| s.selected).sum();
    assert_eq!(sum, sel.rows.len());
}

#[test]
fn selection_among_eligible_rows() {
    let panel = synth_panel(19, 20_000);
    let vars = panel.vars();
    let opts = SelectOptions {
        share: 0.5,
        seed: 1,
    };
    let sel = select_active(&vars, Some(&panel.active), &opts).unwrap();
    let eligible: Vec<usize> = (0..panel.len()).filter(|&r| panel.active[r]).collect();
    assert_eq!(
        sel.rows.len(),
        (eligible.len() as f64 * 0.5).round() as usize
    );
    assert!(sel.rows.iter().all(|&r| panel.active[r]));
    for var in &vars {
        let a = shares(var.codes, var.n_levels, &eligible);
        let s = shares(var.codes, var.n_levels, &sel.rows);
        for (x, y) in a.iter().zip(&s) {
            assert!((x - y).abs() < 0.002, "{}: {x} vs {y}", var.name);
        }
    }
    let dev = max_unit_deviation(&vars, &eligible, &sel.rows);
    assert!(dev < 2.0, "level count deviation {dev} rows");
}

#[test]
fn selection_is_reproducible() {
    let panel = synth_panel(23, 10_000);
    let vars = panel.vars();
    let opts = SelectOptions {
        share: 0.25,
        seed: 99,
    };
    let a = select_active(&vars, None, &opts).unwrap();
    let b = select_active(&vars, None, &opts).unwrap();
    assert_eq!(a, b);
    let c = select_active(&vars, None, &SelectOptions { seed: 100, ..opts }).unwrap();
    assert_eq!(
        a.strata, c.strata,
        "the allocation does not depend on the seed"
    );
    assert_ne!(a.rows, c.rows, "the draw does");
}

/// Largest remainder by hand: strata of 5, 3 and 2 rows, share 0.5 → N = 5.
/// Quotas 2.5, 1.5, 1.0 → floors 2, 1, 1 (sum 4); remainders 0.5, 0.5, 0.
/// Both candidates have the same deficit score (their level's deficit 0.5
/// plus their remainder 0.5), and the tie goes to the larger stratum: the
/// allocation is 3, 1, 1.
#[test]
fn largest_remainder_by_hand() {
    let codes = [0u32, 0, 0, 0, 0, 1, 1, 1, 2, 2];
    let vars = [CatVar::new("g", &codes, 3)];
    let sel = select_active(
        &vars,
        None,
        &SelectOptions {
            share: 0.5,
            seed: 3,
        },
    )
    .unwrap();
    let alloc: Vec<usize> = sel.strata.iter().map(|s| s.selected).collect();
    assert_eq!(alloc, [3, 1, 1]);
    // Share 0 and 1.
    let none = select_active(
        &vars,
        None,
        &SelectOptions {
            share: 0.0,
            seed: 3,
        },
    )
    .unwrap();
    assert!(none.rows.is_empty());
    let all = select_active(
        &vars,
        None,
        &SelectOptions {
            share: 1.0,
            seed: 3,
        },
    )
    .unwrap();
    assert_eq!(all.rows, (0..10).collect::<Vec<_>>());
}

#[test]
fn selection_errors() {
    let codes = [0u32, 1, 2];
    let vars = [CatVar::new("g", &codes, 2)];
    let e = select_active(
        &vars,
        None,
        &SelectOptions {
            share: 0.5,
            seed: 0,
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "S002");
    let vars = [CatVar::new("g", &codes, 3)];
    let e = select_active(
        &vars,
        None,
        &SelectOptions {
            share: 1.5,
            seed: 0,
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "S011");
    let e = select_active(
        &vars,
        Some(&[true]),
        &SelectOptions {
            share: 0.5,
            seed: 0,
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "S001");
    let e = select_active(
        &[],
        None,
        &SelectOptions {
            share: 0.5,
            seed: 0,
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "S010");
}
