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

#[cfg(test)]
mod tests {
    use super::super::{render::Rendered, Emitter};
    use crate::yaml::{into_yaml_after, KeyOrder};
    use crate::EmitOptions;
    use flowc_compiler::{analyze, plan::build_plan, MemoryLoader};
    use std::path::{Path, PathBuf};

    /// The spec with the entries written as they are made, and with the whole trees.
    fn both_ways(text: &str) -> Option<(String, String)> {
        let loader = MemoryLoader::new().with("p.flow", text);
        let analysis = analyze(&loader, &[PathBuf::from("p.flow")]);
        if analysis.has_errors() {
            return None;
        }
        let plan = build_plan(&analysis, None, None).ok()?;
        let opts = EmitOptions::default();
        let streamed = super::super::emit(&plan, &opts).text;
        let mut e = Emitter::new(&plan, &opts);
        let _: Rendered = e.run();
        let trees = e.render(false);
        let whole = into_yaml_after(e.header(), trees.docs, KeyOrder::Sorted);
        Some((streamed, whole))
    }

    /// Every emit fixture that checks on its own: the same bytes both ways, volumes (whose
    /// tasks are added to the root afterwards), loops, conditions and called pipelines included.
    #[test]
    fn entries_written_as_made_give_the_bytes_of_the_whole_trees() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/emit");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the emit fixtures")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "flow"))
            .collect();
        files.sort();
        let mut compared = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).expect("a fixture");
            if let Some((streamed, whole)) = both_ways(&text) {
                assert_eq!(streamed, whole, "{}", file.display());
                compared += 1;
            }
        }
        assert!(
            compared >= 50,
            "only {compared} of {} fixtures compared",
            files.len()
        );
    }
}
