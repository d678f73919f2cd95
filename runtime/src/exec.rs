//! Running one container step as a local process (the step's own command, or `bwrap` or
//! `docker run` holding it; see `sandbox/`).
//!
//! The command runs in its own process group, so a timeout, a memory overrun or Ctrl-C stops
//! the whole tree it started. Memory is watched by sampling the resident set of the process and
//! its descendants (`/proc`); exceeding the limit kills the group and the attempt is recorded as
//! out-of-memory. (cgroup v2 would account memory exactly; this resident-set watchdog works
//! everywhere, including machines with cgroup v1 only.) CPU time and peak memory come from
//! `wait4`'s resource usage, combined with the samples. Output (stdout and stderr, in the order
//! written) goes to the step's log with secret values replaced by `***`; a step that prints
//! nothing and succeeds has no log file.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// Secret values to hide in the log (bytes: a secret file need not be text).
    pub secrets: Vec<Vec<u8>>,
    /// Start the program with `env` alone, not this process's environment as well.
    pub clear_env: bool,
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
    /// Whether anything was written to the log (it is created by the first byte).
    pub logged: bool,
    /// When the log could not be written (a full disk holds the step's output and its log):
    /// why, and the end of the step's output, kept in memory so the reason is not lost.
    pub unlogged: Option<String>,
}

/// The peak resident memory of this process, in bytes (for in-process built-in steps).
#[allow(unsafe_code)]
pub(crate) fn process_peak_rss() -> u64 {
    // SAFETY: rusage is plain data; getrusage writes into the value we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if r == 0 {
        usage.ru_maxrss.max(0) as u64 * 1024
    } else {
        0
    }
}

/// This process's peak resident memory, as [`process_peak_rss`] gives it, asked again only
/// when a child reports more than was last seen: the peak only grows, so a child's figure at
/// most the last one seen is at most the current one too (a system call per step saved; a
/// child started by `execve` from this process reports this process's peak at that moment).
fn runner_peak_rss(reported: u64) -> u64 {
    use std::sync::atomic::AtomicU64;
    static SEEN: AtomicU64 = AtomicU64::new(0);
    let seen = SEEN.load(Ordering::Relaxed);
    if reported <= seen {
        return seen;
    }
    let now = process_peak_rss();
    SEEN.fetch_max(now, Ordering::Relaxed);
    now
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

#[allow(unsafe_code)]
fn zeroed_rusage() -> libc::rusage {
    // SAFETY: rusage is plain data; all zeroes is a valid value.
    unsafe { std::mem::zeroed() }
}

/// A descriptor that becomes readable when process `pid` (our child) exits: its pidfd
/// (Linux 5.3 and later).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn pidfd_open(pid: i32) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags, touches no memory of ours, and returns a new
    // descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: a non-negative result is a fresh descriptor that nothing else owns.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: i32) -> Option<OwnedFd> {
    None
}

/// How the end of the child is noticed.
enum Exit {
    /// Its pidfd: readable once the child has exited, which is then reaped on this thread.
    PidFd(OwnedFd),
    /// Without pidfds, a thread blocked in `wait4` writes a byte to this pipe once it reaped
    /// the child.
    Waiter(io::PipeReader, std::thread::JoinHandle<(i32, libc::rusage)>),
}

impl Exit {
    /// How the end of `pid` is seen: its pidfd (the one it was started with, else one
    /// opened now), or, without pidfds (or `try_pidfd` false), a waiting thread.
    fn watch(pid: i32, pidfd: Option<OwnedFd>, try_pidfd: bool) -> io::Result<Exit> {
        if let Some(fd) = try_pidfd
            .then(|| pidfd.or_else(|| pidfd_open(pid)))
            .flatten()
        {
            return Ok(Exit::PidFd(fd));
        }
        let (r, mut w) = io::pipe()?;
        let waiter = std::thread::spawn(move || {
            let done = wait4_blocking(pid);
            let _ = w.write_all(&[1]);
            done
        });
        Ok(Exit::Waiter(r, waiter))
    }

