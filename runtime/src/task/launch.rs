//! Starting a step: a container step's command and environment under the run's engine (a host
//! process, or the pod's view of it for the sandbox and container engines, with the secrets it
//! needs checked before it starts), and a built-in step's call, run in this process or in one
//! of its own.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde_json::Value as Json;

use crate::builtin::{ArtifactArg, BuiltinCall, InputArtifact, OutputArtifact};
use crate::context::RunContext;
use crate::error::{RunCode, RunError};
use crate::eval::RValue;
use crate::exec::{process_peak_rss, run_process, ProcessResult, ProcessSpec, Reason};
use crate::record::Amounts;
use crate::sandbox::{self, PodView, INPUTS, OUTPUTS};
use crate::types::Engine;
use flowc_compiler::plan::{Part, Task};

/// How running a step ended: why, the process's measures (none when it could not start), and
/// the failure in words.
pub(super) type StepEnd = (Reason, Option<ProcessResult>, Option<String>);

/// A container step's image, command and declared environment, as the plan has them, and
/// whether it is a Python step (its command is the runtime entry point's).
pub(super) type Container<'a> = (&'a str, &'a [Vec<Part>], &'a [(String, Vec<Part>)], bool);

/// Where a container step's files are: its inputs, its output folder (when it has outputs),
/// its log, and the folder kept for it (`--keep`), where the script that enters its sandbox
/// goes.
pub(super) struct StepFiles<'a> {
    pub(super) inputs: &'a IndexMap<String, RValue>,
    pub(super) out_dir: Option<&'a Path>,
    pub(super) log: &'a Path,
    pub(super) keep: Option<&'a Path>,
}

/// The script in a kept folder that enters the step's sandbox (`--keep`).
pub(super) const ENTER_SCRIPT: &str = "enter.sh";

/// The text of one template part: with this machine's paths (`pod` false, the host engine)
/// or the pod's (`/tmp/flowc/inputs/NAME`, `/tmp/flowc/outputs/NAME`).
fn part_text(p: &Part, files: &StepFiles<'_>, pod: bool) -> String {
    match p {
        Part::Text { text } => text.clone(),
        Part::InputPath { name } if pod => format!("{INPUTS}/{name}"),
        Part::OutputPath { name } if pod => format!("{OUTPUTS}/{name}"),
        Part::Param { name } | Part::InputPath { name } => files
            .inputs
            .get(name)
            .map(RValue::to_text)
            .unwrap_or_default(),
        Part::OutputPath { name } => files
            .out_dir
            .map(|d| d.join(name).to_string_lossy().into_owned())
            .unwrap_or_default(),
        Part::Value { .. } => String::new(),
    }
}

fn template_text(parts: &[Part], files: &StepFiles<'_>, pod: bool) -> String {
    parts.iter().map(|p| part_text(p, files, pod)).collect()
}

/// Why a container step cannot start with the secrets and configs the run was given, if it
/// cannot: one it needs was not given, or one that is not text is wanted as a variable.
pub(super) fn secret_problem(ctx: &RunContext<'_>, task: &Task) -> Option<String> {
    let s = &task.settings;
    for (_, config) in s.config_env.iter().chain(&s.config_mounts) {
        if !ctx.configs.contains_key(config) {
            let e = RunError::new(
                RunCode::MissingConfig,
                format!("the step needs config `{config}`, which the run was not given"),
            )
            .hint(format!("pass its file with `--config {config}=PATH`"));
            return Some(e.to_string());
        }
    }
    for (var, config) in &s.config_env {
        if ctx.configs.get(config).and_then(|b| env_text(b)).is_none() {
            let e = RunError::new(
                RunCode::BadConfig,
                format!("config `{config}` is not text, so it cannot be variable `{var}`"),
            )
            .hint(format!(
                "mount it as a file instead (`mount {config} at \"/path\"`)"
            ));
            return Some(e.to_string());
        }
    }
    for (_, secret) in s.secret_env.iter().chain(&s.secret_mounts) {
        if !ctx.secrets.contains_key(secret) {
            let e = RunError::new(
                RunCode::MissingSecret,
                format!("the step needs secret `{secret}`, which the run was not given"),
            )
            .hint(format!("pass its file with `--secret {secret}=PATH`"));
            return Some(e.to_string());
        }
    }
    for (var, secret) in &s.secret_env {
        if ctx.secrets.get(secret).and_then(|b| env_text(b)).is_none() {
            let e = RunError::new(
                RunCode::BadSecret,
                format!("secret `{secret}` is not text, so it cannot be variable `{var}`"),
            )
            .hint(format!(
                "mount it as a file instead (`mount {secret} at \"/path\"`)"
            ));
            return Some(e.to_string());
        }
    }
    None
}

