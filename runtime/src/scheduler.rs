//! The scheduler: runs a pipeline's tasks in dependency order, in parallel within the machine's
//! CPU and memory, skipping what a failure or a false condition makes pointless.
//!
//! A task is *ready* when everything it reads from or runs `after` has finished. Its loops are
//! expanded into instances then; each instance is *dispatched*: its condition is evaluated, its
//! inputs resolved, and it runs on a worker thread when its CPU and memory requests fit in what
//! is free (a task asking more than the machine runs alone). Workers are kept for the next task
//! ([`crate::workers`]), and the only task that can run while nothing else runs (every step of a
//! chain) runs on the scheduler's own thread, so a step costs no thread start and no hand-over
//! between threads. At each *completion* the instance's outputs are kept for the tasks that
//! read them. A failed task skips its dependents while other branches go on (`--fail-fast` stops
//! everything); *checks* are made once the tasks they read have finished, and a false one stops
//! new tasks from starting; `finally` tasks run last, whatever happened.
//!
//! A task that calls a pipeline runs that pipeline's own scheduler on the thread it was given
//! (the one recursion of this module).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::budget::requests;
use crate::context::RunContext;
use crate::eval::{eval, tasks_of, RValue};
use crate::instances::{expand, instance_name, iteration, IterationEnv, Outputs};
use crate::task::{execute, JobResult};
use crate::types::{Event, TaskReport, TaskStatus};
use crate::workers::Workers;
use flowc_compiler::plan::{PipelinePlan, PlanCheck, Task, TaskKind, TypeRepr};

/// What running a pipeline gave.
pub(crate) struct PipelineResult {
    /// Succeeded, or the first failure.
    pub(crate) status: TaskStatus,
    /// Its outputs, if it succeeded.
    pub(crate) outputs: Option<IndexMap<String, RValue>>,
    /// Checks that were false.
    pub(crate) failed_checks: Vec<String>,
}

/// Runs pipeline `name` with the given parameter values; `prefix` goes before its name in the
/// names of its tasks (`call[0]/inner.task`).
pub(crate) fn run_pipeline(
    ctx: &RunContext<'_>,
    name: &str,
    params: IndexMap<String, RValue>,
    prefix: &str,
) -> PipelineResult {
    match ctx.plan.pipelines.get(name) {
        Some(p) => Scheduler::new(ctx, p, params, format!("{prefix}{name}")).run(),
        None => PipelineResult {
            status: TaskStatus::Failed(format!("unknown pipeline `{name}`")),
            outputs: None,
            failed_checks: Vec::new(),
        },
    }
}

/// Runs one instance of `t`: a step, or the pipeline it calls.
fn run_instance(
    ctx: &RunContext<'_>,
    label: &str,
    t: &Task,
    inst: &str,
    inputs: &IndexMap<String, RValue>,
) -> JobResult {
    let TaskKind::Pipeline { pipeline: inner } = &t.kind else {
        return execute(ctx, label, t, inst, inputs);
    };
    // Sub-pipelines run their own tasks, each cached on its own.
    let started = Instant::now();
    let r = run_pipeline(ctx, inner, inputs.clone(), &format!("{inst}/"));
    JobResult {
        outputs: r.outputs,
        wall_seconds: started.elapsed().as_secs_f64(),
        ..JobResult::not_run(r.status)
    }
}

/// Where a task is.
#[derive(Clone, Debug)]
enum State {
    /// Waiting for what it depends on.
    Pending,
    /// Expanded into instances, of which `remaining` have not ended.
    Running { remaining: usize },
    /// Ended, as a whole.
    Finished(TaskStatus),
}

/// How many tasks are in each [`State`].
struct Counts {
    pending: usize,
    running: usize,
    finished: usize,
}

impl Counts {
    /// The count of tasks in state `s`.
    fn of(&mut self, s: &State) -> &mut usize {
        match s {
            State::Pending => &mut self.pending,
            State::Running { .. } => &mut self.running,
            State::Finished(_) => &mut self.finished,
        }
    }
}

