//! `flowc run`: check, plan and run a pipeline on this machine, with a progress display and a
//! summary table.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use flowc_compiler::plan::{build_plan_with, Plan};
#[cfg(feature = "builtins")]
use flowc_runtime::builtin::{BuiltinCall, BuiltinError, BuiltinRunner};
use flowc_runtime::one_step::StepSelection;
use flowc_runtime::python::PythonOptions;
use flowc_runtime::{Engine, Event, Observer, RunOptions, TaskStatus};

use crate::args::{EngineArg, RunArgs, Switch};
use crate::{EXIT_ERRORS, EXIT_OK};

/// Exit code of a run stopped by Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

/// Shows progress: a bar and the running steps on a terminal (indicatif), plain lines
/// otherwise (CI logs, pipes); with `--quiet`, only failures and notes.
struct Progress {
    start: Instant,
    explain: bool,
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    running: Mutex<Vec<String>>,
    /// Instances of loops seen, and their tasks (labels without loop indices): the plan counts
    /// a task in a loop once, and each further iteration adds one to the bar's length.
    looped: Mutex<std::collections::HashSet<String>>,
    /// Plain lines held back: a step's end line is written with the next line (in a chain,
    /// the next step's start, microseconds later), or as soon as the runner waits for a
    /// step, in one write instead of two.
    held: Mutex<String>,
}

impl Progress {
    fn new(explain: bool, quiet: bool, total: usize) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            start: Instant::now(),
            explain,
            quiet,
            bar,
            running: Mutex::new(Vec::new()),
            looped: Mutex::new(std::collections::HashSet::new()),
            held: Mutex::new(String::new()),
        }
    }

    /// Counts instance `task` on the bar when it is first seen (started, or finished from the
    /// cache): an iteration of a loop beyond its first adds one to the bar's length.
    fn see(&self, bar: &indicatif::ProgressBar, task: &str) {
        let Some((base, _)) = task.split_once('[') else {
            return;
        };
        let Ok(mut seen) = self.looped.lock() else {
            return;
        };
        if seen.insert(task.to_string()) && !seen.insert(base.to_string()) {
            bar.inc_length(1);
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => self.write_plain(text, false),
        }
    }

    /// A step's end line: held back (without a bar) until the next line or [`Observer::waiting`].
    fn end_line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => self.write_plain(text, true),
        }
    }

    /// Writes the held lines and `text`, or (with `hold`) adds `text` to them.
    fn write_plain(&self, text: &str, hold: bool) {
        let Ok(mut held) = self.held.lock() else {
            println!("{text}");
            return;
        };
        held.push_str(text);
        held.push('\n');
        if !hold {
            write_out(&mut held);
        }
    }

    /// Writes the held lines, if any.
    fn flush_held(&self) {
        if let Ok(mut held) = self.held.lock() {
            write_out(&mut held);
        }
    }

    fn finish(&self) {
        self.flush_held();
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn event(&self, e: &Event) {
        let t = self.start.elapsed().as_secs_f64();
        let plain = self.bar.is_none() && !self.quiet;
        match e {
            Event::Started { task, attempt } => {
                if let Ok(mut r) = self.running.lock() {
                    r.push(task.clone());
                    if let Some(b) = &self.bar {
                        self.see(b, task);
                        b.set_message(r.join(", "));
                    }
                }
                if plain {
                    let again = if *attempt > 1 {
                        format!(" (attempt {attempt})")
                    } else {
                        String::new()
                    };
                    self.line(&format!("[{t:7.2}s] start    {task}{again}"));
                }
            }
            Event::Finished {
                task,
                status,
                wall_seconds,
                cache_note,
            } => {
                if let Ok(mut r) = self.running.lock() {
                    r.retain(|x| x != task);
                    if let Some(b) = &self.bar {
                        self.see(b, task);
                        b.inc(1);
                        b.set_message(r.join(", "));
                    }
                }
                let mut s = match status {
                    TaskStatus::Succeeded => {
                        format!("[{t:7.2}s] ok       {task} ({wall_seconds:.2}s)")
                    }
                    TaskStatus::Cached => format!("[{t:7.2}s] cached   {task}"),
                    TaskStatus::Failed(why) => format!("[{t:7.2}s] FAILED   {task}: {why}"),
                    TaskStatus::Skipped(why) => format!("[{t:7.2}s] skipped  {task}: {why}"),
                    TaskStatus::Cancelled => format!("[{t:7.2}s] cancelled {task}"),
                };
                if self.explain {
                    if let Some(n) = cache_note {
                        s.push_str(&format!("\n           cache miss: {n}"));
                    }
                }
                if plain || matches!(status, TaskStatus::Failed(_)) || self.explain {
                    self.end_line(&s);
                }
            }
            Event::Retrying {
                task,
                attempt,
                delay_ms,
                why,
            } if !self.quiet => self.line(&format!(
                "[{t:7.2}s] retry    {task} (attempt {attempt} in {:.1}s): {why}",
                *delay_ms as f64 / 1000.0
            )),
            Event::Retrying { .. } => {}
            Event::CheckFailed { source } => {
                self.line(&format!("[{t:7.2}s] CHECK FAILED: {source}"))
            }
            Event::Note(n) => self.line(&format!("note: {n}")),
        }
    }

    fn waiting(&self) {
        self.flush_held();
    }
}

