//! Plan values written for Argo: parameter text, artifact sources, `when` conditions.
//!
//! Argo parameters are strings, so a value becomes its text form: strings as they are, numbers
//! in plain decimal, `true`/`false`, `none` as the empty string, lists as JSON. Values known
//! only at run time are `{{...}}` variables; arithmetic and lists built from them are `expr`
//! expressions (`{{=asInt(...) + 1}}`). Conditions are written for Argo's `when` with every
//! string operand quoted (`'{{workflow.parameters.method}}' == 'rake'`).
//!
//! Artifacts are passed with `from: "{{tasks.x.outputs.artifacts.y}}"`, except where Argo has
//! no task output to point at: the outputs of every iteration of a loop (read as the S3 key
//! prefix under which each iteration wrote its copy, see `docs/targets.md`), and task outputs
//! read by the exit handler (read by their key).

use crate::diagnostics;
use std::collections::BTreeSet;

use super::graph::{Cond, FrameId, FrameKind};
use super::resolve::Ref;
use super::text::{expr_string, number_text, strip_parens, text_form, when_string, Text};
use super::WorkflowEmitter;
use flowc_compiler::plan::{Part, TypeRepr, Value};

/// Why `flatten` of artifacts is refused where it is not an argument of a step or a call.
const FLATTEN_READS: &str = "`flatten` of artifacts outside an argument of a step (Argo flattens \
     the outputs of a step in nested loops, gathered by key, for the step that reads them)";

/// Why the values of every iteration of a loop are not passed on Argo: Argo gathers a loop's
/// output parameters into a JSON list of its own making, which reads a `Str` that looks like a
/// number as a number.
pub(crate) const COLLECTED_VALUES: &str =
    "the values of every iteration of a loop (Argo gathers them into a JSON list that changes \
     strings which look like numbers)";

/// Why a pipeline called as a step cannot read `run.status` on Argo.
const RUN_STATUS_IN_CALLEE: &str = "`run.status` in the `finally` call of a pipeline called as a \
                                    step (Argo knows only the status of the whole workflow)";

/// Where an artifact argument comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ArtSrc {
    /// An artifact of the workflow (`from:`), with the reference it resolves.
    From(Ref, Text),
    /// An S3 key (or key prefix, ending in `/`) in the artifact repository.
    Key(Text),
    /// No artifact (`none` for an optional input).
    Absent,
    /// A list of artifacts, one per element.
    List(Vec<ArtSrc>),
}

/// The scalar kinds `expr` expressions are typed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    List,
    Unknown,
}

fn strip_optional(t: &TypeRepr) -> &TypeRepr {
    match t {
        TypeRepr::Optional { inner } => strip_optional(inner),
        t => t,
    }
}

fn kind_of(t: Option<&TypeRepr>) -> Kind {
    match t.map(strip_optional) {
        Some(TypeRepr::Scalar { name }) => match name.as_str() {
            "Int" => Kind::Int,
            "Float" => Kind::Float,
            "Bool" => Kind::Bool,
            _ => Kind::Str,
        },
        Some(TypeRepr::List { .. } | TypeRepr::Columns) => Kind::List,
        _ => Kind::Unknown,
    }
}

/// The type of a JSON literal.
pub(crate) fn literal_type(v: &serde_json::Value) -> Option<TypeRepr> {
    let scalar = |n: &str| TypeRepr::Scalar { name: n.into() };
    Some(match v {
        serde_json::Value::Bool(_) => scalar("Bool"),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => scalar("Int"),
        serde_json::Value::Number(_) => scalar("Float"),
        serde_json::Value::String(_) => scalar("Str"),
        serde_json::Value::Array(items) => TypeRepr::List {
            item: Box::new(
                items
                    .first()
                    .and_then(literal_type)
                    .unwrap_or(scalar("Str")),
            ),
        },
        _ => return None,
    })
}

