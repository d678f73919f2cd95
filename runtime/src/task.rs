//! Executing one task instance: the cache lookup, the attempts with retries and backoff, the
//! process or built-in call, storing outputs, and a record per attempt.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::builtin::{ArtifactArg, BuiltinCall, InputArtifact, OutputArtifact};
use crate::engine::{Event, Shared, TaskStatus};
use crate::eval::{ArtifactRef, RValue};
use crate::exec::{run_process, ProcessSpec, Reason};
use crate::record::{Amounts, Record};
use crate::store::{CacheEntry, StoredOutput};
use crate::util::{now_ms, rfc3339};
use flowc_compiler::plan::{CachePlan, Part, Task, TaskKind, TypeRepr};

/// What running an instance gave.
#[derive(Debug)]
pub struct JobResult {
    /// Outputs, on success.
    pub outputs: Option<IndexMap<String, RValue>>,
    /// How it ended.
    pub status: TaskStatus,
    /// Attempts made (0 for a cache hit).
    pub attempts: u32,
    /// Seconds spent.
    pub wall_seconds: f64,
    /// Why it missed the cache, when it did.
    pub cache_note: Option<String>,
    /// The log file.
    pub log: Option<PathBuf>,
}

fn ref_of(store: &crate::store::Store, o: &StoredOutput, ty: &TypeRepr) -> RValue {
    if o.kind == "value" {
        return RValue::Json(store.read_value(&o.object).unwrap_or(Json::Null));
    }
    let _ = ty;
    RValue::Artifact(ArtifactRef {
        object: o.object.clone(),
        kind: o.kind.clone(),
        path: store.object_path(&o.object),
        bytes: o.bytes,
    })
}

fn ingredient(v: &RValue) -> Json {
    match v {
        RValue::Json(j) => j.clone(),
        RValue::Artifact(a) => json!({ "object": a.object }),
        RValue::List(items) => Json::Array(items.iter().map(ingredient).collect()),
    }
}

fn input_bytes(v: &RValue) -> u64 {
    match v {
        RValue::Artifact(a) => a.bytes,
        RValue::List(items) => items.iter().map(input_bytes).sum(),
        RValue::Json(_) => 0,
    }
}

/// Explains a cache miss by comparing the ingredients with those of the last run of the task.
fn explain(last: Option<Json>, now: &Json, caching: bool) -> String {
    if !caching {
        return "caching is off for this step".into();
    }
    let Some(last) = last else {
        return "first run of this step in this store".into();
    };
    let mut why = Vec::new();
    if last.get("definition") != now.get("definition") {
        why.push(
            "the step's definition changed (image, command, environment or built-in version)"
                .to_string(),
        );
    }
    for (section, what) in [("params", "parameter"), ("inputs", "input")] {
        let (Some(Json::Object(a)), Some(Json::Object(b))) = (last.get(section), now.get(section))
        else {
            continue;
        };
        for (k, v) in b {
            match a.get(k) {
                Some(old) if old == v => {}
                Some(old) if section == "params" => {
                    why.push(format!("{what} `{k}` changed from {old} to {v}"))
                }
                Some(_) => why.push(format!("{what} `{k}` has new content")),
                None => why.push(format!("{what} `{k}` is new")),
            }
        }
    }
    if why.is_empty() {
        "its cache entry was missing or expired".into()
    } else {
        why.join("; ")
    }
}

