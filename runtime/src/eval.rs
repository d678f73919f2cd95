//! Evaluating plan values at run time: parameters, task outputs, loop items, templates,
//! conditions and checks.

use indexmap::IndexMap;
use serde_json::Value as Json;

use flowc_compiler::plan::{Part, Value};

/// A stored artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactRef {
    /// Its object hash.
    pub object: String,
    /// `file` or `dir`.
    pub kind: String,
    /// Its path in the store.
    pub path: std::path::PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A value at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum RValue {
    /// A parameter value (`null` when absent).
    Json(Json),
    /// An artifact.
    Artifact(ArtifactRef),
    /// A list of values (fan-in of artifacts, or a list of mixed values).
    List(Vec<RValue>),
}

impl RValue {
    /// The value as JSON: artifacts become their paths.
    pub fn to_json(&self) -> Json {
        match self {
            RValue::Json(j) => j.clone(),
            RValue::Artifact(a) => Json::from(a.path.to_string_lossy().into_owned()),
            RValue::List(items) => Json::Array(items.iter().map(RValue::to_json).collect()),
        }
    }

    /// The value as text for a command line: strings as they are, other values as JSON.
    pub fn to_text(&self) -> String {
        match self.to_json() {
            Json::String(s) => s,
            Json::Null => String::new(),
            other => other.to_string(),
        }
    }

    /// Whether it is absent.
    pub fn is_null(&self) -> bool {
        matches!(self, RValue::Json(Json::Null))
    }
}

/// What values can refer to while evaluating.
pub trait Env {
    /// A pipeline parameter.
    fn param(&self, name: &str) -> Option<RValue>;
    /// An output of a task (all iterations when `collected`).
    fn output(&self, task: &str, output: &str, collected: bool) -> Option<RValue>;
    /// The current item of a loop.
    fn loop_item(&self, l: usize) -> Option<RValue>;
    /// A field of `run` (`status`, `name`), known to a `finally` call only.
    fn run_field(&self, _field: &str) -> Option<RValue> {
        None
    }
}

