//! Lowering a checked program to a [`Plan`].
//!
//! Properties are merged here (a call's own `with { ... }` settings over the step's own, over
//! its profiles, in `use` order with later profiles winning, over the pipeline's `defaults`; `env`, mounts, node selectors and resources
//! merge key by key, tolerations add up), command templates are resolved to parameter values and
//! artifact paths, conditions of `if` branches become explicit conjunctions, and every task gets
//! the hash of its definition for cache keys.

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use sha2::{Digest, Sha256};

use super::canonical;
use super::spans;
use super::*;
use crate::build_values::BuildValues;
use crate::check::build_vars::substitute;
use crate::check::layers::layered_props;
use crate::check::visible_sites;
use crate::check::{
    CacheMode, CallNode, EnvValue, Frame, PipelineInfo, ResolvedProps, ResourceSpec, StepSig,
};
use crate::resolve::DeclId;
use crate::types::{Schema, Ty};
use crate::Analysis;
use flowc_grammar::ast::{BinOp, Expr, ExprKind, Item, SecretKind, StrPart};

/// Why no plan could be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// The program has errors; build a plan only from a clean check.
    HasErrors,
    /// The root file declares no pipeline.
    NoPipeline,
    /// No pipeline has the requested name; the names that exist.
    UnknownPipeline(String, Vec<String>),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::HasErrors => f.write_str("the program has errors"),
            PlanError::NoPipeline => f.write_str("the file declares no pipeline"),
            PlanError::UnknownPipeline(p, names) => {
                write!(f, "no pipeline `{p}`; the file has: {}", names.join(", "))
            }
        }
    }
}

/// Resources set by `flowc autotune` for one step (read from the lock file by the caller).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TunedResources {
    /// CPU request, millicores.
    pub cpu_millis: Option<u64>,
    /// Memory request and limit, bytes.
    pub memory_bytes: Option<u64>,
    /// GPUs.
    pub gpu: Option<u64>,
    /// The retry rule for an attempt killed for memory.
    pub memory_retry: Option<super::MemoryRetry>,
    /// The input-size rule.
    pub memory_scaling: Option<super::MemoryScaling>,
}

/// Tuned resources by (pipeline, step).
pub type Tuned = std::collections::BTreeMap<(String, String), TunedResources>;

/// Builds the plan of `pipeline` (or the last pipeline of the first root file).
pub fn build_plan(
    a: &Analysis,
    pipeline: Option<&str>,
    version: Option<&str>,
) -> Result<Plan, PlanError> {
    build_plan_tuned(a, pipeline, version, &Tuned::new())
}

/// Builds a plan in which steps marked `resources auto(...)` take the values in `tuned`,
/// within their bounds; values written in the source always win. Build variables take
/// their defaults.
pub fn build_plan_tuned(
    a: &Analysis,
    pipeline: Option<&str>,
    version: Option<&str>,
    tuned: &Tuned,
) -> Result<Plan, PlanError> {
    let defaults: BuildValues = a
        .checked
        .build_vars
        .iter()
        .filter_map(|(n, d)| Some((n.clone(), d.default.clone()?)))
        .collect();
    build_plan_with(a, pipeline, version, tuned, &defaults)
}

/// Builds a plan with tuned resources and the values of the build variables (from
/// [`crate::build_values::resolve`]).
pub fn build_plan_with(
    a: &Analysis,
    pipeline: Option<&str>,
    version: Option<&str>,
    tuned: &Tuned,
    build: &BuildValues,
) -> Result<Plan, PlanError> {
    if a.has_errors() {
        return Err(PlanError::HasErrors);
    }
    let root = *a.program.roots.first().ok_or(PlanError::NoPipeline)?;
    let module = a.program.module(root);
    let pipelines: Vec<(u32, String)> = module
        .ast
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it {
            Item::Pipeline(p) => Some((i as u32, p.name.name.clone())),
            _ => None,
        })
        .collect();
    let (item, _) = match pipeline {
        Some(name) => pipelines.iter().find(|(_, n)| n == name).ok_or_else(|| {
            PlanError::UnknownPipeline(
                name.to_string(),
                pipelines.iter().map(|(_, n)| n.clone()).collect(),
            )
        })?,
        None => pipelines.last().ok_or(PlanError::NoPipeline)?,
    };
    let entry = DeclId {
        module: root,
        item: *item,
    };
    let mut b = Builder {
        a,
        names: HashMap::new(),
        plans: IndexMap::new(),
        secrets: IndexMap::new(),
        configs: IndexMap::new(),
        volumes: IndexMap::new(),
        tuned,
        build,
        scratch: Vec::new(),
    };
    let entry_name = b.pipeline(entry);
    // The `.flow` sources (the modules), not other files the analysis shows, such as the
    // Python source of a Python step, whose name is a path of this machine.
    let mut h = Sha256::new();
    for m in &a.program.modules {
        // A module made of a foreign file: the file's own text too, byte for byte.
        let foreign = m.foreign.as_ref().map(|f| f.file);
        for file in std::iter::once(m.file).chain(foreign) {
            let f = a.program.sources.get(file);
            h.update(f.name().as_bytes());
            h.update([0]);
            h.update(f.text.as_bytes());
            h.update([0]);
        }
    }
    let mut secrets = b.secrets;
    secrets.sort_keys();
    let mut configs = b.configs;
    configs.sort_keys();
    let mut volumes = b.volumes;
    volumes.sort_keys();
    Ok(Plan {
        format: FORMAT.to_string(),
        version: VERSION,
        flowc_version: env!("CARGO_PKG_VERSION").to_string(),
        entry: entry_name,
        pipeline_version: version.map(str::to_string),
        source_sha256: lower_hex(&h.finalize()),
        pipelines: b.plans,
        secrets,
        build_values: build.clone(),
        configs,
        volumes,
    })
}

