//! The `with { ... }` settings of one call: the properties a step takes, for this call only.
//!
//! `train(data: d) with { resources { memory: 16Gi }  retries 3 }` overrides the step's own
//! properties (and its profiles, and the pipeline's `defaults`) at one call site, as the kfp
//! SDK's `.set_memory_limit(...)`/`.set_retry(...)` on a task do, without declaring the step
//! twice. Every property of a step is allowed except `image` and `run`, which define the step;
//! a pipeline called as a step takes none (its steps have their own settings).

use super::lower::StepSig;
use super::pipeline::PipelineCheck;
use super::props::{Place, ResolvedProps};
use super::Checker;
use crate::diagnostics::ops;
use flowc_grammar::ast::Call;

impl Checker<'_> {
    /// Checks the settings of call `i` (of the step whose signature is `sig`) and returns what
    /// they set; nothing when the call has none.
    pub(crate) fn call_settings(
        &mut self,
        pc: &mut PipelineCheck,
        i: usize,
        call: &Call,
        sig: &StepSig,
    ) -> ResolvedProps {
        let Some(settings) = &call.settings else {
            return ResolvedProps::default();
        };
        if pc.info.nodes[i].callee_is_pipeline {
            let file = self.file(pc.m);
            self.push(ops::misplaced_property(
                file,
                settings.span,
                "with",
                "a call of a pipeline",
                "set the properties on the pipeline's steps, or in its `defaults`",
            ));
            return ResolvedProps::default();
        }
        self.props(pc.m, &settings.props, Place::Call(sig))
    }
}
