//! std.survey and std.synth through the steps: raking with a known result, weighting quality
//! computed by hand, selection and fusion keeping distributions, reproducibility.

use std::collections::BTreeMap;

use crate::common::*;
use flowc_builtins::files::read_parquet;
use flowc_compiler::plan::TypeRepr;
use polars::prelude::*;
use serde_json::json;

fn rake_report() -> TypeRepr {
    metrics(&[
        ("iterations", "Int"),
        ("max_rel_error", "Float"),
        ("converged", "Bool"),
    ])
}

fn quality_type() -> TypeRepr {
    metrics(&[
        ("max_abs_error", "Float"),
        ("max_rel_error", "Float"),
        ("design_effect", "Float"),
        ("effective_sample_size", "Float"),
        ("weight_ratio", "Float"),
        ("min_weight", "Float"),
        ("max_weight", "Float"),
    ])
}

/// 8 rows: sex is balanced, age is 2 young to 6 old.
fn small_panel() -> DataFrame {
    df![
        "id" => [1i64, 2, 3, 4, 5, 6, 7, 8],
        "sex" => ["m", "m", "m", "m", "f", "f", "f", "f"],
        "age" => ["young", "old", "old", "old", "young", "old", "old", "old"],
        "bw" => [2.0f64; 8],
        "weight" => [9.0f64; 8],
    ]
    .unwrap()
}

fn small_panel_type() -> TypeRepr {
    table(&[
        ("id", "Int", false),
        ("sex", "Str", false),
        ("age", "Str", false),
        ("bw", "Float", false),
        ("weight", "Float", false),
    ])
}

fn small_targets() -> DataFrame {
    df![
        "variable" => ["sex", "sex", "age", "age", "unused"],
        "level" => ["m", "f", "young", "old", "x"],
        "share" => [0.5f64, 0.5, 0.5, 0.5, 1.0],
    ]
    .unwrap()
}

fn rake_call<'d>(d: &'d Dir, panel: &DataFrame, targets: &DataFrame) -> CallBuilder<'d> {
    call(d, "std.survey", "rake")
        .table("panel", panel, small_panel_type())
        .table("targets", targets, target_type())
        .param("by", json!(["sex", "age"]))
        .param("tolerance", json!(1e-9))
        .param("max_iterations", json!(100))
        .output("weights", small_panel_type())
        .output("report", rake_report())
}

#[test]
fn rake_gives_the_known_weights() {
    let d = Dir::new();
    let out = rake_call(&d, &small_panel(), &small_targets())
        .run()
        .unwrap();
    let df = out.table("weights");
    assert_eq!(
        names(&df),
        ["id", "sex", "age", "bw", "weight"],
        "weight replaced in place"
    );
    // Young rows carry half of the total 8 (2 rows): 2 each; old rows 4 / 6 each.
    for (age, w) in strs(&df, "age").iter().zip(floats(&df, "weight")) {
        let want = if age.as_deref() == Some("young") {
            2.0
        } else {
            4.0 / 6.0
        };
        assert!((w.unwrap() - want).abs() < 1e-9, "{age:?}: {w:?}");
    }
    let report = out.metrics("report");
    assert_eq!(
        report.keys().collect::<Vec<_>>(),
        ["iterations", "max_rel_error", "converged"]
    );
    assert_eq!(report["converged"], json!(true));
    assert!(report["iterations"].as_i64().unwrap() >= 1);
    assert!(report["max_rel_error"].as_f64().unwrap() <= 1e-9);

    // With base weights (2 each), the total is the base total, 16.
    let df = rake_call(&d, &small_panel(), &small_targets())
        .param("base_weight", json!("bw"))
        .run()
        .unwrap()
        .table("weights");
    let w: Vec<f64> = floats(&df, "weight").into_iter().flatten().collect();
    assert!(
        (w[0] - 4.0).abs() < 1e-9 && (w[1] - 8.0 / 6.0).abs() < 1e-9,
        "{w:?}"
    );

    // Trimming: a cap of 2 × mean (mean 1) binds the young rows, which stay at 2.
    let out = rake_call(&d, &small_panel(), &small_targets())
        .param("cap", json!(1.5))
        .param("max_iterations", json!(50))
        .run()
        .unwrap();
    let w: Vec<f64> = floats(&out.table("weights"), "weight")
        .into_iter()
        .flatten()
        .collect();
    assert!(w.iter().all(|&x| x <= 1.5 + 1e-6), "{w:?}");
    assert_eq!(
        out.metrics("report")["converged"],
        json!(false),
        "cap 1.5 is infeasible"
    );
}

