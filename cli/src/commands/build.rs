//! `flowc build`: compile a pipeline for a target and write it, or check a committed copy.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use flowc_compiler::plan::build_plan_with;
use flowc_compiler::Diagnostic;
use flowc_targets::text::Text;
use flowc_targets::EmitOptions;

use crate::args::{BuildArgs, Target};
use crate::{EXIT_ERRORS, EXIT_OK};

/// Runs `flowc build`.
pub fn run(args: &BuildArgs) -> u8 {
    let analysis = match crate::loader::analyze_clean(&args.file, "nothing was built") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let tuned = match crate::lockfile::read(&args.file) {
        Ok(lock) => lock.map(|l| l.tuned()).unwrap_or_default(),
        Err(e) => return super::fail(e),
    };
    let build = match crate::loader::build_values(&analysis, &args.set, "nothing was built") {
        Ok(v) => v,
        Err(code) => return code,
    };
    let plan = match build_plan_with(
        &analysis,
        args.pipeline.as_deref(),
        args.pipeline_version.as_deref(),
        &tuned,
        &build,
    ) {
        Ok(p) => p,
        Err(e) => return super::fail(e),
    };
    report_tuned(&plan, &args.file);
    let opts = match emit_options(args) {
        Ok(o) => o,
        Err(e) => return super::fail(e),
    };
    let emitted = match args.target {
        Target::Plan => flowc_targets::EmittedText {
            text: plan.to_json().into(),
            issues: Vec::new(),
        },
        Target::Argo => flowc_targets::Target::Argo.emit_text(&plan, &opts),
        Target::Kfp => flowc_targets::Target::Kfp.emit_text(&plan, &opts),
    };
    // Target problems are diagnostics at the source that causes them, drawn like the others.
    let mut problems: Vec<Diagnostic> = emitted.issues.into_iter().map(|i| i.diagnostic).collect();
    flowc_compiler::diagnostics::sort(&mut problems);
    eprint!(
        "{}",
        crate::render::human::render(analysis.sources(), &problems, false, 100)
    );
    // Warnings (W501) say what the target does instead; errors leave nothing written.
    if problems.iter().any(Diagnostic::is_error) {
        eprintln!("error: the target cannot express the pipeline as written; nothing was written");
        return EXIT_ERRORS;
    }
    let text = emitted.text;
    let code = if let Some(committed) = &args.check {
        match std::fs::read_to_string(committed) {
            Ok(existing) if text.is(&existing) => EXIT_OK,
            Ok(_) => {
                eprintln!("error: `{}` is not what `flowc build` writes; rebuild it and commit the result", committed.display());
                EXIT_ERRORS
            }
            Err(e) => super::fail(format!("cannot read `{}`: {e}", committed.display())),
        }
    } else {
        write_text_output(&args.output, &text)
    };
    // The process ends here: freeing the syntax trees, the plan and the text node by node
    // would take several milliseconds of a 1,000-step build (docs/perf.md) for memory that
    // the operating system takes back at exit anyway.
    std::mem::forget((analysis, plan, text));
    code
}

/// The emitters' options: the flags, then `[build]` of the nearest `flowc.toml`.
fn emit_options(args: &BuildArgs) -> Result<EmitOptions, String> {
    if args.channel.is_some() && args.target != Target::Argo {
        return Err("`--channel` writes an Argo alias; build with `--target argo`".into());
    }
    let settings = crate::project::build_settings_for(&args.file)?;
    let runtime_image = args.runtime_image.clone().or(settings.runtime_image);
    if let Some(image) = &runtime_image {
        if image.is_empty() || image.chars().any(char::is_whitespace) {
            return Err(format!(
                "runtime image `{image}` is not an image reference (such as \
                 `registry.example.com/flowc-runtime:1.0`)"
            ));
        }
    }
    if args.memory_from_configmap.is_some() && args.target != Target::Argo {
        return Err(
            "`--memory-from-configmap` is read by Argo's controller; build with `--target argo`"
                .into(),
        );
    }
    if let Some(name) = &args.memory_from_configmap {
        if !flowc_targets::argo::is_configmap_name(name) {
            return Err(format!(
                "`{name}` is not a ConfigMap name (lowercase letters, digits, `-` and `.`, at \
                 most 253 characters, such as `flowc-memory`)"
            ));
        }
    }
    Ok(EmitOptions {
        memory_configmap: args.memory_from_configmap.clone(),
        version: args.pipeline_version.clone(),
        channel: args.channel.clone(),
        runtime_image,
        gpu_label: args.gpu_label.clone().or(settings.gpu_label),
    })
}

/// Says which resources came from the lock file written by `flowc autotune`.
fn report_tuned(plan: &flowc_compiler::plan::Plan, file: &Path) {
    for (p, pipeline) in &plan.pipelines {
        for t in &pipeline.tasks {
            let r = &t.settings.resources;
            if r.tuned {
                let show = |v: Option<u64>, f: fn(u64) -> String| v.map_or("-".to_string(), f);
                eprintln!(
                    "note: `{p}.{}` ({}) uses tuned resources from `{}`: memory {}, cpu {}",
                    t.id,
                    t.step,
                    crate::lockfile::path_for(file).display(),
                    show(r.memory_bytes, flowc_compiler::units::format_memory),
                    show(r.cpu_millis, flowc_compiler::units::format_cpu),
                );
            }
        }
    }
}

/// Writes `text` to `path` atomically, or to standard output for `-`.
pub(crate) fn write_output(path: &Path, text: &str) -> u8 {
    if path == Path::new("-") {
        print!("{text}");
        return EXIT_OK;
    }
    let written = write_replacing_with(path, "flowc-tmp", |f| f.write_all(text.as_bytes()));
    written_or_failed(path, written)
}

/// [`write_output`] for a text held in pieces: to a file with vectored writes, so that the
/// pieces are never copied, into one string or a buffer (see [`flowc_targets::text`]).
fn write_text_output(path: &Path, text: &Text) -> u8 {
    if path == Path::new("-") {
        return write_output(path, &text.joined());
    }
    let written = write_replacing_with(path, "flowc-tmp", |f| text.write_to(f));
    written_or_failed(path, written)
}

/// The exit code of a write to `path`, the error said when it failed.
fn written_or_failed(path: &Path, written: std::io::Result<()>) -> u8 {
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => super::fail(format!("cannot write `{}`: {e}", path.display())),
    }
}

/// Writes `text` to `path` through a temporary file beside it (extension `tmp_ext`) and a
/// rename, so that a crash never leaves half a file. A path that exists and is not a regular
/// file (`/dev/null`, `/dev/stdout`, a named pipe) is written in place: a rename would replace
/// the device or pipe with a regular file.
pub(crate) fn write_replacing(path: &Path, text: &str, tmp_ext: &str) -> std::io::Result<()> {
    write_replacing_with(path, tmp_ext, |f| f.write_all(text.as_bytes()))
}

/// [`write_replacing`], the file's contents written by `write` (to the file created, or
/// truncated, as [`std::fs::write`] does).
fn write_replacing_with(
    path: &Path,
    tmp_ext: &str,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let create_and_write = |p: &Path| File::create(p).and_then(|mut f| write(&mut f));
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        return create_and_write(path);
    }
    let tmp = path.with_extension(tmp_ext);
    let result = create_and_write(&tmp).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