struct Builder<'a> {
    a: &'a Analysis,
    /// Plan names given to pipeline declarations.
    names: HashMap<DeclId, String>,
    plans: IndexMap<String, PipelinePlan>,
    secrets: IndexMap<String, SecretRef>,
    configs: IndexMap<String, SecretRef>,
    volumes: IndexMap<String, VolumeRef>,
    tuned: &'a Tuned,
    build: &'a BuildValues,
    /// A buffer for the JSON text of task definitions as they are hashed.
    scratch: Vec<u8>,
}

/// Converts a checked type to its plan form.
pub(crate) fn type_repr(t: &Ty) -> TypeRepr {
    let cols = |s: &Schema| {
        s.columns
            .iter()
            .map(|(n, c)| ColumnRepr {
                name: n.clone(),
                ty: c.ty.as_str().to_string(),
                nullable: c.nullable,
            })
            .collect()
    };
    match t {
        Ty::Scalar(s) => TypeRepr::Scalar {
            name: s.as_str().to_string(),
        },
        Ty::List(i) => TypeRepr::List {
            item: Box::new(type_repr(i)),
        },
        Ty::Optional(i) => TypeRepr::Optional {
            inner: Box::new(type_repr(i)),
        },
        Ty::File => TypeRepr::Artifact {
            name: "File".into(),
        },
        Ty::Dir => TypeRepr::Artifact { name: "Dir".into() },
        Ty::Model => TypeRepr::Artifact {
            name: "Model".into(),
        },
        Ty::Json => TypeRepr::Artifact {
            name: "Json".into(),
        },
        Ty::Metrics(keys) => TypeRepr::Metrics {
            keys: keys.as_deref().map(cols).unwrap_or_default(),
        },
        Ty::Record(fields) => TypeRepr::Record {
            fields: fields
                .iter()
                .map(|(n, t)| FieldRepr {
                    name: n.clone(),
                    ty: type_repr(t),
                })
                .collect(),
        },
        Ty::Table(tpl) => match tpl.as_fixed() {
            Some(s) => TypeRepr::Table {
                schema: s.name.clone(),
                columns: cols(s),
            },
            None => TypeRepr::Unknown,
        },
        Ty::Columns(_) | Ty::Column(_) => TypeRepr::Columns,
        Ty::None | Ty::Error => TypeRepr::Unknown,
    }
}

fn literal(e: &Expr, build: &BuildValues) -> Option<serde_json::Value> {
    Some(match &e.kind {
        ExprKind::Int(n) => serde_json::json!(n),
        ExprKind::Float(f) => serde_json::json!(f),
        ExprKind::Bool(b) => serde_json::json!(b),
        ExprKind::None => serde_json::Value::Null,
        ExprKind::Str(s) if s.build_vars().next().is_some() && s.vars().next().is_none() => {
            serde_json::json!(substitute(s, |n| build_value(build, n)))
        }
        ExprKind::Str(s) if s.vars().next().is_none() => serde_json::json!(s.value),
        ExprKind::List(items) => serde_json::Value::Array(
            items
                .iter()
                .map(|i| literal(i, build))
                .collect::<Option<Vec<_>>>()?,
        ),
        ExprKind::Record(r) => serde_json::Value::Object(
            r.fields
                .iter()
                .map(|f| Some((f.key.name.clone(), literal(&f.value, build)?)))
                .collect::<Option<serde_json::Map<_, _>>>()?,
        ),
        ExprKind::Paren(i) => literal(i, build)?,
        ExprKind::Call { func, args } if func.name == "flatten" => match args.as_slice() {
            [arg] => flatten_literal(literal(arg, build)?)?,
            _ => return None,
        },
        _ => return None,
    })
}