    fn fd(&self) -> RawFd {
        match self {
            Exit::PidFd(fd) => fd.as_raw_fd(),
            Exit::Waiter(r, _) => r.as_raw_fd(),
        }
    }

    /// The child's wait status and resource usage, once `fd` was readable.
    fn reap(self, pid: i32) -> (i32, libc::rusage) {
        match self {
            Exit::PidFd(_) => wait4_blocking(pid),
            Exit::Waiter(_, waiter) => waiter.join().unwrap_or_else(|_| (0, zeroed_rusage())),
        }
    }
}

/// `poll(2)` on `fds` for at most `timeout` (rounded up to whole milliseconds), or until one
/// is ready when there is no timeout.
#[allow(unsafe_code)]
fn poll(fds: &mut [libc::pollfd], timeout: Option<Duration>) {
    let ms = timeout.map_or(-1, |t| {
        i32::try_from(t.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
    });
    // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs.
    // An error (EINTR) leaves every `revents` at zero, and the caller's loop polls again.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
    }
}

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// The step's log, opened (for appending) at the first byte written to it, so a step that
/// prints nothing costs no file. Secret values are replaced by `***` before anything reaches it.
struct Log<'a> {
    path: &'a Path,
    file: Option<File>,
    /// Secret values as bytes, longest first, so that a secret containing another is hidden
    /// whole.
    secrets: Vec<&'a [u8]>,
    /// Output not written yet because it may end with the beginning of a secret.
    held: Vec<u8>,
    /// The last [`TAIL_BYTES`] of the step's output (secrets hidden), for when the log
    /// cannot be written.
    tail: Vec<u8>,
    /// Why the log could not be opened or written, if it could not.
    write_error: Option<String>,
}

/// How much of the end of a step's output is kept in memory.
const TAIL_BYTES: usize = 2048;

impl<'a> Log<'a> {
    fn new(path: &'a Path, secrets: &'a [Vec<u8>]) -> Log<'a> {
        let mut secrets: Vec<&[u8]> = secrets
            .iter()
            .map(Vec::as_slice)
            .filter(|s| !s.is_empty())
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        secrets.dedup();
        Log {
            path,
            file: None,
            secrets,
            held: Vec::new(),
            tail: Vec::new(),
            write_error: None,
        }
    }

    /// Why the log could not be written and the end of the step's output, or `None` when it
    /// was written.
    fn unlogged(&self) -> Option<String> {
        let why = self.write_error.as_ref()?;
        let tail = String::from_utf8_lossy(&self.tail);
        let last: Vec<&str> = tail.lines().filter(|l| !l.trim().is_empty()).collect();
        let shown = last[last.len().saturating_sub(3)..].join(" / ");
        Some(match shown.is_empty() {
            true => format!("its log could not be written ({why})"),
            false => format!("its log could not be written ({why}); its last output: {shown}"),
        })
    }

    /// Keeps the end of the step's output.
    fn keep_tail(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > TAIL_BYTES {
            let cut = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..cut);
        }
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.file.is_none() && self.write_error.is_none() {
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path)
            {
                Ok(f) => self.file = Some(f),
                Err(e) => self.write_error = Some(e.to_string()),
            }
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.write_all(bytes) {
                self.write_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    /// Output of the step, written once it is settled whether it holds a secret: every byte
    /// is written when all the bytes a secret starting there could span have arrived, so a
    /// secret is hidden however reads split the output, and also when it spans lines.
    fn output(&mut self, bytes: &[u8]) {
        if self.secrets.is_empty() {
            self.keep_tail(bytes);
            self.write_raw(bytes);
        } else {
            self.held.extend_from_slice(bytes);
            self.scrub(false);
        }
    }

    /// Writes `held` with each secret replaced by `***` (the longest one where several
    /// match), up to where a secret could still be cut off (anywhere at the end).
    fn scrub(&mut self, at_end: bool) {
        let longest = self.secrets.first().map_or(0, |s| s.len());
        let text = std::mem::take(&mut self.held);
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() && (at_end || i + longest <= text.len()) {
            match self.secrets.iter().find(|s| text[i..].starts_with(s)) {
                Some(s) => {
                    out.extend_from_slice(b"***");
                    i += s.len();
                }
                None => {
                    out.push(text[i]);
                    i += 1;
                }
            }
        }
        self.held = text[i..].to_vec();
        self.keep_tail(&out);
        self.write_raw(&out);
    }

    /// Writes what was held back.
    fn finish(&mut self) {
        self.scrub(true);
    }

    /// A line of flowc's own (a note or an error), after the step's output.
    fn note(&mut self, line: &str) {
        self.finish();
        self.write_raw(format!("{line}\n").as_bytes());
    }
}

