//! Plain-data errors and warnings of the importer, with their stable codes.
//!
//! Errors are `I0xx` (the file is not converted), warnings `IW0xx` (the file is converted, and
//! the `.flow` holds a comment where something was left out or changed). Codes are never
//! renumbered or reused; the table is documented in `docs/migrating.md`. Each problem has the
//! 1-based line and column of the YAML node it is about; rendering is left to the CLI.

use std::fmt;

use crate::yaml::Pos;

/// The stable code of an importer problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// I001: the text is not YAML (a syntax error, or not UTF-8).
    NotYaml,
    /// I002: YAML, but neither a component nor a compiled pipeline.
    NotKfp,
    /// I003: a placeholder of an unknown kind.
    UnknownPlaceholder,
    /// I004: a placeholder names an input or output the component does not declare.
    UndeclaredName,
    /// I005: two inputs (or outputs) have the same name, or a key is written twice in one
    /// mapping.
    DuplicateName,
    /// I006: a field has the wrong shape (a list where a mapping is expected, no image).
    InvalidField,
    /// IW001: a name that is not valid in `.flow` was renamed.
    Renamed,
    /// IW002: a type name flowc does not know; the closest type was used.
    UnknownType,
    /// IW003: a setting or placeholder with no flowc equivalent was left out.
    LeftOut,
    /// IW004: converted, but not exactly (a conditional argument kept always, a URI passed as
    /// a path, the executor input kept as text).
    Approximated,
}

/// Whether a problem stops the conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The file is not converted.
    Error,
    /// The file is converted; the `.flow` says what changed.
    Warning,
}

impl Code {
    /// The code as written in messages and docs, e.g. `I003`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotYaml => "I001",
            Code::NotKfp => "I002",
            Code::UnknownPlaceholder => "I003",
            Code::UndeclaredName => "I004",
            Code::DuplicateName => "I005",
            Code::InvalidField => "I006",
            Code::Renamed => "IW001",
            Code::UnknownType => "IW002",
            Code::LeftOut => "IW003",
            Code::Approximated => "IW004",
        }
    }

    /// The kebab-case name of the code.
    pub fn name(self) -> &'static str {
        match self {
            Code::NotYaml => "not-yaml",
            Code::NotKfp => "not-kfp",
            Code::UnknownPlaceholder => "unknown-placeholder",
            Code::UndeclaredName => "undeclared-name",
            Code::DuplicateName => "duplicate-name",
            Code::InvalidField => "invalid-field",
            Code::Renamed => "renamed",
            Code::UnknownType => "unknown-type",
            Code::LeftOut => "left-out",
            Code::Approximated => "approximated",
        }
    }

    /// Whether the code is an error or a warning.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with("IW") {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Every code, in order.
    pub const ALL: [Code; 10] = [
        Code::NotYaml,
        Code::NotKfp,
        Code::UnknownPlaceholder,
        Code::UndeclaredName,
        Code::DuplicateName,
        Code::InvalidField,
        Code::Renamed,
        Code::UnknownType,
        Code::LeftOut,
        Code::Approximated,
    ];
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem of one file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The 1-based line in the YAML file.
    pub line: usize,
    /// The 1-based column.
    pub col: usize,
    /// The stable code.
    pub code: Code,
    /// What is wrong, lower-case, names in backticks.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl Problem {
    /// A problem at `pos`.
    pub fn new(code: Code, pos: Pos, message: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            line: pos.line,
            col: pos.col,
            code,
            message: message.into(),
            help: help.into(),
        }
    }

    /// `FILE:LINE:COL: error[I003]: message` and the help on the next line.
    pub fn render(&self, file: &str) -> String {
        let sev = match self.code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{file}:{}:{}: {sev}[{}]: {}\n  help: {}\n",
            self.line, self.col, self.code, self.message, self.help
        )
    }
}
