//! Executors (`deploymentSpec.executors`) and their Kubernetes settings (the PlatformSpec).
//!
//! A container step runs its image with its `run` list: the program as `command`, the rest as
//! `args`, with `{{$.inputs.parameters['p']}}`, `{{$.inputs.artifacts['a'].path}}` and
//! `{{$.outputs.artifacts['o'].path}}` placeholders. Built-in steps and helper tasks run
//! `flowc exec --step <module>.<name> --input name=<value or path> … --output name=<path> …` in
//! the flowc runtime image of the same version. Resources are written twice, as kfp 2.17 does:
//! the current string fields and their deprecated numeric twins, which older backends read.

use crate::diagnostics::{self, MountProblem, MountedObject};
use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::final_status;
use super::secret_name::{secret_ident, secret_name_fields};
use super::tree::{Leaf, LeafKind};
use super::types::{artifact_type, KType};
use super::{Emitter, RUNTIME_IMAGE};
use crate::obj;
use crate::yaml::plain_number;
use flowc_compiler::plan::{Part, ResourcesPlan, Settings, Task, TaskKind, TypeRepr};
use flowc_compiler::units::{format_cpu, format_memory};

/// The label that carries the pipeline version on every pod.
pub const VERSION_LABEL: &str = "flowc.dev/pipeline-version";

/// A Secret mounted as files, for messages.
const SECRET: MountedObject = MountedObject {
    kind: "Secret",
    keyword: "secret",
};

/// A ConfigMap mounted as files, for messages.
const CONFIG: MountedObject = MountedObject {
    kind: "ConfigMap",
    keyword: "config",
};

/// The node label GKE gives nodes with a GPU of a given type.
pub const GPU_TYPE_LABEL: &str = "cloud.google.com/gke-accelerator";

fn param(name: &str) -> String {
    format!("{{{{$.inputs.parameters['{name}']}}}}")
}

fn input_path(name: &str) -> String {
    format!("{{{{$.inputs.artifacts['{name}'].path}}}}")
}

fn output_path(name: &str) -> String {
    format!("{{{{$.outputs.artifacts['{name}'].path}}}}")
}

/// Appends `{{$.FIELD['name']SUFFIX}}` (as [`param`], [`input_path`] and [`output_path`] make
/// it) without a string of its own; `outputs.parameters` with `.output_file` is the file a
/// container writes a value output (an output parameter) to, which KFP's launcher reads when
/// the container ends.
fn push_placeholder(s: &mut String, field: &str, name: &str, suffix: &str) {
    let pieces = ["{{$.", field, "['", name, "']", suffix, "}}"];
    // Room for all of it at once: most placeholders are an argument of their own, written
    // into an empty string that would otherwise grow three or four times.
    s.reserve(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        s.push_str(piece);
    }
}

/// Whether a read of an evaluation is a value output of a task (`--value`), which KFP hands
/// over as a parameter, rather than a metrics file.
fn is_value_read(leaf: &Leaf, flag: &str, key: &str) -> bool {
    flag == "--metrics" && leaf.defs.get(key).is_some_and(|d| !d.ty.is_artifact())
}

/// The Kubernetes resource name of a GPU type: a resource name as given (`amd.com/gpu`),
/// otherwise NVIDIA's, the type then selecting nodes by label.
fn gpu_resource(gpu_type: Option<&str>) -> &str {
    match gpu_type {
        Some(t) if t.contains('/') => t,
        Some(t) if t.to_ascii_lowercase().starts_with("amd") => "amd.com/gpu",
        _ => "nvidia.com/gpu",
    }
}

