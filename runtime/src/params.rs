//! Pipeline parameters from the command line: `--param name=value`, checked against the
//! parameters' types before anything runs.

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::error::{RunCode, RunError};
use flowc_compiler::plan::{PipelinePlan, TypeRepr};

/// Parses `name=value` pairs into typed JSON values, applying defaults.
pub fn resolve(
    p: &PipelinePlan,
    given: &[(String, String)],
) -> Result<IndexMap<String, Json>, RunError> {
    let mut out = IndexMap::new();
    for (name, raw) in given {
        let Some(param) = p.params.iter().find(|x| &x.name == name) else {
            let names: Vec<&str> = p.params.iter().map(|x| x.name.as_str()).collect();
            return Err(RunError::new(
                RunCode::UnknownParam,
                format!("pipeline `{}` has no parameter `{name}`", p.name),
            )
            .hint(if names.is_empty() {
                "it takes no parameters".to_string()
            } else {
                format!("its parameters are: {}", names.join(", "))
            }));
        };
        let value = parse(&param.ty, raw).map_err(|why| {
            RunError::new(
                RunCode::BadParamValue,
                format!("`--param {name}={raw}`: {why}"),
            )
            .hint(format!("`{name}` is {}", describe(&param.ty)))
        })?;
        out.insert(name.clone(), value);
    }
    let mut ordered = IndexMap::new();
    for param in &p.params {
        match out.shift_remove(&param.name) {
            Some(v) => {
                ordered.insert(param.name.clone(), v);
            }
            None => match (&param.default, &param.ty) {
                (Some(d), _) => {
                    ordered.insert(param.name.clone(), d.clone());
                }
                (None, TypeRepr::Optional { .. }) => {
                    ordered.insert(param.name.clone(), Json::Null);
                }
                (None, ty) => {
                    return Err(RunError::new(
                        RunCode::MissingParam,
                        format!(
                            "parameter `{}` has no default and was not given",
                            param.name
                        ),
                    )
                    .hint(format!(
                        "pass `--param {}=...` ({})",
                        param.name,
                        describe(ty)
                    )));
                }
            },
        }
    }
    Ok(ordered)
}

fn describe(t: &TypeRepr) -> String {
    match t {
        TypeRepr::Scalar { name } => match name.as_str() {
            "Int" => "an integer".into(),
            "Float" => "a number".into(),
            "Bool" => "`true` or `false`".into(),
            "Date" => "a date `YYYY-MM-DD`".into(),
            _ => "a string".into(),
        },
        TypeRepr::List { .. } => "a JSON list, such as `[\"a\", \"b\"]`".into(),
        TypeRepr::Optional { inner } => describe(inner),
        TypeRepr::Artifact { .. } | TypeRepr::Table { .. } | TypeRepr::Metrics { .. } => {
            "a path to an existing file".into()
        }
        _ => "a value".into(),
    }
}

/// Parses one value of type `t`.
pub fn parse(t: &TypeRepr, raw: &str) -> Result<Json, String> {
    match t {
        TypeRepr::Optional { inner } => {
            if raw == "none" {
                Ok(Json::Null)
            } else {
                parse(inner, raw)
            }
        }
        TypeRepr::Scalar { name } => match name.as_str() {
            "Int" => raw
                .trim()
                .parse::<i64>()
                .map(Json::from)
                .map_err(|_| format!("`{raw}` is not an integer")),
            "Float" => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Json::from)
                .ok_or_else(|| format!("`{raw}` is not a number")),
            "Bool" => match raw.trim() {
                "true" => Ok(Json::Bool(true)),
                "false" => Ok(Json::Bool(false)),
                _ => Err(format!("`{raw}` is not `true` or `false`")),
            },
            "Date" => flowc_compiler::check_date(raw.trim())
                .map(|_| Json::from(raw.trim()))
                .map_err(|why| format!("`{raw}` is not a valid date: {why}")),
            _ => Ok(Json::from(raw)),
        },
        TypeRepr::List { item } => {
            let v: Json =
                serde_json::from_str(raw).map_err(|_| format!("`{raw}` is not a JSON list"))?;
            let Json::Array(items) = v else {
                return Err(format!("`{raw}` is not a list"));
            };
            let mut out = Vec::new();
            for i in items {
                let text = match &i {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(parse(item, &text)?);
            }
            Ok(Json::Array(out))
        }
        // Artifact parameters are paths; the runner imports the file into the store.
        _ => Ok(Json::from(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(n: &str) -> TypeRepr {
        TypeRepr::Scalar { name: n.into() }
    }

    #[test]
    fn typed_values() {
        assert_eq!(parse(&scalar("Int"), "42"), Ok(Json::from(42)));
        assert!(parse(&scalar("Int"), "4.2").is_err());
        assert_eq!(parse(&scalar("Bool"), "true"), Ok(Json::Bool(true)));
        assert!(parse(&scalar("Date"), "2024-02-30").is_err());
        let list = TypeRepr::List {
            item: Box::new(scalar("Int")),
        };
        assert_eq!(parse(&list, "[1, 2]"), Ok(serde_json::json!([1, 2])));
        assert!(parse(&list, "[1, \"x\"]").is_err());
    }
}
