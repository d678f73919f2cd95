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
//! Distances are Euclidean on the matching variables standardised by their
//! mean and standard deviation over donors and recipients together. A
//! recipient's *band* is the set of donors of its stratum whose distance is at
//! most its nearest donor's distance plus [`FuseOptions::keep_tolerance`].
//! Within the band, the donor minimises `distance + reuse_penalty ×
//! uses(donor)`, where `uses(donor)` counts the recipients already given that
//! donor. The penalty spreads donor use, so the transferred variables keep the
//! donors' distribution better than a plain nearest neighbour; the band keeps
//! the penalty from pushing a match far from its nearest donor. An optional
//! hard cap (`max_uses`) excludes saturated donors while an unsaturated one
//! exists (outside the band if need be). Ties are broken by smaller distance,
//! then smaller donor id.
//!
//! Recipients to match are processed in ascending id order, so the result
//! does not depend on the row order of either side.
//!
//! # Day-to-day consistency
//!
//! A previous match (recipient id → donor id) is kept when, today,
//!
//! 1. both ids are present and the donor is in the recipient's stratum
//!    (otherwise the match is broken: [`MatchStatus::Rematched`]);
//! 2. the donor is still in the recipient's band: its distance is at most the
//!    nearest donor's plus `keep_tolerance` (otherwise the recipient's
//!    matching values moved away from the donor's:
//!    [`MatchStatus::Drifted`]).
//!
//! Kept matches count their donor uses first. Two rules then release kept
//! matches, fewest first ([`MatchStatus::Rebalanced`]):
//!
//! 3. with `max_uses`, a donor holding more kept matches than the cap releases
//!    its farthest ones, while its stratum has unused capacity;
//! 4. after matching, when the mean of a matching variable over the
//!    recipients' donors differs from its mean over the recipients by more
//!    than [`FuseOptions::balance_tolerance`] standard deviations, the kept
//!    matches that contribute most to the difference (largest projection of
//!    `donor − recipient` on it) are released and matched again (to another
//!    donor), just enough to bring it back within the tolerance.
//!
//! So a fusion matches exactly the recipients it made today again the next
//! day when nothing changed (every new match lies in its band), a match
//! changes only when it broke, drifted out of its band, or is needed to keep
//! donor use and the matching variables' means within tolerance, and over a
//! series of daily fusions the distances and means cannot drift: every kept
//! match is within `keep_tolerance` of its recipient's nearest donor, and the
//! means within `balance_tolerance`, every day.

use std::collections::{BTreeMap, HashMap, HashSet};

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
    /// Width of a recipient's band, in standardised distance units beyond its
    /// nearest donor's distance: new matches are chosen in the band, and a
    /// previous match is kept while its donor stays in it (default 0.25;
    /// `f64::INFINITY` keeps every valid previous match whatever its
    /// distance, and lets the penalty choose any donor of the stratum).
    pub keep_tolerance: f64,
    /// Largest difference, in standard deviations, between a matching
    /// variable's mean over the recipients' donors and its mean over the
    /// recipients; kept matches are released to restore it (default 0.03;
    /// `f64::INFINITY` never releases).
    pub balance_tolerance: f64,
}

