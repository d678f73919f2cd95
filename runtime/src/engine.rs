//! The scheduler: runs a plan's tasks in dependency order, in parallel within the machine's CPU
//! and memory, skipping what a failure or a false condition makes pointless.
//!
//! A task starts when everything it reads from or runs `after` has finished. Its loops are expanded
//! into instances then; each instance's condition is evaluated, its inputs resolved, and it runs on
//! a worker thread when its CPU and memory requests fit in what is free (a task asking more than
//! the machine runs alone). Workers are kept for the next task, and the only task that can run
//! while nothing else runs (every step of a chain) runs on the scheduler's own thread, so a step
//! costs no thread start and no hand-over between threads. A failed task skips its dependents while
//! other branches go on (`--fail-fast` stops everything); a false `check` stops new tasks from
//! starting; `finally` tasks run last, whatever happened.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use crate::builtin::BuiltinRunner;
use crate::error::{RunCode, RunError};
use crate::eval::{eval, tasks_of, ArtifactRef, Env, RValue};
use crate::record::{Host, RecordWriter};
use crate::store::Store;
use crate::task::{execute, JobResult};
use flowc_compiler::plan::{PipelinePlan, Plan, Task, TypeRepr};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The store folder.
    pub store: PathBuf,
    /// The folder steps run in (the project folder).
    pub workdir: PathBuf,
    /// `--param name=value`.
    pub params: Vec<(String, String)>,
    /// `--secret name=file`.
    pub secrets: Vec<(String, PathBuf)>,
    /// Most tasks at once (default: the CPU count).
    pub jobs: Option<usize>,
    /// CPU budget in millicores (default: the machine's).
    pub cpu_millis: Option<u64>,
    /// Memory budget in bytes (default: the machine's available memory).
    pub memory_bytes: Option<u64>,
    /// Stop every task at the first failure.
    pub fail_fast: bool,
}

/// Something that happened, for the progress display.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An attempt started.
    Started {
        /// `pipeline.task`.
        task: String,
        /// 1 for the first attempt.
        attempt: u32,
    },
    /// An instance finished.
    Finished {
        /// `pipeline.task`.
        task: String,
        /// How.
        status: TaskStatus,
        /// Seconds.
        wall_seconds: f64,
        /// Why it missed the cache.
        cache_note: Option<String>,
    },
    /// An attempt failed and will be retried.
    Retrying {
        /// `pipeline.task`.
        task: String,
        /// The next attempt.
        attempt: u32,
        /// Delay before it.
        delay_ms: u64,
        /// Why the last one failed.
        why: String,
    },
    /// A `check` was false.
    CheckFailed {
        /// The check as written.
        source: String,
    },
    /// A note for the user.
    Note(String),
}

/// Receives events.
pub trait Observer: Sync {
    /// Called for every event, from any thread.
    fn event(&self, e: &Event);
}

/// How a task (instance) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// Ran and succeeded.
    Succeeded,
    /// Its outputs came from the cache.
    Cached,
    /// Failed, with the reason.
    Failed(String),
    /// Did not run, with the reason.
    Skipped(String),
    /// Stopped by cancellation.
    Cancelled,
}

impl TaskStatus {
    /// A short word for tables.
    pub fn word(&self) -> &'static str {
        match self {
            TaskStatus::Succeeded => "ok",
            TaskStatus::Cached => "cached",
            TaskStatus::Failed(_) => "failed",
            TaskStatus::Skipped(_) => "skipped",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    fn finished_ok(&self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Cached)
    }
}

/// One line of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    /// `pipeline.task[i]`.
    pub task: String,
    /// The step called.
    pub step: String,
    /// How it ended.
    pub status: TaskStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Seconds.
    pub wall_seconds: f64,
    /// Why it missed the cache.
    pub cache_note: Option<String>,
    /// Its log.
    pub log: Option<PathBuf>,
}

/// The outcome of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// Its folder.
    pub run_dir: PathBuf,
    /// `succeeded`, `failed` or `cancelled`.
    pub status: String,
    /// Every task instance.
    pub tasks: Vec<TaskReport>,
    /// Pipeline outputs: values, or the paths of artifacts in the store.
    pub outputs: Vec<(String, Json)>,
    /// Checks that were false.
    pub failed_checks: Vec<String>,
}

