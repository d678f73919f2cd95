//! Checking pipelines: bindings, scopes of `if` and `for`, the step graph, outputs and checks.
//!
//! Statements are declarative: a name may be used before the statement that binds it, so the
//! checker first collects every call and binding with its enclosing frames (`if` branches and
//! `for` loops), then builds the dependency graph (data flow, `after`, and the conditions and
//! lists of enclosing frames), reports cycles, and types the calls in topological order.
//! A name bound inside a `for` is a `List` outside it (fan-in); a name bound in an `if` branch is
//! optional outside it unless every branch of the chain binds it.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};

use super::expr::Producer;
use super::lower::{ParamSig, StepSig};
use super::props::{Place, ResolvedProps};
use super::schedule::{check_cron, is_iana_zone};
use super::Checker;
use crate::diagnostics::{graph, lints, names, ops, types};
use crate::resolve::{DeclId, ModuleId};
use crate::suggest::did_you_mean;
use crate::types::{Scalar, Schema, Ty};
use flowc_grammar::ast::{Block, Call, Else, Expr, ExprKind, Ident, Item, StmtKind};
use flowc_grammar::Span;

/// An enclosing construct of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Inside loop number `id`.
    For {
        /// The loop's index in [`PipelineInfo::loops`].
        id: usize,
    },
    /// Inside branch `branch` of `if` chain `chain`.
    If {
        /// The chain's index in [`PipelineInfo::ifs`].
        chain: usize,
        /// The branch, counted from 0.
        branch: usize,
    },
}

/// A call of a step or pipeline inside a pipeline: one node of the step graph.
#[derive(Clone, Debug)]
pub struct CallNode {
    /// The name the call is bound to, if any.
    pub name: Option<Ident>,
    /// The call as written.
    pub call: Call,
    /// The step or pipeline called, when it resolved.
    pub callee: Option<DeclId>,
    /// Whether the callee is a pipeline.
    pub callee_is_pipeline: bool,
    /// Enclosing frames, outermost first.
    pub frames: Vec<Frame>,
    /// Whether it is a `finally` exit handler.
    pub is_finally: bool,
    /// Outputs with their types, once checked.
    pub outputs: Vec<(String, Ty)>,
    /// Argument types, once checked.
    pub arg_types: IndexMap<String, Ty>,
    /// Schema variables bound by the arguments.
    pub bindings: IndexMap<String, Schema>,
    /// Nodes this one reads data from.
    pub data_deps: BTreeSet<usize>,
    /// Nodes named in `after`.
    pub after_deps: BTreeSet<usize>,
    /// Nodes it depends on through enclosing `if` conditions and `for` lists.
    pub frame_deps: BTreeSet<usize>,
}

/// A name bound to a call.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The node of the call.
    pub node: usize,
    /// Where the name is written.
    pub span: Span,
}

/// A pipeline output.
#[derive(Clone, Debug)]
pub struct PipelineOutput {
    /// Its name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// Its type.
    pub ty: Ty,
}

/// A `for` loop.
#[derive(Clone, Debug)]
pub struct LoopInfo {
    /// The loop variable.
    pub var: Ident,
    /// The list iterated over.
    pub iter: Expr,
    /// The most iterations at once.
    pub parallel: Option<i64>,
    /// Enclosing frames of the loop itself.
    pub frames: Vec<Frame>,
    /// The element type, once checked.
    pub elem: Option<Ty>,
}

/// An `if` chain.
#[derive(Clone, Debug)]
pub struct IfInfo {
    /// One condition per branch; `None` for a final `else`.
    pub conditions: Vec<Option<Expr>>,
    /// Enclosing frames of the chain.
    pub frames: Vec<Frame>,
}