/// Evaluates a value; unknown references evaluate to `null`.
pub fn eval(v: &Value, env: &dyn Env) -> RValue {
    match v {
        Value::Literal { value } => RValue::Json(value.clone()),
        Value::Param { name } => env.param(name).unwrap_or(RValue::Json(Json::Null)),
        Value::Output {
            task,
            output,
            collected,
        } => env
            .output(task, output, *collected)
            .unwrap_or(RValue::Json(Json::Null)),
        Value::Metric { task, output, key } => match env.output(task, output, false) {
            Some(RValue::Artifact(a)) => metric(&a, key),
            _ => RValue::Json(Json::Null),
        },
        Value::LoopItem { r#loop } => env.loop_item(*r#loop).unwrap_or(RValue::Json(Json::Null)),
        Value::Run { field } => env.run_field(field).unwrap_or(RValue::Json(Json::Null)),
        Value::Field { record, path } => {
            let mut cur = eval(record, env).to_json();
            for f in path {
                cur = cur.get(f).cloned().unwrap_or(Json::Null);
            }
            RValue::Json(cur)
        }
        Value::Template { parts } => {
            let mut s = String::new();
            for p in parts {
                match p {
                    Part::Text { text } => s.push_str(text),
                    Part::Value { value } => s.push_str(&eval(value, env).to_text()),
                    Part::Param { name } => {
                        s.push_str(&env.param(name).map(|v| v.to_text()).unwrap_or_default())
                    }
                    Part::InputPath { .. } | Part::OutputPath { .. } => {}
                }
            }
            RValue::Json(Json::from(s))
        }
        Value::List { items } => {
            let vals: Vec<RValue> = items.iter().map(|i| eval(i, env)).collect();
            if vals.iter().all(|v| matches!(v, RValue::Json(_))) {
                RValue::Json(Json::Array(vals.iter().map(RValue::to_json).collect()))
            } else {
                RValue::List(vals)
            }
        }
        Value::Op { op, args } if op == "flatten" => flatten(
            args.first()
                .map_or(RValue::Json(Json::Null), |a| eval(a, env)),
        ),
        Value::Op { op, args } => {
            let a: Vec<Json> = args.iter().map(|x| eval(x, env).to_json()).collect();
            RValue::Json(apply(op, &a))
        }
    }
}

/// `flatten(xs)`: the items of the inner lists of `xs`, in order (an absent inner list, a
/// hole, adds nothing); a list of parameter values stays JSON.
pub fn flatten(xs: RValue) -> RValue {
    let outer: Vec<RValue> = match xs {
        RValue::List(items) => items,
        RValue::Json(Json::Array(items)) => items.into_iter().map(RValue::Json).collect(),
        other => return other,
    };
    let mut items = Vec::new();
    for inner in outer {
        match inner {
            RValue::List(xs) => items.extend(xs),
            RValue::Json(Json::Array(xs)) => items.extend(xs.into_iter().map(RValue::Json)),
            RValue::Json(Json::Null) => {}
            other => items.push(other),
        }
    }
    if items.iter().all(|v| matches!(v, RValue::Json(_))) {
        RValue::Json(Json::Array(items.iter().map(RValue::to_json).collect()))
    } else {
        RValue::List(items)
    }
}

fn metric(a: &ArtifactRef, key: &str) -> RValue {
    let Ok(text) = std::fs::read_to_string(&a.path) else {
        return RValue::Json(Json::Null);
    };
    let Ok(Json::Object(map)) = serde_json::from_str::<Json>(&text) else {
        return RValue::Json(Json::Null);
    };
    RValue::Json(map.get(key).cloned().unwrap_or(Json::Null))
}

fn num(j: &Json) -> Option<f64> {
    j.as_f64()
}

fn truthy(j: &Json) -> bool {
    matches!(j, Json::Bool(true))
}

fn apply(op: &str, a: &[Json]) -> Json {
    let (x, y) = (
        a.first().unwrap_or(&Json::Null),
        a.get(1).unwrap_or(&Json::Null),
    );
    match op {
        "not" => Json::Bool(!truthy(x)),
        "and" => Json::Bool(truthy(x) && truthy(y)),
        "or" => Json::Bool(truthy(x) || truthy(y)),
        "+" => match (x, y) {
            (Json::String(p), Json::String(q)) => Json::from(format!("{p}{q}")),
            _ => arith(x, y, |p, q| p + q),
        },
        "-" => arith(x, y, |p, q| p - q),
        "==" => Json::Bool(equal(x, y)),
        "!=" => Json::Bool(!equal(x, y)),
        _ => {
            let ord = match (num(x), num(y)) {
                (Some(p), Some(q)) => p.partial_cmp(&q),
                _ => match (x.as_str(), y.as_str()) {
                    (Some(p), Some(q)) => Some(p.cmp(q)),
                    _ => None,
                },
            };
            let Some(ord) = ord else {
                return Json::Bool(false);
            };
            Json::Bool(match op {
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                ">" => ord.is_gt(),
                ">=" => ord.is_ge(),
                _ => false,
            })
        }
    }
}

fn equal(x: &Json, y: &Json) -> bool {
    match (num(x), num(y)) {
        (Some(p), Some(q)) => p == q,
        _ => x == y,
    }
}

fn arith(x: &Json, y: &Json, f: impl Fn(f64, f64) -> f64) -> Json {
    match (x, y) {
        (Json::Number(p), Json::Number(q)) if p.is_i64() && q.is_i64() => {
            let r = f(p.as_f64().unwrap_or(0.0), q.as_f64().unwrap_or(0.0));
            Json::from(r as i64)
        }
        _ => match (num(x), num(y)) {
            (Some(p), Some(q)) => Json::from(f(p, q)),
            _ => Json::Null,
        },
    }
}

/// The tasks a value reads from.
pub fn tasks_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Output { task, .. } | Value::Metric { task, .. } => out.push(task.clone()),
        Value::Template { parts } => {
            for p in parts {
                if let Part::Value { value } = p {
                    tasks_of(value, out);
                }
            }
        }
        Value::List { items } => items.iter().for_each(|i| tasks_of(i, out)),
        Value::Op { args, .. } => args.iter().for_each(|i| tasks_of(i, out)),
        _ => {}
    }
}

/// A simple environment over maps, for tests and checks.
pub struct MapEnv<'a> {
    /// Parameters.
    pub params: &'a IndexMap<String, Json>,
}

impl Env for MapEnv<'_> {
    fn param(&self, name: &str) -> Option<RValue> {
        self.params.get(name).cloned().map(RValue::Json)
    }
    fn output(&self, _: &str, _: &str, _: bool) -> Option<RValue> {
        None
    }
    fn loop_item(&self, _: usize) -> Option<RValue> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators() {
        let params: IndexMap<String, Json> = [
            ("x".to_string(), json!(3)),
            ("s".to_string(), json!("full")),
        ]
        .into_iter()
        .collect();
        let env = MapEnv { params: &params };
        let lt = Value::Op {
            op: "<".into(),
            args: vec![
                Value::Param { name: "x".into() },
                Value::Literal { value: json!(3.5) },
            ],
        };
        assert_eq!(eval(&lt, &env), RValue::Json(json!(true)));
        let eq = Value::Op {
            op: "==".into(),
            args: vec![
                Value::Param { name: "s".into() },
                Value::Literal {
                    value: json!("full"),
                },
            ],
        };
        let not = Value::Op {
            op: "not".into(),
            args: vec![eq],
        };
        assert_eq!(eval(&not, &env), RValue::Json(json!(false)));
        let add = Value::Op {
            op: "+".into(),
            args: vec![
                Value::Param { name: "x".into() },
                Value::Literal { value: json!(1) },
            ],
        };
        assert_eq!(eval(&add, &env), RValue::Json(json!(4)));
    }
}
