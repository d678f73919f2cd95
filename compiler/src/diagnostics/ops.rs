//! Constructors of the diagnostics about operations (`E4xx`): resources, secrets, retries,
//! scheduling.

use flowc_grammar::Span;

use super::{Code, Diagnostic};
use crate::check::CronProblem;
use crate::source::FileId;

/// E406: a pipeline's second `schedule`.
pub(crate) fn second_schedule(file: FileId, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateProperty,
        "a pipeline has one `schedule`",
        file,
        span,
        "second `schedule`",
    )
    .with_help("keep one schedule; deploy the pipeline twice for two schedules")
}

/// E411: a `schedule`'s cron expression that Argo cannot read, or that never fires.
pub(crate) fn invalid_cron(
    file: FileId,
    span: Span,
    cron: &str,
    problem: &CronProblem,
) -> Diagnostic {
    match problem {
        CronProblem::Malformed(why) => Diagnostic::new(
            Code::InvalidSchedule,
            format!("`{cron}` is not a valid cron schedule: {why}"),
            file,
            span,
            "invalid cron expression",
        )
        .with_help("write five fields: minute hour day-of-month month day-of-week, as in `\"0 6 * * *\"`"),
        CronProblem::NeverFires => Diagnostic::new(
            Code::InvalidSchedule,
            format!("`{cron}` never fires: no date matches all of its fields"),
            file,
            span,
            "never fires",
        )
        .with_help("check the day of month against the month (February has no 30th or 31st; April, June, September and November no 31st)"),
    }
}

/// E411: a `schedule`'s time zone that is not in the IANA time zone database.
pub(crate) fn unknown_time_zone(file: FileId, span: Span, tz: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidSchedule,
        format!("`{tz}` is not an IANA time zone"),
        file,
        span,
        "unknown time zone",
    )
    .with_help("write a zone such as `\"Europe/Paris\"` or `\"UTC\"`")
}
