//! Kubeflow component files (the v1 format `kfp.components.load_component_from_file` reads:
//! `name`, `inputs`, `outputs`, `implementation.container`) to one [`Step`].
//!
//! The command's placeholders decide what each input is: read with `inputValue` it is a value
//! (`Str`, `Int`, …), with `inputPath` a file. `concat` becomes a string with `${name}`
//! interpolations; `if` with `isPresent` keeps its `then` items (an optional value that is
//! `none` leaves the command line in flowc, so `if isPresent x then [x]` is exact, and
//! anything more is reported as approximated).

use std::collections::BTreeMap;

use crate::names::{self, Names};
use crate::problem::Code;
use crate::step::{Item, Port, Step};
use crate::types::{self, Kind};
use crate::yaml::{Node, Pos, Value};
use crate::Ctx;

/// The placeholders of the v1 format, with what each needs.
const PLACEHOLDERS: &[&str] = &[
    "inputValue",
    "inputPath",
    "outputPath",
    "inputUri",
    "outputUri",
    "concat",
    "if",
    "isPresent",
    "executorInput",
    "inputMetadata",
    "outputMetadata",
];

/// Reads one v1 component (the document `doc`) as a step named from its `name` (unique in
/// `step_names`).
pub fn convert(ctx: &mut Ctx, doc: &Node, step_names: &mut Names) -> Option<Step> {
    let container = doc.get("implementation").and_then(|i| i.get("container"));
    let Some(container) = container else {
        let at = doc.get("implementation").map_or(doc.pos, |n| n.pos);
        let what = if doc
            .get("implementation")
            .and_then(|i| i.get("graph"))
            .is_some()
        {
            "a graph component (a pipeline written in the v1 format)"
        } else {
            "a component without `implementation.container`"
        };
        ctx.error(
            Code::InvalidField,
            at,
            format!("{what} cannot be converted"),
            "convert the compiled pipeline (`kfp dsl compile`) instead, or give the component a container",
        );
        return None;
    };
    let kfp_name = doc.str_of("name").unwrap_or("component");
    let name = step_names.unique(kfp_name);
    if name != kfp_name {
        ctx.renamed(
            doc.get("name").map_or(doc.pos, |n| n.pos),
            "component",
            kfp_name,
            &name,
        );
    }
    let mut step = Step {
        name,
        description: doc.str_of("description").map(str::to_string),
        ..Step::default()
    };
    top_level(ctx, doc, &mut step);
    let argv = argv(container);
    let kinds = uses(ctx, &argv);
    let mut ports = Names::default();
    step.inputs = ports_of(ctx, doc.get("inputs"), &kinds, &mut ports, false);
    step.outputs = ports_of(ctx, doc.get("outputs"), &kinds, &mut ports, true);
    if ctx.failed() {
        return None;
    }
    match container.get("image").and_then(Node::as_str) {
        Some(image) => step.image = image.to_string(),
        None => {
            ctx.error(
                Code::InvalidField,
                container.pos,
                "the container has no `image`",
                "add `image: registry/name:tag` to `implementation.container`",
            );
            return None;
        }
    }
    for a in &argv {
        let items = Args { ctx, step: &step }.item(a);
        step.run.extend(items);
    }
    container_props(ctx, container, &mut step);
    if step.run.iter().all(|i| matches!(i, Item::Note(_))) {
        ctx.error(
            Code::InvalidField,
            container.pos,
            "the container has no `command` and no `args`",
            "flowc runs the command a step gives: add the image's entry point as `command`",
        );
        return None;
    }
    Some(step)
}

/// Annotations as notes above the step; other top-level fields flowc has no place for.
fn top_level(ctx: &mut Ctx, doc: &Node, step: &mut Step) {
    for (k, v) in doc.as_map().unwrap_or_default() {
        match k.as_str().unwrap_or_default() {
            "name" | "description" | "inputs" | "outputs" | "implementation" => {}
            "metadata" => {
                for (a, value) in v
                    .get("annotations")
                    .and_then(Node::as_map)
                    .unwrap_or_default()
                {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.kind().to_string(), str::to_string);
                    step.notes.push(format!(
                        "annotation {}: {}",
                        a.as_str().unwrap_or_default(),
                        text.lines().next().unwrap_or_default()
                    ));
                }
            }
            other => {
                step.notes.push(format!(
                    "left out: the field `{other}` (flowc has no equivalent)"
                ));
                ctx.warn(
                    Code::LeftOut,
                    k.pos,
                    format!("the field `{other}` is left out: flowc has no equivalent"),
                    "set it by hand in the generated step if it matters",
                );
            }
        }
    }
}