fn cannot_start(program: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => {
            format!("command `{program}` not found (is it installed and on PATH?)")
        }
        io::ErrorKind::PermissionDenied => format!("command `{program}` is not executable"),
        _ => format!("cannot start `{program}`: {e}"),
    }
}

/// Runs `spec` to completion, a timeout, a memory overrun or cancellation.
///
/// The calling thread does all the watching: it polls the step's output (stdout and stderr
/// share one pipe, as they share the log) and the child's pidfd, with a timeout that is the
/// next watchdog duty (a memory sample, the timeout, SIGKILL after SIGTERM). So no thread is
/// started per attempt, and a step's end is seen at once, not at the next sample. (Where there
/// are no pidfds, one thread per attempt waits for the child instead.)
pub fn run_process(spec: &ProcessSpec, cancel: &AtomicBool) -> ProcessResult {
    run_watched(spec, cancel, true)
}

/// [`run_process`], with pidfds or (for tests of the other way) without.
fn run_watched(spec: &ProcessSpec, cancel: &AtomicBool, try_pidfd: bool) -> ProcessResult {
    let start = Instant::now();
    let mut result = ProcessResult {
        reason: Reason::Failed,
        exit_code: None,
        signal: None,
        wall_seconds: 0.0,
        cpu_seconds: 0.0,
        peak_rss_bytes: 0,
        error: None,
        logged: false,
        unlogged: None,
    };
    let mut log = Log::new(&spec.log, &spec.secrets);
    let Some((program, args)) = spec.argv.split_first() else {
        result.error = Some("the step has an empty command".into());
        return result;
    };
    let (mut output, writer) = match io::pipe() {
        Ok(p) => p,
        Err(e) => {
            result.error = Some(format!("cannot create a pipe for the step's output: {e}"));
            return result;
        }
    };
    let how = crate::spawn::Start {
        env: &spec.env,
        clear_env: spec.clear_env,
        cwd: &spec.cwd,
    };
    let spawned = match crate::spawn::spawn(&how, program, args, writer.into()) {
        Ok(spawned) => spawned,
        Err(e) => {
            let why = cannot_start(program, &e);
            log.note(&format!("flowc: {why}"));
            result.error = Some(why);
            result.logged = log.file.is_some();
            return result;
        }
    };
    let pid = spawned.pid;
    let exit = match Exit::watch(pid, spawned.pidfd, try_pidfd) {
        Ok(e) => e,
        Err(e) => {
            // Without a way to see its end, the step cannot be watched: stop it.
            kill_group(pid, libc::SIGKILL);
            let _ = wait4_blocking(pid);
            result.error = Some(format!("cannot watch the step: {e}"));
            return result;
        }
    };
    let mut watch = Watch::new(pid, start, spec, exit);
    watch.until_end(&mut output, &mut log, cancel);
    drop(output);
    log.finish();
    watch.measure(&mut result);
    match closing_note(&result, spec) {
        Some(n) => log.note(&n),
        None => log.finish(),
    }
    result.logged = log.file.is_some();
    result.unlogged = log.unlogged();
    result
}

