//! The pre-pass that cuts a file into top-level declarations and collects comments.
//!
//! pest stops at the first error, so the parser never gives it a whole file. This scanner walks
//! the bytes of the file once, by the rules of [`crate::lexer`], and starts a new chunk wherever
//! a declaration keyword (`import`, `schema`, `secret`, `profile`, `step`, `builtin`,
//! `pipeline`) is the first token of a line. (It scans bytes because walking the lexer's tokens
//! cost a tenth of a whole `flowc check`; [`split_by_tokens`] walks the tokens, and the tests
//! hold the two to the same result.) Those keywords are reserved and never valid inside a declaration, so the cut
//! is safe even inside unbalanced braces: an unclosed `{` damages one declaration, not the file.
//! `build`, `config` and `volume` start a declaration only outside every bracket, as they are names
//! everywhere else.
//!
//! The scanner also finds the structural errors that pest would word badly (unterminated strings,
//! unclosed or unmatched delimiters, nesting beyond [`MAX_DEPTH`]) and records every comment for
//! the formatter and for doc comments.

use crate::ast::{Comment, CommentKind};
use crate::lexer::{Lexer, Token, TokenKind};
use crate::span::Span;

/// Deepest bracket nesting accepted; deeper input is rejected before pest sees it, which bounds
/// the recursion of every later pass.
pub const MAX_DEPTH: usize = 64;

/// Keywords that start a top-level declaration.
pub const ITEM_KEYWORDS: &[&str] = &[
    "import", "schema", "secret", "profile", "step", "builtin", "pipeline",
];

/// Words that start a declaration only outside every bracket: elsewhere they are names.
pub const TOP_LEVEL_WORDS: &[&str] = &["build", "config", "volume"];

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

fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

/// The scanner's state within the current declaration.
struct Scanner<'a> {
    text: &'a str,
    out: Split,
    /// Where the current declaration starts.
    chunk_start: usize,
    /// The open delimiters of the current declaration, with their offsets.
    stack: Vec<(char, usize)>,
    /// The first structural problem of the current declaration.
    problem: Option<Problem>,
}

/// Scans `text` into chunks and comments.
///
/// One pass over the bytes that follows the lexer's rules for exactly what the cut needs:
/// newlines, comments, strings, names at the start of a line and delimiters; every other byte
/// is a token that is not trivia. [`split_by_tokens`] is the same scan over [`Lexer`]'s
/// tokens, slower; the equivalence tests hold the two to the same result.
pub fn split(text: &str) -> Split {
    let b = text.as_bytes();
    let mut scanner = Scanner::new(text);
    let mut i = 0;
    // Whether only trivia came since the last newline (the lexer's `first_on_line`).
    let mut line_start = true;
    loop {
        if !line_start {
            // Past the first token of a line only newlines, comments, strings and delimiters
            // matter.
            i = b[i..]
                .iter()
                .position(|&c| MATTERS_MID_LINE[c as usize])
                .map_or(b.len(), |p| i + p);
        }
        let Some(&c) = b.get(i) else { break };
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = find_byte(b, i + 2, b'\n');
                scanner.comment(TokenKind::LineComment, Span::new(i, end));
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (terminated, end) = match text[i + 2..].find("*/") {
                    Some(p) => (true, i + 2 + p + 2),
                    None => (false, b.len()),
                };
                scanner.comment(TokenKind::BlockComment { terminated }, Span::new(i, end));
                i = end;
            }
            b'"' => {
                let (terminated, end) = string_end(b, i);
                if !terminated {
                    scanner.report(Problem::UnterminatedString(Span::new(i, end)));
                }
                line_start = false;
                i = end;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = word_end(b, i);
                if line_start {
                    scanner.cut_before(Span::new(i, end));
                }
                line_start = false;
                i = end;
            }
            b'(' | b'[' | b'{' => {
                scanner.open(c as char, i);
                line_start = false;
                i += 1;
            }
            b')' | b']' | b'}' => {
                scanner.close(c as char, i);
                line_start = false;
                i += 1;
            }
            _ => {
                line_start = false;
                i += 1;
            }
        }
    }
    scanner.finish(text.len());
    scanner.out
}

/// The bytes that can change the scan's state after the first token of a line.
static MATTERS_MID_LINE: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    let bytes = b"\n/\"()[]{}";
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// The offset of the first `byte` at or after `from`, or the end of `b`.
fn find_byte(b: &[u8], from: usize, byte: u8) -> usize {
    memchr::memchr(byte, &b[from..]).map_or(b.len(), |p| from + p)
}

/// The end of the name starting at `start`.
fn word_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .map_or(b.len(), |p| start + p)
}

/// Whether the string starting at `start` (at its quote) is terminated, and its end: after the
/// closing quote, or before the newline that ends it, or at the end of the text. A backslash
/// takes the byte after it (the later bytes of a character are never `"`, a backslash or a
/// newline, so this is the lexer's rule of taking the character).
fn string_end(b: &[u8], start: usize) -> (bool, usize) {
    let mut i = start + 1;
    while let Some(p) = b
        .get(i..)
        .and_then(|rest| memchr::memchr3(b'"', b'\n', b'\\', rest))
    {
        i += p;
        match b[i] {
            b'"' => return (true, i + 1),
            b'\n' => return (false, i),
            _ => i += 2,
        }
    }
    (false, b.len())
}

