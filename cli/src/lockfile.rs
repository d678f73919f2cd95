//! The lock file of tuned resources, `FILE.flow.lock`, written by `flowc autotune --write` and
//! read by `flowc build` and `flowc run` for steps marked `resources auto(...)`.
//!
//! It is pretty-printed JSON with sorted keys, one step per block, so a merge request shows each
//! changed value on its own line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use flowc_compiler::plan::{Tuned, TunedResources};
use flowc_compiler::units::{format_cpu, format_memory};

/// The lock file's format name.
pub const FORMAT: &str = "flowc.lock";

/// Tuned values of one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedStep {
    /// Memory request and limit, such as `1536Mi`.
    pub memory: Option<String>,
    /// CPU request, such as `500m`.
    pub cpu: Option<String>,
    /// GPUs.
    pub gpu: Option<u64>,
    /// The tuner's confidence: `low`, `medium` or `high`.
    pub confidence: String,
    /// Executions the values are based on.
    pub executions: usize,
}

/// The whole lock file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// Steps by `pipeline/step`.
    pub steps: BTreeMap<String, LockedStep>,
}

/// The lock file beside `source`.
pub fn path_for(source: &Path) -> PathBuf {
    let mut name = source
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    source.with_file_name(name)
}

/// Reads the lock file beside `source`, if there is one.
pub fn read(source: &Path) -> Result<Option<LockFile>, String> {
    let path = path_for(source);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let lock: LockFile = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a valid lock file: {e}", path.display()))?;
    if lock.format != FORMAT || lock.version != 1 {
        return Err(format!(
            "`{}` is a `{}` version {} file; this flowc reads `{FORMAT}` version 1",
            path.display(),
            lock.format,
            lock.version
        ));
    }
    Ok(Some(lock))
}

fn parse_memory(s: &str) -> Option<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    let f: u64 = match &s[digits.len()..] {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(f)
}

fn parse_cpu(s: &str) -> Option<u64> {
    match s.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => s.parse::<f64>().ok().map(|c| (c * 1000.0).round() as u64),
    }
}

impl LockFile {
    /// The tuned values, for the plan builder.
    pub fn tuned(&self) -> Tuned {
        self.steps
            .iter()
            .filter_map(|(k, v)| {
                let (p, s) = k.split_once('/')?;
                Some((
                    (p.to_string(), s.to_string()),
                    TunedResources {
                        cpu_millis: v.cpu.as_deref().and_then(parse_cpu),
                        memory_bytes: v.memory.as_deref().and_then(parse_memory),
                        gpu: v.gpu,
                    },
                ))
            })
            .collect()
    }

    /// Renders the file.
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// A locked step from tuned values.
pub fn locked(
    memory: Option<u64>,
    cpu: Option<u64>,
    gpu: Option<u64>,
    confidence: &str,
    executions: usize,
) -> LockedStep {
    LockedStep {
        memory: memory.map(format_memory),
        cpu: cpu.map(format_cpu),
        gpu,
        confidence: confidence.to_string(),
        executions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut steps = BTreeMap::new();
        steps.insert(
            "daily/load".to_string(),
            locked(Some(1536 << 20), Some(500), Some(0), "high", 12),
        );
        let lock = LockFile {
            format: FORMAT.into(),
            version: 1,
            steps,
        };
        let back: LockFile =
            serde_json::from_str(&lock.to_text()).unwrap_or_else(|e| panic!("{e}"));
        let t = back.tuned();
        let r = t
            .get(&("daily".to_string(), "load".to_string()))
            .copied()
            .unwrap_or_default();
        assert_eq!(r.memory_bytes, Some(1536 << 20));
        assert_eq!(r.cpu_millis, Some(500));
        assert_eq!(
            path_for(Path::new("a/b.flow")),
            PathBuf::from("a/b.flow.lock")
        );
    }
}
