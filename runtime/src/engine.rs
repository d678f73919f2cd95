//! A run from start to end: [`run`] checks what the run needs before anything runs (built-in
//! steps, parameters, secrets, input files), creates the run folder, hands the entry pipeline to
//! the scheduler (`scheduler.rs`), and writes the run's summary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::budget::Budget;
use crate::builtin::BuiltinRunner;
use crate::context::RunContext;
use crate::error::{RunCode, RunError};
use crate::eval::{ArtifactRef, RValue};
use crate::record::Host;
use crate::run_folder::{create_run_folder, write_plan_json, write_summary};
use crate::scheduler::{run_pipeline, PipelineResult};
use crate::store::{copy_into, Store};
use crate::types::{Observer, RunOptions, RunSummary};
use crate::util::{now_ms, rfc3339};
use flowc_compiler::plan::{PipelinePlan, Plan, SecretRef, TaskKind};

/// Runs the entry pipeline of `plan`.
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    builtins: &dyn BuiltinRunner,
    obs: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<RunSummary, RunError> {
    let selected;
    let (plan, step) = match &opts.step {
        Some(sel) => {
            let (cut, sel) = crate::one_step::select(plan, sel)?;
            selected = cut;
            (&selected, Some(sel))
        }
        None => (plan, None),
    };
    let entry = plan
        .entry()
        .ok_or_else(|| RunError::new(RunCode::Unrunnable, "the plan has no entry pipeline"))?;
    refuse_missing_builtins(plan, builtins)?;
    crate::huge_pages::settle(plan);
    let params = crate::params::resolve(entry, &opts.param_file, &opts.params)?;
    let secrets = Secrets::read(&plan.secrets, &opts.secrets, SECRET)?;
    let configs = Secrets::read(&plan.configs, &opts.configs, CONFIG)?;
    let local = crate::sandbox::local_engine(opts, &containers(plan), obs)?;
    let store = match &opts.remote {
        Some(url) => {
            Store::open_remote(&opts.store, Box::new(crate::store::s3::S3::connect(url)?))?
        }
        None => Store::open(&opts.store)?,
    };
    let python = match local.engine {
        crate::types::Engine::Docker | crate::types::Engine::Podman => None,
        _ => crate::python::prepare(plan, &opts.python, store.root())?,
    };
    let reuse = match step {
        Some(sel) => Some(crate::one_step::Reuse::new(store.root(), sel)?),
        None => None,
    };
    let run_id = new_run_id();
    let run_dir = store.run_dir(&run_id);
    let records = create_run_folder(&store, plan, (&run_id, &run_dir), &params, opts)?;
    // The plan's JSON (half a megabyte for 300 steps) is written beside the first steps, on
    // a thread of its own, and is in the run folder before the run's summary.
    let plan_file = (store.root().join("tmp"), run_dir.join("plan.json"));
    std::thread::scope(|scope| {
        let plan_json = scope.spawn(|| write_plan_json(plan, &plan_file.0, &plan_file.1));
        let host = crate::record::host();
        let budget = budget_for(opts, &host);
        let values = import_params(&store, &run_id, entry, &params, opts)?;
        let volumes = crate::volumes::LocalVolumes::prepare(plan, store.root(), &run_id)?;
        let ctx = RunContext {
            store,
            plan,
            builtins,
            obs,
            cancel,
            records,
            run_id: run_id.clone(),
            run_dir: run_dir.clone(),
            workdir: opts.workdir.clone(),
            host,
            secrets: secrets.values,
            secret_files: secrets.files,
            secret_parts: secrets.parts,
            configs: configs.values,
            config_files: configs.files,
            volumes,
            local,
            python,
            budget: Mutex::new(budget),
            reuse,
            instances: crate::one_step::InstanceLog::open(&run_dir),
            fail_fast: opts.fail_fast,
            verify: opts.verify,
            reports: Mutex::new(Vec::new()),
        };
        let result = run_pipeline(&ctx, &plan.entry, values, "");
        ctx.volumes.finish();
        let _ = ctx.store.save_last_ingredients();
        let _ = std::fs::remove_dir_all(ctx.store.tmp_dir(&run_id));
        let written = plan_json
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("its writer stopped")));
        if let Err(e) = written {
            obs.event(&crate::types::Event::Note(format!(
                "the run's plan.json was not written: {e}"
            )));
        }
        let summary = summarise(&ctx, result, cancel.load(Ordering::Relaxed));
        write_summary(&ctx.store, plan, &summary);
        if let Err(e) = ctx.store.publish_run(&run_id) {
            obs.event(&crate::types::Event::Note(format!(
                "the run's records were not all copied to the store: {e}"
            )));
        }
        Ok(summary)
    })
}

