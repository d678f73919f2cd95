//! `flowc store verify`: every object re-hashed, every cache entry and run summary checked
//! against the objects, problems reported and, with `quarantine`, moved aside to
//! `quarantine/<id>/` (same relative path) so that no later run reuses them.

use std::fs;
use std::path::Path;

use serde::Serialize;

use super::{entry_files, is_object_name, objects, require_store, run_dirs, summary_objects};
use crate::error::RunError;
use crate::store::{hash_dir, hash_file, CacheEntry, Store};

/// What is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An object whose content does not hash to its name (or that cannot be read).
    CorruptObject,
    /// A file under `objects/` that is not an object (bad name or folder).
    StrayObject,
    /// A cache entry that cannot be read as one, or whose key is not its file's name.
    BrokenEntry,
    /// A cache entry naming an object that is missing, of another kind, or of another size.
    EntryMissingObject,
    /// A run folder whose `run.json` or `summary.json` cannot be read.
    BrokenRun,
    /// A run summary naming an object that is missing.
    RunMissingObject,
}

/// One problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The file, relative to the store.
    pub path: String,
    /// Why, in words.
    pub message: String,
    /// Where it was moved, relative to the store (with `quarantine`).
    pub quarantined: Option<String>,
}

/// The result of a verification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Objects re-hashed.
    pub objects: usize,
    /// Cache entries checked.
    pub entries: usize,
    /// Run folders checked.
    pub runs: usize,
    /// Runs without a summary (running, or killed: their completed steps are in the cache).
    pub unfinished_runs: usize,
    /// Everything wrong, in the order found.
    pub problems: Vec<Problem>,
}

struct Verifier<'a> {
    root: &'a Path,
    store: Store,
    quarantine: Option<String>,
    report: VerifyReport,
}

/// Verifies the store at `root`; with `quarantine`, moves what is wrong aside.
pub fn verify(root: &Path, quarantine: bool) -> Result<VerifyReport, RunError> {
    require_store(root)?;
    let store = Store::open(root)?;
    let mut v = Verifier {
        root,
        store,
        quarantine: quarantine.then(crate::util::unique),
        report: VerifyReport::default(),
    };
    v.objects();
    v.entries();
    v.runs();
    Ok(v.report)
}

impl Verifier<'_> {
    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(self.root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Records a problem at `path`, moving the file aside when quarantining.
    fn problem(&mut self, kind: ProblemKind, path: &Path, message: String) {
        let rel = self.rel(path);
        let quarantined = self.quarantine.as_ref().and_then(|id| {
            let to = format!("quarantine/{id}/{rel}");
            let dest = self.root.join(&to);
            let moved = dest.parent().is_some_and(|d| fs::create_dir_all(d).is_ok())
                && fs::rename(path, &dest).is_ok();
            moved.then_some(to)
        });
        self.report.problems.push(Problem {
            kind,
            path: rel,
            message,
            quarantined,
        });
    }

    fn objects(&mut self) {
        for (name, path) in objects(self.root) {
            self.report.objects += 1;
            let in_place = path
                .parent()
                .and_then(|d| d.file_name())
                .is_some_and(|d| name.get(..2) == d.to_str());
            if !is_object_name(&name) || !in_place {
                let m = format!("`{name}` is not an object name in its place");
                self.problem(ProblemKind::StrayObject, &path, m);
                continue;
            }
            let hash = if path.is_dir() {
                hash_dir(&path).map(|(h, _)| h)
            } else {
                hash_file(&path)
            };
            match hash {
                Ok(h) if h == name => {}
                Ok(h) => {
                    let m = format!("the content hashes to {h}, not to its name");
                    self.problem(ProblemKind::CorruptObject, &path, m);
                }
                Err(e) => self.problem(
                    ProblemKind::CorruptObject,
                    &path,
                    format!("unreadable: {e}"),
                ),
            }
        }
    }

    fn entries(&mut self) {
        for path in entry_files(self.root) {
            self.report.entries += 1;
            let key = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let entry: CacheEntry = match fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            {
                Ok(e) => e,
                Err(e) => {
                    self.problem(
                        ProblemKind::BrokenEntry,
                        &path,
                        format!("not a cache entry: {e}"),
                    );
                    continue;
                }
            };
            if entry.key != key {
                let m = format!("it records the key {}, not its file's name", entry.key);
                self.problem(ProblemKind::BrokenEntry, &path, m);
                continue;
            }
            if let Some(m) = self.entry_problem(&entry) {
                self.problem(ProblemKind::EntryMissingObject, &path, m);
            }
        }
    }

    /// Why an entry's outputs are not all present as recorded, if they are not.
    fn entry_problem(&self, entry: &CacheEntry) -> Option<String> {
        for (name, o) in &entry.outputs {
            let meta = match fs::metadata(self.store.object_path(&o.object)) {
                Ok(m) => m,
                Err(_) => return Some(format!("output `{name}`: object {} is missing", o.object)),
            };
            let is_dir = o.kind == "dir";
            if meta.is_dir() != is_dir {
                return Some(format!(
                    "output `{name}`: object {} is not a {}",
                    o.object, o.kind
                ));
            }
            if !is_dir && meta.len() != o.bytes {
                return Some(format!(
                    "output `{name}`: object {} has {} bytes, the entry records {}",
                    o.object,
                    meta.len(),
                    o.bytes
                ));
            }
        }
        None
    }

    fn runs(&mut self) {
        for dir in run_dirs(self.root) {
            self.report.runs += 1;
            let meta = dir.join("run.json");
            let readable = fs::read_to_string(&meta)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
            if readable.is_none() {
                let m = "its run.json cannot be read".to_string();
                self.problem(ProblemKind::BrokenRun, &meta, m);
                continue;
            }
            let path = dir.join("summary.json");
            let Ok(text) = fs::read_to_string(&path) else {
                self.report.unfinished_runs += 1;
                continue;
            };
            let Ok(summary) = serde_json::from_str::<serde_json::Value>(&text) else {
                let m = "its summary.json is not JSON".to_string();
                self.problem(ProblemKind::BrokenRun, &path, m);
                continue;
            };
            let mut named = Vec::new();
            summary_objects(&summary["outputs"], &mut named);
            if let Some(missing) = named.iter().find(|o| !self.store.has_object(o)) {
                let m = format!("an output names object {missing}, which is missing");
                self.report.problems.push(Problem {
                    kind: ProblemKind::RunMissingObject,
                    path: self.rel(&path),
                    message: m,
                    quarantined: None,
                });
            }
        }
    }
}
