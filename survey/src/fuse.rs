//! Data fusion by activity transfer: statistical matching of recipients to
//! donors within strata (constrained hot-deck, nearest neighbour).
//!
//! # Method
//!
//! Each recipient (e.g. a TV panelist) receives exactly one donor (e.g. an
//! internet panelist) from the same stratum (same tuple of level codes on the
//! stratification variables), so the recipients' socio-demographic
//! distribution is kept exactly: the fused file *is* the recipient file plus
//! the donors' transferred variables.
//!
//! Within a stratum the donor minimises
//! `distance + reuse_penalty × uses(donor)`, where `distance` is the
//! Euclidean distance on the matching variables standardised by their mean
//! and standard deviation over donors and recipients together, and
//! `uses(donor)` counts the recipients already given that donor. The penalty
//! spreads donor use, so the transferred variables keep the donors'
//! distribution better than a plain nearest neighbour. An optional hard cap
//! (`max_uses`) excludes saturated donors while an unsaturated one exists.
//! Ties are broken by smaller distance, then smaller donor id.
//!
//! New recipients are processed in ascending id order, so the result does not
//! depend on the row order of either side.
//!
//! # Day-to-day consistency
//!
//! Previous matches (recipient id → donor id) are kept whenever both ids are
//! still present and the donor is in the recipient's current stratum; their
//! donor uses are counted first. Only recipients without a kept match (new
//! ones, or ones whose match broke) are matched again, so a series of daily
//! fusions changes only what must change.

use std::collections::{BTreeMap, HashMap};

use crate::error::SurveyError;
use crate::input::CatVar;
use crate::strata::{describe, group_rows};

/// One side of a fusion (recipients or donors), as columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FuseSide<'a> {
    /// Unique identifier of every row.
    pub ids: &'a [u64],
    /// Stratification variables (same variables, in the same order, on both
    /// sides); may be empty.
    pub strata: &'a [CatVar<'a>],
    /// Numeric matching variables (same order on both sides); may be empty.
    pub matching: &'a [&'a [f64]],
}

/// Options of [`fuse`].
#[derive(Debug, Clone, PartialEq)]
pub struct FuseOptions {
    /// Cost added per previous use of a donor, in standardised distance units
    /// (default 0.2; 0 gives plain nearest neighbour).
    pub reuse_penalty: f64,
    /// Maximum recipients per donor, while a donor below it exists in the
    /// stratum (default none).
    pub max_uses: Option<u32>,
    /// Leave recipients of donor-less strata unmatched instead of failing
    /// (default false).
    pub allow_unmatched: bool,
}

impl Default for FuseOptions {
    fn default() -> Self {
        FuseOptions {
            reuse_penalty: 0.2,
            max_uses: None,
            allow_unmatched: false,
        }
    }
}

/// How a recipient got its donor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchStatus {
    /// The previous match was kept.
    Kept,
    /// The recipient had no previous match.
    New,
    /// The recipient had a previous match that no longer holds.
    Rematched,
    /// No donor in the recipient's stratum (only with `allow_unmatched`).
    Unmatched,
}

/// The match of one recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The recipient's row.
    pub recipient: usize,
    /// The recipient's id.
    pub recipient_id: u64,
    /// The donor's row.
    pub donor: Option<usize>,
    /// The donor's id.
    pub donor_id: Option<u64>,
    /// Standardised distance between the two (0 when unmatched).
    pub distance: f64,
    /// How the match was obtained.
    pub status: MatchStatus,
}

/// Summary of a fusion.
#[derive(Debug, Clone, PartialEq)]
pub struct FuseReport {
    /// Recipients.
    pub recipients: usize,
    /// Previous matches kept.
    pub kept: usize,
    /// Recipients without a previous match, matched now.
    pub new: usize,
    /// Recipients whose previous match broke, matched again.
    pub rematched: usize,
    /// Recipients left without a donor.
    pub unmatched: usize,
    /// Previous matches whose recipient is gone.
    pub previous_dropped: usize,
    /// Donors used at least once.
    pub donors_used: usize,
    /// Donors used more than once.
    pub donors_reused: usize,
    /// Largest number of recipients given one donor.
    pub max_donor_uses: usize,
    /// Mean standardised distance of the matches.
    pub mean_distance: f64,
}

/// Matches and report of [`fuse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fusion {
    /// One match per recipient, in recipient row order.
    pub matches: Vec<Match>,
    /// Summary.
    pub report: FuseReport,
}

