//! Pipeline parameters from the command line: a parameters file (`--params job.json`, the JSON
//! object a service posts to start a run) and `--param name=value` over it, checked against
//! the parameters' types before anything runs.

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::error::{RunCode, RunError};
use flowc_compiler::plan::{FieldRepr, PipelinePlan, TypeRepr};

/// Checks the values of a parameters file and the `name=value` pairs given on the command line
/// (which win) against the parameters' types, and applies defaults.
pub fn resolve(
    p: &PipelinePlan,
    file: &[(String, Json)],
    given: &[(String, String)],
) -> Result<IndexMap<String, Json>, RunError> {
    let mut out = IndexMap::new();
    for (name, value) in file {
        let Some(param) = p.params.iter().find(|x| &x.name == name) else {
            return Err(unknown_param(p, name).hint(format!(
                "remove `{name}` from the parameters file, or rename it to a parameter of `{}`",
                p.name
            )));
        };
        let checked = from_json(&param.ty, value).map_err(|why| {
            RunError::new(
                RunCode::BadParamValue,
                format!("the parameters file's `{name}`: {why}"),
            )
            .hint(format!("`{name}` is {}", describe(&param.ty)))
        })?;
        out.insert(name.clone(), checked);
    }
    for (name, raw) in given {
        let Some(param) = p.params.iter().find(|x| &x.name == name) else {
            return Err(unknown_param(p, name));
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

/// Pipeline `p` has no parameter `name`.
fn unknown_param(p: &PipelinePlan, name: &str) -> RunError {
    let names: Vec<&str> = p.params.iter().map(|x| x.name.as_str()).collect();
    RunError::new(
        RunCode::UnknownParam,
        format!("pipeline `{}` has no parameter `{name}`", p.name),
    )
    .hint(if names.is_empty() {
        "it takes no parameters".to_string()
    } else {
        format!("its parameters are: {}", names.join(", "))
    })
}

/// Checks a JSON value of a parameters file against type `t`: strings for `Str`, `Date` and
/// artifact paths, numbers for `Int` (whole) and `Float`, `true`/`false` for `Bool`, arrays
/// for lists, `null` for an absent optional value. A JSON job is typed, so `"42"` is not an
/// `Int`.
pub fn from_json(t: &TypeRepr, v: &Json) -> Result<Json, String> {
    let found = || match v {
        Json::Null => "null".to_string(),
        Json::Bool(_) => "a boolean".into(),
        Json::Number(_) => format!("the number {v}"),
        Json::String(s) => format!("the string \"{s}\""),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "an object".into(),
    };
    match (t, v) {
        (TypeRepr::Optional { .. }, Json::Null) => Ok(Json::Null),
        // A value whose type the plan does not say (a field of a literal loop item).
        (TypeRepr::Unknown, _) => Ok(v.clone()),
        (TypeRepr::Optional { inner }, v) => from_json(inner, v),
        (TypeRepr::Scalar { name }, _) => match (name.as_str(), v) {
            ("Int", Json::Number(n)) if n.is_i64() => Ok(v.clone()),
            ("Float", Json::Number(_)) => Ok(v.clone()),
            ("Bool", Json::Bool(_)) => Ok(v.clone()),
            ("Date", Json::String(s)) => parse(t, s),
            ("Str", Json::String(_)) => Ok(v.clone()),
            (want, _) => Err(format!("expected {}, found {}", article(want), found())),
        },
        (TypeRepr::List { item }, Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, x)| from_json(item, x).map_err(|why| format!("item {i}: {why}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array),
        (TypeRepr::List { .. }, _) => Err(format!("expected a list, found {}", found())),
        (TypeRepr::Record { fields }, Json::Object(given)) => record_from_json(fields, given),
        (TypeRepr::Record { .. }, _) => Err(format!("expected an object, found {}", found())),
        (_, Json::String(_)) => Ok(v.clone()),
        _ => Err(format!("expected a path, found {}", found())),
    }
}

/// Checks a JSON object against the fields of a record type: every field given (an optional
/// one may be left out or `null`), no other, each of its type.
fn record_from_json(
    fields: &[FieldRepr],
    given: &serde_json::Map<String, Json>,
) -> Result<Json, String> {
    if let Some(extra) = given.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "the object has a field `{extra}`, which is not one of: {}",
            names.join(", ")
        ));
    }
    let mut out = serde_json::Map::new();
    for f in fields {
        let v = match (given.get(&f.name), &f.ty) {
            (Some(v), ty) => {
                from_json(ty, v).map_err(|why| format!("field `{}`: {why}", f.name))?
            }
            (None, TypeRepr::Optional { .. }) => Json::Null,
            (None, _) => return Err(format!("the object has no field `{}`", f.name)),
        };
        out.insert(f.name.clone(), v);
    }
    Ok(Json::Object(out))
}

fn article(scalar: &str) -> &'static str {
    match scalar {
        "Int" => "an integer",
        "Float" => "a number",
        "Bool" => "`true` or `false`",
        "Date" => "a date string `YYYY-MM-DD`",
        _ => "a string",
    }
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
        TypeRepr::Record { fields } => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            format!(
                "a JSON object with the fields {}, such as `{{\"{}\": ...}}`",
                names.join(", "),
                names.first().copied().unwrap_or("name")
            )
        }
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
        TypeRepr::Record { .. } => match serde_json::from_str::<Json>(raw) {
            Ok(v) => from_json(t, &v),
            Err(_) => Err(format!("`{raw}` is not a JSON object")),
        },
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

    #[test]
    fn values_of_a_parameters_file_are_typed() {
        use serde_json::json;
        assert_eq!(from_json(&scalar("Int"), &json!(42)), Ok(json!(42)));
        assert!(from_json(&scalar("Int"), &json!("42")).is_err());
        assert!(from_json(&scalar("Int"), &json!(4.5)).is_err());
        assert_eq!(from_json(&scalar("Float"), &json!(4)), Ok(json!(4)));
        assert!(from_json(&scalar("Str"), &json!(7)).is_err());
        assert!(from_json(&scalar("Date"), &json!("2024-02-30")).is_err());
        assert_eq!(
            from_json(&scalar("Date"), &json!("2024-02-29")),
            Ok(json!("2024-02-29"))
        );
        let list = TypeRepr::List {
            item: Box::new(scalar("Str")),
        };
        assert_eq!(from_json(&list, &json!(["a"])), Ok(json!(["a"])));
        let err = from_json(&list, &json!(["a", 1])).unwrap_err();
        assert!(err.contains("item 1"), "{err}");
        let opt = TypeRepr::Optional {
            inner: Box::new(scalar("Int")),
        };
        assert_eq!(from_json(&opt, &Json::Null), Ok(Json::Null));
        assert!(from_json(&scalar("Bool"), &Json::Null).is_err());
    }

    #[test]
    fn records_are_typed_field_by_field() {
        use serde_json::json;
        let field = |name: &str, ty: TypeRepr| FieldRepr {
            name: name.into(),
            ty,
        };
        let record = TypeRepr::Record {
            fields: vec![
                field("day", scalar("Date")),
                field(
                    "note",
                    TypeRepr::Optional {
                        inner: Box::new(scalar("Str")),
                    },
                ),
                field(
                    "where",
                    TypeRepr::Record {
                        fields: vec![field("zone", scalar("Str"))],
                    },
                ),
            ],
        };
        let ok = json!({"day": "2024-06-03", "where": {"zone": "eu"}});
        assert_eq!(
            from_json(&record, &ok),
            Ok(json!({"day": "2024-06-03", "note": null, "where": {"zone": "eu"}}))
        );
        let bad_nested = json!({"day": "2024-06-03", "where": {"zone": 1}});
        let err = from_json(&record, &bad_nested).unwrap_err();
        assert!(
            err.contains("field `where`") && err.contains("field `zone`"),
            "{err}"
        );
        let missing = json!({"where": {"zone": "eu"}});
        assert!(from_json(&record, &missing)
            .unwrap_err()
            .contains("no field `day`"));
        let extra = json!({"day": "2024-06-03", "where": {"zone": "eu"}, "dya": 1});
        assert!(from_json(&record, &extra).unwrap_err().contains("`dya`"));
        assert!(parse(&record, r#"{"day": "2024-06-03", "where": {"zone": "eu"}}"#).is_ok());
        assert!(parse(&record, "[1]")
            .unwrap_err()
            .contains("expected an object"));
        assert!(parse(&record, "{")
            .unwrap_err()
            .contains("not a JSON object"));
    }
}
