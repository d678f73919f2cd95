//! The cell table behind raking: rows grouped by their tuple of level codes.
//!
//! Raking factors depend only on a row's cell (its tuple of level codes), so
//! the whole iterative fit runs on the cell table, whose size is bounded by
//! the product of the level counts (384 cells for 2×6×8×4), not on the rows.
//! The rows are touched twice: once to build the table ([`CellTable::build`])
//! and once to write `base weight × cell factor` ([`CellTable::apply`]).
//!
//! Three layouts exist, chosen from the level counts:
//!
//! - *power-of-two dense* (the usual case): each level count is rounded up to
//!   a power of two; if their product is at most [`DENSE_LIMIT`], a row's key
//!   is built with shifts and adds (512 keys for 2×6×8×4);
//! - *mixed-radix dense*: otherwise, if the exact product of the level counts
//!   is at most [`DENSE_LIMIT`], the key is the mixed-radix number of the
//!   codes (32-bit multiplies);
//! - *hashed*: otherwise, tuples are combined one variable at a time into
//!   dense ids assigned in order of first appearance (deterministic), and one
//!   id per row is stored.
//!
//! In the dense layouts keys are computed over blocks of rows, up to four
//! code columns per loop, which vectorises; weights are then added into four
//! interleaved accumulator tables (no store-to-load stalls between
//! neighbouring rows of the same cell). The keys are parked in the output
//! buffer, so the second pass reads one column instead of all code columns.

use std::collections::HashMap;

use crate::codes::{Code, Codes};
use crate::error::SurveyError;
use crate::input::CatVar;

/// Largest number of keys (product of the level counts, possibly rounded up
/// to powers of two) for which a dense layout is used.
pub const DENSE_LIMIT: usize = 1 << 22;
/// Rows per block in the column-wise passes.
const CHUNK: usize = 32768;
/// Largest dense table for which four interleaved accumulators are used.
const SPLIT_LIMIT: usize = 1 << 14;
/// Marks a dense key without a cell, or a row without a group.
const NONE: u32 = u32::MAX;

/// How a row finds its cell.
#[derive(Debug, Clone)]
pub(crate) enum RowMap {
    /// Mixed-radix key of the codes, then `key_to_cell[key]` (or [`NONE`]).
    Dense { radix: Radix, key_to_cell: Vec<u32> },
    /// One cell id per row; the id `n_cells` stands for a zero-weight row
    /// outside any cell.
    Explicit(Vec<u32>),
}

/// Rows grouped by cell, with the base-weight total of each cell.
#[derive(Debug, Clone)]
pub(crate) struct CellTable {
    /// `levels[v][c]`: the level of variable `v` in cell `c`.
    pub levels: Vec<Vec<u32>>,
    /// Base-weight total of each cell.
    pub base: Vec<f64>,
    /// Rows with a positive base weight in each cell (filled when statistics
    /// were requested, or when there are no base weights).
    pub positive: Vec<f64>,
    /// Whether all positive base weights are equal within every cell.
    pub uniform: bool,
    /// Whether the build pass left every row's dense key in the output
    /// buffer (as the bits of an `f64`), sparing the second pass the key
    /// computation.
    pub keys_in_out: bool,
    /// Row to cell mapping.
    pub map: RowMap,
    /// Rows with a positive base weight.
    pub n_positive: usize,
    /// Sum of the base weights.
    pub base_total: f64,
}

/// How dense keys are formed: `key = Σ_v code_v × stride_v`, with
/// `stride_v = Π_{u > v} radix_u` (last variable fastest). With `shift`, every
/// radix is a power of two (the level count rounded up), so the key is built
/// with shifts and ors, which vectorise better than 32-bit multiplies on
/// baseline x86-64.
#[derive(Debug, Clone)]
pub(crate) struct Radix {
    strides: Vec<u32>,
    radices: Vec<usize>,
    shift: bool,
    size: usize,
}

