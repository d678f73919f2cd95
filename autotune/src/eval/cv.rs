//! Leave-one-workflow-out cross-validation of the tuner's defaults.
//!
//! A small grid of candidate settings ([`grid`]) is replayed once on every workflow. For each
//! fold, one workflow is held out; the candidate is chosen on the others by [`choose`] and
//! scored on the held-out one. The shipped defaults are the candidate the same rule chooses on
//! all workflows together (a test checks that [`crate::TunerConfig::default`] is it), so no
//! default is picked by looking at one workflow's table.
//!
//! The rule, on a set of training workflows: the better baseline is the one (VPA-like or
//! KRR-like) that wastes less on them in total. A candidate qualifies when it fails no more
//! often than that baseline on them in total and wastes at most 1.05× the better baseline's
//! waste on each of them. Among those that qualify, the one that wastes least in total; when
//! none qualifies, the one whose worst workflow comes closest. Ties go to the earlier
//! candidate in the grid.

use super::{by_workflow, flowc_policy, replay, EvalConfig, Policy, PolicyMetrics};
use crate::history::History;
use crate::model::TunerConfig;
use std::fmt::Write;

/// Largest waste on a training workflow, relative to its better baseline, for a candidate to
/// qualify.
pub const MAX_WORKFLOW_RATIO: f64 = 1.05;

/// One setting of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Short description, as tables print it.
    pub name: String,
    /// The tuner's settings.
    pub tuner: TunerConfig,
}

/// The grid: the three rules whose values the honest replay questioned, two values each, on
/// top of `base` (8 candidates):
///
/// - the floor (`min_limit_bytes`, 256 MiB): fixed, or applied only where it is the cheaper
///   limit (`floor_by_cost`);
/// - how long an OOM kill holds the limit above the killed one (`kill_memory_runs`): forever,
///   or until 30 newer runs have ended;
/// - whether runs may be left to retries only below an empty band of 10 % (`trade_min_gap`
///   0.1) or also inside a continuous tail (0).
pub fn grid(base: &TunerConfig) -> Vec<Candidate> {
    let mut out = Vec::new();
    for floor_by_cost in [false, true] {
        for kill_memory_runs in [f64::INFINITY, 30.0] {
            for trade_min_gap in [0.1, 0.0] {
                let name = format!(
                    "floor {}, kills held {}, trade {}",
                    if floor_by_cost { "by cost" } else { "fixed" },
                    if kill_memory_runs.is_finite() {
                        format!("{kill_memory_runs} runs")
                    } else {
                        "forever".to_string()
                    },
                    if trade_min_gap > 0.0 {
                        "below a gap"
                    } else {
                        "anywhere"
                    }
                );
                out.push(Candidate {
                    name,
                    tuner: TunerConfig {
                        floor_by_cost,
                        kill_memory_runs,
                        trade_min_gap,
                        ..base.clone()
                    },
                });
            }
        }
    }
    out
}

/// Every candidate's and baseline's metrics on every workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// Workflow names, sorted.
    pub workflows: Vec<String>,
    /// The candidates, in grid order.
    pub candidates: Vec<Candidate>,
    /// `flowc[c][w]`: candidate `c` on workflow `w`.
    pub flowc: Vec<Vec<PolicyMetrics>>,
    /// `baselines[w]`: VPA-like and KRR-like on workflow `w`.
    pub baselines: Vec<[PolicyMetrics; 2]>,
}

/// Replays every workflow once per candidate (and once with the baselines).
pub fn score(history: &History, config: &EvalConfig, candidates: Vec<Candidate>) -> Scores {
    let groups = by_workflow(history);
    let workflows: Vec<String> = groups.keys().map(|k| k.to_string()).collect();
    let baselines = groups
        .values()
        .map(|runs| {
            let mut ps: Vec<Box<dyn Policy>> = super::baselines(config);
            let (m, _, _) = replay::replay_workflow(runs, &mut ps, config);
            let mut it = m.into_iter();
            [it.next().unwrap_or_default(), it.next().unwrap_or_default()]
        })
        .collect();
    let flowc = candidates
        .iter()
        .map(|c| {
            groups
                .values()
                .map(|runs| {
                    let mut ps = vec![flowc_policy(&c.tuner, config.cadence)];
                    let (m, _, _) = replay::replay_workflow(runs, &mut ps, config);
                    m.into_iter().next().unwrap_or_default()
                })
                .collect()
        })
        .collect();
    Scores {
        workflows,
        candidates,
        flowc,
        baselines,
    }
}

