//! Conditions of `if` branches as the CEL expressions of `triggerPolicy.condition`.
//!
//! KFP evaluates a condition over the inputs of the condition's own task, so each parameter
//! or loop item it reads becomes an input of the `condition-N` DAG
//! (`inputs.parameter_values['pipelinechannel--x']`). Numbers arrive as doubles: integers are
//! compared through `int(...)`, and both sides through `double(...)` when either is a `Float`,
//! as kfp writes them. A condition that reads metric values, task outputs or optional values
//! is computed by a `flowc.eval` task beside the condition, whose `Bool` output it tests.

use super::tree::{NodeKind, Src};
use super::types::KType;
use super::wire::Chan;
use super::Emitter;
use crate::diagnostics;
use flowc_compiler::plan::{TypeRepr, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CTy {
    Str,
    Int,
    Float,
    Bool,
}

const COMPARISONS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

impl Emitter<'_> {
    /// Sets the CEL condition of condition node `n`.
    pub(super) fn wire_cond(&mut self, g: usize, n: usize) {
        let NodeKind::Cond(conds) = self.graphs[g].nodes[n].kind.clone() else {
            return;
        };
        let parent = self.graphs[g].nodes[n].parent.unwrap_or(0);
        let key = self.graphs[g].nodes[n].key.clone();
        let mut parts = Vec::new();
        for c in &conds {
            let mut atom = c;
            let mut negated = false;
            while let Value::Op { op, args } = atom {
                match (op.as_str(), args.as_slice()) {
                    ("not", [inner]) => {
                        negated = !negated;
                        atom = inner;
                    }
                    _ => break,
                }
            }
            let text = if self.celable(g, n, atom) {
                self.render_bool(g, n, atom)
            } else {
                self.helper(
                    g,
                    atom,
                    parent,
                    &KType::Param("BOOLEAN"),
                    &format!("{key}-test"),
                    None,
                )
                .and_then(|leaf| {
                    self.source_at(
                        g,
                        &Chan::Leaf {
                            leaf,
                            key: "value".into(),
                        },
                        n,
                    )
                    .map_err(String::from)
                })
                .and_then(|w| match w.src {
                    Src::Comp { name, .. } => {
                        Ok(format!("inputs.parameter_values['{name}'] == true"))
                    }
                    _ => Err("the condition's value is not an input of its task".into()),
                })
            };
            let text = match text {
                Ok(t) => t,
                Err(m) => {
                    self.report(diagnostics::kfp_condition(self.place(Some(g), &key), &m));
                    "false".into()
                }
            };
            parts.push(if negated {
                format!("!({text})")
            } else if conds.len() > 1 && (text.contains("&&") || text.contains("||")) {
                format!("({text})")
            } else {
                text
            });
        }
        self.graphs[g].nodes[n].cel = Some(parts.join(" && "));
    }

    /// The type of a parameter or loop item read at node `n`, when it is a plain scalar.
    fn ref_type(&self, g: usize, n: usize, v: &Value) -> Option<CTy> {
        match v {
            Value::Param { name } => {
                let p = self
                    .pipeline_plan(g)
                    .params
                    .iter()
                    .find(|p| p.name == *name)?;
                match &p.ty {
                    TypeRepr::Scalar { name } => Some(scalar_cty(name)),
                    _ => None,
                }
            }
            Value::LoopItem { r#loop } => {
                let graph = &self.graphs[g];
                let node = graph
                    .path(n)
                    .into_iter()
                    .find(|m| graph.nodes[*m].kind == NodeKind::Loop(*r#loop))?;
                match graph.nodes[node].iterator.as_ref()?.item_type {
                    KType::Param("STRING") => Some(CTy::Str),
                    KType::Param("NUMBER_INTEGER") => Some(CTy::Int),
                    KType::Param("NUMBER_DOUBLE") => Some(CTy::Float),
                    KType::Param("BOOLEAN") => Some(CTy::Bool),
                    _ => None,
                }
            }
            // A value output of a step or pipeline call: an output parameter of its task.
            Value::Output {
                task,
                output,
                collected: false,
            } => {
                let t = self.pipeline_plan(g).tasks.iter().find(|t| t.id == *task)?;
                match &t.outputs.iter().find(|o| o.name == *output)?.ty {
                    TypeRepr::Scalar { name } => Some(scalar_cty(name)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn celable(&self, g: usize, n: usize, v: &Value) -> bool {
        match v {
            Value::Literal { value } => {
                value.is_string() || value.is_number() || value.is_boolean()
            }
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. } => {
                self.ref_type(g, n, v).is_some()
            }
            Value::Op { op, args } => {
                (matches!(op.as_str(), "and" | "or" | "not" | "+" | "-")
                    || COMPARISONS.contains(&op.as_str()))
                    && args.iter().all(|a| self.celable(g, n, a))
            }
            _ => false,
        }
    }

    fn cty(&self, g: usize, n: usize, v: &Value) -> CTy {
        match v {
            Value::Literal { value } => match value {
                serde_json::Value::String(_) => CTy::Str,
                serde_json::Value::Bool(_) => CTy::Bool,
                serde_json::Value::Number(x) if x.is_i64() || x.is_u64() => CTy::Int,
                _ => CTy::Float,
            },
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. } => {
                self.ref_type(g, n, v).unwrap_or(CTy::Str)
            }
            Value::Op { op, args } if op == "+" || op == "-" => {
                let ts: Vec<CTy> = args.iter().map(|a| self.cty(g, n, a)).collect();
                if ts.contains(&CTy::Str) {
                    CTy::Str
                } else if ts.contains(&CTy::Float) {
                    CTy::Float
                } else {
                    CTy::Int
                }
            }
            _ => CTy::Bool,
        }
    }

    /// A Boolean operand: a `Bool` parameter is compared with `true`, compound operands are
    /// parenthesised.
    fn render_bool(&mut self, g: usize, n: usize, v: &Value) -> Result<String, String> {
        let s = self.cel(g, n, v, None)?;
        Ok(match v {
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. }
                if self.ref_type(g, n, v) == Some(CTy::Bool) =>
            {
                format!("{s} == true")
            }
            _ => s,
        })
    }

    fn operand(&mut self, g: usize, n: usize, v: &Value) -> Result<String, String> {
        let s = self.render_bool(g, n, v)?;
        Ok(match v {
            Value::Op { op, .. } if op != "not" => format!("({s})"),
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. } => format!("({s})"),
            _ => s,
        })
    }

    fn cel(&mut self, g: usize, n: usize, v: &Value, want: Option<CTy>) -> Result<String, String> {
        match v {
            Value::Literal { value } => Ok(match value {
                serde_json::Value::String(s) => quote(s),
                serde_json::Value::Number(x)
                    if want == Some(CTy::Float) || !(x.is_i64() || x.is_u64()) =>
                {
                    float(x.as_f64().unwrap_or(0.0))
                }
                other => other.to_string(),
            }),
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. } => {
                let t = self.ref_type(g, n, v).unwrap_or(CTy::Str);
                let (chan, _) = self.value_chan(g, v, n, &KType::Param("STRING"), "condition")?;
                let w = self.source_at(g, &chan, n)?;
                let Src::Comp { name, .. } = w.src else {
                    return Err("a tested value is not an input of the condition's task".into());
                };
                let base = format!("inputs.parameter_values['{name}']");
                Ok(match t {
                    CTy::Int if want == Some(CTy::Float) => format!("double({base})"),
                    CTy::Int => format!("int({base})"),
                    CTy::Float => format!("double({base})"),
                    CTy::Bool | CTy::Str => base,
                })
            }
            Value::Op { op, args } => match (op.as_str(), args.as_slice()) {
                ("not", [x]) => Ok(format!("!({})", self.render_bool(g, n, x)?)),
                ("and" | "or", [a, b]) => {
                    let joiner = if op == "and" { "&&" } else { "||" };
                    Ok(format!(
                        "{} {joiner} {}",
                        self.operand(g, n, a)?,
                        self.operand(g, n, b)?
                    ))
                }
                (_, [a, b]) => {
                    let (ta, tb) = (self.cty(g, n, a), self.cty(g, n, b));
                    let want = (ta == CTy::Float || tb == CTy::Float).then_some(CTy::Float);
                    let la = self.cel(g, n, a, want)?;
                    let lb = self.cel(g, n, b, want)?;
                    let wrap = |s: String, v: &Value| match v {
                        Value::Op { .. } => format!("({s})"),
                        _ => s,
                    };
                    Ok(format!("{} {op} {}", wrap(la, a), wrap(lb, b)))
                }
                _ => Err(format!(
                    "the operator `{op}` has an unexpected number of operands"
                )),
            },
            _ => Err("this value cannot be written in CEL".into()),
        }
    }
}

/// The CEL type of a scalar type's name.
fn scalar_cty(name: &str) -> CTy {
    match name {
        "Int" => CTy::Int,
        "Float" => CTy::Float,
        "Bool" => CTy::Bool,
        _ => CTy::Str,
    }
}

/// A CEL string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A CEL double literal: plain decimal with a fraction.
fn float(f: f64) -> String {
    let s = format!("{f}");
    if s.contains('.') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(quote("it's"), "'it\\'s'");
        assert_eq!(float(3.0), "3.0");
        assert_eq!(float(0.0001), "0.0001");
    }
}
