//! `flowc-autotune`: reads past run metrics and sets each step's memory, CPU and GPU.
//!
//! The crate has one IO boundary, this module: [`load_history`] and [`evaluate`] read files;
//! everything below works on plain data and is deterministic (ordered maps, no clocks, no
//! randomness).
//!
//! - [`readers`] turn the five input formats into [`history::Execution`]s.
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
pub mod stats;
pub mod time;
pub mod units;

pub use bounds::{Resources, StepBounds};
pub use error::{AutotuneError, ErrorCode};
pub use eval::{EvalConfig, EvalReport};
pub use history::{Execution, History, Outcome, StepKey};
pub use model::{recommend, Confidence, Recommendation, TunerConfig};

use std::path::{Path, PathBuf};

/// Reads history files and folders (searched recursively, in name order) in any mix of formats.
///
/// In strict mode (`lenient = false`) any malformed record is an error and all errors of all
/// files are returned together. In lenient mode malformed records are skipped and kept as
/// warnings in [`History::warnings`]; file-level problems (unreadable file, unknown format,
/// broken JSON document) are still errors. Files inside folders whose format is not recognised
/// are skipped and counted in [`History::ignored`].
pub fn load_history(paths: &[PathBuf], lenient: bool) -> Result<History, Vec<AutotuneError>> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            match walk(p) {
                Ok(found) => files.extend(found.into_iter().map(|f| (f, false))),
                Err(e) => errors.push(AutotuneError::new(
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
    let mut history = History::default();
    let mut executions = Vec::new();
    let mut pods = Vec::new();
    for (path, explicit) in files {
        let name = display(&path);
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    errors.push(AutotuneError::new(
                        ErrorCode::Io,
                        &name,
                        None,
                        "file is not UTF-8 text",
                    ));
                    continue;
                }
            },
            Err(e) => {
                errors.push(AutotuneError::new(
                    ErrorCode::Io,
                    &name,
                    None,
                    format!("cannot read file: {e}"),
                ));
                continue;
            }
        };
        if !explicit && readers::detect(&name, &text).is_none() {
            history.ignore("file of unknown format inside a folder");
            continue;
        }
        let mut sink = readers::Sink::new(&name, lenient);
        match readers::read_text(&name, &text, &mut sink) {
            Ok(out) => {
                executions.extend(out.executions);
                pods.extend(out.pods);
                for reason in out.ignored {
                    history.ignore(&reason);
                }
            }
            Err(e) => errors.push(e),
        }
        if lenient {
            history.warnings.extend(sink.problems);
        } else {
            errors.extend(sink.problems);
        }
    }
    history
        .warnings
        .extend(readers::join::join(&mut executions, pods));
    if !errors.is_empty() {
        errors.sort();
        return Err(errors);
    }
    history.extend(executions);
    history.warnings.sort();
    Ok(history)
}

/// Loads traces (leniently: a trace set is evaluated on what is readable) and replays them.
pub fn evaluate(paths: &[PathBuf], config: &EvalConfig) -> Result<EvalReport, Vec<AutotuneError>> {
    let history = load_history(paths, true)?;
    Ok(eval::evaluate_history(&history, config))
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
