//! Hover: what the name under the cursor is, as Markdown.
//!
//! A step shows its signature, its documentation and its resources (its own, merged over those
//! of the profiles it uses, as the precedence rules say); a schema its columns, inherited ones
//! included; a name bound to a call the types of the call's outputs, with the schema variables
//! substituted (`rake` on a `Table<SynthPanelist>` gives the panelist columns plus `weight`); a
//! parameter, output, loop variable or column its type. Types come from the checked model.
//!
//! Values chosen by `flowc autotune` live in a lock file beside the pipeline's source
//! (`FILE.flow.lock`); the compiler does no IO, so the caller reads it and passes the values as
//! [`Tuned`] to [`hover_tuned`], and they are shown under the resources as written.

use flowc_grammar::ast::Item;
use flowc_grammar::Span;

use super::index::{at, canonical, params_of, signature, table_schema, Target};
use super::{doc_comment, module_of};
use crate::check::layers::merge_resources;
use crate::check::{CacheMode, Frame, ParamSig, ResourceSpec, StepSig};
use crate::resolve::{DeclId, ModuleId};
use crate::source::FileId;
use crate::types::{Schema, Ty};
use crate::units::{format_cpu, format_duration, format_memory};
use crate::Analysis;

/// What to show for the name under the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    /// The name hovered.
    pub span: Span,
    /// The text, in Markdown.
    pub markdown: String,
}

/// Resources of a step chosen by `flowc autotune`, as a lock file records them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tuned {
    /// The lock file, as shown to the user.
    pub source: String,
    /// The pipeline the step was tuned in.
    pub pipeline: String,
    /// The step's name.
    pub step: String,
    /// Memory request and limit, such as `1536Mi`.
    pub memory: Option<String>,
    /// CPU request, such as `500m`.
    pub cpu: Option<String>,
    /// Number of GPUs.
    pub gpu: Option<u64>,
    /// The tuner's confidence.
    pub confidence: Option<String>,
    /// How many runs the values are based on.
    pub executions: Option<u64>,
}

/// The hover for the name at `offset` in `file`, if there is a name there.
pub fn hover(a: &Analysis, file: FileId, offset: u32) -> Option<Hover> {
    hover_tuned(a, file, offset, &[])
}

/// [`hover`], with the tuned resources read from lock files shown on steps.
pub fn hover_tuned(a: &Analysis, file: FileId, offset: u32, tuned: &[Tuned]) -> Option<Hover> {
    let o = at(a, file, offset)?;
    let markdown = match canonical(a, &o.target) {
        Target::Decl(d) => decl(a, d, file, tuned),
        Target::Alias { .. } => return None,
        Target::Param { owner, index } => param(a, owner, index)?,
        Target::Output { owner, index } => output(a, owner, index, o.via.as_ref())?,
        Target::PipelineOutput { pipeline, name } => {
            let info = a.checked.pipelines.get(&pipeline)?;
            let out = info.outputs.iter().find(|x| x.name.name == name)?;
            format!(
                "{}\n\noutput of pipeline `{}`{}",
                code(&format!("{name}: {}", out.ty)),
                info.sig.name,
                columns_note(&out.ty)
            )
        }
        Target::Generic { owner, index } => generic(a, owner, index)?,
        Target::Column {
            file: f,
            span,
            name,
        } => column(a, f, span, &name),
        Target::Binding { pipeline, name } => binding(a, pipeline, &name)?,
        Target::LoopVar { pipeline, def } => {
            let info = a.checked.pipelines.get(&pipeline)?;
            let l = info.loops.iter().find(|l| l.var.span == def)?;
            let elem = l
                .elem
                .as_ref()
                .map_or("{unknown}".to_string(), Ty::to_string);
            format!(
                "{}\n\nloop variable: one element of the list per iteration{}",
                code(&format!("{}: {elem}", l.var.name)),
                l.elem.as_ref().map_or(String::new(), columns_note)
            )
        }
        Target::Module(m) => module(a, m),
    };
    Some(Hover {
        span: o.span,
        markdown,
    })
}

fn code(s: &str) -> String {
    format!("```flow\n{s}\n```")
}

