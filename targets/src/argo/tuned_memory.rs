//! The memory of a tuned step on Argo, attempt by attempt, and where it is read from.
//!
//! A step the lock file tuned with a retry rule (`flowc autotune --write`) is retried after an
//! OOM kill: it gets at least [`OOM_RETRIES`] retries (`retryStrategy` with the expression
//! `asInt(lastRetry.exitCode) == 137` when the source gave it no `retries`; a step with `retries
//! N` keeps retrying any failure, at least [`OOM_RETRIES`] times), and its `podSpecPatch` sets
//! the memory of each attempt from the rule's *ladder* (attempt 0 the locked value, then the
//! rule applied to the attempt before, within the step's `max` bound).
//!
//! With `flowc build --target argo --memory-from-configmap NAME`, the ladder is read when the
//! step starts from the ConfigMap `NAME` (key [`configmap_key`], the ladder's quantities
//! separated by spaces), through a template input parameter whose default is the ladder the
//! lock file gives: a job that re-tunes every few minutes and applies the ConfigMap of
//! [`memory_configmap`] changes the memory of the next steps without a new build.

use flowc_compiler::plan::{Plan, ResourcesPlan};
use flowc_compiler::units::format_memory;
use serde_json::{json, Map, Value as Json};

/// The retries after an OOM kill that a tuned step with a retry rule gets at least (the
/// replay of `flowc autotune eval` gives every policy the same number).
pub const OOM_RETRIES: u32 = flowc_compiler::plan::OOM_RETRIES;

/// The ConfigMap `--memory-from-configmap` reads when no name is given.
pub const DEFAULT_CONFIGMAP: &str = "flowc-memory";

/// The template input parameter that holds a tuned step's ladder.
pub(crate) const PARAMETER: &str = "flowc-memory";

/// The retry condition of a tuned step without `retries`: the main container was killed with
/// SIGKILL, as the kernel's OOM killer does.
pub(crate) const OOM_EXPRESSION: &str = "asInt(lastRetry.exitCode) == 137";

/// Whether the build retries this step after OOM kills with the lock file's rule.
pub(crate) fn has_retry_rule(resources: &ResourcesPlan) -> bool {
    let r = resources.in_force();
    r.memory_retry.is_some() && r.memory_limit_bytes.or(r.memory_bytes).is_some()
}

/// The retries a step gets: its own, and at least [`OOM_RETRIES`] when it has a retry rule.
pub(crate) fn retries_for(resources: &ResourcesPlan, retries: u32) -> u32 {
    if has_retry_rule(resources) {
        retries.max(OOM_RETRIES)
    } else {
        retries
    }
}

/// The memory of attempts 0..=`retries` of a step with a retry rule, bytes.
pub fn ladder(resources: &ResourcesPlan, retries: u32) -> Option<Vec<u64>> {
    let r = resources.in_force();
    let rule = r.memory_retry?;
    let limit = r.memory_limit_bytes.or(r.memory_bytes)?;
    // Retries stay within the source's `max` bound.
    let ceiling = resources.memory_ceiling().unwrap_or(u64::MAX).max(limit);
    Some(
        rule.ladder(limit, retries)
            .into_iter()
            .map(|b| b.min(ceiling))
            .collect(),
    )
}

