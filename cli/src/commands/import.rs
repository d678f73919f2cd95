//! `flowc import kfp`: converts Kubeflow component files and compiled pipelines to `.flow`.
//!
//! Each input becomes `NAME.flow` (beside it, or in `-o DIR`), written only when it converted
//! without errors; every problem is printed as `FILE:LINE:COL: severity[CODE]: message` with
//! its help. Exit codes: 0 converted (warnings allowed), 1 a file had errors, 2 IO.

use std::path::{Path, PathBuf};

use crate::args::{ImportCommand, ImportKfpArgs};
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Runs `flowc import`.
pub fn run(command: &ImportCommand) -> u8 {
    match command {
        ImportCommand::Kfp(args) => kfp(args),
    }
}

/// Where the `.flow` of `input` goes.
fn target(input: &Path, out: Option<&Path>) -> PathBuf {
    let stem = input
        .file_stem()
        .map_or_else(|| "imported".into(), |s| s.to_string_lossy().into_owned());
    // `component.yaml` files are usually named after their folder.
    let stem = match (stem.as_str(), input.parent().and_then(Path::file_name)) {
        ("component", Some(dir)) => dir.to_string_lossy().into_owned(),
        _ => stem,
    };
    let name = format!("{}.flow", flowc_import::names::sanitize(&stem));
    match out {
        Some(dir) => dir.join(name),
        None => input.with_file_name(name),
    }
}

/// The `.yaml` and `.yml` files under `path` (or `path` itself), sorted.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// `path`, or `path` with `_2`, `_3`… before `.flow` when this run already wrote it.
fn unique(path: PathBuf, written: &mut Vec<PathBuf>) -> PathBuf {
    let mut candidate = path.clone();
    let mut n = 2;
    while written.contains(&candidate) {
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        candidate = path.with_file_name(format!("{stem}_{n}.flow"));
        n += 1;
    }
    written.push(candidate.clone());
    candidate
}

fn kfp(args: &ImportKfpArgs) -> u8 {
    if let Some(dir) = &args.out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return super::fail(format!("cannot create `{}`: {e}", dir.display()));
        }
    }
    let mut inputs = Vec::new();
    for f in &args.files {
        if let Err(e) = collect(f, &mut inputs) {
            return crate::loader::unreadable(f, &crate::loader::why_unreadable(&e));
        }
    }
    let mut written = Vec::new();
    let mut code = EXIT_OK;
    for input in &inputs {
        let shown = input.display().to_string();
        let text = match std::fs::read(input) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(_) => {
                    eprintln!("{shown}:1:1: error[I001]: the file is not UTF-8 text, so not YAML\n  help: save the file as UTF-8");
                    code = code.max(EXIT_ERRORS);
                    continue;
                }
            },
            Err(e) => {
                crate::loader::print_unreadable(input, &crate::loader::why_unreadable(&e));
                code = EXIT_FAILURE;
                continue;
            }
        };
        let file_name = input
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        // The `.flow` file's name, chosen first: lightweight Python components become modules
        // of a package named after it, beside it (with --stdout they stay container steps).
        let out = (!args.stdout).then(|| unique(target(input, args.out.as_deref()), &mut written));
        let converted = match &out {
            Some(out) => flowc_import::convert_with_modules(&file_name, &text, &package_of(out)),
            None => flowc_import::convert(&file_name, &text),
        };
        for p in &converted.problems {
            eprint!("{}", p.render(&shown));
        }
        if converted.has_errors() {
            code = code.max(EXIT_ERRORS);
            continue;
        }
        let Some(out) = out else {
            print!("{}", converted.source);
            continue;
        };
        match write_all(&out, &converted) {
            Ok(()) => println!("wrote {}", out.display()),
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_FAILURE;
            }
        }
    }
    code
}

/// The Python package the modules of `out` (a `.flow` file) go into: its stem as a Python
/// name, with `_kfp`.
fn package_of(out: &Path) -> String {
    let stem = out
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let mut name: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "p_");
    }
    format!("{}_kfp", name.to_ascii_lowercase())
}

/// Writes the `.flow` file `out` and the modules beside it.
fn write_all(out: &Path, converted: &flowc_import::Converted) -> Result<(), String> {
    let dir = out.parent().unwrap_or(Path::new("."));
    for m in &converted.modules {
        let path = dir.join(&m.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create `{}`: {e}", parent.display()))?;
        }
        std::fs::write(&path, &m.text)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    std::fs::write(out, &converted.source)
        .map_err(|e| format!("cannot write `{}`: {e}", out.display()))
}
