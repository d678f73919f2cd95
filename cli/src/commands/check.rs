//! `flowc check`: every diagnostic of some files and their imports, in the chosen format.

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::loader::analyze;
use flowc_compiler::{Analysis, Diagnostic, FileLoader};

use crate::args::{CheckArgs, Color, Format};
use crate::loader::Preloaded;
use crate::render;
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

/// Runs `flowc check`.
pub fn run(args: &CheckArgs) -> u8 {
    let loader = Preloaded::default();
    let mut unreadable = 0;
    let mut roots: Vec<PathBuf> = Vec::new();
    for f in &args.files {
        match loader.read(f) {
            Ok(_) => roots.push(f.clone()),
            Err(why) => {
                crate::loader::print_unreadable(f, &why);
                unreadable += 1;
            }
        }
    }
    let analysis = analyze(&loader, &roots);
    let sources = analysis.sources();
    let targets: Vec<flowc_targets::Target> = args.targets.iter().map(|t| t.target()).collect();
    let with_targets;
    let mut unknown_set = false;
    let diags = if targets.is_empty() && args.set.is_empty() {
        &analysis.diagnostics
    } else {
        let mut all = match targets.is_empty() {
            true => analysis.diagnostics.clone(),
            false => with_target_problems(&loader, &analysis, &roots, &targets),
        };
        unknown_set = !build_value_problems(&analysis, &args.set, &mut all);
        with_targets = all;
        &with_targets
    };
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
            // A file that cannot be read (E008) is an error of a file checked.
            s.push_str(&summary(
                errors + unreadable,
                warnings,
                roots.len() + unreadable,
            ));
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
    let code = if unreadable > 0 {
        EXIT_FAILURE
    } else if errors > 0 || unknown_set || (args.deny_warnings && warnings > 0) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    };
    // The process ends here: the syntax trees and the checked model are not freed node by node
    // (as in `flowc build`), the operating system takes the memory back at exit.
    std::mem::forget(analysis);
    code
}

/// With `--set`: adds the problems of the given build values (E430, and E416 for an image they
/// break) to `diags`, sorted; prints those without a place (a name no file declares) and
/// returns false for them. Nothing is checked while the program has errors.
fn build_value_problems(
    analysis: &Analysis,
    set: &[(String, String)],
    diags: &mut Vec<Diagnostic>,
) -> bool {
    if set.is_empty() || analysis.has_errors() {
        return true;
    }
    let Err(errors) = flowc_compiler::build_values::resolve(analysis, set) else {
        return true;
    };
    crate::loader::print_unknown_set(&errors.unknown);
    diags.extend(errors.diagnostics);
    flowc_compiler::diagnostics::sort(diags);
    errors.unknown.is_empty()
}

/// The diagnostics of `analysis` and the target problems of each root file's pipeline (the one
/// `flowc build FILE` builds), sorted together.
fn with_target_problems(
    loader: &dyn FileLoader,
    analysis: &Analysis,
    roots: &[PathBuf],
    targets: &[flowc_targets::Target],
) -> Vec<Diagnostic> {
    let mut all = analysis.diagnostics.clone();
    if roots.len() == 1 {
        all.extend(flowc_targets::check(analysis, targets));
    } else {
        // Each file is built on its own; its files get the ids of the whole analysis.
        for root in roots {
            let one = analyze(loader, std::slice::from_ref(root));
            for mut d in flowc_targets::check(&one, targets) {
                let mapped = d.labels.iter_mut().all(|l| {
                    let name = one.sources().get(l.file).name();
                    match analysis.sources().iter().find(|(_, f)| f.name() == name) {
                        Some((id, _)) => {
                            l.file = id;
                            true
                        }
                        None => false,
                    }
                });
                if mapped {
                    all.push(d);
                }
            }
        }
    }
    flowc_compiler::diagnostics::sort(&mut all);
    all
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
