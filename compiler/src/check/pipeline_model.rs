//! The checked model of a pipeline: the frames of its statements, its calls with their
//! dependencies, bindings, loops, `if` chains and outputs (`PipelineInfo`), and the state of
//! checking one pipeline (`PipelineCheck`). The passes in `collect.rs`, `step_graph.rs` and
//! `pipeline.rs` all read and fill these types, so they live apart from every pass.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::maps::{HashSet, IndexMap};

use super::lower::StepSig;
use super::props::ResolvedProps;
use crate::resolve::{DeclId, ModuleId};
use crate::types::{Schema, Ty};
use flowc_grammar::ast::{Call, Expr, Ident};
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
    /// The call as written: the statement's own, shared.
    pub call: Arc<Call>,
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
    /// Schema variables bound by the arguments; `None` when they bind none (most calls: the
    /// map is boxed so that a node holds a pointer, not an empty map, for them).
    pub bindings: Option<Box<IndexMap<String, Schema>>>,
    /// Nodes this one reads data from.
    pub data_deps: BTreeSet<usize>,
    /// Nodes named in `after`.
    pub after_deps: BTreeSet<usize>,
    /// Nodes it depends on through enclosing `if` conditions and `for` lists.
    pub frame_deps: BTreeSet<usize>,
    /// The call's own `with { ... }` settings, once checked (empty without them). Shared: the
    /// calls without settings (most of them) hold one empty value, instead of a large value
    /// each in every node.
    pub settings: Arc<ResolvedProps>,
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
    /// The options of its `schedule { ... }` block.
    pub schedule_options: ScheduleOptions,
    /// `parallel N`: the most of its steps at once.
    pub parallelism: Option<u32>,
    /// Whether the step graph has a cycle.
    pub has_cycle: bool,
    /// The calls in the order the plan lists them (see `step_graph::plan_order`): each after its
    /// dependencies, source order between independent ones, exit handlers last.
    pub plan_order: Vec<usize>,
}

/// Length of the common prefix of two frame lists.
pub(crate) fn common_prefix(a: &[Frame], b: &[Frame]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Whether two binding sites are alternatives (different branches of one `if` chain).
pub(crate) fn alternatives(a: &[Frame], b: &[Frame]) -> bool {
    let k = common_prefix(a, b);
    matches!(
        (a.get(k), b.get(k)),
        (Some(Frame::If { chain: c1, branch: b1 }), Some(Frame::If { chain: c2, branch: b2 })) if c1 == c2 && b1 != b2
    )
}

/// The binding sites a reference in `frames` sees: a name bound in several branches of an `if`
/// chain the reference sits in is read from the reference's own branch (the others cannot
/// have run); outside the chain, every site (whichever branch ran).
pub(crate) fn visible_sites<'b>(
    sites: &'b [Binding],
    nodes: &[CallNode],
    frames: &[Frame],
) -> Vec<&'b Binding> {
    let own: Vec<&Binding> = sites
        .iter()
        .filter(|s| !alternatives(&nodes[s.node].frames, frames))
        .collect();
    if own.is_empty() {
        sites.iter().collect()
    } else {
        own
    }
}

/// The first of [`visible_sites`], without collecting them.
pub(crate) fn first_visible_site<'b>(
    sites: &'b [Binding],
    nodes: &[CallNode],
    frames: &[Frame],
) -> Option<&'b Binding> {
    sites
        .iter()
        .find(|s| !alternatives(&nodes[s.node].frames, frames))
        .or(sites.first())
}

/// The state of checking one pipeline.
pub(crate) struct PipelineCheck {
    pub m: ModuleId,
    pub info: PipelineInfo,
    /// Whether each node's outputs are typed.
    pub typed: Vec<bool>,
    /// Names referenced, for unused-name warnings (only looked up: a hash set, where a sorted
    /// set compared every new name with about ten others, a thousand times in a 1,000-step
    /// pipeline).
    pub used: HashSet<String>,
    /// Whether the arguments being typed are those of a `finally` call, which may read `run`.
    pub in_finally: bool,
}

/// The options of a schedule, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleOptions {
    /// `allow`, `forbid` or `replace`.
    pub concurrency: Option<String>,
    /// Finished runs kept that succeeded.
    pub succeeded_history: Option<u32>,
    /// Finished runs kept that failed.
    pub failed_history: Option<u32>,
    /// How late, in milliseconds, a missed start may still happen.
    pub starting_deadline_ms: Option<u64>,
}

/// The fields of `run`, what a `finally` call knows of the run it ends.
pub(crate) const RUN_FIELDS: &[&str] = &["status", "name"];
