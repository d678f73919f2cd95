//! `flowc.toml`, the workspace's configuration, and the target checker it drives in the
//! language server.
//!
//! ```toml
//! [check]
//! targets = ["kfp"]        # or ["argo"], or ["argo", "kfp"]
//!
//! [build]
//! runtime_image = "registry.example.com/flowc-runtime:0.9.0"
//! gpu_label = "cloud.google.com/gke-accelerator"
//!
//! [run]
//! store = "s3://team-bucket/flowc"   # or a folder, relative to this file
//! ```
//!
//! `[build]` holds the defaults of `flowc build --runtime-image` and `--gpu-label`; `flowc
//! build` reads the `flowc.toml` of the built file's folder or of the nearest folder above it.
//!
//! The file sits at the workspace root (the folder the editor opens). `[check] targets` names
//! the cluster targets whose problems (E5xx, W5xx) the language server reports while typing,
//! as `flowc check --target` does on the command line. Unknown keys are ignored, so the file
//! can grow; an unknown target name or a file that does not parse is reported once on standard
//! error (the editor's server log) and then counts as naming no target. It is read again at
//! every check, so an edit takes effect without restarting the server. `[run] store` is the store
//! `flowc run` uses when it is given no `--store`: the nearest `flowc.toml` in the pipeline
//! file's folder or above it counts.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use flowc_compiler::{Analysis, Diagnostic};
use flowc_targets::Target;
use serde::Deserialize;

/// The name of the configuration file at a workspace root.
pub const FILE_NAME: &str = "flowc.toml";

/// The parts of `flowc.toml` flowc reads.
#[derive(Debug, Default, Deserialize)]
struct Config {
    #[serde(default)]
    check: CheckSection,
    #[serde(default)]
    build: BuildSettings,
    #[serde(default)]
    run: RunSection,
}

pub use flowc_pycheck::config::{find_config, python_settings, PythonSection};

/// `[build]`: defaults of `flowc build`'s options.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct BuildSettings {
    /// The image of built-in steps, checks and loops (`--runtime-image`).
    pub runtime_image: Option<String>,
    /// The node label of GPU models (`--gpu-label`).
    pub gpu_label: Option<String>,
}

/// The `[build]` settings of `text` (a `flowc.toml`), or why it cannot be read.
pub fn build_settings_in(text: &str) -> Result<BuildSettings, String> {
    let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(config.build)
}

/// The `[build]` settings of the `flowc.toml` nearest to `file` (in its folder or above), or
/// the defaults when there is none.
pub fn build_settings_for(file: &Path) -> Result<BuildSettings, String> {
    let start = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    for dir in start.ancestors().skip(1) {
        let path = dir.join(FILE_NAME);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return build_settings_in(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
    }
    Ok(BuildSettings::default())
}

/// `[run]`.
#[derive(Debug, Default, Deserialize)]
struct RunSection {
    /// The store of `flowc run`: a folder or an `s3://` URL.
    store: Option<String>,
}

/// `[check]`.
#[derive(Debug, Default, Deserialize)]
struct CheckSection {
    /// The targets checked while typing.
    #[serde(default)]
    targets: Vec<String>,
}

/// The targets that `text` (a `flowc.toml`) names, or why it cannot be read.
pub fn targets_in(text: &str) -> Result<Vec<Target>, String> {
    let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for name in &config.check.targets {
        match Target::from_name(name) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => {
                return Err(format!(
                    "unknown target `{name}` (expected `argo` or `kfp`)"
                ))
            }
        }
    }
    Ok(out)
}

/// The targets the workspace at `root` names in its `flowc.toml` (none without the file).
pub fn workspace_targets(root: &Path) -> Result<Vec<Target>, String> {
    let path = root.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => targets_in(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => Ok(Vec::new()),
    }
}

/// The `[run] store` setting of the nearest `flowc.toml` at or above the folder `start`, with
/// the folder of that file; a relative folder is taken from there.
pub fn run_store(start: &Path) -> Result<Option<String>, String> {
    for dir in start.ancestors() {
        let path = dir.join(FILE_NAME);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let config: Config =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(config.run.store.map(|s| {
            if s.starts_with("s3://") || Path::new(&s).is_absolute() {
                s
            } else {
                dir.join(s).to_string_lossy().into_owned()
            }
        }));
    }
    Ok(None)
}

/// The language server's target checker: the targets of each workspace's `flowc.toml`.
#[derive(Default)]
pub struct WorkspaceTargets {
    /// Problems of configuration files already reported, so the log says each once.
    reported: RefCell<BTreeSet<(PathBuf, String)>>,
}

impl WorkspaceTargets {
    /// The targets of `workspace`, reporting a broken configuration once.
    fn targets(&self, workspace: &Path) -> Vec<Target> {
        match workspace_targets(workspace) {
            Ok(t) => t,
            Err(e) => {
                if self
                    .reported
                    .borrow_mut()
                    .insert((workspace.to_path_buf(), e.clone()))
                {
                    eprintln!("flowc lsp: {e}; no target is checked");
                }
                Vec::new()
            }
        }
    }
}

impl flowc_lsp::TargetChecker for WorkspaceTargets {
    fn names_targets(&self, workspace: &Path) -> bool {
        !self.targets(workspace).is_empty()
    }

    fn check(&self, workspace: &Path, analysis: &Analysis) -> Vec<Diagnostic> {
        flowc_targets::check(analysis, &self.targets(workspace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_build_section() {
        let text =
            "[check]\ntargets = [\"argo\"]\n[build]\nruntime_image = \"r.example.com/rt:1\"\n";
        assert_eq!(
            build_settings_in(text),
            Ok(BuildSettings {
                runtime_image: Some("r.example.com/rt:1".into()),
                gpu_label: None,
            })
        );
        assert_eq!(build_settings_in(""), Ok(BuildSettings::default()));
        assert!(build_settings_in("[build]\nruntime_image = 3\n").is_err());
    }

    #[test]
    fn reads_the_targets_of_the_check_section() {
        assert_eq!(
            targets_in("[check]\ntargets = [\"kfp\"]\n"),
            Ok(vec![Target::Kfp])
        );
        assert_eq!(
            targets_in("[check]\ntargets = [\"argo\", \"kfp\", \"argo\"]\n"),
            Ok(vec![Target::Argo, Target::Kfp])
        );
        assert_eq!(targets_in(""), Ok(Vec::new()));
        assert_eq!(targets_in("[other]\nx = 1\n"), Ok(Vec::new()));
        assert!(targets_in("[check]\ntargets = [\"k8s\"]\n")
            .is_err_and(|e| e.contains("unknown target `k8s`")));
        assert!(targets_in("[check\n").is_err());
    }

    #[test]
    fn the_nearest_file_names_the_run_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let inner = dir.path().join("pipelines/daily");
        std::fs::create_dir_all(&inner).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run_store(&inner), Ok(None));
        std::fs::write(dir.path().join(FILE_NAME), "[run]\nstore = \"cache\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            run_store(&inner),
            Ok(Some(
                dir.path().join("cache").to_string_lossy().into_owned()
            ))
        );
        std::fs::write(
            inner.join(FILE_NAME),
            "[run]\nstore = \"s3://bucket/team\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run_store(&inner), Ok(Some("s3://bucket/team".into())));
    }
}
