//! The importer the compiler calls for `import kfp "FILE" (names)` in a `.flow` module.
//!
//! [`KfpImporter`] is the [`ForeignImporter`] the CLI and the language server hand the
//! compiler through their file loaders: it converts the file as `flowc import kfp` does (the
//! same steps, types and problems), and refuses a graph component, which is a pipeline in the
//! v1 format and not a step (the compiler reports that at the import).

use flowc_compiler::foreign::{ForeignImporter, ForeignModule, ForeignProblem};

/// Reads Kubeflow component files and compiled pipelines for `import kfp`.
#[derive(Clone, Copy, Debug, Default)]
pub struct KfpImporter;

/// The kinds [`KfpImporter`] reads.
const KINDS: &[&str] = &["kfp"];

impl ForeignImporter for KfpImporter {
    fn kinds(&self) -> &[&str] {
        KINDS
    }

    fn convert(&self, _kind: &str, name: &str, text: &str) -> ForeignModule {
        if is_graph_component(text) {
            return ForeignModule {
                source: None,
                problems: Vec::new(),
                not_importable: Some(
                    "it is a graph component (a pipeline written in the v1 format), not a step"
                        .to_string(),
                ),
            };
        }
        let converted = crate::convert(name, text);
        let failed = converted.has_errors();
        ForeignModule {
            source: (!failed).then_some(converted.source),
            problems: converted
                .problems
                .into_iter()
                .filter(|p| !is_component_rename(p))
                .map(|p| ForeignProblem {
                    code: p.code.as_str().to_string(),
                    line: p.line,
                    col: p.col,
                    message: p.message,
                    help: p.help,
                })
                .collect(),
            not_importable: None,
        }
    }
}

/// Whether `p` says the component's own name was made a `.flow` name (`Get file` →
/// `get_file`): the import names the step so, and is told the name when it does not
/// (`E420`), so this is no news at every import of every component.
fn is_component_rename(p: &crate::Problem) -> bool {
    p.code == crate::Code::Renamed && p.message.starts_with("the component `")
}

/// Whether `text` is a v1 component implemented by a graph (`implementation.graph`).
fn is_graph_component(text: &str) -> bool {
    let Ok(docs) = crate::yaml::parse(text) else {
        return false;
    };
    docs.first()
        .and_then(|d| d.get("implementation"))
        .is_some_and(|i| i.get("graph").is_some() && i.get("container").is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_importer_code_is_in_the_compiler_table() {
        for code in crate::Code::ALL {
            let Some(c) = flowc_compiler::Code::parse(code.as_str()) else {
                panic!("{} is not in the compiler's table of codes", code.as_str());
            };
            assert_eq!(c.name(), code.name());
            assert_eq!(
                c.severity() == flowc_compiler::Severity::Error,
                code.severity() == crate::Severity::Error
            );
        }
    }

    #[test]
    fn a_graph_component_is_not_importable() {
        let text = "name: g\nimplementation:\n  graph:\n    tasks: {}\n";
        let m = KfpImporter.convert("kfp", "g.yaml", text);
        assert!(m.not_importable.is_some());
        assert!(m.source.is_none());
        let text = "name: c\nimplementation:\n  container:\n    image: a:1\n    command: [x]\n";
        let m = KfpImporter.convert("kfp", "c.yaml", text);
        assert!(m.not_importable.is_none());
        assert!(m.source.is_some_and(|s| s.contains("step c(")));
    }

    #[test]
    fn the_component_name_is_renamed_silently_and_inputs_are_not() {
        let text = "name: Get file\ninputs:\n- {name: Sub path, type: String}\nimplementation:\n  container:\n    image: a:1\n    command: [x, {inputValue: Sub path}]\n";
        let direct = crate::convert("g.yaml", text);
        assert_eq!(direct.problems.len(), 2, "{:?}", direct.problems);
        let m = KfpImporter.convert("kfp", "g.yaml", text);
        assert_eq!(m.problems.len(), 1, "{:?}", m.problems);
        assert_eq!(m.problems[0].code, "IW001");
        assert_eq!(m.problems[0].line, 3);
    }
}
