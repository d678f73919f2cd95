//! `flowc-autotune`: reads past run metrics and sets each step's memory, CPU and GPU.
//!
//! The crate has two IO boundaries: this module, whose [`load_history`], [`load_sources`] and
//! [`evaluate`] read files, and [`services`], the clients of Argo's archive in PostgreSQL and of
//! Prometheus's HTTP API; everything below works on plain data and is deterministic (ordered
//! maps, no clocks, no randomness).
//!
//! - [`readers`] turn the five input formats into [`history::Execution`]s; [`services`] fetch
//!   the same formats from running services over a time window.
//! - [`model`] is flowc's tuner; [`baselines`] are the VPA-like and KRR-like rules it is measured
//!   against; [`eval`] replays traces in time order and scores all three.
//! - [`report`] renders recommendations as Markdown and as a self-contained HTML page.
//!
//! ```no_run
//! use flowc_autotune::{load_history, recommend, StepBounds, TunerConfig};
//! use std::collections::BTreeMap;
//! let history = load_history(&["runs/".into()], false).expect("readable history");
//! let recs = recommend(&history, &BTreeMap::<_, StepBounds>::new(), &TunerConfig::default());
//! println!("{}", flowc_autotune::report::markdown(&recs, &history));
//! ```

pub mod baselines;
pub mod bounds;
pub mod error;
pub mod eval;
pub mod history;
pub mod json;
pub mod model;
pub mod policy;
pub mod readers;
pub mod report;
pub mod services;
pub mod stats;
pub mod synth;
pub mod time;
pub mod units;

pub use bounds::{Resources, StepBounds};
pub use error::{AutotuneError, ErrorCode};
pub use eval::{EvalConfig, EvalReport};
pub use history::{Execution, History, Outcome, StepKey};
pub use model::{recommend, Confidence, Recommendation, TunerConfig};

use std::path::{Path, PathBuf};

/// Where history comes from: files and folders, Argo archives in PostgreSQL, Prometheus servers,
/// and the time window that applies to all of them.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Files and folders (searched recursively, in name order), in any mix of formats.
    pub paths: Vec<PathBuf>,
    /// `postgres://` addresses of Argo workflow archives.
    pub postgres: Vec<String>,
    /// `http://` addresses of Prometheus servers.
    pub prometheus: Vec<String>,
    /// Runs kept: those that started in the window. `None`: every run of the files and the
    /// archives, and the last [`DEFAULT_PROMETHEUS_DAYS`] days of Prometheus.
    pub window: Option<services::Window>,
    /// Bounds of the services' connections.
    pub timeouts: services::Timeouts,
}

/// Days of Prometheus series read when no window is given.
pub const DEFAULT_PROMETHEUS_DAYS: i64 = 14;

/// Reads history files and folders (searched recursively, in name order) in any mix of formats.
///
/// In strict mode (`lenient = false`) any malformed record is an error and all errors of all
/// files are returned together. In lenient mode malformed records are skipped and kept as
/// warnings in [`History::warnings`]; file-level problems (unreadable file, unknown format,
/// broken JSON document) are still errors. Files inside folders whose format is not recognised
/// are skipped and counted in [`History::ignored`].
pub fn load_history(paths: &[PathBuf], lenient: bool) -> Result<History, Vec<AutotuneError>> {
    let sources = Sources {
        paths: paths.to_vec(),
        ..Sources::default()
    };
    load_sources(&sources, lenient)
}

/// Reads history from files, Argo archives and Prometheus servers, joins Prometheus usage to
/// executions by pod, and keeps the runs that started in the window. Strict and lenient modes
/// are [`load_history`]'s; a service that cannot be read (unreachable, refused credentials, no
/// archive table, nothing in the window) is an error in both.
pub fn load_sources(sources: &Sources, lenient: bool) -> Result<History, Vec<AutotuneError>> {
    let mut acc = Gathered::default();
    read_files(&sources.paths, lenient, &mut acc);
    read_services(sources, &mut acc);
    let Gathered {
        mut history,
        mut executions,
        pods,
        mut errors,
        problems,
    } = acc;
    if lenient {
        history.warnings.extend(problems);
    } else {
        errors.extend(problems);
    }
    history
        .warnings
        .extend(readers::join::join(&mut executions, pods));
    if !errors.is_empty() {
        errors.sort();
        return Err(errors);
    }
    if let Some(window) = &sources.window {
        let before = executions.len();
        executions.retain(|e| window.contains(e.start_ms));
        for _ in executions.len()..before {
            history.ignore("run started outside the `--since` window");
        }
    }
    history.extend(executions);
    history.warnings.sort();
    Ok(history)
}

