//! `flowc build`: compile a pipeline for a target and write it, or check a committed copy.

use std::path::Path;

use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, FileLoader};

use crate::args::{BuildArgs, Target};
use crate::loader::DiskLoader;
use crate::{EXIT_ERRORS, EXIT_OK};

/// Runs `flowc build`.
pub fn run(args: &BuildArgs) -> u8 {
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
            "error: `{}` has errors; nothing was built",
            args.file.display()
        );
        return EXIT_ERRORS;
    }
    let plan = match build_plan(
        &analysis,
        args.pipeline.as_deref(),
        args.pipeline_version.as_deref(),
    ) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    let text = match args.target {
        Target::Plan => plan.to_json(),
    };
    if let Some(committed) = &args.check {
        return match std::fs::read_to_string(committed) {
            Ok(existing) if existing == text => EXIT_OK,
            Ok(_) => {
                eprintln!("error: `{}` is not what `flowc build` writes; rebuild it and commit the result", committed.display());
                EXIT_ERRORS
            }
            Err(e) => super::fail(format!("cannot read `{}`: {e}", committed.display())),
        };
    }
    write_output(&args.output, &text)
}

/// Writes `text` to `path` atomically, or to standard output for `-`.
pub(crate) fn write_output(path: &Path, text: &str) -> u8 {
    if path == Path::new("-") {
        print!("{text}");
        return EXIT_OK;
    }
    let tmp = path.with_extension("flowc-tmp");
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            super::fail(format!("cannot write `{}`: {e}", path.display()))
        }
    }
}
