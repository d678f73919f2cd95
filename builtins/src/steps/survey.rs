//! std.survey: selection, raking, weighting quality and fusion, wrapping the kernels of
//! flowc-survey.
//!
//! Categorical columns (`Str`, or `Int` and `Bool` taken as text) become level codes: for
//! raking and weighting quality the levels are those of the targets table, in its row order
//! (a value of the panel without a target becomes a level with target 0, which the kernel
//! reports as `S009`); for selection and fusion they are the distinct values in sorted order
//! (shared by both sides of a fusion), so the codes do not depend on the row order.
//!
//! A column held as an `Enum` (the synthetic panels') is coded from its own codes, one lookup
//! per label; a text column once per row through a hash table of its distinct values; the codes
//! are one byte a row for up to 256 levels (`coded`).

use std::collections::BTreeSet;

use flowc_runtime::builtin::BuiltinError;
use flowc_survey::{
    CatVar, FuseOptions, FuseSide, RakeOptions, SelectOptions, SurveyError, Target,
};
use polars::prelude::*;

use super::coded::{raw_codes, CodeVec, Coded, Raw};
use super::{
    emit_metrics, emit_table, float_values, input_table_with, named_column, no_nulls, Metric,
};
use crate::call::Call;
use crate::error::{err, survey, COLUMN_ROLE, COMMON_COLUMN_TYPE, INVALID_VALUE, TARGETS};
use crate::files;
use crate::rng::mix;
use crate::schema::{describe, ColType, Declared, Strings};

/// `CatVar`s over coded variables (`labels` holds each one's label references).
fn cat_vars<'a>(coded: &'a [Coded], labels: &'a [Vec<&'a str>]) -> Vec<CatVar<'a>> {
    coded
        .iter()
        .zip(labels)
        .map(|(c, l)| {
            CatVar::new(&c.name, c.codes.as_codes(), c.labels.len().max(1))
                .with_labels(l.as_slice())
        })
        .collect()
}

/// The sorted distinct values occurring in several categorical columns.
fn dictionary(sides: &[&Raw]) -> Vec<String> {
    let mut set: BTreeSet<&str> = BTreeSet::new();
    for raw in sides {
        for (label, present) in raw.labels.iter().zip(raw.present()) {
            if present {
                set.insert(label);
            }
        }
    }
    set.into_iter().map(str::to_string).collect()
}

/// The column named by a parameter, as codes.
fn column_codes(
    call: &Call<'_>,
    df: &DataFrame,
    name: &str,
    param: &str,
    table: &str,
) -> Result<Raw, BuiltinError> {
    let col = named_column(call, df, name, param, table)?;
    raw_codes(call, col, &format!("`{param}` column"), table)
}

/// Reads the table input `name` with its `Enum` columns kept.
fn input(call: &Call<'_>, name: &str) -> Result<DataFrame, BuiltinError> {
    input_table_with(call, name, Strings::Enums)
}

/// Reads the optional table input `name` with its `Enum` columns kept.
fn opt_input(call: &Call<'_>, name: &str) -> Result<Option<DataFrame>, BuiltinError> {
    match call.opt_input(name)? {
        None => Ok(None),
        Some((path, ty)) => files::read_table(
            path,
            Declared::of(ty)?.as_ref(),
            &format!("{}: input `{name}`", call.step),
            Strings::Enums,
        )
        .map(Some),
    }
}

/// The level labels of one variable's targets and their shares, in the targets' row order.
type LevelShares = (Vec<String>, Vec<f64>);

