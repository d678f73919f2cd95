//! The declarations of a generated program (container steps with their properties, secrets, a
//! profile, imports of the standard library) and the calls of container and built-in steps.

use std::collections::{BTreeMap, BTreeSet};

use super::rng::Rng;
use super::scope::{Kind, Scope, Val};
use super::types::{literal, Metric, Schema, Ty};

/// A call: its text and its outputs, as (suffix of the binding: `""` for the first output,
/// `.name` for the others, its type).
#[derive(Clone, Debug)]
pub struct Call {
    /// `name(arg: value, ...)`, maybe with `as Table<Row>` or `after b`.
    pub text: String,
    /// The outputs.
    pub outputs: Vec<(String, Ty)>,
}

/// Where the argument of a parameter of a generated step comes from.
#[derive(Clone, Debug)]
enum Source {
    /// A value in scope of this exact type.
    Scope(Ty),
    /// A literal of this type.
    Literal(Ty),
    /// Left out (an optional parameter, or one with a default).
    Omitted,
}

/// A generated container step, so it can be called again.
#[derive(Clone, Debug)]
struct StepSig {
    name: String,
    params: Vec<(String, Source)>,
    outputs: Vec<(String, Ty)>,
}

/// The declarations of a program being generated.
#[derive(Debug, Default)]
pub struct Decls {
    /// Declarations, in order.
    pub text: Vec<String>,
    /// Standard-library names used, by module.
    pub imports: BTreeMap<&'static str, BTreeSet<&'static str>>,
    steps: Vec<StepSig>,
    secrets: bool,
    whole_objects: bool,
    volumes: bool,
    profile: bool,
    notify: bool,
    /// The counter of fresh names.
    pub next: usize,
}

/// The artifact and value types a generated step may output.
fn output_types() -> Vec<Ty> {
    vec![
        Ty::File,
        Ty::Dir,
        Ty::Model,
        Ty::Json,
        Ty::Metrics(Metric::Own),
        Ty::Table(Schema::Row),
        Ty::Str,
        Ty::Int,
        Ty::Float,
        Ty::Bool,
        Ty::Date,
        Ty::Str,
        Ty::List(Box::new(Ty::Int)),
        Ty::List(Box::new(Ty::Str)),
    ]
}

/// The value types of literal parameters.
const LITERALS: [Ty; 5] = [Ty::Str, Ty::Int, Ty::Float, Ty::Bool, Ty::Date];

impl Decls {
    /// A fresh number for a name.
    pub fn fresh(&mut self) -> usize {
        self.next += 1;
        self.next
    }

    /// Records that `name` of standard-library module `module` is used.
    pub fn import(&mut self, module: &'static str, name: &'static str) {
        self.imports.entry(module).or_default().insert(name);
    }

    /// Declares the step `notify(text: Str)` of `finally` handlers once; returns its name.
    pub fn notify(&mut self) -> &'static str {
        if !self.notify {
            self.notify = true;
            self.text.push(
                "/// Says that a pipeline ended.\nstep notify(text: Str) {\n  image \"busybox:1.36\"\n  run [\"echo\", text]\n  cache off\n}\n".into(),
            );
        }
        "notify"
    }

    /// Whether the program declares the secrets, `cert` named by the entry's `tenant_tls`.
    pub fn uses_secrets(&self) -> bool {
        self.secrets
    }

    fn secrets(&mut self) {
        if !self.secrets {
            self.secrets = true;
            self.text.push(
                "secret token = k8s(\"api-token\", key: \"token\")\nsecret cert = k8s(param tenant_tls, key: \"ca.crt\")\n"
                    .into(),
            );
        }
    }

    /// A whole Secret and a whole ConfigMap (no `key`), mounted as directories.
    fn whole_objects(&mut self) {
        if !self.whole_objects {
            self.whole_objects = true;
            self.text.push(
                "secret creds = k8s(\"panel-creds\")\nconfig conf = k8s_configmap(\"app-conf\")\n"
                    .into(),
            );
        }
    }

    fn volumes(&mut self) {
        if !self.volumes {
            self.volumes = true;
            self.text.push(
                "volume data = k8s_pvc(\"team-data\")\nvolume scratch = k8s_pvc(size: 5Gi, storage_class: \"standard\")\n"
                    .into(),
            );
        }
    }

    fn profile(&mut self) {
        if !self.profile {
            self.profile = true;
            self.text.push(
                "/// Shared settings.\nprofile shared {\n  retries 1\n  env PROFILE = \"on\"\n}\n"
                    .into(),
            );
        }
    }
}

