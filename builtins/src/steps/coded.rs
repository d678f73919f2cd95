//! Categorical columns as level codes for the survey kernels, in the narrowest width that
//! holds their levels.
//!
//! A column held as an `Enum` (the synthetic panels') is read through its own physical codes,
//! not copied; a text column (`Str`, or `Int` and `Bool` taken as text) is coded once per row
//! through a hash table of its distinct values ([`Raw`]). Coding it with a dictionary (the
//! targets' levels, or the sorted distinct values) gives one code per row in one byte when
//! there are at most 256 levels, two up to 65,536, else four ([`CodeVec`]): at 10,000,000
//! rows, 10 MB a variable instead of the 40 MB of `u32` codes, and the kernels read them as
//! they are ([`flowc_survey::Codes`]). The codes are the same numbers whatever their width,
//! so no result depends on it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use flowc_runtime::builtin::BuiltinError;
use flowc_survey::Codes;
use polars::prelude::*;

use super::{labels, no_nulls};
use crate::call::Call;
use crate::error::{err, COLUMN_ROLE};

/// A column's codes as they are: an `Enum`'s physical codes (shared with the table), or the
/// codes of a text column's distinct values.
enum RawCodes {
    U8(UInt8Chunked),
    U16(UInt16Chunked),
    U32(Vec<u32>),
}

/// A categorical column as it is: `labels[codes[row]]` is the row's value.
pub(super) struct Raw {
    codes: RawCodes,
    pub(super) labels: Vec<String>,
}

impl Raw {
    /// Calls `f` with each row's code, in row order.
    pub(super) fn each(&self, mut f: impl FnMut(u32)) {
        match &self.codes {
            RawCodes::U8(ca) => ca
                .downcast_iter()
                .for_each(|a| a.values().iter().for_each(|&c| f(u32::from(c)))),
            RawCodes::U16(ca) => ca
                .downcast_iter()
                .for_each(|a| a.values().iter().for_each(|&c| f(u32::from(c)))),
            RawCodes::U32(v) => v.iter().for_each(|&c| f(c)),
        }
    }

    /// Each row's value, in row order.
    pub(super) fn values(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.each(|c| out.push(self.labels[c as usize].clone()));
        out
    }

    /// Whether each label occurs in some row.
    pub(super) fn present(&self) -> Vec<bool> {
        let mut seen = vec![false; self.labels.len()];
        self.each(|c| seen[c as usize] = true);
        seen
    }
}

/// FNV-1a, a fast hash for the few short labels of a categorical column (the keys are the
/// column's own values; the table's order never reaches the output).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// A categorical column (`Str` as `String` or `Enum`, `Int`, `Bool`; no nulls) as codes into its
/// labels: an `Enum`'s own codes and labels, or a text column's distinct values in order of
/// appearance.
pub(super) fn raw_codes(
    call: &Call<'_>,
    col: &Column,
    role: &str,
    table: &str,
) -> Result<Raw, BuiltinError> {
    let fail = |e: PolarsError| err(COLUMN_ROLE, format!("{}: {e}", call.step));
    if let DataType::Enum(fcats, _) = col.dtype() {
        no_nulls(call, col, role, table)?;
        let ids = col.to_physical_repr();
        let codes = match ids.dtype() {
            DataType::UInt8 => RawCodes::U8(ids.u8().map_err(fail)?.clone()),
            DataType::UInt16 => RawCodes::U16(ids.u16().map_err(fail)?.clone()),
            _ => RawCodes::U32(
                ids.cast(&DataType::UInt32)
                    .map_err(fail)?
                    .u32()
                    .map_err(fail)?
                    .into_no_null_iter()
                    .collect(),
            ),
        };
        let labels = fcats
            .categories()
            .values_iter()
            .map(str::to_string)
            .collect();
        return Ok(Raw { codes, labels });
    }
    let text = labels(call, col, role, table)?;
    let mut index: FastMap<&str, u32> = FastMap::default();
    let mut names: Vec<&str> = Vec::new();
    let mut codes = Vec::with_capacity(text.len());
    for arr in text.downcast_iter() {
        for v in arr.values_iter() {
            let next = names.len() as u32;
            let c = *index.entry(v).or_insert_with(|| {
                names.push(v);
                next
            });
            codes.push(c);
        }
    }
    Ok(Raw {
        codes: RawCodes::U32(codes),
        labels: names.into_iter().map(str::to_string).collect(),
    })
}

/// Owned level codes, one per row, in the narrowest width that holds the level count.
pub(super) enum CodeVec {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl CodeVec {
    /// `n` rows of code 0.
    pub(super) fn zeros(n: usize) -> CodeVec {
        CodeVec::U8(vec![0; n])
    }

    /// The codes as the kernels read them.
    pub(super) fn as_codes(&self) -> Codes<'_> {
        match self {
            CodeVec::U8(c) => Codes::U8(c),
            CodeVec::U16(c) => Codes::U16(c),
            CodeVec::U32(c) => Codes::U32(c),
        }
    }
}

/// A code width a column is translated into (the level count fits it).
trait Narrow: Copy {
    fn narrow(level: u32) -> Self;
}

impl Narrow for u8 {
    fn narrow(level: u32) -> Self {
        level as u8
    }
}

impl Narrow for u16 {
    fn narrow(level: u32) -> Self {
        level as u16
    }
}

impl Narrow for u32 {
    fn narrow(level: u32) -> Self {
        level
    }
}

/// A categorical variable as owned codes and labels.
pub(super) struct Coded {
    pub(super) name: String,
    pub(super) codes: CodeVec,
    pub(super) labels: Vec<String>,
}

impl Coded {
    /// Codes `raw` with the dictionary `labels`, extended with its other values in order of
    /// first appearance, in one pass over the rows into codes of the narrowest width that
    /// holds every level there can be (the dictionary's and all of `raw`'s).
    pub(super) fn with_levels(name: &str, raw: Raw, labels: Vec<String>) -> Coded {
        let most = labels.len() + raw.labels.len();
        let (codes, labels) = if most <= 1 << 8 {
            let (c, l) = translate::<u8>(&raw, labels);
            (CodeVec::U8(c), l)
        } else if most <= 1 << 16 {
            let (c, l) = translate::<u16>(&raw, labels);
            (CodeVec::U16(c), l)
        } else {
            let (c, l) = translate::<u32>(&raw, labels);
            (CodeVec::U32(c), l)
        };
        Coded {
            name: name.to_string(),
            codes,
            labels,
        }
    }

    pub(super) fn label_refs(&self) -> Vec<&str> {
        self.labels.iter().map(String::as_str).collect()
    }
}

/// `raw`'s codes as codes into `labels`, extended with `raw`'s other values as they appear.
fn translate<T: Narrow>(raw: &Raw, mut labels: Vec<String>) -> (Vec<T>, Vec<String>) {
    let index: HashMap<&str, u32> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let mut level: Vec<Option<u32>> = raw
        .labels
        .iter()
        .map(|l| index.get(l.as_str()).copied())
        .collect();
    drop(index);
    let mut codes = Vec::new();
    let rows = match &raw.codes {
        RawCodes::U8(ca) => ca.len(),
        RawCodes::U16(ca) => ca.len(),
        RawCodes::U32(v) => v.len(),
    };
    codes.reserve_exact(rows);
    raw.each(|c| {
        let l = match level[c as usize] {
            Some(l) => l,
            None => {
                let l = labels.len() as u32;
                labels.push(raw.labels[c as usize].clone());
                level[c as usize] = Some(l);
                l
            }
        };
        codes.push(T::narrow(l));
    });
    (codes, labels)
}
