//! Starting a step's process. On Linux this starts it itself, with `clone` where the program's
//! path is known ([`vfork`]) and the C library's `posix_spawnp` otherwise, with the
//! environment prepared once per run: `std::process::Command` copies and sorts this
//! process's whole environment again for every spawn as soon as a variable is added (every
//! step gets `FLOWC_RUN_ID` and `FLOWC_TASK`), and duplicates the descriptors it is given
//! before handing them over. The child is started exactly as `Command` starts it: in a process
//! group of its own, with an empty signal mask, `SIGPIPE` back to its default, standard input
//! from `/dev/null`, stdout and stderr into the given descriptor, and the environment sorted
//! by name (the step's variables replacing the runner's of the same name). Elsewhere, and
//! when the step's working folder is not the runner's, `Command` starts it.

use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What starting a step needs to know besides its command: its variables, whether it gets
/// them alone (not this process's as well), and its working folder.
pub(crate) struct Start<'a> {
    pub(crate) env: &'a [(String, String)],
    pub(crate) clear_env: bool,
    pub(crate) cwd: &'a Path,
}

/// A started step: its pid, and its pidfd when the way it was started gave one.
pub(crate) struct Spawned {
    pub(crate) pid: i32,
    pub(crate) pidfd: Option<OwnedFd>,
}

impl Spawned {
    fn pid_only(pid: i32) -> Spawned {
        Spawned { pid, pidfd: None }
    }
}

/// Starts the step in a process group of its own, with its output (stdout and stderr) into
/// `output`. `output` is closed here once the child holds it.
pub(crate) fn spawn(
    spec: &Start<'_>,
    program: &str,
    args: &[String],
    output: OwnedFd,
) -> io::Result<Spawned> {
    let here = here();
    let same_folder =
        here == Some(spec.cwd) || spec.cwd.as_os_str() == "." || spec.cwd.as_os_str().is_empty();
    // The step's program sees the machine's huge-page setting, not the runner's.
    crate::huge_pages::for_child(|| {
        #[cfg(target_os = "linux")]
        if let Some(null) = null_input() {
            let cwd = (!same_folder).then_some(spec.cwd);
            if let Some(started) = spawn_here(spec, program, args, (null, &output), cwd) {
                return started;
            }
        }
        spawn_with_std(spec, program, args, output, !same_folder).map(Spawned::pid_only)
    })
}

/// [`spawn`] on Linux, in `cwd` (else the runner's folder): by `clone` ([`vfork`]) when the
/// program's path is known (it holds a `/`, or it was found in `PATH` before), else by the C
/// library's search of `PATH`, which then also reports a program that is not there, or not
/// executable. `fds`: standard input (`/dev/null`) and the output. `None` when neither can
/// start it (the C library's way does not change folder).
#[cfg(target_os = "linux")]
fn spawn_here(
    spec: &Start<'_>,
    program: &str,
    args: &[String],
    fds: (&File, &OwnedFd),
    cwd: Option<&Path>,
) -> Option<io::Result<Spawned>> {
    let call = match Call::new(spec, program, args, fds, cwd) {
        Ok(call) => call,
        Err(e) => return Some(Err(e)),
    };
    if program.contains('/') {
        return call.at(&call.file);
    }
    let Some(exe) = path_cache::found(program) else {
        return call.searched();
    };
    match call.at(&exe)? {
        Err(e) => {
            path_cache::forget(program);
            match e.raw_os_error() {
                Some(libc::ENOENT | libc::EACCES | libc::ENOTDIR) => call.searched(),
                _ => Some(Err(e)),
            }
        }
        started => Some(started),
    }
}