/// `flatten` of a literal list of lists: the inner lists' items in order.
fn flatten_literal(v: serde_json::Value) -> Option<serde_json::Value> {
    let serde_json::Value::Array(lists) = v else {
        return None;
    };
    let mut items = Vec::new();
    for list in lists {
        let serde_json::Value::Array(inner) = list else {
            return None;
        };
        items.extend(inner);
    }
    Some(serde_json::Value::Array(items))
}

/// The value of build variable `name` (every read one has a value once the values are
/// resolved; an unresolved one stays as written).
fn build_value(build: &BuildValues, name: &str) -> String {
    build
        .get(name)
        .cloned()
        .unwrap_or_else(|| format!("${{build.{name}}}"))
}

/// `image` with its build variables replaced by their values. An image cannot hold `$`
/// otherwise (E416), so every `${build.name}` in it is a read.
fn image_with(image: &str, build: &BuildValues) -> String {
    let mut out = image.to_string();
    for (name, value) in build {
        out = out.replace(&format!("${{build.{name}}}"), value);
    }
    out
}

fn resources_plan(r: &ResourceSpec) -> ResourcesPlan {
    ResourcesPlan {
        auto: r.auto,
        cpu_millis: r.cpu_millis,
        cpu_limit_millis: r.cpu_limit_millis,
        memory_bytes: r.memory_bytes,
        memory_limit_bytes: r.memory_limit_bytes,
        gpu: r.gpu,
        gpu_type: r.gpu_type.clone(),
        min: r.min.as_deref().map(|m| Box::new(resources_plan(m))),
        max: r.max.as_deref().map(|m| Box::new(resources_plan(m))),
        tuned: false,
        memory_retry: None,
        memory_scaling: None,
    }
}

/// Applies tuned values to `auto` resources, clamped to their bounds.
fn apply_tuned(r: &mut ResourcesPlan, t: &TunedResources) {
    let clamp = |v: u64, lo: Option<u64>, hi: Option<u64>| {
        v.max(lo.unwrap_or(0)).min(hi.unwrap_or(u64::MAX))
    };
    let (min, max) = (
        r.min.as_deref().cloned().unwrap_or_default(),
        r.max.as_deref().cloned().unwrap_or_default(),
    );
    if let Some(m) = t.memory_bytes {
        let m = clamp(m, min.memory_bytes, max.memory_bytes);
        r.memory_bytes = Some(m);
        r.memory_limit_bytes = Some(m);
        r.memory_retry = t.memory_retry;
        r.memory_scaling = t.memory_scaling;
    }
    if let Some(c) = t.cpu_millis {
        r.cpu_millis = Some(clamp(c, min.cpu_millis, max.cpu_millis));
    }
    if let Some(g) = t.gpu {
        r.gpu = Some(clamp(g, min.gpu, max.gpu));
    }
    r.tuned = true;
}

impl<'a> Builder<'a> {
    fn decl_name(&self, d: DeclId) -> String {
        self.a
            .program
            .item(d)
            .name()
            .map(|n| n.name.clone())
            .unwrap_or_default()
    }

    fn settings(
        &mut self,
        defaults: &ResolvedProps,
        step: Option<DeclId>,
        call: &ResolvedProps,
    ) -> (ResolvedProps, Settings) {
        let props = layered_props(&self.a.checked.props, defaults, step, call);
        let mut s = Settings {
            cache: match props.cache {
                Some(CacheMode::On) => CachePlan::On,
                Some(CacheMode::Ttl(ms)) => CachePlan::Ttl { ttl_ms: ms },
                Some(CacheMode::Off) => CachePlan::Off,
                // Caching is on by default, as in Kubeflow Pipelines.
                None => CachePlan::On,
            },
            resources: props
                .resources
                .as_deref()
                .map(resources_plan)
                .unwrap_or_default(),
            retries: props.retries.as_ref().map_or(0, |r| r.count),
            backoff_ms: props.retries.as_ref().and_then(|r| r.backoff_ms),
            backoff_factor: props.retries.as_ref().and_then(|r| r.factor),
            backoff_max_ms: props.retries.as_ref().and_then(|r| r.max_backoff_ms),
            retry_within_ms: props.retries.as_ref().and_then(|r| r.within_ms),
            timeout_ms: props.timeout_ms,
            node_selector: props
                .node_selector
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tolerations: props
                .tolerations
                .iter()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .collect(),
            ..Settings::default()
        };
        for (var, v) in &props.env {
            if let EnvValue::Secret(d) = v {
                match self.secret(*d) {
                    (name, SecretKind::Secret) => s.secret_env.push((var.clone(), name)),
                    (name, SecretKind::Config) => s.config_env.push((var.clone(), name)),
                    (_, SecretKind::Volume) => {}
                }
            }
        }
        for (d, path) in &props.mounts {
            match self.secret(*d) {
                (name, SecretKind::Secret) => s.secret_mounts.push((path.clone(), name)),
                (name, SecretKind::Config) => s.config_mounts.push((path.clone(), name)),
                (name, SecretKind::Volume) => s.volume_mounts.push((path.clone(), name)),
            }
        }
        s.network_off = props.network == Some(false);
        // A claim created for the run holds this run's state, which a cache hit would not
        // restore: a step that mounts one is never cached.
        if s.volume_mounts
            .iter()
            .any(|(_, v)| self.volumes.get(v).is_some_and(|r| r.created()))
        {
            s.cache = CachePlan::Off;
        }
        (props, s)
    }

