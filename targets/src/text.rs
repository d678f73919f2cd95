//! A target's output held as pieces of the buffers it was written into, in their order, so
//! that it can go to a file without being copied into one string first: the KFP emitter
//! writes the entries of its three large mappings into buffers of their own as it makes them
//! and merges them in sorted key order (see `kfp::write`), and for a 1,000-step pipeline that
//! merged copy is 1.26 MB of fresh memory the kernel must hand out and zero.

use std::io::{self, IoSlice, Write};
use std::ops::Range;

/// The most pieces given to one vectored write (Linux takes at most 1,024 buffers a call).
pub const WRITE_PIECES: usize = 1024;

/// Writes all of `slices` to `w`, as `Write::write_all` writes one buffer: again after a
/// partial write or an interruption, an error when nothing more is taken.
fn write_all_slices(w: &mut impl Write, mut slices: &mut [IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        match w.write_vectored(slices) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "failed to write whole buffer",
                ))
            }
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The text of a target's documents: pieces of `own` and of other buffers, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    /// The buffers: the text written in place first, then the others.
    buffers: Vec<String>,
    /// The text in order: the index of a buffer, and a range of it.
    pieces: Vec<(usize, Range<usize>)>,
    /// The length of the whole text in bytes.
    len: usize,
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        let len = text.len();
        Text {
            pieces: vec![(0, 0..len)],
            buffers: vec![text],
            len,
        }
    }
}

impl Text {
    /// The length of the text in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces of the text, in order.
    fn pieces(&self) -> impl Iterator<Item = &str> {
        (self.pieces.iter()).map(|(b, r)| self.buffers[*b].get(r.clone()).unwrap_or_default())
    }

    /// Writes the text to `w` with vectored writes of up to [`WRITE_PIECES`] pieces each: a
    /// file takes them with a few `writev` calls, without a buffer to copy them into first.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let mut pieces = self.pieces().filter(|p| !p.is_empty()).peekable();
        let mut slices = Vec::with_capacity(self.pieces.len().min(WRITE_PIECES));
        while pieces.peek().is_some() {
            slices.clear();
            slices.extend((pieces.by_ref().take(WRITE_PIECES)).map(|p| IoSlice::new(p.as_bytes())));
            write_all_slices(w, &mut slices)?;
        }
        Ok(())
    }

    /// Whether the text is `other`, byte for byte.
    pub fn is(&self, other: &str) -> bool {
        if other.len() != self.len {
            return false;
        }
        let mut rest = other.as_bytes();
        self.pieces().all(|p| match rest.split_at_checked(p.len()) {
            Some((head, tail)) if head == p.as_bytes() => {
                rest = tail;
                true
            }
            _ => false,
        })
    }

    /// The text as one string (its first buffer when that is all of it).
    pub fn into_string(mut self) -> String {
        if let [(0, r)] = &self.pieces[..] {
            if r.start == 0 && r.end == self.buffers[0].len() {
                return self.buffers.swap_remove(0);
            }
        }
        self.joined()
    }

    /// The text as one new string.
    pub fn joined(&self) -> String {
        let mut out = String::with_capacity(self.len);
        self.pieces().for_each(|p| out.push_str(p));
        out
    }
}

/// A point a [`TextBuilder`] can be taken back to.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    own: usize,
    pieces: usize,
    own_from: usize,
}

/// A [`Text`] as it is written: text written in place (`own`), with ranges of other buffers
/// placed between.
#[derive(Debug, Default)]
pub struct TextBuilder {
    /// The text written in place.
    pub own: String,
    /// The pieces so far, up to `own_from` of `own`.
    pieces: Vec<(usize, Range<usize>)>,
    /// Where the text of `own` not yet in a piece starts.
    own_from: usize,
}

impl TextBuilder {
    /// A text starting with `own`.
    pub fn new(own: String) -> TextBuilder {
        TextBuilder {
            own,
            pieces: Vec::new(),
            own_from: 0,
        }
    }

    /// Places `range` of buffer `buffer` (1 for the first of the buffers given to
    /// [`TextBuilder::finish`], and so on) after the text so far.
    pub fn place(&mut self, buffer: usize, range: Range<usize>) {
        self.close_own();
        self.pieces.push((buffer, range));
    }

    /// A point the text can be taken back to with [`TextBuilder::truncate`].
    pub fn mark(&self) -> Mark {
        Mark {
            own: self.own.len(),
            pieces: self.pieces.len(),
            own_from: self.own_from,
        }
    }

    /// Takes the text back to `mark`.
    pub fn truncate(&mut self, mark: Mark) {
        self.own.truncate(mark.own);
        self.pieces.truncate(mark.pieces);
        self.own_from = mark.own_from;
    }

    /// Ends the piece of `own` written since the last piece placed.
    fn close_own(&mut self) {
        let end = self.own.len();
        if end > self.own_from {
            self.pieces.push((0, self.own_from..end));
        }
        self.own_from = end;
    }

    /// The text, its pieces placed from `buffers`.
    pub fn finish(mut self, buffers: Vec<String>) -> Text {
        self.close_own();
        let mut all = Vec::with_capacity(buffers.len() + 1);
        all.push(self.own);
        all.extend(buffers);
        let len = self.pieces.iter().map(|(_, r)| r.len()).sum();
        Text {
            buffers: all,
            pieces: self.pieces,
            len,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_read_in_order_and_compare_with_the_whole_text() {
        let mut b = TextBuilder::new("head\n".into());
        b.place(1, 2..5);
        b.own.push_str("mid\n");
        let mark = b.mark();
        b.place(2, 0..3);
        b.own.push_str("lost");
        b.truncate(mark);
        b.place(2, 0..3);
        b.own.push_str("tail\n");
        let text = b.finish(vec!["01abc".into(), "xyz".into()]);
        let whole = "head\nabcmid\nxyztail\n";
        assert_eq!(text.len(), whole.len());
        assert!(text.is(whole));
        assert!(!text.is("head\nabcmid\nxyztail!"));
        assert!(!text.is("head"));
        let mut written = Vec::new();
        text.write_to(&mut written).unwrap();
        assert_eq!(written, whole.as_bytes());
        assert_eq!(text.joined(), whole);
        assert_eq!(text.into_string(), whole);
        // A writer that takes a few bytes a call, and more pieces than one vectored write.
        let mut b = TextBuilder::new(String::new());
        let mut whole = String::new();
        for i in 0..(2 * WRITE_PIECES + 7) {
            b.own.push_str(&format!("own {i}\n"));
            b.place(1, i % 10..i % 10 + 3);
            whole.push_str(&format!(
                "own {i}\n{}",
                &"0123456789abc"[i % 10..i % 10 + 3]
            ));
        }
        let text = b.finish(vec!["0123456789abc".into()]);
        let mut slow = Slow(Vec::new());
        text.write_to(&mut slow).unwrap();
        assert_eq!(slow.0, whole.as_bytes());
        let one = Text::from("one".to_string());
        assert!(one.is("one"));
        assert_eq!(one.into_string(), "one");
    }

    /// Takes at most five bytes of each write.
    struct Slow(Vec<u8>);

    impl Write for Slow {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(5);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
