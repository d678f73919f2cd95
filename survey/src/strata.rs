//! Grouping rows into strata (tuples of level codes) in a deterministic order.

use std::collections::BTreeMap;

use crate::error::SurveyError;
use crate::input::CatVar;

/// Rows of each stratum, keyed by the tuple of level codes (ascending
/// lexicographic order), rows ascending within a stratum. Rows with
/// `keep[row] == false` are left out. Codes are validated.
pub(crate) fn group_rows(
    vars: &[CatVar<'_>],
    n_rows: usize,
    keep: Option<&[bool]>,
) -> Result<BTreeMap<Vec<u32>, Vec<usize>>, SurveyError> {
    for var in vars {
        var.check_shape(n_rows)?;
        var.check_codes()?;
    }
    if let Some(keep) = keep {
        if keep.len() != n_rows {
            return Err(SurveyError::LengthMismatch {
                what: "eligibility flags".to_string(),
                expected: n_rows,
                found: keep.len(),
            });
        }
    }
    let mut groups: BTreeMap<Vec<u32>, Vec<usize>> = BTreeMap::new();
    let mut key = vec![0u32; vars.len()];
    for row in 0..n_rows {
        if keep.is_some_and(|k| !k[row]) {
            continue;
        }
        for (k, var) in key.iter_mut().zip(vars) {
            *k = var.codes.at(row);
        }
        match groups.get_mut(key.as_slice()) {
            Some(rows) => rows.push(row),
            None => {
                groups.insert(key.clone(), vec![row]);
            }
        }
    }
    Ok(groups)
}

/// The stratum of `row` as `variable=label` pairs, for messages.
pub(crate) fn describe(vars: &[CatVar<'_>], codes: &[u32]) -> String {
    let parts: Vec<String> = vars
        .iter()
        .zip(codes)
        .map(|(v, &c)| format!("{}={}", v.name, v.level_name(c as usize)))
        .collect();
    format!("({})", parts.join(", "))
}
