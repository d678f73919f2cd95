//! Deterministic Markdown rendering of an [`EvalReport`]: a table per metric family, a total
//! row, and the acceptance summary (flowc against the better baseline).

use super::{EvalReport, PolicyMetrics};
use std::fmt::Write;

/// A table section: title, column suffix, cell renderer.
type Section = (&'static str, &'static str, fn(&PolicyMetrics) -> String);

fn waste(m: &PolicyMetrics) -> String {
    format!("{:.2}", m.wasted_gb_h)
}

fn ratio(m: &PolicyMetrics) -> String {
    format!("{:.3}", m.ratio())
}

fn ooms(m: &PolicyMetrics) -> String {
    format!("{} ({:.2} %)", m.oom_failures, 100.0 * m.oom_rate())
}

/// flowc's waste over the better baseline's, for one set of metrics (flowc first).
pub fn waste_vs_better(ms: &[PolicyMetrics]) -> Option<f64> {
    let flowc = ms.first()?;
    let better = ms[1..]
        .iter()
        .map(|m| m.wasted_gb_h)
        .fold(f64::INFINITY, f64::min);
    (better.is_finite() && better > 0.0).then(|| flowc.wasted_gb_h / better)
}

/// The Markdown tables.
pub fn markdown(r: &EvalReport) -> String {
    let names: Vec<&str> = r.total.iter().map(|m| m.policy.as_str()).collect();
    let mut out = format!("flowc: {}.\n\n", r.config.cadence.label());
    let head = |out: &mut String, title: &str| {
        let _ = write!(out, "| workflow | executions |");
        for n in &names {
            let _ = write!(out, " {n} {title} |");
        }
        out.push_str("\n|---|---:|");
        for _ in &names {
            out.push_str("---:|");
        }
        out.push('\n');
    };
    let sections: [Section; 3] = [
        ("Memory wasted (GB·h)", "wasted", waste),
        ("Memory reserved / oracle", "ratio", ratio),
        ("OOM failures (rate per execution)", "OOM", ooms),
    ];
    for (title, short, cell) in sections {
        let _ = writeln!(out, "**{title}**\n");
        head(&mut out, short);
        for w in &r.workflows {
            let _ = write!(out, "| {} | {} |", w.workflow, w.executions);
            for m in &w.policies {
                let _ = write!(out, " {} |", cell(m));
            }
            out.push('\n');
        }
        let _ = write!(
            out,
            "| **total** | {} |",
            r.total.first().map_or(0, |m| m.executions)
        );
        for m in &r.total {
            let _ = write!(out, " **{}** |", cell(m));
        }
        out.push_str("\n\n");
    }
    if let Some(rel) = waste_vs_better(&r.total) {
        let _ = writeln!(
            out,
            "flowc's waste in total: {:.3} × the better baseline's.",
            rel
        );
    }
    let worst = r
        .workflows
        .iter()
        .filter_map(|w| waste_vs_better(&w.policies).map(|x| (x, w.workflow.as_str())))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)));
    if let Some((x, name)) = worst {
        let _ = writeln!(
            out,
            "Worst workflow for flowc: `{name}`, {x:.3} × the better baseline's waste."
        );
    }
    let _ = write!(
        out,
        "Runs killed at all {} attempts (the step failed; then charged at their peak):",
        r.config.max_attempts
    );
    for m in &r.total {
        let _ = write!(out, " {} {},", m.policy, m.exhausted);
    }
    out.pop();
    out.push_str(".\n");
    let scored: usize = r.total.first().map_or(0, |m| m.executions);
    let _ = writeln!(
        out,
        "Input size known before the start (given to flowc's input model): {} of {scored} \
         executions; measured only while running (given to no policy): {}.",
        r.inputs_before_start, r.inputs_withheld
    );
    if r.warnings > 0 {
        let _ = writeln!(
            out,
            "Records skipped with a warning while reading: {}.",
            r.warnings
        );
    }
    if r.skipped > 0 {
        let _ = writeln!(
            out,
            "Executions without a measured peak (not scored): {}.",
            r.skipped
        );
    }
    out
}
