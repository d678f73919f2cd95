//! Build variables: `build image_tag: Str = "dev"`, given when the pipeline is built (`flowc
//! build --set image_tag=1.2.0`) and read in strings as `${build.image_tag}`.
//!
//! A file reads only the build variables it declares (E427). Declarations of one name in
//! several files are one variable, so they must agree (E428). Build values are put in
//! `image`, `run`, `env` values and the strings of a pipeline's expressions; a
//! `${build.name}` anywhere else would stay as written, so it is an error (E429). The values
//! themselves are resolved by [`crate::build_values`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::Checker;
use crate::diagnostics::{names, ops};
use crate::resolve::ModuleId;
use crate::source::FileId;
use flowc_grammar::ast::{BuildVar, ExprKind, Ident, Item, StrLit, StrPart, TypeKind};
use flowc_grammar::Span;

/// The type of a build variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildKind {
    /// `Str`: any text.
    Str,
    /// `Int`: a whole number.
    Int,
    /// `Float`: a number.
    Float,
    /// `Bool`: `true` or `false`.
    Bool,
}

impl BuildKind {
    /// The type's name in `.flow`.
    pub fn name(self) -> &'static str {
        match self {
            BuildKind::Str => "Str",
            BuildKind::Int => "Int",
            BuildKind::Float => "Float",
            BuildKind::Bool => "Bool",
        }
    }

    fn of(name: &str) -> Option<BuildKind> {
        Some(match name {
            "Str" => BuildKind::Str,
            "Int" => BuildKind::Int,
            "Float" => BuildKind::Float,
            "Bool" => BuildKind::Bool,
            _ => return None,
        })
    }

    /// `text` in the canonical form of this type, or `None` when it is not one.
    pub fn canonical(self, text: &str) -> Option<String> {
        match self {
            BuildKind::Str => Some(text.to_string()),
            BuildKind::Int => text.trim().parse::<i64>().ok().map(|n| n.to_string()),
            BuildKind::Float => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| f.to_string()),
            BuildKind::Bool => match text.trim() {
                "true" | "false" => Some(text.trim().to_string()),
                _ => None,
            },
        }
    }
}

/// A checked build variable.
#[derive(Clone, Debug, PartialEq)]
pub struct BuildVarDecl {
    /// Its type.
    pub kind: BuildKind,
    /// Its default in canonical text, if it has one.
    pub default: Option<String>,
    /// The file and span of its (first) declaration's name.
    pub at: (FileId, Span),
}

/// The checked build variables of a program, by name.
pub type BuildVars = BTreeMap<String, BuildVarDecl>;

impl Checker<'_> {
    /// Checks a `build` declaration: a scalar type, a literal default of that type, and the
    /// same type and default as other declarations of the name.
    pub fn check_build_var(&mut self, m: ModuleId, b: &BuildVar) {
        let file = self.file(m);
        let var = &b.var;
        let kind = match &var.ty.kind {
            TypeKind::Named(n) if !var.ty.optional => BuildKind::of(&n.name),
            _ => None,
        };
        let Some(kind) = kind else {
            let written = &self.program.sources.get(file).text[var.ty.span.range()];
            self.push(ops::build_variable_type(file, var.ty.span, written));
            return;
        };
        let default = match &var.default {
            None => None,
            Some(e) => match literal_text(&e.kind).and_then(|t| kind.canonical(&t)) {
                Some(text) if literal_fits(&e.kind, kind) => Some(text),
                _ => {
                    self.push(ops::build_variable_default(
                        file,
                        e.span,
                        &var.name.name,
                        kind.name(),
                    ));
                    return;
                }
            },
        };
        let decl = BuildVarDecl {
            kind,
            default,
            at: (file, var.name.span),
        };
        match self.out.build_vars.get(&var.name.name) {
            Some(first) if first.at.0 == file => {
                let first = first.at.1;
                self.push(names::duplicate_declaration(
                    file,
                    var.name.span,
                    first,
                    &var.name.name,
                ));
            }
            Some(first) if first.kind != decl.kind || first.default != decl.default => {
                let first = first.at;
                self.push(ops::build_variable_conflict(
                    file,
                    var.name.span,
                    first,
                    &var.name.name,
                ));
            }
            Some(_) => {}
            None => {
                self.out.build_vars.insert(var.name.name.clone(), decl);
            }
        }
    }

    /// Checks the build variables `s` reads, in a place where their values are put.
    pub fn build_refs(&mut self, m: ModuleId, s: &StrLit) {
        for v in s.build_vars() {
            self.build_ref(m, v);
        }
    }

    fn build_ref(&mut self, m: ModuleId, v: &Ident) {
        self.build_reads.insert((m, v.span.start));
        let declared = declared_in(self, m);
        if !declared.contains(&v.name.as_str()) {
            let file = self.file(m);
            self.push(ops::unknown_build_variable(
                file, v.span, &v.name, &declared,
            ));
        }
    }

    /// Reports every `${build.name}` that no check met: it is in a string where build values
    /// are not put.
    pub fn misplaced_build_refs(&mut self) {
        for (mi, module) in self.program.modules.iter().enumerate() {
            let m = ModuleId(mi as u32);
            let file = self.program.file(m);
            for r in &module.ast.build_refs {
                if !self.build_reads.contains(&(m, r.span.start)) {
                    self.diags
                        .push(ops::misplaced_build_variable(file, r.span, &r.name));
                }
            }
        }
    }
}

/// The names of the build variables module `m` declares.
fn declared_in<'a>(c: &Checker<'a>, m: ModuleId) -> Vec<&'a str> {
    c.program
        .module(m)
        .ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Build(b) => Some(b.var.name.name.as_str()),
            _ => None,
        })
        .collect()
}

/// The text of a literal default, before it is checked against the type.
fn literal_text(e: &ExprKind) -> Option<String> {
    match e {
        ExprKind::Str(s) if s.parts.iter().all(|p| matches!(p, StrPart::Text(_))) => {
            Some(s.value.clone())
        }
        ExprKind::Int(n) => Some(n.to_string()),
        ExprKind::Float(f) => Some(f.to_string()),
        ExprKind::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a literal of this kind may be the default of a variable of type `kind` (an `Int`
/// literal may default a `Float`).
fn literal_fits(e: &ExprKind, kind: BuildKind) -> bool {
    matches!(
        (e, kind),
        (ExprKind::Str(_), BuildKind::Str)
            | (ExprKind::Int(_), BuildKind::Int | BuildKind::Float)
            | (ExprKind::Float(_), BuildKind::Float)
            | (ExprKind::Bool(_), BuildKind::Bool)
    )
}

/// [`substitute`], borrowing the literal's own text when it is one piece of text (the usual
/// image), so that nothing is copied.
pub fn substitute_borrowed(s: &StrLit, value: impl Fn(&str) -> String) -> Cow<'_, str> {
    match &*s.parts {
        [StrPart::Text(t)] => Cow::Borrowed(t),
        _ => Cow::Owned(substitute(s, value)),
    }
}

/// `s` with each `${build.name}` replaced by `value(name)`, other text as written.
pub fn substitute(s: &StrLit, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    for p in &s.parts {
        match p {
            StrPart::Text(t) => out.push_str(t),
            StrPart::Var(v) => {
                out.push_str("${");
                out.push_str(&v.name);
                out.push('}');
            }
            StrPart::Path(p) => {
                let names: Vec<&str> = p.iter().map(|i| i.name.as_str()).collect();
                out.push_str(&format!("${{{}}}", names.join(".")));
            }
            StrPart::Build(v) => out.push_str(&value(&v.name)),
        }
    }
    out
}
