//! Secrets named by a pipeline parameter (`secret creds = k8s(param tenant_secret, ...)`).
//!
//! The kfp-kubernetes SDK writes such a Secret as `secretNameParameter:
//! {componentInputParameter: ...}` without `secretName`, naming an input of the DAG that holds
//! the task: the pipeline's own parameter in the root DAG (`tenant_secret`), and in a nested
//! DAG (a loop, a branch, an exit handler) the parameter threaded down as an input of every
//! group on the way (`pipelinechannel--tenant_secret`). A called pipeline is a component of its
//! own, which the entry's parameters do not reach: a step there is E501.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::wire::Chan;
use super::Emitter;
use crate::diagnostics;
use flowc_compiler::plan::{SecretRef, Task};

impl Emitter<'_> {
    /// Threads the parameters naming the Secrets of leaf `l` (a task) down to its DAG and
    /// records the input each is read from in the leaf.
    pub(super) fn wire_secret_names(&mut self, g: usize, l: usize, task: &Task) {
        let s = &task.settings;
        let used = s.secret_env.iter().map(|(at, n)| (at, n, false));
        let used = used.chain(s.secret_mounts.iter().map(|(at, n)| (at, n, true)));
        let mut wanted: Vec<(String, String, bool, String)> = Vec::new();
        for (at, name, mount) in used {
            let Some(p) = self
                .plan
                .secrets
                .get(name)
                .and_then(|r| r.name_param.clone())
            else {
                continue;
            };
            wanted.push((p, name.clone(), mount, at.clone()));
        }
        for (p, secret, mount, at) in wanted {
            if self.graphs[g].leaves[l].secret_names.contains_key(&p) {
                continue;
            }
            let declared = self.pipeline_plan(g).params.iter().any(|q| q.name == p);
            let node = self.graphs[g].leaves[l].node;
            let wired = if self.graphs[g].entry && declared {
                self.source_at(g, &Chan::Param(p.clone()), node).ok()
            } else {
                None
            };
            match wired.map(|w| w.src) {
                Some(super::tree::Src::Comp { name, .. }) => {
                    self.graphs[g].leaves[l].secret_names.insert(p, name);
                }
                _ => {
                    let spans = if mount {
                        &task.setting_spans.mounts
                    } else {
                        &task.setting_spans.env
                    };
                    let written = spans.iter().find(|(k, _)| *k == at).map(|(_, s)| *s);
                    let place = self.place(Some(g), &task.id).at(written);
                    let issue = if self.graphs[g].entry {
                        let entry = &self.pipeline_plan(g).name;
                        diagnostics::secret_name_param_undeclared(place, &secret, &p, entry)
                    } else {
                        diagnostics::kfp_secret_name_param(place, &secret, &p, &task.step)
                    };
                    self.report(issue);
                }
            }
        }
    }
}

/// What tells one Kubernetes Secret of a task from another: its name, or `:p` for the Secret
/// the parameter `p` names (no Kubernetes name has a `:`).
pub(super) fn secret_ident(r: &SecretRef) -> String {
    match &r.name_param {
        Some(p) => format!(":{p}"),
        None => r.k8s_name.clone(),
    }
}

/// The name fields of a Secret in a task's platform spec (`ident` from [`secret_ident`]):
/// `secretName` with its constant, or for a parameter-named Secret only the input it is read
/// from (`names`: parameter → input, from [`Emitter::wire_secret_names`]); `None` for one that
/// could not be wired there (reported as E501 and left out).
pub(super) fn secret_name_fields(
    ident: &str,
    names: &BTreeMap<String, String>,
) -> Option<Map<String, Json>> {
    let mut m = Map::new();
    match ident.strip_prefix(':') {
        Some(p) => {
            let input = names.get(p)?;
            m.insert(
                "secretNameParameter".into(),
                json!({"componentInputParameter": input}),
            );
        }
        None => {
            m.insert("secretName".into(), json!(ident));
            m.insert(
                "secretNameParameter".into(),
                json!({"runtimeValue": {"constant": ident}}),
            );
        }
    }
    Some(m)
}