/// State shared by the scheduler and its workers.
pub struct Shared<'a> {
    pub(crate) store: Store,
    pub(crate) plan: &'a Plan,
    pub(crate) builtins: &'a dyn BuiltinRunner,
    pub(crate) obs: &'a dyn Observer,
    pub(crate) cancel: &'a AtomicBool,
    pub(crate) records: RecordWriter,
    pub(crate) run_id: String,
    pub(crate) run_dir: PathBuf,
    pub(crate) workdir: PathBuf,
    pub(crate) host: Host,
    pub(crate) secrets: HashMap<String, String>,
    pub(crate) secret_files: HashMap<String, PathBuf>,
    budget: Mutex<Budget>,
    fail_fast: bool,
    reports: Mutex<Vec<TaskReport>>,
}

#[derive(Debug)]
struct Budget {
    cpu: u64,
    memory: u64,
    jobs: usize,
    used_cpu: u64,
    used_memory: u64,
    running: usize,
}

impl Budget {
    fn try_take(&mut self, cpu: u64, mem: u64) -> bool {
        let cpu = cpu.min(self.cpu);
        let mem = mem.min(self.memory);
        let fits = self.running == 0
            || (self.running < self.jobs
                && self.used_cpu + cpu <= self.cpu
                && self.used_memory + mem <= self.memory);
        if fits {
            self.used_cpu += cpu;
            self.used_memory += mem;
            self.running += 1;
        }
        fits
    }

    fn give(&mut self, cpu: u64, mem: u64) {
        self.used_cpu = self.used_cpu.saturating_sub(cpu.min(self.cpu));
        self.used_memory = self.used_memory.saturating_sub(mem.min(self.memory));
        self.running = self.running.saturating_sub(1);
    }
}

/// The process's peak resident memory, in bytes (for in-process built-in steps).
#[allow(unsafe_code)]
pub fn process_peak_rss() -> u64 {
    // SAFETY: rusage is plain data; getrusage writes into the value we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if r == 0 {
        usage.ru_maxrss.max(0) as u64 * 1024
    } else {
        0
    }
}

fn new_run_id() -> String {
    // `20261128T163405.295Z-eaf1`: sorts in time order, unique across concurrent runs.
    let ts = crate::util::rfc3339(crate::util::now_ms());
    let compact: String = ts
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, 'T' | '.' | 'Z'))
        .collect();
    let tail = &crate::names_hash(&crate::util::unique())[..4];
    format!("{compact}-{tail}")
}

