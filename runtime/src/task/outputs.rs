//! A step's outputs: moved into the store after a successful attempt, and read back as values
//! (small values) or references to stored artifacts.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::eval::{ArtifactRef, RValue};
use crate::store::{Store, StoredOutput};
use flowc_compiler::plan::{Task, TypeRepr};

/// An output as the tasks reading it see it: a value, or a reference to an artifact.
pub(super) fn ref_of(store: &Store, o: &StoredOutput) -> RValue {
    if o.kind == "value" {
        return RValue::Json(store.read_value(&o.object).unwrap_or(Json::Null));
    }
    RValue::Artifact(ArtifactRef {
        object: o.object.clone(),
        kind: o.kind.clone(),
        path: store.object_path(&o.object),
        bytes: o.bytes,
    })
}

/// Outputs as values, as stored objects, and their total size.
pub(super) type Collected = (
    IndexMap<String, RValue>,
    IndexMap<String, StoredOutput>,
    u64,
);

/// Moves a successful attempt's outputs into the store.
pub(super) fn collect_outputs(
    store: &Store,
    task: &Task,
    out_dir: &Path,
) -> Result<Collected, String> {
    let mut outputs = IndexMap::new();
    let mut stored = IndexMap::new();
    let mut bytes = 0;
    for o in &task.outputs {
        let path = out_dir.join(&o.name);
        if !path.exists() {
            return Err(format!(
                "the step succeeded but did not write its output `{}`",
                o.name
            ));
        }
        let s = if o.ty.is_artifact() {
            store
                .put(&path)
                .map_err(|e| format!("cannot store output `{}`: {e}", o.name))?
        } else {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read output `{}`: {e}", o.name))?;
            let value = crate::params::parse(&o.ty, value_text(&o.ty, &text))
                .map_err(|why| format!("output `{}`: {why}", o.name))?;
            store
                .put_value(&value, out_dir)
                .map_err(|e| format!("cannot store output `{}`: {e}", o.name))?
        };
        bytes += s.bytes;
        outputs.insert(o.name.clone(), ref_of(store, &s));
        stored.insert(o.name.clone(), s);
    }
    Ok((outputs, stored, bytes))
}

/// The text of a value output as the step wrote it, read as Argo reads an output parameter's
/// file: one final newline is dropped (`echo heads > out` gives `heads`); a number, a boolean
/// or a JSON value is read without the blanks around it.
fn value_text<'t>(ty: &TypeRepr, text: &'t str) -> &'t str {
    match ty {
        TypeRepr::Scalar { name } if name == "Str" => text.strip_suffix('\n').unwrap_or(text),
        TypeRepr::Optional { inner } => value_text(inner, text),
        _ => text.trim(),
    }
}
