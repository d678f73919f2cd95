//! Runs the evaluation on trace files or folders and prints the Markdown table — the same thing
//! `flowc autotune eval TRACES…` prints.
//!
//! ```text
//! cargo run --release -p flowc-autotune --example eval -- ../shared/traces
//! ```
//!
//! `--set name=value` overrides one tuner setting (for experiments), e.g. `--set risk=0.02`;
//! `--cadence live|every:MINUTES|nightly` says how flowc's values reach the runs; `--synth SEED`
//! adds the synthetic stress traces of that seed; `--baseline-every MINUTES` says how often the
//! baselines recompute (0: before every run); `--cv` prints the leave-one-workflow-out
//! cross-validation instead of the tables, `--sweep` flowc's totals at every cadence.

use flowc_autotune::baselines::VpaLike;
use flowc_autotune::eval::{Cadence, DeployedPolicy, FlowcPolicy, Policy};
use flowc_autotune::model::Observation;
use flowc_autotune::{EvalConfig, StepKey};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut config = EvalConfig::default();
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut synth: Option<u64> = None;
    let mut cv = false;
    let mut sweep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--cadence" {
            config.cadence = match args.next().as_deref() {
                Some("live") => Cadence::Live,
                Some("nightly") => Cadence::Nightly,
                Some(p)
                    if p.strip_prefix("every:")
                        .and_then(|m| m.parse::<u32>().ok())
                        .is_some() =>
                {
                    let minutes = p[6..].parse::<u32>().unwrap_or(10);
                    Cadence::Periodic { minutes }
                }
                other => {
                    eprintln!("--cadence takes live, every:MINUTES or nightly, not {other:?}");
                    return ExitCode::from(2);
                }
            };
        } else if arg == "--sweep" {
            sweep = true;
        } else if arg == "--baseline-every" {
            match args.next().and_then(|m| m.parse::<u32>().ok()) {
                Some(m) => config.baseline_interval_minutes = m,
                None => {
                    eprintln!("--baseline-every takes minutes (0: before every run)");
                    return ExitCode::from(2);
                }
            }
        } else if arg == "--cv" {
            cv = true;
        } else if arg == "--synth" {
            synth = args.next().and_then(|s| s.parse::<u64>().ok());
            if synth.is_none() {
                eprintln!("--synth takes a seed");
                return ExitCode::from(2);
            }
        } else if arg == "--set" {
            let Some(kv) = args.next() else {
                eprintln!("--set needs name=value");
                return ExitCode::from(2);
            };
            if let Err(e) = set(&mut config, &kv) {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    if paths.is_empty() && synth.is_none() {
        eprintln!("usage: eval [--cadence C] [--synth SEED] [--set name=value]... TRACES...");
        return ExitCode::from(2);
    }
    let history = flowc_autotune::load_history(&paths, true).map(|mut h| {
        if let Some(seed) = synth {
            h.extend(flowc_autotune::synth::generate_all(seed));
        }
        h
    });
    if let (Ok(spec), Ok(h)) = (std::env::var("EVAL_TRACE"), &history) {
        trace(h, &config, &spec);
        return ExitCode::SUCCESS;
    }
    if let (true, Ok(h)) = (sweep, &history) {
        print!("{}", flowc_autotune::eval::cadence_sweep(h, &config));
        return ExitCode::SUCCESS;
    }
    if let (true, Ok(h)) = (cv, &history) {
        let grid = flowc_autotune::eval::cv::grid(&config.tuner);
        let report = flowc_autotune::eval::cv::cross_validate(h, &config, grid);
        print!("{}", report.to_markdown());
        return ExitCode::SUCCESS;
    }
    let loaded = history.map(|h| flowc_autotune::eval::evaluate_history(&h, &config));
    match loaded {
        Ok(report) => {
            if let Ok(wf) = std::env::var("EVAL_DIAG") {
                for w in report.workflows.iter().filter(|w| w.workflow == wf) {
                    let mut steps: Vec<&String> = w.policies[1].by_step.keys().collect();
                    steps.sort_by(|a, b| {
                        w.policies[1].by_step[*b]
                            .wasted_gb_h
                            .total_cmp(&w.policies[1].by_step[*a].wasted_gb_h)
                    });
                    for s in steps {
                        let cells: Vec<String> = w
                            .policies
                            .iter()
                            .map(|p| {
                                let m = &p.by_step[s];
                                format!("{:>9.1}/{:<4}", m.wasted_gb_h, m.oom_failures)
                            })
                            .collect();
                        let short: String = s
                            .chars()
                            .rev()
                            .take(36)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        println!(
                            "{short:36} n={:<5} {}",
                            w.policies[0].by_step[s].executions,
                            cells.join(" ")
                        );
                    }
                }
                return ExitCode::SUCCESS;
            }
            print!("{}", report.to_markdown());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn set(config: &mut EvalConfig, kv: &str) -> Result<(), String> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| format!("expected name=value, got `{kv}`"))?;
    let f = || {
        v.parse::<f64>()
            .map_err(|_| format!("`{v}` is not a number"))
    };
    let t = &mut config.tuner;
    match k {
        "min_history" => t.min_history = f()? as usize,
        "half_life_hours" => t.half_life_hours = f()?,
        "half_life_runs" => t.half_life_runs = f()?,
        "risk" => t.risk = f()?,
        "max_risk" => t.max_risk = f()?,
        "oom_penalty" => t.oom_penalty = f()?,
        "trade_min_gap" => t.trade_min_gap = f()?,
        "min_bandwidth" => t.min_bandwidth = f()?,
        "small_sample_n" => t.small_sample_n = f()?,
        "small_sample_headroom" => t.small_sample_headroom = f()?,
        "window" => t.window = f()? as usize,
        "regression_min_points" => t.regression_min_points = f()? as usize,
        "regression_min_r" => t.regression_min_r = f()?,
        "regression_max_p" => t.regression_max_p = f()?,
        "extrapolate_min_r" => t.extrapolate_min_r = f()?,
        "extrapolate_factor" => t.extrapolate_factor = f()?,
        "min_input_spread" => t.min_input_spread = f()?,
        "input_model_gain" => t.input_model_gain = f()?,
        "hysteresis" => t.hysteresis = f()?,
        "oom_bump" => t.oom_bump = f()?,
        "min_limit_mib" => t.min_limit_bytes = (f()? * 1048576.0) as u64,
        "early_headroom" => t.early_headroom = f()?,
        "early_max_cut" => t.early_max_cut = f()?,
        "early_max_spread" => t.early_max_spread = f()?,
        "input_guard" => t.input_guard = f()?,
        "floor_by_cost" => t.floor_by_cost = f()? != 0.0,
        "kill_memory_runs" => t.kill_memory_runs = f()?,
        "default_memory_gib" => config.default_memory_bytes = (f()? * (1u64 << 30) as f64) as u64,
        _ => return Err(format!("unknown setting `{k}`")),
    }
    Ok(())
}

/// Logs every limit a policy sets for one step: `EVAL_TRACE=workflow/step-suffix`.
struct Logged {
    inner: Box<dyn Policy>,
    step: String,
    log: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
}

impl Policy for Logged {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn limit(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now: i64,
        initial: u64,
    ) -> u64 {
        let l = self.inner.limit(step, obs, input, now, initial);
        if step.step.ends_with(&self.step) {
            let n = obs.iter().filter(|o| o.peak.is_some()).count();
            self.log.borrow_mut().push(format!(
                "{} t={} n={n} in={:?} limit={} step={}",
                self.inner.name(),
                now / 1000,
                input,
                l >> 20,
                step.step
            ));
        }
        l
    }
    fn retry(
        &mut self,
        step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        now: i64,
        initial: u64,
        killed: u64,
    ) -> u64 {
        let l = self.inner.retry(step, obs, input, now, initial, killed);
        if step.step.ends_with(&self.step) {
            self.log.borrow_mut().push(format!(
                "{}   retry after {} -> {}",
                self.inner.name(),
                killed >> 20,
                l >> 20
            ));
        }
        l
    }
}

/// flowc's policy at the configured cadence.
fn flowc(config: &EvalConfig) -> Box<dyn Policy> {
    match config.cadence {
        Cadence::Live => Box::new(FlowcPolicy::new(config.tuner.clone())),
        c => Box::new(DeployedPolicy::new(config.tuner.clone(), c)),
    }
}

fn trace(history: &flowc_autotune::History, config: &EvalConfig, spec: &str) {
    let Some((wf, step)) = spec.split_once('/') else {
        return;
    };
    let runs: Vec<&flowc_autotune::Execution> =
        history.executions().filter(|e| e.pipeline == wf).collect();
    let mut peaks: Vec<&&flowc_autotune::Execution> =
        runs.iter().filter(|e| e.step.ends_with(step)).collect();
    peaks.sort_by_key(|e| (e.start_ms, e.end_ms));
    for e in &peaks {
        println!(
            "exec t={} end={} peak={} in={:?} req={:?}",
            e.start_ms / 1000,
            e.end_ms / 1000,
            e.peak_memory_bytes.unwrap_or(0) >> 20,
            e.input_before_start(),
            e.memory_in_force().map(|m| m >> 20)
        );
    }
    let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut policies: Vec<Box<dyn Policy>> = vec![
        Box::new(Logged {
            inner: flowc(config),
            step: step.to_string(),
            log: log.clone(),
        }),
        Box::new(Logged {
            inner: Box::new(VpaLike::default()),
            step: step.to_string(),
            log: log.clone(),
        }),
    ];
    let _ = flowc_autotune::eval::replay::replay_workflow(&runs, &mut policies, config);
    for line in log.borrow().iter() {
        println!("{line}");
    }
}
