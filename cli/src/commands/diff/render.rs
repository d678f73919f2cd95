//! The comparison as Markdown, for a merge-request comment: a summary line, then tables of the
//! steps added and removed, the changes, and the steps the next run recomputes.

use super::compare::PlanDiff;

/// The Markdown of `diff` between `old` and `new` (as the user named them).
pub(crate) fn markdown(diff: &PlanDiff, old: &str, new: &str) -> String {
    let mut s = format!(
        "## flowc diff: `{}`\n\n`{}` → `{}`: {} added, {} removed, {} changed, {} to recompute\n",
        diff.pipeline,
        old,
        new,
        count(diff.added.len(), "step"),
        count(diff.removed.len(), "step"),
        count(diff.changes.len(), "setting"),
        count(diff.recompute.len(), "step"),
    );
    if diff.added.is_empty()
        && diff.removed.is_empty()
        && diff.changes.is_empty()
        && diff.recompute.is_empty()
    {
        s.push_str("\nNo change.\n");
        return s;
    }
    if !diff.added.is_empty() || !diff.removed.is_empty() {
        s.push_str("\n### Steps\n\n| | step | calls |\n|---|---|---|\n");
        for a in &diff.added {
            s.push_str(&format!("| added | `{}` | `{}` |\n", a.task, cell(&a.step)));
        }
        for r in &diff.removed {
            s.push_str(&format!(
                "| removed | `{}` | `{}` |\n",
                r.task,
                cell(&r.step)
            ));
        }
    }
    if !diff.changes.is_empty() {
        s.push_str("\n### Changes\n\n| where | what | before | after |\n|---|---|---|---|\n");
        for c in &diff.changes {
            let at = c
                .task
                .as_deref()
                .map_or("pipeline".to_string(), |t| format!("`{t}`"));
            let show = |v: &Option<String>| {
                v.as_deref()
                    .map_or("—".to_string(), |x| format!("`{}`", cell(x)))
            };
            s.push_str(&format!(
                "| {at} | {} | {} | {} |\n",
                c.what,
                show(&c.before),
                show(&c.after)
            ));
        }
    }
    if !diff.recompute.is_empty() {
        s.push_str("\n### Recomputed on the next run\n\n| step | why |\n|---|---|\n");
        for r in &diff.recompute {
            s.push_str(&format!("| `{}` | {} |\n", r.task, cell(&r.reason)));
        }
    }
    s
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Text safe in a table cell and inside backquotes: no `|`, no backquote, no line break.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('`', "'").replace('\n', " ")
}
