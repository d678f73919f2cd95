//! The values on `flowc exec`'s command line: the signature, parameter texts read with their
//! types, input paths, and the Kubeflow executor input.
//!
//! A value's text is what the emitters put in a parameter (docs/targets.md, "Parameters"):
//! strings as they are, numbers in decimal, `true`/`false`, lists as JSON, and the empty string
//! (or `none`) for an optional value that is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use flowc_compiler::plan::TypeRepr;

use super::ExecError;

/// The types of the values of one `flowc exec` call, from `--signature`.
#[derive(Debug, Default)]
pub(super) struct Signature {
    /// Parameters by name.
    pub params: Vec<(String, TypeRepr)>,
    /// Input artifacts by name.
    pub inputs: Vec<(String, TypeRepr)>,
    /// Output artifacts by name.
    pub outputs: Vec<(String, TypeRepr)>,
    /// Loop items by loop index.
    pub items: Vec<(String, TypeRepr)>,
    /// Value outputs of tasks read by a check or an evaluation, by `TASK.OUTPUT`.
    pub values: Vec<(String, TypeRepr)>,
    /// The item type of an enumeration.
    pub enumerated: Option<TypeRepr>,
}

impl Signature {
    /// Reads `--signature JSON`.
    pub fn parse(text: Option<&str>) -> Result<Signature, ExecError> {
        let text = text.ok_or_else(|| ExecError::usage("`--signature JSON` is required"))?;
        let json: Json = serde_json::from_str(text)
            .map_err(|e| ExecError::usage(format!("`--signature` is not JSON: {e}")))?;
        let Json::Object(map) = json else {
            return Err(ExecError::usage("`--signature` must be a JSON object"));
        };
        let section = |key: &str| -> Result<Vec<(String, TypeRepr)>, ExecError> {
            match map.get(key) {
                None | Some(Json::Null) => Ok(Vec::new()),
                Some(Json::Object(m)) => m
                    .iter()
                    .map(|(name, t)| Ok((name.clone(), type_of(key, name, t)?)))
                    .collect(),
                Some(_) => Err(ExecError::usage(format!(
                    "`--signature`: `{key}` must be an object of types"
                ))),
            }
        };
        let enumerated = match map.get("items") {
            Some(t @ Json::Object(m)) if m.contains_key("kind") => Some(type_of("items", "", t)?),
            _ => None,
        };
        Ok(Signature {
            params: section("params")?,
            inputs: section("inputs")?,
            outputs: section("outputs")?,
            values: section("values")?,
            items: if enumerated.is_some() {
                Vec::new()
            } else {
                section("items")?
            },
            enumerated,
        })
    }
}

fn type_of(section: &str, name: &str, t: &Json) -> Result<TypeRepr, ExecError> {
    serde_json::from_value(t.clone()).map_err(|e| {
        ExecError::usage(format!(
            "`--signature`: the type of {section} `{name}` is not a plan type: {e}"
        ))
    })
}

/// Gathers `NAME=…` pairs into a map, refusing names the signature does not list.
pub(super) fn named<'a>(
    flag: &str,
    pairs: &'a [(String, String)],
    known: &[(String, TypeRepr)],
) -> Result<BTreeMap<&'a str, &'a str>, ExecError> {
    let mut out = BTreeMap::new();
    for (name, value) in pairs {
        if !known.iter().any(|(n, _)| n == name) {
            let names: Vec<&str> = known.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ExecError::usage(format!(
                "`{flag} {name}=…`: the signature has no `{name}` (it has: {})",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        if out.insert(name.as_str(), value.as_str()).is_some() {
            return Err(ExecError::usage(format!(
                "`{flag} {name}=…` is given twice"
            )));
        }
    }
    Ok(out)
}

/// Reads a parameter's text with its type.
pub(super) fn decode(ty: &TypeRepr, text: &str) -> Result<Json, String> {
    match ty {
        TypeRepr::Optional { inner } => {
            if text.is_empty() || text == "none" {
                Ok(Json::Null)
            } else {
                decode(inner, text)
            }
        }
        // Kubeflow may render a whole number held as a double (`3.0`).
        TypeRepr::Scalar { name } if name == "Int" => {
            let t = text.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Json::from(i));
            }
            match t.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Json::from(f as i64)),
                _ => Err(format!("`{text}` is not an integer")),
            }
        }
        TypeRepr::Scalar { .. } => flowc_runtime::params::parse(ty, text),
        TypeRepr::List { item } => {
            let items = json_list(text)?;
            items
                .iter()
                .map(|v| match v {
                    Json::String(s) => decode(item, s),
                    Json::Null if matches!(**item, TypeRepr::Optional { .. }) => Ok(Json::Null),
                    other => decode(item, &other.to_string()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Json::Array)
        }
        TypeRepr::Columns => {
            let items = json_list(text)?;
            if items.iter().all(Json::is_string) {
                Ok(Json::Array(items))
            } else {
                Err(format!("`{text}` is not a list of column names"))
            }
        }
        TypeRepr::Unknown => Ok(serde_json::from_str(text).unwrap_or(Json::from(text))),
        TypeRepr::Record { .. } => flowc_runtime::params::parse(ty, text),
        // Artifacts are paths.
        TypeRepr::Artifact { .. } | TypeRepr::Metrics { .. } | TypeRepr::Table { .. } => {
            Ok(Json::from(text))
        }
    }
}

fn json_list(text: &str) -> Result<Vec<Json>, String> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Array(items)) => Ok(items),
        _ => Err(format!("`{text}` is not a JSON list")),
    }
}

