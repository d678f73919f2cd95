//! Real PostgreSQL and Prometheus servers for tests, on loopback, in temporary folders.
//!
//! Each server is started by the test that needs it (a free port, a bounded wait until it
//! answers) and stopped when its handle drops, so `cargo test` needs no service started
//! beforehand. A missing server binary FAILS the test with the Debian package to install and
//! `.ci/setup`, which installs it: these tests never skip. PostgreSQL refuses to run as root, so
//! under root (CI) its programs run as the `postgres` user the Debian package creates.
//!
//! The CLI's tests include this module with `#[path]`; [`data`] builds the recorded history
//! both load.

#![allow(dead_code)]

pub mod data;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The archive's user and password in the test server.
pub const PG_USER: &str = "argo";
/// See [`PG_USER`].
pub const PG_PASSWORD: &str = "archive-test-password";

/// How long a server may take to answer after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A temporary folder for a server's data: in memory (`/dev/shm`) where there is one, since the
/// servers write little but promtool preallocates a 512 MiB chunk file and Prometheus its log
/// segments; else in the system's temporary folder.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let in_memory = shm
        .is_dir()
        .then(|| {
            tempfile::Builder::new()
                .prefix("flowc-test-")
                .tempdir_in(shm)
                .ok()
        })
        .flatten();
    in_memory.unwrap_or_else(|| tempfile::tempdir().expect("a temporary folder"))
}

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("the port's address").port()
}