/// The command then the arguments.
fn argv(container: &Node) -> Vec<&Node> {
    ["command", "args"]
        .iter()
        .filter_map(|k| container.get(k))
        .flat_map(|n| n.as_seq().unwrap_or_default())
        .collect()
}

/// How the command reads each input or output: by value or as a file.
fn uses(ctx: &mut Ctx, argv: &[&Node]) -> BTreeMap<String, (Kind, Pos)> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<&Node> = argv.to_vec();
    while let Some(n) = stack.pop() {
        match &n.value {
            Value::Scalar(..) => {}
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => {
                for (k, v) in entries {
                    let key = k.as_str().unwrap_or_default();
                    let kind = match key {
                        "inputValue" => Some(Kind::Value),
                        "inputPath" | "outputPath" | "inputUri" | "outputUri" => Some(Kind::File),
                        _ => None,
                    };
                    match (kind, v.as_str()) {
                        (Some(kind), Some(name)) => {
                            // Outputs are keyed apart: an input and an output may share a name.
                            let name = if key.starts_with("output") {
                                format!("out:{name}")
                            } else {
                                name.to_string()
                            };
                            let name = name.as_str();
                            let prev = out.insert(name.to_string(), (kind, k.pos));
                            if prev.is_some_and(|(p, _)| p != kind) {
                                ctx.warn(
                                    Code::Approximated,
                                    k.pos,
                                    format!("`{name}` is read both as a value and as a file; flowc passes it as a file"),
                                    "read it one way only, or split it into two inputs",
                                );
                                out.insert(name.to_string(), (Kind::File, k.pos));
                            }
                        }
                        _ => stack.push(v),
                    }
                }
            }
        }
    }
    out
}

/// The inputs (or outputs) of a component, typed by their use.
fn ports_of(
    ctx: &mut Ctx,
    list: Option<&Node>,
    kinds: &BTreeMap<String, (Kind, Pos)>,
    names: &mut Names,
    outputs: bool,
) -> Vec<Port> {
    let Some(list) = list.filter(|l| !l.is_null()) else {
        return Vec::new();
    };
    let what = if outputs { "outputs" } else { "inputs" };
    let Some(items) = list.as_seq() else {
        ctx.error(
            Code::InvalidField,
            list.pos,
            format!("`{what}` is {}, not a list", list.kind()),
            format!("write `{what}` as a list of `- {{name: ..., type: ...}}`"),
        );
        return Vec::new();
    };
    let mut seen: BTreeMap<String, Pos> = BTreeMap::new();
    let mut out = Vec::new();
    for item in items {
        let Some(kfp_name) = item.str_of("name") else {
            ctx.error(
                Code::InvalidField,
                item.pos,
                format!("an entry of `{what}` has no `name`"),
                "give every input and output a `name`",
            );
            continue;
        };
        let at = item.get("name").map_or(item.pos, |n| n.pos);
        if let Some(first) = seen.insert(kfp_name.to_string(), at) {
            ctx.error(
                Code::DuplicateName,
                at,
                format!(
                    "`{kfp_name}` is declared twice (first on line {})",
                    first.line
                ),
                "rename one of them",
            );
            continue;
        }
        let name = names.unique(kfp_name);
        if name != kfp_name {
            ctx.renamed(
                at,
                if outputs { "output" } else { "input" },
                kfp_name,
                &name,
            );
        }
        let key = if outputs {
            format!("out:{kfp_name}")
        } else {
            kfp_name.to_string()
        };
        let kind = match kinds.get(&key) {
            Some((k, _)) => *k,
            None if outputs => Kind::File,
            None => unused_kind(item),
        };
        out.push(port(ctx, item, kfp_name, name, kind, outputs));
    }
    out
}

