//! The single error type of the crate.
//!
//! Every kernel validates its input and returns a [`SurveyError`] instead of
//! panicking. Each variant is plain data (so a caller can inspect or
//! serialise it), carries a stable code (`S001`…, see [`SurveyError::code`])
//! and renders a human message that names the variable and level concerned.

use std::fmt;

/// An error raised by one of the survey kernels.
///
/// The codes are stable: a variant keeps its code forever and new variants get
/// new codes.
#[derive(Debug, Clone, PartialEq)]
pub enum SurveyError {
    /// `S001`: two inputs that must have the same length do not.
    LengthMismatch {
        /// What was measured, e.g. `base weights` or `codes of variable 'sex'`.
        what: String,
        /// The expected length.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// `S002`: a level code is not below the variable's number of levels.
    LevelOutOfRange {
        /// The variable's name.
        variable: String,
        /// The row holding the code.
        row: usize,
        /// The offending code.
        code: u32,
        /// The variable's number of levels.
        n_levels: usize,
    },
    /// `S003`: a weight is negative, NaN or infinite.
    InvalidWeight {
        /// The row holding the weight.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// `S004`: a target is negative, NaN or infinite, or all targets of a
    /// variable are zero.
    InvalidTarget {
        /// The variable's name.
        variable: String,
        /// The level's label (or `level N`), or `all levels`.
        level: String,
        /// The offending value (the sum for `all levels`).
        value: f64,
    },
    /// `S005`: a variable's target vector does not have one entry per level.
    TargetLevelCount {
        /// The variable's name.
        variable: String,
        /// The variable's number of levels.
        expected: usize,
        /// The number of targets given.
        found: usize,
    },
    /// `S006`: target shares do not sum to one within the tolerance.
    SharesDoNotSumToOne {
        /// The variable's name.
        variable: String,
        /// The sum of its shares.
        sum: f64,
        /// The accepted relative deviation.
        tolerance: f64,
    },
    /// `S007`: target totals disagree across variables beyond the tolerance.
    InconsistentTargets {
        /// The variable whose total disagrees.
        variable: String,
        /// Its total.
        total: f64,
        /// The variable that fixed the reference total.
        reference_variable: String,
        /// The reference total.
        reference_total: f64,
        /// `|total - reference_total| / reference_total`.
        rel_diff: f64,
        /// The accepted relative difference.
        tolerance: f64,
    },
    /// `S008`: a level has a positive target but no sample row with a
    /// positive weight (an empty cell of the margin): raking cannot reach it.
    EmptyLevel {
        /// The variable's name.
        variable: String,
        /// The level's label (or `level N`).
        level: String,
        /// The (normalised) target total of the level.
        target: f64,
    },
    /// `S009`: sample rows carry a level whose target is zero (a sample level
    /// without a target).
    MissingTarget {
        /// The variable's name.
        variable: String,
        /// The level's label (or `level N`).
        level: String,
        /// The base weight carried by the level in the sample.
        sample_weight: f64,
    },
    /// `S010`: there is nothing to work on (no rows, no variables, zero total
    /// weight).
    NoData {
        /// What is missing.
        what: String,
    },
    /// `S011`: an option is out of its domain.
    InvalidOption {
        /// The option's name.
        option: String,
        /// Why the value is refused, with the value.
        reason: String,
    },
    /// `S012`: a numeric input (e.g. a matching variable) is NaN or infinite.
    InvalidValue {
        /// Which input.
        what: String,
        /// The row holding the value.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// `S013`: an identifier occurs twice where identifiers must be unique.
    DuplicateId {
        /// Which input.
        what: String,
        /// The duplicated identifier.
        id: u64,
    },
    /// `S014`: a recipient's stratum holds no donor.
    NoDonor {
        /// The recipient's identifier.
        recipient: u64,
        /// The stratum, as `variable=level` pairs.
        stratum: String,
    },
}

impl SurveyError {
    /// The stable code of the error, `S001` to `S014`.
    pub fn code(&self) -> &'static str {
        match self {
            SurveyError::LengthMismatch { .. } => "S001",
            SurveyError::LevelOutOfRange { .. } => "S002",
            SurveyError::InvalidWeight { .. } => "S003",
            SurveyError::InvalidTarget { .. } => "S004",
            SurveyError::TargetLevelCount { .. } => "S005",
            SurveyError::SharesDoNotSumToOne { .. } => "S006",
            SurveyError::InconsistentTargets { .. } => "S007",
            SurveyError::EmptyLevel { .. } => "S008",
            SurveyError::MissingTarget { .. } => "S009",
            SurveyError::NoData { .. } => "S010",
            SurveyError::InvalidOption { .. } => "S011",
            SurveyError::InvalidValue { .. } => "S012",
            SurveyError::DuplicateId { .. } => "S013",
            SurveyError::NoDonor { .. } => "S014",
        }
    }

    /// The human message, without the code.
    pub fn message(&self) -> String {
        match self {
            SurveyError::LengthMismatch {
                what,
                expected,
                found,
            } => format!("{what} has {found} entries, expected {expected}"),
            SurveyError::LevelOutOfRange {
                variable,
                row,
                code,
                n_levels,
            } => format!(
                "variable '{variable}' has level code {code} at row {row}, \
                 but only {n_levels} levels (codes 0..{n_levels})"
            ),
            SurveyError::InvalidWeight { row, value } => {
                format!("weight {value} at row {row} is not a finite non-negative number")
            }
            SurveyError::InvalidTarget {
                variable,
                level,
                value,
            } => format!(
                "target of variable '{variable}' for {level} is {value}; \
                 targets must be finite, non-negative and not all zero"
            ),
            SurveyError::TargetLevelCount {
                variable,
                expected,
                found,
            } => format!(
                "variable '{variable}' has {expected} levels but {found} targets were given"
            ),
            SurveyError::SharesDoNotSumToOne {
                variable,
                sum,
                tolerance,
            } => format!(
                "target shares of variable '{variable}' sum to {sum:.6}, not 1 \
                 (tolerance {tolerance:e}); give totals or fix the shares"
            ),
            SurveyError::InconsistentTargets {
                variable,
                total,
                reference_variable,
                reference_total,
                rel_diff,
                tolerance,
            } => format!(
                "inconsistent targets: variable '{variable}' totals {total} but \
                 variable '{reference_variable}' totals {reference_total} \
                 (relative difference {rel_diff:.3e} > tolerance {tolerance:.3e})"
            ),
            SurveyError::EmptyLevel {
                variable,
                level,
                target,
            } => format!(
                "empty cell: variable '{variable}' level '{level}' has target {target} \
                 but no sample row with a positive weight; merge the level or drop its target"
            ),
            SurveyError::MissingTarget {
                variable,
                level,
                sample_weight,
            } => format!(
                "variable '{variable}' level '{level}' is in the sample (weight {sample_weight}) \
                 but has no target (target 0); give it a target or drop those rows"
            ),
            SurveyError::NoData { what } => format!("no data: {what}"),
            SurveyError::InvalidOption { option, reason } => {
                format!("invalid option '{option}': {reason}")
            }
            SurveyError::InvalidValue { what, row, value } => {
                format!("{what} is {value} at row {row}; a finite number is required")
            }
            SurveyError::DuplicateId { what, id } => {
                format!("{what}: identifier {id} occurs more than once")
            }
            SurveyError::NoDonor { recipient, stratum } => format!(
                "recipient {recipient} is in stratum {stratum}, which has no donor; \
                 collapse strata or allow unmatched recipients"
            ),
        }
    }
}

impl fmt::Display for SurveyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for SurveyError {}
