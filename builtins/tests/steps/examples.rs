//! The examples `daily_weighting.flow` and `tv_web_fusion.flow`, end to end through the
//! built-in steps: a minimal in-test runner compiles each example to its plan, runs the
//! built-in tasks in the plan's order with the plan's declared types (container tasks are
//! skipped: they need a container engine), and evaluates the pipeline's checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use flowc_builtins::Builtins;
use flowc_compiler::plan::{build_plan, Part, Plan, TaskKind, Value};
use flowc_compiler::{analyze, MemoryLoader};
use flowc_runtime::builtin::{
    ArtifactArg, BuiltinCall, BuiltinRunner, InputArtifact, OutputArtifact,
};
use serde_json::{json, Value as Json};

fn plan(name: &str, text: &str) -> Plan {
    let loader = MemoryLoader::new().with(name, text);
    let analysis = analyze(&loader, &[PathBuf::from(name)]);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    build_plan(&analysis, None, None).expect("plan")
}

/// The state of a run: parameters, where each task output was written, skipped tasks.
struct Run<'p> {
    plan: &'p Plan,
    dir: PathBuf,
    params: HashMap<String, Json>,
    outputs: HashMap<(String, String), PathBuf>,
    ran: Vec<String>,
}

impl<'p> Run<'p> {
    fn new(plan: &'p Plan, dir: &Path, overrides: &[(&str, Json)]) -> Self {
        let pipeline = &plan.pipelines[&plan.entry];
        let mut params: HashMap<String, Json> = pipeline
            .params
            .iter()
            .map(|p| (p.name.clone(), p.default.clone().unwrap_or(Json::Null)))
            .collect();
        for (k, v) in overrides {
            params.insert(k.to_string(), v.clone());
        }
        Run {
            plan,
            dir: dir.to_path_buf(),
            params,
            outputs: HashMap::new(),
            ran: Vec::new(),
        }
    }

    fn eval(&self, v: &Value) -> Json {
        match v {
            Value::Literal { value } => value.clone(),
            Value::Param { name } => self.params[name].clone(),
            Value::Template { parts } => {
                let mut s = String::new();
                for p in parts {
                    match p {
                        Part::Text { text } => s.push_str(text),
                        Part::Value { value } => match self.eval(value) {
                            Json::String(t) => s.push_str(&t),
                            other => s.push_str(&other.to_string()),
                        },
                        other => panic!("unexpected part {other:?}"),
                    }
                }
                Json::String(s)
            }
            Value::List { items } => Json::Array(items.iter().map(|i| self.eval(i)).collect()),
            Value::Metric { task, output, key } => {
                let path = &self.outputs[&(task.clone(), output.clone())];
                let m: Json =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                m[key].clone()
            }
            Value::Op { op, args } => {
                let a: Vec<Json> = args.iter().map(|x| self.eval(x)).collect();
                let num = |j: &Json| j.as_f64().unwrap_or_else(|| panic!("not a number: {j}"));
                match op.as_str() {
                    "not" => json!(!a[0].as_bool().unwrap()),
                    "and" => json!(a[0].as_bool().unwrap() && a[1].as_bool().unwrap()),
                    "or" => json!(a[0].as_bool().unwrap() || a[1].as_bool().unwrap()),
                    "==" => json!(a[0] == a[1]),
                    "!=" => json!(a[0] != a[1]),
                    "<" => json!(num(&a[0]) < num(&a[1])),
                    "<=" => json!(num(&a[0]) <= num(&a[1])),
                    ">" => json!(num(&a[0]) > num(&a[1])),
                    ">=" => json!(num(&a[0]) >= num(&a[1])),
                    "+" if a[0].is_i64() && a[1].is_i64() => {
                        json!(a[0].as_i64().unwrap() + a[1].as_i64().unwrap())
                    }
                    "+" => json!(num(&a[0]) + num(&a[1])),
                    "-" => json!(num(&a[0]) - num(&a[1])),
                    other => panic!("operator {other}"),
                }
            }
            other => panic!("unexpected value {other:?}"),
        }
    }

