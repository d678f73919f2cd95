//! `flowc autotune`: resources from past runs (written to the lock file), `autotune recommend`
//! (every step of a history, without a `.flow` file) and `autotune eval`.
//!
//! History comes from files, from Argo's archive in PostgreSQL (`--history postgres://…`) and
//! from Prometheus servers (`--prometheus URL`), over the `--since`/`--until` window.

use std::collections::BTreeMap;
use std::path::Path;

use crate::loader::analyze;
use flowc_autotune::model::Phase;
use flowc_autotune::services::{self, Window};
use flowc_autotune::{
    load_sources, recommend, AutotuneError, EvalConfig, History, Resources, Sources, StepBounds,
    StepKey, TunerConfig,
};
use flowc_compiler::plan::build_plan_tuned;
use flowc_compiler::{Analysis, FileLoader};
use flowc_grammar::ast::Item;

use crate::args::{AutotuneArgs, AutotuneCommand, RecommendArgs, RecommendFormat, WindowArgs};
use crate::loader::DiskLoader;
use crate::lockfile::{self, LockFile};
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};

fn print_errors(errors: &[AutotuneError]) -> u8 {
    for e in errors {
        eprintln!("error: {e}");
    }
    let records = errors.iter().filter(|e| !is_service_problem(e)).count();
    if records > 0 {
        eprintln!("{records} malformed record(s); fix them or pass `--lenient` to skip them");
    }
    EXIT_ERRORS
}

/// Whether a problem is a service's or a window's (A011–A016), which `--lenient` does not skip.
fn is_service_problem(e: &AutotuneError) -> bool {
    matches!(
        e.code.as_str(),
        "A011" | "A012" | "A013" | "A014" | "A015" | "A016"
    )
}

/// The history's sources: `--history` files and `postgres://` archives, `--prometheus`
/// servers, and the window of `--since` and `--until`.
fn sources(history: &[std::path::PathBuf], w: &WindowArgs) -> Result<Sources, AutotuneError> {
    let mut s = Sources {
        prometheus: w.prometheus.clone(),
        ..Sources::default()
    };
    for h in history {
        match h.to_str().filter(|t| services::is_postgres_url(t)) {
            Some(url) => s.postgres.push(url.to_string()),
            None => s.paths.push(h.clone()),
        }
    }
    s.window = services::window(w.since.as_deref(), w.until.as_deref())?;
    Ok(s)
}

/// Reads the history of `--history`, `--prometheus` and the window.
fn load(
    history: &[std::path::PathBuf],
    w: &WindowArgs,
    lenient: bool,
) -> Result<(History, Option<Window>), u8> {
    let sources = sources(history, w).map_err(|e| print_errors(&[e]))?;
    let loaded = load_sources(&sources, lenient).map_err(|errors| print_errors(&errors))?;
    Ok((loaded, sources.window))
}

/// Runs `flowc autotune recommend`: every step of the history, no `.flow` file.
fn run_recommend(args: &RecommendArgs) -> u8 {
    let (history, window) = match load(&args.history, &args.window, args.lenient) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let recs = recommend(&history, &BTreeMap::new(), &TunerConfig::default());
    match args.format {
        RecommendFormat::Json => print!(
            "{}",
            flowc_autotune::report::json(&recs, &history, window.as_ref())
        ),
        RecommendFormat::Markdown => {
            print!("{}", flowc_autotune::report::markdown(&recs, &history))
        }
    }
    if history.is_empty() {
        eprintln!("note: the history holds no execution");
        return EXIT_FAILURE;
    }
    EXIT_OK
}

/// The pipelines declared in the (first) file analysed, in order.
fn pipeline_names(analysis: &Analysis) -> Vec<String> {
    let Some(&root) = analysis.program.roots.first() else {
        return Vec::new();
    };
    analysis
        .program
        .module(root)
        .ast
        .items
        .iter()
        .filter_map(|it| match it {
            Item::Pipeline(p) => Some(p.name.name.clone()),
            _ => None,
        })
        .collect()
}

