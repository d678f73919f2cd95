//! Starting a program at a known path with `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`: the
//! way the C library's `posix_spawn` starts it, minus the work flowc's steps do not need.
//!
//! `posix_spawn`'s child, running in this process's memory until its `execve`, asks the
//! kernel for the disposition of every signal and sets the handled ones back to their
//! default: about 120 `rt_sigaction` calls a step, while this process, suspended, waits.
//! Here the signals this process handles are asked once ([`handled`]) and only those (and
//! `SIGPIPE`, which Rust ignores) are set back in the child. The child's stack is kept for
//! the thread's next spawn instead of mapped and unmapped each time, and the kernel hands
//! back the child's pidfd with the new process instead of a `pidfd_open` after it
//! (docs/perf.md, "Eighth round: the spawn").
//!
//! The child is started as `posix_spawn` starts it with flowc's attributes (and, when the
//! step's folder is not the runner's, as `std::process::Command` starts it there): in a
//! process group of its own, in the step's folder, standard input from `/dev/null`, stdout and stderr into the output,
//! handled signals and `SIGPIPE` at their default (ignored ones stay ignored), an empty
//! signal mask. A failure before or at `execve` reaches the caller as that error, the child
//! reaped. A kernel without `CLONE_PIDFD` (before Linux 5.2), or a sandbox refusing the call,
//! makes [`start`] answer `None` from then on, and the C library starts the steps.

use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::OnceLock;

/// A started child: its pid and its pidfd.
pub(crate) struct Started {
    pub(crate) pid: i32,
    pub(crate) pidfd: OwnedFd,
}

/// Set once `clone` refused the flags: the C library starts every later step.
static UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// What the child needs, prepared by the parent: nothing in the child allocates or locks.
struct ChildPlan<'a> {
    exe: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    stdin: libc::c_int,
    output: libc::c_int,
    /// The folder the program starts in (null: this process's).
    cwd: *const libc::c_char,
    /// The signals set back to their default before the mask is cleared.
    reset: &'a [libc::c_int],
    /// The error that stopped the child before its program started (0: none).
    error: AtomicI32,
}

/// Starts `exe` (a path; not looked up in `PATH`) with `argv` and `envp` (null-terminated),
/// standard input from `fds.0` and output into `fds.1`, in `cwd` if given (a relative `exe`
/// is then found from there). `None` when this way of starting is not available here.
pub(super) fn start(
    exe: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    fds: (libc::c_int, libc::c_int),
    cwd: Option<&CStr>,
) -> Option<io::Result<Started>> {
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    }
    let plan = ChildPlan {
        exe: exe.as_ptr(),
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        stdin: fds.0,
        output: fds.1,
        cwd: cwd.map_or(std::ptr::null(), CStr::as_ptr),
        reset: handled(),
        error: AtomicI32::new(0),
    };
    let started = STACK.with(|stack| match stack.top() {
        Some(top) => clone_child(&plan, top),
        None => Err(io::Error::last_os_error()),
    });
    match started {
        Err(e) if refused(&e) => {
            UNAVAILABLE.store(true, Ordering::Relaxed);
            None
        }
        Err(e) => Some(Err(e)),
        Ok(started) => Some(match plan.error.load(Ordering::Relaxed) {
            0 => Ok(started),
            errno => {
                reap(started.pid);
                Err(io::Error::from_raw_os_error(errno))
            }
        }),
    }
}

/// Whether `clone` refused the call itself (an old kernel, a seccomp filter): then the C
/// library's way is used from now on.
fn refused(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EPERM)
    )
}

/// Calls `clone` with every signal blocked in this thread (a handler must not run in the child
/// while it shares this process's memory), and restores the thread's mask once the child has
/// started its program or failed to.
#[allow(unsafe_code)]
fn clone_child(plan: &ChildPlan<'_>, stack_top: *mut libc::c_void) -> io::Result<Started> {
    let mut all = MaybeUninit::<libc::sigset_t>::uninit();
    let mut old = MaybeUninit::<libc::sigset_t>::uninit();
    let mut pidfd: libc::c_int = -1;
    // SAFETY: the sets are initialised by sigfillset and pthread_sigmask before being read.
    // `clone` runs `child` on `stack_top`, the top of a mapped stack this thread alone uses
    // and which outlives the call (CLONE_VFORK: this thread is suspended until the child has
    // called `execve` or exited); `plan` and everything it points to outlive the call too.
    // CLONE_PIDFD stores the child's pidfd in `pidfd`.
    let pid = unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), old.as_mut_ptr());
        let pid = libc::clone(
            child,
            stack_top,
            libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD,
            plan as *const ChildPlan<'_> as *mut libc::c_void,
            &mut pidfd as *mut libc::c_int,
        );
        let error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, old.as_ptr(), std::ptr::null_mut());
        if pid < 0 {
            return Err(error);
        }
        pid
    };
    if pidfd < 0 {
        reap(pid);
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: CLONE_PIDFD handed this fresh descriptor to us alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Started { pid, pidfd })
}

