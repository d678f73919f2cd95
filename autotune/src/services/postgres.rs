//! Argo's workflow archive in PostgreSQL (`--history postgres://USER:PASSWORD@HOST:PORT/DB`).
//!
//! Argo's controller, with `persistence.archive: true`, writes every finished workflow to the
//! table `argo_archived_workflows`: `clustername`, `uid`, `name`, `namespace`, `phase`,
//! `startedat` and `finishedat` (`timestamp`, UTC), `instanceid`, and `workflow`, the whole
//! workflow object (spec and status with its nodes) as JSON. Each row in the window (by
//! `startedat`) is read by [`crate::readers::argo`], as `argo get -o json` output would be; the
//! row's namespace and name stand for the file name in messages.
//!
//! The client is the synchronous `postgres` crate, without TLS (`sslmode=disable` or `prefer`);
//! the connection is bounded by a 5 s connect timeout, 10 s for the whole handshake and a 120 s
//! `statement_timeout` per query.

use super::{redact, Timeouts, Window};
use crate::error::{AutotuneError, ErrorCode};
use crate::readers::{self, ReadOutput, Sink};
use ::postgres::error::SqlState;
use ::postgres::{Config, NoTls};

/// The archive table's name (fixed by Argo).
pub const TABLE: &str = "argo_archived_workflows";

/// The rows of the window, oldest first. `startedat` is a `timestamp` holding UTC.
const SELECT: &str = "SELECT name, namespace, workflow::text FROM argo_archived_workflows \
     WHERE ($1::bigint IS NULL OR startedat >= to_timestamp($1::bigint / 1000.0) AT TIME ZONE 'UTC') \
       AND startedat <= to_timestamp($2::bigint / 1000.0) AT TIME ZONE 'UTC' \
     ORDER BY startedat, uid";

/// What the archive yielded: the executions of its workflows, and row-level problems (a row
/// whose JSON is malformed), which the caller treats as errors or, leniently, as warnings.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Executions and ignored records of every row read.
    pub output: ReadOutput,
    /// Problems of single rows.
    pub problems: Vec<AutotuneError>,
}

/// Reads the archived workflows that started in `window`. Service-level failures (unreachable,
/// refused credentials, no archive table, an empty window) are the `Err`.
pub fn read(url: &str, window: &Window, timeouts: &Timeouts) -> Result<Fetched, AutotuneError> {
    let service = service_name(url);
    let fail = |code, message: String| AutotuneError::new(code, &service, None, message);
    let mut config: Config = url.parse().map_err(|e| {
        fail(
            ErrorCode::InvalidSource,
            format!("cannot read the address: {e}; write it as `postgres://USER:PASSWORD@HOST:PORT/DATABASE`"),
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(timeouts.connect);
    }
    if config.get_options().is_none() {
        config.options(&format!(
            "-c statement_timeout={}",
            timeouts.query.as_millis()
        ));
    }
    let mut client = connect(config, timeouts.handshake, &service)?;
    let rows = client
        .query(SELECT, &[&window.since_ms, &window.until_ms])
        .map_err(|e| classify(&e, &service))?;
    if rows.is_empty() {
        return Err(fail(
            ErrorCode::EmptyWindow,
            format!(
                "no archived workflow started in {}; widen `--since`, or check that Argo archives \
                 to this database",
                window.describe()
            ),
        ));
    }
    let mut fetched = Fetched::default();
    for row in &rows {
        let columns = (
            row.try_get::<_, String>(0),
            row.try_get::<_, String>(1),
            row.try_get::<_, String>(2),
        );
        let (Ok(name), Ok(namespace), Ok(workflow)) = columns else {
            fetched.problems.push(fail(
                ErrorCode::BadResponse,
                format!(
                    "a row of `{TABLE}` has a null or non-text `name`, `namespace` or `workflow`"
                ),
            ));
            continue;
        };
        let label = format!("{service}/{TABLE}/{namespace}/{name}");
        read_row(&label, &workflow, &mut fetched);
    }
    Ok(fetched)
}

/// Connects, on a thread of its own: the client's connect timeout bounds opening the TCP
/// connection but not the handshake after it, so a server that accepts and never answers would
/// hold the caller forever. Past `handshake` the server is unreachable (the thread
/// is left to end with the process).
fn connect(
    config: Config,
    handshake: std::time::Duration,
    service: &str,
) -> Result<::postgres::Client, AutotuneError> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(config.connect(NoTls));
    });
    match rx.recv_timeout(handshake) {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(classify(&e, service)),
        Err(_) => Err(AutotuneError::new(
            ErrorCode::Unreachable,
            service,
            None,
            format!(
                "the server did not complete the PostgreSQL handshake in {} s; check that the \
                 address is PostgreSQL's",
                handshake.as_secs_f64()
            ),
        )),
    }
}

/// Reads one row's workflow JSON; its problems become the row's.
fn read_row(label: &str, workflow: &str, fetched: &mut Fetched) {
    let mut sink = Sink::new(label, false);
    let result = readers::parse_document(workflow, label)
        .and_then(|doc| readers::argo::read(&doc, &mut sink));
    match result {
        Ok(out) => {
            fetched.output.executions.extend(out.executions);
            fetched.output.ignored.extend(out.ignored);
        }
        Err(e) => fetched.problems.push(e),
    }
    fetched.problems.extend(sink.problems);
}

/// The address as messages show it: no password, no parameters.
fn service_name(url: &str) -> String {
    let shown = redact(url);
    match shown.find('?') {
        Some(q) => shown[..q].to_string(),
        None => shown,
    }
}

/// The stable code and fix of a client error.
fn classify(e: &::postgres::Error, service: &str) -> AutotuneError {
    let Some(db) = e.as_db_error() else {
        let text = e.to_string();
        let (code, fix) = if text.contains("TLS") || text.contains("SSL") {
            (
                ErrorCode::InvalidSource,
                "flowc connects without TLS: use `sslmode=disable` or `sslmode=prefer`",
            )
        } else {
            (
                ErrorCode::Unreachable,
                "check the host and port, and that PostgreSQL accepts TCP connections there",
            )
        };
        return AutotuneError::new(code, service, None, format!("{text}; {fix}"));
    };
    let state = db.code();
    let (code, fix) = if *state == SqlState::INVALID_PASSWORD
        || *state == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        (
            ErrorCode::AccessDenied,
            "check the user and password of the address (Argo's `persistence` secret)",
        )
    } else if *state == SqlState::UNDEFINED_TABLE
        || *state == SqlState::UNDEFINED_COLUMN
        || *state == SqlState::INVALID_CATALOG_NAME
    {
        (
            ErrorCode::MissingTable,
            "point `--history` at the database Argo archives to (`persistence.archive: true`); \
             its table `argo_archived_workflows` holds the finished workflows",
        )
    } else if *state == SqlState::QUERY_CANCELED {
        (
            ErrorCode::Unreachable,
            "the query ran past its time limit; narrow `--since`",
        )
    } else {
        (ErrorCode::BadResponse, "the server refused the query")
    };
    AutotuneError::new(
        code,
        service,
        None,
        format!("{} ({}); {fix}", db.message(), state.code()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_address_is_a016_without_its_password() {
        let window = Window {
            since_ms: None,
            until_ms: 0,
        };
        let e = read(
            "postgres://argo:s3cret@db:notaport/argo",
            &window,
            &Timeouts::default(),
        )
        .expect_err("bad port");
        assert_eq!(e.code, ErrorCode::InvalidSource);
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert_eq!(
            service_name("postgres://a:b@h/d?sslmode=disable"),
            "postgres://a:***@h/d"
        );
    }
}
