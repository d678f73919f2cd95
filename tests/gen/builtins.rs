//! Calls of the standard library's built-in steps (`std.io`, `std.table`, `std.survey`,
//! `std.synth`) over the tables in scope.

use super::rng::Rng;
use super::scope::{Kind, Scope, Val};
use super::steps::{Call, Decls};
use super::types::{Metric, Schema, Ty};

/// The tables in scope (and lists of tables) whose schema `keep` accepts.
fn tables(scope: &Scope, keep: impl Fn(Schema) -> bool) -> Vec<(String, Schema)> {
    scope
        .vals
        .iter()
        .filter(|v| v.kind != Kind::Metric)
        .filter_map(|v| match v.ty {
            Ty::Table(s) if keep(s) => Some((v.expr.clone(), s)),
            _ => None,
        })
        .collect()
}

/// A call of a built-in step that scope can feed.
pub fn builtin_call(rng: &mut Rng, scope: &Scope, decls: &mut Decls) -> Call {
    let regional = tables(scope, Schema::has_region);
    let panels = tables(scope, Schema::is_panel);
    let weighted = tables(scope, |s| s == Schema::Weighted);
    let targets = tables(scope, |s| s == Schema::Target);
    let any = tables(scope, |_| true);
    let lists: Vec<(String, Schema)> = scope
        .args()
        .iter()
        .filter_map(|v: &Val| match &v.ty {
            Ty::List(t) => match **t {
                Ty::Table(s) => Some((v.expr.clone(), s)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let files: Vec<String> = scope
        .args()
        .iter()
        .filter(|v| v.ty.is_file_like())
        .map(|v| v.expr.clone())
        .collect();
    let mut choices: Vec<u8> = vec![0, 1, 2];
    for (ok, c) in [
        (!regional.is_empty(), 3),
        (!regional.is_empty(), 4),
        (!any.is_empty(), 5),
        (!files.is_empty(), 6),
        (!lists.is_empty(), 7),
        (!panels.is_empty() && !targets.is_empty(), 8),
        (!weighted.is_empty() && !targets.is_empty(), 9),
        (!regional.is_empty(), 10),
    ] {
        if ok {
            // The survey steps need two tables in scope: when they can be called, they are.
            let weight = if (8..=9).contains(&c) { 6 } else { 2 };
            choices.extend(std::iter::repeat_n(c, weight));
        }
    }
    // A panel without targets (or the reverse) makes the other likely, so that `rake` follows.
    if panels.is_empty() != targets.is_empty() {
        choices.extend([if panels.is_empty() { 0 } else { 1 }; 4]);
    }
    let pick = |rng: &mut Rng, xs: &[(String, Schema)]| xs[rng.below(xs.len())].clone();
    let n = rng.range(1, 5) * 10;
    let table = |s: Schema| vec![(String::new(), Ty::Table(s))];
    let (module, name, text, outputs) = match rng.pick(&choices).copied().unwrap_or(0) {
        0 => {
            let text = format!("panel(n: {n}, seed: {}, day: \"2024-06-03\")", n + 1);
            ("std.synth", "panel", text, table(Schema::Synth))
        }
        1 => (
            "std.synth",
            "targets",
            "targets(seed: 3)".into(),
            table(Schema::Target),
        ),
        2 => {
            // Mostly a URL, which every target reads; sometimes a local path, which the
            // cluster targets refuse (E432).
            let path = if rng.chance(80) {
                "s3://flowc-law/in/rows.csv"
            } else {
                "in/rows.csv"
            };
            let text = format!("read_csv(path: \"{path}\") as Table<Row>");
            ("std.io", "read_csv", text, table(Schema::Row))
        }
        3 => {
            let (t, s) = pick(rng, &regional);
            let text = format!("filter(table: {t}, where: \"region = 'north'\")");
            ("std.table", "filter", text, table(s))
        }
        4 => {
            let (t, _) = pick(rng, &regional);
            let text = format!("select(table: {t}, columns: [region])");
            ("std.table", "select", text, table(Schema::Selected))
        }
        5 => {
            let (t, _) = pick(rng, &any);
            let (name, text) = if rng.chance(50) {
                (
                    "write_csv",
                    if rng.chance(80) {
                        format!("write_csv(table: {t}, path: \"s3://flowc-law/out/t{n}.csv\")")
                    } else {
                        format!("write_csv(table: {t}, path: \"out/t{n}.csv\")")
                    },
                )
            } else {
                ("file_from_table", format!("file_from_table(table: {t})"))
            };
            ("std.io", name, text, vec![(String::new(), Ty::File)])
        }
        6 => {
            let f = files[rng.below(files.len())].clone();
            let text = format!("table_from_file(file: {f}, format: \"csv\") as Table<Row>");
            ("std.io", "table_from_file", text, table(Schema::Row))
        }
        7 => {
            let (l, s) = pick(rng, &lists);
            (
                "std.table",
                "union",
                format!("union(tables: {l})"),
                table(s),
            )
        }
        8 => {
            let (p, _) = pick(rng, &panels);
            let (t, _) = pick(rng, &targets);
            let text = format!("rake(panel: {p}, targets: {t}, by: [sex, age_group])");
            let outputs = vec![
                (String::new(), Ty::Table(Schema::Weighted)),
                (".report".to_string(), Ty::Metrics(Metric::Rake)),
            ];
            ("std.survey", "rake", text, outputs)
        }
        9 => {
            let (w, _) = pick(rng, &weighted);
            let (t, _) = pick(rng, &targets);
            let text =
                format!("weighting_quality(weights: {w}, targets: {t}, by: [sex, age_group])");
            let outputs = vec![(String::new(), Ty::Metrics(Metric::Quality))];
            ("std.survey", "weighting_quality", text, outputs)
        }
        _ => {
            let (t, s) = pick(rng, &regional);
            if rng.chance(50) {
                let text = format!("sort(table: {t}, by: [region], descending: true)");
                ("std.table", "sort", text, table(s))
            } else {
                let text = format!("sample(table: {t}, n: 5, seed: 1)");
                ("std.table", "sample", text, table(s))
            }
        }
    };
    decls.import(module, name);
    Call { text, outputs }
}
