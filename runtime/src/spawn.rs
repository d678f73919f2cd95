//! Starting a step's process. On Linux this calls the C library's `posix_spawnp` itself, with
//! the environment prepared once per run: `std::process::Command` copies and sorts this
//! process's whole environment again for every spawn as soon as a variable is added (every
//! step gets `FLOWC_RUN_ID` and `FLOWC_TASK`), and duplicates the descriptors it is given
//! before handing them over. The child is started exactly as `Command` starts it: in a process
//! group of its own, with an empty signal mask, `SIGPIPE` back to its default, standard input
//! from `/dev/null`, stdout and stderr into the given descriptor, and the environment sorted
//! by name (the step's variables replacing the runner's of the same name). Elsewhere, and
//! when the step's working folder is not the runner's, `Command` starts it.

use std::ffi::{CString, OsStr, OsString};
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

/// Starts the step in a process group of its own, with its output (stdout and stderr) into
/// `output`; returns its pid. `output` is closed here once the child holds it.
pub(crate) fn spawn(
    spec: &Start<'_>,
    program: &str,
    args: &[String],
    output: OwnedFd,
) -> io::Result<i32> {
    let here = here();
    let same_folder =
        here == Some(spec.cwd) || spec.cwd.as_os_str() == "." || spec.cwd.as_os_str().is_empty();
    // The step's program sees the machine's huge-page setting, not the runner's.
    crate::huge_pages::for_child(|| {
        #[cfg(target_os = "linux")]
        if same_folder {
            if let Some(null) = null_input() {
                return posix::spawn(spec, program, args, &output, null);
            }
        }
        spawn_with_std(spec, program, args, output, !same_folder)
    })
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
mod posix {
    //! The call to `posix_spawnp` and the attributes and file actions it takes.

    use super::*;
    use std::mem::MaybeUninit;

    /// Spawn attributes: a process group of its own, an empty signal mask, `SIGPIPE` at its
    /// default; destroyed when dropped.
    struct Attrs(libc::posix_spawnattr_t);

    /// Standard input, output and error of the child; destroyed when dropped.
    struct Actions(libc::posix_spawn_file_actions_t);

    fn check(r: libc::c_int) -> io::Result<()> {
        match r {
            0 => Ok(()),
            e => Err(io::Error::from_raw_os_error(e)),
        }
    }

    impl Attrs {
        #[allow(unsafe_code)]
        fn new() -> io::Result<Attrs> {
            let mut raw = MaybeUninit::<libc::posix_spawnattr_t>::uninit();
            // SAFETY: posix_spawnattr_init initialises the value it is given; it is used only
            // once that succeeded.
            check(unsafe { libc::posix_spawnattr_init(raw.as_mut_ptr()) })?;
            // SAFETY: initialised just above.
            let mut attrs = Attrs(unsafe { raw.assume_init() });
            let mut set = MaybeUninit::<libc::sigset_t>::uninit();
            // SAFETY: sigemptyset/sigaddset initialise and update the set we own; the spawn
            // attribute functions copy it into the initialised attributes.
            unsafe {
                libc::sigemptyset(set.as_mut_ptr());
                check(libc::posix_spawnattr_setsigmask(&mut attrs.0, set.as_ptr()))?;
                libc::sigaddset(set.as_mut_ptr(), libc::SIGPIPE);
                check(libc::posix_spawnattr_setsigdefault(
                    &mut attrs.0,
                    set.as_ptr(),
                ))?;
                check(libc::posix_spawnattr_setpgroup(&mut attrs.0, 0))?;
                let flags = libc::POSIX_SPAWN_SETPGROUP
                    | libc::POSIX_SPAWN_SETSIGMASK
                    | libc::POSIX_SPAWN_SETSIGDEF;
                check(libc::posix_spawnattr_setflags(
                    &mut attrs.0,
                    flags as libc::c_short,
                ))?;
            }
            Ok(attrs)
        }
    }

    impl Drop for Attrs {
        #[allow(unsafe_code)]
        fn drop(&mut self) {
            // SAFETY: the attributes were initialised in `new`.
            unsafe {
                libc::posix_spawnattr_destroy(&mut self.0);
            }
        }
    }

    impl Actions {
        /// `/dev/null` as standard input, `output` as stdout and stderr (the descriptors are
        /// close-on-exec; the child's copies are not).
        #[allow(unsafe_code)]
        fn new(null: libc::c_int, output: libc::c_int) -> io::Result<Actions> {
            let mut raw = MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit();
            // SAFETY: as for the attributes: initialised before use.
            check(unsafe { libc::posix_spawn_file_actions_init(raw.as_mut_ptr()) })?;
            // SAFETY: initialised just above.
            let mut actions = Actions(unsafe { raw.assume_init() });
            for (fd, to) in [(null, 0), (output, 1), (output, 2)] {
                // SAFETY: the actions are initialised; adddup2 records the two numbers.
                check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut actions.0, fd, to) })?;
            }
            Ok(actions)
        }
    }

    impl Drop for Actions {
        #[allow(unsafe_code)]
        fn drop(&mut self) {
            // SAFETY: the actions were initialised in `new`.
            unsafe {
                libc::posix_spawn_file_actions_destroy(&mut self.0);
            }
        }
    }

    /// [`super::spawn`] with `posix_spawnp`.
    pub(super) fn spawn(
        spec: &Start<'_>,
        program: &str,
        args: &[String],
        output: &OwnedFd,
        null: &File,
    ) -> io::Result<i32> {
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
        let attrs = Attrs::new()?;
        with_actions((null.as_raw_fd(), output.as_raw_fd()), |actions| {
            let call = |exe: &CString, search| start(exe, search, &argv, &envp, &attrs, actions);
            // The program where it was found before, else the C library's search of `PATH`
            // (which then also reports a program that is not there, or not executable).
            match super::path_cache::found(program) {
                Some(exe) => call(&exe, false).or_else(|e| {
                    super::path_cache::forget(program);
                    match e.raw_os_error() {
                        Some(libc::ENOENT | libc::EACCES | libc::ENOTDIR) => call(&file, true),
                        _ => Err(e),
                    }
                }),
                None => call(&file, true),
            }
        })
    }

    /// Runs `f` with the file actions for these descriptors, kept for the thread's next spawn:
    /// the C library checks each descriptor against the process's limit as it records it (two
    /// `getrlimit` calls per descriptor), and a chain's steps get the same pipe descriptors
    /// one after the other.
    fn with_actions<T>(
        fds: (libc::c_int, libc::c_int),
        f: impl FnOnce(&Actions) -> io::Result<T>,
    ) -> io::Result<T> {
        thread_local! {
            static KEPT: std::cell::RefCell<Option<((libc::c_int, libc::c_int), Actions)>> =
                const { std::cell::RefCell::new(None) };
        }
        KEPT.with(|kept| {
            let Ok(mut kept) = kept.try_borrow_mut() else {
                return f(&Actions::new(fds.0, fds.1)?);
            };
            if kept.as_ref().is_none_or(|(k, _)| *k != fds) {
                *kept = Some((fds, Actions::new(fds.0, fds.1)?));
            }
            match kept.as_ref() {
                Some((_, actions)) => f(actions),
                None => f(&Actions::new(fds.0, fds.1)?),
            }
        })
    }

    /// The call to `posix_spawnp` (`search`: `file` is looked up in `PATH`), or to
    /// `posix_spawn` (`file` is the program's path).
    #[allow(unsafe_code)]
    fn start(
        file: &CString,
        search: bool,
        argv: &[*const libc::c_char],
        envp: &[*const libc::c_char],
        attrs: &Attrs,
        actions: &Actions,
    ) -> io::Result<i32> {
        let mut pid: libc::pid_t = 0;
        // SAFETY: `file`, `argv` and `envp` are NUL-terminated strings and null-terminated
        // arrays of pointers into strings that outlive the call; the attributes and file
        // actions are initialised; `pid` is ours to write.
        let spawn = match search {
            true => libc::posix_spawnp,
            false => libc::posix_spawn,
        };
        let r = unsafe {
            spawn(
                &mut pid,
                file.as_ptr(),
                &actions.0,
                &attrs.0,
                argv.as_ptr() as *const *mut libc::c_char,
                envp.as_ptr() as *const *mut libc::c_char,
            )
        };
        check(r)?;
        Ok(pid)
    }
}

