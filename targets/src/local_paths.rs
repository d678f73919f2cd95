//! Local paths of `std.io` steps on the cluster targets (`E432`).
//!
//! `read_csv`, `read_parquet`, `write_csv` and `write_parquet` take a `path`. Run by
//! `flowc run`, a local path is a file of this machine; in the cluster the step runs in a pod,
//! where a local path is the pod's own disk, thrown away when the step ends. So a path known
//! at build time (a literal, or a string whose interpolations come after its first part) must
//! be a URL (`s3://...`) or lie on a volume the step mounts (`mount results at "/results"`,
//! `path: "/results/rows.csv"`). A path that starts with an interpolation, or is a parameter,
//! is known only when the pipeline runs, and is not checked.

use flowc_compiler::plan::{Part, Plan, Task, TaskKind, Value};

use crate::{diagnostics, Place, TargetIssue};

/// The steps of `std.io` that take a `path`.
const PATH_STEPS: [&str; 4] = ["read_csv", "read_parquet", "write_csv", "write_parquet"];

/// The text a value starts with, when known at build time, and the value as written (with
/// `${name}` for its interpolations).
fn known_prefix(v: &Value) -> Option<(String, String)> {
    match v {
        Value::Literal { value } => value.as_str().map(|s| (s.to_string(), s.to_string())),
        Value::Template { parts } => {
            let Some(Part::Text { text }) = parts.first() else {
                return None;
            };
            let shown = parts
                .iter()
                .map(|p| match p {
                    Part::Text { text } => text.clone(),
                    Part::Param { name } | Part::InputPath { name } | Part::OutputPath { name } => {
                        format!("${{{name}}}")
                    }
                    Part::Value { value } => match value.as_ref() {
                        Value::Param { name } => format!("${{{name}}}"),
                        _ => "${...}".to_string(),
                    },
                })
                .collect();
            Some((text.clone(), shown))
        }
        _ => None,
    }
}

/// Whether a path starting with `prefix` is fine in a pod of `task`: a URL, or on a volume
/// the task mounts.
fn reachable(prefix: &str, task: &Task) -> bool {
    prefix.contains("://")
        || task.settings.volume_mounts.iter().any(|(mount, _)| {
            prefix
                .strip_prefix(mount.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// The `E432` problems of `plan` on `target` (`Argo`, `KFP`).
pub(crate) fn problems(plan: &Plan, target: &str) -> Vec<TargetIssue> {
    let mut out = Vec::new();
    for (pipeline, p) in &plan.pipelines {
        for task in &p.tasks {
            let TaskKind::Builtin { module, name } = &task.kind else {
                continue;
            };
            if module != "std.io" || !PATH_STEPS.contains(&name.as_str()) {
                continue;
            }
            let Some(input) = task.inputs.iter().find(|i| i.name == "path") else {
                continue;
            };
            let Some((prefix, shown)) = known_prefix(&input.value) else {
                continue;
            };
            if reachable(&prefix, task) {
                continue;
            }
            let at = Place {
                task: Some((pipeline.clone(), task.id.clone())),
                span: task.span,
            };
            out.push(diagnostics::local_path_on_cluster(at, &shown, name, target));
        }
    }
    out
}