/// Where a declaration lives, when it is not in the hovered file.
fn location(a: &Analysis, m: ModuleId, from: FileId) -> String {
    let file = a.program.file(m);
    if file == from {
        return String::new();
    }
    let module = a.program.module(m);
    match &a.sources().get(file).origin {
        crate::source::Origin::Std(name) => format!("\n\n*from `{name}`*"),
        crate::source::Origin::File(p) if !module.is_std => {
            // Relative to the hovered file's folder when below it.
            let shown = match &a.sources().get(from).origin {
                crate::source::Origin::File(me) => me
                    .parent()
                    .and_then(|dir| p.strip_prefix(dir).ok())
                    .map(|r| r.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_else(|| a.sources().get(file).name()),
                crate::source::Origin::Std(_) | crate::source::Origin::Imported(_) => {
                    a.sources().get(file).name()
                }
            };
            format!("\n\n*from `{shown}`*")
        }
        crate::source::Origin::File(_) => String::new(),
        crate::source::Origin::Imported(_) => module
            .foreign
            .as_ref()
            .map(|f| format!("\n\n*imported from `{}`*", a.sources().get(f.file).name()))
            .unwrap_or_default(),
    }
}

fn docs(a: &Analysis, d: DeclId) -> String {
    let module = a.program.module(d.module);
    let text = &a.sources().get(module.file).text;
    match doc_comment(&module.ast, text, a.program.item(d)) {
        Some(doc) => format!("\n\n---\n\n{doc}"),
        None => String::new(),
    }
}

fn decl(a: &Analysis, d: DeclId, from: FileId, tuned: &[Tuned]) -> String {
    let item = a.program.item(d);
    let text = &a.sources().get(a.program.file(d.module)).text;
    let head = match item {
        Item::Step(s) => match a.checked.steps.get(&d) {
            Some(sig) => {
                let kw = if s.builtin { "builtin step" } else { "step" };
                let mut out = code(&sig_text(kw, sig, text));
                out.push_str(&properties(a, d));
                out.push_str(&tuned_text(&s.name.name, tuned));
                out
            }
            None => code(&format!("step {}", s.name.name)),
        },
        Item::Pipeline(p) => match a.checked.pipelines.get(&d) {
            Some(info) => code(&sig_text("pipeline", &info.sig, text)),
            None => code(&format!("pipeline {}", p.name.name)),
        },
        Item::Schema(s) => match a.checked.schemas.get(&d) {
            Some(schema) => code(&schema_text(
                a,
                &s.name.name,
                schema,
                (a.program.file(d.module), s.span),
            )),
            None => code(&format!("schema {}", s.name.name)),
        },
        Item::Profile(p) => {
            let mut out = code(&format!("profile {}", p.name.name));
            out.push_str(&properties(a, d));
            out
        }
        Item::Secret(s) => code(&one_line(&text[s.span.range()])),
        Item::Build(b) => code(&one_line(&text[b.span.range()])),
        Item::Import(_) | Item::Error(_) => String::new(),
    };
    format!("{head}{}{}", location(a, d.module, from), docs(a, d))
}

/// Collapses whitespace runs to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn param_text(p: &ParamSig, text: &str) -> String {
    let mut s = format!("{}: {}", p.name, p.ty);
    if let Some(d) = &p.default {
        if let Some(src) = text.get(d.span.range()) {
            s.push_str(" = ");
            s.push_str(&one_line(src));
        }
    }
    s
}

/// `step name<T>(params) -> (outputs)`, on several lines when long.
pub(crate) fn sig_text(kw: &str, sig: &StepSig, text: &str) -> String {
    let generics = if sig.generics.is_empty() {
        String::new()
    } else {
        let g: Vec<String> = sig
            .generics
            .iter()
            .map(|(n, bound)| {
                if bound.columns.is_empty() {
                    n.clone()
                } else {
                    format!("{n}: {bound}")
                }
            })
            .collect();
        format!("<{}>", g.join(", "))
    };
    let params: Vec<String> = sig.params.iter().map(|p| param_text(p, text)).collect();
    let outputs: Vec<String> = sig
        .outputs
        .iter()
        .map(|p| format!("{}: {}", p.name, p.ty))
        .collect();
    let short = format!(
        "{kw} {}{generics}({}){}",
        sig.name,
        params.join(", "),
        if outputs.is_empty() {
            String::new()
        } else {
            format!(" -> ({})", outputs.join(", "))
        }
    );
    if short.len() <= 90 {
        return short;
    }
    let mut s = format!("{kw} {}{generics}(\n", sig.name);
    for p in &params {
        s.push_str(&format!("  {p},\n"));
    }
    s.push(')');
    if !outputs.is_empty() {
        s.push_str(" -> (\n");
        for o in &outputs {
            s.push_str(&format!("  {o},\n"));
        }
        s.push(')');
    }
    s
}

