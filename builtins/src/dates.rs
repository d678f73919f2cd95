//! Calendar dates as days since 1970-01-01 (the representation of polars' `Date`), with the
//! proleptic Gregorian calendar (Howard Hinnant's `days_from_civil` and `civil_from_days`).

/// Days since 1970-01-01 of a valid date.
pub fn from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count, as `(year, month, day)`.
pub fn to_civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD` (four-digit year) into days since 1970-01-01.
pub fn parse(s: &str) -> Option<i32> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (i64::from(num(0..4)?), num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    i32::try_from(from_civil(y, m, d)).ok()
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD`.
pub fn format(days: i32) -> String {
    let (y, m, d) = to_civil(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day of the week, 0 for Monday to 6 for Sunday.
pub fn weekday(days: i32) -> u32 {
    // 1970-01-01 was a Thursday (3).
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
    }
}