/// A secret's value as an environment variable: its text without the last line break; none
/// when it is not text (or holds a NUL byte, which no variable can).
fn env_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.contains('\0')).then(|| text.trim_end_matches(['\n', '\r']))
}

/// The values to hide in the step's log: every secret it uses, as bytes, without the last
/// line break (as a variable holds it, and as a file prints it).
fn secret_values(ctx: &RunContext<'_>, task: &Task) -> Vec<Vec<u8>> {
    let s = &task.settings;
    let whole = s
        .secret_mounts
        .iter()
        .filter_map(|(_, secret)| ctx.secret_parts.get(secret))
        .flatten();
    s.secret_env
        .iter()
        .chain(&s.secret_mounts)
        .filter_map(|(_, secret)| ctx.secrets.get(secret))
        .chain(whole)
        .map(|b| {
            let end = b.len()
                - b.iter()
                    .rev()
                    .take_while(|c| matches!(c, b'\n' | b'\r'))
                    .count();
            b[..end].to_vec()
        })
        .collect()
}

/// The process of a container step under the run's engine (see [`crate::sandbox`]).
pub(super) fn container_spec(
    ctx: &RunContext<'_>,
    task: &Task,
    (image, command, env, python): Container<'_>,
    files: &StepFiles<'_>,
    limits: &Amounts,
) -> Result<ProcessSpec, String> {
    let python = ctx.python.as_ref().filter(|_| python);
    let local = &ctx.local;
    let spec = |argv, env, clear_env, memory_limit| ProcessSpec {
        argv,
        env,
        cwd: ctx.workdir.clone(),
        log: files.log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit,
        secrets: secret_values(ctx, task),
        clear_env,
    };
    if local.engine == Engine::Host {
        let on_host: Vec<(String, PathBuf)> = volume_mounts(ctx, task)
            .into_iter()
            .map(|(dir, path)| (path, dir))
            .chain(whole_object_mounts(ctx, task))
            .collect();
        let mut argv: Vec<String> = command
            .iter()
            .map(|c| crate::volumes::substitute(&template_text(c, files, false), &on_host))
            .collect();
        let mut vars = host_env(ctx, task, env, files);
        for (_, v) in vars.iter_mut() {
            *v = crate::volumes::substitute(v, &on_host);
        }
        for (path, v) in &task.settings.volume_mounts {
            if let Some((_, dir)) = on_host.iter().find(|(p, _)| p == path) {
                let upper = crate::util::file_safe(v).to_ascii_uppercase();
                vars.push((
                    format!("FLOWC_VOLUME_DIR_{upper}"),
                    dir.to_string_lossy().into_owned(),
                ));
            }
        }
        if let Some(py) = python {
            use_local_python(py, &mut argv, &mut vars);
        }
        return Ok(spec(argv, vars, false, limits.memory_bytes));
    }
    let mut view = pod_view(ctx, task, (image, command, env, false), files, limits);
    if let Some(py) = python {
        use_local_python(py, &mut view.argv, &mut view.env);
        // The source roots and the runtime package are seen where they are, read-only (a
        // root under `/tmp` would otherwise be hidden by the pod's own `/tmp`).
        view.read_only.extend(
            py.path
                .iter()
                .chain(interpreter_home(&py.interpreter).as_ref())
                .map(|p| (p.clone(), p.to_string_lossy().into_owned())),
        );
    }
    let (uid, gid) = current_ids();
    let user = format!("{uid}:{gid}");
    match local.engine {
        Engine::Docker | Engine::Podman => {
            let argv = sandbox::container::argv(local.engine.name(), &view, &user);
            // The container engine enforces the limit; this watch would see only its client.
            Ok(spec(argv, view.env, false, None))
        }
        _ => {
            sandbox::bwrap::find_program(&view)?;
            let argv = sandbox::bwrap::argv(&local.bwrap, &view, &sandbox::bwrap::RealFs);
            if let Some(dir) = files.keep {
                write_enter_script(dir, task, &view, &local.bwrap);
            }
            Ok(spec(argv, view.env, true, limits.memory_bytes))
        }
    }
}

