//! `flowc python-types FILE [-o OUT]`: the Python types of a file's schemas and Python steps
//! (`flowc_pycheck::python_types`), for the Python side of its steps.

use std::path::Path;

use crate::args::PythonTypesArgs;
use crate::EXIT_OK;

/// Runs `flowc python-types`.
pub fn run(args: &PythonTypesArgs) -> u8 {
    let analysis = match crate::loader::analyze_clean(&args.file, "no types were written") {
        Ok(a) => a,
        Err(code) => return code,
    };
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
