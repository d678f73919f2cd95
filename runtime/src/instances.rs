//! The instances of a task: its enclosing `for` loops expanded into iterations, the names
//! instances go by (`task[0,1]`), and the values an expression of one iteration reads.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::eval::{eval, Env, RValue};
use flowc_compiler::plan::{PipelinePlan, Task};

/// One finished instance: its loop indices and its outputs.
pub(crate) type Instance = (Vec<usize>, IndexMap<String, RValue>);

/// Outputs of finished instances: task → (loop indices, outputs).
pub(crate) type Outputs = HashMap<String, Vec<Instance>>;

/// One iteration of a task's loops: the loop indices and the items of each loop.
pub(crate) type Combo = (Vec<usize>, Vec<(usize, RValue)>);

/// What an expression of one loop iteration of a pipeline can read: the pipeline's parameters,
/// the outputs of finished instances, and the iteration's loop items. Outside loops, the
/// items and indices are empty.
pub(crate) struct IterationEnv<'a> {
    pub(crate) params: &'a IndexMap<String, RValue>,
    pub(crate) outputs: &'a Outputs,
    /// Loop id → item.
    pub(crate) items: &'a [(usize, RValue)],
    /// The index in each enclosing loop, outermost first.
    pub(crate) indices: &'a [usize],
    /// How the run ended so far (`status`, `name`), for `finally` calls.
    pub(crate) run: Option<(&'static str, &'a str)>,
    /// The pipeline, whose tasks' loops say which iterations a collected read gathers.
    pub(crate) pipeline: &'a PipelinePlan,
}

impl IterationEnv<'_> {
    /// How many of `task`'s enclosing loops the reader is inside of too (they nest, so the
    /// shared loops are the first ones of both), and how many loops `task` is inside of.
    fn shared_loops(&self, task: &str) -> (usize, usize) {
        let Some(t) = self.pipeline.tasks.iter().find(|t| t.id == task) else {
            return (0, 0);
        };
        let shared = t
            .loops
            .iter()
            .zip(self.items.iter().map(|(l, _)| l))
            .take_while(|(a, b)| a == b)
            .count();
        (shared, t.loops.len())
    }

    /// The iterations of `task`'s loops below the reader's own (`shared` loops deep) whose next
    /// loop is empty, as index prefixes with no outputs: they have no instances, yet each is an
    /// empty list in a gathered list of lists.
    fn empty_iterations(&self, task: &str, shared: usize) -> Vec<Instance> {
        let Some(t) = self.pipeline.tasks.iter().find(|t| t.id == task) else {
            return Vec::new();
        };
        let mut empty = Vec::new();
        let expanded =
            expand_noting_empty(self.pipeline, &t.loops, self.params, self.outputs, |idx| {
                if idx.len() > shared && idx[..shared] == self.indices[..shared] {
                    empty.push((idx.to_vec(), IndexMap::new()));
                }
            });
        if expanded.is_err() {
            return Vec::new();
        }
        empty
    }
}

/// The outputs `output` of `instances` (sorted by loop indices, all with the same first `level`
/// indices) as a list per loop level from `level` on, for a producer inside `depth` loops: a
/// list of items for the innermost loop, a list of such lists for each loop around it. An
/// entry with fewer than `depth` indices and no outputs marks an iteration whose next loop
/// was empty: it stands for an empty list at that level.
fn nested(instances: &[&Instance], level: usize, depth: usize, output: &str) -> RValue {
    if level + 1 >= depth {
        return RValue::List(
            instances
                .iter()
                .filter_map(|(_, o)| o.get(output).cloned())
                .collect(),
        );
    }
    let members: Vec<&Instance> = instances
        .iter()
        .copied()
        .filter(|(idx, _)| idx.len() > level)
        .collect();
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=members.len() {
        if i == members.len() || members[i].0[level] != members[start].0[level] {
            groups.push(nested(&members[start..i], level + 1, depth, output));
            start = i;
        }
    }
    RValue::List(groups)
}

