//! Container templates: steps, built-in steps, checks, evaluations and loop enumeration.
//!
//! A container step runs its image with its `run` list (`command` is the program, `args` the
//! rest). Built-in steps, checks, evaluations and the numbering of loop items run in the flowc
//! runtime image with `flowc exec`; the command line is the contract with the runtime and is
//! documented in `docs/targets.md` ("The runtime command line"). Inputs arrive under
//! [`INPUTS`], outputs are written under [`OUTPUTS`] (an `emptyDir`, so the folder exists).
//!
//! Templates are shared: two calls with the same definition, settings and argument shape use
//! one template ([`WorkflowEmitter::add_leaf`] deduplicates by content), which keeps a 1,000-step pipeline
//! at a handful of templates.

use crate::diagnostics;
use serde_json::{json, Map, Value as Json};

use super::text::Text;
use super::WorkflowEmitter;
use flowc_compiler::plan::{CachePlan, Part, ResourcesPlan, SecretRef, Settings, Task, TaskKind};
use flowc_compiler::units::{format_cpu, format_memory};

/// Where input artifacts are placed in a container.
pub(crate) const INPUTS: &str = "/tmp/flowc/inputs";
/// Where a container writes its outputs (an `emptyDir` volume).
pub(crate) const OUTPUTS: &str = "/tmp/flowc/outputs";
/// The volume mounted at [`OUTPUTS`], declared once in `spec.volumes`.
pub(crate) const OUTPUTS_VOLUME: &str = "flowc-outputs";
/// `maxAge` of `cache on`: Argo requires one, so "forever" is a hundred years.
const FOREVER: &str = "876000h";

/// An input artifact slot of a container template.
#[derive(Clone, Debug)]
pub(crate) struct ArtSlot {
    /// The artifact name.
    pub(crate) name: String,
    /// Where it is placed.
    pub(crate) path: String,
    /// Whether it may be missing.
    pub(crate) optional: bool,
}

/// How a step is called: which inputs are given, and its cache key.
#[derive(Clone, Debug, Default)]
pub(crate) struct StepShape {
    /// Value parameters the template declares.
    pub(crate) params: Vec<String>,
    /// Artifact inputs of the step that are given (for `--input`), with their folder or file.
    pub(crate) art_inputs: Vec<String>,
    /// Input artifact slots of the template.
    pub(crate) slots: Vec<ArtSlot>,
    /// The cache key (`memoize.key`), if the step is cached.
    pub(crate) memo_key: Option<String>,
    /// Whether the key has a part computed at run time (the `flowc-cache` input).
    pub(crate) memo_runtime: bool,
    /// Outputs whose storage key is also an output parameter (`flowc-key-<output>`).
    pub(crate) identity: Vec<String>,
    /// Whether the call is inside a loop, so that its storage keys end in the iteration
    /// (`flowc-iter`); a template no loop calls has neither the input nor the suffix.
    pub(crate) iterates: bool,
    /// The storage key written into the template instead of the `flowc-key` input, for a
    /// template only one call uses whose key needs nothing passed (see
    /// [`super::WorkflowEmitter::single_calls`]).
    pub(crate) key: Option<String>,
}

