//! The DAG of a compiled pipeline as `.flow` statements.
//!
//! Tasks are visited in dependency order. A container task is a call whose arguments come
//! from the scope (the DAG's inputs: pipeline parameters, loop items, values passed into a
//! group), from other tasks' outputs (through the outputs of the groups that hold them), or
//! are constants; `dependentTasks` that no argument implies are `after`. Groups become
//! `for` (`parameterIterator`), `if`/`else` (`triggerPolicy.condition`, with
//! `condition-branches` read as one chain), the exit handler's body is inlined with its
//! handler as `finally`, and a pipeline used as a component is a pipeline of its own. What
//! has no equivalent is a note and a warning.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{self, Names};
use crate::problem::Code;
use crate::yaml::Node;
use crate::Ctx;

use super::cel;
use super::ports::Ports;
use super::stmt::{self, Call, Param, Stmt};

/// A value in scope or an argument: its `.flow` expression and what it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Val {
    /// The expression.
    pub text: String,
    /// A file (an artifact).
    pub file: bool,
    /// An output value of a task (a parameter in KFP, a value output in flowc).
    pub value_output: bool,
    /// A list collected from a loop.
    pub list: bool,
    /// The binding of the call that produces it.
    pub binding: Option<String>,
    /// The `.flow` type of a task's output (of each item, for a list collected from a loop).
    pub ty: Option<String>,
}

/// The walk of one pipeline's DAGs.
pub struct Walker<'a> {
    pub ctx: &'a mut Ctx,
    pub components: &'a Node,
    pub executors: &'a Node,
    /// Ports of each component.
    pub ports: BTreeMap<String, Ports>,
    /// The step of each container component.
    pub steps: BTreeMap<String, String>,
    /// Binding names, by (DAG component, task).
    pub bindings: BTreeMap<(String, String), String>,
    /// Names of the pipeline's bindings, parameters and loop variables.
    pub names: Names,
    /// Bindings something reads.
    pub used: BTreeSet<String>,
    /// Parameter inputs fed by files, by component.
    pub file_inputs: BTreeMap<String, BTreeSet<String>>,
    /// Inputs given a list collected from a loop, with its `.flow` type, by component.
    pub list_inputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Inputs whose argument was left out, by component (they become optional).
    pub left_out: BTreeMap<String, BTreeSet<String>>,
    /// The first task of each component.
    pub first_task: BTreeMap<String, Node>,
    /// The pipeline's parameters.
    pub params: Vec<Param>,
    /// Importer tasks' outputs, by (DAG component, task).
    pub imported: BTreeMap<(String, String), Val>,
    /// The `after`s of the groups being walked, which their calls inherit.
    pub upstream: Vec<String>,
    /// Names of the file's declarations.
    pub decls: Names,
    /// The pipeline declared for each pipeline used as a component.
    pub sub_pipelines: BTreeMap<String, String>,
    /// Their text, in order of declaration.
    pub declared: Vec<String>,
    /// `dsl.OneOf` outputs whose branches bind one name, by (component, output).
    pub unified: BTreeSet<(String, String)>,
}

/// A group task and the DAG it is in.
struct Group<'a> {
    dag: &'a str,
    siblings: &'a [(Node, Node)],
    task_key: &'a str,
    task: &'a Node,
    cref: &'a str,
}

/// Whether the DAG component `cref` is a pipeline used as a component (not a group the
/// compiler made for a loop, a condition or an exit handler).
fn is_sub_pipeline(cref: &str) -> bool {
    !["comp-condition-", "comp-for-loop-", "comp-exit-handler-"]
        .iter()
        .any(|p| cref.starts_with(p))
}

/// The tasks of a DAG component, by key.
fn tasks(comp: &Node) -> &[(Node, Node)] {
    comp.get("dag")
        .and_then(|d| d.get("tasks"))
        .and_then(Node::as_map)
        .unwrap_or_default()
}

/// The component a task runs.
fn component_of(task: &Node) -> &str {
    task.get("componentRef")
        .and_then(|c| c.str_of("name"))
        .unwrap_or_default()
}

