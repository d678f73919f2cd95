//! `flowc-survey`: the numerical kernels of flowc's survey standard library.
//!
//! The kernels work on columnar slices, so they can be wrapped as built-in
//! pipeline steps over any columnar engine:
//!
//! - [`rake()`]: iterative proportional fitting of weights to marginal targets
//!   (with trimming), on the cell table rather than the rows;
//! - [`weighting_quality`]: marginal errors, Kish design effect, effective
//!   sample size and weight extremes, as ordered metrics;
//! - [`select_active`]: stratified selection of a share of rows, keeping the
//!   strata's shares, deterministic for a seed;
//! - [`fuse`]: statistical matching of recipients to donors within strata,
//!   keeping previous matches where possible;
//! - [`synth`]: a deterministic synthetic panel with population targets.
//!
//! Categorical variables are [`CatVar`]s (level codes, one per row, as `u8`,
//! `u16` or `u32`: [`Codes`]);
//! targets are [`Target`]s (shares or totals per level). Every function
//! validates its input and returns a [`SurveyError`] with a stable code
//! instead of panicking; every output is deterministic.
//!
//! ```
//! use flowc_survey::synth::{synth_panel, synth_targets};
//! use flowc_survey::{rake, weighting_quality, RakeOptions};
//!
//! let panel = synth_panel(42, 10_000);
//! let targets = synth_targets();
//! let raked = rake(
//!     &panel.vars(),
//!     &targets.targets(),
//!     Some(&panel.base_weight),
//!     &RakeOptions { cap: Some(4.0), ..RakeOptions::default() },
//! )?;
//! assert!(raked.report.converged && raked.report.max_rel_error <= 1e-6);
//! let quality = weighting_quality(&panel.vars(), &targets.targets(), &raked.weights)?;
//! assert!(quality.kish_deff > 1.0);
//! # Ok::<(), flowc_survey::SurveyError>(())
//! ```

#![warn(missing_docs)]

pub mod cells;
pub mod codes;
pub mod error;
pub mod fuse;
pub mod input;
pub mod quality;
pub mod rake;
pub mod reference;
mod rng;
pub mod select;
mod strata;
pub mod synth;

pub use codes::{Code, Codes};
pub use error::SurveyError;
pub use fuse::{fuse, FuseOptions, FuseReport, FuseSide, Fusion, Match, MatchStatus};
pub use input::{CatVar, Target};
pub use quality::{weighting_quality, LevelError, MarginalErrors, WeightingQuality};
pub use rake::{rake, rake_into, RakeOptions, RakeReport, RakeResult, VariableFit};
pub use select::{select_active, SelectOptions, Selection, StratumAllocation};
pub use synth::{
    synth_demographics, synth_panel, synth_targets, SynthDemographics, SynthPanel, SynthTargets,
};
