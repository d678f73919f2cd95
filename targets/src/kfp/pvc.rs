//! Volumes (persistent volume claims) on Kubeflow, as the kfp-kubernetes extension writes them.
//!
//! A task mounts a claim through `pvcMount` in its PlatformSpec entry: an existing claim by
//! name (`pvcNameParameter.runtimeValue.constant`, and the older `constant` beside it, as
//! secrets are written twice), a claim created for the run by the output `name` of the
//! `createpvc-<volume>` task (`kubernetes.CreatePVC`, the `argostub/createpvc` executor the
//! backend recognises). A `deletepvc-<volume>` task (`kubernetes.DeletePVC`) runs after every
//! task that mounts it. Both are tasks of the root DAG, so a created claim can be mounted only
//! by tasks of the entry pipeline's root DAG (not in a loop, a branch, a called pipeline or a
//! pipeline with `finally`): elsewhere the build reports `E501`.

use serde_json::{json, Map, Value as Json};

use super::tree::LeafKind;
use super::Emitter;
use crate::diagnostics;
use flowc_compiler::plan::Task;

/// The root DAG task that creates the claim of `volume`.
fn create_key(volume: &str) -> String {
    format!("createpvc-{}", crate::names::dns_label(volume, 40))
}

/// The root DAG task that deletes the claim of `volume`.
fn delete_key(volume: &str) -> String {
    format!("deletepvc-{}", crate::names::dns_label(volume, 40))
}