/// Runs the entry pipeline of `plan`.
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    builtins: &dyn BuiltinRunner,
    obs: &dyn Observer,
    cancel: &AtomicBool,
) -> Result<RunSummary, RunError> {
    let entry = plan
        .entry()
        .ok_or_else(|| RunError::new(RunCode::Unrunnable, "the plan has no entry pipeline"))?;
    // Built-ins this build lacks are refused before anything runs.
    for p in plan.pipelines.values() {
        for t in &p.tasks {
            if let flowc_compiler::plan::TaskKind::Builtin { module, name } = &t.kind {
                if !builtins.has(module, name) {
                    return Err(RunError::new(RunCode::Unrunnable, format!("built-in step `{module}.{name}` (task `{}`) is not available in this build of flowc", t.id)));
                }
            }
        }
    }
    let params = crate::params::resolve(entry, &opts.params)?;
    let mut secrets = HashMap::new();
    let mut secret_files = HashMap::new();
    for (name, path) in &opts.secrets {
        if !plan.secrets.contains_key(name) {
            let names: Vec<&str> = plan.secrets.keys().map(String::as_str).collect();
            return Err(RunError::new(
                RunCode::BadSecret,
                format!("the pipeline uses no secret `{name}`"),
            )
            .hint(if names.is_empty() {
                "it uses no secrets".into()
            } else {
                format!("its secrets are: {}", names.join(", "))
            }));
        }
        let value = std::fs::read_to_string(path).map_err(|e| {
            RunError::new(
                RunCode::BadSecret,
                format!(
                    "cannot read the file of secret `{name}` (`{}`): {e}",
                    path.display()
                ),
            )
        })?;
        secrets.insert(
            name.clone(),
            value.trim_end_matches(['\n', '\r']).to_string(),
        );
        secret_files.insert(
            name.clone(),
            std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()),
        );
    }
    for name in plan.secrets.keys() {
        if !secrets.contains_key(name) {
            obs.event(&Event::Note(format!(
                "secret `{name}` was not given (`--secret {name}=FILE`): steps run without it"
            )));
        }
    }
    let store = Store::open(&opts.store)?;
    let run_id = new_run_id();
    let run_dir = store.run_dir(&run_id);
    let io = |e: std::io::Error| {
        RunError::new(
            RunCode::StoreUnavailable,
            format!("cannot write the run folder `{}`: {e}", run_dir.display()),
        )
    };
    std::fs::create_dir_all(run_dir.join("logs")).map_err(io)?;
    store
        .write_atomic(&run_dir.join("plan.json"), plan.to_json().as_bytes())
        .map_err(io)?;
    let meta = json!({ "run_id": run_id, "pipeline": plan.entry, "version": plan.pipeline_version, "started": crate::util::rfc3339(crate::util::now_ms()), "params": params });
    store
        .write_atomic(
            &run_dir.join("run.json"),
            serde_json::to_string_pretty(&meta)
                .unwrap_or_default()
                .as_bytes(),
        )
        .map_err(io)?;
    let records = RecordWriter::open(&run_dir.join("records.jsonl")).map_err(io)?;
    let host = crate::record::host();
    let cpus = opts.cpu_millis.unwrap_or(host.cpus as u64 * 1000).max(1);
    let memory = opts
        .memory_bytes
        .or_else(|| crate::record::meminfo("MemAvailable"))
        .unwrap_or(host.memory_bytes)
        .max(1);
    let jobs = opts.jobs.unwrap_or(host.cpus).max(1);

    // Artifact parameters: files given by path are imported into the store.
    let mut values: IndexMap<String, RValue> = IndexMap::new();
    for p in &entry.params {
        let v = params.get(&p.name).cloned().unwrap_or(Json::Null);
        if p.ty.is_artifact() && !v.is_null() {
            let path = PathBuf::from(v.as_str().unwrap_or_default());
            let path = if path.is_absolute() {
                path
            } else {
                opts.workdir.join(path)
            };
            if !path.exists() {
                return Err(RunError::new(
                    RunCode::MissingInput,
                    format!(
                        "input file `{}` for parameter `{}` does not exist",
                        path.display(),
                        p.name
                    ),
                ));
            }
            let copy = store.tmp_dir(&run_id).join(format!("param-{}", p.name));
            let _ = std::fs::create_dir_all(store.tmp_dir(&run_id));
            copy_into(&path, &copy).map_err(|e| {
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
            values.insert(
                p.name.clone(),
                RValue::Artifact(ArtifactRef {
                    path: store.object_path(&o.object),
                    object: o.object,
                    kind: o.kind,
                    bytes: o.bytes,
                }),
            );
        } else {
            values.insert(p.name.clone(), RValue::Json(v));
        }
    }
    let sh = Shared {
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
        secrets,
        secret_files,
        budget: Mutex::new(Budget {
            cpu: cpus,
            memory,
            jobs,
            used_cpu: 0,
            used_memory: 0,
            running: 0,
        }),
        fail_fast: opts.fail_fast,
        reports: Mutex::new(Vec::new()),
    };
    let result = run_pipeline(&sh, &plan.entry, values, "");
    let _ = sh.store.save_last_ingredients();
    let _ = std::fs::remove_dir_all(sh.store.tmp_dir(&run_id));
    let status = if cancel.load(Ordering::Relaxed) {
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
    let tasks = sh.reports.lock().map(|r| r.clone()).unwrap_or_default();
    let summary = RunSummary {
        run_id,
        run_dir: run_dir.clone(),
        status: status.to_string(),
        tasks,
        outputs,
        failed_checks: result.failed_checks,
    };
    let doc = json!({
        "run_id": summary.run_id,
        "pipeline": plan.entry,
        "status": summary.status,
        "finished": crate::util::rfc3339(crate::util::now_ms()),
        "outputs": summary.outputs.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<serde_json::Map<_, _>>(),
        "failed_checks": summary.failed_checks,
        "tasks": summary.tasks.iter().map(|t| json!({"task": t.task, "step": t.step, "status": t.status.word(), "detail": match &t.status { TaskStatus::Failed(w) | TaskStatus::Skipped(w) => Some(w.clone()), _ => None }, "attempts": t.attempts, "wall_seconds": t.wall_seconds})).collect::<Vec<_>>(),
    });
    let _ = sh.store.write_atomic(
        &run_dir.join("summary.json"),
        serde_json::to_string_pretty(&doc)
            .unwrap_or_default()
            .as_bytes(),
    );
    Ok(summary)
}

fn copy_into(src: &std::path::Path, dest: &std::path::Path) -> std::io::Result<()> {
    if src.is_dir() {
        std::fs::create_dir_all(dest)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            copy_into(&e.path(), &dest.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dest).map(|_| ())
    }
}

/// What running a pipeline gave.
pub struct PipelineResult {
    /// Succeeded, or the first failure.
    pub status: TaskStatus,
    /// Its outputs, if it succeeded.
    pub outputs: Option<IndexMap<String, RValue>>,
    /// Checks that were false.
    pub failed_checks: Vec<String>,
}

#[derive(Clone, Debug)]
enum State {
    Pending,
    Running { remaining: usize },
    Finished(TaskStatus),
}

/// Outputs of finished instances: task → (loop indices, outputs).
type Outputs = HashMap<String, Vec<(Vec<usize>, IndexMap<String, RValue>)>>;

struct PEnv<'a> {
    params: &'a IndexMap<String, RValue>,
    outputs: &'a Outputs,
    items: &'a [(usize, RValue)],
    indices: &'a [usize],
}

impl Env for PEnv<'_> {
    fn param(&self, name: &str) -> Option<RValue> {
        self.params.get(name).cloned()
    }
    fn output(&self, task: &str, output: &str, collected: bool) -> Option<RValue> {
        let instances = self.outputs.get(task)?;
        if collected {
            return Some(RValue::List(
                instances
                    .iter()
                    .filter_map(|(_, o)| o.get(output).cloned())
                    .collect(),
            ));
        }
        // The instance of the same loop iteration, or the only one.
        let found = instances
            .iter()
            .find(|(idx, _)| {
                idx.len() <= self.indices.len() && self.indices[..idx.len()] == idx[..]
            })
            .or(instances.first())?;
        found.1.get(output).cloned()
    }
    fn loop_item(&self, l: usize) -> Option<RValue> {
        self.items
            .iter()
            .find(|(id, _)| *id == l)
            .map(|(_, v)| v.clone())
    }
}

