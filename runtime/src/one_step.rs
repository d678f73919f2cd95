//! One step at a time (`flowc run FILE --step NAME`): the plan cut down to the named task of the
//! entry pipeline and what it waits for ([`select`]), and where the tasks before it take their
//! outputs from when they do not run ([`Reuse`]): the instances an earlier run recorded
//! (`--inputs-from RUN`, its `instances.ndjson`), else the cache. With `--upstream` they run as
//! in any run. The named task always runs (the cache is not asked), and the rerun is a run of
//! its own, with its own folder and records.
//!
//! Every run writes `instances.ndjson` in its folder: one line per step instance that ended with
//! its outputs, with the content hashes of its inputs and its outputs (the store's objects),
//! which is what a later `--inputs-from` reads.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::error::{RunCode, RunError};
use crate::eval::tasks_of;
use crate::eval::{ArtifactRef, RValue};
use crate::store::Store;
pub use crate::types::StepSelection;
use flowc_compiler::plan::{PipelinePlan, Plan, PlanOutput, Task, TypeRepr, Value};

/// The file of a run folder that lists its instances' inputs and outputs (JSON lines; not
/// `.jsonl`, which `flowc autotune` reads as run records).
pub const INSTANCES_FILE: &str = "instances.ndjson";

/// The plan cut down to the selected task of the entry pipeline and the tasks it waits for,
/// without the pipeline's checks (which read tasks that do not run) and with the task's outputs
/// (a list of every iteration's, in a loop) as the pipeline's; the selection with the task's
/// id.
pub fn select(plan: &Plan, sel: &StepSelection) -> Result<(Plan, StepSelection), RunError> {
    let mut plan = plan.clone();
    let entry_name = plan.entry.clone();
    let Some(entry) = plan.pipelines.get_mut(&entry_name) else {
        return Err(RunError::new(
            RunCode::Unrunnable,
            "the plan has no entry pipeline",
        ));
    };
    let id = task_id(&entry.tasks, &sel.task)?;
    let index: HashMap<&str, usize> = entry
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut keep: HashSet<usize> = HashSet::new();
    let mut todo: Vec<usize> = index.get(id.as_str()).copied().into_iter().collect();
    while let Some(i) = todo.pop() {
        if keep.insert(i) {
            todo.extend(waits_for(entry, &index, &entry.tasks[i]));
        }
    }
    let tasks: Vec<Task> = entry
        .tasks
        .iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, t)| t.clone())
        .collect();
    entry.outputs = tasks
        .iter()
        .filter(|t| t.id == id)
        .flat_map(|t| {
            let looped = !t.loops.is_empty();
            t.outputs.iter().map(move |o| PlanOutput {
                name: o.name.clone(),
                ty: if looped {
                    TypeRepr::List {
                        item: Box::new(o.ty.clone()),
                    }
                } else {
                    o.ty.clone()
                },
                value: Value::Output {
                    task: t.id.clone(),
                    output: o.name.clone(),
                    collected: looped,
                },
                span: None,
            })
        })
        .collect();
    entry.tasks = tasks;
    entry.checks.clear();
    let sel = StepSelection {
        task: id,
        ..sel.clone()
    };
    Ok((plan, sel))
}

/// What task `t` waits for: the tasks it reads from, those its conditions and the lists of its
/// loops read (a value output compared in an `if`, a run-time list iterated by a `for`), and
/// those it runs `after`; for a `finally` task, every other task.
pub(crate) fn waits_for(p: &PipelinePlan, index: &HashMap<&str, usize>, t: &Task) -> Vec<usize> {
    if t.is_finally {
        return (0..p.tasks.len())
            .filter(|&j| !p.tasks[j].is_finally)
            .collect();
    }
    let mut read = Vec::new();
    for w in &t.when {
        tasks_of(w, &mut read);
    }
    for l in t.loops.iter().filter_map(|l| p.loops.get(*l)) {
        tasks_of(&l.items, &mut read);
    }
    let mut waits: Vec<usize> = t
        .data_deps
        .iter()
        .chain(&t.after)
        .chain(&read)
        .filter_map(|d| index.get(d.as_str()).copied())
        .collect();
    waits.sort_unstable();
    waits.dedup();
    waits
}

