//! `flowc check`: every diagnostic of some files and their imports, in the chosen format.

use std::io::IsTerminal;
use std::path::PathBuf;

use flowc_compiler::{analyze, FileLoader};

use crate::args::{CheckArgs, Color, Format};
use crate::loader::DiskLoader;
use crate::render;
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Runs `flowc check`.
pub fn run(args: &CheckArgs) -> u8 {
    let loader = DiskLoader;
    let mut io_failed = false;
    let mut roots: Vec<PathBuf> = Vec::new();
    for f in &args.files {
        match loader.load(f) {
            Ok(_) => roots.push(f.clone()),
            Err(why) => {
                eprintln!("error: cannot read `{}`: {why}", f.display());
                io_failed = true;
            }
        }
    }
    let analysis = analyze(&loader, &roots);
    let sources = analysis.sources();
    let diags = &analysis.diagnostics;
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let (errors, warnings) = render::counts(diags);
    let text = match args.format {
        Format::Human => {
            let mut s = render::human::render(sources, diags, color, 100);
            s.push_str(&summary(errors, warnings, roots.len()));
            s
        }
        Format::Short => render::short(sources, diags),
        Format::Json => render::json::render(sources, diags),
        Format::Sarif => render::sarif::render(sources, diags),
        Format::Gitlab => render::gitlab::render(sources, diags),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return super::fail(format!("cannot write `{}`: {e}", path.display()));
            }
        }
        None => print!("{text}"),
    }
    if io_failed {
        EXIT_FAILURE
    } else if errors > 0 || (args.deny_warnings && warnings > 0) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The closing line of the human report.
pub fn summary(errors: usize, warnings: usize, files: usize) -> String {
    let files = plural(files, "file");
    match (errors, warnings) {
        (0, 0) => format!("checked {files}: no problems\n"),
        (0, w) => format!("checked {files}: {}\n", plural(w, "warning")),
        (e, 0) => format!("checked {files}: {}\n", plural(e, "error")),
        (e, w) => format!(
            "checked {files}: {} and {}\n",
            plural(e, "error"),
            plural(w, "warning")
        ),
    }
}
