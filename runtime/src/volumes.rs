//! Volumes on this machine: the folder that stands for each persistent volume claim of a local
//! run, under the store's `volumes/` folder (`.flow/volumes/`).
//!
//! An existing claim is `volumes/<claim name>/`, made on first use and kept across runs (two
//! volumes naming the same claim share it). A claim created for the run is
//! `volumes/run-<run id>/<volume>/`, removed when the run ends, as the cluster deletes it.
//! The sandbox and container engines mount the folder, writable, at the step's mount path; the
//! host engine cannot, so [`substitute`] writes the folder for the mount path in the step's
//! command and variables, and the step also gets it as `FLOWC_VOLUME_DIR_<NAME>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use flowc_compiler::plan::Plan;

use crate::error::{RunCode, RunError};

/// The folders of a run's volumes.
#[derive(Debug, Default)]
pub(crate) struct LocalVolumes {
    /// Volume name → folder.
    pub(crate) dirs: HashMap<String, PathBuf>,
    /// The folder of the claims created for this run, removed at its end.
    run_folder: Option<PathBuf>,
}

impl LocalVolumes {
    /// Makes the folders of the plan's volumes under `root/volumes`.
    pub(crate) fn prepare(plan: &Plan, root: &Path, run_id: &str) -> Result<Self, RunError> {
        let base = root.join("volumes");
        let mut out = LocalVolumes::default();
        for (name, v) in &plan.volumes {
            let dir = match &v.claim {
                Some(claim) => base.join(crate::util::file_safe(claim)),
                None => {
                    let run = base.join(format!("run-{run_id}"));
                    out.run_folder = Some(run.clone());
                    run.join(crate::util::file_safe(name))
                }
            };
            std::fs::create_dir_all(&dir).map_err(|e| {
                RunError::new(
                    RunCode::VolumeFolder,
                    format!(
                        "the folder of volume `{name}` ({}) cannot be made: {e}",
                        dir.display()
                    ),
                )
                .hint("check that the store's folder can be written (`--store`)")
            })?;
            out.dirs.insert(name.clone(), dir);
        }
        Ok(out)
    }

    /// Removes the folders of the claims created for the run.
    pub(crate) fn finish(&self) {
        if let Some(run) = &self.run_folder {
            let _ = std::fs::remove_dir_all(run);
        }
    }
}

/// `text` with each mount path (the `.0` of `mounts`) that starts a path in it replaced by the
/// folder standing for it: `/scratch/a.csv` → `<folder>/a.csv`. A mount path followed by a
/// character that continues a name (`/scratchpad`) is left alone.
pub(crate) fn substitute(text: &str, mounts: &[(String, PathBuf)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (path, dir) in mounts {
            if let Some(after) = rest.strip_prefix(path.as_str()) {
                let ends = after
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_alphanumeric() || "_-.".contains(c)));
                let starts = out
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_alphanumeric() || "_-./".contains(c)));
                if ends && starts {
                    out.push_str(&dir.to_string_lossy());
                    rest = after;
                    continue 'outer;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_starting_a_path_are_replaced() {
        let m = vec![(
            "/scratch".to_string(),
            PathBuf::from("/home/u/p/.flow/volumes/x"),
        )];
        assert_eq!(
            substitute("cp /scratch/a.csv --out=/scratch", &m),
            "cp /home/u/p/.flow/volumes/x/a.csv --out=/home/u/p/.flow/volumes/x"
        );
        assert_eq!(
            substitute("/scratchpad /a/scratch", &m),
            "/scratchpad /a/scratch"
        );
    }
}
