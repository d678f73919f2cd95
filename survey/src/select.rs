//! Stratified selection of a share of rows (e.g. the active panelists of a
//! day), keeping the strata's shares.
//!
//! # Method
//!
//! Rows (optionally only the eligible ones) are grouped into strata, a
//! stratum being a tuple of level codes. The number to select is
//! `N = round(share × n)` over the `n` eligible rows. It is allocated to the
//! strata in proportion to their sizes `N_h` by largest remainder, in exact
//! integer arithmetic: each stratum gets `floor(N × N_h / n)`, and the `R`
//! remaining units go one each to strata with a non-zero remainder. Plain
//! Hamilton rounding would hand them out by remainder alone, which with
//! hundreds of small strata biases the margins towards whichever levels win
//! the ties; instead each unit goes to the stratum whose levels have the
//! largest total deficit (target margin minus current margin, summed over
//! the variables, plus the stratum's own remainder; ties: larger stratum,
//! then smaller code tuple). So every stratum keeps its quota within one
//! unit (its share of the selection is within `1 / N` of its share of the
//! eligible rows) and every variable's level shares stay close to the
//! eligible rows' (typically within one or two units). Past 2·10⁷
//! candidate-unit pairs the placement falls back to plain largest remainder
//! with seeded tie-breaking.
//!
//! Within a stratum, rows are drawn by simple random sampling without
//! replacement (partial Fisher–Yates shuffle of its rows in ascending order)
//! from a ChaCha8 stream keyed by the seed and the stratum's code tuple: the
//! draw in one stratum does not depend on the other strata, and the same
//! inputs and seed always give the same rows.

use crate::error::SurveyError;
use crate::input::{common_rows, CatVar};
use crate::rng::{mix_codes, Rng};
use crate::strata::group_rows;

/// Above this many (candidate strata × extra units), the margin-aware
/// placement of the extra units falls back to plain largest remainder.
const GREEDY_LIMIT: usize = 20_000_000;

/// Options of [`select_active`].
#[derive(Debug, Clone, PartialEq)]
pub struct SelectOptions {
    /// Share of the eligible rows to select, in `0..=1`.
    pub share: f64,
    /// Seed of the random draw.
    pub seed: u64,
}

/// Allocation of one stratum.
#[derive(Debug, Clone, PartialEq)]
pub struct StratumAllocation {
    /// The stratum's level codes, one per stratification variable.
    pub codes: Vec<u32>,
    /// Eligible rows in the stratum.
    pub available: usize,
    /// Rows selected in the stratum.
    pub selected: usize,
}

/// Result of [`select_active`].
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Selected row indices, ascending.
    pub rows: Vec<usize>,
    /// Allocation per non-empty stratum, in ascending code-tuple order.
    pub strata: Vec<StratumAllocation>,
}

/// Selects `opts.share` of the eligible rows (all rows when `eligible` is
/// `None`), stratified by `strata`, deterministically for `opts.seed`.
pub fn select_active(
    strata: &[CatVar<'_>],
    eligible: Option<&[bool]>,
    opts: &SelectOptions,
) -> Result<Selection, SurveyError> {
    if !(0.0..=1.0).contains(&opts.share) {
        return Err(SurveyError::InvalidOption {
            option: "share".to_string(),
            reason: format!("{} is not in 0..=1", opts.share),
        });
    }
    let n_rows = common_rows(strata, "stratification")?;
    let groups = group_rows(strata, n_rows, eligible)?;
    let n: usize = groups.values().map(Vec::len).sum();
    // share <= 1 so the product is at most n.
    let total = ((opts.share * n as f64).round() as usize).min(n);

    let sizes: Vec<usize> = groups.values().map(Vec::len).collect();
    let codes: Vec<&Vec<u32>> = groups.keys().collect();
    let alloc = allocate(&codes, &sizes, strata, total, opts.seed);

    let mut rows = Vec::with_capacity(total);
    let mut out_strata = Vec::with_capacity(groups.len());
    for ((codes, members), &k) in groups.iter().zip(&alloc) {
        let mut pool = members.clone();
        let mut rng = Rng::new(opts.seed, mix_codes(codes));
        let len = pool.len();
        for i in 0..k.min(len) {
            let j = i + rng.below((len - i) as u64) as usize;
            pool.swap(i, j);
        }
        rows.extend_from_slice(&pool[..k.min(len)]);
        out_strata.push(StratumAllocation {
            codes: codes.clone(),
            available: len,
            selected: k.min(len),
        });
    }
    rows.sort_unstable();
    Ok(Selection {
        rows,
        strata: out_strata,
    })
}

/// Largest-remainder allocation of `total` units to strata of `sizes` rows,
/// with the extra units placed so as to keep each variable's margins (see
/// the module documentation).
fn allocate(
    codes: &[&Vec<u32>],
    sizes: &[usize],
    vars: &[CatVar<'_>],
    total: usize,
    seed: u64,
) -> Vec<usize> {
    let n: usize = sizes.iter().sum();
    let n128 = n.max(1) as u128;
    // Exact quotas: floor and remainder (in units of 1/n).
    let mut alloc: Vec<usize> = Vec::with_capacity(sizes.len());
    let mut rem: Vec<u128> = Vec::with_capacity(sizes.len());
    for &size in sizes {
        let q = total as u128 * size as u128;
        alloc.push((q / n128) as usize);
        rem.push(q % n128);
    }
    let extra = total - alloc.iter().sum::<usize>();
    if extra == 0 {
        return alloc;
    }
    let candidates: Vec<usize> = (0..sizes.len()).filter(|&h| rem[h] > 0).collect();
    if candidates.len().saturating_mul(extra) > GREEDY_LIMIT {
        // Plain largest remainder; ties by a seeded hash of the stratum.
        let mut order = candidates;
        order.sort_by(|&a, &b| {
            rem[b]
                .cmp(&rem[a])
                .then(sizes[b].cmp(&sizes[a]))
                .then(
                    mix_codes(codes[a])
                        .wrapping_add(seed)
                        .cmp(&mix_codes(codes[b]).wrapping_add(seed)),
                )
                .then(a.cmp(&b))
        });
        for &h in order.iter().take(extra) {
            alloc[h] += 1;
        }
        return alloc;
    }
    // Deficit of every level of every variable, in units of 1/n:
    // target margin minus current margin, times n.
    let mut deficit: Vec<Vec<i128>> = vars.iter().map(|v| vec![0i128; v.n_levels]).collect();
    for (h, key) in codes.iter().enumerate() {
        for (d, &c) in deficit.iter_mut().zip(key.iter()) {
            d[c as usize] += rem[h] as i128;
        }
    }
    let mut given = vec![false; sizes.len()];
    for _ in 0..extra {
        let mut best: Option<(i128, usize)> = None;
        for &h in &candidates {
            if given[h] {
                continue;
            }
            let score: i128 = deficit
                .iter()
                .zip(codes[h].iter())
                .map(|(d, &c)| d[c as usize])
                .sum::<i128>()
                + rem[h] as i128;
            let better = best.is_none_or(|(s, b)| score > s || (score == s && sizes[h] > sizes[b]));
            if better {
                best = Some((score, h));
            }
        }
        let Some((_, h)) = best else { break };
        given[h] = true;
        alloc[h] += 1;
        for (d, &c) in deficit.iter_mut().zip(codes[h].iter()) {
            d[c as usize] -= n128 as i128;
        }
    }
    alloc
}