/// A step's command, environment, descriptors and folder, made ready for the C calls.
#[cfg(target_os = "linux")]
struct Call {
    file: CString,
    /// The arguments `argv` points into.
    _words: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    /// The variables `envp` points into.
    _env: (Vec<EnvEntry>, Vec<&'static EnvEntry>),
    envp: Vec<*const libc::c_char>,
    fds: (libc::c_int, libc::c_int),
    cwd: Option<CString>,
}

#[cfg(target_os = "linux")]
impl Call {
    fn new(
        spec: &Start<'_>,
        program: &str,
        args: &[String],
        (null, output): (&File, &OwnedFd),
        cwd: Option<&Path>,
    ) -> io::Result<Call> {
        let file = c_string(program)?;
        let words = args
            .iter()
            .map(|a| c_string(a))
            .collect::<io::Result<Vec<_>>>()?;
        let mut argv: Vec<*const libc::c_char> = Vec::with_capacity(words.len() + 2);
        argv.push(file.as_ptr());
        argv.extend(words.iter().map(|w| w.as_ptr()));
        argv.push(std::ptr::null());
        let (own, base) = child_env(spec)?;
        let envp = envp(&own, &base);
        let cwd = match cwd {
            Some(dir) => Some(CString::new(dir.as_os_str().as_bytes()).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, "the folder holds a NUL byte")
            })?),
            None => None,
        };
        Ok(Call {
            file,
            _words: words,
            argv,
            _env: (own, base),
            envp,
            fds: (null.as_raw_fd(), output.as_raw_fd()),
            cwd,
        })
    }

    /// Starts the program at `exe` (not looked up in `PATH`).
    fn at(&self, exe: &CStr) -> Option<io::Result<Spawned>> {
        let cwd = self.cwd.as_deref();
        match vfork::start(exe, &self.argv, &self.envp, self.fds, cwd) {
            Some(started) => Some(started.map(|s| Spawned {
                pid: s.pid,
                pidfd: Some(s.pidfd),
            })),
            None if cwd.is_none() => Some(
                posix::start(exe, false, &self.argv, &self.envp, self.fds).map(Spawned::pid_only),
            ),
            None => None,
        }
    }

    /// Starts the program found by the C library's search of `PATH`, in the runner's folder.
    fn searched(&self) -> Option<io::Result<Spawned>> {
        self.cwd.is_none().then(|| {
            posix::start(&self.file, true, &self.argv, &self.envp, self.fds).map(Spawned::pid_only)
        })
    }
}

/// [`spawn`] through `std::process::Command`.
fn spawn_with_std(
    spec: &Start<'_>,
    program: &str,
    args: &[String],
    output: OwnedFd,
    change_folder: bool,
) -> io::Result<i32> {
    // `cmd` holds the output's descriptor: it is dropped when this returns, or the output
    // would never reach its end.
    let mut cmd = Command::new(program);
    if spec.clear_env {
        cmd.env_clear();
    }
    let stdin = null_input()
        .and_then(|f| f.try_clone().ok())
        .map_or_else(Stdio::null, Stdio::from);
    cmd.args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(stdin)
        // No `pre_exec`: std then starts the child with posix_spawn (vfork), not fork.
        .process_group(0);
    let writer = File::from(output);
    match writer.try_clone() {
        Ok(w) => cmd.stdout(w).stderr(writer),
        Err(_) => cmd.stdout(writer).stderr(Stdio::null()),
    };
    // Only change directory when the step's folder is not already ours: where the C
    // library's posix_spawn cannot change directory, std forks instead.
    if change_folder {
        cmd.current_dir(spec.cwd);
    }
    // The child is reaped with `wait4` (for its resource usage), not through `Child`.
    cmd.spawn().map(|child| child.id() as i32)
}

/// The runner's working folder, asked once: flowc never changes it, and asking costs a system
/// call per step.
fn here() -> Option<&'static Path> {
    static HERE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    HERE.get_or_init(|| std::env::current_dir().ok()).as_deref()
}

/// `/dev/null`, opened once per run: every step's standard input.
fn null_input() -> Option<&'static File> {
    static NULL: std::sync::OnceLock<Option<File>> = std::sync::OnceLock::new();
    NULL.get_or_init(|| File::open("/dev/null").ok()).as_ref()
}

/// One `NAME=value` entry of a child's environment, with the length of its name.
struct EnvEntry {
    text: CString,
    name_len: usize,
}

impl EnvEntry {
    fn new(name: &OsStr, value: &OsStr) -> io::Result<EnvEntry> {
        let mut text = Vec::with_capacity(name.len() + value.len() + 1);
        text.extend_from_slice(name.as_bytes());
        text.push(b'=');
        text.extend_from_slice(value.as_bytes());
        let text = CString::new(text).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "an environment variable holds a NUL byte",
            )
        })?;
        Ok(EnvEntry {
            text,
            name_len: name.len(),
        })
    }

    fn name(&self) -> &[u8] {
        &self.text.as_bytes()[..self.name_len]
    }
}

