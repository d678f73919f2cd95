//! The `--format sarif` report: SARIF 2.1.0 for code-scanning tools.
//!
//! One run with the `flowc` driver; every code in the table is a rule (so rule indices are
//! stable), results point at their primary label and list the others as related locations.
//! Columns are Unicode code points, declared with `columnKind`.

use serde_json::{json, Value};

use flowc_compiler::{Code, Diagnostic, Severity, Sources};

use super::range;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Note => "note",
        Severity::Warning => "warning",
    }
}

/// The SARIF log of `diags`.
pub fn render(sources: &Sources, diags: &[Diagnostic]) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": c.summary() },
                "helpUri": c.url(),
                "help": { "text": c.explanation(), "markdown": c.explanation() },
                "defaultConfiguration": { "level": level(c.severity()) },
            })
        })
        .collect();
    let location = |l: &flowc_compiler::Label| {
        let (s, e) = range(sources, l.file, l.span);
        let mut loc = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": sources.get(l.file).name() },
                "region": {
                    "startLine": s.line,
                    "startColumn": s.column,
                    "endLine": e.line,
                    "endColumn": e.column,
                },
            },
        });
        if !l.message.is_empty() {
            loc["message"] = json!({ "text": l.message });
        }
        loc
    };
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let primary: Vec<Value> = d.primary().into_iter().map(location).collect();
            let related: Vec<Value> = d
                .labels
                .iter()
                .filter(|l| !l.primary)
                .enumerate()
                .map(|(i, l)| {
                    let mut v = location(l);
                    v["id"] = json!(i);
                    v
                })
                .collect();
            let index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
            let mut r = json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": text },
                "locations": primary,
            });
            if !related.is_empty() {
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "flowc",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://flowc.dev",
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
