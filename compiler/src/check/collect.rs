//! Statement collection: the first pass over a pipeline's body.
//!
//! Statements are declarative (a name may be used before the statement that binds it), so the
//! checker first collects every call and binding with its enclosing frames (`if` branches and
//! `for` loops), the loops, `if` chains, outputs, checks, `defaults` and `schedule`s, before
//! building the step graph (`step_graph.rs`) and typing the calls.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::maps::IndexMap;

use super::pipeline_model::{Binding, CallNode, Frame, IfInfo, LoopInfo};
use super::props::ResolvedProps;
use flowc_grammar::ast::{
    Block, Call, Else, Expr, ExprKind, Ident, IntLit, OneOrVec, ScheduleOption, StmtKind,
};
use flowc_grammar::Span;

/// What the body of a pipeline holds, in source order.
pub(crate) struct StatementCollector {
    /// Call nodes, in source order.
    pub(crate) nodes: Vec<CallNode>,
    /// Binding sites of each name.
    pub(crate) bindings: IndexMap<String, Vec<Binding>>,
    /// `for` loops.
    pub(crate) loops: Vec<LoopInfo>,
    /// `if` chains.
    pub(crate) ifs: Vec<IfInfo>,
    /// `output` statements.
    pub(crate) outputs: Vec<(Ident, Expr)>,
    /// `check` expressions with their frames.
    pub(crate) checks: Vec<(Expr, Vec<Frame>)>,
    /// `defaults` blocks (one is allowed).
    pub(crate) defaults: Vec<(Span, Vec<flowc_grammar::ast::Prop>)>,
    /// `schedule`s: span, cron, time zone and its span (one is allowed).
    pub(crate) schedules: Vec<(Span, String, Option<String>, Span)>,
    /// The options of each `schedule { ... }` block, in the order of `schedules`.
    pub(crate) schedule_options: Vec<Vec<ScheduleOption>>,
    /// `parallel N` statements at the top level.
    pub(crate) parallel: Vec<(Span, IntLit)>,
    /// `defaults` or `schedule` inside an `if` or `for`.
    pub(crate) misplaced: Vec<(Span, &'static str)>,
    /// `for` bodies and `if` chains that run nothing (no call and no `check`): the span of the
    /// `for` body or of the whole `if`, and which of the two it is. Only the innermost are kept:
    /// a loop whose body is an empty `if` is not reported again.
    pub(crate) empty: Vec<(Span, EmptyBody)>,
    /// Whether the body runs anything at all: a call (not counting `finally`) or a `check`.
    pub(crate) runs_something: bool,
    /// The settings of a call without `with`, shared by every such node.
    no_settings: Arc<ResolvedProps>,
}

/// A statement whose body runs nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EmptyBody {
    /// A `for` loop.
    For,
    /// An `if` (with its `else if` and `else` branches).
    If,
}

impl StatementCollector {
    /// Collects the statements of a pipeline's body.
    pub(crate) fn collect(body: &Block) -> StatementCollector {
        // Most statements of a body are calls and bindings: sized once rather than grown one
        // entry at a time (a 1,000-step pipeline otherwise copies them ten times over).
        let statements = body.stmts.len();
        let mut col = StatementCollector {
            nodes: Vec::with_capacity(statements),
            bindings: IndexMap::with_capacity_and_hasher(statements, Default::default()),
            loops: Vec::new(),
            ifs: Vec::new(),
            outputs: Vec::new(),
            checks: Vec::new(),
            defaults: Vec::new(),
            schedules: Vec::new(),
            schedule_options: Vec::new(),
            parallel: Vec::new(),
            misplaced: Vec::new(),
            empty: Vec::new(),
            runs_something: false,
            no_settings: Arc::default(),
        };
        col.runs_something = col.block(body, &mut Vec::new());
        col
    }

    /// Collects a block; returns whether it runs anything (a call other than `finally`, or a
    /// `check`).
    fn block(&mut self, block: &Block, frames: &mut Vec<Frame>) -> bool {
        let mut runs = false;
        for stmt in &block.stmts {
            runs |= self.stmt(stmt, frames);
        }
        runs
    }

