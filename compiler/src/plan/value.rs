//! Values in a plan: where a task input, condition, check or output gets its value.

use serde::{Deserialize, Serialize};

/// A value expression, resolved to parameters, task outputs and literals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// A literal JSON value (`none` is `null`).
    Literal {
        /// The value.
        value: serde_json::Value,
    },
    /// A pipeline parameter.
    Param {
        /// Its name.
        name: String,
    },
    /// An output of a task in the same pipeline.
    Output {
        /// The producing task.
        task: String,
        /// Its output.
        output: String,
        /// Whether the value is the list of the outputs of every iteration (fan-in).
        collected: bool,
    },
    /// A key of a metrics output.
    Metric {
        /// The producing task.
        task: String,
        /// Its metrics output.
        output: String,
        /// The key.
        key: String,
    },
    /// What a `finally` call knows of the run it ends: `run.status` (`"succeeded"` or
    /// `"failed"`) or `run.name` (the run's name on its engine).
    Run {
        /// `status` or `name`.
        field: String,
    },
    /// The current item of a loop.
    LoopItem {
        /// The loop's index.
        r#loop: usize,
    },
    /// A field of a record value (`job.region`, `job.where.day`): `path` read from `record`,
    /// a loop item or a pipeline parameter.
    Field {
        /// The record.
        record: Box<Value>,
        /// The field names, outermost first.
        path: Vec<String>,
    },
    /// A string with interpolations.
    Template {
        /// Its parts.
        parts: Vec<Part>,
    },
    /// A list of values.
    List {
        /// The items.
        items: Vec<Value>,
    },
    /// An operation: `or`, `and`, `+`, `-`, `not`, `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Op {
        /// The operator.
        op: String,
        /// The operands (one for `not`).
        args: Vec<Value>,
    },
}

/// A piece of a command-line argument, environment value or string template.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Part {
    /// Literal text.
    Text {
        /// The text.
        text: String,
    },
    /// The value of a parameter of the step (a scalar as text, a list as JSON).
    Param {
        /// The parameter.
        name: String,
    },
    /// The local path of an input artifact.
    InputPath {
        /// The input.
        name: String,
    },
    /// The local path where an output artifact must be written.
    OutputPath {
        /// The output.
        name: String,
    },
    /// A value computed in the pipeline (only in pipeline-level templates).
    Value {
        /// The value.
        value: Box<Value>,
    },
}
