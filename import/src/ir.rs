//! Compiled KFP v2 pipelines (IR YAML) to steps and a pipeline.

use crate::problem::Code;
use crate::yaml::Node;
use crate::Ctx;

/// Converts the PipelineSpec `spec` (and its PlatformSpec `platform`).
pub fn convert(ctx: &mut Ctx, spec: &Node, _platform: Option<&Node>) -> Option<String> {
    ctx.error(
        Code::NotKfp,
        spec.pos,
        "compiled pipelines are not converted yet",
        "convert its components",
    );
    None
}