/// The watch over a running step: its output into the log, its memory, its timeout,
/// cancellation, and its end.
struct Watch {
    pid: i32,
    start: Instant,
    page: u64,
    deadline: Option<Instant>,
    memory_limit: Option<u64>,
    /// How its end is seen; taken when it has ended.
    exit: Option<Exit>,
    /// Why flowc stopped it, if it did.
    killed: Option<Reason>,
    /// The highest resident memory sampled.
    peak: u64,
    next_sample: Instant,
    /// After SIGTERM (cancellation): when SIGKILL follows.
    term_until: Option<Instant>,
    /// Its wait status and resource usage, once it has ended.
    waited: Option<(i32, libc::rusage)>,
    /// Once the step has ended, how long its output may take to drain: a process that left
    /// the group and kept the pipe open must not hold the run forever.
    drain_until: Option<Instant>,
    output_open: bool,
    /// The output is watched from the first watchdog duty on, or once the step has ended: a
    /// short step's output waits in the pipe, and its end wakes this thread once (its pidfd),
    /// not twice (the pipe's end, then the pidfd).
    watch_output: bool,
}

impl Watch {
    fn new(pid: i32, start: Instant, spec: &ProcessSpec, exit: Exit) -> Watch {
        Watch {
            pid,
            start,
            page: page_size(),
            deadline: spec.timeout.map(|t| start + t),
            memory_limit: spec.memory_limit,
            exit: Some(exit),
            killed: None,
            peak: 0,
            // A step that ends within a few milliseconds of starting is never sampled: it
            // used next to nothing.
            next_sample: Instant::now() + Duration::from_millis(3),
            term_until: None,
            waited: None,
            drain_until: None,
            output_open: true,
            watch_output: false,
        }
    }

