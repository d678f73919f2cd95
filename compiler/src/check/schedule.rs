//! A pipeline's `schedule`: its cron expression and its time zone.
//!
//! The schedule becomes an Argo `CronWorkflow`, whose controller parses it with robfig/cron's
//! standard parser: five fields (minute, hour, day of month, month, day of week) or a descriptor
//! such as `@daily`. flowc keeps to that subset (no seconds, no Quartz `L`, `W` or `#`), lets
//! croner parse values, ranges, steps and names, and asks croner for the first time the
//! expression fires from a fixed date, so an expression that can never fire (`0 6 31 2 *`) is
//! refused too. Time zones are looked up in the IANA database that jiff bundles, so a check
//! gives the same answer on every machine, offline.

pub(crate) use crate::diagnostics::ops::CronProblem;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// The fields of a five-field expression: name, lowest and highest value, names accepted.
const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day of month", 1, 31, &[]),
    ("month", 1, 12, &MONTHS),
    ("day of week", 0, 7, &DAYS),
];

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The descriptors Argo accepts in place of five fields.
const DESCRIPTORS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Checks a cron expression as Argo's `CronWorkflow` reads it, and that it fires at all.
pub(crate) fn check_cron(cron: &str) -> Result<(), CronProblem> {
    let trimmed = cron.trim();
    let five = match DESCRIPTORS.iter().find(|(d, _)| *d == trimmed) {
        Some((_, fields)) => (*fields).to_string(),
        None => trimmed.to_string(),
    };
    let fields: Vec<&str> = five.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(CronProblem::Malformed(format!(
            "expected 5 fields, found {}",
            fields.len()
        )));
    }
    for (field, spec) in fields.iter().zip(FIELDS) {
        check_field(field, spec)?;
    }
    let parsed =
        parse(&five).map_err(|e| CronProblem::Malformed(field_problem(&fields).unwrap_or(e)))?;
    let start = jiff::civil::date(2000, 1, 1).at(0, 0, 0, 0);
    match parsed.find_next_occurrence(&start, true) {
        Ok(_) => Ok(()),
        Err(_) => Err(CronProblem::NeverFires),
    }
}

fn parse(five: &str) -> Result<Cron, String> {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .sloppy_ranges(true)
        .build()
        .parse(five)
        .map_err(|e| e.to_string())
}

/// The syntax Argo's parser accepts in one field: lists of `*`, `?`, numbers or names, ranges
/// and steps. Values and ranges are croner's to check.
fn check_field(field: &str, spec: (&str, u32, u32, &[&str])) -> Result<(), CronProblem> {
    let names = spec.3;
    let value_ok = |v: &str| {
        !v.is_empty()
            && (v.bytes().all(|b| b.is_ascii_digit())
                || names.iter().any(|n| n.eq_ignore_ascii_case(v)))
    };
    let ok = field.split(',').all(|part| {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        let range_ok = range == "*"
            || range == "?"
            || match range.split_once('-') {
                Some((a, b)) => value_ok(a) && value_ok(b),
                None => value_ok(range),
            };
        range_ok && step.is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
    });
    if ok {
        Ok(())
    } else {
        Err(CronProblem::Malformed(invalid_field(field, spec)))
    }
}

/// Why the first field that croner refuses on its own is refused.
fn field_problem(fields: &[&str]) -> Option<String> {
    fields.iter().enumerate().find_map(|(i, field)| {
        let mut alone = ["*"; 5];
        alone[i] = field;
        parse(&alone.join(" ")).err()?;
        Some(invalid_field(field, FIELDS[i]))
    })
}

/// Why `field` is refused: a number out of range, or another malformed field.
fn invalid_field(field: &str, (what, lo, hi, names): (&str, u32, u32, &[&str])) -> String {
    match field.parse::<u32>() {
        Ok(n) if n < lo || n > hi => format!("{what} `{n}` is outside {lo}-{hi}"),
        _ => format!(
            "the {what} field `{field}` is not valid ({})",
            allowed(lo, hi, names)
        ),
    }
}

fn allowed(lo: u32, hi: u32, names: &[&str]) -> String {
    match (names.first(), names.last()) {
        (Some(a), Some(b)) => format!("{lo}-{hi} or {a}-{b}"),
        _ => format!("{lo}-{hi}"),
    }
}

/// Whether `tz` is the exact name of a zone in the IANA time zone database.
pub(crate) fn is_iana_zone(tz: &str) -> bool {
    jiff::tz::db()
        .get(tz)
        .is_ok_and(|zone| zone.iana_name() == Some(tz))
}

#[cfg(test)]
mod tests {
    use super::{check_cron, is_iana_zone, CronProblem};

    #[test]
    fn cron() {
        assert!(check_cron("0 6 * * *").is_ok());
        assert!(check_cron("*/15 0-5 1,15 JAN-MAR MON-FRI").is_ok());
        assert!(check_cron("0/10 * * * *").is_ok());
        assert!(check_cron("0 0 29 2 *").is_ok());
        assert!(
            check_cron("0 6 31 2 1").is_ok(),
            "day of month or day of week"
        );
        assert!(check_cron("@daily").is_ok());
        assert!(check_cron("@midnight").is_ok());
        assert!(check_cron("0 25 * * *").is_err());
        assert!(check_cron("0 6 * *").is_err());
        assert!(check_cron("0 0 6 * * *").is_err());
        assert!(check_cron("0 6 * * */0").is_err());
        assert!(check_cron("0 6 L * *").is_err());
        assert!(check_cron("0 6 * * 5#3").is_err());
        assert!(check_cron("0 6 15W * *").is_err());
        assert_eq!(check_cron("0 6 31 2 *"), Err(CronProblem::NeverFires));
        assert_eq!(
            check_cron("0 25 * * *"),
            Err(CronProblem::Malformed("hour `25` is outside 0-23".into()))
        );
        assert!(check_cron("0 6 30 2 *").is_err());
        assert!(check_cron("0 6 31 4,6,9,11 *").is_err());
    }

    #[test]
    fn time_zones() {
        assert!(is_iana_zone("Europe/Paris"));
        assert!(is_iana_zone("UTC"));
        assert!(is_iana_zone("America/Argentina/Buenos_Aires"));
        assert!(!is_iana_zone("Europe/Pariss"));
        assert!(!is_iana_zone("europe/paris"));
        assert!(!is_iana_zone("CET+1"));
        assert!(!is_iana_zone(""));
    }
}