/// `--keep`: writes a script into `dir` that starts a shell in the step's sandbox, as the step
/// saw it (its mounts, its environment without the secrets' variables, its limits aside).
fn write_enter_script(dir: &Path, task: &Task, view: &PodView, bwrap: &Path) {
    let mut shell = view.clone();
    shell.argv = vec!["/bin/sh".into()];
    let secret_vars: Vec<&str> = task
        .settings
        .secret_env
        .iter()
        .map(|(v, _)| v.as_str())
        .collect();
    let mut words = vec!["exec".to_string(), "env".into(), "-i".into()];
    words.extend(
        shell
            .env
            .iter()
            .filter(|(k, _)| !secret_vars.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}")),
    );
    words.extend(sandbox::bwrap::argv(bwrap, &shell, &sandbox::bwrap::RealFs));
    let line: Vec<String> = words.iter().map(|w| shell_quote(w)).collect();
    let script = format!(
        "#!/bin/sh\n# The sandbox of task `{}` (flowc run --keep); secrets set as variables are left out.\n{}\n",
        task.id,
        line.join(" ")
    );
    let _ = std::fs::write(dir.join(ENTER_SCRIPT), script);
}

/// `word` quoted for `sh`: as is when it is plain, else in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A Python step run by this machine's interpreter: the command's `python3` replaced by the
/// chosen interpreter, and `PYTHONPATH` set to the runtime package and the source roots.
fn use_local_python(
    py: &crate::python::PythonSetup,
    argv: &mut [String],
    vars: &mut Vec<(String, String)>,
) {
    if let Some(first) = argv.first_mut() {
        *first = py.interpreter.to_string_lossy().into_owned();
    }
    vars.retain(|(k, _)| k != "PYTHONPATH");
    vars.push(("PYTHONPATH".into(), py.python_path()));
}

/// The installation an interpreter under `/tmp` belongs to (`<home>/bin/python`: a
/// virtualenv's root, or a Python installed there), which the pod's own `/tmp` would hide: the
/// sandbox binds it where it is, read-only. Elsewhere the pod sees the machine's files anyway.
fn interpreter_home(interpreter: &Path) -> Option<PathBuf> {
    let bin = interpreter.parent()?;
    let home = match bin.parent() {
        Some(h) if h != Path::new("/") && h != Path::new("/tmp") => h,
        _ => bin,
    };
    (home.starts_with("/tmp") && home != Path::new("/tmp")).then(|| home.to_path_buf())
}

