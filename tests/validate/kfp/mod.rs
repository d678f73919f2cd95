//! Validators of emitted Kubeflow Pipelines files: the [`spec`]'s structure and the [`yaml11`]
//! reading.

pub mod spec;
pub mod yaml11;

use crate::validate::documents;

/// Everything the emitter tests check of one emitted KFP file (named `name` in messages): at
/// most two documents (the PipelineSpec and its PlatformSpec), a consistent spec and the YAML
/// 1.1 reading. Panics with the first problem.
pub fn validate_file(name: &str, text: &str) {
    let docs = documents(text);
    assert!(docs.len() <= 2, "{name}: more than two documents");
    let errs = spec::check_spec(&docs);
    assert!(errs.is_empty(), "{name}:\n{}", errs.join("\n"));
    yaml11::check_yaml11(name, text);
}