impl WorkflowEmitter<'_> {
    /// The type of the items of a loop.
    pub(crate) fn item_type(&self, pipe: usize, l: usize) -> Option<TypeRepr> {
        let list = match &self.pipes[pipe].loops[l].items {
            Value::Param { name } => self.param_type(pipe, name).cloned(),
            Value::LoopItem { r#loop } if *r#loop != l => self.item_type(pipe, *r#loop),
            Value::Literal { value } => literal_type(value),
            Value::Output {
                task,
                output,
                collected: false,
            } => self
                .value_output(pipe, task, output)
                .map(|(_, t)| t.clone()),
            v @ Value::Field { .. } => self.field_type(pipe, v),
            _ => None,
        };
        match list.as_ref().map(strip_optional) {
            Some(TypeRepr::List { item }) => Some((**item).clone()),
            _ => None,
        }
    }

    /// A value output (not an artifact) of a task: the task's index and the output's type.
    /// The outputs of container steps written with `valueFrom.path`, and the value outputs of
    /// pipeline calls, are both output parameters of the task.
    pub(crate) fn value_output(
        &self,
        pipe: usize,
        task: &str,
        output: &str,
    ) -> Option<(usize, &TypeRepr)> {
        let t = self.task_index(pipe, task)?;
        let o = self.pipes[pipe].tasks[t]
            .outputs
            .iter()
            .find(|o| o.name == output)?;
        (!o.ty.is_artifact()).then_some((t, &o.ty))
    }

    fn value_kind(&self, pipe: usize, v: &Value) -> Kind {
        match v {
            Value::Literal { value } => kind_of(literal_type(value).as_ref()),
            Value::Param { name } => kind_of(self.param_type(pipe, name)),
            Value::LoopItem { r#loop } => kind_of(self.item_type(pipe, *r#loop).as_ref()),
            Value::Template { .. } | Value::Run { .. } => Kind::Str,
            Value::List { .. } => Kind::List,
            Value::Op { op, args } => match op.as_str() {
                "+" | "-" => {
                    let kinds: Vec<Kind> = args.iter().map(|a| self.value_kind(pipe, a)).collect();
                    if kinds.iter().all(|k| *k == Kind::Int) {
                        Kind::Int
                    } else if kinds.contains(&Kind::Str) {
                        Kind::Str
                    } else {
                        Kind::Float
                    }
                }
                _ => Kind::Bool,
            },
            Value::Output {
                task,
                output,
                collected: false,
            } => kind_of(self.value_output(pipe, task, output).map(|(_, t)| t)),
            Value::Output { .. } => Kind::List,
            Value::Metric { .. } => Kind::Unknown,
            Value::Field { .. } => kind_of(self.field_type(pipe, v).as_ref()),
        }
    }

    /// The type of a record field read (`job.region`), from the record's parameter or loop
    /// item type.
    fn field_type(&self, pipe: usize, v: &Value) -> Option<TypeRepr> {
        let Value::Field { record, path } = v else {
            return None;
        };
        let mut t = match &**record {
            Value::Param { name } => self.param_type(pipe, name).cloned(),
            Value::LoopItem { r#loop } => self.item_type(pipe, *r#loop),
            inner @ Value::Field { .. } => self.field_type(pipe, inner),
            _ => None,
        }?;
        for name in path {
            let TypeRepr::Record { fields } = strip_optional(&t) else {
                return None;
            };
            t = fields.iter().find(|f| &f.name == name)?.ty.clone();
        }
        Some(t)
    }

    /// A record field read as an `expr` expression: `jsonpath` of the record's JSON text, with
    /// lists and records written back as JSON; the kind is the field's own.
    fn field_expr(&mut self, f: FrameId, v: &Value) -> Result<(String, Kind), String> {
        let pipe = self.g.frames[f].pipe;
        let Value::Field { record, path } = v else {
            return Err("a field of a value that is not a record".into());
        };
        let rec = self.param_text(f, record)?.unwrap_or_default();
        let e = format!("jsonpath({}, '$.{}')", rec.expr(), path.join("."));
        let t = self.field_type(pipe, v);
        Ok(match t.as_ref().map(strip_optional) {
            Some(TypeRepr::Record { .. } | TypeRepr::List { .. }) => {
                (format!("toJson({e})"), Kind::Str)
            }
            _ => (e, kind_of(t.as_ref())),
        })
    }

    /// The text of a parameter value in frame `f`; `None` for `none`.
    pub(crate) fn param_text(&mut self, f: FrameId, v: &Value) -> Result<Option<Text>, String> {
        let pipe = self.g.frames[f].pipe;
        Ok(Some(match v {
            Value::Literal { value } if value.is_null() => return Ok(None),
            Value::Literal { value } => Text::lit(text_form(value)),
            Value::Param { name } => self.resolve(f, &Ref::Param(name.clone())),
            Value::LoopItem { r#loop } => self.resolve(f, &Ref::Item(*r#loop)),
            Value::Template { parts } => {
                let mut t = Text::default();
                for p in parts {
                    match p {
                        Part::Text { text } => t.push_lit(text),
                        Part::Value { value } => {
                            if let Some(x) = self.param_text(f, value)? {
                                t.push(x);
                            }
                        }
                        _ => return Err("a step placeholder in a pipeline value".into()),
                    }
                }
                t
            }
            Value::Op { op, args } if op == "+" && self.value_kind(pipe, v) == Kind::Str => {
                let mut t = Text::default();
                for a in args {
                    if let Some(x) = self.param_text(f, a)? {
                        t.push(x);
                    }
                }
                t
            }
            Value::List { items } => {
                let literal: Option<Vec<serde_json::Value>> = items
                    .iter()
                    .map(|i| match i {
                        Value::Literal { value } => Some(value.clone()),
                        _ => None,
                    })
                    .collect();
                match literal {
                    Some(l) => Text::lit(text_form(&serde_json::Value::Array(l))),
                    None => {
                        let (e, _) = self.expr_value(f, v)?;
                        Text::expr_tag(format!("toJson({e})"))
                    }
                }
            }
            Value::Op { .. } => {
                let (e, _) = self.expr_value(f, v)?;
                Text::expr_tag(strip_parens(&e))
            }
            Value::Output {
                task,
                output,
                collected,
            } => {
                let (t, _) = self
                    .value_output(pipe, task, output)
                    .ok_or("an artifact where a value is expected")?;
                if *collected {
                    return Err(COLLECTED_VALUES.into());
                }
                self.resolve(f, &Ref::OutParam(t, output.clone()))
            }
            Value::Metric { .. } => return Err("a metric value outside an evaluation".into()),
            Value::Run { field } => self.run_field(pipe, field)?,
            // As text: numbers and Booleans made strings (an `Int` through `int`, never `1e+06`).
            Value::Field { .. } => Text::expr_tag(match self.field_expr(f, v)? {
                (e, Kind::Int) => format!("string(int({e}))"),
                (e, Kind::Float | Kind::Bool) => format!("string({e})"),
                (e, _) => e,
            }),
        }))
    }

    /// `run.status` (Argo's `workflow.status`, `Succeeded` read as `succeeded` and anything
    /// else as `failed`) or `run.name` (`workflow.name`). The status is the whole workflow's, so
    /// only the entry pipeline's `finally` calls may read it.
    fn run_field(&self, pipe: usize, field: &str) -> Result<Text, String> {
        match field {
            "name" => Ok(Text::var(&["workflow", "name"])),
            "status" if pipe == self.entry => Ok(Text::expr_tag(
                "workflow.status == 'Succeeded' ? 'succeeded' : 'failed'",
            )),
            "status" => Err(RUN_STATUS_IN_CALLEE.into()),
            other => Err(format!("`run.{other}`")),
        }
    }

    /// An `expr` expression for a value, with its kind.
    fn expr_value(&mut self, f: FrameId, v: &Value) -> Result<(String, Kind), String> {
        let pipe = self.g.frames[f].pipe;
        let typed = |text: Text, k: Kind| -> (String, Kind) {
            let e = text.expr();
            match k {
                Kind::Int => (format!("asInt({e})"), Kind::Int),
                Kind::Float => (format!("asFloat({e})"), Kind::Float),
                Kind::Bool => (format!("({e} == 'true')"), Kind::Bool),
                Kind::List => (format!("jsonpath({e}, '$')"), Kind::List),
                k => (e, k),
            }
        };
        Ok(match v {
            Value::Literal { value } => literal_expr(value),
            Value::Param { .. } | Value::LoopItem { .. } | Value::Output { .. } => {
                let k = self.value_kind(pipe, v);
                let Some(t) = self.param_text(f, v)? else {
                    return Ok(("nil".into(), Kind::Unknown));
                };
                typed(t, k)
            }
            Value::Template { .. } | Value::Run { .. } => {
                let t = self.param_text(f, v)?.unwrap_or_default();
                (t.expr(), Kind::Str)
            }
            Value::List { items } => {
                let mut out = Vec::new();
                for i in items {
                    out.push(self.expr_value(f, i)?.0);
                }
                (format!("[{}]", out.join(", ")), Kind::List)
            }
            Value::Op { op, args } => {
                let mut a = Vec::new();
                for x in args {
                    a.push(self.expr_value(f, x)?);
                }
                let bin = |sym: &str| -> Result<String, String> {
                    match a.as_slice() {
                        [(l, _), (r, _)] => Ok(format!("({l} {sym} {r})")),
                        _ => Err(format!("operator `{op}` with {} operands", a.len())),
                    }
                };
                match op.as_str() {
                    "not" => match a.as_slice() {
                        [(x, _)] => (format!("!({})", strip_parens(x)), Kind::Bool),
                        _ => return Err("`not` with several operands".into()),
                    },
                    "and" => (bin("&&")?, Kind::Bool),
                    "or" => (bin("||")?, Kind::Bool),
                    "==" | "!=" | "<" | "<=" | ">" | ">=" => (bin(op)?, Kind::Bool),
                    "+" | "-" => (bin(op)?, self.value_kind(pipe, v)),
                    _ => return Err(format!("operator `{op}`")),
                }
            }
            Value::Metric { .. } => return Err("a metric in an expression".into()),
            Value::Field { .. } => self.field_expr(f, v)?,
        })
    }

    /// A condition for Argo's `when` (govaluate), with string operands quoted.
    fn when_value(&mut self, f: FrameId, v: &Value) -> Result<String, String> {
        let pipe = self.g.frames[f].pipe;
        Ok(match v {
            Value::Literal { value } => match value {
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => number_text(n),
                serde_json::Value::String(s) => when_string(s),
                serde_json::Value::Null => "''".into(),
                _ => when_string(&text_form(value)),
            },
            Value::Param { .. }
            | Value::LoopItem { .. }
            | Value::Template { .. }
            | Value::Run { .. }
            | Value::Output { .. } => {
                let text = self.param_text(f, v)?.unwrap_or_default().simple();
                let raw = match v {
                    Value::Param { name } => self
                        .param_type(pipe, name)
                        .is_some_and(|t| matches!(t, TypeRepr::Scalar { .. })),
                    Value::Output {
                        task,
                        output,
                        collected: false,
                    } => self
                        .value_output(pipe, task, output)
                        .is_some_and(|(_, t)| matches!(t, TypeRepr::Scalar { .. })),
                    Value::LoopItem { r#loop } => self
                        .item_type(pipe, *r#loop)
                        .is_some_and(|t| matches!(t, TypeRepr::Scalar { .. })),
                    _ => false,
                };
                match self.value_kind(pipe, v) {
                    Kind::Int | Kind::Float | Kind::Bool if raw => text,
                    _ => format!("'{text}'"),
                }
            }
            Value::Op { op, args } => {
                let mut a = Vec::new();
                for x in args {
                    a.push(self.when_value(f, x)?);
                }
                match (op.as_str(), a.as_slice()) {
                    ("not", [x]) => format!("!({})", strip_parens(x)),
                    ("and", [l, r]) => format!("({l} && {r})"),
                    ("or", [l, r]) => format!("({l} || {r})"),
                    ("==" | "!=" | "<" | "<=" | ">" | ">=", [l, r]) => format!("{l} {op} {r}"),
                    ("+" | "-", [l, r]) => format!("({l} {op} {r})"),
                    _ => return Err(format!("operator `{op}` in a condition")),
                }
            }
            Value::List { .. } => {
                let t = self.param_text(f, v)?.unwrap_or_default().simple();
                format!("'{t}'")
            }
            Value::Metric { .. } => return Err("a metric in a condition".into()),
            Value::Field { .. } => {
                let text = self.param_text(f, v)?.unwrap_or_default().simple();
                match self.value_kind(pipe, v) {
                    Kind::Int | Kind::Float | Kind::Bool => text,
                    _ => format!("'{text}'"),
                }
            }
        })
    }

    /// The `when` of a node, if it has conditions.
    pub(crate) fn when_text(
        &mut self,
        f: FrameId,
        conds: &[Cond],
        task: Option<&str>,
    ) -> Option<String> {
        let pipe = self.g.frames[f].pipe;
        let mut parts = Vec::new();
        for c in conds {
            match c {
                Cond::Native(v) => match self.when_value(f, v) {
                    Ok(s) => parts.push(s),
                    Err(e) => {
                        let at = self.place(pipe, task);
                        self.issues.report(diagnostics::argo_condition(at, &e));
                    }
                },
                Cond::Eval(n) => {
                    let t = self.resolve(f, &Ref::NodeOut(*n, "value".into()));
                    parts.push(format!("'{}' == 'true'", t.simple()));
                }
            }
        }
        match parts.len() {
            0 => None,
            1 => parts.pop().map(|p| strip_parens(&p).to_string()),
            _ => Some(parts.join(" && ")),
        }
    }

    /// The deepest loop enclosing both a producer (`a`, its loops outermost first) and a
    /// consumer (`b`).
    fn common_loop(a: &[usize], b: &[usize]) -> Option<usize> {
        a.iter().take_while(|l| b.contains(l)).last().copied()
    }

    /// The key path of a task output below its pipeline instance's prefix:
    /// `/<task>/<output>`, through pipeline calls to the step that writes it.
    pub(crate) fn key_path(&self, pipe: usize, t: usize, output: &str) -> Option<String> {
        let id = &self.pipes[pipe].tasks[t].id;
        match self.callee(pipe, t) {
            None => Some(format!("/{id}/{output}")),
            Some(c) => {
                let o = self.pipes[c].outputs.iter().find(|o| o.name == output)?;
                match &o.value {
                    Value::Output { task, output, .. } => {
                        let d = self.task_index(c, task)?;
                        Some(format!("/{id}{}", self.key_path(c, d, output)?))
                    }
                    _ => None,
                }
            }
        }
    }

    /// Where the flattening node of task `reader` stores the outputs `output` of task `t`: a
    /// key under the reader's (`.../<reader>/flatten-<t>-<output>`) and the reader's iteration.
    pub(crate) fn flatten_key(
        &mut self,
        f: FrameId,
        reader: usize,
        t: usize,
        output: &str,
    ) -> (Text, Text) {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let (rid, tid) = (p.tasks[reader].id.clone(), p.tasks[t].id.clone());
        let iter = p.tasks[reader].loops.last().copied();
        let key = self
            .resolve(f, &Ref::Key)
            .then_lit(&format!("/{rid}/flatten-{tid}-{output}"));
        (key, self.resolve(f, &Ref::Iter(iter)))
    }

    /// Whether a call's output is the gathered outputs of a loop inside the callee (so it has
    /// no single artifact to export).
    pub(crate) fn callee_output_is_prefix(&self, pipe: usize, t: usize, output: &str) -> bool {
        let Some(c) = self.callee(pipe, t) else {
            return false;
        };
        let Some(o) = self.pipes[c].outputs.iter().find(|o| o.name == output) else {
            return false;
        };
        match &o.value {
            Value::Output {
                collected: true, ..
            } => true,
            Value::Output { task, output, .. } => self
                .task_index(c, task)
                .is_some_and(|d| self.callee_output_is_prefix(c, d, output)),
            _ => false,
        }
    }

    /// The tasks that may have produced `output` of task `t` for `consumer`: a name bound in
    /// several branches of an `if` is bound by one task per branch (`weights`, `weights-2`,
    /// ...), all of which the consumer depends on, while the plan's value names the first.
    pub(crate) fn alternatives(
        &self,
        pipe: usize,
        consumer: Option<usize>,
        t: usize,
        output: &str,
    ) -> Vec<(usize, String)> {
        let p = self.pipes[pipe];
        let base = &p.tasks[t];
        let Some(c) = consumer.map(|c| &p.tasks[c]) else {
            return vec![(t, output.to_string())];
        };
        if base.when.is_empty() {
            return vec![(t, output.to_string())];
        }
        let first = base.outputs.first().is_some_and(|o| o.name == output);
        let mut out = vec![(t, output.to_string())];
        for (a, alt) in p.tasks.iter().enumerate() {
            let numbered = alt
                .id
                .strip_prefix(&base.id)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.chars().all(|ch| ch.is_ascii_digit()));
            if a == t || !numbered || alt.when.is_empty() || !c.data_deps.contains(&alt.id) {
                continue;
            }
            let o = if alt.outputs.iter().any(|o| o.name == output) {
                output.to_string()
            } else if first {
                match alt.outputs.first() {
                    Some(o) => o.name.clone(),
                    None => continue,
                }
            } else {
                continue;
            };
            out.push((a, o));
        }
        out
    }

    /// The source of an artifact argument in frame `f`, for a consumer inside `loops`.
    pub(crate) fn art_src(
        &mut self,
        f: FrameId,
        v: &Value,
        loops: &[usize],
    ) -> Result<ArtSrc, String> {
        self.art_src_for(f, v, loops, None)
    }

    /// [`WorkflowEmitter::art_src`] for a given consumer task (to find the alternatives of branch-bound
    /// names).
    pub(crate) fn art_src_for(
        &mut self,
        f: FrameId,
        v: &Value,
        loops: &[usize],
        consumer: Option<usize>,
    ) -> Result<ArtSrc, String> {
        let pipe = self.g.frames[f].pipe;
        Ok(match v {
            Value::Literal { value } if value.is_null() => ArtSrc::Absent,
            Value::Param { name } => {
                let r = Ref::Param(name.clone());
                let t = self.resolve(f, &r);
                ArtSrc::From(r, t)
            }
            Value::Output {
                task,
                output,
                collected,
            } => {
                let t = self
                    .task_index(pipe, task)
                    .ok_or_else(|| format!("unknown task `{task}`"))?;
                let in_exit = {
                    let root = self.g.tree_root(f);
                    self.g.frames[root].kind == FrameKind::Exit
                        && !self.pipes[pipe].tasks[t].is_finally
                };
                let prefix = *collected || self.callee_output_is_prefix(pipe, t, output);
                let alts = if prefix {
                    Vec::new()
                } else {
                    self.alternatives(pipe, consumer, t, output)
                };
                if alts.len() > 1 {
                    // Whichever branch ran: its output at its storage key.
                    let producer_loops = self.pipes[pipe].tasks[t].loops.clone();
                    let common = Self::common_loop(&producer_loops, loops);
                    let mut chain = String::new();
                    for (k, (a, o)) in alts.iter().enumerate() {
                        let id = self.pipes[pipe].tasks[*a].id.clone();
                        let key = self
                            .resolve(f, &Ref::Key)
                            .then_lit(&format!("/{id}/{o}"))
                            .then(self.resolve(f, &Ref::Iter(common)));
                        if k + 1 == alts.len() {
                            chain.push_str(&key.expr());
                        } else {
                            let status = self.resolve(f, &Ref::Status(*a)).expr();
                            chain.push_str(&format!("{status} == 'Succeeded' ? {} : ", key.expr()));
                        }
                    }
                    return Ok(ArtSrc::Key(Text::expr_tag(chain)));
                }
                if prefix || in_exit {
                    let path = self.key_path(pipe, t, output).ok_or_else(|| {
                        format!("output `{output}` of `{task}` has no storage key")
                    })?;
                    let producer_loops = self.pipes[pipe].tasks[t].loops.clone();
                    let common = Self::common_loop(&producer_loops, loops);
                    let mut key = self.resolve(f, &Ref::Key).then_lit(&path);
                    let iter = self.resolve(f, &Ref::Iter(common));
                    key.push(iter);
                    if prefix {
                        key.push_lit("/");
                    }
                    ArtSrc::Key(key)
                } else {
                    let r = Ref::Out(t, output.clone());
                    let text = self.resolve(f, &r);
                    ArtSrc::From(r, text)
                }
            }
            Value::List { items } => {
                let mut out = Vec::new();
                for i in items {
                    out.push(self.art_src_for(f, i, loops, consumer)?);
                }
                ArtSrc::List(out)
            }
            Value::Op { op, args } if op == "flatten" => {
                let (Some(reader), [Value::Output { task, output, .. }]) = (consumer, &args[..])
                else {
                    return Err(FLATTEN_READS.into());
                };
                let t = self
                    .task_index(pipe, task)
                    .ok_or_else(|| format!("unknown task `{task}`"))?;
                let key = (reader, t, output.clone());
                if !self.g.pipes[pipe].flatten.contains_key(&key) {
                    return Err(FLATTEN_READS.into());
                }
                let (mut key, iter) = self.flatten_key(f, reader, t, output);
                key.push(iter);
                key.push_lit("/");
                ArtSrc::Key(key)
            }
            _ => return Err("a value where an artifact is expected".into()),
        })
    }

    /// The identities of an artifact source, for cache keys: the storage keys of the artifacts
    /// (kept by Argo when the producer was itself reused from the cache).
    pub(crate) fn identities(&mut self, f: FrameId, src: &ArtSrc, out: &mut Vec<Text>) {
        match src {
            ArtSrc::From(Ref::Param(n), _) => {
                let t = self.resolve(f, &Ref::ParamKey(n.clone()));
                out.push(t);
            }
            ArtSrc::From(Ref::Out(t, o), _) => {
                let t = self.resolve(f, &Ref::OutKey(*t, o.clone()));
                out.push(t);
            }
            ArtSrc::From(..) => {}
            ArtSrc::Key(k) => out.push(k.clone()),
            ArtSrc::Absent => out.push(Text::lit("none")),
            ArtSrc::List(items) => {
                for i in items {
                    self.identities(f, i, out);
                }
            }
        }
    }

    /// Whether an artifact source may be missing at run time (its producer may be skipped).
    pub(crate) fn src_may_be_missing(&self, pipe: usize, src: &ArtSrc) -> bool {
        match src {
            ArtSrc::From(Ref::Out(t, _), _) => self.may_skip(pipe, *t),
            ArtSrc::From(Ref::Param(n), _) => {
                matches!(self.param_type(pipe, n), Some(TypeRepr::Optional { .. }))
            }
            ArtSrc::Key(_) => true,
            _ => false,
        }
    }

    /// The parameters, loop items and metrics a value reads.
    pub(crate) fn atoms(
        v: &Value,
        params: &mut BTreeSet<String>,
        items: &mut BTreeSet<usize>,
        metrics: &mut BTreeSet<(String, String)>,
    ) {
        match v {
            Value::Param { name } => {
                params.insert(name.clone());
            }
            Value::LoopItem { r#loop } => {
                items.insert(*r#loop);
            }
            Value::Metric { task, output, .. } => {
                metrics.insert((task.clone(), output.clone()));
            }
            Value::Template { parts } => {
                for p in parts {
                    if let Part::Value { value } = p {
                        Self::atoms(value, params, items, metrics);
                    }
                }
            }
            Value::List { items: xs } => {
                for x in xs {
                    Self::atoms(x, params, items, metrics);
                }
            }
            Value::Op { args, .. } => {
                for x in args {
                    Self::atoms(x, params, items, metrics);
                }
            }
            Value::Field { record, .. } => Self::atoms(record, params, items, metrics),
            _ => {}
        }
    }
}

fn literal_expr(v: &serde_json::Value) -> (String, Kind) {
    match v {
        serde_json::Value::Null => ("nil".into(), Kind::Unknown),
        serde_json::Value::Bool(b) => (b.to_string(), Kind::Bool),
        serde_json::Value::Number(n) => {
            let k = if n.is_f64() { Kind::Float } else { Kind::Int };
            (number_text(n), k)
        }
        serde_json::Value::String(s) => (expr_string(s), Kind::Str),
        serde_json::Value::Array(items) => (
            format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| literal_expr(i).0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::List,
        ),
        serde_json::Value::Object(_) => (expr_string(&v.to_string()), Kind::Str),
    }
}