/// The declared type of a step input taking a value of type `ty`, or `None` when the generator
/// does not pass such values.
fn input_type(rng: &mut Rng, ty: &Ty) -> Option<String> {
    let either = |rng: &mut Rng, a: &str, b: &str| {
        if rng.chance(50) {
            a.to_string()
        } else {
            b.to_string()
        }
    };
    Some(match ty {
        t if t.is_value() => t.text(),
        Ty::File => "File".into(),
        Ty::Dir => "Dir".into(),
        Ty::Model => either(rng, "Model", "File"),
        Ty::Json => either(rng, "Json", "File"),
        Ty::Metrics(_) => either(rng, "Metrics", "File"),
        Ty::Table(s) if s.has_region() => either(rng, "Table<{ region: Str }>", "File"),
        Ty::Table(_) => "File".into(),
        Ty::List(inner) => match &**inner {
            Ty::Table(s) if s.has_region() => {
                either(rng, "List<Table<{ region: Str }>>", "List<File>")
            }
            Ty::Dir => "List<Dir>".into(),
            t if t.is_file_like() => "List<File>".into(),
            _ => return None,
        },
        Ty::Opt(inner) if !matches!(**inner, Ty::List(_) | Ty::Opt(_)) => {
            format!("{}?", input_type(rng, inner)?)
        }
        _ => return None,
    })
}

/// The expression passing `v` as an argument: its name, or for a parameter or loop variable
/// sometimes an expression over it.
fn arg_expr(rng: &mut Rng, v: &Val) -> String {
    let plain = matches!(v.kind, Kind::Param | Kind::Loop);
    match v.ty {
        Ty::Int if plain && rng.chance(20) => format!("{} + 1", v.expr),
        Ty::Str if plain && rng.chance(15) => format!("\"out/\" + {}", v.expr),
        Ty::Str if plain && rng.chance(15) => format!("\"id-${{{}}}\"", v.expr),
        _ => v.expr.clone(),
    }
}

/// A call of a container step: an earlier step again when scope has values for its inputs,
/// else a new step taking some values of scope and some literals.
pub fn container_call(rng: &mut Rng, scope: &Scope, decls: &mut Decls) -> Call {
    if rng.chance(25) {
        if let Some(call) = reuse(rng, scope, decls) {
            return call;
        }
    }
    let sig = new_step(rng, scope, decls);
    let args = sig
        .params
        .iter()
        .filter_map(|(name, src)| {
            let value = match src {
                Source::Scope(ty) => {
                    let vals: Vec<Val> = scope.args().into_iter().filter(|v| &v.ty == ty).collect();
                    let v = vals.get(rng.below(vals.len()))?;
                    arg_expr(rng, v)
                }
                Source::Literal(ty) => literal(ty, rng.below(8))?,
                Source::Omitted => return None,
            };
            Some(format!("{name}: {value}"))
        })
        .collect::<Vec<_>>();
    let call = Call {
        text: format!("{}({})", sig.name, args.join(", ")),
        outputs: outputs_of(&sig),
    };
    decls.steps.push(sig);
    call
}

fn outputs_of(sig: &StepSig) -> Vec<(String, Ty)> {
    sig.outputs
        .iter()
        .enumerate()
        .map(|(i, (n, t))| {
            (
                if i == 0 {
                    String::new()
                } else {
                    format!(".{n}")
                },
                t.clone(),
            )
        })
        .collect()
}