impl Default for FuseOptions {
    fn default() -> Self {
        FuseOptions {
            reuse_penalty: 0.2,
            max_uses: None,
            allow_unmatched: false,
            keep_tolerance: 0.25,
            balance_tolerance: 0.03,
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
    /// The recipient had a previous match that broke (a panelist gone, or the
    /// donor in another stratum), and was matched again.
    Rematched,
    /// The previous match still held, but its donor left the recipient's band
    /// (its distance exceeded the nearest donor's by more than
    /// `keep_tolerance`): matched again.
    Drifted,
    /// The previous match was in the band, but was released to respect
    /// `max_uses` or to bring a matching variable's mean back within
    /// `balance_tolerance`: matched again, to another donor.
    Rebalanced,
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
    /// Recipients whose previous donor left their band, matched again.
    pub drifted: usize,
    /// Recipients whose previous match was released for donor use or for the
    /// means of the matching variables, matched again.
    pub rebalanced: usize,
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
    /// Largest absolute difference, over the matching variables, between the
    /// mean over the matched recipients' donors and the mean over those
    /// recipients, in standard deviations.
    pub max_mean_difference: f64,
}

/// Matches and report of [`fuse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Fusion {
    /// One match per recipient, in recipient row order.
    pub matches: Vec<Match>,
    /// Summary.
    pub report: FuseReport,
}

/// Standardised matching values of both sides and the distance between them.
struct Space {
    k: usize,
    r_z: Vec<f64>,
    d_z: Vec<f64>,
}

impl Space {
    fn dist(&self, r: usize, d: usize) -> f64 {
        let k = self.k;
        let a = &self.r_z[r * k..(r + 1) * k];
        let b = &self.d_z[d * k..(d + 1) * k];
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt()
    }

    /// `donor − recipient` on variable `j`.
    fn diff(&self, r: usize, d: usize, j: usize) -> f64 {
        self.d_z[d * self.k + j] - self.r_z[r * self.k + j]
    }
}

/// Chooses the donor of recipient `r` in `pool` (donor rows in ascending id
/// order): in the band when a candidate is, else among every candidate; a
/// candidate is unsaturated (when an unsaturated donor exists) and not
/// `exclude` (unless it is the only donor). Returns `(distance, donor)`.
fn choose(
    space: &Space,
    r: usize,
    pool: &[usize],
    uses: &[usize],
    exclude: Option<usize>,
    opts: &FuseOptions,
    scratch: &mut Vec<f64>,
) -> Option<(f64, usize)> {
    scratch.clear();
    scratch.extend(pool.iter().map(|&d| space.dist(r, d)));
    let nearest = scratch.iter().copied().fold(f64::INFINITY, f64::min);
    let band = nearest + opts.keep_tolerance;
    let excluded = |d: usize| pool.len() > 1 && exclude == Some(d);
    let saturated = |d: usize| opts.max_uses.is_some_and(|cap| uses[d] >= cap as usize);
    let any_unsaturated = pool.iter().any(|&d| !excluded(d) && !saturated(d));
    let candidate = |d: usize| !(excluded(d) || any_unsaturated && saturated(d));
    let any_in_band = pool
        .iter()
        .zip(scratch.iter())
        .any(|(&d, &dd)| candidate(d) && dd <= band);
    let mut best: Option<(f64, f64, usize)> = None;
    for (&d, &dd) in pool.iter().zip(scratch.iter()) {
        if !candidate(d) || (any_in_band && dd > band) {
            continue;
        }
        let cost = dd + opts.reuse_penalty * uses[d] as f64;
        let better = match best {
            None => true,
            Some((bc, bd, _)) => cost < bc || (cost == bc && dd < bd),
        };
        if better {
            best = Some((cost, dd, d));
        }
    }
    best.map(|(_, dd, d)| (dd, d))
}

/// The distance from recipient `r` to its nearest donor of `pool`.
fn nearest(space: &Space, r: usize, pool: &[usize]) -> f64 {
    pool.iter()
        .map(|&d| space.dist(r, d))
        .fold(f64::INFINITY, f64::min)
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
    let space = Space { k, r_z, d_z };
    let strata = Strata::new(recipients, donors)?;
    let (prev, previous_dropped) = previous_matches(previous, recipients)?;
    let mut state = Matching::new(recipients, donors, &space, &strata, opts);
    state.keep_previous(&prev);
    if let Some(cap) = opts.max_uses.map(|c| c as usize) {
        state.release_over_cap(cap);
    }
    state.match_remaining()?;
    // Rule 4: the means of the matching variables.
    if opts.balance_tolerance.is_finite() && k > 0 {
        let mut ctx = Rebalance {
            space: &space,
            uses: &mut state.uses,
            scratch: &mut state.scratch,
            opts,
        };
        let pools = &strata.pools;
        let stratum_of = &strata.stratum_of;
        ctx.run(&mut state.matches, |r| &pools[stratum_of[r]], donors.ids);
    }
    let report = state.report(previous_dropped);
    Ok(Fusion {
        matches: state.matches,
        report,
    })
}

/// The strata of both sides: each recipient's stratum and the donors of each
/// stratum, in donor id order.
struct Strata {
    /// The recipients' stratum keys (level codes), in key order.
    keys: Vec<Vec<u32>>,
    /// The donors of each recipient stratum (empty when none).
    pools: Vec<Vec<usize>>,
    /// Each recipient's index into `keys` and `pools`.
    stratum_of: Vec<usize>,
}

impl Strata {
    fn new(recipients: &FuseSide<'_>, donors: &FuseSide<'_>) -> Result<Strata, SurveyError> {
        let n_r = recipients.ids.len();
        let mut donor_strata = group_rows(donors.strata, donors.ids.len(), None)?;
        for rows in donor_strata.values_mut() {
            rows.sort_by_key(|&d| donors.ids[d]);
        }
        let recipient_strata = group_rows(recipients.strata, n_r, None)?;
        let mut stratum_of = vec![0usize; n_r];
        for (s, rows) in recipient_strata.values().enumerate() {
            for &r in rows {
                stratum_of[r] = s;
            }
        }
        let keys: Vec<Vec<u32>> = recipient_strata.keys().cloned().collect();
        let pools = keys
            .iter()
            .map(|key| donor_strata.remove(key).unwrap_or_default())
            .collect();
        Ok(Strata {
            keys,
            pools,
            stratum_of,
        })
    }