fn missing(what: &str, package: &str) -> ! {
    panic!(
        "{what} is not installed: install the Debian package `{package}` (`.ci/setup` installs \
         everything the tests need)"
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `program` (as the `postgres` user under root); panics with its output if it fails.
fn run_checked(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Polls `ready` until it holds, `child` dies, or the timeout passes (then panics with `log`).
fn wait_ready(child: &mut Child, log: &Path, what: &str, ready: impl FnMut() -> bool) {
    if let Err(why) = try_wait_ready(child, log, what, ready) {
        panic!("{why}");
    }
}

/// [`wait_ready`], returning why the server is not ready instead of panicking (so a server
/// that lost its port to another test's can be started again on another).
fn try_wait_ready(
    child: &mut Child,
    log: &Path,
    what: &str,
    mut ready: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{what} stopped ({status}) before it was ready: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(child);
    Err(format!(
        "{what} was not ready after {READY_TIMEOUT:?}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}

/// Whether the PostgreSQL server at `url` is the one whose data folder is `data`.
fn serves(url: &str, data: &Path) -> bool {
    let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls) else {
        return false;
    };
    c.query_one("SHOW data_directory", &[])
        .ok()
        .and_then(|row| row.try_get::<_, String>(0).ok())
        .is_some_and(|d| Path::new(&d) == data)
}

/// Stops a child: SIGINT (a clean, fast shutdown for both servers), then SIGKILL after 5 s.
fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A PostgreSQL server with password (SCRAM) authentication for [`PG_USER`].
pub struct Postgres {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// The newest PostgreSQL server's `bin` folder of the Debian layout, else of `pg_config`.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|b| b.join("postgres").exists());
    from_pg_config.unwrap_or_else(|| missing("the PostgreSQL server", "postgresql"))
}

impl Postgres {
    /// Creates a cluster in a temporary folder and starts it.
    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let dir = scratch();
        let data = dir.path().join("data");
        let pwfile = dir.path().join("password");
        std::fs::write(&pwfile, PG_PASSWORD).expect("password file");
        let root = is_root();
        let as_owner = |program: &Path| -> Command {
            if root {
                let mut c = Command::new("setpriv");
                c.args([
                    "--reuid=postgres",
                    "--regid=postgres",
                    "--clear-groups",
                    "--",
                ])
                .arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        if root {
            run_checked(
                Command::new("chown")
                    .arg("-R")
                    .arg("postgres:")
                    .arg(dir.path()),
                "chown (the Debian package `postgresql` creates the user `postgres`)",
            );
        }
        run_checked(
            as_owner(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    PG_USER,
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let log = dir.path().join("server.log");
        // Tests start servers at once: a free port may be taken by another test's server before
        // this one binds it. The server is ready when *it* answers (its data folder), and one
        // that lost its port is started again on another.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log_file = std::fs::File::create(&log).expect("log file");
            let mut child = as_owner(&bin.join("postgres"))
                .arg("-D")
                .arg(&data)
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
                .arg(&data)
                .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start postgres: {e}"));
            let url = format!("postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{port}/postgres");
            let ours = || serves(&url, &data);
            match try_wait_ready(&mut child, &log, "PostgreSQL", ours) {
                Ok(()) => {
                    return Postgres {
                        child,
                        port,
                        _dir: dir,
                    }
                }
                Err(why) => last = why,
            }
        }
        panic!("{last}")
    }

    /// The address of database `db` with the right password.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// A client of database `db`.
    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {db}: {e}"))
    }

    /// Creates database `db` with Argo's archive table, holding `rows`.
    pub fn argo_archive(&self, db: &str, rows: &[data::ArchiveRow]) {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .expect("create database");
        let mut c = self.client(db);
        c.batch_execute(data::ARGO_ARCHIVE_TABLE)
            .expect("Argo's archive table");
        for r in rows {
            c.execute(
                "INSERT INTO argo_archived_workflows \
                 (clustername, instanceid, uid, name, namespace, phase, startedat, finishedat, workflow) \
                 VALUES ('default', '', $1, $2, $3, $4, \
                   to_timestamp($5::bigint / 1000.0) AT TIME ZONE 'UTC', \
                   to_timestamp($6::bigint / 1000.0) AT TIME ZONE 'UTC', $7::text::json)",
                &[
                    &r.uid,
                    &r.name,
                    &r.namespace,
                    &r.phase,
                    &r.started_ms,
                    &r.finished_ms,
                    &r.workflow,
                ],
            )
            .expect("insert an archived workflow");
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Serialises `promtool` runs of the tests of one binary.
static PROMTOOL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A Prometheus server whose storage holds recorded series.
pub struct Prometheus {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Loads `openmetrics` (with `promtool tsdb create-blocks-from openmetrics`) into a new
    /// storage folder and starts a server on it; `web_config` is a `--web.config.file` (e.g.
    /// basic authentication).
    pub fn start(openmetrics: &str, web_config: Option<&str>) -> Prometheus {
        let dir = scratch();
        let storage = dir.path().join("data");
        if !openmetrics.is_empty() {
            let input = dir.path().join("series.om");
            std::fs::write(&input, openmetrics).expect("OpenMetrics file");
            let mut promtool = Command::new("promtool");
            promtool
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(&input)
                .arg(&storage);
            // One at a time: promtool preallocates a 512 MiB chunk file while it writes.
            let _one = PROMTOOL.lock().unwrap_or_else(|e| e.into_inner());
            match promtool.output() {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    missing("promtool", "prometheus")
                }
                Err(e) => panic!("cannot run promtool: {e}"),
                Ok(out) => assert!(
                    out.status.success(),
                    "promtool tsdb create-blocks-from openmetrics failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            "global:\n  scrape_interval: 1h\nscrape_configs: []\n",
        )
        .expect("config");
        let port = free_port();
        let mut cmd = Command::new("prometheus");
        cmd.arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", storage.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            // The smallest write-ahead log segment: each is preallocated on disk.
            .arg("--storage.tsdb.wal-segment-size=10MB");
        if let Some(web) = web_config {
            let path = dir.path().join("web.yml");
            std::fs::write(&path, web).expect("web config");
            cmd.arg(format!("--web.config.file={}", path.display()));
        }
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child = match cmd.stdout(Stdio::null()).stderr(log_file).spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing("the Prometheus server", "prometheus")
            }
            Err(e) => panic!("cannot start prometheus: {e}"),
        };
        wait_ready(&mut child, &log, "Prometheus", || {
            http_status(port, "/-/ready").is_some_and(|s| s == 200 || s == 401)
        });
        Prometheus {
            child,
            port,
            _dir: dir,
        }
    }

    /// Its address.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// The status of `GET path` on a loopback port, if anything answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().ok()?,
        Duration::from_secs(1),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A loopback server that answers every request with `response` (raw HTTP), for answers a
/// real Prometheus never gives; or that accepts connections and never answers (`None`).
pub struct FakeHttp {
    /// Its port.
    pub port: u16,
}

impl FakeHttp {
    /// Serves until the test process ends.
    pub fn start(response: Option<&'static str>) -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().flatten() {
                match response {
                    Some(text) => {
                        let mut stream = stream;
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let _ = stream.write_all(text.as_bytes());
                    }
                    None => held.push(stream),
                }
            }
        });
        FakeHttp { port }
    }
}