/// A call of an earlier step whose inputs scope can fill.
fn reuse(rng: &mut Rng, scope: &Scope, decls: &Decls) -> Option<Call> {
    let sig = rng.pick(&decls.steps)?.clone();
    let vals = scope.args();
    let mut args = Vec::new();
    for (name, src) in &sig.params {
        let value = match src {
            Source::Scope(ty) => {
                let fits: Vec<&Val> = vals.iter().filter(|v| &v.ty == ty).collect();
                let v = fits.get(rng.below(fits.len()))?;
                arg_expr(rng, v)
            }
            Source::Literal(ty) => literal(ty, rng.below(8))?,
            Source::Omitted => continue,
        };
        args.push(format!("{name}: {value}"));
    }
    Some(Call {
        text: format!("{}({})", sig.name, args.join(", ")),
        outputs: outputs_of(&sig),
    })
}

/// Declares a new container step taking some values of scope; returns its signature.
fn new_step(rng: &mut Rng, scope: &Scope, decls: &mut Decls) -> StepSig {
    let id = decls.fresh();
    let name = format!("s{id}");
    let mut params: Vec<(String, Source)> = Vec::new();
    let mut decl_params: Vec<String> = Vec::new();
    let vals = scope.args();
    for _ in 0..rng.range(0, 3) {
        let Some(v) = rng.pick(&vals).cloned() else {
            break;
        };
        // Optional values and lists gathered by loops are refused by a target more often than
        // not (docs/targets.md): fewer of them leaves more programs that a target builds.
        let often_refused =
            matches!(v.ty, Ty::Opt(_)) || matches!(v.ty, Ty::List(_)) && v.kind == Kind::Output;
        if often_refused && rng.chance(60) {
            continue;
        }
        let Some(ty_text) = input_type(rng, &v.ty) else {
            continue;
        };
        let p = format!("p{}", params.len());
        decl_params.push(format!("{p}: {ty_text}"));
        params.push((p, Source::Scope(v.ty.clone())));
    }
    for _ in 0..rng.range(0, 2) {
        let Some(ty) = rng.pick(&LITERALS).cloned() else {
            break;
        };
        let ty = if rng.chance(15) {
            Ty::List(Box::new(ty))
        } else {
            ty
        };
        let p = format!("p{}", params.len());
        match rng.below(4) {
            0 => {
                decl_params.push(format!("{p}: {}?", ty.text()));
                params.push((p, Source::Omitted));
            }
            1 => {
                let default = literal(&ty, rng.below(8)).unwrap_or_default();
                decl_params.push(format!("{p}: {} = {default}", ty.text()));
                params.push((p, Source::Omitted));
            }
            _ => {
                decl_params.push(format!("{p}: {}", ty.text()));
                params.push((p, Source::Literal(ty)));
            }
        }
    }
    let kinds = output_types();
    let outputs: Vec<(String, Ty)> = if rng.chance(20) {
        Vec::new()
    } else {
        (0..rng.range(1, 3))
            .filter_map(|i| Some((format!("o{i}"), rng.pick(&kinds)?.clone())))
            .collect()
    };
    let scalar_params: Vec<String> = decl_params
        .iter()
        .filter(|p| {
            let ty = p.split(": ").nth(1).unwrap_or_default();
            ["Str", "Int", "Bool"].iter().any(|t| ty.starts_with(t)) && !ty.contains('?')
        })
        .filter_map(|p| p.split(':').next().map(str::to_string))
        .collect();
    let text = step_text(rng, decls, &name, &decl_params, &outputs, &scalar_params);
    decls.text.push(text);
    StepSig {
        name,
        params,
        outputs,
    }
}

