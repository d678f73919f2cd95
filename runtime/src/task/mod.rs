//! Executing one step instance: the cache lookup ([`cache`]), the attempts with retries and
//! backoff (each starting the step's process or built-in call, [`launch`], and moving its
//! outputs into the store, [`outputs`]), and a record per attempt.
//!
//! A task that calls a pipeline is not a step: the scheduler runs the called pipeline.

mod cache;
mod launch;
mod outputs;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::context::RunContext;
use crate::eval::RValue;
use crate::exec::{ProcessResult, Reason};
use crate::record::{Amounts, Record};
use crate::types::{Event, TaskStatus};
use crate::util::{file_safe, now_ms, rfc3339};
use flowc_compiler::plan::{CachePlan, Task, TaskKind};
use launch::StepEnd;

/// What running an instance gave.
#[derive(Debug)]
pub(crate) struct JobResult {
    /// Outputs, on success.
    pub(crate) outputs: Option<IndexMap<String, RValue>>,
    /// How it ended.
    pub(crate) status: TaskStatus,
    /// Attempts made (0 for a cache hit).
    pub(crate) attempts: u32,
    /// Seconds spent.
    pub(crate) wall_seconds: f64,
    /// Why it missed the cache, when it did.
    pub(crate) cache_note: Option<String>,
    /// The log file.
    pub(crate) log: Option<PathBuf>,
}

impl JobResult {
    /// The result of an instance that ended with `status` without running.
    pub(crate) fn not_run(status: TaskStatus) -> JobResult {
        JobResult {
            outputs: None,
            status,
            attempts: 0,
            wall_seconds: 0.0,
            cache_note: None,
            log: None,
        }
    }
}

/// The SHA-256 of a Python step's module source as this run finds it (see [`crate::python`]).
fn python_code(ctx: &RunContext<'_>, task: &Task) -> Option<String> {
    let TaskKind::Container {
        python: Some(call), ..
    } = &task.kind
    else {
        return None;
    };
    ctx.python.as_ref()?.code.get(&call.module).cloned()
}

/// Runs one instance of the step `task` with resolved `inputs`: from the cache when it has the
/// results, else in attempts.
pub(crate) fn execute(
    ctx: &RunContext<'_>,
    pipeline: &str,
    task: &Task,
    instance: &str,
    inputs: &IndexMap<String, RValue>,
) -> JobResult {
    let started = Instant::now();
    let caching = !matches!(task.settings.cache, CachePlan::Off);
    // Without caching, the ingredients and their key are neither looked up nor remembered:
    // they are not worked out (a JSON document and a SHA-256 per instance).
    let (ingredients, key) = match caching {
        true => {
            let builtin_version = match &task.kind {
                TaskKind::Builtin { .. } => ctx.builtins.version(),
                _ => String::new(),
            };
            let code = python_code(ctx, task);
            let ingredients = cache::ingredients(task, builtin_version, code, inputs);
            let key = cache::key(&ingredients);
            (ingredients, key)
        }
        false => (Json::Null, String::new()),
    };
    // Serialise work on one key across runs, so the second finds the first one's outputs in
    // the cache; released when `_key_lock` drops. Without caching there is nothing to share.
    let _key_lock = caching.then(|| ctx.store.lock_key(&key).ok()).flatten();
    let step = StepInstance::new(ctx, pipeline, task, instance, inputs, ingredients, key);
    let mut result = match &ctx.reuse {
        Some(reuse) => step.one_step(reuse),
        None if ctx.verify && caching => step.verified(),
        None => step.cached_result().unwrap_or_else(|| step.attempts()),
    };
    result.wall_seconds = started.elapsed().as_secs_f64();
    if let Some(outputs) = &result.outputs {
        ctx.instances.write(pipeline, instance, inputs, outputs);
    }
    result
}

