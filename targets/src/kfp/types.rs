//! KFP types of flowc values: `parameterType` names and artifact schema titles, input and output
//! definitions, and typed constants.
//!
//! Parameters: `Str` and `Date` are `STRING`, `Int` is `NUMBER_INTEGER`, `Float` is
//! `NUMBER_DOUBLE`, `Bool` is `BOOLEAN`, lists (column lists included) are `LIST`. Artifacts:
//! tables are `system.Dataset`, `Model` is `system.Model`, `Metrics` is `system.Metrics`, and
//! `File`, `Dir` and `Json` are the generic `system.Artifact`; a list of artifacts is an
//! artifact with `isArtifactList: true`.

use serde_json::{json, Map, Value as Json};

use crate::yaml::plain_number;
use flowc_compiler::plan::TypeRepr;

/// The KFP type of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum KType {
    /// A parameter of this `parameterType`.
    Param(&'static str),
    /// An artifact of this schema title; `list` for `isArtifactList`.
    Art {
        /// `system.Dataset`, …
        title: &'static str,
        /// A list of artifacts (fan-in).
        list: bool,
    },
}

impl KType {
    /// Whether values of this type are artifacts.
    pub(super) fn is_artifact(&self) -> bool {
        matches!(self, KType::Art { .. })
    }

    /// The type of the list of the values of every iteration of a loop. A list of artifact
    /// lists stays an artifact list (`isArtifactList`), as the kfp SDK writes a nested
    /// `dsl.Collected`: KFP hands it over flat, so only `flatten(xs)` may read it.
    pub(super) fn listed(&self) -> KType {
        match self {
            KType::Param(_) => KType::Param("LIST"),
            KType::Art { title, .. } => KType::Art { title, list: true },
        }
    }
}

/// The KFP type of a flowc type; `list_hint` picks `LIST` or `STRING` for column names.
pub(super) fn ktype(t: &TypeRepr) -> KType {
    match t {
        TypeRepr::Scalar { name } => KType::Param(match name.as_str() {
            "Int" => "NUMBER_INTEGER",
            "Float" => "NUMBER_DOUBLE",
            "Bool" => "BOOLEAN",
            _ => "STRING",
        }),
        TypeRepr::List { item } => match ktype(item) {
            KType::Art { title, .. } => KType::Art { title, list: true },
            KType::Param(_) => KType::Param("LIST"),
        },
        TypeRepr::Optional { inner } => ktype(inner),
        TypeRepr::Artifact { name } => KType::Art {
            title: if name == "Model" {
                "system.Model"
            } else {
                "system.Artifact"
            },
            list: false,
        },
        TypeRepr::Metrics { .. } => KType::Art {
            title: "system.Metrics",
            list: false,
        },
        TypeRepr::Table { .. } => KType::Art {
            title: "system.Dataset",
            list: false,
        },
        TypeRepr::Columns => KType::Param("LIST"),
        TypeRepr::Record { .. } => KType::Param("STRUCT"),
        TypeRepr::Unknown => KType::Param("STRING"),
    }
}

/// The KFP type of a literal's JSON value (loop items, column names).
pub(super) fn json_ktype(v: &Json) -> KType {
    KType::Param(match v {
        Json::Bool(_) => "BOOLEAN",
        Json::Number(n) if n.is_i64() || n.is_u64() => "NUMBER_INTEGER",
        Json::Number(_) => "NUMBER_DOUBLE",
        Json::Array(_) => "LIST",
        Json::Object(_) => "STRUCT",
        _ => "STRING",
    })
}

/// The element type of a list type, when it is one.
pub(super) fn element(t: &TypeRepr) -> Option<&TypeRepr> {
    match t {
        TypeRepr::List { item } => Some(item),
        TypeRepr::Optional { inner } => element(inner),
        _ => None,
    }
}

/// An input or output definition of a component.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Def {
    /// Its type.
    pub ty: KType,
    /// `isOptional: true`.
    pub optional: bool,
    /// `defaultValue` (parameters only). Boxed: a `Json` is 72 bytes, and a leaf holds a
    /// definition for each of its inputs and outputs, almost none with a default.
    pub default: Option<Box<Json>>,
}

impl Def {
    /// A required definition.
    pub(super) fn of(ty: KType) -> Def {
        Def {
            ty,
            optional: false,
            default: None,
        }
    }
}

/// `artifactType` of an artifact schema title.
pub(super) fn artifact_type(title: &str) -> Json {
    json!({"schemaTitle": title, "schemaVersion": "0.0.1"})
}

/// `{parameters: {...}, artifacts: {...}}` of input or output definitions; `None` when empty.
pub(super) fn definitions<'a>(
    defs: impl IntoIterator<Item = (&'a String, &'a Def)>,
) -> Option<Json> {
    let mut params = Map::new();
    let mut arts = Map::new();
    for (name, d) in defs {
        let mut m = Map::new();
        match &d.ty {
            KType::Param(p) => {
                m.insert("parameterType".into(), json!(p));
                if let Some(v) = &d.default {
                    m.insert("defaultValue".into(), Json::clone(v));
                }
                if d.optional || d.default.is_some() {
                    m.insert("isOptional".into(), json!(true));
                }
                params.insert(name.clone(), Json::Object(m));
            }
            KType::Art { title, list } => {
                m.insert("artifactType".into(), artifact_type(title));
                if *list {
                    m.insert("isArtifactList".into(), json!(true));
                }
                if d.optional {
                    m.insert("isOptional".into(), json!(true));
                }
                arts.insert(name.clone(), Json::Object(m));
            }
        }
    }
    let mut out = Map::new();
    if !arts.is_empty() {
        out.insert("artifacts".into(), Json::Object(arts));
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Json::Object(params));
    }
    (!out.is_empty()).then_some(Json::Object(out))
}