/// A Go duration (`500ms`, `10s`, `2m`, `1h`) for a millisecond count.
pub(crate) fn go_duration(ms: u64) -> String {
    for (size, unit) in [(3_600_000, "h"), (60_000, "m"), (1000, "s")] {
        if ms >= size && ms / size * size == ms {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

fn label_value(raw: &str) -> String {
    let ok = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && raw.starts_with(|c: char| c.is_ascii_alphanumeric())
        && raw.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        raw.to_string()
    } else {
        crate::names::dns_label(raw, 63)
    }
}

fn camel(key: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in key.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.push(c.to_ascii_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The name of the Kubernetes Secret `r` refers to: its name, or for `k8s(param p, ...)` the
/// run's value of the entry pipeline's parameter, which Argo substitutes in `secretName` and
/// `secretKeyRef.name` from any template.
fn secret_name(r: &SecretRef) -> String {
    match &r.name_param {
        Some(p) => format!("{{{{workflow.parameters.{p}}}}}"),
        None => r.k8s_name.clone(),
    }
}

impl WorkflowEmitter<'_> {
    /// Registers a leaf template (deduplicated by content); returns its name.
    pub(crate) fn add_leaf(&mut self, hint: &str, body: Map<String, Json>) -> String {
        let key = serde_json::to_string(&body).unwrap_or_default();
        if let Some(n) = self.leaf_index.get(&key) {
            return n.clone();
        }
        let name = self.own_leaf(hint, body);
        self.leaf_index.insert(key, name.clone());
        name
    }

    /// Registers a leaf template no other call can share (its storage key is written into
    /// it), without the text [`Self::add_leaf`] compares; returns its name.
    pub(crate) fn own_leaf(&mut self, hint: &str, body: Map<String, Json>) -> String {
        let name = self.template_names.name(hint, 63);
        let mut m = Map::with_capacity(body.len() + 1);
        m.insert("name".into(), json!(name));
        m.extend(body);
        self.leaves.push((name.clone(), Json::Object(m)));
        name
    }

    /// The volume of a Kubernetes Secret mounted as files (`k8s_name` as [`secret_name`]
    /// writes it; `hint` names the volume).
    fn secret_volume(&mut self, k8s_name: &str, hint: &str) -> String {
        if let Some(v) = self.volumes.get(k8s_name) {
            return v.clone();
        }
        let v = self.volume_names.name(&format!("secret-{hint}"), 63);
        self.volumes.insert(k8s_name.to_string(), v.clone());
        v
    }

    /// The volume of a Kubernetes ConfigMap mounted as files.
    fn config_volume(&mut self, k8s_name: &str) -> String {
        if let Some(v) = self.config_volumes.get(k8s_name) {
            return v.clone();
        }
        let v = self.volume_names.name(&format!("config-{k8s_name}"), 63);
        self.config_volumes.insert(k8s_name.to_string(), v.clone());
        v
    }

    /// The pod volume of a flowc volume (a persistent volume claim), mounted as a folder.
    fn pvc_volume(&mut self, volume: &str) -> String {
        if let Some(v) = self.pvc_volumes.get(volume) {
            return v.clone();
        }
        let v = self.volume_names.name(&format!("volume-{volume}"), 63);
        self.pvc_volumes.insert(volume.to_string(), v.clone());
        v
    }

    /// A task's configs: their files as read-only mounts of ConfigMap volumes (one key each,
    /// at its path), their variables from `configMapKeyRef`.
    fn config_mounts_and_env(&mut self, s: &Settings, mounts: &mut Vec<Json>, env: &mut Vec<Json>) {
        for (path, config) in &s.config_mounts {
            if let Some(r) = self.plan.configs.get(config) {
                let vol = self.config_volume(&r.k8s_name);
                mounts.push(object_mount(&vol, path, &r.key));
            }
        }
        for (var, config) in &s.config_env {
            if let Some(r) = self.plan.configs.get(config) {
                env.push(json!({
                    "name": var,
                    "valueFrom": {"configMapKeyRef": {"name": r.k8s_name, "key": r.key}},
                }));
            }
        }
    }

    /// Finishes a shared template of the runtime image that writes into the outputs folder:
    /// `flowc exec ARGS` with the outputs volume mounted; returns the template's name.
    fn runtime_leaf_with_outputs(
        &mut self,
        name: &str,
        mut m: Map<String, Json>,
        args: Vec<String>,
    ) -> String {
        self.outputs_volume = true;
        let c = self.runtime_container(
            args,
            Some(json!([{"name": OUTPUTS_VOLUME, "mountPath": OUTPUTS}])),
        );
        m.insert("container".into(), c);
        self.add_leaf(name, m)
    }

    fn runtime_container(&self, args: Vec<String>, mounts: Option<Json>) -> Json {
        let mut c = Map::new();
        c.insert("image".into(), json!(self.runtime_image));
        c.insert("command".into(), json!(["flowc", "exec"]));
        c.insert("args".into(), json!(args));
        if let Some(m) = mounts {
            c.insert("volumeMounts".into(), m);
        }
        Json::Object(c)
    }

    /// The container template of a step call.
    pub(crate) fn step_template(&mut self, pipe: usize, t: usize, shape: &StepShape) -> String {
        let task: &Task = &self.pipes[pipe].tasks[t];
        let s: &Settings = &task.settings;
        let outputs: Vec<String> = task
            .outputs
            .iter()
            .filter(|o| o.ty.is_artifact())
            .map(|o| o.name.clone())
            .collect();
        let values: Vec<String> = task
            .outputs
            .iter()
            .filter(|o| !o.ty.is_artifact())
            .map(|o| o.name.clone())
            .collect();
        let has_outputs = !outputs.is_empty();
        let writes_outputs = has_outputs || !values.is_empty();
        let mut m = Map::new();

        insert_ports(&mut m, shape, &outputs, &values);

        m.insert(
            "metadata".into(),
            json!({"labels": {"flowc.dev/step": label_value(&task.step)}}),
        );
        if let Some(k) = &shape.memo_key {
            let max_age = match s.cache {
                CachePlan::Ttl { ttl_ms } => go_duration(ttl_ms),
                _ => FOREVER.to_string(),
            };
            m.insert(
                "memoize".into(),
                json!({
                    "key": k,
                    "maxAge": max_age,
                    "cache": {"configMap": {"name": self.cache_config_map}},
                }),
            );
        }
        self.scheduling(pipe, t, &mut m);
        self.check_secret_name_params(pipe, t);

        // The container.
        let mut mounts: Vec<Json> = Vec::new();
        if writes_outputs {
            mounts.push(json!({"name": OUTPUTS_VOLUME, "mountPath": OUTPUTS}));
        }
        let mut secret_mounts = Vec::new();
        for (path, secret) in &s.secret_mounts {
            if let Some(r) = self.plan.secrets.get(secret) {
                let hint = match &r.name_param {
                    Some(p) => format!("param-{p}"),
                    None => r.k8s_name.clone(),
                };
                secret_mounts.push((path.clone(), secret_name(r), hint, r.key.clone()));
            }
        }
        for (path, k8s, hint, key) in secret_mounts {
            let vol = self.secret_volume(&k8s, &hint);
            mounts.push(object_mount(&vol, &path, &key));
        }
        for (path, volume) in self.pipes[pipe].tasks[t].settings.volume_mounts.clone() {
            if self.plan.volumes.contains_key(&volume) {
                let vol = self.pvc_volume(&volume);
                mounts.push(json!({"name": vol, "mountPath": path}));
            }
        }
        let task: &Task = &self.pipes[pipe].tasks[t];
        let s: &Settings = &task.settings;
        let mut env: Vec<Json> = Vec::new();
        let mut c = Map::new();
        container_command(&mut c, &mut env, task, shape, &outputs, &self.runtime_image);
        for (var, secret) in &s.secret_env {
            if let Some(r) = self.plan.secrets.get(secret) {
                env.push(json!({
                    "name": var,
                    "valueFrom": {"secretKeyRef": {"name": secret_name(r), "key": r.key}},
                }));
            }
        }
        let s = s.clone();
        self.config_mounts_and_env(&s, &mut mounts, &mut env);
        if !env.is_empty() {
            c.insert("env".into(), Json::Array(env));
        }
        if !mounts.is_empty() {
            c.insert("volumeMounts".into(), Json::Array(mounts));
        }
        let res = self.resources(pipe, t);
        if let Some(r) = res {
            c.insert("resources".into(), r);
        }
        if writes_outputs {
            self.outputs_volume = true;
        }
        m.insert("container".into(), Json::Object(c));
        let task = &self.pipes[pipe].tasks[t];
        super::metrics::add_prometheus_metrics(&mut m, task, OUTPUTS, &self.metric_labels);
        let hint = crate::names::dns_label(&task.step, 50);
        if shape.key.is_some() {
            self.own_leaf(&hint, m)
        } else {
            self.add_leaf(&hint, m)
        }
    }

    /// A tuned step's memory by attempt (the lock file's retry rule), fixed at build time or
    /// read from the ConfigMap of `--memory-from-configmap` when the step starts.
    fn tuned_memory(&mut self, pipe: usize, t: usize, retries: u32, m: &mut Map<String, Json>) {
        let task = &self.pipes[pipe].tasks[t];
        let r = &task.settings.resources;
        let from_configmap = match (
            &self.memory_configmap,
            super::tuned_memory::ladder(r, retries),
        ) {
            (Some(name), Some(ladder)) => {
                let key = super::tuned_memory::configmap_key(&self.pipes[pipe].name, &task.step);
                let default = super::tuned_memory::ladder_text(&ladder);
                super::tuned_memory::add_parameter(m, name, &key, &default);
                true
            }
            _ => false,
        };
        if let Some(p) = super::retry_patch::pod_spec_patch(r, retries, from_configmap) {
            m.insert("podSpecPatch".into(), json!(p));
        }
    }

    /// A Secret named by a parameter the entry pipeline does not declare (a called pipeline
    /// built on its own) is E501: `{{workflow.parameters.p}}` would name nothing.
    fn check_secret_name_params(&mut self, pipe: usize, t: usize) {
        let task = &self.pipes[pipe].tasks[t];
        let s = &task.settings;
        let Some(entry) = self.plan.entry() else {
            return;
        };
        let used = s
            .secret_env
            .iter()
            .map(|(k, n)| (k, n, &task.setting_spans.env));
        let used = used.chain(
            s.secret_mounts
                .iter()
                .map(|(k, n)| (k, n, &task.setting_spans.mounts)),
        );
        let mut problems = Vec::new();
        for (key, name, spans) in used {
            let Some(p) = self
                .plan
                .secrets
                .get(name)
                .and_then(|r| r.name_param.as_ref())
            else {
                continue;
            };
            if !entry.params.iter().any(|q| q.name == *p) {
                let written = spans.iter().find(|(k, _)| k == key).map(|(_, s)| *s);
                problems.push((written, name.clone(), p.clone()));
            }
        }
        let id = task.id.clone();
        for (written, secret, p) in problems {
            let at = self.place(pipe, Some(&id)).at(written);
            self.issues
                .report(diagnostics::secret_name_param_undeclared(
                    at,
                    &secret,
                    &p,
                    &entry.name,
                ));
        }
    }

    /// Retries, timeout, node selector and tolerations of a step.
    fn scheduling(&mut self, pipe: usize, t: usize, m: &mut Map<String, Json>) {
        let task = &self.pipes[pipe].tasks[t];
        let s = &task.settings;
        let id = task.id.clone();
        let retries_span = task.setting_spans.retries;
        if s.network_off {
            let at = self.place(pipe, Some(&id)).at(task.setting_spans.network);
            let selector = format!("the label `flowc.dev/step: {}`", label_value(&task.step));
            self.issues
                .report(diagnostics::network_off(at, "Argo", &task.step, &selector));
        }
        // A tuned step with a retry rule is retried after OOM kills at least OOM_RETRIES times.
        let retries = super::tuned_memory::retries_for(&s.resources, s.retries);
        if s.retries == 0 && retries > 0 {
            m.insert(
                "retryStrategy".into(),
                super::tuned_memory::oom_retry_strategy(),
            );
        }
        if s.retries > 0 {
            let mut r = Map::new();
            r.insert("limit".into(), json!(retries.to_string()));
            r.insert("retryPolicy".into(), json!("Always"));
            let mut b = Map::new();
            if let Some(ms) = s.backoff_ms {
                b.insert("duration".into(), json!(go_duration(ms)));
            }
            if let Some(f) = s.backoff_factor {
                let whole = f.round().max(1.0);
                if (whole - f).abs() > f64::EPSILON {
                    let at = self.place(pipe, Some(&id)).at(retries_span);
                    self.issues
                        .report(diagnostics::argo_backoff_factor(at, f, whole));
                }
                b.insert("factor".into(), json!((whole as u64).to_string()));
            }
            if let Some(ms) = s.backoff_max_ms {
                b.insert("cap".into(), json!(go_duration(ms)));
            }
            if let Some(ms) = s.retry_within_ms {
                b.insert("maxDuration".into(), json!(go_duration(ms)));
            }
            if !b.is_empty() {
                r.insert("backoff".into(), Json::Object(b));
            }
            m.insert("retryStrategy".into(), Json::Object(r));
        }
        self.tuned_memory(pipe, t, retries, m);
        let s = &self.pipes[pipe].tasks[t].settings;
        if let Some(ms) = s.timeout_ms {
            m.insert(
                "activeDeadlineSeconds".into(),
                json!(ms.div_ceil(1000).max(1).to_string()),
            );
        }
        let mut sel: Map<String, Json> = s
            .node_selector
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        // A GPU model (`nvidia-tesla-t4`, not a resource name) selects the nodes labelled with
        // it; a `node_selector` naming the same label wins.
        let r = s.resources.in_force();
        if let (Some(gt), Some(1..)) = (r.gpu_type.as_deref(), r.gpu) {
            if !crate::names::is_extended_resource_name(gt) && !sel.contains_key(&self.gpu_label) {
                sel.insert(self.gpu_label.clone(), json!(gt));
            }
        }
        if !sel.is_empty() {
            m.insert("nodeSelector".into(), Json::Object(sel));
        }
        if !s.tolerations.is_empty() {
            let tols: Vec<Json> = s
                .tolerations
                .iter()
                .map(|fields| {
                    let mut x = Map::new();
                    for (k, v) in fields {
                        let k = camel(k);
                        let v = if k == "tolerationSeconds" {
                            v.parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))
                        } else {
                            json!(v)
                        };
                        x.insert(k, v);
                    }
                    Json::Object(x)
                })
                .collect();
            m.insert("tolerations".into(), Json::Array(tols));
        }
    }

    /// `resources` of a step: requests and limits in canonical units, GPUs in limits.
    fn resources(&mut self, pipe: usize, t: usize) -> Option<Json> {
        let task = &self.pipes[pipe].tasks[t];
        let r: &ResourcesPlan = &task.settings.resources;
        let req = r.in_force();
        let lim = req.clone();
        let mut requests = Map::new();
        if let Some(c) = req.cpu_millis {
            requests.insert("cpu".into(), json!(format_cpu(c)));
        }
        if let Some(b) = req.memory_bytes {
            requests.insert("memory".into(), json!(format_memory(b)));
        }
        let mut limits = Map::new();
        if let Some(c) = lim.cpu_limit_millis {
            limits.insert("cpu".into(), json!(format_cpu(c)));
        }
        if let Some(b) = lim.memory_limit_bytes {
            limits.insert("memory".into(), json!(format_memory(b)));
        }
        // A `gpu_type` that is an extended resource name (`amd.com/gpu`) is the GPU's resource;
        // a GPU model (`nvidia-tesla-t4`) is a node selector (see `scheduling`).
        let resource = match lim.gpu_type.as_deref() {
            Some(gt) if crate::names::is_extended_resource_name(gt) => gt,
            _ => "nvidia.com/gpu",
        };
        if let Some(g) = lim.gpu.filter(|g| *g > 0) {
            limits.insert(resource.into(), json!(g.to_string()));
        }
        let mut out = Map::new();
        if !requests.is_empty() {
            out.insert("requests".into(), Json::Object(requests));
        }
        if !limits.is_empty() {
            out.insert("limits".into(), Json::Object(limits));
        }
        (!out.is_empty()).then_some(Json::Object(out))
    }

    /// The template of a check or an evaluation run by the runtime.
    pub(crate) fn eval_template(
        &mut self,
        pipe: usize,
        hint: &str,
        mode: EvalMode<'_>,
        params: &[(String, String)],
        items: &[(usize, String)],
        metrics: &[(String, String, String)],
    ) -> String {
        let p = self.pipes[pipe];
        let mut sig_params = Map::new();
        for (name, _) in params {
            if let Some(t) = self.param_type(pipe, name) {
                sig_params.insert(name.clone(), serde_json::to_value(t).unwrap_or(Json::Null));
            }
        }
        let mut sig_items = Map::new();
        for (l, _) in items {
            let t = self.item_type(pipe, *l);
            sig_items.insert(l.to_string(), serde_json::to_value(t).unwrap_or(Json::Null));
        }
        let signature = json!({"params": sig_params, "items": sig_items});
        let mut args: Vec<String> = Vec::new();
        let expr = match &mode {
            EvalMode::Check { value, .. } | EvalMode::Eval { value } => {
                serde_json::to_string(value).unwrap_or_default()
            }
        };
        match &mode {
            EvalMode::Check { source, .. } => {
                args.extend(["--check".to_string(), container_lit(&expr)]);
                args.extend(["--message".to_string(), container_lit(source)]);
            }
            EvalMode::Eval { .. } => args.extend(["--eval".to_string(), container_lit(&expr)]),
        }
        args.extend([
            "--signature".to_string(),
            Text::lit(signature.to_string()).simple(),
        ]);
        let mut in_params = Vec::new();
        for (name, input) in params {
            args.push("--param".into());
            args.push(
                Text::lit(format!("{name}="))
                    .then(Text::var(&["inputs", "parameters", input]))
                    .simple(),
            );
            in_params.push(json!({"name": input}));
        }
        for (l, input) in items {
            args.push("--item".into());
            args.push(
                Text::lit(format!("{l}="))
                    .then(Text::var(&["inputs", "parameters", input]))
                    .simple(),
            );
            in_params.push(json!({"name": input}));
        }
        let mut in_arts = Vec::new();
        for (task, output, input) in metrics {
            args.push("--metrics".into());
            args.push(Text::lit(format!("{task}.{output}={INPUTS}/{input}")).simple());
            in_arts.push(json!({"name": input, "path": format!("{INPUTS}/{input}")}));
        }
        let mut m = Map::new();
        insert_io(&mut m, "inputs", in_params, in_arts);
        let eval = matches!(mode, EvalMode::Eval { .. });
        if eval {
            args.push("--output".into());
            args.push(format!("value={OUTPUTS}/value"));
            insert_io(
                &mut m,
                "outputs",
                vec![json!({"name": "value", "valueFrom": {"path": format!("{OUTPUTS}/value")}})],
                Vec::new(),
            );
            self.outputs_volume = true;
        }
        let mounts = eval.then(|| json!([{"name": OUTPUTS_VOLUME, "mountPath": OUTPUTS}]));
        m.insert("container".into(), self.runtime_container(args, mounts));
        let hint = format!("{}-{hint}", crate::names::dns_label(&p.name, 40));
        self.add_leaf(&hint, m)
    }

    /// The shared template that copies an artifact to this run's storage key.
    pub(crate) fn copy_template(&mut self) -> String {
        let mut m = Map::new();
        insert_io(
            &mut m,
            "inputs",
            vec![
                json!({"name": "flowc-key"}),
                json!({"name": "flowc-iter", "value": ""}),
            ],
            vec![json!({"name": "source", "path": format!("{INPUTS}/source")})],
        );
        insert_io(
            &mut m,
            "outputs",
            Vec::new(),
            vec![json!({
                "name": "copy",
                "path": format!("{OUTPUTS}/copy"),
                "archive": {"none": {}},
                "s3": {"key": "{{inputs.parameters.flowc-key}}{{inputs.parameters.flowc-iter}}"},
            })],
        );
        let args = vec![
            "--copy".to_string(),
            format!("{INPUTS}/source"),
            format!("{OUTPUTS}/copy"),
        ];
        self.runtime_leaf_with_outputs("flowc-copy", m, args)
    }

    /// The shared template that flattens the key prefix of outputs gathered across nested
    /// loops (`levels` levels of numbered folders) into one folder of numbered entries, stored
    /// at `flowc-key` + `flowc-iter` (missing when there are none, as an empty list is).
    pub(crate) fn flatten_template(&mut self) -> String {
        let mut m = Map::new();
        insert_io(
            &mut m,
            "inputs",
            vec![
                json!({"name": "flowc-key"}),
                json!({"name": "flowc-iter", "value": ""}),
                json!({"name": "levels"}),
            ],
            vec![json!({"name": "source", "path": format!("{INPUTS}/source"), "optional": true})],
        );
        insert_io(
            &mut m,
            "outputs",
            Vec::new(),
            vec![json!({
                "name": "folder",
                "path": format!("{OUTPUTS}/folder"),
                "optional": true,
                "archive": {"none": {}},
                "s3": {"key": "{{inputs.parameters.flowc-key}}{{inputs.parameters.flowc-iter}}"},
            })],
        );
        let args = vec![
            "--gather".to_string(),
            "--levels".to_string(),
            "{{inputs.parameters.levels}}".to_string(),
            "--input".to_string(),
            format!("items={INPUTS}/source"),
            "--output".to_string(),
            format!("folder={OUTPUTS}/folder"),
        ];
        self.runtime_leaf_with_outputs("flowc-flatten", m, args)
    }

    /// The shared template that numbers the items of a loop known at run time.
    pub(crate) fn enumerate_template(&mut self) -> String {
        let mut m = Map::new();
        insert_io(
            &mut m,
            "inputs",
            vec![json!({"name": "items"}), json!({"name": "signature"})],
            Vec::new(),
        );
        insert_io(
            &mut m,
            "outputs",
            vec![json!({"name": "items", "valueFrom": {"path": format!("{OUTPUTS}/items")}})],
            Vec::new(),
        );
        let args = vec![
            "--enumerate".to_string(),
            "{{inputs.parameters.items}}".to_string(),
            "--signature".to_string(),
            "{{inputs.parameters.signature}}".to_string(),
            "--output".to_string(),
            format!("items={OUTPUTS}/items"),
        ];
        self.runtime_leaf_with_outputs("flowc-enumerate", m, args)
    }
}

/// What a runtime evaluation computes.
pub(crate) enum EvalMode<'a> {
    /// A `check`: fail with the message when false.
    Check {
        /// The condition.
        value: &'a flowc_compiler::plan::Value,
        /// The condition as written.
        source: &'a str,
    },
    /// A value written to the output parameter `value`.
    Eval {
        /// The value.
        value: &'a flowc_compiler::plan::Value,
    },
}

