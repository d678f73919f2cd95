//! References to values across DAG templates: what each frame imports and exports.
//!
//! A value used in a frame (a pipeline parameter, a task output, a loop item, the artifact
//! key prefix) is a [`Ref`]. [`WorkflowEmitter::resolve`] turns it into the `{{...}}` variable that reaches
//! it from that frame: a global (`workflow.parameters.x` in the entry pipeline), an output of a
//! task of the frame (`tasks.t.outputs...`), an output that a child frame exports
//! (`tasks.part-2.outputs...`), or an input the frame imports (`inputs.parameters.x`), which
//! the node running the frame then passes, resolved in its own frame, and so on up. Exports
//! never need imports (they only name what is inside), so a frame's inputs are final once its
//! own nodes are rendered: frames are rendered children first.

use crate::diagnostics;
use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;

use super::graph::{FrameId, FrameKind, NodeId};
use super::text::Text;
use super::WorkflowEmitter;
use flowc_compiler::plan::{TaskKind, TypeRepr};

/// A value that may live in another frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ref {
    /// A pipeline parameter (a value or an artifact).
    Param(String),
    /// The identity of an artifact parameter, for cache keys.
    ParamKey(String),
    /// The artifact key prefix of the pipeline instance.
    Key,
    /// The iteration path (`/00003/00001`) at a loop's level; `None`: the instance's own.
    Iter(Option<usize>),
    /// A loop's current item.
    Item(usize),
    /// An artifact output of a task.
    Out(usize, String),
    /// The identity (key) of an artifact output of a task, for cache keys.
    OutKey(usize, String),
    /// A value output of a pipeline call.
    OutParam(usize, String),
    /// An output parameter of an evaluating or enumerating node.
    NodeOut(NodeId, String),
    /// The phase of a task (`Succeeded`, `Skipped`, ...).
    Status(usize),
}

/// An input or output of a DAG template.
#[derive(Clone, Debug)]
pub(crate) struct Port {
    /// Its name.
    pub(crate) name: String,
    /// Whether it is an artifact (else a parameter).
    pub(crate) artifact: bool,
    /// Whether an artifact may be missing.
    pub(crate) optional: bool,
    /// For exports: where the value comes from inside the frame.
    pub(crate) source: Text,
}

/// The inputs and outputs of one frame.
#[derive(Debug, Default)]
pub(crate) struct Ports {
    /// Imports, in first-use order.
    pub(crate) imports: IndexMap<Ref, Port>,
    /// Exports by name, in first-use order.
    pub(crate) exports: IndexMap<String, Port>,
    export_names: HashMap<Ref, String>,
    used: BTreeSet<String>,
    used_out: BTreeSet<String>,
}

