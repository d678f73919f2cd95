//! Proofs about a store (`.flow/`, layout in [`crate::store`]): [`verify`] re-hashes every
//! object and checks that cache entries and run summaries name objects that exist with their
//! recorded size, reporting (and optionally quarantining) what is wrong; [`gc`] removes runs past
//! a retention policy, cache entries past an age and the objects nothing names any more.
//!
//! On object storage ([`verify_remote`], [`gc_remote`], module `bucket`) the same checks and
//! rules apply to the keys of the store's prefix; without a lock across machines, gc keeps
//! whatever was written within a grace period instead.
//!
//! Both read the store's on-disk layout through [`crate::store`]'s public functions; neither
//! changes how runs write. `verify` holds the store's shared lock, like a run, so it can run next
//! to runs: objects and entries appear by rename, an entry after its objects, so it never sees
//! half of one. `gc` holds the store's lock exclusively, so it waits for no one and refuses to
//! start while a run holds the store (a run started meanwhile waits for gc at `Store::open`).

mod bucket;
mod gc;
mod verify;

use std::path::Path;

use crate::error::{RunCode, RunError};

pub(crate) use bucket::RunIndex;
pub use bucket::{gc_remote, verify_remote};
pub use gc::{gc, GcPolicy, GcReport};
pub use verify::{verify, Problem, ProblemKind, VerifyReport};

/// Fails unless `root` looks like a store (it has `objects/` and `runs/`), so that pointing a
/// command at the wrong folder never creates or empties one.
fn require_store(root: &Path) -> Result<(), RunError> {
    if root.join("objects").is_dir() && root.join("runs").is_dir() {
        return Ok(());
    }
    Err(RunError::new(
        RunCode::StoreUnavailable,
        format!(
            "`{}` is not a flowc store (no `objects/` and `runs/`)",
            root.display()
        ),
    )
    .hint("name the store with `--store DIR` (by default `.flow` beside the pipeline)"))
}

/// Whether `name` is an object name: 64 lowercase hex digits.
fn is_object_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The objects a run summary names: output values that are paths of store objects (nested in
/// lists and maps), by the object's name.
fn summary_objects(summary: &serde_json::Value, out: &mut Vec<String>) {
    match summary {
        serde_json::Value::String(s) => {
            let mut parts = s.rsplit('/');
            if let (Some(name), Some(_prefix), Some("objects")) =
                (parts.next(), parts.next(), parts.next())
            {
                if is_object_name(name) {
                    out.push(name.to_string());
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| summary_objects(v, out)),
        serde_json::Value::Object(m) => m.values().for_each(|v| summary_objects(v, out)),
        _ => {}
    }
}

/// The folders of the store's runs, sorted by name (run ids begin with their start time).
fn run_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("runs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every object of the store: (name, path).
fn objects(root: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for prefix in std::fs::read_dir(root.join("objects"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for e in std::fs::read_dir(prefix.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push((e.file_name().to_string_lossy().into_owned(), e.path()));
        }
    }
    out.sort();
    out
}

/// Every cache entry file: `cache/<key>.json` (not `cache/last/`).
fn entry_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(root.join("cache"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}