impl Radix {
    /// The power-of-two layout if it fits in `limit` keys, else the exact
    /// mixed-radix layout if that fits, else `None`.
    fn new(vars: &[CatVar<'_>], limit: usize) -> Option<Radix> {
        let pow2: Vec<usize> = vars
            .iter()
            .map(|v| v.n_levels.next_power_of_two())
            .collect();
        Self::with_radices(pow2, true, limit)
            .or_else(|| Self::with_radices(vars.iter().map(|v| v.n_levels).collect(), false, limit))
    }

    fn with_radices(radices: Vec<usize>, shift: bool, limit: usize) -> Option<Radix> {
        let mut size: usize = 1;
        let mut strides = vec![0u32; radices.len()];
        for (v, &r) in radices.iter().enumerate().rev() {
            strides[v] = u32::try_from(size).ok()?;
            size = size.checked_mul(r)?;
            if size > limit {
                return None;
            }
        }
        Some(Radix {
            strides,
            radices,
            shift,
            size,
        })
    }

    /// The level of variable `v` in `key`.
    fn level(&self, key: usize, v: usize) -> u32 {
        ((key / self.strides[v] as usize) % self.radices[v]) as u32
    }

    /// Fills `keys` with the keys of rows `start..start + keys.len()`. With
    /// `CHECK`, fails on the first out-of-range code (without it, codes must
    /// have been checked before).
    ///
    /// Variables are folded in groups of up to four per loop, so a block of
    /// keys is written once per group rather than once per variable. A group
    /// whose codes share a width is read as it is; one of mixed widths is
    /// widened to `u32` a block at a time.
    fn keys<const CHECK: bool>(
        &self,
        vars: &[CatVar<'_>],
        start: usize,
        keys: &mut [u32],
    ) -> Result<(), SurveyError> {
        let end = start + keys.len();
        let mut v = 0;
        while v < vars.len() {
            let take = (vars.len() - v).min(4);
            let group = &vars[v..v + take];
            let fold = Fold {
                levels: group.iter().map(|g| g.n_levels as u32).collect(),
                strides: &self.strides[v..v + take],
                shift: self.shift,
                start,
                first: v == 0,
            };
            let bad = match group[0].codes {
                Codes::U8(_) if group.iter().all(|g| matches!(g.codes, Codes::U8(_))) => fold
                    .run::<_, CHECK>(
                        &slices(group, |c| match c {
                            Codes::U8(c) => Some(c),
                            _ => None,
                        }),
                        keys,
                    ),
                Codes::U16(_) if group.iter().all(|g| matches!(g.codes, Codes::U16(_))) => fold
                    .run::<_, CHECK>(
                    &slices(group, |c| match c {
                        Codes::U16(c) => Some(c),
                        _ => None,
                    }),
                    keys,
                ),
                Codes::U32(_) if group.iter().all(|g| matches!(g.codes, Codes::U32(_))) => fold
                    .run::<_, CHECK>(
                    &slices(group, |c| match c {
                        Codes::U32(c) => Some(c),
                        _ => None,
                    }),
                    keys,
                ),
                _ => {
                    let wide: Vec<Vec<u32>> = group
                        .iter()
                        .map(|g| g.codes.slice(start, end).to_u32_vec())
                        .collect();
                    let wide: Vec<&[u32]> = wide.iter().map(Vec::as_slice).collect();
                    Fold { start: 0, ..fold }.run::<_, CHECK>(&wide, keys)
                }
            };
            if bad {
                for var in group {
                    let n_levels = var.n_levels as u64;
                    if let Some(row) = var.codes.first_at_least(start, end, n_levels) {
                        return Err(var.out_of_range(row));
                    }
                }
            }
            v += take;
        }
        Ok(())
    }
}

/// The code slices of a group of variables of one width (`pick` gives each one's slice).
fn slices<'a, T>(
    group: &[CatVar<'a>],
    pick: impl Fn(Codes<'a>) -> Option<&'a [T]>,
) -> Vec<&'a [T]> {
    group.iter().filter_map(|g| pick(g.codes)).collect()
}

/// One group of up to four variables folded into a block of keys.
struct Fold<'s> {
    /// Each variable's level count (`n_levels <= size <= DENSE_LIMIT`, so it fits in `u32`).
    levels: Vec<u32>,
    strides: &'s [u32],
    shift: bool,
    /// The first row of the block in the code columns.
    start: usize,
    /// Whether the keys are assigned (the first group) rather than added to.
    first: bool,
}

impl Fold<'_> {
    /// Adds the group's key terms for rows `start..start + keys.len()` of `codes` into `keys`.
    /// Returns whether an out-of-range code was seen (only with `CHECK`).
    fn run<T: Code, const CHECK: bool>(&self, codes: &[&[T]], keys: &mut [u32]) -> bool {
        let f = |n: usize| -> fn(&Self, &[&[T]], &mut [u32]) -> bool {
            match (n, self.shift) {
                (4, true) => Self::fold::<T, 4, true, CHECK>,
                (4, false) => Self::fold::<T, 4, false, CHECK>,
                (3, true) => Self::fold::<T, 3, true, CHECK>,
                (3, false) => Self::fold::<T, 3, false, CHECK>,
                (2, true) => Self::fold::<T, 2, true, CHECK>,
                (2, false) => Self::fold::<T, 2, false, CHECK>,
                (_, true) => Self::fold::<T, 1, true, CHECK>,
                (_, false) => Self::fold::<T, 1, false, CHECK>,
            }
        };
        f(codes.len())(self, codes, keys)
    }