    /// A secret's (or config's) name in the plan, recorded in the plan's secrets (or configs).
    fn secret(&mut self, d: DeclId) -> (String, SecretKind) {
        let Item::Secret(s) = self.a.program.item(d) else {
            return (String::new(), SecretKind::Secret);
        };
        let name = s.name.name.clone();
        let table = match s.kind {
            SecretKind::Secret => &mut self.secrets,
            SecretKind::Config => &mut self.configs,
            SecretKind::Volume => {
                let (v, _) = crate::check::volumes::volume_ref(s);
                self.volumes.entry(name.clone()).or_insert(VolumeRef {
                    claim: v.claim,
                    size: v.size,
                    storage_class: v.storage_class,
                    access: v.access,
                });
                return (name, s.kind);
            }
        };
        table.entry(name.clone()).or_insert(SecretRef {
            k8s_name: s.k8s_name.value.clone(),
            key: s.key.value.clone(),
            name_param: s.name_param.as_ref().map(|p| p.name.clone()),
        });
        (name, s.kind)
    }

    /// Lowers a pipeline (and, first, the pipelines it calls); returns its plan name.
    fn pipeline(&mut self, decl: DeclId) -> String {
        if let Some(n) = self.names.get(&decl) {
            return n.clone();
        }
        let base = self.decl_name(decl);
        let mut name = base.clone();
        let mut k = 2;
        while self.plans.contains_key(&name) || self.names.values().any(|v| *v == name) {
            name = format!("{base}-{k}");
            k += 1;
        }
        self.names.insert(decl, name.clone());
        // Reserve the slot so the entry comes first.
        let Some(info) = self.a.checked.pipelines.get(&decl) else {
            return name;
        };
        let placeholder = PipelinePlan {
            name: name.clone(),
            description: None,
            params: Vec::new(),
            tasks: Vec::new(),
            loops: Vec::new(),
            outputs: Vec::new(),
            checks: Vec::new(),
            schedule: None,
            parallelism: None,
            span: None,
        };
        self.plans.insert(name.clone(), placeholder);
        let plan = self.lower_pipeline(decl, info, &name);
        self.plans.insert(name.clone(), plan);
        name
    }

    fn lower_pipeline(&mut self, decl: DeclId, info: &PipelineInfo, name: &str) -> PipelinePlan {
        let a = self.a;
        let file = a.program.file(decl.module);
        let src: &str = &a.program.sources.get(file).text;
        let start = self.a.program.item(decl).span().start;
        let description = flowc_grammar::doc::doc_comment(
            &self.a.program.module(decl.module).ast.comments,
            src,
            start,
        )
        .map(|doc| flowc_grammar::doc::one_line(&doc));
        let ids = task_ids(info);
        let scope = Scope {
            info,
            ids: &ids,
            build: self.build,
            defaults_spans: spans::defaults_spans(self.a, decl, &info.defaults),
        };
        // Sized at once: a task is several hundred bytes, and a vector grown by doubling
        // touches twice the memory.
        let mut tasks = Vec::with_capacity(info.plan_order.len());
        tasks.extend(
            (info.plan_order.iter()).filter_map(|&i| self.lower_task(decl, name, &scope, i)),
        );
        let params = info
            .sig
            .params
            .iter()
            .map(|p| PlanParam {
                name: p.name.clone(),
                ty: type_repr(&p.ty),
                default: p.default.as_ref().and_then(|e| literal(e, self.build)),
            })
            .collect();
        let outputs = info
            .outputs
            .iter()
            .map(|o| PlanOutput {
                name: o.name.name.clone(),
                ty: type_repr(&o.ty),
                value: scope.value(&o.value, &[]),
                span: spans::in_decl(self.a, decl, o.name.span),
            })
            .collect();
        let name_span = match self.a.program.item(decl) {
            Item::Pipeline(p) => spans::in_decl(self.a, decl, p.name.span),
            _ => None,
        };
        PipelinePlan {
            name: name.to_string(),
            description,
            params,
            tasks,
            loops: self.lower_loops(decl, &scope),
            outputs,
            checks: self.lower_checks(decl, &scope, src),
            schedule: info.schedule.as_ref().map(|(cron, tz)| Schedule {
                cron: cron.clone(),
                timezone: tz.clone(),
                concurrency: info.schedule_options.concurrency.clone(),
                succeeded_history: info.schedule_options.succeeded_history,
                failed_history: info.schedule_options.failed_history,
                starting_deadline_ms: info.schedule_options.starting_deadline_ms,
                span: spans::schedule(self.a, decl),
            }),
            parallelism: info.parallelism,
            span: name_span,
        }
    }

