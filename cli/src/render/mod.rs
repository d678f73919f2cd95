//! Rendering diagnostics: for people (miette) and for machines (JSON, SARIF, GitLab).
//!
//! Positions are computed here, at the edge: 1-based lines and 1-based columns counted in
//! Unicode characters. Every format lists diagnostics in the compiler's sorted order, so output
//! is deterministic.

pub mod gitlab;
pub mod human;
pub mod json;
pub mod sarif;

use flowc_compiler::{Diagnostic, Sources};
use flowc_grammar::Span;

/// A 1-based position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

/// The start and end positions of `span` in `file`.
pub fn range(sources: &Sources, file: flowc_compiler::FileId, span: Span) -> (Pos, Pos) {
    let f = sources.get(file);
    let pos = |offset: u32| {
        let lc = f.lines.line_col(offset);
        let line_start = f.lines.line_start(lc.line).unwrap_or(0) as usize;
        let end = (offset as usize).min(f.text.len());
        let col = f
            .text
            .get(line_start..end)
            .map_or(lc.col as usize, |s| s.chars().count());
        Pos {
            line: lc.line + 1,
            column: col as u32 + 1,
        }
    };
    (pos(span.start), pos(span.end))
}

/// The primary location of a diagnostic: file name and start position.
pub fn primary_location(sources: &Sources, d: &Diagnostic) -> Option<(String, Pos, Pos)> {
    let l = d.primary()?;
    let (s, e) = range(sources, l.file, l.span);
    Some((sources.get(l.file).name(), s, e))
}

/// `file:line:col: severity[code]: message`, one line per diagnostic.
pub fn short(sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let loc = primary_location(sources, d)
            .map(|(f, s, _)| format!("{f}:{}:{}: ", s.line, s.column))
            .unwrap_or_default();
        out.push_str(&format!(
            "{loc}{}[{}]: {}\n",
            d.severity.as_str(),
            d.code.as_str(),
            d.message
        ));
    }
    out
}

/// Counts of errors and warnings.
pub fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let notes = diags
        .iter()
        .filter(|d| d.severity == flowc_compiler::diagnostics::Severity::Note)
        .count();
    (errors, diags.len() - errors - notes)
}