impl Emitter<'_> {
    /// Whether `task` of graph `g` is a task of the entry pipeline's root DAG.
    fn at_root(&self, g: usize, task: &Task) -> bool {
        let graph = &self.graphs[g];
        graph.entry
            && graph
                .leaf_of(&task.id)
                .and_then(|l| graph.leaves.get(l))
                .is_some_and(|l| l.node == 0 && matches!(l.kind, LeafKind::Task(_)))
    }

    /// The created volumes `task` mounts, when it may (see the module's documentation).
    pub(super) fn created_mounts(&self, g: usize, task: &Task) -> Vec<String> {
        if !self.at_root(g, task) {
            return Vec::new();
        }
        task.settings
            .volume_mounts
            .iter()
            .filter(|(_, v)| self.plan.volumes.get(v).is_some_and(|r| r.created()))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The `pvcMount` list of `task`, reporting the created claims it cannot mount.
    pub(super) fn pvc_mounts(&self, g: usize, task: &Task) -> Option<Json> {
        let root = self.at_root(g, task);
        let mut list = Vec::new();
        for (path, volume) in &task.settings.volume_mounts {
            let Some(r) = self.plan.volumes.get(volume) else {
                continue;
            };
            match &r.claim {
                Some(claim) => list.push(json!({
                    "constant": claim,
                    "mountPath": path,
                    "pvcNameParameter": {"runtimeValue": {"constant": claim}},
                })),
                None if root => {
                    let output =
                        json!({"outputParameterKey": "name", "producerTask": create_key(volume)});
                    list.push(json!({
                        "mountPath": path,
                        "pvcNameParameter": {"taskOutputParameter": output},
                        "taskOutputParameter": output,
                    }));
                }
                None => {
                    let written = task.setting_spans.mounts.iter().find(|(p, _)| p == path);
                    let at = self.place(Some(g), &task.id).at(written.map(|(_, s)| *s));
                    self.report(diagnostics::kfp_created_volume_nested(
                        at, volume, &task.step,
                    ));
                }
            }
        }
        (!list.is_empty()).then_some(Json::Array(list))
    }

    /// Adds the `createpvc-*` and `deletepvc-*` tasks of the created volumes that root tasks
    /// (`mounters`: task key and volume) mount, and makes those tasks wait for the claim.
    pub(super) fn add_pvc_tasks(
        &self,
        mounters: &[(String, String)],
        components: &mut Map<String, Json>,
        executors: &mut Map<String, Json>,
        root: &mut Json,
    ) {
        let mut volumes: Vec<&String> = mounters.iter().map(|(_, v)| v).collect();
        volumes.sort();
        volumes.dedup();
        if volumes.is_empty() {
            return;
        }
        components.insert("comp-createpvc".into(), create_component());
        components.insert(
            "comp-deletepvc".into(),
            json!({
                "executorLabel": "exec-deletepvc",
                "inputDefinitions": {"parameters": {"pvc_name": {"parameterType": "STRING"}}},
            }),
        );
        executors.insert(
            "exec-createpvc".into(),
            json!({"container": {"image": "argostub/createpvc"}}),
        );
        executors.insert(
            "exec-deletepvc".into(),
            json!({"container": {"image": "argostub/deletepvc"}}),
        );
        let Some(tasks) = root.pointer_mut("/dag/tasks").and_then(Json::as_object_mut) else {
            return;
        };
        for volume in volumes {
            let Some(r) = self.plan.volumes.get(volume) else {
                continue;
            };
            let create = create_key(volume);
            let mut inputs = Map::new();
            let access = r.access.clone().unwrap_or_else(|| "ReadWriteOnce".into());
            inputs.insert("access_modes".into(), constant(json!([access])));
            inputs.insert(
                "pvc_name_suffix".into(),
                constant(json!(format!("-{}", crate::names::dns_label(volume, 40)))),
            );
            inputs.insert("size".into(), constant(json!(r.size)));
            if let Some(sc) = &r.storage_class {
                inputs.insert("storage_class_name".into(), constant(json!(sc)));
            }
            tasks.insert(
                create.clone(),
                json!({
                    "cachingOptions": {},
                    "componentRef": {"name": "comp-createpvc"},
                    "inputs": {"parameters": inputs},
                    "taskInfo": {"name": create},
                }),
            );
            let mut users: Vec<String> = mounters
                .iter()
                .filter(|(_, v)| v == volume)
                .map(|(k, _)| k.clone())
                .collect();
            for user in &users {
                add_dependency(tasks, user, &create);
            }
            users.push(create.clone());
            users.sort();
            users.dedup();
            let delete = delete_key(volume);
            tasks.insert(
                delete.clone(),
                json!({
                    "cachingOptions": {},
                    "componentRef": {"name": "comp-deletepvc"},
                    "dependentTasks": users,
                    "inputs": {"parameters": {"pvc_name": {"taskOutputParameter": {
                        "outputParameterKey": "name",
                        "producerTask": create,
                    }}}},
                    "taskInfo": {"name": delete},
                }),
            );
        }
    }
}

/// A constant task input.
fn constant(v: Json) -> Json {
    json!({"runtimeValue": {"constant": v}})
}

/// Makes root task `key` wait for `on`.
fn add_dependency(tasks: &mut Map<String, Json>, key: &str, on: &str) {
    let Some(t) = tasks.get_mut(key).and_then(Json::as_object_mut) else {
        return;
    };
    let deps = t
        .entry("dependentTasks")
        .or_insert_with(|| Json::Array(Vec::new()));
    if let Some(list) = deps.as_array_mut() {
        if !list.iter().any(|d| d == on) {
            list.push(json!(on));
            list.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
        }
    }
}

/// The component of `kubernetes.CreatePVC`, as the kfp-kubernetes extension declares it.
fn create_component() -> Json {
    let optional = |t: &str| json!({"isOptional": true, "parameterType": t});
    json!({
        "executorLabel": "exec-createpvc",
        "inputDefinitions": {"parameters": {
            "access_modes": {"parameterType": "LIST"},
            "annotations": optional("STRUCT"),
            "pvc_name": optional("STRING"),
            "pvc_name_suffix": optional("STRING"),
            "size": {"parameterType": "STRING"},
            "storage_class_name": {"defaultValue": "", "isOptional": true, "parameterType": "STRING"},
            "volume_name": optional("STRING"),
        }},
        "outputDefinitions": {"parameters": {"name": {"parameterType": "STRING"}}},
    })
}
