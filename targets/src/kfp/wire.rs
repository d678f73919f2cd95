//! Wiring values between DAGs.
//!
//! A value has an origin: a pipeline parameter (the pipeline's own DAG), a loop item (the
//! loop's DAG) or an output of a task or group (the DAG holding it). A consumer in a nested DAG
//! gets it as an input of every group on the way down (`pipelinechannel--<task>-<output>`,
//! `pipelinechannel--<param>`), each group task wiring it from its parent; a consumer outside
//! the group of the producer gets it as a DAG output of every group on the way up, a list after
//! a loop (the fan-in). A value leaving a condition may be missing, which a task input cannot
//! take, except a value bound in every branch of an `if`/`else` chain: that one is a one-of
//! output of the `condition-branches` DAG, as kfp compiles `dsl.OneOf`.

use crate::diagnostics::{self, Unwired};
use std::collections::BTreeSet;

use serde_json::Value as Json;

use super::tree::{Child, Items, Leaf, LeafKind, NodeKind, Src};
use super::types::{constant, element, fits, json_ktype, ktype, Def, KType};
use super::{Emitter, TASK_NAME_MAX};
use flowc_compiler::plan::{Part, PipelinePlan, Task, TaskKind, TypeRepr, Value};

/// A value as it reaches one DAG.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Chan {
    /// A parameter of the pipeline.
    Param(String),
    /// The item of the loop of this node.
    Item(usize),
    /// An output of a leaf task.
    Leaf { leaf: usize, key: String },
    /// A DAG output of a group.
    Group { node: usize, key: String },
}

/// A wired input.
pub(super) struct Wired {
    pub src: Src,
    /// The sibling task it comes from, for `dependentTasks`.
    pub dep: Option<String>,
    /// Whether the value may be missing.
    pub optional: bool,
}

impl Wired {
    /// Output `key` of sibling task `task`, which the reader then depends on.
    fn from_task(task: String, key: &str, artifact: bool) -> Wired {
        Wired {
            src: Src::Task {
                task: task.clone(),
                key: key.to_string(),
                artifact,
            },
            dep: Some(task),
            optional: false,
        }
    }
}