/// [`split`] over the tokens of [`Lexer`]: the reference the byte scan is tested against.
#[doc(hidden)]
pub fn split_by_tokens(text: &str) -> Split {
    let mut scanner = Scanner::new(text);
    for token in Lexer::new(text) {
        match token.kind {
            TokenKind::Newline | TokenKind::Whitespace => {}
            TokenKind::LineComment | TokenKind::BlockComment { .. } => {
                scanner.comment(token.kind, token.span)
            }
            _ => {
                if token.first_on_line && token.kind == TokenKind::Ident {
                    scanner.cut_before(token.span);
                }
                scanner.token(token);
            }
        }
    }
    scanner.finish(text.len());
    scanner.out
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            out: Split::default(),
            chunk_start: 0,
            stack: Vec::new(),
            problem: None,
        }
    }

    /// Records a comment, and the problem of a block comment without its end.
    fn comment(&mut self, kind: TokenKind, span: Span) {
        let body = &self.text[span.range()];
        let kind = match kind {
            TokenKind::BlockComment { terminated } => {
                if !terminated {
                    let at = span.start as usize;
                    self.report(Problem::UnterminatedComment(Span::new(at, at + 2)));
                }
                CommentKind::Block
            }
            _ if body.starts_with("//!") => CommentKind::ModuleDoc,
            _ if body.starts_with("///") && !body.starts_with("////") => CommentKind::Doc,
            _ => CommentKind::Line,
        };
        let text = match kind {
            CommentKind::Block => body.to_string(),
            _ => body.trim_end().to_string(),
        };
        self.out.comments.push(Comment { span, text, kind });
    }

    /// Starts a new declaration at `word` when it is a declaration keyword (the first token of
    /// its line).
    fn cut_before(&mut self, word: Span) {
        let start = word.start as usize;
        let text = &self.text[word.range()];
        let starts_item = ITEM_KEYWORDS.contains(&text)
            || (TOP_LEVEL_WORDS.contains(&text) && self.stack.is_empty());
        if starts_item && start > self.chunk_start {
            self.finish(start);
            self.chunk_start = start;
        }
    }

    /// Follows strings and delimiters.
    fn token(&mut self, token: Token) {
        let at = token.span.start as usize;
        match token.kind {
            TokenKind::Str { terminated: false } => {
                self.report(Problem::UnterminatedString(token.span));
            }
            TokenKind::Punct(open @ ('(' | '[' | '{')) => self.open(open, at),
            TokenKind::Punct(close @ (')' | ']' | '}')) => self.close(close, at),
            _ => {}
        }
    }

    /// An opening delimiter at `at`.
    fn open(&mut self, open: char, at: usize) {
        self.stack.push((open, at));
        if self.stack.len() > MAX_DEPTH {
            self.report(Problem::TooDeep(Span::new(at, at + 1)));
        }
    }

    /// A closing delimiter at `at`.
    fn close(&mut self, close: char, at: usize) {
        match self.stack.pop() {
            Some((open, _)) if closing(open) == close => {}
            innermost => self.report(Problem::Unmatched {
                close: Span::new(at, at + 1),
                delim: close,
                expected: innermost.map(|(open, _)| closing(open)),
                open: innermost.map(|(open, at)| (Span::new(at, at + 1), open)),
            }),
        }
    }

    /// Keeps the first problem of the current declaration.
    fn report(&mut self, problem: Problem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    /// Ends the current declaration at `end`.
    fn finish(&mut self, end: usize) {
        let start = self.chunk_start;
        let mut problem = self.problem.take();
        if problem.is_none() {
            // Report the innermost unclosed delimiter: the one closest to where the declaration
            // ended.
            if let Some(&(delim, at)) = self.stack.last() {
                problem = Some(Problem::Unclosed {
                    open: Span::new(at, at + 1),
                    delim,
                });
            }
        }
        self.stack.clear();
        if end > start || problem.is_some() {
            self.out.chunks.push(Chunk {
                span: Span::new(start, end),
                problem,
            });
        }
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
    fn build_cuts_only_at_the_top_level() {
        let c =
            chunks("build tag: Str = \"dev\"\npipeline p() {\n  build = make()\n}\nbuild n: Int\n");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].0, "build tag: Str = \"dev\"\n");
        assert_eq!(c[1].0, "pipeline p() {\n  build = make()\n}\n");
        assert_eq!(c[2].0, "build n: Int\n");
    }

    #[test]
    fn config_is_a_name_inside_a_declaration() {
        let c = chunks(
            "config c = k8s_configmap(\"c\", key: \"k\")\npipeline p() {\n  config = make()\n}\n",
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[1].0, "pipeline p() {\n  config = make()\n}\n");
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
