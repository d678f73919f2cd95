//! Checking pipelines: the checked model of a pipeline, and the driver of its passes.
//!
//! Statements are declarative: a name may be used before the statement that binds it, so the
//! checker first collects every call and binding with its enclosing frames (`collect.rs`), then
//! builds the dependency graph, reports cycles and orders the calls (`step_graph.rs`), and types
//! the calls in that order (`call.rs`), resolving names from their frames (`scope.rs`).
//! A name bound inside a `for` is a `List` outside it (fan-in); a name bound in an `if` branch is
//! optional outside it unless every branch of the chain binds it.

use crate::maps::{HashMap, HashSet};

use super::collect::{EmptyBody, StatementCollector};
use super::lower::{ParamSig, StepSig};
pub use super::pipeline_model::*;
use super::props::{Place, ResolvedProps};
use super::schedule::{check_cron, is_iana_zone};
use super::step_graph::plan_order;
use super::Checker;
use crate::diagnostics::{graph, lints, names, ops, records, types};
use crate::resolve::{DeclId, ModuleId};
use crate::types::{Scalar, Ty};
use flowc_grammar::ast::{Expr, Ident, Item, Param};

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

        let params = self.pipeline_params(m, &ast.params);
        let col = StatementCollector::collect(&ast.body);
        self.empty_bodies(m, &ast.name, &col);
        let defaults = self.pipeline_defaults(m, &col);
        let schedule = self.pipeline_schedule(m, &col);
        let schedule_options = self.schedule_options(m, &col);
        let parallelism = self.pipeline_parallelism(m, &col);
        self.check_bindings(m, &col, &params);
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
                schedule_options,
                parallelism,
                has_cycle: false,
                plan_order: Vec::new(),
            },
            typed: vec![false; n],
            used: HashSet::default(),
            in_finally: false,
        };

        // Dependencies.
        self.dependencies(&mut pc);
        pc.info.plan_order = plan_order(&pc.info.nodes);
        let order = self.order(&mut pc);
        for i in order {
            self.check_call(&mut pc, i);
            pc.typed[i] = true;
        }
        self.check_branch_types(&pc);
        self.check_conditions(&mut pc);
        self.pipeline_outputs(&mut pc, col.outputs);

        self.unused_in_pipeline(&pc, &ast.params);
        let sig = pc.info.sig.clone();
        self.out.pipelines.insert(decl, pc.info);
        self.in_progress.remove(&decl);
        Some(sig)
    }

    /// E304: a pipeline, `for` body or `if` that runs nothing (the targets refuse an empty DAG).
    fn empty_bodies(&mut self, m: ModuleId, name: &Ident, col: &StatementCollector) {
        let file = self.file(m);
        // Only the innermost empty body is reported: filling it fills the pipeline too.
        if !col.runs_something && col.empty.is_empty() {
            self.push(graph::empty_pipeline(file, name.span, &name.name));
        }
        for (span, kind) in &col.empty {
            self.push(match kind {
                EmptyBody::For => graph::empty_for(file, *span),
                EmptyBody::If => graph::empty_if(file, *span),
            });
        }
    }

    /// The parameters of a pipeline, with their defaults checked.
    fn pipeline_params(&mut self, m: ModuleId, ast_params: &[Param]) -> Vec<ParamSig> {
        let file = self.file(m);
        let mut params: Vec<ParamSig> = Vec::new();
        for p in ast_params {
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

        params
    }

    /// The pipeline's `defaults`, reporting a second block and misplaced statements.
    fn pipeline_defaults(&mut self, m: ModuleId, col: &StatementCollector) -> ResolvedProps {
        let file = self.file(m);
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
        defaults
    }

    /// The pipeline's `schedule`: its cron expression and time zone, checked.
    fn pipeline_schedule(
        &mut self,
        m: ModuleId,
        col: &StatementCollector,
    ) -> Option<(String, Option<String>)> {
        let file = self.file(m);
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

        schedule
    }

    /// Reports names bound twice (outside alternative branches) and results named as parameters.
    fn check_bindings(&mut self, m: ModuleId, col: &StatementCollector, params: &[ParamSig]) {
        let file = self.file(m);
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
    }

    /// Reports a name bound to values of different types in the branches of an `if`.
    fn check_branch_types(&mut self, pc: &PipelineCheck) {
        let file = self.file(pc.m);
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
    }

    /// Types the conditions of `if`s, the lists of `for`s and the `check`s.
    fn check_conditions(&mut self, pc: &mut PipelineCheck) {
        let m = pc.m;
        for chain in 0..pc.info.ifs.len() {
            let conds = pc.info.ifs[chain].conditions.clone();
            let frames = pc.info.ifs[chain].frames.clone();
            for c in conds.iter().flatten() {
                let t = self.value(pc, c, &frames, None);
                self.expect_bool(m, c, &t, "an `if` condition");
            }
        }
        for id in 0..pc.info.loops.len() {
            self.loop_elem(pc, id);
        }
        for (e, frames) in pc.info.checks.clone() {
            let t = self.value(pc, &e, &frames, None);
            self.expect_bool(m, &e, &t, "a `check`");
        }
    }

    /// Types the pipeline's outputs, reporting one declared twice, and sets its signature's.
    fn pipeline_outputs(&mut self, pc: &mut PipelineCheck, declared: Vec<(Ident, Expr)>) {
        let file = self.file(pc.m);
        let mut outputs: Vec<PipelineOutput> = Vec::new();
        for (name, value) in declared {
            if let Some(prev) = outputs.iter().find(|o| o.name.name == name.name) {
                let prev = prev.name.span;
                self.push(names::duplicate_output(file, name.span, prev, &name.name));
                continue;
            }
            let mut ty = self.value(pc, &value, &[], None);
            if super::lower::contains_record(&ty) {
                self.push(records::record_output(file, value.span, &name.name));
                ty = Ty::Error;
            }
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
    }

    fn expect_bool(&mut self, m: ModuleId, e: &Expr, t: &Ty, what: &str) {
        if t.is_error() || matches!(t, Ty::Scalar(Scalar::Bool)) {
            return;
        }
        let file = self.file(m);
        self.push(types::not_bool(file, e.span, what, t));
    }

    fn unused_in_pipeline(&mut self, pc: &PipelineCheck, params: &[flowc_grammar::ast::Param]) {
        let file = self.file(pc.m);
        for p in params {
            if !pc.used.contains(&p.name.name) {
                self.push(lints::unused_parameter(file, p.name.span, &p.name.name));
            }
        }
        let mut seen: HashMap<&str, ()> = HashMap::default();
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