#[test]
fn rake_errors() {
    let d = Dir::new();
    // A variable of `by` without targets.
    let targets = small_targets().slice(0, 2);
    let msg = rake_call(&d, &small_panel(), &targets).fails("B052");
    assert!(msg.contains("`age`"), "{msg}");
    // A level of the panel without a target (the kernel's S009).
    let targets = df![
        "variable" => ["sex", "sex", "age"],
        "level" => ["m", "f", "old"],
        "share" => [0.5f64, 0.5, 1.0],
    ]
    .unwrap();
    let msg = rake_call(&d, &small_panel(), &targets).fails("S009");
    assert!(msg.contains("young"), "{msg}");
    // Shares that do not sum to 1 (S006), a target level absent from the panel (S008).
    let targets = df![
        "variable" => ["sex", "sex", "age", "age"],
        "level" => ["m", "f", "young", "old"],
        "share" => [0.5f64, 0.6, 0.5, 0.5],
    ]
    .unwrap();
    rake_call(&d, &small_panel(), &targets).fails("S006");
    let targets = df![
        "variable" => ["sex", "sex", "age", "age", "age"],
        "level" => ["m", "f", "young", "old", "middle"],
        "share" => [0.5f64, 0.5, 0.4, 0.4, 0.2],
    ]
    .unwrap();
    let msg = rake_call(&d, &small_panel(), &targets).fails("S008");
    assert!(msg.contains("middle"), "{msg}");
    // Duplicate target rows, a `by` column that does not exist, a bad option.
    let targets = df![
        "variable" => ["sex", "sex", "sex", "age", "age"],
        "level" => ["m", "f", "m", "young", "old"],
        "share" => [0.5f64, 0.5, 0.5, 0.5, 0.5],
    ]
    .unwrap();
    rake_call(&d, &small_panel(), &targets).fails("B052");
    rake_call(&d, &small_panel(), &small_targets())
        .param("by", json!(["sex", "nope"]))
        .fails("B050");
    rake_call(&d, &small_panel(), &small_targets())
        .param("tolerance", json!(0.0))
        .fails("S011");
    rake_call(&d, &small_panel(), &small_targets())
        .param("max_iterations", json!(0))
        .fails("B004");
}

#[test]
fn weighting_quality_by_hand() {
    let d = Dir::new();
    let weights = df![
        "g" => ["a", "a", "b", "b"],
        "weight" => [1.0f64, 1.0, 2.0, 4.0],
    ]
    .unwrap();
    let targets = df![
        "variable" => ["g", "g"],
        "level" => ["a", "b"],
        "share" => [0.2f64, 0.8],
    ]
    .unwrap();
    let run = |weights: &DataFrame| {
        call(&d, "std.survey", "weighting_quality")
            .table(
                "weights",
                weights,
                table(&[("g", "Str", false), ("weight", "Float", false)]),
            )
            .table("targets", &targets, target_type())
            .param("by", json!(["g"]))
            .output("quality", quality_type())
    };
    let q = run(&weights).run().unwrap().metrics("quality");
    let f = |k: &str| q[k].as_f64().unwrap();
    // Achieved shares 0.25 / 0.75 against 0.2 / 0.8.
    assert!((f("max_abs_error") - 0.05).abs() < 1e-12);
    assert!((f("max_rel_error") - 0.25).abs() < 1e-12);
    // n Σw² / (Σw)² = 4 · 22 / 64; (Σw)² / Σw² = 64 / 22.
    assert!((f("design_effect") - 88.0 / 64.0).abs() < 1e-12);
    assert!((f("effective_sample_size") - 64.0 / 22.0).abs() < 1e-12);
    assert_eq!(
        (f("min_weight"), f("max_weight"), f("weight_ratio")),
        (1.0, 4.0, 4.0)
    );
    assert_eq!(q.len(), 7, "exactly the declared keys");
    // A weighted level without a target.
    let other = df!["g" => ["a", "c"], "weight" => [1.0f64, 1.0]].unwrap();
    let msg = run(&other).fails("S009");
    assert!(msg.contains("'c'"), "{msg}");
}

