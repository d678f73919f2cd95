//! The cache of a step's results: the ingredients an instance's results follow from (the
//! step's definition, the built-ins' version, parameter values and input contents), the key
//! they hash to, looking an entry up, and why an instance missed the cache.

use indexmap::IndexMap;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use super::outputs::ref_of;
use crate::eval::RValue;
use crate::store::{CacheEntry, Store};
use crate::util::now_ms;
use flowc_compiler::plan::{CachePlan, Task};

/// What an instance's results follow from, as a JSON document (remembered per task, to explain
/// the next miss).
pub(super) fn ingredients(
    task: &Task,
    builtin_version: String,
    python_code: Option<String>,
    inputs: &IndexMap<String, RValue>,
) -> Json {
    let mut ingredients = json!({
        "definition": task.definition_sha256,
        "builtins": builtin_version,
        "params": inputs.iter().filter(|(_, v)| !matches!(v, RValue::Artifact(_)) && !matches!(v, RValue::List(_))).map(|(k, v)| (k.clone(), ingredient(v))).collect::<serde_json::Map<_, _>>(),
        "inputs": inputs.iter().filter(|(_, v)| matches!(v, RValue::Artifact(_) | RValue::List(_))).map(|(k, v)| (k.clone(), ingredient(v))).collect::<serde_json::Map<_, _>>(),
    });
    // A Python step's results also follow from its module's source (only such steps have this
    // ingredient, so the keys of other steps stay as they were).
    if let (Some(code), Some(map)) = (python_code, ingredients.as_object_mut()) {
        map.insert("python_code".into(), Json::String(code));
    }
    ingredients
}

fn ingredient(v: &RValue) -> Json {
    match v {
        RValue::Json(j) => j.clone(),
        RValue::Artifact(a) => json!({ "object": a.object }),
        RValue::List(items) => Json::Array(items.iter().map(ingredient).collect()),
    }
}

/// The cache key of some ingredients: the hex SHA-256 of their JSON text.
pub(super) fn key(ingredients: &Json) -> String {
    format!(
        "{:x}",
        Sha256::digest(
            serde_json::to_string(ingredients)
                .unwrap_or_default()
                .as_bytes()
        )
    )
}

/// The outputs (as values) and their total size cached under `key` for `task`, when there is
/// an entry and it has not expired.
pub(super) fn lookup(
    store: &Store,
    task: &Task,
    key: &str,
) -> Option<(IndexMap<String, RValue>, u64)> {
    let entry = store.cache_get(key)?;
    let fresh = match task.settings.cache {
        CachePlan::Ttl { ttl_ms } => now_ms().saturating_sub(entry.created_ms) <= ttl_ms,
        _ => true,
    };
    if !fresh {
        return None;
    }
    let outputs = task
        .outputs
        .iter()
        .filter_map(|o| {
            entry
                .outputs
                .get(&o.name)
                .map(|s| (o.name.clone(), ref_of(store, s)))
        })
        .collect();
    let out_bytes = entry.outputs.values().map(|o| o.bytes).sum();
    Some((outputs, out_bytes))
}

/// Caches the stored outputs of a successful attempt under `key`.
pub(super) fn put(
    store: &Store,
    key: &str,
    run_id: &str,
    stored: IndexMap<String, crate::store::StoredOutput>,
) {
    let entry = CacheEntry {
        key: key.to_string(),
        created_ms: now_ms(),
        run_id: run_id.to_string(),
        outputs: stored,
    };
    let _ = store.cache_put(&entry);
}

/// Explains a cache miss by comparing the ingredients with those of the last run of the task.
pub(super) fn explain(last: Option<&Json>, now: &Json, caching: bool) -> String {
    if !caching {
        return "caching is off for this step".into();
    }
    let Some(last) = last else {
        return "first run of this step in this store".into();
    };
    let mut why = Vec::new();
    if last.get("definition") != now.get("definition") {
        why.push(
            "the step's definition changed (image, command, environment or built-in version)"
                .to_string(),
        );
    }
    for (section, what) in [("params", "parameter"), ("inputs", "input")] {
        let (Some(Json::Object(a)), Some(Json::Object(b))) = (last.get(section), now.get(section))
        else {
            continue;
        };
        for (k, v) in b {
            match a.get(k) {
                Some(old) if old == v => {}
                Some(old) if section == "params" => {
                    why.push(format!("{what} `{k}` changed from {old} to {v}"))
                }
                Some(_) => why.push(format!("{what} `{k}` has new content")),
                None => why.push(format!("{what} `{k}` is new")),
            }
        }
    }
    if why.is_empty() {
        "its cache entry was missing or expired".into()
    } else {
        why.join("; ")
    }
}