/// Adds `inputs`/`outputs` with parameters and artifacts, when there are any.
fn insert_io(m: &mut Map<String, Json>, key: &str, params: Vec<Json>, arts: Vec<Json>) {
    let mut io = Map::new();
    if !params.is_empty() {
        io.insert("parameters".into(), Json::Array(params));
    }
    if !arts.is_empty() {
        io.insert("artifacts".into(), Json::Array(arts));
    }
    if !io.is_empty() {
        m.insert(key.into(), Json::Object(io));
    }
}

/// Literal text as a container argument: kept literal by Argo and by the kubelet.
fn container_lit(text: &str) -> String {
    Text::lit(crate::kube::escape_dollars(text)).simple()
}

/// A command-line argument or environment value of a container step.
fn parts_text(parts: &[Part]) -> Text {
    let mut t = Text::default();
    for p in parts {
        match p {
            Part::Text { text } => t.push_lit(&crate::kube::escape_dollars(text)),
            Part::Param { name } => t.push(Text::var(&["inputs", "parameters", name])),
            Part::InputPath { name } => t.push_lit(&format!("{INPUTS}/{name}")),
            Part::OutputPath { name } => t.push_lit(&format!("{OUTPUTS}/{name}")),
            Part::Value { .. } => {}
        }
    }
    t
}

