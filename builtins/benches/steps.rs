//! The built-in steps of `builtins/bench/whole_process.flow` (generate a synthetic panel, rake
//! it on four variables to 1e-6, each table stored as Parquet), called in-process without the
//! runner, with the allocator of the `flowc` binary: the time of each step (median and minimum
//! of several runs) and the sizes of the tables written, for docs/survey-methods.md; the whole
//! process itself is measured with `flowc run` (survey/bench/run_ipfn.sh).
//!
//! Run with `cargo bench -p flowc-builtins` (optimised build). Optional arguments: row counts,
//! e.g. `cargo bench -p flowc-builtins -- 1000000 10000000` (default 1,000,000).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flowc_builtins::Builtins;
use flowc_compiler::plan::{build_plan, Plan, TaskKind, Value};
use flowc_compiler::{analyze, MemoryLoader};
use flowc_runtime::builtin::{
    ArtifactArg, BuiltinCall, BuiltinRunner, InputArtifact, OutputArtifact,
};
use serde_json::{json, Value as Json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn plan() -> Plan {
    let text = include_str!("../bench/whole_process.flow");
    let loader = MemoryLoader::new().with("whole_process.flow", text);
    let analysis = analyze(&loader, &[PathBuf::from("whole_process.flow")]);
    assert!(!analysis.has_errors(), "{:?}", analysis.diagnostics);
    build_plan(&analysis, None, None).expect("plan")
}

/// Runs the plan's built-in tasks in order with `n` rows; returns each task's time.
fn run(plan: &Plan, dir: &Path, n: i64) -> Vec<(String, Duration)> {
    let pipeline = &plan.pipelines[&plan.entry];
    let mut outputs: std::collections::HashMap<(String, String), PathBuf> = Default::default();
    let mut times = Vec::new();
    for task in &pipeline.tasks {
        let TaskKind::Builtin { module, name } = &task.kind else {
            continue;
        };
        let mut call = BuiltinCall {
            module: module.clone(),
            name: name.clone(),
            params: Default::default(),
            inputs: Default::default(),
            outputs: Default::default(),
            scratch: dir.to_path_buf(),
            workdir: dir.to_path_buf(),
        };
        for input in &task.inputs {
            if input.ty.is_artifact() {
                let Value::Output { task, output, .. } = &input.value else {
                    panic!("artifact from {:?}", input.value);
                };
                call.inputs.insert(
                    input.name.clone(),
                    InputArtifact {
                        arg: ArtifactArg::One(outputs[&(task.clone(), output.clone())].clone()),
                        ty: input.ty.clone(),
                    },
                );
            } else {
                let v = match &input.value {
                    Value::Literal { value } => value.clone(),
                    Value::Param { name } => match name.as_str() {
                        "n" => json!(n),
                        "seed" => json!(42),
                        "day" => json!("2024-06-03"),
                        other => panic!("parameter {other}"),
                    },
                    Value::List { items } => Json::Array(
                        items
                            .iter()
                            .map(|i| match i {
                                Value::Literal { value } => value.clone(),
                                other => panic!("{other:?}"),
                            })
                            .collect(),
                    ),
                    other => panic!("{other:?}"),
                };
                call.params.insert(input.name.clone(), v);
            }
        }
        for output in &task.outputs {
            let path = dir.join(format!("{}.{}", task.id, output.name));
            call.outputs.insert(
                output.name.clone(),
                OutputArtifact {
                    path: path.clone(),
                    ty: output.ty.clone(),
                },
            );
            outputs.insert((task.id.clone(), output.name.clone()), path);
        }
        let start = Instant::now();
        Builtins.run(&call).expect("step");
        times.push((task.id.clone(), start.elapsed()));
    }
    times
}

/// The sizes of the Parquet tables written by a run, in MB.
fn table_sizes(dir: &Path) -> String {
    let mut files: Vec<(String, u64)> = std::fs::read_dir(dir)
        .expect("run folder")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let len = e.metadata().ok()?.len();
            (len > 100_000).then_some((name, len))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|(name, len)| format!("{name} {:.1} MB", *len as f64 / 1e6))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let sizes: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000_000]
    } else {
        sizes
    };
    let plan = plan();
    for n in sizes {
        let reps = if n > 2_000_000 { 3 } else { 7 };
        let mut all: Vec<Vec<(String, Duration)>> = Vec::new();
        let mut written = String::new();
        for _ in 0..reps {
            let dir = tempfile::tempdir().expect("tempdir");
            let start = Instant::now();
            let mut t = run(&plan, dir.path(), n);
            t.push(("total".to_string(), start.elapsed()));
            all.push(t);
            written = table_sizes(dir.path());
        }
        let names: Vec<String> = all[0].iter().map(|(k, _)| k.clone()).collect();
        let line: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut v: Vec<Duration> = all.iter().map(|t| t[i].1).collect();
                v.sort();
                format!(
                    "{name} {:.3} s (min {:.3})",
                    v[v.len() / 2].as_secs_f64(),
                    v[0].as_secs_f64()
                )
            })
            .collect();
        println!(
            "n={n}: {}; median of {reps} (files: {written})",
            line.join(", ")
        );
    }
}
