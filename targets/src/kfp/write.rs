//! The KFP spec as text: document 1 with the entries already written (the leaves' components
//! and executors, the root's tasks: see [`Rendered`]) merged into their mappings in sorted key
//! order, then document 2, byte for byte as [`crate::yaml::into_yaml_after`] writes the whole
//! trees.

use serde_json::Value as Json;

use super::render::Rendered;
use crate::yaml::{push_sorted_entry, push_sorted_mapping, KeyOrder, WrittenEntries};

/// The spec after `header`, or `None` when an entry is not one the direct writer takes (the
/// build then renders and writes the trees whole).
pub(super) fn spec(header: &str, r: &Rendered) -> Option<String> {
    let written = [
        (&["components"][..], &r.components),
        (&["deploymentSpec", "executors"][..], &r.executors),
        (&["root", "dag", "tasks"][..], &r.root_tasks),
    ];
    let size: usize = written.iter().map(|(_, w)| w.text_len()).sum();
    let mut out = String::with_capacity(header.len() + size + size / 2);
    out.push_str(header);
    let (first, rest) = r.docs.split_first()?;
    if !first_document(first, &written, &mut out) {
        return None;
    }
    let rest = rest.to_vec();
    if rest.is_empty() {
        return Some(out);
    }
    out.push_str("---\n");
    Some(crate::yaml::into_yaml_after(out, rest, KeyOrder::Sorted))
}

/// Where written entries go: the path of their mapping in the document, and the entries.
type Written<'a> = (&'a [&'a str], &'a WrittenEntries);

/// Document 1: its top-level entries in sorted order, each mapping of `written` merged with
/// its entries. False when an entry is not taken, or written entries have no place.
fn first_document(doc: &Json, written: &[Written<'_>], out: &mut String) -> bool {
    let Json::Object(map) = doc else {
        return false;
    };
    let placed = |(path, w): &Written<'_>| w.is_empty() || map.contains_key(path[0]);
    if map.len() < 2 || !written.iter().all(placed) {
        return false;
    }
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries.into_iter().all(|(key, value)| {
        match written
            .iter()
            .find(|(path, w)| path[0] == key && !w.is_empty())
        {
            Some((path, w)) => merged_entry(key, value, &path[1..], w, 0, out),
            None => push_sorted_entry(key, value, 0, out),
        }
    })
}

/// The entry `key: value` at `depth`, the mapping at `path` inside `value` merged with
/// `written`. False when that mapping is not there, or an entry is not taken.
fn merged_entry(
    key: &str,
    value: &Json,
    path: &[&str],
    written: &WrittenEntries,
    depth: usize,
    out: &mut String,
) -> bool {
    let Json::Object(map) = value else {
        return false;
    };
    let Some((next, rest)) = path.split_first() else {
        return push_sorted_mapping(key, map, written, depth, out);
    };
    if !map.contains_key(*next) || !crate::yaml::is_plain_key(key) {
        return false;
    }
    crate::yaml::push_indent(out, depth);
    out.push_str(key);
    out.push_str(":\n");
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries.into_iter().all(|(k, v)| {
        if k == next {
            merged_entry(k, v, rest, written, depth + 1, out)
        } else {
            push_sorted_entry(k, v, depth + 1, out)
        }
    })
}
