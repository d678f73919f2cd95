//! Timestamps: parsing the forms the trace formats use into milliseconds since the Unix epoch,
//! and formatting them back as RFC 3339 (UTC) for reports.
//!
//! No time-zone database is needed: every input carries `Z` or a numeric offset.

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian; Howard Hinnant's method).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Builds milliseconds from parts, validating ranges.
fn from_parts(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// Parses the time-of-day part `HH:MM:SS[.fff][Z|±HH:MM]`, returning (h, m, s, ms, offset_ms).
fn parse_time(t: &str) -> Option<(i64, i64, i64, i64, i64)> {
    let (clock, offset_ms) = if let Some(c) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        (c, 0)
    } else if let Some(pos) = t.rfind(['+', '-']) {
        let (c, off) = t.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = match off.split_once(':') {
            Some((a, b)) => (num(a)?, num(b)?),
            None if off.len() == 4 => (num(&off[..2])?, num(&off[2..])?),
            None => (num(off)?, 0),
        };
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 60 + om) * 60_000)
    } else {
        return None;
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let h = num(parts.next()?)?;
    let mi = num(parts.next()?)?;
    let s = num(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let ms = match frac {
        None => 0,
        Some(f) => {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut digits: String = f.chars().take(3).collect();
            while digits.len() < 3 {
                digits.push('0');
            }
            num(&digits)?
        }
    };
    Some((h, mi, s, ms, offset_ms))
}

/// Parses an RFC 3339 / ISO 8601 timestamp with a `Z` or numeric offset
/// (`2026-11-28T10:15:00.123Z`, `2020-12-25T20:10:08+00:00`) into epoch milliseconds.
/// Also accepts the `MM-DD-YYTHH:MM:SSZ` form found in some WfCommons instances (years 2000–2099).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = text.split_once(['T', 't', ' '])?;
    let (h, mi, s, ms, off) = parse_time(time)?;
    let fields: Vec<&str> = date.split('-').collect();
    let (y, mo, d) = match fields.as_slice() {
        [y, m, d] if y.len() == 4 => (num(y)?, num(m)?, num(d)?),
        [m, d, y] if y.len() == 2 && m.len() == 2 => (2000 + num(y)?, num(m)?, num(d)?),
        _ => return None,
    };
    Some(from_parts(y, mo, d, h, mi, s, ms)? - off)
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-11-28T10:15:00.123Z"),
            Some(1_795_860_900_123)
        );
        assert_eq!(
            parse_timestamp("2020-12-25T20:10:08+00:00"),
            Some(1_608_927_008_000)
        );
        assert_eq!(
            parse_timestamp("2020-12-25T21:10:08+01:00"),
            parse_timestamp("2020-12-25T20:10:08Z")
        );
        assert_eq!(
            parse_timestamp("12-19-20T21:31:53Z"),
            parse_timestamp("2020-12-19T21:31:53Z")
        );
    }

    #[test]
    fn rejects_bad_input() {
        for bad in [
            "",
            "2020-13-01T00:00:00Z",
            "2020-01-01",
            "2020-01-01T00:00:00",
            "x-y-zT1:2:3Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        let t = parse_timestamp("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-02-29T23:59:59Z");
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
    }
}
