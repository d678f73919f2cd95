//! The memory of a retried attempt on Argo: when the lock file gives a tuned step a retry rule
//! (`flowc autotune`, `MemoryRetry`) and the step retries, the template's `podSpecPatch` sets
//! the main container's memory request and limit by the attempt number, `{{retries}}`: attempt
//! 0 gets the tuned value, each retry the rule applied to the attempt before (max(first,
//! factor × killed, killed + step)), never above the step's `max` bound. The values are
//! computed here, so the expression is a plain choice among quantities; with
//! `--memory-from-configmap` it picks the attempt's entry of the ladder the template's
//! `flowc-memory` parameter holds instead ([`super::tuned_memory`]).

use super::tuned_memory;
use flowc_compiler::plan::ResourcesPlan;
use flowc_compiler::units::format_memory;
use serde_json::json;

/// The `podSpecPatch` of a step with `retries` retries, or `None` when it has no tuned memory
/// with a retry rule. With `from_parameter`, the memory is the ladder of the template's
/// `flowc-memory` parameter (read from a ConfigMap when the step starts) instead of values
/// fixed at build time.
pub(crate) fn pod_spec_patch(
    resources: &ResourcesPlan,
    retries: u32,
    from_parameter: bool,
) -> Option<String> {
    if retries == 0 {
        return None;
    }
    let ladder = tuned_memory::ladder(resources, retries)?;
    let value = if from_parameter {
        tuned_memory::parameter_expression()
    } else {
        let mut expr = String::new();
        for (i, bytes) in ladder.iter().enumerate() {
            let q = format_memory(*bytes);
            if i + 1 == ladder.len() {
                expr.push_str(&format!("'{q}'"));
            } else {
                expr.push_str(&format!("asInt(retries) == {i} ? '{q}' : "));
            }
        }
        format!("{{{{={expr}}}}}")
    };
    let patch = json!({"containers": [{
        "name": "main",
        "resources": {"requests": {"memory": value}, "limits": {"memory": value}},
    }]});
    Some(patch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowc_compiler::plan::MemoryRetry;

    fn tuned(memory: u64, retry: Option<MemoryRetry>) -> ResourcesPlan {
        ResourcesPlan {
            auto: true,
            memory_bytes: Some(memory),
            memory_limit_bytes: Some(memory),
            tuned: true,
            memory_retry: retry,
            ..ResourcesPlan::default()
        }
    }

    #[test]
    fn each_retry_gets_the_rules_memory() {
        let rule = MemoryRetry {
            first_bytes: 963 << 20,
            factor_permille: 1400,
            min_step_bytes: 100 << 20,
        };
        let patch = pod_spec_patch(&tuned(558 << 20, Some(rule)), 2, false).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&patch).unwrap_or_default();
        let expected =
            "{{=asInt(retries) == 0 ? '558Mi' : asInt(retries) == 1 ? '963Mi' : '1349Mi'}}";
        assert_eq!(v["containers"][0]["name"], "main");
        assert_eq!(
            v["containers"][0]["resources"]["limits"]["memory"],
            expected
        );
        assert_eq!(
            v["containers"][0]["resources"]["requests"]["memory"],
            expected
        );
    }

    #[test]
    fn retries_stay_within_the_max_bound() {
        let rule = MemoryRetry {
            first_bytes: 963 << 20,
            factor_permille: 1400,
            min_step_bytes: 100 << 20,
        };
        let bounded = ResourcesPlan {
            max: Some(Box::new(ResourcesPlan {
                memory_bytes: Some(1 << 30),
                ..ResourcesPlan::default()
            })),
            ..tuned(558 << 20, Some(rule))
        };
        let patch = pod_spec_patch(&bounded, 2, false).unwrap_or_default();
        assert!(
            patch.contains("asInt(retries) == 1 ? '963Mi' : '1Gi'"),
            "{patch}"
        );
    }

    #[test]
    fn no_patch_without_a_rule_retries_or_tuned_memory() {
        let rule = MemoryRetry {
            first_bytes: 1 << 30,
            factor_permille: 1400,
            min_step_bytes: 100 << 20,
        };
        assert_eq!(pod_spec_patch(&tuned(1 << 30, None), 3, false), None);
        assert_eq!(pod_spec_patch(&tuned(1 << 30, Some(rule)), 0, false), None);
        let untuned = ResourcesPlan {
            tuned: false,
            ..tuned(1 << 30, Some(rule))
        };
        assert_eq!(pod_spec_patch(&untuned, 3, false), None);
    }
}
