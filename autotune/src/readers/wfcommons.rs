//! Reader for WfCommons WfFormat instances (schema 1.5 and later 1.x).
//!
//! One file is one run. Step = `command.program`; peak = `memoryInBytes`; runtime =
//! `runtimeInSeconds`; CPU seconds = `avgCPU`/100 × runtime; input size = the summed
//! `sizeInBytes` of the task's `inputFiles` in the specification. The pipeline is the file stem
//! without its trailing run number (`blast-chameleon-small-001` → `blast-chameleon-small`).
//! Instances carry no per-task timestamps, so a task starts when its last parent ends and root
//! tasks start at `executedAt`.

use super::{Fields, ReadOutput, Sink};
use crate::error::{AutotuneError, ErrorCode};
use crate::history::{Execution, Provenance};
use crate::json::Json;
use std::collections::BTreeMap;

/// The pipeline and run names from the file name.
pub fn names(file: &str) -> (String, String) {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.strip_suffix(".json").unwrap_or(base).to_string();
    let pipeline = match stem.rsplit_once('-') {
        Some((head, tail))
            if !head.is_empty() && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head.to_string()
        }
        _ => stem.clone(),
    };
    (pipeline, stem)
}

struct Task {
    parents: Vec<String>,
    inputs: Vec<String>,
}

/// Reads an instance. Structural problems (no tasks, bad schema) are file-level; a bad task is
/// record-level.
pub fn read(doc: &Json, sink: &mut Sink<'_>) -> Result<ReadOutput, AutotuneError> {
    let f = Fields { sink };
    let version = f.req_str(doc, "schemaVersion", "schemaVersion")?;
    let supported = version
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .is_some_and(|(major, minor)| major == 1 && minor >= 5);
    if !supported {
        let line = doc.get("schemaVersion").map_or(doc.line, |v| v.line);
        return Err(sink.error(
            ErrorCode::UnsupportedSchema,
            line,
            format!("unsupported WfFormat schemaVersion `{version}` (this reader understands 1.5 and later 1.x)"),
        ));
    }
    let workflow = f.req_obj(doc, "workflow", "workflow")?;
    let spec = f.req_obj(workflow, "specification", "workflow.specification")?;
    let exec = f.req_obj(workflow, "execution", "workflow.execution")?;
    let executed_at = f.req_time(exec, "executedAt", "workflow.execution.executedAt")?;

    let mut sizes: BTreeMap<&str, u64> = BTreeMap::new();
    if let Some(files) = f.opt(spec, "files") {
        let files = files
            .as_array()
            .ok_or_else(|| wrong(sink, files, "workflow.specification.files", "an array"))?;
        for file in files {
            let id = f.req_str(file, "id", "workflow.specification.files[].id")?;
            let size = f
                .opt_u64(
                    file,
                    "sizeInBytes",
                    "workflow.specification.files[].sizeInBytes",
                )?
                .unwrap_or(0);
            sizes.insert(id, size);
        }
    }
    let mut spec_tasks: BTreeMap<String, Task> = BTreeMap::new();
    for t in f.req_arr(spec, "tasks", "workflow.specification.tasks")? {
        let id = f.req_str(t, "id", "workflow.specification.tasks[].id")?;
        let strings = |key: &str| -> Result<Vec<String>, AutotuneError> {
            let path = format!("workflow.specification.tasks[].{key}");
            match f.opt(t, key) {
                None => Ok(Vec::new()),
                Some(v) => {
                    let items = v
                        .as_array()
                        .ok_or_else(|| wrong(sink, v, &path, "an array"))?;
                    items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| wrong(sink, i, &path, "an array of strings"))
                        })
                        .collect()
                }
            }
        };
        spec_tasks.insert(
            id.to_string(),
            Task {
                parents: strings("parents")?,
                inputs: strings("inputFiles")?,
            },
        );
    }

    let (pipeline, run_id) = names(sink.file);
    let mut runtimes: BTreeMap<String, f64> = BTreeMap::new();
    let mut pending: Vec<(String, Execution)> = Vec::new();
    let mut problems = Vec::new();
    for t in f.req_arr(exec, "tasks", "workflow.execution.tasks")? {
        match task(t, &f, &pipeline, &run_id, &spec_tasks, &sizes) {
            Ok((id, e)) => {
                runtimes.insert(id.clone(), e.wall_seconds);
                pending.push((id, e));
            }
            Err(e) => problems.push(e),
        }
    }
    for e in problems {
        sink.record(e);
    }
    let ends = end_times(&spec_tasks, &runtimes, executed_at);
    let mut out = ReadOutput::default();
    for (id, mut e) in pending {
        let Some(&end_ms) = ends.get(&id) else {
            sink.record(sink.error(
                ErrorCode::InvalidValue,
                e.source.line,
                format!("task `{id}` is part of a dependency cycle"),
            ));
            continue;
        };
        e.end_ms = end_ms;
        e.start_ms = end_ms.saturating_sub((e.wall_seconds * 1000.0).round() as i64);
        out.executions.push(e);
    }
    Ok(out)
}

