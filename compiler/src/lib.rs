//! The flowc compiler front end: names, types, diagnostics, formatting and graphs.
//!
//! [`analyze`] loads the import closure of some root files through a [`FileLoader`], parses
//! them, resolves names and checks types, and returns an [`Analysis`]: the sources, the checked
//! model and every diagnostic, sorted. The compiler never does IO itself and never renders
//! diagnostics; it depends on no async runtime, no data-frame library and no LSP types, so
//! `flowc check` and the language server stay fast to build and to run.

pub mod build_values;
pub mod check;
pub mod diagnostics;
pub mod fmt;
pub mod foreign;
pub mod graph;
pub mod hash;
pub mod ide;
pub mod lockfile;
pub mod maps;
pub mod plan;
pub mod resolve;
pub mod source;
pub mod suggest;
pub mod types;
pub mod units;

use std::path::PathBuf;

pub use check::Checked;
pub use diagnostics::{Code, Diagnostic, Label, Severity};
pub use resolve::Program;
pub use source::{FileId, FileLoader, MemoryLoader, Sources};

/// Checks a `YYYY-MM-DD` date, as the checker does for `Date` literals.
pub fn check_date(s: &str) -> Result<(), &'static str> {
    check::parse_date(s).map(|_| ())
}

/// The result of analysing some root files and everything they import.
#[derive(Debug)]
pub struct Analysis {
    /// The parsed, scoped modules and their sources.
    pub program: Program,
    /// The checked model.
    pub checked: Checked,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The sources of all files.
    pub fn sources(&self) -> &Sources {
        &self.program.sources
    }
}

/// Analyses `roots` and their imports.
pub fn analyze(loader: &dyn FileLoader, roots: &[PathBuf]) -> Analysis {
    let mut diagnostics = Vec::new();
    let program = resolve::load(loader, roots, &mut diagnostics);
    let (checked, mut more) = check::check_program(&program);
    diagnostics.append(&mut more);
    program.relocate_foreign(&mut diagnostics);
    diagnostics::sort(&mut diagnostics);
    Analysis {
        program,
        checked,
        diagnostics,
    }
}
