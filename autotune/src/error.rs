//! Plain-data errors and warnings of the history readers.
//!
//! Every problem has a stable code (`A001`…), the file it came from (as the caller spelled the
//! path; for a service, its address without the password, and the record), and, where there is
//! one, the 1-based line. Codes are never renumbered or reused; the
//! table is documented in `docs/metrics.md`. Rendering is left to the CLI.

use serde::Serialize;
use std::fmt;

/// The stable code of a reader problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum ErrorCode {
    /// A001: the file cannot be read (missing, unreadable, not UTF-8).
    Io,
    /// A002: the file's format cannot be recognised.
    UnknownFormat,
    /// A003: the text is not valid JSON (truncated, stray characters).
    InvalidJson,
    /// A004: a required field is missing.
    MissingField,
    /// A005: a field has the wrong JSON type.
    WrongType,
    /// A006: a field has the right type but an impossible value (bad timestamp, negative size).
    InvalidValue,
    /// A007: the record declares a schema version this reader does not understand.
    UnsupportedSchema,
    /// A008: a CSV row is malformed (wrong number of fields, unreadable header).
    InvalidCsv,
    /// A009: a Prometheus series cannot be joined to any step (warning only).
    UnmatchedSeries,
    /// A010: a Prometheus export does not say which metric it holds.
    UnknownMetric,
    /// A011: a history service (PostgreSQL, Prometheus) cannot be reached in time.
    Unreachable,
    /// A012: the service refused the credentials (wrong password, HTTP 401/403).
    AccessDenied,
    /// A013: the database has no Argo workflow archive (missing database, table or column).
    MissingTable,
    /// A014: the service holds no data in the time window asked for.
    EmptyWindow,
    /// A015: the service answered something that is not what its API documents.
    BadResponse,
    /// A016: a service address or a time window cannot be understood.
    InvalidSource,
}

impl ErrorCode {
    /// The code as written in messages and docs, e.g. `A004`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "A001",
            ErrorCode::UnknownFormat => "A002",
            ErrorCode::InvalidJson => "A003",
            ErrorCode::MissingField => "A004",
            ErrorCode::WrongType => "A005",
            ErrorCode::InvalidValue => "A006",
            ErrorCode::UnsupportedSchema => "A007",
            ErrorCode::InvalidCsv => "A008",
            ErrorCode::UnmatchedSeries => "A009",
            ErrorCode::UnknownMetric => "A010",
            ErrorCode::Unreachable => "A011",
            ErrorCode::AccessDenied => "A012",
            ErrorCode::MissingTable => "A013",
            ErrorCode::EmptyWindow => "A014",
            ErrorCode::BadResponse => "A015",
            ErrorCode::InvalidSource => "A016",
        }
    }

    /// The kebab-case name of the code.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Io => "unreadable-file",
            ErrorCode::UnknownFormat => "unknown-format",
            ErrorCode::InvalidJson => "invalid-json",
            ErrorCode::MissingField => "missing-field",
            ErrorCode::WrongType => "wrong-type",
            ErrorCode::InvalidValue => "invalid-value",
            ErrorCode::UnsupportedSchema => "unsupported-schema",
            ErrorCode::InvalidCsv => "invalid-csv",
            ErrorCode::UnmatchedSeries => "unmatched-series",
            ErrorCode::UnknownMetric => "unknown-metric",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::AccessDenied => "access-denied",
            ErrorCode::MissingTable => "missing-table",
            ErrorCode::EmptyWindow => "empty-window",
            ErrorCode::BadResponse => "bad-response",
            ErrorCode::InvalidSource => "invalid-source",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AutotuneError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AutotuneError", 5)?;
        st.serialize_field("code", self.code.as_str())?;
        st.serialize_field("name", self.code.name())?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("message", &self.message)?;
        st.end()
    }
}

/// One reader problem: an error, or (in lenient mode, or for unmatched series) a warning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AutotuneError {
    /// Stable code.
    pub code: ErrorCode,
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong: lowercase, no trailing period, identifiers in backticks.
    pub message: String,
}

impl AutotuneError {
    /// Builds an error.
    pub fn new(
        code: ErrorCode,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        AutotuneError {
            code,
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for AutotuneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                f,
                "{}:{}: {} [{}]",
                self.file, line, self.message, self.code
            ),
            None => write!(f, "{}: {} [{}]", self.file, self.message, self.code),
        }
    }
}

impl std::error::Error for AutotuneError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_code() {
        let e = AutotuneError::new(
            ErrorCode::MissingField,
            "a.json",
            Some(3),
            "missing field `x`",
        );
        assert_eq!(e.to_string(), "a.json:3: missing field `x` [A004]");
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"code\":\"A004\""));
    }
}