/// A checked pipeline.
#[derive(Clone, Debug)]
pub struct PipelineInfo {
    /// Its declaration.
    pub decl: DeclId,
    /// Its signature, for calling it as a step.
    pub sig: StepSig,
    /// Call nodes in source order.
    pub nodes: Vec<CallNode>,
    /// Bound names.
    pub bindings: IndexMap<String, Vec<Binding>>,
    /// Loops.
    pub loops: Vec<LoopInfo>,
    /// `if` chains.
    pub ifs: Vec<IfInfo>,
    /// Pipeline outputs.
    pub outputs: Vec<PipelineOutput>,
    /// `check` expressions with their frames.
    pub checks: Vec<(Expr, Vec<Frame>)>,
    /// `defaults`.
    pub defaults: ResolvedProps,
    /// `schedule` cron expression and time zone.
    pub schedule: Option<(String, Option<String>)>,
    /// Whether the step graph has a cycle.
    pub has_cycle: bool,
}

struct StatementCollector {
    nodes: Vec<CallNode>,
    bindings: IndexMap<String, Vec<Binding>>,
    loops: Vec<LoopInfo>,
    ifs: Vec<IfInfo>,
    outputs: Vec<(Ident, Expr)>,
    checks: Vec<(Expr, Vec<Frame>)>,
    defaults: Vec<(Span, Vec<flowc_grammar::ast::Prop>)>,
    schedules: Vec<(Span, String, Option<String>, Span)>,
    misplaced: Vec<(Span, &'static str)>,
}

impl StatementCollector {
    fn block(&mut self, block: &Block, frames: &mut Vec<Frame>) {
        for stmt in &block.stmts {
            self.stmt(stmt, frames);
        }
    }

    fn stmt(&mut self, stmt: &flowc_grammar::ast::Stmt, frames: &mut Vec<Frame>) {
        let nested = !frames.is_empty();
        match &stmt.kind {
            StmtKind::Defaults(props) => {
                if nested {
                    self.misplaced.push((stmt.span, "defaults"));
                } else {
                    self.defaults.push((stmt.span, props.clone()));
                }
            }
            StmtKind::Schedule { cron, timezone } => {
                if nested {
                    self.misplaced.push((stmt.span, "schedule"));
                } else {
                    self.schedules.push((
                        cron.span,
                        cron.value.clone(),
                        timezone.as_ref().map(|t| t.value.clone()),
                        timezone.as_ref().map_or(cron.span, |t| t.span),
                    ));
                }
            }
            StmtKind::If { .. } => {
                let chain = self.ifs.len();
                self.ifs.push(IfInfo {
                    conditions: Vec::new(),
                    frames: frames.clone(),
                });
                let mut branch = 0;
                let mut current = Some(stmt);
                while let Some(s) = current.take() {
                    let StmtKind::If {
                        cond,
                        then,
                        otherwise,
                    } = &s.kind
                    else {
                        break;
                    };
                    self.ifs[chain].conditions.push(Some(cond.clone()));
                    frames.push(Frame::If { chain, branch });
                    self.block(then, frames);
                    frames.pop();
                    branch += 1;
                    match otherwise {
                        Some(Else::If(next)) => current = Some(next),
                        Some(Else::Block(b)) => {
                            self.ifs[chain].conditions.push(None);
                            frames.push(Frame::If { chain, branch });
                            self.block(b, frames);
                            frames.pop();
                        }
                        None => {}
                    }
                }
            }
            StmtKind::For {
                var,
                iter,
                parallel,
                body,
            } => {
                let id = self.loops.len();
                self.loops.push(LoopInfo {
                    var: var.clone(),
                    iter: iter.clone(),
                    parallel: parallel.as_ref().map(|p| p.value),
                    frames: frames.clone(),
                    elem: None,
                });
                frames.push(Frame::For { id });
                self.block(body, frames);
                frames.pop();
            }
            StmtKind::Check(e) => self.checks.push((e.clone(), frames.clone())),
            StmtKind::Output { name, value } => {
                if nested {
                    self.misplaced.push((stmt.span, "output"));
                }
                let value = value.clone().unwrap_or(Expr {
                    span: name.span,
                    kind: ExprKind::Path(vec![name.clone()]),
                });
                self.outputs.push((name.clone(), value));
            }
            StmtKind::Finally(call) => {
                if nested {
                    self.misplaced.push((stmt.span, "finally"));
                }
                self.node(None, call, frames, true);
            }
            StmtKind::Bind { name, call } => self.node(Some(name.clone()), call, frames, false),
            StmtKind::Call(call) => self.node(None, call, frames, false),
        }
    }

