//! DAG tasks and DAG templates.
//!
//! Every node of a frame becomes a DAG task: its template, `depends` (the node's dependencies
//! in the frame, bare names, so a skipped producer lets optional consumers run), `when`, its
//! arguments, and `withItems`/`withParam` for the iterating node of a loop. Frames become DAG
//! templates whose inputs are what they import and whose outputs are what they export.

use crate::diagnostics;
use std::collections::BTreeSet;

use serde_json::{json, Map, Value as Json};

use super::graph::{FrameId, FrameKind, NodeId, NodeKind};
use super::leaf::{ArtSlot, EvalMode, StepShape, INPUTS};
use super::resolve::Ref;
use super::text::{text_form, Text};
use super::values::ArtSrc;
use super::OutputRef;
use super::WorkflowEmitter;
use crate::obj;
use flowc_compiler::plan::{CachePlan, TaskKind, Value};

/// Arguments of a DAG task being built.
#[derive(Default)]
struct Args {
    params: Vec<Json>,
    arts: Vec<Json>,
}

impl Args {
    fn param(&mut self, name: &str, value: &Text) {
        self.params
            .push(json!({"name": name, "value": value.simple()}));
    }

    fn art(&mut self, name: &str, src: &ArtSrc, optional: bool) {
        let mut x = Map::new();
        x.insert("name".into(), json!(name));
        match src {
            ArtSrc::From(_, t) => {
                x.insert("from".into(), json!(t.simple()));
            }
            ArtSrc::Key(k) => {
                x.insert("s3".into(), json!({"key": k.simple()}));
            }
            ArtSrc::Absent | ArtSrc::List(_) => return,
        }
        if optional {
            x.insert("optional".into(), json!(true));
        }
        self.arts.push(Json::Object(x));
    }

    fn into_json(self) -> Option<Json> {
        let mut m = Map::new();
        if !self.params.is_empty() {
            m.insert("parameters".into(), Json::Array(self.params));
        }
        if !self.arts.is_empty() {
            m.insert("artifacts".into(), Json::Array(self.arts));
        }
        (!m.is_empty()).then_some(Json::Object(m))
    }
}

/// The pieces of a DAG task, assembled in a fixed key order.
#[derive(Default)]
struct TaskJson {
    template: String,
    arguments: Option<Json>,
    with_items: Option<Json>,
    with_param: Option<String>,
    hooks: Option<Json>,
}