/// Writes `lines` to standard output in one write, and empties it.
fn write_out(lines: &mut String) {
    if lines.is_empty() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(lines.as_bytes()).and_then(|()| out.flush());
    lines.clear();
}

fn parse_memory(s: &str) -> Option<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    let n: f64 = digits.parse().ok()?;
    let f = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "k" | "K" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        _ => return None,
    };
    Some((n * f) as u64)
}

/// The values of a parameters file: a JSON object, name to value.
fn read_params_file(path: &Path) -> Result<Vec<(String, serde_json::Value)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the parameters file `{}`: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("the parameters file `{}` is not JSON: {e}", path.display()))?;
    match value {
        serde_json::Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(format!(
            "the parameters file `{}` must be a JSON object of parameter values, such as \
             {{\"day\": \"2024-06-03\"}}",
            path.display()
        )),
    }
}

/// How Python steps run: the interpreter from `--python`, `FLOWC_PYTHON` or flowc.toml, and
/// the source roots (the pipeline's folder, then flowc.toml's `[python] path`).
fn python_options(args: &RunArgs, project: &Path) -> Result<PythonOptions, String> {
    let settings = crate::project::python_settings(project)?;
    let interpreter = args
        .python
        .clone()
        .or_else(|| std::env::var_os("FLOWC_PYTHON").map(PathBuf::from))
        .or(settings.interpreter);
    let mut path = vec![project.to_path_buf()];
    path.extend(settings.path);
    Ok(PythonOptions { interpreter, path })
}

/// The run's store: `--store`, else the `[run] store` of `flowc.toml`, else `.flow` beside the
/// file. A store on object storage (`s3://…`) has its local folder (working area and cache of
/// objects) in `.flow/remote/<hash of the URL>` beside the file.
fn store_of(args: &RunArgs, project: &Path) -> Result<(PathBuf, Option<String>), String> {
    let setting = match &args.store {
        Some(s) => Some(s.to_string_lossy().into_owned()),
        None => crate::project::run_store(project)?,
    };
    match setting {
        Some(url) if url.starts_with("s3://") => {
            let local = project
                .join(".flow/remote")
                .join(flowc_compiler::hash::short_hash(&url));
            Ok((local, Some(url)))
        }
        Some(dir) => {
            let dir = PathBuf::from(dir);
            Ok((
                if dir.is_relative() {
                    std::env::current_dir().map(|d| d.join(&dir)).unwrap_or(dir)
                } else {
                    dir
                },
                None,
            ))
        }
        None => Ok((project.join(".flow"), None)),
    }
}

