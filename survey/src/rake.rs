//! Raking: iterative proportional fitting (IPF) of weights to marginal
//! targets on several categorical variables, with optional weight trimming.
//!
//! # Method
//!
//! 1. One pass over the rows builds the cell table (rows grouped by their
//!    tuple of level codes, base weights summed; see [`crate::cells`]) while
//!    validating codes and weights.
//! 2. Targets are normalised: `Shares` are scaled to the reference total (the
//!    first `Totals` target's sum, or the base-weight total); `Totals` must
//!    agree within [`RakeOptions::total_tolerance`] and are rescaled to the
//!    reference total exactly.
//! 3. IPF runs on the cells: each sweep adjusts every variable in turn,
//!    multiplying the cells of level `l` by `target[l] / margin[l]`. After
//!    each sweep the maximum relative marginal error
//!    `max |margin - target| / target` is compared with
//!    [`RakeOptions::tolerance`].
//! 4. Trimming (optional): bounds are `floor × mean` and `cap × mean`, where
//!    `mean = target total / rows with a positive base weight`. When the fit
//!    has converged but a row weight lies outside the bounds (beyond the
//!    relative tolerance), weights are clamped to the bounds and raked again;
//!    this repeats until both hold, or [`RakeOptions::max_trim_rounds`] or
//!    [`RakeOptions::max_iterations`] is reached. When base weights vary
//!    within a cell, trimming works on groups of rows sharing both cell and
//!    base weight, so it clamps each row exactly as a row-by-row
//!    implementation would.
//! 5. A second pass writes `weight[i] = base[i] × factor[cell(i)]`.
//!
//! Rows with a zero base weight keep a zero weight and are ignored by the
//! bounds.

use crate::cells::{margins_of, CellTable};
use crate::error::SurveyError;
use crate::input::{check_target_values, common_rows, CatVar, Target};

/// Options of [`rake`].
#[derive(Debug, Clone, PartialEq)]
pub struct RakeOptions {
    /// Convergence criterion: maximum relative marginal error (default 1e-6).
    pub tolerance: f64,
    /// Cap on IPF sweeps, over all trimming rounds (default 1000).
    pub max_iterations: usize,
    /// Accepted relative disagreement between target totals, and between a
    /// share vector's sum and 1 (default 1e-6).
    pub total_tolerance: f64,
    /// Upper bound on a row weight, as a multiple of the mean weight (≥ 1).
    pub cap: Option<f64>,
    /// Lower bound on a row weight, as a multiple of the mean weight (0..=1).
    pub floor: Option<f64>,
    /// Cap on trimming rounds (default 100).
    pub max_trim_rounds: usize,
}

impl Default for RakeOptions {
    fn default() -> Self {
        RakeOptions {
            tolerance: 1e-6,
            max_iterations: 1000,
            total_tolerance: 1e-6,
            cap: None,
            floor: None,
            max_trim_rounds: 100,
        }
    }
}

/// Fit of one variable's margin.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableFit {
    /// The variable's name.
    pub name: String,
    /// Largest `|margin - target|` over its levels, in weight units.
    pub max_abs_error: f64,
    /// Largest `|margin - target| / target` over its levels with a positive target.
    pub max_rel_error: f64,
}

/// What happened during a rake.
#[derive(Debug, Clone, PartialEq)]
pub struct RakeReport {
    /// IPF sweeps performed (over all trimming rounds).
    pub iterations: usize,
    /// Margins within tolerance and weights within the trimming bounds.
    pub converged: bool,
    /// Margins within tolerance.
    pub margins_converged: bool,
    /// All positive weights within the trimming bounds (relative slack
    /// `tolerance`); true without trimming.
    pub bounds_respected: bool,
    /// Maximum relative marginal error over all variables.
    pub max_rel_error: f64,
    /// Per-variable errors, in the order of the variables.
    pub variables: Vec<VariableFit>,
    /// Rows whose weight was clamped at least once.
    pub trimmed: usize,
    /// Trimming rounds performed.
    pub trim_rounds: usize,
    /// Non-empty cells (groups) the fit ran on.
    pub cells: usize,
    /// The total the weights sum to.
    pub target_total: f64,
    /// Absolute weight bounds `(lower, upper)` when trimming.
    pub weight_bounds: Option<(f64, f64)>,
}

