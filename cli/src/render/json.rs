//! The `--format json` report: a stable document for scripts (described in docs/diagnostics.md).

use serde_json::{json, Value};

use flowc_compiler::{Diagnostic, Sources};

use super::{counts, range};

/// The JSON report of `diags`.
pub fn render(sources: &Sources, diags: &[Diagnostic]) -> String {
    let items: Vec<Value> = diags
        .iter()
        .map(|d| {
            let labels: Vec<Value> = d
                .labels
                .iter()
                .map(|l| {
                    let (s, e) = range(sources, l.file, l.span);
                    json!({
                        "file": sources.get(l.file).name(),
                        "start": { "line": s.line, "column": s.column, "offset": l.span.start },
                        "end": { "line": e.line, "column": e.column, "offset": l.span.end },
                        "message": l.message,
                        "primary": l.primary,
                    })
                })
                .collect();
            let primary = d.primary();
            json!({
                "code": d.code.as_str(),
                "name": d.code.name(),
                "severity": d.severity.as_str(),
                "message": d.message,
                "file": primary.map(|l| sources.get(l.file).name()),
                "labels": labels,
                "help": d.help,
                "notes": d.notes,
                "url": d.code.url(),
            })
        })
        .collect();
    let (errors, warnings) = counts(diags);
    let doc = json!({
        "version": 1,
        "diagnostics": items,
        "summary": { "errors": errors, "warnings": warnings },
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
