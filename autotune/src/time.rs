//! Timestamps: parsing the forms the trace formats use into milliseconds since the Unix epoch,
//! and formatting them back as RFC 3339 (UTC) for reports.
//!
//! Parsing and calendar arithmetic are `jiff`'s (RFC 3339 and its ISO 8601 relatives, with
//! `T`, `t` or a space between date and time, `Z` or a numeric offset, and up to nine fraction
//! digits, of which milliseconds are kept). No time-zone database is needed: every input carries
//! `Z` or a numeric offset. The one form jiff does not read, WfCommons' `MM-DD-YYTHH:MM:SSZ`, is
//! rewritten to RFC 3339 first.

use jiff::Timestamp;

/// Parses an RFC 3339 / ISO 8601 timestamp with a `Z` or numeric offset
/// (`2026-11-28T10:15:00.123Z`, `2020-12-25T20:10:08+00:00`) into epoch milliseconds.
/// Also accepts the `MM-DD-YYTHH:MM:SSZ` form found in some WfCommons instances (years 2000–2099).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let timestamp: Timestamp = match short_year_form(text) {
        Some(rfc3339) => rfc3339.parse().ok()?,
        None => text.parse().ok()?,
    };
    Some(timestamp.as_millisecond())
}

/// `MM-DD-YY<sep>time` rewritten as `20YY-MM-DD<sep>time`, or `None` for any other form.
fn short_year_form(text: &str) -> Option<String> {
    let (date, time) = text.split_at(text.find(['T', 't', ' '])?);
    match date.split('-').collect::<Vec<_>>().as_slice() {
        [m, d, y] if y.len() == 2 && m.len() == 2 => Some(format!("20{y}-{m}-{d}{time}")),
        _ => None,
    }
}

/// Formats epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds). Instants outside
/// the years -9999 to 9999 are written as milliseconds since the epoch.
pub fn format_timestamp(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => format!("{ms} ms since 1970-01-01T00:00:00Z"),
    }
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
            "12-19-2xT21:31:53Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        let t = parse_timestamp("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-02-29T23:59:59Z");
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_timestamp(1_500), "1970-01-01T00:00:01Z");
        assert_eq!(
            format_timestamp(i64::MAX),
            format!("{} ms since 1970-01-01T00:00:00Z", i64::MAX)
        );
    }

    #[test]
    fn offsets_separators_and_fractions() {
        let utc = parse_timestamp("2020-12-25T20:10:08Z");
        for same in [
            "2020-12-25t20:10:08z",
            "2020-12-25 20:10:08Z",
            "2020-12-25T21:10:08+0100",
            "2020-12-25T19:10:08-01:00",
            "  2020-12-25T20:10:08.000000000Z ",
        ] {
            assert_eq!(parse_timestamp(same), utc, "{same}");
        }
        assert_eq!(
            parse_timestamp("2020-12-25T20:10:08.1239Z"),
            utc.map(|t| t + 123)
        );
        assert_eq!(parse_timestamp("2021-02-31T00:00:00Z"), None);
    }
}