/// Runs one instance of `task` with resolved `inputs`.
pub fn execute(
    sh: &Shared<'_>,
    pipeline: &str,
    task: &Task,
    instance: &str,
    inputs: &IndexMap<String, RValue>,
) -> JobResult {
    let started = Instant::now();
    let store = &sh.store;
    let log = sh.run_dir.join("logs").join(format!(
        "{}.log",
        crate::util::file_safe(&format!("{pipeline}.{instance}"))
    ));
    let mut result = JobResult {
        outputs: None,
        status: TaskStatus::Failed("not run".into()),
        attempts: 0,
        wall_seconds: 0.0,
        cache_note: None,
        log: Some(log.clone()),
    };

    // Sub-pipelines run their own tasks, each cached on its own.
    if let TaskKind::Pipeline { pipeline: inner } = &task.kind {
        let params: IndexMap<String, RValue> = inputs.clone();
        let r = crate::engine::run_pipeline(sh, inner, params, &format!("{instance}/"));
        result.wall_seconds = started.elapsed().as_secs_f64();
        result.log = None;
        result.status = r.status;
        result.outputs = r.outputs;
        return result;
    }

    let builtin_version = match &task.kind {
        TaskKind::Builtin { .. } => sh.builtins.version(),
        _ => String::new(),
    };
    let ingredients = json!({
        "definition": task.definition_sha256,
        "builtins": builtin_version,
        "params": inputs.iter().filter(|(_, v)| !matches!(v, RValue::Artifact(_)) && !matches!(v, RValue::List(_))).map(|(k, v)| (k.clone(), ingredient(v))).collect::<serde_json::Map<_, _>>(),
        "inputs": inputs.iter().filter(|(_, v)| matches!(v, RValue::Artifact(_) | RValue::List(_))).map(|(k, v)| (k.clone(), ingredient(v))).collect::<serde_json::Map<_, _>>(),
    });
    let key = format!(
        "{:x}",
        Sha256::digest(
            serde_json::to_string(&ingredients)
                .unwrap_or_default()
                .as_bytes()
        )
    );
    let caching = !matches!(task.settings.cache, CachePlan::Off);
    let slot = format!("{pipeline}/{}", task.id);
    // Serialise work on one key across runs, so the second finds the first one's outputs in
    // the cache; released when `_key_lock` drops. Without caching there is nothing to share.
    let _key_lock = caching.then(|| store.lock_key(&key).ok()).flatten();
    // The ingredients of the task's last run, to explain a miss; remembered again only when
    // they changed.
    let last = if caching {
        store.last_ingredients(&slot)
    } else {
        None
    };
    let remember = |store: &crate::store::Store| {
        if last.as_ref() != Some(&ingredients) {
            store.set_last_ingredients(&slot, &ingredients);
        }
    };
    let in_bytes: u64 = inputs.values().map(input_bytes).sum();
    let res = &task.settings.resources;
    let requests = Amounts {
        cpu_millis: res.cpu_millis,
        memory_bytes: res.memory_bytes,
        gpu: res.gpu.unwrap_or(0),
    };
    let limits = Amounts {
        cpu_millis: res.cpu_limit_millis,
        memory_bytes: res.memory_limit_bytes.or(res.memory_bytes),
        gpu: res.gpu.unwrap_or(0),
    };
    let record = |attempt: u32,
                  start: u64,
                  end: u64,
                  reason: Reason,
                  p: Option<&crate::exec::ProcessResult>,
                  out_bytes: u64| Record {
        schema: crate::record::SCHEMA,
        pipeline: pipeline.to_string(),
        version: sh.plan.pipeline_version.clone(),
        step: task.step.clone(),
        task: instance.to_string(),
        run_id: sh.run_id.clone(),
        attempt,
        start: rfc3339(start),
        end: rfc3339(end),
        wall_seconds: p.map_or((end - start) as f64 / 1000.0, |p| p.wall_seconds),
        cpu_seconds: p.map_or(0.0, |p| p.cpu_seconds),
        peak_rss_bytes: p.map_or(0, |p| p.peak_rss_bytes),
        exit_code: p.and_then(|p| p.exit_code),
        signal: p.and_then(|p| p.signal),
        reason: reason.as_str(),
        input_bytes: in_bytes,
        output_bytes: out_bytes,
        requests: requests.clone(),
        limits: limits.clone(),
        host: sh.host.clone(),
    };

    if caching {
        if let Some(entry) = store.cache_get(&key) {
            let fresh = match task.settings.cache {
                CachePlan::Ttl { ttl_ms } => now_ms().saturating_sub(entry.created_ms) <= ttl_ms,
                _ => true,
            };
            if fresh {
                let outputs: IndexMap<String, RValue> = task
                    .outputs
                    .iter()
                    .filter_map(|o| {
                        entry
                            .outputs
                            .get(&o.name)
                            .map(|s| (o.name.clone(), ref_of(store, s, &o.ty)))
                    })
                    .collect();
                let t = now_ms();
                let out_bytes = entry.outputs.values().map(|o| o.bytes).sum();
                sh.records
                    .write(&record(0, t, t, Reason::Cached, None, out_bytes));
                remember(store);
                result.outputs = Some(outputs);
                result.status = TaskStatus::Cached;
                result.log = None;
                result.wall_seconds = started.elapsed().as_secs_f64();
                return result;
            }
        }
    }
    result.cache_note = Some(explain(last.clone(), &ingredients, caching));

    let total = task.settings.retries + 1;
    // Whether an attempt wrote to the log: a quiet step has none.
    let mut logged = false;
    let mut delay = task.settings.backoff_ms.unwrap_or(0);
    for attempt in 1..=total {
        result.attempts = attempt;
        if sh.cancel.load(Ordering::Relaxed) {
            result.status = TaskStatus::Cancelled;
            break;
        }
        sh.obs.event(&Event::Started {
            task: format!("{pipeline}.{instance}"),
            attempt,
        });
        let work = store
            .tmp_dir(&sh.run_id)
            .join(crate::util::file_safe(&format!(
                "{pipeline}.{instance}.{attempt}"
            )));
        // A process writes its outputs straight into its work folder, and a process without
        // outputs needs none (a folder costs as much as a file to create); a built-in gets
        // `out/` beside its scratch space.
        let (out_dir, needs_work) = match &task.kind {
            TaskKind::Builtin { .. } => (work.join("out"), true),
            _ => (work.clone(), !task.outputs.is_empty()),
        };
        if needs_work {
            if let Err(e) = std::fs::create_dir_all(&out_dir) {
                result.status = TaskStatus::Failed(format!("cannot create a work folder: {e}"));
                break;
            }
        }
        let start = now_ms();
        let (reason, process, detail) = match &task.kind {
            TaskKind::Container { command, env, .. } => {
                let spec = container_spec(sh, task, command, env, inputs, &out_dir, &log);
                let p = run_process(&spec, sh.cancel);
                let detail = process_detail(&p, &limits, None);
                (p.reason, Some(p), detail)
            }
            TaskKind::Builtin { module, name } => {
                let mut call = builtin_call(task, module, name, inputs, &out_dir, &work);
                call.workdir.clone_from(&sh.workdir);
                let call_file = work.join("call.json");
                // A process of its own when something must hold or be measured for this step
                // alone: a timeout, a memory limit, or resources that autotune sets. Otherwise
                // in this process, which saves starting one (about 10 ms a step).
                let own_process = task.settings.timeout_ms.is_some()
                    || limits.memory_bytes.is_some()
                    || task.settings.resources.auto;
                let argv = if own_process {
                    sh.builtins.process(&call_file)
                } else {
                    None
                };
                match argv {
                    Some(argv) => builtin_process(sh, task, &call, &call_file, argv, &log, &limits),
                    None => builtin_in_process(sh, &call, &log),
                }
            }
            TaskKind::Pipeline { .. } => (Reason::Failed, None, None),
        };
        let end = now_ms();
        logged |= process.as_ref().is_some_and(|p| p.logged);
        if reason == Reason::Ok {
            match collect_outputs(sh, task, &out_dir) {
                Ok((outputs, stored, out_bytes)) => {
                    sh.records.write(&record(
                        attempt,
                        start,
                        end,
                        reason,
                        process.as_ref(),
                        out_bytes,
                    ));
                    if caching {
                        let entry = CacheEntry {
                            key: key.clone(),
                            created_ms: now_ms(),
                            run_id: sh.run_id.clone(),
                            outputs: stored,
                        };
                        let _ = store.cache_put(&entry);
                        remember(store);
                    }
                    if needs_work {
                        let _ = std::fs::remove_dir_all(&work);
                    }
                    result.outputs = Some(outputs);
                    result.status = TaskStatus::Succeeded;
                    break;
                }
                Err(why) => {
                    sh.records.write(&record(
                        attempt,
                        start,
                        end,
                        Reason::Failed,
                        process.as_ref(),
                        0,
                    ));
                    result.status = TaskStatus::Failed(why);
                }
            }
        } else {
            sh.records
                .write(&record(attempt, start, end, reason, process.as_ref(), 0));
            let detail = detail.unwrap_or_else(|| reason.as_str().to_string());
            result.status = match reason {
                Reason::Cancelled => TaskStatus::Cancelled,
                Reason::Oom => TaskStatus::Failed(format!("out of memory: {detail}")),
                Reason::Timeout => TaskStatus::Failed(format!("timeout: {detail}")),
                _ => TaskStatus::Failed(detail),
            };
        }
        if needs_work {
            let _ = std::fs::remove_dir_all(&work);
        }
        if matches!(result.status, TaskStatus::Cancelled) || attempt == total {
            break;
        }
        sh.obs.event(&Event::Retrying {
            task: format!("{pipeline}.{instance}"),
            attempt: attempt + 1,
            delay_ms: delay,
            why: status_text(&result.status),
        });
        let deadline = Instant::now() + Duration::from_millis(delay);
        while Instant::now() < deadline && !sh.cancel.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let factor = task.settings.backoff_factor.unwrap_or(1.0);
        delay = ((delay as f64) * factor) as u64;
        if let Some(max) = task.settings.backoff_max_ms {
            delay = delay.min(max);
        }
    }
    if !logged {
        result.log = None;
    }
    result.wall_seconds = started.elapsed().as_secs_f64();
    result
}

