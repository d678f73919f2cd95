//! One step per container component of a compiled pipeline: its executor's image, command
//! (placeholders made names and `${name}` interpolations), environment and resources, the
//! task settings the pipeline gave it (caching, retries) and its Kubernetes platform spec.

use std::collections::{BTreeMap, BTreeSet};

use crate::names::{self, Names};
use crate::problem::Code;
use crate::step::{Item, Port, Step};
use crate::yaml::{Node, Pos};
use crate::Ctx;

use super::platform::Secrets;
use super::ports::Ports;

/// What a step is built from.
pub struct Source<'a> {
    /// The component's key (`comp-train`).
    pub key: &'a str,
    /// Its ports.
    pub ports: &'a Ports,
    /// Its executor's container.
    pub container: &'a Node,
    /// Its executor in the platform spec.
    pub platform: Option<&'a Node>,
    /// The first task that runs it (for caching and retries).
    pub task: Option<&'a Node>,
    /// Parameter inputs fed by another task's output file.
    pub file_inputs: &'a BTreeSet<String>,
    /// Inputs given a list collected from a loop, with the list's `.flow` type.
    pub list_inputs: &'a BTreeMap<String, String>,
    /// Inputs some task leaves out (optional in flowc).
    pub left_out: &'a BTreeSet<String>,
}

/// Builds the step of `src`, named `name`.
pub fn build(
    ctx: &mut Ctx,
    src: &Source<'_>,
    name: String,
    secrets: &mut Secrets,
    decls: &mut Names,
) -> Step {
    let mut step = Step {
        name,
        image: src
            .container
            .str_of("image")
            .unwrap_or_default()
            .to_string(),
        ..Step::default()
    };
    ports(ctx, src, &mut step);
    if !python_step(ctx, src, &mut step) {
        command(ctx, src, &mut step);
    }
    for e in src
        .container
        .get("env")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let (Some(var), Some(value)) = (e.str_of("name"), e.str_of("value")) else {
            continue;
        };
        let text = Placeholders {
            ctx,
            ports: src.ports,
            step: &step,
        }
        .string(value, e.pos);
        step.props.push(format!("env {var} = {text}"));
    }
    if let Some(r) = src.container.get("resources") {
        resources(ctx, r, &mut step);
    }
    for (k, _) in src.container.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        if !["image", "command", "args", "env", "resources"].contains(&key) {
            step.props.push(format!(
                "// left out: the container field `{key}` (flowc has no equivalent)"
            ));
            ctx.warn(
                Code::LeftOut,
                k.pos,
                format!(
                    "the container field `{key}` of `{}` is left out: flowc has no equivalent",
                    src.key
                ),
                "set it by hand in the generated step if it matters",
            );
        }
    }
    if let Some(task) = src.task {
        task_settings(task, &mut step);
    }
    if let Some(p) = src.platform {
        super::platform::apply(ctx, p, &mut step, secrets, decls);
    }
    step
}

/// Inputs and outputs, typed.
fn ports(ctx: &mut Ctx, src: &Source<'_>, step: &mut Step) {
    for p in &src.ports.inputs {
        if p.is_final_status() {
            step.notes.push(format!("left out: the input `{}` (the run status a KFP exit handler receives; flowc has none)", p.kfp));
            ctx.warn(
                Code::LeftOut,
                p.def.pos,
                format!(
                    "the input `{}` of `{}` is left out: flowc exit handlers receive no run status",
                    p.kfp, src.key
                ),
                "read the run's status from the backend if the handler needs it",
            );
            continue;
        }
        let mut ty = if let Some(list) = src.list_inputs.get(&p.kfp) {
            list.clone()
        } else if src.file_inputs.contains(&p.kfp) {
            "File".to_string()
        } else {
            p.flow_type().ty
        };
        let default = p
            .def
            .get("defaultValue")
            .and_then(|d| names::literal(&d.to_json(), &ty));
        if (p.optional() || src.left_out.contains(&p.kfp)) && default.is_none() {
            ty.push('?');
        }
        step.inputs.push(Port {
            name: p.name.clone(),
            kfp_name: p.kfp.clone(),
            ty,
            default,
            description: p.def.str_of("description").map(str::to_string),
        });
    }
    // Output values (a Python function's return value) are value outputs: the command is
    // given the path of a file to write the value to, as Kubeflow gives `output_file`.
    for p in &src.ports.outputs {
        step.outputs.push(Port {
            name: p.name.clone(),
            kfp_name: p.kfp.clone(),
            ty: p.flow_type().ty,
            ..Port::default()
        });
    }
}