#[test]
fn daily_weighting_chain_on_the_synthetic_panel() {
    let d = Dir::new();
    let panel = synth_panel(&d, 6000, 42, "2024-06-03");
    let targets = synth_targets(&d);
    let selected = call(&d, "std.survey", "select_active")
        .input("panel", &panel, panelist())
        .param("share", json!(0.8))
        .param("strata", json!(["region", "age_group"]))
        .param("seed", json!(42))
        .param("day", json!("2024-06-03"))
        .output("active", panelist())
        .run()
        .unwrap();
    assert_eq!(selected.table("active").height(), 4800);
    let weighted_ty = extend(&panelist(), &[("weight", "Float", false)]);
    let by = json!(["sex", "age_group", "region", "education"]);
    let rake = || {
        call(&d, "std.survey", "rake")
            .input("panel", &selected.path("active"), panelist())
            .input("targets", &targets, target_type())
            .param("by", by.clone())
            .param("cap", json!(5.0))
            .param("floor", json!(0.2))
            .output("weights", weighted_ty.clone())
            .output("report", rake_report())
            .run()
            .unwrap()
    };
    let raked = rake();
    assert_eq!(raked.metrics("report")["converged"], json!(true));
    // Reproducible to the byte.
    let again = rake();
    assert_eq!(raked.bytes("weights"), again.bytes("weights"));
    assert_eq!(raked.bytes("report"), again.bytes("report"));
    let q = call(&d, "std.survey", "weighting_quality")
        .input("weights", &raked.path("weights"), weighted_ty.clone())
        .input("targets", &targets, target_type())
        .param("by", by)
        .output("quality", quality_type())
        .run()
        .unwrap()
        .metrics("quality");
    assert!(q["max_abs_error"].as_f64().unwrap() < 1e-6, "{q:?}");
    let deff = q["design_effect"].as_f64().unwrap();
    assert!(deff > 1.0 && deff < 3.0, "{q:?}");
    assert!(
        q["weight_ratio"].as_f64().unwrap() <= 25.0 + 1e-6,
        "cap / floor = 25: {q:?}"
    );
}

/// Level shares of a column.
fn shares(df: &DataFrame, col: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let v = strs(df, col);
    for x in &v {
        *m.entry(x.clone().unwrap()).or_insert(0.0) += 1.0 / v.len() as f64;
    }
    m
}