fn status_text(s: &TaskStatus) -> String {
    match s {
        TaskStatus::Failed(w) | TaskStatus::Skipped(w) => w.clone(),
        other => format!("{other:?}"),
    }
}

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

fn container_spec(
    sh: &Shared<'_>,
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
    vars.push(("FLOWC_RUN_ID".into(), sh.run_id.clone()));
    vars.push(("FLOWC_TASK".into(), task.id.clone()));
    let mut secrets = Vec::new();
    for (var, secret) in &task.settings.secret_env {
        if let Some(v) = sh.secrets.get(secret) {
            vars.push((var.clone(), v.clone()));
            secrets.push(v.clone());
        }
    }
    for (path, secret) in &task.settings.secret_mounts {
        if let Some(file) = sh.secret_files.get(secret) {
            vars.push((
                format!(
                    "FLOWC_SECRET_FILE_{}",
                    crate::util::file_safe(secret).to_ascii_uppercase()
                ),
                file.to_string_lossy().into_owned(),
            ));
            let _ = path;
        }
        if let Some(v) = sh.secrets.get(secret) {
            secrets.push(v.clone());
        }
    }
    let res = &task.settings.resources;
    ProcessSpec {
        argv,
        env: vars,
        cwd: sh.workdir.clone(),
        log: log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit: res.memory_limit_bytes.or(res.memory_bytes),
        secrets,
    }
}