/// Resources: requests, limits and the accelerator.
fn resources(ctx: &mut Ctx, r: &Node, step: &mut Step) {
    let mut fields = Vec::new();
    let cpu = |s: &str, f: &str| {
        r.str_of(s)
            .map(str::to_string)
            .or_else(|| r.str_of(f).map(str::to_string))
    };
    let memory = |s: &str, f: &str| {
        r.str_of(s).map(str::to_string).or_else(|| {
            let gb: f64 = r.str_of(f)?.parse().ok()?;
            Some(bytes_quantity((gb * 1e9).round() as u64))
        })
    };
    for (key, value) in [
        ("cpu", cpu("resourceCpuRequest", "cpuRequest")),
        ("cpu_limit", cpu("resourceCpuLimit", "cpuLimit")),
        ("memory", memory("resourceMemoryRequest", "memoryRequest")),
        ("memory_limit", memory("resourceMemoryLimit", "memoryLimit")),
    ] {
        let Some(v) = value else { continue };
        let v = v.trim_end_matches(".0").to_string();
        if v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
            && v.starts_with(|c: char| c.is_ascii_digit())
        {
            fields.push(format!("{key}: {v}"));
        } else {
            ctx.warn(
                Code::LeftOut,
                r.pos,
                format!("the resource `{key}` `{v}` is left out: it is not a quantity flowc reads"),
                "set it in the step's `resources`",
            );
            step.props
                .push(format!("// left out: resource {key} {v:?}"));
        }
    }
    if let Some(acc) = r.get("accelerator") {
        let count = acc.str_of("resourceCount").or_else(|| acc.str_of("count"));
        let ty = acc.str_of("resourceType").or_else(|| acc.str_of("type"));
        if let Some(c) = count {
            fields.push(format!("gpu: {c}"));
        }
        if let Some(t) = ty {
            fields.push(format!("gpu_type: {}", names::string(t)));
        }
    }
    if !fields.is_empty() {
        step.props
            .push(format!("resources {{ {} }}", fields.join(", ")));
    }
}

/// Bytes in the largest binary (or decimal) unit that divides them.
fn bytes_quantity(b: u64) -> String {
    for (unit, size) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
        ("T", 1_000_000_000_000),
        ("G", 1_000_000_000),
        ("M", 1_000_000),
        ("K", 1000),
    ] {
        if b >= size && b.is_multiple_of(size) {
            return format!("{}{unit}", b / size);
        }
    }
    format!("{}Ki", b.div_ceil(1024))
}

/// Caching and retries of the task that runs the step.
fn task_settings(task: &Node, step: &mut Step) {
    let cache = task.get("cachingOptions");
    if cache.is_some_and(|c| c.str_of("enableCache") != Some("true")) {
        step.props.push("cache off".into());
    }
    if let Some(r) = task.get("retryPolicy") {
        let n = r.str_of("maxRetryCount").unwrap_or("0");
        let backoff = duration(r.str_of("backoffDuration").unwrap_or("0s"));
        if backoff == "0s" {
            step.props.push(format!("retries {n}"));
        } else {
            let factor = r
                .str_of("backoffFactor")
                .unwrap_or("2")
                .trim_end_matches(".0");
            let max = duration(r.str_of("backoffMaxDuration").unwrap_or("3600s"));
            step.props.push(format!(
                "retries {n} backoff {backoff} factor {factor} max {max}"
            ));
        }
    }
}

