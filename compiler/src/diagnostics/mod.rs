//! Diagnostics as plain data: a code, a severity, a message, labelled spans and help.
//!
//! Every phase returns its findings as [`Diagnostic`] values; nothing in the compiler prints.
//! Rendering (terminal, JSON, SARIF, GitLab, LSP) happens at the edges, in the CLI and LSP crates.
//! Its code comes from the single table in [`codes`].
//!
//! Each message has one constructor function with typed arguments, grouped by phase as the
//! codes are: [`syntax`] (`E0xx` built in the compiler), [`names`] (`E1xx`), [`types`]
//! (`E2xx`), [`ops`] (`E4xx`) and [`lints`] (`W0xx`). The checker and the resolver call only
//! these (a test in `tests/check.rs` keeps `Diagnostic::new(` out of them), so a message's
//! wording lives in one place: `rg 'fn type_mismatch'` finds it.

pub mod codes;
pub(crate) mod foreign;
pub(crate) mod functions;
pub(crate) mod graph;
pub(crate) mod lints;
pub(crate) mod names;
pub(crate) mod ops;
pub(crate) mod records;
pub(crate) mod syntax;
pub(crate) mod types;

pub use codes::{Code, Phase};

use crate::source::FileId;
use flowc_grammar::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something the user should know that is not a problem (such as a check that could not
    /// be made here).
    Note,
    /// The file is still valid; something is probably unintended.
    Warning,
    /// The file cannot be built.
    Error,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Note => "note",
            Severity::Warning => "warning",
        }
    }
}

/// A labelled location in a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file.
    pub file: FileId,
    /// The byte range.
    pub span: Span,
    /// What this location has to do with the problem (may be empty).
    pub message: String,
    /// Whether this is the main location of the diagnostic.
    pub primary: bool,
}

/// One finding of the compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code, such as `E203`.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// One sentence, lower-case, no final period.
    pub message: String,
    /// Locations; the first primary label is where the diagnostic is reported.
    pub labels: Vec<Label>,
    /// An imperative, actionable suggestion.
    pub help: Option<String>,
    /// Extra facts worth knowing.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with `code`'s default severity, `message` and a primary label.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        file: FileId,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            labels: vec![Label {
                file,
                span,
                message: label.into(),
                primary: true,
            }],
            help: None,
            notes: Vec::new(),
        }
    }

    /// Adds a secondary label.
    pub fn with_label(
        mut self,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help text if there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The main label.
    pub fn primary(&self) -> Option<&Label> {
        self.labels
            .iter()
            .find(|l| l.primary)
            .or(self.labels.first())
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position and code, and removes exact duplicates, so that output
/// does not depend on the order in which checks ran.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        let ka = a.primary().map(|l| (l.file, l.span.start, l.span.end));
        let kb = b.primary().map(|l| (l.file, l.span.start, l.span.end));
        ka.cmp(&kb)
            .then(a.code.cmp(&b.code))
            .then(a.message.cmp(&b.message))
    });
    diags.dedup();
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The checker and the resolver build diagnostics only through the constructors of this
    /// module, so that each message is worded in one place.
    #[test]
    fn checker_and_resolver_call_only_constructors() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.join("resolve.rs")];
        let check = std::fs::read_dir(src.join("check")).expect("compiler/src/check is readable");
        files.extend(check.filter_map(|e| e.ok()).map(|e| e.path()));
        assert!(files.len() > 5, "found {files:?}");
        for path in files {
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            for needle in ["Diagnostic::new(", "Diagnostic {"] {
                assert!(
                    !text.contains(needle),
                    "{} builds a diagnostic with `{needle}`: add or use a constructor in \
                     compiler/src/diagnostics/",
                    path.display()
                );
            }
        }
    }
}
