//! `flowc python-types FILE [-o OUT]`: the Python types of a file's schemas and Python steps
//! (`flowc_pycheck::python_types`), for the Python side of its steps.

use std::path::Path;

use crate::args::PythonTypesArgs;
use crate::loader::{analyze, DiskLoader};
use crate::{EXIT_ERRORS, EXIT_OK};
use flowc_compiler::FileLoader;

/// Runs `flowc python-types`.
pub fn run(args: &PythonTypesArgs) -> u8 {
    let loader = DiskLoader;
    if let Err(why) = loader.load(&args.file) {
        return super::fail(format!("cannot read `{}`: {why}", args.file.display()));
    }
    let analysis = analyze(&loader, std::slice::from_ref(&args.file));
    if analysis.has_errors() {
        eprint!(
            "{}",
            crate::render::human::render(analysis.sources(), &analysis.diagnostics, false, 100)
        );
        eprintln!(
            "error: `{}` has errors; no types were written",
            args.file.display()
        );
        return EXIT_ERRORS;
    }
    let name = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = flowc_pycheck::python_types(&analysis, &name) + "\n";
    if args.output == Path::new("-") {
        print!("{text}");
        return EXIT_OK;
    }
    match std::fs::write(&args.output, text) {
        Ok(()) => EXIT_OK,
        Err(e) => super::fail(format!("cannot write `{}`: {e}", args.output.display())),
    }
}
