//! A container step (or a Python step) as the importer builds it, and its `.flow` text.
//!
//! Both readers (v1 component files and compiled pipelines) fill a [`Step`]; [`Step::write`]
//! is the one place that words a step, so both produce the same shape. Notes are `//`
//! comments at the place of what was left out or changed.

use crate::names::{comment, doc};

/// An input or output of a step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Port {
    /// The `.flow` name.
    pub name: String,
    /// The name in the Kubeflow file (placeholders use it).
    pub kfp_name: String,
    /// The `.flow` type, `?` included when optional.
    pub ty: String,
    /// The default value as a `.flow` literal.
    pub default: Option<String>,
    /// The description, for the step's documentation.
    pub description: Option<String>,
}

/// One item of a `run` list: an expression, or a note on the line before the next item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A `.flow` expression (a string literal or a name).
    Expr(String),
    /// A comment line.
    Note(String),
}

/// A container step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Step {
    /// The `.flow` name.
    pub name: String,
    /// The description (a doc comment).
    pub description: Option<String>,
    /// Notes above the step.
    pub notes: Vec<String>,
    /// Inputs, in file order.
    pub inputs: Vec<Port>,
    /// Outputs, in file order.
    pub outputs: Vec<Port>,
    /// The image.
    pub image: String,
    /// The command and its arguments.
    pub run: Vec<Item>,
    /// The function of a Python step (`module:function`), in place of `run`.
    pub python: Option<String>,
    /// Other properties, each one line of `.flow` (`env X = "y"`, `resources { ... }`), or a
    /// note as `// ...`.
    pub props: Vec<String>,
}

impl Step {
    /// The step as `.flow` text (formatted later by `flowc fmt`).
    pub fn write(&self) -> String {
        let mut s = String::new();
        for n in &self.notes {
            s.push_str(&comment(n, ""));
        }
        let mut docs = self
            .description
            .as_deref()
            .unwrap_or_default()
            .trim_end()
            .to_string();
        let described: Vec<&Port> = self
            .inputs
            .iter()
            .chain(&self.outputs)
            .filter(|p| p.description.is_some())
            .collect();
        if !described.is_empty() {
            if !docs.trim().is_empty() {
                docs.push_str("\n\n");
            }
            for p in described {
                let text = p.description.as_deref().unwrap_or_default();
                let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
                docs.push_str(&format!("- `{}`: {one_line}\n", p.name));
            }
        }
        s.push_str(&doc(&docs, ""));
        let inputs: Vec<String> = self
            .inputs
            .iter()
            .map(|p| match &p.default {
                Some(d) => format!("{}: {} = {d}", p.name, p.ty),
                None => format!("{}: {}", p.name, p.ty),
            })
            .collect();
        s.push_str(&format!("step {}({})", self.name, inputs.join(", ")));
        if !self.outputs.is_empty() {
            let outs: Vec<String> = self
                .outputs
                .iter()
                .map(|p| format!("{}: {}", p.name, p.ty))
                .collect();
            s.push_str(&format!(" -> ({})", outs.join(", ")));
        }
        s.push_str(" {\n");
        s.push_str(&format!("  image {}\n", crate::names::string(&self.image)));
        match &self.python {
            Some(function) => {
                s.push_str(&format!("  python {}\n", crate::names::string(function)));
            }
            None => {
                s.push_str("  run [\n");
                for item in &self.run {
                    match item {
                        Item::Expr(e) => s.push_str(&format!("    {e},\n")),
                        Item::Note(n) => s.push_str(&comment(n, "    ")),
                    }
                }
                s.push_str("  ]\n");
            }
        }
        for p in &self.props {
            s.push_str(&format!("  {p}\n"));
        }
        s.push_str("}\n");
        s
    }
}