/// Matches every recipient to a donor of its stratum; see the module
/// documentation for the method.
pub fn fuse(
    recipients: &FuseSide<'_>,
    donors: &FuseSide<'_>,
    previous: Option<&[(u64, u64)]>,
    opts: &FuseOptions,
) -> Result<Fusion, SurveyError> {
    validate(recipients, donors, opts)?;
    let n_r = recipients.ids.len();
    let n_d = donors.ids.len();
    let k = recipients.matching.len();
    let (r_z, d_z) = standardise(recipients.matching, donors.matching, n_r, n_d);
    let dist = |r: usize, d: usize| -> f64 {
        let a = &r_z[r * k..(r + 1) * k];
        let b = &d_z[d * k..(d + 1) * k];
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    };

    let mut donor_strata = group_rows(donors.strata, n_d, None)?;
    for rows in donor_strata.values_mut() {
        rows.sort_by_key(|&d| donors.ids[d]);
    }
    let recipient_strata = group_rows(recipients.strata, n_r, None)?;
    let mut stratum_of = vec![0usize; n_r];
    let keys: Vec<&Vec<u32>> = recipient_strata.keys().collect();
    for (s, rows) in recipient_strata.values().enumerate() {
        for &r in rows {
            stratum_of[r] = s;
        }
    }

    let donor_row: HashMap<u64, usize> = donors
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    let recipient_row: HashMap<u64, usize> = recipients
        .ids
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i))
        .collect();
    let mut prev: HashMap<u64, u64> = HashMap::new();
    let mut previous_dropped = 0;
    for &(r, d) in previous.unwrap_or(&[]) {
        if prev.insert(r, d).is_some() {
            return Err(SurveyError::DuplicateId {
                what: "previous matches (recipient)".to_string(),
                id: r,
            });
        }
        if !recipient_row.contains_key(&r) {
            previous_dropped += 1;
        }
    }

    let same_stratum = |r: usize, d: usize| -> bool {
        recipients
            .strata
            .iter()
            .zip(donors.strata)
            .all(|(a, b)| a.codes[r] == b.codes[d])
    };

    let mut uses = vec![0usize; n_d];
    let mut matches: Vec<Match> = recipients
        .ids
        .iter()
        .enumerate()
        .map(|(r, &id)| Match {
            recipient: r,
            recipient_id: id,
            donor: None,
            donor_id: None,
            distance: 0.0,
            status: MatchStatus::New,
        })
        .collect();
    let mut todo: Vec<usize> = Vec::new();
    for m in matches.iter_mut() {
        let r = m.recipient;
        match prev.get(&m.recipient_id) {
            Some(d_id) => match donor_row.get(d_id) {
                Some(&d) if same_stratum(r, d) => {
                    m.donor = Some(d);
                    m.donor_id = Some(*d_id);
                    m.distance = dist(r, d);
                    m.status = MatchStatus::Kept;
                    uses[d] += 1;
                }
                _ => {
                    m.status = MatchStatus::Rematched;
                    todo.push(r);
                }
            },
            None => todo.push(r),
        }
    }
    todo.sort_by_key(|&r| recipients.ids[r]);

    let empty: Vec<usize> = Vec::new();
    for r in todo {
        let key = keys[stratum_of[r]];
        let pool = donor_strata.get(key).unwrap_or(&empty);
        if pool.is_empty() {
            if opts.allow_unmatched {
                matches[r].status = MatchStatus::Unmatched;
                continue;
            }
            return Err(SurveyError::NoDonor {
                recipient: recipients.ids[r],
                stratum: describe(recipients.strata, key),
            });
        }
        let capped = opts
            .max_uses
            .is_some_and(|cap| pool.iter().all(|&d| uses[d] >= cap as usize));
        let mut best: Option<(f64, f64, usize)> = None;
        for &d in pool {
            if !capped && opts.max_uses.is_some_and(|cap| uses[d] >= cap as usize) {
                continue;
            }
            let dd = dist(r, d);
            let cost = dd + opts.reuse_penalty * uses[d] as f64;
            let better = match best {
                None => true,
                Some((bc, bd, _)) => cost < bc || (cost == bc && dd < bd),
            };
            if better {
                best = Some((cost, dd, d));
            }
        }
        if let Some((_, dd, d)) = best {
            uses[d] += 1;
            let m = &mut matches[r];
            m.donor = Some(d);
            m.donor_id = Some(donors.ids[d]);
            m.distance = dd;
        }
    }

    let count = |s: MatchStatus| matches.iter().filter(|m| m.status == s).count();
    let matched: Vec<&Match> = matches.iter().filter(|m| m.donor.is_some()).collect();
    let mean_distance = if matched.is_empty() {
        0.0
    } else {
        matched.iter().map(|m| m.distance).sum::<f64>() / matched.len() as f64
    };
    let report = FuseReport {
        recipients: n_r,
        kept: count(MatchStatus::Kept),
        new: count(MatchStatus::New),
        rematched: count(MatchStatus::Rematched),
        unmatched: count(MatchStatus::Unmatched),
        previous_dropped,
        donors_used: uses.iter().filter(|&&u| u > 0).count(),
        donors_reused: uses.iter().filter(|&&u| u > 1).count(),
        max_donor_uses: uses.iter().copied().max().unwrap_or(0),
        mean_distance,
    };
    Ok(Fusion { matches, report })
}

