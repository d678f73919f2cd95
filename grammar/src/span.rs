//! Byte ranges into one source file.
//!
//! Spans are byte offsets (`u32`) into the text the parser was given. Line and column numbers
//! (and UTF-16 positions for the LSP) are computed only at the edges, from a [`LineIndex`].

use std::ops::Range;

/// A half-open byte range `start..end` in one source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: clamp_u32(start),
            end: clamp_u32(end.max(start)),
        }
    }

    /// An empty span at `offset`.
    pub fn empty(offset: usize) -> Span {
        Span::new(offset, offset)
    }

    /// The smallest span covering both `self` and `other`.
    pub fn cover(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The range as `usize` offsets, for slicing.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no byte.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    /// Whether `offset` lies inside the span (an offset equal to `end` counts, for cursors).
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
}

/// The span `start..end` without the whitespace and comments pest may include at its end (a
/// rule ending in an optional part swallows the trivia before it). `comment_starts` holds the
/// (end, start) of every comment, sorted by end.
pub(crate) fn trimmed_span(
    text: &str,
    comment_starts: &[(u32, u32)],
    start: usize,
    end: usize,
) -> Span {
    let bytes = text.as_bytes();
    let mut end = end;
    loop {
        while end > start && bytes[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        let found = comment_starts
            .binary_search_by_key(&(end as u32), |&(e, _)| e)
            .ok()
            .map(|i| comment_starts[i].1 as usize);
        match found {
            Some(cs) if cs >= start && cs < end => end = cs,
            _ => break,
        }
    }
    Span::new(start, end)
}

fn clamp_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Maps byte offsets to 0-based line and column numbers.
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

/// A 0-based line and a 0-based column counted in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 0-based line number.
    pub line: u32,
    /// 0-based byte column.
    pub col: u32,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| clamp_u32(i + 1)));
        LineIndex {
            line_starts,
            len: clamp_u32(text.len()),
        }
    }

    /// The line and byte column of `offset` (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.len);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        LineCol {
            line: line as u32,
            col: offset - self.line_starts[line],
        }
    }

    /// The byte offset of a line and byte column, clamped to the text.
    pub fn offset(&self, lc: LineCol) -> u32 {
        let Some(&start) = self.line_starts.get(lc.line as usize) else {
            return self.len;
        };
        let next = self
            .line_starts
            .get(lc.line as usize + 1)
            .copied()
            .unwrap_or(self.len);
        (start + lc.col).min(next.max(start)).min(self.len)
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset where line `line` starts.
    pub fn line_start(&self, line: u32) -> Option<u32> {
        self.line_starts.get(line as usize).copied()
    }
}
