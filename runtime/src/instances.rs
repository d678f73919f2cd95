//! The instances of a task: its enclosing `for` loops expanded into iterations, the names
//! instances go by (`task[0,1]`), and the values an expression of one iteration reads.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::eval::{eval, Env, RValue};
use flowc_compiler::plan::{PipelinePlan, Task};

/// Outputs of finished instances: task → (loop indices, outputs).
pub(crate) type Outputs = HashMap<String, Vec<(Vec<usize>, IndexMap<String, RValue>)>>;

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
    /// shared loops are the first ones of both).
    fn shared_loops(&self, task: &str) -> usize {
        let Some(t) = self.pipeline.tasks.iter().find(|t| t.id == task) else {
            return 0;
        };
        t.loops
            .iter()
            .zip(self.items.iter().map(|(l, _)| l))
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// The outputs `output` of `instances` (sorted by loop indices, all with the same first `level`
/// indices) as a list per loop level from `level` on: a list of items for the innermost loop,
/// a list of such lists for each loop around it.
fn nested(
    instances: &[&(Vec<usize>, IndexMap<String, RValue>)],
    level: usize,
    output: &str,
) -> RValue {
    let innermost = instances.iter().all(|(idx, _)| idx.len() <= level + 1);
    if innermost {
        return RValue::List(
            instances
                .iter()
                .filter_map(|(_, o)| o.get(output).cloned())
                .collect(),
        );
    }
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=instances.len() {
        if i == instances.len() || instances[i].0.get(level) != instances[start].0.get(level) {
            groups.push(nested(&instances[start..i], level + 1, output));
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
            let shared = self.shared_loops(task);
            let mut ordered: Vec<&(Vec<usize>, _)> = instances
                .iter()
                .filter(|(idx, _)| {
                    idx.len() >= shared
                        && self.indices.len() >= shared
                        && idx[..shared] == self.indices[..shared]
                })
                .collect();
            ordered.sort_by(|a, b| a.0.cmp(&b.0));
            return Some(nested(&ordered, shared, output));
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
