//! The emitters read only the plan: every use of the compiler in `src/argo/` and `src/kfp/`
//! (and in the shared modules beside them) goes through `flowc_compiler::plan`, the unit
//! formatters, the short-hash helper of Kubernetes names or the diagnostic types, never the syntax tree, the checked model or the
//! analysis. Only `check.rs`, which builds the plan from an analysis, may use more.

use std::path::{Path, PathBuf};

/// The compiler paths an emitter may use.
const ALLOWED: &[&str] = &[
    "plan",
    "units",
    "hash::short_hash",
    "Code",
    "Diagnostic",
    "Label",
    "diagnostics::sort",
];

/// The files of the emitters: every `.rs` under `src/` but `check.rs`.
fn emitter_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            emitter_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("src/check.rs") {
            out.push(p);
        }
    }
}

/// The compiler paths used in `text`: what follows each `flowc_compiler::`, split at braces
/// and commas.
fn compiler_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("flowc_compiler::") {
        let rest = &text[i + "flowc_compiler::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            out.extend(group[..end].split(',').map(|s| s.trim().to_string()));
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

#[test]
fn emitters_use_only_the_plan_and_diagnostic_types() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    emitter_files(&src, &mut files);
    assert!(files.len() > 15, "the emitters' files: {files:?}");
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for p in compiler_paths(&text) {
            if !ALLOWED
                .iter()
                .any(|a| p == *a || p.starts_with(&format!("{a}::")))
            {
                bad.push(format!("{}: flowc_compiler::{p}", f.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "emitters must read only the plan:\n{}",
        bad.join("\n")
    );
}

#[test]
fn compiler_paths_are_found() {
    let text = "use flowc_compiler::{Code, Diagnostic};\nlet x = flowc_compiler::plan::Plan;\nflowc_compiler::ide::hover();";
    assert_eq!(
        compiler_paths(text),
        ["Code", "Diagnostic", "plan::Plan", "ide::hover"]
    );
}