fn wrong(sink: &Sink<'_>, v: &Json, path: &str, expected: &str) -> AutotuneError {
    sink.error(
        ErrorCode::WrongType,
        v.line,
        format!(
            "field `{path}` should be {expected}, found {}",
            v.type_name()
        ),
    )
}

fn task(
    t: &Json,
    f: &Fields<'_, '_>,
    pipeline: &str,
    run_id: &str,
    spec: &BTreeMap<String, Task>,
    sizes: &BTreeMap<&str, u64>,
) -> Result<(String, Execution), AutotuneError> {
    let id = f.req_str(t, "id", "workflow.execution.tasks[].id")?;
    let runtime = f.req_f64(
        t,
        "runtimeInSeconds",
        "workflow.execution.tasks[].runtimeInSeconds",
    )?;
    let program = match f.opt_obj(t, "command", "workflow.execution.tasks[].command")? {
        Some(cmd) => f
            .opt_str(cmd, "program", "workflow.execution.tasks[].command.program")?
            .map(str::to_string),
        None => None,
    };
    // Without a program, the task type is the id without its `_IDnnnn` suffix.
    let step = program.unwrap_or_else(|| id.split("_ID").next().unwrap_or(id).to_string());
    let mut e = Execution::new(pipeline, &step, 0, runtime);
    e.task = id.to_string();
    e.run_id = run_id.to_string();
    e.peak_memory_bytes = f.opt_u64(
        t,
        "memoryInBytes",
        "workflow.execution.tasks[].memoryInBytes",
    )?;
    if let Some(avg) = f.opt_f64(t, "avgCPU", "workflow.execution.tasks[].avgCPU")? {
        e.cpu_seconds = Some(avg / 100.0 * runtime);
    }
    if let Some(cores) = f.opt_f64(t, "coreCount", "workflow.execution.tasks[].coreCount")? {
        e.cpu_request_millis = Some((cores * 1000.0).round() as u64);
    }
    e.input_bytes = match spec.get(id) {
        Some(s) => Some(
            s.inputs
                .iter()
                .map(|i| sizes.get(i.as_str()).copied().unwrap_or(0))
                .sum(),
        ),
        None => f.opt_u64(t, "readBytes", "workflow.execution.tasks[].readBytes")?,
    };
    // Input files exist before the task starts; `readBytes` is counted while it runs.
    if spec.contains_key(id) {
        e.input_timing = crate::history::InputTiming::BeforeStart;
    }
    e.source = Provenance {
        file: f.sink.file.to_string(),
        line: t.line,
    };
    Ok((id.to_string(), e))
}

