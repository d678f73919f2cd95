//! Properties of steps, profiles and pipeline `defaults`: checking and resolving them.
//!
//! One function reads a property list in any of the three places and returns the
//! [`ResolvedProps`] it sets, reporting bad units, unknown keys, duplicates, misplaced
//! properties and unknown secrets or profiles. Merging (step over profiles over defaults) is
//! done by the plan builder from these values.

use indexmap::IndexMap;

use super::lower::StepSig;
use super::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use crate::resolve::{DeclId, DeclKind, ModuleId};
use crate::suggest::did_you_mean;
use crate::units;
use flowc_grammar::ast::{
    CacheSetting, Expr, ExprKind, Item, Profile, Prop, PropKind, Record, Resources, Secret, Step,
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
}

/// The value of an environment variable.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvValue {
    /// A literal or interpolated string (interpolations left as `${name}`).
    Text(String),
    /// The value of a parameter.
    Param(String),
    /// The value of a secret, by reference.
    Secret(DeclId),
}

/// The properties one body sets.
#[derive(Clone, Debug, Default)]
pub struct ResolvedProps {
    /// `image`.
    pub image: Option<String>,
    /// `run`, as written.
    pub run: Option<Vec<Expr>>,
    /// `use`, in order.
    pub uses: Vec<DeclId>,
    /// `cache`.
    pub cache: Option<CacheMode>,
    /// `resources`.
    pub resources: Option<ResourceSpec>,
    /// `retries`.
    pub retries: Option<RetrySpec>,
    /// `timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `env`, in order.
    pub env: IndexMap<String, EnvValue>,
    /// `mount secret at path`.
    pub mounts: Vec<(DeclId, String)>,
    /// `node_selector`.
    pub node_selector: IndexMap<String, String>,
    /// `toleration`s.
    pub tolerations: Vec<IndexMap<String, String>>,
}

