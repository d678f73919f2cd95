//! Warnings about things declared and never used: imports, steps, profiles, secrets, schemas.
//!
//! Standard-library modules are never linted, and declarations are only reported in files that
//! declare a pipeline: a file of shared steps and profiles is a library, and its users decide.

use super::Checker;
use crate::diagnostics::lints;
use crate::resolve::{DeclId, ModuleId};
use flowc_grammar::ast::Item;

pub(crate) fn run(checker: &mut Checker<'_>) {
    let program = checker.program;
    for (mi, module) in program.modules.iter().enumerate() {
        if module.is_std || module.foreign.is_some() {
            continue;
        }
        // A file with syntax errors has lost some uses of its names: do not guess.
        if module.ast.items.iter().any(|i| matches!(i, Item::Error(_))) {
            continue;
        }
        let m = ModuleId(mi as u32);
        let file = module.file;
        for (name, entry) in &module.scope {
            if entry.import.is_some() && !checker.used_names.contains(&(m, name.clone())) {
                checker.push(lints::unused_import(file, entry.span, name));
            }
        }
        let has_pipeline = module
            .ast
            .items
            .iter()
            .any(|i| matches!(i, Item::Pipeline(_)));
        if !has_pipeline {
            continue;
        }
        for (ii, item) in module.ast.items.iter().enumerate() {
            let decl = DeclId {
                module: m,
                item: ii as u32,
            };
            let what = match item {
                Item::Step(_) => "step",
                Item::Profile(_) => "profile",
                Item::Secret(s) => s.kind.keyword(),
                Item::Schema(_) => "schema",
                _ => continue,
            };
            let Some(name) = item.name() else { continue };
            if name.name.is_empty() || checker.used_decls.contains(&decl) {
                continue;
            }
            checker.push(lints::unused_declaration(file, name.span, what, &name.name));
        }
    }
}