    /// The loop of [`Fold::run`] for `N` variables of code width `T`.
    #[inline(always)]
    fn fold<T: Code, const N: usize, const SHIFT: bool, const CHECK: bool>(
        &self,
        group: &[&[T]],
        keys: &mut [u32],
    ) -> bool {
        let (start, len, first) = (self.start, keys.len(), self.first);
        let codes: [&[T]; N] = std::array::from_fn(|j| &group[j][start..start + len]);
        let levels: [u32; N] = std::array::from_fn(|j| self.levels[j]);
        let strides: [u32; N] = std::array::from_fn(|j| self.strides[j]);
        let shifts: [u32; N] = strides.map(u32::trailing_zeros);
        let mut bad = 0u32;
        for (i, k) in keys.iter_mut().enumerate() {
            let mut term = 0u32;
            for j in 0..N {
                let c = codes[j][i].widen();
                if CHECK {
                    bad |= u32::from(c >= levels[j]);
                }
                term = term.wrapping_add(if SHIFT {
                    c.wrapping_shl(shifts[j])
                } else {
                    c.wrapping_mul(strides[j])
                });
            }
            *k = if first { term } else { k.wrapping_add(term) };
        }
        bad != 0
    }
}

/// Whether `w` is a finite non-negative weight.
#[inline(always)]
fn valid_weight(w: f64) -> bool {
    (0.0..=f64::MAX).contains(&w)
}

/// Checks a block of base weights; returns the number of positive ones.
fn check_weights(weights: &[f64], start: usize) -> Result<usize, SurveyError> {
    let mut bad = false;
    let mut positive = 0usize;
    for &w in weights {
        bad |= !valid_weight(w);
        positive += usize::from(w > 0.0);
    }
    if bad {
        let offset = weights.iter().position(|&w| !valid_weight(w)).unwrap_or(0);
        return Err(SurveyError::InvalidWeight {
            row: start + offset,
            value: weights.get(offset).copied().unwrap_or(f64::NAN),
        });
    }
    Ok(positive)
}

/// Adds `weights` (or 1 per row) at `keys` into `acc`, which holds either one
/// table of `p` entries or four interleaved tables of `p` entries each.
fn scatter(acc: &mut [f64], p: usize, keys: &[u32], weights: Option<&[f64]>) {
    if acc.len() == 4 * p {
        let (a0, rest) = acc.split_at_mut(p);
        let (a1, rest) = rest.split_at_mut(p);
        let (a2, a3) = rest.split_at_mut(p);
        let mut kc = keys.chunks_exact(4);
        match weights {
            Some(w) => {
                let mut wc = w.chunks_exact(4);
                for (k, w) in (&mut kc).zip(&mut wc) {
                    a0[k[0] as usize] += w[0];
                    a1[k[1] as usize] += w[1];
                    a2[k[2] as usize] += w[2];
                    a3[k[3] as usize] += w[3];
                }
                for (&k, &w) in kc.remainder().iter().zip(wc.remainder()) {
                    a0[k as usize] += w;
                }
            }
            None => {
                for k in &mut kc {
                    a0[k[0] as usize] += 1.0;
                    a1[k[1] as usize] += 1.0;
                    a2[k[2] as usize] += 1.0;
                    a3[k[3] as usize] += 1.0;
                }
                for &k in kc.remainder() {
                    a0[k as usize] += 1.0;
                }
            }
        }
    } else {
        match weights {
            Some(w) => {
                for (&k, &w) in keys.iter().zip(w) {
                    acc[k as usize] += w;
                }
            }
            None => {
                for &k in keys {
                    acc[k as usize] += 1.0;
                }
            }
        }
    }
}

/// Per-cell count, minimum and maximum of the positive base weights.
struct Stats {
    count: Vec<f64>,
    min: Vec<f64>,
    max: Vec<f64>,
}