    fn pool_of(&self, r: usize) -> &[usize] {
        &self.pools[self.stratum_of[r]]
    }
}

/// Yesterday's matches by recipient id, and how many name a recipient that is
/// gone today.
fn previous_matches(
    previous: Option<&[(u64, u64)]>,
    recipients: &FuseSide<'_>,
) -> Result<(HashMap<u64, u64>, usize), SurveyError> {
    let present: HashSet<u64> = recipients.ids.iter().copied().collect();
    let mut prev: HashMap<u64, u64> = HashMap::new();
    let mut dropped = 0;
    for &(r, d) in previous.unwrap_or(&[]) {
        if prev.insert(r, d).is_some() {
            return Err(SurveyError::DuplicateId {
                what: "previous matches (recipient)".to_string(),
                id: r,
            });
        }
        if !present.contains(&r) {
            dropped += 1;
        }
    }
    Ok((prev, dropped))
}

/// The matching in progress: rules 1 to 3 decide what is kept, then the
/// remaining recipients are matched in ascending id order.
struct Matching<'a> {
    recipients: &'a FuseSide<'a>,
    donors: &'a FuseSide<'a>,
    space: &'a Space,
    strata: &'a Strata,
    opts: &'a FuseOptions,
    uses: Vec<usize>,
    matches: Vec<Match>,
    /// The previous donor of each recipient whose previous match is valid.
    previous_donor: Vec<Option<usize>>,
    /// The donor a recipient released by rule 3 must not receive again.
    exclude: Vec<Option<usize>>,
    /// The recipients left to match.
    todo: Vec<usize>,
    scratch: Vec<f64>,
}

