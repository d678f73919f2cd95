//! Level codes of a categorical column in the width they are held in.
//!
//! A column's codes are read where they lie, one byte a row for up to 256 levels (a polars
//! `Enum`'s physical codes, or a caller's translated copy), two bytes for up to 65,536, four
//! beyond: [`Codes`] borrows a slice of `u8`, `u16` or `u32`, so no caller widens a column to
//! `u32` (four times the memory of one-byte codes) just to hand it to a kernel. The hot loops
//! ([`crate::cells`]) are generic over the width ([`Code`]); the others read codes as `u32`
//! through [`Codes::iter`] and [`Codes::at`].

/// A code width a kernel reads directly: `u8`, `u16` or `u32`.
pub trait Code: Copy + Send + Sync + 'static {
    /// The code as a `u32`.
    fn widen(self) -> u32;
}

impl Code for u8 {
    #[inline(always)]
    fn widen(self) -> u32 {
        u32::from(self)
    }
}

impl Code for u16 {
    #[inline(always)]
    fn widen(self) -> u32 {
        u32::from(self)
    }
}

impl Code for u32 {
    #[inline(always)]
    fn widen(self) -> u32 {
        self
    }
}

/// One level code per row, borrowed in its own width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes<'a> {
    /// One byte a row.
    U8(&'a [u8]),
    /// Two bytes a row.
    U16(&'a [u16]),
    /// Four bytes a row.
    U32(&'a [u32]),
}

impl<'a> Codes<'a> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Codes::U8(c) => c.len(),
            Codes::U16(c) => c.len(),
            Codes::U32(c) => c.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of `row`, if there is such a row.
    pub fn get(&self, row: usize) -> Option<u32> {
        match self {
            Codes::U8(c) => c.get(row).map(|&x| u32::from(x)),
            Codes::U16(c) => c.get(row).map(|&x| u32::from(x)),
            Codes::U32(c) => c.get(row).copied(),
        }
    }

    /// The code of `row`, which must exist (as indexing a slice).
    #[inline]
    pub(crate) fn at(&self, row: usize) -> u32 {
        match self {
            Codes::U8(c) => u32::from(c[row]),
            Codes::U16(c) => u32::from(c[row]),
            Codes::U32(c) => c[row],
        }
    }

    /// The codes in row order, as `u32`.
    pub fn iter(&self) -> CodesIter<'a> {
        match *self {
            Codes::U8(c) => CodesIter::U8(c.iter()),
            Codes::U16(c) => CodesIter::U16(c.iter()),
            Codes::U32(c) => CodesIter::U32(c.iter()),
        }
    }

    /// The codes of rows `start..end` (which must exist, as slicing a slice).
    pub(crate) fn slice(&self, start: usize, end: usize) -> Codes<'a> {
        match *self {
            Codes::U8(c) => Codes::U8(&c[start..end]),
            Codes::U16(c) => Codes::U16(&c[start..end]),
            Codes::U32(c) => Codes::U32(&c[start..end]),
        }
    }

    /// The codes as an owned `u32` column.
    pub fn to_u32_vec(&self) -> Vec<u32> {
        self.iter().collect()
    }

    /// The first row in `start..end` whose code is `n` or more, if any.
    pub(crate) fn first_at_least(&self, start: usize, end: usize, n: u64) -> Option<usize> {
        fn find<T: Code>(c: &[T], start: usize, end: usize, n: u64) -> Option<usize> {
            let block = c.get(start..end)?;
            block
                .iter()
                .position(|&x| u64::from(x.widen()) >= n)
                .map(|offset| start + offset)
        }
        match self {
            Codes::U8(c) => find(c, start, end, n),
            Codes::U16(c) => find(c, start, end, n),
            Codes::U32(c) => find(c, start, end, n),
        }
    }
}

/// The codes of a [`Codes`] in row order, as `u32`.
#[derive(Debug, Clone)]
pub enum CodesIter<'a> {
    /// Over one-byte codes.
    U8(std::slice::Iter<'a, u8>),
    /// Over two-byte codes.
    U16(std::slice::Iter<'a, u16>),
    /// Over four-byte codes.
    U32(std::slice::Iter<'a, u32>),
}

impl Iterator for CodesIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            CodesIter::U8(i) => i.next().map(|&x| u32::from(x)),
            CodesIter::U16(i) => i.next().map(|&x| u32::from(x)),
            CodesIter::U32(i) => i.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            CodesIter::U8(i) => i.size_hint(),
            CodesIter::U16(i) => i.size_hint(),
            CodesIter::U32(i) => i.size_hint(),
        }
    }
}

impl ExactSizeIterator for CodesIter<'_> {}

impl<'a> IntoIterator for Codes<'a> {
    type Item = u32;
    type IntoIter = CodesIter<'a>;

    fn into_iter(self) -> CodesIter<'a> {
        self.iter()
    }
}

macro_rules! codes_from {
    ($t:ty, $variant:ident) => {
        impl<'a> From<&'a [$t]> for Codes<'a> {
            fn from(c: &'a [$t]) -> Self {
                Codes::$variant(c)
            }
        }

        impl<'a> From<&'a Vec<$t>> for Codes<'a> {
            fn from(c: &'a Vec<$t>) -> Self {
                Codes::$variant(c.as_slice())
            }
        }

        impl<'a, const N: usize> From<&'a [$t; N]> for Codes<'a> {
            fn from(c: &'a [$t; N]) -> Self {
                Codes::$variant(c.as_slice())
            }
        }
    };
}

codes_from!(u8, U8);
codes_from!(u16, U16);
codes_from!(u32, U32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_width_reads_the_same_codes() {
        let wide: Vec<u32> = vec![3, 0, 2, 1, 3];
        let byte: Vec<u8> = wide.iter().map(|&c| c as u8).collect();
        let half: Vec<u16> = wide.iter().map(|&c| c as u16).collect();
        for codes in [Codes::from(&wide), Codes::from(&byte), Codes::from(&half)] {
            assert_eq!(codes.len(), 5);
            assert_eq!(codes.to_u32_vec(), wide);
            assert_eq!(codes.iter().len(), 5);
            assert_eq!(codes.get(2), Some(2));
            assert_eq!(codes.get(5), None);
            assert_eq!(codes.at(4), 3);
            assert_eq!(codes.slice(1, 3).to_u32_vec(), [0, 2]);
            assert_eq!(codes.first_at_least(0, 5, 3), Some(0));
            assert_eq!(codes.first_at_least(1, 5, 3), Some(4));
            assert_eq!(codes.first_at_least(1, 4, 3), None);
            assert_eq!(codes.first_at_least(4, 9, 0), None, "a range past the end");
        }
    }
}
