//! `flowc autotune --in-force CONFIGMAP.json`: the memory in force is the ConfigMap the
//! every-minute job applied, not the lock file the image holds. The job reads it back
//! (`kubectl get configmap NAME -o json`) so that the tuner's hysteresis and short-history rules
//! start from the values the steps really ran with, as the replay's deployed policy does.

use std::path::Path;

use crate::lockfile::LockFile;
use serde_json::Value as Json;

/// Sets the memory of each step of `lock` that the ConfigMap at `path` holds (its ladder's
/// first entry, the memory of a first attempt); returns how many it set. A ConfigMap that does
/// not read, or a value a build could not use, is an error naming the file.
pub(crate) fn apply(lock: &mut LockFile, path: &Path) -> Result<usize, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{shown}`: {e}"))?;
    let doc: Json = serde_json::from_str(&text).map_err(|e| {
        format!(
            "`{shown}` is not a ConfigMap as `kubectl get configmap NAME -o json` prints it: {e}"
        )
    })?;
    if doc["kind"] != "ConfigMap" {
        return Err(format!(
            "`{shown}` is not a ConfigMap (its `kind` is {}); write it with `kubectl get \
             configmap NAME -o json`",
            doc["kind"]
        ));
    }
    let data = doc["data"].as_object().cloned().unwrap_or_default();
    let mut set = 0;
    for (key, step) in lock.steps.iter_mut() {
        let Some((pipeline, name)) = key.split_once('/') else {
            continue;
        };
        let cm_key = flowc_targets::argo::configmap_key(pipeline, name);
        let Some(first) = data
            .get(&cm_key)
            .and_then(Json::as_str)
            .and_then(|ladder| ladder.split_whitespace().next())
        else {
            continue;
        };
        step.memory = Some(first.to_string());
        set += 1;
    }
    // Values a build could not use make the lock file invalid: check them the same way.
    flowc_compiler::lockfile::parse(&lock.to_text())
        .map_err(|e| e.message(&format!("{shown} (values in force)")))?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> LockFile {
        flowc_compiler::lockfile::parse(
            r#"{"format":"flowc.lock","version":1,"steps":{
              "daily/load":{"memory":"1Gi","cpu":"500m","gpu":0,"confidence":"high","executions":9},
              "daily/score":{"memory":"2Gi","cpu":"500m","gpu":0,"confidence":"high","executions":9}}}"#,
        )
        .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("cm.json");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        (dir, path)
    }

    #[test]
    fn the_configmaps_first_attempt_is_the_memory_in_force() {
        let (_d, path) =
            write(r#"{"kind":"ConfigMap","data":{"daily.load":"700Mi 980Mi","other.step":"1Gi"}}"#);
        let mut l = lock();
        assert_eq!(apply(&mut l, &path), Ok(1));
        assert_eq!(l.steps["daily/load"].memory.as_deref(), Some("700Mi"));
        assert_eq!(l.steps["daily/score"].memory.as_deref(), Some("2Gi"));
    }

    #[test]
    fn what_is_not_a_configmap_or_not_a_quantity_is_refused() {
        let (_d, path) = write(r#"{"kind":"Secret","data":{}}"#);
        let err = apply(&mut lock(), &path).expect_err("a Secret");
        assert!(err.contains("is not a ConfigMap"), "{err}");
        let (_d, path) = write("kind: ConfigMap");
        let err = apply(&mut lock(), &path).expect_err("YAML");
        assert!(err.contains("kubectl get configmap NAME -o json"), "{err}");
        let (_d, path) = write(r#"{"kind":"ConfigMap","data":{"daily.load":"lots"}}"#);
        let err = apply(&mut lock(), &path).expect_err("not a quantity");
        assert!(err.contains("daily/load"), "{err}");
    }
}