/// This process's environment, sorted by name, as the children's: read once (flowc never
/// changes its own environment). Variables whose name or value cannot be passed are left out,
/// as `Command` leaves them out.
fn inherited() -> &'static [EnvEntry] {
    static ENV: std::sync::OnceLock<Vec<EnvEntry>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut vars: Vec<(OsString, OsString)> =
            std::env::vars_os().filter(|(k, _)| !k.is_empty()).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars.dedup_by(|later, earlier| later.0 == earlier.0);
        vars.iter()
            .filter_map(|(k, v)| EnvEntry::new(k, v).ok())
            .collect()
    })
}

/// The child's environment, sorted by name: the step's variables (the last of a name wins)
/// and, unless the step clears it, this process's other variables.
fn child_env(spec: &Start<'_>) -> io::Result<(Vec<EnvEntry>, Vec<&'static EnvEntry>)> {
    let mut own: Vec<EnvEntry> = Vec::with_capacity(spec.env.len());
    for (k, v) in spec.env.iter().rev() {
        if !own.iter().any(|e| e.name() == k.as_bytes()) {
            own.push(EnvEntry::new(OsStr::new(k), OsStr::new(v))?);
        }
    }
    own.sort_by(|a, b| a.name().cmp(b.name()));
    let base = match spec.clear_env {
        true => Vec::new(),
        false => inherited()
            .iter()
            .filter(|e| own.binary_search_by(|o| o.name().cmp(e.name())).is_err())
            .collect(),
    };
    Ok((own, base))
}

/// Merges two lists sorted by name into the child's `envp` (null-terminated).
fn envp<'a>(own: &'a [EnvEntry], base: &[&'a EnvEntry]) -> Vec<*const libc::c_char> {
    let mut out = Vec::with_capacity(own.len() + base.len() + 1);
    let (mut i, mut j) = (0, 0);
    while i < own.len() || j < base.len() {
        let take_own = j == base.len() || (i < own.len() && own[i].name() < base[j].name());
        if take_own {
            out.push(own[i].text.as_ptr());
            i += 1;
        } else {
            out.push(base[j].text.as_ptr());
            j += 1;
        }
    }
    out.push(std::ptr::null());
    out
}

fn c_string(s: &str) -> io::Result<CString> {
    CString::new(s)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the command holds a NUL byte"))
}

#[cfg(target_os = "linux")]
mod posix;

#[cfg(target_os = "linux")]
mod path_cache;

#[cfg(target_os = "linux")]
mod vfork;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(env: &[(&str, &str)]) -> Vec<(String, String)> {
        env.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn start(env: &[(String, String)], clear_env: bool) -> Start<'_> {
        Start {
            env,
            clear_env,
            cwd: Path::new("."),
        }
    }

    fn names(spec: &Start<'_>) -> Vec<String> {
        let (own, base) = child_env(spec).unwrap_or_else(|e| panic!("{e}"));
        let envp = envp(&own, &base);
        envp.iter()
            .take_while(|p| !p.is_null())
            .map(|&p| {
                // SAFETY: every pointer before the null one points into a live CString.
                #[allow(unsafe_code)]
                let s = unsafe { std::ffi::CStr::from_ptr(p) };
                s.to_string_lossy().into_owned()
            })
            .collect()
    }

    #[test]
    fn a_cleared_environment_holds_the_steps_variables_sorted_the_last_winning() {
        let env = spec(&[("B", "1"), ("A", "2"), ("B", "3")]);
        let got = names(&start(&env, true));
        assert_eq!(got, ["A=2", "B=3"]);
    }

    #[test]
    fn an_inherited_environment_is_sorted_and_the_steps_variables_replace_the_runners() {
        let path = std::env::var("PATH").unwrap_or_default();
        assert!(!path.is_empty(), "the tests need PATH set");
        let env = spec(&[("PATH", "/nowhere"), ("FLOWC_TASK", "t")]);
        let got = names(&start(&env, false));
        let mut sorted = got.clone();
        sorted.sort_by(|a, b| a.split('=').next().cmp(&b.split('=').next()));
        assert_eq!(got, sorted);
        assert!(got.contains(&"PATH=/nowhere".to_string()), "{got:?}");
        assert!(!got.contains(&format!("PATH={path}")), "{got:?}");
        assert!(got.contains(&"FLOWC_TASK=t".to_string()), "{got:?}");
        let added = usize::from(std::env::var_os("FLOWC_TASK").is_none());
        assert_eq!(got.len(), inherited().len() + added);
    }

    #[test]
    fn a_nul_byte_is_refused() {
        let env = spec(&[("A", "x\0y")]);
        assert!(child_env(&start(&env, true)).is_err());
    }
}