/// The plan `flowc run` runs: the file checked clean, the lock file's tuned resources and the
/// build values (`--set`); the exit code when there is none.
fn plan_to_run(args: &RunArgs) -> Result<Plan, u8> {
    let analysis = crate::loader::analyze_clean(&args.file, "nothing was run")?;
    let tuned = match crate::lockfile::read(&args.file) {
        Ok(lock) => lock.map(|l| l.tuned()).unwrap_or_default(),
        Err(e) => return Err(super::fail(e)),
    };
    let build = crate::loader::build_values(&analysis, &args.set, "nothing was run")?;
    build_plan_with(&analysis, args.pipeline.as_deref(), None, &tuned, &build).map_err(super::fail)
}

/// The options of `flowc run` from its flags and the project (`flowc.toml`), or why they are
/// not valid.
fn run_options(args: &RunArgs) -> Result<RunOptions, String> {
    // Absolute paths: steps run in the project folder, and must find the store from there.
    let parent = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let project: PathBuf = std::fs::canonicalize(&parent).unwrap_or(parent);
    let param_file = match &args.params_file {
        Some(path) => read_params_file(path)?,
        None => Vec::new(),
    };
    let memory = match &args.memory {
        Some(m) => Some(
            parse_memory(m)
                .ok_or_else(|| format!("`--memory {m}` is not a memory amount such as `8Gi`"))?,
        ),
        None => None,
    };
    let (store, remote) = store_of(args, &project)?;
    let python = python_options(args, &project)?;
    Ok(RunOptions {
        store,
        remote,
        workdir: project,
        params: args.params.clone(),
        param_file,
        secrets: args
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), PathBuf::from(v)))
            .collect(),
        configs: args
            .configs
            .iter()
            .map(|(k, v)| (k.clone(), PathBuf::from(v)))
            .collect(),
        jobs: args.jobs,
        cpu_millis: args.cpus.map(|c| (c * 1000.0) as u64),
        memory_bytes: memory,
        fail_fast: args.fail_fast,
        engine: match args.engine {
            EngineArg::Sandbox => Engine::Sandbox,
            EngineArg::Host => Engine::Host,
            EngineArg::Docker => Engine::Docker,
            EngineArg::Podman => Engine::Podman,
        },
        network: args.network == Switch::On,
        pass_env: args.pass_env.clone(),
        strict_memory: args.strict_memory,
        python,
        verify: args.verify,
        step: args.step.as_ref().map(|task| StepSelection {
            task: task.clone(),
            upstream: args.upstream,
            inputs_from: args.inputs_from.clone(),
            keep: args.keep,
        }),
    })
}