/// Checks shapes, values, ids and options.
fn validate(
    recipients: &FuseSide<'_>,
    donors: &FuseSide<'_>,
    opts: &FuseOptions,
) -> Result<(), SurveyError> {
    if !(opts.reuse_penalty >= 0.0 && opts.reuse_penalty.is_finite()) {
        return Err(SurveyError::InvalidOption {
            option: "reuse_penalty".to_string(),
            reason: format!("{} is not a finite non-negative number", opts.reuse_penalty),
        });
    }
    if opts.max_uses == Some(0) {
        return Err(SurveyError::InvalidOption {
            option: "max_uses".to_string(),
            reason: "0 would forbid every donor".to_string(),
        });
    }
    if donors.strata.len() != recipients.strata.len() {
        return Err(SurveyError::LengthMismatch {
            what: "donor stratification variables".to_string(),
            expected: recipients.strata.len(),
            found: donors.strata.len(),
        });
    }
    for (r, d) in recipients.strata.iter().zip(donors.strata) {
        if r.n_levels != d.n_levels {
            return Err(SurveyError::LengthMismatch {
                what: format!(
                    "levels of stratification variable '{}' on the donor side",
                    d.name
                ),
                expected: r.n_levels,
                found: d.n_levels,
            });
        }
    }
    if donors.matching.len() != recipients.matching.len() {
        return Err(SurveyError::LengthMismatch {
            what: "donor matching variables".to_string(),
            expected: recipients.matching.len(),
            found: donors.matching.len(),
        });
    }
    for (side, s) in [("recipient", recipients), ("donor", donors)] {
        let n = s.ids.len();
        for (j, col) in s.matching.iter().enumerate() {
            if col.len() != n {
                return Err(SurveyError::LengthMismatch {
                    what: format!("{side} matching variable {j}"),
                    expected: n,
                    found: col.len(),
                });
            }
            if let Some(row) = col.iter().position(|x| !x.is_finite()) {
                return Err(SurveyError::InvalidValue {
                    what: format!("{side} matching variable {j}"),
                    row,
                    value: col[row],
                });
            }
        }
        let mut seen: BTreeMap<u64, ()> = BTreeMap::new();
        for &id in s.ids {
            if seen.insert(id, ()).is_some() {
                return Err(SurveyError::DuplicateId {
                    what: format!("{side} ids"),
                    id,
                });
            }
        }
    }
    Ok(())
}

/// Standardised matching values, row-major (`rows × variables`), using the
/// mean and standard deviation over both sides.
fn standardise(r: &[&[f64]], d: &[&[f64]], n_r: usize, n_d: usize) -> (Vec<f64>, Vec<f64>) {
    let k = r.len();
    let mut r_z = vec![0.0; n_r * k];
    let mut d_z = vec![0.0; n_d * k];
    for (j, (rc, dc)) in r.iter().zip(d).enumerate() {
        let n = (n_r + n_d) as f64;
        let mean = rc.iter().chain(dc.iter()).sum::<f64>() / n;
        let var = rc
            .iter()
            .chain(dc.iter())
            .map(|x| (x - mean) * (x - mean))
            .sum::<f64>()
            / n;
        let sd = var.sqrt();
        let scale = if sd > 0.0 && sd.is_finite() {
            1.0 / sd
        } else {
            1.0
        };
        for (i, x) in rc.iter().enumerate() {
            r_z[i * k + j] = (x - mean) * scale;
        }
        for (i, x) in dc.iter().enumerate() {
            d_z[i * k + j] = (x - mean) * scale;
        }
    }
    (r_z, d_z)
}