/// The entry `key:` at `depth` of the input or output definitions `defs`, as
/// [`crate::yaml::push_sorted_entry`] writes the tree of [`definitions`]; nothing when there
/// are none. False when a name is one the direct writer does not take.
pub(super) fn write_definitions<'a>(
    out: &mut String,
    depth: usize,
    key: &'static str,
    defs: impl IntoIterator<Item = (&'a String, &'a Def)>,
) -> bool {
    use crate::yaml::typed;
    type Named<'a> = Vec<(&'a String, &'a Def)>;
    let (mut arts, mut params): (Named<'_>, Named<'_>) =
        defs.into_iter().partition(|(_, d)| d.ty.is_artifact());
    if arts.is_empty() && params.is_empty() {
        return true;
    }
    arts.sort_unstable_by(|a, b| a.0.cmp(b.0));
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let twice = |v: &[(&String, &Def)]| v.windows(2).any(|w| w[0].0 == w[1].0);
    if twice(&arts) || twice(&params) || !typed::open_fixed(out, depth, key) {
        return false;
    }
    let d = depth + 2;
    if !arts.is_empty() {
        typed::open_fixed(out, depth + 1, "artifacts");
        for (name, def) in arts {
            let KType::Art { title, list } = def.ty else {
                return false;
            };
            let done = typed::open(out, d, name)
                && typed::open_fixed(out, d + 1, "artifactType")
                && typed::string_fixed(out, d + 2, "schemaTitle", title)
                && typed::string_fixed(out, d + 2, "schemaVersion", "0.0.1")
                && (!list || typed::raw_fixed(out, d + 1, "isArtifactList", "true"))
                && (!def.optional || typed::raw_fixed(out, d + 1, "isOptional", "true"));
            if !done {
                return false;
            }
        }
    }
    if !params.is_empty() {
        typed::open_fixed(out, depth + 1, "parameters");
        for (name, def) in params {
            let KType::Param(p) = def.ty else {
                return false;
            };
            let done = typed::open(out, d, name)
                && def
                    .default
                    .as_ref()
                    .is_none_or(|v| typed::value(out, d + 1, "defaultValue", v))
                && (!(def.optional || def.default.is_some())
                    || typed::raw_fixed(out, d + 1, "isOptional", "true"))
                && typed::string_fixed(out, d + 1, "parameterType", p);
            if !done {
                return false;
            }
        }
    }
    true
}

/// A literal as a constant of `ty`: numbers in plain decimal, a whole `Float` as a number all
/// the same (`NUMBER_DOUBLE` takes any number), column names as given.
pub(super) fn constant(v: &Json) -> Json {
    match v {
        Json::Number(n) => match n.as_f64() {
            Some(f) if !(n.is_i64() || n.is_u64()) => plain_number(f),
            _ => v.clone(),
        },
        Json::Array(items) => Json::Array(items.iter().map(constant).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), constant(v))).collect()),
        _ => v.clone(),
    }
}

/// Whether a constant fits a `parameterType` (KFP v2 does not convert).
pub(super) fn fits(v: &Json, param_type: &str) -> bool {
    match param_type {
        "STRING" => v.is_string(),
        "NUMBER_INTEGER" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "NUMBER_DOUBLE" => v.is_number(),
        "BOOLEAN" => v.is_boolean(),
        "LIST" => v.is_array(),
        "STRUCT" => v.is_object(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(n: &str) -> TypeRepr {
        TypeRepr::Scalar { name: n.into() }
    }

    #[test]
    fn types() {
        assert_eq!(ktype(&scalar("Date")), KType::Param("STRING"));
        assert_eq!(ktype(&scalar("Int")), KType::Param("NUMBER_INTEGER"));
        let tables = TypeRepr::List {
            item: Box::new(TypeRepr::Table {
                schema: None,
                columns: vec![],
            }),
        };
        assert_eq!(
            ktype(&tables),
            KType::Art {
                title: "system.Dataset",
                list: true
            }
        );
        // Nested loops collect an artifact list again (KFP hands it over flat).
        assert_eq!(ktype(&tables).listed(), ktype(&tables));
        assert_eq!(ktype(&scalar("Float")).listed(), KType::Param("LIST"));
    }

    #[test]
    fn constants() {
        assert_eq!(constant(&json!(4.0)), json!(4));
        assert_eq!(constant(&json!([0.5, 2])), json!([0.5, 2]));
        assert!(fits(&json!(3), "NUMBER_DOUBLE"));
        assert!(!fits(&json!("0.1"), "NUMBER_DOUBLE"));
        assert!(!fits(&json!(0.5), "NUMBER_INTEGER"));
    }
}
