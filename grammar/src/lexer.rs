//! The tokens of `.flow` text: the one place that knows where a string, a comment, a name or a
//! delimiter begins and ends.
//!
//! Every scanner that reads text without parsing it uses this lexer: the declaration splitter
//! ([`crate::split`]), completion and signature help in the compiler (which must work on text
//! that does not parse), and the language server's scan for imports. So a string's escapes or a
//! comment's end are decided once, the same way for all of them.
//!
//! The lexer never fails and never panics: any text is a sequence of [`Token`]s that covers it
//! exactly, without gaps or overlaps, and every token's span falls on character boundaries.
//! Broken input is still tokens: a string without its closing quote ends at its line's end and a
//! block comment without `*/` at the end of the text, each marked as not terminated. Whitespace,
//! newlines and comments are tokens too (trivia), so the scanners can tell where lines start.
//!
//! The rules: a string starts at `"` and ends at the next `"` that is not escaped, or before the
//! end of its line; a backslash escapes the character after it, a newline included. `//` starts
//! a line comment (`///` a doc comment, `//!` a module doc comment) that runs to the end of its
//! line; `/*` starts a block comment that runs to the next `*/`. A name starts with an ASCII
//! letter or `_` and goes on with ASCII letters, digits and `_`; a number starts with a digit
//! and goes on with ASCII letters, digits and `.` (so `512Mi` and `1.5` are one token). `->` is
//! one token; any other character is a one-character punctuation token.

use crate::ast::{Ident, StrPart, StrParts};
use crate::span::Span;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs and carriage returns.
    Whitespace,
    /// One `\n`.
    Newline,
    /// `// ...` up to the end of the line (the newline excluded), including `///` and `//!`.
    LineComment,
    /// `/* ... */`.
    BlockComment {
        /// Whether the closing `*/` is there; if not, the comment runs to the end of the text.
        terminated: bool,
    },
    /// A string literal, quotes included.
    Str {
        /// Whether the closing quote is there; if not, the string ends before its line's end.
        terminated: bool,
    },
    /// A name or a keyword: `[A-Za-z_][A-Za-z0-9_]*`.
    Ident,
    /// A number, possibly with a unit: a digit, then ASCII letters, digits and `.`.
    Number,
    /// `->`.
    Arrow,
    /// Any other character, such as a delimiter, `:` or `=`.
    Punct(char),
}

impl TokenKind {
    /// Whether the token is whitespace, a newline or a comment.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            TokenKind::Whitespace
                | TokenKind::Newline
                | TokenKind::LineComment
                | TokenKind::BlockComment { .. }
        )
    }

    /// Whether the token is a comment.
    pub fn is_comment(self) -> bool {
        matches!(
            self,
            TokenKind::LineComment | TokenKind::BlockComment { .. }
        )
    }
}

/// A token: its kind and where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Its byte range in the text.
    pub span: Span,
    /// Whether only trivia comes before it on its line, where a line starts after a
    /// [`TokenKind::Newline`] (a newline inside a block comment or escaped in a string does not
    /// start one). A declaration keyword starts a declaration only there.
    pub first_on_line: bool,
}

/// An iterator over the tokens of a text; see the module documentation for the rules.
#[derive(Clone, Debug)]
pub struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    /// Whether no token other than trivia was seen since the last newline.
    at_line_start: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `text`.
    pub fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            text,
            pos: 0,
            at_line_start: true,
        }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let first = *bytes.get(start)?;
        let (kind, end) = match first {
            b'\n' => (TokenKind::Newline, start + 1),
            b' ' | b'\t' | b'\r' => (
                TokenKind::Whitespace,
                skip_while(bytes, start, |b| matches!(b, b' ' | b'\t' | b'\r')),
            ),
            b'/' if bytes.get(start + 1) == Some(&b'/') => (
                TokenKind::LineComment,
                skip_while(bytes, start, |b| b != b'\n'),
            ),
            b'/' if bytes.get(start + 1) == Some(&b'*') => block_comment(self.text, start),
            b'"' => string(self.text, start),
            b'-' if bytes.get(start + 1) == Some(&b'>') => (TokenKind::Arrow, start + 2),
            b if b.is_ascii_alphabetic() || b == b'_' => (
                TokenKind::Ident,
                skip_while(bytes, start, |b| b.is_ascii_alphanumeric() || b == b'_'),
            ),
            b if b.is_ascii_digit() => (
                TokenKind::Number,
                skip_while(bytes, start, |b| b.is_ascii_alphanumeric() || b == b'.'),
            ),
            _ => {
                // One character, however many bytes it takes.
                let ch = self.text.get(start..).and_then(|rest| rest.chars().next());
                let ch = ch.unwrap_or('\u{FFFD}');
                (TokenKind::Punct(ch), start + ch.len_utf8())
            }
        };
        self.pos = end;
        let first_on_line = self.at_line_start;
        if kind == TokenKind::Newline {
            self.at_line_start = true;
        } else if !kind.is_trivia() {
            self.at_line_start = false;
        }
        Some(Token {
            kind,
            span: Span::new(start, end),
            first_on_line,
        })
    }
}

