//! The deployment targets: the plan written as Argo Workflows or Kubeflow Pipelines YAML, and
//! the problems of a pipeline on a target as diagnostics.
//!
//! Every emitter takes a [`flowc_compiler::plan::Plan`] and returns text plus the
//! [`TargetIssue`]s of features the target cannot express (never silently dropped). The
//! emitters live outside the compiler and use only `flowc_compiler::plan`, the diagnostic types
//! and the unit formatters (a test in `tests/boundary.rs` checks their imports), so they
//! cannot read the syntax tree or the checked model. Every problem is made by one constructor
//! in [`diagnostics`], at the source span the plan records for the task, setting, loop, output
//! or check concerned; [`check()`] reports them beside the ordinary diagnostics (`flowc check
//! --target`, the language server). YAML goes through the one function in [`yaml`];
//! Kubernetes names through [`names`].

pub mod argo;
pub mod check;
pub mod diagnostics;
pub mod kfp;
pub mod kube;
mod local_paths;
pub mod names;
pub mod text;
pub mod yaml;

use flowc_compiler::plan::SourceSpan;
use flowc_compiler::Diagnostic;
use serde_json::Value as Json;

pub use check::{check, Target};

/// The annotation recording the build values (`--set`) a pipeline was built with: a JSON
/// object, on Argo's WorkflowTemplate and on Kubeflow's pods.
pub const BUILD_VALUES_ANNOTATION: &str = "flowc.dev/build-values";

/// A JSON object of `entries`, moved in. The emitters build documents with it rather than
/// with `json!` around variables: `json!` copies a variable through `serde_json::to_value`,
/// which for a whole spec is a deep copy of a large tree.
pub(crate) fn obj<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Options shared by the emitters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmitOptions {
    /// The pipeline version stamped into names and labels (`flowc build --version`).
    pub version: Option<String>,
    /// The release channel (`flowc build --channel prod`): Argo also writes an alias
    /// `WorkflowTemplate` `<pipeline>-<channel>` calling the versioned one, and the
    /// `CronWorkflow` runs the alias.
    pub channel: Option<String>,
    /// The image of built-in steps, checks and loops, replacing
    /// `ghcr.io/flowc-dev/flowc-runtime:<flowc version>` (`--runtime-image`).
    pub runtime_image: Option<String>,
    /// The node label a GPU model (`gpu_type: "nvidia-tesla-t4"`) selects nodes by
    /// (`--gpu-label`); by default `nvidia.com/gpu.product` on Argo (NVIDIA GPU feature
    /// discovery) and `cloud.google.com/gke-accelerator` on Kubeflow.
    pub gpu_label: Option<String>,
    /// Argo: the ConfigMap whose values tuned steps read their memory from when they start
    /// (`--memory-from-configmap`; the lock file's values are the defaults).
    pub memory_configmap: Option<String>,
}

/// What an emitter produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emitted {
    /// The documents, ready to write.
    pub text: String,
    /// Problems: an error-severity issue means the output must not be deployed.
    pub issues: Vec<TargetIssue>,
}

/// A target's documents held in pieces (see [`text`]), and the problems found; see
/// [`Emitted`].
#[derive(Clone, Debug)]
pub struct EmittedText {
    /// The documents, ready to write.
    pub text: text::Text,
    /// Problems: an error-severity issue means the output must not be deployed.
    pub issues: Vec<TargetIssue>,
}

impl EmittedText {
    /// The documents as one string.
    pub fn into_emitted(self) -> Emitted {
        Emitted {
            text: self.text.into_string(),
            issues: self.issues,
        }
    }
}

impl From<Emitted> for EmittedText {
    fn from(e: Emitted) -> EmittedText {
        EmittedText {
            text: e.text.into(),
            issues: e.issues,
        }
    }
}