/// What the sources yielded before the join.
#[derive(Default)]
struct Gathered {
    history: History,
    executions: Vec<history::Execution>,
    pods: Vec<readers::prometheus::PodUsage>,
    /// File-level and service-level errors (errors in both modes).
    errors: Vec<AutotuneError>,
    /// Record-level problems (errors, or warnings in lenient mode).
    problems: Vec<AutotuneError>,
}

/// Reads the archives and the Prometheus servers.
fn read_services(sources: &Sources, acc: &mut Gathered) {
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let window = sources.window.unwrap_or(services::Window {
        since_ms: None,
        until_ms: now_ms,
    });
    for url in &sources.postgres {
        match services::postgres::read(url, &window, &sources.timeouts) {
            Ok(f) => {
                acc.executions.extend(f.output.executions);
                for reason in f.output.ignored {
                    acc.history.ignore(&reason);
                }
                acc.problems.extend(f.problems);
            }
            Err(e) => acc.errors.push(e),
        }
    }
    let prometheus_window = services::Window {
        since_ms: window
            .since_ms
            .or(Some(window.until_ms - DEFAULT_PROMETHEUS_DAYS * 86_400_000)),
        ..window
    };
    for url in &sources.prometheus {
        match services::prometheus::read(url, &prometheus_window, &sources.timeouts) {
            Ok(f) => {
                acc.pods.extend(f.pods);
                for reason in f.ignored {
                    acc.history.ignore(&reason);
                }
                acc.problems.extend(f.problems);
            }
            Err(e) => acc.errors.push(e),
        }
    }
}

/// Reads files and folders.
fn read_files(paths: &[PathBuf], lenient: bool, acc: &mut Gathered) {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for p in paths {
        if p.is_dir() {
            match walk(p) {
                Ok(found) => files.extend(found.into_iter().map(|f| (f, false))),
                Err(e) => acc.errors.push(AutotuneError::new(
                    ErrorCode::Io,
                    &display(p),
                    None,
                    format!("cannot list folder: {e}"),
                )),
            }
        } else {
            files.push((p.clone(), true));
        }
    }
    for (path, explicit) in files {
        let name = display(&path);
        let text = match read_text(&path, &name) {
            Ok(t) => t,
            Err(e) => {
                acc.errors.push(e);
                continue;
            }
        };
        if !explicit && readers::detect(&name, &text).is_none() {
            acc.history.ignore("file of unknown format inside a folder");
            continue;
        }
        let mut sink = readers::Sink::new(&name, lenient);
        match readers::read_text(&name, &text, &mut sink) {
            Ok(out) => {
                acc.executions.extend(out.executions);
                acc.pods.extend(out.pods);
                for reason in out.ignored {
                    acc.history.ignore(&reason);
                }
            }
            Err(e) => acc.errors.push(e),
        }
        acc.problems.extend(sink.problems);
    }
}

/// A file's text; unreadable or not UTF-8 is A001.
fn read_text(path: &Path, name: &str) -> Result<String, AutotuneError> {
    let bytes = std::fs::read(path).map_err(|e| {
        AutotuneError::new(ErrorCode::Io, name, None, format!("cannot read file: {e}"))
    })?;
    String::from_utf8(bytes)
        .map_err(|_| AutotuneError::new(ErrorCode::Io, name, None, "file is not UTF-8 text"))
}

/// Loads traces (leniently: a trace set is evaluated on what is readable) and replays them.
pub fn evaluate(paths: &[PathBuf], config: &EvalConfig) -> Result<EvalReport, Vec<AutotuneError>> {
    let history = load_history(paths, true)?;
    Ok(eval::evaluate_history(&history, config))
}

/// Loads traces (leniently), adds the synthetic stress traces of `synthetic`'s seed if given
/// ([`synth`]), and renders what `flowc autotune eval` prints ([`eval::full_markdown`]).
pub fn evaluate_all(
    paths: &[PathBuf],
    synthetic: Option<u64>,
    config: &EvalConfig,
) -> Result<String, Vec<AutotuneError>> {
    let mut history = load_history(paths, true)?;
    if let Some(seed) = synthetic {
        history.extend(synth::generate_all(seed));
    }
    Ok(eval::full_markdown(&history, config))
}

fn display(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn walk(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(walk(&p)?);
        } else {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            if matches!(ext.as_str(), "json" | "jsonl" | "csv" | "tsv" | "txt") {
                out.push(p);
            }
        }
    }
    Ok(out)
}