/// `container.resources`, with the deprecated twins.
pub(super) fn resources(r: &ResourcesPlan) -> Option<Json> {
    let r = &r.in_force();
    let (cpu, cpu_limit, mem, mem_limit) = (
        r.cpu_millis,
        r.cpu_limit_millis,
        r.memory_bytes,
        r.memory_limit_bytes,
    );
    let mut m = Map::new();
    let cores = |millis: u64| plain_number(millis as f64 / 1000.0);
    let gb = |bytes: u64| plain_number(bytes as f64 / 1e9);
    if let Some(c) = cpu {
        m.insert("resourceCpuRequest".into(), json!(format_cpu(c)));
        m.insert("cpuRequest".into(), cores(c));
    }
    if let Some(c) = cpu_limit {
        m.insert("resourceCpuLimit".into(), json!(format_cpu(c)));
        m.insert("cpuLimit".into(), cores(c));
    }
    if let Some(b) = mem {
        m.insert("resourceMemoryRequest".into(), json!(format_memory(b)));
        m.insert("memoryRequest".into(), gb(b));
    }
    if let Some(b) = mem_limit {
        m.insert("resourceMemoryLimit".into(), json!(format_memory(b)));
        m.insert("memoryLimit".into(), gb(b));
    }
    if let Some(n) = r.gpu.filter(|n| *n > 0) {
        let ty = gpu_resource(r.gpu_type.as_deref());
        m.insert(
            "accelerator".into(),
            json!({"resourceType": ty, "resourceCount": n.to_string(), "type": ty, "count": n.to_string()}),
        );
    }
    (!m.is_empty()).then_some(Json::Object(m))
}

/// `retryPolicy`: kfp's defaults for a bare count (no wait, factor 2, at most an hour); with a
/// `backoff` and no `factor`, the wait stays the same, as in flowc.
pub(super) fn retry_policy(s: &Settings) -> Option<Json> {
    if s.retries == 0 {
        return None;
    }
    let backoff = s.backoff_ms.unwrap_or(0);
    let factor = s
        .backoff_factor
        .unwrap_or(if s.backoff_ms.is_some() { 1.0 } else { 2.0 });
    let max = s
        .backoff_max_ms
        .unwrap_or(if s.backoff_ms.is_some() && s.backoff_factor.is_none() {
            backoff
        } else {
            3_600_000
        });
    Some(json!({
        "backoffDuration": duration(backoff),
        "backoffFactor": plain_number(factor),
        "backoffMaxDuration": duration(max),
        "maxRetryCount": s.retries,
    }))
}

/// A protobuf JSON Duration: whole seconds as `30s`, otherwise with three decimals.
pub(super) fn duration(ms: u64) -> String {
    let (secs, millis) = (ms / 1000, ms % 1000);
    if millis == 0 {
        format!("{secs}s")
    } else {
        format!("{secs}.{millis:03}s")
    }
}

/// The container of a step's executor, before it is written.
pub(super) struct Container {
    /// `image`.
    pub image: String,
    /// The program (`command`) and its arguments (`args`).
    pub argv: Vec<String>,
    /// `env`: names and values.
    pub env: Vec<(String, String)>,
    /// `resources`.
    pub resources: Option<Json>,
}

impl Container {
    /// The executor as a tree: `{container: {...}}`.
    pub(super) fn tree(&self) -> Json {
        let mut c = Map::new();
        c.insert("image".into(), json!(self.image));
        if let Some((first, rest)) = self.argv.split_first() {
            c.insert("command".into(), json!([first]));
            if !rest.is_empty() {
                c.insert("args".into(), json!(rest));
            }
        }
        if !self.env.is_empty() {
            let env = (self.env.iter())
                .map(|(k, v)| json!({"name": k, "value": v}))
                .collect();
            c.insert("env".into(), Json::Array(env));
        }
        if let Some(r) = &self.resources {
            c.insert("resources".into(), r.clone());
        }
        obj([("container", Json::Object(c))])
    }