/// End time of every task: roots end `runtime` after `executedAt`, others after their last parent.
/// Tasks on a cycle get no end time.
fn end_times(
    spec: &BTreeMap<String, Task>,
    runtimes: &BTreeMap<String, f64>,
    t0: i64,
) -> BTreeMap<String, i64> {
    let mut ends: BTreeMap<String, i64> = BTreeMap::new();
    // Repeated relaxation in id order; a DAG settles within `n` passes.
    let ids: Vec<&String> = runtimes.keys().collect();
    for _ in 0..=ids.len() {
        let mut progressed = false;
        for id in &ids {
            if ends.contains_key(*id) {
                continue;
            }
            let parents = spec.get(*id).map(|t| t.parents.as_slice()).unwrap_or(&[]);
            let mut start = t0;
            let mut ready = true;
            for p in parents {
                if !runtimes.contains_key(p) {
                    continue; // a parent that did not execute does not delay the task
                }
                match ends.get(p) {
                    Some(&end) => start = start.max(end),
                    None => ready = false,
                }
            }
            if ready {
                let runtime_ms = (runtimes[*id] * 1000.0).round() as i64;
                ends.insert((*id).clone(), start.saturating_add(runtime_ms));
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    const DOC: &str = r#"{
  "name": "demo", "schemaVersion": "1.5",
  "workflow": {
    "specification": {
      "tasks": [
        {"name": "split_ID1", "id": "split_ID1", "parents": [], "inputFiles": ["in.fa"], "outputFiles": ["a"]},
        {"name": "blast_ID2", "id": "blast_ID2", "parents": ["split_ID1"], "inputFiles": ["a", "db"], "outputFiles": []}
      ],
      "files": [{"id": "in.fa", "sizeInBytes": 10}, {"id": "a", "sizeInBytes": 5}, {"id": "db", "sizeInBytes": 100}]
    },
    "execution": {
      "executedAt": "2020-12-25T20:10:08+00:00",
      "tasks": [
        {"id": "split_ID1", "runtimeInSeconds": 2.0, "command": {"program": "split"}, "avgCPU": 50.0, "memoryInBytes": 3000000},
        {"id": "blast_ID2", "runtimeInSeconds": 10.0, "command": {"program": "blast"}, "memoryInBytes": 484000000}
      ]
    }
  }
}"#;

    #[test]
    fn derives_start_times_from_the_dag() {
        let doc = parse(DOC, 1).unwrap();
        let mut sink = Sink::new("x/blast-chameleon-small-001.json", false);
        let out = read(&doc, &mut sink).unwrap();
        assert!(sink.problems.is_empty(), "{:?}", sink.problems);
        let t0 = crate::time::parse_timestamp("2020-12-25T20:10:08Z").unwrap();
        let blast = out.executions.iter().find(|e| e.step == "blast").unwrap();
        assert_eq!(blast.pipeline, "blast-chameleon-small");
        assert_eq!(blast.start_ms, t0 + 2000);
        assert_eq!(blast.input_bytes, Some(105));
        let split = out.executions.iter().find(|e| e.step == "split").unwrap();
        assert_eq!(split.cpu_seconds, Some(1.0));
    }

    #[test]
    fn bad_task_is_record_level() {
        let text = DOC.replace(
            "\"runtimeInSeconds\": 10.0",
            "\"runtimeInSeconds\": \"ten\"",
        );
        let doc = parse(&text, 1).unwrap();
        let mut sink = Sink::new("w-001.json", false);
        let out = read(&doc, &mut sink).unwrap();
        assert_eq!(out.executions.len(), 1);
        assert_eq!(sink.problems[0].code, ErrorCode::WrongType);
        assert_eq!(sink.problems[0].line, Some(15));
    }

    #[test]
    fn old_schema_is_rejected() {
        let doc = parse(&DOC.replace("\"1.5\"", "\"1.4\""), 1).unwrap();
        let mut sink = Sink::new("w.json", false);
        assert_eq!(
            read(&doc, &mut sink).unwrap_err().code,
            ErrorCode::UnsupportedSchema
        );
    }

    #[test]
    fn names_strip_run_number() {
        assert_eq!(
            names("a/srasearch-chameleon-10a-003.json").0,
            "srasearch-chameleon-10a"
        );
        assert_eq!(names("plain.json").0, "plain");
    }
}
