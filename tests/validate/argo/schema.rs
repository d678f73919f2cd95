//! Argo's JSON schema (`shared/schemas/argo-workflows-schema.json`, beside the repository),
//! closed (unknown fields rejected) and with `IntOrString`/`Quantity` accepting integers, as
//! `argo lint --strict` and the full CRDs read it; every emitted document must validate.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::validate::documents;

/// The Argo schema, closed and patched like `argo lint --strict` and the full CRDs.
pub fn argo_schema() -> Option<Json> {
    // CI always provides `shared/` beside the repository: a missing schema is a broken
    // checkout, never a reason to pass without validating.
    let path = crate::shared::shared_path("schemas/argo-workflows-schema.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the Argo schema {} is not readable: {e}", path.display()));
    let mut schema: Json = serde_json::from_str(&text).expect("the Argo schema is JSON");
    if let Some(defs) = schema.get_mut("definitions").and_then(Json::as_object_mut) {
        for key in [
            "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
            "io.k8s.apimachinery.pkg.api.resource.Quantity",
        ] {
            if let Some(d) = defs.get_mut(key) {
                *d = serde_json::json!({"type": ["string", "integer"]});
            }
        }
        for d in defs.values_mut() {
            close(d);
        }
    }
    Some(schema)
}

/// Rejects unknown fields in every object schema that lists its properties.
fn close(s: &mut Json) {
    if let Some(obj) = s.as_object_mut() {
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
            obj.insert("additionalProperties".into(), Json::Bool(false));
        }
        for v in obj.values_mut() {
            close(v);
        }
    } else if let Some(arr) = s.as_array_mut() {
        for v in arr {
            close(v);
        }
    }
}

pub fn kind_definition(kind: &str) -> String {
    format!("#/definitions/io.argoproj.workflow.v1alpha1.{kind}")
}

/// A validator of each kind of document, compiled once for all the tests of the run.
fn validators() -> Option<&'static BTreeMap<String, jsonschema::Validator>> {
    static VALIDATORS: OnceLock<Option<BTreeMap<String, jsonschema::Validator>>> = OnceLock::new();
    VALIDATORS
        .get_or_init(|| {
            let schema = argo_schema()?;
            let mut validators = BTreeMap::new();
            for kind in ["WorkflowTemplate", "CronWorkflow"] {
                let mut s = schema.clone();
                if let Some(obj) = s.as_object_mut() {
                    obj.remove("oneOf");
                    obj.remove("type");
                    obj.insert("$ref".into(), Json::String(kind_definition(kind)));
                }
                let v = jsonschema::validator_for(&s).expect("the Argo schema compiles");
                validators.insert(kind.to_string(), v);
            }
            Some(validators)
        })
        .as_ref()
}

/// Every document of `files` (name, text) is valid for the Argo schema.
pub fn validate_against_the_argo_schema(files: &[(String, String)]) {
    let Some(validators) = validators() else {
        return;
    };
    let mut checked = 0;
    for (name, text) in files {
        for doc in documents(text) {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let v = validators
                .get(&kind)
                .unwrap_or_else(|| panic!("{name}: unexpected kind {kind}"));
            let errors: Vec<String> = v
                .iter_errors(&doc)
                .take(10)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{name}: {kind} is invalid:\n{}",
                errors.join("\n")
            );
            checked += 1;
        }
    }
    assert!(checked >= files.len(), "every file has a document");
}