/// The variables a host process gets besides this process's own: the declared ones, the run
/// and task, secrets and configs as variables, and each mounted secret's (config's) file as
/// `FLOWC_SECRET_FILE_<NAME>` (`FLOWC_CONFIG_FILE_<NAME>`): a host process cannot see it at
/// its declared path.
fn host_env(
    ctx: &RunContext<'_>,
    task: &Task,
    env: &[(String, Vec<Part>)],
    files: &StepFiles<'_>,
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, parts)| (k.clone(), template_text(parts, files, false)))
        .collect();
    vars.push(("FLOWC_RUN_ID".into(), ctx.run_id.clone()));
    vars.push(("FLOWC_TASK".into(), task.id.clone()));
    vars.extend(secret_env(ctx, task));
    let s = &task.settings;
    let mounted = (s
        .secret_mounts
        .iter()
        .map(|m| ("SECRET", m, &ctx.secret_files)))
    .chain(
        s.config_mounts
            .iter()
            .map(|m| ("CONFIG", m, &ctx.config_files)),
    );
    for (kind, (_, name), files) in mounted {
        if let Some(file) = files.get(name) {
            let upper = crate::util::file_safe(name).to_ascii_uppercase();
            let what = if file.is_dir() { "DIR" } else { "FILE" };
            vars.push((
                format!("FLOWC_{kind}_{what}_{upper}"),
                file.to_string_lossy().into_owned(),
            ));
        }
    }
    vars
}

/// The folders of the whole Secrets and ConfigMaps (declared without `key`) the step mounts,
/// and their mount paths: the host engine writes the folder where a path starts with the
/// mount path, as for volumes.
fn whole_object_mounts(ctx: &RunContext<'_>, task: &Task) -> Vec<(String, PathBuf)> {
    let s = &task.settings;
    let secrets = s.secret_mounts.iter().map(|m| (m, &ctx.secret_files));
    let configs = s.config_mounts.iter().map(|m| (m, &ctx.config_files));
    secrets
        .chain(configs)
        .filter_map(|((path, name), files)| {
            let dir = files.get(name).filter(|f| f.is_dir())?;
            Some((path.clone(), dir.clone()))
        })
        .collect()
}

/// Secrets and configs as variables: name and value (checked to be text by
/// [`secret_problem`]).
fn secret_env(ctx: &RunContext<'_>, task: &Task) -> Vec<(String, String)> {
    let s = &task.settings;
    let secrets = s.secret_env.iter().map(|e| (e, &ctx.secrets));
    let configs = s.config_env.iter().map(|e| (e, &ctx.configs));
    secrets
        .chain(configs)
        .filter_map(|((var, name), values)| {
            let text = env_text(values.get(name)?)?;
            Some((var.clone(), text.to_string()))
        })
        .collect()
}

/// The step as its pod sees it: the pod's paths in its command and variables, its inputs and
/// secrets mounted read-only, its environment alone (with the usual `PATH` and `HOME=/tmp` in
/// the sandbox, where no image sets them), the variables passed through, and its limits.
fn pod_view(
    ctx: &RunContext<'_>,
    task: &Task,
    (image, command, env, _): Container<'_>,
    files: &StepFiles<'_>,
    limits: &Amounts,
) -> PodView {
    let local = &ctx.local;
    let mut vars: IndexMap<String, String> = IndexMap::new();
    if local.engine == Engine::Sandbox {
        vars.insert("PATH".into(), sandbox::POD_PATH.into());
        vars.insert("HOME".into(), "/tmp".into());
    }
    for (k, parts) in env {
        vars.insert(k.clone(), template_text(parts, files, true));
    }
    vars.insert("FLOWC_RUN_ID".into(), ctx.run_id.clone());
    vars.insert("FLOWC_TASK".into(), task.id.clone());
    vars.extend(secret_env(ctx, task));
    vars.extend(local.pass_env.iter().cloned());
    let mut read_only = input_mounts(task, files.inputs);
    for (path, secret) in &task.settings.secret_mounts {
        if let Some(file) = ctx.secret_files.get(secret) {
            read_only.push((file.clone(), path.clone()));
        }
    }
    for (path, config) in &task.settings.config_mounts {
        if let Some(file) = ctx.config_files.get(config) {
            read_only.push((file.clone(), path.clone()));
        }
    }
    let read_write = volume_mounts(ctx, task);
    let res = &task.settings.resources;
    PodView {
        image: image.to_string(),
        argv: command
            .iter()
            .map(|c| template_text(c, files, true))
            .collect(),
        env: vars.into_iter().collect(),
        read_only,
        read_write,
        outputs: files.out_dir.map(Path::to_path_buf),
        workdir: ctx.workdir.clone(),
        network: local.network && !task.settings.network_off,
        cpu_limit_millis: res.cpu_limit_millis,
        memory_request_bytes: res.memory_bytes,
        memory_limit_bytes: limits.memory_bytes,
    }
}