    /// Runs every built-in task whose conditions hold, in the plan's order.
    fn run(&mut self) {
        let pipeline = &self.plan.pipelines[&self.plan.entry];
        for task in &pipeline.tasks {
            if !task.when.iter().all(|c| self.eval(c) == json!(true)) {
                continue;
            }
            let TaskKind::Builtin { module, name } = &task.kind else {
                continue; // a container step
            };
            let mut call = BuiltinCall {
                module: module.clone(),
                name: name.clone(),
                params: Default::default(),
                inputs: Default::default(),
                outputs: Default::default(),
                scratch: self.dir.clone(),
                workdir: self.dir.clone(),
            };
            for input in &task.inputs {
                if input.ty.is_artifact() {
                    let arg = match &input.value {
                        Value::Output { task, output, .. } => {
                            match self.outputs.get(&(task.clone(), output.clone())) {
                                Some(p) => ArtifactArg::One(p.clone()),
                                None => ArtifactArg::Absent,
                            }
                        }
                        Value::Literal { value } if value.is_null() => ArtifactArg::Absent,
                        other => panic!("artifact from {other:?}"),
                    };
                    call.inputs.insert(
                        input.name.clone(),
                        InputArtifact {
                            arg,
                            ty: input.ty.clone(),
                        },
                    );
                } else {
                    let mut v = self.eval(&input.value);
                    // Relative output paths are relative to the run's folder; a path on a
                    // volume the step mounts is in the volume's folder there (as `flowc run`
                    // places it), never at the mount path on this machine.
                    if input.name == "path" {
                        if let Json::String(p) = &v {
                            if Path::new(p).is_relative() {
                                v = json!(self.dir.join(p).to_str().unwrap());
                            } else {
                                let on_volume =
                                    task.settings.volume_mounts.iter().find_map(|(at, volume)| {
                                        let rest = Path::new(p).strip_prefix(at).ok()?;
                                        Some(self.dir.join("volumes").join(volume).join(rest))
                                    });
                                // Otherwise only a file of the tests' temporary folders (an
                                // earlier run's output) may be named.
                                let local = on_volume.unwrap_or_else(|| {
                                    let temp = Path::new(p).starts_with(std::env::temp_dir());
                                    assert!(temp, "{}: `{p}` is on no volume it mounts", task.id);
                                    PathBuf::from(p)
                                });
                                if let Some(parent) = local.parent() {
                                    std::fs::create_dir_all(parent).unwrap();
                                }
                                v = json!(local.to_str().unwrap());
                            }
                        }
                    }
                    call.params.insert(input.name.clone(), v);
                }
            }
            for output in &task.outputs {
                let path = self.dir.join(format!("{}.{}", task.id, output.name));
                call.outputs.insert(
                    output.name.clone(),
                    OutputArtifact {
                        path: path.clone(),
                        ty: output.ty.clone(),
                    },
                );
                self.outputs
                    .insert((task.id.clone(), output.name.clone()), path);
            }
            if let Err(e) = Builtins.run(&call) {
                panic!("task `{}` ({module}.{name}) failed: {e}", task.id);
            }
            self.ran.push(task.id.clone());
        }
        for check in &pipeline.checks {
            assert_eq!(
                self.eval(&check.condition),
                json!(true),
                "check failed: {}",
                check.source
            );
        }
    }

    fn output(&self, task: &str, output: &str) -> PathBuf {
        self.outputs[&(task.to_string(), output.to_string())].clone()
    }
}

#[test]
fn daily_weighting_runs_end_to_end() {
    let plan = plan(
        "daily_weighting.flow",
        include_str!("../../../examples/daily_weighting.flow"),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(&plan, dir.path(), &[]);
    run.run();
    assert_eq!(
        run.ran,
        [
            "installed",
            "population",
            "in_tab",
            "weights",
            "quality",
            "audience",
            "weights_csv",
            "write_parquet",
            "write_parquet-2",
        ]
    );
    let audience = flowc_builtins::files::read_parquet(&run.output("audience", "grouped")).unwrap();
    assert_eq!(audience.height(), 8, "one row per region");
    let csv =
        std::fs::read_to_string(dir.path().join("volumes/results/weights-2024-06-03.csv")).unwrap();
    assert!(csv.starts_with("panelist_id,sex,age_group,region,education,active,minutes,weight\n"));
    assert_eq!(
        csv.lines().count(),
        4001,
        "80 % of 5000 panelists and the header"
    );
    assert!(dir
        .path()
        .join("volumes/results/audience-2024-06-03.parquet")
        .is_file());
}

#[test]
fn tv_web_fusion_runs_two_days() {
    let plan = plan(
        "tv_web_fusion.flow",
        include_str!("../../../examples/tv_web_fusion.flow"),
    );
    let day1 = tempfile::tempdir().unwrap();
    let mut run = Run::new(&plan, day1.path(), &[]);
    run.run();
    assert!(
        !run.ran.contains(&"yesterday".to_string()),
        "no previous matches on day 1"
    );
    let matches = run.output("fusion", "matches");

    let day2 = tempfile::tempdir().unwrap();
    let mut run2 = Run::new(
        &plan,
        day2.path(),
        &[
            ("day", json!("2024-06-04")),
            ("previous_matches", json!(matches.to_str().unwrap())),
        ],
    );
    run2.run();
    assert!(run2.ran.contains(&"yesterday".to_string()));
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(run2.output("fusion", "report")).unwrap())
            .unwrap();
    // The same panelists on the next day: the matches whose TV panelist's viewing did not
    // move away from the donor's are kept (about 4 in 5), the others are matched again.
    let kept = report["kept"].as_i64().unwrap();
    assert!(kept > 2000 && kept < 3000, "{report}");
    assert_eq!(report["new"], json!(3000 - kept), "{report}");
    let csv = std::fs::read_to_string(run2.output("fused_csv", "file")).unwrap();
    assert!(csv.lines().next().unwrap().contains("web_minutes"));
}

