//! The KFP spec as text: document 1 with the entries already written (the leaves' components
//! and executors, the root's tasks: see [`Rendered`]) merged into their mappings in sorted key
//! order, then document 2, byte for byte as [`crate::yaml::into_yaml_after`] writes the whole
//! trees. The written entries are placed as pieces of their buffers (see [`crate::text`]),
//! not copied.

use serde_json::Value as Json;

use super::render::Rendered;
use crate::text::{Text, TextBuilder};
use crate::yaml::{push_sorted_entry, push_sorted_mapping, KeyOrder, Placed, WrittenEntries};

/// The spec after `header`, the written entries of `r` placed as pieces of their buffers, or
/// `None` when an entry is not one the direct writer takes (the build then renders and writes
/// the trees whole).
pub(super) fn spec(header: String, r: Rendered) -> Option<Text> {
    let written = [
        (&["components"][..], &r.components, 1),
        (&["deploymentSpec", "executors"][..], &r.executors, 2),
        (&["root", "dag", "tasks"][..], &r.root_tasks, 3),
    ];
    let mut out = TextBuilder::new(header);
    let (first, rest) = r.docs.split_first()?;
    if !first_document(first, &written, &mut out) {
        return None;
    }
    if !rest.is_empty() {
        out.own.push_str("---\n");
        let own = std::mem::take(&mut out.own);
        out.own = crate::yaml::into_yaml_after(own, rest.to_vec(), KeyOrder::Sorted);
    }
    let Rendered {
        components,
        executors,
        root_tasks,
        ..
    } = r;
    let buffers = [components, executors, root_tasks].map(WrittenEntries::into_text);
    Some(out.finish(buffers.into()))
}

/// Where written entries go: the path of their mapping in the document, the entries, and
/// the number of their buffer in the text (see [`TextBuilder::place`]).
type Written<'a> = (&'a [&'a str], &'a WrittenEntries, usize);

/// Document 1: its top-level entries in sorted order, each mapping of `written` merged with
/// its entries. False when an entry is not taken, or written entries have no place.
fn first_document(doc: &Json, written: &[Written<'_>], out: &mut TextBuilder) -> bool {
    let Json::Object(map) = doc else {
        return false;
    };
    let placed = |(path, w, _): &Written<'_>| w.is_empty() || map.contains_key(path[0]);
    if map.len() < 2 || !written.iter().all(placed) {
        return false;
    }
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries.into_iter().all(|(key, value)| {
        match written
            .iter()
            .find(|(path, w, _)| path[0] == key && !w.is_empty())
        {
            Some((path, w, buffer)) => {
                let mut placed = Placed {
                    text: &mut *out,
                    buffer: *buffer,
                };
                merged_entry(key, value, &path[1..], w, 0, &mut placed)
            }
            None => push_sorted_entry(key, value, 0, &mut out.own),
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
    out: &mut Placed<'_>,
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
    let own = &mut out.text.own;
    crate::yaml::push_indent(own, depth);
    own.push_str(key);
    own.push_str(":\n");
    let mut entries: Vec<(&String, &Json)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    entries.into_iter().all(|(k, v)| {
        if k == next {
            merged_entry(k, v, rest, written, depth + 1, out)
        } else {
            push_sorted_entry(k, v, depth + 1, &mut out.text.own)
        }
    })
}