/// The tokens of `text`, trivia included.
pub fn tokenize(text: &str) -> Vec<Token> {
    Lexer::new(text).collect()
}

/// The end of the run of bytes from `start` (whose first byte is taken) that satisfy `keep`.
/// `keep` accepts only ASCII bytes or rejects only ASCII bytes, so the end is a character
/// boundary.
fn skip_while(bytes: &[u8], start: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[start + 1..]
        .iter()
        .position(|&b| !keep(b))
        .map_or(bytes.len(), |p| start + 1 + p)
}

/// A block comment starting at `start` (at `/*`).
fn block_comment(text: &str, start: usize) -> (TokenKind, usize) {
    match text[start + 2..].find("*/") {
        Some(p) => (
            TokenKind::BlockComment { terminated: true },
            start + 2 + p + 2,
        ),
        None => (TokenKind::BlockComment { terminated: false }, text.len()),
    }
}

/// A string literal starting at `start` (at its opening quote).
fn string(text: &str, start: usize) -> (TokenKind, usize) {
    let mut chars = text[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (TokenKind::Str { terminated: true }, start + 1 + i + 1),
            '\n' => return (TokenKind::Str { terminated: false }, start + 1 + i),
            '\\' => {
                // The escaped character, whatever it is, belongs to the string.
                chars.next();
            }
            _ => {}
        }
    }
    (TokenKind::Str { terminated: false }, text.len())
}

/// The value of a terminated string literal's text (quotes included), unescaped as the parser
/// reads it; `None` when `literal` is not a terminated string literal.
pub fn string_value(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut tokens = Lexer::new(literal);
    match tokens.next() {
        Some(token)
            if token.kind == (TokenKind::Str { terminated: true })
                && token.span.len() == literal.len() =>
        {
            Some(unescape(inner, 0).0)
        }
        _ => None,
    }
}

/// Unescapes a string literal's inside and splits out `${name}` interpolations.
/// `start` is the byte offset of `raw` in the file, for the spans of interpolated names.
pub(crate) fn unescape(raw: &str, start: usize) -> (String, StrParts) {
    // Most strings have neither escapes nor interpolations: their value is their text, their
    // one part the same text.
    if !raw.bytes().any(|b| b == b'\\' || b == b'$') {
        let parts = match raw.is_empty() {
            true => StrParts::default(),
            false => StrParts::one(StrPart::Text(raw.to_string())),
        };
        return (raw.to_string(), parts);
    }
    let mut value = String::new();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let ch = match e {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'u' => {
                        let mut hex = String::new();
                        for (_, h) in chars.by_ref() {
                            if h == '}' {
                                break;
                            }
                            if h != '{' {
                                hex.push(h);
                            }
                        }
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('\u{FFFD}')
                    }
                    other => other,
                };
                value.push(ch);
                text.push(ch);
            }
            '$' if chars.peek().map(|(_, c)| *c) == Some('{') => {
                if let Some((part, skip)) = interpolation(&raw[i + 2..], start + i + 2) {
                    if !text.is_empty() {
                        parts.push(StrPart::Text(std::mem::take(&mut text)));
                    }
                    parts.push(part);
                    value.push_str(&raw[i..i + 2 + skip]);
                    // Skip `{`, the name and `}`.
                    for _ in 0..skip + 1 {
                        chars.next();
                    }
                } else {
                    value.push('$');
                    text.push('$');
                }
            }
            c => {
                value.push(c);
                text.push(c);
            }
        }
    }
    if !text.is_empty() {
        parts.push(StrPart::Text(text));
    }
    (value, parts.into())
}

