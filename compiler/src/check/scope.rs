//! Names inside a pipeline: the type of a value expression seen from its enclosing frames.
//!
//! A name is a loop variable of an enclosing `for`, a result bound by a call (a `List` outside
//! the `for` that binds it, optional outside an `if` branch unless every branch binds it), a
//! pipeline parameter, or a declaration of the module; `name.member` reads an output or a metric.

use std::collections::BTreeSet;

use super::expr::Producer;
use super::pipeline::{common_prefix, Frame, PipelineCheck};
use super::pipeline_model::{first_visible_site, RUN_FIELDS};
use super::Checker;
use crate::diagnostics::{names, ops, records, types};
use crate::suggest::did_you_mean;
use crate::types::{Scalar, Ty};
use flowc_grammar::ast::{Expr, ExprKind, Ident};

impl Checker<'_> {
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
        if !pc.used.contains(&first.name) {
            pc.used.insert(first.name.clone());
        }
        // Loop variables in scope.
        for f in frames.iter().rev() {
            if let Frame::For { id } = f {
                if pc.info.loops[*id].var.name == first.name {
                    let t = self.loop_elem(pc, *id);
                    return self.member(pc, t, path, None, false);
                }
            }
        }
        if let Some(p) = pc.info.sig.params.iter().find(|p| p.name == first.name) {
            let t = p.ty.clone();
            return self.member(pc, t, path, None, false);
        }
        if let Some(sites) = pc.info.bindings.get(&first.name) {
            // The binding this reference sees: not one in another branch of an `if` chain the
            // reference sits in (a name bound in two branches is read from its own branch).
            let Some(site) = first_visible_site(sites, &pc.info.nodes, frames) else {
                return Ty::Error;
            };
            let node = site.node;
            if !pc.typed[node] {
                return Ty::Error;
            }
            let outputs = &pc.info.nodes[node].outputs;
            if self.interpolating && path.len() == 1 && outputs.len() > 1 {
                let names: Vec<String> = outputs.iter().map(|(n, _)| n.clone()).collect();
                self.push(ops::ambiguous_interpolation(
                    file,
                    first.span,
                    &first.name,
                    &names,
                ));
                return Ty::Error;
            }
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
            let bframes = &pc.info.nodes[node].frames;
            let k = common_prefix(bframes, frames);
            // Innermost frame first: an `if` inside a `for` makes each item optional
            // (`List<T?>`, iterations where the branch did not run are holes), a `for` inside an
            // `if` makes the list optional (`List<T>?`).
            let mut t = t;
            let looped = bframes[k..].iter().any(|f| matches!(f, Frame::For { .. }));
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
                        let every_branch = has_else && bound.len() == branches;
                        if !every_branch && !matches!(t, Ty::Optional(_)) {
                            t = Ty::Optional(Box::new(t));
                        }
                    }
                }
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
                looped,
            );
        }
        if let Some(e) = self.program.module(pc.m).scope.get(&first.name).cloned() {
            if e.kind == crate::resolve::DeclKind::Secret {
                self.lookup(pc.m, &first.name);
                self.push(ops::secret_as_value(file, first.span, &first.name));
                return Ty::Error;
            }
        }
        if first.name == "run" {
            return self.run_field(pc, path);
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

    /// `run.status` or `run.name`, which only a `finally` call reads (a `Str`).
    fn run_field(&mut self, pc: &PipelineCheck, path: &[Ident]) -> Ty {
        let file = self.file(pc.m);
        let Some(first) = path.first() else {
            return Ty::Error;
        };
        if !pc.in_finally {
            self.push(names::run_outside_finally(file, first.span));
            return Ty::Error;
        }
        match path {
            [_, field] if RUN_FIELDS.contains(&field.name.as_str()) => Ty::Scalar(Scalar::Str),
            [_, field, ..] => {
                self.push(names::unknown_run_field(
                    file,
                    field.span,
                    &field.name,
                    RUN_FIELDS,
                ));
                Ty::Error
            }
            [_] => {
                self.push(names::unknown_run_field(file, first.span, "", RUN_FIELDS));
                Ty::Error
            }
            [] => Ty::Error,
        }
    }

    /// Applies the members of `path` after its first element to `t`: metric keys. `outputs` are
    /// the outputs of the call the name is bound to; `looped` says `t` is the list a `for` made.
    fn member(
        &mut self,
        pc: &PipelineCheck,
        t: Ty,
        path: &[Ident],
        outputs: Option<&[String]>,
        looped: bool,
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
            Ty::Record(_) => return self.record_field(pc, t, path),
            Ty::Error => return Ty::Error,
            Ty::List(_) if looped => {
                self.push(names::member_of_loop_list(
                    file,
                    member.span,
                    &path[0].name,
                    &member.name,
                    &base,
                ));
                return Ty::Error;
            }
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

    /// `job.region`, `job.where.day`: the fields of a record named by `path` after its first
    /// element (optional when the record, or a field on the way, is).
    fn record_field(&mut self, pc: &PipelineCheck, t: Ty, path: &[Ident]) -> Ty {
        let file = self.file(pc.m);
        let mut optional = false;
        let mut cur = t;
        for (i, member) in path.iter().enumerate().skip(1) {
            optional |= matches!(cur, Ty::Optional(_));
            let base = cur.strip_optional().clone();
            cur = match &base {
                Ty::Record(fields) => match fields.get(&member.name) {
                    Some(f) => f.clone(),
                    None => {
                        let names: Vec<&str> = fields.keys().map(String::as_str).collect();
                        let whole = dotted(&path[..i]);
                        self.push(records::unknown_field(
                            file,
                            member.span,
                            &whole,
                            &member.name,
                            &names,
                        ));
                        return Ty::Error;
                    }
                },
                Ty::Error => return Ty::Error,
                other => {
                    let whole = dotted(&path[..i]);
                    self.push(records::field_of_non_record(
                        file,
                        member.span,
                        &whole,
                        other,
                    ));
                    return Ty::Error;
                }
            };
        }
        if optional && !matches!(cur, Ty::Optional(_)) {
            Ty::Optional(Box::new(cur))
        } else {
            cur
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
}

/// `a.b.c` as written.
fn dotted(path: &[Ident]) -> String {
    path.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}