    /// Watches until the step has ended and its output is drained.
    fn until_end(&mut self, output: &mut io::PipeReader, log: &mut Log<'_>, cancel: &AtomicBool) {
        // One buffer per thread, kept for the next step: a fresh one would be zeroed (64 KiB)
        // for every step, most of which print nothing.
        thread_local! {
            static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUF.with(|b| match b.try_borrow_mut() {
            Ok(mut buf) => {
                if buf.is_empty() {
                    buf.resize(1 << 16, 0);
                }
                self.watch_loop(output, log, cancel, &mut buf);
            }
            Err(_) => self.watch_loop(output, log, cancel, &mut vec![0u8; 1 << 16]),
        });
    }

    fn watch_loop(
        &mut self,
        output: &mut io::PipeReader,
        log: &mut Log<'_>,
        cancel: &AtomicBool,
        buf: &mut [u8],
    ) {
        loop {
            let now = Instant::now();
            if self.waited.is_some()
                && (!self.output_open || self.drain_until.is_some_and(|d| now >= d))
            {
                break;
            }
            if self.waited.is_none() {
                self.watchdog(now, cancel);
            }
            let wake = self.wake_at();
            let mut fds = [
                pollfd(if self.output_open && self.watch_output {
                    output.as_raw_fd()
                } else {
                    -1
                }),
                pollfd(self.exit.as_ref().map_or(-1, Exit::fd)),
            ];
            poll(&mut fds, wake.map(|w| w.saturating_duration_since(now)));
            if fds[0].revents != 0 {
                match output.read(buf) {
                    Ok(0) => self.output_open = false,
                    Ok(n) => log.output(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => self.output_open = false,
                }
            }
            if fds[1].revents != 0 {
                self.reap();
            }
        }
    }

    /// The watchdog's duties due at `now`: SIGKILL after SIGTERM, and a memory sample (which
    /// also sees the timeout and cancellation).
    fn watchdog(&mut self, now: Instant, cancel: &AtomicBool) {
        if self.term_until.is_some_and(|t| now >= t) {
            kill_group(self.pid, libc::SIGKILL);
            self.term_until = None;
        }
        let overdue = self.deadline.is_some_and(|d| now >= d);
        if self.killed.is_none() && (now >= self.next_sample || overdue) {
            self.sample(now, overdue, cancel);
        }
    }

    /// Samples the step's memory, and stops it when it is over its limit or its timeout, or
    /// the run is cancelled.
    fn sample(&mut self, now: Instant, overdue: bool, cancel: &AtomicBool) {
        self.watch_output = true;
        let rss = tree_rss(self.pid, self.page);
        self.peak = self.peak.max(rss);
        if cancel.load(Ordering::Relaxed) {
            self.killed = Some(Reason::Cancelled);
        } else if overdue {
            self.killed = Some(Reason::Timeout);
        } else if self.memory_limit.is_some_and(|l| rss > l) {
            self.killed = Some(Reason::Oom);
        }
        match self.killed {
            Some(Reason::Cancelled) => {
                // Let the program clean up, then make sure.
                kill_group(self.pid, libc::SIGTERM);
                self.term_until = Some(now + Duration::from_millis(200));
            }
            Some(_) => kill_group(self.pid, libc::SIGKILL),
            None => {}
        }
        // Sample often at first (short steps), then every 50 ms.
        let pause = if now - self.start < Duration::from_millis(200) {
            5
        } else {
            50
        };
        self.next_sample = now + Duration::from_millis(pause);
    }

    /// When the next duty is due: the end of draining, SIGKILL after SIGTERM, or the next
    /// sample or the timeout.
    fn wake_at(&self) -> Option<Instant> {
        if self.waited.is_some() {
            self.drain_until
        } else if self.killed.is_some() {
            self.term_until
        } else {
            Some(
                self.deadline
                    .map_or(self.next_sample, |d| d.min(self.next_sample)),
            )
        }
    }

    /// Reaps the step once it has ended.
    fn reap(&mut self) {
        if let Some(e) = self.exit.take() {
            self.waited = Some(e.reap(self.pid));
            // Anything the step left running in its group goes too.
            kill_group(self.pid, libc::SIGKILL);
            self.watch_output = true;
            self.drain_until = Some(Instant::now() + Duration::from_secs(2));
        }
    }

    /// Fills in the measures and the reason of the ended step.
    fn measure(&self, result: &mut ProcessResult) {
        let (status, usage) = self.waited.unwrap_or_else(|| (0, zeroed_rusage()));
        result.peak_rss_bytes = self.peak;
        result.wall_seconds = self.start.elapsed().as_secs_f64();
        result.cpu_seconds = tv(usage.ru_utime) + tv(usage.ru_stime);
        // `ru_maxrss` of a child spawned from this process starts at this process's own peak
        // (the kernel carries the pre-exec high-water mark over); trust it only when it is
        // higher.
        let reported = usage.ru_maxrss.max(0) as u64 * 1024;
        if reported > runner_peak_rss(reported) {
            result.peak_rss_bytes = result.peak_rss_bytes.max(reported);
        }
        if libc::WIFEXITED(status) {
            result.exit_code = Some(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            result.signal = Some(libc::WTERMSIG(status));
        }
        result.reason = match self.killed {
            Some(r) => r,
            None if result.exit_code == Some(0) => Reason::Ok,
            None => Reason::Failed,
        };
    }
}

/// flowc's last line in the log of a step that did not succeed, so that a failed step always
/// has a log, even one that printed nothing.
fn closing_note(result: &ProcessResult, spec: &ProcessSpec) -> Option<String> {
    match result.reason {
        Reason::Oom => Some(format!(
            "flowc: stopped: resident memory exceeded the limit of {} bytes",
            spec.memory_limit.unwrap_or(0)
        )),
        Reason::Timeout => Some(format!(
            "flowc: stopped: ran longer than the timeout of {:.0} s",
            spec.timeout.map_or(0.0, |t| t.as_secs_f64())
        )),
        Reason::Cancelled => Some("flowc: stopped: the run was cancelled".to_string()),
        Reason::Failed => Some(match (result.exit_code, result.signal) {
            (Some(c), _) => format!("flowc: exited with code {c}"),
            (_, Some(s)) => format!("flowc: killed by signal {s}"),
            _ => "flowc: failed".to_string(),
        }),
        Reason::Ok | Reason::Cached => None,
    }
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
            secrets: vec![b"hunter2".to_vec()],
            clear_env: false,
        }
    }

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_default()
    }