impl<'a> Matching<'a> {
    fn new(
        recipients: &'a FuseSide<'a>,
        donors: &'a FuseSide<'a>,
        space: &'a Space,
        strata: &'a Strata,
        opts: &'a FuseOptions,
    ) -> Matching<'a> {
        let n_r = recipients.ids.len();
        let matches = recipients
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
        Matching {
            recipients,
            donors,
            space,
            strata,
            opts,
            uses: vec![0; donors.ids.len()],
            matches,
            previous_donor: vec![None; n_r],
            exclude: vec![None; n_r],
            todo: Vec::new(),
            scratch: Vec::new(),
        }
    }

    fn same_stratum(&self, r: usize, d: usize) -> bool {
        self.recipients
            .strata
            .iter()
            .zip(self.donors.strata)
            .all(|(a, b)| a.codes.at(r) == b.codes.at(d))
    }

    /// Rule 1: broken matches are matched again; rule 2: matches in their
    /// band are kept, those outside it drifted (see [`Self::drop_drifted`]).
    fn keep_previous(&mut self, prev: &HashMap<u64, u64>) {
        let donor_row: HashMap<u64, usize> = index_of(self.donors.ids);
        let mut outside_band: Vec<usize> = Vec::new();
        for r in 0..self.matches.len() {
            let Some(d_id) = prev.get(&self.matches[r].recipient_id) else {
                self.todo.push(r);
                continue;
            };
            match donor_row.get(d_id) {
                Some(&d) if self.same_stratum(r, d) => {
                    let dd = self.space.dist(r, d);
                    self.previous_donor[r] = Some(d);
                    let m = &mut self.matches[r];
                    m.donor = Some(d);
                    m.donor_id = Some(*d_id);
                    m.distance = dd;
                    m.status = MatchStatus::Kept;
                    let band =
                        nearest(self.space, r, self.strata.pool_of(r)) + self.opts.keep_tolerance;
                    if dd <= band {
                        self.uses[d] += 1;
                    } else {
                        outside_band.push(r);
                    }
                }
                _ => {
                    self.matches[r].status = MatchStatus::Rematched;
                    self.todo.push(r);
                }
            }
        }
        self.drop_drifted(outside_band);
    }

    /// Rule 2, outside the band: the match drifted, unless the cap leaves no
    /// donor of the band free (then the cap, not the drift, put it there).
    fn drop_drifted(&mut self, mut outside_band: Vec<usize>) {
        outside_band.sort_by_key(|&r| self.recipients.ids[r]);
        for r in outside_band {
            let Some(d) = self.matches[r].donor else {
                continue;
            };
            let blocked = self.opts.max_uses.is_some_and(|cap| {
                let pool = self.strata.pool_of(r);
                let band = nearest(self.space, r, pool) + self.opts.keep_tolerance;
                pool.iter()
                    .all(|&x| self.space.dist(r, x) > band || self.uses[x] >= cap as usize)
            });
            if blocked {
                self.uses[d] += 1;
            } else {
                let m = &mut self.matches[r];
                m.donor = None;
                m.donor_id = None;
                m.distance = 0.0;
                m.status = MatchStatus::Drifted;
                self.todo.push(r);
            }
        }
    }

    /// Rule 3: donors above the cap release their farthest kept matches while
    /// their stratum has spare capacity.
    fn release_over_cap(&mut self, cap: usize) {
        let mut kept_of: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for m in &self.matches {
            if let (MatchStatus::Kept, Some(d)) = (m.status, m.donor) {
                if self.uses[d] > cap {
                    kept_of
                        .entry(self.donors.ids[d])
                        .or_default()
                        .push(m.recipient);
                }
            }
        }
        let donor_row: HashMap<u64, usize> = index_of(self.donors.ids);
        for (d_id, mut rows) in kept_of {
            let d = donor_row[&d_id];
            let pool = self.strata.pool_of(rows[0]);
            let mut spare: usize = pool.iter().map(|&x| cap.saturating_sub(self.uses[x])).sum();
            // Farthest first; ties: larger recipient id first.
            rows.sort_by(|&a, &b| {
                self.matches[b]
                    .distance
                    .total_cmp(&self.matches[a].distance)
                    .then(self.recipients.ids[b].cmp(&self.recipients.ids[a]))
            });
            for r in rows {
                if self.uses[d] <= cap || spare == 0 {
                    break;
                }
                release(
                    &mut self.matches[r],
                    &mut self.uses,
                    &mut self.exclude,
                    &mut self.todo,
                );
                spare -= 1;
            }
        }
    }

    /// Matches the recipients left, in ascending recipient id order.
    fn match_remaining(&mut self) -> Result<(), SurveyError> {
        let mut todo = std::mem::take(&mut self.todo);
        todo.sort_by_key(|&r| self.recipients.ids[r]);
        for r in todo {
            let pool = self.strata.pool_of(r);
            if pool.is_empty() {
                if self.opts.allow_unmatched {
                    self.matches[r].status = MatchStatus::Unmatched;
                    continue;
                }
                return Err(SurveyError::NoDonor {
                    recipient: self.recipients.ids[r],
                    stratum: describe(
                        self.recipients.strata,
                        &self.strata.keys[self.strata.stratum_of[r]],
                    ),
                });
            }
            let chosen = choose(
                self.space,
                r,
                pool,
                &self.uses,
                self.exclude[r],
                self.opts,
                &mut self.scratch,
            );
            if let Some((dd, d)) = chosen {
                self.uses[d] += 1;
                let m = &mut self.matches[r];
                m.donor = Some(d);
                m.donor_id = Some(self.donors.ids[d]);
                m.distance = dd;
                if self.previous_donor[r] == Some(d) {
                    // Nothing better than the previous donor: no change.
                    m.status = MatchStatus::Kept;
                }
            }
        }
        Ok(())
    }

    /// The report of the finished matching.
    fn report(&self, previous_dropped: usize) -> FuseReport {
        let matches = &self.matches;
        let uses = &self.uses;
        let count = |s: MatchStatus| matches.iter().filter(|m| m.status == s).count();
        let matched: Vec<&Match> = matches.iter().filter(|m| m.donor.is_some()).collect();
        let mean_distance = if matched.is_empty() {
            0.0
        } else {
            matched.iter().map(|m| m.distance).sum::<f64>() / matched.len() as f64
        };
        let max_mean_difference = mean_differences(self.space, matches)
            .iter()
            .fold(0.0f64, |a, b| a.max(b.abs()));
        FuseReport {
            recipients: matches.len(),
            kept: count(MatchStatus::Kept),
            new: count(MatchStatus::New),
            rematched: count(MatchStatus::Rematched),
            drifted: count(MatchStatus::Drifted),
            rebalanced: count(MatchStatus::Rebalanced),
            unmatched: count(MatchStatus::Unmatched),
            previous_dropped,
            donors_used: uses.iter().filter(|&&u| u > 0).count(),
            donors_reused: uses.iter().filter(|&&u| u > 1).count(),
            max_donor_uses: uses.iter().copied().max().unwrap_or(0),
            mean_distance,
            max_mean_difference,
        }
    }
}

