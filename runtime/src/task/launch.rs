//! Starting a step: a container step's command and environment, and a built-in step's call,
//! run in this process or in one of its own.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::builtin::{ArtifactArg, BuiltinCall, InputArtifact, OutputArtifact};
use crate::context::RunContext;
use crate::eval::RValue;
use crate::exec::{process_peak_rss, run_process, ProcessResult, ProcessSpec, Reason};
use crate::record::Amounts;
use flowc_compiler::plan::{Part, Task};

/// How running a step ended: why, the process's measures (none when it could not start), and
/// the failure in words.
pub(super) type StepEnd = (Reason, Option<ProcessResult>, Option<String>);

fn part_text(p: &Part, inputs: &IndexMap<String, RValue>, out_dir: &Path) -> String {
    match p {
        Part::Text { text } => text.clone(),
        Part::Param { name } | Part::InputPath { name } => {
            inputs.get(name).map(RValue::to_text).unwrap_or_default()
        }
        Part::OutputPath { name } => out_dir.join(name).to_string_lossy().into_owned(),
        Part::Value { .. } => String::new(),
    }
}

pub(super) fn container_spec(
    ctx: &RunContext<'_>,
    task: &Task,
    command: &[Vec<Part>],
    env: &[(String, Vec<Part>)],
    inputs: &IndexMap<String, RValue>,
    out_dir: &Path,
    log: &Path,
) -> ProcessSpec {
    let argv = command
        .iter()
        .map(|parts| {
            parts
                .iter()
                .map(|p| part_text(p, inputs, out_dir))
                .collect::<String>()
        })
        .collect();
    let mut vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, parts)| {
            (
                k.clone(),
                parts
                    .iter()
                    .map(|p| part_text(p, inputs, out_dir))
                    .collect(),
            )
        })
        .collect();
    vars.push(("FLOWC_RUN_ID".into(), ctx.run_id.clone()));
    vars.push(("FLOWC_TASK".into(), task.id.clone()));
    let mut secrets = Vec::new();
    for (var, secret) in &task.settings.secret_env {
        if let Some(v) = ctx.secrets.get(secret) {
            vars.push((var.clone(), v.clone()));
            secrets.push(v.clone());
        }
    }
    for (path, secret) in &task.settings.secret_mounts {
        if let Some(file) = ctx.secret_files.get(secret) {
            vars.push((
                format!(
                    "FLOWC_SECRET_FILE_{}",
                    crate::util::file_safe(secret).to_ascii_uppercase()
                ),
                file.to_string_lossy().into_owned(),
            ));
            let _ = path;
        }
        if let Some(v) = ctx.secrets.get(secret) {
            secrets.push(v.clone());
        }
    }
    let res = &task.settings.resources;
    ProcessSpec {
        argv,
        env: vars,
        cwd: ctx.workdir.clone(),
        log: log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit: res.memory_limit_bytes.or(res.memory_bytes),
        secrets,
    }
}

/// Runs a built-in step in a process of its own (see [`crate::builtin::BuiltinRunner::process`]):
/// the call is saved as JSON, the process runs under the step's timeout and memory limit, and
/// a failure's detail is the step's own error.
pub(super) fn builtin_process(
    ctx: &RunContext<'_>,
    task: &Task,
    call: &BuiltinCall,
    call_file: &Path,
    argv: Vec<String>,
    log: &Path,
    limits: &Amounts,
) -> StepEnd {
    let saved = serde_json::to_vec(call)
        .map_err(|e| e.to_string())
        .and_then(|bytes| std::fs::write(call_file, bytes).map_err(|e| e.to_string()));
    if let Err(e) = saved {
        return (
            Reason::Failed,
            None,
            Some(format!("cannot save the call of the built-in step: {e}")),
        );
    }
    let spec = ProcessSpec {
        argv,
        env: vec![
            ("FLOWC_RUN_ID".into(), ctx.run_id.clone()),
            ("FLOWC_TASK".into(), task.id.clone()),
        ],
        cwd: ctx.workdir.clone(),
        log: log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit: limits.memory_bytes,
        secrets: Vec::new(),
    };
    let p = run_process(&spec, ctx.cancel);
    let own_error = std::fs::read_to_string(crate::builtin::error_file(call_file))
        .ok()
        .map(|e| e.trim_end().to_string())
        .filter(|e| !e.is_empty());
    let detail = process_detail(&p, limits, own_error);
    (p.reason, Some(p), detail)
}

