//! The replay is honest: a policy sizes a run only from what is known before it starts.
//!
//! The trace below gives the answer away if it leaks: every task's `rchar` (bytes it read while
//! it ran) is exactly 4 × its peak memory. A replay that handed `rchar` to the tuner as the
//! run's input size would size every run almost exactly; the honest replay must produce the
//! same result as for the same trace with `rchar` scrambled or removed.

use flowc_autotune::eval::replay::replay_workflow;
use flowc_autotune::eval::{evaluate_history, EvalReport, Policy};
use flowc_autotune::history::InputTiming;
use flowc_autotune::model::Observation;
use flowc_autotune::readers::{read_text, Sink};
use flowc_autotune::{EvalConfig, Execution, History, StepKey};
use std::cell::RefCell;
use std::rc::Rc;

const TASKS: usize = 200;
const GB: u64 = 1_000_000_000;

/// Peak memory of task `i`: spread log-uniformly over 0.3-6 GB by a fixed generator.
fn peak(i: usize) -> u64 {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    let u = (x % 1_000_000) as f64 / 1_000_000.0;
    (0.3e9 * 20f64.powf(u)) as u64
}

/// A Nextflow trace (raw values) of one process; `rchar(i)` gives task i's `rchar` column.
fn trace(rchar: impl Fn(usize) -> String) -> String {
    let mut text = String::from(
        "task_id,process,name,status,exit,attempt,memory,start,complete,realtime,peak_rss,rchar\n",
    );
    let t0: u64 = 1_716_000_000_000;
    for i in 0..TASKS {
        // A task every 10 minutes, running 5: each sees every task before it.
        let start = t0 + i as u64 * 600_000;
        text.push_str(&format!(
            "{},ALIGN,ALIGN ({i}),COMPLETED,0,1,{},{start},{},300000,{},{}\n",
            i + 1,
            8 * GB,
            start + 300_000,
            peak(i),
            rchar(i)
        ));
    }
    text
}

fn read(text: &str) -> Vec<Execution> {
    let mut sink = Sink::new("trace_leak.csv", false);
    let out = read_text("trace_leak.csv", text, &mut sink).expect("the trace reads");
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(out.executions.len(), TASKS);
    out.executions
}

fn eval(executions: Vec<Execution>) -> EvalReport {
    evaluate_history(
        &History::from_executions(executions),
        &EvalConfig::default(),
    )
}

#[test]
fn during_run_measures_do_not_inform_the_limits() {
    let leaking = read(&trace(|i| (4 * peak(i)).to_string()));
    assert!(leaking
        .iter()
        .all(|e| e.input_bytes.is_some() && e.input_timing == InputTiming::DuringRun));
    let honest = eval(leaking.clone());
    // The same trace with rchar scrambled (another task's value) and with it removed.
    let scrambled = eval(read(&trace(|i| {
        (4 * peak((i * 7 + 3) % TASKS)).to_string()
    })));
    let removed = eval(read(&trace(|_| "-".to_string())));
    assert_eq!(honest.workflows, scrambled.workflows);
    assert_eq!(honest.workflows, removed.workflows);
    assert_eq!(honest.inputs_before_start, 0);
    assert_eq!(honest.inputs_withheld, TASKS);

    // The trace does give the answer away to a replay that passes rchar on: marked as known
    // before the start, flowc's input model sizes runs far more tightly. (If this fails, the
    // trace no longer tests anything.)
    let cheating: Vec<Execution> = leaking
        .into_iter()
        .map(|mut e| {
            e.input_timing = InputTiming::BeforeStart;
            e
        })
        .collect();
    let cheated = eval(cheating);
    let flowc = |r: &EvalReport| r.total[0].wasted_gb_h;
    assert!(
        flowc(&cheated) < 0.5 * flowc(&honest),
        "leaked {:.1} GB·h vs honest {:.1} GB·h",
        flowc(&cheated),
        flowc(&honest)
    );
}