/// The id of the task `name` names: a task id, or a step called by exactly one task.
fn task_id(tasks: &[Task], name: &str) -> Result<String, RunError> {
    if tasks.iter().any(|t| t.id == name) {
        return Ok(name.to_string());
    }
    let calls: Vec<&Task> = tasks.iter().filter(|t| t.step == name).collect();
    match calls.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => {
            let ids: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
            Err(RunError::new(
                RunCode::UnknownTask,
                format!("the pipeline has no task `{name}`"),
            )
            .hint(format!("its tasks are: {}", ids.join(", "))))
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|t| t.id.as_str()).collect();
            Err(RunError::new(
                RunCode::UnknownTask,
                format!("step `{name}` is called by {} tasks", many.len()),
            )
            .hint(format!("name one task: {}", ids.join(", "))))
        }
    }
}

/// One recorded output: a stored object, or a value.
type RecordedOutputs = IndexMap<String, Json>;

/// Where the tasks before the selected one take their outputs from.
#[derive(Debug, Default)]
pub(crate) struct Reuse {
    /// The selection.
    pub(crate) sel: StepSelection,
    /// The earlier run's instances with outputs: `(pipeline label, instance)` → outputs.
    from_run: HashMap<(String, String), RecordedOutputs>,
}

impl Reuse {
    /// Reads the instances of the run `--inputs-from` names, if any.
    pub(crate) fn new(store_root: &Path, sel: StepSelection) -> Result<Reuse, RunError> {
        let mut from_run = HashMap::new();
        if let Some(run) = &sel.inputs_from {
            let dir = store_root.join("runs").join(run);
            if run.contains(['/', '\\']) || run.starts_with('.') || !dir.join("run.json").exists() {
                return Err(RunError::new(
                    RunCode::BadInputsFrom,
                    format!("no run `{run}` in `{}`", store_root.display()),
                )
                .hint("`flowc runs` lists the runs"));
            }
            let text = std::fs::read_to_string(dir.join(INSTANCES_FILE)).map_err(|e| {
                RunError::new(
                    RunCode::BadInputsFrom,
                    format!("run `{run}` recorded no outputs of its steps ({INSTANCES_FILE}: {e})"),
                )
                .hint("rerun with `--upstream`, or name a run made by this version of flowc")
            })?;
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<Json>(line) else {
                    continue;
                };
                let (Some(p), Some(t), Some(o)) = (
                    v["pipeline"].as_str(),
                    v["task"].as_str(),
                    v["outputs"].as_object(),
                ) else {
                    continue;
                };
                let outputs = o.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                from_run.insert((p.to_string(), t.to_string()), outputs);
            }
        }
        Ok(Reuse { sel, from_run })
    }

    /// Whether `task` of pipeline `label` runs as the selected task: it is that task of the
    /// entry pipeline, or a task of the pipeline it calls (whose labels start with its
    /// instance's name, `u/inner`, `u[0]/inner`).
    pub(crate) fn is_selected(&self, entry: &str, label: &str, task: &Task) -> bool {
        let inside = label
            .strip_prefix(self.sel.task.as_str())
            .is_some_and(|rest| rest.starts_with(['/', '[']));
        (label == entry && task.id == self.sel.task) || inside
    }

    /// The outputs the earlier run recorded for an instance, as values, if it recorded them
    /// (and still has every object in the store).
    pub(crate) fn recorded(
        &self,
        store: &Store,
        label: &str,
        instance: &str,
    ) -> Option<IndexMap<String, RValue>> {
        let outputs = self
            .from_run
            .get(&(label.to_string(), instance.to_string()))?;
        let mut values = IndexMap::new();
        for (name, o) in outputs {
            let v = match (o["object"].as_str(), o.get("value")) {
                (Some(object), _) => {
                    let path = store.object_path(object);
                    if !path.exists() {
                        return None;
                    }
                    RValue::Artifact(ArtifactRef {
                        object: object.to_string(),
                        kind: o["kind"].as_str().unwrap_or("file").to_string(),
                        path,
                        bytes: o["bytes"].as_u64().unwrap_or(0),
                    })
                }
                (None, Some(v)) => RValue::Json(v.clone()),
                (None, None) => return None,
            };
            values.insert(name.clone(), v);
        }
        Some(values)
    }
}

/// The instances of a run that ended with their outputs (`instances.ndjson`), one JSON line
/// each, appended and flushed one at a time.
#[derive(Debug)]
pub(crate) struct InstanceLog {
    /// The file (none when it could not be opened), and the buffer each line is written into
    /// before it is appended (kept for the next line).
    file: Mutex<(Option<File>, Vec<u8>)>,
}

