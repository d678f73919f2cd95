//! The format of the lock file of tuned resources, `FILE.flow.lock`: its types, parsing from
//! text and rendering to text. No IO: the CLI reads and writes the file, the language server
//! reads it for hover, and both parse it here.
//!
//! The file is pretty-printed JSON with sorted keys, one step per block, so a merge request
//! shows each changed value on its own line:
//!
//! ```json
//! {
//!   "format": "flowc.lock",
//!   "version": 1,
//!   "steps": {
//!     "daily/load": { "memory": "1536Mi", "cpu": "500m", "gpu": 0, "confidence": "high", "executions": 12 }
//!   }
//! }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{MemoryRetry, MemoryScaling, Tuned, TunedResources};
use crate::units::{format_cpu, format_memory};

/// The lock file's format name.
pub const FORMAT: &str = "flowc.lock";

/// The format version this flowc reads and writes.
pub const VERSION: u32 = 1;

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
    /// Where the retry of an attempt killed for memory goes (absent in files written before
    /// it existed, which builds read as "no rule").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<LockedRetry>,
    /// The input-size rule, for runners that know a run's input before it starts (absent
    /// when no input model was fitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_scaling: Option<LockedScaling>,
}

/// A lock file's input-size rule (`flowc autotune recommend`'s `input_scaling`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedScaling {
    /// `linear` or `power-law`.
    pub kind: String,
    /// Intercept.
    pub a: f64,
    /// Slope or exponent.
    pub b: f64,
    /// Safety multiplier.
    pub multiplier: f64,
    /// Largest input fitted, bytes.
    pub max_input_bytes: u64,
    /// Largest value inside the input range fitted, bytes.
    pub cap_bytes: u64,
}

impl LockedScaling {
    /// The rule in the plan's terms; `None` for another kind or a number that is not finite.
    pub fn plan(&self) -> Option<MemoryScaling> {
        let power_law = match self.kind.as_str() {
            "linear" => false,
            "power-law" => true,
            _ => return None,
        };
        let finite = [self.a, self.b, self.multiplier]
            .iter()
            .all(|v| v.is_finite());
        (finite && self.multiplier > 0.0).then_some(MemoryScaling {
            power_law,
            a: self.a,
            b: self.b,
            multiplier: self.multiplier,
            max_input_bytes: self.max_input_bytes,
            cap_bytes: self.cap_bytes,
        })
    }
}

/// A lock file's retry rule: an attempt killed at k bytes is retried at max(`first`,
/// `factor` × k, k + `min_step`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockedRetry {
    /// The first retry's memory after a kill at the locked value, such as `963Mi`.
    pub first: String,
    /// Multiplier over the killed limit, such as 1.4.
    pub factor: f64,
    /// Smallest step over the killed limit, such as `100Mi`.
    pub min_step: String,
}

impl LockedRetry {
    /// The rule from bytes and a factor.
    pub fn new(first_bytes: u64, factor: f64, min_step_bytes: u64) -> Self {
        LockedRetry {
            first: format_memory(first_bytes),
            factor,
            min_step: format_memory(min_step_bytes),
        }
    }

    /// The rule in the plan's terms; `None` when a quantity cannot be read or the factor is
    /// not a finite number of at least 1.
    pub fn plan(&self) -> Option<MemoryRetry> {
        let ok = self.factor.is_finite() && (1.0..=100.0).contains(&self.factor);
        Some(MemoryRetry {
            first_bytes: parse_memory(&self.first)?,
            factor_permille: ok.then(|| (self.factor * 1000.0).round() as u64)?,
            min_step_bytes: parse_memory(&self.min_step)?,
        })
    }
}

/// The whole lock file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// Steps by `pipeline/step`.
    pub steps: BTreeMap<String, LockedStep>,
}

/// Why a lock file's text cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockError {
    /// Not JSON of the lock file's shape; the parser's message.
    Invalid(String),
    /// Another format, or another version of this one.
    Unsupported {
        /// The file's `format`.
        format: String,
        /// The file's `version`.
        version: u32,
    },
}