/// Built-ins this build lacks are refused before anything runs.
fn refuse_missing_builtins(plan: &Plan, builtins: &dyn BuiltinRunner) -> Result<(), RunError> {
    for p in plan.pipelines.values() {
        for t in &p.tasks {
            if let TaskKind::Builtin { module, name } = &t.kind {
                if !builtins.has(module, name) {
                    return Err(RunError::new(RunCode::Unrunnable, format!("built-in step `{module}.{name}` (task `{}`) is not available in this build of flowc", t.id)));
                }
            }
        }
    }
    Ok(())
}

/// The plan's container steps (which the engine runs): whether it has any, and the first
/// whose step turns the network off (`network off`), if any.
fn containers(plan: &Plan) -> crate::sandbox::Containers {
    let mut tasks = plan
        .pipelines
        .values()
        .flat_map(|p| &p.tasks)
        .filter(|t| matches!(t.kind, TaskKind::Container { .. }));
    let any = tasks.clone().next().is_some();
    let offline = tasks
        .find(|t| t.settings.network_off)
        .map(|t| t.step.clone());
    crate::sandbox::Containers { any, offline }
}

/// What a kind of file-valued reference is called, for [`Secrets::read`]'s messages.
struct FileKind {
    /// `secret` or `config`.
    word: &'static str,
    /// The code of a bad value.
    code: RunCode,
}

const SECRET: FileKind = FileKind {
    word: "secret",
    code: RunCode::BadSecret,
};

const CONFIG: FileKind = FileKind {
    word: "config",
    code: RunCode::BadConfig,
};

/// The secrets given with `--secret name=file` (or the configs given with `--config`); a whole
/// Secret or ConfigMap (no `key`) is given as a folder, one file per key.
struct Secrets {
    /// Values by name: the file's bytes, unchanged (empty for a whole object).
    values: HashMap<String, Vec<u8>>,
    /// The files (folders for whole objects), by name.
    files: HashMap<String, PathBuf>,
    /// The bytes of each file of a whole object's folder, by name (to hide them in logs).
    parts: HashMap<String, Vec<Vec<u8>>>,
}

impl Secrets {
    /// Reads the files `given` for the secrets (or configs) `known` of the plan; one the plan
    /// does not use is an error.
    fn read(
        known: &IndexMap<String, SecretRef>,
        given: &[(String, PathBuf)],
        kind: FileKind,
    ) -> Result<Secrets, RunError> {
        let FileKind { word, code } = kind;
        let mut values = HashMap::new();
        let mut files = HashMap::new();
        let mut parts = HashMap::new();
        for (name, path) in given {
            if !known.contains_key(name) {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                return Err(
                    RunError::new(code, format!("the pipeline uses no {word} `{name}`")).hint(
                        if names.is_empty() {
                            format!("it uses no {word}s")
                        } else {
                            format!("its {word}s are: {}", names.join(", "))
                        },
                    ),
                );
            }
            let unreadable = |e: std::io::Error| {
                RunError::new(
                    code,
                    format!(
                        "cannot read the file of {word} `{name}` (`{}`): {e}",
                        path.display()
                    ),
                )
            };
            let whole = known.get(name).is_some_and(SecretRef::is_whole);
            if path.exists() && whole != path.is_dir() {
                return Err(wrong_kind(word, name, path, whole));
            }
            if whole {
                parts.insert(name.clone(), read_folder(path).map_err(unreadable)?);
                values.insert(name.clone(), Vec::new());
            } else {
                values.insert(name.clone(), std::fs::read(path).map_err(unreadable)?);
            }
            files.insert(
                name.clone(),
                std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()),
            );
        }
        Ok(Secrets {
            values,
            files,
            parts,
        })
    }
}