/// Runs `flowc run`.
pub fn run(args: &RunArgs) -> u8 {
    let plan = match plan_to_run(args) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let opts = match run_options(args) {
        Ok(o) => o,
        Err(why) => return super::fail(why),
    };
    static CANCEL: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: leave now (the store stays consistent).
            std::process::exit(i32::from(EXIT_CANCELLED));
        }
        eprintln!("\ncancelling: stopping running steps (Ctrl-C again to leave at once)");
    });
    if let Some(dir) = &args.out {
        if let Err(e) = flowc_runtime::out_dir::check(dir, args.force) {
            eprintln!("error: {e}");
            return crate::EXIT_FAILURE;
        }
    }
    // A run of one step shows the plan it runs: the task, what it needs, its outputs.
    let plan = match &opts.step {
        Some(sel) => match flowc_runtime::one_step::select(&plan, sel) {
            Ok((cut, _)) => cut,
            Err(e) => {
                eprintln!("error: {e}");
                return crate::EXIT_FAILURE;
            }
        },
        None => plan,
    };
    let total = plan.pipelines.values().map(|p| p.tasks.len()).sum();
    let obs = Progress::new(args.explain_cache, args.quiet, total);
    #[cfg(feature = "builtins")]
    let builtins = OwnProcess(flowc_builtins::Builtins);
    #[cfg(not(feature = "builtins"))]
    let builtins = flowc_runtime::builtin::NoBuiltins;
    let result = flowc_runtime::run(&plan, &opts, &builtins, &obs, &CANCEL);
    obs.finish();
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::EXIT_FAILURE;
        }
    };
    match args.quiet {
        false => print_summary(&plan, &summary),
        true if summary.status != "succeeded" => print_failures(&plan, &summary),
        true => {}
    }
    if let Some(dir) = &args.out {
        let declared = plan.entry().map(|p| &p.outputs[..]).unwrap_or(&[]);
        match flowc_runtime::out_dir::place(
            dir,
            declared,
            &summary.outputs,
            &summary.run_id,
            args.force,
        ) {
            Ok(_) if args.quiet => {}
            Ok(written) => println!("outputs placed in {} ({})", dir.display(), written.len()),
            Err(e) => {
                eprintln!("error: {e}");
                return crate::EXIT_FAILURE;
            }
        }
    }
    if args.verify && !verification_holds(&summary) {
        return EXIT_ERRORS;
    }
    match summary.status.as_str() {
        "succeeded" => EXIT_OK,
        "cancelled" => EXIT_CANCELLED,
        _ => EXIT_ERRORS,
    }
}

/// `--verify`: prints what the re-execution found; false when a step's output differs.
fn verification_holds(summary: &flowc_runtime::RunSummary) -> bool {
    let note = |t: &flowc_runtime::TaskReport| t.cache_note.clone().unwrap_or_default();
    let differ: Vec<_> = summary
        .tasks
        .iter()
        .filter(|t| note(t).starts_with("verify: differs"))
        .collect();
    let same = summary
        .tasks
        .iter()
        .filter(|t| note(t).starts_with("verify: same"))
        .count();
    let unchecked = summary.tasks.len() - same - differ.len();
    for t in &differ {
        let outputs = note(t).trim_start_matches("verify: differs: ").to_string();
        println!(
            "step `{}` ({}): output {outputs} differs from the cached result",
            t.step, t.task
        );
    }
    println!(
        "verify: {same} step(s) reproduced their cached outputs, {} differ, {unchecked} not compared (cache off, no cached result, or not run)",
        differ.len()
    );
    differ.is_empty()
}

/// The place of a task instance (`pipeline.task[1]`, `call/pipeline.task`) in the plan: the
/// place of the call that ran its pipeline (none for the entry pipeline), then the task's index
/// in its pipeline, then its loop indices. Sorting by it lists tasks in plan order.
fn plan_order(plan: &flowc_compiler::plan::Plan, label: &str, depth: usize) -> Vec<usize> {
    let Some((pipe_label, inst)) = label.rsplit_once('.') else {
        return vec![usize::MAX];
    };
    let (call, pipeline) = match pipe_label.rsplit_once('/') {
        Some((c, p)) => (Some(c), p),
        None => (None, pipe_label),
    };
    let (id, indices) = inst.split_once('[').unwrap_or((inst, ""));
    let tasks = plan
        .pipelines
        .get(pipeline)
        .map(|p| &p.tasks[..])
        .unwrap_or(&[]);
    let mut key = match call {
        // The call's own place: the task calling this pipeline, wherever it is.
        Some(c) if depth < 16 => {
            let call_id = c.split_once('[').map_or(c, |(id, _)| id);
            plan.pipelines
                .iter()
                .find(|(_, p)| {
                    p.tasks.iter().any(|t| {
                        t.id == call_id
                            && matches!(&t.kind, flowc_compiler::plan::TaskKind::Pipeline { pipeline: q } if q == pipeline)
                    })
                })
                .map(|(name, _)| plan_order(plan, &format!("{name}.{c}"), depth + 1))
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    key.push(tasks.iter().position(|t| t.id == id).unwrap_or(usize::MAX));
    key.extend(
        indices
            .split(['[', ']'])
            .filter_map(|i| i.parse::<usize>().ok()),
    );
    key
}

/// A pipeline output's lines, `name = value`: a list one item a line (`name[0] = ...`), a
/// file or folder as its path in the store, a value as its text.
fn output_lines(name: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                output_lines(&format!("{name}[{i}]"), item, out);
            }
        }
        serde_json::Value::String(p) => out.push(format!("{name} = {p}")),
        other => out.push(format!("{name} = {other}")),
    }
}