/// Row index by id.
fn index_of(ids: &[u64]) -> HashMap<u64, usize> {
    ids.iter().enumerate().map(|(i, &id)| (id, i)).collect()
}

/// Releases a kept match (rule 3): its recipient is matched again, to
/// another donor.
fn release(
    m: &mut Match,
    uses: &mut [usize],
    exclude: &mut [Option<usize>],
    todo: &mut Vec<usize>,
) {
    if let Some(d) = m.donor.take() {
        uses[d] -= 1;
        exclude[m.recipient] = Some(d);
    }
    m.donor_id = None;
    m.distance = 0.0;
    m.status = MatchStatus::Rebalanced;
    todo.push(m.recipient);
}

/// Per matching variable, the mean of `donor − recipient` over the matched
/// recipients (standardised units).
fn mean_differences(space: &Space, matches: &[Match]) -> Vec<f64> {
    let mut sum = vec![0.0; space.k];
    let mut n = 0usize;
    for m in matches {
        if let Some(d) = m.donor {
            n += 1;
            for (j, s) in sum.iter_mut().enumerate() {
                *s += space.diff(m.recipient, d, j);
            }
        }
    }
    if n > 0 {
        for s in &mut sum {
            *s /= n as f64;
        }
    }
    sum
}

/// Rule 4: the means of the matching variables over the donors and over the
/// recipients.
struct Rebalance<'s> {
    space: &'s Space,
    uses: &'s mut [usize],
    scratch: &'s mut Vec<f64>,
    opts: &'s FuseOptions,
}