    #[test]
    fn exit_codes_timeouts_and_secret_scrubbing() {
        // With the child's pidfd, and with a thread waiting for it (where there are no pidfds).
        for pidfd in [true, false] {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let never = AtomicBool::new(false);
            let ok = run_watched(
                &spec(dir.path(), &["sh", "-c", "echo $SECRET_VALUE"]),
                &never,
                pidfd,
            );
            assert_eq!(ok.reason, Reason::Ok);
            let log = read(&dir.path().join("log"));
            assert!(log.contains("***") && !log.contains("hunter2"), "{log}");
            let fail = run_watched(&spec(dir.path(), &["sh", "-c", "exit 3"]), &never, pidfd);
            assert_eq!((fail.reason, fail.exit_code), (Reason::Failed, Some(3)));
            let mut slow = spec(dir.path(), &["sh", "-c", "sleep 5 & sleep 5"]);
            slow.timeout = Some(Duration::from_millis(200));
            let t = run_watched(&slow, &never, pidfd);
            assert_eq!(t.reason, Reason::Timeout);
            assert!(t.wall_seconds < 3.0);
            let missing = run_watched(&spec(dir.path(), &["no-such-command-flowc"]), &never, pidfd);
            assert!(missing.error.unwrap_or_default().contains("not found"));
            let cancel = AtomicBool::new(true);
            let stopped = run_watched(&spec(dir.path(), &["sleep", "5"]), &cancel, pidfd);
            assert_eq!(stopped.reason, Reason::Cancelled);
            assert!(
                read(&dir.path().join("log")).ends_with("flowc: stopped: the run was cancelled\n")
            );
        }
    }

    #[test]
    fn a_quiet_step_has_no_log_and_a_failed_one_always_has() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let never = AtomicBool::new(false);
        let quiet = run_process(&spec(dir.path(), &["true"]), &never);
        assert_eq!(quiet.reason, Reason::Ok);
        assert!(!quiet.logged && !dir.path().join("log").exists());
        let failed = run_process(&spec(dir.path(), &["sh", "-c", "exit 4"]), &never);
        assert!(failed.logged);
        assert_eq!(read(&dir.path().join("log")), "flowc: exited with code 4\n");
    }

    #[test]
    fn stdout_and_stderr_reach_the_log_in_the_order_written() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let never = AtomicBool::new(false);
        let both = spec(
            dir.path(),
            &[
                "sh",
                "-c",
                "echo one; echo two >&2; echo three; echo four >&2",
            ],
        );
        assert_eq!(run_process(&both, &never).reason, Reason::Ok);
        assert_eq!(read(&dir.path().join("log")), "one\ntwo\nthree\nfour\n");
    }

    #[test]
    fn secrets_are_hidden_however_the_output_is_split() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("log");
        let secrets: Vec<Vec<u8>> = ["hunter2", "abc", "abcdef", "two\nlines", ""]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let text = "x hunter2 abcdef abc two\nlines hunter abc\n";
        // Every way of cutting the output in two, and byte by byte.
        for cut in 0..=text.len() {
            let _ = std::fs::remove_file(&path);
            let mut log = Log::new(&path, &secrets);
            log.output(&text.as_bytes()[..cut]);
            log.output(&text.as_bytes()[cut..]);
            log.finish();
            assert_eq!(
                read(&path),
                "x *** *** *** *** hunter ***\n",
                "cut at {cut}"
            );
        }
        let _ = std::fs::remove_file(&path);
        let mut log = Log::new(&path, &secrets);
        for b in text.as_bytes() {
            log.output(std::slice::from_ref(b));
        }
        log.note("flowc: done");
        assert_eq!(read(&path), "x *** *** *** *** hunter ***\nflowc: done\n");
    }
}