#[test]
fn select_active_keeps_the_strata_shares() {
    let d = Dir::new();
    let panel_path = synth_panel(&d, 20_000, 3, "2024-06-03");
    let panel = read_parquet(&panel_path).unwrap();
    let run = |seed: i64, day: Option<&str>| {
        call(&d, "std.survey", "select_active")
            .input("panel", &panel_path, panelist())
            .param("share", json!(0.37))
            .param("strata", json!(["region", "age_group", "sex"]))
            .param("seed", json!(seed))
            .param("day", json!(day))
            .output("active", panelist())
            .run()
            .unwrap()
    };
    let a = run(1, Some("2024-06-03"));
    let sel = a.table("active");
    assert_eq!(sel.height(), 7400);
    // The survey kernel's stated tolerance: every level share within 0.002.
    for col in ["region", "age_group", "sex", "education"] {
        let (p, s) = (shares(&panel, col), shares(&sel, col));
        let tol = if col == "education" { 0.01 } else { 0.002 };
        for (level, x) in &p {
            assert!(
                (x - s[level]).abs() < tol,
                "{col} {level}: {x} vs {}",
                s[level]
            );
        }
    }
    let ids: Vec<i64> = ints(&sel, "panelist_id").into_iter().flatten().collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "panel order kept");
    assert_eq!(
        a.bytes("active"),
        run(1, Some("2024-06-03")).bytes("active")
    );
    assert_ne!(
        a.bytes("active"),
        run(1, Some("2024-06-04")).bytes("active"),
        "day mixed in"
    );
    assert_ne!(
        a.bytes("active"),
        run(2, Some("2024-06-03")).bytes("active")
    );
    assert_ne!(run(1, None).bytes("active"), a.bytes("active"));
    // Errors: a bad share, a stratum column of the wrong kind.
    call(&d, "std.survey", "select_active")
        .input("panel", &panel_path, panelist())
        .param("share", json!(1.5))
        .param("strata", json!(["region"]))
        .param("seed", json!(1))
        .output("active", panelist())
        .fails("S011");
    let msg = call(&d, "std.survey", "select_active")
        .input("panel", &panel_path, panelist())
        .param("share", json!(0.5))
        .param("strata", json!(["minutes"]))
        .param("seed", json!(1))
        .output("active", panelist())
        .fails("B050");
    assert!(
        msg.contains("`minutes`") && msg.contains("categorical"),
        "{msg}"
    );
}

fn fused_type() -> TypeRepr {
    extend(
        &panelist(),
        &[
            ("web_id", "Int", false),
            ("web_minutes", "Float", false),
            ("sessions", "Int", false),
        ],
    )
}

fn match_type() -> TypeRepr {
    named(
        "FuseMatch",
        &[("recipient_id", "Int", false), ("donor_id", "Int", false)],
    )
}

fn fuse_report() -> TypeRepr {
    metrics(&[
        ("kept", "Int"),
        ("new", "Int"),
        ("rematched", "Int"),
        ("drifted", "Int"),
        ("rebalanced", "Int"),
        ("mean_distance", "Float"),
        ("max_donor_uses", "Int"),
        ("donors_used", "Int"),
        ("max_mean_difference", "Float"),
    ])
}

fn fuse_call<'d>(d: &'d Dir, tv: &std::path::Path, web: &std::path::Path) -> CallBuilder<'d> {
    call(d, "std.survey", "fuse")
        .input("recipients", tv, panelist())
        .input("donors", web, web_panelist())
        .param("recipient_id", json!("panelist_id"))
        .param("donor_id", json!("web_id"))
        .param("strata", json!(["sex", "age_group", "region"]))
        .param("match_on", json!(["minutes"]))
        .param("reuse_penalty", json!(0.2))
        .output("fused", fused_type())
        .output("matches", match_type())
        .output("report", fuse_report())
}

