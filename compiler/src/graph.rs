//! `flowc graph`: a pipeline's step graph as Graphviz DOT or Mermaid.
//!
//! Nodes are the calls of the pipeline, labelled `name = step`; solid edges are data flow,
//! dashed edges are `after` orderings, and calls inside `for` and `if` blocks are grouped in
//! clusters (subgraphs). Output is deterministic: nodes in source order, edges sorted.

use crate::check::{Frame, PipelineInfo};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

fn label(p: &PipelineInfo, i: usize) -> String {
    let n = &p.nodes[i];
    let callee = &n.call.callee.name;
    let mut s = match &n.name {
        Some(name) if name.name != *callee => format!("{} = {callee}", name.name),
        _ => callee.clone(),
    };
    if n.is_finally {
        s = format!("finally {s}");
    }
    s
}

fn frame_label(p: &PipelineInfo, f: &Frame) -> String {
    match f {
        Frame::For { id } => format!("for {} in …", p.loops[*id].var.name),
        Frame::If { chain, branch } => {
            let conds = &p.ifs[*chain].conditions;
            match conds.get(*branch) {
                Some(Some(_)) if *branch == 0 => "if …".to_string(),
                Some(Some(_)) => "else if …".to_string(),
                _ => "else".to_string(),
            }
        }
    }
}

fn frame_id(f: &Frame) -> String {
    match f {
        Frame::For { id } => format!("for{id}"),
        Frame::If { chain, branch } => format!("if{chain}_{branch}"),
    }
}

fn edges(p: &PipelineInfo) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        for d in &n.data_deps {
            out.push((*d, i, false));
        }
        for d in &n.after_deps {
            if !n.data_deps.contains(d) {
                out.push((*d, i, true));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Renders the graph of `p`, named `name`.
pub fn render(p: &PipelineInfo, name: &str, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => dot(p, name),
        GraphFormat::Mermaid => mermaid(p),
    }
}

/// Groups nodes by their frames, recursively, calling `open`, `node` and `close`.
fn nested(
    p: &PipelineInfo,
    depth: usize,
    members: &[usize],
    out: &mut String,
    open: &dyn Fn(&str, &str, usize) -> String,
    node: &dyn Fn(usize, usize) -> String,
    close: &dyn Fn(usize) -> String,
) {
    let mut groups: Vec<(Frame, Vec<usize>)> = Vec::new();
    for &i in members {
        match p.nodes[i].frames.get(depth) {
            None => out.push_str(&node(i, depth)),
            Some(f) => match groups.iter_mut().find(|(g, _)| g == f) {
                Some((_, v)) => v.push(i),
                None => groups.push((f.clone(), vec![i])),
            },
        }
    }
    for (f, v) in groups {
        out.push_str(&open(&frame_id(&f), &frame_label(p, &f), depth));
        nested(p, depth + 1, &v, out, open, node, close);
        out.push_str(&close(depth));
    }
}

fn dot(p: &PipelineInfo, name: &str) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
        escape(name)
    );
    let all: Vec<usize> = (0..p.nodes.len()).collect();
    let ind = |d: usize| "  ".repeat(d + 1);
    nested(
        p,
        0,
        &all,
        &mut out,
        &|id, label, d| {
            format!(
                "{}subgraph cluster_{id} {{\n{}  label=\"{}\";\n{}  style=dashed;\n",
                ind(d),
                ind(d),
                escape(label),
                ind(d)
            )
        },
        &|i, d| {
            let shape = if p.nodes[i].is_finally {
                ", shape=octagon"
            } else {
                ""
            };
            format!(
                "{}n{i} [label=\"{}\"{shape}];\n",
                ind(d),
                escape(&label(p, i))
            )
        },
        &|d| format!("{}}}\n", ind(d)),
    );
    for (a, b, dashed) in edges(p) {
        let style = if dashed {
            " [style=dashed, label=\"after\"]"
        } else {
            ""
        };
        out.push_str(&format!("  n{a} -> n{b}{style};\n"));
    }
    for o in &p.outputs {
        if let flowc_grammar::ast::ExprKind::Path(path) = &o.value.kind {
            if let Some(sites) = path.first().and_then(|f| p.bindings.get(&f.name)) {
                out.push_str(&format!(
                    "  out_{} [label=\"output {}\", shape=note];\n",
                    o.name.name,
                    escape(&o.name.name)
                ));
                out.push_str(&format!("  n{} -> out_{};\n", sites[0].node, o.name.name));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn mermaid(p: &PipelineInfo) -> String {
    let mut out = String::from("flowchart LR\n");
    let all: Vec<usize> = (0..p.nodes.len()).collect();
    let ind = |d: usize| "  ".repeat(d + 1);
    let quote = |s: &str| s.replace('"', "#quot;");
    nested(
        p,
        0,
        &all,
        &mut out,
        &|id, label, d| format!("{}subgraph {id} [\"{}\"]\n", ind(d), quote(label)),
        &|i, d| {
            let (l, r) = if p.nodes[i].is_finally {
                ("{{", "}}")
            } else {
                ("(", ")")
            };
            format!("{}n{i}{l}\"{}\"{r}\n", ind(d), quote(&label(p, i)))
        },
        &|d| format!("{}end\n", ind(d)),
    );
    for (a, b, dashed) in edges(p) {
        let arrow = if dashed { "-. after .->" } else { "-->" };
        out.push_str(&format!("  n{a} {arrow} n{b}\n"));
    }
    for o in &p.outputs {
        if let flowc_grammar::ast::ExprKind::Path(path) = &o.value.kind {
            if let Some(sites) = path.first().and_then(|f| p.bindings.get(&f.name)) {
                out.push_str(&format!(
                    "  out_{}[/\"output {}\"/]\n",
                    o.name.name,
                    quote(&o.name.name)
                ));
                out.push_str(&format!("  n{} --> out_{}\n", sites[0].node, o.name.name));
            }
        }
    }
    out
}