/// The types of a built-in call, for the runtime: `{"params": {...}, "inputs": {...},
/// "outputs": {...}}` with the plan's type JSON.
fn signature(task: &Task) -> String {
    let mut params = Map::new();
    let mut inputs = Map::new();
    for i in &task.inputs {
        let t = serde_json::to_value(&i.ty).unwrap_or(Json::Null);
        if i.ty.is_artifact() {
            inputs.insert(i.name.clone(), t);
        } else {
            params.insert(i.name.clone(), t);
        }
    }
    let outputs: Map<String, Json> = task
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                serde_json::to_value(&o.ty).unwrap_or(Json::Null),
            )
        })
        .collect();
    Text::lit(json!({"params": params, "inputs": inputs, "outputs": outputs}).to_string()).simple()
}
/// The inputs (the shape's parameters and artifact slots, plus the storage key and iteration
/// suffix when the step has artifact outputs) and the outputs (value outputs as parameters read
/// from the file the step writes, artifacts as key-only S3 artifacts at deterministic keys,
/// never archived) of a step template.
fn insert_ports(
    m: &mut Map<String, Json>,
    shape: &StepShape,
    outputs: &[String],
    values: &[String],
) {
    let has_outputs = !outputs.is_empty();
    // Inputs.
    let mut params: Vec<Json> = shape.params.iter().map(|p| json!({"name": p})).collect();
    if has_outputs {
        if shape.key.is_none() {
            params.push(json!({"name": "flowc-key"}));
        }
        if shape.iterates {
            params.push(json!({"name": "flowc-iter", "value": ""}));
        }
    }
    if shape.memo_runtime {
        params.push(json!({"name": "flowc-cache"}));
    }
    let arts: Vec<Json> = shape
        .slots
        .iter()
        .map(|a| {
            let mut x = Map::new();
            x.insert("name".into(), json!(a.name));
            x.insert("path".into(), json!(a.path));
            if a.optional {
                x.insert("optional".into(), json!(true));
            }
            Json::Object(x)
        })
        .collect();
    insert_io(m, "inputs", params, arts);

    // Outputs: key-only S3 artifacts at deterministic keys, never archived.
    let iter = if shape.iterates {
        "{{inputs.parameters.flowc-iter}}"
    } else {
        ""
    };
    let prefix = shape
        .key
        .as_deref()
        .unwrap_or("{{inputs.parameters.flowc-key}}");
    let key = |o: &str| format!("{prefix}/{o}{iter}");
    let out_params: Vec<Json> = values
        .iter()
        .map(|o| json!({"name": o, "valueFrom": {"path": format!("{OUTPUTS}/{o}")}}))
        .chain(
            shape
                .identity
                .iter()
                .map(|o| json!({"name": format!("flowc-key-{o}"), "value": key(o)})),
        )
        .collect();
    let out_arts: Vec<Json> = outputs
        .iter()
        .map(|o| {
            json!({
                "name": o,
                "path": format!("{OUTPUTS}/{o}"),
                "archive": {"none": {}},
                "s3": {"key": key(o)},
            })
        })
        .collect();
    insert_io(m, "outputs", out_params, out_arts);
}