/// The text of a value, as a parameter holds it.
pub(super) fn text_of(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Where an input comes from.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// A file, or for a list a folder of numbered entries.
    Path(PathBuf),
    /// A list of artifacts named in the Kubeflow executor input.
    ExecutorInput(String),
}

impl Source {
    /// Reads `PATH` or `@executor-input:KEY`.
    pub fn parse(text: &str) -> Source {
        match text.strip_prefix("@executor-input:") {
            Some(key) => Source::ExecutorInput(key.to_string()),
            None => Source::Path(PathBuf::from(text)),
        }
    }
}

/// The entries of a list folder, in the order of their names (`00000`, `00001`, …); a folder that
/// does not exist is an empty list.
pub(super) fn list_folder(dir: &Path) -> Result<Vec<PathBuf>, ExecError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(ExecError::input(format!(
                "cannot read the list folder `{}`: {e}",
                dir.display()
            )))
        }
    };
    let mut paths = Vec::new();
    for e in entries {
        let e = e.map_err(|e| {
            ExecError::input(format!(
                "cannot read the list folder `{}`: {e}",
                dir.display()
            ))
        })?;
        paths.push(e.path());
    }
    paths.sort();
    Ok(paths)
}

/// The entries `levels` levels down a list folder (a folder of list folders for 2), in
/// order: the items of nested lists, flattened. A missing folder is an empty list.
pub(super) fn list_folders(dir: &Path, levels: usize) -> Result<Vec<PathBuf>, ExecError> {
    let entries = list_folder(dir)?;
    if levels <= 1 {
        return Ok(entries);
    }
    let mut items = Vec::new();
    for e in entries {
        items.extend(list_folders(&e, levels - 1)?);
    }
    Ok(items)
}

/// The local paths of the artifacts of input `key` in the Kubeflow executor input, in order.
///
/// The Kubeflow launcher downloads each artifact to a path derived from its URI: `gs://b/k` to
/// `/gcs/b/k`, `s3://b/k` to `/s3/b/k`, `minio://b/k` to `/minio/b/k`; a URI that is already
/// a local path is used as it is.
pub(super) fn executor_artifacts(
    executor_input: Option<&Json>,
    key: &str,
) -> Result<Vec<PathBuf>, ExecError> {
    let json = executor_input.ok_or_else(|| {
        ExecError::usage(format!(
            "`@executor-input:{key}` needs `--executor-input JSON` (Kubeflow's `{{{{$}}}}`)"
        ))
    })?;
    let Some(list) = json.pointer(&format!(
        "/inputs/artifacts/{}/artifacts",
        key.replace('~', "~0").replace('/', "~1")
    )) else {
        // Kubeflow leaves out the input of a loop that ran no iteration.
        return Ok(Vec::new());
    };
    let Json::Array(list) = list else {
        return Err(ExecError::usage(format!(
            "the executor input's artifacts of `{key}` are not a list"
        )));
    };
    list.iter()
        .map(|a| {
            let uri = a.get("uri").and_then(Json::as_str).ok_or_else(|| {
                ExecError::usage(format!("an artifact of `{key}` in the executor input has no `uri`"))
            })?;
            local_path(uri).ok_or_else(|| {
                ExecError::input(format!(
                    "the artifact `{uri}` of `{key}` has a storage scheme Kubeflow does not mount (gs, s3, minio)"
                ))
            })
        })
        .collect()
}