#[test]
fn fuse_keeps_strata_and_previous_matches() {
    let d = Dir::new();
    let tv = synth_panel(&d, 3000, 7, "2024-06-03");
    let web = synth_web_panel(&d, 6000, 8, "2024-06-03");
    let out = fuse_call(&d, &tv, &web)
        .absent("previous", match_type())
        .run()
        .unwrap();
    let fused = out.table("fused");
    let recipients = read_parquet(&tv).unwrap();
    let donors = read_parquet(&web).unwrap();
    assert_eq!(
        names(&fused),
        names(&read_parquet(&out.path("fused")).unwrap())
    );
    assert_eq!(fused.height(), 3000);
    // Every recipient row, unchanged, with its donor's columns.
    assert!(fused
        .select(names(&recipients))
        .unwrap()
        .equals(&recipients));
    let by_id: BTreeMap<i64, usize> = ints(&donors, "web_id")
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id.unwrap(), i))
        .collect();
    let donor_minutes = floats(&donors, "minutes");
    let donor_web = floats(&donors, "web_minutes");
    let strata: Vec<(Vec<_>, Vec<_>)> = ["sex", "age_group", "region"]
        .iter()
        .map(|c| (strs(&fused, c), strs(&donors, c)))
        .collect();
    let (fused_web, fused_minutes) = (floats(&fused, "web_minutes"), floats(&fused, "minutes"));
    let (mut rec_sum, mut don_sum) = (0.0, 0.0);
    for (i, id) in ints(&fused, "web_id").iter().enumerate() {
        let row = by_id[&id.unwrap()];
        for (f, d) in &strata {
            assert_eq!(f[i], d[row], "same stratum");
        }
        assert_eq!(fused_web[i], donor_web[row]);
        rec_sum += fused_minutes[i].unwrap();
        don_sum += donor_minutes[row].unwrap();
    }
    // The survey kernel's stated tolerance: matched minutes within 3 % in mean.
    assert!(
        (rec_sum - don_sum).abs() / rec_sum < 0.03,
        "{rec_sum} vs {don_sum}"
    );
    let report = out.metrics("report");
    assert_eq!(
        (report["kept"].clone(), report["new"].clone()),
        (json!(0), json!(3000))
    );
    // The example's checks.
    assert!(
        report["mean_distance"].as_f64().unwrap() < 0.5,
        "{report:?}"
    );
    assert!(
        report["max_donor_uses"].as_i64().unwrap() <= 10,
        "{report:?}"
    );
    let matches = out.table("matches");
    assert_eq!(names(&matches), ["recipient_id", "donor_id"]);
    assert_eq!(ints(&matches, "donor_id"), ints(&fused, "web_id"));

    // The next day, with yesterday's matches: the 100 new panelists are matched; of the others,
    // a match is kept (same donor) while the donor stays within the keep tolerance of the
    // panelist's nearest donor, which the day's viewing changes for about one in five.
    let tv2 = synth_panel(&d, 3100, 7, "2024-06-04");
    let web2 = synth_web_panel(&d, 6000, 8, "2024-06-04");
    let day2 = fuse_call(&d, &tv2, &web2)
        .input("previous", &out.path("matches"), match_type())
        .run()
        .unwrap();
    let r2 = day2.metrics("report");
    let m2 = day2.table("matches");
    let (before, after) = (ints(&matches, "donor_id"), ints(&m2, "donor_id"));
    let same = before.iter().zip(&after).filter(|(a, b)| a == b).count();
    assert_eq!(r2["kept"], json!(same), "{r2:?}");
    assert_eq!(r2["new"], json!(3100 - same), "{r2:?}");
    assert!(same > 2000 && same < 3000, "{r2:?}");
    // Reproducible to the byte.
    let again = fuse_call(&d, &tv2, &web2)
        .input("previous", &out.path("matches"), match_type())
        .run()
        .unwrap();
    assert_eq!(day2.bytes("fused"), again.bytes("fused"));
    // A wider band keeps more of yesterday's matches (the means still within tolerance).
    let wide = fuse_call(&d, &tv2, &web2)
        .input("previous", &out.path("matches"), match_type())
        .param("keep_tolerance", json!(2.0))
        .param("balance_tolerance", json!(0.1))
        .run()
        .unwrap();
    let kept_wide = wide.metrics("report")["kept"].as_i64().unwrap();
    assert!(kept_wide > same as i64, "{kept_wide} vs {same}");
    assert!(
        wide.metrics("report")["max_mean_difference"]
            .as_f64()
            .unwrap()
            <= 0.1,
        "{:?}",
        wide.metrics("report")
    );
}

