//! `flowc fmt`: format files in place, or check that they are formatted.

use std::path::{Path, PathBuf};

use flowc_compiler::fmt::format;

use crate::args::FmtArgs;
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Collects `.flow` files under `path` (or `path` itself), sorted.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "flow") {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Runs `flowc fmt`.
pub fn run(args: &FmtArgs) -> u8 {
    let mut files = Vec::new();
    for f in &args.files {
        if let Err(e) = collect(f, &mut files) {
            return crate::loader::unreadable(f, &crate::loader::why_unreadable(&e));
        }
    }
    let mut failed = false;
    let mut unformatted = 0;
    for file in &files {
        let text = match std::fs::read(file).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                eprintln!("error: `{}` is not valid UTF-8 text", file.display());
                failed = true;
                continue;
            }
            Err(e) => {
                crate::loader::print_unreadable(file, &crate::loader::why_unreadable(&e));
                failed = true;
                continue;
            }
        };
        let formatted = match format(&text) {
            Ok(f) => f,
            Err(e) => {
                eprintln!(
                    "error: `{}` has {} syntax error{}; run `flowc check` on it first",
                    file.display(),
                    e.syntax_errors,
                    if e.syntax_errors == 1 { "" } else { "s" }
                );
                failed = true;
                continue;
            }
        };
        if args.stdout {
            print!("{formatted}");
        } else if formatted != text {
            unformatted += 1;
            if args.check {
                println!("would reformat {}", file.display());
            } else if let Err(e) = write_atomic(file, &formatted) {
                eprintln!("error: cannot write `{}`: {e}", file.display());
                failed = true;
            } else {
                println!("formatted {}", file.display());
            }
        }
    }
    if failed {
        EXIT_FAILURE
    } else if args.check && unformatted > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// Writes through a temporary file and a rename, so a crash never leaves half a file (in place
/// for what is not a regular file; see [`super::build::write_replacing`]).
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    super::build::write_replacing(path, text, "flow.fmt-tmp")
}