/// A feature of the plan that the target cannot express, or a value it would refuse: a
/// diagnostic at the source that causes it (when the plan knows it), and the plan's pipeline
/// and task concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetIssue {
    /// The diagnostic (`E5xx` or `W5xx`), with a primary label when the source is known.
    pub diagnostic: Diagnostic,
    /// The pipeline and task concerned, if any.
    pub task: Option<(String, String)>,
}

/// Where a target problem is: the plan's pipeline and task, and the source span they came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Place {
    /// The pipeline and task concerned, if any.
    pub task: Option<(String, String)>,
    /// The source, if the plan knows it.
    pub span: Option<SourceSpan>,
}

impl Place {
    /// The same place, at a more precise source span when there is one.
    pub(crate) fn at(mut self, span: Option<SourceSpan>) -> Place {
        if span.is_some() {
            self.span = span;
        }
        self
    }
}

/// The problems found while emitting, each once, in the order found: the one de-duplicator of
/// both emitters (a value read by several tasks, or a template shared by several calls, would
/// otherwise report the same problem again).
#[derive(Debug, Default)]
pub(crate) struct Issues(Vec<(TargetIssue, Vec<TaskRef>)>);

/// The pipeline and task a problem was found for.
type TaskRef = Option<(String, String)>;

impl Issues {
    /// Records `issue` unless the same problem is already recorded. The same diagnostic found
    /// for several tasks (one step declaration called many times) is recorded once, with the
    /// other tasks counted in a note.
    pub(crate) fn report(&mut self, issue: TargetIssue) {
        match self
            .0
            .iter()
            .position(|(i, _)| i.diagnostic == issue.diagnostic)
        {
            Some(k) => {
                let (first, others) = &mut self.0[k];
                if issue.task.is_some() && issue.task != first.task && !others.contains(&issue.task)
                {
                    others.push(issue.task);
                }
            }
            None => self.0.push((issue, Vec::new())),
        }
    }

    /// The problems, in the order found.
    pub(crate) fn into_vec(self) -> Vec<TargetIssue> {
        self.0
            .into_iter()
            .map(|(mut issue, others)| {
                if let Some(note) = other_tasks_note(&issue, &others) {
                    issue.diagnostic.notes.push(note);
                }
                issue
            })
            .collect()
    }
}

/// "the same for 659 more tasks: s11, s13, s14, …" when a problem was found for several tasks.
fn other_tasks_note(issue: &TargetIssue, others: &[TaskRef]) -> Option<String> {
    if others.is_empty() || issue.task.is_none() {
        return None;
    }
    const SHOWN: usize = 5;
    let names: Vec<&str> = others
        .iter()
        .flatten()
        .take(SHOWN)
        .map(|(_, task)| task.as_str())
        .collect();
    let more = if others.len() > SHOWN { ", …" } else { "" };
    let (n, s) = (others.len(), if others.len() == 1 { "" } else { "s" });
    Some(format!(
        "the same for {n} more task{s}: `{}`{more}",
        names.join("`, `")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ttl_issue(task: &str) -> TargetIssue {
        let at = Place {
            task: Some(("p".to_string(), task.to_string())),
            ..Place::default()
        };
        diagnostics::kfp_cache_ttl(at, "1d", "transform")
    }

    #[test]
    fn one_step_called_many_times_is_one_problem_with_the_other_tasks_counted() {
        let mut issues = Issues::default();
        for i in 0..8 {
            issues.report(ttl_issue(&format!("t{i}")));
        }
        issues.report(ttl_issue("t3"));
        let all = issues.into_vec();
        assert_eq!(all.len(), 1);
        assert_eq!(
            all[0].diagnostic.notes,
            ["the same for 7 more tasks: `t1`, `t2`, `t3`, `t4`, `t5`, …"]
        );
    }

    #[test]
    fn a_problem_of_one_task_has_no_note() {
        let mut issues = Issues::default();
        issues.report(ttl_issue("t0"));
        issues.report(ttl_issue("t0"));
        let all = issues.into_vec();
        assert_eq!(all.len(), 1);
        assert!(all[0].diagnostic.notes.is_empty());
    }
}
