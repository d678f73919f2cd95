//! `flowc store gc`: retention of runs by number and by age, of cache entries by age, and
//! removal of the objects that nothing left names.
//!
//! A run is kept when it is among the newest `keep_runs`, when it started after the age limit,
//! or when its folder holds a file named `keep`; a cache entry is kept when it is younger than
//! the age limit or was written by a kept run; an object is kept when a kept entry or a kept
//! run's summary names it. Everything in `tmp/` goes (work of runs that were killed). The whole
//! collection holds the store's lock exclusively: it does not start while a run holds the store,
//! and a run that starts meanwhile waits for it, so nothing a running run needs is removed.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{entry_files, objects, require_store, run_dirs, summary_objects};
use crate::error::{RunCode, RunError};
use crate::store::CacheEntry;

/// What to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcPolicy {
    /// Keep the newest N runs (all when None).
    pub keep_runs: Option<usize>,
    /// Remove runs and cache entries older than this many milliseconds (none when None).
    pub older_than_ms: Option<u64>,
    /// The current time, in milliseconds since the Unix epoch.
    pub now_ms: u64,
    /// Report what would go without removing anything.
    pub dry_run: bool,
}

/// What a collection removed (or would remove, in a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    /// Run ids removed.
    pub runs_removed: Vec<String>,
    /// Cache entries removed.
    pub entries_removed: usize,
    /// Objects removed.
    pub objects_removed: usize,
    /// Bytes of the objects removed.
    pub bytes_freed: u64,
    /// Leftovers removed from `tmp/`.
    pub tmp_removed: usize,
}

/// A run folder with when it started (from its `run.json`; 0 when unreadable, so that a broken
/// run is the oldest).
struct RunDir {
    id: String,
    path: PathBuf,
    started_ms: u64,
    kept: bool,
}

fn started_ms(dir: &Path) -> u64 {
    fs::read(dir.join("run.json")).map_or(0, |b| started_of(&b))
}

/// When the run whose `run.json` is `bytes` started (0 when it cannot be read).
pub(super) fn started_of(bytes: &[u8]) -> u64 {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["started"].as_str()?.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_millisecond().max(0) as u64)
}

/// Takes the store's lock exclusively, or says why not.
fn lock_exclusively(root: &Path) -> Result<File, RunError> {
    let path = root.join("lock");
    let f = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            RunError::new(
                RunCode::StoreUnavailable,
                format!("cannot open `{}`: {e}", path.display()),
            )
        })?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(_) => Err(RunError::new(
            RunCode::StoreUnavailable,
            format!("a run is using the store `{}`", root.display()),
        )
        .hint("run `flowc store gc` again when no run is running on this store")),
    }
}

/// Collects the store at `root` under `policy`.
pub fn gc(root: &Path, policy: &GcPolicy) -> Result<GcReport, RunError> {
    require_store(root)?;
    let _lock = lock_exclusively(root)?;
    let mut report = GcReport::default();
    let cutoff = policy
        .older_than_ms
        .map(|age| policy.now_ms.saturating_sub(age));
    let mut runs: Vec<RunDir> = run_dirs(root)
        .into_iter()
        .map(|path| RunDir {
            id: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            started_ms: started_ms(&path),
            kept: path.join("keep").exists(),
            path,
        })
        .collect();
    runs.sort_by(|a, b| b.started_ms.cmp(&a.started_ms).then(b.id.cmp(&a.id)));
    let (mut kept_runs, mut gone_runs) = (Vec::new(), Vec::new());
    for (rank, r) in runs.into_iter().enumerate() {
        let too_many = policy.keep_runs.is_some_and(|n| rank >= n);
        let too_old = cutoff.is_some_and(|c| r.started_ms < c);
        if (too_many || too_old) && !r.kept {
            gone_runs.push(r);
        } else {
            kept_runs.push(r);
        }
    }
    let kept_ids: BTreeSet<&str> = kept_runs.iter().map(|r| r.id.as_str()).collect();
    let mut live: BTreeSet<String> = BTreeSet::new();
    for path in entry_files(root) {
        let entry = fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<CacheEntry>(&t).ok());
        // An entry that cannot be read is `store verify`'s to report, never gc's to remove.
        let Some(entry) = entry else { continue };
        let old = cutoff.is_some_and(|c| entry.created_ms < c);
        if old && !kept_ids.contains(entry.run_id.as_str()) {
            report.entries_removed += 1;
            if !policy.dry_run {
                let _ = fs::remove_file(&path);
            }
        } else {
            live.extend(entry.outputs.values().map(|o| o.object.clone()));
        }
    }
    for r in &kept_runs {
        if let Some(s) = fs::read_to_string(r.path.join("summary.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        {
            let mut named = Vec::new();
            summary_objects(&s["outputs"], &mut named);
            live.extend(named);
        }
    }
    for r in gone_runs {
        if !policy.dry_run {
            let _ = fs::remove_dir_all(&r.path);
        }
        report.runs_removed.push(r.id);
    }
    report.runs_removed.sort();
    for (name, path) in objects(root) {
        if live.contains(&name) {
            continue;
        }
        report.objects_removed += 1;
        report.bytes_freed += size(&path);
        if !policy.dry_run {
            let _ = remove(&path);
        }
    }
    for e in fs::read_dir(root.join("tmp"))
        .into_iter()
        .flatten()
        .flatten()
    {
        report.tmp_removed += 1;
        if !policy.dry_run {
            let _ = remove(&e.path());
        }
    }
    Ok(report)
}

fn size(path: &Path) -> u64 {
    match fs::metadata(path) {
        Ok(m) if m.is_dir() => fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| size(&e.path()))
            .sum(),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

fn remove(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}
