//! Properties of steps, profiles and pipeline `defaults`: checking and resolving them.
//!
//! One function reads a property list in any of the three places and returns the
//! [`ResolvedProps`] it sets, reporting bad units, unknown keys, duplicates, misplaced
//! properties and unknown secrets or profiles; each kind of property has its own method
//! (`image_prop`, `cache_prop`, `retries_prop`, `env_prop`, ...). Merging (step over profiles
//! over defaults) is done by the plan builder from these values. Secret and profile
//! declarations are checked in `secrets.rs` and `profiles.rs`.

use std::sync::Arc;

use crate::maps::IndexMap;

use super::image::image_problem;
use super::lower::StepSig;
use super::Checker;
use crate::diagnostics::{lints, names, ops, types, Code};
use crate::resolve::{DeclId, DeclKind, ModuleId};
use crate::source::FileId;
use crate::units;
use flowc_grammar::ast::{
    Backoff, CacheSetting, Expr, ExprKind, Ident, IntLit, Item, Prop, PropKind, Quantity, Record,
    Resources, Step, StrLit, StrPart,
};
use flowc_grammar::Span;

/// Caching of a step's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Never reuse results.
    Off,
    /// Reuse results with no expiry.
    On,
    /// Reuse results younger than this many milliseconds.
    Ttl(u64),
}

/// Resources of a step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceSpec {
    /// Whether `flowc autotune` sets the values (within `min` and `max`).
    pub auto: bool,
    /// CPU request in millicores.
    pub cpu_millis: Option<u64>,
    /// CPU limit in millicores.
    pub cpu_limit_millis: Option<u64>,
    /// Memory request in bytes.
    pub memory_bytes: Option<u64>,
    /// Memory limit in bytes.
    pub memory_limit_bytes: Option<u64>,
    /// Number of GPUs.
    pub gpu: Option<u64>,
    /// GPU resource or accelerator type.
    pub gpu_type: Option<String>,
    /// Lower bounds for `auto`.
    pub min: Option<Box<ResourceSpec>>,
    /// Upper bounds for `auto`.
    pub max: Option<Box<ResourceSpec>>,
}

/// Retries of a failed attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySpec {
    /// Retries after the first attempt.
    pub count: u32,
    /// Delay before the first retry, in milliseconds.
    pub backoff_ms: Option<u64>,
    /// Growth factor of the delay.
    pub factor: Option<f64>,
    /// Longest delay, in milliseconds.
    pub max_backoff_ms: Option<u64>,
    /// No retry starts once this many milliseconds have passed since the first attempt.
    pub within_ms: Option<u64>,
}

/// The value of an environment variable.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    /// A literal or interpolated string, in its parts (so that an escaped `\${` stays text).
    Text(Vec<StrPart>),
    /// The value of a parameter.
    Param(String),
    /// The value of a secret or a config (a ConfigMap's key), by reference.
    Secret(DeclId),
}

/// The properties one body sets.
#[derive(Clone, Debug, Default)]
pub struct ResolvedProps {
    /// `image`.
    pub image: Option<String>,
    /// `run`, as written.
    pub run: Option<RunList>,
    /// `python "module:function"`: the function the step calls instead of a `run` command.
    /// This and `resources` and `retries` are boxed: most steps set none of the three, and
    /// every step's properties sit in the model, a large part of the memory a check touches.
    pub python: Option<Box<super::python::PythonFunction>>,
    /// `use`, in order.
    pub uses: Vec<DeclId>,
    /// `cache`.
    pub cache: Option<CacheMode>,
    /// `resources`.
    pub resources: Option<Box<ResourceSpec>>,
    /// `retries`.
    pub retries: Option<Box<RetrySpec>>,
    /// `timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `env`, in order.
    pub env: IndexMap<String, EnvValue>,
    /// `mount secret at path` (a secret or a config).
    pub mounts: Vec<(DeclId, String)>,
    /// `node_selector`.
    pub node_selector: IndexMap<String, String>,
    /// `toleration`s.
    pub tolerations: Vec<IndexMap<String, String>>,
    /// `network on|off`.
    pub network: Option<bool>,
}

/// A step's `run` list as written: the declaration's own list, shared with the syntax tree
/// rather than copied into the model (a command of nine arguments was a tenth of the memory a
/// `flowc check` touched). It reads as the slice of its items.
#[derive(Clone)]
pub struct RunList(Arc<Expr>);