/// Records every input size a policy is given, for the run it sizes and in its observations.
struct Spy {
    seen: Rc<RefCell<Vec<Option<u64>>>>,
}

impl Spy {
    fn note(&self, obs: &[Observation], input: Option<u64>) {
        let mut seen = self.seen.borrow_mut();
        seen.push(input);
        seen.extend(obs.iter().map(|o| o.input));
    }
}

impl Policy for Spy {
    fn name(&self) -> &'static str {
        "spy"
    }

    fn limit(
        &mut self,
        _step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        _now_ms: i64,
        _initial: u64,
    ) -> u64 {
        self.note(obs, input);
        // Low enough to fail the large runs, so that retries and kills are exercised too.
        GB
    }

    fn retry(
        &mut self,
        _step: &StepKey,
        obs: &[Observation],
        input: Option<u64>,
        _now_ms: i64,
        _initial: u64,
        killed: u64,
    ) -> u64 {
        self.note(obs, input);
        killed * 2
    }
}

fn spy_inputs(executions: &[Execution]) -> Vec<Option<u64>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let mut policies: Vec<Box<dyn Policy>> = vec![Box::new(Spy { seen: seen.clone() })];
    let runs: Vec<&Execution> = executions.iter().collect();
    let (m, _, _) = replay_workflow(&runs, &mut policies, &EvalConfig::default());
    assert!(m[0].oom_failures > 0, "retries exercised");
    let out = seen.borrow().clone();
    out
}

#[test]
fn a_policy_is_never_given_a_during_run_measure() {
    let leaking = read(&trace(|i| (4 * peak(i)).to_string()));
    let seen = spy_inputs(&leaking);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(Option::is_none),
        "an rchar reached a policy"
    );
    // Inputs known before the start do reach it, for the run and in the observations.
    let known: Vec<Execution> = leaking
        .into_iter()
        .map(|mut e| {
            e.input_timing = InputTiming::BeforeStart;
            e
        })
        .collect();
    let seen = spy_inputs(&known);
    assert!(seen.iter().all(Option::is_some));
}

#[test]
fn readers_mark_which_inputs_are_known_before_the_start() {
    // flowc run records: the attempt's input artifacts.
    let record = r#"{"schema":"flowc.run-record/1","pipeline":"p","step":"s","task":"s","run_id":"r","attempt":1,"start":"2026-11-28T10:15:00Z","end":"2026-11-28T10:15:10Z","wall_seconds":10.0,"peak_rss_bytes":1000000,"exit_code":0,"signal":null,"reason":"ok","input_bytes":123}"#;
    let mut sink = Sink::new("records.jsonl", false);
    let out = read_text("records.jsonl", record, &mut sink).expect("reads");
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(out.executions[0].input_before_start(), Some(123));

    // WfCommons: the task's input files, summed from the specification.
    let instance = r#"{"name": "w", "schemaVersion": "1.5", "workflow": {
      "specification": {
        "tasks": [{"name": "t_ID1", "id": "t_ID1", "parents": [], "inputFiles": ["a"], "outputFiles": []}],
        "files": [{"id": "a", "sizeInBytes": 77}]
      },
      "execution": {
        "makespanInSeconds": 5, "executedAt": "2024-01-01T00:00:00Z",
        "tasks": [{"id": "t_ID1", "runtimeInSeconds": 5, "memoryInBytes": 1000000,
                   "command": {"program": "t"}, "readBytes": 999}]
      }}}"#;
    let mut sink = Sink::new("w-001.json", false);
    let out = read_text("w-001.json", instance, &mut sink).expect("reads");
    assert!(sink.problems.is_empty(), "{:?}", sink.problems);
    assert_eq!(out.executions[0].input_before_start(), Some(77));

    // Nextflow: rchar is read while the task runs.
    let nf = read(&trace(|i| (4 * peak(i)).to_string()));
    assert!(nf.iter().all(|e| e.input_before_start().is_none()));
}
