//! Transparent huge pages in the runner. The allocator (mimalloc) asks for them on its arenas:
//! they pay where built-in steps process tables in this process, and cost a run of container
//! steps about 20 ms of CPU for nothing (the kernel zeroes 2 MiB at each first touch;
//! docs/perf.md, "`flowc run` against GNU make"). So a run whose plan has no built-in step
//! turns them off for the runner ([`off`], then [`settle`]), with `PR_SET_THP_DISABLE`. The
//! kernel hands that setting on to every program the runner starts (at `execve`, from the
//! process that calls it), so it is cleared while a step's process is started and set again
//! once it has started ([`for_child`]): the steps' programs see the machine's setting, as
//! before. A process that had huge pages off before flowc started keeps them off throughout.

use std::sync::Mutex;

use flowc_compiler::plan::{Plan, TaskKind};

/// Whether the runner turned huge pages off, and how many spawns are under way (while any
/// is, the setting is cleared).
struct State {
    off: bool,
    spawning: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    off: false,
    spawning: 0,
});

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_disabled(disabled: bool) {
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and changes a flag
    // of this process's memory map; a kernel without it returns EINVAL and nothing changes.
    unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            libc::c_ulong::from(disabled),
            0,
            0,
            0,
        );
    }
}

/// Whether huge pages were already off for this process (set by whoever started it, or by
/// `MIMALLOC_ALLOW_THP=0`): then flowc leaves the setting alone.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn disabled_from_outside(state: &State) -> bool {
    // SAFETY: PR_GET_THP_DISABLE takes no pointer; it returns the flag (or -1).
    let now = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
    now != 0 && !state.off
}

#[cfg(not(target_os = "linux"))]
fn set_disabled(_disabled: bool) {}

#[cfg(not(target_os = "linux"))]
fn disabled_from_outside(_state: &State) -> bool {
    true
}

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Turns huge pages off for the runner, from the start of `flowc run` (before the source is
/// compiled); [`settle`] turns them back on when the plan has built-in steps.
pub fn off() {
    let mut s = state();
    if s.off || disabled_from_outside(&s) {
        return;
    }
    s.off = true;
    if s.spawning == 0 {
        set_disabled(true);
    }
}

/// Huge pages for a run of `plan`: on when it has built-in steps (tables), otherwise off.
pub(crate) fn settle(plan: &Plan) {
    let builtins = plan
        .pipelines
        .values()
        .flat_map(|p| &p.tasks)
        .any(|t| matches!(t.kind, TaskKind::Builtin { .. }));
    match builtins {
        true => on(),
        false => off(),
    }
}

/// Gives the process back the huge pages [`off`] took.
pub fn on() {
    let mut s = state();
    if s.off {
        s.off = false;
        if s.spawning == 0 {
            set_disabled(false);
        }
    }
}

/// Runs `start` (which starts a step's process) with huge pages as the machine has them, when
/// the runner turned them off for itself.
pub(crate) fn for_child<T>(start: impl FnOnce() -> T) -> T {
    let counted = {
        let mut s = state();
        if s.off {
            if s.spawning == 0 {
                set_disabled(false);
            }
            s.spawning += 1;
        }
        s.off
    };
    let started = start();
    if counted {
        let mut s = state();
        s.spawning -= 1;
        if s.off && s.spawning == 0 {
            set_disabled(true);
        }
    }
    started
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::exec::{run_process, ProcessSpec, Reason};
    use std::sync::atomic::AtomicBool;

    /// `THP_enabled` of a process's status: 1 when it may have huge pages.
    fn thp_enabled(status: &str) -> Option<u32> {
        let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[test]
    fn the_runner_turns_huge_pages_off_for_itself_and_its_steps_keep_them() {
        let own = || {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            thp_enabled(&status).unwrap_or_else(|| panic!("no THP_enabled in {status}"))
        };
        let before = own();
        off();
        assert_eq!(own(), 0, "the runner still has huge pages");
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // In the runner's folder (posix_spawn) and in another one (std's Command).
        for cwd in [std::path::Path::new("."), dir.path()] {
            let log = dir.path().join("log");
            let _ = std::fs::remove_file(&log);
            let spec = ProcessSpec {
                argv: ["cat", "/proc/self/status"].map(String::from).to_vec(),
                env: vec![],
                cwd: cwd.to_path_buf(),
                log: log.clone(),
                timeout: None,
                memory_limit: None,
                secrets: vec![],
                clear_env: false,
            };
            let result = run_process(&spec, &AtomicBool::new(false));
            let during = own();
            assert_eq!(result.reason, Reason::Ok);
            let status = std::fs::read_to_string(&log).unwrap_or_default();
            assert_eq!(
                thp_enabled(&status),
                Some(before),
                "the step's status: {status}"
            );
            assert_eq!(
                during, 0,
                "huge pages were not turned off again after the spawn"
            );
        }
        on();
        assert_eq!(own(), before);
    }
}