    fn node(&mut self, name: Option<Ident>, call: &Call, frames: &[Frame], is_finally: bool) {
        let id = self.nodes.len();
        if let Some(n) = &name {
            self.bindings
                .entry(n.name.clone())
                .or_default()
                .push(Binding {
                    node: id,
                    span: n.span,
                });
        }
        self.nodes.push(CallNode {
            name,
            call: call.clone(),
            callee: None,
            callee_is_pipeline: false,
            frames: frames.to_vec(),
            is_finally,
            outputs: Vec::new(),
            arg_types: IndexMap::new(),
            bindings: IndexMap::new(),
            data_deps: BTreeSet::new(),
            after_deps: BTreeSet::new(),
            frame_deps: BTreeSet::new(),
        });
    }
}

/// First names referenced by an expression (paths and `${}` interpolations).
pub(crate) fn expr_names(e: &Expr, out: &mut Vec<Ident>) {
    match &e.kind {
        ExprKind::Path(p) => out.extend(p.first().cloned()),
        ExprKind::Str(s) => out.extend(s.vars().cloned()),
        ExprKind::List(items) => items.iter().for_each(|i| expr_names(i, out)),
        ExprKind::Record(r) => r.fields.iter().for_each(|f| expr_names(&f.value, out)),
        ExprKind::Paren(inner) | ExprKind::Not { expr: inner, .. } => expr_names(inner, out),
        ExprKind::Chain { first, rest } => {
            expr_names(first, out);
            rest.iter().for_each(|(_, _, e)| expr_names(e, out));
        }
        ExprKind::Compare { lhs, rhs, .. } => {
            expr_names(lhs, out);
            expr_names(rhs, out);
        }
        _ => {}
    }
}

/// Length of the common prefix of two frame lists.
fn common_prefix(a: &[Frame], b: &[Frame]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Whether two binding sites are alternatives (different branches of one `if` chain).
fn alternatives(a: &[Frame], b: &[Frame]) -> bool {
    let k = common_prefix(a, b);
    matches!(
        (a.get(k), b.get(k)),
        (Some(Frame::If { chain: c1, branch: b1 }), Some(Frame::If { chain: c2, branch: b2 })) if c1 == c2 && b1 != b2
    )
}

/// The state of checking one pipeline.
pub(crate) struct PipelineCheck {
    pub m: ModuleId,
    pub info: PipelineInfo,
    /// Whether each node's outputs are typed.
    pub typed: Vec<bool>,
    /// Names referenced, for unused-name warnings.
    pub used: BTreeSet<String>,
}

impl Checker<'_> {
    /// The checked pipeline `decl`, checking it the first time.
    /// Returns `None` while it is being checked (a recursive call).
    pub fn pipeline(&mut self, decl: DeclId) -> Option<StepSig> {
        if let Some(p) = self.out.pipelines.get(&decl) {
            return Some(p.sig.clone());
        }
        if !self.in_progress.insert(decl) {
            return None;
        }
        let Item::Pipeline(ast) = self.item(decl) else {
            self.in_progress.remove(&decl);
            return None;
        };
        let m = decl.module;
        let file = self.file(m);

        // Parameters.
        let mut params: Vec<ParamSig> = Vec::new();
        for p in &ast.params {
            if let Some(prev) = params.iter().find(|q| q.name == p.name.name) {
                let prev = prev.span;
                self.push(names::declared_twice(
                    file,
                    p.name.span,
                    prev,
                    "parameter",
                    &p.name.name,
                ));
                continue;
            }
            let ty = self.ty(m, &p.ty, &[]);
            if matches!(ty.strip_optional(), Ty::Columns(_) | Ty::Column(_)) {
                self.push(names::columns_as_pipeline_parameter(file, p.ty.span));
            }
            if let Some(d) = &p.default {
                self.check_default(m, &ty, d);
            }
            params.push(ParamSig {
                name: p.name.name.clone(),
                ty,
                default: p.default.clone(),
                span: p.span,
            });
        }

        // Collect statements.
        let mut col = StatementCollector {
            nodes: Vec::new(),
            bindings: IndexMap::new(),
            loops: Vec::new(),
            ifs: Vec::new(),
            outputs: Vec::new(),
            checks: Vec::new(),
            defaults: Vec::new(),
            schedules: Vec::new(),
            misplaced: Vec::new(),
        };
        col.block(&ast.body, &mut Vec::new());
        for (span, what) in &col.misplaced {
            self.push(ops::misplaced_pipeline_statement(file, *span, what));
        }
        let mut defaults = ResolvedProps::default();
        for (i, (span, props)) in col.defaults.iter().enumerate() {
            if i > 0 {
                self.push(ops::second_defaults(file, *span));
                continue;
            }
            defaults = self.props(m, props, Place::Defaults);
        }
        let mut schedule = None;
        for (i, (span, cron, tz, tz_span)) in col.schedules.iter().enumerate() {
            if i > 0 {
                self.push(ops::second_schedule(file, *span));
                continue;
            }
            if let Err(problem) = check_cron(cron) {
                self.push(ops::invalid_cron(file, *span, cron, &problem));
            }
            if let Some(tz) = tz {
                if !is_iana_zone(tz) {
                    self.push(ops::unknown_time_zone(file, *tz_span, tz));
                }
            }
            schedule = Some((cron.clone(), tz.clone()));
        }

        // Duplicate bindings and shadowing.
        for (name, sites) in &col.bindings {
            for (j, site) in sites.iter().enumerate() {
                let frames_j = &col.nodes[site.node].frames;
                let clash = sites[..j]
                    .iter()
                    .find(|s| !alternatives(&col.nodes[s.node].frames, frames_j));
                if let Some(prev) = clash {
                    self.push(names::bound_twice(file, site.span, prev.span, name));
                }
            }
            if let Some(p) = params.iter().find(|p| &p.name == name) {
                self.push(names::binding_shadows_parameter(
                    file,
                    sites[0].span,
                    p.span,
                    name,
                ));
            }
        }

        let n = col.nodes.len();
        let sig_outputs = Vec::new();
        let mut pc = PipelineCheck {
            m,
            info: PipelineInfo {
                decl,
                sig: StepSig {
                    name: ast.name.name.clone(),
                    decl,
                    builtin: false,
                    generics: Vec::new(),
                    params,
                    outputs: sig_outputs,
                },
                nodes: col.nodes,
                bindings: col.bindings,
                loops: col.loops,
                ifs: col.ifs,
                outputs: Vec::new(),
                checks: col.checks,
                defaults,
                schedule,
                has_cycle: false,
            },
            typed: vec![false; n],
            used: BTreeSet::new(),
        };

        // Dependencies.
        self.dependencies(&mut pc);
        let order = self.order(&mut pc);
        for i in order {
            self.check_call(&mut pc, i);
            pc.typed[i] = true;
        }

        // A name bound in several branches must have one type.
        for (name, sites) in &pc.info.bindings {
            let Some(first) = sites.first() else { continue };
            let t0 = pc.info.nodes[first.node]
                .outputs
                .first()
                .map(|(_, t)| t.clone());
            for site in &sites[1..] {
                let t = pc.info.nodes[site.node]
                    .outputs
                    .first()
                    .map(|(_, t)| t.clone());
                if let (Some(a), Some(b)) = (&t0, &t) {
                    if !(super::assign::assign(a, b).is_empty()
                        && super::assign::assign(b, a).is_empty())
                    {
                        self.push(types::branch_type_mismatch(
                            file, site.span, first.span, name, a, b,
                        ));
                    }
                }
            }
        }

        // Conditions, loops, checks, outputs.
        for chain in 0..pc.info.ifs.len() {
            let conds = pc.info.ifs[chain].conditions.clone();
            let frames = pc.info.ifs[chain].frames.clone();
            for c in conds.iter().flatten() {
                let t = self.value(&mut pc, c, &frames, None);
                self.expect_bool(m, c, &t, "an `if` condition");
            }
        }
        for id in 0..pc.info.loops.len() {
            self.loop_elem(&mut pc, id);
        }
        for (e, frames) in pc.info.checks.clone() {
            let t = self.value(&mut pc, &e, &frames, None);
            self.expect_bool(m, &e, &t, "a `check`");
        }
        let mut outputs: Vec<PipelineOutput> = Vec::new();
        for (name, value) in col.outputs {
            if let Some(prev) = outputs.iter().find(|o| o.name.name == name.name) {
                let prev = prev.name.span;
                self.push(names::duplicate_output(file, name.span, prev, &name.name));
                continue;
            }
            let ty = self.value(&mut pc, &value, &[], None);
            outputs.push(PipelineOutput { name, value, ty });
        }
        pc.info.sig.outputs = outputs
            .iter()
            .map(|o| ParamSig {
                name: o.name.name.clone(),
                ty: o.ty.clone(),
                default: None,
                span: o.name.span,
            })
            .collect();
        pc.info.outputs = outputs;

        self.unused_in_pipeline(&pc, &ast.params);
        let sig = pc.info.sig.clone();
        self.out.pipelines.insert(decl, pc.info);
        self.in_progress.remove(&decl);
        Some(sig)
    }

    fn expect_bool(&mut self, m: ModuleId, e: &Expr, t: &Ty, what: &str) {
        if t.is_error() || matches!(t, Ty::Scalar(Scalar::Bool)) {
            return;
        }
        let file = self.file(m);
        self.push(types::not_bool(file, e.span, what, t));
    }

    /// Fills the dependency sets of every node.
    fn dependencies(&mut self, pc: &mut PipelineCheck) {
        let file = self.file(pc.m);
        for i in 0..pc.info.nodes.len() {
            // Arguments that take column names hold no references to bindings.
            let callee = pc.info.nodes[i].call.callee.name.clone();
            let column_params: Vec<String> = match self.program.module(pc.m).scope.get(&callee) {
                Some(e) if e.kind == crate::resolve::DeclKind::Step => self
                    .step_sig(e.decl)
                    .map(|sig| {
                        sig.params
                            .iter()
                            .filter(|p| {
                                matches!(p.ty.strip_optional(), Ty::Columns(_) | Ty::Column(_))
                            })
                            .map(|p| p.name.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            let node = &pc.info.nodes[i];
            let mut names = Vec::new();
            for a in &node.call.args {
                if !column_params.contains(&a.name.name) {
                    expr_names(&a.value, &mut names);
                }
            }
            // Names resolve as in `resolve_path`: loop variables, then parameters, then bindings.
            let shadowed = |name: &str, frames: &[Frame]| {
                pc.info.sig.params.iter().any(|p| p.name == name)
                    || frames.iter().any(
                        |f| matches!(f, Frame::For { id } if pc.info.loops[*id].var.name == name),
                    )
            };
            let mut data = BTreeSet::new();
            for n in &names {
                if shadowed(&n.name, &node.frames) {
                    continue;
                }
                if let Some(sites) = pc.info.bindings.get(&n.name) {
                    data.extend(sites.iter().map(|s| s.node));
                }
            }
            let mut frame_names = Vec::new();
            for f in &node.frames {
                match f {
                    Frame::For { id } => expr_names(&pc.info.loops[*id].iter, &mut frame_names),
                    Frame::If { chain, branch } => {
                        for c in pc.info.ifs[*chain].conditions[..=*branch].iter().flatten() {
                            expr_names(c, &mut frame_names);
                        }
                    }
                }
            }
            let mut frame_deps = BTreeSet::new();
            for n in &frame_names {
                if shadowed(&n.name, &node.frames) {
                    continue;
                }
                if let Some(sites) = pc.info.bindings.get(&n.name) {
                    frame_deps.extend(sites.iter().map(|s| s.node));
                }
            }
            let mut after = BTreeSet::new();
            let after_names = node.call.after.clone();
            for a in &after_names {
                pc.used.insert(a.name.clone());
                match pc.info.bindings.get(&a.name) {
                    Some(sites) => after.extend(sites.iter().map(|s| s.node)),
                    None => {
                        let cands: Vec<&str> =
                            pc.info.bindings.keys().map(String::as_str).collect();
                        let what = if pc.info.sig.params.iter().any(|p| p.name == a.name) {
                            "a parameter, not a step call"
                        } else {
                            "not a step call of this pipeline"
                        };
                        self.push(graph::invalid_after(file, a.span, &a.name, what, &cands));
                    }
                }
            }
            let node = &mut pc.info.nodes[i];
            node.data_deps = data;
            node.frame_deps = frame_deps;
            node.after_deps = after;
        }
    }

    /// A topological order of the nodes; reports cycles (E301).
    fn order(&mut self, pc: &mut PipelineCheck) -> Vec<usize> {
        let file = self.file(pc.m);
        let n = pc.info.nodes.len();
        let mut g = DiGraph::<usize, ()>::with_capacity(n, n);
        let idx: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
        for (i, node) in pc.info.nodes.iter().enumerate() {
            for d in node
                .data_deps
                .iter()
                .chain(&node.after_deps)
                .chain(&node.frame_deps)
            {
                g.add_edge(idx[*d], idx[i], ());
            }
        }
        let sccs = petgraph::algo::tarjan_scc(&g);
        let mut order = Vec::with_capacity(n);
        for scc in sccs.iter().rev() {
            let mut members: Vec<usize> = scc.iter().map(|x| g[*x]).collect();
            members.sort_unstable();
            let self_loop = members.len() == 1 && g.contains_edge(idx[members[0]], idx[members[0]]);
            if members.len() > 1 || self_loop {
                pc.info.has_cycle = true;
                let label = |node: &CallNode| {
                    node.name
                        .as_ref()
                        .map_or(node.call.callee.name.clone(), |x| x.name.clone())
                };
                let names: Vec<String> =
                    members.iter().map(|i| label(&pc.info.nodes[*i])).collect();
                let first = &pc.info.nodes[members[0]];
                let mut d = graph::step_cycle(
                    file,
                    first.name.as_ref().map_or(first.call.span, |x| x.span),
                    &names,
                    self_loop,
                );
                for &mbr in &members[1..] {
                    let node = &pc.info.nodes[mbr];
                    d = d.with_label(
                        file,
                        node.name.as_ref().map_or(node.call.span, |x| x.span),
                        "and this one",
                    );
                }
                let through_after = members.iter().any(|m| {
                    pc.info.nodes[*m]
                        .after_deps
                        .iter()
                        .any(|d| members.contains(d))
                });
                if through_after {
                    d = d.with_note("the cycle goes through an `after` clause");
                }
                self.push(
                    d.with_help("a step cannot use its own result; remove one of the dependencies"),
                );
            }
            order.extend(members);
        }
        order
    }

    /// The element type of loop `id`, typing its list once.
    pub(crate) fn loop_elem(&mut self, pc: &mut PipelineCheck, id: usize) -> Ty {
        if let Some(t) = &pc.info.loops[id].elem {
            return t.clone();
        }
        // Mark in progress with the error type to stop recursion through the list itself.
        pc.info.loops[id].elem = Some(Ty::Error);
        let l = pc.info.loops[id].clone();
        let t = self.value(pc, &l.iter, &l.frames, None);
        let elem = match t.strip_optional() {
            Ty::List(e) => (**e).clone(),
            Ty::Error => Ty::Error,
            other => {
                let file = self.file(pc.m);
                self.push(types::not_a_list(file, l.iter.span, other));
                Ty::Error
            }
        };
        if let Some(p) = l.parallel {
            if p < 1 {
                let file = self.file(pc.m);
                self.push(ops::parallel_below_one(file, l.iter.span));
            }
        }
        pc.info.loops[id].elem = Some(elem.clone());
        elem
    }

    /// Types a value expression in the scope of `frames`.
    pub(crate) fn value(
        &mut self,
        pc: &mut PipelineCheck,
        e: &Expr,
        frames: &[Frame],
        hint: Option<&Ty>,
    ) -> Ty {
        let m = pc.m;
        let frames = frames.to_vec();
        let mut resolve =
            |checker: &mut Checker<'_>, path: &[Ident]| checker.resolve_path(pc, path, &frames);
        self.expr_ty(m, e, hint, &mut resolve)
    }

    /// Resolves `name` or `name.member` seen from `frames`.
    pub(crate) fn resolve_path(
        &mut self,
        pc: &mut PipelineCheck,
        path: &[Ident],
        frames: &[Frame],
    ) -> Ty {
        let file = self.file(pc.m);
        let Some(first) = path.first() else {
            return Ty::Error;
        };
        pc.used.insert(first.name.clone());
        // Loop variables in scope.
        for f in frames.iter().rev() {
            if let Frame::For { id } = f {
                if pc.info.loops[*id].var.name == first.name {
                    let t = self.loop_elem(pc, *id);
                    return self.member(pc, t, path, None);
                }
            }
        }
        if let Some(p) = pc.info.sig.params.iter().find(|p| p.name == first.name) {
            let t = p.ty.clone();
            return self.member(pc, t, path, None);
        }
        if let Some(sites) = pc.info.bindings.get(&first.name).cloned() {
            let site = &sites[0];
            let node = site.node;
            if !pc.typed[node] {
                return Ty::Error;
            }
            let outputs = pc.info.nodes[node].outputs.clone();
            let (t, consumed_member) = match path.get(1) {
                Some(member) => match outputs.iter().find(|(n, _)| *n == member.name) {
                    Some((_, t)) => (t.clone(), true),
                    None => (outputs.first().map_or(Ty::Error, |(_, t)| t.clone()), false),
                },
                None => match outputs.first() {
                    Some((_, t)) => (t.clone(), false),
                    // The call did not resolve: its error is already reported.
                    None if pc.info.nodes[node].callee.is_none() => return Ty::Error,
                    None => {
                        self.push(names::no_output(file, first.span, &first.name));
                        return Ty::Error;
                    }
                },
            };
            // Wrap by the frames the binding sits in that the reference is outside of.
            let bframes = pc.info.nodes[node].frames.clone();
            let k = common_prefix(&bframes, frames);
            let mut t = t;
            let mut wrap_optional = false;
            for f in bframes[k..].iter().rev() {
                match f {
                    Frame::For { .. } => t = Ty::List(Box::new(t)),
                    Frame::If { chain, .. } => {
                        let info = &pc.info.ifs[*chain];
                        let has_else = info.conditions.last().is_some_and(Option::is_none);
                        let branches = info.conditions.len();
                        let bound: BTreeSet<usize> = sites
                            .iter()
                            .filter_map(|s| {
                                pc.info.nodes[s.node].frames.iter().find_map(|fr| match fr {
                                    Frame::If { chain: c, branch } if c == chain => Some(*branch),
                                    _ => None,
                                })
                            })
                            .collect();
                        if !(has_else && bound.len() == branches) {
                            wrap_optional = true;
                        }
                    }
                }
            }
            if wrap_optional {
                t = Ty::Optional(Box::new(t));
            }
            let rest = if consumed_member {
                &path[2..]
            } else {
                &path[1..]
            };
            if rest.is_empty() {
                return t;
            }
            let names: Vec<String> = outputs.iter().map(|(n, _)| n.clone()).collect();
            return self.member(
                pc,
                t,
                &path[if consumed_member { 1 } else { 0 }..],
                Some(&names),
            );
        }
        if let Some(e) = self.program.module(pc.m).scope.get(&first.name).cloned() {
            if e.kind == crate::resolve::DeclKind::Secret {
                self.lookup(pc.m, &first.name);
                self.push(ops::secret_as_value(file, first.span, &first.name));
                return Ty::Error;
            }
        }
        let mut cands: Vec<String> = pc.info.sig.params.iter().map(|p| p.name.clone()).collect();
        cands.extend(pc.info.bindings.keys().cloned());
        for f in frames {
            if let Frame::For { id } = f {
                cands.push(pc.info.loops[*id].var.name.clone());
            }
        }
        self.push(names::unknown_pipeline_name(
            file,
            first.span,
            &first.name,
            &cands,
        ));
        Ty::Error
    }

    /// Applies the members of `path` after its first element to `t`: metric keys.
    fn member(
        &mut self,
        pc: &PipelineCheck,
        t: Ty,
        path: &[Ident],
        outputs: Option<&[String]>,
    ) -> Ty {
        let file = self.file(pc.m);
        let Some(member) = path.get(1) else { return t };
        let base = t.strip_optional().clone();
        let result = match &base {
            Ty::Metrics(Some(keys)) => match keys.columns.get(&member.name) {
                Some(c) => Ty::Scalar(c.ty),
                None => {
                    let cands: Vec<&str> = keys.columns.keys().map(String::as_str).collect();
                    self.push(names::unknown_metric(
                        file,
                        member.span,
                        &path[0].name,
                        &member.name,
                        &cands,
                    ));
                    return Ty::Error;
                }
            },
            Ty::Metrics(None) => Ty::Scalar(Scalar::Float),
            Ty::Error => return Ty::Error,
            other => {
                let mut d = names::no_member(file, member.span, &path[0].name, &member.name, other);
                if let Some(outs) = outputs {
                    d = d
                        .with_help_opt(did_you_mean(&member.name, outs.iter().map(String::as_str)))
                        .with_note(format!("its outputs are: {}", outs.join(", ")));
                }
                self.push(d);
                return Ty::Error;
            }
        };
        if path.len() > 2 {
            self.push(names::member_of_metric(file, path[2].span));
            return Ty::Error;
        }
        if matches!(t, Ty::Optional(_)) {
            Ty::Optional(Box::new(result))
        } else {
            result
        }
    }

    /// Producer information for a value expression (the call that made it).
    pub(crate) fn producer_of(&self, pc: &PipelineCheck, e: &Expr) -> Option<Producer> {
        let ExprKind::Path(p) = &e.kind else {
            return None;
        };
        let first = p.first()?;
        let sites = pc.info.bindings.get(&first.name)?;
        let node = &pc.info.nodes[sites[0].node];
        Some(Producer {
            file: self.file(pc.m),
            span: node.call.span,
            label: format!(
                "`{}` is produced by `{}` here",
                first.name, node.call.callee.name
            ),
        })
    }

    fn unused_in_pipeline(&mut self, pc: &PipelineCheck, params: &[flowc_grammar::ast::Param]) {
        let file = self.file(pc.m);
        for p in params {
            if !pc.used.contains(&p.name.name) {
                self.push(lints::unused_parameter(file, p.name.span, &p.name.name));
            }
        }
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for (name, sites) in &pc.info.bindings {
            if pc.used.contains(name) || seen.insert(name, ()).is_some() {
                continue;
            }
            let node = &pc.info.nodes[sites[0].node];
            if node.outputs.is_empty() {
                continue;
            }
            self.push(lints::unused_result(
                file,
                sites[0].span,
                name,
                &node.call.callee.name,
            ));
        }
    }
}
