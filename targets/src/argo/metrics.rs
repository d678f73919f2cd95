//! `Metrics` outputs as Prometheus metrics: every step template that writes a `Metrics<{...}>`
//! output with numeric keys (`Int`, `Float`) reports each of them as a gauge
//! (`flowc_<output>_<key>`), labelled with the pipeline, the version and the step, once the
//! step succeeded. Argo reads the values from an output parameter holding the metrics file
//! (`flowc-metrics-<output>`) with its `jsonpath` expression function; the metrics reach
//! Prometheus through the workflow controller's metrics endpoint.

use serde_json::{json, Map, Value as Json};

use flowc_compiler::plan::{Task, TypeRepr};

/// The Prometheus metric name of `key` of `output`: `flowc_<output>_<key>`, with every
/// character outside `[a-zA-Z0-9_]` as `_`.
pub(crate) fn metric_name(output: &str, key: &str) -> String {
    format!("flowc_{output}_{key}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The numeric keys of the `Metrics` outputs of `task`: (output, key).
pub(crate) fn numeric_metrics(task: &Task) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for o in &task.outputs {
        if let TypeRepr::Metrics { keys } = &o.ty {
            for k in keys
                .iter()
                .filter(|k| matches!(k.ty.as_str(), "Int" | "Float"))
            {
                out.push((o.name.clone(), k.name.clone()));
            }
        }
    }
    out
}

/// Adds to the step template `m` the output parameters holding its metrics files (written
/// under `outputs_dir`) and a gauge for each numeric key; `labels` are the pipeline's name and
/// version.
pub(crate) fn add_prometheus_metrics(
    m: &mut Map<String, Json>,
    task: &Task,
    outputs_dir: &str,
    labels: &(String, String),
) {
    let metrics = numeric_metrics(task);
    if metrics.is_empty() {
        return;
    }
    let mut files: Vec<String> = metrics.iter().map(|(o, _)| o.clone()).collect();
    files.dedup();
    let params = m
        .entry("outputs")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
    if let Some(Json::Array(params)) = params {
        for o in &files {
            params.push(json!({
                "name": format!("flowc-metrics-{o}"),
                "valueFrom": {"path": format!("{outputs_dir}/{o}")},
            }));
        }
    }
    let (pipeline, version) = labels;
    let gauges: Vec<Json> = metrics
        .iter()
        .map(|(o, k)| {
            let value =
                format!("{{{{=jsonpath(outputs['parameters']['flowc-metrics-{o}'], '$.{k}')}}}}");
            json!({
                "name": metric_name(o, k),
                // One help text per metric name: Prometheus refuses a name described twice.
                "help": format!("`{k}` of the `{o}` metrics written by flowc steps"),
                "labels": [
                    {"key": "pipeline", "value": pipeline},
                    {"key": "version", "value": version},
                    {"key": "step", "value": task.step},
                ],
                "when": "{{status}} == Succeeded",
                "gauge": {"realtime": false, "value": value},
            })
        })
        .collect();
    m.insert("metrics".into(), json!({"prometheus": gauges}));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_are_prometheus_names() {
        assert_eq!(metric_name("quality", "auc"), "flowc_quality_auc");
        assert_eq!(metric_name("q-2", "max.err"), "flowc_q_2_max_err");
    }
}