/// The text of a container step declaration, with random properties.
fn step_text(
    rng: &mut Rng,
    decls: &mut Decls,
    name: &str,
    params: &[String],
    outputs: &[(String, Ty)],
    scalar_params: &[String],
) -> String {
    let outs = if outputs.is_empty() {
        String::new()
    } else {
        let o: Vec<String> = outputs
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.text()))
            .collect();
        format!(" -> ({})", o.join(", "))
    };
    let mut run = vec!["\"sh\"".to_string(), "\"-c\"".into(), "\"echo $0\"".into()];
    run.extend(
        params
            .iter()
            .filter_map(|p| p.split(':').next().map(str::to_string)),
    );
    run.extend(outputs.iter().map(|(n, _)| n.clone()));
    let image = rng
        .pick(&[
            "busybox:1.36",
            "python:3.12-slim",
            "registry.example.com/etl:1.4.2",
        ])
        .copied()
        .unwrap_or("busybox:1.36");
    let mut s = format!(
        "/// Generated step {name}.\nstep {name}({}){outs} {{\n  image \"{image}\"\n  run [{}]\n",
        params.join(", "),
        run.join(", ")
    );
    for line in properties(rng, decls, scalar_params) {
        s.push_str("  ");
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str("}\n");
    s
}

/// Random properties of a step: caching, retries, resources, timeout, environment, secrets,
/// volumes (an existing claim and one created for the run), node selection, tolerations and
/// profiles.
fn properties(rng: &mut Rng, decls: &mut Decls, scalar_params: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    if rng.chance(35) {
        let c = ["cache on", "cache off", "cache ttl 1d"];
        out.push(rng.pick(&c).copied().unwrap_or_default().to_string());
    }
    if rng.chance(25) {
        let r = ["retries 2", "retries 3 backoff 10s factor 2 max 5m"];
        out.push(rng.pick(&r).copied().unwrap_or_default().to_string());
    }
    if rng.chance(30) {
        let r = [
            "resources { cpu: 500m, memory: 512Mi }",
            "resources { cpu: 1, memory: 1Gi, cpu_limit: 2, memory_limit: 2Gi }",
            "resources { cpu: 1, memory: 1Gi, gpu: 1, gpu_type: \"nvidia-tesla-t4\" }",
            "resources { cpu: 1, memory: 1Gi, gpu: 1 }",
            "resources { cpu: 500m, memory: 512Mi }",
            "resources { cpu: 2, memory: 2Gi, gpu: 1, gpu_type: \"amd.com/gpu\" }",
            "resources auto(min: { cpu: 0.5, memory: 512Mi }, max: { cpu: 4, memory: 16Gi })",
        ];
        out.push(rng.pick(&r).copied().unwrap_or_default().to_string());
    }
    if rng.chance(15) {
        out.push("timeout 20m".into());
    }
    if rng.chance(20) {
        out.push("env MODE = \"fast\"".into());
    }
    if let Some(p) = rng.pick(scalar_params) {
        if rng.chance(30) {
            out.push(format!("env VALUE = {p}"));
        }
    }
    if rng.chance(15) {
        decls.secrets();
        out.push("env TOKEN = token".into());
    }
    if rng.chance(10) {
        decls.secrets();
        out.push("mount cert at \"/etc/tls/ca.crt\"".into());
    }
    if rng.chance(8) {
        decls.whole_objects();
        out.push("mount creds at \"/etc/creds\"".into());
        out.push("mount conf at \"/etc/app\"".into());
    }
    if rng.chance(8) {
        decls.volumes();
        out.push("mount data at \"/mnt/data\"".into());
    }
    if rng.chance(8) {
        decls.volumes();
        out.push("mount scratch at \"/mnt/scratch\"".into());
    }
    if rng.chance(15) {
        out.push("node_selector { \"disktype\": \"ssd\" }".into());
    }
    if rng.chance(8) {
        out.push(
            "toleration { key: \"dedicated\", operator: \"Equal\", value: \"ml\", effect: \"NoSchedule\" }"
                .into(),
        );
    }
    if rng.chance(10) {
        decls.profile();
        out.push("use shared".into());
    }
    out
}
