//! The history services against real servers on loopback: a PostgreSQL holding Argo's workflow
//! archive and a Prometheus whose storage holds recorded series (see `support/`). The history
//! they give must be the history of the same data read from files, and each way they can fail
//! (unreachable, refused credentials, no archive table, nothing in the window, series without a
//! pod, answers that are not Prometheus's) has its stable code and never panics.

mod support;

use flowc_autotune::services::{self, Window};
use flowc_autotune::{
    load_sources, recommend, AutotuneError, ErrorCode, Execution, History, Sources, StepKey,
    TunerConfig,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{data, FakeHttp, Postgres, Prometheus};

fn window(since: &str, until: &str) -> Window {
    services::window(Some(since), Some(until))
        .expect("valid window")
        .expect("a window")
}

fn recorded_window() -> Window {
    window(data::SINCE, data::UNTIL)
}

/// Every execution, without where it was read from.
fn runs(h: &History) -> Vec<Execution> {
    h.executions()
        .cloned()
        .map(|mut e| {
            e.source = Default::default();
            e
        })
        .collect()
}

/// (code, message) of every warning.
fn warnings(h: &History) -> Vec<(ErrorCode, String)> {
    h.warnings
        .iter()
        .map(|w| (w.code, w.message.clone()))
        .collect()
}

fn from_archive(url: &str, window: Window, lenient: bool) -> Result<History, Vec<AutotuneError>> {
    let sources = Sources {
        postgres: vec![url.to_string()],
        window: Some(window),
        ..Sources::default()
    };
    load_sources(&sources, lenient)
}

fn from_prometheus(
    url: &str,
    window: Window,
    lenient: bool,
) -> Result<History, Vec<AutotuneError>> {
    let sources = Sources {
        prometheus: vec![url.to_string()],
        window: Some(window),
        ..Sources::default()
    };
    load_sources(&sources, lenient)
}

/// The one error of a failed load; checks that no password leaks into it.
fn the_error(r: Result<History, Vec<AutotuneError>>) -> AutotuneError {
    let mut errors = r.expect_err("the load should fail");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors.remove(0);
    assert!(!e.to_string().contains(support::PG_PASSWORD), "{e}");
    e
}

#[test]
fn archive_and_prometheus_give_the_history_of_the_same_files() {
    let rec = data::recorded();
    let pg = Postgres::start();
    pg.argo_archive("argo", &rec.rows);
    let prom = Prometheus::start(&rec.openmetrics, None);
    let dir = tempfile::tempdir().expect("temporary folder");
    let sources = Sources {
        paths: data::write_files(&rec, dir.path()),
        window: Some(recorded_window()),
        ..Sources::default()
    };
    let files = load_sources(&sources, false).expect("the files load");
    let sources = Sources {
        postgres: vec![pg.url("argo")],
        prometheus: vec![prom.url()],
        window: Some(recorded_window()),
        ..Sources::default()
    };
    let served = load_sources(&sources, false).expect("the services load");

    // Eight daily runs in the window (the ninth, three weeks older, is left out), with the peak
    // memory, CPU and GPU the series hold.
    let load_panel = &served.steps[&StepKey::new("daily_weights", "load_panel")];
    assert_eq!(load_panel.len(), 8);
    assert!(load_panel.iter().all(|e| e.peak_memory_bytes.is_some()));
    assert!(load_panel.iter().all(|e| e.cpu_seconds.is_some()));
    let score = &served.steps[&StepKey::new("daily_weights", "score")];
    assert_eq!(score.len(), 8, "Prometheus-only pods become executions");
    assert_eq!(runs(&served), runs(&files));
    assert_eq!(warnings(&served), warnings(&files));
    assert_eq!(served.warnings[0].code, ErrorCode::UnmatchedSeries);

    let cfg = TunerConfig::default();
    let none = BTreeMap::new();
    assert_eq!(
        recommend(&served, &none, &cfg),
        recommend(&files, &none, &cfg)
    );

    // A wider window reaches the older run, in the archive and in Prometheus alike.
    let wide = window("2026-11-01T00:00:00Z", data::UNTIL);
    let archive = from_archive(&pg.url("argo"), wide, false).expect("wide window");
    assert_eq!(
        archive.steps[&StepKey::new("daily_weights", "load_panel")].len(),
        9
    );
    let series = from_prometheus(&prom.url(), wide, true).expect("wide window");
    assert_eq!(
        series.steps[&StepKey::new("daily_weights", "score")].len(),
        9
    );
}

#[test]
fn archive_problems_have_stable_codes() {
    let rec = data::recorded();
    let pg = Postgres::start();
    pg.argo_archive("argo", &rec.rows);
    let w = recorded_window();

    let e = the_error(from_archive(
        &format!("postgres://argo:x@127.0.0.1:{}/argo", support::free_port()),
        w,
        false,
    ));
    assert_eq!(e.code, ErrorCode::Unreachable, "{e}");

    let wrong = format!("postgres://argo:wrong-password@127.0.0.1:{}/argo", pg.port);
    let e = the_error(from_archive(&wrong, w, false));
    assert_eq!(e.code, ErrorCode::AccessDenied, "{e}");
    assert!(e.to_string().contains("argo:***@"), "{e}");
    assert!(!e.to_string().contains("wrong-password"), "{e}");

    let e = the_error(from_archive(&pg.url("postgres"), w, false));
    assert_eq!(e.code, ErrorCode::MissingTable, "{e}");
    assert!(e.message.contains("argo_archived_workflows"), "{e}");
    let e = the_error(from_archive(&pg.url("no_such_db"), w, false));
    assert_eq!(e.code, ErrorCode::MissingTable, "{e}");

    let e = the_error(from_archive(
        &pg.url("argo"),
        window("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"),
        false,
    ));
    assert_eq!(e.code, ErrorCode::EmptyWindow, "{e}");

    let e = the_error(from_archive(
        "postgres://argo@127.0.0.1:notaport/argo",
        w,
        false,
    ));
    assert_eq!(e.code, ErrorCode::InvalidSource, "{e}");
}

#[test]
fn a_malformed_archived_workflow_fails_strictly_and_is_skipped_leniently() {
    let rec = data::recorded();
    let pg = Postgres::start();
    let mut rows = data::recorded().rows;
    // Day 3's workflow loses its name: the row is unreadable, the others are not.
    rows[3].workflow = rows[3]
        .workflow
        .replacen("\"name\": \"daily-weights-v1-2-0-d03x\",", "", 1);
    assert_ne!(rows[3].workflow, rec.rows[3].workflow);
    pg.argo_archive("argo", &rows);
    let e = the_error(from_archive(&pg.url("argo"), recorded_window(), false));
    assert_eq!(e.code, ErrorCode::MissingField, "{e}");
    assert!(
        e.file
            .ends_with("argo_archived_workflows/ms-pipelines/daily-weights-v1-2-0-d03x"),
        "{e}"
    );
    let h = from_archive(&pg.url("argo"), recorded_window(), true).expect("lenient");
    assert_eq!(h.warnings.len(), 1);
    assert_eq!(
        h.steps[&StepKey::new("daily_weights", "load_panel")].len(),
        7
    );
}

#[test]
fn servers_that_never_answer_are_unreachable_within_the_timeouts() {
    let silent = FakeHttp::start(None);
    // Short bounds for the test; the defaults are the same code with longer durations.
    let timeouts = services::Timeouts {
        connect: Duration::from_secs(1),
        handshake: Duration::from_secs(1),
        query: Duration::from_secs(1),
    };
    let archive = Sources {
        postgres: vec![format!("postgres://argo:x@127.0.0.1:{}/argo", silent.port)],
        window: Some(recorded_window()),
        timeouts,
        ..Sources::default()
    };
    let series = Sources {
        prometheus: vec![format!("http://127.0.0.1:{}", silent.port)],
        window: Some(recorded_window()),
        timeouts,
        ..Sources::default()
    };
    for sources in [archive, series] {
        let started = Instant::now();
        let e = the_error(load_sources(&sources, false));
        assert_eq!(e.code, ErrorCode::Unreachable, "{e}");
        assert!(started.elapsed() < Duration::from_secs(5), "{e}");
    }
    assert_eq!(
        services::Timeouts::default().handshake,
        services::HANDSHAKE_TIMEOUT
    );
}

const BASIC_AUTH: &str =
    "basic_auth_users:\n  nightly: $2b$12$CY.srBpOg00UKjDWiOkR7ucQTBYVbFLQVaJDe/DG.1lyt78oW8M36\n";

#[test]
fn prometheus_problems_have_stable_codes() {
    let w = recorded_window();
    let e = the_error(from_prometheus(
        &format!("http://127.0.0.1:{}", support::free_port()),
        w,
        false,
    ));
    assert_eq!(e.code, ErrorCode::Unreachable, "{e}");

    let guarded = Prometheus::start("", Some(BASIC_AUTH));
    let e = the_error(from_prometheus(&guarded.url(), w, false));
    assert_eq!(e.code, ErrorCode::AccessDenied, "{e}");

    // A series with a container but no pod, alone in its day.
    let orphan = "# TYPE container_memory_working_set_bytes gauge\n\
        container_memory_working_set_bytes{container=\"main\",namespace=\"ms\"} 1048576 1735689600\n\
        # EOF\n";
    let prom = Prometheus::start(orphan, None);
    let day = window("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z");
    let e = the_error(from_prometheus(&prom.url(), day, false));
    assert_eq!(e.code, ErrorCode::MissingField, "{e}");
    assert!(e.message.contains("label `pod`"), "{e}");
    let lenient = from_prometheus(&prom.url(), day, true).expect("lenient");
    assert_eq!(lenient.warnings.len(), 1);
    assert!(lenient.is_empty());

    let e = the_error(from_prometheus(
        &prom.url(),
        window("2020-01-01T00:00:00Z", "2020-02-01T00:00:00Z"),
        false,
    ));
    assert_eq!(e.code, ErrorCode::EmptyWindow, "{e}");
}

#[test]
fn answers_that_are_not_prometheus_have_stable_codes() {
    let w = recorded_window();
    let serve = |response: &'static str| {
        format!("http://127.0.0.1:{}", FakeHttp::start(Some(response)).port)
    };
    let not_json =
        serve("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!");
    assert_eq!(
        the_error(from_prometheus(&not_json, w, false)).code,
        ErrorCode::BadResponse
    );
    let not_found =
        serve("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
    let e = the_error(from_prometheus(&not_found, w, false));
    assert_eq!(e.code, ErrorCode::BadResponse, "{e}");
    assert!(e.message.contains("HTTP 404"), "{e}");
    let wrong_shape = serve(
        "HTTP/1.1 200 OK\r\nContent-Length: 63\r\nConnection: close\r\n\r\n\
         {\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":{}}}",
    );
    assert_eq!(
        the_error(from_prometheus(&wrong_shape, w, false)).code,
        ErrorCode::WrongType
    );
    let garbage = serve("SSH-2.0-OpenSSH_9.2\r\n");
    let e = the_error(from_prometheus(&garbage, w, false));
    assert_eq!(e.code, ErrorCode::BadResponse, "{e}");
    for bad in ["ftp://127.0.0.1:9090", "https://127.0.0.1:1"] {
        assert_eq!(
            the_error(from_prometheus(bad, w, false)).code,
            ErrorCode::InvalidSource,
            "{bad}"
        );
    }
    let no_start = Window {
        since_ms: Some(w.until_ms),
        until_ms: w.until_ms,
    };
    assert_eq!(
        the_error(from_prometheus(&not_json, no_start, false)).code,
        ErrorCode::InvalidSource
    );
}