/// The interpolation at the start of `rest` (the text after `${`): `name}`, `call.output}` or
/// `build.name}`,
/// with how many bytes it takes, the `}` included. `at` is the offset of `rest` in the file.
fn interpolation(rest: &str, at: usize) -> Option<(StrPart, usize)> {
    let (prefix, build) = match rest.strip_prefix("build.") {
        Some(_) => ("build.".len(), true),
        None => (0, false),
    };
    let name_text = &rest[prefix..];
    // `name` or, outside `build.`, a dotted path `call.output`.
    let mut names: Vec<Ident> = Vec::new();
    let mut len = 0;
    loop {
        let piece = &name_text[len..];
        let n = piece
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(piece.len());
        if n == 0 {
            return None;
        }
        names.push(Ident {
            name: piece[..n].to_string(),
            span: Span::new(at + prefix + len, at + prefix + len + n),
        });
        len += n;
        if !build && name_text[len..].starts_with('.') {
            len += 1;
            continue;
        }
        break;
    }
    if !name_text[len..].starts_with('}') {
        return None;
    }
    let part = match (build, names.len()) {
        (true, _) => StrPart::Build(Box::new(names.swap_remove(0))),
        (false, 1) => StrPart::Var(names.swap_remove(0)),
        (false, _) => StrPart::Path(names),
    };
    Some((part, prefix + len + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens of `text` as (kind, text) pairs, trivia left out.
    fn tokens(text: &str) -> Vec<(TokenKind, &str)> {
        tokenize(text)
            .into_iter()
            .filter(|t| !matches!(t.kind, TokenKind::Whitespace | TokenKind::Newline))
            .map(|t| (t.kind, &text[t.span.range()]))
            .collect()
    }

    #[test]
    fn names_numbers_arrows_and_punctuation() {
        use TokenKind::*;
        assert_eq!(
            tokens("step s_1(a: Int) -> (o: File) { x = 512Mi + 1.5 }"),
            vec![
                (Ident, "step"),
                (Ident, "s_1"),
                (Punct('('), "("),
                (Ident, "a"),
                (Punct(':'), ":"),
                (Ident, "Int"),
                (Punct(')'), ")"),
                (Arrow, "->"),
                (Punct('('), "("),
                (Ident, "o"),
                (Punct(':'), ":"),
                (Ident, "File"),
                (Punct(')'), ")"),
                (Punct('{'), "{"),
                (Ident, "x"),
                (Punct('='), "="),
                (Number, "512Mi"),
                (Punct('+'), "+"),
                (Number, "1.5"),
                (Punct('}'), "}"),
            ]
        );
        assert_eq!(tokens("é_x"), vec![(Punct('é'), "é"), (Ident, "_x")]);
    }

    #[test]
    fn strings_with_escapes_and_without_an_end() {
        let closed = TokenKind::Str { terminated: true };
        let open = TokenKind::Str { terminated: false };
        assert_eq!(
            tokens(r#""a\"b" x"#),
            vec![(closed, r#""a\"b""#), (TokenKind::Ident, "x")]
        );
        assert_eq!(
            tokens("\"ab\ncd"),
            vec![(open, "\"ab"), (TokenKind::Ident, "cd")]
        );
        assert_eq!(tokens("\"a\\\nb\""), vec![(closed, "\"a\\\nb\"")]);
        assert_eq!(tokens("\"a\\é\""), vec![(closed, "\"a\\é\"")]);
        assert_eq!(tokens("\"a\\"), vec![(open, "\"a\\")]);
        assert_eq!(
            tokens("\"// not a comment\""),
            vec![(closed, "\"// not a comment\"")]
        );
    }

    #[test]
    fn comments_of_every_kind() {
        use TokenKind::*;
        let closed = BlockComment { terminated: true };
        assert_eq!(
            tokens("a // x \"y\n/// doc\n//! mod\n/* b\n */ c /* open"),
            vec![
                (Ident, "a"),
                (LineComment, "// x \"y"),
                (LineComment, "/// doc"),
                (LineComment, "//! mod"),
                (closed, "/* b\n */"),
                (Ident, "c"),
                (BlockComment { terminated: false }, "/* open"),
            ]
        );
        assert_eq!(tokens("/**/"), vec![(closed, "/**/")]);
        assert_eq!(
            tokens("/*/"),
            vec![(BlockComment { terminated: false }, "/*/")]
        );
    }

    #[test]
    fn first_tokens_of_lines() {
        let text = "a b\n  /* c\n */ d \"e\\\nf\" g\n// h\ni";
        let first: Vec<&str> = tokenize(text)
            .into_iter()
            .filter(|t| t.first_on_line && !t.kind.is_trivia())
            .map(|t| &text[t.span.range()])
            .collect();
        assert_eq!(first, ["a", "d", "i"]);
    }

    #[test]
    fn string_values_are_unescaped_as_the_parser_reads_them() {
        assert_eq!(
            string_value(r#""a\"b\n\u{e9}""#).as_deref(),
            Some("a\"b\né")
        );
        assert_eq!(string_value(r#""${x}/y""#).as_deref(), Some("${x}/y"));
        assert_eq!(string_value("\"open"), None);
        assert_eq!(string_value(r#""a" "b""#), None);
        assert_eq!(string_value("x"), None);
    }

    #[test]
    fn build_variables_are_their_own_interpolation() {
        let (value, parts) = unescape("img:${build.tag}-${x}${build.}", 10);
        assert_eq!(value, "img:${build.tag}-${x}${build.}");
        let tag = Ident {
            name: "tag".into(),
            span: Span::new(22, 25),
        };
        let x = Ident {
            name: "x".into(),
            span: Span::new(29, 30),
        };
        assert_eq!(
            parts,
            vec![
                StrPart::Text("img:".into()),
                StrPart::Build(Box::new(tag)),
                StrPart::Text("-".into()),
                StrPart::Var(x),
                StrPart::Text("${build.}".into()),
            ]
        );
    }

    #[test]
    fn a_dotted_interpolation_is_a_path_and_a_broken_one_is_text() {
        let (value, parts) = unescape("${f.side}!${a.}${b..c}", 0);
        assert_eq!(value, "${f.side}!${a.}${b..c}");
        let f = Ident {
            name: "f".into(),
            span: Span::new(2, 3),
        };
        let side = Ident {
            name: "side".into(),
            span: Span::new(4, 8),
        };
        assert_eq!(
            parts,
            vec![
                StrPart::Path(vec![f, side]),
                StrPart::Text("!${a.}${b..c}".into()),
            ]
        );
    }

    /// A small seeded generator (xorshift), so the random inputs are the same on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Tokens cover the text exactly, in order, on character boundaries, and none is empty.
    fn assert_covers(text: &str) {
        let mut at = 0;
        for t in Lexer::new(text) {
            assert_eq!(t.span.start as usize, at, "gap or overlap in {text:?}");
            assert!(t.span.end > t.span.start, "empty token in {text:?}");
            assert!(text.is_char_boundary(t.span.end as usize), "{text:?}");
            at = t.span.end as usize;
        }
        assert_eq!(at, text.len(), "tokens stop short in {text:?}");
    }

    #[test]
    fn any_text_is_covered_by_tokens() {
        // Bytes biased towards the characters the rules treat specially.
        const SPECIAL: &[u8] = b"\"\\/*\n\r\t -> ({[]}):=.0aZ_";
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let len = (rng.next() % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match rng.next() % 3 {
                    0 => rng.next() as u8,
                    _ => SPECIAL[(rng.next() % SPECIAL.len() as u64) as usize],
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            assert_covers(&text);
            for t in Lexer::new(&text) {
                let _ = string_value(&text[t.span.range()]);
            }
        }
        for text in ["", "\"", "\\", "/", "/*", "-", "é", "\"\\", "\"\\é"] {
            assert_covers(text);
        }
    }
}
