//! The inputs and outputs of a compiled component, named for `.flow` and typed.
//!
//! Names are computed from the component alone (so the pipeline walk can name `task.output`
//! before the steps are written); types depend on how tasks wire the inputs: a parameter fed
//! by another task's output file is a `File` in flowc; output values are value outputs.

use crate::names::Names;
use crate::types;
use crate::yaml::Node;

/// One input or output of a compiled component.
#[derive(Debug, Clone, PartialEq)]
pub struct IrPort {
    /// The name in the IR.
    pub kfp: String,
    /// The `.flow` name.
    pub name: String,
    /// Whether it is an artifact (a file) rather than a parameter (a value).
    pub artifact: bool,
    /// The IR's definition of it.
    pub def: Node,
    /// For an output list a loop iterates over: the type of the loop's item (the IR's `LIST`
    /// says nothing of its items).
    pub list_item: Option<String>,
}

/// The ports of a component, inputs then outputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ports {
    /// Inputs, parameters then artifacts, each in file order.
    pub inputs: Vec<IrPort>,
    /// Outputs, artifacts then parameters.
    pub outputs: Vec<IrPort>,
}

impl Ports {
    /// The ports of the component `comp`.
    pub fn of(comp: &Node) -> Ports {
        let mut names = Names::default();
        let mut list = |defs: Option<&Node>, order: [&str; 2]| -> Vec<IrPort> {
            let mut out = Vec::new();
            for kind in order {
                let entries = defs.and_then(|d| d.get(kind)).and_then(Node::as_map);
                for (k, def) in entries.unwrap_or_default() {
                    let kfp = k.as_str().unwrap_or_default().to_string();
                    out.push(IrPort {
                        name: names.unique(&kfp),
                        kfp,
                        artifact: kind == "artifacts",
                        def: def.clone(),
                        list_item: None,
                    });
                }
            }
            out
        };
        let inputs = list(comp.get("inputDefinitions"), ["parameters", "artifacts"]);
        let outputs = list(comp.get("outputDefinitions"), ["artifacts", "parameters"]);
        Ports { inputs, outputs }
    }

    /// The input named `kfp` in the IR.
    pub fn input(&self, kfp: &str) -> Option<&IrPort> {
        self.inputs.iter().find(|p| p.kfp == kfp)
    }

    /// The output named `kfp` in the IR.
    pub fn output(&self, kfp: &str) -> Option<&IrPort> {
        self.outputs.iter().find(|p| p.kfp == kfp)
    }
}

impl IrPort {
    /// The IR type: `parameterType`, or the artifact's `schemaTitle`.
    pub fn ir_type(&self) -> &str {
        self.def
            .str_of("parameterType")
            .or_else(|| {
                self.def
                    .get("artifactType")
                    .and_then(|t| t.str_of("schemaTitle"))
            })
            .unwrap_or_default()
    }

    /// Whether the run status of an exit handler is passed here (no flowc equivalent).
    pub fn is_final_status(&self) -> bool {
        self.ir_type() == "TASK_FINAL_STATUS"
    }

    /// The `.flow` type and whether the IR type was known.
    pub fn flow_type(&self) -> types::Mapped {
        if self.artifact {
            let mut m = types::artifact(self.ir_type());
            if self.def.str_of("isArtifactList") == Some("true") {
                m.ty = format!("List<{}>", m.ty);
            }
            m
        } else if self.ir_type() == "LIST" {
            let ty = match &self.list_item {
                Some(item) => format!("List<{item}>"),
                None => list_type(self.def.get("defaultValue")),
            };
            types::Mapped { ty, known: true }
        } else {
            types::parameter(self.ir_type())
        }
    }

    /// Whether the input may be left out by callers.
    pub fn optional(&self) -> bool {
        self.def.str_of("isOptional") == Some("true")
    }
}

/// `List<T>` with `T` from the items of a default list (numbers with no fraction are `Int`).
pub fn list_type(default: Option<&Node>) -> String {
    let items = default.and_then(Node::as_seq).unwrap_or_default();
    let json: Vec<serde_json::Value> = items.iter().map(Node::to_json).collect();
    let elem = if json.is_empty() || json.iter().any(|v| v.is_string()) {
        "Str"
    } else if json.iter().all(serde_json::Value::is_boolean) {
        "Bool"
    } else if json
        .iter()
        .all(|v| v.as_f64().is_some_and(|f| f.fract() == 0.0))
    {
        "Int"
    } else if json.iter().all(serde_json::Value::is_number) {
        "Float"
    } else {
        "Str"
    };
    format!("List<{elem}>")
}

/// Types the output lists that loops iterate over (`parameterIterator` over another task's
/// output value): each loop's item input says what the items are. Every DAG of `components`
/// and `root` is read; `ports` are the components' ports, by component key.
pub fn type_looped_lists(
    components: &Node,
    root: &Node,
    ports: &mut std::collections::BTreeMap<String, Ports>,
) {
    let dags = std::iter::once(root).chain(
        components
            .as_map()
            .unwrap_or_default()
            .iter()
            .map(|(_, c)| c),
    );
    for dag in dags {
        let tasks = dag
            .get("dag")
            .and_then(|d| d.get("tasks"))
            .and_then(Node::as_map)
            .unwrap_or_default();
        for (_, task) in tasks {
            let Some(it) = task.get("parameterIterator") else {
                continue;
            };
            let (Some(items), Some(item_input)) = (
                it.get("items").and_then(|i| i.str_of("inputParameter")),
                it.str_of("itemInput"),
            ) else {
                continue;
            };
            let Some(source) = task
                .get("inputs")
                .and_then(|i| i.get("parameters"))
                .and_then(|p| p.get(items))
                .and_then(|p| p.get("taskOutputParameter"))
            else {
                continue;
            };
            let (Some(producer), Some(key)) = (
                source.str_of("producerTask"),
                source.str_of("outputParameterKey"),
            ) else {
                continue;
            };
            let loop_comp = task
                .get("componentRef")
                .and_then(|c| c.str_of("name"))
                .and_then(|n| components.get(n));
            let item_ty = loop_comp
                .and_then(|c| c.get("inputDefinitions"))
                .and_then(|d| d.get("parameters"))
                .and_then(|p| p.get(item_input))
                .and_then(|p| p.str_of("parameterType"));
            let producer_comp = tasks
                .iter()
                .find(|(k, _)| k.as_str() == Some(producer))
                .and_then(|(_, t)| t.get("componentRef"))
                .and_then(|c| c.str_of("name"));
            let (Some(item_ty), Some(cref)) = (item_ty, producer_comp) else {
                continue;
            };
            let item = types::parameter(item_ty);
            if !item.known || item.ty.starts_with("List") {
                continue;
            }
            if let Some(port) = ports
                .get_mut(cref)
                .and_then(|p| p.outputs.iter_mut().find(|o| o.kfp == key))
            {
                port.list_item = Some(item.ty);
            }
        }
    }
}
