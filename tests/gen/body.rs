//! The statements of generated pipelines: calls of container steps, built-in steps and other
//! pipelines, `if`/`else if`/`else`, nested `for` loops over literal, parameter and run-time
//! lists (what nested loops gather read through `flatten`), checks, `finally` handlers,
//! `defaults` and outputs.

use super::builtins::builtin_call;
use super::rng::Rng;
use super::scope::{Kind, Scope, Val};
use super::steps::{container_call, Call, Decls};
use super::types::{literal, Ty};

/// A generated pipeline: its name, parameters and outputs (name, type, kind), for callers.
struct Signature {
    name: String,
    outputs: Vec<(String, Ty, Kind)>,
}

/// The state of one program being generated.
pub struct Gen {
    /// The random source.
    pub rng: Rng,
    /// The declarations so far.
    pub decls: Decls,
    /// Calls generated so far (steps and pipelines), in every pipeline.
    pub calls: usize,
    /// How many calls the program should have.
    pub budget: usize,
    /// Pipelines declared so far, callees first.
    pub pipelines: Vec<String>,
}

/// How deeply `if`s and `for`s nest, and pipelines call pipelines.
const MAX_NESTING: usize = 3;
const MAX_PIPELINE_DEPTH: usize = 2;

/// Statements of one body being written.
struct Body<'a> {
    lines: &'a mut Vec<String>,
    indent: usize,
    nesting: usize,
    depth: usize,
}

impl Body<'_> {
    fn line(&mut self, s: impl AsRef<str>) {
        self.lines
            .push(format!("{}{}", "  ".repeat(self.indent), s.as_ref()));
    }
}

impl Gen {
    /// Writes a pipeline with `params` (name, type, default) and a body of about `calls`
    /// calls, `depth` pipelines deep; returns its outputs.
    pub fn pipeline(
        &mut self,
        name: &str,
        params: &[(String, Ty, Option<String>)],
        calls: usize,
        depth: usize,
    ) -> Vec<(String, Ty, Kind)> {
        let mut scope = Scope::default();
        let mut decl = Vec::new();
        for (p, ty, default) in params {
            decl.push(match default {
                Some(d) => format!("{p}: {} = {d}", ty.text()),
                None => format!("{p}: {}", param_type(ty)),
            });
            push_value(&mut scope, p, ty, Kind::Param);
        }
        let mut lines = vec![format!("pipeline {name}({}) {{", decl.join(", "))];
        let mut body = Body {
            lines: &mut lines,
            indent: 1,
            nesting: 0,
            depth,
        };
        if self.rng.chance(30) {
            let d = [
                "cache off",
                "retries 2",
                "timeout 1h",
                "cache ttl 12h",
                "resources { cpu: 1, memory: 1Gi }",
                "node_selector { \"pool\": \"batch\" }",
            ];
            let a = self.rng.pick(&d).copied().unwrap_or_default();
            let b = self.rng.pick(&d).copied().unwrap_or_default();
            let both = if a == b || a.starts_with("cache") == b.starts_with("cache") {
                a.to_string()
            } else {
                format!("{a}  {b}")
            };
            body.line(format!("defaults {{ {both} }}"));
        }
        if self.rng.chance(10) {
            body.line(format!("parallel {}", self.rng.range(1, 5)));
        }
        let target = self.calls + calls.max(1);
        self.call_statement(&mut scope, &mut body);
        while self.calls < target {
            self.statement(&mut scope, &mut body);
        }
        if self.rng.chance(25) {
            let notify = self.decls.notify();
            let text = scope
                .vals
                .iter()
                .find(|v| v.kind == Kind::Param && v.ty == Ty::Str)
                .map_or("\"done\"".to_string(), |v| v.expr.clone());
            let text = match self.rng.below(4) {
                0 => "run.name".to_string(),
                1 => "run.status".to_string(),
                _ => text,
            };
            body.line(format!("finally {notify}(text: {text})"));
        }
        let outputs = self.outputs(&scope, &mut body);
        lines.push("}\n".into());
        self.decls.text.push(lines.join("\n"));
        self.pipelines.push(name.to_string());
        outputs
    }

