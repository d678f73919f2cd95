//! The call to `posix_spawnp` and the attributes and file actions it takes.

use std::ffi::CStr;
use std::io;
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

/// Starts `file` with `posix_spawnp` (`search`: `file` is looked up in `PATH`) or
/// `posix_spawn` (`file` is the program's path), standard input from `fds.0` and output
/// into `fds.1`; returns the child's pid.
pub(super) fn start(
    file: &CStr,
    search: bool,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    fds: (libc::c_int, libc::c_int),
) -> io::Result<i32> {
    let attrs = Attrs::new()?;
    with_actions(fds, |actions| {
        call(file, search, argv, envp, &attrs, actions)
    })
}

/// The call to `posix_spawnp` or `posix_spawn`.
#[allow(unsafe_code)]
fn call(
    file: &CStr,
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
