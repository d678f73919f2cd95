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