impl Env for IterationEnv<'_> {
    fn param(&self, name: &str) -> Option<RValue> {
        self.params.get(name).cloned()
    }
    fn output(&self, task: &str, output: &str, collected: bool) -> Option<RValue> {
        let instances = self.outputs.get(task)?;
        if collected {
            // The iterations of the loops the reader is not inside of (those of the loops it
            // shares with the producer are its own), in iteration order whatever order they
            // ended in, one list per loop level: a `List<List<T>>` across two nested loops.
            let (shared, depth) = self.shared_loops(task);
            if self.indices.len() < shared {
                return Some(RValue::List(Vec::new()));
            }
            let empty = if depth > shared + 1 {
                self.empty_iterations(task, shared)
            } else {
                Vec::new()
            };
            let mut ordered: Vec<&Instance> = instances
                .iter()
                .filter(|(idx, _)| idx.len() >= shared && idx[..shared] == self.indices[..shared])
                .chain(&empty)
                .collect();
            ordered.sort_by(|a, b| a.0.cmp(&b.0));
            return Some(nested(&ordered, shared, depth, output));
        }
        // The instance of the same loop iteration, or the only one.
        let found = instances
            .iter()
            .find(|(idx, _)| {
                idx.len() <= self.indices.len() && self.indices[..idx.len()] == idx[..]
            })
            .or(instances.first())?;
        found.1.get(output).cloned()
    }
    fn loop_item(&self, l: usize) -> Option<RValue> {
        self.items
            .iter()
            .find(|(id, _)| *id == l)
            .map(|(_, v)| v.clone())
    }
    fn run_field(&self, field: &str) -> Option<RValue> {
        let (status, name) = self.run?;
        match field {
            "status" => Some(RValue::Json(Json::from(status))),
            "name" => Some(RValue::Json(Json::from(name))),
            _ => None,
        }
    }
}

/// The name of an instance: the task's id, followed by its loop indices inside loops.
pub(crate) fn instance_name(task: &Task, indices: &[usize]) -> String {
    if indices.is_empty() {
        task.id.clone()
    } else {
        format!("{}{}", task.id, iteration(indices))
    }
}

/// Loop indices as written in instance names: `[2]`, `[0,1]`.
pub(crate) fn iteration(indices: &[usize]) -> String {
    format!(
        "[{}]",
        indices
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Expands enclosing loops (of a task or a check) into (indices, items) combinations.
pub(crate) fn expand(
    p: &PipelinePlan,
    loops: &[usize],
    env_params: &IndexMap<String, RValue>,
    outputs: &Outputs,
) -> Result<Vec<Combo>, String> {
    expand_noting_empty(p, loops, env_params, outputs, |_| {})
}

/// [`expand`], telling `on_empty` the indices of each iteration whose next loop is empty.
fn expand_noting_empty(
    p: &PipelinePlan,
    loops: &[usize],
    env_params: &IndexMap<String, RValue>,
    outputs: &Outputs,
    mut on_empty: impl FnMut(&[usize]),
) -> Result<Vec<Combo>, String> {
    let mut combos: Vec<Combo> = vec![(Vec::new(), Vec::new())];
    for &l in loops {
        let Some(lp) = p.loops.get(l) else {
            return Err(format!("unknown loop {l}"));
        };
        let mut next = Vec::new();
        for (idx, items) in &combos {
            let env = IterationEnv {
                params: env_params,
                outputs,
                items,
                indices: idx,
                run: None,
                pipeline: p,
            };
            let list = match eval(&lp.items, &env) {
                RValue::Json(Json::Array(a)) => a.into_iter().map(RValue::Json).collect(),
                RValue::List(a) => a,
                RValue::Json(Json::Null) => Vec::new(),
                other => {
                    return Err(format!(
                        "`for {}` needs a list, got {}",
                        lp.var,
                        other.to_json()
                    ))
                }
            };
            if list.is_empty() {
                on_empty(idx);
            }
            for (i, item) in list.into_iter().enumerate() {
                let mut ix = idx.clone();
                ix.push(i);
                let mut it = items.clone();
                it.push((l, item));
                next.push((ix, it));
            }
        }
        combos = next;
    }
    Ok(combos)
}
