//! Columnar inputs shared by the kernels: categorical variables as level codes
//! and marginal targets.
//!
//! A categorical variable is a column of level codes, one per row, with
//! codes in `0..n_levels`, borrowed in the width it is held in ([`Codes`]: the
//! physical codes of a polars `Categorical`/`Enum` column map directly onto it). Labels are optional and only used in error
//! messages and metric names.

use crate::codes::Codes;
use crate::error::SurveyError;

/// A categorical column: one level code per row, codes in `0..n_levels`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatVar<'a> {
    /// The variable's name, used in messages and metric names.
    pub name: &'a str,
    /// One level code per row.
    pub codes: Codes<'a>,
    /// The number of levels; every code must be below it.
    pub n_levels: usize,
    /// Optional level labels (`n_levels` of them), used in messages.
    pub labels: Option<&'a [&'a str]>,
}

impl<'a> CatVar<'a> {
    /// A variable without labels; `codes` is a slice (or `Vec`) of `u8`, `u16` or `u32`.
    pub fn new(name: &'a str, codes: impl Into<Codes<'a>>, n_levels: usize) -> Self {
        CatVar {
            name,
            codes: codes.into(),
            n_levels,
            labels: None,
        }
    }

    /// The same variable with level labels (one per level).
    pub fn with_labels(self, labels: &'a [&'a str]) -> Self {
        CatVar {
            labels: Some(labels),
            ..self
        }
    }

    /// The label of a level, or `level N` when there are no labels.
    pub fn level_name(&self, level: usize) -> String {
        match self.labels.and_then(|l| l.get(level)) {
            Some(label) => (*label).to_string(),
            None => format!("level {level}"),
        }
    }

    /// Checks the row count and the label count (not the codes themselves).
    pub(crate) fn check_shape(&self, n_rows: usize) -> Result<(), SurveyError> {
        if self.codes.len() != n_rows {
            return Err(SurveyError::LengthMismatch {
                what: format!("codes of variable '{}'", self.name),
                expected: n_rows,
                found: self.codes.len(),
            });
        }
        if let Some(labels) = self.labels {
            if labels.len() != self.n_levels {
                return Err(SurveyError::LengthMismatch {
                    what: format!("labels of variable '{}'", self.name),
                    expected: self.n_levels,
                    found: labels.len(),
                });
            }
        }
        if self.n_levels == 0 || self.n_levels > u32::MAX as usize {
            return Err(SurveyError::InvalidOption {
                option: format!("n_levels of variable '{}'", self.name),
                reason: format!("{} is not in 1..=2^32-1", self.n_levels),
            });
        }
        Ok(())
    }

    /// Checks that every code is below `n_levels`; returns the first offender.
    pub(crate) fn check_codes(&self) -> Result<(), SurveyError> {
        let n = self.n_levels as u64;
        match self.codes.first_at_least(0, self.codes.len(), n) {
            None => Ok(()),
            Some(row) => Err(self.out_of_range(row)),
        }
    }

    /// The error for an out-of-range code at `row` (which must exist).
    pub(crate) fn out_of_range(&self, row: usize) -> SurveyError {
        SurveyError::LevelOutOfRange {
            variable: self.name.to_string(),
            row,
            code: self.codes.get(row).unwrap_or(u32::MAX),
            n_levels: self.n_levels,
        }
    }
}

/// Marginal targets of one variable, one value per level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    /// Population shares; they must sum to 1 (within the total tolerance) and
    /// are scaled to the reference total (the first `Totals` target's sum, or
    /// the sample's base-weight total).
    Shares(&'a [f64]),
    /// Population totals; all `Totals` targets must agree on their sum.
    Totals(&'a [f64]),
}

impl<'a> Target<'a> {
    /// The values, whatever their kind.
    pub fn values(&self) -> &'a [f64] {
        match self {
            Target::Shares(v) | Target::Totals(v) => v,
        }
    }
}

/// The common row count of `vars`, checking each variable's shape.
pub(crate) fn common_rows(vars: &[CatVar<'_>], what: &str) -> Result<usize, SurveyError> {
    let Some(first) = vars.first() else {
        return Err(SurveyError::NoData {
            what: format!("no {what} variables given"),
        });
    };
    let n = first.codes.len();
    for v in vars {
        v.check_shape(n)?;
    }
    Ok(n)
}

/// Checks targets' count, lengths and values (finite, non-negative, not all
/// zero), returning their sums.
pub(crate) fn check_target_values(
    vars: &[CatVar<'_>],
    targets: &[Target<'_>],
) -> Result<Vec<f64>, SurveyError> {
    if targets.len() != vars.len() {
        return Err(SurveyError::LengthMismatch {
            what: "targets (one per variable)".to_string(),
            expected: vars.len(),
            found: targets.len(),
        });
    }
    let mut sums = Vec::with_capacity(vars.len());
    for (var, target) in vars.iter().zip(targets) {
        let values = target.values();
        if values.len() != var.n_levels {
            return Err(SurveyError::TargetLevelCount {
                variable: var.name.to_string(),
                expected: var.n_levels,
                found: values.len(),
            });
        }
        for (level, &value) in values.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SurveyError::InvalidTarget {
                    variable: var.name.to_string(),
                    level: var.level_name(level),
                    value,
                });
            }
        }
        let sum: f64 = values.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(SurveyError::InvalidTarget {
                variable: var.name.to_string(),
                level: "all levels".to_string(),
                value: sum,
            });
        }
        sums.push(sum);
    }
    Ok(sums)
}