/// The child, between `clone` and `execve`. It shares this process's memory, so it only
/// makes system calls, on data the parent prepared, and leaves with `_exit`.
#[allow(unsafe_code)]
extern "C" fn child(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `ChildPlan` the parent passed to `clone`; the parent is suspended
    // until this child has called `execve` or `_exit`, so the plan is alive and unchanged.
    let plan = unsafe { &*(arg as *const ChildPlan<'_>) };
    // SAFETY: the calls below take integers or pointers into the plan, which the parent made
    // valid (NUL-terminated strings, null-terminated arrays); a zeroed `sigaction` with
    // SIG_DFL as handler is a valid argument; the empty set is initialised by sigemptyset.
    unsafe {
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        for &signal in plan.reset {
            libc::sigaction(signal, &default, std::ptr::null_mut());
        }
        if libc::setpgid(0, 0) != 0 {
            fail(plan);
        }
        if !plan.cwd.is_null() && libc::chdir(plan.cwd) != 0 {
            fail(plan);
        }
        for (from, to) in [(plan.stdin, 0), (plan.output, 1), (plan.output, 2)] {
            if !redirect(from, to) {
                fail(plan);
            }
        }
        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(empty.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut());
        libc::execve(plan.exe, plan.argv, plan.envp);
        fail(plan)
    }
}

/// Makes `to` a copy of `from` that stays open across `execve` (`dup2` leaves a descriptor
/// copied onto itself close-on-exec, so that case clears the flag instead).
#[allow(unsafe_code)]
fn redirect(from: libc::c_int, to: libc::c_int) -> bool {
    // SAFETY: fcntl and dup2 take descriptor numbers only.
    unsafe {
        if from == to {
            libc::fcntl(to, libc::F_SETFD, 0) == 0
        } else {
            libc::dup2(from, to) >= 0
        }
    }
}

/// Records the error of the failed call for the parent and leaves.
#[allow(unsafe_code)]
fn fail(plan: &ChildPlan<'_>) -> ! {
    let errno = io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    plan.error.store(errno, Ordering::Relaxed);
    // SAFETY: `_exit` ends the child without running this process's exit handlers.
    unsafe { libc::_exit(127) }
}

/// Reaps a child that failed to start its program.
#[allow(unsafe_code)]
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid writes the status into our integer; `pid` is our child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

/// The signals this process has a handler for, asked at the first spawn, and `SIGPIPE`: the
/// ones the child sets back to their default before it clears its signal mask (`execve` would
/// reset a handled signal too, but a handler must not run in the child before it). flowc
/// installs its handlers (Ctrl-C, and Rust's for stack overflows) before any step starts;
/// a handler installed after the first spawn is still reset by `execve`.
#[allow(unsafe_code)]
fn handled() -> &'static [libc::c_int] {
    static HANDLED: OnceLock<Vec<libc::c_int>> = OnceLock::new();
    HANDLED.get_or_init(|| {
        let mut signals = vec![libc::SIGPIPE];
        for signal in 1..=libc::SIGRTMAX() {
            if signal == libc::SIGPIPE || signal == libc::SIGKILL || signal == libc::SIGSTOP {
                continue;
            }
            let mut now = MaybeUninit::<libc::sigaction>::uninit();
            // SAFETY: sigaction with a null new action only writes the current one into
            // `now`, which is read only when the call succeeded.
            let known = unsafe { libc::sigaction(signal, std::ptr::null(), now.as_mut_ptr()) };
            if known != 0 {
                continue;
            }
            // SAFETY: initialised by the successful call above.
            let handler = unsafe { now.assume_init() }.sa_sigaction;
            if handler != libc::SIG_DFL && handler != libc::SIG_IGN {
                signals.push(signal);
            }
        }
        signals
    })
}

thread_local! {
    /// The child's stack, kept for the thread's next spawn.
    static STACK: ChildStack = const { ChildStack::new() };
}

/// A stack for the child, mapped at the thread's first spawn, with a guard page below it.
struct ChildStack {
    base: std::cell::Cell<*mut libc::c_void>,
}

/// The child's stack: its calls are a handful of system call wrappers.
const STACK_BYTES: usize = 64 * 1024;
const GUARD_BYTES: usize = 4096;

impl ChildStack {
    const fn new() -> ChildStack {
        ChildStack {
            base: std::cell::Cell::new(std::ptr::null_mut()),
        }
    }

    /// The top of the stack (stacks grow down on the machines flowc runs on), mapping it if
    /// needed; `None` when it cannot be mapped.
    #[allow(unsafe_code)]
    fn top(&self) -> Option<*mut libc::c_void> {
        if self.base.get().is_null() {
            // SAFETY: an anonymous private mapping of fresh memory; the lowest page becomes a
            // guard that faults instead of letting the stack run into other memory.
            let base = unsafe {
                let base = libc::mmap(
                    std::ptr::null_mut(),
                    GUARD_BYTES + STACK_BYTES,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                    -1,
                    0,
                );
                if base == libc::MAP_FAILED {
                    return None;
                }
                libc::mprotect(base, GUARD_BYTES, libc::PROT_NONE);
                base
            };
            self.base.set(base);
        }
        // SAFETY: within (one past the end of) the mapping made above.
        Some(unsafe { self.base.get().cast::<u8>().add(GUARD_BYTES + STACK_BYTES) }.cast())
    }
}

impl Drop for ChildStack {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        let base = self.base.get();
        if !base.is_null() {
            // SAFETY: the mapping made in `top`, no longer used (no spawn is under way on a
            // thread that is ending).
            unsafe {
                libc::munmap(base, GUARD_BYTES + STACK_BYTES);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::io::Read;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    /// What a program started by [`start`] printed, and its exit status.
    struct Ran {
        output: String,
        status: i32,
        pid: i32,
    }

    fn c(s: &str) -> CString {
        CString::new(s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts `argv[0]` (a path) with `env` alone, in `cwd` if given, and waits for it.
    fn run(argv: &[&str], env: &[&str], cwd: Option<&Path>) -> io::Result<Ran> {
        let words: Vec<CString> = argv.iter().map(|a| c(a)).collect();
        let vars: Vec<CString> = env.iter().map(|v| c(v)).collect();
        let mut argp: Vec<*const libc::c_char> = words.iter().map(|w| w.as_ptr()).collect();
        argp.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = vars.iter().map(|v| v.as_ptr()).collect();
        envp.push(std::ptr::null());
        let null = std::fs::File::open("/dev/null")?;
        let (mut reader, writer) = io::pipe()?;
        let folder = cwd.map(|d| c(&d.to_string_lossy()));
        let started = start(
            &words[0],
            &argp,
            &envp,
            (null.as_raw_fd(), writer.as_raw_fd()),
            folder.as_deref(),
        )
        .unwrap_or_else(|| panic!("clone with CLONE_PIDFD is not available here"))?;
        drop(writer);
        let mut output = String::new();
        reader.read_to_string(&mut output)?;
        let mut status = 0;
        // SAFETY: waitpid writes the status of our child into our integer.
        #[allow(unsafe_code)]
        let waited = unsafe { libc::waitpid(started.pid, &mut status, 0) };
        assert_eq!(waited, started.pid);
        Ok(Ran {
            output,
            status,
            pid: started.pid,
        })
    }

    /// A field of `/proc/self/status` as the program saw it (`SigIgn:\t000...`).
    fn status_field<'a>(status: &'a str, name: &str) -> &'a str {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} in {status}"))
    }

    #[test]
    fn the_program_gets_its_arguments_environment_output_and_exit_status() {
        let ran = run(
            &["/bin/sh", "-c", "echo \"$GREETING\" >&2; exit 3"],
            &["GREETING=hi"],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ran.output, "hi\n");
        assert!(libc::WIFEXITED(ran.status) && libc::WEXITSTATUS(ran.status) == 3);
    }

    #[test]
    fn the_child_has_its_own_group_no_blocked_signals_and_sigpipe_at_its_default() {
        // The test harness ignores SIGPIPE, as flowc does (Rust's runtime).
        let ran = run(
            &["/bin/cat", "/proc/self/status", "/proc/self/stat"],
            &[],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status_field(&ran.output, "SigBlk:"), "0000000000000000");
        let ignored = u64::from_str_radix(status_field(&ran.output, "SigIgn:"), 16)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ignored & (1 << (libc::SIGPIPE - 1)),
            0,
            "SIGPIPE still ignored"
        );
        // /proc/self/stat: pid (comm) state ppid pgrp ...
        let stat = ran.output.lines().last().unwrap_or_default();
        let after_comm = stat
            .rsplit_once(") ")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let pgrp: i32 = after_comm
            .split(' ')
            .nth(2)
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("no process group in {stat}"));
        assert_eq!(pgrp, ran.pid);
    }

    #[test]
    fn a_folder_is_entered_before_a_relative_program_is_found() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let tool = dir.path().join("tool.sh");
        std::fs::write(&tool, "#!/bin/sh\npwd -P\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        let ran = run(&["./tool.sh"], &[], Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
        let real = dir.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ran.output.trim_end(), real.to_string_lossy());
    }

    #[test]
    fn a_program_that_cannot_start_is_its_error() {
        let missing = run(&["/nonexistent-flowc/tool"], &[], None).err();
        assert_eq!(missing.and_then(|e| e.raw_os_error()), Some(libc::ENOENT));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let plain = dir.path().join("data.txt");
        std::fs::write(&plain, "not a program").unwrap_or_else(|e| panic!("{e}"));
        let denied = run(&[&plain.to_string_lossy()], &[], None).err();
        assert_eq!(denied.and_then(|e| e.raw_os_error()), Some(libc::EACCES));
        let no_folder = run(&["/bin/true"], &[], Some(&dir.path().join("missing"))).err();
        assert_eq!(no_folder.and_then(|e| e.raw_os_error()), Some(libc::ENOENT));
    }
}
