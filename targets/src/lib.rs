//! Emitters: the plan written for a deployment target.
//!
//! Every emitter takes a [`flowc_compiler::plan::Plan`] and returns text plus the [`TargetIssue`]s of
//! features the target cannot express (never silently dropped); none reads the syntax tree.
//! YAML goes through the one function in [`yaml`]; Kubernetes names through [`names`].

pub mod argo;
pub mod kfp;
pub mod names;
pub mod yaml;

use serde_json::Value as Json;

use flowc_compiler::Code;

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
}

/// What an emitter produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Emitted {
    /// The documents, ready to write.
    pub text: String,
    /// Problems: an error-severity issue means the output must not be deployed.
    pub issues: Vec<TargetIssue>,
}

/// A feature of the plan that the target cannot express, or a value it would refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetIssue {
    /// The diagnostic code (`E5xx`).
    pub code: Code,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it.
    pub help: String,
    /// The pipeline and task concerned, if any.
    pub task: Option<(String, String)>,
}
