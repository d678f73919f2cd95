//! Find references: every place that names the same thing as the name under the cursor.
//!
//! References are collected over every module of the analysis (the open files, what they
//! import, and the standard library). A name imported with `as` is the same thing as its
//! original declaration, so references of either include both the original name and the
//! alias's uses.

use flowc_grammar::Span;

use super::index::{all_occurrences, at, canonical, Role};
use crate::source::FileId;
use crate::Analysis;

/// One place that names the thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The file.
    pub file: FileId,
    /// The name's span.
    pub span: Span,
    /// Whether this is where the thing is declared.
    pub is_definition: bool,
}

/// Every reference to the thing named at `offset` in `file`, sorted by file and position;
/// declarations are included when `include_declaration` is set.
pub fn references(
    a: &Analysis,
    file: FileId,
    offset: u32,
    include_declaration: bool,
) -> Vec<Reference> {
    let Some(o) = at(a, file, offset) else {
        return Vec::new();
    };
    let target = canonical(a, &o.target);
    let mut out: Vec<Reference> = all_occurrences(a)
        .into_iter()
        .filter(|x| canonical(a, &x.target) == target)
        .filter(|x| include_declaration || x.role != Role::Def)
        .map(|x| Reference {
            file: x.file,
            span: x.span,
            is_definition: x.role == Role::Def,
        })
        .collect();
    out.sort_by_key(|r| (r.file, r.span.start, r.span.end));
    out.dedup_by_key(|r| (r.file, r.span));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::fixture;

    fn check(files: &[(&str, &str)], include_declaration: bool, expect: &[&str]) {
        let (a, file, offset) = fixture(files);
        let got: Vec<String> = references(&a, file, offset, include_declaration)
            .iter()
            .map(|r| {
                let f = a.sources().get(r.file);
                let line = f.lines.line_col(r.span.start).line + 1;
                format!("{}:{line}", f.name())
            })
            .collect();
        assert_eq!(got, expect);
    }

    const COMMON: &str = "step load(day: Date) -> (rows: File) {\n  image \"busybox:1.36\"\n  run [\"load\", day, rows]\n}\n";

    #[test]
    fn a_step_across_files() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date) {\n  a = lo$0ad(day: day)\n  b = load(day: day) after a\n  output b\n}\n";
        let files = [("main.flow", main), ("common.flow", COMMON)];
        check(
            &files,
            true,
            &["main.flow:1", "main.flow:4", "main.flow:5", "common.flow:1"],
        );
        check(
            &files,
            false,
            &["main.flow:1", "main.flow:4", "main.flow:5"],
        );
    }

    #[test]
    fn a_parameter_in_its_body_and_at_call_sites() {
        let main = "step load(d$0ay: Date) -> (rows: File) {\n  image \"busybox:1.36\"\n  run [\"load\", \"${day}\", rows]\n}\n\npipeline p(day: Date) {\n  a = load(day: day)\n  output a\n}\n";
        check(
            &[("main.flow", main)],
            true,
            &["main.flow:1", "main.flow:3", "main.flow:7"],
        );
    }

    #[test]
    fn an_aliased_import_is_the_same_thing() {
        let main = "import \"./common.flow\" (load as get)\n\npipeline p(day: Date) {\n  a = g$0et(day: day)\n  output a\n}\n";
        check(
            &[("main.flow", main), ("common.flow", COMMON)],
            true,
            &["main.flow:1", "main.flow:1", "main.flow:4", "common.flow:1"],
        );
    }
}
