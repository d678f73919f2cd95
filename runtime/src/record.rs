//! Run records: one JSON line per attempt of every step, the autotuner's input.
//!
//! The format (`flowc.run-record/1`) is documented in docs/metrics.md. Lines are appended and
//! flushed one at a time, so a run killed at any moment leaves complete lines behind.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// The record format's identifier.
pub const SCHEMA: &str = "flowc.run-record/1";

/// CPU, memory and GPU amounts in a record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Amounts {
    /// Millicores.
    pub cpu_millis: Option<u64>,
    /// Bytes.
    pub memory_bytes: Option<u64>,
    /// GPUs.
    pub gpu: u64,
}

/// The machine that ran the attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Host {
    /// Host name.
    pub name: String,
    /// CPUs available.
    pub cpus: usize,
    /// Memory, bytes.
    pub memory_bytes: u64,
}

/// One attempt of one step, borrowing what the run already holds (a record is written as it
/// is made, so its names and its machine are not copied for it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record<'a> {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// The pipeline the task belongs to.
    pub pipeline: &'a str,
    /// The pipeline version, if stamped.
    pub version: Option<&'a str>,
    /// The step (or pipeline) called.
    pub step: &'a str,
    /// The task in the pipeline; iterations as `task[i]`.
    pub task: &'a str,
    /// The run.
    pub run_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// End, RFC 3339 UTC.
    pub end: String,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// User plus system CPU seconds.
    pub cpu_seconds: f64,
    /// Peak resident memory, bytes.
    pub peak_rss_bytes: u64,
    /// Exit code, if the process exited.
    pub exit_code: Option<i32>,
    /// Signal, if the process was killed by one.
    pub signal: Option<i32>,
    /// `ok`, `failed`, `oom`, `timeout`, `cancelled` or `cached`.
    pub reason: &'static str,
    /// Bytes of the input artifacts.
    pub input_bytes: u64,
    /// Bytes of the output artifacts.
    pub output_bytes: u64,
    /// Requests in force.
    pub requests: Amounts,
    /// Limits in force.
    pub limits: Amounts,
    /// The machine.
    pub host: &'a Host,
}

/// Appends records to a run's `records.jsonl`.
#[derive(Debug)]
pub struct RecordWriter {
    /// The file, and the buffer each line is written into before it is appended (kept for the
    /// next line: a fresh one grows through several allocations for every record).
    file: Mutex<(File, Vec<u8>)>,
}

impl RecordWriter {
    /// Opens (creating) the records file.
    pub fn open(path: &Path) -> std::io::Result<RecordWriter> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(RecordWriter {
            file: Mutex::new((file, Vec::new())),
        })
    }

    /// Appends one record as one line (one `write`, so a run killed at any moment leaves
    /// whole lines behind).
    pub fn write(&self, r: &Record<'_>) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        let (file, line) = &mut *guard;
        line.clear();
        if serde_json::to_writer(&mut *line, r).is_ok() {
            line.push(b'\n');
            let _ = file.write_all(line);
        }
    }
}

/// This machine.
pub fn host() -> Host {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    Host {
        name,
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_bytes: meminfo("MemTotal").unwrap_or(0),
    }
}

/// A field of `/proc/meminfo`, in bytes.
pub fn meminfo(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(&format!("{field}:")))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
