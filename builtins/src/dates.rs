//! Calendar dates as days since 1970-01-01 (the representation of polars' `Date`).
//!
//! Reading, writing and calendar arithmetic are `jiff`'s civil dates (proleptic Gregorian, years
//! -9999 to 9999); a `Date` value is always written `YYYY-MM-DD` with a four-digit year.

use jiff::civil::{self, Date};
use jiff::Span;

/// Day 0.
const EPOCH: Date = civil::date(1970, 1, 1);

/// Parses `YYYY-MM-DD` (four-digit year) into days since 1970-01-01.
pub fn parse(s: &str) -> Option<i32> {
    let s = s.trim();
    // jiff also reads other ISO 8601 forms (`20240603`, `+002024-06-03`); a `Date` is only this.
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date: Date = s.parse().ok()?;
    Some(date.since(EPOCH).ok()?.get_days())
}

/// The date `days` after 1970-01-01, if it is within jiff's range.
fn date(days: i32) -> Option<Date> {
    let span = Span::new().try_days(days).ok()?;
    EPOCH.checked_add(span).ok()
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD` (as a day count, for days beyond the year 9999
/// or before -9999, which [`parse`] never returns).
pub fn format(days: i32) -> String {
    match date(days) {
        Some(d) => d.strftime("%Y-%m-%d").to_string(),
        None => days.to_string(),
    }
}

/// The day of the week, 0 for Monday to 6 for Sunday.
pub fn weekday(days: i32) -> u32 {
    // 1970-01-01 was a Thursday (3); one modular step, valid for every day count, where jiff's
    // dates stop at the year 9999.
    (i64::from(days) + 3).rem_euclid(7) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2024-06-03"), Some(19_877));
        assert_eq!(format(19_877), "2024-06-03");
        assert_eq!(
            parse("2024-02-29").map(format).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse("1969-12-31"), Some(-1));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-6-3",
            "24-06-03",
            "2024-06-3x",
            "2024-06-03T00",
            "+02024-06-",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        for d in -719_000..2_900_000 {
            if d % 997 == 0 {
                assert_eq!(parse(&format(d)), Some(d));
            }
        }
        assert_eq!(weekday(19_877), 0, "2024-06-03 is a Monday");
        assert_eq!(weekday(-1), 2, "1969-12-31 was a Wednesday");
        assert_eq!(parse(" 2024-06-03 "), Some(19_877));
        assert_eq!(parse("0000-01-01"), Some(-719_528));
        assert_eq!(format(i32::MAX), i32::MAX.to_string());
    }
}
