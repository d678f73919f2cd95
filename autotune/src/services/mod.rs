//! History read from running services rather than files: Argo's workflow archive in PostgreSQL
//! ([`postgres`]) and a Prometheus server's HTTP API ([`prometheus`]), over a time [`Window`].
//!
//! This is the crate's network boundary. Each service client fetches text (an archived
//! workflow's JSON, a query's JSON answer) and hands it to the pure readers of
//! [`crate::readers`], so a row of the archive is read exactly as `argo get -o json` output is,
//! and a Prometheus answer exactly as a saved `query_range` export. Every connection is bounded
//! by timeouts, and every failure is an [`AutotuneError`] with a stable code (A011–A016) naming
//! the service by an address without its password.

pub mod postgres;
pub mod prometheus;

use crate::error::{AutotuneError, ErrorCode};
use std::time::Duration;

/// How long a connection may take to open before the service counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to PostgreSQL, authentication included, may take.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one query may take, answer included.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// The bounds of every connection (the constants above by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP connection.
    pub connect: Duration,
    /// PostgreSQL's whole handshake (connection, TLS negotiation, authentication).
    pub handshake: Duration,
    /// One query, answer included.
    pub query: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: CONNECT_TIMEOUT,
            handshake: HANDSHAKE_TIMEOUT,
            query: QUERY_TIMEOUT,
        }
    }
}

/// The time span whose runs are read: runs that started at or after `since` and at or before
/// `until` (epoch milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Start, inclusive; `None` reads everything before `until`.
    pub since_ms: Option<i64>,
    /// End, inclusive.
    pub until_ms: i64,
}

impl Window {
    /// Whether a run that started at `start_ms` lies in the window.
    pub fn contains(&self, start_ms: i64) -> bool {
        self.since_ms.is_none_or(|s| start_ms >= s) && start_ms <= self.until_ms
    }

    /// The window as text for messages: `2026-11-20T00:00:00Z..2026-12-04T00:00:00Z`.
    pub fn describe(&self) -> String {
        let since = self.since_ms.map_or_else(
            || "the beginning".to_string(),
            crate::time::format_timestamp,
        );
        format!(
            "{}..{}",
            since,
            crate::time::format_timestamp(self.until_ms)
        )
    }
}

/// Parses `--since`: a duration before `until_ms` (`14d`, `36h`, `90m`, `2w`, `600s`) or an
/// RFC 3339 timestamp (`2026-11-20T00:00:00Z`); the start as epoch milliseconds.
pub fn parse_since(text: &str, until_ms: i64) -> Result<i64, AutotuneError> {
    let bad = || {
        AutotuneError::new(
            ErrorCode::InvalidSource,
            "--since",
            None,
            format!(
                "`{text}` is neither a duration such as `14d`, `36h` or `90m` nor an RFC 3339 \
                 time such as `2026-11-20T00:00:00Z`"
            ),
        )
    };
    if let Some(ms) = crate::time::parse_timestamp(text) {
        return Ok(ms);
    }
    let text = text.trim();
    let unit_start = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = text.split_at(unit_start);
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_ms)
        .and_then(|span| until_ms.checked_sub(span))
        .ok_or_else(bad)
}

/// The window of `--since` and `--until` (`None` when neither is given; `--until` defaults to
/// now, the one reading of the clock).
pub fn window(since: Option<&str>, until: Option<&str>) -> Result<Option<Window>, AutotuneError> {
    if since.is_none() && until.is_none() {
        return Ok(None);
    }
    let until_ms = match until {
        Some(t) => parse_until(t)?,
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let since_ms = since.map(|t| parse_since(t, until_ms)).transpose()?;
    Ok(Some(Window { since_ms, until_ms }))
}

/// Parses `--until`: an RFC 3339 timestamp, as epoch milliseconds.
pub fn parse_until(text: &str) -> Result<i64, AutotuneError> {
    crate::time::parse_timestamp(text).ok_or_else(|| {
        AutotuneError::new(
            ErrorCode::InvalidSource,
            "--until",
            None,
            format!("`{text}` is not an RFC 3339 time such as `2026-12-04T00:00:00Z`"),
        )
    })
}

/// Whether a `--history` entry names Argo's archive in PostgreSQL rather than a file.
pub fn is_postgres_url(entry: &str) -> bool {
    entry.starts_with("postgres://") || entry.starts_with("postgresql://")
}

/// A URL with its password replaced by `***` (`postgres://argo:***@db:5432/argo`), for messages.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let user_info = &authority[..at];
            let user = user_info.split(':').next().unwrap_or("");
            let masked = if user_info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}{}{}", &url[..scheme_end + 3], masked, &rest[at..])
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn since_reads_durations_and_times() {
        assert_eq!(parse_since("14d", 20 * DAY).ok(), Some(6 * DAY));
        assert_eq!(parse_since("36h", 2 * DAY).ok(), Some(DAY / 2));
        assert_eq!(parse_since("1970-01-02T00:00:00Z", 0).ok(), Some(DAY));
        for bad in ["", "14", "d", "14y", "-3d", "99999999999999999999d"] {
            let e = parse_since(bad, 0).expect_err(bad);
            assert_eq!(e.code, ErrorCode::InvalidSource, "{bad}");
        }
    }

    #[test]
    fn window_bounds_are_inclusive() {
        let w = Window {
            since_ms: Some(10),
            until_ms: 20,
        };
        assert!(w.contains(10) && w.contains(20));
        assert!(!w.contains(9) && !w.contains(21));
        assert!(Window {
            since_ms: None,
            until_ms: 0
        }
        .contains(i64::MIN));
    }

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://argo:s3cret@db:5432/argo?sslmode=disable"),
            "postgres://argo:***@db:5432/argo?sslmode=disable"
        );
        assert_eq!(redact("postgres://argo@db/argo"), "postgres://argo@db/argo");
        assert_eq!(redact("http://prom:9090"), "http://prom:9090");
        assert_eq!(redact("not a url"), "not a url");
    }
}