#[test]
fn fuse_errors() {
    let d = Dir::new();
    let tv = synth_panel(&d, 200, 7, "2024-06-03");
    let web = synth_web_panel(&d, 50, 8, "2024-06-03");
    // A stratum of recipients without donors (50 donors cannot cover 96 strata).
    let msg = fuse_call(&d, &tv, &web).fails("S014");
    assert!(msg.contains("recipient"), "{msg}");
    // A matching column the donors lack.
    let web_full = synth_web_panel(&d, 2000, 8, "2024-06-03");
    let msg = fuse_call(&d, &tv, &web_full)
        .param("match_on", json!(["active"]))
        .fails("B050");
    assert!(msg.contains("`active`") && msg.contains("donors"), "{msg}");
    // Duplicate recipient ids.
    let dup = d.parquet(
        &read_parquet(&tv)
            .unwrap()
            .vstack(&read_parquet(&tv).unwrap().slice(0, 1))
            .unwrap(),
    );
    let msg = fuse_call(&d, &dup, &web_full).fails("S013");
    assert!(msg.contains("identifier 1 "), "{msg}");
    // A negative tolerance.
    let msg = fuse_call(&d, &tv, &web_full)
        .absent("previous", match_type())
        .param("keep_tolerance", json!(-0.5))
        .fails("S011");
    assert!(msg.contains("keep_tolerance"), "{msg}");
}

#[test]
fn synthetic_panels_are_deterministic_and_prefix_stable() {
    let d = Dir::new();
    let a = synth_panel(&d, 500, 42, "2024-06-03");
    let b = synth_panel(&d, 500, 42, "2024-06-03");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let a = read_parquet(&a).unwrap();
    let long = read_parquet(&synth_panel(&d, 800, 42, "2024-06-03")).unwrap();
    assert!(long.slice(0, 500).equals(&a), "prefix");
    // Another day: the same people, other viewing.
    let next = read_parquet(&synth_panel(&d, 500, 42, "2024-06-04")).unwrap();
    let people = ["panelist_id", "sex", "age_group", "region", "education"];
    assert!(next
        .select(people)
        .unwrap()
        .equals(&a.select(people).unwrap()));
    assert!(!next
        .column("minutes")
        .unwrap()
        .equals(a.column("minutes").unwrap()));
    // Inactive panelists watch 0 minutes; active ones more.
    for (on, m) in bools(&a, "active").iter().zip(floats(&a, "minutes")) {
        assert_eq!(on.unwrap(), m.unwrap() > 0.0);
    }
    // The panel is biased against the targets (65+: 0.235 of the population).
    let big = read_parquet(&synth_panel(&d, 20_000, 42, "2024-06-03")).unwrap();
    assert!(shares(&big, "age_group")["65+"] > 0.25);

    let t = read_parquet(&synth_targets(&d)).unwrap();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for (v, s) in strs(&t, "variable").iter().zip(floats(&t, "share")) {
        *sums.entry(v.clone().unwrap()).or_default() += s.unwrap();
    }
    assert_eq!(sums.len(), 4);
    assert!(sums.values().all(|s| (s - 1.0).abs() < 1e-9), "{sums:?}");

    let w = read_parquet(&synth_web_panel(&d, 300, 8, "2024-06-03")).unwrap();
    let w_long = read_parquet(&synth_web_panel(&d, 600, 8, "2024-06-03")).unwrap();
    assert!(w_long.slice(0, 300).equals(&w));
    let big_web = read_parquet(&synth_web_panel(&d, 20_000, 8, "2024-06-03")).unwrap();
    assert!(
        shares(&big_web, "age_group")["65+"] < shares(&big, "age_group")["65+"] - 0.05,
        "younger than the TV panel"
    );
    for (m, s) in floats(&w, "web_minutes").iter().zip(ints(&w, "sessions")) {
        assert_eq!(m.unwrap() > 0.0, s.unwrap() > 0);
    }
    call(&d, "std.synth", "panel")
        .param("n", json!(-1))
        .param("seed", json!(1))
        .param("day", json!("2024-06-03"))
        .output("panel", panelist())
        .fails("B004");
    call(&d, "std.synth", "panel")
        .param("n", json!(10))
        .param("seed", json!(1))
        .param("day", json!("2024-02-30"))
        .output("panel", panelist())
        .fails("B002");
}

