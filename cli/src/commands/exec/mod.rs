//! `flowc exec`: what the flowc runtime image runs for one task of a pipeline built for Argo or
//! Kubeflow (docs/targets.md, "The runtime command line").
//!
//! - `--step MODULE.NAME`: a built-in step, through the same implementations as `flowc run`;
//! - `--check EXPR --message SOURCE` and `--eval EXPR`: a condition or value of the plan over
//!   pipeline parameters, loop items, metrics files and value outputs of tasks (`--value`);
//! - `--enumerate TEXT`: the numbered items of a loop over a list known at run time;
//! - `--copy SRC DST`: a cached result copied under this run's storage key;
//! - `--gather`: a list of artifacts gathered into one folder of numbered entries, for a
//!   container step on Kubeflow, or (`--levels N`) the nested folders of outputs gathered
//!   across nested loops flattened into one, for `flatten(xs)` on Argo;
//! - `--call FILE`: a built-in step call saved by `flowc run`, which runs each built-in step
//!   in a process of its own;
//! - `--absent`: the no-value marker ([`ABSENT_MARKER`]) written to each `--output`, for the
//!   `else` branch the Kubeflow emitter adds when a value bound in one branch of an `if` is
//!   read after it; a built-in step reads an optional input holding the marker as absent.
//!
//! A failure prints one line `error[X00n]: …` and exits 2; a check that does not hold prints
//! `check failed: SOURCE` and exits 1. Codes: X001 a malformed command line, X002 a value that
//! does not have its type, X003 a missing or unreadable input, X004 a built-in step that failed
//! (its own code follows), X005 an output that could not be written.

mod kfp_metadata;
mod values;

use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value as Json;

use flowc_compiler::plan::{TypeRepr, Value};
use flowc_runtime::builtin::{
    ArtifactArg, BuiltinCall, BuiltinRunner, InputArtifact, OutputArtifact,
};
use flowc_runtime::eval::{eval, ArtifactRef, Env, RValue};

use crate::args::ExecArgs;
use crate::{EXIT_ERRORS, EXIT_FAILURE, EXIT_OK};
use values::{decode, named, text_of, Signature, Source};

/// A failure of `flowc exec`, with its stable code.
#[derive(Debug)]
pub(crate) struct ExecError {
    code: &'static str,
    message: String,
}

impl ExecError {
    fn usage(message: impl Into<String>) -> ExecError {
        ExecError {
            code: "X001",
            message: message.into(),
        }
    }
    fn value(message: impl Into<String>) -> ExecError {
        ExecError {
            code: "X002",
            message: message.into(),
        }
    }
    fn input(message: impl Into<String>) -> ExecError {
        ExecError {
            code: "X003",
            message: message.into(),
        }
    }
    fn step(message: impl Into<String>) -> ExecError {
        ExecError {
            code: "X004",
            message: message.into(),
        }
    }
    fn output(message: impl Into<String>) -> ExecError {
        ExecError {
            code: "X005",
            message: message.into(),
        }
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error[{}]: {}", self.code, self.message)
    }
}

/// Runs `flowc exec` and returns the exit code.
pub fn run(a: &ExecArgs) -> u8 {
    let result = if let Some(step) = &a.step {
        run_step(a, step)
    } else if let (Some(expr), Some(source)) = (&a.check, &a.message) {
        run_check(a, expr, source)
    } else if let Some(expr) = &a.eval {
        run_eval(a, expr)
    } else if let Some(text) = &a.enumerate {
        run_enumerate(a, text)
    } else if let Some([src, dst]) = a.copy.as_deref() {
        copy(src, dst).map(|()| EXIT_OK)
    } else if a.absent {
        write_absent(a).map(|()| EXIT_OK)
    } else if a.gather {
        gather(a).map(|()| EXIT_OK)
    } else if let Some(file) = &a.call {
        run_call(file).map(|()| EXIT_OK)
    } else {
        Err(ExecError::usage(
            "say what to run: --step, --check, --eval, --enumerate, --copy, --gather, --absent or \
             --call",
        ))
    };
    result.unwrap_or_else(|e| {
        eprintln!("{e}");
        EXIT_FAILURE
    })
}