    /// The entry `key:` of this executor at `depth`, as [`crate::yaml::push_sorted_entry`]
    /// writes [`Container::tree`]; false when a key is one the direct writer does not take.
    pub(super) fn write(&self, key: &str, depth: usize, out: &mut String) -> bool {
        use crate::yaml::typed;
        let d = depth + 2;
        if !(typed::open(out, depth, key) && typed::open_fixed(out, depth + 1, "container")) {
            return false;
        }
        if let Some((first, rest)) = self.argv.split_first() {
            if !rest.is_empty() {
                typed::open_fixed(out, d, "args");
                for a in rest {
                    typed::item(out, d, a);
                }
            }
            typed::open_fixed(out, d, "command");
            typed::item(out, d, first);
        }
        if !self.env.is_empty() {
            typed::open_fixed(out, d, "env");
            for (k, v) in &self.env {
                typed::item_string_fixed(out, d, "name", k);
                typed::string_fixed(out, d + 1, "value", v);
            }
        }
        typed::string_fixed(out, d, "image", &self.image);
        match &self.resources {
            Some(r) => typed::value(out, d, "resources", r),
            None => true,
        }
    }
}

impl Emitter<'_> {
    fn runtime_image(&self) -> String {
        self.opts
            .runtime_image
            .clone()
            .unwrap_or_else(|| format!("{RUNTIME_IMAGE}:{}", self.plan.flowc_version))
    }

    /// One item of a container step's command or environment.
    fn render_parts(&self, g: usize, leaf: &Leaf, parts: &[Part], task: &str) -> String {
        let mut s = String::new();
        for p in parts {
            match p {
                // Without a `$`, the text is written as it is.
                Part::Text { text } if !text.contains('$') => s.push_str(text),
                Part::Text { text } => s.push_str(&crate::kube::escape_dollars(text)),
                Part::Param { name } if leaf.final_status.contains(name) => {
                    s.push_str(final_status::MARKER);
                }
                Part::Param { name } => {
                    // Left out: `none`, or a value KFP could not wire (reported there).
                    if !leaf.skipped.contains_key(name) && leaf.defs.contains_key(name) {
                        push_placeholder(&mut s, "inputs.parameters", name, "");
                    }
                }
                Part::InputPath { name } => {
                    // Left out: `none`, or a value KFP could not wire (reported there).
                    if leaf.skipped.contains_key(name) || !leaf.defs.contains_key(name) {
                        continue;
                    }
                    if matches!(leaf.defs.get(name), Some(d) if matches!(d.ty, KType::Art { list: true, .. }))
                    {
                        let at = self.place(Some(g), task);
                        self.report(diagnostics::kfp_artifact_list_in_command(at, name));
                    }
                    push_placeholder(&mut s, "inputs.artifacts", name, ".path");
                }
                Part::OutputPath { name } => match leaf.outputs.get(name) {
                    Some(d) if !d.ty.is_artifact() => {
                        push_placeholder(&mut s, "outputs.parameters", name, ".output_file");
                    }
                    _ => push_placeholder(&mut s, "outputs.artifacts", name, ".path"),
                },
                Part::Value { .. } => {
                    self.report(diagnostics::kfp_value_in_command(self.place(Some(g), task)))
                }
            }
        }
        s
    }

    /// The executor of leaf `l`, if it has one, and its PlatformSpec entry.
    pub(super) fn executor(&self, g: usize, l: usize) -> Option<(Json, Option<Json>)> {
        let leaf = &self.graphs[g].leaves[l];
        match &leaf.kind {
            LeafKind::Task(_) => {
                let (c, platform) = self.container(g, l)?;
                Some((c.tree(), platform))
            }
            LeafKind::Importer { ty, .. } => {
                let title = match ty {
                    KType::Art { title, .. } => title,
                    KType::Param(_) => "system.Artifact",
                };
                Some((
                    json!({"importer": {
                        "artifactUri": {"runtimeParameter": "uri"},
                        "typeSchema": artifact_type(title),
                    }}),
                    None,
                ))
            }
            LeafKind::Gather => Some(self.gather_executor()),
            LeafKind::Absent { .. } => {
                let mut args = vec!["exec".to_string(), "--absent".into()];
                for name in leaf.outputs.keys() {
                    args.push("--output".into());
                    args.push(format!("{name}={}", output_path(name)));
                }
                Some(self.runtime_executor(args))
            }
            LeafKind::Eval { value, check } => {
                // Literal text reaches `flowc exec` through the kubelet, which reads `$$` and `$(`.
                let expr =
                    crate::kube::escape_dollars(&serde_json::to_string(value).unwrap_or_default());
                let mut argv = vec!["flowc".to_string(), "exec".into()];
                match check {
                    Some(src) => argv.extend([
                        "--check".into(),
                        expr,
                        "--message".into(),
                        crate::kube::escape_dollars(src),
                    ]),
                    None => argv.extend(["--eval".into(), expr]),
                }
                argv.push("--signature".into());
                let signature = self.eval_signature(g, leaf);
                argv.push(signature.to_string());
                let mut whole = false;
                for (flag, name, key) in &leaf.refs {
                    if is_value_read(leaf, flag, key) {
                        argv.extend(["--value".into(), format!("{name}={}", param(key))]);
                        continue;
                    }
                    argv.push(flag.clone());
                    let list = matches!(leaf.defs.get(key), Some(d) if matches!(d.ty, KType::Art { list: true, .. }));
                    argv.push(if list {
                        whole = true;
                        format!("{name}=@executor-input:{key}")
                    } else if flag == "--metrics" {
                        format!("{name}={}", input_path(key))
                    } else {
                        format!("{name}={}", param(key))
                    });
                }
                if check.is_none() {
                    argv.push("--output".into());
                    argv.push("value={{$.outputs.parameters['value'].output_file}}".into());
                }
                if whole {
                    argv.push("--executor-input".into());
                    argv.push("{{$}}".into());
                }
                Some(self.runtime_executor(argv.split_off(1)))
            }
        }
    }

    /// The container of the executor of leaf `l` when it runs a task of the plan (a container
    /// or built-in step), and its PlatformSpec entry.
    pub(super) fn container(&self, g: usize, l: usize) -> Option<(Container, Option<Json>)> {
        let leaf = &self.graphs[g].leaves[l];
        let LeafKind::Task(i) = leaf.kind else {
            return None;
        };
        let task = self.pipeline_plan(g).tasks.get(i)?;
        let (argv, image, env) = match &task.kind {
            TaskKind::Container {
                image,
                command,
                env,
                python,
            } => {
                let mut argv: Vec<String> = command
                    .iter()
                    .map(|parts| self.render_parts(g, leaf, parts, &task.id))
                    .collect();
                // flowc's Python runtime gives Kubeflow the metrics' numbers too.
                if python.is_some() && has_metrics(task) {
                    argv.extend(["--executor-input".into(), "{{$}}".into()]);
                }
                if let Some(input) = leaf.final_status.first() {
                    argv = final_status::adapt(input, argv);
                    self.final_status_in_env(g, leaf, task, env);
                }
                let env: Vec<(String, String)> = env
                    .iter()
                    .map(|(k, parts)| (k.clone(), self.render_parts(g, leaf, parts, &task.id)))
                    .collect();
                (argv, image.clone(), env)
            }
            TaskKind::Builtin { module, name } => (
                self.builtin_argv(leaf, task, module, name),
                self.runtime_image(),
                Vec::new(),
            ),
            TaskKind::Pipeline { .. } => return None,
        };
        let container = Container {
            image,
            argv,
            env,
            resources: resources(&task.settings.resources),
        };
        let platform = self.platform(g, task, &leaf.secret_names);
        Some((container, platform))
    }

    /// The executor of a task gathering a list of artifacts into one folder (`flowc exec
    /// --gather`), and its PlatformSpec entry.
    fn gather_executor(&self) -> (Json, Option<Json>) {
        let args = [
            "exec",
            "--gather",
            "--input",
            "items=@executor-input:items",
            "--executor-input",
            "{{$}}",
            "--output",
            "folder={{$.outputs.artifacts['folder'].path}}",
        ];
        self.runtime_executor(args.map(String::from).to_vec())
    }

    /// An executor running `flowc ARGS` in the runtime image (a helper task: an evaluation, a
    /// check, a no-value marker, a gathering), with the version label as its PlatformSpec entry.
    fn runtime_executor(&self, args: Vec<String>) -> (Json, Option<Json>) {
        let container = obj([
            ("image", json!(self.runtime_image())),
            ("command", json!(["flowc"])),
            ("args", json!(args)),
        ]);
        let platform = self.pod_metadata().map(|m| json!({ "podMetadata": m }));
        (obj([("container", container)]), platform)
    }

    /// The pods' metadata: the version label, and the build values (`--set`) as the
    /// annotation `flowc.dev/build-values` (a JSON object), so a pod says what it was built
    /// with.
    fn pod_metadata(&self) -> Option<Json> {
        let mut m = Map::new();
        if let Some(v) = &self.version {
            m.insert("labels".into(), json!({ VERSION_LABEL: v }));
        }
        if !self.plan.build_values.is_empty() {
            let values = serde_json::to_string(&self.plan.build_values).unwrap_or_default();
            m.insert(
                "annotations".into(),
                json!({ crate::BUILD_VALUES_ANNOTATION: values }),
            );
        }
        (!m.is_empty()).then_some(Json::Object(m))
    }

    /// The signature of an evaluation or check: the types of the parameters, loop items and
    /// value outputs it reads.
    fn eval_signature(&self, g: usize, leaf: &Leaf) -> Json {
        let mut params = Map::new();
        let mut items = Map::new();
        let mut values = Map::new();
        for (flag, name, key) in &leaf.refs {
            if is_value_read(leaf, flag, key) {
                let mut ty = self.value_output_type(g, name).unwrap_or(TypeRepr::Unknown);
                // Gathered from loops the evaluation is not inside of: a list per loop.
                let task = name.split_once('.').map_or(name.as_str(), |(t, _)| t);
                for _ in 0..self.loops_outside(g, task, leaf.node) {
                    ty = TypeRepr::List { item: Box::new(ty) };
                }
                values.insert(name.clone(), serde_json::to_value(ty).unwrap_or_default());
            } else if flag == "--param" {
                let ty = self
                    .pipeline_plan(g)
                    .params
                    .iter()
                    .find(|p| p.name == *name)
                    .map(|p| p.ty.clone())
                    .unwrap_or(TypeRepr::Unknown);
                params.insert(name.clone(), serde_json::to_value(ty).unwrap_or_default());
            } else if flag == "--item" {
                let ty = name
                    .parse::<usize>()
                    .map_or(TypeRepr::Unknown, |l| self.item_repr(g, l));
                items.insert(name.clone(), serde_json::to_value(ty).unwrap_or_default());
            }
        }
        let mut signature = json!({"params": params, "items": items});
        if !values.is_empty() {
            signature["values"] = Json::Object(values);
        }
        signature
    }

    /// The type of the value output `TASK.OUTPUT` of a task of graph `g`.
    fn value_output_type(&self, g: usize, name: &str) -> Option<TypeRepr> {
        let (task, output) = name.split_once('.')?;
        let t = self.pipeline_plan(g).tasks.iter().find(|t| t.id == task)?;
        let o = t.outputs.iter().find(|o| o.name == output)?;
        Some(o.ty.clone())
    }

    /// `flowc exec --step <module>.<name> --signature JSON --param NAME=TEXT… --input NAME=PATH…
    /// --output NAME=PATH…`; an input that is a list of artifacts is read from the executor
    /// input (`--input NAME=@executor-input:NAME --executor-input {{$}}`), as KFP cannot give
    /// a list of artifacts as one path.
    fn builtin_argv(&self, leaf: &Leaf, task: &Task, module: &str, name: &str) -> Vec<String> {
        let used: Vec<&flowc_compiler::plan::TaskInput> = task
            .inputs
            .iter()
            .filter(|i| !leaf.skipped.contains_key(&i.name) && leaf.defs.contains_key(&i.name))
            .collect();
        let ty = |t: &TypeRepr| serde_json::to_value(t).unwrap_or_default();
        let mut params = Map::new();
        let mut inputs = Map::new();
        for i in &used {
            if i.ty.is_artifact() {
                inputs.insert(i.name.clone(), ty(&i.ty));
            } else {
                params.insert(i.name.clone(), ty(&i.ty));
            }
        }
        let outputs: Map<String, Json> = task
            .outputs
            .iter()
            .map(|o| (o.name.clone(), ty(&o.ty)))
            .collect();
        let mut argv = vec![
            "flowc".to_string(),
            "exec".into(),
            "--step".into(),
            format!("{module}.{name}"),
            "--signature".into(),
            json!({"params": params, "inputs": inputs, "outputs": outputs}).to_string(),
        ];
        let mut whole = false;
        for i in used.iter().filter(|i| !i.ty.is_artifact()) {
            argv.push("--param".into());
            argv.push(format!("{}={}", i.name, param(&i.name)));
        }
        for i in used.iter().filter(|i| i.ty.is_artifact()) {
            argv.push("--input".into());
            let list = matches!(leaf.defs.get(&i.name), Some(d) if matches!(d.ty, KType::Art { list: true, .. }));
            argv.push(if list {
                whole = true;
                format!("{}=@executor-input:{}", i.name, i.name)
            } else {
                format!("{}={}", i.name, input_path(&i.name))
            });
        }
        for o in &task.outputs {
            argv.push("--output".into());
            argv.push(format!("{}={}", o.name, output_path(&o.name)));
        }
        // The executor input also names the file that gives Kubeflow the metrics' numbers.
        if whole || has_metrics(task) {
            argv.push("--executor-input".into());
            argv.push("{{$}}".into());
        }
        argv
    }

    /// The directories to mount Secrets (or ConfigMaps) at, one per object: KFP mounts the
    /// whole object as a directory, so the file appears at the requested path when its name is
    /// the key, in a directory of its own (not one of `taken`); a whole object (no key) is
    /// mounted at its path. Mounts KFP cannot do are
    /// reported and left out.
    fn volumes(
        &self,
        g: usize,
        task: &Task,
        mounts: &[(String, String)],
        object: MountedObject,
        taken: &[(String, String)],
    ) -> Vec<(String, String)> {
        let table = if object.keyword == CONFIG.keyword {
            &self.plan.configs
        } else {
            &self.plan.secrets
        };
        let mut vols: Vec<(String, String)> = Vec::new();
        for (path, secret) in mounts {
            let Some(r) = table.get(secret) else {
                continue;
            };
            // The whole object (no key) is the directory itself.
            let (dir, file) = if r.is_whole() {
                (path.as_str(), "")
            } else {
                path.rsplit_once('/').unwrap_or(("", path))
            };
            let problem = if !r.is_whole() && file != r.key {
                Some(MountProblem::FileIsNotKey { dir, key: &r.key })
            } else if dir.is_empty() {
                Some(MountProblem::RootDirectory)
            } else if r.k8s_name.contains('.') {
                Some(MountProblem::DottedSecretName {
                    k8s_name: &r.k8s_name,
                })
            } else if vols
                .iter()
                .any(|(n, d)| (*n == secret_ident(r)) != (d == dir))
                || taken.iter().any(|(_, d)| d == dir)
            {
                Some(MountProblem::SharedDirectory)
            } else {
                None
            };
            if let Some(problem) = problem {
                let written = task.setting_spans.mounts.iter().find(|(p, _)| p == path);
                let at = self.place(Some(g), &task.id).at(written.map(|(_, s)| *s));
                self.report(diagnostics::kfp_secret_mount(
                    at, object, secret, path, problem,
                ));
                continue;
            }
            let ident = secret_ident(r);
            if !vols.iter().any(|(n, _)| *n == ident) {
                vols.push((ident, dir.to_string()));
            }
        }
        vols
    }

    /// Configs as environment variables (`configMapAsEnv`), one entry per ConfigMap.
    fn config_env(&self, s: &Settings) -> Option<Json> {
        let mut env: Vec<(String, Vec<Json>)> = Vec::new();
        for (var, config) in &s.config_env {
            let Some(r) = self.plan.configs.get(config) else {
                continue;
            };
            let entry = json!({"configMapKey": r.key, "envVar": var});
            match env.iter_mut().find(|(n, _)| *n == r.k8s_name) {
                Some((_, keys)) => keys.push(entry),
                None => env.push((r.k8s_name.clone(), vec![entry])),
            }
        }
        let list: Vec<Json> = env
            .into_iter()
            .map(|(name, keys)| {
                json!({
                    "configMapName": name,
                    "configMapNameParameter": {"runtimeValue": {"constant": name}},
                    "keyToEnv": keys,
                })
            })
            .collect();
        (!list.is_empty()).then_some(Json::Array(list))
    }

    /// The PlatformSpec entry of a task: secrets, node selector, tolerations, timeout and the
    /// version label. Fields at their defaults are left out, so that older backends, which
    /// reject unknown fields, accept the file (kubeflow/pipelines#12495).
    fn platform(&self, g: usize, task: &Task, names: &BTreeMap<String, String>) -> Option<Json> {
        let s = &task.settings;
        let mut m = Map::new();
        if let Some(ms) = s.timeout_ms {
            m.insert(
                "activeDeadlineSeconds".into(),
                json!(ms.div_ceil(1000).to_string()),
            );
        }
        let mut labels: BTreeMap<String, String> = s.node_selector.iter().cloned().collect();
        if let (Some(t), Some(n)) = (&s.resources.gpu_type, s.resources.gpu) {
            if n > 0 && !t.contains('/') {
                let label = self.opts.gpu_label.as_deref().unwrap_or(GPU_TYPE_LABEL);
                labels.entry(label.to_string()).or_insert_with(|| t.clone());
            }
        }
        if !labels.is_empty() {
            m.insert("nodeSelector".into(), json!({"labels": labels}));
        }
        if let Some(meta) = self.pod_metadata() {
            m.insert("podMetadata".into(), meta);
        }
        // Secrets as environment variables, one entry per Kubernetes Secret.
        let mut env: Vec<(String, Vec<Json>)> = Vec::new();
        for (var, secret) in &s.secret_env {
            let Some(r) = self.plan.secrets.get(secret) else {
                continue;
            };
            let entry = json!({"secretKey": r.key, "envVar": var});
            let ident = secret_ident(r);
            match env.iter_mut().find(|(n, _)| *n == ident) {
                Some((_, keys)) => keys.push(entry),
                None => env.push((ident, vec![entry])),
            }
        }
        if !env.is_empty() {
            let list: Vec<Json> = env
                .into_iter()
                .filter_map(|(ident, keys)| {
                    let mut e = secret_name_fields(&ident, names)?;
                    e.insert("keyToEnv".into(), Json::Array(keys));
                    Some(Json::Object(e))
                })
                .collect();
            if !list.is_empty() {
                m.insert("secretAsEnv".into(), Json::Array(list));
            }
        }
        // Secrets and configs as files: KFP mounts the whole object as a directory.
        let secret_vols = self.volumes(g, task, &s.secret_mounts, SECRET, &[]);
        let config_vols = self.volumes(g, task, &s.config_mounts, CONFIG, &secret_vols);
        if !secret_vols.is_empty() {
            let list: Vec<Json> = secret_vols
                .into_iter()
                .filter_map(|(ident, dir)| {
                    let mut e = secret_name_fields(&ident, names)?;
                    e.insert("mountPath".into(), json!(dir));
                    Some(Json::Object(e))
                })
                .collect();
            if !list.is_empty() {
                m.insert("secretAsVolume".into(), Json::Array(list));
            }
        }
        if !config_vols.is_empty() {
            let list: Vec<Json> = config_vols
                .into_iter()
                .map(|(name, dir)| {
                    json!({
                        "configMapName": name,
                        "configMapNameParameter": {"runtimeValue": {"constant": name}},
                        "mountPath": dir,
                    })
                })
                .collect();
            m.insert("configMapAsVolume".into(), Json::Array(list));
        }
        if let Some(list) = self.config_env(s) {
            m.insert("configMapAsEnv".into(), list);
        }
        if let Some(list) = self.pvc_mounts(g, task) {
            m.insert("pvcMount".into(), list);
        }
        if s.network_off {
            let at = self.place(Some(g), &task.id).at(task.setting_spans.network);
            self.report(diagnostics::network_off(
                at,
                "KFP",
                &task.step,
                "the step's pods",
            ));
        }
        if !s.tolerations.is_empty() {
            let list: Vec<Json> = s
                .tolerations
                .iter()
                .map(|t| {
                    let mut o = Map::new();
                    for (k, v) in t {
                        let key = if k == "toleration_seconds" {
                            "tolerationSeconds"
                        } else {
                            k.as_str()
                        };
                        o.insert(key.to_string(), json!(v));
                    }
                    Json::Object(o)
                })
                .collect();
            m.insert("tolerations".into(), Json::Array(list));
        }
        (!m.is_empty()).then_some(Json::Object(m))
    }
}