/// The ladder as the ConfigMap value and the parameter's default: quantities separated by
/// spaces (`1536Mi 2151Mi 3012Mi`).
pub fn ladder_text(ladder: &[u64]) -> String {
    ladder
        .iter()
        .map(|b| format_memory(*b))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ConfigMap key of a step: `PIPELINE.STEP`, with any character a key cannot hold
/// (outside `[-._a-zA-Z0-9]`) as `-`.
pub fn configmap_key(pipeline: &str, step: &str) -> String {
    format!("{pipeline}.{step}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Whether `name` can name a ConfigMap (a Kubernetes object name: an RFC 1123 subdomain).
pub fn is_configmap_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// The `retryStrategy` of a tuned step that the source gave no `retries`: OOM kills only.
pub(crate) fn oom_retry_strategy() -> Json {
    json!({
        "limit": OOM_RETRIES.to_string(),
        "retryPolicy": "Always",
        "expression": OOM_EXPRESSION,
    })
}

/// Declares the template input parameter that reads the ladder from the ConfigMap `name` when
/// the step starts (the lock file's ladder when the ConfigMap or the key is missing).
pub(crate) fn add_parameter(m: &mut Map<String, Json>, name: &str, key: &str, default: &str) {
    let param = json!({
        "name": PARAMETER,
        "valueFrom": {
            "configMapKeyRef": {"name": name, "key": key},
            "default": default,
        },
    });
    let inputs = m
        .entry("inputs")
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(io) = inputs {
        let params = io
            .entry("parameters")
            .or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(list) = params {
            list.push(param);
        }
    }
}

/// The memory expression of the `podSpecPatch` that reads the parameter: the ladder's entry
/// for the attempt (its last entry beyond it).
pub(crate) fn parameter_expression() -> String {
    let list = format!("sprig.splitList(' ', inputs.parameters['{PARAMETER}'])");
    format!("{{{{=asInt(retries) < len({list}) ? {list}[asInt(retries)] : sprig.last({list})}}}}")
}

/// The ConfigMap manifest `flowc autotune --configmap` writes: one key per tuned step of the
/// plans (the ladder a build from the same lock file gives it), labelled as Argo requires of
/// ConfigMaps read by parameters.
pub fn memory_configmap(plans: &[&Plan], name: &str) -> String {
    let mut data = std::collections::BTreeMap::new();
    for plan in plans {
        for (pipeline, p) in &plan.pipelines {
            for t in &p.tasks {
                let r = &t.settings.resources;
                let retries = retries_for(r, t.settings.retries);
                if let Some(l) = ladder(r, retries) {
                    data.insert(configmap_key(pipeline, &t.step), ladder_text(&l));
                }
            }
        }
    }
    let doc = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {"workflows.argoproj.io/configmap-type": "Parameter"},
            "annotations": {"flowc.dev/generated-by": "flowc autotune --configmap"},
        },
        "data": data,
    });
    crate::yaml::into_yaml(vec![doc], crate::yaml::KeyOrder::AsBuilt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_compiler::plan::MemoryRetry;

    fn tuned(memory: u64) -> ResourcesPlan {
        ResourcesPlan {
            auto: true,
            memory_bytes: Some(memory),
            memory_limit_bytes: Some(memory),
            tuned: true,
            memory_retry: Some(MemoryRetry {
                first_bytes: 963 << 20,
                factor_permille: 1400,
                min_step_bytes: 100 << 20,
            }),
            ..ResourcesPlan::default()
        }
    }

    #[test]
    fn a_tuned_step_gets_at_least_the_oom_retries() {
        assert_eq!(retries_for(&tuned(558 << 20), 0), OOM_RETRIES);
        assert_eq!(retries_for(&tuned(558 << 20), 8), 8);
        let untuned = ResourcesPlan::default();
        assert_eq!(retries_for(&untuned, 2), 2);
        let l = ladder(&tuned(558 << 20), 2).unwrap_or_default();
        assert_eq!(ladder_text(&l), "558Mi 963Mi 1349Mi");
    }

    #[test]
    fn configmap_names_are_object_names() {
        assert!(is_configmap_name("flowc-memory"));
        assert!(is_configmap_name("flowc-memory.daily"));
        for bad in ["", "Memory", "a_b", "-a", "a-", "a..b"] {
            assert!(!is_configmap_name(bad), "{bad}");
        }
    }

    #[test]
    fn keys_hold_only_what_a_configmap_key_may() {
        assert_eq!(configmap_key("daily", "load_panel"), "daily.load_panel");
        assert_eq!(configmap_key("a b", "c/d"), "a-b.c-d");
    }

    #[test]
    fn the_parameter_reads_the_configmap_with_the_lock_as_default() {
        let mut m = Map::new();
        m.insert("inputs".into(), json!({"parameters": [{"name": "x"}]}));
        add_parameter(&mut m, "flowc-memory", "p.s", "1Gi 2Gi");
        assert_eq!(
            m["inputs"]["parameters"][1],
            json!({"name": "flowc-memory", "valueFrom": {
                "configMapKeyRef": {"name": "flowc-memory", "key": "p.s"}, "default": "1Gi 2Gi"}})
        );
        assert!(parameter_expression().contains("inputs.parameters['flowc-memory']"));
    }
}
