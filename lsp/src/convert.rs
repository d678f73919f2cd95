//! Conversions at the protocol edge: positions, URIs and diagnostics.
//!
//! Inside flowc, places are byte offsets; LSP positions are a line and a column counted in
//! UTF-16 code units. Both directions clamp: a position past the end of a line is the line's
//! end, a position past the last line is the end of the text, and a column inside a character
//! (half of a surrogate pair) is that character's start, so no client input can slice a string
//! in the middle of a character.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use flowc_compiler::diagnostics::Severity;
use flowc_compiler::source::normalize;
use flowc_grammar::{LineCol, LineIndex, Span};
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Position, Range, Uri,
};

/// A text with its line index, for converting positions.
pub struct Text<'a> {
    /// The text.
    pub text: &'a str,
    /// Its line starts.
    pub lines: &'a LineIndex,
}

impl Text<'_> {
    /// The byte offset of an LSP position.
    pub fn offset(&self, pos: Position) -> u32 {
        let len = self.text.len() as u32;
        let Some(start) = self.lines.line_start(pos.line) else {
            return len;
        };
        let end = self
            .lines
            .line_start(pos.line.saturating_add(1))
            .map_or(len, |n| n.saturating_sub(1));
        let line = self.text.get(start as usize..end as usize).unwrap_or("");
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            let next = units + c.len_utf16() as u32;
            if next > pos.character {
                return start + i as u32;
            }
            units = next;
        }
        // Past the end of the line: the line's end (before `\r\n` or `\n`).
        let trimmed = line.strip_suffix('\r').unwrap_or(line);
        start + trimmed.len() as u32
    }

    /// The LSP position of a byte offset.
    pub fn position(&self, offset: u32) -> Position {
        let offset = floor_boundary(self.text, offset.min(self.text.len() as u32));
        let LineCol { line, col } = self.lines.line_col(offset);
        let start = (offset - col) as usize;
        let character = self
            .text
            .get(start..offset as usize)
            .map_or(0, |s| s.encode_utf16().count() as u32);
        Position { line, character }
    }

    /// The LSP range of a span.
    pub fn range(&self, span: Span) -> Range {
        Range {
            start: self.position(span.start),
            end: self.position(span.end.max(span.start)),
        }
    }

    /// The span of an LSP range (its ends swapped if reversed).
    pub fn span(&self, range: Range) -> Span {
        let a = self.offset(range.start);
        let b = self.offset(range.end);
        Span::new(a.min(b) as usize, a.max(b) as usize)
    }
}

/// The largest character boundary at or before `offset`.
fn floor_boundary(text: &str, mut offset: u32) -> u32 {
    while offset > 0 && !text.is_char_boundary(offset as usize) {
        offset -= 1;
    }
    offset
}

/// The file path of a `file:` URI.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // Skip an authority (`file://host/path`); `localhost` and empty are this machine.
    let path = match rest.find('/') {
        Some(0) => rest,
        Some(i) => &rest[i..],
        None => return None,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let decoded = percent_decode(path)?;
    // `/c:/dir` on Windows is `c:/dir`.
    let bytes = decoded.as_bytes();
    let decoded = if bytes.len() >= 3
        && bytes[0] == b'/'
        && bytes[2] == b':'
        && bytes[1].is_ascii_alphabetic()
    {
        decoded[1..].to_string()
    } else {
        decoded
    };
    Some(normalize(Path::new(&decoded)))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An LSP diagnostic from a flowc diagnostic whose primary label is in the file of `text`;
/// `locate` gives the URI and text of another file, for related locations.
pub fn diagnostic(
    d: &flowc_compiler::Diagnostic,
    text: &Text<'_>,
    locate: &dyn Fn(flowc_compiler::FileId, Span) -> Option<Location>,
) -> lsp_types::Diagnostic {
    let primary = d.primary();
    let range = primary.map_or_else(Range::default, |l| text.range(l.span));
    // The message is `flowc check`'s; help and notes follow on their own lines.
    let mut message = d.message.clone();
    if let Some(l) = primary.filter(|l| !l.message.is_empty()) {
        message.push_str(&format!("\n{}", l.message));
    }
    if let Some(h) = &d.help {
        message.push_str(&format!("\nhelp: {h}"));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| primary.is_none_or(|p| !std::ptr::eq(*l, p)))
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: locate(l.file, l.span)?,
                message: if l.message.is_empty() {
                    "related".to_string()
                } else {
                    l.message.clone()
                },
            })
        })
        .collect();
    let unnecessary = d.code.name().starts_with("unused");
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Note => DiagnosticSeverity::INFORMATION,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        code_description: Uri::from_str(&d.code.url())
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("flowc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: unnecessary.then(|| vec![DiagnosticTag::UNNECESSARY]),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> (String, LineIndex) {
        (s.to_string(), LineIndex::new(s))
    }

    #[test]
    fn utf16_positions_round_trip_and_clamp() {
        let (s, lines) = text("a\u{e9}\u{1F600}b\r\nxy\n");
        let t = Text {
            text: &s,
            lines: &lines,
        };
        // `b` is after 1 + 1 + 2 UTF-16 units.
        let b = s.find('b').unwrap() as u32;
        assert_eq!(t.position(b), Position::new(0, 4));
        assert_eq!(t.offset(Position::new(0, 4)), b);
        // Inside the surrogate pair: the emoji's start.
        assert_eq!(
            t.offset(Position::new(0, 3)),
            s.find('\u{1F600}').unwrap() as u32
        );
        // Past the end of a line: before its `\r\n`.
        assert_eq!(t.offset(Position::new(0, 99)), b + 1);
        // Past the last line: the end.
        assert_eq!(t.offset(Position::new(9, 0)), s.len() as u32);
        assert_eq!(t.position(u32::MAX), Position::new(2, 0));
        assert_eq!(
            t.position(2),
            Position::new(0, 1),
            "inside `é` floors to its start"
        );
    }

    #[test]
    fn file_uris_and_paths() {
        let uri = path_to_uri(Path::new("/tmp/my dir/a#b.flow")).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/my%20dir/a%23b.flow");
        assert_eq!(
            uri_to_path(&uri).unwrap(),
            PathBuf::from("/tmp/my dir/a#b.flow")
        );
        let win = Uri::from_str("file:///c%3A/x/y.flow").unwrap();
        assert_eq!(uri_to_path(&win).unwrap(), PathBuf::from("c:/x/y.flow"));
        let other = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(uri_to_path(&other), None);
    }
}
