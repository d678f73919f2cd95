//! The KFP spec as text: document 1 with the leaves' components and executors already written
//! (see [`Rendered`]) merged into its `components` and `deploymentSpec.executors` in sorted
//! key order, then document 2, byte for byte as [`crate::yaml::into_yaml_after`] writes the
//! whole trees.

use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

use super::render::Rendered;
use crate::yaml::{push_sorted_entry, push_sorted_mapping, KeyOrder};

/// The spec after `header`, or `None` when an entry is not one the direct writer takes (the
/// build then renders and writes the trees whole).
pub(super) fn spec(header: &str, r: &Rendered) -> Option<String> {
    let mut out = String::with_capacity(header.len() + text_len(r) + text_len(r) / 2);
    out.push_str(header);
    let (first, rest) = r.docs.split_first()?;
    if !first_document(first, &r.components, &r.executors, &mut out) {
        return None;
    }
    let rest = rest.to_vec();
    if rest.is_empty() {
        return Some(out);
    }
    out.push_str("---\n");
    Some(crate::yaml::into_yaml_after(out, rest, KeyOrder::Sorted))
}

/// The bytes of the written entries.
fn text_len(r: &Rendered) -> usize {
    (r.components.values().chain(r.executors.values()))
        .map(String::len)
        .sum()
}

/// Document 1: its top-level entries in sorted order, `components` and
/// `deploymentSpec.executors` merged with the written entries. False when an entry is not
/// taken, or the written entries have no place in the document.
fn first_document(
    doc: &Json,
    components: &BTreeMap<String, String>,
    executors: &BTreeMap<String, String>,
    out: &mut String,
) -> bool {
    let Json::Object(map) = doc else {
        return false;
    };
    if map.len() < 2 {
        return false;
    }
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let (mut placed_components, mut placed_executors) = (false, false);
    for (key, value) in entries {
        let done = match (key.as_str(), value) {
            ("components", Json::Object(trees)) => {
                placed_components = true;
                push_sorted_mapping(key, trees, components, 0, out)
            }
            ("deploymentSpec", Json::Object(spec)) => match only_executors(spec) {
                Some(trees) => {
                    placed_executors = true;
                    out.push_str("deploymentSpec:\n");
                    push_sorted_mapping("executors", trees, executors, 1, out)
                }
                None => push_sorted_entry(key, value, 0, out),
            },
            _ => push_sorted_entry(key, value, 0, out),
        };
        if !done {
            return false;
        }
    }
    (placed_components || components.is_empty()) && (placed_executors || executors.is_empty())
}

/// The executors of `deploymentSpec` when they are all it holds.
fn only_executors(spec: &Map<String, Json>) -> Option<&Map<String, Json>> {
    match spec.get("executors") {
        Some(Json::Object(trees)) if spec.len() == 1 => Some(trees),
        _ => None,
    }
}
