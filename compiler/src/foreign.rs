//! Foreign files a module imports, such as `import kfp "components/train.yaml" (train)`.
//!
//! The compiler reads no YAML and knows no importer: the caller's [`FileLoader`] may offer a
//! [`ForeignImporter`] (the CLI and the language server offer `flowc-import`'s), which turns
//! the file's text into `.flow` source and problems at the file's lines. The resolver parses
//! that source as a module of its own ([`Origin::Imported`]) and reports the problems at the
//! foreign file (errors) or at the import (warnings, with the file's place as a second label).
//! Whatever the checker finds in the generated source is moved to the import as well
//! (`Program::relocate_foreign`), since the generated text is in no file the user can open.
//!
//! [`FileLoader`]: crate::FileLoader
//! [`Origin::Imported`]: crate::source::Origin::Imported

use flowc_grammar::Span;

/// Converts foreign files to `.flow` source for `import KIND "FILE" (...)`.
pub trait ForeignImporter {
    /// The kinds it reads, such as `["kfp"]`.
    fn kinds(&self) -> &[&str];

    /// Converts `text`, the file `name` of kind `kind`, to `.flow` source.
    fn convert(&self, kind: &str, name: &str, text: &str) -> ForeignModule;
}

/// What an importer makes of one foreign file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForeignModule {
    /// The `.flow` source, or none when an error stopped the conversion.
    pub source: Option<String>,
    /// Errors and warnings at the foreign file's lines.
    pub problems: Vec<ForeignProblem>,
    /// Why the file can be read but not imported as a module (such as a graph component),
    /// reported at the import.
    pub not_importable: Option<String>,
}

/// One problem of a foreign file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignProblem {
    /// The importer's stable code, such as `I003` or `IW004` (a code of the compiler's table).
    pub code: String,
    /// The 1-based line in the foreign file.
    pub line: usize,
    /// The 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// The byte span in `text` of the YAML node at a 1-based line and character column (see
/// `node_len`), empty past the end of the text.
pub fn span_at(text: &str, line: usize, col: usize) -> Span {
    let start_of_line: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[start_of_line.min(text.len())..];
    let rest = rest.split('\n').next().unwrap_or("");
    let rest = rest.strip_suffix('\r').unwrap_or(rest);
    let offset: usize = rest
        .chars()
        .take(col.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    let start = start_of_line + offset;
    let len = node_len(&rest[offset..]);
    Span::new(start.min(text.len()), (start + len).min(text.len()))
}

/// The length of the YAML node at the start of `line` (the rest of a line): a bracketed or
/// quoted node to its end on this line, a plain scalar to the next `,`, `}`, `]` or ` #`, at
/// least one character.
fn node_len(line: &str) -> usize {
    let first = line.chars().next().map_or(0, char::len_utf8);
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                if depth == 0 {
                    return i + 1;
                }
            }
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            (None, ',' | '}' | ']') if depth == 0 => return line[..i].trim_end().len().max(first),
            (None, '#') if depth == 0 && line[..i].ends_with(' ') => {
                return line[..i].trim_end().len().max(first)
            }
            _ => {}
        }
    }
    line.trim_end().len().max(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_node() {
        let text = "a: 1\n  - {inputValu: x}, {b: \"}\"}  \nz";
        let s = span_at(text, 2, 5);
        assert_eq!(&text[s.range()], "{inputValu: x}");
        assert_eq!(&text[span_at(text, 2, 21).range()], "{b: \"}\"}");
        assert_eq!(&text[span_at(text, 1, 1).range()], "a: 1");
        // Past the end: an empty span at the end, never a panic.
        let s = span_at(text, 9, 9);
        assert_eq!(s.range(), text.len()..text.len());
        let s = span_at("é\n", 1, 5);
        assert!(s.end <= 3);
        let text = "- {name: learning rate, type: Float}\nk: v # note\n";
        assert_eq!(&text[span_at(text, 1, 10).range()], "learning rate");
        assert_eq!(&text[span_at(text, 2, 4).range()], "v");
    }
}