    /// The task of call `i` of the pipeline, or None when its callee did not check.
    fn lower_task(
        &mut self,
        decl: DeclId,
        name: &str,
        scope: &Scope<'_>,
        i: usize,
    ) -> Option<Task> {
        let info = scope.info;
        let node = &info.nodes[i];
        let callee = node.callee?;
        let a = self.a;
        let (sig, kind_seed): (&StepSig, Option<DeclId>) = if node.callee_is_pipeline {
            (&a.checked.pipelines.get(&callee)?.sig, None)
        } else {
            (a.checked.steps.get(&callee)?, Some(callee))
        };
        let (props, mut settings) = self.settings(&info.defaults, kind_seed, &node.settings);
        if settings.resources.auto {
            if let Some(t) = self.tuned.get(&(name.to_string(), sig.name.clone())) {
                apply_tuned(&mut settings.resources, t);
            }
        }
        let frames = &node.frames;
        let outputs: Vec<TaskOutput> = node
            .outputs
            .iter()
            .map(|(n, t)| TaskOutput {
                name: n.clone(),
                ty: type_repr(t),
            })
            .collect();
        let inputs = task_inputs(node, sig, scope);
        let kind = if node.callee_is_pipeline {
            TaskKind::Pipeline {
                pipeline: self.pipeline(callee),
            }
        } else if sig.builtin {
            self.builtin_kind(callee, sig)
        } else {
            container_kind(&props, sig, (&inputs, &outputs), self.build)
        };
        let mut task = Task {
            id: scope.ids[i].clone(),
            step: sig.name.clone(),
            kind,
            inputs,
            outputs,
            data_deps: node
                .data_deps
                .iter()
                .map(|d| scope.ids[*d].clone())
                .collect(),
            after: node
                .after_deps
                .iter()
                .map(|d| scope.ids[*d].clone())
                .collect(),
            loops: loop_ids(frames),
            when: conditions(scope, frames),
            is_finally: node.is_finally,
            settings,
            definition_sha256: String::new(),
            span: spans::in_decl(self.a, decl, node.call.span),
            setting_spans: spans::setting_spans(
                self.a,
                decl,
                &scope.defaults_spans,
                kind_seed,
                node,
            ),
        };
        let foreign = self.foreign_text(callee);
        task.definition_sha256 = definition_hash(&task, foreign, &mut self.scratch);
        Some(task)
    }

    /// The text of the foreign file a step was imported from (`import kfp "FILE"`), which its
    /// cache key covers: a change to the component file is a change to the step.
    fn foreign_text(&self, callee: DeclId) -> Option<&'a str> {
        let foreign = self.a.program.module(callee.module).foreign.as_ref()?;
        Some(&self.a.program.sources.get(foreign.file).text)
    }

    /// A built-in step's kind: its standard-library module (or file) and name.
    fn builtin_kind(&self, callee: DeclId, sig: &StepSig) -> TaskKind {
        let origin = &self
            .a
            .program
            .sources
            .get(self.a.program.file(callee.module))
            .origin;
        let module = match origin {
            crate::source::Origin::Std(m) => m.clone(),
            crate::source::Origin::File(p) | crate::source::Origin::Imported(p) => {
                p.to_string_lossy().into_owned()
            }
        };
        TaskKind::Builtin {
            module,
            name: sig.name.clone(),
        }
    }

    /// The pipeline's loops, in the order the checker numbered them.
    fn lower_loops(&self, decl: DeclId, scope: &Scope<'_>) -> Vec<LoopPlan> {
        scope
            .info
            .loops
            .iter()
            .map(|l| LoopPlan {
                var: l.var.name.clone(),
                items: scope.value(&l.iter, &l.frames),
                parallel: l.parallel.and_then(|p| u32::try_from(p).ok()),
                parents: loop_ids(&l.frames),
                span: spans::in_decl(self.a, decl, l.iter.span),
            })
            .collect()
    }

    /// The pipeline's checks, with the conditions and loops around each.
    fn lower_checks(&self, decl: DeclId, scope: &Scope<'_>, src: &str) -> Vec<PlanCheck> {
        scope
            .info
            .checks
            .iter()
            .map(|(e, frames)| PlanCheck {
                condition: scope.value(e, frames),
                source: crate::fmt::expr_text(src, e),
                when: conditions(scope, frames),
                loops: loop_ids(frames),
                span: spans::in_decl(self.a, decl, e.span),
            })
            .collect()
    }
}