/// The content of an artifact that stands for "no value": Kubeflow has no absent artifact, so
/// the `else` branch that flowc adds for a value bound in one branch of an `if` writes this, and
/// a built-in step reads an optional input holding exactly this as absent.
pub const ABSENT_MARKER: &[u8] =
    b"flowc: no value (the `if` branch that binds this value did not run)\n";

/// `--absent`: the marker to every `--output NAME=PATH`.
fn write_absent(a: &ExecArgs) -> Result<(), ExecError> {
    if a.outputs.is_empty() {
        return Err(ExecError::usage(
            "`--absent` needs at least one `--output NAME=PATH`",
        ));
    }
    for (name, path) in &a.outputs {
        let path = Path::new(path);
        make_parent(path)?;
        std::fs::write(path, ABSENT_MARKER).map_err(|e| {
            ExecError::output(format!(
                "output `{name}`: cannot write `{}`: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

/// `--gather`: the items of `--input items=SRC` (a list folder, `--levels` deep, or
/// `@executor-input:KEY`) copied into the folder `--output folder=PATH` as `00000`, `00001`, ...
/// in order.
fn gather(a: &ExecArgs) -> Result<(), ExecError> {
    let pair = |pairs: &[(String, String)], name: &str, flag: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| ExecError::usage(format!("`--gather` needs `{flag} {name}=…`")))
    };
    let source = values::Source::parse(&pair(&a.inputs, "items", "--input")?);
    let folder = PathBuf::from(pair(&a.outputs, "folder", "--output")?);
    let items = match source {
        values::Source::Path(p) => values::list_folders(&p, a.levels)?,
        values::Source::ExecutorInput(key) => {
            values::executor_artifacts(executor_input(a)?.as_ref(), &key)?
        }
    };
    std::fs::create_dir_all(&folder).map_err(|e| {
        ExecError::output(format!(
            "cannot create the folder `{}`: {e}",
            folder.display()
        ))
    })?;
    for (i, item) in items.iter().enumerate() {
        copy(item, &folder.join(format!("{i:05}")))?;
    }
    Ok(())
}

/// `--call FILE`: the built-in step call saved by `flowc run` (a `BuiltinCall` as JSON). A
/// failure of the step is also written to `FILE.error`, which `flowc run` reports.
fn run_call(file: &Path) -> Result<(), ExecError> {
    let text = std::fs::read(file)
        .map_err(|e| ExecError::input(format!("cannot read `{}`: {e}", file.display())))?;
    let call: BuiltinCall = serde_json::from_slice(&text).map_err(|e| {
        ExecError::usage(format!(
            "`{}` is not a built-in step call: {e}",
            file.display()
        ))
    })?;
    builtins().run(&call).map_err(|e| {
        let _ = std::fs::write(flowc_runtime::builtin::error_file(file), e.to_string());
        ExecError::step(e.to_string())
    })
}

/// Creates the folder that will hold `path`.
fn make_parent(path: &Path) -> Result<(), ExecError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| {
            ExecError::output(format!("cannot create the folder `{}`: {e}", dir.display()))
        }),
        None => Ok(()),
    }
}

/// Whether `path` is a file holding exactly [`ABSENT_MARKER`].
fn is_absent_marker(path: &Path) -> bool {
    let len = ABSENT_MARKER.len() as u64;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == len)
        && std::fs::read(path).is_ok_and(|b| b == ABSENT_MARKER)
}

fn executor_input(a: &ExecArgs) -> Result<Option<Json>, ExecError> {
    a.executor_input
        .as_deref()
        .map(|t| {
            serde_json::from_str(t)
                .map_err(|e| ExecError::usage(format!("`--executor-input` is not JSON: {e}")))
        })
        .transpose()
}

