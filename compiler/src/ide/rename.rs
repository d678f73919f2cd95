//! Rename: a declaration, a parameter, an output, a binding, a loop variable or an alias,
//! everywhere it is named.
//!
//! Renaming a declaration edits its declaration, its uses, and the imports that name it in
//! other files (and their uses, unless the import renames it with `as`, in which case only the
//! original name in the import changes). Renaming a parameter edits the parameter, its uses in
//! the body (`run`, `env`, `${name}` interpolations), and the argument names at every call. An
//! `output x` that uses a renamed binding becomes `output x = new`, so the pipeline's interface
//! does not change. Standard-library declarations and columns are not renamed.

use flowc_grammar::Span;

use super::index::{all_occurrences, at, definition, Role, Target};
use super::{is_valid_name, module_of};
use crate::resolve::DeclKind;
use crate::source::FileId;
use crate::Analysis;

/// One text replacement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The file.
    pub file: FileId,
    /// The text replaced.
    pub span: Span,
    /// The replacement.
    pub new_text: String,
}

/// The name at `offset` that a rename would change (its span and text), or why it cannot be
/// renamed.
pub fn prepare_rename(a: &Analysis, file: FileId, offset: u32) -> Result<(Span, String), String> {
    let o = at(a, file, offset).ok_or_else(|| "there is no name to rename here".to_string())?;
    renamable(a, &o.target)?;
    let name = a.sources().get(file).text[o.span.range()].to_string();
    Ok((o.span, name))
}

/// The edits that rename the thing named at `offset` to `new_name`.
pub fn rename(
    a: &Analysis,
    file: FileId,
    offset: u32,
    new_name: &str,
) -> Result<Vec<Edit>, String> {
    let o = at(a, file, offset).ok_or_else(|| "there is no name to rename here".to_string())?;
    renamable(a, &o.target)?;
    if !is_valid_name(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: use letters, digits and `_`, not starting with a digit, and no keyword"
        ));
    }
    let old = a.sources().get(file).text[o.span.range()].to_string();
    if old == new_name {
        return Ok(Vec::new());
    }
    let all = all_occurrences(a);
    if let Some(why) = conflict(a, &o.target, new_name, &all) {
        return Err(why);
    }
    let shorthand = |f: FileId, s: Span| {
        all.iter()
            .any(|x| x.file == f && x.span == s && x.role == Role::OutputShorthand)
    };
    let mut edits: Vec<Edit> = Vec::new();
    for x in all.iter().filter(|x| x.target == o.target) {
        let text = &a.sources().get(x.file).text[x.span.range()];
        let new_text = match (&x.target, x.role) {
            // `output x` keeps its output name and uses the renamed value.
            (_, Role::OutputShorthand) => format!("{text} = {new_name}"),
            // Renaming the output of `output x` keeps the value.
            (Target::PipelineOutput { .. }, Role::Def) if shorthand(x.file, x.span) => {
                format!("{new_name} = {text}")
            }
            _ => new_name.to_string(),
        };
        edits.push(Edit {
            file: x.file,
            span: x.span,
            new_text,
        });
    }
    edits.sort_by_key(|e| (e.file, e.span.start));
    edits.dedup_by_key(|e| (e.file, e.span));
    Ok(edits)
}

/// Whether the target can be renamed.
fn renamable(a: &Analysis, t: &Target) -> Result<(), String> {
    match t {
        Target::Column { .. } => return Err("renaming a column is not supported".into()),
        Target::Module(_) => return Err("an import path cannot be renamed".into()),
        _ => {}
    }
    let def = definition(a, t).ok_or_else(|| "this name has no declaration".to_string())?;
    let is_std = module_of(a, def.file).is_some_and(|m| a.program.module(m).is_std);
    if is_std {
        return Err("standard-library names cannot be renamed".into());
    }
    let foreign = module_of(a, def.file).and_then(|m| a.program.module(m).foreign.as_ref());
    if let Some(f) = foreign {
        return Err(format!(
            "this name is made from `{}`: change it there, or import it with `as`",
            a.sources().get(f.file).name()
        ));
    }
    Ok(())
}

