//! Running one container step as a local process.
//!
//! The command runs in its own process group, so a timeout, a memory overrun or Ctrl-C stops
//! the whole tree it started. Memory is watched by sampling the resident set of the process and
//! its descendants (`/proc`); exceeding the limit kills the group and the attempt is recorded as
//! out-of-memory. (cgroup v2 would account memory exactly; this resident-set watchdog works
//! everywhere, including machines with cgroup v1 only.) CPU time and peak memory come from `wait4`'s resource usage, combined with the
//! samples. Output goes to the step's log with secret values replaced by `***`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Exit status 0.
    Ok,
    /// A non-zero exit, a signal, or a command that could not start.
    Failed,
    /// Stopped for exceeding its memory limit.
    Oom,
    /// Stopped for exceeding its timeout.
    Timeout,
    /// Stopped because the run was cancelled.
    Cancelled,
    /// Not run: its outputs came from the cache.
    Cached,
}

impl Reason {
    /// The word used in run records.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Failed => "failed",
            Reason::Oom => "oom",
            Reason::Timeout => "timeout",
            Reason::Cancelled => "cancelled",
            Reason::Cached => "cached",
        }
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// The working folder.
    pub cwd: PathBuf,
    /// Where output goes (appended).
    pub log: PathBuf,
    /// Longest run time.
    pub timeout: Option<Duration>,
    /// Most resident memory, in bytes.
    pub memory_limit: Option<u64>,
    /// Secret values to hide in the log.
    pub secrets: Vec<String>,
}

/// How an attempt went.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessResult {
    /// Why it ended.
    pub reason: Reason,
    /// The exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if any.
    pub signal: Option<i32>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// User plus system CPU seconds of the process tree.
    pub cpu_seconds: f64,
    /// Peak resident memory of the process tree, in bytes.
    pub peak_rss_bytes: u64,
    /// A message for failures that are not the program's own (could not start…).
    pub error: Option<String>,
}

#[allow(unsafe_code)]
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as u64
    } else {
        4096
    }
}

/// This process's peak resident memory (`VmHWM`), in bytes.
fn self_peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Resident bytes of the step's processes: its process tree when the kernel lists children
/// (`/proc/<pid>/task/*/children`), otherwise every process of its process group.
fn tree_rss(root: i32, page: u64) -> u64 {
    static HAS_CHILDREN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let has = *HAS_CHILDREN.get_or_init(|| {
        let me = std::process::id();
        std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists()
    });
    if !has {
        return group_rss(root, page);
    }
    let mut total = 0;
    let mut stack = vec![root];
    let mut seen = 0;
    while let Some(pid) = stack.pop() {
        seen += 1;
        if seen > 10_000 {
            break;
        }
        if let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) {
            total += statm
                .split_whitespace()
                .nth(1)
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
                * page;
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            if let Ok(children) = std::fs::read_to_string(t.path().join("children")) {
                stack.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<i32>().ok()),
                );
            }
        }
    }
    total
}

/// Resident bytes of all processes in process group `pgid` (a scan of `/proc`).
fn group_rss(pgid: i32, page: u64) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for e in dir.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After the command: state(0) ppid(1) pgrp(2) … rss(21).
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid) {
            total += fields
                .get(21)
                .and_then(|r| r.parse::<u64>().ok())
                .unwrap_or(0)
                * page;
        }
    }
    total
}

#[allow(unsafe_code)]
fn kill_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[allow(unsafe_code)]
fn wait4_blocking(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: rusage is plain data, zero is a valid bit pattern, and wait4 writes into the
    // two out-parameters we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return (status, usage);
        }
    }
}

fn tv(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// Copies lines from `r` to the shared log, hiding secrets.
fn pump(
    r: impl std::io::Read + Send + 'static,
    log: Arc<Mutex<File>>,
    secrets: Arc<Vec<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let mut line = String::from_utf8_lossy(&buf).into_owned();
                    for s in secrets.iter().filter(|s| !s.is_empty()) {
                        line = line.replace(s.as_str(), "***");
                    }
                    if let Ok(mut f) = log.lock() {
                        let _ = f.write_all(line.as_bytes());
                    }
                }
            }
        }
    })
}

