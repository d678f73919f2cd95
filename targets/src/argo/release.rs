//! Releases on Argo: the names that let versions live side by side, and the channel alias.
//!
//! A version's `WorkflowTemplate` carries the whole version in its name
//! (`daily-weighting-v1-2-1`, `daily-weighting-v1-2-0-rc-1`), so a patch release never
//! overwrites the version operations would roll back to. A channel (`flowc build --channel
//! prod`) adds an alias `WorkflowTemplate` (`daily-weighting-prod`) whose templates call the
//! versioned ones by `templateRef`: promoting or rolling back is applying another version's
//! alias. The `CronWorkflow` is named after the pipeline (or its alias), never after a version,
//! so two versions never both run the schedule.

use serde_json::{json, Map, Value as Json};

use crate::names::{dns_label, DNS_LABEL_MAX};
use crate::obj;

/// The longest channel name: room is left for the pipeline's name in the alias.
pub const CHANNEL_MAX: usize = 20;

/// The name of the task of an alias template that calls the versioned template.
const ALIAS_TASK: &str = "run";

/// The name suffix of a version: `-v1-2-1` for `1.2.1`, `-v1-2-0-rc-1` for `1.2.0-rc.1`,
/// `-v3` for `3`; or why the version cannot be part of a name.
pub(crate) fn version_suffix(v: &str) -> Result<String, String> {
    let label_ok = !v.is_empty()
        && v.len() <= DNS_LABEL_MAX
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !label_ok {
        return Err(format!(
            "version `{v}` cannot be a Kubernetes label value (at most 63 letters, digits, `.`, \
             `_` or `-`, starting and ending with a letter or digit)"
        ));
    }
    let bare = v.strip_prefix('v').unwrap_or(v);
    let (core, pre) = match bare.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (bare, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    if parts.len() > 3 || !parts.iter().all(numeric) {
        return Err(format!(
            "version `{v}` is not of the form MAJOR.MINOR.PATCH (with an optional `-suffix`)"
        ));
    }
    let num = |p: &str| {
        p.parse::<u64>()
            .map_or_else(|_| p.to_string(), |n| n.to_string())
    };
    let numbers: Vec<String> = parts.iter().map(|p| num(p)).collect();
    let mut s = format!("-v{}", numbers.join("-"));
    if let Some(pre) = pre {
        s.push('-');
        s.push_str(&dns_label(pre, DNS_LABEL_MAX));
    }
    Ok(s)
}

/// The name of the template of `pipeline` at a version of name suffix `suffix`: the pipeline's
/// name and the whole version when they fit in 63 characters; otherwise the pipeline's name is
/// cut and ends with a hash of it, and a very long version is cut too, with a hash of both, so
/// that two versions never share a name.
pub(crate) fn versioned_name(pipeline: &str, suffix: &str) -> String {
    // Room for at least 16 characters of the pipeline's name and its hash.
    if suffix.len() + 16 <= DNS_LABEL_MAX {
        format!(
            "{}{suffix}",
            dns_label(pipeline, DNS_LABEL_MAX - suffix.len())
        )
    } else {
        dns_label(
            &format!("{}{suffix}", dns_label(pipeline, DNS_LABEL_MAX)),
            DNS_LABEL_MAX,
        )
    }
}

/// Whether `channel` can name an alias: a DNS label (lower-case letters, digits and `-`,
/// starting with a letter, ending with a letter or digit) of at most [`CHANNEL_MAX`]
/// characters; otherwise why not.
pub(crate) fn check_channel(channel: &str) -> Result<(), String> {
    let ok = !channel.is_empty()
        && channel.len() <= CHANNEL_MAX
        && channel
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && channel.starts_with(|c: char| c.is_ascii_lowercase())
        && !channel.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "channel `{channel}` cannot be part of a Kubernetes name (at most {CHANNEL_MAX} \
             lower-case letters, digits or `-`, starting with a letter and not ending with `-`)"
        ))
    }
}

/// The name of the alias of `pipeline` on `channel`: `daily-weighting-prod`.
pub(crate) fn alias_name(pipeline: &str, channel: &str) -> String {
    let room = DNS_LABEL_MAX - channel.len() - 1;
    format!("{}-{channel}", dns_label(pipeline, room))
}

/// The alias `WorkflowTemplate` named `alias`: the same arguments, limits, volumes and exit
/// handler as the versioned template `spec` (named `target`), and for its entrypoint and exit
/// handler a template of the same name whose one task calls the versioned template by
/// `templateRef`, passing its inputs through and exporting its outputs.
pub(crate) fn alias_document(
    alias: &str,
    target: &str,
    spec: &Map<String, Json>,
    metadata: (Map<String, Json>, Json),
) -> Json {
    let mut alias_spec = Map::new();
    for key in ["entrypoint", "parallelism", "onExit", "arguments"] {
        if let Some(v) = spec.get(key) {
            alias_spec.insert(key.into(), v.clone());
        }
    }
    if let Some(m) = spec.get("workflowMetadata") {
        let mut m = m.clone();
        if let Some(labels) = m.get_mut("labels").and_then(Json::as_object_mut) {
            if let Some(channel) = metadata.0.get("flowc.dev/channel") {
                labels.insert("flowc.dev/channel".into(), channel.clone());
            }
        }
        alias_spec.insert("workflowMetadata".into(), m);
    }
    for key in ["volumes", "volumeClaimTemplates", "volumeClaimGC"] {
        if let Some(v) = spec.get(key) {
            alias_spec.insert(key.into(), v.clone());
        }
    }
    let called: Vec<&str> = ["entrypoint", "onExit"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Json::as_str))
        .collect();
    let templates: Vec<Json> = spec
        .get("templates")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|t| called.iter().any(|c| t["name"] == *c))
        .map(|t| forwarding_template(t, target))
        .collect();
    alias_spec.insert("templates".into(), Json::Array(templates));
    let (labels, annotations) = metadata;
    obj([
        ("apiVersion", json!("argoproj.io/v1alpha1")),
        ("kind", json!("WorkflowTemplate")),
        (
            "metadata",
            obj([
                ("name", json!(alias)),
                ("labels", Json::Object(labels)),
                ("annotations", annotations),
            ]),
        ),
        ("spec", Json::Object(alias_spec)),
    ])
}

