//! Go to definition: from a name to where it is declared, across files and into the standard
//! library.
//!
//! A name imported with `as` goes to the original declaration, not to the alias; an import's
//! module path goes to the top of the imported file (for `std.*`, the standard library's
//! source, which the editor shows read-only).

use flowc_grammar::Span;

use super::index::{at, canonical, definition};
use super::NavTarget;
use crate::source::FileId;
use crate::Analysis;

/// Where the name at `offset` in `file` is declared.
pub fn goto_definition(a: &Analysis, file: FileId, offset: u32) -> Option<NavTarget> {
    let o = at(a, file, offset)?;
    definition(a, &canonical(a, &o.target))
}

/// The span of the name at `offset`, for editors that highlight the link's origin.
pub fn origin_span(a: &Analysis, file: FileId, offset: u32) -> Option<Span> {
    at(a, file, offset).map(|o| o.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::test_util::{fixture, text};

    /// `name@file` of the definition of the name at the cursor.
    fn check(files: &[(&str, &str)], expect: Option<&str>) {
        let (a, file, offset) = fixture(files);
        let got = goto_definition(&a, file, offset).map(|d| {
            format!(
                "{}@{}",
                text(&a, d.file, d.focus),
                a.sources().get(d.file).name()
            )
        });
        assert_eq!(got.as_deref(), expect);
    }

    const COMMON: &str = "/// Loads a day.\nstep load(day: Date) -> (rows: File) {\n  image \"busybox:1.36\"\n  run [\"load\", day, rows]\n}\n";

    #[test]
    fn across_an_import() {
        let main = "import \"./common.flow\" (load)\n\npipeline p(day: Date) {\n  rows = lo$0ad(day: day)\n  output rows\n}\n";
        check(
            &[("main.flow", main), ("common.flow", COMMON)],
            Some("load@common.flow"),
        );
        // The imported name in the import itself.
        let imp = main
            .replace("lo$0ad(", "load(")
            .replace("(load)", "(lo$0ad)");
        check(
            &[("main.flow", &imp), ("common.flow", COMMON)],
            Some("load@common.flow"),
        );
    }

    #[test]
    fn into_the_standard_library() {
        let main = "import std.survey (Target)\n\nschema T2 extends Tar$0get { x: Int }\n";
        check(&[("main.flow", main)], Some("Target@std/survey.flow"));
        let module = "import std.sur$0vey (Target)\n";
        check(&[("main.flow", module)], Some("@std/survey.flow"));
    }

    #[test]
    fn bindings_loop_variables_and_parameters() {
        let main = "step s(x: Str) -> (o: File) {\n  image \"busybox:1.36\"\n  run [\"x\", x, o]\n}\n\npipeline p(names: List<Str>) {\n  for n in names {\n    r = s(x: $0n)\n  }\n  output all = r\n}\n";
        check(&[("main.flow", main)], Some("n@main.flow"));
        let binding = main.replace("$0n)", "n)").replace("all = r", "all = $0r");
        check(&[("main.flow", &binding)], Some("r@main.flow"));
        let param = main.replace("$0n)", "n)").replace("in names", "in na$0mes");
        check(&[("main.flow", &param)], Some("names@main.flow"));
    }

    #[test]
    fn nothing_on_keywords_literals_and_broken_text() {
        check(&[("main.flow", "pipe$0line p() {\n}\n")], None);
        check(&[("main.flow", "pipeline p( {\n  x = $0y(\n")], None);
        check(&[("main.flow", "$0")], None);
    }
}
