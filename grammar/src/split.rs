//! The pre-pass that cuts a file into top-level declarations and collects comments.
//!
//! pest stops at the first error, so the parser never gives it a whole file. This scanner walks
//! the text once, skipping strings and comments, and starts a new chunk wherever a declaration
//! keyword (`import`, `schema`, `secret`, `profile`, `step`, `builtin`, `pipeline`) is the first
//! token of a line. Those keywords are reserved and never valid inside a declaration, so the cut
//! is safe even inside unbalanced braces: an unclosed `{` damages one declaration, not the file.
//!
//! The scanner also finds the structural errors that pest would word badly (unterminated strings,
//! unclosed or unmatched delimiters, nesting beyond [`MAX_DEPTH`]) and records every comment for
//! the formatter and for doc comments.

use crate::ast::{Comment, CommentKind};
use crate::span::Span;

/// Deepest bracket nesting accepted; deeper input is rejected before pest sees it, which bounds
/// the recursion of every later pass.
pub const MAX_DEPTH: usize = 64;

/// Keywords that start a top-level declaration.
pub const ITEM_KEYWORDS: &[&str] = &[
    "import", "schema", "secret", "profile", "step", "builtin", "pipeline",
];

/// One top-level declaration's text range, with the structural problem found in it, if any.
#[derive(Debug)]
pub struct Chunk {
    /// The byte range of the chunk in the file.
    pub span: Span,
    /// A structural error that makes parsing the chunk pointless.
    pub problem: Option<Problem>,
}

/// A structural error found by the scanner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A string literal runs to the end of its line.
    UnterminatedString(Span),
    /// An opening delimiter that is never closed in its declaration.
    Unclosed {
        /// The opening delimiter.
        open: Span,
        /// Which delimiter it is.
        delim: char,
    },
    /// A closing delimiter with no opening one, or of the wrong kind.
    Unmatched {
        /// The closing delimiter.
        close: Span,
        /// Which delimiter it is.
        delim: char,
        /// The delimiter that would close the innermost open one.
        expected: Option<char>,
        /// The innermost open delimiter, if any.
        open: Option<(Span, char)>,
    },
    /// Brackets nested deeper than [`MAX_DEPTH`].
    TooDeep(Span),
    /// An unterminated block comment.
    UnterminatedComment(Span),
}

/// The scanner's result.
#[derive(Debug, Default)]
pub struct Split {
    /// The chunks, in order, covering the whole text.
    pub chunks: Vec<Chunk>,
    /// Every comment of the file, in order.
    pub comments: Vec<Comment>,
}

fn closing(open: u8) -> char {
    match open {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    }
}