/// R040: a file given for a whole object, or a folder for one key.
fn wrong_kind(word: &str, name: &str, path: &Path, whole: bool) -> RunError {
    let (declared, wanted, given) = if whole {
        (
            "a whole object (no `key`)",
            "a folder with one file per key",
            "not a folder",
        )
    } else {
        ("one key", "the key's file", "a folder")
    };
    RunError::new(
        RunCode::WrongSecretKind,
        format!(
            "{word} `{name}` names {declared}, but `{}` is {given}",
            path.display()
        ),
    )
    .hint(format!("pass {wanted}: `--{word} {name}=PATH`"))
}

/// The bytes of each file of a folder (a whole Secret's keys), in name order; the folders in
/// it (such as the `..data` links Kubernetes makes) are skipped.
fn read_folder(dir: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.iter().map(std::fs::read).collect()
}

fn new_run_id() -> String {
    // `20261128T163405.295Z-eaf1`: sorts in time order, unique across concurrent runs.
    let ts = rfc3339(now_ms());
    let compact: String = ts
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, 'T' | '.' | 'Z'))
        .collect();
    let tail = &flowc_compiler::hash::short_hash(&crate::util::unique())[..4];
    format!("{compact}-{tail}")
}

/// The run's budget: the options' CPU, memory and jobs, else the machine's.
fn budget_for(opts: &RunOptions, host: &Host) -> Budget {
    let cpus = opts.cpu_millis.unwrap_or(host.cpus as u64 * 1000).max(1);
    let memory = opts
        .memory_bytes
        .or_else(|| crate::record::meminfo("MemAvailable"))
        .unwrap_or(host.memory_bytes)
        .max(1);
    let jobs = opts.jobs.unwrap_or(host.cpus).max(1);
    Budget::new(cpus, memory, jobs)
}

/// The entry pipeline's parameter values; files given by path for artifact parameters are
/// imported into the store.
fn import_params(
    store: &Store,
    run_id: &str,
    entry: &PipelinePlan,
    params: &IndexMap<String, Json>,
    opts: &RunOptions,
) -> Result<IndexMap<String, RValue>, RunError> {
    let mut values: IndexMap<String, RValue> = IndexMap::new();
    for p in &entry.params {
        let v = params.get(&p.name).cloned().unwrap_or(Json::Null);
        let value = if p.ty.is_artifact() && !v.is_null() {
            let path = PathBuf::from(v.as_str().unwrap_or_default());
            let path = if path.is_absolute() {
                path
            } else {
                opts.workdir.join(path)
            };
            import_file(store, run_id, &p.name, &path)?
        } else {
            RValue::Json(v)
        };
        values.insert(p.name.clone(), value);
    }
    Ok(values)
}

/// Copies the file (or folder) at `path`, given for parameter `name`, into the store.
fn import_file(
    store: &Store,
    run_id: &str,
    name: &str,
    path: &std::path::Path,
) -> Result<RValue, RunError> {
    if !path.exists() {
        return Err(RunError::new(
            RunCode::MissingInput,
            format!(
                "input file `{}` for parameter `{name}` does not exist",
                path.display(),
            ),
        ));
    }
    let copy = store.tmp_dir(run_id).join(format!("param-{name}"));
    let _ = std::fs::create_dir_all(store.tmp_dir(run_id));
    copy_into(path, &copy).map_err(|e| {
        RunError::new(
            RunCode::MissingInput,
            format!("cannot read input `{}`: {e}", path.display()),
        )
    })?;
    let o = store.put(&copy).map_err(|e| {
        RunError::new(
            RunCode::StoreUnavailable,
            format!("cannot store input `{}`: {e}", path.display()),
        )
    })?;
    Ok(RValue::Artifact(ArtifactRef {
        path: store.object_path(&o.object),
        object: o.object,
        kind: o.kind,
        bytes: o.bytes,
    }))
}

/// The outcome of the run, from the entry pipeline's result and the reports of its tasks.
fn summarise(ctx: &RunContext<'_>, result: PipelineResult, cancelled: bool) -> RunSummary {
    let status = if cancelled {
        "cancelled"
    } else if result.status.finished_ok() && result.failed_checks.is_empty() {
        "succeeded"
    } else {
        "failed"
    };
    let outputs: Vec<(String, Json)> = result
        .outputs
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.to_json()))
        .collect();
    let tasks = ctx.reports.lock().map(|r| r.clone()).unwrap_or_default();
    RunSummary {
        run_id: ctx.run_id.clone(),
        run_dir: ctx.run_dir.clone(),
        status: status.to_string(),
        tasks,
        outputs,
        failed_checks: result.failed_checks,
    }
}