    /// `output` statements for some top-level values; returns them.
    fn outputs(&mut self, scope: &Scope, body: &mut Body<'_>) -> Vec<(String, Ty, Kind)> {
        let mut outs = Vec::new();
        let candidates: Vec<Val> = scope
            .vals
            .iter()
            .filter(|v| v.block == 0 && matches!(v.kind, Kind::Output | Kind::Metric))
            .cloned()
            .collect();
        for _ in 0..self.rng.range(0, 3) {
            let Some(v) = self.rng.pick(&candidates).cloned() else {
                break;
            };
            if outs
                .iter()
                .any(|(_, _, e): &(String, Ty, String)| *e == v.expr)
            {
                continue;
            }
            let name = format!("out{}", outs.len());
            body.line(format!("output {name} = {}", v.expr));
            outs.push((name, v.ty.clone(), v.expr.clone()));
        }
        outs.into_iter()
            .map(|(n, t, e)| {
                let kind = if candidates
                    .iter()
                    .any(|v| v.expr == e && v.kind == Kind::Metric)
                {
                    Kind::Metric
                } else {
                    Kind::Output
                };
                (n, t, kind)
            })
            .collect()
    }

    /// One statement of a body.
    fn statement(&mut self, scope: &mut Scope, body: &mut Body<'_>) {
        let r = self.rng.below(100);
        let nest = body.nesting < MAX_NESTING && self.calls + 2 <= self.budget;
        if r < 12 && body.depth < MAX_PIPELINE_DEPTH && self.calls + 2 <= self.budget {
            self.pipeline_call(scope, body);
        } else if r < 27 && nest {
            self.if_statement(scope, body);
        } else if r < 40 && nest {
            self.for_statement(scope, body);
        } else if r < 47 {
            if !self.check_statement(scope, body) {
                self.call_statement(scope, body);
            }
        } else {
            self.call_statement(scope, body);
        }
    }

    /// A call of a container or built-in step, bound when it has outputs.
    fn call_statement(&mut self, scope: &mut Scope, body: &mut Body<'_>) {
        let mut call = if self.rng.chance(30) {
            builtin_call(&mut self.rng, scope, &mut self.decls)
        } else {
            container_call(&mut self.rng, scope, &mut self.decls)
        };
        self.calls += 1;
        if self.rng.chance(15) {
            let earlier: Vec<String> = scope
                .vals
                .iter()
                .filter(|v| v.kind == Kind::Output && !v.expr.contains('.'))
                .filter(|v| !matches!(v.ty, Ty::Opt(_) | Ty::List(_)))
                .map(|v| v.expr.clone())
                .collect();
            if let Some(a) = self.rng.pick(&earlier) {
                call.text = format!("{} after {a}", call.text);
            }
        }
        if self.rng.chance(12) {
            let settings = [
                "retries 2 within 1h",
                "cache off",
                "resources { memory: 2Gi }",
                "timeout 30m",
                "node_selector { \"pool\": \"highmem\" }",
            ];
            let s = self.rng.pick(&settings).copied().unwrap_or_default();
            call.text = format!("{} with {{ {s} }}", call.text);
        }
        self.bind(scope, body, &call, None);
    }

    /// Writes `call`, bound to `name` (or a fresh name) when it has outputs, and adds its
    /// outputs and metric values to scope.
    fn bind(&mut self, scope: &mut Scope, body: &mut Body<'_>, call: &Call, name: Option<&str>) {
        if call.outputs.is_empty() {
            body.line(&call.text);
            return;
        }
        let b = name.map_or_else(|| format!("b{}", self.decls.fresh()), str::to_string);
        body.line(format!("{b} = {}", call.text));
        add_outputs(scope, &b, &call.outputs);
    }

    /// A call of a new pipeline taking some values of scope.
    fn pipeline_call(&mut self, scope: &mut Scope, body: &mut Body<'_>) {
        let id = self.decls.fresh();
        let name = format!("sub{id}");
        let mut params = Vec::new();
        let mut args = Vec::new();
        let vals = scope.args();
        for i in 0..self.rng.range(0, 3) {
            let Some(v) = self.rng.pick(&vals).cloned() else {
                break;
            };
            let Some(ty) = sub_param(&v.ty) else {
                continue;
            };
            params.push((format!("q{i}"), ty, None));
            args.push(format!("q{i}: {}", v.expr));
        }
        if self.rng.chance(40) {
            let lit = literal(&Ty::Int, self.rng.below(5));
            params.push(("k".into(), Ty::Int, lit));
        }
        let calls = self
            .rng
            .range(1, 4)
            .min(self.budget.saturating_sub(self.calls));
        let outputs = self.pipeline(&name, &params, calls, body.depth + 1);
        self.calls += 1;
        let sig = Signature { name, outputs };
        let text = format!("{}({})", sig.name, args.join(", "));
        if sig.outputs.is_empty() {
            body.line(text);
            return;
        }
        let b = format!("b{}", self.decls.fresh());
        body.line(format!("{b} = {text}"));
        for (i, (o, ty, kind)) in sig.outputs.iter().enumerate() {
            let expr = if i == 0 {
                b.clone()
            } else {
                format!("{b}.{o}")
            };
            add_outputs_kind(scope, &expr, ty, *kind);
        }
    }

