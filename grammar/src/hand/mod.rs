//! The hand-written parser of one declaration: the fast path of [`crate::parse`].
//!
//! `flow.pest` stays the specification. This parser follows it rule by rule, as a recursive
//! descent over the bytes of one chunk of [`crate::split`]: ordered choices are tried in the
//! grammar's order and committed once one matches, repetitions are greedy, and whitespace and
//! comments are skipped exactly where pest's implicit `WHITESPACE`/`COMMENT` skipping would be
//! (between the parts of a non-atomic rule, never inside an atomic one). So every node ends where
//! the pest pair ends, trivia swallowed before a missing optional part included, and its span is
//! trimmed by the same function ([`crate::span::trimmed_span`]) as the pest lowering's.
//!
//! It builds the [`crate::ast`] nodes directly, the same nodes the lowering of pest's pairs
//! builds, with the same number errors in the same order and the same `${build.x}` reads. It
//! never reports a syntax error: when a declaration does not parse, [`parse_decl`] returns
//! `None` and the caller parses that declaration again with pest, so every syntax error keeps
//! pest's location and wording. Nothing is recorded on a path that backs off: errors and build
//! references are cut back with the position ([`Hand::attempt`]).
//!
//! The split bounds bracket nesting; type nesting (`List<List<...>>`) and `else if` chains have
//! no brackets, so past [`MAX_NESTING`] the parser gives the declaration to pest.

mod exprs;
mod items;
mod props;
mod stmts;
mod types;

use crate::ast::{Ident, Item, StrLit};
use crate::lexer::unescape;
use crate::span::{trimmed_span, Span};

/// Deepest nesting of types and of `else if` the hand parser follows before it hands the
/// declaration to pest.
pub(crate) const MAX_NESTING: u32 = 100;

/// What the hand parser made of one declaration.
pub(crate) struct Decl {
    /// The declaration; none for a chunk of only whitespace and comments.
    pub item: Option<Item>,
    /// The spans of the numbers out of range, in the order the pest lowering reports them.
    pub number_errors: Vec<Span>,
    /// Every `${build.name}` read in the declaration's strings, in order.
    pub build_refs: Vec<Ident>,
}

/// Parses the declaration `chunk` of `text`; `None` when it does not parse (or nests deeper
/// than [`MAX_NESTING`]). `comment_starts` is the parser's table of comment ends and starts.
pub(crate) fn parse_decl(text: &str, comment_starts: &[(u32, u32)], chunk: Span) -> Option<Decl> {
    let mut p = Hand {
        text,
        b: text.as_bytes(),
        end: (chunk.end as usize).min(text.len()),
        pos: chunk.start as usize,
        comment_starts,
        errors: Vec::new(),
        refs: Vec::new(),
        depth: 0,
        bail: false,
    };
    // item_eoi = { SOI ~ item? ~ EOI }
    p.skip();
    let item = if p.pos == p.end {
        None
    } else {
        Some(p.item()?)
    };
    p.skip();
    if p.pos != p.end || p.bail {
        return None;
    }
    Some(Decl {
        item,
        number_errors: p.errors,
        build_refs: p.refs,
    })
}

/// `v` in an allocation of its own length when it is small and has room to spare: the tree keeps
/// only what it holds, and the spare block goes back to the allocator, which hands it to the
/// next list of the same kind (a list grown from four to sixteen entries for nine otherwise
/// keeps the memory of sixteen, and every declaration touches fresh pages for the slack). A
/// large vector keeps its block: the pages of its unused end are never touched.
pub(crate) fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    const SMALL: usize = 4096;
    if v.len() == v.capacity() || v.capacity() * std::mem::size_of::<T>() > SMALL {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    out.append(&mut v);
    out
}

/// The parser's state within one chunk.
pub(crate) struct Hand<'a> {
    /// The whole file (spans are offsets into it).
    text: &'a str,
    b: &'a [u8],
    /// The end of the chunk: the end of input for every rule.
    end: usize,
    pos: usize,
    comment_starts: &'a [(u32, u32)],
    errors: Vec<Span>,
    refs: Vec<Ident>,
    /// Current nesting of types and `else if`.
    depth: u32,
    /// Set when nesting went past [`MAX_NESTING`]: the result is not used.
    bail: bool,
}

