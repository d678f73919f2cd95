//! Value outputs read outside the `if` branch of the call that writes them.
//!
//! Argo substitutes `{{tasks.x.outputs.parameters.y}}` only when task `x` ran: a skipped task
//! has no outputs, and the workflow fails when it reaches the reader. (Artifacts are read by
//! their storage key instead, which works whichever branch wrote them.) A reader whose own
//! conditions include all of the producer's is inside the producer's branch and always finds
//! the value; every other read of a value output of a call under an `if` is reported here,
//! before anything is rendered.

use crate::diagnostics;
use flowc_compiler::plan::{Part, PipelinePlan, Value};

use super::WorkflowEmitter;

/// Calls `f` with the producer and output of every value read by `v`.
fn outputs_read<'v>(v: &'v Value, f: &mut impl FnMut(&'v str, &'v str)) {
    match v {
        Value::Output {
            task,
            output,
            collected: false,
        } => f(task, output),
        Value::Template { parts } => {
            for p in parts {
                if let Part::Value { value } = p {
                    outputs_read(value, f);
                }
            }
        }
        Value::List { items: args } | Value::Op { args, .. } => {
            args.iter().for_each(|a| outputs_read(a, f))
        }
        _ => {}
    }
}

/// What each reader of a pipeline reads, with the conditions it runs under and the task it
/// is reported at.
fn readers(p: &PipelinePlan) -> Vec<(Option<&str>, &[Value], Vec<&Value>)> {
    let mut out = Vec::new();
    // A `finally` call reads no task's value at all on Argo (reported where it is rendered).
    for t in p.tasks.iter().filter(|t| !t.is_finally) {
        let mut values: Vec<&Value> = t
            .inputs
            .iter()
            .filter(|i| !i.ty.is_artifact())
            .map(|i| &i.value)
            .collect();
        values.extend(&t.when);
        values.extend(
            t.loops
                .iter()
                .filter_map(|l| p.loops.get(*l))
                .map(|l| &l.items),
        );
        out.push((Some(t.id.as_str()), t.when.as_slice(), values));
    }
    for c in &p.checks {
        let mut values = vec![&c.condition];
        values.extend(&c.when);
        out.push((None, c.when.as_slice(), values));
    }
    let outputs = p.outputs.iter().map(|o| &o.value).collect();
    out.push((None, &[], outputs));
    out
}

impl WorkflowEmitter<'_> {
    /// Reports every value output read where its producer may have been skipped.
    pub(crate) fn check_branch_values(&mut self) {
        for pipe in 0..self.pipes.len() {
            let p = self.pipes[pipe];
            for (reader, when, values) in readers(p) {
                let mut found: Vec<(String, String)> = Vec::new();
                for v in values {
                    outputs_read(v, &mut |task, output| {
                        let Some((t, _)) = self.value_output(pipe, task, output) else {
                            return;
                        };
                        let producer = &p.tasks[t];
                        let inside = when.starts_with(&producer.when);
                        let pair = (task.to_string(), output.to_string());
                        if !inside && !found.contains(&pair) {
                            found.push(pair);
                        }
                    });
                }
                for (task, output) in found {
                    let at = self.place(pipe, reader);
                    self.issues
                        .report(diagnostics::argo_value_from_branch(at, &output, &task));
                }
            }
        }
    }
}
