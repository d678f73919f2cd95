//! The Markdown report, for a merge-request description.

use crate::history::{History, Outcome};
use crate::model::{ConfidenceLevel, Recommendation};
use crate::units::{format_cpu, format_memory_quantity, GB};
use std::fmt::Write;

/// Warnings listed in a report; the rest are counted.
pub const MAX_WARNINGS: usize = 10;

/// OOM risk above which a step is listed as at risk.
pub const RISK_THRESHOLD: f64 = 0.02;

/// Memory totals over the executions seen, before and after, GB·h.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Reserved at the limits in force.
    pub reserved_before: f64,
    /// Reserved at the recommended limits.
    pub reserved_after: f64,
    /// Actually used (peak × runtime).
    pub used: f64,
}

/// Sums reserved and used memory over the history, per the recommendations.
pub fn totals(recs: &[Recommendation], history: &History) -> Totals {
    let mut t = Totals::default();
    for r in recs {
        let Some(runs) = history.steps.get(&r.key) else {
            continue;
        };
        for e in runs.iter().filter(|e| e.outcome != Outcome::Cached) {
            let hours = e.wall_seconds / 3600.0;
            let before = e
                .memory_in_force()
                .or(r.memory.old_limit)
                .unwrap_or(r.memory.new_limit);
            t.reserved_before += before as f64 * hours / GB;
            t.reserved_after += r.memory.new_limit as f64 * hours / GB;
            t.used += e.peak_memory_bytes.unwrap_or(0) as f64 * hours / GB;
        }
    }
    t
}

/// Whether a recommendation deserves a second look.
pub fn at_risk(r: &Recommendation) -> bool {
    r.memory.oom_risk.is_some_and(|x| x > RISK_THRESHOLD)
        || r.ooms > 0
        || r.reasons.iter().any(|s| s.starts_with("capped"))
        || (r.changed && r.confidence.level == ConfidenceLevel::Low)
}

fn memory_cell(r: &Recommendation) -> String {
    let new = format_memory_quantity(r.memory.new_limit);
    match r.memory.old_limit {
        Some(old) if old == r.memory.new_limit => format!("{new} (kept)"),
        Some(old) => format!("{} → {new}", format_memory_quantity(old)),
        // Nothing to go on: the lock file leaves it unset, and the runner's default applies.
        None if r.executions == 0 => "unset (no runs yet)".to_string(),
        None => format!("unset → {new}"),
    }
}

fn cpu_cell(r: &Recommendation) -> String {
    match (r.old_cpu_request, r.cpu.request_millis) {
        (Some(o), Some(n)) if o == n => format!("{} (kept)", format_cpu(n)),
        (Some(o), Some(n)) => format!("{} → {}", format_cpu(o), format_cpu(n)),
        (None, Some(_)) if r.executions == 0 => "unset (no runs yet)".to_string(),
        (None, Some(n)) => format!("unset → {}", format_cpu(n)),
        (Some(o), None) => format!("{} (kept)", format_cpu(o)),
        (None, None) => "–".to_string(),
    }
}

fn gpu_cell(r: &Recommendation) -> String {
    if r.gpu.current == 0 && r.gpu.recommended == 0 {
        "–".to_string()
    } else if r.gpu.current == r.gpu.recommended {
        format!("{} (kept)", r.gpu.current)
    } else {
        format!("{} → {}", r.gpu.current, r.gpu.recommended)
    }
}

/// Percent with one decimal, or a dash.
pub fn risk_cell(r: &Recommendation) -> String {
    r.memory
        .oom_risk
        .map_or("–".to_string(), |x| format!("{:.1} %", 100.0 * x))
}

/// Confidence as `high (0.82)`.
pub fn confidence_cell(r: &Recommendation) -> String {
    let level = match r.confidence.level {
        ConfidenceLevel::High => "high",
        ConfidenceLevel::Medium => "medium",
        ConfidenceLevel::Low => "low",
    };
    format!("{level} ({:.2})", r.confidence.score)
}

