//! The validators the emitter tests run on every emitted file, shared with the law test
//! (`law.rs`): Argo's JSON schema, DAG consistency and parameter references ([`argo`]), the
//! structure of Kubeflow specs ([`kfp`]), and each target's YAML 1.1 reading.
//!
//! They panic with the problem, as test assertions do (a check of KFP structure returns its
//! problems); [`failure`] runs one and returns the panic's message instead, for callers that
//! must go on.

pub mod argo;
pub mod kfp;

use serde_json::Value as Json;

/// The documents of a YAML file (separated by `---` lines), as JSON; panics when one does not
/// parse.
pub fn documents(text: &str) -> Vec<Json> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else if let Some(d) = docs.last_mut() {
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.iter()
        .map(|d| {
            serde_saphyr::from_str::<Json>(d)
                .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{d}"))
        })
        .collect()
}

/// Every string of a JSON tree, depth first.
pub fn strings(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::String(s) => out.push(s.clone()),
        Json::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Json::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Runs `f`, returning the message it panics with, if it does.
pub fn failure(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    std::panic::catch_unwind(f).err().map(panic_message)
}

/// The text of a panic's payload.
pub fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into())
}