/// The columns `name` of a Parquet output, as `f64` or `i64` values.
fn floats(path: &Path, name: &str) -> Vec<f64> {
    let df = flowc_builtins::files::read_parquet(path).unwrap();
    df.column(name)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn ints(path: &Path, name: &str) -> Vec<i64> {
    let df = flowc_builtins::files::read_parquet(path).unwrap();
    df.column(name)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// The example run day after day for two weeks (2024-06-03 to 2024-06-16, two weekends), each
/// day's matches passed as the next day's `previous_matches`: the example's checks hold every
/// day (with matches kept whatever their distance, `mean_distance` passed 0.5 on the sixth
/// day), the transferred TV minutes stay within 3 % in mean of the TV panel's and the viewing
/// share within 2 points, and only a bounded share of matches changes each day.
#[test]
fn tv_web_fusion_chains_fourteen_days() {
    let plan = plan(
        "tv_web_fusion.flow",
        include_str!("../../../examples/tv_web_fusion.flow"),
    );
    let first = flowc_builtins::dates::parse("2024-06-03").unwrap();
    let mut previous: Option<(tempfile::TempDir, PathBuf)> = None;
    let mut yesterday: HashMap<i64, i64> = HashMap::new();
    for day in 0..14 {
        let date = flowc_builtins::dates::format(first + day);
        let dir = tempfile::tempdir().unwrap();
        let mut overrides = vec![("day", json!(date))];
        if let Some((_, p)) = &previous {
            overrides.push(("previous_matches", json!(p.to_str().unwrap())));
        }
        let mut run = Run::new(&plan, dir.path(), &overrides);
        run.run(); // asserts the example's checks
        let report: Json =
            serde_json::from_str(&std::fs::read_to_string(run.output("fusion", "report")).unwrap())
                .unwrap();
        let matches = run.output("fusion", "matches");
        let (rid, did) = (ints(&matches, "recipient_id"), ints(&matches, "donor_id"));
        let tv = floats(&run.output("tv", "panel"), "minutes");
        let web_panel = run.output("web", "panel");
        let row: HashMap<i64, usize> = ints(&web_panel, "web_id")
            .into_iter()
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect();
        let web = floats(&web_panel, "minutes");
        let donated: Vec<f64> = did.iter().map(|d| web[row[d]]).collect();
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        let viewing = |x: &[f64]| x.iter().filter(|&&m| m > 0.0).count() as f64 / x.len() as f64;
        let what = format!("{date}: {report}");
        let rel = (mean(&donated) - mean(&tv)) / mean(&tv);
        assert!(rel.abs() < 0.03, "{what}: transferred minutes {rel:+.4}");
        assert!(
            (viewing(&donated) - viewing(&tv)).abs() < 0.02,
            "{what}: viewing share"
        );
        let changed = rid
            .iter()
            .zip(&did)
            .filter(|(r, d)| yesterday.get(r).is_some_and(|y| y != *d))
            .count();
        if day > 0 {
            // The same 3000 panelists every day: every match not kept changed donor.
            assert_eq!(report["new"], json!(changed), "{what}");
            // Each day a TV panelist's viewing state is drawn again with probability 0.2;
            // at weekends some more panelists watch, 12 % longer, and the balance rule also
            // replaces matches to keep the mean of the transferred minutes.
            let weekend = flowc_builtins::dates::weekday(first + day) >= 5;
            let bound = if weekend { 0.6 } else { 0.35 };
            let share = changed as f64 / rid.len() as f64;
            assert!(share < bound, "{what}: {share} of the matches changed");
        }
        yesterday = rid.into_iter().zip(did).collect();
        previous = Some((dir, matches));
    }
}