impl LockError {
    /// The error in words with its code (`E009`), naming the file as `file`.
    pub fn message(&self, file: &str) -> String {
        let code = crate::diagnostics::Code::InvalidLockFile.as_str();
        match self {
            LockError::Invalid(e) => format!(
                "[{code}] `{file}` is not a valid lock file: {e}\n  help: run `flowc autotune --write` again to rewrite it, or delete it to build with the declared resources"
            ),
            LockError::Unsupported { format, version } => format!(
                "[{code}] `{file}` is a `{format}` version {version} file; this flowc reads `{FORMAT}` version {VERSION}\n  help: rewrite it with this flowc's `flowc autotune --write`"
            ),
        }
    }
}

/// The lock file beside `source`: its name with `.lock` added (`a/b.flow` → `a/b.flow.lock`).
pub fn path_for(source: &Path) -> PathBuf {
    let mut name = source
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    source.with_file_name(name)
}

/// Parses a lock file's text.
pub fn parse(text: &str) -> Result<LockFile, LockError> {
    let lock: LockFile =
        serde_json::from_str(text).map_err(|e| LockError::Invalid(e.to_string()))?;
    if lock.format != FORMAT || lock.version != VERSION {
        return Err(LockError::Unsupported {
            format: lock.format,
            version: lock.version,
        });
    }
    for (name, step) in &lock.steps {
        step_problem(step).map_or(Ok(()), |why| {
            Err(LockError::Invalid(format!("step `{name}`: {why}")))
        })?;
    }
    Ok(lock)
}

/// Why a step's values cannot be used, if they cannot: a build would otherwise leave them out
/// without a word.
fn step_problem(step: &LockedStep) -> Option<String> {
    if let Some(m) = step.memory.as_deref().filter(|m| parse_memory(m).is_none()) {
        return Some(format!(
            "`memory` `{m}` is not a memory amount such as `1536Mi`"
        ));
    }
    if let Some(c) = step.cpu.as_deref().filter(|c| parse_cpu(c).is_none()) {
        return Some(format!("`cpu` `{c}` is not a CPU amount such as `500m`"));
    }
    if let Some(r) = step.retry.as_ref().filter(|r| r.plan().is_none()) {
        return Some(format!(
            "the retry rule (first `{}`, factor {}, min_step `{}`) needs two memory amounts and a factor from 1 to 100",
            r.first, r.factor, r.min_step
        ));
    }
    if let Some(s) = step.input_scaling.as_ref().filter(|s| s.plan().is_none()) {
        return Some(format!(
            "the input-scaling rule of kind `{}` needs the kind `linear` or `power-law`, finite numbers and a multiplier above 0",
            s.kind
        ));
    }
    None
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
                        memory_retry: v.retry.as_ref().and_then(LockedRetry::plan),
                        memory_scaling: v.input_scaling.as_ref().and_then(LockedScaling::plan),
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
        retry: None,
        input_scaling: None,
    }
}

/// Bytes of a memory quantity as the lock file writes them (`1536Mi`, `2G`, `512`).
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

