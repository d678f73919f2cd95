//! Document symbols: the outline of a file.
//!
//! Every declaration of the file with its parts: a schema's columns, a step's parameters and
//! outputs, a pipeline's parameters, bindings and outputs, an import's names. It is read from
//! the syntax tree alone, so the outline of a file with errors still shows every declaration
//! that parsed.

use flowc_grammar::ast::{Import, ImportSource, Item, Param, Pipeline, SecretKind, StmtKind};
use flowc_grammar::Span;

use super::index::visit_stmts;
use super::module_of;
use crate::source::FileId;
use crate::Analysis;

/// The kinds of symbols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// An import.
    Import,
    /// A schema.
    Schema,
    /// A column of a schema.
    Column,
    /// A secret or a config.
    Secret,
    /// A profile.
    Profile,
    /// A step or built-in step.
    Step,
    /// A parameter of a step or pipeline.
    Parameter,
    /// An output of a step or pipeline.
    Output,
    /// A pipeline.
    Pipeline,
    /// A name bound to a call in a pipeline.
    Binding,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: SymbolKind,
    /// A short description, such as a type.
    pub detail: Option<String>,
    /// The whole construct.
    pub span: Span,
    /// Its name's span.
    pub selection: Span,
    /// Its parts.
    pub children: Vec<Symbol>,
}

/// The outline of `file`.
pub fn document_symbols(a: &Analysis, file: FileId) -> Vec<Symbol> {
    let Some(m) = module_of(a, file) else {
        return Vec::new();
    };
    let text: &str = &a.sources().get(file).text;
    let src = |s: Span| source_text(text, s);
    let params = |ps: &[Param]| param_symbols(text, ps);
    let mut out = Vec::new();
    for item in &a.program.module(m).ast.items {
        let sym = match item {
            Item::Import(imp) => import_symbol(imp),
            Item::Schema(s) => Symbol {
                name: s.name.name.clone(),
                kind: SymbolKind::Schema,
                detail: (!s.extends.is_empty()).then(|| {
                    let e: Vec<&str> = s.extends.iter().map(|e| e.name.as_str()).collect();
                    format!("extends {}", e.join(", "))
                }),
                span: s.span,
                selection: s.name.span,
                children: s
                    .columns
                    .iter()
                    .map(|c| {
                        leaf(
                            &c.name.name,
                            SymbolKind::Column,
                            src(c.ty.span),
                            c.span,
                            c.name.span,
                        )
                    })
                    .collect(),
            },
            Item::Secret(s) => leaf(
                &s.name.name,
                SymbolKind::Secret,
                Some(match s.kind {
                    SecretKind::Volume if s.k8s_name.value.is_empty() => "k8s_pvc(new)".into(),
                    SecretKind::Volume => format!("k8s_pvc({:?})", s.k8s_name.value),
                    _ if s.whole() => format!("{}({})", s.kind.call(), object_name(s)),
                    _ => format!(
                        "{}({}, key: {:?})",
                        s.kind.call(),
                        object_name(s),
                        s.key.value
                    ),
                }),
                s.span,
                s.name.span,
            ),
            Item::Profile(p) => leaf(&p.name.name, SymbolKind::Profile, None, p.span, p.name.span),
            Item::Build(b) => leaf(
                &format!("build.{}", b.var.name.name),
                SymbolKind::Parameter,
                src(b.var.ty.span),
                b.span,
                b.var.name.span,
            ),
            Item::Step(s) => {
                let mut children = params(&s.params);
                children.extend(s.outputs.iter().map(|o| {
                    leaf(
                        &o.name.name,
                        SymbolKind::Output,
                        src(o.ty.span),
                        o.span,
                        o.name.span,
                    )
                }));
                Symbol {
                    name: s.name.name.clone(),
                    kind: SymbolKind::Step,
                    detail: Some(if s.builtin { "builtin step" } else { "step" }.to_string()),
                    span: s.span,
                    selection: s.name.span,
                    children,
                }
            }
            Item::Pipeline(p) => pipeline_symbol(text, p),
            Item::Error(_) => continue,
        };
        out.push(sym);
    }
    out
}

/// A symbol with no children.
fn leaf(
    name: &str,
    kind: SymbolKind,
    detail: Option<String>,
    span: Span,
    selection: Span,
) -> Symbol {
    Symbol {
        name: name.to_string(),
        kind,
        detail,
        span,
        selection,
        children: Vec::new(),
    }
}

