//! Python types of a `.flow` file (`flowc python-types`): a `TypedDict` per schema (one row)
//! with a class of its column names, and for each Python step a `TypedDict` of its metrics, a
//! `NamedTuple` of its outputs and the signature flowc calls the function with. A type checker
//! (mypy, pyright) and an editor then help on the Python side of each step.

use std::collections::BTreeMap;
use std::fmt::Write;

use flowc_compiler::check::python::is_identifier;
use flowc_compiler::check::StepSig;
use flowc_compiler::types::{Scalar, Schema, Ty};
use flowc_compiler::Analysis;

/// `clean_panel` → `CleanPanel`.
fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn scalar(s: Scalar) -> &'static str {
    match s {
        Scalar::Str => "str",
        Scalar::Int => "int",
        Scalar::Float => "float",
        Scalar::Bool => "bool",
        Scalar::Date => "datetime.date",
    }
}

/// The Python type a value of `ty` arrives as (`table` names a DataFrame's row type).
fn python_type(ty: &Ty) -> String {
    match ty {
        Ty::Scalar(s) => scalar(*s).to_string(),
        Ty::Column(_) => "str".into(),
        Ty::Columns(_) => "list[str]".into(),
        Ty::List(t) => format!("list[{}]", python_type(t)),
        Ty::Optional(t) => format!("Optional[{}]", python_type(t)),
        Ty::File | Ty::Dir | Ty::Model => "pathlib.Path".into(),
        Ty::Metrics(_) | Ty::Record(_) => "dict[str, Any]".into(),
        Ty::Table(_) => "Table".into(),
        Ty::Json | Ty::None | Ty::Error => "Any".into(),
    }
}

/// A `TypedDict` named `name` with `fields` (the functional form when a name is not an
/// identifier, such as a column called `class`).
fn typed_dict(out: &mut String, name: &str, doc: &str, fields: &[(String, String)]) {
    if fields.iter().all(|(n, _)| is_identifier(n)) {
        let _ = writeln!(out, "class {name}(TypedDict):\n    \"\"\"{doc}\"\"\"\n");
        for (n, t) in fields {
            let _ = writeln!(out, "    {n}: {t}");
        }
    } else {
        let body: Vec<String> = fields.iter().map(|(n, t)| format!("{n:?}: {t}")).collect();
        let _ = writeln!(
            out,
            "# {doc}\n{name} = TypedDict({name:?}, {{{}}})",
            body.join(", ")
        );
    }
    out.push_str("\n\n");
}

fn schema(out: &mut String, name: &str, s: &Schema) {
    let fields: Vec<(String, String)> = s
        .columns
        .iter()
        .map(|(n, c)| {
            let t = scalar(c.ty);
            let t = if c.nullable {
                format!("Optional[{t}]")
            } else {
                t.to_string()
            };
            (n.clone(), t)
        })
        .collect();
    typed_dict(out, name, &format!("A row of a `{name}` table."), &fields);
    let _ = writeln!(
        out,
        "class {name}Columns:\n    \"\"\"The column names of `{name}`: `df[{name}Columns.x]`.\"\"\"\n"
    );
    for n in s.columns.keys() {
        let attr = if is_identifier(n) {
            n.clone()
        } else {
            format!("{}_", n.replace(|c: char| !c.is_alphanumeric(), "_"))
        };
        let _ = writeln!(out, "    {attr} = {n:?}");
    }
    let all: Vec<String> = s.columns.keys().map(|n| format!("{n:?}")).collect();
    let trailing = if all.len() == 1 { "," } else { "" };
    let _ = writeln!(out, "    ALL = ({}{trailing})\n\n", all.join(", "));
}

fn step(out: &mut String, sig: &StepSig, reference: &str) {
    let base = camel(&sig.name);
    let _ = writeln!(out, "# step {}: python \"{reference}\"\n", sig.name);
    let mut outputs = Vec::new();
    for o in &sig.outputs {
        let t = match &o.ty {
            Ty::Metrics(Some(keys)) => {
                let name = format!("{base}{}", camel(&o.name));
                let fields: Vec<(String, String)> = keys
                    .columns
                    .iter()
                    .map(|(n, c)| (n.clone(), scalar(c.ty).to_string()))
                    .collect();
                typed_dict(
                    out,
                    &name,
                    &format!("The metrics `{}` of `{}`.", o.name, sig.name),
                    &fields,
                );
                name
            }
            Ty::File | Ty::Dir | Ty::Model => "Union[pathlib.Path, bytes, str]".into(),
            other => python_type(other),
        };
        outputs.push((o.name.clone(), t));
    }
    let returns = match outputs.len() {
        0 => "None".to_string(),
        1 => outputs[0].1.clone(),
        _ => {
            let name = format!("{base}Outputs");
            let _ = writeln!(
                out,
                "class {name}(NamedTuple):\n    \"\"\"What `{}` returns: these values in this order (or a dict with these keys).\"\"\"\n",
                sig.name
            );
            for (n, t) in &outputs {
                let _ = writeln!(out, "    {n}: {t}");
            }
            out.push_str("\n\n");
            name
        }
    };
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|p| {
            let t = python_type(&p.ty);
            if p.is_required() {
                format!("{}: {t}", p.name)
            } else {
                format!("{}: {t} = ...", p.name)
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "def {}({}) -> {returns}:\n    \"\"\"The call flowc makes of `{reference}` (tables arrive as pandas DataFrames unless\n    annotated `pl.DataFrame` or `pa.Table`).\"\"\"\n    ...\n\n",
        sig.name,
        params.join(", ")
    );
}

/// The Python types of the schemas and Python steps declared in `analysis`'s root files.
pub fn python_types(analysis: &Analysis, source_name: &str) -> String {
    let roots = &analysis.program.roots;
    let mut schemas: BTreeMap<(u32, u32), (String, &Schema)> = BTreeMap::new();
    for (decl, s) in &analysis.checked.schemas {
        if let (true, Some(name)) = (roots.contains(&decl.module), &s.name) {
            schemas.insert((decl.module.0, decl.item), (name.clone(), s));
        }
    }
    let mut steps: BTreeMap<(u32, u32), (&StepSig, String)> = BTreeMap::new();
    for (decl, props) in &analysis.checked.props {
        if let (true, Some(f), Some(sig)) = (
            roots.contains(&decl.module),
            &props.python,
            analysis.checked.steps.get(decl),
        ) {
            steps.insert((decl.module.0, decl.item), (sig, f.reference()));
        }
    }
    let mut out = format!(
        "\"\"\"Python types of {source_name}: its schemas and Python steps.\n\nWritten by `flowc python-types`; do not edit (run it again after changing the source).\n\"\"\"\n\n\
         from __future__ import annotations\n\nimport datetime\nimport pathlib\nfrom typing import Any, NamedTuple, Optional, TypedDict, Union\n\n\
         #: A table as a step receives or returns it: a pandas or polars DataFrame, or a pyarrow Table.\nTable = Any\n\n\n"
    );
    for (name, s) in schemas.values() {
        schema(&mut out, name, s);
    }
    for (sig, reference) in steps.values() {
        step(&mut out, sig, reference);
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