/// The image, command, arguments and plain environment of a step's container: the step's own
/// for a container step, `flowc exec` in the runtime image for a built-in step.
fn container_command(
    c: &mut Map<String, Json>,
    env: &mut Vec<Json>,
    task: &Task,
    shape: &StepShape,
    outputs: &[String],
    runtime_image: &str,
) {
    match &task.kind {
        TaskKind::Container {
            image,
            command,
            env: vars,
            ..
        } => {
            let argv: Vec<String> = command.iter().map(|a| parts_text(a).simple()).collect();
            c.insert("image".into(), json!(image));
            if let Some((prog, rest)) = argv.split_first() {
                c.insert("command".into(), json!([prog]));
                if !rest.is_empty() {
                    c.insert("args".into(), json!(rest));
                }
            }
            for (name, value) in vars {
                env.push(json!({"name": name, "value": parts_text(value).simple()}));
            }
        }
        TaskKind::Builtin { module, name } => {
            let mut args = vec![
                "--step".to_string(),
                format!("{module}.{name}"),
                "--signature".to_string(),
                signature(task),
            ];
            for p in &shape.params {
                args.push("--param".into());
                args.push(
                    Text::lit(format!("{p}="))
                        .then(Text::var(&["inputs", "parameters", p]))
                        .simple(),
                );
            }
            for a in &shape.art_inputs {
                args.push("--input".into());
                args.push(Text::lit(format!("{a}={INPUTS}/{a}")).simple());
            }
            for o in outputs {
                args.push("--output".into());
                args.push(Text::lit(format!("{o}={OUTPUTS}/{o}")).simple());
            }
            c.insert("image".into(), json!(runtime_image));
            c.insert("command".into(), json!(["flowc", "exec"]));
            c.insert("args".into(), json!(args));
        }
        TaskKind::Pipeline { .. } => {}
    }
}

/// The read-only mount of a Secret or ConfigMap volume: one key as a file (`subPath`), or the
/// whole object as a directory, one file per key (a declaration without `key`).
fn object_mount(vol: &str, path: &str, key: &str) -> Json {
    if key.is_empty() {
        json!({"name": vol, "mountPath": path, "readOnly": true})
    } else {
        json!({"name": vol, "mountPath": path, "subPath": key, "readOnly": true})
    }
}