impl InstanceLog {
    /// Opens (creating) the file in the run folder; a file that cannot be opened records
    /// nothing (a later `--inputs-from` says so).
    pub(crate) fn open(run_dir: &Path) -> InstanceLog {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(run_dir.join(INSTANCES_FILE))
            .ok();
        InstanceLog {
            file: Mutex::new((file, Vec::new())),
        }
    }

    /// Records one instance: its inputs' and outputs' objects (content hashes) or values.
    pub(crate) fn write(
        &self,
        label: &str,
        instance: &str,
        inputs: &IndexMap<String, RValue>,
        outputs: &IndexMap<String, RValue>,
    ) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        let (Some(file), line) = &mut *guard else {
            return;
        };
        line.clear();
        let entry = InstanceLine {
            pipeline: label,
            task: instance,
            inputs: Values(inputs),
            outputs: Values(outputs),
        };
        if serde_json::to_writer(&mut *line, &entry).is_ok() {
            line.push(b'\n');
            let _ = file.write_all(line);
        }
    }
}

/// One line of `instances.ndjson`, written straight from the run's values (no JSON document is
/// built for it).
#[derive(serde::Serialize)]
struct InstanceLine<'a> {
    pipeline: &'a str,
    task: &'a str,
    inputs: Values<'a>,
    outputs: Values<'a>,
}

/// Named values, as an object of their [`Recorded`] forms.
struct Values<'a>(&'a IndexMap<String, RValue>);

impl serde::Serialize for Values<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, Recorded(v))))
    }
}

/// A value as `instances.ndjson` records it: an artifact by its object (the SHA-256 of its
/// content), kind and size; a value as itself; a list item by item.
struct Recorded<'a>(&'a RValue);

impl serde::Serialize for Recorded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.0 {
            RValue::Artifact(a) => {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry("object", &a.object)?;
                m.serialize_entry("kind", &a.kind)?;
                m.serialize_entry("bytes", &a.bytes)?;
                m.end()
            }
            RValue::Json(j) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("value", j)?;
                m.end()
            }
            RValue::List(items) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("items", &Items(items))?;
                m.end()
            }
        }
    }
}

/// A list's items, each [`Recorded`].
struct Items<'a>(&'a [RValue]);

impl serde::Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Recorded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The line as `instances.ndjson` had it when it was built as a JSON document.
    fn as_document(v: &RValue) -> Json {
        match v {
            RValue::Artifact(a) => json!({"object": a.object, "kind": a.kind, "bytes": a.bytes}),
            RValue::Json(j) => json!({ "value": j }),
            RValue::List(items) => {
                json!({ "items": items.iter().map(as_document).collect::<Vec<_>>() })
            }
        }
    }

    #[test]
    fn an_instance_line_has_the_bytes_of_the_json_document_it_replaced() {
        let artifact = RValue::Artifact(ArtifactRef {
            object: "ab12".into(),
            kind: "file".into(),
            path: "/store/objects/ab12".into(),
            bytes: 42,
        });
        let mut inputs = IndexMap::new();
        inputs.insert(
            "z\"q".to_string(),
            RValue::Json(json!({"b": [1, 2.5], "a": "é\n"})),
        );
        inputs.insert("data".to_string(), artifact.clone());
        inputs.insert(
            "many".to_string(),
            RValue::List(vec![artifact.clone(), RValue::Json(Json::Null)]),
        );
        let mut outputs = IndexMap::new();
        outputs.insert("out".to_string(), artifact);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = InstanceLog::open(dir.path());
        log.write("p/inner", "t[1]", &inputs, &outputs);
        log.write("p", "u", &IndexMap::new(), &IndexMap::new());
        let doc = |m: &IndexMap<String, RValue>| {
            m.iter()
                .map(|(k, v)| (k.clone(), as_document(v)))
                .collect::<serde_json::Map<_, _>>()
        };
        let expected = format!(
            "{}\n{}\n",
            json!({"pipeline": "p/inner", "task": "t[1]", "inputs": doc(&inputs), "outputs": doc(&outputs)}),
            json!({"pipeline": "p", "task": "u", "inputs": {}, "outputs": {}}),
        );
        let written = std::fs::read_to_string(dir.path().join(INSTANCES_FILE))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(written, expected);
    }
}