/// `schema Name { ... }` with one column per line; inherited columns say where they come from.
fn schema_text(a: &Analysis, name: &str, schema: &Schema, own: (FileId, Span)) -> String {
    let mut s = format!("schema {name} {{\n");
    for (col, c) in &schema.columns {
        let origin = c.origin.and_then(|(f, span)| {
            if f == own.0 && own.1.contains(span.start) {
                return None;
            }
            declaring_name(a, f, span)
        });
        let from = match origin {
            Some(o) if o != name => format!("  // from {o}"),
            _ => String::new(),
        };
        s.push_str(&format!(
            "  {col}: {}{}{from}\n",
            c.ty.as_str(),
            if c.nullable { "?" } else { "" }
        ));
    }
    s.push('}');
    s
}

/// The name of the declaration whose source holds `span`.
fn declaring_name(a: &Analysis, file: FileId, span: Span) -> Option<String> {
    let m = module_of(a, file)?;
    a.program
        .module(m)
        .ast
        .items
        .iter()
        .find(|it| it.span().contains(span.start) && it.span().contains(span.end))
        .and_then(|it| it.name().map(|n| n.name.clone()))
}

/// The resources and other properties of a step or profile, merged over its profiles.
fn properties(a: &Analysis, d: DeclId) -> String {
    let Some(props) = a.checked.props.get(&d) else {
        return String::new();
    };
    let mut lines: Vec<String> = Vec::new();
    if let Some(r) = effective_resources(a, d, 0) {
        let via = if props.uses.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = props
                .uses
                .iter()
                .filter_map(|u| a.program.item(*u).name().map(|n| format!("`{}`", n.name)))
                .collect();
            format!(" (with {})", names.join(", "))
        };
        lines.push(format!("**resources**: {}{via}", resources_text(&r)));
    }
    if let Some(image) = &props.image {
        lines.push(format!("**image**: `{image}`"));
    }
    if let Some(c) = props.cache {
        lines.push(format!(
            "**cache**: {}",
            match c {
                CacheMode::Off => "off".to_string(),
                CacheMode::On => "on".to_string(),
                CacheMode::Ttl(ms) => format!("ttl {}", format_duration(ms)),
            }
        ));
    }
    if let Some(r) = &props.retries {
        let mut s = format!("**retries**: {}", r.count);
        if let Some(b) = r.backoff_ms {
            s.push_str(&format!(" backoff {}", format_duration(b)));
        }
        if let Some(f) = r.factor {
            s.push_str(&format!(" factor {f}"));
        }
        if let Some(m) = r.max_backoff_ms {
            s.push_str(&format!(" max {}", format_duration(m)));
        }
        lines.push(s);
    }
    if let Some(t) = props.timeout_ms {
        lines.push(format!("**timeout**: {}", format_duration(t)));
    }
    if !props.env.is_empty() {
        let names: Vec<String> = props.env.keys().map(|k| format!("`{k}`")).collect();
        lines.push(format!("**env**: {}", names.join(", ")));
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!("\n\n{}", lines.join("  \n"))
    }
}

/// The lock-file values of a step, one line per pipeline it was tuned in.
fn tuned_text(step: &str, tuned: &[Tuned]) -> String {
    let lines: Vec<String> = tuned
        .iter()
        .filter(|t| t.step == step)
        .map(|t| {
            let mut parts = Vec::new();
            if let Some(m) = &t.memory {
                parts.push(format!("memory {m}"));
            }
            if let Some(c) = &t.cpu {
                parts.push(format!("cpu {c}"));
            }
            if let Some(g) = t.gpu {
                parts.push(format!("gpu {g}"));
            }
            let mut s = format!(
                "**tuned** in `{}` (`{}`): {}",
                t.pipeline,
                t.source,
                if parts.is_empty() {
                    "no values".to_string()
                } else {
                    parts.join(", ")
                }
            );
            let mut why = Vec::new();
            if let Some(c) = &t.confidence {
                why.push(format!("confidence {c}"));
            }
            if let Some(n) = t.executions {
                why.push(format!("{n} runs"));
            }
            if !why.is_empty() {
                s.push_str(&format!(" ({})", why.join(", ")));
            }
            s
        })
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("  \n{}", lines.join("  \n"))
    }
}