/// Scans `text` into chunks and comments.
pub fn split(text: &str) -> Split {
    let bytes = text.as_bytes();
    let mut out = Split::default();
    let mut chunk_start = 0usize;
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut problem: Option<Problem> = None;
    let mut at_line_start = true;
    let mut i = 0usize;

    let finish = |out: &mut Split,
                  start: usize,
                  end: usize,
                  stack: &mut Vec<(u8, usize)>,
                  problem: &mut Option<Problem>| {
        let mut p = problem.take();
        if p.is_none() {
            if let Some(&(open, at)) = stack.first() {
                // Report the innermost unclosed delimiter: the one closest to where the
                // declaration ended.
                let innermost = stack.last().copied().unwrap_or((open, at));
                p = Some(Problem::Unclosed {
                    open: Span::new(innermost.1, innermost.1 + 1),
                    delim: innermost.0 as char,
                });
            }
        }
        stack.clear();
        if end > start || p.is_some() {
            out.chunks.push(Chunk {
                span: Span::new(start, end),
                problem: p,
            });
        }
    };

    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = memchr_newline(bytes, i);
                let body = &text[i..end];
                let kind = if body.starts_with("//!") {
                    CommentKind::ModuleDoc
                } else if body.starts_with("///") && !body.starts_with("////") {
                    CommentKind::Doc
                } else {
                    CommentKind::Line
                };
                out.comments.push(Comment {
                    span: Span::new(i, end),
                    text: body.trim_end().to_string(),
                    kind,
                });
                i = end;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let rest = &text[i + 2..];
                let end = match rest.find("*/") {
                    Some(p) => i + 2 + p + 2,
                    None => {
                        if problem.is_none() {
                            problem = Some(Problem::UnterminatedComment(Span::new(i, i + 2)));
                        }
                        bytes.len()
                    }
                };
                out.comments.push(Comment {
                    span: Span::new(i, end),
                    text: text[i..end].to_string(),
                    kind: CommentKind::Block,
                });
                i = end;
                continue;
            }
            _ => {}
        }

        if at_line_start && (b.is_ascii_alphabetic()) {
            let word_end = bytes[i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
                .map_or(bytes.len(), |p| i + p);
            let word = &text[i..word_end];
            if ITEM_KEYWORDS.contains(&word) && i > chunk_start {
                finish(&mut out, chunk_start, i, &mut stack, &mut problem);
                chunk_start = i;
            }
        }
        at_line_start = false;

        match b {
            b'"' => {
                // Skip a string literal; it may not span lines.
                let mut j = i + 1;
                let mut closed = false;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 2,
                        b'"' => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        b'\n' => break,
                        _ => j += 1,
                    }
                }
                if !closed && problem.is_none() {
                    problem = Some(Problem::UnterminatedString(Span::new(
                        i,
                        j.min(bytes.len()),
                    )));
                }
                i = j.min(bytes.len());
                continue;
            }
            b'(' | b'[' | b'{' => {
                stack.push((b, i));
                if stack.len() > MAX_DEPTH && problem.is_none() {
                    problem = Some(Problem::TooDeep(Span::new(i, i + 1)));
                }
            }
            b')' | b']' | b'}' => match stack.pop() {
                Some((open, _)) if closing(open) == b as char => {}
                Some((open, at)) => {
                    if problem.is_none() {
                        problem = Some(Problem::Unmatched {
                            close: Span::new(i, i + 1),
                            delim: b as char,
                            expected: Some(closing(open)),
                            open: Some((Span::new(at, at + 1), open as char)),
                        });
                    }
                }
                None => {
                    if problem.is_none() {
                        problem = Some(Problem::Unmatched {
                            close: Span::new(i, i + 1),
                            delim: b as char,
                            expected: None,
                            open: None,
                        });
                    }
                }
            },
            _ => {}
        }
        // Advance by one whole character so slicing stays on char boundaries.
        i += utf8_len(b);
    }
    finish(&mut out, chunk_start, bytes.len(), &mut stack, &mut problem);
    out
}

fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<(&str, Option<Problem>)> {
        split(text)
            .chunks
            .into_iter()
            .map(|c| (&text[c.span.range()], c.problem))
            .collect()
    }

    #[test]
    fn cuts_at_declaration_keywords() {
        let c = chunks("schema A { x: Int }\nstep s() {}\n");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].0, "schema A { x: Int }\n");
        assert_eq!(c[1].0, "step s() {}\n");
    }

    #[test]
    fn unclosed_brace_damages_one_declaration() {
        let c = chunks("schema A { x: Int\nstep s() {}\n");
        assert_eq!(c.len(), 2);
        assert!(matches!(c[0].1, Some(Problem::Unclosed { delim: '{', .. })));
        assert!(c[1].1.is_none());
    }

    #[test]
    fn keywords_in_strings_and_comments_do_not_cut() {
        let c = chunks("step s() {\n  image \"x\nstep\"\n}\n");
        assert_eq!(c.len(), 2, "a string cannot span lines, so the cut happens");
        let c = chunks("step s() {\n  // step here\n}\n");
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn deep_nesting_is_a_problem() {
        let text = format!(
            "pipeline p() {{ x = f(a: {}{}) }}",
            "[".repeat(100),
            "]".repeat(100)
        );
        let c = chunks(&text);
        assert!(matches!(c[0].1, Some(Problem::TooDeep(_))));
    }
}