/// Where a property list is written.
pub(crate) enum Place<'a> {
    Step(&'a StepSig),
    Profile,
    Defaults,
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

impl Ctx<'_> {
    pub fn check_secret(&mut self, m: ModuleId, s: &Secret) {
        let file = self.file(m);
        let valid = |v: &str| {
            !v.is_empty()
                && v.len() <= 253
                && v.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
                && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.ends_with(|c: char| c.is_ascii_alphanumeric())
        };
        if !valid(&s.k8s_name.value) {
            self.push(
                Diagnostic::new(
                    Code::InvalidMount,
                    format!("`{}` is not a valid Kubernetes Secret name", s.k8s_name.value),
                    file,
                    s.k8s_name.span,
                    "not a DNS-1123 subdomain",
                )
                .with_help("use lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit"),
            );
        }
        if s.key.value.is_empty()
            || !s
                .key
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
        {
            self.push(
                Diagnostic::new(
                    Code::InvalidMount,
                    format!("`{}` is not a valid Secret key", s.key.value),
                    file,
                    s.key.span,
                    "keys use letters, digits, `-`, `_` and `.`",
                )
                .with_help("use the key exactly as it appears in the Kubernetes Secret"),
            );
        }
    }

    pub fn check_profile(&mut self, m: ModuleId, p: &Profile) {
        let decl = self
            .program
            .module(m)
            .scope
            .get(&p.name.name)
            .map(|e| e.decl);
        let resolved = self.props(m, &p.props, Place::Profile);
        if let Some(decl) = decl {
            self.out.props.insert(decl, resolved);
            let mut path = vec![decl];
            self.profile_cycle(decl, &mut path);
        }
    }

    /// Reports a `use` cycle through `decl`, once, at the profile that closes it.
    fn profile_cycle(&mut self, decl: DeclId, path: &mut Vec<DeclId>) {
        let Item::Profile(p) = self.item(decl) else {
            return;
        };
        for prop in &p.props {
            let PropKind::Use(names) = &prop.kind else {
                continue;
            };
            for n in names {
                let Some(e) = self.program.module(decl.module).scope.get(&n.name).cloned() else {
                    continue;
                };
                if e.kind != DeclKind::Profile {
                    continue;
                }
                // Report a cycle once, from its smallest declaration.
                if e.decl == path[0] && path.iter().all(|d| *d >= path[0]) {
                    let names: Vec<String> = path
                        .iter()
                        .map(|d| {
                            self.item(*d)
                                .name()
                                .map(|n| n.name.clone())
                                .unwrap_or_default()
                        })
                        .collect();
                    let file = self.file(decl.module);
                    self.push(
                        Diagnostic::new(
                            Code::ProfileCycle,
                            format!("profile `{}` uses itself", names[0]),
                            file,
                            n.span,
                            "this `use` closes the cycle",
                        )
                        .with_note(format!("the cycle: {} → {}", names.join(" → "), names[0]))
                        .with_help("remove one `use` of the cycle"),
                    );
                    return;
                }
                if path.contains(&e.decl) || path.len() > 64 {
                    continue;
                }
                path.push(e.decl);
                self.profile_cycle(e.decl, path);
                path.pop();
            }
        }
    }

    pub fn check_step_props(&mut self, decl: DeclId, step: &Step, sig: &StepSig) {
        let m = decl.module;
        let file = self.file(m);
        let resolved = self.props(m, &step.props, Place::Step(sig));
        self.out.props.insert(decl, resolved.clone());
        if step.builtin {
            return;
        }
        if let Some(run) = &resolved.run {
            let mut used: Vec<String> = Vec::new();
            for e in run {
                let mut names = Vec::new();
                super::pipeline::expr_names(e, &mut names);
                used.extend(names.into_iter().map(|n| n.name));
            }
            for v in resolved.env.values() {
                match v {
                    EnvValue::Param(p) => used.push(p.clone()),
                    EnvValue::Text(t) => used.extend(
                        t.split("${")
                            .skip(1)
                            .filter_map(|r| r.split_once('}'))
                            .map(|(n, _)| n.to_string()),
                    ),
                    EnvValue::Secret(_) => {}
                }
            }
            for p in &step.params {
                if !used.contains(&p.name.name) {
                    self.push(
                        Diagnostic::new(
                            Code::UnusedParameter,
                            format!(
                                "parameter `{}` of step `{}` is never used",
                                p.name.name, step.name.name
                            ),
                            file,
                            p.name.span,
                            "not passed to the command or the environment",
                        )
                        .with_help(format!(
                            "pass it in `run`, as `{}` or `\"${{{}}}\"`, or remove it",
                            p.name.name, p.name.name
                        )),
                    );
                }
            }
            for o in &step.outputs {
                if !used.contains(&o.name.name) {
                    self.push(
                        Diagnostic::new(
                            Code::UnusedParameter,
                            format!(
                                "output `{}` of step `{}` is never passed to the command",
                                o.name.name, step.name.name
                            ),
                            file,
                            o.name.span,
                            "the command cannot know where to write it",
                        )
                        .with_help(format!(
                            "pass its path in `run`, as `{}` or `\"--out=${{{}}}\"`",
                            o.name.name, o.name.name
                        )),
                    );
                }
            }
        }
        let missing: Vec<&str> = [
            ("image", resolved.image.is_none()),
            ("run", resolved.run.is_none()),
        ]
        .iter()
        .filter(|(_, missing)| *missing)
        .map(|(k, _)| *k)
        .collect();
        if !missing.is_empty() {
            // A profile cannot give `image` or `run`, so the step itself must.
            self.push(
                Diagnostic::new(
                    Code::MissingImage,
                    format!("container step `{}` has no `{}`", step.name.name, missing.join("` and no `")),
                    file,
                    step.name.span,
                    "a container step needs an image and a command",
                )
                .with_help("add `image \"registry/name:tag\"` and `run [\"command\", \"arg\"]` to the step's body"),
            );
        }
    }

    /// Checks a property list and returns what it sets.
    pub(crate) fn props(&mut self, m: ModuleId, props: &[Prop], place: Place<'_>) -> ResolvedProps {
        let file = self.file(m);
        let mut out = ResolvedProps::default();
        let mut seen: IndexMap<&'static str, Span> = IndexMap::new();
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
                if let Some(prev) = seen.get(kw) {
                    self.push(
                        Diagnostic::new(
                            Code::DuplicateProperty,
                            format!("`{kw}` is set twice"),
                            file,
                            prop.span,
                            "set again here",
                        )
                        .with_label(file, *prev, "first set here")
                        .with_help(format!("keep one `{kw}`")),
                    );
                    continue;
                }
                seen.insert(kw, prop.span);
            }
            let builtin = matches!(place, Place::Step(s) if s.builtin);
            match &prop.kind {
                PropKind::Image(_) | PropKind::Run(_)
                    if !matches!(place, Place::Step(_)) || builtin =>
                {
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
                    };
                    self.push(
                        Diagnostic::new(
                            Code::MisplacedProperty,
                            format!("`{kw}` is not allowed in {where_}"),
                            file,
                            prop.span,
                            "not allowed here",
                        )
                        .with_help(help),
                    );
                }
                PropKind::Image(s) => {
                    if s.value.trim().is_empty() {
                        self.push(
                            Diagnostic::new(
                                Code::MissingImage,
                                "the image name is empty",
                                file,
                                s.span,
                                "empty image",
                            )
                            .with_help("write the image as `registry/name:tag`"),
                        );
                    } else {
                        let last = s.value.rsplit('/').next().unwrap_or(&s.value);
                        let tag = if s.value.contains('@') {
                            Some("digest")
                        } else {
                            last.split_once(':').map(|(_, t)| t)
                        };
                        if tag.is_none() || tag == Some("latest") {
                            self.push(
                                Diagnostic::new(
                                    Code::UnpinnedImage,
                                    format!("image `{}` is not pinned to a version", s.value),
                                    file,
                                    s.span,
                                    if tag.is_none() {
                                        "no tag"
                                    } else {
                                        "`latest` moves"
                                    },
                                )
                                .with_help(
                                    "pin a version tag such as `:1.4.2`, or a digest `@sha256:...`",
                                ),
                            );
                        }
                    }
                    out.image = Some(s.value.clone());
                }
                PropKind::Run(e) => {
                    if let Place::Step(sig) = place {
                        out.run = self.run_list(m, e, sig);
                    }
                }
                PropKind::Use(names) => {
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
                PropKind::Cache(c) => {
                    out.cache = Some(match c {
                        CacheSetting::Off => CacheMode::Off,
                        CacheSetting::On => CacheMode::On,
                        CacheSetting::Ttl(q) => match units::duration_millis(q) {
                            Ok(ms) if ms > 0 => CacheMode::Ttl(ms),
                            Ok(_) => {
                                self.push(
                                    Diagnostic::new(
                                        Code::InvalidDuration,
                                        "a cache ttl must be longer than zero",
                                        file,
                                        q.span,
                                        "zero ttl",
                                    )
                                    .with_help("write `cache off` to disable caching"),
                                );
                                CacheMode::Off
                            }
                            Err(e) => {
                                self.unit_error(m, Code::InvalidDuration, q.span, e);
                                CacheMode::On
                            }
                        },
                    });
                }
                PropKind::Resources(r) => out.resources = Some(self.resources(m, r)),
                PropKind::Retries { count, backoff } => {
                    if !(0..=100).contains(&count.value) {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidRetries,
                                format!("{} retries is out of range", count.value),
                                file,
                                count.span,
                                "expected 0 to 100",
                            )
                            .with_help("retry a step at most 100 times"),
                        );
                    }
                    let mut spec = RetrySpec {
                        count: count.value.clamp(0, 100) as u32,
                        backoff_ms: None,
                        factor: None,
                        max_backoff_ms: None,
                    };
                    if let Some(b) = backoff {
                        match units::duration_millis(&b.delay) {
                            Ok(ms) => spec.backoff_ms = Some(ms),
                            Err(e) => self.unit_error(m, Code::InvalidDuration, b.delay.span, e),
                        }
                        if let Some((f, s)) = b.factor {
                            if !(1.0..=10.0).contains(&f) {
                                self.push(
                                    Diagnostic::new(
                                        Code::InvalidRetries,
                                        format!("backoff factor {f} is out of range"),
                                        file,
                                        s,
                                        "expected 1 to 10",
                                    )
                                    .with_help("use a factor such as 2"),
                                );
                            }
                            spec.factor = Some(f);
                        }
                        if let Some(q) = &b.max {
                            match units::duration_millis(q) {
                                Ok(ms) => {
                                    if spec.backoff_ms.is_some_and(|d| d > ms) {
                                        self.push(
                                            Diagnostic::new(
                                                Code::InvalidRetries,
                                                "the longest backoff is shorter than the first one",
                                                file,
                                                q.span,
                                                "shorter than the initial delay",
                                            )
                                            .with_help("make `max` at least the initial delay"),
                                        );
                                    }
                                    spec.max_backoff_ms = Some(ms)
                                }
                                Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
                            }
                        }
                    }
                    out.retries = Some(spec);
                }
                PropKind::Timeout(q) => match units::duration_millis(q) {
                    Ok(0) => self.push(
                        Diagnostic::new(
                            Code::InvalidDuration,
                            "a timeout must be longer than zero",
                            file,
                            q.span,
                            "zero timeout",
                        )
                        .with_help("remove the timeout to let the step run as long as it needs"),
                    ),
                    Ok(ms) => out.timeout_ms = Some(ms),
                    Err(e) => self.unit_error(m, Code::InvalidDuration, q.span, e),
                },
                PropKind::Env { name, value } => {
                    // The grammar only admits identifiers; what remains to refuse are the
                    // names the runtimes set themselves.
                    let reserved = name.name.starts_with("FLOWC_")
                        || name.name.starts_with("ARGO_")
                        || name.name.starts_with("KFP_")
                        || matches!(name.name.as_str(), "PATH" | "HOME" | "HOSTNAME");
                    if reserved {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidEnvName,
                                format!("environment variable `{}` is reserved", name.name),
                                file,
                                name.span,
                                "set by flowc or the cluster",
                            )
                            .with_help("`FLOWC_*`, `ARGO_*`, `KFP_*`, `PATH`, `HOME` and `HOSTNAME` are set by the runners; choose another name"),
                        );
                    }
                    if out.env.contains_key(&name.name) {
                        self.push(
                            Diagnostic::new(
                                Code::DuplicateProperty,
                                format!("environment variable `{}` is set twice", name.name),
                                file,
                                name.span,
                                "set again here",
                            )
                            .with_help("keep one value"),
                        );
                        continue;
                    }
                    if let Some(v) = self.env_value(m, value, &place) {
                        out.env.insert(name.name.clone(), v);
                    }
                }
                PropKind::Mount { secret, path } => {
                    let entry = self.lookup_kind(
                        m,
                        &secret.name,
                        secret.span,
                        &[DeclKind::Secret],
                        Code::UnknownSecret,
                        "a secret",
                    );
                    if !path.value.starts_with('/')
                        || path.value.contains("..")
                        || path.value.ends_with('/')
                    {
                        self.push(Diagnostic::new(Code::InvalidMount, format!("`{}` is not an absolute file path", path.value), file, path.span, "mount path").with_help("mount a secret at an absolute file path such as `/etc/creds/token`"));
                    }
                    if let Some(e) = entry {
                        out.mounts.push((e.decl, path.value.clone()));
                    }
                }
                PropKind::NodeSelector(r) => {
                    for f in &r.fields {
                        match &f.value.kind {
                            ExprKind::Str(s) => {
                                if !label_ok(&f.key.name, true) || !label_ok(&s.value, false) {
                                    self.push(Diagnostic::new(Code::InvalidScheduling, format!("`{}: {}` is not a valid node label", f.key.name, s.value), file, f.span, "invalid label").with_help("label keys are `[prefix/]name` and values at most 63 characters of letters, digits, `-`, `_` and `.`"));
                                }
                                out.node_selector
                                    .insert(f.key.name.clone(), s.value.clone());
                            }
                            _ => self.push(
                                Diagnostic::new(
                                    Code::InvalidScheduling,
                                    "node selector values are strings",
                                    file,
                                    f.value.span,
                                    "not a string",
                                )
                                .with_help("quote the label value"),
                            ),
                        }
                    }
                }
                PropKind::Toleration(r) => out.tolerations.push(self.toleration(m, r)),
            }
        }
        out
    }

    fn unit_error(&mut self, m: ModuleId, code: Code, span: Span, e: units::UnitError) {
        let file = self.file(m);
        self.push(
            Diagnostic::new(code, e.message, file, span, "invalid quantity").with_help(e.help),
        );
    }

    fn run_list(&mut self, m: ModuleId, e: &Expr, sig: &StepSig) -> Option<Vec<Expr>> {
        let file = self.file(m);
        let ExprKind::List(items) = &e.kind else {
            self.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "`run` takes a list of arguments",
                    file,
                    e.span,
                    "not a list",
                )
                .with_help(
                    "write the command as a list: `run [\"python\", \"-m\", \"job\", input]`",
                ),
            );
            return None;
        };
        if items.is_empty() {
            self.push(
                Diagnostic::new(
                    Code::MissingImage,
                    "`run` has no command",
                    file,
                    e.span,
                    "empty list",
                )
                .with_help("give the program to run first, then its arguments"),
            );
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
                    for v in s.vars() {
                        self.step_name(m, &v.name, v.span, &names);
                    }
                }
                ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_) => {}
                ExprKind::Path(p) if p.len() == 1 => self.step_name(m, &p[0].name, p[0].span, &names),
                _ => self.push(Diagnostic::new(Code::TypeMismatch, "a command argument must be a string, a number or the name of an input or output", file, item.span, "not a command argument").with_help("quote the argument, or interpolate names with `\"${name}\"`")),
            }
        }
        Some(items.clone())
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
                self.push(
                    Diagnostic::new(Code::SecretLeak, format!("secret `{name}` would appear in the step's command line"), file, span, "secret value in a command")
                        .with_help(format!("command lines are logged and visible in the cluster; use `mount {name} at \"/path\"` or `env VAR = {name}` and read it inside the step")),
                );
                return;
            }
            self.push(
                Diagnostic::new(
                    Code::UnknownName,
                    format!("`{name}` is not an input or output of this step"),
                    file,
                    span,
                    "unknown name",
                )
                .with_help_opt(did_you_mean(name, names.iter().copied()))
                .with_note(if names.is_empty() {
                    "the step has no inputs or outputs".to_string()
                } else {
                    format!("the step's inputs and outputs are: {}", names.join(", "))
                }),
            );
        }
    }

    fn env_value(&mut self, m: ModuleId, value: &Expr, place: &Place<'_>) -> Option<EnvValue> {
        let file = self.file(m);
        let params: Vec<&str> = match place {
            Place::Step(sig) => sig
                .params
                .iter()
                .filter(|p| !p.ty.is_artifact())
                .map(|p| p.name.as_str())
                .collect(),
            _ => Vec::new(),
        };
        match &value.kind {
            ExprKind::Str(s) => {
                for v in s.vars() {
                    if !params.contains(&v.name.as_str()) {
                        self.push(
                            Diagnostic::new(
                                Code::UnknownName,
                                format!("`{}` is not a parameter of this step", v.name),
                                file,
                                v.span,
                                "unknown name",
                            )
                            .with_help_opt(did_you_mean(&v.name, params.iter().copied())),
                        );
                    }
                }
                Some(EnvValue::Text(s.value.clone()))
            }
            ExprKind::Int(n) => Some(EnvValue::Text(n.to_string())),
            ExprKind::Float(f) => Some(EnvValue::Text(f.to_string())),
            ExprKind::Bool(b) => Some(EnvValue::Text(b.to_string())),
            ExprKind::Path(p) if p.len() == 1 => {
                let name = &p[0];
                if params.contains(&name.name.as_str()) {
                    return Some(EnvValue::Param(name.name.clone()));
                }
                if let Place::Step(sig) = place {
                    if sig
                        .params
                        .iter()
                        .chain(&sig.outputs)
                        .any(|q| q.name == name.name)
                    {
                        self.push(
                            Diagnostic::new(
                                Code::ArtifactParameterMismatch,
                                format!(
                                    "`{}` is an artifact; an environment variable holds text",
                                    name.name
                                ),
                                file,
                                name.span,
                                "artifact",
                            )
                            .with_help(format!(
                                "pass its path to the command instead: `run [..., \"${{{}}}\"]`",
                                name.name
                            )),
                        );
                        return None;
                    }
                }
                let mut cands = self.names_of_kind(m, &[DeclKind::Secret]);
                cands.extend(params.iter().map(|s| s.to_string()));
                match self.lookup(m, &name.name) {
                    Some(e) if e.kind == DeclKind::Secret => Some(EnvValue::Secret(e.decl)),
                    Some(e) => {
                        self.push(
                            Diagnostic::new(
                                Code::WrongKind,
                                format!(
                                    "`{}` is {}, not a secret or parameter",
                                    name.name,
                                    e.kind.a()
                                ),
                                file,
                                name.span,
                                "expected a secret or a parameter",
                            )
                            .with_help(
                                "set environment variables from strings, parameters or secrets",
                            ),
                        );
                        None
                    }
                    None => {
                        self.push(
                            Diagnostic::new(
                                Code::UnknownSecret,
                                format!("there is no secret or parameter named `{}`", name.name),
                                file,
                                name.span,
                                "not found",
                            )
                            .with_help_opt(did_you_mean(
                                &name.name,
                                cands.iter().map(String::as_str),
                            )),
                        );
                        None
                    }
                }
            }
            _ => {
                self.push(Diagnostic::new(Code::TypeMismatch, "an environment variable is set from a string, a number, a parameter or a secret", file, value.span, "not allowed here").with_help("quote the value"));
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
                        other => self.push(
                            Diagnostic::new(
                                Code::UnknownResource,
                                format!("`{other}` is not a bound of `auto`"),
                                file,
                                name.span,
                                "unknown bound",
                            )
                            .with_help_opt(
                                did_you_mean(other, ["min", "max"])
                                    .or(Some("write `auto(min: {...}, max: {...})`".into())),
                            ),
                        ),
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
                                self.push(
                                    Diagnostic::new(
                                        Code::RequestAboveLimit,
                                        format!(
                                            "the lower bound of `{k}` is above its upper bound"
                                        ),
                                        file,
                                        *span,
                                        "min > max",
                                    )
                                    .with_help(format!("make `min.{k}` at most `max.{k}`")),
                                );
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
                self.push(
                    Diagnostic::new(
                        Code::DuplicateProperty,
                        format!("`{key}` is set twice"),
                        file,
                        f.key.span,
                        "set again here",
                    )
                    .with_help("keep one value"),
                );
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
                    _ => self.push(
                        Diagnostic::new(
                            Code::UnknownResource,
                            "`gpu` is a whole number of GPUs",
                            file,
                            f.value.span,
                            "expected 0 to 64",
                        )
                        .with_help("GPUs are not shared: write `gpu: 1`"),
                    ),
                },
                "gpu_type" => match &f.value.kind {
                    ExprKind::Str(s) if !s.value.is_empty() => {
                        spec.gpu_type = Some(s.value.clone())
                    }
                    _ => self.push(
                        Diagnostic::new(
                            Code::UnknownResource,
                            "`gpu_type` is a string",
                            file,
                            f.value.span,
                            "expected a string",
                        )
                        .with_help("write a type such as `\"nvidia-tesla-t4\"`"),
                    ),
                },
                other => self.push(
                    Diagnostic::new(
                        Code::UnknownResource,
                        format!("`{other}` is not a resource"),
                        file,
                        f.key.span,
                        "unknown resource",
                    )
                    .with_help_opt(did_you_mean(other, RESOURCE_KEYS.iter().copied()))
                    .with_note(format!("resources are: {}", RESOURCE_KEYS.join(", "))),
                ),
            }
        }
        if spec.gpu_type.is_some() && spec.gpu.is_none() {
            self.push(
                Diagnostic::new(
                    Code::UnknownResource,
                    "`gpu_type` is set without `gpu`",
                    file,
                    rec.span,
                    "no GPU count",
                )
                .with_help("add `gpu: 1`"),
            );
        }
        let pairs = [
            ("cpu", spec.cpu_millis, spec.cpu_limit_millis),
            ("memory", spec.memory_bytes, spec.memory_limit_bytes),
        ];
        for (k, req, lim) in pairs {
            if let (Some(r), Some(l)) = (req, lim) {
                if r > l {
                    self.push(
                        Diagnostic::new(
                            Code::RequestAboveLimit,
                            format!("the `{k}` request is above its limit"),
                            file,
                            rec.span,
                            format!("`{k}` > `{k}_limit`"),
                        )
                        .with_help(format!(
                            "Kubernetes rejects such pods: make `{k}` at most `{k}_limit`"
                        )),
                    );
                }
            }
        }
        spec
    }

    fn toleration(&mut self, m: ModuleId, r: &Record) -> IndexMap<String, String> {
        let file = self.file(m);
        let mut out = IndexMap::new();
        for f in &r.fields {
            let key = f.key.name.as_str();
            if !TOLERATION_KEYS.contains(&key) {
                self.push(
                    Diagnostic::new(
                        Code::InvalidScheduling,
                        format!("`{key}` is not a field of a toleration"),
                        file,
                        f.key.span,
                        "unknown field",
                    )
                    .with_help_opt(did_you_mean(key, TOLERATION_KEYS.iter().copied())),
                );
                continue;
            }
            let value = match &f.value.kind {
                ExprKind::Str(s) => s.value.clone(),
                ExprKind::Int(n) if key == "toleration_seconds" => n.to_string(),
                _ => {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidScheduling,
                            format!("toleration `{key}` must be a string"),
                            file,
                            f.value.span,
                            "not a string",
                        )
                        .with_help("quote the value"),
                    );
                    continue;
                }
            };
            let allowed: &[&str] = match key {
                "operator" => &["Exists", "Equal"],
                "effect" => &["NoSchedule", "PreferNoSchedule", "NoExecute"],
                _ => &[],
            };
            if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
                self.push(
                    Diagnostic::new(
                        Code::InvalidScheduling,
                        format!("`{value}` is not a valid toleration {key}"),
                        file,
                        f.value.span,
                        format!("expected {}", allowed.join(" or ")),
                    )
                    .with_help_opt(did_you_mean(&value, allowed.iter().copied())),
                );
            }
            out.insert(key.to_string(), value);
        }
        if out.get("operator").map(String::as_str) == Some("Exists") && out.contains_key("value") {
            self.push(
                Diagnostic::new(
                    Code::InvalidScheduling,
                    "a toleration with operator `Exists` takes no `value`",
                    file,
                    r.span,
                    "value with Exists",
                )
                .with_help("remove `value`, or use operator `Equal`"),
            );
        }
        if !out.contains_key("key") && out.get("operator").map(String::as_str) != Some("Exists") {
            self.push(
                Diagnostic::new(
                    Code::InvalidScheduling,
                    "a toleration without `key` must use operator `Exists`",
                    file,
                    r.span,
                    "missing key",
                )
                .with_help("add `key: \"nvidia.com/gpu\"` or `operator: \"Exists\"`"),
            );
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