/// One instance of a step being executed, and what its attempts and records share.
struct StepInstance<'a> {
    ctx: &'a RunContext<'a>,
    /// The pipeline's label.
    pipeline: &'a str,
    task: &'a Task,
    /// The instance's name (`task[1]`).
    name: &'a str,
    inputs: &'a IndexMap<String, RValue>,
    /// Where its output goes.
    log: PathBuf,
    ingredients: Json,
    key: String,
    caching: bool,
    /// The task's place in the store's memory of last ingredients: `pipeline/task`.
    slot: String,
    /// The ingredients of the task's last run, to explain a miss; remembered again only when
    /// they changed.
    last: Option<Json>,
    input_bytes: u64,
    requests: Amounts,
    limits: Amounts,
    /// The lock file's retry rule for an attempt killed for memory (tuned steps).
    memory_retry: Option<flowc_compiler::plan::MemoryRetry>,
    /// The memory limit the retry rule gave the next attempt, after a kill.
    retry_memory: std::cell::Cell<Option<u64>>,
    /// Whether the last attempt was killed for memory.
    last_oom: std::cell::Cell<bool>,
}

/// How an attempt ended.
enum AttemptEnd {
    /// With its outputs in the store.
    Succeeded(IndexMap<String, RValue>),
    /// Without them; the next attempt may do better.
    Failed(TaskStatus),
    /// Before it started: no attempt can do better.
    NotStarted(TaskStatus),
}