/// Task ids: the binding's name (or the callee's), with `-2`, `-3` … for repeats.
/// The ids given so far are kept in a set too: a search of the list for each call made a
/// 10,000-step pipeline quadratic.
fn task_ids(info: &PipelineInfo) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(info.nodes.len());
    let mut given: HashSet<String> = HashSet::with_capacity(info.nodes.len());
    for n in &info.nodes {
        let base = n
            .name
            .as_ref()
            .map_or(n.call.callee.name.clone(), |x| x.name.clone());
        let mut id = base.clone();
        let mut k = 2;
        while given.contains(&id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        given.insert(id.clone());
        ids.push(id);
    }
    ids
}

/// The loops enclosing a statement, outermost first.
fn loop_ids(frames: &[Frame]) -> Vec<usize> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::For { id } => Some(*id),
            _ => None,
        })
        .collect()
}

/// A container step's kind: image, command and environment (secrets are settings). A Python
/// step's command calls its function through the runtime with the call's inputs and outputs.
/// Build variables take their values.
fn container_kind(
    props: &ResolvedProps,
    sig: &StepSig,
    (inputs, outputs): (&[TaskInput], &[TaskOutput]),
    build: &BuildValues,
) -> TaskKind {
    let python = props.python.as_ref().map(|f| python::PythonCall {
        module: f.module.clone(),
        function: f.function.clone(),
    });
    let command = match &python {
        Some(call) => python::command(call, inputs, outputs),
        None => props
            .run
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(|e| command_parts(e, sig, build))
            .collect(),
    };
    let env = props
        .env
        .iter()
        .filter_map(|(k, v)| match v {
            EnvValue::Text(parts) => Some((k.clone(), str_parts(parts, sig, build))),
            EnvValue::Param(p) => Some((k.clone(), vec![Part::Param { name: p.clone() }])),
            EnvValue::Secret(_) => None,
        })
        .collect();
    TaskKind::Container {
        image: image_with(props.image.as_deref().unwrap_or_default(), build),
        command,
        env,
        python,
    }
}

/// The inputs of a call: every parameter of the callee, given or defaulted.
fn task_inputs(node: &CallNode, sig: &StepSig, scope: &Scope<'_>) -> Vec<TaskInput> {
    // Sized at once: an input is about 150 bytes, and a vector grown from empty holds four.
    let mut inputs = Vec::with_capacity(sig.params.len());
    for p in &sig.params {
        let arg = node.call.args.iter().find(|a| a.name.name == p.name);
        let ty = node
            .arg_types
            .get(&p.name)
            .filter(|t| !t.is_error())
            .unwrap_or(&p.ty);
        let columns = matches!(p.ty.strip_optional(), Ty::Columns(_) | Ty::Column(_));
        let value = match arg {
            None => Value::Literal {
                value: p
                    .default
                    .as_ref()
                    .and_then(|e| literal(e, scope.build))
                    .unwrap_or(serde_json::Value::Null),
            },
            Some(a) if columns => column_value(&a.value),
            Some(a) => scope.value(&a.value, &node.frames),
        };
        // The argument's type (schema variables substituted), optional when the
        // parameter is: a given value does not make the parameter required.
        let mut ty = type_repr(if columns { &p.ty } else { ty });
        if matches!(p.ty, Ty::Optional(_)) && !matches!(ty, TypeRepr::Optional { .. }) {
            ty = TypeRepr::Optional {
                inner: Box::new(ty),
            };
        }
        inputs.push(TaskInput {
            name: p.name.clone(),
            ty,
            value,
        });
    }
    inputs
}

struct Scope<'a> {
    info: &'a PipelineInfo,
    ids: &'a [String],
    build: &'a BuildValues,
    /// Where the pipeline's `defaults` were written (see [`spans::defaults_spans`]).
    defaults_spans: spans::SettingSpans,
}

