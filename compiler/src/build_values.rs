//! Build values: what `--set name=value` gives the program's build variables.
//!
//! [`resolve`] checks the given values against the declarations the checker collected
//! ([`crate::check::build_vars`]): every name must be declared, every value of its variable's
//! type, and every variable without a default given (E430). It then checks each `image` that
//! reads build variables again with the values (E416), as the checker could only use defaults.
//! The plan puts the values where the strings read them and records them.

use std::collections::BTreeMap;

use crate::check::build_vars::substitute;
use crate::diagnostics::ops;
use crate::{Analysis, Diagnostic};
use flowc_grammar::ast::{Item, PropKind};

/// The value of every build variable, by name, in its type's canonical text.
pub type BuildValues = BTreeMap<String, String>;

/// Why the given values cannot build the program.
#[derive(Debug, Default)]
pub struct BuildValueErrors {
    /// Problems at a declaration or an image, drawn like other diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// `--set` names that no file declares, with the names that are declared.
    pub unknown: Vec<(String, Vec<String>)>,
}

impl BuildValueErrors {
    fn is_empty(&self) -> bool {
        self.diagnostics.is_empty() && self.unknown.is_empty()
    }
}

/// Resolves `given` (`--set name=value`, in order; a later one wins) against the declared
/// build variables of a checked program.
pub fn resolve(a: &Analysis, given: &[(String, String)]) -> Result<BuildValues, BuildValueErrors> {
    let declared = &a.checked.build_vars;
    let mut errors = BuildValueErrors::default();
    let mut values = BuildValues::new();
    let mut set: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, value) in given {
        if declared.contains_key(name) {
            set.insert(name, value);
        } else if !errors.unknown.iter().any(|(n, _)| n == name) {
            errors
                .unknown
                .push((name.clone(), declared.keys().cloned().collect()));
        }
    }
    for (name, decl) in declared {
        let (file, span) = decl.at;
        match set.get(name.as_str()) {
            Some(text) => match decl.kind.canonical(text) {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => errors.diagnostics.push(ops::build_value_type(
                    file,
                    span,
                    name,
                    text,
                    decl.kind.name(),
                )),
            },
            None => match &decl.default {
                Some(d) => {
                    values.insert(name.clone(), d.clone());
                }
                None => errors
                    .diagnostics
                    .push(ops::missing_build_value(file, span, name)),
            },
        }
    }
    if errors.is_empty() {
        errors.diagnostics = image_problems(a, &values);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// E416 for each `image` that reads build variables and is not a valid reference with their
/// values.
fn image_problems(a: &Analysis, values: &BuildValues) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (mi, module) in a.program.modules.iter().enumerate() {
        let file = a.program.file(crate::resolve::ModuleId(mi as u32));
        let steps = module.ast.items.iter().filter_map(|i| match i {
            Item::Step(s) => Some(s),
            _ => None,
        });
        for prop in steps.flat_map(|s| &s.props) {
            let PropKind::Image(s) = &prop.kind else {
                continue;
            };
            if s.build_vars().next().is_none() {
                continue;
            }
            let image = substitute(s, |n| values.get(n).cloned().unwrap_or_default());
            if let Some(problem) = crate::check::image_problem(&image) {
                out.push(ops::invalid_image(file, s.span, &image, problem));
            }
        }
    }
    out
}