/// A protobuf duration (`30s`, `0.5s`) as a `.flow` duration (`30s`, `500ms`).
fn duration(text: &str) -> String {
    let secs: f64 = text.trim_end_matches('s').parse().unwrap_or(0.0);
    let ms = (secs * 1000.0).round() as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// IR placeholders (`{{$.inputs.parameters['x']}}`, …) made names and interpolations.
struct Placeholders<'c, 's> {
    ctx: &'c mut Ctx,
    ports: &'s Ports,
    step: &'s Step,
}

impl Placeholders<'_, '_> {
    /// One element of `command` or `args`: a bare name when it is one placeholder, else a
    /// string.
    fn item(&mut self, text: &str, at: Pos) -> Vec<Item> {
        if let Some(items) = self.structured(text, at) {
            return items;
        }
        let mut notes = Vec::new();
        let parts = self.parts(text, at, &mut notes);
        let mut out: Vec<Item> = notes.into_iter().map(Item::Note).collect();
        match parts.as_slice() {
            [Part::Name(n)] => out.push(Item::Expr(n.clone())),
            _ => out.push(Item::Expr(join(&parts))),
        }
        out
    }

    /// kfp's structured placeholders, JSON in an argument: `{"Concat": [...]}` is one string,
    /// `{"IfPresent": {"InputName": x, "Then": [...], "Else": [...]}}` its `Then` items (exact
    /// when the input always has a value, or when `Then` is just its value, as for v1 files).
    fn structured(&mut self, text: &str, at: Pos) -> Option<Vec<Item>> {
        let json: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
        let obj = json.as_object().filter(|o| o.len() == 1)?;
        if let Some(parts) = obj.get("Concat").and_then(serde_json::Value::as_array) {
            let text: String = parts
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_string))
                .collect();
            return Some(vec![Item::Expr(self.string(&text, at))]);
        }
        let cond = obj.get("IfPresent")?;
        let input = cond
            .get("InputName")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let branch = |k: &str| -> Vec<String> {
            cond.get(k)
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (then, els) = (branch("Then"), branch("Else"));
        let mut out = Vec::new();
        let always = self
            .step
            .inputs
            .iter()
            .any(|p| p.kfp_name == input && !p.ty.ends_with('?'));
        let only_value = then.len() == 1 && then[0].contains(&format!("['{input}']"));
        if !((always || only_value) && els.is_empty()) {
            out.push(Item::Note(format!("`IfPresent {input}`: flowc has no conditional arguments; the `Then` items are always passed{}", if els.is_empty() { "" } else { ", the `Else` items left out" })));
            self.ctx.warn(Code::Approximated, at, format!("`IfPresent {input}` has no flowc equivalent: its `Then` items are always passed"), "give the input a default, or make it required, so that the arguments always make sense");
        }
        for t in &then {
            out.extend(self.item(t, at));
        }
        Some(out)
    }

    /// A string value with interpolations.
    fn string(&mut self, text: &str, at: Pos) -> String {
        let mut notes = Vec::new();
        join(&self.parts(text, at, &mut notes))
    }

    fn parts(&mut self, text: &str, at: Pos, notes: &mut Vec<String>) -> Vec<Part> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("{{$") {
            let Some(end) = rest[i..].find("}}").map(|e| i + e + 2) else {
                break;
            };
            if i > 0 {
                out.push(Part::Text(rest[..i].to_string()));
            }
            let ph = &rest[i..end];
            out.push(self.placeholder(ph, at, notes));
            rest = &rest[end..];
        }
        if !rest.is_empty() {
            out.push(Part::Text(rest.to_string()));
        }
        out
    }

    fn placeholder(&mut self, ph: &str, at: Pos, notes: &mut Vec<String>) -> Part {
        let quoted = ph.split('\'').nth(1);
        let (input, output) = (
            ph.starts_with("{{$.inputs."),
            ph.starts_with("{{$.outputs."),
        );
        let port = match quoted {
            Some(q) if input => self.ports.input(q),
            Some(q) if output => self.ports.output(q),
            _ => None,
        };
        let name = port
            .and_then(|p| {
                self.step
                    .inputs
                    .iter()
                    .chain(&self.step.outputs)
                    .find(|s| s.kfp_name == p.kfp)
            })
            .map(|s| s.name.clone());
        match (name, quoted) {
            (Some(n), _) => {
                if ph.ends_with(".uri}}") {
                    notes.push(format!("`{ph}`: flowc passes the local path, not a URI"));
                    self.ctx.warn(Code::Approximated, at, format!("`{ph}` is passed as the file's path: flowc steps see local paths, not URIs"), "make the command read and write the local path");
                }
                Part::Name(n)
            }
            (None, Some(q)) if input || output => {
                self.ctx.error(
                    Code::UndeclaredName,
                    at,
                    format!("`{ph}` names `{q}`, which the component does not declare"),
                    format!("declare `{q}` in the component's definitions, or fix the placeholder"),
                );
                Part::Text(ph.to_string())
            }
            _ => {
                let what = if ph == "{{$}}" {
                    "the executor input (a KFP Python component's `--executor_input`)"
                } else {
                    "a placeholder flowc has no equivalent for"
                };
                notes.push(format!(
                    "`{ph}` is {what}: kept as text, which only Kubeflow fills in"
                ));
                self.ctx.warn(Code::Approximated, at, format!("`{ph}` is {what}; it is kept as text, which only Kubeflow fills in"), "rewrite the command to take its inputs and outputs as arguments, as a container component does");
                Part::Text(ph.to_string())
            }
        }
    }
}

