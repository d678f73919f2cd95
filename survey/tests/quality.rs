//! Tests of the weighting-quality indicators.

use flowc_survey::synth::{synth_panel, synth_targets};
use flowc_survey::{rake, weighting_quality, CatVar, RakeOptions, Target};

/// Weights 1, 1, 2, 4 (and one zero weight, out of the sample):
/// Σw = 8, Σw² = 1 + 1 + 4 + 16 = 22, n = 4 positive rows.
/// Kish deff = n Σw² / (Σw)² = 4 · 22 / 64 = 1.375; n_eff = 64 / 22.
/// Sex margin: rows 0,1 male (1 + 1 = 2), rows 2,3 female (2 + 4 = 6):
/// achieved shares 0.25 / 0.75 against targets 0.4 / 0.6 →
/// abs errors -0.15 / +0.15, rel errors 0.375 / 0.25.
#[test]
fn hand_computed_indicators() {
    let sex: [u32; 5] = [0, 0, 1, 1, 0];
    let labels = ["male", "female"];
    let vars = [CatVar::new("sex", &sex, 2).with_labels(&labels)];
    let t = [0.4, 0.6];
    let w = [1.0, 1.0, 2.0, 4.0, 0.0];
    let q = weighting_quality(&vars, &[Target::Shares(&t)], &w).unwrap();
    assert_eq!(q.n_rows, 5);
    assert_eq!(q.n_positive, 4);
    assert_eq!(q.sum_weights, 8.0);
    assert!((q.kish_deff - 1.375).abs() < 1e-15);
    assert!((q.effective_n - 64.0 / 22.0).abs() < 1e-12);
    assert_eq!(
        (q.min_weight, q.max_weight, q.weight_ratio),
        (1.0, 4.0, 4.0)
    );
    assert_eq!(q.mean_weight, 2.0);
    // Population variance of 1,1,2,4 around 2 is (1+1+0+4)/4 = 1.5.
    assert!((q.cv_weights - 1.5f64.sqrt() / 2.0).abs() < 1e-12);
    let v = &q.variables[0];
    assert_eq!(v.levels[0].level, "male");
    assert!((v.levels[0].abs_error + 0.15).abs() < 1e-12);
    assert!((v.levels[1].abs_error - 0.15).abs() < 1e-12);
    assert!((v.levels[0].rel_error - 0.375).abs() < 1e-12);
    assert!((v.levels[1].rel_error - 0.25).abs() < 1e-12);
    assert!((v.max_rel_error - 0.375).abs() < 1e-12);
    assert!((q.max_abs_error - 0.15).abs() < 1e-12);

    let names: Vec<String> = q.metrics().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "n_rows",
            "n_positive",
            "sum_weights",
            "mean_weight",
            "min_weight",
            "max_weight",
            "weight_ratio",
            "cv_weights",
            "kish_deff",
            "effective_n",
            "margin.max_abs_error",
            "margin.max_rel_error",
            "margin.sex.max_abs_error",
            "margin.sex.max_rel_error",
        ]
    );
}

#[test]
fn raked_weights_have_small_errors_and_a_design_effect() {
    let panel = synth_panel(5, 20_000);
    let targets = synth_targets();
    let vars = panel.vars();
    let before = weighting_quality(&vars, &targets.targets(), &panel.base_weight).unwrap();
    let r = rake(
        &vars,
        &targets.targets(),
        Some(&panel.base_weight),
        &RakeOptions::default(),
    )
    .unwrap();
    let after = weighting_quality(&vars, &targets.targets(), &r.weights).unwrap();
    assert!(before.max_rel_error > 0.1, "the panel should be biased");
    assert!(after.max_rel_error <= 1e-6);
    assert!(after.kish_deff > before.kish_deff && after.kish_deff > 1.0);
    assert!((after.effective_n * after.kish_deff - 20_000.0).abs() < 1e-6);
    assert_eq!(after.variables.len(), 4);
}

#[test]
fn quality_errors() {
    let sex: [u32; 2] = [0, 1];
    let vars = [CatVar::new("sex", &sex, 2)];
    let t = [0.5, 0.5];
    let e = weighting_quality(&vars, &[Target::Shares(&t)], &[1.0]).unwrap_err();
    assert_eq!(e.code(), "S001");
    let e = weighting_quality(&vars, &[Target::Shares(&t)], &[1.0, -2.0]).unwrap_err();
    assert_eq!(e.code(), "S003");
    let e = weighting_quality(&vars, &[Target::Shares(&t)], &[0.0, 0.0]).unwrap_err();
    assert_eq!(e.code(), "S010");
    let e = weighting_quality(&vars, &[], &[1.0, 1.0]).unwrap_err();
    assert_eq!(e.code(), "S001");
    // Weight indicators alone.
    let q = weighting_quality(&[], &[], &[1.0, 3.0]).unwrap();
    assert_eq!(q.kish_deff, 2.0 * 10.0 / 16.0);
}