/// The synthetic panels' categorical columns are `Enum`s, stored dictionary-encoded: read
/// back as `Enum`s with the labels in order, reported as `Str`, and plain text for SQL.
#[test]
fn categorical_columns_are_dictionary_encoded_enums() {
    let d = Dir::new();
    let panel = synth_panel(&d, 3000, 5, "2024-06-03");
    let df = read_parquet(&panel).unwrap();
    for (name, labels) in [
        ("sex", &flowc_survey::synth::SEX_LABELS[..]),
        ("region", &flowc_survey::synth::REGION_LABELS[..]),
    ] {
        let DataType::Enum(fcats, _) = df.column(name).unwrap().dtype() else {
            panic!("{name} is {}", df.column(name).unwrap().dtype());
        };
        let cats: Vec<&str> = fcats.categories().values_iter().collect();
        assert_eq!(cats, labels, "{name}");
    }
    let cols = flowc_builtins::parquet_columns(&panel).unwrap();
    assert_eq!(
        cols.iter().map(|c| c.ty.as_str()).collect::<Vec<_>>(),
        ["Int", "Str", "Str", "Str", "Str", "Bool", "Float"]
    );
    // SQL sees text: a label that is not a level matches no row (instead of failing).
    let filter = |cond: &str| {
        call(&d, "std.table", "filter")
            .input("table", &panel, panelist())
            .param("where", json!(cond))
            .output("kept", panelist())
            .run()
            .unwrap()
            .table("kept")
    };
    let capital = filter("region = 'capital'");
    let expected = strs(&df, "region")
        .iter()
        .filter(|r| r.as_deref() == Some("capital"))
        .count();
    assert!(expected > 0);
    assert_eq!(capital.height(), expected);
    assert_eq!(capital.column("region").unwrap().dtype(), &DataType::String);
    assert_eq!(filter("region = 'nowhere'").height(), 0);
}

/// Raking, selection and fusion code an `Enum` column and the same column as text alike.
#[test]
fn enum_and_text_columns_are_coded_alike() {
    let d = Dir::new();
    let panel = synth_panel(&d, 4000, 6, "2024-06-03");
    let df = read_parquet(&panel).unwrap();
    let mut text = df.clone();
    for name in ["sex", "age_group", "region", "education"] {
        let c = df.column(name).unwrap().cast(&DataType::String).unwrap();
        text.with_column(c).unwrap();
    }
    let as_text = d.parquet(&text);
    assert_eq!(
        read_parquet(&as_text)
            .unwrap()
            .column("sex")
            .unwrap()
            .dtype(),
        &DataType::String
    );
    let targets = synth_targets(&d);
    let weighted_ty = extend(&panelist(), &[("weight", "Float", false)]);
    let rake = |p: &std::path::Path| {
        call(&d, "std.survey", "rake")
            .input("panel", p, panelist())
            .input("targets", &targets, target_type())
            .param("by", json!(["sex", "age_group", "region", "education"]))
            .output("weights", weighted_ty.clone())
            .output("report", rake_report())
            .run()
            .unwrap()
            .table("weights")
    };
    assert_eq!(
        floats(&rake(&panel), "weight"),
        floats(&rake(&as_text), "weight")
    );
    let select = |p: &std::path::Path| {
        call(&d, "std.survey", "select_active")
            .input("panel", p, panelist())
            .param("share", json!(0.5))
            .param("strata", json!(["region", "age_group"]))
            .param("seed", json!(3))
            .output("active", panelist())
            .run()
            .unwrap()
            .table("active")
    };
    assert_eq!(
        ints(&select(&panel), "panelist_id"),
        ints(&select(&as_text), "panelist_id")
    );
}
