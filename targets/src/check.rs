//! Target problems as diagnostics of a checked program: what `flowc check --target` and the
//! language server report beside the ordinary diagnostics.
//!
//! The check builds the plan `flowc build` would build (the last pipeline of the first root
//! file, with no version and no tuned resources) and runs each target's emitter on it, keeping
//! the problems and dropping the text. A program with errors has no plan, so it has no target
//! problems either: those come once the ordinary errors are fixed.

use flowc_compiler::plan::build_plan;
use flowc_compiler::{Analysis, Diagnostic};

use crate::{argo, kfp, EmitOptions, Emitted, EmittedText};

/// A cluster target whose problems can be checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Argo Workflows.
    Argo,
    /// Kubeflow Pipelines v2.
    Kfp,
}

impl Target {
    /// Every target, in the order problems are reported.
    pub const ALL: [Target; 2] = [Target::Argo, Target::Kfp];

    /// The target's name on the command line and in `flowc.toml`: `argo` or `kfp`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Argo => "argo",
            Target::Kfp => "kfp",
        }
    }

    /// The target called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The target's documents for `plan`, with their problems.
    pub fn emit(self, plan: &flowc_compiler::plan::Plan, opts: &EmitOptions) -> Emitted {
        match self {
            Target::Argo => argo::emit(plan, opts),
            Target::Kfp => kfp::emit(plan, opts),
        }
    }

    /// [`Target::emit`], the text held in pieces where the target writes it so (see
    /// [`crate::text`]).
    pub fn emit_text(self, plan: &flowc_compiler::plan::Plan, opts: &EmitOptions) -> EmittedText {
        match self {
            Target::Argo => argo::emit(plan, opts).into(),
            Target::Kfp => kfp::emit_text(plan, opts),
        }
    }
}

/// The problems that building the program of `analysis` for each of `targets` would report,
/// as diagnostics at the source that causes them, sorted as the compiler sorts its own.
/// Nothing when the program has errors or declares no pipeline.
pub fn check(analysis: &Analysis, targets: &[Target]) -> Vec<Diagnostic> {
    if targets.is_empty() || analysis.has_errors() {
        return Vec::new();
    }
    let Ok(plan) = build_plan(analysis, None, None) else {
        return Vec::new();
    };
    let mut out: Vec<Diagnostic> = Vec::new();
    for t in targets {
        let emitted = t.emit(&plan, &EmitOptions::default());
        out.extend(emitted.issues.into_iter().map(|i| i.diagnostic));
    }
    flowc_compiler::diagnostics::sort(&mut out);
    out
}