/// The parameter values of the signature: decoded texts, `null` for those not given.
fn params(a: &ExecArgs, sig: &[(String, TypeRepr)]) -> Result<IndexMap<String, Json>, ExecError> {
    let given = named("--param", &a.params, sig)?;
    let mut out = IndexMap::new();
    for (name, ty) in sig {
        let v = match given.get(name.as_str()) {
            Some(text) => decode(ty, text)
                .map_err(|why| ExecError::value(format!("parameter `{name}`: {why}")))?,
            None => Json::Null,
        };
        out.insert(name.clone(), v);
    }
    Ok(out)
}

fn output_paths<'a>(
    a: &'a ExecArgs,
    names: &[(String, TypeRepr)],
) -> Result<Vec<(String, &'a Path)>, ExecError> {
    let given = named("--output", &a.outputs, names)?;
    names
        .iter()
        .map(|(name, _)| {
            let path = given
                .get(name.as_str())
                .ok_or_else(|| ExecError::usage(format!("`--output {name}=PATH` is required")))?;
            let path = Path::new(*path);
            make_parent(path)?;
            Ok((name.clone(), path))
        })
        .collect()
}

fn run_step(a: &ExecArgs, step: &str) -> Result<u8, ExecError> {
    let (module, name) = step.rsplit_once('.').ok_or_else(|| {
        ExecError::usage(format!(
            "`--step {step}`: expected MODULE.NAME, such as `std.survey.rake`"
        ))
    })?;
    let runner = builtins();
    if !runner.has(module, name) {
        return Err(ExecError::usage(format!(
            "`{module}.{name}` is not a built-in step of this flowc ({})",
            env!("CARGO_PKG_VERSION")
        )));
    }
    let sig = Signature::parse(a.signature.as_deref())?;
    let params = params(a, &sig.params)?;
    let exec_input = executor_input(a)?;
    let given = named("--input", &a.inputs, &sig.inputs)?;
    let mut inputs = IndexMap::new();
    for (input, ty) in &sig.inputs {
        let list = matches!(strip_optional(ty), TypeRepr::List { .. });
        let arg = match given.get(input.as_str()).map(|t| Source::parse(t)) {
            None if list => ArtifactArg::Many(Vec::new()),
            None => {
                if matches!(ty, TypeRepr::Optional { .. }) {
                    ArtifactArg::Absent
                } else {
                    return Err(ExecError::input(format!(
                        "input `{input}` is required: give `--input {input}=PATH`"
                    )));
                }
            }
            Some(Source::ExecutorInput(key)) => {
                ArtifactArg::Many(values::executor_artifacts(exec_input.as_ref(), &key)?)
            }
            Some(Source::Path(p)) if list => ArtifactArg::Many(values::list_folder(&p)?),
            Some(Source::Path(p)) => {
                let optional = matches!(ty, TypeRepr::Optional { .. });
                if optional && is_absent_marker(&p) {
                    ArtifactArg::Absent
                } else if p.exists() {
                    ArtifactArg::One(p)
                } else if optional {
                    ArtifactArg::Absent
                } else {
                    return Err(ExecError::input(format!(
                        "input `{input}`: `{}` does not exist",
                        p.display()
                    )));
                }
            }
        };
        inputs.insert(
            input.clone(),
            InputArtifact {
                arg,
                ty: ty.clone(),
            },
        );
    }
    let outs = output_paths(a, &sig.outputs)?;
    let outputs: IndexMap<String, OutputArtifact> = outs
        .iter()
        .zip(&sig.outputs)
        .map(|((name, path), (_, ty))| {
            (
                name.clone(),
                OutputArtifact {
                    path: path.to_path_buf(),
                    ty: ty.clone(),
                },
            )
        })
        .collect();
    let scratch = Scratch::new()?;
    let call = BuiltinCall {
        module: module.to_string(),
        name: name.to_string(),
        params,
        inputs,
        outputs,
        scratch: scratch.0.clone(),
        // Relative paths are the container's current folder.
        workdir: PathBuf::new(),
    };
    runner.run(&call).map_err(|e| {
        ExecError::step(format!(
            "{module}.{name} failed: [{}] {}",
            e.code, e.message
        ))
    })?;
    for (name, path) in &outs {
        if !path.exists() {
            return Err(ExecError::output(format!(
                "{module}.{name} finished without writing its output `{name}` at `{}`",
                path.display()
            )));
        }
    }
    let typed: Vec<(String, &Path, &TypeRepr)> = outs
        .iter()
        .zip(&sig.outputs)
        .map(|((name, path), (_, ty))| (name.clone(), *path, ty))
        .collect();
    kfp_metadata::write(exec_input.as_ref(), &typed)?;
    Ok(EXIT_OK)
}