/// The targets of each variable of `by`.
fn targets_of(
    call: &Call<'_>,
    targets: &DataFrame,
    by: &[String],
) -> Result<Vec<LevelShares>, BuiltinError> {
    let owned = |raw: Raw| raw.values();
    let variable = owned(column_codes(
        call, targets, "variable", "targets", "targets",
    )?);
    let level = owned(column_codes(call, targets, "level", "targets", "targets")?);
    let share_col = named_column(call, targets, "share", "targets", "targets")?;
    let share = float_values(call, share_col, "column", "targets")?;
    let mut out = Vec::with_capacity(by.len());
    for var in by {
        let mut levels: Vec<String> = Vec::new();
        let mut shares = Vec::new();
        for ((v, l), &s) in variable.iter().zip(&level).zip(&share) {
            if v == var {
                if levels.contains(l) {
                    return Err(err(
                        TARGETS,
                        format!(
                            "{}: the targets have two rows for variable `{var}`, level {l:?}",
                            call.step
                        ),
                    ));
                }
                levels.push(l.clone());
                shares.push(s);
            }
        }
        if levels.is_empty() {
            let known: BTreeSet<&String> = variable.iter().collect();
            return Err(err(
                TARGETS,
                format!(
                    "{}: the targets have no row for variable `{var}` (they have: {})",
                    call.step,
                    known
                        .into_iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        out.push((levels, shares));
    }
    Ok(out)
}

/// The panel's `by` variables coded with the targets' levels, and the target shares extended
/// with 0 for panel values that have no target.
fn coded_with_targets(
    call: &Call<'_>,
    panel: &DataFrame,
    table: &str,
    by: &[String],
    targets: Vec<LevelShares>,
) -> Result<(Vec<Coded>, Vec<Vec<f64>>), BuiltinError> {
    let mut coded = Vec::with_capacity(by.len());
    let mut shares = Vec::with_capacity(by.len());
    for (var, (levels, mut s)) in by.iter().zip(targets) {
        let raw = column_codes(call, panel, var, "by", table)?;
        let c = Coded::with_levels(var, raw, levels);
        s.resize(c.labels.len(), 0.0);
        coded.push(c);
        shares.push(s);
    }
    Ok((coded, shares))
}

/// `select_active<T>(panel, share, strata, seed, day?) -> (active: Table<T>)`
pub fn select_active(call: &Call<'_>) -> Result<(), BuiltinError> {
    let panel = input(call, "panel")?;
    let share = call.float("share")?;
    let strata = call.columns("strata")?;
    let seed = call.int("seed")? as u64;
    let seed = match call.opt_date("day")? {
        Some(day) => mix(&[seed, i64::from(day) as u64]),
        None => seed,
    };
    let mut coded = Vec::with_capacity(strata.len().max(1));
    for s in &strata {
        let raw = column_codes(call, &panel, s, "strata", "panel")?;
        let dict = dictionary(&[&raw]);
        coded.push(Coded::with_levels(s, raw, dict));
    }
    if coded.is_empty() {
        // No strata: one stratum holding every row (simple random sampling).
        coded.push(Coded {
            name: "(all rows)".to_string(),
            codes: CodeVec::zeros(panel.height()),
            labels: vec!["all".to_string()],
        });
    }
    let label_refs: Vec<Vec<&str>> = coded.iter().map(Coded::label_refs).collect();
    let vars = cat_vars(&coded, &label_refs);
    let selection = if panel.height() == 0 {
        Vec::new()
    } else {
        flowc_survey::select_active(&vars, None, &SelectOptions { share, seed })
            .map_err(|e| survey(&call.step, &e))?
            .rows
    };
    let idx = IdxCa::from_vec(
        "rows".into(),
        selection.iter().map(|&r| r as IdxSize).collect(),
    );
    let active = panel
        .take(&idx)
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    emit_table(call, "active", active, &[])
}

/// `rake<T>(panel, targets, by, base_weight?, tolerance, max_iterations, cap?, floor?)
///   -> (weights: Table<T + { weight: Float }>, report: Metrics<…>)`
pub fn rake(call: &Call<'_>) -> Result<(), BuiltinError> {
    let panel = input(call, "panel")?;
    let targets = input(call, "targets")?;
    let by = call.columns("by")?;
    for b in &by {
        named_column(call, &panel, b, "by", "panel")?;
    }
    let target_levels = targets_of(call, &targets, &by)?;
    let (coded, shares) = coded_with_targets(call, &panel, "panel", &by, target_levels)?;
    let base = match call.opt_column("base_weight")? {
        Some(name) => {
            let col = named_column(call, &panel, &name, "base_weight", "panel")?;
            Some(float_values(call, col, "`base_weight` column", "panel")?)
        }
        None => None,
    };
    let max_iterations = call.opt_int("max_iterations")?.unwrap_or(100);
    let max_iterations = usize::try_from(max_iterations)
        .ok()
        .filter(|&m| m >= 1)
        .ok_or_else(|| {
            err(
                INVALID_VALUE,
                format!(
                    "{}: `max_iterations` must be at least 1, got {max_iterations}",
                    call.step
                ),
            )
        })?;
    let opts = RakeOptions {
        tolerance: call.opt_float("tolerance")?.unwrap_or(1e-6),
        max_iterations,
        cap: call.opt_float("cap")?,
        floor: call.opt_float("floor")?,
        ..RakeOptions::default()
    };
    let label_refs: Vec<Vec<&str>> = coded.iter().map(Coded::label_refs).collect();
    let vars = cat_vars(&coded, &label_refs);
    let targs: Vec<Target<'_>> = shares.iter().map(|s| Target::Shares(s)).collect();
    let raked = flowc_survey::rake(&vars, &targs, base.as_deref(), &opts)
        .map_err(|e| survey(&call.step, &e))?;
    // The codes (a byte a row and variable) are not needed to write the table.
    drop(vars);
    drop(label_refs);
    drop(coded);
    let report = raked.report.clone();
    let mut weighted = panel;
    // The weights' own buffer becomes the column (`Column::new` would copy it: 8 bytes a row).
    weighted
        .with_column(Float64Chunked::from_vec("weight".into(), raked.weights).into_column())
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    emit_table(call, "weights", weighted, &[])?;
    emit_metrics(
        call,
        "report",
        &[
            ("iterations", Metric::Int(report.iterations as i64)),
            ("max_rel_error", Metric::Float(report.max_rel_error)),
            ("converged", Metric::Bool(report.converged)),
            ("trimmed", Metric::Int(report.trimmed as i64)),
            ("cells", Metric::Int(report.cells as i64)),
        ],
    )
}

/// `weighting_quality<T: { weight: Float }>(weights, targets, by) -> (quality: Metrics<…>)`
pub fn weighting_quality(call: &Call<'_>) -> Result<(), BuiltinError> {
    let table = input(call, "weights")?;
    let targets = input(call, "targets")?;
    let by = call.columns("by")?;
    for b in &by {
        named_column(call, &table, b, "by", "weights")?;
    }
    let target_levels = targets_of(call, &targets, &by)?;
    let known: Vec<usize> = target_levels.iter().map(|(l, _)| l.len()).collect();
    let (coded, shares) = coded_with_targets(call, &table, "weights", &by, target_levels)?;
    let wcol = named_column(call, &table, "weight", "weights", "weights")?;
    let weights = float_values(call, wcol, "column", "weights")?;
    // A weighted level without a target has an infinite relative error: the targets are
    // incomplete, as `rake` would have said (S009).
    for (c, &k) in coded.iter().zip(&known) {
        for level in k..c.labels.len() {
            let w: f64 = c
                .codes
                .as_codes()
                .iter()
                .zip(&weights)
                .filter(|(code, _)| *code as usize == level)
                .map(|(_, &w)| w)
                .sum();
            if w > 0.0 {
                let e = SurveyError::MissingTarget {
                    variable: c.name.clone(),
                    level: c.labels[level].clone(),
                    sample_weight: w,
                };
                return Err(survey(&call.step, &e));
            }
        }
    }
    let label_refs: Vec<Vec<&str>> = coded.iter().map(Coded::label_refs).collect();
    let vars = cat_vars(&coded, &label_refs);
    let targs: Vec<Target<'_>> = shares.iter().map(|s| Target::Shares(s)).collect();
    let q = flowc_survey::weighting_quality(&vars, &targs, &weights)
        .map_err(|e| survey(&call.step, &e))?;
    emit_metrics(
        call,
        "quality",
        &[
            ("max_abs_error", Metric::Float(q.max_abs_error)),
            ("max_rel_error", Metric::Float(q.max_rel_error)),
            ("design_effect", Metric::Float(q.kish_deff)),
            ("effective_sample_size", Metric::Float(q.effective_n)),
            ("weight_ratio", Metric::Float(q.weight_ratio)),
            ("min_weight", Metric::Float(q.min_weight)),
            ("max_weight", Metric::Float(q.max_weight)),
            ("sum_weights", Metric::Float(q.sum_weights)),
            ("n_positive", Metric::Int(q.n_positive as i64)),
        ],
    )
}

/// An `Int` id as the kernel's `u64`, keeping the order (the sign bit flipped).
fn id_key(id: i64) -> u64 {
    (id as u64) ^ (1 << 63)
}

/// The `Int` id back from [`id_key`].
fn id_of(key: u64) -> i64 {
    (key ^ (1 << 63)) as i64
}

/// The ids of an `Int` id column.
fn ids(call: &Call<'_>, col: &Column, role: &str, table: &str) -> Result<Vec<i64>, BuiltinError> {
    if !col.dtype().is_integer() {
        return Err(err(
            COLUMN_ROLE,
            format!(
                "{}: {role} `{}` of table `{table}` must be Int, but it is {}",
                call.step,
                col.name(),
                describe(col.dtype())
            ),
        ));
    }
    no_nulls(call, col, role, table)?;
    let c = col
        .cast(&DataType::Int64)
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    let ca = c
        .i64()
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    Ok(ca.into_no_null_iter().collect())
}

/// A survey error of `fuse`, with ids shown as the table holds them.
fn fuse_error(call: &Call<'_>, e: SurveyError) -> BuiltinError {
    let message = match &e {
        SurveyError::DuplicateId { what, id } => {
            format!("{what}: identifier {} occurs more than once", id_of(*id))
        }
        SurveyError::NoDonor { recipient, stratum } => format!(
            "recipient {} is in stratum {stratum}, which has no donor; collapse strata or add \
             donors",
            id_of(*recipient)
        ),
        other => other.message(),
    };
    err(e.code(), format!("{}: {message}", call.step))
}

/// Columns in both tables keep the recipient's values; their types must agree.
fn common_columns_agree(
    call: &Call<'_>,
    recipients: &DataFrame,
    donors: &DataFrame,
) -> Result<(), BuiltinError> {
    for c in recipients.columns() {
        if let Ok(d) = donors.column(c.name()) {
            if ColType::of_dtype(c.dtype()) != ColType::of_dtype(d.dtype()) {
                return Err(err(
                    COMMON_COLUMN_TYPE,
                    format!(
                        "{}: column `{}` is {} in `recipients` but {} in `donors`",
                        call.step,
                        c.name(),
                        describe(c.dtype()),
                        describe(d.dtype())
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Yesterday's matches (`previous`), as (recipient, donor) id keys.
fn previous_matches(call: &Call<'_>) -> Result<Option<Vec<(u64, u64)>>, BuiltinError> {
    Ok(match opt_input(call, "previous")? {
        None => None,
        Some(prev) => {
            let pr = named_column(call, &prev, "recipient_id", "previous", "previous")?;
            let pd = named_column(call, &prev, "donor_id", "previous", "previous")?;
            let pr = ids(call, pr, "column", "previous")?;
            let pd = ids(call, pd, "column", "previous")?;
            Some(
                pr.iter()
                    .zip(&pd)
                    .map(|(&r, &d)| (id_key(r), id_key(d)))
                    .collect::<Vec<_>>(),
            )
        }
    })
}

/// The options of `fuse` from its parameters, with the kernel's defaults.
fn fuse_options(call: &Call<'_>) -> Result<FuseOptions, BuiltinError> {
    let max_uses = match call.opt_int("max_uses")? {
        None => None,
        Some(m) => Some(u32::try_from(m).ok().filter(|&m| m >= 1).ok_or_else(|| {
            err(
                INVALID_VALUE,
                format!("{}: `max_uses` must be at least 1, got {m}", call.step),
            )
        })?),
    };
    let defaults = FuseOptions::default();
    Ok(FuseOptions {
        reuse_penalty: call
            .opt_float("reuse_penalty")?
            .unwrap_or(defaults.reuse_penalty),
        max_uses,
        keep_tolerance: call
            .opt_float("keep_tolerance")?
            .unwrap_or(defaults.keep_tolerance),
        balance_tolerance: call
            .opt_float("balance_tolerance")?
            .unwrap_or(defaults.balance_tolerance),
        ..defaults
    })
}

/// The fused table (every recipient row, with the donor-only columns of its donor) and the
/// matches table.
fn write_fused_and_matches(
    call: &Call<'_>,
    recipients: &DataFrame,
    donors: &DataFrame,
    fusion: &flowc_survey::Fusion,
    r_ids: &[i64],
    d_ids: &[i64],
) -> Result<(), BuiltinError> {
    let mut donor_rows = Vec::with_capacity(fusion.matches.len());
    let mut pairs_r = Vec::with_capacity(fusion.matches.len());
    let mut pairs_d = Vec::with_capacity(fusion.matches.len());
    for m in &fusion.matches {
        let Some(d) = m.donor else {
            return Err(err(
                COLUMN_ROLE,
                format!(
                    "{}: recipient {} has no donor",
                    call.step,
                    id_of(m.recipient_id)
                ),
            ));
        };
        donor_rows.push(d as IdxSize);
        pairs_r.push(r_ids[m.recipient]);
        pairs_d.push(d_ids[d]);
    }
    let donor_only: Vec<String> = donors
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| recipients.column(n).is_err())
        .collect();
    let idx = IdxCa::from_vec("rows".into(), donor_rows);
    let taken = donors
        .select(donor_only.iter().map(String::as_str))
        .and_then(|d| d.take(&idx))
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    let fused = recipients
        .hstack(taken.columns())
        .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    emit_table(call, "fused", fused, &[])?;

    let matches = DataFrame::new(
        pairs_r.len(),
        vec![
            Column::new("recipient_id".into(), pairs_r),
            Column::new("donor_id".into(), pairs_d),
        ],
    )
    .map_err(|e| err(COLUMN_ROLE, format!("{}: {e}", call.step)))?;
    emit_table(call, "matches", matches, &[])
}

/// `fuse<R, D>(recipients, donors, recipient_id, donor_id, strata, match_on, previous?,
///   reuse_penalty, max_uses?, keep_tolerance, balance_tolerance) -> (fused: Table<R + D>,
///   matches: Table<FuseMatch>, report)`
pub fn fuse(call: &Call<'_>) -> Result<(), BuiltinError> {
    let recipients = input(call, "recipients")?;
    let donors = input(call, "donors")?;
    let rid_name = call.column("recipient_id")?;
    let did_name = call.column("donor_id")?;
    let strata = call.columns("strata")?;
    let match_on = call.columns("match_on")?;
    let rid_col = named_column(call, &recipients, &rid_name, "recipient_id", "recipients")?;
    let did_col = named_column(call, &donors, &did_name, "donor_id", "donors")?;
    let r_ids = ids(call, rid_col, "`recipient_id` column", "recipients")?;
    let d_ids = ids(call, did_col, "`donor_id` column", "donors")?;

    common_columns_agree(call, &recipients, &donors)?;

    let mut r_coded = Vec::with_capacity(strata.len());
    let mut d_coded = Vec::with_capacity(strata.len());
    for s in &strata {
        let rv = column_codes(call, &recipients, s, "strata", "recipients")?;
        let dv = column_codes(call, &donors, s, "strata", "donors")?;
        let dict = dictionary(&[&rv, &dv]);
        r_coded.push(Coded::with_levels(s, rv, dict.clone()));
        d_coded.push(Coded::with_levels(s, dv, dict));
    }
    let mut r_match = Vec::with_capacity(match_on.len());
    let mut d_match = Vec::with_capacity(match_on.len());
    for m in &match_on {
        let rc = named_column(call, &recipients, m, "match_on", "recipients")?;
        let dc = named_column(call, &donors, m, "match_on", "donors")?;
        r_match.push(float_values(call, rc, "`match_on` column", "recipients")?);
        d_match.push(float_values(call, dc, "`match_on` column", "donors")?);
    }
    let previous = previous_matches(call)?;
    let opts = fuse_options(call)?;

    let r_keys: Vec<u64> = r_ids.iter().map(|&i| id_key(i)).collect();
    let d_keys: Vec<u64> = d_ids.iter().map(|&i| id_key(i)).collect();
    let r_labels: Vec<Vec<&str>> = r_coded.iter().map(Coded::label_refs).collect();
    let d_labels: Vec<Vec<&str>> = d_coded.iter().map(Coded::label_refs).collect();
    let r_vars = cat_vars(&r_coded, &r_labels);
    let d_vars = cat_vars(&d_coded, &d_labels);
    let r_slices: Vec<&[f64]> = r_match.iter().map(Vec::as_slice).collect();
    let d_slices: Vec<&[f64]> = d_match.iter().map(Vec::as_slice).collect();
    let fusion = flowc_survey::fuse(
        &FuseSide {
            ids: &r_keys,
            strata: &r_vars,
            matching: &r_slices,
        },
        &FuseSide {
            ids: &d_keys,
            strata: &d_vars,
            matching: &d_slices,
        },
        previous.as_deref(),
        &opts,
    )
    .map_err(|e| fuse_error(call, e))?;

    write_fused_and_matches(call, &recipients, &donors, &fusion, &r_ids, &d_ids)?;

    let r = &fusion.report;
    emit_metrics(
        call,
        "report",
        &[
            ("kept", Metric::Int(r.kept as i64)),
            ("new", Metric::Int((r.recipients - r.kept) as i64)),
            ("mean_distance", Metric::Float(r.mean_distance)),
            ("max_donor_uses", Metric::Int(r.max_donor_uses as i64)),
            ("rematched", Metric::Int(r.rematched as i64)),
            ("drifted", Metric::Int(r.drifted as i64)),
            ("rebalanced", Metric::Int(r.rebalanced as i64)),
            ("max_mean_difference", Metric::Float(r.max_mean_difference)),
            ("donors_used", Metric::Int(r.donors_used as i64)),
        ],
    )
}
