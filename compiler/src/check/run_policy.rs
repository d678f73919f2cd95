//! How the runs of a pipeline are started and held: the options of its `schedule { ... }`
//! block (what a cron start does while the previous run still runs, how many finished runs are
//! kept, how late a missed start may still happen) and `parallel N` (at most `N` of its steps
//! at once).

use super::collect::StatementCollector;
use super::pipeline_model::ScheduleOptions;
use super::Checker;
use crate::diagnostics::{ops, Code};
use crate::resolve::ModuleId;
use crate::units;
use flowc_grammar::ast::{ExprKind, Record, ScheduleOption, ScheduleOptionKind};

/// What a cron start does while the previous run of the schedule is still running.
pub(crate) const CONCURRENCY: &[&str] = &["allow", "forbid", "replace"];

impl Checker<'_> {
    /// The options of the pipeline's (first) schedule.
    pub(crate) fn schedule_options(
        &mut self,
        m: ModuleId,
        col: &StatementCollector,
    ) -> ScheduleOptions {
        let mut out = ScheduleOptions::default();
        for o in col.schedule_options.first().into_iter().flatten() {
            self.schedule_option(m, o, &mut out);
        }
        out
    }

    fn schedule_option(&mut self, m: ModuleId, o: &ScheduleOption, out: &mut ScheduleOptions) {
        let file = self.file(m);
        match &o.kind {
            ScheduleOptionKind::Concurrency(policy) => {
                if CONCURRENCY.contains(&policy.name.as_str()) {
                    out.concurrency = Some(policy.name.clone());
                } else {
                    self.push(ops::invalid_concurrency(
                        file,
                        policy.span,
                        &policy.name,
                        CONCURRENCY,
                    ));
                }
            }
            ScheduleOptionKind::History(r) => self.history(m, r, out),
            ScheduleOptionKind::StartingDeadline(q) => match units::duration_millis(q) {
                Ok(ms) => out.starting_deadline_ms = Some(ms),
                Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
            },
        }
    }

    /// `history { succeeded: N, failed: N }`: whole numbers of runs.
    fn history(&mut self, m: ModuleId, r: &Record, out: &mut ScheduleOptions) {
        let file = self.file(m);
        for f in &r.fields {
            let count = match &f.value.kind {
                ExprKind::Int(n) => u32::try_from(*n).ok(),
                _ => None,
            };
            let slot = match f.key.name.as_str() {
                "succeeded" => &mut out.succeeded_history,
                "failed" => &mut out.failed_history,
                other => {
                    self.push(ops::invalid_schedule_option(
                        file,
                        f.key.span,
                        &format!("`history` keeps `succeeded` and `failed` runs, not `{other}`"),
                    ));
                    continue;
                }
            };
            match count {
                Some(n) => *slot = Some(n),
                None => self.push(ops::invalid_schedule_option(
                    file,
                    f.value.span,
                    "a number of runs to keep is a whole number, 0 or more",
                )),
            }
        }
    }

    /// `parallel N` at the top of the pipeline: at most one, at least 1.
    pub(crate) fn pipeline_parallelism(
        &mut self,
        m: ModuleId,
        col: &StatementCollector,
    ) -> Option<u32> {
        let file = self.file(m);
        let mut out = None;
        for (i, (span, n)) in col.parallel.iter().enumerate() {
            if i > 0 {
                self.push(ops::second_parallel(file, *span));
                continue;
            }
            match u32::try_from(n.value) {
                Ok(v) if v >= 1 => out = Some(v),
                _ => self.push(ops::parallel_below_one(file, n.span)),
            }
        }
        out
    }
}