impl Rebalance<'_> {
    /// While a matching variable's mean difference exceeds the tolerance, the
    /// kept matches are tried in decreasing order of their projection on the
    /// difference (largest `donor − recipient` along it first; ties: smaller
    /// recipient id): each is matched again by the usual rule without its
    /// donor, and the new match replaces it only when it reduces the
    /// difference (its Euclidean norm over the variables). Returns the number
    /// of matches replaced.
    fn run<'p>(
        &mut self,
        matches: &mut [Match],
        pool_of: impl Fn(usize) -> &'p [usize],
        donor_ids: &[u64],
    ) -> usize {
        let k = self.space.k;
        let tol = self.opts.balance_tolerance;
        let mut sum = vec![0.0; k];
        let mut n = 0usize;
        for m in matches.iter() {
            if let Some(d) = m.donor {
                n += 1;
                for (j, s) in sum.iter_mut().enumerate() {
                    *s += self.space.diff(m.recipient, d, j);
                }
            }
        }
        let within = |sum: &[f64]| sum.iter().all(|s| s.abs() <= tol * n as f64);
        if n == 0 || within(&sum) {
            return 0;
        }
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let unit: Vec<f64> = sum.iter().map(|x| x / norm(&sum)).collect();
        let mut candidates: Vec<(f64, usize)> = matches
            .iter()
            .filter(|m| m.status == MatchStatus::Kept)
            .filter_map(|m| {
                let d = m.donor?;
                let p: f64 = (0..k)
                    .map(|j| unit[j] * self.space.diff(m.recipient, d, j))
                    .sum();
                (p > 0.0).then_some((p, m.recipient))
            })
            .collect();
        candidates.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(matches[a.1].recipient_id.cmp(&matches[b.1].recipient_id))
        });
        let mut replaced = 0;
        let mut trial = vec![0.0; k];
        for (_, r) in candidates {
            if within(&sum) {
                break;
            }
            let Some(old) = matches[r].donor else {
                continue;
            };
            self.uses[old] -= 1;
            let pick = choose(
                self.space,
                r,
                pool_of(r),
                self.uses,
                Some(old),
                self.opts,
                self.scratch,
            );
            let better = pick.filter(|&(_, new)| {
                new != old && {
                    for (j, t) in trial.iter_mut().enumerate() {
                        *t = sum[j] - self.space.diff(r, old, j) + self.space.diff(r, new, j);
                    }
                    norm(&trial) < norm(&sum)
                }
            });
            match better {
                Some((dd, new)) => {
                    self.uses[new] += 1;
                    sum.copy_from_slice(&trial);
                    let m = &mut matches[r];
                    m.donor = Some(new);
                    m.donor_id = Some(donor_ids[new]);
                    m.distance = dd;
                    m.status = MatchStatus::Rebalanced;
                    replaced += 1;
                }
                None => self.uses[old] += 1,
            }
        }
        replaced
    }
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
    for (option, value) in [
        ("keep_tolerance", opts.keep_tolerance),
        ("balance_tolerance", opts.balance_tolerance),
    ] {
        if value.is_nan() || value < 0.0 {
            return Err(SurveyError::InvalidOption {
                option: option.to_string(),
                reason: format!("{value} is not a non-negative number"),
            });
        }
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