fn strip_optional(t: &TypeRepr) -> &TypeRepr {
    match t {
        TypeRepr::Optional { inner } => strip_optional(inner),
        other => other,
    }
}

#[cfg(feature = "builtins")]
fn builtins() -> impl BuiltinRunner {
    flowc_builtins::Builtins
}

#[cfg(not(feature = "builtins"))]
fn builtins() -> impl BuiltinRunner {
    flowc_runtime::builtin::NoBuiltins
}

/// A scratch folder for a built-in step, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, ExecError> {
        let dir = std::env::temp_dir().join(format!(
            "flowc-exec-{}-{}",
            std::process::id(),
            flowc_runtime::util::unique()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| {
            ExecError::output(format!(
                "cannot create a scratch folder `{}`: {e}",
                dir.display()
            ))
        })?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a check or an evaluation reads: parameters, loop items, metrics files and value
/// outputs of tasks.
struct ExecEnv {
    params: IndexMap<String, Json>,
    values: IndexMap<String, Json>,
    items: IndexMap<usize, Json>,
    metrics: IndexMap<String, Vec<PathBuf>>,
    listed: Vec<String>,
}

impl Env for ExecEnv {
    fn param(&self, name: &str) -> Option<RValue> {
        self.params.get(name).cloned().map(RValue::Json)
    }
    fn output(&self, task: &str, output: &str, _collected: bool) -> Option<RValue> {
        let key = format!("{task}.{output}");
        if let Some(v) = self.values.get(&key) {
            return Some(RValue::Json(v.clone()));
        }
        let paths = self.metrics.get(&key)?;
        let artifact = |p: &PathBuf| {
            RValue::Artifact(ArtifactRef {
                object: String::new(),
                kind: "file".into(),
                path: p.clone(),
                bytes: std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            })
        };
        if self.listed.contains(&key) {
            Some(RValue::List(paths.iter().map(artifact).collect()))
        } else {
            paths.first().map(artifact)
        }
    }
    fn loop_item(&self, l: usize) -> Option<RValue> {
        self.items.get(&l).cloned().map(RValue::Json)
    }
}

fn env_of(a: &ExecArgs, expr: &str) -> Result<(Value, ExecEnv), ExecError> {
    let value: Value = serde_json::from_str(expr)
        .map_err(|e| ExecError::usage(format!("the expression is not a plan value: {e}")))?;
    let sig = Signature::parse(a.signature.as_deref())?;
    let params = params(a, &sig.params)?;
    let given = named("--item", &a.items, &sig.items)?;
    let mut items = IndexMap::new();
    for (l, ty) in &sig.items {
        let index: usize = l.parse().map_err(|_| {
            ExecError::usage(format!("`--signature`: loop `{l}` is not a loop index"))
        })?;
        let text = given
            .get(l.as_str())
            .ok_or_else(|| ExecError::usage(format!("`--item {l}=TEXT` is required")))?;
        let v = decode(ty, text)
            .map_err(|why| ExecError::value(format!("the item of loop {l}: {why}")))?;
        items.insert(index, v);
    }
    let given = named("--value", &a.values, &sig.values)?;
    let mut values = IndexMap::new();
    for (key, ty) in &sig.values {
        let text = given
            .get(key.as_str())
            .ok_or_else(|| ExecError::usage(format!("`--value {key}=TEXT` is required")))?;
        let v = decode(ty, text)
            .map_err(|why| ExecError::value(format!("the value of `{key}`: {why}")))?;
        values.insert(key.clone(), v);
    }
    let exec_input = executor_input(a)?;
    let mut metrics = IndexMap::new();
    let mut listed = Vec::new();
    for (key, text) in &a.metrics {
        if !key.contains('.') {
            return Err(ExecError::usage(format!(
                "`--metrics {key}=…`: expected TASK.OUTPUT=PATH"
            )));
        }
        let paths = match Source::parse(text) {
            Source::Path(p) => {
                if !p.exists() {
                    return Err(ExecError::input(format!(
                        "the metrics of `{key}`: `{}` does not exist",
                        p.display()
                    )));
                }
                if p.is_dir() {
                    listed.push(key.clone());
                    values::list_folder(&p)?
                } else {
                    vec![p]
                }
            }
            Source::ExecutorInput(k) => {
                listed.push(key.clone());
                values::executor_artifacts(exec_input.as_ref(), &k)?
            }
        };
        metrics.insert(key.clone(), paths);
    }
    Ok((
        value,
        ExecEnv {
            params,
            values,
            items,
            metrics,
            listed,
        },
    ))
}

fn run_check(a: &ExecArgs, expr: &str, source: &str) -> Result<u8, ExecError> {
    let (value, env) = env_of(a, expr)?;
    match eval(&value, &env) {
        RValue::Json(Json::Bool(true)) => Ok(EXIT_OK),
        RValue::Json(Json::Bool(false)) => {
            eprintln!("check failed: {source}");
            Ok(EXIT_ERRORS)
        }
        other => {
            eprintln!(
                "check failed: {source} (its value is `{}`, not true or false: a metric is missing or has another type)",
                other.to_text()
            );
            Ok(EXIT_ERRORS)
        }
    }
}

fn run_eval(a: &ExecArgs, expr: &str) -> Result<u8, ExecError> {
    let (value, env) = env_of(a, expr)?;
    let wanted = [("value".to_string(), TypeRepr::Unknown)];
    let outs = output_paths(a, &wanted)?;
    let text = eval(&value, &env).to_text();
    write(outs[0].1, text.as_bytes())?;
    Ok(EXIT_OK)
}

fn run_enumerate(a: &ExecArgs, text: &str) -> Result<u8, ExecError> {
    let sig = Signature::parse(a.signature.as_deref())?;
    let item_type = match sig.enumerated {
        Some(TypeRepr::List { item }) => *item,
        Some(other) => other,
        None => TypeRepr::Unknown,
    };
    let list = match serde_json::from_str::<Json>(text) {
        Ok(Json::Array(items)) => items,
        _ => {
            return Err(ExecError::value(format!(
                "the list to loop over is not a JSON list: `{text}`"
            )))
        }
    };
    let mut numbered = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let t = text_of(item);
        decode(&item_type, &t)
            .map_err(|why| ExecError::value(format!("item {i} of the loop: {why}")))?;
        numbered.push(serde_json::json!({"i": format!("{i:05}"), "v": t}));
    }
    let wanted = [("items".to_string(), TypeRepr::Unknown)];
    let outs = output_paths(a, &wanted)?;
    write(outs[0].1, Json::Array(numbered).to_string().as_bytes())?;
    Ok(EXIT_OK)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ExecError> {
    std::fs::write(path, bytes)
        .map_err(|e| ExecError::output(format!("cannot write `{}`: {e}", path.display())))
}

/// Copies a file, or a folder with everything in it.
fn copy(src: &Path, dst: &Path) -> Result<(), ExecError> {
    let meta = std::fs::metadata(src)
        .map_err(|e| ExecError::input(format!("cannot read `{}`: {e}", src.display())))?;
    make_parent(dst)?;
    if meta.is_dir() {
        std::fs::create_dir_all(dst).map_err(|e| {
            ExecError::output(format!("cannot create the folder `{}`: {e}", dst.display()))
        })?;
        let entries = std::fs::read_dir(src)
            .map_err(|e| ExecError::input(format!("cannot read `{}`: {e}", src.display())))?;
        for e in entries {
            let e =
                e.map_err(|e| ExecError::input(format!("cannot read `{}`: {e}", src.display())))?;
            copy(&e.path(), &dst.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(src, dst).map(|_| ()).map_err(|e| {
            ExecError::output(format!(
                "cannot copy `{}` to `{}`: {e}",
                src.display(),
                dst.display()
            ))
        })
    }
}
