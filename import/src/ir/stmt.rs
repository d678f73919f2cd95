//! The statements of an imported pipeline, and their `.flow` text.
//!
//! The walk of the DAG builds these first, so that a call is bound to a name only when
//! something reads it (an unread binding would be a warning of `flowc check`).

use std::collections::BTreeSet;

use crate::names::comment;

/// A parameter of an imported pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The `.flow` name.
    pub name: String,
    /// The `.flow` type.
    pub ty: String,
    /// The default, as a literal.
    pub default: Option<String>,
    /// A comment about it.
    pub note: Option<String>,
}

/// A pipeline declaration: notes on its parameters, its documentation, its parameters, its
/// body (calls bound when in `used`) and its `output name = expr`s.
pub fn pipeline(
    name: &str,
    params: &[Param],
    description: Option<&str>,
    body: &[Stmt],
    used: &BTreeSet<String>,
    outputs: &[(String, String)],
) -> String {
    let mut out = String::new();
    for p in params {
        if let Some(n) = &p.note {
            out.push_str(&comment(&format!("`{}`: {n}", p.name), ""));
        }
    }
    if let Some(d) = description {
        out.push_str(&crate::names::doc(d, ""));
    }
    let list: Vec<String> = params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{}: {} = {d}", p.name, p.ty),
            None => format!("{}: {}", p.name, p.ty),
        })
        .collect();
    out.push_str(&format!("pipeline {name}({}) {{\n", list.join(", ")));
    render(body, used, "  ", &mut out);
    for (n, e) in outputs {
        if n == e {
            out.push_str(&format!("  output {n}\n"));
        } else {
            out.push_str(&format!("  output {n} = {e}\n"));
        }
    }
    out.push_str("}\n");
    out
}

/// A call of a step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Call {
    /// The name the call is bound to, written only when used.
    pub binding: String,
    /// The step.
    pub callee: String,
    /// `name: expression` arguments.
    pub args: Vec<(String, String)>,
    /// Bindings it runs after.
    pub after: Vec<String>,
    /// Comments above it.
    pub notes: Vec<String>,
}

/// A statement of a pipeline body.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// A call.
    Call(Call),
    /// `if` / `else if` / `else`: each branch's condition (`None`: `else`) and body.
    If(Vec<(Option<String>, Vec<Stmt>)>),
    /// `for var in items parallel n { body }`.
    For {
        /// The loop variable.
        var: String,
        /// The list.
        items: String,
        /// The parallelism limit.
        parallel: Option<String>,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `finally call`.
    Finally(Call),
}

/// Writes `stmts` at `indent`, binding the calls whose binding is in `used`.
pub fn render(stmts: &[Stmt], used: &BTreeSet<String>, indent: &str, out: &mut String) {
    for s in stmts {
        match s {
            Stmt::Call(c) => call(c, used, indent, "", out),
            Stmt::Finally(c) => call(c, &BTreeSet::new(), indent, "finally ", out),
            Stmt::For {
                var,
                items,
                parallel,
                body,
            } => {
                let par = parallel
                    .as_ref()
                    .map(|p| format!(" parallel {p}"))
                    .unwrap_or_default();
                out.push_str(&format!("{indent}for {var} in {items}{par} {{\n"));
                render(body, used, &format!("{indent}  "), out);
                out.push_str(&format!("{indent}}}\n"));
            }
            Stmt::If(branches) => {
                for (i, (cond, body)) in branches.iter().enumerate() {
                    let head = match (i, cond) {
                        (0, Some(c)) => format!("{indent}if {c} {{\n"),
                        (_, Some(c)) => format!(" else if {c} {{\n"),
                        (_, None) => " else {\n".to_string(),
                    };
                    out.push_str(&head);
                    render(body, used, &format!("{indent}  "), out);
                    out.push_str(&format!("{indent}}}"));
                }
                out.push('\n');
            }
        }
    }
}

fn call(c: &Call, used: &BTreeSet<String>, indent: &str, prefix: &str, out: &mut String) {
    for n in &c.notes {
        out.push_str(&comment(n, indent));
    }
    let bind = if used.contains(&c.binding) {
        format!("{} = ", c.binding)
    } else {
        String::new()
    };
    let args: Vec<String> = c.args.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    let after = if c.after.is_empty() {
        String::new()
    } else {
        format!(" after {}", c.after.join(", "))
    };
    out.push_str(&format!(
        "{indent}{prefix}{bind}{}({}){after}\n",
        c.callee,
        args.join(", ")
    ));
}
