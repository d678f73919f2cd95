//! The `--format gitlab` report: GitLab Code Quality JSON.
//!
//! An array of issues with `description`, `check_name`, `fingerprint`, `severity` and
//! `location.path` / `location.lines.begin`, as GitLab's merge-request widget reads them.
//! The fingerprint hashes the code, the file, the message and the source line's text (not its
//! number), so an issue keeps its identity when unrelated lines move.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use flowc_compiler::{Diagnostic, Severity, Sources};

use super::range;

/// The Code Quality report of `diags`.
pub fn render(sources: &Sources, diags: &[Diagnostic]) -> String {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let issues: Vec<Value> = diags
        .iter()
        .filter_map(|d| {
            let l = d.primary()?;
            let f = sources.get(l.file);
            let (s, e) = range(sources, l.file, l.span);
            let line_text = f.text.lines().nth(s.line as usize - 1).unwrap_or("").trim();
            let mut h = Sha256::new();
            h.update(d.code.as_str());
            h.update([0]);
            h.update(f.name());
            h.update([0]);
            h.update(&d.message);
            h.update([0]);
            h.update(line_text);
            let base = format!("{:x}", h.finalize());
            // Identical issues on identical lines still need distinct fingerprints.
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            let fingerprint = if *n == 1 {
                base
            } else {
                format!("{:x}", Sha256::digest(format!("{base}:{n}")))
            };
            Some(json!({
                "type": "issue",
                "description": format!("{} [{}]", d.message, d.code.as_str()),
                "check_name": d.code.as_str(),
                "categories": ["Bug Risk"],
                "fingerprint": fingerprint,
                "severity": match d.severity { Severity::Error => "major", Severity::Warning => "minor", Severity::Note => "info" },
                "location": {
                    "path": f.name(),
                    "lines": { "begin": s.line, "end": e.line },
                },
            }))
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Value::Array(issues)).unwrap_or_default();
    s.push('\n');
    s
}