/// Whether `task` writes a `Metrics` output, whose numbers Kubeflow shows from the executor
/// output (`flowc exec` and the Python runtime write it when given the executor input).
fn has_metrics(task: &Task) -> bool {
    task.outputs
        .iter()
        .any(|o| matches!(o.ty, TypeRepr::Metrics { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(30_000), "30s");
        assert_eq!(duration(500), "0.500s");
        assert_eq!(duration(0), "0s");
    }

    #[test]
    fn resources_have_twins() {
        let r = ResourcesPlan {
            cpu_millis: Some(2000),
            memory_limit_bytes: Some(16 << 30),
            gpu: Some(1),
            ..ResourcesPlan::default()
        };
        let j = resources(&r).unwrap_or_default();
        assert_eq!(j["resourceCpuRequest"], "2");
        assert_eq!(j["cpuRequest"], 2);
        assert_eq!(j["resourceMemoryLimit"], "16Gi");
        assert_eq!(j["memoryLimit"], 17.179869184);
        assert_eq!(j["accelerator"]["count"], "1");
        assert_eq!(j["accelerator"]["resourceType"], "nvidia.com/gpu");
    }

    #[test]
    fn placeholders_are_appended_as_they_are_made() {
        let pushed = |field: &str, suffix: &str| {
            let mut s = String::from("x=");
            push_placeholder(&mut s, field, "in put", suffix);
            s
        };
        assert_eq!(
            pushed("inputs.parameters", ""),
            format!("x={}", param("in put"))
        );
        assert_eq!(
            pushed("inputs.artifacts", ".path"),
            format!("x={}", input_path("in put"))
        );
        assert_eq!(
            pushed("outputs.artifacts", ".path"),
            format!("x={}", output_path("in put"))
        );
        assert_eq!(
            pushed("outputs.parameters", ".output_file"),
            "x={{$.outputs.parameters['in put'].output_file}}"
        );
    }
}