/// Runs a built-in step on this thread.
pub(super) fn builtin_in_process(ctx: &RunContext<'_>, call: &BuiltinCall, log: &Path) -> StepEnd {
    let t0 = Instant::now();
    let r = ctx.builtins.run(call);
    let wall = t0.elapsed().as_secs_f64();
    let p = ProcessResult {
        reason: if r.is_ok() {
            Reason::Ok
        } else {
            Reason::Failed
        },
        exit_code: Some(if r.is_ok() { 0 } else { 1 }),
        signal: None,
        wall_seconds: wall,
        cpu_seconds: wall,
        peak_rss_bytes: process_peak_rss(),
        error: r.as_ref().err().map(|e| e.to_string()),
        logged: r.is_err(),
    };
    if let Err(e) = &r {
        let _ = std::fs::write(
            log,
            format!(
                "flowc: built-in {}.{} failed: {e}\n",
                call.module, call.name
            ),
        );
    }
    (p.reason, Some(p), r.err().map(|e| e.to_string()))
}

/// Why a process attempt did not succeed, in words: its own error when it left one (a built-in
/// step's code and message), else its exit code or signal, memory limit or timeout.
pub(super) fn process_detail(
    p: &ProcessResult,
    limits: &Amounts,
    own_error: Option<String>,
) -> Option<String> {
    p.error.clone().or_else(|| match p.reason {
        Reason::Failed => Some(own_error.unwrap_or_else(|| match (p.exit_code, p.signal) {
            (Some(c), _) => format!("exited with code {c}"),
            (_, Some(s)) => format!("killed by signal {s}"),
            _ => "failed".into(),
        })),
        Reason::Oom => Some(format!(
            "exceeded its memory limit ({} bytes)",
            limits.memory_bytes.unwrap_or(0)
        )),
        Reason::Timeout => Some("exceeded its timeout".into()),
        _ => None,
    })
}

pub(super) fn builtin_call(
    task: &Task,
    module: &str,
    name: &str,
    inputs: &IndexMap<String, RValue>,
    out_dir: &Path,
    work: &Path,
) -> BuiltinCall {
    let mut params = IndexMap::new();
    let mut arts = IndexMap::new();
    for i in &task.inputs {
        let v = inputs
            .get(&i.name)
            .cloned()
            .unwrap_or(RValue::Json(Json::Null));
        if i.ty.is_artifact() {
            let arg = match v {
                RValue::Artifact(a) => ArtifactArg::One(a.path),
                RValue::List(items) => ArtifactArg::Many(
                    items
                        .into_iter()
                        .filter_map(|x| match x {
                            RValue::Artifact(a) => Some(a.path),
                            _ => None,
                        })
                        .collect(),
                ),
                RValue::Json(_) => ArtifactArg::Absent,
            };
            arts.insert(
                i.name.clone(),
                InputArtifact {
                    arg,
                    ty: i.ty.clone(),
                },
            );
        } else {
            params.insert(i.name.clone(), v.to_json());
        }
    }
    let outputs = task
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                OutputArtifact {
                    path: out_dir.join(&o.name),
                    ty: o.ty.clone(),
                },
            )
        })
        .collect();
    BuiltinCall {
        module: module.to_string(),
        name: name.to_string(),
        params,
        inputs: arts,
        outputs,
        scratch: work.to_path_buf(),
        workdir: PathBuf::new(),
    }
}