/// Weights and report of [`rake`].
#[derive(Debug, Clone, PartialEq)]
pub struct RakeResult {
    /// The raked weight of every row.
    pub weights: Vec<f64>,
    /// Convergence report.
    pub report: RakeReport,
}

/// Rakes `base` weights (1 per row when `None`) so that the weighted margins
/// of `vars` match `targets` (one per variable, in the same order).
///
/// Returns an error for invalid input (see [`SurveyError`]); non-convergence
/// is not an error but is flagged in the report.
pub fn rake(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    base: Option<&[f64]>,
    opts: &RakeOptions,
) -> Result<RakeResult, SurveyError> {
    let n = common_rows(vars, "raking")?;
    let mut weights = vec![0.0; n];
    let report = rake_into(vars, targets, base, opts, &mut weights)?;
    Ok(RakeResult { weights, report })
}

/// As [`rake`], writing the weights into `out` (one entry per row). `out` is
/// also used as scratch space: after an error its contents are unspecified.
pub fn rake_into(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    base: Option<&[f64]>,
    opts: &RakeOptions,
    out: &mut [f64],
) -> Result<RakeReport, SurveyError> {
    validate_options(opts)?;
    let n = common_rows(vars, "raking")?;
    check_rows(n, base, out.len())?;
    let sums = check_target_values(vars, targets)?;
    let reference = check_totals(vars, targets, &sums, opts.total_tolerance)?;
    let trimming = opts.cap.is_some() || opts.floor.is_some();

    let table = CellTable::build(vars, base, n, trimming, out)?;
    if table.n_positive == 0 || table.base_total <= 0.0 {
        return Err(SurveyError::NoData {
            what: "all base weights are zero".to_string(),
        });
    }
    if !table.base_total.is_finite() {
        return Err(SurveyError::InvalidOption {
            option: "base weights".to_string(),
            reason: "their sum overflows".to_string(),
        });
    }
    let total = reference.unwrap_or(table.base_total);
    let target_totals = scale_targets(targets, &sums, total);
    let n_levels: Vec<usize> = vars.iter().map(|v| v.n_levels).collect();
    check_levels(vars, &target_totals, &table.margins(&n_levels))?;

    let table = match base {
        Some(b) if trimming && !table.uniform => table.refine_by_weight(vars, b, n)?,
        _ => table,
    };
    let bounds = trimming.then(|| weight_bounds(opts, total, table.n_positive));
    let mut w = table.base.clone();
    let positive = trimming.then_some(table.positive.as_slice());
    let fit = fit_groups(
        &table.levels,
        &n_levels,
        &target_totals,
        &mut w,
        positive,
        bounds,
        opts,
    );
    let factors: Vec<f64> = w
        .iter()
        .zip(&table.base)
        .map(|(&w, &b)| if b > 0.0 { w / b } else { 1.0 })
        .collect();
    table.apply(vars, base, &factors, out)?;
    Ok(fit.into_report(vars, table.n_cells(), total, bounds))
}

/// Checks the option domains.
pub(crate) fn validate_options(opts: &RakeOptions) -> Result<(), SurveyError> {
    let invalid = |option: &str, reason: String| {
        Err(SurveyError::InvalidOption {
            option: option.to_string(),
            reason,
        })
    };
    if !(opts.tolerance > 0.0 && opts.tolerance.is_finite()) {
        return invalid(
            "tolerance",
            format!("{} is not a positive number", opts.tolerance),
        );
    }
    if !(opts.total_tolerance >= 0.0 && opts.total_tolerance.is_finite()) {
        return invalid(
            "total_tolerance",
            format!("{} is not a non-negative number", opts.total_tolerance),
        );
    }
    if opts.max_iterations == 0 {
        return invalid("max_iterations", "0 sweeps cannot fit anything".to_string());
    }
    if let Some(cap) = opts.cap {
        if !(cap >= 1.0 && cap.is_finite()) {
            return invalid(
                "cap",
                format!("{cap} is not a finite multiple of the mean weight >= 1"),
            );
        }
    }
    if let Some(floor) = opts.floor {
        if !(0.0..=1.0).contains(&floor) {
            return invalid(
                "floor",
                format!("{floor} is not a multiple of the mean weight in 0..=1"),
            );
        }
    }
    Ok(())
}

