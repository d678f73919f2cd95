//! Target problems while typing, supplied by the binary that links the emitters.
//!
//! The language server does not depend on the emitters (`flowc-targets`): that keeps it light,
//! and the dependency rule of `.ci/run` checks it. Instead it asks a [`TargetChecker`] that
//! the `flowc` binary hands it when it starts `flowc lsp`. The checker reads the workspace's
//! configuration (`flowc.toml`, `[check] targets = ["kfp"]`, docs/editors.md) and reports,
//! for a program, the problems each named target would have building it. Without a checker,
//! or when the workspace names no target, the server reports none.

use std::path::Path;

use flowc_compiler::{Analysis, Diagnostic};

/// The target problems of a workspace's programs.
pub trait TargetChecker: Send {
    /// Whether the workspace whose folder is `workspace` names any target. The server analyses
    /// each open file on its own only when it does.
    fn names_targets(&self, workspace: &Path) -> bool;

    /// The problems that building the program of `analysis` (one file and what it imports)
    /// would have on the targets `workspace` names, as diagnostics with the file ids of
    /// `analysis`.
    fn check(&self, workspace: &Path, analysis: &Analysis) -> Vec<Diagnostic>;
}
