//! A pipeline's step graph: the dependencies of each call (data flow, `after`, and the
//! conditions and lists of enclosing frames), cycles (E301), the order in which the checker
//! types the calls, and the order in which the plan lists them.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use super::expr::{each_name, expr_names};
use super::pipeline_model::{visible_sites, CallNode, Frame, PipelineCheck};
use super::Checker;
use crate::diagnostics::graph;
use crate::types::Ty;
use flowc_grammar::ast::Ident;

impl Checker<'_> {
    /// Fills the dependency sets of every node.
    pub(crate) fn dependencies(&mut self, pc: &mut PipelineCheck) {
        let file = self.file(pc.m);
        for i in 0..pc.info.nodes.len() {
            // Arguments that take column names hold no references to bindings.
            // The call is shared with the node: its names are borrowed from this handle while
            // the checker and the pipeline's state change (no copy of each name).
            let call = Arc::clone(&pc.info.nodes[i].call);
            let callee = call.callee.name.as_str();
            let column_params: Vec<String> = match self.program.module(pc.m).scope.get(callee) {
                Some(e) if e.kind == crate::resolve::DeclKind::Step => self
                    .lower_step_sig(e.decl)
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
            let mut names: Vec<&Ident> = Vec::new();
            for a in &call.args {
                if !column_params.contains(&a.name.name) {
                    each_name(&a.value, &mut |n| names.push(n));
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
                    let seen = visible_sites(sites, &pc.info.nodes, &node.frames);
                    data.extend(seen.iter().map(|s| s.node));
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
            for a in &call.after {
                pc.used.insert(a.name.clone());
                match pc.info.bindings.get(&a.name) {
                    Some(sites) => {
                        let seen = visible_sites(sites, &pc.info.nodes, &node.frames);
                        after.extend(seen.iter().map(|s| s.node));
                    }
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
    pub(crate) fn order(&mut self, pc: &mut PipelineCheck) -> Vec<usize> {
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
}

/// The order in which the plan lists a pipeline's calls: each after its dependencies, source
/// order between independent ones, exit handlers (`finally`) after every other call. A call in
/// a cycle, or one that depends on an exit handler, is left out (such a pipeline has errors).
///
/// Kahn's algorithm with a min-heap of ready calls: O((n + e) log n).
pub(crate) fn plan_order(nodes: &[CallNode]) -> Vec<usize> {
    let deps = nodes.iter().map(|x| {
        x.data_deps
            .iter()
            .chain(&x.after_deps)
            .chain(&x.frame_deps)
            .copied()
    });
    let finally: Vec<bool> = nodes.iter().map(|x| x.is_finally).collect();
    kahn_in_source_order(deps, &finally)
}

/// [`plan_order`] on the dependencies (each call's, repeats allowed) and `finally` flags of the
/// calls.
fn kahn_in_source_order<D: IntoIterator<Item = usize>>(
    deps: impl ExactSizeIterator<Item = D>,
    finally: &[bool],
) -> Vec<usize> {
    let n = deps.len();
    let (waiting, dependents) = dependents(deps);
    let mut waiting = waiting;
    let mut order = Vec::with_capacity(n);
    for phase in [false, true] {
        let mut ready: BinaryHeap<Reverse<usize>> = (0..n)
            .filter(|&i| waiting[i] == 0 && finally[i] == phase)
            .map(Reverse)
            .collect();
        while let Some(Reverse(i)) = ready.pop() {
            order.push(i);
            for &j in dependents.of(i) {
                waiting[j] -= 1;
                if waiting[j] == 0 && finally[j] == phase {
                    ready.push(Reverse(j));
                }
            }
        }
    }
    order
}

/// The calls that depend on each call, in source order, held in one vector (a call's lie
/// side by side) rather than a vector a call.
struct Dependents {
    /// `calls[starts[d]..starts[d + 1]]` depend on call `d`.
    starts: Vec<usize>,
    calls: Vec<usize>,
}

impl Dependents {
    fn of(&self, d: usize) -> &[usize] {
        &self.calls[self.starts[d]..self.starts[d + 1]]
    }
}

/// How many distinct other calls each call waits for, and the dependents of each call.
fn dependents<D: IntoIterator<Item = usize>>(
    deps: impl ExactSizeIterator<Item = D>,
) -> (Vec<usize>, Dependents) {
    let n = deps.len();
    let mut waiting = vec![0usize; n];
    // (dependency, dependent), dependents in source order.
    let mut edges: Vec<(usize, usize)> = Vec::with_capacity(n);
    let mut distinct = Vec::new();
    for (i, ds) in deps.enumerate() {
        distinct.clear();
        distinct.extend(ds.into_iter().filter(|&d| d != i && d < n));
        distinct.sort_unstable();
        distinct.dedup();
        waiting[i] = distinct.len();
        edges.extend(distinct.iter().map(|&d| (d, i)));
    }
    // A stable sort: each call's dependents stay in source order.
    edges.sort_by_key(|&(d, _)| d);
    let mut starts = vec![0usize; n + 1];
    for &(d, _) in &edges {
        starts[d + 1] += 1;
    }
    for d in 0..n {
        starts[d + 1] += starts[d];
    }
    let calls = edges.into_iter().map(|(_, i)| i).collect();
    (waiting, Dependents { starts, calls })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::kahn_in_source_order;

    /// The order the plan used before it was computed here: at each step, the first call in
    /// source order whose dependencies are done; exit handlers in a second round.
    fn quadratic(deps: &[BTreeSet<usize>], finally: &[bool]) -> Vec<usize> {
        let n = deps.len();
        let mut done = vec![false; n];
        let mut order = Vec::new();
        for phase in [false, true] {
            while let Some(i) = (0..n).find(|&i| {
                !done[i] && finally[i] == phase && deps[i].iter().all(|d| done[*d] || *d == i)
            }) {
                done[i] = true;
                order.push(i);
            }
        }
        order
    }

    #[test]
    fn same_order_as_the_quadratic_one_on_random_graphs() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for _ in 0..500 {
            let n = next(12) as usize + 1;
            let deps: Vec<BTreeSet<usize>> = (0..n)
                .map(|_| (0..next(4)).map(|_| next(n as u64) as usize).collect())
                .collect();
            let finally: Vec<bool> = (0..n).map(|_| next(5) == 0).collect();
            assert_eq!(
                kahn_in_source_order(deps.iter().map(|d| d.iter().copied()), &finally),
                quadratic(&deps, &finally),
                "{deps:?} {finally:?}"
            );
        }
    }
}
