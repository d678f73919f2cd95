//! The HTML report: one self-contained page (inline CSS and SVG, no script, no external
//! resource) with the totals chart, the table, the steps at risk and a chart per step.

use super::markdown::{at_risk, rows, totals, HEADERS, MAX_WARNINGS};
use super::svg::{escape, peaks_chart, totals_chart};
use crate::history::History;
use crate::model::Recommendation;
use std::fmt::Write;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222;max-width:72em}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
td.n{text-align:right}tr.risk td{background:#fff3e0}h2{margin-top:2em}.why{color:#555;font-size:.9em}\
.legend span{margin-right:1.5em}";

/// The HTML report.
pub fn html(recs: &[Recommendation], history: &History) -> String {
    let mut out = String::new();
    let t = totals(recs, history);
    let changed = recs.iter().filter(|r| r.changed).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>flowc autotune report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = writeln!(
        out,
        "<h1>flowc autotune</h1><p>{} step(s), {} changed, over {} executions.</p>",
        recs.len(),
        changed,
        history.len()
    );
    let _ = writeln!(
        out,
        "<h2>Memory reserved, before and after</h2>{}",
        totals_chart(&t)
    );
    let _ = writeln!(
        out,
        "<p class=\"legend\"><span style=\"color:#2f6db5\">■ used</span><span style=\"color:#f0b44c\">■ reserved but unused</span></p>"
    );
    let _ = write!(out, "<h2>Recommendations</h2><table><thead><tr>");
    for h in HEADERS {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (r, row) in recs.iter().zip(rows(recs)) {
        let class = if at_risk(r) { " class=\"risk\"" } else { "" };
        let _ = write!(out, "<tr{class}>");
        for (i, cell) in row.iter().enumerate() {
            let numeric = matches!(i, 1 | 5 | 6);
            let _ = write!(
                out,
                "<td{}>{}</td>",
                if numeric { " class=\"n\"" } else { "" },
                escape(cell)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    let risky: Vec<&Recommendation> = recs.iter().filter(|r| at_risk(r)).collect();
    out.push_str("<h2>Steps at risk</h2>");
    if risky.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul>");
        for r in risky {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                escape(&r.key.to_string()),
                escape(&r.reasons.join("; "))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Per step</h2><p class=\"legend\"><span style=\"color:#2f6db5\">● observed peak</span><span style=\"color:#999\">- - limit in force</span><span style=\"color:#2a8a3a\">— new limit</span><span style=\"color:#c0392b\">✕ OOM kill</span></p>\n");
    let empty = Vec::new();
    for r in recs {
        let runs = history.steps.get(&r.key).unwrap_or(&empty);
        let key = escape(&r.key.to_string());
        let _ = writeln!(
            out,
            "<h3>{key}</h3>{}<p class=\"why\">{}</p>",
            peaks_chart(&r.key.to_string(), runs, r.memory.new_limit),
            escape(&r.reasons.join("; "))
        );
    }
    if !history.warnings.is_empty() {
        let _ = write!(
            out,
            "<h2>Warnings while reading the history ({})</h2><ul>",
            history.warnings.len()
        );
        for w in history.warnings.iter().take(MAX_WARNINGS) {
            let _ = write!(out, "<li>{}</li>", escape(&w.to_string()));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}