impl<'a> StepInstance<'a> {
    fn new(
        ctx: &'a RunContext<'a>,
        pipeline: &'a str,
        task: &'a Task,
        name: &'a str,
        inputs: &'a IndexMap<String, RValue>,
        ingredients: Json,
        key: String,
    ) -> StepInstance<'a> {
        let caching = !matches!(task.settings.cache, CachePlan::Off);
        let slot = format!("{pipeline}/{}", task.id);
        let last = if caching {
            ctx.store.last_ingredients(&slot)
        } else {
            None
        };
        let res = &task.settings.resources;
        let input_bytes: u64 = inputs.values().map(input_bytes).sum();
        // The lock file's input-size rule sets the memory of a tuned step whose input is known
        // (within the source's `max` bound).
        let scaled = res
            .memory_scaling
            .and_then(|s| s.limit_for(input_bytes))
            .map(|m| m.min(res.memory_ceiling().unwrap_or(u64::MAX)))
            .filter(|_| res.tuned);
        StepInstance {
            ctx,
            pipeline,
            task,
            name,
            inputs,
            log: ctx
                .run_dir
                .join("logs")
                .join(format!("{}.log", file_safe(&format!("{pipeline}.{name}")))),
            ingredients,
            key,
            caching,
            slot,
            last,
            input_bytes,
            requests: Amounts {
                cpu_millis: res.cpu_millis,
                memory_bytes: scaled.or(res.memory_bytes),
                gpu: res.gpu.unwrap_or(0),
            },
            // As in Kubernetes, the limit stops a step and the request does not (unless
            // `--strict-memory` makes a request without a limit one).
            limits: Amounts {
                cpu_millis: res.cpu_limit_millis,
                memory_bytes: scaled.or(res
                    .memory_limit_bytes
                    .or(res.memory_bytes.filter(|_| ctx.local.strict_memory))),
                gpu: res.gpu.unwrap_or(0),
            },
            memory_retry: res.memory_retry,
            retry_memory: std::cell::Cell::new(None),
            last_oom: std::cell::Cell::new(false),
        }
    }

    /// The limits of the next attempt: the step's, with the memory the retry rule gave it
    /// after a kill for memory.
    fn limits(&self) -> Amounts {
        let mut limits = self.limits.clone();
        if let Some(m) = self.retry_memory.get() {
            limits.memory_bytes = Some(m);
        }
        limits
    }

    /// After an attempt killed for memory: the next gets the lock file's retry rule applied
    /// to the killed limit, at most the `max` bound (no rule: the same limit again).
    fn after_oom(&self) {
        if let (Some(rule), Some(killed)) = (self.memory_retry, self.limits().memory_bytes) {
            // Never above the source's `max` bound.
            let ceiling = self.task.settings.resources.memory_ceiling();
            let next = rule
                .after(killed)
                .min(ceiling.unwrap_or(u64::MAX).max(killed));
            self.retry_memory.set(Some(next));
        }
    }

    // ----- the cache -----

    /// The result from the cache, when it has the instance's outputs.
    fn cached_result(&self) -> Option<JobResult> {
        if !self.caching {
            return None;
        }
        let (outputs, out_bytes) = cache::lookup(&self.ctx.store, self.task, &self.key)?;
        let t = now_ms();
        self.ctx
            .records
            .write(&self.record(0, t, t, Reason::Cached, None, out_bytes));
        self.remember();
        Some(JobResult {
            outputs: Some(outputs),
            ..JobResult::not_run(TaskStatus::Cached)
        })
    }

    /// `--step`: the selected task runs (the cache is not asked); a task before it runs as in
    /// any run with `--upstream`, else takes its outputs from the `--inputs-from` run or the
    /// cache, and fails without starting when neither has them.
    fn one_step(&self, reuse: &crate::one_step::Reuse) -> JobResult {
        if reuse.is_selected(&self.ctx.plan.entry, self.pipeline, self.task) {
            return self.attempts();
        }
        if reuse.sel.upstream {
            return self.cached_result().unwrap_or_else(|| self.attempts());
        }
        // Outputs of the earlier run: nothing ran here, so nothing is recorded in
        // `records.jsonl` (the instance is listed in `instances.ndjson`, as every other).
        if let Some(outputs) = reuse.recorded(&self.ctx.store, self.pipeline, self.name) {
            return JobResult {
                outputs: Some(outputs),
                cache_note: reuse
                    .sel
                    .inputs_from
                    .as_ref()
                    .map(|run| format!("outputs of run {run}")),
                ..JobResult::not_run(TaskStatus::Cached)
            };
        }
        if let Some(cached) = self.cached_result() {
            return cached;
        }
        let from = match &reuse.sel.inputs_from {
            Some(run) => format!("neither in run {run} nor in the cache"),
            None => "not in the cache".to_string(),
        };
        let e = crate::error::RunError::new(
            crate::error::RunCode::NotReusable,
            format!("the outputs of `{}` are {from}", self.name),
        )
        .hint(
            "pass `--upstream` to run it too, or `--inputs-from RUN` with a run where it succeeded",
        );
        JobResult {
            log: None,
            ..JobResult::not_run(TaskStatus::Failed(e.to_string()))
        }
    }

    /// `--verify`: the step runs again and its outputs are compared with the cached ones; the
    /// note says which differ (`verify: differs: ...`), that they match, or that there was
    /// nothing to compare with.
    fn verified(&self) -> JobResult {
        let before = self.ctx.store.cache_get(&self.key);
        let mut result = self.attempts();
        let (Some(entry), Some(outputs)) = (before, result.outputs.as_ref()) else {
            result.cache_note = Some("verify: no cached result to compare with".into());
            return result;
        };
        let differ: Vec<&str> = entry
            .outputs
            .iter()
            .filter(|(name, stored)| {
                let same = match outputs.get(*name) {
                    Some(RValue::Artifact(a)) => a.object == stored.object,
                    Some(RValue::Json(v)) => {
                        self.ctx.store.read_value(&stored.object).as_ref() == Some(v)
                    }
                    _ => false,
                };
                !same
            })
            .map(|(name, _)| name.as_str())
            .collect();
        result.cache_note = Some(if differ.is_empty() {
            "verify: same outputs as the cached result".into()
        } else {
            format!("verify: differs: {}", differ.join(", "))
        });
        result
    }

    /// Remembers the ingredients of this run of the task, if they changed.
    fn remember(&self) {
        if self.last.as_ref() != Some(&self.ingredients) {
            self.ctx
                .store
                .set_last_ingredients(&self.slot, &self.ingredients);
        }
    }

    // ----- attempts -----

    /// Runs attempts until one succeeds, the retries are used up, or the run is cancelled.
    fn attempts(&self) -> JobResult {
        let mut result = JobResult {
            outputs: None,
            status: TaskStatus::Failed("not run".into()),
            attempts: 0,
            wall_seconds: 0.0,
            cache_note: Some(cache::explain(
                self.last.as_ref(),
                &self.ingredients,
                self.caching,
            )),
            log: Some(self.log.clone()),
        };
        let own = self.task.settings.retries;
        // A step with a retry rule is retried after OOM kills at least OOM_RETRIES times, as
        // its Argo build is; without `retries` of its own, only after OOM kills.
        let oom_retries = self.memory_retry.is_some() && self.limits.memory_bytes.is_some();
        let total = if oom_retries {
            own.max(flowc_compiler::plan::OOM_RETRIES) + 1
        } else {
            own + 1
        };
        // Whether an attempt wrote to the log: a quiet step has none.
        let mut logged = false;
        let mut delay = self.task.settings.backoff_ms.unwrap_or(0);
        let first_start = std::time::Instant::now();
        for attempt in 1..=total {
            result.attempts = attempt;
            if self.cancelled() {
                result.status = TaskStatus::Cancelled;
                break;
            }
            self.ctx.obs.event(&Event::Started {
                task: self.label(),
                attempt,
            });
            match self.attempt(attempt, &mut logged) {
                AttemptEnd::Succeeded(outputs) => {
                    result.outputs = Some(outputs);
                    result.status = TaskStatus::Succeeded;
                    break;
                }
                AttemptEnd::NotStarted(status) => {
                    result.status = status;
                    break;
                }
                AttemptEnd::Failed(status) => result.status = status,
            }
            if matches!(result.status, TaskStatus::Cancelled) || attempt == total {
                break;
            }
            if oom_retries && own == 0 && !self.last_oom.get() {
                break;
            }
            // `retries N within D`: no retry starts once D has passed since the first attempt.
            let waited = first_start.elapsed() + std::time::Duration::from_millis(delay);
            if let Some(within) = self.task.settings.retry_within_ms {
                if waited >= std::time::Duration::from_millis(within) {
                    break;
                }
            }
            self.wait_to_retry(attempt + 1, delay, &result.status);
            delay = self.next_delay(delay);
        }
        if !logged {
            result.log = None;
        }
        result
    }

    /// One attempt, in a work folder of its own (removed after): runs the step, moves its
    /// outputs into the store and caches them, and records the attempt.
    fn attempt(&self, attempt: u32, logged: &mut bool) -> AttemptEnd {
        if matches!(self.task.kind, TaskKind::Container { .. }) {
            if let Some(why) = launch::secret_problem(self.ctx, self.task) {
                return AttemptEnd::NotStarted(TaskStatus::Failed(why));
            }
        }
        let name = file_safe(&format!("{}.{}.{attempt}", self.pipeline, self.name));
        // `--keep`: the selected step works in the run folder, which stays.
        let kept = self
            .kept()
            .then(|| self.ctx.run_dir.join("sandbox").join(&name));
        let work = match &kept {
            Some(dir) => dir.clone(),
            None => self.ctx.store.tmp_dir(&self.ctx.run_id).join(name),
        };
        // A process writes its outputs straight into its work folder, and a process without
        // outputs needs none (a folder costs as much as a file to create); a built-in gets
        // `out/` beside its scratch space.
        let (out_dir, needs_work) = match &self.task.kind {
            TaskKind::Builtin { .. } => (work.join("out"), true),
            _ => (
                work.clone(),
                kept.is_some() || !self.task.outputs.is_empty(),
            ),
        };
        if needs_work {
            if let Err(e) = std::fs::create_dir_all(&out_dir) {
                let why = format!("cannot create a work folder: {e}");
                return AttemptEnd::NotStarted(TaskStatus::Failed(why));
            }
        }
        let start = now_ms();
        let (reason, process, detail) = self.run_step(&out_dir, needs_work, &work);
        if let Some(dir) = &kept {
            self.say_kept(dir);
        }
        let end = now_ms();
        *logged |= process.as_ref().is_some_and(|p| p.logged);
        let record = |reason, out_bytes| {
            self.record(attempt, start, end, reason, process.as_ref(), out_bytes)
        };
        let ended = if reason == Reason::Ok {
            match outputs::collect_outputs(&self.ctx.store, self.task, &out_dir) {
                Ok((outputs, stored, out_bytes)) => {
                    // The entry before the record: a run killed in between has recorded no
                    // success that the next run could not reuse (what the chaos test asserts).
                    if self.caching && !self.ctx.verify {
                        cache::put(&self.ctx.store, &self.key, &self.ctx.run_id, stored);
                        self.remember();
                    }
                    self.ctx.records.write(&record(reason, out_bytes));
                    AttemptEnd::Succeeded(outputs)
                }
                Err(why) => {
                    self.ctx.records.write(&record(Reason::Failed, 0));
                    AttemptEnd::Failed(TaskStatus::Failed(why))
                }
            }
        } else {
            self.ctx.records.write(&record(reason, 0));
            self.last_oom.set(reason == Reason::Oom);
            if reason == Reason::Oom {
                self.after_oom();
            }
            AttemptEnd::Failed(failure(reason, detail))
        };
        if needs_work && kept.is_none() {
            let _ = std::fs::remove_dir_all(&work);
        }
        ended
    }

    /// Whether this is the task `--step` selected with `--keep`.
    fn kept(&self) -> bool {
        self.ctx.reuse.as_ref().is_some_and(|r| {
            r.sel.keep && r.is_selected(&self.ctx.plan.entry, self.pipeline, self.task)
        })
    }

    /// Tells where the kept folder is, and how to enter the step's sandbox when there is one.
    fn say_kept(&self, dir: &std::path::Path) {
        let enter = dir.join(launch::ENTER_SCRIPT);
        let how = if enter.exists() {
            format!("; enter its sandbox with `sh {}`", enter.display())
        } else {
            String::new()
        };
        self.ctx.obs.event(&Event::Note(format!(
            "the work folder of `{}` is kept in {}{how}",
            self.label(),
            dir.display()
        )));
    }

    /// Runs the step's process or built-in call.
    fn run_step(&self, out_dir: &std::path::Path, made: bool, work: &std::path::Path) -> StepEnd {
        let (ctx, task) = (self.ctx, self.task);
        match &task.kind {
            TaskKind::Container {
                image,
                command,
                env,
                python,
            } => {
                let files = launch::StepFiles {
                    inputs: self.inputs,
                    out_dir: made.then_some(out_dir),
                    log: &self.log,
                    keep: self.kept().then_some(work),
                };
                let spec = match launch::container_spec(
                    ctx,
                    task,
                    (image, command, env, python.is_some()),
                    &files,
                    &self.limits(),
                ) {
                    Ok(spec) => spec,
                    Err(why) => return (Reason::Failed, None, Some(why)),
                };
                let p = crate::exec::run_process(&spec, ctx.cancel);
                let detail = launch::process_detail(&p, &self.limits(), None);
                (p.reason, Some(p), detail)
            }
            TaskKind::Builtin { module, name } => {
                let mut call = launch::builtin_call(task, module, name, self.inputs, out_dir, work);
                call.workdir.clone_from(&ctx.workdir);
                launch::builtin_on_volumes(ctx, task, &mut call);
                let call_file = work.join("call.json");
                // A process of its own when something must hold or be measured for this step
                // alone: a timeout, a memory limit, or resources that autotune sets. Otherwise
                // in this process, which saves starting one (about 10 ms a step).
                let own_process = task.settings.timeout_ms.is_some()
                    || self.limits().memory_bytes.is_some()
                    || task.settings.resources.auto;
                let argv = if own_process {
                    ctx.builtins.process(&call_file)
                } else {
                    None
                };
                match argv {
                    Some(argv) => launch::builtin_process(
                        ctx,
                        task,
                        &call,
                        &call_file,
                        argv,
                        &self.log,
                        &self.limits(),
                    ),
                    None => launch::builtin_in_process(ctx, &call, &self.log),
                }
            }
            TaskKind::Pipeline { .. } => (Reason::Failed, None, None),
        }
    }

    /// Tells the observer about the retry, and waits `delay` milliseconds (less if the run is
    /// cancelled).
    fn wait_to_retry(&self, next: u32, delay: u64, last: &TaskStatus) {
        self.ctx.obs.event(&Event::Retrying {
            task: self.label(),
            attempt: next,
            delay_ms: delay,
            why: status_text(last),
        });
        let deadline = Instant::now() + Duration::from_millis(delay);
        while Instant::now() < deadline && !self.cancelled() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The delay before the retry after next: `delay` times the backoff factor, at most the
    /// backoff's maximum.
    fn next_delay(&self, delay: u64) -> u64 {
        let s = &self.task.settings;
        let next = ((delay as f64) * s.backoff_factor.unwrap_or(1.0)) as u64;
        s.backoff_max_ms.map_or(next, |max| next.min(max))
    }

    fn cancelled(&self) -> bool {
        self.ctx.cancel.load(Ordering::Relaxed)
    }

    /// `pipeline.instance`, as events name it.
    fn label(&self) -> String {
        format!("{}.{}", self.pipeline, self.name)
    }

    // ----- records -----

    /// The record of an attempt from `start` to `end` (milliseconds since the epoch), with the
    /// measures of its process when it had one.
    fn record(
        &self,
        attempt: u32,
        start: u64,
        end: u64,
        reason: Reason,
        p: Option<&ProcessResult>,
        out_bytes: u64,
    ) -> Record<'a> {
        let ctx = self.ctx;
        Record {
            schema: crate::record::SCHEMA,
            pipeline: self.pipeline,
            version: ctx.plan.pipeline_version.as_deref(),
            step: &self.task.step,
            task: self.name,
            run_id: &ctx.run_id,
            attempt,
            start: rfc3339(start),
            end: rfc3339(end),
            wall_seconds: p.map_or((end - start) as f64 / 1000.0, |p| p.wall_seconds),
            cpu_seconds: p.map_or(0.0, |p| p.cpu_seconds),
            peak_rss_bytes: p.map_or(0, |p| p.peak_rss_bytes),
            exit_code: p.and_then(|p| p.exit_code),
            signal: p.and_then(|p| p.signal),
            reason: reason.as_str(),
            input_bytes: self.input_bytes,
            output_bytes: out_bytes,
            requests: self.requests.clone(),
            limits: self.limits(),
            host: &ctx.host,
        }
    }
}

/// The status of an attempt that did not end well, with `detail` (else the reason) in words.
fn failure(reason: Reason, detail: Option<String>) -> TaskStatus {
    let detail = detail.unwrap_or_else(|| reason.as_str().to_string());
    match reason {
        Reason::Cancelled => TaskStatus::Cancelled,
        Reason::Oom => TaskStatus::Failed(format!("out of memory: {detail}")),
        Reason::Timeout => TaskStatus::Failed(format!("timeout: {detail}")),
        _ => TaskStatus::Failed(detail),
    }
}

fn input_bytes(v: &RValue) -> u64 {
    match v {
        RValue::Artifact(a) => a.bytes,
        RValue::List(items) => items.iter().map(input_bytes).sum(),
        RValue::Json(_) => 0,
    }
}

fn status_text(s: &TaskStatus) -> String {
    match s {
        TaskStatus::Failed(w) | TaskStatus::Skipped(w) => w.clone(),
        other => format!("{other:?}"),
    }
}
