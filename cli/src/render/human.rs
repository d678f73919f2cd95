//! Human output: source snippets with labels, help and notes, drawn by miette.
//!
//! Labels in other files than the primary one are drawn as related reports of their own, so a
//! schema mismatch shows both the consumer and the producer's declaration.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan,
    MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents,
};

use flowc_compiler::{Diagnostic, FileId, Label, Severity, Sources};
use flowc_grammar::LineIndex;

struct Report {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    url: Option<String>,
    source: NamedSource<Snippets>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl MietteDiagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url
            .as_ref()
            .map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn MietteDiagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn MietteDiagnostic),
        ))
    }
}

fn labeled(l: &Label) -> LabeledSpan {
    let span = SourceSpan::new((l.span.start as usize).into(), l.span.len());
    let text = (!l.message.is_empty()).then(|| l.message.clone());
    if l.primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

fn source(sources: &Sources, file: FileId) -> NamedSource<Snippets> {
    let f = sources.get(file);
    let lone_cr = f
        .text
        .as_bytes()
        .windows(2)
        .any(|w| w[0] == b'\r' && w[1] != b'\n')
        || f.text.ends_with('\r');
    NamedSource::new(
        f.name(),
        Snippets {
            text: Arc::clone(&f.text),
            lines: Arc::clone(&f.lines),
            lone_cr,
        },
    )
}

/// A file's text for miette, shared rather than copied per report. miette finds a snippet's
/// lines by reading the text from its start, for every label of every report; this starts it
/// a few lines before the snippet instead (found with the file's line index), which gives the
/// same snippet: a file with hundreds of warnings renders in time linear in its size.
struct Snippets {
    text: Arc<str>,
    lines: Arc<LineIndex>,
    /// A lone `\r`, which miette counts as a line end and the line index does not: then
    /// miette reads from the start.
    lone_cr: bool,
}

impl SourceCode for Snippets {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text: &'a str = &self.text;
        let offset = u32::try_from(span.offset()).unwrap_or(u32::MAX);
        if self.lone_cr || span.offset() > text.len() {
            return text.read_span(span, before, after);
        }
        let line = self.lines.line_col(offset).line;
        let first =
            line.saturating_sub(u32::try_from(before).unwrap_or(u32::MAX).saturating_add(1));
        let start = self.lines.line_start(first).unwrap_or(0) as usize;
        let window = &text[start..];
        let local = SourceSpan::new((span.offset() - start).into(), span.len());
        let c = window.read_span(&local, before, after)?;
        let first = first as usize;
        Ok(Box::new(MietteSpanContents::new(
            c.data(),
            SourceSpan::new((c.span().offset() + start).into(), c.span().len()),
            c.line() + first,
            c.column(),
            c.line_count() + first,
        )))
    }
}

fn report(sources: &Sources, d: &Diagnostic) -> Report {
    let primary = d.primary();
    let primary_file = primary.map(|l| l.file).unwrap_or(FileId(0));
    let line_of = |l: &Label| sources.get(l.file).lines.line_col(l.span.start).line;
    let primary_line = primary.map(line_of).unwrap_or(0);
    let mut labels = Vec::new();
    // Labels in other files, or far from the primary one in the same file, are drawn as
    // related snippets after the main one, so the report opens at the problem itself.
    let mut others: Vec<(FileId, Vec<LabeledSpan>)> = Vec::new();
    for l in &d.labels {
        if l.file == primary_file && (l.primary || line_of(l).abs_diff(primary_line) <= 3) {
            labels.push(labeled(l));
        } else {
            let span = labeled(&Label {
                primary: true,
                ..l.clone()
            });
            match others.iter_mut().find(|(f, _)| *f == l.file) {
                Some((_, v)) => v.push(span),
                None => others.push((l.file, vec![span])),
            }
        }
    }
    // miette has one footer, `help:`; notes follow the help on their own lines.
    let mut help = d.help.clone();
    if !d.notes.is_empty() {
        help = Some(match help {
            Some(h) => {
                let notes: Vec<String> = d.notes.iter().map(|n| format!("note: {n}")).collect();
                format!("{h}\n{}", notes.join("\n"))
            }
            None => d.notes.join("\n"),
        });
    }
    Report {
        message: format!("[{}] {}", d.code.as_str(), d.message),
        code: None,
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Note => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
        },
        help,
        url: None,
        source: source(sources, primary_file),
        labels,
        related: others
            .into_iter()
            .map(|(file, labels)| Report {
                message: if file == primary_file {
                    "related location".to_string()
                } else {
                    format!("related location in {}", sources.get(file).name())
                },
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                url: None,
                source: source(sources, file),
                labels,
                related: Vec::new(),
            })
            .collect(),
    }
}

/// Renders diagnostics for a terminal (`color`) or for plain text, `width` columns wide.
pub fn render(sources: &Sources, diags: &[Diagnostic], color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    for d in diags {
        let r = report(sources, d);
        if handler.render_report(&mut out, &r).is_err() {
            // miette failed to draw the snippet (it never should): fall back to one line.
            out.push_str(&super::short(sources, std::slice::from_ref(d)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The snippet read through the line index equals miette's own reading of the whole text.
    #[test]
    fn snippets_read_as_miette_reads_the_whole_text() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!("line {i} {}\n", "x".repeat(i % 17)));
            if i % 50 == 0 {
                text.push_str("\r\n");
            }
        }
        let text: Arc<str> = Arc::from(text);
        let s = Snippets {
            text: Arc::clone(&text),
            lines: Arc::new(LineIndex::new(&text)),
            lone_cr: false,
        };
        let whole: &str = &text;
        for offset in (0..text.len()).step_by(37) {
            for len in [0, 1, 5, 40] {
                let len = len.min(text.len() - offset);
                let span = SourceSpan::new(offset.into(), len);
                for (before, after) in [(0, 0), (1, 1), (2, 3)] {
                    let a = s.read_span(&span, before, after).expect("a snippet");
                    let b = whole.read_span(&span, before, after).expect("a snippet");
                    assert_eq!(a.data(), b.data(), "{offset}+{len} ({before}, {after})");
                    assert_eq!(a.span(), b.span());
                    assert_eq!(
                        (a.line(), a.column(), a.line_count()),
                        (b.line(), b.column(), b.line_count()),
                        "{offset}+{len} ({before}, {after})"
                    );
                }
            }
        }
    }
}