    /// `if`/`else if`/`else`, sometimes binding one name in every branch.
    fn if_statement(&mut self, scope: &mut Scope, body: &mut Body<'_>) {
        let Some(first) = condition(&mut self.rng, scope) else {
            return self.call_statement(scope, body);
        };
        let branches = self.rng.range(1, 3);
        let has_else = self.rng.chance(55);
        let shared = (has_else && self.rng.chance(35))
            .then(|| container_call(&mut self.rng, scope, &mut self.decls))
            .filter(|c| !c.outputs.is_empty());
        let shared_name = format!("b{}", self.decls.fresh());
        let mut exported: Vec<Val> = Vec::new();
        let total = branches + usize::from(has_else);
        for i in 0..total {
            let head = if i == 0 {
                format!("if {first} {{")
            } else if i < branches {
                let c = condition(&mut self.rng, scope).unwrap_or_else(|| first.clone());
                format!("}} else if {c} {{")
            } else {
                "} else {".to_string()
            };
            body.line(head);
            let saved = scope.enter();
            let mut inner = Body {
                lines: &mut *body.lines,
                indent: body.indent + 1,
                nesting: body.nesting + 1,
                depth: body.depth,
            };
            if let Some(call) = &shared {
                self.calls += 1;
                self.bind(scope, &mut inner, call, Some(&shared_name));
            } else {
                self.call_statement(scope, &mut inner);
            }
            if self.rng.chance(40) {
                self.statement(scope, &mut inner);
            }
            exported.extend(
                scope
                    .leave(saved)
                    .into_iter()
                    .filter(|v| v.kind == Kind::Output && !v.expr.starts_with(&shared_name)),
            );
        }
        body.line("}");
        if let Some(call) = &shared {
            add_outputs(scope, &shared_name, &call.outputs);
        }
        for v in exported {
            if !matches!(v.ty, Ty::Opt(_) | Ty::List(_)) {
                scope.push(v.expr, Ty::Opt(Box::new(v.ty)), Kind::Output);
            }
        }
    }

    /// `for x in list { ... }` over a literal list, a list parameter or a run-time list.
    fn for_statement(&mut self, scope: &mut Scope, body: &mut Body<'_>) {
        let lists: Vec<Val> = scope
            .args()
            .into_iter()
            .filter(|v| matches!(&v.ty, Ty::List(t) if t.is_scalar() || **t == Ty::Rec))
            .collect();
        let (list, elem) = match self.rng.pick(&lists) {
            Some(v) if self.rng.chance(70) => match &v.ty {
                Ty::List(t) => (v.expr.clone(), (**t).clone()),
                _ => return,
            },
            _ if self.rng.chance(20) => {
                let pick = self.rng.below(8);
                let recs = literal(&Ty::List(Box::new(Ty::Rec)), pick).unwrap_or_default();
                (recs, Ty::Rec)
            }
            _ if self.rng.chance(50) => ("[1, 2, 3]".to_string(), Ty::Int),
            _ => ("[\"a\", \"b\"]".to_string(), Ty::Str),
        };
        let x = format!("x{}", self.decls.fresh());
        let parallel = if self.rng.chance(20) {
            " parallel 2"
        } else {
            ""
        };
        body.line(format!("for {x} in {list}{parallel} {{"));
        let saved = scope.enter();
        push_value(scope, &x, &elem, Kind::Loop);
        let mut inner = Body {
            lines: &mut *body.lines,
            indent: body.indent + 1,
            nesting: body.nesting + 1,
            depth: body.depth,
        };
        self.call_statement(scope, &mut inner);
        for _ in 0..self.rng.range(0, 2) {
            self.statement(scope, &mut inner);
        }
        body.line("}");
        for v in scope.leave(saved) {
            if v.kind != Kind::Output {
                continue;
            }
            match &v.ty {
                Ty::Opt(_) => {}
                // Gathered by an inner loop: a list of lists here, read through `flatten`.
                Ty::List(t) if !matches!(**t, Ty::Opt(_) | Ty::List(_)) => {
                    if self.rng.chance(70) {
                        scope.push(format!("flatten({})", v.expr), v.ty, Kind::Output);
                    }
                }
                Ty::List(_) => {}
                _ => scope.push(v.expr, Ty::List(Box::new(v.ty)), Kind::Output),
            }
        }
    }