/// A piece of an argument: literal text or a name.
enum Part {
    Text(String),
    Name(String),
}

/// Parts as one `.flow` string literal with `${name}` interpolations.
fn join(parts: &[Part]) -> String {
    let mut s = String::from("\"");
    for p in parts {
        match p {
            Part::Text(t) => {
                let lit = names::string(t);
                s.push_str(&lit[1..lit.len() - 1]);
            }
            Part::Name(n) => s.push_str(&format!("${{{n}}}")),
        }
    }
    s.push('"');
    s
}

/// The command and arguments of `src`, placeholders made names.
fn command(ctx: &mut Ctx, src: &Source<'_>, step: &mut Step) {
    for part in ["command", "args"] {
        for arg in src
            .container
            .get(part)
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let text = arg.as_str().unwrap_or_default();
            let item = Placeholders {
                ctx,
                ports: src.ports,
                step,
            }
            .item(text, arg.pos);
            step.run.extend(item);
        }
    }
}

/// Makes `step` a Python step when `src` is a lightweight Python component and modules are
/// asked for: its function moves into a module of the package (module named after the step).
fn python_step(ctx: &mut Ctx, src: &Source<'_>, step: &mut Step) -> bool {
    let Some(package) = ctx.python_package.clone() else {
        return false;
    };
    let strings = |part: &str| -> Vec<&str> {
        src.container
            .get(part)
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect()
    };
    let Some(lw) = super::lightweight::detect(&strings("command"), &strings("args")) else {
        return false;
    };
    let module = if PYTHON_KEYWORDS.contains(&step.name.as_str()) {
        format!("{}_", step.name)
    } else {
        step.name.clone()
    };
    let origin = format!("`{}` (component `{}`)", ctx.origin, src.key);
    ctx.modules.push(crate::Module {
        path: format!("{package}/{module}.py"),
        text: super::lightweight::module_source(&lw, &origin),
    });
    step.python = Some(format!("{package}.{module}:{}", lw.function));
    let mut note = "// the image must hold flowc's Python runtime (docs/python.md)".to_string();
    if !lw.packages.is_empty() {
        note.push_str(&format!(
            " and what the component installed at every start: {}",
            lw.packages.join(", ")
        ));
    }
    step.props.push(note);
    for p in step.inputs.iter().chain(&step.outputs) {
        if p.name != p.kfp_name {
            step.props.push(format!(
                "// `{}` is `{}` in .flow: rename the function's parameter to match",
                p.kfp_name, p.name
            ));
        }
    }
    ctx.warn(
        Code::Approximated,
        src.container.pos,
        format!(
            "`{}` is a Python function component: it becomes a Python step calling `{}` in \
             `{package}/{module}.py`, and its image must hold flowc's Python runtime{}",
            src.key,
            lw.function,
            if lw.packages.is_empty() {
                String::new()
            } else {
                format!(" and {}", lw.packages.join(", "))
            }
        ),
        "build the image as docs/python.md says (\"Running in the cluster: the image\")",
    );
    true
}

/// Python's keywords: a module may not be named so.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];
