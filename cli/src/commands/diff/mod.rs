//! `flowc diff OLD NEW`: what changed between two versions of a pipeline, for a reviewer.
//!
//! Each side is a `.flow` file or `REV:PATH`, the file at a Git revision (its imports are read
//! at the same revision, through `git show`). Both are checked and planned as `flowc build`
//! would; [`compare`] compares the plans of the two entry pipelines and [`render`] writes the
//! result as Markdown (a merge-request comment) or JSON.

mod compare;
mod render;

use std::path::{Path, PathBuf};
use std::process::Command;

use flowc_compiler::plan::{build_plan, build_plan_with, Plan};
use flowc_compiler::{analyze, FileLoader};

use crate::args::{DiffArgs, DiffFormat};
use crate::loader::DiskLoader;
use crate::EXIT_ERRORS;

/// Runs `flowc diff`.
pub fn run(args: &DiffArgs) -> u8 {
    let old = match plan_of(&args.old, args.pipeline.as_deref(), &args.set) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let new = match plan_of(&args.new, args.pipeline.as_deref(), &args.set) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let diff = compare::compare(&old, &new);
    let text = match args.format {
        DiffFormat::Markdown => render::markdown(&diff, &args.old, &args.new),
        DiffFormat::Json => {
            let mut t = serde_json::to_string_pretty(&diff).unwrap_or_default();
            t.push('\n');
            t
        }
    };
    super::build::write_output(&args.output, &text)
}

/// Where one side's sources come from.
enum Side {
    /// Files on the disk.
    Disk(PathBuf),
    /// A file at a Git revision: the revision and the path.
    Git(String, PathBuf),
}

impl Side {
    /// `REV:PATH` when `spec` is not an existing file and has a `:` (not a drive letter).
    fn parse(spec: &str) -> Side {
        match spec.split_once(':') {
            Some((rev, path)) if !Path::new(spec).exists() && rev.len() > 1 && !path.is_empty() => {
                Side::Git(rev.to_string(), PathBuf::from(path))
            }
            _ => Side::Disk(PathBuf::from(spec)),
        }
    }
}

/// Reads files at a Git revision, relative to the current directory (`git show REV:./PATH`).
struct GitLoader {
    rev: String,
}

impl FileLoader for GitLoader {
    fn load(&self, path: &Path) -> Result<Vec<u8>, String> {
        let spec = format!("{}:./{}", self.rev, path.display());
        let out = Command::new("git")
            .args(["show", &spec])
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(format!(
                "not in Git at `{}`: {}",
                self.rev,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn foreign(&self) -> Option<&dyn flowc_compiler::foreign::ForeignImporter> {
        Some(&flowc_import::KfpImporter)
    }
}

/// The plan of one side, or the exit code after printing why there is none.
fn plan_of(spec: &str, pipeline: Option<&str>, set: &[(String, String)]) -> Result<Plan, u8> {
    let (loader, path): (Box<dyn FileLoader>, PathBuf) = match Side::parse(spec) {
        Side::Disk(p) => (Box::new(DiskLoader), p),
        Side::Git(rev, p) => (Box::new(GitLoader { rev }), p),
    };
    if let Err(why) = loader.load(&path) {
        return Err(crate::loader::unreadable(Path::new(spec), &why));
    }
    let analysis = analyze(loader.as_ref(), std::slice::from_ref(&path));
    if analysis.has_errors() {
        eprint!(
            "{}",
            crate::render::human::render(analysis.sources(), &analysis.diagnostics, false, 100)
        );
        eprintln!("error: `{spec}` has errors; nothing was compared");
        return Err(EXIT_ERRORS);
    }
    // Without `--set`, build variables take their defaults (one without stays as written, the
    // same on both sides); with it, the values are checked as `flowc build` checks them.
    let plan = if set.is_empty() {
        build_plan(&analysis, pipeline, None)
    } else {
        let nothing = format!("`{spec}` was not compared");
        let values = crate::loader::build_values(&analysis, set, &nothing)?;
        build_plan_with(&analysis, pipeline, None, &Default::default(), &values)
    };
    plan.map_err(|e| super::fail(format!("`{spec}`: {e}")))
}