/// The folders of the step's volumes and their mount paths.
fn volume_mounts(ctx: &RunContext<'_>, task: &Task) -> Vec<(PathBuf, String)> {
    task.settings
        .volume_mounts
        .iter()
        .filter_map(|(path, v)| Some((ctx.volumes.dirs.get(v)?.clone(), path.clone())))
        .collect()
}

/// The step's input artifacts at the pod's paths: `/tmp/flowc/inputs/NAME`, and a list as a
/// folder with one entry per item named by its zero-padded index (as the Argo target does).
fn input_mounts(task: &Task, inputs: &IndexMap<String, RValue>) -> Vec<(PathBuf, String)> {
    let mut mounts = Vec::new();
    for i in task.inputs.iter().filter(|i| i.ty.is_artifact()) {
        match inputs.get(&i.name) {
            Some(RValue::Artifact(a)) => {
                mounts.push((a.path.clone(), format!("{INPUTS}/{}", i.name)))
            }
            Some(RValue::List(items)) => {
                for (n, item) in items.iter().enumerate() {
                    if let RValue::Artifact(a) = item {
                        mounts.push((a.path.clone(), format!("{INPUTS}/{}/{n:05}", i.name)));
                    }
                }
            }
            _ => {}
        }
    }
    mounts
}

/// This process's user and group ids (a container step runs as them).
#[allow(unsafe_code)]
fn current_ids() -> (u32, u32) {
    // SAFETY: getuid and getgid cannot fail and touch no memory.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// Runs a built-in step in a process of its own (see [`crate::builtin::BuiltinRunner::process`]):
/// the call is saved as JSON, the process runs under the step's timeout and memory limit, and
/// a failure's detail is the step's own error.
pub(super) fn builtin_process(
    ctx: &RunContext<'_>,
    task: &Task,
    call: &BuiltinCall,
    call_file: &Path,
    argv: Vec<String>,
    log: &Path,
    limits: &Amounts,
) -> StepEnd {
    let saved = serde_json::to_vec(call)
        .map_err(|e| e.to_string())
        .and_then(|bytes| std::fs::write(call_file, bytes).map_err(|e| e.to_string()));
    if let Err(e) = saved {
        return (
            Reason::Failed,
            None,
            Some(format!("cannot save the call of the built-in step: {e}")),
        );
    }
    let spec = ProcessSpec {
        argv,
        env: vec![
            ("FLOWC_RUN_ID".into(), ctx.run_id.clone()),
            ("FLOWC_TASK".into(), task.id.clone()),
        ],
        cwd: ctx.workdir.clone(),
        log: log.to_path_buf(),
        timeout: task.settings.timeout_ms.map(Duration::from_millis),
        memory_limit: limits.memory_bytes,
        secrets: Vec::new(),
        clear_env: false,
    };
    let p = run_process(&spec, ctx.cancel);
    let own_error = std::fs::read_to_string(crate::builtin::error_file(call_file))
        .ok()
        .map(|e| e.trim_end().to_string())
        .filter(|e| !e.is_empty());
    let detail = process_detail(&p, limits, own_error);
    (p.reason, Some(p), detail)
}

/// Runs a built-in step on this thread.
pub(super) fn builtin_in_process(ctx: &RunContext<'_>, call: &BuiltinCall, log: &Path) -> StepEnd {
    let t0 = Instant::now();
    let r = ctx.builtins.run(call);
    let wall = t0.elapsed().as_secs_f64();
    let p = ProcessResult {
        reason: if r.is_ok() {
            Reason::Ok
        } else {
            Reason::Failed
        },
        exit_code: Some(if r.is_ok() { 0 } else { 1 }),
        signal: None,
        wall_seconds: wall,
        cpu_seconds: wall,
        peak_rss_bytes: process_peak_rss(),
        error: r.as_ref().err().map(|e| e.to_string()),
        logged: r.is_err(),
        unlogged: None,
    };
    if let Err(e) = &r {
        let _ = std::fs::write(
            log,
            format!(
                "flowc: built-in {}.{} failed: {e}\n",
                call.module, call.name
            ),
        );
    }
    (p.reason, Some(p), r.err().map(|e| e.to_string()))
}

/// Why a process attempt did not succeed, in words: its own error when it left one (a built-in
/// step's code and message), else its exit code or signal, memory limit or timeout; and, when
/// its log could not be written, the end of its output.
pub(super) fn process_detail(
    p: &ProcessResult,
    limits: &Amounts,
    own_error: Option<String>,
) -> Option<String> {
    let detail = process_reason(p, limits, own_error);
    match (detail, &p.unlogged) {
        (Some(d), Some(u)) => Some(format!("{d}; {u}")),
        (d, _) => d,
    }
}

fn process_reason(
    p: &ProcessResult,
    limits: &Amounts,
    own_error: Option<String>,
) -> Option<String> {
    p.error.clone().or_else(|| match p.reason {
        Reason::Failed => Some(own_error.unwrap_or_else(|| match (p.exit_code, p.signal) {
            (Some(c), _) => format!("exited with code {c}"),
            (_, Some(s)) => format!("killed by signal {s}"),
            _ => "failed".into(),
        })),
        Reason::Oom => Some(format!(
            "exceeded its memory limit ({} bytes)",
            limits.memory_bytes.unwrap_or(0)
        )),
        Reason::Timeout => Some("exceeded its timeout".into()),
        _ => None,
    })
}

/// A built-in step runs on this machine: a text parameter that starts with a volume's mount
/// path (`path: "/results/rows.csv"`) names the volume's folder instead, as a host process's
/// command does.
pub(super) fn builtin_on_volumes(ctx: &RunContext<'_>, task: &Task, call: &mut BuiltinCall) {
    let on_host: Vec<(String, PathBuf)> = volume_mounts(ctx, task)
        .into_iter()
        .map(|(dir, path)| (path, dir))
        .collect();
    if on_host.is_empty() {
        return;
    }
    for v in call.params.values_mut() {
        if let Json::String(s) = v {
            *s = crate::volumes::substitute(s, &on_host);
        }
    }
}

pub(super) fn builtin_call(
    task: &Task,
    module: &str,
    name: &str,
    inputs: &IndexMap<String, RValue>,
    out_dir: &Path,
    work: &Path,
) -> BuiltinCall {
    let mut params = IndexMap::new();
    let mut arts = IndexMap::new();
    for i in &task.inputs {
        let v = inputs
            .get(&i.name)
            .cloned()
            .unwrap_or(RValue::Json(Json::Null));
        if i.ty.is_artifact() {
            let arg = match v {
                RValue::Artifact(a) => ArtifactArg::One(a.path),
                RValue::List(items) => ArtifactArg::Many(
                    items
                        .into_iter()
                        .filter_map(|x| match x {
                            RValue::Artifact(a) => Some(a.path),
                            _ => None,
                        })
                        .collect(),
                ),
                RValue::Json(_) => ArtifactArg::Absent,
            };
            arts.insert(
                i.name.clone(),
                InputArtifact {
                    arg,
                    ty: i.ty.clone(),
                },
            );
        } else {
            params.insert(i.name.clone(), v.to_json());
        }
    }
    let outputs = task
        .outputs
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                OutputArtifact {
                    path: out_dir.join(&o.name),
                    ty: o.ty.clone(),
                },
            )
        })
        .collect();
    BuiltinCall {
        module: module.to_string(),
        name: name.to_string(),
        params,
        inputs: arts,
        outputs,
        scratch: work.to_path_buf(),
        workdir: PathBuf::new(),
    }
}
