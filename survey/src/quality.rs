//! Weighting quality: how well weights hit the marginal targets, and what
//! they cost in precision.
//!
//! - Marginal errors per variable and level, on shares: the achieved share
//!   `Σ_{level} w / Σ w` against the target share; absolute error in share
//!   points, relative error `|achieved - target| / target`.
//! - Kish design effect due to weighting `deff = n Σw² / (Σw)²` and effective
//!   sample size `n_eff = (Σw)² / Σw² = n / deff`, where `n` counts the rows
//!   with a positive weight (zero-weight rows are out of the sample).
//! - Weight extremes: minimum and maximum positive weight and their ratio.
//!
//! [`WeightingQuality::metrics`] flattens everything into an ordered list of
//! `(name, value)` pairs for a Metrics output.

use crate::error::SurveyError;
use crate::input::{check_target_values, CatVar, Target};

/// Error of one level's margin.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelError {
    /// The level's label (or `level N`).
    pub level: String,
    /// Target share of the level.
    pub target_share: f64,
    /// Weighted share achieved.
    pub achieved_share: f64,
    /// `achieved_share - target_share` (signed).
    pub abs_error: f64,
    /// `|achieved_share - target_share| / target_share` (0 when both are 0,
    /// infinite when only the target is 0).
    pub rel_error: f64,
}

/// Marginal errors of one variable.
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalErrors {
    /// The variable's name.
    pub variable: String,
    /// One entry per level.
    pub levels: Vec<LevelError>,
    /// Largest `|abs_error|` over the levels.
    pub max_abs_error: f64,
    /// Largest `rel_error` over the levels.
    pub max_rel_error: f64,
}

/// Quality indicators of a set of weights.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightingQuality {
    /// Rows.
    pub n_rows: usize,
    /// Rows with a positive weight.
    pub n_positive: usize,
    /// Sum of the weights.
    pub sum_weights: f64,
    /// Mean positive weight.
    pub mean_weight: f64,
    /// Smallest positive weight.
    pub min_weight: f64,
    /// Largest weight.
    pub max_weight: f64,
    /// `max_weight / min_weight`.
    pub weight_ratio: f64,
    /// Coefficient of variation of the positive weights (population form).
    pub cv_weights: f64,
    /// Kish design effect due to weighting, `n Σw² / (Σw)²`.
    pub kish_deff: f64,
    /// Effective sample size, `(Σw)² / Σw²`.
    pub effective_n: f64,
    /// Largest `|abs_error|` over all variables.
    pub max_abs_error: f64,
    /// Largest `rel_error` over all variables.
    pub max_rel_error: f64,
    /// Per-variable marginal errors, in the order of the variables.
    pub variables: Vec<MarginalErrors>,
}

impl WeightingQuality {
    /// The indicators as an ordered list of `(name, value)` pairs: global
    /// indicators first, then `margin.<variable>.max_abs_error` and
    /// `margin.<variable>.max_rel_error` per variable.
    pub fn metrics(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = vec![
            ("n_rows".to_string(), self.n_rows as f64),
            ("n_positive".to_string(), self.n_positive as f64),
            ("sum_weights".to_string(), self.sum_weights),
            ("mean_weight".to_string(), self.mean_weight),
            ("min_weight".to_string(), self.min_weight),
            ("max_weight".to_string(), self.max_weight),
            ("weight_ratio".to_string(), self.weight_ratio),
            ("cv_weights".to_string(), self.cv_weights),
            ("kish_deff".to_string(), self.kish_deff),
            ("effective_n".to_string(), self.effective_n),
            ("margin.max_abs_error".to_string(), self.max_abs_error),
            ("margin.max_rel_error".to_string(), self.max_rel_error),
        ];
        for v in &self.variables {
            out.push((
                format!("margin.{}.max_abs_error", v.variable),
                v.max_abs_error,
            ));
            out.push((
                format!("margin.{}.max_rel_error", v.variable),
                v.max_rel_error,
            ));
        }
        out
    }
}

/// Computes the quality indicators of `weights` against `targets` (one per
/// variable; shares or totals, compared as shares). `vars` may be empty for
/// the weight indicators alone.
pub fn weighting_quality(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
    weights: &[f64],
) -> Result<WeightingQuality, SurveyError> {
    let n = weights.len();
    for v in vars {
        v.check_shape(n)?;
        v.check_codes()?;
    }
    let sums = check_target_values(vars, targets)?;
    let mut sum = 0.0;
    let mut sum_sq = 0.0;
    let mut n_positive = 0usize;
    let mut min = f64::INFINITY;
    let mut max: f64 = 0.0;
    for (row, &w) in weights.iter().enumerate() {
        if !(w >= 0.0 && w.is_finite()) {
            return Err(SurveyError::InvalidWeight { row, value: w });
        }
        if w > 0.0 {
            sum += w;
            sum_sq += w * w;
            n_positive += 1;
            min = min.min(w);
            max = max.max(w);
        }
    }
    if n_positive == 0 {
        return Err(SurveyError::NoData {
            what: "no positive weight".to_string(),
        });
    }
    let np = n_positive as f64;
    let mean = sum / np;
    let variance = (sum_sq / np - mean * mean).max(0.0);
    let kish_deff = np * sum_sq / (sum * sum);

    let mut variables = Vec::with_capacity(vars.len());
    let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
    for ((var, target), &tsum) in vars.iter().zip(targets).zip(&sums) {
        let mut m = vec![0.0; var.n_levels];
        for (c, &w) in var.codes.iter().zip(weights) {
            m[c as usize] += w;
        }
        let levels: Vec<LevelError> = target
            .values()
            .iter()
            .zip(&m)
            .enumerate()
            .map(|(level, (&t, &m))| {
                let target_share = t / tsum;
                let achieved_share = m / sum;
                let abs_error = achieved_share - target_share;
                let rel_error = if target_share > 0.0 {
                    abs_error.abs() / target_share
                } else if achieved_share > 0.0 {
                    f64::INFINITY
                } else {
                    0.0
                };
                LevelError {
                    level: var.level_name(level),
                    target_share,
                    achieved_share,
                    abs_error,
                    rel_error,
                }
            })
            .collect();
        let va = levels.iter().fold(0.0f64, |a, l| a.max(l.abs_error.abs()));
        let vr = levels.iter().fold(0.0f64, |a, l| a.max(l.rel_error));
        max_abs = max_abs.max(va);
        max_rel = max_rel.max(vr);
        variables.push(MarginalErrors {
            variable: var.name.to_string(),
            levels,
            max_abs_error: va,
            max_rel_error: vr,
        });
    }
    Ok(WeightingQuality {
        n_rows: n,
        n_positive,
        sum_weights: sum,
        mean_weight: mean,
        min_weight: min,
        max_weight: max,
        weight_ratio: max / min,
        cv_weights: variance.sqrt() / mean,
        kish_deff,
        effective_n: sum * sum / sum_sq,
        max_abs_error: max_abs,
        max_rel_error: max_rel,
        variables,
    })
}