    /// Collects a statement; returns whether it runs anything.
    fn stmt(&mut self, stmt: &flowc_grammar::ast::Stmt, frames: &mut Vec<Frame>) -> bool {
        let nested = !frames.is_empty();
        let mut runs = false;
        match &stmt.kind {
            StmtKind::Defaults(props) => {
                if nested {
                    self.misplaced.push((stmt.span, "defaults"));
                } else {
                    self.defaults.push((stmt.span, props.clone()));
                }
            }
            StmtKind::Schedule {
                cron,
                timezone,
                options,
            } => {
                if nested {
                    self.misplaced.push((stmt.span, "schedule"));
                } else {
                    self.schedules.push((
                        cron.span,
                        cron.value.clone(),
                        timezone.as_ref().map(|t| t.value.clone()),
                        timezone.as_ref().map_or(cron.span, |t| t.span),
                    ));
                    self.schedule_options.push(options.clone());
                }
            }
            StmtKind::Parallel(n) => {
                if nested {
                    self.misplaced.push((stmt.span, "parallel"));
                } else {
                    self.parallel.push((stmt.span, n.clone()));
                }
            }
            StmtKind::If { .. } => {
                let reported = self.empty.len();
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
                    runs |= self.block(then, frames);
                    frames.pop();
                    branch += 1;
                    match otherwise {
                        Some(Else::If(next)) => current = Some(next),
                        Some(Else::Block(b)) => {
                            self.ifs[chain].conditions.push(None);
                            frames.push(Frame::If { chain, branch });
                            runs |= self.block(b, frames);
                            frames.pop();
                        }
                        None => {}
                    }
                }
                if !runs && self.empty.len() == reported {
                    self.empty.push((stmt.span, EmptyBody::If));
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
                let reported = self.empty.len();
                frames.push(Frame::For { id });
                runs = self.block(body, frames);
                frames.pop();
                if !runs && self.empty.len() == reported {
                    self.empty.push((body.span, EmptyBody::For));
                }
            }
            StmtKind::Check(e) => {
                self.checks.push((e.clone(), frames.clone()));
                runs = true;
            }
            StmtKind::Output { name, value } => {
                if nested {
                    self.misplaced.push((stmt.span, "output"));
                }
                let value = value.clone().unwrap_or(Expr {
                    span: name.span,
                    kind: ExprKind::Path(OneOrVec::one(name.clone())),
                });
                self.outputs.push((name.clone(), value));
            }
            StmtKind::Finally(call) => {
                if nested {
                    // E407 already; an empty-body error about the same block would be noise.
                    self.misplaced.push((stmt.span, "finally"));
                    runs = true;
                }
                self.node(None, call, frames, true);
            }
            StmtKind::Bind { name, call } => {
                self.node(Some(name.clone()), call, frames, false);
                runs = true;
            }
            StmtKind::Call(call) => {
                self.node(None, call, frames, false);
                runs = true;
            }
        }
        runs
    }

    fn node(&mut self, name: Option<Ident>, call: &Arc<Call>, frames: &[Frame], is_finally: bool) {
        let id = self.nodes.len();
        if let Some(n) = &name {
            // Most names are bound once: room for one site, not the four a first push makes.
            self.bindings
                .entry(n.name.clone())
                .or_insert_with(|| Vec::with_capacity(1))
                .push(Binding {
                    node: id,
                    span: n.span,
                });
        }
        self.nodes.push(CallNode {
            name,
            call: Arc::clone(call),
            callee: None,
            callee_is_pipeline: false,
            frames: frames.to_vec(),
            is_finally,
            outputs: Vec::new(),
            arg_types: IndexMap::default(),
            bindings: None,
            data_deps: BTreeSet::new(),
            after_deps: BTreeSet::new(),
            frame_deps: BTreeSet::new(),
            settings: Arc::clone(&self.no_settings),
        });
    }
}
