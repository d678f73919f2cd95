//! The project's `shared/` folder (Argo's schema, the Kubeflow reference pipelines, the
//! autotune traces), which sits beside the repository, for every test that needs it.
//!
//! CI always provides it, so a test that cannot find it fails and says where it looked and how
//! to fix it; it never passes without having read it. `FLOWC_SHARED` names another folder.
//! This file has no dependencies: the `flowc-tests` library exports it, and the suites of other
//! crates include it with `#[path = ".../tests/shared.rs"] mod shared;`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder `shared/` beside the repository (or `FLOWC_SHARED`), not checked.
pub fn shared_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("FLOWC_SHARED") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = manifest
        .ancestors()
        .find(|d| d.join("ARCHITECTURE.md").is_file())
        .unwrap_or(manifest);
    repo.parent().unwrap_or(repo).join("shared")
}

/// `rel` under `root`, or the message that says what is missing and how to provide it.
pub fn locate(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let path = root.join(rel);
    if path.exists() {
        return Ok(path);
    }
    Err(format!(
        "this test needs `shared/{rel}`, which is not at {}: put the project's `shared/` \
         folder beside the repository (CI always does) or name it in FLOWC_SHARED; the test \
         fails rather than pass without it",
        path.display()
    ))
}

/// `rel` under the shared folder; panics with a clear message when it is missing.
pub fn shared_path(rel: &str) -> PathBuf {
    locate(&shared_root(), rel).unwrap_or_else(|m| panic!("{m}"))
}

/// The files of the shared folder `rel` whose names end with `.ext`, sorted; panics with a
/// clear message when the folder is missing or holds none.
pub fn shared_files(rel: &str, ext: &str) -> Vec<PathBuf> {
    let dir = shared_path(rel);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("shared/{rel} ({}) is not readable: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "shared/{rel} ({}) holds no `.{ext}` file: the project's `shared/` folder is incomplete",
        dir.display()
    );
    files
}