/// A template of the alias standing for `template` of the versioned `WorkflowTemplate`
/// `target`: the same inputs and outputs, and one task calling it by `templateRef`.
fn forwarding_template(template: &Json, target: &str) -> Json {
    let name = template["name"].clone();
    let mut m = Map::new();
    m.insert("name".into(), name.clone());
    let mut args = Map::new();
    if let Some(inputs) = template.get("inputs") {
        m.insert("inputs".into(), inputs.clone());
        let pass = |kind: &str, field: &str| -> Vec<Json> {
            inputs[kind]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["name"].as_str())
                .map(|n| json!({"name": n, field: format!("{{{{inputs.{kind}.{n}}}}}")}))
                .collect()
        };
        let params = pass("parameters", "value");
        let arts = pass("artifacts", "from");
        if !params.is_empty() {
            args.insert("parameters".into(), Json::Array(params));
        }
        if !arts.is_empty() {
            args.insert("artifacts".into(), Json::Array(arts));
        }
    }
    if let Some(outputs) = template.get("outputs") {
        m.insert("outputs".into(), forwarded_outputs(outputs));
    }
    let mut task = Map::new();
    task.insert("name".into(), json!(ALIAS_TASK));
    task.insert(
        "templateRef".into(),
        obj([("name", json!(target)), ("template", name)]),
    );
    if !args.is_empty() {
        task.insert("arguments".into(), Json::Object(args));
    }
    m.insert(
        "dag".into(),
        obj([("tasks", Json::Array(vec![Json::Object(task)]))]),
    );
    Json::Object(m)
}

/// The outputs of an alias template: each output of the versioned template, read from the
/// task that calls it (with the same `globalName`, so the run's outputs are the same).
fn forwarded_outputs(outputs: &Json) -> Json {
    let mut out = Map::new();
    for (kind, field) in [("parameters", "valueFrom"), ("artifacts", "from")] {
        let items: Vec<Json> = outputs[kind]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| {
                let n = o["name"].as_str()?;
                let source = format!("{{{{tasks.{ALIAS_TASK}.outputs.{kind}.{n}}}}}");
                let mut x = Map::new();
                x.insert("name".into(), json!(n));
                if field == "valueFrom" {
                    x.insert(field.into(), json!({"parameter": source}));
                } else {
                    x.insert(field.into(), json!(source));
                }
                for keep in ["globalName", "optional"] {
                    if let Some(v) = o.get(keep) {
                        x.insert(keep.into(), v.clone());
                    }
                }
                Some(Json::Object(x))
            })
            .collect();
        if !items.is_empty() {
            out.insert(kind.into(), Json::Array(items));
        }
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_keep_every_part() {
        assert_eq!(version_suffix("1.2.0"), Ok("-v1-2-0".into()));
        assert_eq!(version_suffix("1.2.1"), Ok("-v1-2-1".into()));
        assert_eq!(version_suffix("1.2.0-rc.1"), Ok("-v1-2-0-rc-1".into()));
        assert_eq!(version_suffix("3"), Ok("-v3".into()));
        assert_eq!(version_suffix("v2.10.01-RC_1"), Ok("-v2-10-1-rc-1".into()));
        assert!(version_suffix("1.2.0+build.5").is_err());
        assert!(version_suffix("latest").is_err());
        assert!(version_suffix("").is_err());
        assert!(version_suffix("1.2.3.4").is_err());
    }

    #[test]
    fn long_names_keep_the_version_and_stay_distinct() {
        let long = "a_pipeline_with_a_name_far_longer_than_any_kubernetes_label_allows";
        let a = versioned_name(long, "-v1-2-0");
        let b = versioned_name(long, "-v1-2-1");
        assert_eq!(a.len(), 63);
        assert!(a.ends_with("-v1-2-0"), "{a}");
        assert_ne!(a, b);
        assert_eq!(a[..56], b[..56], "the pipeline's part is stable: {a} {b}");
        let pre = format!("-v1-0-0-{}", "x".repeat(50));
        let c = versioned_name("daily", &pre);
        let d = versioned_name("daily", &format!("{pre}y"));
        assert!(c.len() <= 63 && d.len() <= 63);
        assert_ne!(c, d);
    }

    #[test]
    fn channels() {
        assert_eq!(check_channel("prod"), Ok(()));
        assert_eq!(check_channel("canary-2"), Ok(()));
        for bad in ["", "Prod", "2prod", "prod-", "a_b", &"x".repeat(21)] {
            assert!(check_channel(bad).is_err(), "{bad}");
        }
        assert_eq!(
            alias_name("daily_weighting", "prod"),
            "daily-weighting-prod"
        );
        assert!(alias_name(&"p".repeat(80), "staging").len() <= 63);
    }
}