/// A candidate's standing on a set of workflows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Total waste, GB·h.
    pub wasted_gb_h: f64,
    /// Total OOM failures.
    pub oom_failures: usize,
    /// Largest waste relative to the workflow's better baseline.
    pub worst_ratio: f64,
}

impl Scores {
    /// Index of the baseline that wastes less on workflow `w` (0: VPA-like, 1: KRR-like).
    fn better_on(&self, w: usize) -> usize {
        let [v, k] = &self.baselines[w];
        usize::from(k.wasted_gb_h < v.wasted_gb_h)
    }

    /// Candidate `c` on the workflows `ws`.
    pub fn standing(&self, c: usize, ws: &[usize]) -> Standing {
        let mut s = Standing {
            wasted_gb_h: 0.0,
            oom_failures: 0,
            worst_ratio: 0.0,
        };
        for &w in ws {
            let m = &self.flowc[c][w];
            s.wasted_gb_h += m.wasted_gb_h;
            s.oom_failures += m.oom_failures;
            let better = self.baselines[w][self.better_on(w)].wasted_gb_h;
            if better > 0.0 {
                s.worst_ratio = s.worst_ratio.max(m.wasted_gb_h / better);
            }
        }
        s
    }

    /// The better baseline on `ws` in total (the lower total waste) and its total failures.
    pub fn better_baseline(&self, ws: &[usize]) -> (usize, f64, usize) {
        let total = |b: usize| -> (f64, usize) {
            ws.iter().fold((0.0, 0), |(g, o), &w| {
                (
                    g + self.baselines[w][b].wasted_gb_h,
                    o + self.baselines[w][b].oom_failures,
                )
            })
        };
        let (v, k) = (total(0), total(1));
        if k.0 < v.0 {
            (1, k.0, k.1)
        } else {
            (0, v.0, v.1)
        }
    }

    /// The candidate the rule (module docs) chooses on the training workflows `ws`.
    pub fn choose(&self, ws: &[usize]) -> usize {
        let (_, _, baseline_ooms) = self.better_baseline(ws);
        let standings: Vec<Standing> = (0..self.candidates.len())
            .map(|c| self.standing(c, ws))
            .collect();
        let qualified = standings
            .iter()
            .enumerate()
            .filter(|(_, s)| s.oom_failures <= baseline_ooms && s.worst_ratio <= MAX_WORKFLOW_RATIO)
            .min_by(|a, b| {
                a.1.wasted_gb_h
                    .total_cmp(&b.1.wasted_gb_h)
                    .then(a.0.cmp(&b.0))
            });
        match qualified {
            Some((c, _)) => c,
            None => standings
                .iter()
                .enumerate()
                .min_by(|a, b| {
                    a.1.worst_ratio
                        .total_cmp(&b.1.worst_ratio)
                        .then(a.0.cmp(&b.0))
                })
                .map_or(0, |(c, _)| c),
        }
    }
}

/// One fold: a held-out workflow, the candidate chosen on the others, and its score there.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// The held-out workflow.
    pub workflow: String,
    /// The chosen candidate's index in the grid.
    pub chosen: usize,
    /// flowc with the chosen settings on the held-out workflow.
    pub flowc: PolicyMetrics,
    /// The baseline that wastes less on the held-out workflow.
    pub better: PolicyMetrics,
}