/// The bounds of every step marked `auto`, in every pipeline of the file (and the pipelines
/// they call), keyed as the run records key them.
fn auto_bounds(
    analysis: &Analysis,
    tuned: &flowc_compiler::plan::Tuned,
    file: &Path,
) -> Result<BTreeMap<StepKey, StepBounds>, String> {
    let mut bounds: BTreeMap<StepKey, StepBounds> = BTreeMap::new();
    let names = pipeline_names(analysis);
    if names.is_empty() {
        return Err(format!("`{}` declares no pipeline", file.display()));
    }
    for name in names {
        let plan = match build_plan_tuned(analysis, Some(&name), None, tuned) {
            Ok(p) => p,
            Err(e) => return Err(e.to_string()),
        };
        for (pname, p) in &plan.pipelines {
            for t in &p.tasks {
                let r = &t.settings.resources;
                if !r.auto {
                    continue;
                }
                let res = |x: Option<&flowc_compiler::plan::ResourcesPlan>| Resources {
                    memory_bytes: x.and_then(|x| x.memory_bytes),
                    cpu_millis: x.and_then(|x| x.cpu_millis),
                    gpu: x.and_then(|x| x.gpu).map(|g| g as u32),
                };
                bounds.insert(
                    StepKey::new(pname.clone(), t.step.clone()),
                    StepBounds {
                        min: res(r.min.as_deref()),
                        max: res(r.max.as_deref()),
                        current: res(Some(r)),
                    },
                );
            }
        }
    }
    Ok(bounds)
}

/// The tuner's settings, with the command line's `--risk`, `--max-risk` and `--half-life`.
fn tuner_config(args: &AutotuneArgs) -> Result<TunerConfig, String> {
    let mut cfg = TunerConfig::default();
    if let Some(r) = args.risk {
        cfg.risk = r;
        // The ceiling of the retry trade is never below the target.
        cfg.max_risk = cfg.max_risk.max(r);
    }
    if let Some(m) = args.max_risk {
        if m < cfg.risk {
            return Err(format!(
                "`--max-risk {m}` is below the target risk {}: it must be at least `--risk`",
                cfg.risk
            ));
        }
        cfg.max_risk = m;
    }
    if let Some(h) = args.half_life {
        cfg.half_life_hours = h;
    }
    Ok(cfg)
}

/// The ConfigMap of `--configmap`: the memory ladder of every tuned step of the file's
/// pipelines, as a build from `lock` with `--memory-from-configmap NAME` reads it.
fn configmap_text(analysis: &Analysis, lock: &LockFile, name: &str) -> Result<String, String> {
    let tuned = lock.tuned();
    let mut plans = Vec::new();
    for pipeline in pipeline_names(analysis) {
        plans.push(
            build_plan_tuned(analysis, Some(&pipeline), None, &tuned).map_err(|e| e.to_string())?,
        );
    }
    let refs: Vec<&flowc_compiler::plan::Plan> = plans.iter().collect();
    Ok(flowc_targets::argo::memory_configmap(&refs, name))
}

/// The lock file beside `file` with the recommendations applied.
fn updated_lock(
    file: &Path,
    recs: &[flowc_autotune::model::Recommendation],
) -> Result<LockFile, String> {
    let mut lock = match lockfile::read(file)? {
        Some(l) => l,
        None => LockFile {
            format: lockfile::FORMAT.into(),
            version: 1,
            steps: BTreeMap::new(),
        },
    };
    for r in recs {
        let confidence = format!("{:?}", r.confidence.level).to_lowercase();
        // Without a measured run the tuner has nothing to say about memory: the value in
        // force (if any) stays, and none is invented.
        let memory = if r.memory.phase == Phase::NoHistory {
            r.memory.old_limit
        } else {
            Some(r.memory.new_limit)
        };
        let mut step = lockfile::locked(
            memory,
            r.cpu.request_millis.or(r.old_cpu_request),
            Some(u64::from(r.gpu.recommended)),
            &confidence,
            r.executions,
        );
        // The retry rule goes with a tuned memory value only.
        step.retry = r
            .memory
            .retry
            .filter(|_| r.memory.phase != Phase::NoHistory)
            .map(|x| lockfile::LockedRetry::new(x.first, x.factor, x.min_step));
        step.input_scaling = r
            .memory
            .input_scaling
            .filter(|_| r.memory.phase != Phase::NoHistory)
            .map(|x| lockfile::LockedScaling {
                kind: if x.kind == flowc_autotune::model::ModelKind::PowerLaw {
                    "power-law".into()
                } else {
                    "linear".into()
                },
                a: x.a,
                b: x.b,
                multiplier: x.multiplier,
                max_input_bytes: x.max_input_bytes,
                cap_bytes: x.cap_bytes,
            });
        lock.steps
            .insert(format!("{}/{}", r.key.pipeline, r.key.step), step);
    }
    Ok(lock)
}

/// Writes the lock file beside `file`; the exit code.
fn write_lock(file: &Path, lock: &LockFile, recs: &[flowc_autotune::model::Recommendation]) -> u8 {
    let path = lockfile::path_for(file);
    let code = super::build::write_output(&path, &lock.to_text());
    if code != EXIT_OK {
        return code;
    }
    eprintln!(
        "wrote {} ({} step{})",
        path.display(),
        recs.len(),
        if recs.len() == 1 { "" } else { "s" }
    );
    EXIT_OK
}