impl std::ops::Deref for RunList {
    type Target = [Expr];

    fn deref(&self) -> &[Expr] {
        match &self.0.kind {
            ExprKind::List(items) => items,
            _ => &[],
        }
    }
}

impl<'a> IntoIterator for &'a RunList {
    type Item = &'a Expr;
    type IntoIter = std::slice::Iter<'a, Expr>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl std::fmt::Debug for RunList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Where a property list is written.
pub(crate) enum Place<'a> {
    Step(&'a StepSig),
    Profile,
    Defaults,
    /// The `with { ... }` settings of one call of this step.
    Call(&'a StepSig),
}

const RESOURCE_KEYS: &[&str] = &[
    "cpu",
    "memory",
    "gpu",
    "gpu_type",
    "cpu_limit",
    "memory_limit",
];
const TOLERATION_KEYS: &[&str] = &["key", "operator", "value", "effect", "toleration_seconds"];

impl Checker<'_> {
    pub fn check_step_props(&mut self, decl: DeclId, step: &Step, sig: &StepSig) {
        let m = decl.module;
        let file = self.file(m);
        let resolved = self.props(m, &step.props, Place::Step(sig));
        if !step.builtin {
            self.step_prop_uses(file, step, &resolved);
        }
        self.out.props.insert(decl, resolved);
    }

    /// What a container step's properties say of its signature: unused parameters and outputs
    /// (W-codes), `run` beside `python`, and a missing `image` or `run`.
    fn step_prop_uses(&mut self, file: FileId, step: &Step, resolved: &ResolvedProps) {
        if let Some(run) = &resolved.run {
            let mut used: Vec<&str> = Vec::new();
            for e in run {
                super::expr::each_name(e, &mut |n| used.push(&n.name));
            }
            for v in resolved.env.values() {
                match v {
                    EnvValue::Param(p) => used.push(p),
                    EnvValue::Text(parts) => used.extend(parts.iter().filter_map(|p| match p {
                        StrPart::Var(v) => Some(v.name.as_str()),
                        StrPart::Text(_) | StrPart::Build(_) | StrPart::Path(_) => None,
                    })),
                    EnvValue::Secret(_) => {}
                }
            }
            for p in &step.params {
                if !used.contains(&p.name.name.as_str()) {
                    self.push(lints::unused_step_parameter(
                        file,
                        p.name.span,
                        &p.name.name,
                        &step.name.name,
                    ));
                }
            }
            for o in &step.outputs {
                if !used.contains(&o.name.name.as_str()) {
                    self.push(lints::unused_step_output(
                        file,
                        o.name.span,
                        &o.name.name,
                        &step.name.name,
                    ));
                }
            }
        }
        if let (Some(_), Some(py)) = (&resolved.run, &resolved.python) {
            let run_span = step
                .props
                .iter()
                .find(|p| matches!(p.kind, PropKind::Run(_)));
            self.push(ops::run_and_python(
                file,
                py.span,
                run_span.map_or(step.name.span, |p| p.span),
            ));
        }
        // An invalid `python` reference is its own error (E417), not a missing command.
        let writes_python = step
            .props
            .iter()
            .any(|p| matches!(p.kind, PropKind::Python(_)));
        let missing: Vec<&str> = [
            ("image", resolved.image.is_none()),
            ("run", resolved.run.is_none() && !writes_python),
        ]
        .iter()
        .filter(|(_, missing)| *missing)
        .map(|(k, _)| *k)
        .collect();
        if !missing.is_empty() {
            // A profile cannot give `image` or `run`, so the step itself must.
            self.push(ops::missing_image(
                file,
                step.name.span,
                &step.name.name,
                &missing,
            ));
        }
    }

    /// Checks a property list and returns what it sets.
    pub(crate) fn props(&mut self, m: ModuleId, props: &[Prop], place: Place<'_>) -> ResolvedProps {
        let file = self.file(m);
        let mut out = ResolvedProps::default();
        // A handful of keywords: a list is faster than a map.
        let mut seen: Vec<(&'static str, Span)> = Vec::with_capacity(props.len());
        for prop in props {
            let kw = prop.kind.keyword();
            let repeatable = matches!(
                prop.kind,
                PropKind::Env { .. }
                    | PropKind::Mount { .. }
                    | PropKind::Toleration(_)
                    | PropKind::Use(_)
            );
            if !repeatable {
                if let Some((_, prev)) = seen.iter().find(|(k, _)| *k == kw) {
                    self.push(ops::property_set_twice(file, prop.span, *prev, kw));
                    continue;
                }
                seen.push((kw, prop.span));
            }
            self.prop(m, prop, &place, &mut out);
        }
        out
    }

    /// Checks one property and records what it sets in `out`.
    fn prop(&mut self, m: ModuleId, prop: &Prop, place: &Place<'_>, out: &mut ResolvedProps) {
        let file = self.file(m);
        let builtin = matches!(place, Place::Step(s) if s.builtin);
        match &prop.kind {
            PropKind::Image(_) | PropKind::Run(_) | PropKind::Python(_)
                if !matches!(place, Place::Step(_)) || builtin =>
            {
                self.misplaced_image_or_run(file, prop, place)
            }
            PropKind::Image(s) => self.image_prop(m, s, out),
            PropKind::Run(e) => {
                if let Place::Step(sig) = place {
                    out.run = self.run_list(m, e, sig);
                }
            }
            PropKind::Python(s) => self.python_prop(file, s, out),
            PropKind::Use(names) => self.use_prop(m, names, out),
            PropKind::Cache(c) => self.cache_prop(m, c, out),
            PropKind::Resources(r) => out.resources = Some(Box::new(self.resources(m, r))),
            PropKind::Retries {
                count,
                backoff,
                within,
            } => self.retries_prop(m, count, (backoff.as_deref(), within.as_ref()), out),
            PropKind::Timeout(q) => match units::duration_millis(q) {
                Ok(0) => self.push(ops::zero_timeout(file, q.span)),
                Ok(ms) => out.timeout_ms = Some(ms),
                Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
            },
            PropKind::Env { name, value } => self.env_prop(m, name, value, place, out),
            PropKind::Mount { secret, path } => self.mount_prop(m, secret, path, out),
            PropKind::NodeSelector(r) => self.node_selector_prop(file, r, out),
            PropKind::Toleration(r) => out.tolerations.push(self.toleration(m, r)),
            PropKind::Network(on) => out.network = Some(*on),
        }
    }

    /// `image` or `run` where there is no container: in a built-in step, a profile or defaults.
    fn misplaced_image_or_run(&mut self, file: FileId, prop: &Prop, place: &Place<'_>) {
        let kw = prop.kind.keyword();
        let (where_, help) = match place {
            Place::Step(_) => (
                "a built-in step",
                "built-in steps run inside flowc; remove it",
            ),
            Place::Profile => ("a profile", "set the image and command on each step"),
            Place::Defaults => (
                "pipeline defaults",
                "set the image and command on each step",
            ),
            Place::Call(_) => (
                "the settings of a call",
                "the image and command belong to the step: declare another step for another image",
            ),
        };
        self.push(ops::misplaced_property(file, prop.span, kw, where_, help));
    }

    /// `image`: not empty, a valid image reference (E416), and pinned to a version (W005).
    /// Build variables are checked with their defaults (or a stand-in name), and again with
    /// their values when the plan is built.
    fn image_prop(&mut self, m: ModuleId, s: &StrLit, out: &mut ResolvedProps) {
        let file = self.file(m);
        self.build_refs(m, s);
        let image = super::build_vars::substitute_borrowed(s, |name| {
            self.out
                .build_vars
                .get(name)
                .and_then(|d| d.default.clone())
                .unwrap_or_else(|| "x0".to_string())
        });
        if image.trim().is_empty() {
            self.push(ops::empty_image(file, s.span));
        } else if let Some(problem) = image_problem(&image) {
            self.push(ops::invalid_image(file, s.span, &image, problem));
        } else if s.build_vars().next().is_none() {
            let last = image.rsplit('/').next().unwrap_or(&image);
            let tag = if image.contains('@') {
                Some("digest")
            } else {
                last.split_once(':').map(|(_, t)| t)
            };
            if tag.is_none() || tag == Some("latest") {
                self.push(lints::unpinned_image(file, s.span, &image, tag.is_some()));
            }
        }
        out.image = Some(s.value.clone());
    }

    /// `use`: the profiles a step or profile builds on.
    fn use_prop(&mut self, m: ModuleId, names: &[Ident], out: &mut ResolvedProps) {
        for n in names {
            if let Some(e) = self.lookup_kind(
                m,
                &n.name,
                n.span,
                &[DeclKind::Profile],
                Code::UnknownProfile,
                "a profile",
            ) {
                out.uses.push(e.decl);
            }
        }
    }

    /// `cache`: off, on, or a time to live longer than zero.
    fn cache_prop(&mut self, m: ModuleId, c: &CacheSetting, out: &mut ResolvedProps) {
        let file = self.file(m);
        out.cache = Some(match c {
            CacheSetting::Off => CacheMode::Off,
            CacheSetting::On => CacheMode::On,
            CacheSetting::Ttl(q) => match units::duration_millis(q) {
                Ok(ms) if ms > 0 => CacheMode::Ttl(ms),
                Ok(_) => {
                    self.push(ops::zero_cache_ttl(file, q.span));
                    CacheMode::Off
                }
                Err(e) => {
                    self.unit_error(m, Code::InvalidDuration, q.span, e);
                    CacheMode::On
                }
            },
        });
    }

    /// `retries`: a count from 0 to 100 and an optional backoff.
    fn retries_prop(
        &mut self,
        m: ModuleId,
        count: &IntLit,
        (backoff, within): (Option<&Backoff>, Option<&Quantity>),
        out: &mut ResolvedProps,
    ) {
        let file = self.file(m);
        if !(0..=100).contains(&count.value) {
            self.push(ops::retries_out_of_range(file, count.span, count.value));
        }
        let mut spec = RetrySpec {
            count: count.value.clamp(0, 100) as u32,
            backoff_ms: None,
            factor: None,
            max_backoff_ms: None,
            within_ms: None,
        };
        if let Some(q) = within {
            match units::duration_millis(q) {
                Ok(0) => self.push(ops::zero_retry_window(file, q.span)),
                Ok(ms) => spec.within_ms = Some(ms),
                Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
            }
        }
        if let Some(b) = backoff {
            match units::duration_millis(&b.delay) {
                Ok(ms) => spec.backoff_ms = Some(ms),
                Err(e) => self.unit_error(m, Code::InvalidDuration, b.delay.span, e),
            }
            if let Some((f, s)) = b.factor {
                if !(1.0..=10.0).contains(&f) {
                    self.push(ops::backoff_factor_out_of_range(file, s, f));
                }
                spec.factor = Some(f);
            }
            if let Some(q) = &b.max {
                match units::duration_millis(q) {
                    Ok(ms) => {
                        if spec.backoff_ms.is_some_and(|d| d > ms) {
                            self.push(ops::backoff_max_below_initial(file, q.span));
                        }
                        spec.max_backoff_ms = Some(ms)
                    }
                    Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
                }
            }
        }
        out.retries = Some(Box::new(spec));
    }

    /// `env NAME = value`: a name the runners do not set, set once, from an allowed value.
    fn env_prop(
        &mut self,
        m: ModuleId,
        name: &Ident,
        value: &Expr,
        place: &Place<'_>,
        out: &mut ResolvedProps,
    ) {
        let file = self.file(m);
        // The grammar only admits identifiers; what remains to refuse are the
        // names the runtimes set themselves.
        let reserved = name.name.starts_with("FLOWC_")
            || name.name.starts_with("ARGO_")
            || name.name.starts_with("KFP_")
            || matches!(name.name.as_str(), "PATH" | "HOME" | "HOSTNAME");
        if reserved {
            self.push(ops::reserved_env_name(file, name.span, &name.name));
        }
        if out.env.contains_key(&name.name) {
            self.push(ops::value_set_twice(
                file,
                name.span,
                &format!("environment variable `{}`", name.name),
            ));
            return;
        }
        if let Some(v) = self.env_value(m, value, place) {
            out.env.insert(name.name.clone(), v);
        }
    }

    /// `mount SECRET at "/path"`: a known secret, config or volume at an absolute path (a
    /// volume's is a folder).
    fn mount_prop(&mut self, m: ModuleId, secret: &Ident, path: &StrLit, out: &mut ResolvedProps) {
        let file = self.file(m);
        let entry = self.lookup_kind(
            m,
            &secret.name,
            secret.span,
            &[DeclKind::Secret, DeclKind::Config, DeclKind::Volume],
            Code::UnknownSecret,
            "a secret, config or volume",
        );
        if !path.value.starts_with('/') || path.value.contains("..") || path.value.ends_with('/') {
            self.push(ops::mount_path_not_absolute(file, path.span, &path.value));
        }
        if let Some(e) = entry {
            out.mounts.push((e.decl, path.value.clone()));
        }
    }

    /// `node_selector { key: "value" }`: valid Kubernetes labels.
    fn node_selector_prop(&mut self, file: FileId, r: &Record, out: &mut ResolvedProps) {
        for f in &r.fields {
            match &f.value.kind {
                ExprKind::Str(s) => {
                    if !label_ok(&f.key.name, true) || !label_ok(&s.value, false) {
                        self.push(ops::invalid_node_label(file, f.span, &f.key.name, &s.value));
                    }
                    out.node_selector
                        .insert(f.key.name.clone(), s.value.clone());
                }
                _ => self.push(ops::node_label_not_string(file, f.value.span)),
            }
        }
    }

    pub(crate) fn unit_error(&mut self, m: ModuleId, code: Code, span: Span, e: units::UnitError) {
        let file = self.file(m);
        self.push(ops::invalid_quantity(code, file, span, e));
    }

    fn run_list(&mut self, m: ModuleId, e: &Arc<Expr>, sig: &StepSig) -> Option<RunList> {
        let file = self.file(m);
        let ExprKind::List(items) = &e.kind else {
            self.push(types::run_not_a_list(file, e.span));
            return None;
        };
        if items.is_empty() {
            self.push(ops::empty_run(file, e.span));
        }
        let names: Vec<&str> = sig
            .params
            .iter()
            .chain(&sig.outputs)
            .map(|p| p.name.as_str())
            .collect();
        for item in items {
            match &item.kind {
                ExprKind::Str(s) => {
                    for p in s.paths() {
                        let (name, span) = joined(p);
                        self.step_name(m, &name, span, &names);
                    }
                    self.build_refs(m, s);
                }
                ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => {}
                ExprKind::Path(p) if p.len() == 1 => {
                    self.step_name(m, &p[0].name, p[0].span, &names)
                }
                _ => self.push(types::invalid_command_argument(file, item.span)),
            }
        }
        Some(RunList(Arc::clone(e)))
    }

    fn step_name(&mut self, m: ModuleId, name: &str, span: Span, names: &[&str]) {
        if !names.contains(&name) {
            let file = self.file(m);
            if self
                .program
                .module(m)
                .scope
                .get(name)
                .is_some_and(|e| e.kind == DeclKind::Secret)
            {
                self.lookup(m, name);
                self.push(ops::secret_in_command(file, span, name));
                return;
            }
            self.push(names::unknown_step_name(file, span, name, names));
        }
    }

    fn env_value(&mut self, m: ModuleId, value: &Expr, place: &Place<'_>) -> Option<EnvValue> {
        let file = self.file(m);
        let params: Vec<&str> = match place {
            Place::Step(sig) | Place::Call(sig) => sig
                .params
                .iter()
                .filter(|p| !p.ty.is_artifact())
                .map(|p| p.name.as_str())
                .collect(),
            _ => Vec::new(),
        };
        match &value.kind {
            ExprKind::Str(s) => {
                for p in s.paths() {
                    let (name, span) = joined(p);
                    if !params.contains(&name.as_str()) {
                        self.push(names::unknown_step_parameter(file, span, &name, &params));
                    }
                }
                self.build_refs(m, s);
                Some(EnvValue::Text(s.parts.to_vec()))
            }
            ExprKind::Int(n) => Some(EnvValue::Text(vec![StrPart::Text(n.to_string())])),
            ExprKind::Float(f) => Some(EnvValue::Text(vec![StrPart::Text(f.to_string())])),
            ExprKind::Bool(b) => Some(EnvValue::Text(vec![StrPart::Text(b.to_string())])),
            ExprKind::Path(p) if p.len() == 1 => {
                let name = &p[0];
                if params.contains(&name.name.as_str()) {
                    return Some(EnvValue::Param(name.name.clone()));
                }
                if let Place::Step(sig) | Place::Call(sig) = place {
                    if sig
                        .params
                        .iter()
                        .chain(&sig.outputs)
                        .any(|q| q.name == name.name)
                    {
                        self.push(types::artifact_in_env(file, name.span, &name.name));
                        return None;
                    }
                }
                let mut cands = self.names_of_kind(m, &[DeclKind::Secret, DeclKind::Config]);
                cands.extend(params.iter().map(|s| s.to_string()));
                match self.lookup(m, &name.name) {
                    Some(e) if matches!(e.kind, DeclKind::Secret | DeclKind::Config) => {
                        if let Item::Secret(s) = self.item(e.decl) {
                            if s.whole() {
                                let keyword = s.kind.keyword();
                                self.push(ops::whole_object_in_env(
                                    file, name.span, &name.name, keyword,
                                ));
                                return None;
                            }
                        }
                        Some(EnvValue::Secret(e.decl))
                    }
                    Some(e) => {
                        self.push(names::env_from_wrong_kind(
                            file,
                            name.span,
                            &name.name,
                            e.kind.a(),
                        ));
                        None
                    }
                    None => {
                        self.push(names::unknown_secret(file, name.span, &name.name, &cands));
                        None
                    }
                }
            }
            _ => {
                self.push(types::invalid_env_value(file, value.span));
                None
            }
        }
    }

    fn resources(&mut self, m: ModuleId, r: &Resources) -> ResourceSpec {
        let file = self.file(m);
        match r {
            Resources::Fixed(rec) => self.resource_record(m, rec),
            Resources::Auto { span, bounds } => {
                let mut spec = ResourceSpec {
                    auto: true,
                    ..ResourceSpec::default()
                };
                for (name, rec) in bounds {
                    let b = self.resource_record(m, rec);
                    match name.name.as_str() {
                        "min" => spec.min = Some(Box::new(b)),
                        "max" => spec.max = Some(Box::new(b)),
                        other => self.push(ops::unknown_auto_bound(file, name.span, other)),
                    }
                }
                if let (Some(lo), Some(hi)) = (&spec.min, &spec.max) {
                    let pairs = [
                        ("cpu", lo.cpu_millis, hi.cpu_millis),
                        ("memory", lo.memory_bytes, hi.memory_bytes),
                        ("gpu", lo.gpu, hi.gpu),
                    ];
                    for (k, a, b) in pairs {
                        if let (Some(a), Some(b)) = (a, b) {
                            if a > b {
                                self.push(ops::auto_min_above_max(file, *span, k));
                            }
                        }
                    }
                }
                spec
            }
        }
    }

    fn resource_record(&mut self, m: ModuleId, rec: &Record) -> ResourceSpec {
        let file = self.file(m);
        let mut spec = ResourceSpec::default();
        let mut seen: Vec<&str> = Vec::new();
        for f in &rec.fields {
            let key = f.key.name.as_str();
            if seen.contains(&key) {
                self.push(ops::value_set_twice(file, f.key.span, &format!("`{key}`")));
                continue;
            }
            seen.push(key);
            match key {
                "cpu" | "cpu_limit" => match units::cpu_millis(&f.value) {
                    Ok(v) => {
                        if key == "cpu" {
                            spec.cpu_millis = Some(v)
                        } else {
                            spec.cpu_limit_millis = Some(v)
                        }
                    }
                    Err(e) => self.unit_error(m, Code::InvalidCpu, f.value.span, e),
                },
                "memory" | "memory_limit" => {
                    let v = match &f.value.kind {
                        ExprKind::Quantity(q) => units::memory_bytes(q),
                        ExprKind::Int(n) => Err(units::UnitError {
                            message: format!("memory `{n}` has no unit"),
                            help: format!("write `{n}Mi` for {n} mebibytes; a bare number is not accepted because it would mean bytes"),
                        }),
                        _ => Err(units::UnitError {
                            message: "memory must be a quantity such as `512Mi`".into(),
                            help: "write memory with a unit: Ki, Mi, Gi, Ti, k, M, G or T".into(),
                        }),
                    };
                    match v {
                        Ok(v) => {
                            if key == "memory" {
                                spec.memory_bytes = Some(v)
                            } else {
                                spec.memory_limit_bytes = Some(v)
                            }
                        }
                        Err(e) => self.unit_error(m, Code::InvalidMemory, f.value.span, e),
                    }
                }
                "gpu" => match f.value.kind {
                    ExprKind::Int(n) if (0..=64).contains(&n) => spec.gpu = Some(n as u64),
                    _ => self.push(ops::gpu_not_whole(file, f.value.span)),
                },
                "gpu_type" => match &f.value.kind {
                    ExprKind::Str(s) if !s.value.is_empty() => {
                        spec.gpu_type = Some(s.value.clone())
                    }
                    _ => self.push(ops::gpu_type_not_string(file, f.value.span)),
                },
                other => self.push(ops::unknown_resource(
                    file,
                    f.key.span,
                    other,
                    RESOURCE_KEYS,
                )),
            }
        }
        if spec.gpu_type.is_some() && spec.gpu.is_none() {
            self.push(ops::gpu_type_without_gpu(file, rec.span));
        }
        let pairs = [
            ("cpu", spec.cpu_millis, spec.cpu_limit_millis),
            ("memory", spec.memory_bytes, spec.memory_limit_bytes),
        ];
        for (k, req, lim) in pairs {
            if let (Some(r), Some(l)) = (req, lim) {
                if r > l {
                    self.push(ops::request_above_limit(file, rec.span, k));
                }
            }
        }
        spec
    }

    fn toleration(&mut self, m: ModuleId, r: &Record) -> IndexMap<String, String> {
        let file = self.file(m);
        let mut out = IndexMap::default();
        for f in &r.fields {
            let key = f.key.name.as_str();
            if !TOLERATION_KEYS.contains(&key) {
                self.push(ops::unknown_toleration_field(
                    file,
                    f.key.span,
                    key,
                    TOLERATION_KEYS,
                ));
                continue;
            }
            let value = match &f.value.kind {
                ExprKind::Str(s) => s.value.clone(),
                ExprKind::Int(n) if key == "toleration_seconds" => n.to_string(),
                _ => {
                    self.push(ops::toleration_not_string(file, f.value.span, key));
                    continue;
                }
            };
            let allowed: &[&str] = match key {
                "operator" => &["Exists", "Equal"],
                "effect" => &["NoSchedule", "PreferNoSchedule", "NoExecute"],
                _ => &[],
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                self.push(ops::invalid_toleration_value(
                    file,
                    f.value.span,
                    key,
                    &value,
                    allowed,
                ));
            }
            out.insert(key.to_string(), value);
        }
        if out.get("operator").map(String::as_str) == Some("Exists") && out.contains_key("value") {
            self.push(ops::toleration_exists_with_value(file, r.span));
        }
        if !out.contains_key("key") && out.get("operator").map(String::as_str) != Some("Exists") {
            self.push(ops::toleration_without_key(file, r.span));
        }
        out
    }
}

fn label_ok(s: &str, is_key: bool) -> bool {
    let name = if is_key {
        match s.rsplit_once('/') {
            Some((prefix, name)) => {
                if prefix.is_empty() || prefix.len() > 253 {
                    return false;
                }
                name
            }
            None => s,
        }
    } else {
        s
    };
    if name.is_empty() {
        return !is_key;
    }
    name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

impl Checker<'_> {
    /// `python "module:function"`: records the function, or reports E417.
    pub(super) fn python_prop(
        &mut self,
        file: FileId,
        s: &flowc_grammar::ast::StrLit,
        out: &mut ResolvedProps,
    ) {
        match super::python::parse_reference(&s.value) {
            Ok((module, function)) => {
                out.python = Some(Box::new(super::python::PythonFunction {
                    module,
                    function,
                    span: s.span,
                }))
            }
            Err(why) => self.push(ops::invalid_python_function(file, s.span, &s.value, why)),
        }
    }
}

/// An interpolated path as written (`a.b`) and where: a step's strings name parameters, so a
/// dotted path there is no parameter of the step.
fn joined(p: &[Ident]) -> (String, Span) {
    let name = p
        .iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".");
    let span = match (p.first(), p.last()) {
        (Some(a), Some(b)) => Span::new(a.span.start as usize, b.span.end as usize),
        _ => Span::new(0, 0),
    };
    (name, span)
}
