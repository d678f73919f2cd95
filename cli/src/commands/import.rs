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

fn kfp(args: &ImportKfpArgs) -> u8 {
    if let Some(dir) = &args.out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            return super::fail(format!("cannot create `{}`: {e}", dir.display()));
        }
    }
    let mut code = EXIT_OK;
    for input in &args.files {
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
                eprintln!("error: cannot read `{shown}`: {e}");
                code = EXIT_FAILURE;
                continue;
            }
        };
        let file_name = input
            .file_name()
            .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
        let converted = flowc_import::convert(&file_name, &text);
        for p in &converted.problems {
            eprint!("{}", p.render(&shown));
        }
        if converted.has_errors() {
            code = code.max(EXIT_ERRORS);
            continue;
        }
        if args.stdout {
            print!("{}", converted.source);
            continue;
        }
        let out = target(input, args.out.as_deref());
        match std::fs::write(&out, &converted.source) {
            Ok(()) => println!("wrote {}", out.display()),
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", out.display());
                code = EXIT_FAILURE;
            }
        }
    }
    code
}