/// Runs a built-in step in a process of its own (see [`crate::builtin::BuiltinRunner::process`]):
/// the call is saved as JSON, the process runs under the step's timeout and memory limit, and
/// a failure's detail is the step's own error.
fn builtin_process(
    sh: &Shared<'_>,
    task: &Task,
    call: &crate::builtin::BuiltinCall,
    call_file: &Path,
    argv: Vec<String>,
    log: &Path,
    limits: &Amounts,
) -> (Reason, Option<crate::exec::ProcessResult>, Option<String>) {
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
            ("FLOWC_RUN_ID".into(), sh.run_id.clone()),
            ("FLOWC_TASK".into(), task.id.clone()),
        ],
        cwd: sh.workdir.clone(),
        log: log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit: limits.memory_bytes,
        secrets: Vec::new(),
    };
    let p = run_process(&spec, sh.cancel);
    let own_error = std::fs::read_to_string(crate::builtin::error_file(call_file))
        .ok()
        .map(|e| e.trim_end().to_string())
        .filter(|e| !e.is_empty());
    let detail = process_detail(&p, limits, own_error);
    (p.reason, Some(p), detail)
}

/// Runs a built-in step on this thread.
fn builtin_in_process(
    sh: &Shared<'_>,
    call: &crate::builtin::BuiltinCall,
    log: &Path,
) -> (Reason, Option<crate::exec::ProcessResult>, Option<String>) {
    let t0 = Instant::now();
    let r = sh.builtins.run(call);
    let wall = t0.elapsed().as_secs_f64();
    let p = crate::exec::ProcessResult {
        reason: if r.is_ok() {
            Reason::Ok
        } else {
            Reason::Failed
        },
        exit_code: Some(if r.is_ok() { 0 } else { 1 }),
        signal: None,
        wall_seconds: wall,
        cpu_seconds: wall,
        peak_rss_bytes: crate::engine::process_peak_rss(),
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
fn process_detail(
    p: &crate::exec::ProcessResult,
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

fn builtin_call(
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

/// Outputs as values, as stored objects, and their total size.
type Collected = (
    IndexMap<String, RValue>,
    IndexMap<String, StoredOutput>,
    u64,
);

/// Moves a successful attempt's outputs into the store.
fn collect_outputs(sh: &Shared<'_>, task: &Task, out_dir: &Path) -> Result<Collected, String> {
    let mut outputs = IndexMap::new();
    let mut stored = IndexMap::new();
    let mut bytes = 0;
    for o in &task.outputs {
        let path = out_dir.join(&o.name);
        if !path.exists() {
            return Err(format!(
                "the step succeeded but did not write its output `{}`",
                o.name
            ));
        }
        let s = if o.ty.is_artifact() {
            sh.store
                .put(&path)
                .map_err(|e| format!("cannot store output `{}`: {e}", o.name))?
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read output `{}`: {e}", o.name))?;
            let value = crate::params::parse(&o.ty, text.trim_end_matches('\n'))
                .map_err(|why| format!("output `{}`: {why}", o.name))?;
            sh.store
                .put_value(&value, out_dir)
                .map_err(|e| format!("cannot store output `{}`: {e}", o.name))?
        };
        bytes += s.bytes;
        outputs.insert(o.name.clone(), ref_of(&sh.store, &s, &o.ty));
        stored.insert(o.name.clone(), s);
    }
    Ok((outputs, stored, bytes))
}