    /// `check` over a metric value (maybe with a parameter or loop variable); false when scope
    /// has no metric value.
    fn check_statement(&mut self, scope: &mut Scope, body: &mut Body<'_>) -> bool {
        let metrics: Vec<Val> = scope
            .vals
            .iter()
            .filter(|v| v.kind == Kind::Metric && v.ty.is_scalar())
            .cloned()
            .collect();
        let Some(m) = self.rng.pick(&metrics).cloned() else {
            return false;
        };
        let mut c = atom(&mut self.rng, &m);
        let others: Vec<Val> = scope
            .vals
            .iter()
            .filter(|v| matches!(v.kind, Kind::Param | Kind::Loop) && v.ty.is_scalar())
            .cloned()
            .collect();
        if self.rng.chance(30) {
            if let Some(o) = self.rng.pick(&others).cloned() {
                c = format!("{} or {c}", atom(&mut self.rng, &o));
            }
        }
        body.line(format!("check {c}"));
        true
    }
}

/// Adds a parameter or loop variable to scope, and the fields of a record with it.
fn push_value(scope: &mut Scope, name: &str, ty: &Ty, kind: Kind) {
    scope.push(name, ty.clone(), kind);
    if *ty == Ty::Rec {
        for (field, fty) in super::types::REC_FIELDS {
            scope.push(format!("{name}.{field}"), fty, kind);
        }
    }
}

/// Adds the outputs of a call bound to `b` to scope, with the metric values of each metrics
/// output.
fn add_outputs(scope: &mut Scope, b: &str, outputs: &[(String, Ty)]) {
    for (suffix, ty) in outputs {
        add_outputs_kind(scope, &format!("{b}{suffix}"), ty, Kind::Output);
    }
}

fn add_outputs_kind(scope: &mut Scope, expr: &str, ty: &Ty, kind: Kind) {
    scope.push(expr, ty.clone(), kind);
    if let Ty::Metrics(m) = ty {
        for (key, kty) in m.keys() {
            scope.push(format!("{expr}.{key}"), kty.clone(), Kind::Metric);
        }
    }
}

/// The type of a pipeline parameter declared without a default.
fn param_type(ty: &Ty) -> String {
    match ty {
        Ty::Table(_) => "Table<{ region: Str }>".into(),
        Ty::Metrics(_) => "Metrics<{ score: Float, ok: Bool, n: Int }>".into(),
        Ty::Opt(t) => format!("{}?", param_type(t)),
        Ty::List(t) => format!("List<{}>", param_type(t)),
        t => t.text(),
    }
}

/// The type a called pipeline's parameter has inside it, for an argument of type `ty`.
fn sub_param(ty: &Ty) -> Option<Ty> {
    use super::types::Schema;
    Some(match ty {
        t if t.is_value() => t.clone(),
        Ty::File | Ty::Dir | Ty::Model | Ty::Json => ty.clone(),
        Ty::Metrics(super::types::Metric::Own) => ty.clone(),
        Ty::Table(s) if s.has_region() => Ty::Table(Schema::Selected),
        Ty::Opt(t) if t.is_scalar() || matches!(**t, Ty::File) => ty.clone(),
        _ => return None,
    })
}

/// A `Bool` expression over one value.
fn atom(rng: &mut Rng, v: &Val) -> String {
    let e = &v.expr;
    match &v.ty {
        Ty::Bool if rng.chance(30) => format!("not {e}"),
        Ty::Bool => e.clone(),
        Ty::Str => format!("{e} == \"heads\""),
        Ty::Int => format!("{e} > 2"),
        Ty::Float => format!("{e} <= 0.5"),
        Ty::Date => format!("{e} == \"2024-06-03\""),
        Ty::Opt(_) => format!("{e} != none"),
        _ => "true".into(),
    }
}

/// A condition over one or two values of scope (parameters, loop variables, value outputs,
/// metric values, optional values), or `None` when scope has none.
fn condition(rng: &mut Rng, scope: &Scope) -> Option<String> {
    let vals: Vec<Val> = scope
        .vals
        .iter()
        .filter(|v| v.ty.is_scalar() || matches!(&v.ty, Ty::Opt(t) if t.is_scalar()))
        .cloned()
        .collect();
    let a = rng.pick(&vals)?.clone();
    let mut c = atom(rng, &a);
    if rng.chance(30) {
        if let Some(b) = rng.pick(&vals).cloned() {
            let op = if rng.chance(50) { "and" } else { "or" };
            c = format!("{c} {op} {}", atom(rng, &b));
        }
    }
    Some(c)
}