/// Millicores of a CPU quantity as the lock file writes them (`500m`, `2`, `1.5`).
fn parse_cpu(s: &str) -> Option<u64> {
    match s.strip_suffix('m') {
        Some(m) => m.parse().ok(),
        None => s.parse::<f64>().ok().map(|c| (c * 1000.0).round() as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_step() -> LockFile {
        let mut lock = LockFile {
            format: FORMAT.into(),
            version: VERSION,
            steps: BTreeMap::new(),
        };
        lock.steps.insert(
            "daily/load".to_string(),
            locked(Some(1536 << 20), Some(500), Some(0), "high", 12),
        );
        lock
    }

    #[test]
    fn round_trip() {
        let lock = one_step();
        let back = parse(&lock.to_text()).unwrap_or_else(|e| panic!("{}", e.message("x")));
        assert_eq!(back, lock);
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

    #[test]
    fn values_a_build_cannot_use_make_the_file_invalid() {
        let mut lock = one_step();
        if let Some(step) = lock.steps.get_mut("daily/load") {
            step.retry = Some(LockedRetry {
                first: "2Gi".into(),
                factor: 0.5,
                min_step: "100Mi".into(),
            });
        }
        let err = parse(&lock.to_text())
            .map(|_| ())
            .map_err(|e| e.message("a.flow.lock"));
        assert!(
            matches!(&err, Err(m) if m.contains("step `daily/load`: the retry rule (first `2Gi`, factor 0.5")),
            "{err:?}"
        );
        let mut lock = one_step();
        if let Some(step) = lock.steps.get_mut("daily/load") {
            step.memory = Some("lots".into());
        }
        let err = parse(&lock.to_text())
            .map(|_| ())
            .map_err(|e| e.message("a.flow.lock"));
        assert!(
            matches!(&err, Err(m) if m.contains("`memory` `lots` is not a memory amount")),
            "{err:?}"
        );
        assert!(parse(&one_step().to_text()).is_ok());
    }

    #[test]
    fn the_retry_rule_round_trips_and_a_file_without_it_still_reads() {
        let mut lock = one_step();
        if let Some(step) = lock.steps.get_mut("daily/load") {
            step.retry = Some(LockedRetry::new(2048 << 20, 1.4, 100 << 20));
        }
        let text = lock.to_text();
        assert!(text.contains("\"retry\": {\n        \"first\": \"2Gi\",\n        \"factor\": 1.4,\n        \"min_step\": \"100Mi\"\n      }"), "{text}");
        let back = parse(&text).unwrap_or_else(|e| panic!("{}", e.message("x")));
        assert_eq!(back, lock);
        let r = back.tuned()[&("daily".to_string(), "load".to_string())].memory_retry;
        let rule = r.unwrap_or_default();
        assert_eq!(rule.first_bytes, 2048 << 20);
        assert_eq!(rule.factor_permille, 1400);
        // 1 GiB killed: the first retry is the rule's 2 GiB (above 1.4 GiB), then 1.4× each.
        assert_eq!(
            rule.ladder(1024 << 20, 2),
            vec![1024 << 20, 2048 << 20, 2868 << 20]
        );
        // A factor below 1 is no rule.
        let bad = LockedRetry {
            factor: 0.5,
            ..LockedRetry::new(1, 1.4, 1)
        };
        assert_eq!(bad.plan(), None);
        // An input rule: 100 MiB + 2 × input, at most 1 GiB up to 400 MiB of input.
        let scaling = LockedScaling {
            kind: "linear".into(),
            a: (100 << 20) as f64,
            b: 2.0,
            multiplier: 1.0,
            max_input_bytes: 400 << 20,
            cap_bytes: 1 << 30,
        };
        let rule = scaling.plan().unwrap_or_else(|| panic!("a rule"));
        assert_eq!(rule.limit_for(50 << 20), Some(200 << 20));
        assert_eq!(rule.limit_for(400 << 20), Some(900 << 20));
        assert_eq!(rule.limit_for(0), None);
        // Beyond the range fitted, the cap grows with the input.
        assert_eq!(rule.limit_for(800 << 20), Some(1700 << 20));
        let weird = LockedScaling {
            kind: "cubic".into(),
            ..scaling.clone()
        };
        assert_eq!(weird.plan(), None);
        // Files without the members parse as before.
        assert_eq!(one_step().steps["daily/load"].retry, None);
        assert!(!one_step().to_text().contains("retry"));
    }

    #[test]
    fn the_text_is_sorted_pretty_json_with_a_final_line_break() {
        let text = one_step().to_text();
        let expected = "{\n  \"format\": \"flowc.lock\",\n  \"version\": 1,\n  \"steps\": {\n    \"daily/load\": {\n      \"memory\": \"1536Mi\",\n      \"cpu\": \"500m\",\n      \"gpu\": 0,\n      \"confidence\": \"high\",\n      \"executions\": 12\n    }\n  }\n}\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn other_formats_versions_and_broken_text_are_refused_with_the_file_named() {
        let v2 = "{\"format\": \"flowc.lock\", \"version\": 2, \"steps\": {}}";
        assert_eq!(
            parse(v2).map_err(|e| e.message("a.flow.lock")),
            Err("[E009] `a.flow.lock` is a `flowc.lock` version 2 file; this flowc reads `flowc.lock` version 1\n  help: rewrite it with this flowc's `flowc autotune --write`".to_string())
        );
        let broken = parse("{").map_err(|e| e.message("a.flow.lock"));
        assert!(
            matches!(&broken, Err(m) if m.starts_with("[E009] `a.flow.lock` is not a valid lock file: ")),
            "{broken:?}"
        );
    }
}