/// The tasks that wait for each task (`waits_for` turned around), each list in plan order.
fn dependents_of(waits_for: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut dependents = vec![Vec::new(); waits_for.len()];
    for (i, deps) in waits_for.iter().enumerate() {
        for &d in deps {
            if let Some(list) = dependents.get_mut(d) {
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
    }
    dependents
}

/// An instance waiting for CPU and memory.
struct Job {
    task: usize,
    indices: Vec<usize>,
    items: Vec<(usize, RValue)>,
}

/// An ended instance: its task, its loop indices, the result, and the CPU and memory it held.
struct Done {
    task: usize,
    indices: Vec<usize>,
    result: JobResult,
    held: (u64, u64),
}

/// The scheduler of one pipeline (see the module documentation).
struct Scheduler<'a> {
    ctx: &'a RunContext<'a>,
    pipeline: &'a PipelinePlan,
    /// The pipeline's name with the prefix of its caller, before every instance name.
    label: String,
    /// Parameter values, defaults included.
    params: IndexMap<String, RValue>,
    /// Each task's state, by index in the plan (changed through [`Scheduler::set_state`]).
    state: Vec<State>,
    /// How many tasks are pending, running and finished.
    counts: Counts,
    /// The tasks that wait for each task.
    dependents: Vec<Vec<usize>>,
    /// The pending tasks that may have become ready: every task at first, then the dependents
    /// of each task that finishes. Readiness is asked of these only, not of every task after
    /// every completion (which made a long chain quadratic).
    candidates: BTreeSet<usize>,
    /// The statuses of each task's ended instances.
    statuses: Vec<Vec<TaskStatus>>,
    /// An instance of a task other than a `finally` one failed or was cancelled (`run.status`,
    /// kept as statuses arrive: it is read for every instance started).
    ended_badly: bool,
    outputs: Outputs,
    /// Task id → index.
    index: HashMap<&'a str, usize>,
    /// What each task waits for, looked up once: readiness is asked after every completion.
    waits_for: Vec<Vec<usize>>,
    /// The tasks each check reads.
    check_tasks: Vec<Vec<usize>>,
    /// Which checks have been made (or given up).
    checks_done: Vec<bool>,
    failed_checks: Vec<String>,
    /// A check was false, or `--fail-fast` saw a failure: no new task starts.
    stop_new: bool,
    /// Tasks that did not run because the run was stopping or a dependency did not succeed or
    /// did not run itself (Argo's `Omitted`): their dependents do not run either. A task
    /// skipped for its own false condition (Argo's `Skipped`) does not stop its `after`
    /// dependents, as a bare `depends: task` on Argo lets them run.
    omitted: Vec<bool>,
    /// Instances started and not yet completed (for `parallel N`).
    running: usize,
    /// Instances ready to run, in order.
    queue: VecDeque<Job>,
}

impl<'a> Scheduler<'a> {
    fn new(
        ctx: &'a RunContext<'a>,
        p: &'a PipelinePlan,
        mut params: IndexMap<String, RValue>,
        label: String,
    ) -> Scheduler<'a> {
        for param in &p.params {
            if !params.contains_key(&param.name) {
                params.insert(
                    param.name.clone(),
                    RValue::Json(param.default.clone().unwrap_or(Json::Null)),
                );
            }
        }
        let n = p.tasks.len();
        let index: HashMap<&str, usize> = p
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let waits_for: Vec<Vec<usize>> = p
            .tasks
            .iter()
            .map(|t| crate::one_step::waits_for(p, &index, t))
            .collect();
        let check_tasks = p.checks.iter().map(|c| tasks_read(&index, c)).collect();
        let dependents = dependents_of(&waits_for);
        Scheduler {
            ctx,
            pipeline: p,
            label,
            params,
            state: vec![State::Pending; n],
            counts: Counts {
                pending: n,
                running: 0,
                finished: 0,
            },
            dependents,
            candidates: (0..n).collect(),
            statuses: vec![Vec::new(); n],
            ended_badly: false,
            outputs: HashMap::new(),
            index,
            waits_for,
            check_tasks,
            checks_done: vec![false; p.checks.len()],
            failed_checks: Vec::new(),
            stop_new: false,
            omitted: vec![false; n],
            running: 0,
            queue: VecDeque::new(),
        }
    }

    /// Runs the pipeline to its end.
    fn run(mut self) -> PipelineResult {
        std::thread::scope(|scope| {
            let mut workers = Workers::new(scope);
            loop {
                let cancelled = self.ctx.cancel.load(Ordering::Relaxed);
                self.start_ready(cancelled);
                let ran_here = self.dispatch(cancelled, &mut workers);
                self.make_checks();
                if self.is_over() {
                    break;
                }
                let received = match ran_here {
                    Some(done) => Ok(done),
                    None => {
                        self.ctx.obs.waiting();
                        workers.next_result(Duration::from_millis(25))
                    }
                };
                match received {
                    Ok(done) => self.complete(done),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            // Idle workers leave once the queue is closed.
            drop(workers);
        });
        self.result()
    }

    // ----- ready: tasks whose dependencies have finished -----

    /// Expands every task whose dependencies have finished into instances, or ends it when it
    /// must not run.
    /// Tasks are taken in the order of the plan; one that a task ended here made ready is taken
    /// in the same pass when it comes later in the plan, else in the next.
    fn start_ready(&mut self, cancelled: bool) {
        let mut from = 0;
        while let Some(i) = self.candidates.range(from..).next().copied() {
            self.candidates.remove(&i);
            from = i + 1;
            if !matches!(self.state[i], State::Pending) || !self.dependencies_finished(i) {
                continue;
            }
            match self.reason_not_to_start(i, cancelled) {
                Some((why, omitted)) => {
                    self.omitted[i] = omitted;
                    self.finish_task(i, why)
                }
                None => self.expand_task(i),
            }
        }
    }

    fn dependencies_finished(&self, i: usize) -> bool {
        self.waits_for[i]
            .iter()
            .all(|&d| matches!(self.state[d], State::Finished(_)))
    }

    /// Why a ready task must not start, and whether that omits it (see `omitted`): the run is
    /// stopping, or a dependency failed or was omitted (omitted), or a data dependency was
    /// skipped (unless the task reads it only into optional inputs). `finally` tasks always
    /// start.
    fn reason_not_to_start(&self, i: usize, cancelled: bool) -> Option<(TaskStatus, bool)> {
        let t = &self.pipeline.tasks[i];
        if t.is_finally {
            return None;
        }
        if cancelled {
            return Some((TaskStatus::Cancelled, true));
        }
        if self.stop_new {
            return Some((TaskStatus::Skipped("the run is stopping".into()), true));
        }
        let not_ok = |d: usize| match &self.state[d] {
            State::Finished(TaskStatus::Skipped(_)) => self.omitted[d].then_some("did not run"),
            State::Finished(s) if !s.finished_ok() => Some("did not succeed"),
            _ => None,
        };
        if let Some((d, what)) = self.waits_for[i]
            .iter()
            .find_map(|&d| not_ok(d).map(|what| (d, what)))
        {
            let id = &self.pipeline.tasks[d].id;
            return Some((TaskStatus::Skipped(format!("`{id}` {what}")), true));
        }
        let d = self.first_skipped_data_dependency(t)?;
        let id = &self.pipeline.tasks[d].id;
        (!reads_only_optionally(t, id))
            .then(|| (TaskStatus::Skipped(format!("`{id}` was skipped")), false))
    }

    fn first_skipped_data_dependency(&self, t: &Task) -> Option<usize> {
        t.data_deps
            .iter()
            .filter_map(|d| self.index.get(d.as_str()).copied())
            .find(|&d| matches!(&self.state[d], State::Finished(TaskStatus::Skipped(_))))
    }

    /// Queues the instances of task `i`, one per iteration of its loops.
    fn expand_task(&mut self, i: usize) {
        let t = &self.pipeline.tasks[i];
        match expand(self.pipeline, &t.loops, &self.params, &self.outputs) {
            Ok(combos) if combos.is_empty() => {
                self.finish_task(i, TaskStatus::Succeeded);
                self.outputs.insert(t.id.clone(), Vec::new());
            }
            Ok(combos) => {
                self.set_state(
                    i,
                    State::Running {
                        remaining: combos.len(),
                    },
                );
                for (indices, items) in combos {
                    self.queue.push_back(Job {
                        task: i,
                        indices,
                        items,
                    });
                }
            }
            Err(why) => self.finish_task(i, TaskStatus::Failed(why)),
        }
    }

    // ----- dispatch: start what fits -----

    /// Starts the queued instances that fit in the budget, and ends those that must not run.
    /// Returns the result of the one run on this thread, if any.
    fn dispatch<'scope>(
        &mut self,
        cancelled: bool,
        workers: &mut Workers<'scope, '_, Done>,
    ) -> Option<Done>
    where
        'a: 'scope,
    {
        let mut ran_here = None;
        let mut deferred = VecDeque::new();
        while let Some(job) = self.queue.pop_front() {
            let t = &self.pipeline.tasks[job.task];
            let inst = instance_name(t, &job.indices);
            if cancelled && !t.is_finally {
                self.complete_instance(job.task, &inst, JobResult::not_run(TaskStatus::Cancelled));
                continue;
            }
            if !self.condition_holds(t, &job) {
                let skipped = TaskStatus::Skipped("its condition is false".into());
                self.complete_instance(job.task, &inst, JobResult::not_run(skipped));
                continue;
            }
            // `parallel N`: at most N instances of this pipeline's calls at once.
            let full = self
                .pipeline
                .parallelism
                .is_some_and(|n| self.running >= n as usize);
            let held = requests(t);
            if full || !self.ctx.take(t, held) {
                deferred.push_back(job);
                continue;
            }
            self.running += 1;
            let inputs = self.inputs(t, &job);
            let (ctx, label) = (self.ctx, self.label.clone());
            let work = move || Done {
                result: run_instance(ctx, &label, t, &inst, &inputs),
                task: job.task,
                indices: job.indices,
                held,
            };
            // The only task that can run, while nothing else runs: this thread runs it, as it
            // would only wait for it otherwise. A chain of steps then runs without a hand-over
            // between threads at every step.
            let alone = workers.none_in_flight() && self.queue.is_empty() && deferred.is_empty();
            if alone && ran_here.is_none() {
                ran_here = Some(work());
            } else {
                workers.hand_over(work);
            }
        }
        self.queue = deferred;
        ran_here
    }

    /// Whether the `if` conditions around an instance hold.
    fn condition_holds(&self, t: &Task, job: &Job) -> bool {
        let env = self.env(&job.items, &job.indices);
        t.when
            .iter()
            .all(|c| matches!(eval(c, &env), RValue::Json(Json::Bool(true))))
    }

    /// The values of an instance's inputs.
    fn inputs(&self, t: &Task, job: &Job) -> IndexMap<String, RValue> {
        let env = self.env(&job.items, &job.indices);
        t.inputs
            .iter()
            .map(|inp| (inp.name.clone(), eval(&inp.value, &env)))
            .collect()
    }

    fn env<'e>(&'e self, items: &'e [(usize, RValue)], indices: &'e [usize]) -> IterationEnv<'e> {
        IterationEnv {
            params: &self.params,
            outputs: &self.outputs,
            items,
            indices,
            run: Some((self.run_status(), &self.ctx.run_id)),
            pipeline: self.pipeline,
        }
    }

    /// `run.status` as a `finally` call reads it once everything else has ended: `failed` when
    /// a task failed or was cancelled or a check did not hold, else `succeeded`.
    fn run_status(&self) -> &'static str {
        if self.failed_checks.is_empty() && !self.ended_badly {
            "succeeded"
        } else {
            "failed"
        }
    }

    /// Keeps the status of an ended instance of task `i`.
    fn keep_status(&mut self, i: usize, status: &TaskStatus) {
        if !self.pipeline.tasks[i].is_finally
            && matches!(status, TaskStatus::Failed(_) | TaskStatus::Cancelled)
        {
            self.ended_badly = true;
        }
        self.statuses[i].push(status.clone());
    }

    // ----- completion -----

    /// Takes in an ended instance: gives back its resources, keeps its outputs.
    fn complete(&mut self, done: Done) {
        let t = &self.pipeline.tasks[done.task];
        self.ctx.give_back(t, done.held);
        self.running = self.running.saturating_sub(1);
        let inst = instance_name(t, &done.indices);
        if let Some(o) = &done.result.outputs {
            self.outputs
                .entry(t.id.clone())
                .or_default()
                .push((done.indices.clone(), o.clone()));
        }
        if matches!(done.result.status, TaskStatus::Failed(_)) && self.ctx.fail_fast {
            self.stop_new = true;
            self.ctx
                .obs
                .event(&Event::Note("--fail-fast: stopping the run".into()));
        }
        self.complete_instance(done.task, &inst, done.result);
    }

    /// Reports an ended instance of task `i`; the task ends with its last instance.
    fn complete_instance(&mut self, i: usize, inst: &str, r: JobResult) {
        self.report(i, inst, &r);
        self.keep_status(i, &r.status);
        if let State::Running { remaining } = &mut self.state[i] {
            *remaining -= 1;
            if *remaining == 0 {
                let status = task_status(&self.statuses[i]).unwrap_or(r.status);
                self.set_state(i, State::Finished(status));
            }
        }
    }

    /// Ends task `i` without running it.
    fn finish_task(&mut self, i: usize, status: TaskStatus) {
        self.keep_status(i, &status);
        let id = &self.pipeline.tasks[i].id;
        self.report(i, id, &JobResult::not_run(status.clone()));
        self.set_state(i, State::Finished(status));
    }

    /// Moves task `i` to `next`, keeping the counts; a task that finishes makes its dependents
    /// candidates to start.
    fn set_state(&mut self, i: usize, next: State) {
        *self.counts.of(&self.state[i]) -= 1;
        *self.counts.of(&next) += 1;
        if matches!(next, State::Finished(_)) {
            self.candidates.extend(self.dependents[i].iter().copied());
        }
        self.state[i] = next;
    }

    /// Tells the observer that instance `inst` of task `i` ended, and adds it to the run's
    /// reports.
    fn report(&self, i: usize, inst: &str, r: &JobResult) {
        let task = format!("{}.{inst}", self.label);
        self.ctx.obs.event(&Event::Finished {
            task: task.clone(),
            status: r.status.clone(),
            wall_seconds: r.wall_seconds,
            cache_note: r.cache_note.clone(),
        });
        if let Ok(mut reports) = self.ctx.reports.lock() {
            reports.push(TaskReport {
                task,
                step: self.pipeline.tasks[i].step.clone(),
                status: r.status.clone(),
                attempts: r.attempts,
                wall_seconds: r.wall_seconds,
                cache_note: r.cache_note.clone(),
                log: r.log.clone(),
            });
        }
    }

    // ----- checks -----

    /// Makes every check whose tasks have all finished (once).
    fn make_checks(&mut self) {
        for ci in 0..self.pipeline.checks.len() {
            let tasks = &self.check_tasks[ci];
            if self.checks_done[ci]
                || !tasks
                    .iter()
                    .all(|&i| matches!(self.state[i], State::Finished(_)))
            {
                continue;
            }
            self.checks_done[ci] = true;
            let all_ok = tasks
                .iter()
                .all(|&i| matches!(&self.state[i], State::Finished(s) if s.finished_ok()));
            if all_ok {
                self.make_check(&self.pipeline.checks[ci]);
            }
        }
    }

    /// Makes a check, once per iteration of the loops around it, with that iteration's items
    /// and results, as on Argo and Kubeflow.
    fn make_check(&mut self, c: &PlanCheck) {
        let combos = match expand(self.pipeline, &c.loops, &self.params, &self.outputs) {
            Ok(combos) => combos,
            Err(why) => {
                self.check_failed(format!("{} ({why})", c.source));
                return;
            }
        };
        for (indices, items) in &combos {
            let env = self.env(items, indices);
            // A check in an `if` branch that did not run is not made.
            let holds = |v| matches!(eval(v, &env), RValue::Json(Json::Bool(true)));
            if !c.when.iter().all(holds) || holds(&c.condition) {
                continue;
            }
            let source = if c.loops.is_empty() {
                c.source.clone()
            } else {
                format!("{} (iteration {})", c.source, iteration(indices))
            };
            self.check_failed(source);
        }
    }

    /// A check was false: no new task starts.
    fn check_failed(&mut self, source: String) {
        self.ctx.obs.event(&Event::CheckFailed {
            source: source.clone(),
        });
        self.failed_checks.push(source);
        self.stop_new = true;
    }

    // ----- the end -----

    /// Whether every task has ended, or nothing more can start.
    fn is_over(&self) -> bool {
        let c = &self.counts;
        let all_done = c.finished == self.state.len();
        all_done || (c.running == 0 && self.queue.is_empty() && c.pending == 0)
    }

    /// The pipeline's status (the first failure, else a false check, else success) and its
    /// outputs when it succeeded.
    fn result(mut self) -> PipelineResult {
        // Keep instance outputs in loop order.
        for v in self.outputs.values_mut() {
            v.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let tasks = &self.pipeline.tasks;
        let first_failure = self.state.iter().zip(tasks).find_map(|(s, t)| match s {
            State::Finished(TaskStatus::Failed(w)) => {
                Some(TaskStatus::Failed(format!("`{}` failed: {w}", t.id)))
            }
            State::Finished(TaskStatus::Cancelled) => Some(TaskStatus::Cancelled),
            _ => None,
        });
        let status = first_failure.unwrap_or(if self.failed_checks.is_empty() {
            TaskStatus::Succeeded
        } else {
            let checks = self.failed_checks.join("; ");
            TaskStatus::Failed(format!("check failed: {checks}"))
        });
        let outputs = status.finished_ok().then(|| {
            let env = self.env(&[], &[]);
            self.pipeline
                .outputs
                .iter()
                .map(|o| (o.name.clone(), eval(&o.value, &env)))
                .collect()
        });
        PipelineResult {
            status,
            outputs,
            failed_checks: self.failed_checks,
        }
    }
}

/// The tasks a check reads, in its condition or the conditions around it.
fn tasks_read(index: &HashMap<&str, usize>, c: &PlanCheck) -> Vec<usize> {
    let mut ts = Vec::new();
    tasks_of(&c.condition, &mut ts);
    for w in &c.when {
        tasks_of(w, &mut ts);
    }
    ts.iter()
        .filter_map(|t| index.get(t.as_str()).copied())
        .collect()
}

/// Whether `t` reads task `dep` only into optional inputs.
fn reads_only_optionally(t: &Task, dep: &str) -> bool {
    t.inputs.iter().all(|inp| {
        let mut ts = Vec::new();
        tasks_of(&inp.value, &mut ts);
        !ts.iter().any(|x| x == dep) || matches!(inp.ty, TypeRepr::Optional { .. })
    })
}

/// A task's status from its instances': the first failure, else cancelled, else ok or cached,
/// else skipped.
fn task_status(statuses: &[TaskStatus]) -> Option<TaskStatus> {
    statuses
        .iter()
        .find(|s| matches!(s, TaskStatus::Failed(_)))
        .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Cancelled)))
        .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Succeeded)))
        .or_else(|| statuses.iter().find(|s| matches!(s, TaskStatus::Cached)))
        .cloned()
}
