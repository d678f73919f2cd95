//! Past runs in a store, a folder or on object storage: `flowc runs` lists them and shows one.

use std::path::Path;

use serde_json::Value as Json;

use crate::error::{RunCode, RunError};
use crate::store::remote::Remote;

/// One past run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// Its id.
    pub run_id: String,
    /// The pipeline.
    pub pipeline: String,
    /// `succeeded`, `failed`, `cancelled`, or `interrupted` when the run never finished.
    pub status: String,
    /// When it started.
    pub started: String,
    /// Its summary document, if it finished.
    pub summary: Option<Json>,
}

/// Every run in the store at `root`, oldest first.
pub fn list(root: &Path) -> Result<Vec<RunInfo>, RunError> {
    let dir = root.join("runs");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(RunError::new(
                RunCode::BadRunFolder,
                format!("cannot read `{}`: {e}", dir.display()),
            ))
        }
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    ids.sort();
    ids.into_iter().map(|id| show(root, &id)).collect()
}

/// One run.
pub fn show(root: &Path, id: &str) -> Result<RunInfo, RunError> {
    let dir = root.join("runs").join(id);
    let read = |name: &str| -> Option<Json> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    info(
        id,
        read("run.json"),
        read("summary.json"),
        &root.display().to_string(),
    )
}

/// Every run in the store on object storage `r`, oldest first (run ids begin with their start
/// time).
pub fn list_remote(r: &dyn Remote) -> Result<Vec<RunInfo>, RunError> {
    let index = crate::audit::RunIndex::of(r)?;
    index.runs.keys().map(|id| show_remote(r, id)).collect()
}

/// One run of the store on object storage `r`.
pub fn show_remote(r: &dyn Remote, id: &str) -> Result<RunInfo, RunError> {
    let read = |name: &str| -> Result<Option<Json>, RunError> {
        let bytes = r.get_bytes(&format!("runs/{id}/{name}"))?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    };
    info(id, read("run.json")?, read("summary.json")?, &r.url())
}

/// A run from its `run.json` and `summary.json`; `store` names the store in the error of a
/// run that is not there.
fn info(
    id: &str,
    meta: Option<Json>,
    summary: Option<Json>,
    store: &str,
) -> Result<RunInfo, RunError> {
    let Some(meta) = meta else {
        return Err(
            RunError::new(RunCode::BadRunFolder, format!("no run `{id}` in `{store}`"))
                .hint("`flowc runs` lists the runs"),
        );
    };
    let text = |v: &Json, k: &str| {
        v.get(k)
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Ok(RunInfo {
        run_id: id.to_string(),
        pipeline: text(&meta, "pipeline"),
        status: summary
            .as_ref()
            .map_or_else(|| "interrupted".to_string(), |s| text(s, "status")),
        started: text(&meta, "started"),
        summary,
    })
}