/// Writes the ConfigMap manifest of `--configmap`; the exit code.
fn write_configmap(analysis: &Analysis, lock: &LockFile, name: &str, out: &Path) -> u8 {
    if !flowc_targets::argo::is_configmap_name(name) {
        return super::fail(format!(
            "`{name}` is not a ConfigMap name (lowercase letters, digits, `-` and `.`, such as \
             `flowc-memory`)"
        ));
    }
    let text = match configmap_text(analysis, lock, name) {
        Ok(t) => t,
        Err(e) => return super::fail(e),
    };
    let code = super::build::write_output(out, &text);
    if code == EXIT_OK {
        eprintln!("wrote {} (ConfigMap `{name}`)", out.display());
    }
    code
}

/// Runs `flowc autotune`.
pub fn run(args: &AutotuneArgs) -> u8 {
    if let Some(AutotuneCommand::Recommend(r)) = &args.command {
        return run_recommend(r);
    }
    if let Some(AutotuneCommand::Eval { traces, synthetic }) = &args.command {
        return match flowc_autotune::evaluate_all(traces, *synthetic, &EvalConfig::default()) {
            Ok(md) => {
                print!("{md}");
                if let Some(out) = &args.report {
                    return super::build::write_output(out, &md);
                }
                EXIT_OK
            }
            Err(errors) => print_errors(&errors),
        };
    }
    let Some(file) = &args.file else {
        return super::fail("give the `.flow` file to tune, or `flowc autotune eval TRACES...`");
    };
    if args.history.is_empty() && args.window.prometheus.is_empty() {
        return super::fail("give the past runs with `--history PATH...` (a store such as `.flow/runs`, Argo JSON, Prometheus exports, `postgres://` for Argo's archive) or `--prometheus URL`");
    }
    let loader = DiskLoader;
    if let Err(why) = loader.load(file) {
        return crate::loader::unreadable(file, &why);
    }
    let analysis = analyze(&loader, std::slice::from_ref(file));
    if analysis.has_errors() {
        eprint!(
            "{}",
            crate::render::human::render(analysis.sources(), &analysis.diagnostics, false, 100)
        );
        return EXIT_ERRORS;
    }
    // The values in force: the source's, and the lock file's for steps it already tuned.
    let mut in_force = match lockfile::read(file) {
        Ok(lock) => lock,
        Err(e) => return super::fail(e),
    };
    if let Some(path) = &args.in_force {
        let lock = in_force.get_or_insert_with(|| LockFile {
            format: lockfile::FORMAT.into(),
            version: 1,
            steps: BTreeMap::new(),
        });
        if let Err(e) = super::autotune_in_force::apply(lock, path) {
            return super::fail(e);
        }
    }
    let tuned = in_force.map(|l| l.tuned()).unwrap_or_default();
    let bounds = match auto_bounds(&analysis, &tuned, file) {
        Ok(b) => b,
        Err(e) => return super::fail(e),
    };
    if bounds.is_empty() {
        eprintln!(
            "note: no step of `{}` has `resources auto(...)`; nothing to tune",
            file.display()
        );
    }
    let history = match load(&args.history, &args.window, args.lenient) {
        Ok((h, _)) => h,
        Err(code) => return code,
    };
    let cfg = match tuner_config(args) {
        Ok(c) => c,
        Err(e) => return super::fail(e),
    };
    let recs: Vec<_> = recommend(&history, &bounds, &cfg)
        .into_iter()
        .filter(|r| bounds.contains_key(&r.key))
        .collect();
    let md = flowc_autotune::report::markdown(&recs, &history);
    print!("{md}");
    if let Some(out) = &args.report {
        let text = if out.extension().is_some_and(|e| e == "html") {
            flowc_autotune::report::html(&recs, &history)
        } else {
            md.clone()
        };
        let code = super::build::write_output(out, &text);
        if code != EXIT_OK {
            return code;
        }
    }
    let lock = match updated_lock(file, &recs) {
        Ok(l) => l,
        Err(e) => return super::fail(e),
    };
    if args.write {
        let code = write_lock(file, &lock, &recs);
        if code != EXIT_OK {
            return code;
        }
    }
    if let Some(out) = &args.configmap {
        let code = write_configmap(&analysis, &lock, &args.configmap_name, out);
        if code != EXIT_OK {
            return code;
        }
    }
    if history.executions().next().is_none() {
        eprintln!("note: the history holds no execution");
        return EXIT_FAILURE;
    }
    EXIT_OK
}