impl Stats {
    fn new(p: usize) -> Self {
        Stats {
            count: vec![0.0; p],
            min: vec![f64::INFINITY; p],
            max: vec![0.0; p],
        }
    }

    fn add(&mut self, key: usize, w: f64) {
        if w > 0.0 {
            self.count[key] += 1.0;
            if w < self.min[key] {
                self.min[key] = w;
            }
            if w > self.max[key] {
                self.max[key] = w;
            }
        }
    }

    fn uniform(&self, cell: usize) -> bool {
        self.count[cell] == 0.0 || self.min[cell] == self.max[cell]
    }
}

impl CellTable {
    /// Builds the table in one pass over the rows, validating codes and base
    /// weights. `stats` requests per-cell positive-row counts and the
    /// uniformity check (needed for trimming with base weights).
    ///
    /// In the dense layout, each row's key is parked in `out` (the buffer
    /// that [`CellTable::apply`] later overwrites with the weights), so the
    /// second pass reads one column instead of recomputing keys from all
    /// the code columns.
    ///
    /// The caller has checked that all columns, and `out`, have `n_rows`
    /// entries.
    pub(crate) fn build(
        vars: &[CatVar<'_>],
        base: Option<&[f64]>,
        n_rows: usize,
        stats: bool,
        out: &mut [f64],
    ) -> Result<CellTable, SurveyError> {
        match Radix::new(vars, DENSE_LIMIT) {
            Some(radix) => Self::build_dense(vars, base, n_rows, stats, radix, out),
            None => Self::build_hashed(vars, base, n_rows, stats),
        }
    }

    fn build_dense(
        vars: &[CatVar<'_>],
        base: Option<&[f64]>,
        n_rows: usize,
        stats: bool,
        radix: Radix,
        out: &mut [f64],
    ) -> Result<CellTable, SurveyError> {
        let p = radix.size;
        let keys_in_out = out.len() == n_rows;
        let lanes = if p <= SPLIT_LIMIT { 4 } else { 1 };
        let mut acc = vec![0.0f64; p * lanes];
        let mut st = (stats && base.is_some()).then(|| Stats::new(p));
        let mut keys = vec![0u32; CHUNK.min(n_rows.max(1))];
        let mut n_positive = 0usize;
        let mut start = 0usize;
        while start < n_rows {
            let end = (start + CHUNK).min(n_rows);
            let keys = &mut keys[..end - start];
            radix.keys::<true>(vars, start, keys)?;
            match base {
                None => {
                    n_positive += keys.len();
                    scatter(&mut acc, p, keys, None);
                }
                Some(base) => {
                    let w = &base[start..end];
                    n_positive += check_weights(w, start)?;
                    scatter(&mut acc, p, keys, Some(w));
                    if let Some(st) = st.as_mut() {
                        for (&k, &w) in keys.iter().zip(w) {
                            st.add(k as usize, w);
                        }
                    }
                }
            }
            if keys_in_out {
                for (o, &k) in out[start..end].iter_mut().zip(keys.iter()) {
                    *o = f64::from_bits(u64::from(k));
                }
            }
            start = end;
        }
        // Fold the interleaved accumulators.
        let (total, rest) = acc.split_at_mut(p);
        for lane in rest.chunks_exact(p) {
            for (t, &x) in total.iter_mut().zip(lane) {
                *t += x;
            }
        }
        let mut key_to_cell = vec![NONE; p];
        let mut levels: Vec<Vec<u32>> = vec![Vec::new(); vars.len()];
        let mut cell_base = Vec::new();
        let mut positive = Vec::new();
        let mut uniform = true;
        let mut base_total = 0.0;
        for (key, &t) in total.iter().enumerate() {
            if t > 0.0 {
                // Cell count <= p <= DENSE_LIMIT < u32::MAX.
                key_to_cell[key] = cell_base.len() as u32;
                cell_base.push(t);
                base_total += t;
                for (v, lv) in levels.iter_mut().enumerate() {
                    lv.push(radix.level(key, v));
                }
                match &st {
                    Some(st) => {
                        positive.push(st.count[key]);
                        uniform &= st.uniform(key);
                    }
                    None if base.is_none() => positive.push(t),
                    None => {}
                }
            }
        }
        Ok(CellTable {
            levels,
            base: cell_base,
            positive,
            uniform: uniform && (st.is_some() || base.is_none()),
            map: RowMap::Dense { radix, key_to_cell },
            keys_in_out,
            n_positive,
            base_total,
        })
    }

    fn build_hashed(
        vars: &[CatVar<'_>],
        base: Option<&[f64]>,
        n_rows: usize,
        stats: bool,
    ) -> Result<CellTable, SurveyError> {
        if n_rows >= NONE as usize {
            return Err(SurveyError::InvalidOption {
                option: "rows".to_string(),
                reason: format!("{n_rows} rows exceed the supported 2^32-1"),
            });
        }
        for var in vars {
            var.check_codes()?;
        }
        let mut n_positive = n_rows;
        if let Some(base) = base {
            n_positive = 0;
            let mut start = 0;
            for block in base.chunks(CHUNK) {
                n_positive += check_weights(block, start)?;
                start += block.len();
            }
        }
        // Combine one variable at a time into dense ids of observed tuples.
        let Some((first, rest)) = vars.split_first() else {
            return Err(SurveyError::NoData {
                what: "no raking variables given".to_string(),
            });
        };
        let mut ids: Vec<u32> = first.codes.to_u32_vec();
        let mut levels: Vec<Vec<u32>> = vec![(0..first.n_levels as u32).collect()];
        for var in rest {
            let mut map: HashMap<u64, u32> = HashMap::new();
            let mut next: Vec<Vec<u32>> = vec![Vec::new(); levels.len() + 1];
            for (id, code) in ids.iter_mut().zip(var.codes) {
                let key = (u64::from(*id) << 32) | u64::from(code);
                let parent = *id as usize;
                *id = *map.entry(key).or_insert_with(|| {
                    let new_id = next[0].len() as u32;
                    for (dst, src) in next.iter_mut().zip(&levels) {
                        dst.push(src[parent]);
                    }
                    if let Some(last) = next.last_mut() {
                        last.push(code);
                    }
                    new_id
                });
            }
            levels = next;
        }
        let n_cells = levels.first().map_or(0, Vec::len);
        let mut cell_base = vec![0.0; n_cells];
        let mut st = (stats && base.is_some()).then(|| Stats::new(n_cells));
        match base {
            None => {
                for &id in &ids {
                    cell_base[id as usize] += 1.0;
                }
            }
            Some(base) => {
                for (&id, &w) in ids.iter().zip(base) {
                    cell_base[id as usize] += w;
                    if let Some(st) = st.as_mut() {
                        st.add(id as usize, w);
                    }
                }
            }
        }
        let positive = match &st {
            Some(st) => st.count.clone(),
            None if base.is_none() => cell_base.clone(),
            None => Vec::new(),
        };
        let uniform = match &st {
            Some(st) => (0..n_cells).all(|c| st.uniform(c)),
            None => base.is_none(),
        };
        let base_total = cell_base.iter().sum();
        Ok(CellTable {
            levels,
            base: cell_base,
            positive,
            uniform,
            map: RowMap::Explicit(ids),
            keys_in_out: false,
            n_positive,
            base_total,
        })
    }

    /// Number of cells.
    pub(crate) fn n_cells(&self) -> usize {
        self.base.len()
    }

    /// Base-weight margins: `margins[v][level]`.
    pub(crate) fn margins(&self, n_levels: &[usize]) -> Vec<Vec<f64>> {
        margins_of(&self.levels, n_levels, &self.base)
    }

    /// Splits every cell by base-weight value, so that all rows of a group
    /// share one weight (needed to trim rows exactly when base weights vary
    /// within cells). One more pass over the rows, hashing `(cell, weight)`.
    pub(crate) fn refine_by_weight(
        &self,
        vars: &[CatVar<'_>],
        base: &[f64],
        n_rows: usize,
    ) -> Result<CellTable, SurveyError> {
        if n_rows >= NONE as usize {
            return Err(SurveyError::InvalidOption {
                option: "rows".to_string(),
                reason: format!("{n_rows} rows exceed the supported 2^32-1"),
            });
        }
        let cell_of_rows = self.row_cells(vars, n_rows)?;
        let n_cells = self.n_cells() as u32;
        let mut map: HashMap<(u32, u64), u32> = HashMap::new();
        let mut levels: Vec<Vec<u32>> = vec![Vec::new(); self.levels.len()];
        let mut group_base: Vec<f64> = Vec::new();
        let mut positive: Vec<f64> = Vec::new();
        let mut ids: Vec<u32> = Vec::with_capacity(n_rows);
        let mut zero_rows = Vec::new();
        for (row, (&cell, &w)) in cell_of_rows.iter().zip(base).enumerate() {
            if cell >= n_cells {
                // A zero-weight row of a cell without weight: written as 0.
                zero_rows.push(row);
                ids.push(NONE);
                continue;
            }
            let id = *map.entry((cell, w.to_bits())).or_insert_with(|| {
                let id = group_base.len() as u32;
                for (dst, src) in levels.iter_mut().zip(&self.levels) {
                    dst.push(src[cell as usize]);
                }
                group_base.push(0.0);
                positive.push(0.0);
                id
            });
            group_base[id as usize] += w;
            if w > 0.0 {
                positive[id as usize] += 1.0;
            }
            ids.push(id);
        }
        let n_groups = group_base.len() as u32;
        for row in zero_rows {
            ids[row] = n_groups;
        }
        Ok(CellTable {
            levels,
            base: group_base,
            positive,
            uniform: true,
            map: RowMap::Explicit(ids),
            keys_in_out: false,
            n_positive: self.n_positive,
            base_total: self.base_total,
        })
    }

    /// The cell of every row ([`NONE`]-like ids `>= n_cells` for rows outside
    /// any cell).
    fn row_cells(&self, vars: &[CatVar<'_>], n_rows: usize) -> Result<Vec<u32>, SurveyError> {
        match &self.map {
            RowMap::Explicit(ids) => Ok(ids.clone()),
            RowMap::Dense { radix, key_to_cell } => {
                let mut out = vec![0u32; n_rows];
                let mut start = 0;
                for block in out.chunks_mut(CHUNK) {
                    radix.keys::<false>(vars, start, block)?;
                    for k in block.iter_mut() {
                        *k = key_to_cell.get(*k as usize).copied().unwrap_or(NONE);
                    }
                    start += block.len();
                }
                Ok(out)
            }
        }
    }

    /// Second pass: `out[i] = base[i] × factors[cell(i)]` (or the factor
    /// alone without base weights).
    pub(crate) fn apply(
        &self,
        vars: &[CatVar<'_>],
        base: Option<&[f64]>,
        factors: &[f64],
        out: &mut [f64],
    ) -> Result<(), SurveyError> {
        match &self.map {
            RowMap::Dense { radix, key_to_cell } => {
                let table: Vec<f64> = key_to_cell
                    .iter()
                    .map(|&c| factors.get(c as usize).copied().unwrap_or(0.0))
                    .collect();
                let factor = |key: f64| table.get(key.to_bits() as usize).copied().unwrap_or(0.0);
                if self.keys_in_out {
                    match base {
                        Some(base) => {
                            for (o, &w) in out.iter_mut().zip(base) {
                                *o = w * factor(*o);
                            }
                        }
                        None => {
                            for o in out.iter_mut() {
                                *o = factor(*o);
                            }
                        }
                    }
                    return Ok(());
                }
                let mut keys = vec![0u32; CHUNK.min(out.len().max(1))];
                let mut start = 0;
                for block in out.chunks_mut(CHUNK) {
                    let keys = &mut keys[..block.len()];
                    radix.keys::<false>(vars, start, keys)?;
                    match base {
                        Some(base) => {
                            let w = &base[start..start + block.len()];
                            for ((o, &k), &w) in block.iter_mut().zip(keys.iter()).zip(w) {
                                *o = w * table.get(k as usize).copied().unwrap_or(0.0);
                            }
                        }
                        None => {
                            for (o, &k) in block.iter_mut().zip(keys.iter()) {
                                *o = table.get(k as usize).copied().unwrap_or(0.0);
                            }
                        }
                    }
                    start += block.len();
                }
            }
            RowMap::Explicit(ids) => {
                let mut table = factors.to_vec();
                table.push(0.0);
                let last = table.len() - 1;
                match base {
                    Some(base) => {
                        for ((o, &id), &w) in out.iter_mut().zip(ids).zip(base) {
                            *o = w * table[(id as usize).min(last)];
                        }
                    }
                    None => {
                        for (o, &id) in out.iter_mut().zip(ids) {
                            *o = table[(id as usize).min(last)];
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Margins of group weights: `margins[v][level] = Σ_g w[g]` over the groups
/// of that level.
pub(crate) fn margins_of(levels: &[Vec<u32>], n_levels: &[usize], w: &[f64]) -> Vec<Vec<f64>> {
    levels
        .iter()
        .zip(n_levels)
        .map(|(lv, &n)| {
            let mut m = vec![0.0; n];
            for (&l, &x) in lv.iter().zip(w) {
                m[l as usize] += x;
            }
            m
        })
        .collect()
}