/// Why renaming to `new` would clash with another name, if it would.
fn conflict(
    a: &Analysis,
    t: &Target,
    new: &str,
    all: &[super::index::Occurrence],
) -> Option<String> {
    let p = &a.program;
    match t {
        Target::Decl(d) => {
            // The declaring module, and every module importing the name without `as`.
            let mut modules = vec![d.module];
            for x in all {
                if x.target == *t && x.role == Role::ImportName {
                    if let Some(m) = module_of(a, x.file) {
                        if !modules.contains(&m) {
                            modules.push(m);
                        }
                    }
                }
            }
            let kind = p.module(d.module).scope.values().find(|e| e.decl == *d);
            if kind.is_some_and(|e| e.kind == DeclKind::Schema)
                && flowc_grammar::keywords::TYPES.contains(&new)
            {
                return Some(format!("`{new}` is a built-in type name"));
            }
            modules
                .iter()
                .find(|m| p.module(**m).scope.contains_key(new))
                .map(|m| {
                    format!(
                        "`{new}` is already declared or imported in `{}`",
                        p.sources.get(p.file(*m)).name()
                    )
                })
        }
        Target::Alias { module, .. } => p
            .module(*module)
            .scope
            .contains_key(new)
            .then(|| format!("`{new}` is already declared or imported here")),
        Target::Param { owner, .. } => {
            let params = super::index::params_of(p.item(*owner))?;
            if params.iter().any(|x| x.name.name == new) {
                return Some(format!("there is already a parameter `{new}`"));
            }
            if let flowc_grammar::ast::Item::Step(s) = p.item(*owner) {
                if s.outputs.iter().any(|x| x.name.name == new) {
                    return Some(format!("there is already an output `{new}`"));
                }
            }
            a.checked
                .pipelines
                .get(owner)
                .filter(|info| info.bindings.contains_key(new))
                .map(|_| format!("`{new}` is already bound in this pipeline"))
        }
        Target::Output { owner, .. } => {
            let flowc_grammar::ast::Item::Step(s) = p.item(*owner) else {
                return None;
            };
            (s.outputs.iter().any(|x| x.name.name == new) || s.params.iter().any(|x| x.name.name == new))
                .then(|| format!("`{new}` is already an input or output of the step"))
        }
        Target::Binding { pipeline, .. } => {
            let params = super::index::params_of(p.item(*pipeline))?;
            let bound = all.iter().any(|x| {
                matches!(&x.target, Target::Binding { pipeline: q, name } if q == pipeline && name == new)
            });
            (bound || params.iter().any(|x| x.name.name == new))
                .then(|| format!("`{new}` is already a parameter or binding of this pipeline"))
        }
        Target::Generic { owner, .. } => {
            let flowc_grammar::ast::Item::Step(s) = p.item(*owner) else {
                return None;
            };
            s.generics
                .iter()
                .any(|g| g.name.name == new)
                .then(|| format!("there is already a schema variable `{new}`"))
        }
        Target::PipelineOutput { pipeline, .. } => all
            .iter()
            .any(|x| {
                matches!(&x.target, Target::PipelineOutput { pipeline: q, name } if q == pipeline && name == new)
            })
            .then(|| format!("the pipeline already has an output `{new}`")),
        Target::LoopVar { .. } | Target::Column { .. } | Target::Module(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    /// Applies the rename and returns every changed file's new text, by name.
    fn apply(files: &[(&str, &str)], new_name: &str) -> Result<Vec<(String, String)>, String> {
        let (a, file, offset) = fixture(files);
        let edits = rename(&a, file, offset, new_name)?;
        let mut out: Vec<(String, String)> = Vec::new();
        let mut ids: Vec<FileId> = edits.iter().map(|e| e.file).collect();
        ids.dedup();
        for id in ids {
            let mut text = a.sources().get(id).text.to_string();
            for e in edits.iter().filter(|e| e.file == id).rev() {
                text.replace_range(e.span.range(), &e.new_text);
            }
            out.push((a.sources().get(id).name(), text));
        }
        Ok(out)
    }

    const COMMON: &str = "step load(day: Date) -> (rows: File) {\n  image \"busybox:1.36\"\n  run [\"load\", \"--day=${day}\", rows]\n}\n";

    #[test]
    fn a_step_across_files() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date) {\n  a = lo$0ad(day: day)\n  output a\n}\n";
        let got = apply(&[("main.flow", main), ("common.flow", COMMON)], "fetch").unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[0].1.contains("import \"./common.flow\" (fetch)"));
        assert!(got[0].1.contains("a = fetch(day: day)"));
        assert!(got[1].1.starts_with("step fetch(day: Date)"));
    }

    #[test]
    fn a_parameter_renames_arguments_and_interpolations() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date) {\n  a = load(d$0ay: day)\n  output a\n}\n";
        let got = apply(&[("main.flow", main), ("common.flow", COMMON)], "date").unwrap();
        assert!(got[0].1.contains("a = load(date: day)"), "{}", got[0].1);
        assert!(got[1].1.contains("step load(date: Date)"));
        assert!(got[1].1.contains("\"--day=${date}\""));
    }

    #[test]
    fn a_binding_keeps_the_output_name() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date) {\n  $0a = load(day: day)\n  output a\n}\n";
        let got = apply(&[("main.flow", main), ("common.flow", COMMON)], "rows").unwrap();
        assert!(
            got[0]
                .1
                .contains("rows = load(day: day)\n  output a = rows\n"),
            "{}",
            got[0].1
        );
    }

    #[test]
    fn refusals() {
        let main = "import std.synth (panel)\n\npipeline p(day: Date, seed: Int) {\n  a = pa$0nel(n: 1, seed: seed, day: day)\n  output a\n}\n";
        assert!(apply(&[("main.flow", main)], "x")
            .unwrap_err()
            .contains("standard-library"));
        let bad = main
            .replace("pa$0nel(n", "panel(n")
            .replace("p(day", "$0p(day");
        assert!(apply(&[("main.flow", &bad)], "pipeline")
            .unwrap_err()
            .contains("not a valid name"));
        assert!(apply(&[("main.flow", &bad)], "panel")
            .unwrap_err()
            .contains("already"));
        let binding = main
            .replace("pa$0nel(n", "panel(n")
            .replace("  a = ", "  $0a = ");
        assert!(apply(&[("main.flow", &binding)], "seed")
            .unwrap_err()
            .contains("already"));
    }
}