impl WorkflowEmitter<'_> {
    /// Renders every frame of a pipeline (children before parents), then exports its outputs.
    pub(crate) fn render_pipeline(&mut self, pipe: usize) {
        let roots = [Some(self.g.pipes[pipe].root), self.g.pipes[pipe].exit];
        for root in roots.into_iter().flatten() {
            for f in self.g.post_order(root) {
                let nodes = self.g.frames[f].nodes.clone();
                for n in nodes {
                    let task = self.render_node(f, n);
                    self.tasks[n] = Some(task);
                }
            }
        }
        // The entry pipeline's outputs are the workflow's (`globalName`, see `frame_template`).
        self.export_outputs(pipe);
    }

    fn render_node(&mut self, f: FrameId, n: NodeId) -> Json {
        let kind = self.g.nodes[n].kind.clone();
        let pipe = self.g.frames[f].pipe;
        let task_id = match &kind {
            NodeKind::Task(t) => Some(self.pipes[pipe].tasks[*t].id.clone()),
            _ => None,
        };
        let tj = match kind {
            NodeKind::Task(t) => match self.callee(pipe, t) {
                Some(c) => self.render_call(f, t, c),
                None => self.render_step(f, t),
            },
            NodeKind::Check(c) => self.render_check(f, c),
            NodeKind::Eval(v) => self.render_eval(f, n, &v),
            NodeKind::Enumerate(l) => self.render_enumerate(f, l),
            NodeKind::Iterate(l) => self.render_iterate(f, n, l),
            NodeKind::Frame => self.render_frame_node(f, n),
            NodeKind::Copy(t, o) => self.render_copy(f, n, t, &o),
            NodeKind::Flatten(reader, t, o) => self.render_flatten(f, reader, t, &o),
        };
        let conds = self.g.nodes[n].conds.clone();
        let mut when = self.when_text(f, &conds, task_id.as_deref());
        if let Some((c, _)) = self.copy_conds.remove(&n) {
            when = Some(match when {
                Some(w) if w.starts_with('(') || !w.contains(' ') => format!("{w} && {c}"),
                Some(w) => format!("({w}) && {c}"),
                None => c,
            });
        }
        let node = &self.g.nodes[n];
        let mut deps: Vec<String> = node
            .deps
            .iter()
            .map(|d| self.g.nodes[*d].name.clone())
            .collect();
        deps.sort();
        let mut m = Map::new();
        m.insert("name".into(), json!(node.name));
        m.insert("template".into(), json!(tj.template));
        if !deps.is_empty() {
            m.insert("depends".into(), json!(deps.join(" && ")));
        }
        if let Some(w) = when {
            m.insert("when".into(), json!(w));
        }
        if let Some(a) = tj.arguments {
            m.insert("arguments".into(), a);
        }
        if let Some(w) = tj.with_items {
            m.insert("withItems".into(), w);
        }
        if let Some(w) = tj.with_param {
            m.insert("withParam".into(), json!(w));
        }
        if let Some(h) = tj.hooks {
            m.insert("hooks".into(), h);
        }
        Json::Object(m)
    }

    /// A call of a container or built-in step.
    fn render_step(&mut self, f: FrameId, t: usize) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let task = &p.tasks[t];
        let builtin = matches!(task.kind, TaskKind::Builtin { .. });
        let mut args = Args::default();
        let mut shape = StepShape::default();
        let mut literal_inputs: Vec<(String, String)> = Vec::new();
        let mut runtime: Vec<Text> = Vec::new();
        for i in task.inputs.iter().filter(|i| !i.ty.is_artifact()) {
            let text = match self.g.pipes[pipe].input_eval.get(&(t, i.name.clone())) {
                Some(e) => Some(self.resolve(f, &Ref::NodeOut(*e, "value".into()))),
                None => match self.param_text(f, &i.value) {
                    Ok(x) => x,
                    Err(e) => {
                        let at = self.place(pipe, Some(&task.id));
                        self.issues
                            .report(diagnostics::argo_argument(at, &i.name, &e));
                        None
                    }
                },
            };
            match text {
                Some(x) => {
                    match x.as_literal() {
                        Some(l) => literal_inputs.push((i.name.clone(), l)),
                        None => runtime.push(x.clone()),
                    }
                    args.param(&i.name, &x);
                    shape.params.push(i.name.clone());
                }
                None if !builtin => {
                    literal_inputs.push((i.name.clone(), String::new()));
                    args.param(&i.name, &Text::default());
                    shape.params.push(i.name.clone());
                }
                None => literal_inputs.push((i.name.clone(), "\u{0}none".into())),
            }
        }
        for i in task.inputs.iter().filter(|i| i.ty.is_artifact()) {
            let src = match self.art_src_for(f, &i.value, &task.loops, Some(t)) {
                Ok(s) => s,
                Err(e) => {
                    let at = self.place(pipe, Some(&task.id));
                    self.issues.report(diagnostics::argo_input(at, &i.name, &e));
                    ArtSrc::Absent
                }
            };
            let type_optional = matches!(i.ty, flowc_compiler::plan::TypeRepr::Optional { .. });
            let mut slots = Vec::new();
            flatten(&i.name, &format!("{INPUTS}/{}", i.name), &src, &mut slots);
            if slots.is_empty() {
                literal_inputs.push((i.name.clone(), "\u{0}none".into()));
                continue;
            }
            shape.art_inputs.push(i.name.clone());
            for (name, path, s) in slots {
                let missing = self.src_may_be_missing(pipe, &s);
                // Artifacts read by key may be missing (an empty list, a failed step read by the
                // exit handler); the plan's call-site type does not say `T?` for them.
                let by_key = matches!(s, ArtSrc::Key(_));
                shape.slots.push(ArtSlot {
                    name: name.clone(),
                    path,
                    optional: type_optional || by_key,
                });
                args.art(&name, &s, missing || type_optional);
            }
            // Only a cached step hashes its inputs' storage keys: the producers expose them
            // (`flowc-key-<output>`) for cached consumers only.
            if task.settings.cache != CachePlan::Off {
                self.identities(f, &src, &mut runtime);
            }
        }
        // Outputs go to deterministic keys under the pipeline instance's prefix.
        let has_outputs = task.outputs.iter().any(|o| o.ty.is_artifact());
        if has_outputs {
            let key = self
                .resolve(f, &Ref::Key)
                .then_lit(&format!("/{}", task.id));
            // A template of its own, in the entry pipeline, computes its key itself.
            let own =
                pipe == self.entry && self.single_calls.contains(task.definition_sha256.as_str());
            if own {
                shape.key = Some(key.simple());
            } else {
                args.param("flowc-key", &key);
            }
            let iter = self.resolve(f, &Ref::Iter(task.loops.last().copied()));
            if !iter.is_empty() {
                args.param("flowc-iter", &iter);
                shape.iterates = true;
            }
        }
        shape.identity = task
            .outputs
            .iter()
            .filter(|o| {
                self.identity
                    .contains(&OutputRef::new(pipe, t, o.name.clone()))
            })
            .map(|o| o.name.clone())
            .collect();
        if task.settings.cache != CachePlan::Off {
            // The key: the step's definition, then a hash of its argument values and input
            // artifact keys (computed when the task starts; literal values included, so that
            // calls with other literals share the template).
            let mut key = format!(
                "flowc-{}",
                &task.definition_sha256[..20.min(task.definition_sha256.len())]
            );
            let mut atoms: Vec<String> = literal_inputs
                .iter()
                .map(|(name, value)| super::text::expr_string(&format!("{name}={value}")))
                .collect();
            atoms.extend(runtime.iter().map(Text::expr));
            if !atoms.is_empty() {
                key.push_str("-{{inputs.parameters.flowc-cache}}");
                let e = format!("sprig.sha256sum(toJson([{}]))", atoms.join(", "));
                args.param("flowc-cache", &Text::expr_tag(e));
                shape.memo_runtime = true;
            }
            shape.memo_key = Some(key);
        }
        let template = self.step_template(pipe, t, &shape);
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    /// The arguments a call passes for the inputs of the callee frame `target`.
    fn call_args(&mut self, f: FrameId, t: usize, callee: usize, target: FrameId) -> Args {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let task = &p.tasks[t];
        let imports: Vec<(Ref, super::resolve::Port)> = self.ports[target]
            .imports
            .iter()
            .map(|(r, port)| (r.clone(), port.clone()))
            .collect();
        let mut args = Args::default();
        for (r, port) in imports {
            match &r {
                Ref::Param(n) | Ref::ParamKey(n) => {
                    let Some(input) = task.inputs.iter().find(|i| i.name == *n) else {
                        continue;
                    };
                    if port.artifact || matches!(r, Ref::ParamKey(_)) {
                        let src = match self.art_src_for(f, &input.value, &task.loops, Some(t)) {
                            Ok(s) => s,
                            Err(e) => {
                                let at = self.place(pipe, Some(&task.id));
                                self.issues.report(diagnostics::argo_input(at, n, &e));
                                ArtSrc::Absent
                            }
                        };
                        if matches!(r, Ref::ParamKey(_)) {
                            let mut ids = Vec::new();
                            self.identities(f, &src, &mut ids);
                            let mut joined = Text::default();
                            for (k, id) in ids.into_iter().enumerate() {
                                if k > 0 {
                                    joined.push_lit(",");
                                }
                                joined.push(id);
                            }
                            args.param(&port.name, &joined);
                        } else if let ArtSrc::List(_) = src {
                            let at = self.place(pipe, Some(&task.id));
                            let callee = &self.pipes[callee].name;
                            self.issues
                                .report(diagnostics::argo_artifact_list_to_pipeline(at, callee));
                        } else {
                            let missing = self.src_may_be_missing(pipe, &src);
                            args.art(&port.name, &src, missing || port.optional);
                        }
                    } else {
                        match self.param_text(f, &input.value) {
                            Ok(x) => args.param(&port.name, &x.unwrap_or_default()),
                            Err(e) => {
                                let at = self.place(pipe, Some(&task.id));
                                self.issues.report(diagnostics::argo_argument(at, n, &e));
                            }
                        }
                    }
                }
                Ref::Key => {
                    let k = self
                        .resolve(f, &Ref::Key)
                        .then_lit(&format!("/{}", task.id));
                    args.param(&port.name, &k);
                }
                Ref::Iter(None) => {
                    let it = self.resolve(f, &Ref::Iter(task.loops.last().copied()));
                    args.param(&port.name, &it);
                }
                _ => {}
            }
        }
        args
    }

    /// A call of a pipeline: its root DAG template, and its exit handler as an exit hook.
    fn render_call(&mut self, f: FrameId, t: usize, callee: usize) -> TaskJson {
        let root = self.g.pipes[callee].root;
        let args = self.call_args(f, t, callee, root);
        let hooks = match self.g.pipes[callee].exit {
            Some(exit) => {
                let a = self.call_args(f, t, callee, exit);
                let mut h = Map::new();
                h.insert("template".into(), json!(self.g.frames[exit].name));
                if let Some(a) = a.into_json() {
                    h.insert("arguments".into(), a);
                }
                Some(json!({"exit": Json::Object(h)}))
            }
            None => None,
        };
        TaskJson {
            template: self.g.frames[root].name.clone(),
            arguments: args.into_json(),
            hooks,
            ..TaskJson::default()
        }
    }

    /// Arguments for the runtime evaluation of `value` (params, loop items, metrics).
    #[allow(clippy::type_complexity)]
    fn eval_inputs(
        &mut self,
        f: FrameId,
        value: &Value,
        loops: &[usize],
        args: &mut Args,
    ) -> (
        Vec<(String, String)>,
        Vec<(usize, String)>,
        Vec<(String, String, String)>,
    ) {
        let pipe = self.g.frames[f].pipe;
        let mut params = BTreeSet::new();
        let mut items = BTreeSet::new();
        let mut metrics = BTreeSet::new();
        Self::atoms(value, &mut params, &mut items, &mut metrics);
        let mut ps = Vec::new();
        for name in params {
            let t = self.resolve(f, &Ref::Param(name.clone()));
            args.param(&name, &t);
            ps.push((name.clone(), name));
        }
        let mut is = Vec::new();
        for l in items {
            let input = super::resolve::port_label(&self.pipes[pipe].loops[l].var);
            let t = self.resolve(f, &Ref::Item(l));
            args.param(&input, &t);
            is.push((l, input));
        }
        let mut ms = Vec::new();
        for (task, output) in metrics {
            let input = super::resolve::port_label(&format!("{task}-{output}"));
            let v = Value::Output {
                task: task.clone(),
                output: output.clone(),
                collected: false,
            };
            match self.art_src(f, &v, loops) {
                Ok(src) => {
                    let missing = self.src_may_be_missing(pipe, &src);
                    args.art(&input, &src, missing);
                }
                Err(e) => {
                    let at = self.place(pipe, None);
                    self.issues.report(diagnostics::argo_metrics(at, &task, &e));
                }
            }
            ms.push((task, output, input));
        }
        (ps, is, ms)
    }

    fn render_check(&mut self, f: FrameId, c: usize) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let check = &p.checks[c];
        let mut args = Args::default();
        let (ps, is, ms) = self.eval_inputs(f, &check.condition, &check.loops, &mut args);
        let mode = EvalMode::Check {
            value: &check.condition,
            source: &check.source,
        };
        let template = self.eval_template(pipe, "check", mode, &ps, &is, &ms);
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    fn render_eval(&mut self, f: FrameId, n: NodeId, value: &Value) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let loops = self.frame_loops(f);
        let mut args = Args::default();
        let (ps, is, ms) = self.eval_inputs(f, value, &loops, &mut args);
        let _ = n;
        let template = self.eval_template(pipe, "eval", EvalMode::Eval { value }, &ps, &is, &ms);
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    /// The loops enclosing a frame, outermost first.
    fn frame_loops(&self, f: FrameId) -> Vec<usize> {
        let mut out = Vec::new();
        let mut x = f;
        loop {
            if let FrameKind::Body(l) = self.g.frames[x].kind {
                out.push(l);
            }
            match self.g.frames[x].parent {
                Some(p) => x = self.g.nodes[p].frame,
                None => break,
            }
        }
        out.reverse();
        out
    }

    fn render_enumerate(&mut self, f: FrameId, l: usize) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let items = match self.param_text(f, &p.loops[l].items) {
            Ok(t) => t.unwrap_or_default(),
            Err(e) => {
                let at = self.place(pipe, None).at(p.loops[l].span);
                self.issues
                    .report(diagnostics::argo_loop_list(at, &p.loops[l].var, &e));
                Text::default()
            }
        };
        let ty = self
            .item_type(pipe, l)
            .map(|i| flowc_compiler::plan::TypeRepr::List { item: Box::new(i) });
        let sig = json!({"items": ty}).to_string();
        let mut args = Args::default();
        args.param("items", &items);
        args.param("signature", &Text::lit(sig));
        let template = self.enumerate_template();
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    fn render_iterate(&mut self, f: FrameId, n: NodeId, l: usize) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let Some(body) = self.g.nodes[n].child else {
            return TaskJson::default();
        };
        let outer = p.loops[l].parents.last().copied();
        let imports: Vec<(Ref, super::resolve::Port)> = self.ports[body]
            .imports
            .iter()
            .map(|(r, port)| (r.clone(), port.clone()))
            .collect();
        let mut args = Args::default();
        for (r, port) in imports {
            match r {
                Ref::Item(x) if x == l => args.param(&port.name, &Text::var(&["item", "v"])),
                Ref::Iter(Some(x)) if x == l => {
                    let t = self
                        .resolve(f, &Ref::Iter(outer))
                        .then_lit("/")
                        .then(Text::var(&["item", "i"]));
                    args.param(&port.name, &t);
                }
                r => {
                    let t = self.resolve(f, &r);
                    if port.artifact {
                        let src = ArtSrc::From(r, t);
                        args.art(&port.name, &src, port.optional);
                    } else {
                        args.param(&port.name, &t);
                    }
                }
            }
        }
        let mut tj = TaskJson {
            template: self.g.frames[body].name.clone(),
            arguments: args.into_json(),
            ..TaskJson::default()
        };
        match self.g.pipes[pipe].enumerate[l] {
            Some(e) => {
                let name = self.g.nodes[e].name.clone();
                tj.with_param = Some(format!("{{{{tasks.{name}.outputs.parameters.items}}}}"));
            }
            None => {
                let items: Vec<Json> = match &p.loops[l].items {
                    Value::Literal {
                        value: serde_json::Value::Array(xs),
                    } => xs
                        .iter()
                        .enumerate()
                        .map(|(i, x)| json!({"i": format!("{i:05}"), "v": text_form(x)}))
                        .collect(),
                    _ => Vec::new(),
                };
                tj.with_items = Some(Json::Array(items));
            }
        }
        tj
    }

    /// A copy of a cached output into this run's storage key. It runs only when the output's
    /// key is not this run's: the producer's result was reused from the cache.
    fn render_copy(&mut self, f: FrameId, n: NodeId, t: usize, output: &str) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let id = self.pipes[pipe].tasks[t].id.clone();
        let loops = self.pipes[pipe].tasks[t].loops.clone();
        let key = self
            .resolve(f, &Ref::Key)
            .then_lit(&format!("/{id}/{output}"));
        let iter = self.resolve(f, &Ref::Iter(loops.last().copied()));
        let actual = self.resolve(f, &Ref::OutKey(t, output.to_string()));
        let source = Ref::Out(t, output.to_string());
        let from = self.resolve(f, &source);
        let mut args = Args::default();
        args.param("flowc-key", &key);
        if !iter.is_empty() {
            args.param("flowc-iter", &iter);
        }
        args.art("source", &ArtSrc::From(source, from), false);
        let expected = key.then(iter);
        let cond = format!("'{}' != '{}'", actual.simple(), expected.simple());
        let n_conds = self.g.nodes[n].conds.len();
        self.copy_conds.insert(n, (cond, n_conds));
        let template = self.copy_template();
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    /// A node flattening, for task `reader`, the outputs `output` of task `t` gathered across
    /// nested loops: the key prefix in, one folder of numbered entries out at
    /// [`WorkflowEmitter::flatten_key`].
    fn render_flatten(&mut self, f: FrameId, reader: usize, t: usize, output: &str) -> TaskJson {
        let pipe = self.g.frames[f].pipe;
        let p = self.pipes[pipe];
        let loops = p.tasks[reader].loops.clone();
        let gathered = Value::Output {
            task: p.tasks[t].id.clone(),
            output: output.to_string(),
            collected: true,
        };
        let levels = p.tasks[t]
            .loops
            .iter()
            .filter(|l| !loops.contains(l))
            .count();
        let mut args = Args::default();
        let (key, iter) = self.flatten_key(f, reader, t, output);
        args.param("flowc-key", &key);
        if !iter.is_empty() {
            args.param("flowc-iter", &iter);
        }
        args.param("levels", &Text::lit(levels.to_string()));
        match self.art_src_for(f, &gathered, &loops, Some(reader)) {
            Ok(src) => args.art("source", &src, true),
            Err(why) => {
                let at = self.place(pipe, Some(&p.tasks[reader].id));
                self.issues
                    .report(diagnostics::argo_input(at, "flatten", &why));
            }
        }
        let template = self.flatten_template();
        TaskJson {
            template,
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    /// A node running a child frame (a loop wrapper or a chunk): it passes the child's inputs.
    fn render_frame_node(&mut self, f: FrameId, n: NodeId) -> TaskJson {
        let Some(child) = self.g.nodes[n].child else {
            return TaskJson::default();
        };
        let imports: Vec<(Ref, super::resolve::Port)> = self.ports[child]
            .imports
            .iter()
            .map(|(r, port)| (r.clone(), port.clone()))
            .collect();
        let mut args = Args::default();
        for (r, port) in imports {
            let t = self.resolve(f, &r);
            if port.artifact {
                args.art(&port.name, &ArtSrc::From(r, t), port.optional);
            } else {
                args.param(&port.name, &t);
            }
        }
        TaskJson {
            template: self.g.frames[child].name.clone(),
            arguments: args.into_json(),
            ..TaskJson::default()
        }
    }

    /// Says that an artifact output of the entry pipeline is not a workflow output (a called
    /// pipeline's outputs of this kind are read by their storage keys, as documented).
    fn report_not_exported(&mut self, pipe: usize, o: &flowc_compiler::plan::PlanOutput) {
        if pipe == self.entry {
            let at = self.place(pipe, None).at(o.span);
            self.issues
                .report(diagnostics::argo_output_not_exported(at, &o.name));
        }
    }

    /// Exports the outputs of a called pipeline from its root DAG template, named as the
    /// pipeline's outputs (and `flowc-key-<output>` for their storage keys).
    fn export_outputs(&mut self, pipe: usize) {
        let root = self.g.pipes[pipe].root;
        let p = self.pipes[pipe];
        for o in &p.outputs {
            if o.ty.is_artifact() {
                let (r, key) = match &o.value {
                    Value::Output {
                        task,
                        output,
                        collected: false,
                    } => {
                        let Some(t) = self.task_index(pipe, task) else {
                            continue;
                        };
                        if self.callee_output_is_prefix(pipe, t, output) {
                            self.report_not_exported(pipe, o);
                            continue;
                        }
                        (Ref::Out(t, output.clone()), Ref::OutKey(t, output.clone()))
                    }
                    Value::Param { name } => {
                        (Ref::Param(name.clone()), Ref::ParamKey(name.clone()))
                    }
                    Value::Op { op, .. } if op == "flatten" && pipe != self.entry => {
                        // Its caller would read an artifact the template cannot declare: the
                        // flattened folder is made beside a reader, not returned.
                        let at = self.place(pipe, None).at(o.span);
                        let why = "a flattened list of artifacts is made beside the step that \
                                   reads it, and a called pipeline cannot return it";
                        self.issues
                            .report(diagnostics::argo_output(at, &o.name, why));
                        continue;
                    }
                    _ => {
                        self.report_not_exported(pipe, o);
                        continue;
                    }
                };
                let optional = match &r {
                    Ref::Out(t, _) => self.may_skip(pipe, *t),
                    _ => false,
                };
                let source = self.resolve(root, &r);
                self.export_named(root, None, o.name.clone(), true, optional, source);
                if self.identity_out.contains(&(pipe, o.name.clone())) {
                    let source = self.resolve(root, &key);
                    self.export_named(
                        root,
                        None,
                        format!("flowc-key-{}", o.name),
                        false,
                        false,
                        source,
                    );
                }
            } else if let Some(&e) = self.g.pipes[pipe].output_eval.get(&o.name) {
                let source = self.resolve(root, &Ref::NodeOut(e, "value".into()));
                self.export_named(root, None, o.name.clone(), false, false, source);
            } else {
                match self.param_text(root, &o.value) {
                    Ok(Some(t)) => {
                        self.export_named(root, None, o.name.clone(), false, false, t);
                    }
                    Ok(None) => {
                        self.export_named(
                            root,
                            None,
                            o.name.clone(),
                            false,
                            false,
                            Text::default(),
                        );
                    }
                    Err(e) => {
                        let at = self.place(pipe, None).at(o.span);
                        self.issues
                            .report(diagnostics::argo_output(at, &o.name, &e));
                    }
                }
            }
        }
    }

    /// The DAG template of a frame.
    /// The DAG template of frame `f`, which takes its rendered tasks (each node belongs to
    /// one frame, and its template is made once).
    pub(crate) fn frame_template(&mut self, f: FrameId) -> Json {
        let frame = &self.g.frames[f];
        let ports = &self.ports[f];
        let mut m = Map::new();
        m.insert("name".into(), json!(frame.name));
        let mut in_params = Vec::new();
        let mut in_arts = Vec::new();
        for p in ports.imports.values() {
            if p.artifact {
                let mut x = Map::new();
                x.insert("name".into(), json!(p.name));
                if p.optional {
                    x.insert("optional".into(), json!(true));
                }
                in_arts.push(Json::Object(x));
            } else {
                in_params.push(json!({"name": p.name}));
            }
        }
        if let Some(io) = parameters_and_artifacts(in_params, in_arts) {
            m.insert("inputs".into(), io);
        }
        let mut out_params = Vec::new();
        let mut out_arts = Vec::new();
        // The entry pipeline's outputs are also the workflow's outputs (`status.outputs`), which
        // the caller (Airflow, another workflow) reads back.
        let global = self.g.pipes[self.entry].root == f;
        for p in ports.exports.values() {
            let mut x = Map::new();
            x.insert("name".into(), json!(p.name));
            if p.artifact {
                x.insert("from".into(), json!(p.source.simple()));
            } else {
                let vf = if p.source.as_var().is_some() {
                    json!({"parameter": p.source.simple()})
                } else {
                    json!({"expression": p.source.expr()})
                };
                x.insert("valueFrom".into(), vf);
            }
            if global {
                x.insert("globalName".into(), json!(p.name));
            }
            if p.artifact && p.optional {
                x.insert("optional".into(), json!(true));
            }
            if p.artifact {
                out_arts.push(Json::Object(x));
            } else {
                out_params.push(Json::Object(x));
            }
        }
        if let Some(io) = parameters_and_artifacts(out_params, out_arts) {
            m.insert("outputs".into(), io);
        }
        if let Some(par) = frame.parallelism {
            m.insert("parallelism".into(), json!(par));
        }
        let tasks: Vec<Json> = frame
            .nodes
            .iter()
            .filter_map(|n| self.tasks[*n].take())
            .collect();
        m.insert("dag".into(), obj([("tasks", Json::Array(tasks))]));
        Json::Object(m)
    }
}

/// The input slots of an artifact argument: one per element of a list, in folders named by
/// the element's zero-padded index.
fn flatten(name: &str, path: &str, src: &ArtSrc, out: &mut Vec<(String, String, ArtSrc)>) {
    match src {
        ArtSrc::Absent => {}
        ArtSrc::List(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{name}-{i}"), &format!("{path}/{i:05}"), item, out);
            }
        }
        s => out.push((name.to_string(), path.to_string(), s.clone())),
    }
}

/// An `inputs` or `outputs` block: its non-empty `parameters` and `artifacts`, or None when
/// both are empty.
fn parameters_and_artifacts(params: Vec<Json>, artifacts: Vec<Json>) -> Option<Json> {
    let mut io = Map::new();
    if !params.is_empty() {
        io.insert("parameters".into(), Json::Array(params));
    }
    if !artifacts.is_empty() {
        io.insert("artifacts".into(), Json::Array(artifacts));
    }
    (!io.is_empty()).then_some(Json::Object(io))
}