/// The tasks of `comp` in dependency order (ties in file order).
fn ordered(comp: &Node) -> Vec<(&str, &Node)> {
    let all: Vec<(&str, &Node)> = tasks(comp)
        .iter()
        .map(|(k, t)| (k.as_str().unwrap_or_default(), t))
        .collect();
    let deps = |t: &Node| -> Vec<String> {
        t.get("dependentTasks")
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.as_str().map(str::to_string))
            .collect()
    };
    let mut done: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    while out.len() < all.len() {
        let before = out.len();
        for (k, t) in &all {
            let ready = deps(t)
                .iter()
                .all(|d| done.contains(&d.as_str()) || !all.iter().any(|(x, _)| x == d));
            if !done.contains(k) && ready {
                done.push(k);
                out.push((*k, *t));
            }
        }
        if out.len() == before {
            // A cycle: keep the rest in file order (the checker reports it).
            out.extend(all.iter().filter(|(k, _)| !done.contains(k)).copied());
            break;
        }
    }
    out
}

impl Walker<'_> {
    /// Names every task binding of `comp` and of the groups inside it (pre-pass, so that an
    /// output read across groups has its name before the group is walked).
    pub fn name_tasks(&mut self, key: &str, comp: &Node) {
        for (k, t) in tasks(comp) {
            let task = k.as_str().unwrap_or_default();
            let cref = component_of(t).to_string();
            self.first_task
                .entry(cref.clone())
                .or_insert_with(|| t.clone());
            let binding = self.names.unique(task);
            self.bindings
                .insert((key.to_string(), task.to_string()), binding);
            if let Some(inner) = self
                .components
                .get(&cref)
                .filter(|c| c.get("dag").is_some())
            {
                let inner = inner.clone();
                self.name_tasks(&cref, &inner);
            }
        }
        self.unify_one_of(key, comp);
    }

    /// `dsl.OneOf` outputs of `comp` (several selectors, one per branch of an `if` chain):
    /// the tasks they select are given one binding, which flowc reads after the `if` as an
    /// ordinary value when every branch binds it, when they name the same output.
    fn unify_one_of(&mut self, key: &str, comp: &Node) {
        let outs = comp.get("dag").and_then(|d| d.get("outputs"));
        let lists = ["parameters", "artifacts"].iter().flat_map(|kind| {
            outs.and_then(|o| o.get(kind))
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
        });
        let lists: Vec<(Node, Node)> = lists.collect();
        for (out_key, v) in lists {
            let sels = v
                .get("valueFromOneof")
                .and_then(|o| o.get("parameterSelectors"))
                .or_else(|| v.get("artifactSelectors"))
                .and_then(Node::as_seq)
                .unwrap_or_default();
            if sels.len() < 2 {
                continue;
            }
            let leaves: Option<Vec<((String, String), String)>> =
                sels.iter().map(|sel| self.leaf(key, comp, sel)).collect();
            let Some(leaves) = leaves else { continue };
            if leaves.windows(2).any(|w| w[0].1 != w[1].1) {
                continue;
            }
            let shared = self.bindings.get(&leaves[0].0).cloned().unwrap_or_default();
            for (at, _) in &leaves {
                self.bindings.insert(at.clone(), shared.clone());
            }
            let cref = key.to_string();
            self.unified
                .insert((cref, out_key.as_str().unwrap_or_default().to_string()));
        }
    }

    /// The step task a selector of `comp` (component `key`) reads, through group outputs, and
    /// the `.flow` name of the output it reads.
    fn leaf(&self, key: &str, comp: &Node, sel: &Node) -> Option<((String, String), String)> {
        let sub = sel.str_of("producerSubtask")?;
        let out = sel
            .str_of("outputParameterKey")
            .or_else(|| sel.str_of("outputArtifactKey"))?;
        let task = tasks(comp)
            .iter()
            .find(|(k, _)| k.as_str() == Some(sub))
            .map(|(_, t)| t)?;
        let cref = component_of(task);
        let callee = self.components.get(cref)?;
        if callee.get("dag").is_none() {
            let port = self.ports.get(cref)?.output(out)?;
            return Some(((key.to_string(), sub.to_string()), port.name.clone()));
        }
        let o = callee.get("dag")?.get("outputs")?;
        let next = o
            .get("parameters")
            .and_then(|p| p.get(out))
            .and_then(|p| p.get("valueFromParameter"))
            .or_else(|| {
                o.get("artifacts")
                    .and_then(|a| a.get(out))
                    .and_then(|a| a.get("artifactSelectors"))
                    .and_then(Node::as_seq)
                    .filter(|s| s.len() == 1)
                    .and_then(|s| s.first())
            })?;
        self.leaf(cref, callee, next)
    }

    /// The statements of the DAG of component `key` (`root` for the pipeline) in `scope`.
    pub fn walk(
        &mut self,
        key: &str,
        comp: &Node,
        scope: &BTreeMap<String, Val>,
        root: bool,
    ) -> Vec<Stmt> {
        let mut out = Vec::new();
        let siblings = tasks(comp).to_vec();
        for (task_key, task) in ordered(comp) {
            let cref = component_of(task).to_string();
            let Some(callee) = self.components.get(&cref) else {
                let at = task
                    .get("componentRef")
                    .and_then(|c| c.get("name"))
                    .map_or(task.pos, |n| n.pos);
                self.ctx.error(Code::UndeclaredName, at, format!("task `{task_key}` runs the component `{cref}`, which the file does not define"), "fix `componentRef.name`");
                continue;
            };
            let callee = callee.clone();
            if callee.get("dag").is_some() {
                let g = Group {
                    dag: key,
                    siblings: &siblings,
                    task_key,
                    task,
                    cref: &cref,
                };
                let stmts = self.group(&g, &callee, scope, root);
                out.extend(stmts);
            } else if let Some(stmt) = self.task(key, &siblings, task_key, task, &cref, scope, root)
            {
                out.push(stmt);
            }
        }
        out
    }

    /// A group task: a loop, a condition, a chain of branches, an exit handler's body, or a
    /// pipeline used as a component (a call of its own pipeline).
    fn group(
        &mut self,
        g: &Group<'_>,
        callee: &Node,
        scope: &BTreeMap<String, Val>,
        root: bool,
    ) -> Vec<Stmt> {
        let task = g.task;
        let mut inner = self.wiring(g.dag, task, scope, g.siblings);
        let inherited = self.after(g.dag, task, g.siblings, &BTreeSet::new());
        let depth = self.upstream.len();
        self.upstream.extend(inherited);
        let out = self.group_body(g, callee, &mut inner, root);
        self.upstream.truncate(depth);
        out
    }

    /// The statements of a group, in the scope `inner` of its inputs.
    fn group_body(
        &mut self,
        g: &Group<'_>,
        callee: &Node,
        inner: &mut BTreeMap<String, Val>,
        root: bool,
    ) -> Vec<Stmt> {
        let (task_key, task, cref) = (g.task_key, g.task, g.cref);
        if let Some(it) = task
            .get("parameterIterator")
            .or_else(|| task.get("artifactIterator"))
        {
            return vec![self.for_loop(cref, task, it, callee, inner)];
        }
        if let Some(cond) = task
            .get("triggerPolicy")
            .and_then(|p| p.str_of("condition"))
        {
            let body = self.walk(cref, callee, inner, false);
            let c = self.condition(task_key, task, cond, inner);
            return vec![Stmt::If(vec![(Some(c), body)])];
        }
        if cref.starts_with("comp-condition-branches") {
            return self.branches(cref, callee, inner);
        }
        if is_sub_pipeline(cref) {
            return vec![self.sub_pipeline_call(g, callee, inner)];
        }
        self.walk(cref, callee, inner, root)
    }

    /// `for var in items`.
    fn for_loop(
        &mut self,
        cref: &str,
        task: &Node,
        it: &Node,
        callee: &Node,
        inner: &mut BTreeMap<String, Val>,
    ) -> Stmt {
        let item_input = it.str_of("itemInput").unwrap_or_default();
        let base = item_input
            .trim_start_matches("pipelinechannel--")
            .split("-loop-item")
            .next()
            .filter(|b| !b.is_empty() && !b.starts_with("loop-item"))
            .map_or_else(|| "item".to_string(), |b| format!("{b}_item"));
        let var = self.names.unique(&base);
        let items = it.get("items");
        let list = if let Some(raw) = items.and_then(|i| i.str_of("raw")) {
            let parsed: serde_json::Value =
                serde_json::from_str(raw).unwrap_or(serde_json::Value::Null);
            let ty = super::ports::list_type(None);
            let elem_ty = match parsed.as_array().and_then(|a| a.first()) {
                Some(serde_json::Value::Number(n)) if n.is_i64() => "List<Int>",
                Some(serde_json::Value::Number(_)) => "List<Float>",
                Some(serde_json::Value::Bool(_)) => "List<Bool>",
                _ => ty.as_str(),
            };
            names::literal(&parsed, elem_ty)
        } else {
            let name = items.and_then(|i| {
                i.str_of("inputParameter")
                    .or_else(|| i.str_of("inputArtifact"))
            });
            name.and_then(|n| inner.get(n)).map(|v| v.text.clone())
        };
        let list = list.unwrap_or_else(|| {
            let p = self.names.unique(&format!("{var}s"));
            self.ctx.warn(Code::Approximated, task.pos, format!("the items of the loop `{cref}` are another task's output, which flowc cannot loop over; they are the pipeline parameter `{p}`"), format!("pass the items as `{p}` when running the pipeline"));
            // The element type is the type of the loop's item input.
            let item_ty = callee
                .get("inputDefinitions")
                .and_then(|d| d.get("parameters"))
                .and_then(|d| d.get(item_input))
                .and_then(|d| d.str_of("parameterType"))
                .map_or_else(|| "Str".to_string(), |t| crate::types::parameter(t).ty);
            let ty = if item_ty.starts_with("List<") { "List<Str>".to_string() } else { format!("List<{item_ty}>") };
            self.params.push(Param { name: p.clone(), ty, default: Some("[]".into()), note: Some(format!("the items of the loop `{cref}` (a task's output in Kubeflow)")) });
            p
        });
        inner.insert(
            item_input.to_string(),
            Val {
                text: var.clone(),
                ..Val::default()
            },
        );
        let parallel = task
            .get("iteratorPolicy")
            .and_then(|p| p.str_of("parallelismLimit"))
            .map(str::to_string);
        let body = self.walk(cref, callee, inner, false);
        Stmt::For {
            var,
            items: list,
            parallel,
            body,
        }
    }

    /// A chain of `dsl.If`/`Elif`/`Else` branches.
    fn branches(&mut self, cref: &str, comp: &Node, scope: &BTreeMap<String, Val>) -> Vec<Stmt> {
        let branch_tasks: Vec<(&str, &Node)> = ordered(comp);
        let conds: Vec<String> = branch_tasks
            .iter()
            .map(|(_, t)| {
                t.get("triggerPolicy")
                    .and_then(|p| p.str_of("condition"))
                    .unwrap_or("true")
                    .to_string()
            })
            .collect();
        let chain = cel::chain(&conds);
        let mut out: Vec<Stmt> = Vec::new();
        let mut current: Vec<(Option<String>, Vec<Stmt>)> = Vec::new();
        let siblings = tasks(comp).to_vec();
        for ((task_key, task), link) in branch_tasks.into_iter().zip(chain) {
            let bref = component_of(task).to_string();
            let Some(bcomp) = self.components.get(&bref).cloned() else {
                continue;
            };
            let inner = self.wiring(cref, task, scope, &siblings);
            let body = self.walk(&bref, &bcomp, &inner, false);
            match link {
                Err(c) => {
                    if !current.is_empty() {
                        out.push(Stmt::If(std::mem::take(&mut current)));
                    }
                    let c = self.condition(task_key, task, &c, &inner);
                    current.push((Some(c), body));
                }
                Ok(None) => current.push((None, body)),
                Ok(Some(c)) => {
                    let c = self.condition(task_key, task, &c, &inner);
                    current.push((Some(c), body));
                }
            }
        }
        if !current.is_empty() {
            out.push(Stmt::If(current));
        }
        out
    }

    /// A condition as `.flow`, or a Boolean pipeline parameter standing for it.
    fn condition(
        &mut self,
        task_key: &str,
        task: &Node,
        cel_text: &str,
        scope: &BTreeMap<String, Val>,
    ) -> String {
        let mut input = |n: &str| scope.get(n).filter(|v| !v.file).map(|v| v.text.clone());
        if let Some(c) = cel::translate(cel_text, &mut input) {
            return c;
        }
        let label = task
            .get("taskInfo")
            .and_then(|i| i.str_of("name"))
            .unwrap_or(task_key);
        let p = self.names.unique(&format!("{label}_condition"));
        self.ctx.warn(Code::Approximated, task.pos, format!("the condition `{cel_text}` reads a task's output value or an expression flowc has no equivalent for; the Boolean pipeline parameter `{p}` stands for it"), "make the producing step write a `Metrics` output and test its key, or pass the parameter");
        self.params.push(Param {
            name: p.clone(),
            ty: "Bool".into(),
            default: Some("true".into()),
            note: Some(format!("stands for the Kubeflow condition `{cel_text}`")),
        });
        p
    }

    /// The values a task's wired inputs take in `scope` (the scope of the group it runs).
    fn wiring(
        &mut self,
        dag: &str,
        task: &Node,
        scope: &BTreeMap<String, Val>,
        siblings: &[(Node, Node)],
    ) -> BTreeMap<String, Val> {
        let mut out = BTreeMap::new();
        for kind in ["parameters", "artifacts"] {
            let inputs = task
                .get("inputs")
                .and_then(|i| i.get(kind))
                .and_then(Node::as_map);
            for (k, w) in inputs.unwrap_or_default() {
                let name = k.as_str().unwrap_or_default();
                if let Some(v) = self.value(dag, w, scope, siblings, "") {
                    out.insert(name.to_string(), v);
                }
            }
        }
        out
    }

    /// The value of one wiring (`componentInputParameter`, `taskOutputArtifact`, a constant),
    /// with `ty` the type of the input it feeds (for constants).
    pub fn value(
        &mut self,
        dag: &str,
        w: &Node,
        scope: &BTreeMap<String, Val>,
        siblings: &[(Node, Node)],
        ty: &str,
    ) -> Option<Val> {
        if let Some(n) = w
            .str_of("componentInputParameter")
            .or_else(|| w.str_of("componentInputArtifact"))
        {
            return scope.get(n).cloned();
        }
        if let Some(p) = w
            .get("taskOutputParameter")
            .or_else(|| w.get("taskOutputArtifact"))
        {
            let producer = p.str_of("producerTask").unwrap_or_default();
            let key = p
                .str_of("outputParameterKey")
                .or_else(|| p.str_of("outputArtifactKey"))
                .unwrap_or_default();
            return self.output(dag, siblings, producer, key);
        }
        if let Some(c) = w.get("runtimeValue").and_then(|r| r.get("constant")) {
            let json = c.to_json();
            let ty = if ty.is_empty() { "Str" } else { ty };
            let text = names::literal(&json, ty).or_else(|| names::literal(&json, "Str"))?;
            return Some(Val {
                text,
                ..Val::default()
            });
        }
        None
    }

    /// Output `key` of task `producer` of the DAG `dag`, through the outputs of groups.
    fn output(
        &mut self,
        dag: &str,
        siblings: &[(Node, Node)],
        producer: &str,
        key: &str,
    ) -> Option<Val> {
        let task = siblings
            .iter()
            .find(|(k, _)| k.as_str() == Some(producer))
            .map(|(_, t)| t.clone())?;
        if let Some(v) = self.imported.get(&(dag.to_string(), producer.to_string())) {
            return Some(v.clone());
        }
        let cref = component_of(&task).to_string();
        let comp = self.components.get(&cref)?.clone();
        if comp.get("dag").is_none() {
            let binding = self
                .bindings
                .get(&(dag.to_string(), producer.to_string()))?
                .clone();
            let port = self.ports.get(&cref)?.output(key)?.clone();
            let text = format!("{binding}.{}", port.name);
            return Some(Val {
                text,
                file: port.artifact,
                value_output: !port.artifact,
                list: false,
                binding: Some(binding),
                ty: Some(port.flow_type().ty),
            });
        }
        if is_sub_pipeline(&cref) {
            let binding = self
                .bindings
                .get(&(dag.to_string(), producer.to_string()))?
                .clone();
            let port = Ports::of(&comp).output(key)?.clone();
            return Some(Val {
                text: format!("{binding}.{}", port.name),
                file: port.artifact,
                value_output: !port.artifact,
                list: false,
                binding: Some(binding),
                ty: Some(port.flow_type().ty),
            });
        }
        let mut v = self.dag_output(&cref, &comp, key)?;
        if task.get("parameterIterator").is_some() || task.get("artifactIterator").is_some() {
            v.list = true;
        }
        Some(v)
    }

    /// Output `key` of the DAG component `cref`, from the task its selector names.
    pub fn dag_output(&mut self, cref: &str, comp: &Node, key: &str) -> Option<Val> {
        let outs = comp.get("dag").and_then(|d| d.get("outputs"));
        let sel = outs
            .and_then(|o| o.get("parameters"))
            .and_then(|p| p.get(key))
            .and_then(|p| {
                p.get("valueFromParameter").cloned().or_else(|| {
                    let sels = p
                        .get("valueFromOneof")
                        .and_then(|o| o.get("parameterSelectors"))
                        .and_then(Node::as_seq)?;
                    if sels.len() > 1 {
                        self.one_of(cref, key, &sels[0]);
                    }
                    sels.first().cloned()
                })
            });
        let sel = sel.or_else(|| {
            outs.and_then(|o| o.get("artifacts"))
                .and_then(|a| a.get(key))
                .and_then(|a| a.get("artifactSelectors"))
                .and_then(Node::as_seq)
                .and_then(|s| {
                    if s.len() > 1 {
                        self.one_of(cref, key, &s[0]);
                    }
                    s.first().cloned()
                })
        })?;
        let sub = sel.str_of("producerSubtask").unwrap_or_default();
        let sub_key = sel
            .str_of("outputParameterKey")
            .or_else(|| sel.str_of("outputArtifactKey"))
            .unwrap_or_default();
        let inner_tasks = tasks(comp).to_vec();
        self.output(cref, &inner_tasks, sub, sub_key)
    }

    /// A container task (a call, or `finally` for an exit handler at the top) or an importer
    /// (whose output is an artifact parameter of the pipeline).
    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        dag: &str,
        siblings: &[(Node, Node)],
        task_key: &str,
        task: &Node,
        cref: &str,
        scope: &BTreeMap<String, Val>,
        root: bool,
    ) -> Option<Stmt> {
        let label = self
            .components
            .get(cref)
            .and_then(|c| c.str_of("executorLabel"))
            .unwrap_or_default();
        let exec = self.executors.get(label).cloned();
        if let Some(imp) = exec.as_ref().and_then(|e| e.get("importer")) {
            self.importer(dag, task_key, task, imp, scope, siblings);
            return None;
        }
        let callee = self.steps.get(cref).cloned()?;
        let binding = self
            .bindings
            .get(&(dag.to_string(), task_key.to_string()))
            .cloned()
            .unwrap_or_else(|| task_key.to_string());
        let mut call = Call {
            binding,
            callee,
            ..Call::default()
        };
        let ports = self.ports.get(cref).cloned().unwrap_or_default();
        let mut fed: BTreeSet<String> = BTreeSet::new();
        for p in &ports.inputs {
            if p.is_final_status() {
                continue;
            }
            let kind = if p.artifact {
                "artifacts"
            } else {
                "parameters"
            };
            let Some(w) = task
                .get("inputs")
                .and_then(|i| i.get(kind))
                .and_then(|i| i.get(&p.kfp))
            else {
                continue;
            };
            let ty = p.flow_type().ty;
            let Some(v) = self.value(dag, w, scope, siblings, &ty) else {
                self.ctx.warn(Code::LeftOut, w.pos, format!("the argument `{}` of task `{task_key}` is left out: its value could not be read", p.kfp), "pass it by hand");
                call.notes.push(format!(
                    "left out: the argument `{}` (its value could not be read)",
                    p.name
                ));
                self.left_out
                    .entry(cref.to_string())
                    .or_default()
                    .insert(p.kfp.clone());
                continue;
            };
            if v.list {
                // Values collected from a loop: a list, as the step's input (fan-in).
                let item = v.ty.clone().unwrap_or_else(|| "Str".to_string());
                self.list_inputs
                    .entry(cref.to_string())
                    .or_default()
                    .insert(p.kfp.clone(), format!("List<{item}>"));
            }
            if v.file && !p.artifact {
                self.file_inputs
                    .entry(cref.to_string())
                    .or_default()
                    .insert(p.kfp.clone());
                call.notes.push(format!(
                    "`{}` is the path of another task's output file (a value in Kubeflow)",
                    p.name
                ));
                self.ctx.warn(Code::Approximated, w.pos, format!("the input `{}` of task `{task_key}` is a value fed by another task's output file; the step receives its path", p.kfp), "make the step read the value from the file");
            }
            if let Some(b) = &v.binding {
                self.used.insert(b.clone());
                fed.insert(b.clone());
            }
            call.args.push((p.name.clone(), v.text));
        }
        call.after = self.after(dag, task, siblings, &fed);
        for b in self.upstream.clone() {
            if !fed.contains(&b) && !call.after.contains(&b) {
                call.after.push(b);
            }
        }
        self.display_name(task_key, task, &mut call);
        self.unknown_fields(task_key, task, &mut call);
        let exit = task.get("triggerPolicy").and_then(|t| t.str_of("strategy"))
            == Some("ALL_UPSTREAM_TASKS_COMPLETED");
        if exit && root {
            call.after.clear();
            return Some(Stmt::Finally(call));
        }
        if exit {
            self.ctx.warn(Code::Approximated, task.pos, format!("the exit handler `{task_key}` inside a group runs after its group, not whatever happens"), "flowc's `finally` is for a whole pipeline: move the handler to the top");
        }
        Some(Stmt::Call(call))
    }

    /// `after`: the `dependentTasks` no argument implies, as the bindings of their steps.
    fn after(
        &mut self,
        dag: &str,
        task: &Node,
        siblings: &[(Node, Node)],
        fed: &BTreeSet<String>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for d in task
            .get("dependentTasks")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let dep = d.as_str().unwrap_or_default();
            for b in self.step_bindings(dag, dep, siblings) {
                if !fed.contains(&b) && !out.contains(&b) {
                    self.used.insert(b.clone());
                    out.push(b);
                }
            }
        }
        out
    }

    /// The bindings of the step calls of task `key` (itself, or every step inside a group;
    /// none for importers, which are parameters, and exit-handler bodies).
    fn step_bindings(&self, dag: &str, key: &str, siblings: &[(Node, Node)]) -> Vec<String> {
        let Some(task) = siblings
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, t)| t)
        else {
            return Vec::new();
        };
        let cref = component_of(task);
        match self.components.get(cref) {
            Some(c) if c.get("dag").is_some() => {
                if cref.starts_with("comp-exit-handler") {
                    return Vec::new();
                }
                if is_sub_pipeline(cref) {
                    let b = self.bindings.get(&(dag.to_string(), key.to_string()));
                    return b.cloned().into_iter().collect();
                }
                let inner = tasks(c).to_vec();
                inner
                    .iter()
                    .flat_map(|(k, _)| {
                        self.step_bindings(cref, k.as_str().unwrap_or_default(), &inner)
                    })
                    .collect()
            }
            _ if self.steps.contains_key(cref) => self
                .bindings
                .get(&(dag.to_string(), key.to_string()))
                .cloned()
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A display name other than the task's key, kept as a note.
    fn display_name(&mut self, task_key: &str, task: &Node, call: &mut Call) {
        let Some(shown) = task.get("taskInfo").and_then(|i| i.str_of("name")) else {
            return;
        };
        if shown != task_key {
            call.notes.push(format!(
                "left out: the display name {:?} (flowc names a task after its binding)",
                shown
            ));
            self.ctx.warn(Code::LeftOut, task.pos, format!("the display name `{shown}` of task `{task_key}` is left out: flowc names tasks after their bindings"), "nothing to do; the task is named after its binding");
        }
    }

    /// An importer: its artifact becomes a pipeline parameter (the URI's parameter when it has
    /// one), which flowc's build imports from a URI given at run time.
    fn importer(
        &mut self,
        dag: &str,
        task_key: &str,
        task: &Node,
        imp: &Node,
        scope: &BTreeMap<String, Val>,
        siblings: &[(Node, Node)],
    ) {
        let title = imp
            .get("typeSchema")
            .and_then(|t| t.str_of("schemaTitle"))
            .unwrap_or("system.Artifact");
        let ty = crate::types::artifact(title).ty;
        let uri_input = imp
            .get("artifactUri")
            .and_then(|u| u.str_of("runtimeParameter"))
            .unwrap_or("uri");
        let wired = task
            .get("inputs")
            .and_then(|i| i.get("parameters"))
            .and_then(|p| p.get(uri_input));
        let from = wired.and_then(|w| self.value(dag, w, scope, siblings, "Str"));
        let param = from
            .as_ref()
            .and_then(|v| self.params.iter_mut().find(|p| p.name == v.text));
        let name = match param {
            Some(p) => {
                p.note = Some(format!(
                    "imported by the task `{task_key}`{}",
                    p.default
                        .as_ref()
                        .map(|d| format!("; its default URI was {d}"))
                        .unwrap_or_default()
                ));
                p.ty = ty;
                p.default = None;
                p.name.clone()
            }
            None => {
                let n = self.names.unique(task_key);
                let uri = imp
                    .get("artifactUri")
                    .and_then(|u| u.get("constant"))
                    .and_then(Node::as_str)
                    .unwrap_or_default();
                self.params.push(Param {
                    name: n.clone(),
                    ty,
                    default: None,
                    note: Some(format!("imported by the task `{task_key}` from {uri}")),
                });
                n
            }
        };
        for extra in ["metadata", "reimport"] {
            if let Some(m) = imp
                .get(extra)
                .filter(|m| extra == "metadata" || m.as_str() == Some("true"))
            {
                self.ctx.warn(Code::LeftOut, m.pos, format!("the importer's `{extra}` is left out: flowc artifact parameters carry none"), "nothing to do unless a step reads it");
            }
        }
        self.ctx.warn(
            Code::Approximated,
            task.pos,
            format!("the importer `{task_key}` is the artifact parameter `{name}` of the pipeline"),
            "pass the artifact's URI when running the pipeline",
        );
        self.imported.insert(
            (dag.to_string(), task_key.to_string()),
            Val {
                text: name,
                file: true,
                ..Val::default()
            },
        );
    }

    /// A call of the pipeline declared for the pipeline component of group `g`.
    fn sub_pipeline_call(
        &mut self,
        g: &Group<'_>,
        callee: &Node,
        inner: &BTreeMap<String, Val>,
    ) -> Stmt {
        let name = match self.sub_pipelines.get(g.cref) {
            Some(n) => n.clone(),
            None => self.declare_sub_pipeline(g.cref, callee),
        };
        let binding = self
            .bindings
            .get(&(g.dag.to_string(), g.task_key.to_string()))
            .cloned()
            .unwrap_or_else(|| g.task_key.to_string());
        let mut call = Call {
            binding,
            callee: name,
            ..Call::default()
        };
        let mut fed = BTreeSet::new();
        for p in &Ports::of(callee).inputs {
            if let Some(v) = inner.get(&p.kfp) {
                if let Some(b) = &v.binding {
                    self.used.insert(b.clone());
                    fed.insert(b.clone());
                }
                call.args.push((p.name.clone(), v.text.clone()));
            }
        }
        for b in self.upstream.clone() {
            if !fed.contains(&b) && !call.after.contains(&b) {
                call.after.push(b);
            }
        }
        Stmt::Call(call)
    }

    /// Declares a pipeline for the pipeline component `cref`: its inputs are parameters, its
    /// DAG the body, its DAG outputs `output`s. Returns its name.
    fn declare_sub_pipeline(&mut self, cref: &str, comp: &Node) -> String {
        let name = self.decls.unique(cref.trim_start_matches("comp-"));
        self.sub_pipelines.insert(cref.to_string(), name.clone());
        let saved = (
            std::mem::take(&mut self.params),
            std::mem::take(&mut self.used),
            std::mem::take(&mut self.upstream),
        );
        let ports = Ports::of(comp);
        let mut scope = BTreeMap::new();
        for p in &ports.inputs {
            let mut ty = p.flow_type().ty;
            let default = p
                .def
                .get("defaultValue")
                .and_then(|d| names::literal(&d.to_json(), &ty));
            if p.optional() && default.is_none() {
                ty.push('?');
            }
            scope.insert(
                p.kfp.clone(),
                Val {
                    text: p.name.clone(),
                    file: p.artifact,
                    ..Val::default()
                },
            );
            self.params.push(Param {
                name: p.name.clone(),
                ty,
                default,
                note: None,
            });
        }
        let body = self.walk(cref, comp, &scope, true);
        let mut outputs = Vec::new();
        for p in &ports.outputs {
            if let Some(v) = self.dag_output(cref, comp, &p.kfp) {
                if let Some(b) = &v.binding {
                    self.used.insert(b.clone());
                }
                outputs.push((p.name.clone(), v.text));
            }
        }
        let text = stmt::pipeline(&name, &self.params, None, &body, &self.used, &outputs);
        self.declared.push(text);
        (self.params, self.used, self.upstream) = saved;
        name
    }

    /// `dsl.OneOf`: an output taken from whichever branch ran. flowc reads the first branch's.
    fn one_of(&mut self, cref: &str, key: &str, first: &Node) {
        if self.unified.contains(&(cref.to_string(), key.to_string())) {
            return;
        }
        self.ctx.warn(
            Code::Approximated,
            first.pos,
            format!("the output `{key}` of `{cref}` is one of several branches' outputs (`dsl.OneOf`); flowc reads the first branch's"),
            "bind the same name in every branch of the `if` to read whichever ran",
        );
    }

    /// Task fields the importer does not read, left out with a note.
    fn unknown_fields(&mut self, task_key: &str, task: &Node, call: &mut Call) {
        const KNOWN: &[&str] = &[
            "componentRef",
            "inputs",
            "dependentTasks",
            "taskInfo",
            "cachingOptions",
            "retryPolicy",
            "triggerPolicy",
            "parameterIterator",
            "artifactIterator",
            "iteratorPolicy",
        ];
        for (k, _) in task.as_map().unwrap_or_default() {
            let key = k.as_str().unwrap_or_default();
            if !KNOWN.contains(&key) {
                call.notes.push(format!(
                    "left out: the task field `{key}` (flowc has no equivalent)"
                ));
                self.ctx.warn(
                    Code::LeftOut,
                    k.pos,
                    format!("the field `{key}` of task `{task_key}` is left out: flowc has no equivalent"),
                    "set it by hand after building if it matters",
                );
            }
        }
    }
}