/// A parameter or artifact name (`[-a-zA-Z0-9_]+`).
pub(crate) fn port_label(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

fn unique(used: &mut BTreeSet<String>, base: String) -> String {
    if used.insert(base.clone()) {
        return base;
    }
    let mut k = 2;
    loop {
        let c = format!("{base}-{k}");
        if used.insert(c.clone()) {
            return c;
        }
        k += 1;
    }
}

impl WorkflowEmitter<'_> {
    /// The frame where a reference is defined, seen from frame `f`.
    fn def_frame(&self, f: FrameId, r: &Ref) -> FrameId {
        let pipe = self.g.frames[f].pipe;
        let pf = &self.g.pipes[pipe];
        match r {
            Ref::Param(_) | Ref::ParamKey(_) | Ref::Key | Ref::Iter(None) => self.g.tree_root(f),
            Ref::Iter(Some(l)) | Ref::Item(l) => pf.body[*l],
            Ref::Out(t, _) | Ref::OutKey(t, _) | Ref::OutParam(t, _) | Ref::Status(t) => {
                self.g.nodes[pf.task_node[*t]].frame
            }
            Ref::NodeOut(n, _) => self.g.nodes[*n].frame,
        }
    }

    /// The global form of a reference in the entry pipeline, where parameters and keys need
    /// no passing around.
    fn global(&self, f: FrameId, r: &Ref) -> Option<Text> {
        let pipe = self.g.frames[f].pipe;
        if pipe != self.entry {
            return None;
        }
        match r {
            Ref::Param(n) if !self.param_is_artifact(pipe, n) => {
                Some(Text::var(&["workflow", "parameters", n.as_str()]))
            }
            Ref::ParamKey(n) => {
                Some(Text::lit(format!("input/{n}/")).then(Text::var(&["workflow", "uid"])))
            }
            Ref::Key => {
                Some(Text::lit(format!("{}/", self.key_root)).then(Text::var(&["workflow", "uid"])))
            }
            Ref::Iter(None) => Some(Text::default()),
            _ => None,
        }
    }

    /// Whether a pipeline parameter is an artifact.
    pub(crate) fn param_is_artifact(&self, pipe: usize, name: &str) -> bool {
        self.param_type(pipe, name)
            .is_some_and(TypeRepr::is_artifact)
    }

    /// The type of a pipeline parameter.
    pub(crate) fn param_type(&self, pipe: usize, name: &str) -> Option<&TypeRepr> {
        self.pipes[pipe]
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.ty)
    }

    fn ref_is_artifact(&self, pipe: usize, r: &Ref) -> bool {
        match r {
            Ref::Param(n) => self.param_is_artifact(pipe, n),
            Ref::Out(..) => true,
            _ => false,
        }
    }

    /// Whether the task producing an output may be skipped (it has conditions).
    pub(crate) fn may_skip(&self, pipe: usize, task: usize) -> bool {
        !self.pipes[pipe].tasks[task].when.is_empty()
    }

    fn ref_optional(&self, pipe: usize, r: &Ref) -> bool {
        match r {
            Ref::Param(n) => matches!(self.param_type(pipe, n), Some(TypeRepr::Optional { .. })),
            Ref::Out(t, _) => self.may_skip(pipe, *t),
            _ => false,
        }
    }

    fn port_base(&self, pipe: usize, r: &Ref) -> String {
        let p = self.pipes[pipe];
        let task = |t: &usize| p.tasks[*t].id.clone();
        port_label(&match r {
            Ref::Param(n) => n.clone(),
            Ref::ParamKey(n) => format!("flowc-key-{n}"),
            Ref::Key => "flowc-key".into(),
            Ref::Iter(None) => "flowc-iter".into(),
            Ref::Iter(Some(l)) => format!("flowc-iter-{}", p.loops[*l].var),
            Ref::Item(l) => p.loops[*l].var.clone(),
            Ref::Out(t, o) | Ref::OutParam(t, o) => format!("{}-{o}", task(t)),
            Ref::OutKey(t, o) => format!("flowc-key-{}-{o}", task(t)),
            Ref::NodeOut(n, o) => format!("{}-{o}", self.g.nodes[*n].name),
            Ref::Status(t) => format!("{}-status", task(t)),
        })
    }

    /// The variable that reaches `r` from frame `f`, importing or exporting along the way.
    pub(crate) fn resolve(&mut self, f: FrameId, r: &Ref) -> Text {
        if let Some(t) = self.global(f, r) {
            return t;
        }
        let pipe = self.g.frames[f].pipe;
        let d = self.def_frame(f, r);
        if d == f {
            match r {
                Ref::Out(t, o) | Ref::OutKey(t, o) | Ref::OutParam(t, o) => {
                    let node = &self.g.nodes[self.g.pipes[pipe].task_node[*t]].name;
                    return match r {
                        Ref::Out(..) => Text::var(&["tasks", node, "outputs", "artifacts", o]),
                        Ref::OutKey(..) => Text::var(&[
                            "tasks",
                            node,
                            "outputs",
                            "parameters",
                            &format!("flowc-key-{o}"),
                        ]),
                        _ => Text::var(&["tasks", node, "outputs", "parameters", o]),
                    };
                }
                Ref::NodeOut(n, o) => {
                    let node = &self.g.nodes[*n].name;
                    return Text::var(&["tasks", node, "outputs", "parameters", o]);
                }
                Ref::Status(t) => {
                    let node = &self.g.nodes[self.g.pipes[pipe].task_node[*t]].name;
                    return Text::var(&["tasks", node, "status"]);
                }
                _ => return self.import(f, r),
            }
        }
        if let Some(cn) = self.g.child_towards(f, d) {
            let Some(child) = self.g.nodes[cn].child else {
                return Text::default();
            };
            let name = self.export(child, r);
            let kind = if self.ref_is_artifact(pipe, r) {
                "artifacts"
            } else {
                "parameters"
            };
            let node = self.g.nodes[cn].name.clone();
            return Text::var(&["tasks", &node, "outputs", kind, &name]);
        }
        if self.g.frames[f].parent.is_some() {
            return self.import(f, r);
        }
        self.unresolvable(f, r);
        Text::default()
    }

    fn unresolvable(&mut self, f: FrameId, r: &Ref) {
        let pipe = self.g.frames[f].pipe;
        let what = match r {
            Ref::Param(n) | Ref::ParamKey(n) => format!("parameter `{n}`"),
            Ref::Out(t, o) | Ref::OutKey(t, o) | Ref::OutParam(t, o) => {
                format!("output `{o}` of `{}`", self.pipes[pipe].tasks[*t].id)
            }
            _ => "a value of the pipeline".into(),
        };
        let exit = self.g.frames[f].kind == FrameKind::Exit;
        let at = self.place(pipe, None);
        self.issues
            .report(diagnostics::argo_value_unreachable(at, &what, exit));
    }

    /// Declares (once) that frame `f` takes `r` as an input; returns the input variable.
    fn import(&mut self, f: FrameId, r: &Ref) -> Text {
        let pipe = self.g.frames[f].pipe;
        let artifact = self.ref_is_artifact(pipe, r);
        let kind = if artifact { "artifacts" } else { "parameters" };
        if let Some(p) = self.ports[f].imports.get(r) {
            return Text::var(&["inputs", kind, p.name.as_str()]);
        }
        let base = self.port_base(pipe, r);
        let optional = artifact && self.ref_optional(pipe, r);
        let ports = &mut self.ports[f];
        let name = unique(&mut ports.used, base);
        ports.imports.insert(
            r.clone(),
            Port {
                name: name.clone(),
                artifact,
                optional,
                source: Text::default(),
            },
        );
        Text::var(&["inputs", kind, name.as_str()])
    }

    /// Declares (once) that frame `f` outputs `r`, which is defined inside it; returns the
    /// output's name.
    fn export(&mut self, f: FrameId, r: &Ref) -> String {
        if let Some(n) = self.ports[f].export_names.get(r) {
            return n.clone();
        }
        let pipe = self.g.frames[f].pipe;
        let source = self.resolve(f, r);
        let artifact = self.ref_is_artifact(pipe, r);
        let optional = artifact && self.ref_optional(pipe, r);
        let base = self.port_base(pipe, r);
        self.export_named(f, Some(r), base, artifact, optional, source)
    }

    /// Adds an output named `base` (made unique) to frame `f`.
    pub(crate) fn export_named(
        &mut self,
        f: FrameId,
        r: Option<&Ref>,
        base: String,
        artifact: bool,
        optional: bool,
        source: Text,
    ) -> String {
        let ports = &mut self.ports[f];
        let name = unique(&mut ports.used_out, base);
        ports.exports.insert(
            name.clone(),
            Port {
                name: name.clone(),
                artifact,
                optional,
                source,
            },
        );
        if let Some(r) = r {
            ports.export_names.insert(r.clone(), name.clone());
        }
        name
    }

    /// Whether task `t` of pipeline `pipe` calls a pipeline; its index if so.
    pub(crate) fn callee(&self, pipe: usize, t: usize) -> Option<usize> {
        match &self.pipes[pipe].tasks[t].kind {
            TaskKind::Pipeline { pipeline } => self.pipe_index.get(pipeline.as_str()).copied(),
            _ => None,
        }
    }

    /// The index of a task by id.
    pub(crate) fn task_index(&self, pipe: usize, id: &str) -> Option<usize> {
        self.task_ids[pipe].get(id).copied()
    }
}