impl Fold {
    /// flowc's waste over the better baseline's (1 when both are zero).
    pub fn ratio(&self) -> f64 {
        if self.better.wasted_gb_h > 0.0 {
            self.flowc.wasted_gb_h / self.better.wasted_gb_h
        } else if self.flowc.wasted_gb_h > 0.0 {
            f64::INFINITY
        } else {
            1.0
        }
    }
}

/// The cross-validation's result.
#[derive(Debug, Clone, PartialEq)]
pub struct CvReport {
    /// The scores it was computed from.
    pub scores: Scores,
    /// One fold per workflow, in name order.
    pub folds: Vec<Fold>,
    /// The candidate chosen on all workflows: the shipped defaults.
    pub chosen_on_all: usize,
    /// The cadence the replays used.
    pub cadence: super::Cadence,
}

/// Leave-one-workflow-out over the history's workflows with the candidates of `grid`.
pub fn cross_validate(history: &History, config: &EvalConfig, grid: Vec<Candidate>) -> CvReport {
    let scores = score(history, config, grid);
    let all: Vec<usize> = (0..scores.workflows.len()).collect();
    let folds = all
        .iter()
        .map(|&held| {
            let training: Vec<usize> = all.iter().copied().filter(|w| *w != held).collect();
            let chosen = scores.choose(&training);
            let better = scores.better_on(held);
            Fold {
                workflow: scores.workflows[held].clone(),
                chosen,
                flowc: scores.flowc[chosen][held].clone(),
                better: scores.baselines[held][better].clone(),
            }
        })
        .collect();
    CvReport {
        chosen_on_all: scores.choose(&all),
        scores,
        folds,
        cadence: config.cadence,
    }
}

impl CvReport {
    /// Folds where flowc's held-out waste is at most 1.05× the better baseline's.
    pub fn folds_within(&self) -> usize {
        self.folds
            .iter()
            .filter(|f| f.ratio() <= MAX_WORKFLOW_RATIO)
            .count()
    }

    /// Deterministic Markdown: the grid on all workflows, then one row per fold.
    pub fn to_markdown(&self) -> String {
        let s = &self.scores;
        let all: Vec<usize> = (0..s.workflows.len()).collect();
        let mut out = String::new();
        let (b, bw, bo) = s.better_baseline(&all);
        let _ = writeln!(
            out,
            "**Candidates on all {} workflows** ({}; better baseline in total: {}, {:.2} GB·h, {} OOM)\n",
            all.len(),
            self.cadence.label(),
            ["VPA-like", "KRR-like"][b],
            bw,
            bo
        );
        out.push_str("| # | candidate | flowc wasted | flowc OOM | worst workflow vs better baseline | chosen on all |\n|---:|---|---:|---:|---:|---|\n");
        for (c, cand) in s.candidates.iter().enumerate() {
            let st = s.standing(c, &all);
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {} | {:.3} | {} |",
                c + 1,
                cand.name,
                st.wasted_gb_h,
                st.oom_failures,
                st.worst_ratio,
                if c == self.chosen_on_all { "yes" } else { "" }
            );
        }
        out.push_str("\n**Leave one workflow out**\n\n| held-out workflow | chosen on the others | flowc wasted | better baseline wasted | ratio | flowc OOM | better baseline OOM |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for f in &self.folds {
            let _ = writeln!(
                out,
                "| {} | #{} | {:.2} | {:.2} ({}) | {:.3} | {} | {} |",
                f.workflow,
                f.chosen + 1,
                f.flowc.wasted_gb_h,
                f.better.wasted_gb_h,
                f.better.policy,
                f.ratio(),
                f.flowc.oom_failures,
                f.better.oom_failures
            );
        }
        let _ = writeln!(
            out,
            "\nFolds where flowc's held-out waste is at most {MAX_WORKFLOW_RATIO}× the better baseline's: {} of {}.",
            self.folds_within(),
            self.folds.len()
        );
        let _ = writeln!(
            out,
            "Chosen on all workflows (the shipped defaults): #{} ({}).",
            self.chosen_on_all + 1,
            s.candidates
                .get(self.chosen_on_all)
                .map_or("", |c| c.name.as_str())
        );
        out
    }
}