/// Checks the base-weight and output lengths against the row count.
pub(crate) fn check_rows(n: usize, base: Option<&[f64]>, out: usize) -> Result<(), SurveyError> {
    if n == 0 {
        return Err(SurveyError::NoData {
            what: "the sample has no rows".to_string(),
        });
    }
    if let Some(base) = base {
        if base.len() != n {
            return Err(SurveyError::LengthMismatch {
                what: "base weights".to_string(),
                expected: n,
                found: base.len(),
            });
        }
    }
    if out != n {
        return Err(SurveyError::LengthMismatch {
            what: "output weights".to_string(),
            expected: n,
            found: out,
        });
    }
    Ok(())
}

/// Checks that shares sum to 1 and totals agree; returns the reference total
/// fixed by the first `Totals` target, if any.
pub(crate) fn check_totals(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    sums: &[f64],
    tolerance: f64,
) -> Result<Option<f64>, SurveyError> {
    let mut reference: Option<(usize, f64)> = None;
    for (i, (target, &sum)) in targets.iter().zip(sums).enumerate() {
        match target {
            Target::Shares(_) => {
                if (sum - 1.0).abs() > tolerance {
                    return Err(SurveyError::SharesDoNotSumToOne {
                        variable: vars[i].name.to_string(),
                        sum,
                        tolerance,
                    });
                }
            }
            Target::Totals(_) => match reference {
                None => reference = Some((i, sum)),
                Some((r, total)) => {
                    let rel_diff = (sum - total).abs() / total;
                    if rel_diff > tolerance {
                        return Err(SurveyError::InconsistentTargets {
                            variable: vars[i].name.to_string(),
                            total: sum,
                            reference_variable: vars[r].name.to_string(),
                            reference_total: total,
                            rel_diff,
                            tolerance,
                        });
                    }
                }
            },
        }
    }
    Ok(reference.map(|(_, t)| t))
}