/// The kind of an input the command never reads: a value when its type is a value type.
fn unused_kind(item: &Node) -> Kind {
    let ty = type_name(item.get("type"));
    if types::v1(ty.as_deref(), Kind::Value).known {
        Kind::Value
    } else {
        Kind::File
    }
}

/// The name of a v1 type: `String`, or the key of `{GCSPath: {...}}`.
fn type_name(ty: Option<&Node>) -> Option<String> {
    let ty = ty?;
    match &ty.value {
        Value::Scalar(s, _) if !ty.is_null() => Some(s.clone()),
        Value::Map(m) => m.first().and_then(|(k, _)| k.as_str()).map(str::to_string),
        _ => None,
    }
}

/// One input or output.
fn port(
    ctx: &mut Ctx,
    item: &Node,
    kfp_name: &str,
    name: String,
    kind: Kind,
    output: bool,
) -> Port {
    let ty_name = type_name(item.get("type"));
    let mapped = types::v1(ty_name.as_deref(), kind);
    if !mapped.known {
        ctx.warn(
            Code::UnknownType,
            item.get("type").map_or(item.pos, |n| n.pos),
            format!(
                "flowc does not know the type `{}`; `{kfp_name}` is a `{}`",
                ty_name.as_deref().unwrap_or_default(),
                mapped.ty
            ),
            "check the type of the input in the generated step",
        );
    }
    let optional = item
        .get("optional")
        .is_some_and(|o| o.as_str().is_some_and(|s| s.eq_ignore_ascii_case("true")));
    let mut p = Port {
        name,
        kfp_name: kfp_name.to_string(),
        ty: mapped.ty.clone(),
        default: None,
        description: item.str_of("description").map(str::to_string),
    };
    if let Some(d) = item.get("default").filter(|d| !output && !d.is_null()) {
        if kind == Kind::File {
            ctx.warn(
                Code::LeftOut,
                d.pos,
                format!("the default of the file input `{kfp_name}` is left out: a flowc file input has no default"),
                "pass the file at the call",
            );
        } else {
            p.default = default_literal(ctx, d, &mapped.ty, kfp_name);
        }
    }
    if optional && p.default.is_none() {
        p.ty.push('?');
    }
    p
}

/// A default value as a literal of `ty`.
fn default_literal(ctx: &mut Ctx, d: &Node, ty: &str, input: &str) -> Option<String> {
    let text = d.as_str()?.trim();
    let lit = match ty {
        "Int" => text.parse::<i64>().ok().map(|i| i.to_string()),
        "Float" => text.parse::<f64>().ok().and_then(names::float),
        "Bool" => match text.to_ascii_lowercase().as_str() {
            "true" => Some("true".into()),
            "false" => Some("false".into()),
            _ => None,
        },
        _ => Some(names::string(d.as_str().unwrap_or_default())),
    };
    if lit.is_none() {
        ctx.warn(
            Code::LeftOut,
            d.pos,
            format!("the default `{text}` of `{input}` is not a `{ty}`; it is left out"),
            "give the input a default of its type",
        );
    }
    lit
}

/// `env`, and the container fields flowc has no place for.
fn container_props(ctx: &mut Ctx, container: &Node, step: &mut Step) {
    for (k, v) in container.as_map().unwrap_or_default() {
        let key = k.as_str().unwrap_or_default();
        match key {
            "image" | "command" | "args" => {}
            "env" => {
                for (name, value) in v.as_map().unwrap_or_default() {
                    let var = name.as_str().unwrap_or_default();
                    let valid = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    let mut notes = Vec::new();
                    let text = Args { ctx, step }.concat(value, &mut notes);
                    step.props.extend(notes.iter().map(|n| format!("// {n}")));
                    if valid {
                        step.props.push(format!("env {var} = {text}"));
                    } else {
                        step.props.push(format!(
                            "// left out: env `{var}` (not a variable name flowc accepts)"
                        ));
                        ctx.warn(Code::LeftOut, name.pos, format!("the variable `{var}` is left out: its name is not letters, digits and `_`"), "rename the variable");
                    }
                }
            }
            _ => {
                let why = if key == "fileOutputs" {
                    "flowc gives each output a path of its own; pass it with `outputPath`"
                } else {
                    "flowc has no equivalent"
                };
                step.props
                    .push(format!("// left out: container `{key}` ({why})"));
                ctx.warn(
                    Code::LeftOut,
                    k.pos,
                    format!("the container field `{key}` is left out: {why}"),
                    "set it by hand in the generated step if it matters",
                );
            }
        }
    }
}

