//! The law: **if it checks, it builds.** For every program of the generator (`gen/`) that
//! `flowc check` accepts, and for each target (Argo, Kubeflow): either `flowc check --target T`
//! reports why the target cannot build it (an error-level E5xx/W5xx problem, each with a
//! location), or the YAML the emitter writes passes every check the emitter tests make (Argo's
//! schema, DAG consistency and references, KFP structure, the YAML 1.1 readings).
//!
//! Anything else is a counterexample: a validator failure with no problem reported, a problem
//! without a location, or a panic. Each is printed with its seed, target, reason and program;
//! the test fails if there is one. Programs with check errors are counted and skipped, and most
//! programs must check clean, so the generator cannot quietly stop producing useful programs.
//!
//! `FLOWC_LAW_CASES=N FLOWC_LAW_SEED=S cargo test -p flowc-tests --test law` runs `N` programs
//! from seed `S` (by default 150 from seed 2026).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use flowc_compiler::plan::build_plan;
use flowc_compiler::{analyze, Analysis, MemoryLoader, Severity};
use flowc_targets::{EmitOptions, Target};
use flowc_tests::gen;
use flowc_tests::trial;
use flowc_tests::validate::{self, failure};

/// Cases and base seed of a run without the environment variables.
const CASES: u64 = 150;
const SEED: u64 = 2026;
/// The share of generated programs (in percent) that must check without errors.
const MIN_CLEAN_PERCENT: usize = 80;

/// A number from the environment, or `default`.
fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// What a run found.
#[derive(Default)]
struct Tally {
    cases: usize,
    clean: usize,
    calls: usize,
    /// Check errors of the programs skipped, by code.
    check_errors: BTreeMap<String, usize>,
    /// Programs a target refused (with located problems), by target and code.
    refused: BTreeMap<String, usize>,
    /// Programs a target built and the validators accepted, by target.
    built: BTreeMap<&'static str, usize>,
    counterexamples: Vec<String>,
}

/// The analysis of `source` as the file `gen.flow`.
fn analysis_of(source: &str) -> Analysis {
    let loader = MemoryLoader::new().with("gen.flow", source.as_bytes().to_vec());
    analyze(&loader, &[PathBuf::from("gen.flow")])
}

/// The law for one target of one checked program: `Ok(Some(codes))` for a located refusal,
/// `Ok(None)` for YAML that validates, `Err(why)` for a counterexample.
fn law_for(analysis: &Analysis, target: Target) -> Result<Option<Vec<String>>, String> {
    let problems = std::panic::catch_unwind(AssertUnwindSafe(|| {
        flowc_targets::check(analysis, &[target])
    }))
    .map_err(|e| format!("check --target panicked: {}", validate::panic_message(e)))?;
    if let Some(d) = problems.iter().find(|d| d.labels.is_empty()) {
        return Err(format!(
            "{} `{}` has no location",
            d.code.as_str(),
            d.message
        ));
    }
    let errors: Vec<String> = problems
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.code.as_str().to_string())
        .collect();
    let emitted = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let plan = build_plan(analysis, None, Some("1.2.0")).map_err(|e| e.to_string())?;
        let opts = EmitOptions {
            version: Some("1.2.0".into()),
            ..EmitOptions::default()
        };
        Ok::<_, String>(target.emit(&plan, &opts))
    }))
    .map_err(|e| format!("the emitter panicked: {}", validate::panic_message(e)))?
    .map_err(|e| format!("no plan: {e}"))?;
    if !errors.is_empty() {
        return Ok(Some(errors));
    }
    let text = emitted.text;
    let invalid = failure(AssertUnwindSafe(|| match target {
        Target::Argo => validate::argo::validate_file("gen.flow", &text),
        Target::Kfp => validate::kfp::validate_file("gen.flow", &text),
    }));
    match invalid {
        Some(why) => Err(format!(
            "builds YAML the validators reject, and check --target reports no error: {why}"
        )),
        None => Ok(None),
    }
}

/// Runs the law on `cases` programs from `seed`.
fn run(seed: u64, cases: u64) -> Tally {
    let mut t = Tally::default();
    for s in seed..seed.saturating_add(cases) {
        let g = gen::program(s);
        t.cases += 1;
        t.calls += g.calls;
        let analysis = analysis_of(&g.source);
        if analysis.has_errors() {
            for d in analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
            {
                *t.check_errors
                    .entry(d.code.as_str().to_string())
                    .or_default() += 1;
            }
            continue;
        }
        t.clean += 1;
        for target in Target::ALL {
            match law_for(&analysis, target) {
                Ok(Some(codes)) => {
                    for c in codes {
                        *t.refused
                            .entry(format!("{}:{c}", target.name()))
                            .or_default() += 1;
                    }
                }
                Ok(None) => *t.built.entry(target.name()).or_default() += 1,
                Err(why) => t.counterexamples.push(format!(
                    "===== counterexample: seed {s}, target {}\n{why}\n----- program\n{}",
                    target.name(),
                    g.source
                )),
            }
        }
    }
    t
}

/// The law over the configured cases.
fn if_it_checks_it_builds() {
    let seed = env_number("FLOWC_LAW_SEED", SEED);
    let cases = env_number("FLOWC_LAW_CASES", CASES);
    // Validators panic with their findings; those are collected, not printed as they happen.
    std::panic::set_hook(Box::new(|_| {}));
    let t = run(seed, cases);
    let _ = std::panic::take_hook();
    for c in &t.counterexamples {
        println!("{c}");
    }
    println!(
        "law: {} programs from seed {seed} ({} calls), {} check clean; built: {:?}; refused: {:?}; check errors: {:?}; {} counterexamples",
        t.cases,
        t.calls,
        t.clean,
        t.built,
        t.refused,
        t.check_errors,
        t.counterexamples.len()
    );
    assert!(
        t.counterexamples.is_empty(),
        "{} counterexamples (printed above)",
        t.counterexamples.len()
    );
    assert!(
        t.clean * 100 >= t.cases * MIN_CLEAN_PERCENT,
        "only {} of {} generated programs check clean: the generator has degraded ({:?})",
        t.clean,
        t.cases,
        t.check_errors
    );
}

/// A seed gives the same program every time, and different seeds different programs.
fn the_generator_is_deterministic() {
    for s in [0, 1, 2026, u64::MAX] {
        assert_eq!(gen::program(s).source, gen::program(s).source, "seed {s}");
    }
    assert_ne!(gen::program(1).source, gen::program(2).source);
}

fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let tests = vec![
        trial(
            "the_generator_is_deterministic",
            the_generator_is_deterministic,
        ),
        trial("if_it_checks_it_builds", if_it_checks_it_builds),
    ];
    libtest_mimic::run(&args, tests).exit();
}
