//! Validators of emitted Argo Workflows files: the JSON [`schema`], [`dag`] consistency and
//! references, and the [`yaml11`] reading.

pub mod dag;
pub mod schema;
pub mod yaml11;

/// Everything the emitter tests check of one emitted Argo file (named `name` in messages): every
/// document valid for the Argo schema, consistent DAGs and the YAML 1.1 reading. Panics with
/// the first problem.
pub fn validate_file(name: &str, text: &str) {
    let files = [(name.to_string(), text.to_string())];
    schema::validate_against_the_argo_schema(&files);
    dag::dags_are_consistent(&files);
    yaml11::yaml_reads_the_same_in_yaml_1_1(&files);
}