/// Runs seen, with OOM kills.
pub fn runs_cell(r: &Recommendation) -> String {
    if r.ooms > 0 {
        format!("{} ({} OOM)", r.executions, r.ooms)
    } else {
        r.executions.to_string()
    }
}

/// The table rows shared by the Markdown and HTML reports.
pub fn rows(recs: &[Recommendation]) -> Vec<[String; 8]> {
    recs.iter()
        .map(|r| {
            [
                r.key.to_string(),
                runs_cell(r),
                memory_cell(r),
                cpu_cell(r),
                gpu_cell(r),
                format!("{:.1}", r.saved_gb_hours),
                risk_cell(r),
                confidence_cell(r),
            ]
        })
        .collect()
}

/// Column headers of [`rows`].
pub const HEADERS: [&str; 8] = [
    "step",
    "executions",
    "memory limit",
    "CPU request",
    "GPU",
    "GB·h saved",
    "OOM risk",
    "confidence",
];

/// The Markdown report.
pub fn markdown(recs: &[Recommendation], history: &History) -> String {
    let mut out = String::new();
    let changed = recs.iter().filter(|r| r.changed).count();
    let t = totals(recs, history);
    let _ = writeln!(
        out,
        "## flowc autotune: {} step(s), {} changed\n",
        recs.len(),
        changed
    );
    let _ = writeln!(
        out,
        "Over the {} executions seen: memory reserved {:.1} GB·h → {:.1} GB·h (used {:.1} GB·h; unused {:.1} → {:.1} GB·h).\n",
        history.len(),
        t.reserved_before,
        t.reserved_after,
        t.used,
        t.reserved_before - t.used,
        t.reserved_after - t.used
    );
    let _ = writeln!(out, "| {} |", HEADERS.join(" | "));
    let _ = writeln!(out, "|---|---:|---|---|---|---:|---:|---|");
    for row in rows(recs) {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    let risky: Vec<&Recommendation> = recs.iter().filter(|r| at_risk(r)).collect();
    if !risky.is_empty() {
        let _ = writeln!(out, "\n### Steps at risk\n");
        for r in risky {
            let _ = writeln!(
                out,
                "- `{}`: OOM risk {}, {} OOM kill(s) seen, confidence {}",
                r.key,
                risk_cell(r),
                r.ooms,
                confidence_cell(r)
            );
        }
    }
    let _ = writeln!(out, "\n### Why\n");
    for r in recs {
        let _ = writeln!(out, "- `{}`: {}.", r.key, r.reasons.join("; "));
    }
    if !history.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} warning(s) while reading the history:\n",
            history.warnings.len()
        );
        for w in history.warnings.iter().take(MAX_WARNINGS) {
            let _ = writeln!(out, "- {w}");
        }
        if history.warnings.len() > MAX_WARNINGS {
            let _ = writeln!(
                out,
                "- … and {} more",
                history.warnings.len() - MAX_WARNINGS
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Execution, StepKey};
    use crate::model::recommend::recommend_step;
    use crate::model::TunerConfig;

    #[test]
    fn a_step_without_runs_stays_unset_and_a_measured_one_shows_the_change() {
        let cfg = TunerConfig::default();
        let key = StepKey::new("p", "s");
        let none = recommend_step(&key, &[], &Default::default(), &cfg);
        assert_eq!(memory_cell(&none), "unset (no runs yet)");
        let runs: Vec<Execution> = (0..3)
            .map(|i| {
                let mut e = Execution::new("p", "s", i * 120_000, 60.0);
                e.end_ms = i * 120_000 + 60_000;
                e.peak_memory_bytes = Some(300 << 20);
                e
            })
            .collect();
        let some = recommend_step(&key, &runs, &Default::default(), &cfg);
        assert!(
            memory_cell(&some).starts_with("unset → "),
            "{}",
            memory_cell(&some)
        );
    }
}