#[cfg(target_os = "linux")]
mod path_cache {
    //! Where the programs of a run's steps are in this process's `PATH`, looked up once per
    //! program and run (as a shell remembers where it found a command). The C library's
    //! `posix_spawnp` searches `PATH` in the new process, trying `execve` in each folder in
    //! turn (nine failed calls for `true` on a usual `PATH`) at every step; with the program's
    //! path the child makes one. A program that is not found (or not executable) is looked up
    //! again at its next step; so is one whose remembered path fails to start.

    use std::collections::HashMap;
    use std::ffi::{CString, OsStr};
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::sync::Mutex;

    static FOUND: Mutex<Option<HashMap<String, CString>>> = Mutex::new(None);

    /// The path of `program` (a name without `/`) in `PATH`: the first folder's regular file
    /// of that name that may be executed, as `execvp` would start it. None for a name with a
    /// `/`, when `PATH` is unset or holds a relative folder (which depends on the working
    /// folder), or when no folder has it.
    pub(super) fn found(program: &str) -> Option<CString> {
        if program.is_empty() || program.contains('/') {
            return None;
        }
        let mut found = FOUND.lock().ok()?;
        let known = found.get_or_insert_with(HashMap::new);
        if let Some(path) = known.get(program) {
            return Some(path.clone());
        }
        let path = look_up(program, &std::env::var_os("PATH")?)?;
        known.insert(program.to_string(), path.clone());
        Some(path)
    }