fn print_summary(plan: &flowc_compiler::plan::Plan, s: &flowc_runtime::RunSummary) {
    let tasks = tasks_in_plan_order(plan, s);
    let width = tasks.iter().map(|t| t.task.len()).max().unwrap_or(4).max(4);
    println!();
    println!(
        "{:<width$}  {:<9}  {:>8}  {:>8}",
        "task", "status", "attempts", "seconds"
    );
    for t in &tasks {
        println!(
            "{:<width$}  {:<9}  {:>8}  {:>8.2}",
            t.task,
            t.status.word(),
            t.attempts,
            t.wall_seconds
        );
    }
    print_failed(&tasks, s);
    if !s.outputs.is_empty() {
        println!("\noutputs:");
        let mut lines = Vec::new();
        for (k, v) in &s.outputs {
            output_lines(k, v, &mut lines);
        }
        for l in lines {
            println!("  {l}");
        }
    }
    print_status(s);
}

/// What `--quiet` prints of a run that did not succeed: its failed steps (with their logs),
/// its failed checks and its status line.
fn print_failures(plan: &flowc_compiler::plan::Plan, s: &flowc_runtime::RunSummary) {
    print_failed(&tasks_in_plan_order(plan, s), s);
    print_status(s);
}

fn tasks_in_plan_order<'a>(
    plan: &flowc_compiler::plan::Plan,
    s: &'a flowc_runtime::RunSummary,
) -> Vec<&'a flowc_runtime::TaskReport> {
    let mut tasks: Vec<&flowc_runtime::TaskReport> = s.tasks.iter().collect();
    tasks.sort_by_cached_key(|t| plan_order(plan, &t.task, 0));
    tasks
}

/// Each failed step's reason and log, then each failed check.
fn print_failed(tasks: &[&flowc_runtime::TaskReport], s: &flowc_runtime::RunSummary) {
    for t in tasks {
        if let TaskStatus::Failed(why) = &t.status {
            println!("\n{} failed: {why}", t.task);
            if let Some(log) = &t.log {
                println!("  log: {}", log.display());
            }
        }
    }
    for c in &s.failed_checks {
        println!("\ncheck failed: {c}");
    }
}

fn print_status(s: &flowc_runtime::RunSummary) {
    println!("\nrun {} {} ({})", s.run_id, s.status, s.run_dir.display());
}

/// Built-in steps, run in a process of their own (`flowc exec --call FILE`, this binary) when
/// the runner asks (a timeout, a memory limit or automatic resources), so that those hold and
/// their time and peak memory are their own; in this process when this binary's path is
/// unknown.
#[cfg(feature = "builtins")]
struct OwnProcess<R>(R);

#[cfg(feature = "builtins")]
impl<R: BuiltinRunner> BuiltinRunner for OwnProcess<R> {
    fn run(&self, call: &BuiltinCall) -> Result<(), BuiltinError> {
        self.0.run(call)
    }
    fn has(&self, module: &str, name: &str) -> bool {
        self.0.has(module, name)
    }
    fn version(&self) -> String {
        self.0.version()
    }
    fn process(&self, call: &Path) -> Option<Vec<String>> {
        let exe = std::env::current_exe().ok()?;
        Some(vec![
            exe.to_str()?.to_string(),
            "exec".into(),
            "--call".into(),
            call.to_str()?.to_string(),
        ])
    }
}