fn local_path(uri: &str) -> Option<PathBuf> {
    for (scheme, mount) in [
        ("gs://", "/gcs/"),
        ("s3://", "/s3/"),
        ("minio://", "/minio/"),
    ] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            return Some(PathBuf::from(format!("{mount}{rest}")));
        }
    }
    uri.starts_with('/').then(|| PathBuf::from(uri))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scalar(name: &str) -> TypeRepr {
        TypeRepr::Scalar { name: name.into() }
    }

    #[test]
    fn texts_are_read_with_their_types() {
        assert_eq!(decode(&scalar("Int"), "42"), Ok(json!(42)));
        assert_eq!(decode(&scalar("Int"), "3.0"), Ok(json!(3)));
        assert!(decode(&scalar("Int"), "3.5").is_err());
        assert_eq!(decode(&scalar("Float"), "1e-06"), Ok(json!(0.000001)));
        assert_eq!(decode(&scalar("Bool"), "true"), Ok(json!(true)));
        assert_eq!(decode(&scalar("Str"), "on"), Ok(json!("on")));
        assert_eq!(decode(&scalar("Str"), ""), Ok(json!("")));
        assert!(decode(&scalar("Date"), "2024-02-30").is_err());
        let opt = TypeRepr::Optional {
            inner: Box::new(scalar("Float")),
        };
        assert_eq!(decode(&opt, ""), Ok(Json::Null));
        assert_eq!(decode(&opt, "none"), Ok(Json::Null));
        assert_eq!(decode(&opt, "0.5"), Ok(json!(0.5)));
        let ints = TypeRepr::List {
            item: Box::new(scalar("Int")),
        };
        assert_eq!(decode(&ints, "[1,\"2\"]"), Ok(json!([1, 2])));
        assert!(decode(&ints, "[1,\"x\"]").is_err());
        assert!(decode(&ints, "1").is_err());
        assert_eq!(
            decode(&TypeRepr::Columns, "[\"sex\",\"region\"]"),
            Ok(json!(["sex", "region"]))
        );
        assert!(decode(&TypeRepr::Columns, "[1]").is_err());
    }

    #[test]
    fn executor_input_paths_follow_the_launcher_mounts() {
        let input = json!({"inputs": {"artifacts": {"tables": {"artifacts": [
            {"name": "a", "uri": "s3://bucket/run/t/0"},
            {"name": "b", "uri": "gs://b2/k"},
            {"name": "c", "uri": "minio://mlpipeline/v2/x"},
        ]}}}});
        assert_eq!(
            executor_artifacts(Some(&input), "tables").unwrap(),
            [
                PathBuf::from("/s3/bucket/run/t/0"),
                PathBuf::from("/gcs/b2/k"),
                PathBuf::from("/minio/mlpipeline/v2/x"),
            ]
        );
        assert!(executor_artifacts(Some(&input), "other")
            .unwrap()
            .is_empty());
        assert!(executor_artifacts(None, "tables").is_err());
        let bad = json!({"inputs": {"artifacts": {"t": {"artifacts": [{"uri": "http://x"}]}}}});
        assert!(executor_artifacts(Some(&bad), "t").is_err());
    }

    #[test]
    fn signatures_are_checked() {
        let s = Signature::parse(Some(
            r#"{"params":{"n":{"kind":"scalar","name":"Int"}},"inputs":{},"outputs":{}}"#,
        ))
        .unwrap();
        assert_eq!(s.params, [("n".to_string(), scalar("Int"))]);
        assert!(Signature::parse(None).is_err());
        assert!(Signature::parse(Some("[")).is_err());
        assert!(Signature::parse(Some(r#"{"params":{"n":{"kind":"nope"}}}"#)).is_err());
        let e = Signature::parse(Some(r#"{"items":{"kind":"scalar","name":"Str"}}"#)).unwrap();
        assert_eq!(e.enumerated, Some(scalar("Str")));
        let pairs = [("m".to_string(), "1".to_string())];
        assert!(named("--param", &pairs, &s.params).is_err());
    }
}