impl<'p> Emitter<'p> {
    /// The plan of graph `g`'s pipeline (borrowed from the plan, not from the emitter).
    pub(super) fn pipeline_plan(&self, g: usize) -> &'p PipelinePlan {
        let plan: &'p flowc_compiler::plan::Plan = self.plan;
        let name = &self.graphs[g].pipeline;
        plan.pipelines
            .get(name)
            .unwrap_or_else(|| &plan.pipelines[0])
    }

    fn param_type(&self, g: usize, name: &str) -> Option<&'p TypeRepr> {
        self.pipeline_plan(g)
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.ty)
    }

    fn origin(&self, g: usize, chan: &Chan) -> usize {
        let graph = &self.graphs[g];
        match chan {
            Chan::Param(_) => 0,
            Chan::Item(n) => *n,
            Chan::Leaf { leaf, .. } => graph.leaves[*leaf].node,
            Chan::Group { node, .. } => graph.nodes[*node].parent.unwrap_or(0),
        }
    }

    pub(super) fn chan_type(&self, g: usize, chan: &Chan) -> KType {
        let graph = &self.graphs[g];
        let string = KType::Param("STRING");
        match chan {
            Chan::Param(p) => match self.param_type(g, p) {
                // The entry pipeline takes an artifact parameter as its URI.
                Some(t) if graph.entry && t.is_artifact() => string,
                Some(t) => ktype(t),
                None => string,
            },
            Chan::Item(n) => graph.nodes[*n]
                .iterator
                .as_ref()
                .map_or(string, |it| it.item_type.clone()),
            Chan::Leaf { leaf, key } => graph.leaves[*leaf]
                .outputs
                .get(key)
                .map_or(string, |d| d.ty.clone()),
            Chan::Group { node, key } => graph.nodes[*node]
                .outputs
                .get(key)
                .map_or(string, |(t, _)| t.clone()),
        }
    }

    pub(super) fn chan_name(&self, g: usize, chan: &Chan) -> String {
        let graph = &self.graphs[g];
        match chan {
            Chan::Param(p) => format!("pipelinechannel--{p}"),
            Chan::Item(n) => graph.nodes[*n]
                .iterator
                .as_ref()
                .map_or_else(String::new, |it| it.item_input.clone()),
            Chan::Leaf { leaf, key } => {
                format!("pipelinechannel--{}-{key}", graph.leaves[*leaf].key)
            }
            Chan::Group { node, key } => group_output_name(&graph.nodes[*node].key, key),
        }
    }

    /// How `chan` is wired to a task of DAG `n`.
    pub(super) fn source_at(&mut self, g: usize, chan: &Chan, n: usize) -> Result<Wired, Unwired> {
        let o = self.origin(g, chan);
        let artifact = self.chan_type(g, chan).is_artifact();
        if o == n {
            let graph = &self.graphs[g];
            return Ok(match chan {
                Chan::Param(p) => Wired {
                    src: Src::Comp {
                        name: p.clone(),
                        artifact,
                    },
                    dep: None,
                    optional: false,
                },
                Chan::Item(_) => Wired {
                    src: Src::Comp {
                        name: self.chan_name(g, chan),
                        artifact,
                    },
                    dep: None,
                    optional: false,
                },
                Chan::Leaf { leaf, key } => {
                    Wired::from_task(graph.leaves[*leaf].key.clone(), key, artifact)
                }
                Chan::Group { node, key } => {
                    Wired::from_task(graph.nodes[*node].key.clone(), key, artifact)
                }
            });
        }
        if self.graphs[g].path(n).contains(&o) {
            let name = self.chan_name(g, chan);
            if !self.graphs[g].nodes[n].inputs.contains_key(&name) {
                let ty = self.chan_type(g, chan);
                self.graphs[g].nodes[n]
                    .inputs
                    .insert(name.clone(), Def::of(ty));
                let parent = self.graphs[g].nodes[n].parent.unwrap_or(0);
                let w = self.source_at(g, chan, parent)?;
                let node = &mut self.graphs[g].nodes[n];
                node.task_inputs.insert(name.clone(), w.src);
                if let Some(d) = w.dep {
                    node.deps.insert(d);
                }
                if w.optional {
                    node.optional.insert(name.clone());
                }
            }
            let optional = self.graphs[g].nodes[n].optional.contains(&name);
            return Ok(Wired {
                src: Src::Comp { name, artifact },
                dep: None,
                optional,
            });
        }
        let a = self.graphs[g].lca(o, n);
        let c = self.graphs[g].child_towards(a, o);
        let (surfaced, via) = self.surface(g, chan, c)?;
        let mut w = self.source_at(g, &surfaced, n)?;
        w.optional |= via;
        Ok(w)
    }

    /// Makes `chan`, produced inside group `c`, a DAG output of `c`; says whether it went
    /// through a condition.
    fn surface(&mut self, g: usize, chan: &Chan, c: usize) -> Result<(Chan, bool), Unwired> {
        let o = self.origin(g, chan);
        let (chan, mut via) = if o != c {
            let d = self.graphs[g].child_towards(c, o);
            self.surface(g, chan, d)?
        } else {
            (chan.clone(), false)
        };
        let graph = &self.graphs[g];
        let (producer, key) = match &chan {
            Chan::Leaf { leaf, key } => (graph.leaves[*leaf].key.clone(), key.clone()),
            Chan::Group { node, key } => (graph.nodes[*node].key.clone(), key.clone()),
            Chan::Param(_) | Chan::Item(_) => return Err(Unwired::LoopItemOutside),
        };
        let name = group_output_name(&producer, &key);
        if !graph.nodes[c].outputs.contains_key(&name) {
            let mut ty = self.chan_type(g, &chan);
            if matches!(graph.nodes[c].kind, NodeKind::Loop(_)) {
                ty = ty.listed();
            }
            self.graphs[g].nodes[c]
                .outputs
                .insert(name.clone(), (ty, vec![(producer, key)]));
        }
        via |= matches!(self.graphs[g].nodes[c].kind, NodeKind::Cond(_));
        Ok((Chan::Group { node: c, key: name }, via))
    }

    /// The channel of a value used at DAG `at`: a parameter, a loop item or a task output as
    /// such, anything else computed by a `flowc.eval` helper task placed at `at`.
    pub(super) fn value_chan(
        &mut self,
        g: usize,
        v: &Value,
        at: usize,
        ty: &KType,
        who: &str,
    ) -> Result<(Chan, bool), Unwired> {
        match v {
            Value::Param { name } => {
                let artifact = self.param_type(g, name).is_some_and(|t| t.is_artifact());
                if self.graphs[g].entry && artifact {
                    return Ok((self.importer(g, name)?, false));
                }
                Ok((Chan::Param(name.clone()), false))
            }
            Value::LoopItem { r#loop } => {
                let graph = &self.graphs[g];
                let mine = graph
                    .path(at)
                    .into_iter()
                    .find(|n| graph.nodes[*n].kind == NodeKind::Loop(*r#loop));
                let any = (0..graph.nodes.len()).find(|n| {
                    !graph.nodes[*n].dead && graph.nodes[*n].kind == NodeKind::Loop(*r#loop)
                });
                mine.or(any)
                    .map(|n| (Chan::Item(n), false))
                    .ok_or_else(|| "the loop of this value is missing".into())
            }
            Value::Output {
                task,
                output,
                collected,
            } => {
                // KFP collects the artifacts of nested loops into one flat list.
                if *collected
                    && self.is_artifact_output(g, task, output)
                    && self.loops_outside(g, task, at) > 1
                {
                    return Err(Unwired::ListOfLists);
                }
                self.output_chan(g, task, output, at)
            }
            Value::Op { op, args } if op == "flatten" => match args.as_slice() {
                [Value::Output {
                    task,
                    output,
                    collected: true,
                }] if self.is_artifact_output(g, task, output) => {
                    // KFP collects every level flat: one `flatten` must leave no level over.
                    if self.loops_outside(g, task, at) > 2 {
                        return Err(Unwired::ListOfLists);
                    }
                    self.output_chan(g, task, output, at)
                }
                // An evaluation returns values only: artifacts flattened any other way (a
                // flatten of a flatten, of a parameter) cannot be made here.
                [a] if self.is_artifact_value(g, a) || ty.is_artifact() => {
                    Err(Unwired::FlattenOther)
                }
                _ => self.evaluated_chan(g, v, at, ty, who),
            },
            _ => self.evaluated_chan(g, v, at, ty, who),
        }
    }

    /// The channel of a value computed by an evaluation task (its output `value`).
    fn evaluated_chan(
        &mut self,
        g: usize,
        v: &Value,
        at: usize,
        ty: &KType,
        who: &str,
    ) -> Result<(Chan, bool), Unwired> {
        let leaf = self.helper(g, v, at, ty, who, None)?;
        Ok((
            Chan::Leaf {
                leaf,
                key: "value".into(),
            },
            false,
        ))
    }

    /// Whether output `output` of task `task` of graph `g` is an artifact.
    fn is_artifact_output(&self, g: usize, task: &str, output: &str) -> bool {
        let p = self.pipeline_plan(g);
        p.tasks
            .iter()
            .find(|t| t.id == task)
            .and_then(|t| t.outputs.iter().find(|o| o.name == output))
            .is_some_and(|o| o.ty.is_artifact())
    }

    /// Whether `v` is an artifact or a list of them (a pipeline parameter or a task output).
    fn is_artifact_value(&self, g: usize, v: &Value) -> bool {
        match v {
            Value::Output { task, output, .. } => self.is_artifact_output(g, task, output),
            Value::Param { name } => self.param_type(g, name).is_some_and(|t| t.is_artifact()),
            _ => false,
        }
    }

    /// How many of the loops around task `task` do not hold DAG `at`: the levels of lists a
    /// read at `at` collects.
    pub(super) fn loops_outside(&self, g: usize, task: &str, at: usize) -> usize {
        let graph = &self.graphs[g];
        let around_at: Vec<usize> = graph
            .path(at)
            .into_iter()
            .filter_map(|n| match graph.nodes[n].kind {
                NodeKind::Loop(l) => Some(l),
                _ => None,
            })
            .collect();
        self.pipeline_plan(g)
            .tasks
            .iter()
            .find(|t| t.id == task)
            .map_or(0, |t| {
                t.loops.iter().filter(|l| !around_at.contains(l)).count()
            })
    }

    /// The output `output` of task `task` read at DAG `at`; a one-of when the name is bound in
    /// several branches, unless `at` is inside one of them (it reads its own branch's binding).
    fn output_chan(
        &mut self,
        g: usize,
        task: &str,
        output: &str,
        at: usize,
    ) -> Result<(Chan, bool), Unwired> {
        let leaf = self.graphs[g]
            .leaf_of(task)
            .ok_or_else(|| format!("task `{task}` is missing"))?;
        let plain = Chan::Leaf {
            leaf,
            key: output.to_string(),
        };
        let p = self.pipeline_plan(g);
        let absent = self.graphs[g].absent.get(task).copied();
        let Some(&ti) = self.graphs[g].task_index.get(task) else {
            return Ok((plain, false));
        };
        let alts = self.graphs[g].alternatives.get(task);
        let t = &p.tasks[ti];
        let alternatives: Vec<&Task> = alts.into_iter().flatten().map(|i| &p.tasks[*i]).collect();
        if alternatives.is_empty() && absent.is_none() {
            return Ok((plain, false));
        }
        let primary = t.outputs.first().map(|o| o.name.as_str()) == Some(output);
        let mut sites: Vec<(usize, String)> = vec![(leaf, output.to_string())];
        for d in &alternatives {
            let Some(l) = self.graphs[g].leaf_of(&d.id) else {
                continue;
            };
            let out = if primary {
                d.outputs.first().map_or(output, |o| o.name.as_str())
            } else {
                output
            };
            sites.push((l, out.to_string()));
        }
        // The `else` branch added for a value read optionally after the `if`.
        if let Some(l) = absent {
            sites.push((l, output.to_string()));
        }
        let graph = &self.graphs[g];
        let lca_of = |sites: &[(usize, String)]| {
            sites
                .iter()
                .map(|(l, _)| graph.leaves[*l].node)
                .reduce(|a, n| graph.lca(a, n))
                .unwrap_or(0)
        };
        let mut b = lca_of(&sites);
        let exhaustive = loop {
            let NodeKind::Branches { exhaustive } = graph.nodes[b].kind else {
                return Ok((plain, false));
            };
            // A read inside one branch sees the binding of that branch: the one-of would be an
            // output of the branches' group, which the reader is inside of (a cycle). When
            // that branch binds the name in several branches of its own, the read is the
            // one-of of those.
            if at != b && graph.path(at).contains(&b) {
                let mine = graph.child_towards(b, at);
                let own: Vec<(usize, String)> = sites
                    .iter()
                    .filter(|(l, _)| graph.child_towards(b, graph.leaves[*l].node) == mine)
                    .cloned()
                    .collect();
                match own.as_slice() {
                    [(l, out)] => {
                        let chan = Chan::Leaf {
                            leaf: *l,
                            key: out.clone(),
                        };
                        return Ok((chan, false));
                    }
                    [] => {}
                    _ => {
                        b = lca_of(&own);
                        sites = own;
                        continue;
                    }
                }
            }
            break exhaustive;
        };
        let branches: BTreeSet<usize> = sites
            .iter()
            .map(|(l, _)| graph.child_towards(b, graph.leaves[*l].node))
            .collect();
        let all: BTreeSet<usize> = graph.nodes[b]
            .children
            .iter()
            .filter_map(|c| match c {
                Child::Node(m) => Some(*m),
                Child::Leaf(_) => None,
            })
            .collect();
        let covered = exhaustive && branches == all && branches.len() == sites.len();
        let memo = (g, b, task.to_string(), output.to_string());
        if let Some(name) = self.oneofs.get(&memo) {
            return Ok((
                Chan::Group {
                    node: b,
                    key: name.clone(),
                },
                !covered,
            ));
        }
        let ty = self.chan_type(g, &plain);
        let mut selectors = Vec::new();
        for (l, out) in sites {
            let node = self.graphs[g].leaves[l].node;
            let c = self.graphs[g].child_towards(b, node);
            let (s, _) = self.surface(g, &Chan::Leaf { leaf: l, key: out }, c)?;
            if let Chan::Group { node, key } = s {
                selectors.push((self.graphs[g].nodes[node].key.clone(), key));
            }
        }
        let k = self
            .oneofs
            .keys()
            .filter(|(gg, bb, ..)| *gg == g && *bb == b)
            .count()
            + 1;
        let name = format!("pipelinechannel--{}-oneof-{k}", self.graphs[g].nodes[b].key);
        self.graphs[g].nodes[b]
            .outputs
            .insert(name.clone(), (ty, selectors));
        self.oneofs.insert(memo, name.clone());
        Ok((Chan::Group { node: b, key: name }, !covered))
    }

    /// The importer of the entry pipeline's artifact parameter `param`.
    fn importer(&mut self, g: usize, param: &str) -> Result<Chan, String> {
        if let Some(l) = self.importers.get(param) {
            return Ok(Chan::Leaf {
                leaf: *l,
                key: "artifact".into(),
            });
        }
        let ty = self
            .param_type(g, param)
            .map_or(KType::Param("STRING"), ktype);
        if matches!(ty, KType::Art { list: true, .. }) {
            return Err(format!(
                "the entry pipeline's parameter `{param}` is a list of artifacts, which KFP cannot import"
            ));
        }
        let body = self.graphs[g].body;
        let mut leaf = Leaf::new(
            LeafKind::Importer { ty: ty.clone() },
            body,
            format!("importer-{param}"),
        );
        leaf.key = self.namer.name(&leaf.display, TASK_NAME_MAX);
        leaf.outputs.insert("artifact".into(), Def::of(ty));
        leaf.defs
            .insert("uri".into(), Def::of(KType::Param("STRING")));
        let l = self.graphs[g].add_leaf(leaf);
        self.importers.insert(param.to_string(), l);
        let w = self.source_at(g, &Chan::Param(param.to_string()), body)?;
        self.graphs[g].leaves[l].inputs.insert("uri".into(), w.src);
        Ok(Chan::Leaf {
            leaf: l,
            key: "artifact".into(),
        })
    }

    /// A `flowc.eval` helper computing `v` (or a `flowc.check` one when `check` is given) at
    /// DAG `at`.
    pub(super) fn helper(
        &mut self,
        g: usize,
        v: &Value,
        at: usize,
        ty: &KType,
        who: &str,
        check: Option<String>,
    ) -> Result<usize, String> {
        if reads_run(v) {
            return Err(
                "`run` inside an expression cannot be passed on Kubeflow: pass `run.name` as an \
                 argument of its own"
                    .into(),
            );
        }
        let memo = (
            g,
            at,
            format!(
                "{}{:?}{:?}",
                serde_json::to_string(v).unwrap_or_default(),
                ty,
                check
            ),
        );
        if check.is_none() {
            if let Some(l) = self.helpers.get(&memo) {
                return Ok(*l);
            }
        }
        let is_check = check.is_some();
        let mut leaf = Leaf::new(
            LeafKind::Eval {
                value: Box::new(v.clone()),
                check,
            },
            at,
            who.to_string(),
        );
        leaf.key = self.namer.name(who, TASK_NAME_MAX);
        leaf.display.clone_from(&leaf.key);
        if !is_check {
            leaf.outputs.insert("value".into(), Def::of(ty.clone()));
        }
        let l = self.graphs[g].add_leaf(leaf);
        self.helpers.insert(memo, l);
        // Every value read, once, in order.
        let mut reads: Vec<(&'static str, String, Value)> = Vec::new();
        collect_reads(v, &mut reads);
        for (flag, name, r) in reads {
            let (chan, optional) = self.value_chan(g, &r, at, &KType::Param("STRING"), who)?;
            let w = self.source_at(g, &chan, at)?;
            if optional || w.optional {
                return Err(format!(
                    "`{name}` may be missing here (it is bound in an `if` branch that may not run)"
                ));
            }
            let key = self.chan_name(g, &chan);
            let def = Def::of(self.chan_type(g, &chan));
            let leaf = &mut self.graphs[g].leaves[l];
            leaf.inputs.insert(key.clone(), w.src);
            if let Some(d) = w.dep {
                leaf.deps.insert(d);
            }
            leaf.defs.insert(key.clone(), def);
            leaf.refs.push((flag.to_string(), name, key));
        }
        Ok(l)
    }

    /// A task at DAG `at` gathering the list of artifacts `items` into one folder (see
    /// [`LeafKind::Gather`]); the folder as the reader sees it.
    fn gather(&mut self, g: usize, at: usize, who: &str, items: Wired) -> Result<Wired, Unwired> {
        let mut leaf = Leaf::new(LeafKind::Gather, at, String::new());
        leaf.key = self.namer.name(&format!("{who}-gather"), TASK_NAME_MAX);
        leaf.display.clone_from(&leaf.key);
        let list = KType::Art {
            title: "system.Artifact",
            list: true,
        };
        leaf.inputs.insert("items".into(), items.src);
        leaf.defs.insert("items".into(), Def::of(list));
        if let Some(d) = items.dep {
            leaf.deps.insert(d);
        }
        leaf.outputs.insert("folder".into(), Def::of(folder_type()));
        let l = self.graphs[g].add_leaf(leaf);
        let chan = Chan::Leaf {
            leaf: l,
            key: "folder".into(),
        };
        let mut w = self.source_at(g, &chan, at)?;
        w.optional |= items.optional;
        Ok(w)
    }

    /// Wires the inputs of leaf `l` of graph `g`, the call of a task of the plan.
    pub(super) fn wire_task(&mut self, g: usize, l: usize) {
        let LeafKind::Task(i) = self.graphs[g].leaves[l].kind else {
            return;
        };
        let task = &self.pipeline_plan(g).tasks[i];
        let at = self.graphs[g].leaves[l].node;
        let pipeline = matches!(task.kind, TaskKind::Pipeline { .. });
        self.wire_secret_names(g, l, task);
        let leaf = &mut self.graphs[g].leaves[l];
        leaf.inputs.reserve_exact(task.inputs.len());
        if !pipeline {
            leaf.defs.reserve_exact(task.inputs.len());
        }
        for input in &task.inputs {
            let optional = matches!(input.ty, TypeRepr::Optional { .. });
            let mut ty = ktype(&input.ty);
            if let Value::Literal { value } = &input.value {
                if matches!(input.ty, TypeRepr::Columns)
                    || matches!(&input.ty, TypeRepr::Optional { inner } if **inner == TypeRepr::Columns)
                {
                    ty = json_ktype(value);
                }
            }
            let def = Def {
                ty: ty.clone(),
                optional,
                default: None,
            };
            let name = input.name.clone();
            match &input.value {
                Value::Literal { value: Json::Null } => {
                    self.graphs[g].leaves[l].skipped.insert(name, true);
                }
                Value::Literal { value } => {
                    let c = constant(value);
                    if let KType::Param(p) = &ty {
                        if !fits(&c, p) {
                            let at = self.place(Some(g), &task.id);
                            self.report(diagnostics::kfp_constant_type(at, &c, &name, p));
                        }
                    }
                    let leaf = &mut self.graphs[g].leaves[l];
                    leaf.inputs.insert(name.clone(), Src::Const(c));
                    if !pipeline {
                        leaf.defs.insert(name, def);
                    }
                }
                Value::Run { field } if field == "status" => {
                    if let Err(why) = self.wire_final_status(g, l, task, &name) {
                        self.report(diagnostics::kfp_unwired_value(
                            self.place(Some(g), &task.id),
                            why,
                        ));
                    }
                }
                Value::Run { field } => match run_placeholder(field) {
                    Ok(c) => {
                        let leaf = &mut self.graphs[g].leaves[l];
                        leaf.inputs.insert(name.clone(), Src::Const(c));
                        if !pipeline {
                            leaf.defs.insert(name, def);
                        }
                    }
                    Err(why) => self.report(diagnostics::kfp_unwired_value(
                        self.place(Some(g), &task.id),
                        why,
                    )),
                },
                Value::Template { parts } if template_is_direct(parts) => {
                    let mut text = String::new();
                    for p in parts {
                        match p {
                            Part::Text { text: t } => text.push_str(t),
                            Part::Value { value } => {
                                match self.wire_extra(g, l, at, value, &task.id) {
                                    Ok(key) => text
                                        .push_str(&format!("{{{{$.inputs.parameters['{key}']}}}}")),
                                    Err(m) => self.report(diagnostics::kfp_unwired_value(
                                        self.place(Some(g), &task.id),
                                        m,
                                    )),
                                }
                            }
                            _ => {}
                        }
                    }
                    let leaf = &mut self.graphs[g].leaves[l];
                    leaf.inputs
                        .insert(name.clone(), Src::Const(Json::String(text)));
                    if !pipeline {
                        leaf.defs.insert(name, def);
                    }
                }
                v => {
                    // Joined rather than formatted: one allocation of the exact length.
                    let who = [task.id.as_str(), input.name.as_str()].join("-");
                    let wired = match self.item_field(g, v, at) {
                        Some(w) => w,
                        None => self
                            .value_chan(g, v, at, &ty, &who)
                            .and_then(|(chan, opt)| {
                                let mut w = self.source_at(g, &chan, at)?;
                                w.optional |= opt;
                                Ok(w)
                            }),
                    };
                    // A container step takes a list of artifacts as one folder, gathered by a
                    // task of the runtime image beside it.
                    let gathered = matches!(ty, KType::Art { list: true, .. })
                        && matches!(task.kind, TaskKind::Container { .. });
                    let (wired, def) = match wired {
                        Ok(w) if gathered => (self.gather(g, at, &who, w), Def::of(folder_type())),
                        other => (other, def),
                    };
                    match wired {
                        Ok(w) => {
                            if w.optional {
                                let at = self.place(Some(g), &task.id);
                                self.report(diagnostics::kfp_missing_input(
                                    at,
                                    &input.name,
                                    &task.id,
                                ));
                            }
                            let leaf = &mut self.graphs[g].leaves[l];
                            leaf.inputs.insert(name.clone(), w.src);
                            if let Some(d) = w.dep {
                                leaf.deps.insert(d);
                            }
                            if !pipeline {
                                leaf.defs.insert(name, def);
                            }
                        }
                        Err(m) => self.report(diagnostics::kfp_unwired_value(
                            self.place(Some(g), &task.id),
                            m,
                        )),
                    }
                }
            }
        }
    }

    /// A field of a record loop item read at DAG `at`: the item's input with a selector
    /// (`parseJson(string_value)["where"]["zone"]`); `None` for any other value.
    fn item_field(&mut self, g: usize, v: &Value, at: usize) -> Option<Result<Wired, Unwired>> {
        let Value::Field { record, path } = v else {
            return None;
        };
        if !matches!(**record, Value::LoopItem { .. }) {
            return None;
        }
        let selector: String = path.iter().map(|f| format!("[{f:?}]")).collect();
        let wired = self
            .value_chan(g, record, at, &KType::Param("STRUCT"), "item")
            .and_then(|(chan, _)| self.source_at(g, &chan, at));
        Some(wired.and_then(|w| match w.src {
            Src::Comp {
                name,
                artifact: false,
            } => Ok(Wired {
                src: Src::Select {
                    name,
                    selector: format!("parseJson(string_value){selector}"),
                },
                ..w
            }),
            _ => Err("a record loop item that is not an input of the task's DAG".into()),
        }))
    }

    /// Wires a value interpolated into a string input as an extra input of the task, as kfp
    /// does for f-strings; returns the input's key.
    fn wire_extra(
        &mut self,
        g: usize,
        l: usize,
        at: usize,
        v: &Value,
        who: &str,
    ) -> Result<String, Unwired> {
        let (chan, opt) = self.value_chan(g, v, at, &KType::Param("STRING"), who)?;
        let w = self.source_at(g, &chan, at)?;
        if opt || w.optional {
            return Err(format!("a value interpolated into `{who}` may be missing").into());
        }
        let key = self.chan_name(g, &chan);
        let leaf = &mut self.graphs[g].leaves[l];
        leaf.inputs.insert(key.clone(), w.src);
        if let Some(d) = w.dep {
            leaf.deps.insert(d);
        }
        Ok(key)
    }

    /// Sets how loop `n` iterates: over a literal list, or over an input of its DAG.
    pub(super) fn wire_loop(&mut self, g: usize, n: usize) {
        let NodeKind::Loop(l) = self.graphs[g].nodes[n].kind else {
            return;
        };
        let Some(lp) = self.pipeline_plan(g).loops.get(l) else {
            return;
        };
        let number = self.graphs[g].nodes[n].number;
        let key = self.graphs[g].nodes[n].key.clone();
        let parent = self.graphs[g].nodes[n].parent.unwrap_or(0);
        let mut iterator = super::tree::Iterator {
            item_input: format!("pipelinechannel--loop-item-param-{number}"),
            item_type: KType::Param("STRING"),
            items: Items::Pending,
            parallel: lp.parallel.filter(|p| *p > 0),
        };
        match &lp.items {
            Value::Literal {
                value: Json::Array(items),
            } => {
                iterator.item_type = items.first().map_or(KType::Param("STRING"), json_ktype);
                iterator.items = Items::Raw(
                    serde_json::to_string(&Json::Array(items.iter().map(constant).collect()))
                        .unwrap_or_default(),
                );
            }
            v => {
                iterator.item_type = self.item_type(g, v);
                let wired = self
                    .value_chan(g, v, parent, &KType::Param("LIST"), &format!("{key}-items"))
                    .and_then(|(chan, opt)| {
                        let mut w = self.source_at(g, &chan, n)?;
                        w.optional |= opt;
                        Ok(w)
                    });
                match wired {
                    Ok(Wired {
                        src: Src::Comp { name, artifact },
                        optional,
                        ..
                    }) => {
                        if optional {
                            let at = self.place(Some(g), &key).at(lp.span);
                            self.report(diagnostics::kfp_missing_loop_list(at, &lp.var));
                        }
                        iterator.item_input = format!("{name}-loop-item");
                        iterator.items = Items::Input { name, artifact };
                    }
                    Ok(_) => {}
                    Err(m) => {
                        let at = self.place(Some(g), &key).at(lp.span);
                        self.report(diagnostics::kfp_unwired_value(at, m));
                    }
                }
            }
        }
        let node = &mut self.graphs[g].nodes[n];
        node.inputs.insert(
            iterator.item_input.clone(),
            Def::of(iterator.item_type.clone()),
        );
        node.iterator = Some(iterator);
    }

    /// The flowc type of one item of loop `l`.
    pub(super) fn item_repr(&self, g: usize, l: usize) -> TypeRepr {
        let p = self.pipeline_plan(g);
        let Some(lp) = p.loops.get(l) else {
            return TypeRepr::Unknown;
        };
        let scalar = |v: &Json| TypeRepr::Scalar {
            name: match v {
                Json::Bool(_) => "Bool",
                Json::Number(n) if n.is_i64() || n.is_u64() => "Int",
                Json::Number(_) => "Float",
                _ => "Str",
            }
            .into(),
        };
        match &lp.items {
            Value::Literal {
                value: Json::Array(items),
            } => items.first().map_or(TypeRepr::Unknown, |v| match v {
                Json::Object(_) => literal_repr(v),
                v => scalar(v),
            }),
            Value::Param { name } => self
                .param_type(g, name)
                .and_then(element)
                .cloned()
                .unwrap_or(TypeRepr::Unknown),
            Value::Output { task, output, .. } => p
                .tasks
                .iter()
                .find(|t| t.id == *task)
                .and_then(|t| t.outputs.iter().find(|o| o.name == *output))
                .map_or(TypeRepr::Unknown, |o| {
                    element(&o.ty).unwrap_or(&o.ty).clone()
                }),
            Value::LoopItem { r#loop } if *r#loop != l => element(&self.item_repr(g, *r#loop))
                .cloned()
                .unwrap_or(TypeRepr::Unknown),
            Value::List { items } => match items.first() {
                Some(Value::Literal { value }) => scalar(value),
                Some(Value::Param { name }) => self
                    .param_type(g, name)
                    .cloned()
                    .unwrap_or(TypeRepr::Unknown),
                _ => TypeRepr::Unknown,
            },
            _ => TypeRepr::Unknown,
        }
    }

    /// The KFP type of one item of the list `v`.
    fn item_type(&self, g: usize, v: &Value) -> KType {
        let p = self.pipeline_plan(g);
        let string = KType::Param("STRING");
        match v {
            Value::Param { name } => self
                .param_type(g, name)
                .and_then(element)
                .map_or(string, ktype),
            Value::Output { task, output, .. } => p
                .tasks
                .iter()
                .find(|t| t.id == *task)
                .and_then(|t| t.outputs.iter().find(|o| o.name == *output))
                .map_or(string, |o| ktype(element(&o.ty).unwrap_or(&o.ty))),
            // `flatten` of what nested loops gathered: an item is one output of the task.
            Value::Op { op, args } if op == "flatten" => match args.as_slice() {
                [Value::Output {
                    task,
                    output,
                    collected: true,
                }] => p
                    .tasks
                    .iter()
                    .find(|t| t.id == *task)
                    .and_then(|t| t.outputs.iter().find(|o| o.name == *output))
                    .map_or(string, |o| ktype(&o.ty)),
                _ => string,
            },
            Value::List { items } => items.first().map_or(string, |i| match i {
                Value::Literal { value } => json_ktype(value),
                Value::Param { name } => self
                    .param_type(g, name)
                    .map_or(KType::Param("STRING"), ktype),
                _ => KType::Param("STRING"),
            }),
            _ => string,
        }
    }

    /// Wires everything of graph `g`: loops, conditions, tasks, checks, outputs, `after`.
    pub(super) fn wire_graph(&mut self, g: usize) {
        let (mut nodes, mut leaves) = (Vec::new(), Vec::new());
        self.graphs[g].walk(0, &mut nodes, &mut leaves);
        // Outputs first: conditions and loops may read them.
        for &l in &leaves {
            match self.graphs[g].leaves[l].kind {
                LeafKind::Task(i) => {
                    let outputs = &self.pipeline_plan(g).tasks[i].outputs;
                    let leaf = &mut self.graphs[g].leaves[l];
                    leaf.outputs.reserve_exact(outputs.len());
                    for o in outputs {
                        self.graphs[g].leaves[l]
                            .outputs
                            .insert(o.name.clone(), Def::of(ktype(&o.ty)));
                    }
                }
                // The artifact outputs of the task it stands in for, with their types.
                LeafKind::Absent { of } => {
                    let outputs = &self.pipeline_plan(g).tasks[of].outputs;
                    for o in outputs.iter().filter(|o| o.ty.is_artifact()) {
                        self.graphs[g].leaves[l]
                            .outputs
                            .insert(o.name.clone(), Def::of(ktype(&o.ty)));
                    }
                }
                _ => {}
            }
        }
        for &n in &nodes {
            match self.graphs[g].nodes[n].kind {
                NodeKind::Loop(_) => self.wire_loop(g, n),
                NodeKind::Cond(_) => self.wire_cond(g, n),
                _ => {}
            }
        }
        for &l in &leaves {
            self.wire_task(g, l);
        }
        self.wire_checks(g);
        self.wire_outputs(g);
        self.wire_after(g);
        self.graphs[g].prune_empty(0);
    }

    /// One `flowc.check` task per check, in the DAG of the values it reads.
    fn wire_checks(&mut self, g: usize) {
        let checks = &self.pipeline_plan(g).checks;
        for (i, c) in checks.iter().enumerate() {
            let mut tasks = BTreeSet::new();
            let mut loops = BTreeSet::new();
            super::tree::refs(&c.condition, &mut tasks, &mut loops);
            let graph = &self.graphs[g];
            let mut at: Option<usize> = None;
            for t in &tasks {
                // A name bound in several branches is read from the check's own branch
                // (`output_chan`): the task the plan names may be in another one.
                if graph.alternatives.get(t).is_some_and(|a| !a.is_empty()) {
                    continue;
                }
                if let Some(l) = graph.leaf_of(t) {
                    let n = graph.leaves[l].node;
                    at = Some(at.map_or(n, |a| graph.lca(a, n)));
                }
            }
            // A check in a loop is made once per iteration: in the loop's DAG, whatever else it
            // reads from outside the loop (those values come in as inputs of the loop).
            if let Some(inner) = c.loops.last() {
                if let Some(n) = (0..graph.nodes.len()).find(|n| {
                    !graph.nodes[*n].dead && graph.nodes[*n].kind == NodeKind::Loop(*inner)
                }) {
                    at = Some(match at {
                        Some(a) if graph.path(a).contains(&n) => a,
                        _ => n,
                    });
                }
            }
            let mut at = at.unwrap_or(graph.body);
            // Out of loops the check is not in; into the exit handler's body.
            while graph.loops_of(at).iter().any(|l| !c.loops.contains(l)) {
                at = graph.nodes[at].parent.unwrap_or(0);
            }
            if at == 0 {
                at = graph.body;
            }
            // Into the group made for it, when that is at or under `at`: once the branches of
            // an `else if` chain are paired, its conditions are no longer single groups that
            // `under_condition` would find again.
            if let Some(&group) = graph.check_groups.get(&i) {
                if !graph.nodes[group].dead && graph.path(group).contains(&at) {
                    at = group;
                }
            }
            // The group made for it may have been merged into the groups of an `else if`
            // chain that repeats a condition (`else if b` then `else if not b`): a task under
            // the same conditions shows where its branch went.
            if graph
                .check_groups
                .get(&i)
                .is_some_and(|&n| graph.nodes[n].dead)
            {
                if let Some(n) = same_branch(self.pipeline_plan(g), graph, &c.loops, &c.when) {
                    at = n;
                }
            }
            // Under the conditions of its `if` branches, as a task is.
            for w in &c.when {
                at = self.graphs[g].under_condition(at, w);
            }
            // A group made only now has no name: the branch of the check was not found.
            let node = &self.graphs[g].nodes[at];
            if matches!(node.kind, NodeKind::Cond(_)) && node.key.is_empty() {
                let place = self.place(Some(g), "check").at(c.span);
                let why = "its `if` branch has no group of its own on KFP";
                self.report(diagnostics::kfp_check(place, &c.source, why));
                continue;
            }
            if let Err(m) = self.helper(
                g,
                &c.condition,
                at,
                &KType::Param("BOOLEAN"),
                "check",
                Some(c.source.clone()),
            ) {
                let at = self.place(Some(g), "check").at(c.span);
                self.report(diagnostics::kfp_check(at, &c.source, &m));
            }
        }
    }

    /// The pipeline's outputs as DAG outputs of its root.
    fn wire_outputs(&mut self, g: usize) {
        let outputs = &self.pipeline_plan(g).outputs;
        let body = self.graphs[g].body;
        for o in outputs {
            let ty = ktype(&o.ty);
            let who = format!("output-{}", o.name);
            let chan = match &o.value {
                Value::Output { .. } => self.value_chan(g, &o.value, body, &ty, &who),
                Value::Op { op, .. } if op == "flatten" && ty.is_artifact() => {
                    self.value_chan(g, &o.value, body, &ty, &who)
                }
                v if !ty.is_artifact() => self
                    .helper(g, v, body, &ty, &who, None)
                    .map(|leaf| {
                        (
                            Chan::Leaf {
                                leaf,
                                key: "value".into(),
                            },
                            false,
                        )
                    })
                    .map_err(Unwired::from),
                _ => Err(Unwired::Other(format!(
                    "the output `{}` passes an artifact parameter through, and a KFP DAG output must come from a task",
                    o.name
                ))),
            };
            let wired = chan.and_then(|(c, _)| {
                let w = self.source_at(g, &c, 0)?;
                let ty = match &w.src {
                    Src::Task { task, key, .. } => self.output_type(g, 0, task, key),
                    _ => None,
                };
                Ok((w, ty.unwrap_or_else(|| self.chan_type(g, &c))))
            });
            match wired {
                Ok((
                    Wired {
                        src: Src::Task { task, key, .. },
                        ..
                    },
                    ty,
                )) => {
                    self.graphs[g].nodes[0]
                        .outputs
                        .insert(o.name.clone(), (ty, vec![(task, key)]));
                }
                Ok(_) => {
                    let at = self.place(Some(g), "").at(o.span);
                    self.report(diagnostics::kfp_output_not_from_task(at, &o.name));
                }
                Err(m) => {
                    let at = self.place(Some(g), "").at(o.span);
                    self.report(diagnostics::kfp_output(at, &o.name, &m.to_string()));
                }
            }
        }
    }

    /// The type of output `key` of the task `task` of DAG `n`.
    fn output_type(&self, g: usize, n: usize, task: &str, key: &str) -> Option<KType> {
        let graph = &self.graphs[g];
        graph.nodes[n].children.iter().find_map(|c| match c {
            Child::Leaf(l) if graph.leaves[*l].key == task => {
                graph.leaves[*l].outputs.get(key).map(|d| d.ty.clone())
            }
            Child::Node(m) if graph.nodes[*m].key == task => {
                graph.nodes[*m].outputs.get(key).map(|(t, _)| t.clone())
            }
            _ => None,
        })
    }

    /// `after` as `dependentTasks` between the siblings that hold the two tasks.
    fn wire_after(&mut self, g: usize) {
        let tasks = &self.pipeline_plan(g).tasks;
        for t in tasks {
            let Some(l) = self.graphs[g].leaf_of(&t.id) else {
                continue;
            };
            for b in &t.after {
                let Some(lb) = self.graphs[g].leaf_of(b) else {
                    continue;
                };
                let graph = &self.graphs[g];
                let (na, nb) = (graph.leaves[l].node, graph.leaves[lb].node);
                let a = graph.lca(na, nb);
                // Tasks in different branches of one `if` never both run: `after` a name bound
                // in every branch orders nothing across them (and would make the branches'
                // groups wait for each other).
                if matches!(graph.nodes[a].kind, NodeKind::Branches { .. }) {
                    continue;
                }
                let dep = if nb == a {
                    graph.leaves[lb].key.clone()
                } else {
                    graph.nodes[graph.child_towards(a, nb)].key.clone()
                };
                if na == a {
                    self.graphs[g].leaves[l].deps.insert(dep);
                } else {
                    let c = graph.child_towards(a, na);
                    self.graphs[g].nodes[c].deps.insert(dep);
                }
            }
        }
    }
}

/// The node of a task under exactly the conditions `when` in the loops `loops`: where a check
/// of that branch runs.
fn same_branch(
    p: &PipelinePlan,
    graph: &super::tree::Graph,
    loops: &[usize],
    when: &[Value],
) -> Option<usize> {
    let keys = |w: &[Value]| -> BTreeSet<String> {
        w.iter()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .collect()
    };
    let want = keys(when);
    p.tasks
        .iter()
        .filter(|t| t.loops == loops && keys(&t.when) == want)
        .find_map(|t| graph.leaf_of(&t.id))
        .map(|l| graph.leaves[l].node)
}

/// The name of a value of task or group `producer` outside it: `pipelinechannel--<producer>-<key>`,
/// or the key itself when it already names a channel (kfp keeps `pipelinechannel--score-Output`
/// as the name of the list a loop collects).
fn group_output_name(producer: &str, key: &str) -> String {
    if key.starts_with("pipelinechannel--") {
        key.to_string()
    } else {
        format!("pipelinechannel--{producer}-{key}")
    }
}

/// Whether a string template only interpolates parameters and loop items, which KFP
/// substitutes into a constant itself.
fn template_is_direct(parts: &[Part]) -> bool {
    parts.iter().all(|p| match p {
        Part::Text { .. } => true,
        Part::Value { value } => matches!(**value, Value::Param { .. } | Value::LoopItem { .. }),
        _ => false,
    })
}

/// The values a helper reads, each once, as the runtime's command line names them: a
/// parameter (`--param NAME`), a loop item (`--item LOOP`), a metrics output
/// (`--metrics TASK.OUTPUT`).
fn collect_reads(v: &Value, out: &mut Vec<(&'static str, String, Value)>) {
    let mut push = |flag: &'static str, name: String, v: Value| {
        if !out.iter().any(|(f, n, _)| *f == flag && *n == name) {
            out.push((flag, name, v));
        }
    };
    match v {
        Value::Param { name } => push("--param", name.clone(), v.clone()),
        Value::LoopItem { r#loop } => push("--item", r#loop.to_string(), v.clone()),
        Value::Output { task, output, .. } | Value::Metric { task, output, .. } => push(
            "--metrics",
            format!("{task}.{output}"),
            Value::Output {
                task: task.clone(),
                output: output.clone(),
                collected: false,
            },
        ),
        Value::Template { parts } => {
            for p in parts {
                if let Part::Value { value } = p {
                    collect_reads(value, out);
                }
            }
        }
        Value::List { items: args } | Value::Op { args, .. } => {
            for a in args {
                collect_reads(a, out);
            }
        }
        Value::Field { record, .. } => collect_reads(record, out),
        Value::Literal { .. } | Value::Run { .. } => {}
    }
}

/// The type of a literal record item of a loop list, which a helper reads back with its type:
/// its fields are kept as written (their types may differ between items, `1` and `0.5`).
fn literal_repr(v: &Json) -> TypeRepr {
    match v {
        Json::Object(fields) => TypeRepr::Record {
            fields: fields
                .keys()
                .map(|name| flowc_compiler::plan::FieldRepr {
                    name: name.clone(),
                    ty: TypeRepr::Unknown,
                })
                .collect(),
        },
        _ => TypeRepr::Unknown,
    }
}

/// Whether a value reads a field of `run`.
fn reads_run(v: &Value) -> bool {
    match v {
        Value::Run { .. } => true,
        Value::Template { parts } => parts.iter().any(|p| match p {
            Part::Value { value } => reads_run(value),
            _ => false,
        }),
        Value::List { items: args } | Value::Op { args, .. } => args.iter().any(reads_run),
        _ => false,
    }
}

/// The constant KFP substitutes for a field of `run`: the run's name is the pipeline job's
/// name (`{{$.pipeline_job_name}}`); its status is wired by [`Emitter::wire_final_status`].
fn run_placeholder(field: &str) -> Result<Json, Unwired> {
    match field {
        "name" => Ok(Json::String("{{$.pipeline_job_name}}".into())),
        other => Err(format!("`run.{other}` is not known on Kubeflow").into()),
    }
}

/// The type of the folder a gathering task writes.
fn folder_type() -> KType {
    KType::Art {
        title: "system.Artifact",
        list: false,
    }
}
