//! The files of a run's folder (`runs/<run id>/`, docs/storage.md): the folder made in the
//! store's `tmp/` with its `run.json` and `logs/` and renamed into `runs/` before any step
//! runs, the plan's JSON written beside the first steps and renamed into place once whole,
//! and the summary written last, serialized as it is rather than built as a JSON tree first.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::{json, Value as Json};

use crate::error::{RunCode, RunError};
use crate::record::RecordWriter;
use crate::store::Store;
use crate::types::{RunOptions, RunSummary, TaskStatus};
use crate::util::{now_ms, rfc3339};
use flowc_compiler::plan::Plan;

/// Writes the plan's JSON (the bytes of `Plan::to_json`, streamed) to `dest` through a file
/// in the store's `tmp` folder, renamed into place once whole.
pub(crate) fn write_plan_json(plan: &Plan, tmp: &Path, dest: &Path) -> std::io::Result<()> {
    let staged = tmp.join(format!(".plan-{}", crate::util::unique()));
    write_new_file(&staged, |w| {
        serde_json::to_writer_pretty(&mut *w, plan)?;
        w.write_all(b"\n")
    })
    .and_then(|()| std::fs::rename(&staged, dest))
    .inspect_err(|_| {
        let _ = std::fs::remove_file(&staged);
    })
}

/// Creates the run folder with its `logs/` and the run's metadata (with `step` and
/// `inputs_from` for a run of one step), and opens its records.
pub(crate) fn create_run_folder(
    store: &Store,
    plan: &Plan,
    (run_id, run_dir): (&str, &std::path::Path),
    params: &IndexMap<String, Json>,
    opts: &RunOptions,
) -> Result<RecordWriter, RunError> {
    let io = |e: std::io::Error| {
        RunError::new(
            RunCode::StoreUnavailable,
            format!("cannot write the run folder `{}`: {e}", run_dir.display()),
        )
    };
    // The folder is made in the store's `tmp/` and renamed into `runs/` once its `run.json`
    // is written: a run killed at any moment leaves no run folder that cannot be read (a
    // leftover in `tmp/` is `store gc`'s to remove).
    let staging = store.root().join("tmp").join(format!("run-{run_id}"));
    std::fs::create_dir_all(staging.join("logs")).map_err(io)?;
    // The folder is not read before it is renamed, so its files are written in place (not
    // each through a temporary file and a rename of its own).
    let mut meta = json!({ "run_id": run_id, "pipeline": plan.entry, "version": plan.pipeline_version, "started": rfc3339(now_ms()), "params": params });
    if let (Some(sel), Some(m)) = (&opts.step, meta.as_object_mut()) {
        m.insert("step".into(), json!(sel.task));
        m.insert("upstream".into(), json!(sel.upstream));
        m.insert("inputs_from".into(), json!(sel.inputs_from));
    }
    write_new_file(&staging.join("run.json"), |w| {
        w.write_all(
            serde_json::to_string_pretty(&meta)
                .unwrap_or_default()
                .as_bytes(),
        )
    })
    .map_err(io)?;
    if let Some(parent) = run_dir.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::rename(&staging, run_dir).map_err(io)?;
    RecordWriter::open(&run_dir.join("records.jsonl")).map_err(io)
}

/// Writes a new file through a buffer.
fn write_new_file(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
    write(&mut out)?;
    out.flush()
}

/// Writes `summary.json` into the run folder (`flowc runs` reads it).
pub(crate) fn write_summary(store: &Store, plan: &Plan, summary: &RunSummary) {
    let doc = SummaryDoc {
        run_id: &summary.run_id,
        pipeline: &plan.entry,
        status: &summary.status,
        finished: rfc3339(now_ms()),
        outputs: PairsAsMap(&summary.outputs),
        failed_checks: &summary.failed_checks,
        tasks: summary.tasks.iter().map(TaskLine::of).collect(),
    };
    let _ = store.write_atomic_with(&summary.run_dir.join("summary.json"), |w| {
        serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::from)
    });
}

/// `summary.json`, serialized as it is (not built as a JSON tree first): its fields in this
/// order.
#[derive(serde::Serialize)]
struct SummaryDoc<'a> {
    run_id: &'a str,
    pipeline: &'a str,
    status: &'a str,
    finished: String,
    outputs: PairsAsMap<'a>,
    failed_checks: &'a [String],
    tasks: Vec<TaskLine<'a>>,
}

/// One task of `summary.json`.
#[derive(serde::Serialize)]
struct TaskLine<'a> {
    task: &'a str,
    step: &'a str,
    status: &'static str,
    detail: Option<&'a str>,
    attempts: u32,
    wall_seconds: f64,
}

impl<'a> TaskLine<'a> {
    fn of(t: &'a crate::types::TaskReport) -> TaskLine<'a> {
        TaskLine {
            task: &t.task,
            step: &t.step,
            status: t.status.word(),
            detail: match &t.status {
                TaskStatus::Failed(w) | TaskStatus::Skipped(w) => Some(w),
                _ => None,
            },
            attempts: t.attempts,
            wall_seconds: t.wall_seconds,
        }
    }
}

/// The pipeline's outputs (distinct names) as a JSON object, in their order.
struct PairsAsMap<'a>(&'a [(String, Json)]);

impl serde::Serialize for PairsAsMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}