impl Scope<'_> {
    fn value(&self, e: &Expr, frames: &[Frame]) -> Value {
        if let Some(v) = literal(e, self.build) {
            return Value::Literal { value: v };
        }
        match &e.kind {
            ExprKind::Str(s) => Value::Template {
                parts: s
                    .parts
                    .iter()
                    .map(|p| match p {
                        StrPart::Text(t) => Part::Text { text: t.clone() },
                        StrPart::Var(v) => Part::Value {
                            value: Box::new(self.path(std::slice::from_ref(v), frames)),
                        },
                        StrPart::Path(p) => Part::Value {
                            value: Box::new(self.path(p, frames)),
                        },
                        StrPart::Build(v) => Part::Text {
                            text: build_value(self.build, &v.name),
                        },
                    })
                    .collect(),
            },
            ExprKind::List(items) => Value::List {
                items: items.iter().map(|i| self.value(i, frames)).collect(),
            },
            ExprKind::Path(p) => self.path(p, frames),
            ExprKind::Paren(i) => self.value(i, frames),
            ExprKind::Call { func, args } => Value::Op {
                op: func.name.clone(),
                args: args.iter().map(|a| self.value(a, frames)).collect(),
            },
            ExprKind::Not { count, expr } => {
                let mut v = self.value(expr, frames);
                for _ in 0..(*count % 2) {
                    v = Value::Op {
                        op: "not".into(),
                        args: vec![v],
                    };
                }
                v
            }
            ExprKind::Chain { first, rest } => {
                let mut v = self.value(first, frames);
                for (op, _, e) in rest {
                    let op = match op {
                        BinOp::Or => "or",
                        BinOp::And => "and",
                        BinOp::Add => "+",
                        BinOp::Sub => "-",
                    };
                    v = Value::Op {
                        op: op.into(),
                        args: vec![v, self.value(e, frames)],
                    };
                }
                v
            }
            ExprKind::Compare { lhs, op, rhs, .. } => Value::Op {
                op: op.as_str().into(),
                args: vec![self.value(lhs, frames), self.value(rhs, frames)],
            },
            _ => Value::Literal {
                value: serde_json::Value::Null,
            },
        }
    }

    fn path(&self, path: &[flowc_grammar::ast::Ident], frames: &[Frame]) -> Value {
        let Some(first) = path.first() else {
            return Value::Literal {
                value: serde_json::Value::Null,
            };
        };
        for f in frames.iter().rev() {
            if let Frame::For { id } = f {
                if self.info.loops[*id].var.name == first.name {
                    let is_record = self.info.loops[*id]
                        .elem
                        .as_ref()
                        .is_some_and(|t| matches!(t.strip_optional(), Ty::Record(_)));
                    return record_field(Value::LoopItem { r#loop: *id }, path, is_record);
                }
            }
        }
        if let Some(p) = self.info.sig.params.iter().find(|p| p.name == first.name) {
            let is_record = matches!(p.ty.strip_optional(), Ty::Record(_));
            let v = Value::Param {
                name: first.name.clone(),
            };
            return record_field(v, path, is_record);
        }
        let Some(sites) = self.info.bindings.get(&first.name) else {
            // `run.status` or `run.name` in a `finally` call (the checker allows no other).
            if let (true, Some(field)) = (first.name == "run", path.get(1)) {
                return Value::Run {
                    field: field.name.clone(),
                };
            }
            return Value::Literal {
                value: serde_json::Value::Null,
            };
        };
        // The site the checker typed this reference by: its own branch's, when the name is
        // bound in several branches of an `if` the reference sits in.
        let seen = visible_sites(sites, &self.info.nodes, frames);
        let node_i = seen.first().map_or(sites[0].node, |s| s.node);
        let node = &self.info.nodes[node_i];
        let k = node
            .frames
            .iter()
            .zip(frames)
            .take_while(|(a, b)| a == b)
            .count();
        let collected = node.frames[k..]
            .iter()
            .any(|f| matches!(f, Frame::For { .. }));
        let task = self.ids[node_i].clone();
        let primary = node
            .outputs
            .first()
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        match path.get(1) {
            None => Value::Output {
                task,
                output: primary,
                collected,
            },
            Some(m) if node.outputs.iter().any(|(n, _)| *n == m.name) => match path.get(2) {
                Some(key) => Value::Metric {
                    task,
                    output: m.name.clone(),
                    key: key.name.clone(),
                },
                None => Value::Output {
                    task,
                    output: m.name.clone(),
                    collected,
                },
            },
            Some(key) => Value::Metric {
                task,
                output: primary,
                key: key.name.clone(),
            },
        }
    }
}

/// `v` itself, or the field `path[1..]` of it when `v` is a record and the path reads one.
fn record_field(v: Value, path: &[flowc_grammar::ast::Ident], is_record: bool) -> Value {
    if !is_record || path.len() < 2 {
        return v;
    }
    Value::Field {
        record: Box::new(v),
        path: path[1..].iter().map(|i| i.name.clone()).collect(),
    }
}

/// The conjunction of conditions under which a task in `frames` runs.
fn conditions(scope: &Scope<'_>, frames: &[Frame]) -> Vec<Value> {
    let mut out = Vec::new();
    for f in frames {
        let Frame::If { chain, branch } = f else {
            continue;
        };
        let info = &scope.info.ifs[*chain];
        let outer = &info.frames;
        for (b, c) in info.conditions.iter().enumerate().take(*branch + 1) {
            let Some(c) = c else { continue };
            let v = scope.value(c, outer);
            if b == *branch {
                out.push(v);
            } else {
                out.push(Value::Op {
                    op: "not".into(),
                    args: vec![v],
                });
            }
        }
    }
    out
}

fn column_value(e: &Expr) -> Value {
    let name = |e: &Expr| match &e.kind {
        ExprKind::Path(p) if p.len() == 1 => Some(serde_json::json!(p[0].name)),
        ExprKind::Str(s) => Some(serde_json::json!(s.value)),
        _ => None,
    };
    match &e.kind {
        ExprKind::List(items) => Value::Literal {
            value: serde_json::Value::Array(items.iter().filter_map(name).collect()),
        },
        _ => match name(e) {
            Some(v) => Value::Literal { value: v },
            None => Value::Literal {
                value: serde_json::Value::Null,
            },
        },
    }
}

/// A part referring to step parameter or output `name`.
fn name_part(name: &str, sig: &StepSig) -> Part {
    if let Some(p) = sig.params.iter().find(|p| p.name == name) {
        if p.ty.is_artifact() {
            return Part::InputPath {
                name: name.to_string(),
            };
        }
        return Part::Param {
            name: name.to_string(),
        };
    }
    Part::OutputPath {
        name: name.to_string(),
    }
}

/// The parts of a string written in a step: text, and interpolated names as parameters or paths.
fn str_parts(parts: &[StrPart], sig: &StepSig, build: &BuildValues) -> Vec<Part> {
    parts
        .iter()
        .map(|p| match p {
            StrPart::Text(t) => Part::Text { text: t.clone() },
            StrPart::Var(v) => name_part(&v.name, sig),
            // Refused by the checker: a step's strings name its parameters.
            StrPart::Path(_) => Part::Text {
                text: String::new(),
            },
            StrPart::Build(v) => Part::Text {
                text: build_value(build, &v.name),
            },
        })
        .collect()
}

fn command_parts(e: &Expr, sig: &StepSig, build: &BuildValues) -> Vec<Part> {
    match &e.kind {
        ExprKind::Str(s) => str_parts(&s.parts, sig, build),
        ExprKind::Path(p) if p.len() == 1 => vec![name_part(&p[0].name, sig)],
        ExprKind::Int(n) => vec![Part::Text {
            text: n.to_string(),
        }],
        ExprKind::Float(_) => vec![Part::Text {
            text: literal(e, build).map(|v| v.to_string()).unwrap_or_default(),
        }],
        ExprKind::Bool(b) => vec![Part::Text {
            text: b.to_string(),
        }],
        _ => Vec::new(),
    }
}

/// The hash of what determines a task's results: what runs, how its inputs and outputs are
/// typed, and the flowc version for built-ins. Resources, retries and timeouts do not change
/// results and stay out, so tuning them never invalidates the cache.
/// A step imported from a foreign file adds the file's text (`foreign`).
/// The bytes hashed are gathered in `scratch`, one buffer for every task, and hashed at once;
/// values are in their compact JSON text (see [`canonical`]).
fn definition_hash(t: &Task, foreign: Option<&str>, scratch: &mut Vec<u8>) -> String {
    scratch.clear();
    if let Some(text) = foreign {
        scratch.extend_from_slice(b"foreign:");
        scratch.extend_from_slice(text.as_bytes());
    }
    canonical::write_kind(&t.kind, scratch);
    if matches!(t.kind, TaskKind::Builtin { .. }) {
        scratch.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    }
    for i in &t.inputs {
        scratch.extend_from_slice(i.name.as_bytes());
        canonical::write_type(&i.ty, scratch);
    }
    for o in &t.outputs {
        scratch.extend_from_slice(o.name.as_bytes());
        canonical::write_type(&o.ty, scratch);
    }
    let s = &t.settings;
    hash_pairs(scratch, "env:", &s.secret_env);
    hash_pairs(scratch, "mount:", &s.secret_mounts);
    hash_pairs(scratch, "config-env:", &s.config_env);
    hash_pairs(scratch, "config-mount:", &s.config_mounts);
    hash_pairs(scratch, "volume-mount:", &s.volume_mounts);
    lower_hex(&Sha256::digest(&scratch[..]))
}

/// `bytes` in lowercase hex, two digits a byte (what `format!("{:x}")` writes of a digest),
/// in one string of its length: the formatter writes a digest a digit pair at a time into a
/// growing string, about 700 instructions for each of a build's thousand hashes.
fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(2 * bytes.len());
    for b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex
}

/// Appends `<label><key>=<value>` for each pair (a setting that changes what a task sees).
fn hash_pairs(scratch: &mut Vec<u8>, label: &str, pairs: &[(String, String)]) {
    for (k, v) in pairs {
        scratch.extend_from_slice(label.as_bytes());
        scratch.extend_from_slice(k.as_bytes());
        scratch.push(b'=');
        scratch.extend_from_slice(v.as_bytes());
    }
}

#[cfg(test)]
mod hex_tests {
    use super::lower_hex;
    use sha2::{Digest, Sha256};

    /// The digits are those the formatter writes of a digest.
    #[test]
    fn lower_hex_is_the_formatters() {
        for text in ["", "abc", "a task's definition \u{7f}"] {
            let digest = Sha256::digest(text.as_bytes());
            assert_eq!(lower_hex(&digest), format!("{digest:x}"));
        }
        assert_eq!(lower_hex(&[0x00, 0x0f, 0xf0, 0xff, 0x9a]), "000ff0ff9a");
    }
}