/// `ident_char = _{ ASCII_ALPHANUMERIC | "_" }`.
fn is_ident_char(c: u8) -> bool {
    IDENT_CHAR[c as usize]
}

/// [`is_ident_char`] of every byte: one load a byte in the scan of a name, the hottest loop of
/// the parser (every name and keyword of a file), instead of three range tests.
static IDENT_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_';
        c += 1;
    }
    table
};

/// The words of the grammar's `keyword` rule, which are never names.
fn is_reserved(word: &[u8]) -> bool {
    matches!(
        word,
        b"after"
            | b"and"
            | b"as"
            | b"builtin"
            | b"check"
            | b"defaults"
            | b"else"
            | b"extends"
            | b"false"
            | b"finally"
            | b"for"
            | b"if"
            | b"import"
            | b"in"
            | b"none"
            | b"not"
            | b"or"
            | b"output"
            | b"pipeline"
            | b"profile"
            | b"schema"
            | b"secret"
            | b"step"
            | b"true"
            | b"with"
    )
}

impl<'a> Hand<'a> {
    /// The byte at `i`, or 0 past the end of the chunk.
    fn byte(&self, i: usize) -> u8 {
        if i < self.end {
            self.b[i]
        } else {
            0
        }
    }

    fn peek(&self) -> u8 {
        self.byte(self.pos)
    }

    /// Takes the byte `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        if self.pos < self.end && self.b[self.pos] == c {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Takes the literal `s` if it is next.
    fn lit(&mut self, s: &str) -> bool {
        let n = s.len();
        if self.end - self.pos >= n && &self.b[self.pos..self.pos + n] == s.as_bytes() {
            self.pos += n;
            true
        } else {
            false
        }
    }

    /// The end of the run of name characters from `i`.
    fn word_end(&self, i: usize) -> usize {
        let rest = &self.b[i.min(self.end)..self.end];
        i + rest
            .iter()
            .position(|&c| !is_ident_char(c))
            .unwrap_or(rest.len())
    }