/// Runs `spec` to completion, a timeout, a memory overrun or cancellation.
pub fn run_process(spec: &ProcessSpec, cancel: &AtomicBool) -> ProcessResult {
    let start = Instant::now();
    let mut result = ProcessResult {
        reason: Reason::Failed,
        exit_code: None,
        signal: None,
        wall_seconds: 0.0,
        cpu_seconds: 0.0,
        peak_rss_bytes: 0,
        error: None,
    };
    let Some((program, args)) = spec.argv.split_first() else {
        result.error = Some("the step has an empty command".into());
        return result;
    };
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&spec.log)
    {
        Ok(f) => Arc::new(Mutex::new(f)),
        Err(e) => {
            result.error = Some(format!("cannot open the log `{}`: {e}", spec.log.display()));
            return result;
        }
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // Changing directory forces a fork instead of a cheap spawn on some platforms: only do it
    // when the step's folder is not already ours.
    let here = std::env::current_dir().ok();
    if here.as_deref() != Some(spec.cwd.as_path())
        && spec.cwd.as_os_str() != "."
        && !spec.cwd.as_os_str().is_empty()
    {
        cmd.current_dir(&spec.cwd);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            result.error = Some(match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("command `{program}` not found (is it installed and on PATH?)")
                }
                std::io::ErrorKind::PermissionDenied => {
                    format!("command `{program}` is not executable")
                }
                _ => format!("cannot start `{program}`: {e}"),
            });
            if let Ok(mut f) = log.lock() {
                let _ = writeln!(f, "flowc: {}", result.error.as_deref().unwrap_or_default());
            }
            return result;
        }
    };
    let pid = child.id() as i32;
    let secrets = Arc::new(spec.secrets.clone());
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|o| pump(o, log.clone(), secrets.clone())),
        child
            .stderr
            .take()
            .map(|e| pump(e, log.clone(), secrets.clone())),
    ]
    .into_iter()
    .flatten()
    .collect();
    // The watchdog samples memory and enforces the timeout and cancellation while this thread
    // blocks in `wait4`, so a step's end is seen at once, not at the next poll.
    let page = page_size();
    let done = AtomicBool::new(false);
    let (killed, peak, (status, usage)) = std::thread::scope(|scope| {
        let watchdog = scope.spawn(|| {
            let mut killed: Option<Reason> = None;
            let mut peak = 0u64;
            // A step that ends within a few milliseconds is never sampled: it used next to nothing.
            std::thread::park_timeout(Duration::from_millis(3));
            while !done.load(Ordering::Acquire) {
                if killed.is_none() {
                    let rss = tree_rss(pid, page);
                    peak = peak.max(rss);
                    if cancel.load(Ordering::Relaxed) {
                        killed = Some(Reason::Cancelled);
                    } else if spec.timeout.is_some_and(|t| start.elapsed() > t) {
                        killed = Some(Reason::Timeout);
                    } else if spec.memory_limit.is_some_and(|l| rss > l) {
                        killed = Some(Reason::Oom);
                    }
                    if let Some(r) = killed {
                        if r == Reason::Cancelled {
                            // Let the program clean up, then make sure.
                            kill_group(pid, libc::SIGTERM);
                            std::thread::park_timeout(Duration::from_millis(200));
                        }
                        kill_group(pid, libc::SIGKILL);
                    }
                }
                // Sample often at first (short steps), then every 50 ms.
                let pause = if start.elapsed() < Duration::from_millis(200) {
                    5
                } else {
                    50
                };
                std::thread::park_timeout(Duration::from_millis(pause));
            }
            (killed, peak)
        });
        let waited = wait4_blocking(pid);
        done.store(true, Ordering::Release);
        watchdog.thread().unpark();
        let (killed, peak) = watchdog.join().unwrap_or((None, 0));
        (killed, peak, waited)
    });
    result.peak_rss_bytes = peak;
    // Anything the step left running in its group goes too.
    kill_group(pid, libc::SIGKILL);
    for r in readers {
        let _ = r.join();
    }
    result.wall_seconds = start.elapsed().as_secs_f64();
    result.cpu_seconds = tv(usage.ru_utime) + tv(usage.ru_stime);
    // `ru_maxrss` of a child spawned from this process starts at this process's own peak (the
    // kernel carries the pre-exec high-water mark over); trust it only when it is higher.
    let reported = usage.ru_maxrss.max(0) as u64 * 1024;
    if reported > self_peak_rss() {
        result.peak_rss_bytes = result.peak_rss_bytes.max(reported);
    }
    if libc::WIFEXITED(status) {
        result.exit_code = Some(libc::WEXITSTATUS(status));
    }
    if libc::WIFSIGNALED(status) {
        result.signal = Some(libc::WTERMSIG(status));
    }
    result.reason = match killed {
        Some(r) => r,
        None if result.exit_code == Some(0) => Reason::Ok,
        None => Reason::Failed,
    };
    let note = match result.reason {
        Reason::Oom => Some(format!(
            "flowc: stopped: resident memory exceeded the limit of {} bytes",
            spec.memory_limit.unwrap_or(0)
        )),
        Reason::Timeout => Some(format!(
            "flowc: stopped: ran longer than the timeout of {:.0} s",
            spec.timeout.map_or(0.0, |t| t.as_secs_f64())
        )),
        Reason::Cancelled => Some("flowc: stopped: the run was cancelled".to_string()),
        _ => None,
    };
    if let (Some(n), Ok(mut f)) = (note, log.lock()) {
        let _ = writeln!(f, "{n}");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &std::path::Path, argv: &[&str]) -> ProcessSpec {
        ProcessSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: vec![("SECRET_VALUE".into(), "hunter2".into())],
            cwd: dir.to_path_buf(),
            log: dir.join("log"),
            timeout: None,
            memory_limit: None,
            secrets: vec!["hunter2".into()],
        }
    }

    #[test]
    fn exit_codes_timeouts_and_secret_scrubbing() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let never = AtomicBool::new(false);
        let ok = run_process(
            &spec(dir.path(), &["sh", "-c", "echo $SECRET_VALUE"]),
            &never,
        );
        assert_eq!(ok.reason, Reason::Ok);
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        assert!(log.contains("***") && !log.contains("hunter2"), "{log}");
        let fail = run_process(&spec(dir.path(), &["sh", "-c", "exit 3"]), &never);
        assert_eq!((fail.reason, fail.exit_code), (Reason::Failed, Some(3)));
        let mut slow = spec(dir.path(), &["sh", "-c", "sleep 5 & sleep 5"]);
        slow.timeout = Some(Duration::from_millis(200));
        let t = run_process(&slow, &never);
        assert_eq!(t.reason, Reason::Timeout);
        assert!(t.wall_seconds < 3.0);
        let missing = run_process(&spec(dir.path(), &["no-such-command-flowc"]), &never);
        assert!(missing.error.unwrap_or_default().contains("not found"));
    }
}