/// Scales every target vector to sum to `total`.
pub(crate) fn scale_targets(targets: &[Target<'_>], sums: &[f64], total: f64) -> Vec<Vec<f64>> {
    targets
        .iter()
        .zip(sums)
        .map(|(t, &sum)| t.values().iter().map(|&x| x / sum * total).collect())
        .collect()
}

/// Rejects levels with a target but no sample weight, and the reverse.
pub(crate) fn check_levels(
    vars: &[CatVar<'_>],
    targets: &[Vec<f64>],
    margins: &[Vec<f64>],
) -> Result<(), SurveyError> {
    for ((var, t), m) in vars.iter().zip(targets).zip(margins) {
        for (level, (&t, &m)) in t.iter().zip(m).enumerate() {
            if t > 0.0 && m <= 0.0 {
                return Err(SurveyError::EmptyLevel {
                    variable: var.name.to_string(),
                    level: var.level_name(level),
                    target: t,
                });
            }
            if t <= 0.0 && m > 0.0 {
                return Err(SurveyError::MissingTarget {
                    variable: var.name.to_string(),
                    level: var.level_name(level),
                    sample_weight: m,
                });
            }
        }
    }
    Ok(())
}

/// Absolute `(lower, upper)` row-weight bounds.
pub(crate) fn weight_bounds(opts: &RakeOptions, total: f64, n_positive: usize) -> (f64, f64) {
    let mean = total / n_positive as f64;
    (
        opts.floor.map_or(0.0, |f| f * mean),
        opts.cap.map_or(f64::INFINITY, |c| c * mean),
    )
}

/// Per-variable `(max abs error, max rel error)` of `margins` against `targets`.
pub(crate) fn margin_errors(targets: &[Vec<f64>], margins: &[Vec<f64>]) -> Vec<(f64, f64)> {
    targets
        .iter()
        .zip(margins)
        .map(|(t, m)| {
            let mut abs: f64 = 0.0;
            let mut rel: f64 = 0.0;
            for (&t, &m) in t.iter().zip(m) {
                let d = (m - t).abs();
                abs = abs.max(d);
                if t > 0.0 {
                    rel = rel.max(d / t);
                } else if m > 0.0 {
                    rel = f64::INFINITY;
                }
            }
            (abs, rel)
        })
        .collect()
}

/// Whether a positive row weight `x` lies within `(lo, hi)`, with relative
/// slack `tol`.
pub(crate) fn within(x: f64, (lo, hi): (f64, f64), tol: f64) -> bool {
    x <= hi * (1.0 + tol) && x >= lo * (1.0 - tol)
}

/// Outcome of the IPF loop.
#[derive(Debug, Clone)]
pub(crate) struct Fit {
    pub iterations: usize,
    pub margins_converged: bool,
    pub bounds_respected: bool,
    pub errors: Vec<(f64, f64)>,
    pub trimmed: usize,
    pub trim_rounds: usize,
}

impl Fit {
    pub(crate) fn into_report(
        self,
        vars: &[CatVar<'_>],
        cells: usize,
        total: f64,
        bounds: Option<(f64, f64)>,
    ) -> RakeReport {
        let max_rel_error = self.errors.iter().fold(0.0f64, |a, e| a.max(e.1));
        RakeReport {
            iterations: self.iterations,
            converged: self.margins_converged && self.bounds_respected,
            margins_converged: self.margins_converged,
            bounds_respected: self.bounds_respected,
            max_rel_error,
            variables: vars
                .iter()
                .zip(&self.errors)
                .map(|(v, &(abs, rel))| VariableFit {
                    name: v.name.to_string(),
                    max_abs_error: abs,
                    max_rel_error: rel,
                })
                .collect(),
            trimmed: self.trimmed,
            trim_rounds: self.trim_rounds,
            cells,
            target_total: total,
            weight_bounds: bounds,
        }
    }
}

/// IPF with optional trimming on groups of rows.
///
/// `w[g]` is the total weight of group `g` (updated in place), `positive[g]`
/// its number of positive-weight rows (all of which share one weight; only
/// needed with `bounds`).
pub(crate) fn fit_groups(
    levels: &[Vec<u32>],
    n_levels: &[usize],
    targets: &[Vec<f64>],
    w: &mut [f64],
    positive: Option<&[f64]>,
    bounds: Option<(f64, f64)>,
    opts: &RakeOptions,
) -> Fit {
    let mut trimmed = vec![false; w.len()];
    let mut iterations = 0;
    let mut trim_rounds = 0;
    let mut margins_converged;
    let mut factors: Vec<Vec<f64>> = n_levels.iter().map(|&n| vec![1.0; n]).collect();
    loop {
        for ((lv, t), f) in levels.iter().zip(targets).zip(factors.iter_mut()) {
            f.iter_mut().for_each(|x| *x = 0.0);
            for (&l, &x) in lv.iter().zip(w.iter()) {
                f[l as usize] += x;
            }
            for (f, &t) in f.iter_mut().zip(t) {
                *f = if *f > 0.0 { t / *f } else { 1.0 };
            }
            for (&l, x) in lv.iter().zip(w.iter_mut()) {
                *x *= f[l as usize];
            }
        }
        iterations += 1;
        let errors = margin_errors(targets, &margins_of(levels, n_levels, w));
        margins_converged = errors.iter().all(|e| e.1 <= opts.tolerance);
        if margins_converged {
            let (Some(bounds), Some(positive)) = (bounds, positive) else {
                break;
            };
            if groups_within(w, positive, bounds, opts.tolerance)
                || trim_rounds >= opts.max_trim_rounds
            {
                break;
            }
            for ((x, &p), flag) in w.iter_mut().zip(positive).zip(trimmed.iter_mut()) {
                if p > 0.0 {
                    let row = *x / p;
                    let clamped = row.clamp(bounds.0, bounds.1);
                    if clamped != row {
                        *x = clamped * p;
                        *flag = true;
                    }
                }
            }
            trim_rounds += 1;
        }
        if iterations >= opts.max_iterations {
            break;
        }
    }
    let errors = margin_errors(targets, &margins_of(levels, n_levels, w));
    margins_converged = errors.iter().all(|e| e.1 <= opts.tolerance);
    let bounds_respected = match (bounds, positive) {
        (Some(b), Some(p)) => groups_within(w, p, b, opts.tolerance),
        _ => true,
    };
    let trimmed_rows = match positive {
        Some(p) => trimmed
            .iter()
            .zip(p)
            .filter(|(f, _)| **f)
            .map(|(_, &p)| p as usize)
            .sum(),
        None => 0,
    };
    Fit {
        iterations,
        margins_converged,
        bounds_respected,
        errors,
        trimmed: trimmed_rows,
        trim_rounds,
    }
}

/// Whether every group's row weight lies within the bounds.
fn groups_within(w: &[f64], positive: &[f64], bounds: (f64, f64), tol: f64) -> bool {
    w.iter()
        .zip(positive)
        .all(|(&x, &p)| p <= 0.0 || within(x / p, bounds, tol))
}
