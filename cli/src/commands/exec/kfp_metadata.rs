//! Kubeflow's metrics view: the numbers of a step's `Metrics` outputs as the metadata of its
//! `system.Metrics` artifacts.
//!
//! Kubeflow's UI shows a metrics artifact's *metadata*, not its file. A component sets that
//! metadata by writing an `ExecutorOutput` to the path the executor input names
//! (`outputs.outputFile`); the launcher merges each artifact's `metadata` into the artifact it
//! records (kubeflow/pipelines, `backend/src/v2/component/launcher_v2.go`,
//! `mergeRuntimeArtifacts`). `flowc exec` writes, for every `Metrics` output, the file's
//! top-level numbers: `{"artifacts": {"report": {"artifacts": [{"metadata": {"rmse": 0.12}}]}}}`.
//! No `uri` is written, so the launcher keeps the artifact's own.

use std::path::Path;

use serde_json::{json, Map, Value as Json};

use flowc_compiler::plan::TypeRepr;

use super::ExecError;

/// Writes the executor output of the `Metrics` outputs among `outputs` (name, file, type) to
/// the output file `executor_input` names. Does nothing without a `Metrics` output or an
/// output file.
pub(super) fn write(
    executor_input: Option<&Json>,
    outputs: &[(String, &Path, &TypeRepr)],
) -> Result<(), ExecError> {
    let Some(target) = executor_input
        .and_then(|e| e.pointer("/outputs/outputFile"))
        .and_then(Json::as_str)
    else {
        return Ok(());
    };
    let mut artifacts = Map::new();
    for (name, path, ty) in outputs {
        if !matches!(ty, TypeRepr::Metrics { .. }) {
            continue;
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            ExecError::output(format!(
                "cannot read the metrics `{name}` at `{}`: {e}",
                path.display()
            ))
        })?;
        artifacts.insert(
            name.clone(),
            json!({"artifacts": [{"metadata": numbers(&text)}]}),
        );
    }
    if artifacts.is_empty() {
        return Ok(());
    }
    let target = Path::new(target);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| ExecError::output(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    let text = json!({ "artifacts": artifacts }).to_string();
    std::fs::write(target, text).map_err(|e| {
        ExecError::output(format!(
            "cannot write Kubeflow's executor output `{}`: {e}",
            target.display()
        ))
    })
}

/// The top-level numbers of a metrics file (a JSON object), in its order; anything else is
/// left out, as Kubeflow shows numbers only.
fn numbers(text: &str) -> Map<String, Json> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(m)) => m.into_iter().filter(|(_, v)| v.is_number()).collect(),
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_metrics_outputs_and_only_their_numbers_are_written() {
        let dir = tempfile::tempdir().expect("a folder");
        let report = dir.path().join("report.json");
        std::fs::write(
            &report,
            r#"{"iterations": 7, "converged": true, "rmse": 0.12, "note": "x"}"#,
        )
        .expect("write");
        let table = dir.path().join("table.parquet");
        let out_file = dir.path().join("tmp/kfp_outputs/output_metadata.json");
        let input = json!({"outputs": {"outputFile": out_file.to_string_lossy()}});
        let metrics = TypeRepr::Metrics { keys: Vec::new() };
        let file = TypeRepr::Unknown;
        write(
            Some(&input),
            &[
                ("report".into(), report.as_path(), &metrics),
                ("weights".into(), table.as_path(), &file),
            ],
        )
        .expect("written");
        let written: Json =
            serde_json::from_str(&std::fs::read_to_string(&out_file).expect("the file"))
                .expect("JSON");
        assert_eq!(
            written,
            json!({"artifacts": {"report": {"artifacts": [{"metadata": {"iterations": 7, "rmse": 0.12}}]}}})
        );
    }

    #[test]
    fn nothing_is_written_without_an_output_file() {
        let metrics = TypeRepr::Metrics { keys: Vec::new() };
        let missing = Path::new("no-such-file.json");
        assert!(write(Some(&json!({})), &[("r".into(), missing, &metrics)]).is_ok());
        assert!(write(None, &[("r".into(), missing, &metrics)]).is_ok());
    }
}