/// The source text of `span` on one line (runs of whitespace as one space).
fn source_text(text: &str, span: Span) -> Option<String> {
    text.get(span.range())
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Parameters, with their written types as detail.
fn param_symbols(text: &str, ps: &[Param]) -> Vec<Symbol> {
    ps.iter()
        .map(|p| {
            leaf(
                &p.name.name,
                SymbolKind::Parameter,
                source_text(text, p.ty.span),
                p.span,
                p.name.span,
            )
        })
        .collect()
}

/// An import, with the names it brings in as children.
fn import_symbol(imp: &Import) -> Symbol {
    let name = match &imp.source {
        ImportSource::Module { path, .. } => path.clone(),
        ImportSource::File(s) => s.value.clone(),
    };
    Symbol {
        name,
        kind: SymbolKind::Import,
        detail: None,
        span: imp.span,
        selection: imp.source.span(),
        children: imp
            .names
            .iter()
            .map(|n| {
                let l = n.local();
                leaf(
                    &l.name,
                    SymbolKind::Import,
                    None,
                    n.name.span.cover(l.span),
                    l.span,
                )
            })
            .collect(),
    }
}

/// A pipeline, with its parameters, bindings and outputs as children.
fn pipeline_symbol(text: &str, p: &Pipeline) -> Symbol {
    let params = |ps: &[Param]| param_symbols(text, ps);
    let mut children = params(&p.params);
    let mut seen: Vec<String> = Vec::new();
    visit_stmts(&p.body, &mut |s| match &s.kind {
        StmtKind::Bind { name, call } if !seen.contains(&name.name) => {
            seen.push(name.name.clone());
            children.push(leaf(
                &name.name,
                SymbolKind::Binding,
                Some(format!("{}(…)", call.callee.name)),
                s.span,
                name.span,
            ));
        }
        StmtKind::Output { name, .. } => children.push(leaf(
            &name.name,
            SymbolKind::Output,
            None,
            s.span,
            name.span,
        )),
        _ => {}
    });
    Symbol {
        name: p.name.name.clone(),
        kind: SymbolKind::Pipeline,
        detail: None,
        span: p.span,
        selection: p.name.span,
        children,
    }
}

/// How a symbol's detail writes the Secret's name: quoted, or `param p`.
fn object_name(s: &flowc_grammar::ast::Secret) -> String {
    match &s.name_param {
        Some(p) => format!("param {}", p.name),
        None => format!("{:?}", s.k8s_name.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    fn outline(src: &str) -> String {
        let (a, file, _) = fixture(&[("main.flow", src)]);
        fn walk(s: &[Symbol], depth: usize, out: &mut String) {
            for x in s {
                out.push_str(&format!(
                    "{}{:?} {}{}\n",
                    "  ".repeat(depth),
                    x.kind,
                    x.name,
                    x.detail
                        .as_ref()
                        .map_or(String::new(), |d| format!(": {d}"))
                ));
                walk(&x.children, depth + 1, out);
            }
        }
        let mut out = String::new();
        walk(&document_symbols(&a, file), 0, &mut out);
        out
    }

    #[test]
    fn declarations_with_their_parts() {
        let src = "import std.synth (panel as p)\n\nschema Row { id: Int, w: Float? }\n\nstep s(x: Str) -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"x\", x, o]\n}\n\npipeline q(day: Date) {\n  if true {\n    a = s(x: \"1\")\n  } else {\n    a = s(x: \"2\")\n  }\n  output a\n}\n";
        assert_eq!(
            outline(src),
            "Import std.synth\n  Import p\nSchema Row\n  Column id: Int\n  Column w: Float?\nStep s: step\n  Parameter x: Str\n  Output o: File\nPipeline q\n  Parameter day: Date\n  Binding a: s(…)\n  Output a\n"
        );
    }

    #[test]
    fn broken_declarations_do_not_hide_the_others() {
        let src = "schema A { x: Int }\n\nstep broken( {\n\nschema B { y: Str }\n";
        assert_eq!(
            outline(src),
            "Schema A\n  Column x: Int\nSchema B\n  Column y: Str\n"
        );
    }
}