/// A step's or profile's resources: its profiles' (in `use` order, later ones winning), then
/// its own, key by key.
fn effective_resources(a: &Analysis, d: DeclId, depth: usize) -> Option<ResourceSpec> {
    let props = a.checked.props.get(&d)?;
    if depth > 16 {
        return props.resources.as_deref().cloned();
    }
    let mut acc: Option<ResourceSpec> = None;
    for u in &props.uses {
        if let Some(r) = effective_resources(a, *u, depth + 1) {
            acc = Some(merge(acc, r));
        }
    }
    if let Some(r) = &props.resources {
        acc = Some(merge(acc, ResourceSpec::clone(r)));
    }
    acc
}

/// `over` on top of what came before it, key by key, as a build merges them.
fn merge(base: Option<ResourceSpec>, over: ResourceSpec) -> ResourceSpec {
    match base {
        None => over,
        Some(base) => merge_resources(base, &over),
    }
}

/// `cpu 500m, memory 512Mi`, or `auto (min: ..., max: ...)`.
pub(crate) fn resources_text(r: &ResourceSpec) -> String {
    fn fixed(r: &ResourceSpec) -> String {
        let mut parts = Vec::new();
        if let Some(c) = r.cpu_millis {
            parts.push(format!("cpu {}", format_cpu(c)));
        }
        if let Some(m) = r.memory_bytes {
            parts.push(format!("memory {}", format_memory(m)));
        }
        if let Some(c) = r.cpu_limit_millis {
            parts.push(format!("cpu limit {}", format_cpu(c)));
        }
        if let Some(m) = r.memory_limit_bytes {
            parts.push(format!("memory limit {}", format_memory(m)));
        }
        if let Some(g) = r.gpu {
            parts.push(format!("gpu {g}"));
        }
        if let Some(t) = &r.gpu_type {
            parts.push(format!("gpu type `{t}`"));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }
    if r.auto {
        let min = r.min.as_deref().map_or("none".to_string(), fixed);
        let max = r.max.as_deref().map_or("none".to_string(), fixed);
        format!("auto, tuned by `flowc autotune` (min: {min}; max: {max})")
    } else {
        fixed(r)
    }
}

/// For a table type, its columns; for anything else, nothing.
fn columns_note(t: &Ty) -> String {
    let Some(schema) = table_schema(t) else {
        return String::new();
    };
    let cols: Vec<String> = schema
        .columns
        .iter()
        .map(|(n, c)| {
            format!(
                "`{n}: {}{}`",
                c.ty.as_str(),
                if c.nullable { "?" } else { "" }
            )
        })
        .collect();
    if cols.is_empty() {
        return String::new();
    }
    format!("\n\ncolumns: {}", cols.join(", "))
}

fn param(a: &Analysis, owner: DeclId, index: usize) -> Option<String> {
    let item = a.program.item(owner);
    let p = params_of(item)?.get(index)?;
    let text = &a.sources().get(a.program.file(owner.module)).text;
    let sig = signature(a, owner);
    let line = match sig.and_then(|s| s.params.iter().find(|x| x.name == p.name.name)) {
        Some(ps) => param_text(ps, text),
        None => one_line(text.get(p.span.range())?),
    };
    let kind = match item {
        Item::Pipeline(_) => "pipeline",
        _ => "step",
    };
    let owner_name = item.name().map_or(String::new(), |n| n.name.clone());
    let optional = match sig.and_then(|s| s.params.iter().find(|x| x.name == p.name.name)) {
        Some(ps) if !ps.is_required() => " (optional)",
        _ => "",
    };
    Some(format!(
        "{}\n\nparameter of {kind} `{owner_name}`{optional}",
        code(&line)
    ))
}

fn output(a: &Analysis, owner: DeclId, index: usize, via: Option<&Target>) -> Option<String> {
    let Item::Step(s) = a.program.item(owner) else {
        return None;
    };
    let o = s.outputs.get(index)?;
    // Through a binding, the concrete type of this call's output.
    if let Some(Target::Binding { pipeline, name }) = via {
        if let Some(t) = bound_output(a, *pipeline, name, &o.name.name) {
            return Some(format!(
                "{}\n\noutput of `{}` bound to `{name}`{}",
                code(&format!("{name}.{}: {t}", o.name.name)),
                s.name.name,
                columns_note(&t)
            ));
        }
    }
    let sig = a.checked.steps.get(&owner);
    let ty = sig
        .and_then(|sig| sig.outputs.iter().find(|x| x.name == o.name.name))
        .map_or("{unknown}".to_string(), |x| x.ty.to_string());
    Some(format!(
        "{}\n\noutput of step `{}`",
        code(&format!("{}: {ty}", o.name.name)),
        s.name.name
    ))
}

/// The type of output `out` of the call bound to `name`.
fn bound_output(a: &Analysis, pipeline: DeclId, name: &str, out: &str) -> Option<Ty> {
    let info = a.checked.pipelines.get(&pipeline)?;
    let site = info.bindings.get(name)?.first()?;
    let node = info.nodes.get(site.node)?;
    node.outputs
        .iter()
        .find(|(n, _)| n == out)
        .map(|(_, t)| t.clone())
}

fn generic(a: &Analysis, owner: DeclId, index: usize) -> Option<String> {
    let Item::Step(s) = a.program.item(owner) else {
        return None;
    };
    let g = s.generics.get(index)?;
    let sig = a.checked.steps.get(&owner);
    let bound = sig
        .and_then(|sig| sig.generics.iter().find(|(n, _)| *n == g.name.name))
        .map(|(_, b)| b.clone())
        .unwrap_or_default();
    let head = if bound.columns.is_empty() {
        g.name.name.clone()
    } else {
        format!("{}: {bound}", g.name.name)
    };
    let from: Vec<String> = sig
        .map(|sig| {
            sig.params
                .iter()
                .filter(|p| binds(&p.ty, &g.name.name))
                .map(|p| format!("`{}`", p.name))
                .collect()
        })
        .unwrap_or_default();
    let mut out = format!("{}\n\nschema variable of `{}`", code(&head), s.name.name);
    if !from.is_empty() {
        out.push_str(&format!(
            ": the schema of the table passed for {}",
            from.join(" or ")
        ));
    }
    Some(out)
}

/// Whether a parameter type binds the schema variable `var` (`Table<T>`, `List<Table<T>>` ...).
fn binds(t: &Ty, var: &str) -> bool {
    match t {
        Ty::Table(tpl) => {
            matches!(tpl.terms.as_slice(), [crate::types::TplTerm::Var { name, projection: None }] if name == var)
        }
        Ty::List(i) | Ty::Optional(i) => binds(i, var),
        _ => false,
    }
}

fn column(a: &Analysis, file: FileId, span: Span, name: &str) -> String {
    let text = a
        .sources()
        .get(file)
        .text
        .get(span.range())
        .map_or(name.to_string(), one_line);
    let owner = declaring_name(a, file, span)
        .map(|n| format!("\n\ncolumn of `{n}`"))
        .unwrap_or_default();
    format!("{}{owner}", code(&text))
}

fn binding(a: &Analysis, pipeline: DeclId, name: &str) -> Option<String> {
    let info = a.checked.pipelines.get(&pipeline)?;
    let sites = info.bindings.get(name)?;
    let node = info.nodes.get(sites.first()?.node)?;
    let mut out = code(&format!("{name} = {}(…)", node.call.callee.name));
    if node.outputs.is_empty() {
        out.push_str("\n\nthe call has no outputs");
    }
    for (i, (o, t)) in node.outputs.iter().enumerate() {
        let how = if i == 0 {
            format!("`{name}`")
        } else {
            format!("`{name}.{o}`")
        };
        out.push_str(&format!("\n\n{how}: `{t}`{}", columns_note(t)));
    }
    if node.frames.iter().any(|f| matches!(f, Frame::For { .. })) {
        out.push_str(
            "\n\nbound inside a `for`: after the loop, a list with one element per iteration",
        );
    } else if node.frames.iter().any(|f| matches!(f, Frame::If { .. })) {
        out.push_str("\n\nbound inside an `if`: optional after it unless every branch binds it");
    }
    Some(out)
}

fn module(a: &Analysis, m: ModuleId) -> String {
    let module = a.program.module(m);
    let name = match &a.sources().get(module.file).origin {
        crate::source::Origin::Std(n) => n.clone(),
        crate::source::Origin::File(_) | crate::source::Origin::Imported(_) => {
            a.sources().get(module.file).name()
        }
    };
    let decls: Vec<String> = module
        .ast
        .items
        .iter()
        .filter_map(|it| it.name().map(|n| format!("`{}`", n.name)))
        .collect();
    let mut out = format!("module `{name}`");
    if let Some(doc) = flowc_grammar::doc::module_doc(&module.ast.comments) {
        out.push_str(&format!("\n\n{doc}"));
    }
    if !decls.is_empty() {
        out.push_str(&format!("\n\ndeclares: {}", decls.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    fn check(files: &[(&str, &str)], expect: &[&str]) {
        let (a, file, offset) = fixture(files);
        let h = hover(&a, file, offset).expect("a hover");
        for e in expect {
            assert!(h.markdown.contains(e), "missing {e:?} in:\n{}", h.markdown);
        }
    }

    const MAIN: &str = "import std.synth (panel, targets)\nimport std.survey (rake)\n\nprofile small { resources { cpu: 1, memory: 1Gi } }\n\n/// Publishes.\nstep publish(weights: File) -> (done: File) {\n  image \"busybox:1.36\"\n  run [\"cp\", weights, done]\n  use small\n  resources { memory: 256Mi }\n}\n\npipeline p(day: Date, seed: Int = 1) {\n  sample = panel(n: 10, seed: seed, day: day)\n  population = targets(seed: seed)\n  weights = rake(panel: sample, targets: population, by: [sex])\n  done = publish(weights: weights)\n  output done\n}\n";

    #[test]
    fn a_binding_shows_the_outputs_with_substituted_schemas() {
        let src = MAIN.replace("  weights = rake", "  wei$0ghts = rake");
        check(
            &[("main.flow", &src)],
            &[
                "`weights`: `Table<{ panelist_id: Int",
                "weight: Float }>`",
                "`weights.report`: `Metrics<",
            ],
        );
    }

    #[test]
    fn a_step_shows_signature_docs_and_merged_resources() {
        let src = MAIN.replace("done = publish(", "done = pub$0lish(");
        check(
            &[("main.flow", &src)],
            &[
                "step publish(weights: File) -> (done: File)",
                "Publishes.",
                "**resources**: cpu 1, memory 256Mi (with `small`)",
            ],
        );
        let std = MAIN.replace("weights = rake(", "weights = ra$0ke(");
        check(
            &[("main.flow", &std)],
            &[
                "builtin step rake<T>(",
                "  by: Columns<T>,",
                "*from `std.survey`*",
                "raking",
            ],
        );
    }

    #[test]
    fn tuned_values_from_a_lock_file() {
        let src = MAIN.replace("done = publish(", "done = pub$0lish(");
        let (a, file, offset) = fixture(&[("main.flow", &src)]);
        let tuned = [Tuned {
            source: "main.flow.lock".into(),
            pipeline: "p".into(),
            step: "publish".into(),
            memory: Some("384Mi".into()),
            cpu: Some("300m".into()),
            gpu: None,
            confidence: Some("high".into()),
            executions: Some(12),
        }];
        let h = hover_tuned(&a, file, offset, &tuned).unwrap();
        assert!(
            h.markdown.contains("**tuned** in `p` (`main.flow.lock`): memory 384Mi, cpu 300m (confidence high, 12 runs)"),
            "{}",
            h.markdown
        );
    }

    #[test]
    fn parameters_columns_and_schemas() {
        let src = MAIN.replace("seed: Int = 1", "se$0ed: Int = 1");
        check(
            &[("main.flow", &src)],
            &["seed: Int = 1", "parameter of pipeline `p` (optional)"],
        );
        let col = MAIN.replace("by: [sex]", "by: [s$0ex]");
        check(
            &[("main.flow", &col)],
            &["sex: Str", "column of `SynthPanelist`"],
        );
        let schema = "import std.survey (Target)\nschema Mine extends Tar$0get { extra: Int? }\n";
        check(
            &[("main.flow", schema)],
            &["schema Target {", "share: Float"],
        );
        let own = "import std.survey (Target)\nschema Mi$0ne extends Target { extra: Int? }\n";
        check(
            &[("main.flow", own)],
            &["  variable: Str  // from Target", "  extra: Int?\n"],
        );
    }

    #[test]
    fn nothing_where_there_is_no_name() {
        let (a, file, _) = fixture(&[("main.flow", MAIN)]);
        assert!(hover(&a, file, 0).is_none());
        assert!(hover(&a, file, u32::MAX).is_none());
    }
}