/// Converts placeholders to `run` items and strings.
struct Args<'c, 's> {
    ctx: &'c mut Ctx,
    step: &'s Step,
}

impl Args<'_, '_> {
    /// One element of `command` or `args`.
    fn item(&mut self, n: &Node) -> Vec<Item> {
        if let Value::Scalar(s, _) = &n.value {
            return vec![Item::Expr(names::string(s))];
        }
        let Some((key, v)) = self.placeholder(n) else {
            return Vec::new();
        };
        match key.as_str().unwrap_or_default() {
            "inputValue" | "inputPath" | "outputPath" => self
                .name_of(key, v)
                .map(|name| vec![Item::Expr(name)])
                .unwrap_or_default(),
            "inputUri" | "outputUri" => self.uri(key, v),
            "concat" => {
                let mut notes = Vec::new();
                let text = self.concat(n, &mut notes);
                let mut out: Vec<Item> = notes.into_iter().map(Item::Note).collect();
                out.push(Item::Expr(text));
                out
            }
            "if" => self.conditional(n.pos, v),
            other => self.left_out(key.pos, other),
        }
    }

    /// A placeholder's key and value, or a reported problem.
    fn placeholder<'n>(&mut self, n: &'n Node) -> Option<(&'n Node, &'n Node)> {
        let entries = match n.as_map() {
            Some([(k, v)]) => return self.known(k).then_some((k, v)),
            Some(e) => e,
            None => &[],
        };
        self.ctx.error(
            Code::UnknownPlaceholder,
            n.pos,
            format!(
                "{} is not a placeholder (a placeholder is a mapping of one key, such as `{{inputValue: name}}`)",
                if entries.is_empty() { n.kind().to_string() } else { format!("a mapping of {} keys", entries.len()) }
            ),
            "write one placeholder per argument",
        );
        None
    }

    /// Whether `k` names a placeholder kind; reports it otherwise.
    fn known(&mut self, k: &Node) -> bool {
        let key = k.as_str().unwrap_or_default();
        if PLACEHOLDERS.contains(&key) {
            return true;
        }
        let near = PLACEHOLDERS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(key))
            .map(|p| format!("did you mean `{p}`?"))
            .unwrap_or_else(|| {
                "the placeholders are inputValue, inputPath, outputPath, inputUri, outputUri, concat and if".into()
            });
        self.ctx.error(
            Code::UnknownPlaceholder,
            k.pos,
            format!("unknown placeholder `{key}`"),
            near,
        );
        false
    }

    /// The `.flow` name an `inputValue`/`inputPath`/`outputPath` placeholder reads.
    fn name_of(&mut self, key: &Node, v: &Node) -> Option<String> {
        let kind = key.as_str().unwrap_or_default();
        let wanted = v.as_str().unwrap_or_default();
        let list = if kind == "outputPath" || kind == "outputUri" {
            &self.step.outputs
        } else {
            &self.step.inputs
        };
        if let Some(p) = list.iter().find(|p| p.kfp_name == wanted) {
            return Some(p.name.clone());
        }
        let what = if list.as_ptr() == self.step.outputs.as_ptr() {
            "output"
        } else {
            "input"
        };
        self.ctx.error(
            Code::UndeclaredName,
            v.pos,
            format!("`{{{kind}: {wanted}}}` names no declared {what}"),
            format!("declare `{wanted}` in the component's {what}s, or fix the name"),
        );
        None
    }

    /// `inputUri`/`outputUri`: the file's path, reported.
    fn uri(&mut self, key: &Node, v: &Node) -> Vec<Item> {
        let Some(name) = self.name_of(key, v) else {
            return Vec::new();
        };
        let kind = key.as_str().unwrap_or_default();
        self.ctx.warn(
            Code::Approximated,
            key.pos,
            format!("`{kind}` of `{name}` is passed as the file's path: flowc steps see local paths, not URIs"),
            "make the command read and write the local path",
        );
        vec![
            Item::Note(format!("{kind}: flowc passes the local path, not a URI")),
            Item::Expr(name),
        ]
    }

    /// A placeholder with no flowc equivalent: a note in the list, and a warning.
    fn left_out(&mut self, at: Pos, kind: &str) -> Vec<Item> {
        self.ctx.warn(
            Code::LeftOut,
            at,
            format!("the placeholder `{kind}` is left out: flowc has no equivalent"),
            "pass what the program needs as inputs",
        );
        vec![Item::Note(format!(
            "left out: the placeholder `{kind}` (no flowc equivalent)"
        ))]
    }

    /// `{if: {cond: ..., then: [...], else: [...]}}`.
    fn conditional(&mut self, at: Pos, v: &Node) -> Vec<Item> {
        let branch = |k: &str| v.get(k).and_then(Node::as_seq).unwrap_or_default();
        let (then, els) = (branch("then"), branch("else"));
        let cond = v.get("cond");
        // A constant condition picks its branch now.
        if let Some(c) = cond.and_then(Node::as_str) {
            let chosen = if c.eq_ignore_ascii_case("true") {
                then
            } else {
                els
            };
            return chosen.iter().flat_map(|n| self.item(n)).collect();
        }
        let present = cond.and_then(|c| c.get("isPresent")).and_then(Node::as_str);
        let mut out = Vec::new();
        let then_items: Vec<Item> = then.iter().flat_map(|n| self.item(n)).collect();
        // Always present (a default, or required): the `then` items are always passed. Only
        // the one value of an optional input: it leaves the command line when `none`.
        let exact = present.is_some_and(|p| {
            let always = self
                .step
                .inputs
                .iter()
                .any(|i| i.kfp_name == p && !i.ty.ends_with('?'));
            let only_the_value = then.len() == 1
                && then[0]
                    .as_map()
                    .and_then(|m| m.first())
                    .is_some_and(|(_, n)| n.as_str() == Some(p));
            (always || only_the_value) && els.is_empty()
        });
        if !exact {
            let what = match present {
                Some(p) => format!("`if isPresent {p}`"),
                None => "an `if` on a value".to_string(),
            };
            self.ctx.warn(
                Code::Approximated,
                at,
                format!("{what} has no flowc equivalent: its `then` items are always passed{}", if els.is_empty() { "" } else { " and its `else` items never" }),
                "give the input a default, or make it required, so that the arguments always make sense",
            );
            out.push(Item::Note(format!(
                "{what}: flowc has no conditional arguments; the `then` items are always passed{}",
                if els.is_empty() {
                    ""
                } else {
                    ", the `else` items left out"
                }
            )));
        }
        out.extend(then_items);
        out
    }

    /// A string (a scalar, or a `concat` of scalars and values) with `${name}`
    /// interpolations; what it leaves out is added to `notes`.
    fn concat(&mut self, n: &Node, notes: &mut Vec<String>) -> String {
        let mut text = String::from("\"");
        self.concat_into(n, &mut text, notes);
        text.push('"');
        text
    }

    fn concat_into(&mut self, n: &Node, text: &mut String, notes: &mut Vec<String>) {
        if let Value::Scalar(s, _) = &n.value {
            let lit = names::string(s);
            text.push_str(&lit[1..lit.len() - 1]);
            return;
        }
        let Some((key, v)) = self.placeholder(n) else {
            return;
        };
        match key.as_str().unwrap_or_default() {
            "concat" => {
                for part in v.as_seq().unwrap_or_default() {
                    self.concat_into(part, text, notes);
                }
            }
            "inputValue" | "inputPath" | "outputPath" | "inputUri" | "outputUri" => {
                if let Some(name) = self.name_of(key, v) {
                    text.push_str(&format!("${{{name}}}"));
                }
            }
            other => {
                self.ctx.warn(
                    Code::LeftOut,
                    key.pos,
                    format!("`{other}` inside a string is left out: flowc strings interpolate names only"),
                    "build the argument from values and files only",
                );
                notes.push(format!(
                    "left out: `{other}` inside this string (flowc strings interpolate names only)"
                ));
            }
        }
    }
}