    /// Forgets where `program` was (it failed to start from there).
    pub(super) fn forget(program: &str) {
        if let Ok(mut found) = FOUND.lock() {
            if let Some(known) = found.as_mut() {
                known.remove(program);
            }
        }
    }

    fn look_up(program: &str, path_var: &OsStr) -> Option<CString> {
        for dir in path_var.as_bytes().split(|&b| b == b':') {
            let dir = Path::new(OsStr::from_bytes(dir));
            if !dir.is_absolute() {
                return None;
            }
            let candidate = dir.join(program);
            let executable = std::fs::metadata(&candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
            if executable && may_execute(&candidate) {
                return CString::new(candidate.into_os_string().into_vec()).ok();
            }
        }
        None
    }

    /// Whether this process may execute `path` (`access(X_OK)`).
    #[allow(unsafe_code)]
    fn may_execute(path: &Path) -> bool {
        let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `c` is a NUL-terminated string that outlives the call.
        unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_program_is_found_in_the_first_folder_that_has_it_executable() {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let (a, b) = (dir.path().join("a"), dir.path().join("b"));
            for d in [&a, &b] {
                std::fs::create_dir(d).unwrap_or_else(|e| panic!("{e}"));
            }
            let write = |p: &Path, mode: u32| {
                std::fs::write(p, "#!/bin/sh\n").unwrap_or_else(|e| panic!("{e}"));
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
                    .unwrap_or_else(|e| panic!("{e}"));
            };
            // Not executable in the first folder (execvp goes on), executable in the second.
            write(&a.join("tool"), 0o644);
            write(&b.join("tool"), 0o755);
            let var = format!("{}:{}", a.display(), b.display());
            let got = look_up("tool", OsStr::new(&var));
            assert_eq!(
                got.as_deref().map(|c| c.to_bytes()),
                Some(b.join("tool").as_os_str().as_bytes())
            );
            assert_eq!(look_up("missing", OsStr::new(&var)), None);
            // A relative folder depends on the working folder: not looked up here.
            let relative = format!("bin:{}", b.display());
            assert_eq!(look_up("tool", OsStr::new(&relative)), None);
            assert_eq!(found("./tool"), None);
        }
    }
}

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
