//! `flowc run`: check, plan and run a pipeline on this machine, with a progress display and a
//! summary table.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, FileLoader};
use flowc_runtime::{Event, Observer, RunOptions, TaskStatus};

use crate::args::RunArgs;
use crate::loader::DiskLoader;
use crate::{EXIT_ERRORS, EXIT_OK};

/// Exit code of a run stopped by Ctrl-C.
pub const EXIT_CANCELLED: u8 = 130;

/// Prints progress as plain lines (or compact status lines on a terminal).
struct Lines {
    start: Instant,
    explain: bool,
    tty: bool,
    out: Mutex<()>,
}

impl Observer for Lines {
    fn event(&self, e: &Event) {
        let _guard = self.out.lock();
        let t = self.start.elapsed().as_secs_f64();
        let line = match e {
            Event::Started { task, attempt } if *attempt == 1 => {
                format!("[{t:7.2}s] start    {task}")
            }
            Event::Started { task, attempt } => {
                format!("[{t:7.2}s] start    {task} (attempt {attempt})")
            }
            Event::Finished {
                task,
                status,
                wall_seconds,
                cache_note,
            } => {
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
                s
            }
            Event::Retrying {
                task,
                attempt,
                delay_ms,
                why,
            } => format!(
                "[{t:7.2}s] retry    {task} (attempt {attempt} in {:.1}s): {why}",
                *delay_ms as f64 / 1000.0
            ),
            Event::CheckFailed { source } => format!("[{t:7.2}s] CHECK FAILED: {source}"),
            Event::Note(n) => format!("note: {n}"),
        };
        if self.tty {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
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

/// Runs `flowc run`.
pub fn run(args: &RunArgs) -> u8 {
    let loader = DiskLoader;
    if let Err(why) = loader.load(&args.file) {
        return super::fail(format!("cannot read `{}`: {why}", args.file.display()));
    }
    let analysis = analyze(&loader, std::slice::from_ref(&args.file));
    if analysis.has_errors() {
        eprint!(
            "{}",
            crate::render::human::render(analysis.sources(), &analysis.diagnostics, false, 100)
        );
        eprintln!(
            "error: `{}` has errors; nothing was run",
            args.file.display()
        );
        return EXIT_ERRORS;
    }
    let plan = match build_plan(&analysis, args.pipeline.as_deref(), None) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    let project: PathBuf = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let memory = match &args.memory {
        Some(m) => match parse_memory(m) {
            Some(v) => Some(v),
            None => {
                return super::fail(format!(
                    "`--memory {m}` is not a memory amount such as `8Gi`"
                ))
            }
        },
        None => None,
    };
    let opts = RunOptions {
        store: args.store.clone().unwrap_or_else(|| project.join(".flow")),
        workdir: project,
        params: args.params.clone(),
        secrets: args
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), PathBuf::from(v)))
            .collect(),
        jobs: args.jobs,
        cpu_millis: args.cpus.map(|c| (c * 1000.0) as u64),
        memory_bytes: memory,
        fail_fast: args.fail_fast,
    };
    static CANCEL: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if CANCEL.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C: leave now (the store stays consistent).
            std::process::exit(i32::from(EXIT_CANCELLED));
        }
        eprintln!("\ncancelling: stopping running steps (Ctrl-C again to leave at once)");
    });
    let obs = Lines {
        start: Instant::now(),
        explain: args.explain_cache,
        tty: std::io::stdout().is_terminal(),
        out: Mutex::new(()),
    };
    let builtins = flowc_builtins::Builtins;
    let summary = match flowc_runtime::run(&plan, &opts, &builtins, &obs, &CANCEL) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::EXIT_FAILURE;
        }
    };
    print_summary(&summary);
    match summary.status.as_str() {
        "succeeded" => EXIT_OK,
        "cancelled" => EXIT_CANCELLED,
        _ => EXIT_ERRORS,
    }
}

fn print_summary(s: &flowc_runtime::RunSummary) {
    let width = s
        .tasks
        .iter()
        .map(|t| t.task.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!();
    println!(
        "{:<width$}  {:<9}  {:>8}  {:>8}",
        "task", "status", "attempts", "seconds"
    );
    for t in &s.tasks {
        println!(
            "{:<width$}  {:<9}  {:>8}  {:>8.2}",
            t.task,
            t.status.word(),
            t.attempts,
            t.wall_seconds
        );
    }
    for t in &s.tasks {
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
    if !s.outputs.is_empty() {
        println!("\noutputs:");
        for (k, v) in &s.outputs {
            let shown = match v {
                serde_json::Value::String(p) => p.clone(),
                other => other.to_string(),
            };
            println!("  {k} = {shown}");
        }
    }
    println!("\nrun {} {} ({})", s.run_id, s.status, s.run_dir.display());
}