    /// The run of name characters at the position (empty when none).
    fn next_word(&self) -> &'a [u8] {
        let b: &'a [u8] = self.b;
        &b[self.pos..self.word_end(self.pos)]
    }

    /// `&kw_w ~ "w"`: takes `w` if it is next as a whole word.
    fn word(&mut self, w: &str) -> bool {
        if self.next_word() == w.as_bytes() {
            self.pos += w.len();
            true
        } else {
            false
        }
    }

    /// pest's implicit skipping: `WHITESPACE` (space, `\t` to `\r`) and complete comments.
    #[inline]
    fn skip(&mut self) {
        // Most calls have nothing to skip.
        if self.pos < self.end && matches!(self.b[self.pos], b' ' | b'\t'..=b'\r' | b'/') {
            self.skip_trivia();
        }
    }

    /// [`Self::skip`] from a space or a `/`.
    fn skip_trivia(&mut self) {
        loop {
            while self.pos < self.end && matches!(self.b[self.pos], b' ' | b'\t'..=b'\r') {
                self.pos += 1;
            }
            if self.pos + 1 >= self.end || self.b[self.pos] != b'/' {
                return;
            }
            let body = &self.b[self.pos + 2..self.end];
            match self.b[self.pos + 1] {
                b'/' => {
                    self.pos = body
                        .iter()
                        .position(|&c| c == b'\n')
                        .map_or(self.end, |p| self.pos + 2 + p);
                }
                b'*' => match body.windows(2).position(|w| w == b"*/") {
                    Some(p) => self.pos += 2 + p + 2,
                    None => return,
                },
                _ => return,
            }
        }
    }

    /// Runs `f`; when it fails, puts the position, errors and build references back.
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let (pos, errors, refs) = (self.pos, self.errors.len(), self.refs.len());
        let r = f(self);
        if r.is_none() {
            self.pos = pos;
            self.errors.truncate(errors);
            self.refs.truncate(refs);
        }
        r
    }

    /// `e*` inside a sequence (which has skipped before it): the first `e` at once, each later
    /// one after a skip; the first that fails is backed off, skip included.
    fn many<T>(&mut self, out: &mut Vec<T>, mut f: impl FnMut(&mut Self) -> Option<T>) {
        match self.attempt(&mut f) {
            Some(x) => out.push(x),
            None => return,
        }
        while let Some(x) = self.attempt(|p| {
            p.skip();
            f(p)
        }) {
            out.push(x);
        }
    }

    /// `e ~ ("," ~ e)*`: one or more, comma-separated, no trailing comma.
    fn comma_list<T>(&mut self, mut f: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let first = f(self)?;
        // Most lists are short: one allocation instead of growing from one.
        let mut out = Vec::with_capacity(4);
        out.push(first);
        self.skip();
        self.many(&mut out, |p| {
            if !p.eat(b',') {
                return None;
            }
            p.skip();
            f(p)
        });
        Some(exact(out))
    }

    /// `open ~ (e ~ ("," ~ e)* ~ ","?)? ~ close`.
    fn delimited<T>(
        &mut self,
        open: u8,
        close: u8,
        mut f: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        if !self.eat(open) {
            return None;
        }
        self.skip();
        let out = self
            .attempt(|p| {
                let out = p.comma_list(&mut f)?;
                p.skip();
                p.eat(b',');
                Some(out)
            })
            .unwrap_or_default();
        self.skip();
        self.eat(close).then_some(out)
    }

    /// The span of a rule that started at `start` and ends at the position, trimmed as the
    /// pest lowering trims it.
    fn span(&self, start: usize) -> Span {
        trimmed_span(self.text, self.comment_starts, start, self.pos)
    }

    /// `ident`: a name that is not a keyword.
    fn ident(&mut self) -> Option<Ident> {
        let c = self.peek();
        if !(c.is_ascii_alphabetic() || c == b'_') {
            return None;
        }
        let start = self.pos;
        let e = self.word_end(start);
        if is_reserved(&self.b[start..e]) {
            return None;
        }
        self.pos = e;
        Some(Ident {
            name: self.text[start..e].to_string(),
            span: Span::new(start, e),
        })
    }

    /// The end of the `string` starting at `i` (at its quote), escapes checked.
    fn string_end(&self, i: usize) -> Option<usize> {
        if self.byte(i) != b'"' {
            return None;
        }
        let mut i = i + 1;
        loop {
            if i >= self.end {
                return None;
            }
            match self.b[i] {
                b'"' => return Some(i + 1),
                b'\n' => return None,
                b'\\' => match self.byte(i + 1) {
                    b'"' | b'\\' | b'n' | b't' | b'r' | b'$' => i += 2,
                    b'u' if self.byte(i + 2) == b'{' => {
                        let hex = i + 3;
                        let mut j = hex;
                        while j - hex < 6 && self.byte(j).is_ascii_hexdigit() {
                            j += 1;
                        }
                        if j == hex || self.byte(j) != b'}' {
                            return None;
                        }
                        i = j + 1;
                    }
                    _ => return None,
                },
                _ => i += 1,
            }
        }
    }

    /// `string`, unescaped, its build variables recorded.
    fn string(&mut self) -> Option<StrLit> {
        let start = self.pos;
        let end = self.string_end(start)?;
        self.pos = end;
        let (value, parts) = unescape(&self.text[start + 1..end - 1], start + 1);
        let s = StrLit {
            value,
            parts,
            span: Span::new(start, end),
        };
        self.refs.extend(s.build_vars().cloned());
        Some(s)
    }

    /// Records a number out of range at `span`.
    fn number_error(&mut self, span: Span) {
        self.errors.push(span);
    }

    /// Runs `f` one level of type or `else if` nesting deeper; past [`MAX_NESTING`] it fails
    /// and the result is given up (the declaration goes to pest).
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.depth += 1;
        let r = if self.depth > MAX_NESTING {
            self.bail = true;
            None
        } else {
            f(self)
        };
        self.depth -= 1;
        r
    }
}
