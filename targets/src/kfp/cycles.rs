//! The last check of a Kubeflow build: no DAG whose tasks depend on each other in a cycle.
//!
//! The kfp SDK and the KFP backend refuse such a DAG. The emitter's grouping of tasks under
//! conditions and loops should never make one, but when it does (two `if`s on one condition
//! with a task between them share their condition groups), the build is refused here with a
//! located E501 rather than written as YAML Kubeflow rejects.

use serde_json::Value as Json;

use super::Emitter;
use crate::diagnostics;

/// The tasks of one DAG (`dag.tasks` of a component or of the root) in a dependency cycle, if
/// any: the cycle's task names, in order.
fn cycle_in(dag: &Json) -> Option<Vec<String>> {
    let tasks = dag.get("tasks")?.as_object()?;
    cycle_among(
        tasks
            .iter()
            .map(|(name, t)| (name.as_str(), dependencies(t))),
    )
}

/// The `dependentTasks` of a DAG task.
fn dependencies(task: &Json) -> Vec<&str> {
    (task.get("dependentTasks").and_then(Json::as_array))
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect()
}

/// The tasks in a dependency cycle among `tasks` (each with the names of the tasks it depends
/// on), if any: the cycle's task names, in order.
fn cycle_among<'a>(tasks: impl Iterator<Item = (&'a str, Vec<&'a str>)>) -> Option<Vec<String>> {
    let (names, deps): (Vec<&str>, Vec<Vec<&str>>) = tasks.unzip();
    let index: std::collections::HashMap<&str, usize> =
        names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges: Vec<Vec<usize>> = (deps.iter())
        .map(|ds| ds.iter().filter_map(|d| index.get(d).copied()).collect())
        .collect();
    // Depth-first search with colours: 0 unseen, 1 on the path, 2 done.
    let mut colour = vec![0u8; names.len()];
    for start in 0..names.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some((node, next)) = path.last().copied() {
            if let Some(&d) = edges[node].get(next) {
                if let Some(top) = path.last_mut() {
                    top.1 += 1;
                }
                match colour[d] {
                    0 => {
                        colour[d] = 1;
                        path.push((d, 0));
                    }
                    1 => {
                        let from = path.iter().position(|(n, _)| *n == d).unwrap_or(0);
                        return Some(
                            path[from..]
                                .iter()
                                .map(|(n, _)| names[*n].to_string())
                                .collect(),
                        );
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                path.pop();
            }
        }
    }
    None
}

impl Emitter<'_> {
    /// Reports every DAG of the documents whose tasks depend on each other in a cycle; the
    /// root's tasks written as text are given by `root_deps` (each with its dependencies).
    pub(super) fn check_cycles(&self, docs: &[Json], root_deps: &[(String, Vec<String>)]) {
        let written = root_deps
            .iter()
            .map(|(name, deps)| (name.as_str(), deps.iter().map(String::as_str).collect()));
        if let Some(cycle) = cycle_among(written) {
            let at = self.first_task_place(&cycle);
            self.report(diagnostics::kfp_dependency_cycle(at, &cycle));
        }
        let Some(doc) = docs.first() else {
            return;
        };
        let mut dags: Vec<&Json> = Vec::new();
        if let Some(d) = doc.get("root").and_then(|r| r.get("dag")) {
            dags.push(d);
        }
        if let Some(comps) = doc.get("components").and_then(Json::as_object) {
            dags.extend(comps.values().filter_map(|c| c.get("dag")));
        }
        for dag in dags {
            if let Some(cycle) = cycle_in(dag) {
                let at = self.first_task_place(&cycle);
                self.report(diagnostics::kfp_dependency_cycle(at, &cycle));
            }
        }
    }

    /// The place of the first of `tasks` that is a task of the plan (groups are not).
    fn first_task_place(&self, tasks: &[String]) -> crate::Place {
        for t in tasks {
            for (g, graph) in self.graphs.iter().enumerate() {
                if graph.leaf_of(t).is_some() {
                    return self.place(Some(g), t);
                }
            }
        }
        self.place(None, "")
    }
}

#[cfg(test)]
mod tests {
    use super::cycle_in;
    use serde_json::json;

    #[test]
    fn finds_a_cycle_and_no_more() {
        let acyclic = json!({"tasks": {"a": {}, "b": {"dependentTasks": ["a"]}}});
        assert_eq!(cycle_in(&acyclic), None);
        let cyclic = json!({"tasks": {
            "a": {"dependentTasks": ["c"]},
            "b": {"dependentTasks": ["a"]},
            "c": {"dependentTasks": ["b"]},
            "d": {},
        }});
        let found = cycle_in(&cyclic).expect("a cycle");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found.contains(&"a".to_string()) && found.contains(&"c".to_string()));
    }
}