struct Job {
    task: usize,
    indices: Vec<usize>,
    items: Vec<(usize, RValue)>,
}

fn instance_name(task: &Task, indices: &[usize]) -> String {
    if indices.is_empty() {
        task.id.clone()
    } else {
        format!("{}{}", task.id, iteration(indices))
    }
}

/// Loop indices as written in instance names: `[2]`, `[0,1]`.
fn iteration(indices: &[usize]) -> String {
    format!(
        "[{}]",
        indices
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// One iteration of a task's loops: the loop indices and the items of each loop.
type Combo = (Vec<usize>, Vec<(usize, RValue)>);

/// Expands enclosing loops (of a task or a check) into (indices, items) combinations.
fn expand(
    p: &PipelinePlan,
    loops: &[usize],
    env_params: &IndexMap<String, RValue>,
    outputs: &Outputs,
) -> Result<Vec<Combo>, String> {
    let mut combos: Vec<Combo> = vec![(Vec::new(), Vec::new())];
    for &l in loops {
        let Some(lp) = p.loops.get(l) else {
            return Err(format!("unknown loop {l}"));
        };
        let mut next = Vec::new();
        for (idx, items) in &combos {
            let env = PEnv {
                params: env_params,
                outputs,
                items,
                indices: idx,
            };
            let list = match eval(&lp.items, &env) {
                RValue::Json(Json::Array(a)) => a.into_iter().map(RValue::Json).collect(),
                RValue::List(a) => a,
                RValue::Json(Json::Null) => Vec::new(),
                other => {
                    return Err(format!(
                        "`for {}` needs a list, got {}",
                        lp.var,
                        other.to_json()
                    ))
                }
            };
            for (i, item) in list.into_iter().enumerate() {
                let mut ix = idx.clone();
                ix.push(i);
                let mut it = items.clone();
                it.push((l, item));
                next.push((ix, it));
            }
        }
        combos = next;
    }
    Ok(combos)
}

fn requests(t: &Task) -> (u64, u64) {
    if matches!(t.kind, flowc_compiler::plan::TaskKind::Pipeline { .. }) {
        return (0, 0);
    }
    let r = &t.settings.resources;
    (
        r.cpu_millis.unwrap_or(1000),
        r.memory_bytes.or(r.memory_limit_bytes).unwrap_or(256 << 20),
    )
}

/// A task to run on a worker thread.
type Work<'a> = Box<dyn FnOnce() + Send + 'a>;

/// A finished task instance: the task, its loop indices, the result, and the CPU and memory it
/// held.
type Done = (usize, Vec<usize>, JobResult, (u64, u64));

/// A worker: runs tasks from the queue until it is closed.
fn worker(queue: &Mutex<mpsc::Receiver<Work<'_>>>) {
    loop {
        // The lock is held while waiting, so idle workers queue up on it, one at the channel.
        let next = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match next {
            Ok(work) => work(),
            Err(_) => return,
        }
    }
}

/// Runs one pipeline with the given parameter values.
pub fn run_pipeline(
    sh: &Shared<'_>,
    name: &str,
    params: IndexMap<String, RValue>,
    prefix: &str,
) -> PipelineResult {
    let Some(p) = sh.plan.pipelines.get(name) else {
        return PipelineResult {
            status: TaskStatus::Failed(format!("unknown pipeline `{name}`")),
            outputs: None,
            failed_checks: Vec::new(),
        };
    };
    let label = format!("{prefix}{name}");
    let mut params = params;
    for param in &p.params {
        if !params.contains_key(&param.name) {
            params.insert(
                param.name.clone(),
                RValue::Json(param.default.clone().unwrap_or(Json::Null)),
            );
        }
    }
    let n = p.tasks.len();
    let mut state = vec![State::Pending; n];
    let mut statuses: Vec<Vec<TaskStatus>> = vec![Vec::new(); n];
    let mut outputs: Outputs = HashMap::new();
    let index: HashMap<&str, usize> = p
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    // What each task waits for, and the tasks each check reads, looked up once: the loop below
    // runs after every finished task.
    let deps_of: Vec<Vec<usize>> = p
        .tasks
        .iter()
        .map(|t| {
            if t.is_finally {
                (0..n).filter(|&j| !p.tasks[j].is_finally).collect()
            } else {
                t.data_deps
                    .iter()
                    .chain(&t.after)
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            }
        })
        .collect();
    let check_tasks: Vec<Vec<usize>> = p
        .checks
        .iter()
        .map(|c| {
            let mut ts = Vec::new();
            tasks_of(&c.condition, &mut ts);
            for w in &c.when {
                tasks_of(w, &mut ts);
            }
            ts.iter()
                .filter_map(|t| index.get(t.as_str()).copied())
                .collect()
        })
        .collect();
    let mut checks_done = vec![false; p.checks.len()];
    let mut failed_checks = Vec::new();
    let mut stop_new = false;
    let mut queue: VecDeque<Job> = VecDeque::new();
    let (tx, rx) = mpsc::channel::<Done>();
    // Tasks run on worker threads that are kept for the next task: a thread that finishes a
    // task counts itself idle before reporting it, so the task started next reuses it, and a
    // new thread is started only when every worker is busy.
    let idle = AtomicUsize::new(0);
    let (work_tx, work_rx) = mpsc::channel::<Work<'_>>();
    let work_rx = Mutex::new(work_rx);
    // Tasks handed to workers and not reported yet.
    let mut in_flight = 0usize;
    // The result of a task run on this thread.
    let mut ran_here: Option<Done> = None;
    std::thread::scope(|scope| {
        loop {
            let cancelled = sh.cancel.load(Ordering::Relaxed);
            // Tasks whose dependencies have finished.
            for i in 0..n {
                if !matches!(state[i], State::Pending) {
                    continue;
                }
                let t = &p.tasks[i];
                let deps = &deps_of[i];
                if !deps.iter().all(|&d| matches!(state[d], State::Finished(_))) {
                    continue;
                }
                if (cancelled || stop_new) && !t.is_finally {
                    let why = if cancelled {
                        TaskStatus::Cancelled
                    } else {
                        TaskStatus::Skipped("the run is stopping".into())
                    };
                    finish_task(sh, &label, t, &mut state[i], why, &mut statuses[i]);
                    continue;
                }
                if !t.is_finally {
                    let failed = deps.iter().find(|&&d| matches!(&state[d], State::Finished(s) if !s.finished_ok() && !matches!(s, TaskStatus::Skipped(_))));
                    if let Some(&d) = failed {
                        let why =
                            TaskStatus::Skipped(format!("`{}` did not succeed", p.tasks[d].id));
                        finish_task(sh, &label, t, &mut state[i], why, &mut statuses[i]);
                        continue;
                    }
                    let skipped_data = t
                        .data_deps
                        .iter()
                        .filter_map(|d| index.get(d.as_str()))
                        .find(|&&d| matches!(&state[d], State::Finished(TaskStatus::Skipped(_))));
                    if let Some(&d) = skipped_data {
                        let optional_ok = t.inputs.iter().all(|inp| {
                            let mut ts = Vec::new();
                            tasks_of(&inp.value, &mut ts);
                            !ts.contains(&p.tasks[d].id)
                                || matches!(inp.ty, TypeRepr::Optional { .. })
                        });
                        if !optional_ok {
                            let why =
                                TaskStatus::Skipped(format!("`{}` was skipped", p.tasks[d].id));
                            finish_task(sh, &label, t, &mut state[i], why, &mut statuses[i]);
                            continue;
                        }
                    }
                }
                match expand(p, &t.loops, &params, &outputs) {
                    Ok(combos) if combos.is_empty() => {
                        finish_task(
                            sh,
                            &label,
                            t,
                            &mut state[i],
                            TaskStatus::Succeeded,
                            &mut statuses[i],
                        );
                        outputs.insert(t.id.clone(), Vec::new());
                    }
                    Ok(combos) => {
                        state[i] = State::Running {
                            remaining: combos.len(),
                        };
                        for (indices, items) in combos {
                            queue.push_back(Job {
                                task: i,
                                indices,
                                items,
                            });
                        }
                    }
                    Err(why) => finish_task(
                        sh,
                        &label,
                        t,
                        &mut state[i],
                        TaskStatus::Failed(why),
                        &mut statuses[i],
                    ),
                }
            }
            // Start what fits.
            let mut deferred = VecDeque::new();
            while let Some(job) = queue.pop_front() {
                let t = &p.tasks[job.task];
                let env = PEnv {
                    params: &params,
                    outputs: &outputs,
                    items: &job.items,
                    indices: &job.indices,
                };
                let inst = instance_name(t, &job.indices);
                if cancelled && !t.is_finally {
                    complete(
                        sh,
                        &label,
                        t,
                        &inst,
                        &mut state[job.task],
                        &mut statuses[job.task],
                        JobResult {
                            outputs: None,
                            status: TaskStatus::Cancelled,
                            attempts: 0,
                            wall_seconds: 0.0,
                            cache_note: None,
                            log: None,
                        },
                    );
                    continue;
                }
                let runs = t
                    .when
                    .iter()
                    .all(|c| matches!(eval(c, &env), RValue::Json(Json::Bool(true))));
                if !runs {
                    complete(
                        sh,
                        &label,
                        t,
                        &inst,
                        &mut state[job.task],
                        &mut statuses[job.task],
                        JobResult {
                            outputs: None,
                            status: TaskStatus::Skipped("its condition is false".into()),
                            attempts: 0,
                            wall_seconds: 0.0,
                            cache_note: None,
                            log: None,
                        },
                    );
                    continue;
                }
                let (cpu, mem) = requests(t);
                // A called pipeline holds no resources itself (its steps do); it must not take a
                // slot, or nested pipelines could wait for each other forever.
                let composite = matches!(t.kind, flowc_compiler::plan::TaskKind::Pipeline { .. });
                let taken = composite
                    || sh
                        .budget
                        .lock()
                        .map(|mut b| b.try_take(cpu, mem))
                        .unwrap_or(false);
                if !taken {
                    deferred.push_back(job);
                    continue;
                }
                let inputs: IndexMap<String, RValue> = t
                    .inputs
                    .iter()
                    .map(|inp| (inp.name.clone(), eval(&inp.value, &env)))
                    .collect();
                // The only task that can run, while nothing else runs: this thread runs it, as
                // it would only wait for it otherwise. A chain of steps then runs without a
                // hand-over between threads at every step.
                if in_flight == 0 && queue.is_empty() && deferred.is_empty() && ran_here.is_none() {
                    let r = execute(sh, &label, t, &inst, &inputs);
                    ran_here = Some((job.task, job.indices, r, (cpu, mem)));
                    continue;
                }
                in_flight += 1;
                let tx = tx.clone();
                let label = label.clone();
                let idle = &idle;
                let work: Work<'_> = Box::new(move || {
                    let r = execute(sh, &label, t, &inst, &inputs);
                    idle.fetch_add(1, Ordering::SeqCst);
                    let _ = tx.send((job.task, job.indices, r, (cpu, mem)));
                });
                let claimed = idle
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |k| k.checked_sub(1))
                    .is_ok();
                if !claimed {
                    let work_rx = &work_rx;
                    scope.spawn(move || worker(work_rx));
                }
                let _ = work_tx.send(work);
            }
            queue = deferred;
            // Checks whose tasks have all finished.
            for (ci, c) in p.checks.iter().enumerate() {
                if checks_done[ci] {
                    continue;
                }
                let idx = &check_tasks[ci];
                if !idx.iter().all(|&i| matches!(state[i], State::Finished(_))) {
                    continue;
                }
                checks_done[ci] = true;
                if !idx
                    .iter()
                    .all(|&i| matches!(&state[i], State::Finished(s) if s.finished_ok()))
                {
                    continue;
                }
                // A check inside `for` loops is made once per iteration, with that
                // iteration's items and results, as on Argo and Kubeflow.
                let combos = match expand(p, &c.loops, &params, &outputs) {
                    Ok(combos) => combos,
                    Err(why) => {
                        let source = format!("{} ({why})", c.source);
                        sh.obs.event(&Event::CheckFailed {
                            source: source.clone(),
                        });
                        failed_checks.push(source);
                        stop_new = true;
                        continue;
                    }
                };
                for (indices, items) in &combos {
                    let env = PEnv {
                        params: &params,
                        outputs: &outputs,
                        items,
                        indices,
                    };
                    // A check in an `if` branch that did not run is not made.
                    let holds = |v| matches!(eval(v, &env), RValue::Json(Json::Bool(true)));
                    if !c.when.iter().all(holds) {
                        continue;
                    }
                    if !holds(&c.condition) {
                        let source = if c.loops.is_empty() {
                            c.source.clone()
                        } else {
                            format!("{} (iteration {})", c.source, iteration(indices))
                        };
                        sh.obs.event(&Event::CheckFailed {
                            source: source.clone(),
                        });
                        failed_checks.push(source);
                        stop_new = true;
                    }
                }
            }
            let all_done = state.iter().all(|s| matches!(s, State::Finished(_)));
            let running = state.iter().any(|s| matches!(s, State::Running { .. }));
            if all_done {
                break;
            }
            if !running && queue.is_empty() && !state.iter().any(|s| matches!(s, State::Pending)) {
                break;
            }
            let received = match ran_here.take() {
                Some(done) => Ok(done),
                None => rx.recv_timeout(Duration::from_millis(25)).inspect(|_| {
                    in_flight -= 1;
                }),
            };
            match received {
                Ok((ti, indices, r, (cpu, mem))) => {
                    let t = &p.tasks[ti];
                    if !matches!(t.kind, flowc_compiler::plan::TaskKind::Pipeline { .. }) {
                        if let Ok(mut b) = sh.budget.lock() {
                            b.give(cpu, mem);
                        }
                    }
                    let inst = instance_name(t, &indices);
                    if let Some(o) = &r.outputs {
                        outputs
                            .entry(t.id.clone())
                            .or_default()
                            .push((indices.clone(), o.clone()));
                    }
                    if matches!(r.status, TaskStatus::Failed(_)) && sh.fail_fast {
                        stop_new = true;
                        sh.obs
                            .event(&Event::Note("--fail-fast: stopping the run".into()));
                    }
                    complete(sh, &label, t, &inst, &mut state[ti], &mut statuses[ti], r);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        // Idle workers leave once the queue is closed.
        drop(work_tx);
    });
    // Keep instance outputs in loop order.
    for v in outputs.values_mut() {
        v.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let first_failure = state.iter().zip(&p.tasks).find_map(|(s, t)| match s {
        State::Finished(TaskStatus::Failed(w)) => {
            Some(TaskStatus::Failed(format!("`{}` failed: {w}", t.id)))
        }
        State::Finished(TaskStatus::Cancelled) => Some(TaskStatus::Cancelled),
        _ => None,
    });
    let status = first_failure.unwrap_or(if failed_checks.is_empty() {
        TaskStatus::Succeeded
    } else {
        TaskStatus::Failed(format!("check failed: {}", failed_checks.join("; ")))
    });
    let outs = status.finished_ok().then(|| {
        let env = PEnv {
            params: &params,
            outputs: &outputs,
            items: &[],
            indices: &[],
        };
        p.outputs
            .iter()
            .map(|o| (o.name.clone(), eval(&o.value, &env)))
            .collect()
    });
    PipelineResult {
        status,
        outputs: outs,
        failed_checks,
    }
}

fn finish_task(
    sh: &Shared<'_>,
    label: &str,
    t: &Task,
    state: &mut State,
    status: TaskStatus,
    statuses: &mut Vec<TaskStatus>,
) {
    statuses.push(status.clone());
    report(
        sh,
        label,
        t,
        &t.id,
        &JobResult {
            outputs: None,
            status: status.clone(),
            attempts: 0,
            wall_seconds: 0.0,
            cache_note: None,
            log: None,
        },
    );
    *state = State::Finished(status);
}

fn complete(
    sh: &Shared<'_>,
    label: &str,
    t: &Task,
    inst: &str,
    state: &mut State,
    statuses: &mut Vec<TaskStatus>,
    r: JobResult,
) {
    report(sh, label, t, inst, &r);
    statuses.push(r.status.clone());
    if let State::Running { remaining } = state {
        *remaining -= 1;
        if *remaining == 0 {
            // The task's status: the first failure, else cancelled, else ok/cached, else skipped.
            let s = statuses
                .iter()
                .find(|s| matches!(s, TaskStatus::Failed(_)))
                .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Cancelled)))
                .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Succeeded)))
                .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Cached)))
                .cloned()
                .unwrap_or(r.status);
            *state = State::Finished(s);
        }
    }
}

fn report(sh: &Shared<'_>, label: &str, t: &Task, inst: &str, r: &JobResult) {
    let task = format!("{label}.{inst}");
    sh.obs.event(&Event::Finished {
        task: task.clone(),
        status: r.status.clone(),
        wall_seconds: r.wall_seconds,
        cache_note: r.cache_note.clone(),
    });
    if let Ok(mut reports) = sh.reports.lock() {
        reports.push(TaskReport {
            task,
            step: t.step.clone(),
            status: r.status.clone(),
            attempts: r.attempts,
            wall_seconds: r.wall_seconds,
            cache_note: r.cache_note.clone(),
            log: r.log.clone(),
        });
    }
}
