//! A plain row-by-row raking implementation, kept as the yardstick for
//! [`crate::rake()`].
//!
//! It follows the textbook algorithm literally: every sweep recomputes each
//! variable's margin by summing the row weights, then multiplies every row by
//! its level's `target / margin`; trimming clamps every row. It validates its
//! input the same way and follows the same stopping rules, so its weights
//! agree with [`crate::rake()`] up to floating-point rounding. It is slow (every
//! sweep touches every row) and meant for tests.

use crate::error::SurveyError;
use crate::input::{check_target_values, common_rows, CatVar, Target};
use crate::rake::{
    check_levels, check_rows, check_totals, margin_errors, scale_targets, validate_options,
    weight_bounds, within, Fit, RakeOptions, RakeResult,
};

/// Row-by-row raking with the semantics of [`crate::rake()`].
pub fn rake_rows(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    base: Option<&[f64]>,
    opts: &RakeOptions,
) -> Result<RakeResult, SurveyError> {
    validate_options(opts)?;
    let n = common_rows(vars, "raking")?;
    check_rows(n, base, n)?;
    let sums = check_target_values(vars, targets)?;
    let reference = check_totals(vars, targets, &sums, opts.total_tolerance)?;
    for var in vars {
        var.check_codes()?;
    }
    let mut w: Vec<f64> = match base {
        Some(b) => b.to_vec(),
        None => vec![1.0; n],
    };
    for (row, &x) in w.iter().enumerate() {
        if !(x >= 0.0 && x.is_finite()) {
            return Err(SurveyError::InvalidWeight { row, value: x });
        }
    }
    let base_total: f64 = w.iter().sum();
    let n_positive = w.iter().filter(|&&x| x > 0.0).count();
    if n_positive == 0 {
        return Err(SurveyError::NoData {
            what: "all base weights are zero".to_string(),
        });
    }
    if !base_total.is_finite() {
        return Err(SurveyError::InvalidOption {
            option: "base weights".to_string(),
            reason: "their sum overflows".to_string(),
        });
    }
    let total = reference.unwrap_or(base_total);
    let targets = scale_targets(targets, &sums, total);
    check_levels(vars, &targets, &row_margins(vars, &w))?;

    let trimming = opts.cap.is_some() || opts.floor.is_some();
    let bounds = trimming.then(|| weight_bounds(opts, total, n_positive));
    let mut trimmed = vec![false; n];
    let mut iterations = 0;
    let mut trim_rounds = 0;
    loop {
        for (var, t) in vars.iter().zip(&targets) {
            let m = row_margin(var, &w);
            for (x, code) in w.iter_mut().zip(var.codes) {
                let level = code as usize;
                if m[level] > 0.0 {
                    *x *= t[level] / m[level];
                }
            }
        }
        iterations += 1;
        let errors = margin_errors(&targets, &row_margins(vars, &w));
        if errors.iter().all(|e| e.1 <= opts.tolerance) {
            let Some(b) = bounds else { break };
            if rows_within(&w, b, opts.tolerance) || trim_rounds >= opts.max_trim_rounds {
                break;
            }
            for (x, flag) in w.iter_mut().zip(trimmed.iter_mut()) {
                if *x > 0.0 {
                    let clamped = x.clamp(b.0, b.1);
                    if clamped != *x {
                        *x = clamped;
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
    let errors = margin_errors(&targets, &row_margins(vars, &w));
    let fit = Fit {
        iterations,
        margins_converged: errors.iter().all(|e| e.1 <= opts.tolerance),
        bounds_respected: bounds.is_none_or(|b| rows_within(&w, b, opts.tolerance)),
        errors,
        trimmed: trimmed.iter().filter(|&&f| f).count(),
        trim_rounds,
    };
    let report = fit.into_report(vars, n, total, bounds);
    Ok(RakeResult { weights: w, report })
}

/// The weighted margin of one variable, summed row by row.
fn row_margin(var: &CatVar<'_>, w: &[f64]) -> Vec<f64> {
    let mut m = vec![0.0; var.n_levels];
    for (code, &x) in var.codes.iter().zip(w) {
        m[code as usize] += x;
    }
    m
}

/// The weighted margins of all variables.
fn row_margins(vars: &[CatVar<'_>], w: &[f64]) -> Vec<Vec<f64>> {
    vars.iter().map(|v| row_margin(v, w)).collect()
}

/// Whether every positive row weight lies within the bounds.
fn rows_within(w: &[f64], bounds: (f64, f64), tol: f64) -> bool {
    w.iter().all(|&x| x <= 0.0 || within(x, bounds, tol))
}
