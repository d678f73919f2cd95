//! The command of a Python step: the runtime entry point of the `flowc_step` package, which
//! loads the inputs, calls the function and saves what it returns.
//!
//! ```text
//! python3 -m flowc_step --function etl.cleaning:clean_panel --signature {"inputs":…,"outputs":…}
//!     --input panel=/tmp/flowc/inputs/panel --param day=2026-03-01 --output clean=/tmp/…/clean
//! ```
//!
//! Each input and output is one `NAME=VALUE` argument (a parameter's value as text, an
//! artifact's path); the signature carries every type at this call (schema variables
//! substituted), so the runtime converts values and checks returned tables without reading the
//! `.flow` source. An absent optional input is an empty value. The command is an ordinary
//! container command: both emitters and the local runner run it as they run any other.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::{Part, TaskInput, TaskOutput};

/// The interpreter a pod runs the entry point with (the local runner may run another).
pub const INTERPRETER: &str = "python3";

/// The runtime package's entry module.
pub const ENTRY_MODULE: &str = "flowc_step";

/// The Python function a container task calls through the runtime.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonCall {
    /// The dotted module path.
    pub module: String,
    /// The function's name.
    pub function: String,
}

impl PythonCall {
    /// `module:function`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.module, self.function)
    }
}

/// The signature argument: every input's and output's type, by name, in declaration order.
fn signature(inputs: &[TaskInput], outputs: &[TaskOutput]) -> String {
    let typed = |pairs: Vec<(&String, Json)>| {
        Json::Object(
            pairs
                .into_iter()
                .map(|(n, t)| (n.clone(), t))
                .collect::<Map<_, _>>(),
        )
    };
    let to_json = |t| serde_json::to_value(t).unwrap_or(Json::Null);
    let sig = serde_json::json!({
        "inputs": typed(inputs.iter().map(|i| (&i.name, to_json(&i.ty))).collect()),
        "outputs": typed(outputs.iter().map(|o| (&o.name, to_json(&o.ty))).collect()),
    });
    sig.to_string()
}

fn text(t: impl Into<String>) -> Vec<Part> {
    vec![Part::Text { text: t.into() }]
}

/// The command that calls `call` with a task's inputs and outputs.
pub fn command(call: &PythonCall, inputs: &[TaskInput], outputs: &[TaskOutput]) -> Vec<Vec<Part>> {
    let mut cmd = vec![
        text(INTERPRETER),
        text("-m"),
        text(ENTRY_MODULE),
        text("--function"),
        text(call.reference()),
        text("--signature"),
        text(signature(inputs, outputs)),
    ];
    for i in inputs {
        let (flag, part) = if i.ty.is_artifact() {
            (
                "--input",
                Part::InputPath {
                    name: i.name.clone(),
                },
            )
        } else {
            (
                "--param",
                Part::Param {
                    name: i.name.clone(),
                },
            )
        };
        cmd.push(text(flag));
        cmd.push(vec![
            Part::Text {
                text: format!("{}=", i.name),
            },
            part,
        ]);
    }
    for o in outputs {
        cmd.push(text("--output"));
        cmd.push(vec![
            Part::Text {
                text: format!("{}=", o.name),
            },
            Part::OutputPath {
                name: o.name.clone(),
            },
        ]);
    }
    cmd
}
