//! Reading the lock file of tuned resources, `FILE.flow.lock`, written by `flowc autotune
//! --write` and read by `flowc build` and `flowc run` for steps marked `resources auto(...)`.
//!
//! Only the file IO is here: the format (its types, parsing and rendering) is
//! [`flowc_compiler::lockfile`], which the language server uses too.

use std::path::Path;

pub use flowc_compiler::lockfile::{
    locked, path_for, LockFile, LockedRetry, LockedScaling, LockedStep, FORMAT,
};

/// Reads the lock file beside `source`, if there is one.
pub fn read(source: &Path) -> Result<Option<LockFile>, String> {
    let path = path_for(source);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "[E009] cannot read the lock file `{}`: {}",
                path.display(),
                crate::loader::why_unreadable(&e)
            ))
        }
    };
    flowc_compiler::lockfile::parse(&text)
        .map(Some)
        .map_err(|e| e.message(&path.display().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_lock_file_is_none_and_a_bad_one_names_its_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let source = dir.path().join("a.flow");
        assert_eq!(read(&source), Ok(None));
        let lock = path_for(&source);
        std::fs::write(&lock, "{").unwrap_or_else(|e| panic!("{e}"));
        let err = read(&source).expect_err("a broken lock file is an error");
        let named = format!("[E009] `{}` is not a valid lock file: ", lock.display());
        assert!(err.starts_with(&named), "{err}");
    }
}
