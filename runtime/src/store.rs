//! The content-addressed artifact store (`.flow/` beside the project by default).
//!
//! Layout: `objects/ab/<sha256>` holds artifacts (files, or folders for `Dir`), named by the
//! hash of their content and made read-only; `cache/<key>.json` maps a task's cache key to its
//! output objects; `runs/<id>/` holds each run's plan, records, logs and summary; `tmp/` holds
//! work in progress. Every write goes to a temporary name and is renamed into place, so nothing
//! is ever half-written: a run killed at any instant leaves only garbage in `tmp/`. Runs hold a
//! shared lock on the store, and the task that computes a cache key holds an exclusive lock on
//! that key, so two runs never compute the same step at once and never corrupt each other.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{RunCode, RunError};

/// An opened store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    /// The shared lock held for as long as the store is open.
    _lock: File,
}

/// What a cache entry records for one output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOutput {
    /// The object's hash.
    pub object: String,
    /// `file`, `dir` or `value` (a parameter value stored as JSON text).
    pub kind: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// A cache entry: the outputs of one task for one cache key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The cache key.
    pub key: String,
    /// When it was written, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The run that wrote it.
    pub run_id: String,
    /// Outputs by name.
    pub outputs: indexmap::IndexMap<String, StoredOutput>,
}

fn io_err(what: &str, path: &Path, e: &io::Error) -> RunError {
    RunError::new(
        RunCode::StoreUnavailable,
        format!("cannot {what} `{}`: {e}", path.display()),
    )
    .hint("choose a writable store folder with `--store DIR`")
}

impl Store {
    /// Opens (creating if needed) the store at `root` and takes a shared lock on it.
    pub fn open(root: &Path) -> Result<Store, RunError> {
        for sub in ["objects", "cache", "cache/last", "runs", "tmp", "locks"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(|e| io_err("create", &p, &e))?;
        }
        // Probe that the store is writable before any step runs.
        let probe = root
            .join("tmp")
            .join(format!(".probe-{}", std::process::id()));
        File::create(&probe)
            .and_then(|mut f| f.write_all(b"ok"))
            .map_err(|e| io_err("write to", root, &e))?;
        let _ = fs::remove_file(&probe);
        let lock_path = root.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| io_err("open", &lock_path, &e))?;
        lock.lock_shared()
            .map_err(|e| io_err("lock", &lock_path, &e))?;
        Ok(Store {
            root: root.to_path_buf(),
            _lock: lock,
        })
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of run `id`.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.root.join("runs").join(id)
    }

    /// A fresh work folder of a run.
    pub fn tmp_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("tmp").join(run_id)
    }

    /// Where object `hash` lives.
    pub fn object_path(&self, hash: &str) -> PathBuf {
        let prefix = hash.get(..2).unwrap_or("00");
        self.root.join("objects").join(prefix).join(hash)
    }

    /// Whether object `hash` exists.
    pub fn has_object(&self, hash: &str) -> bool {
        self.object_path(hash).exists()
    }

    /// Moves the file or folder at `src` into the store; returns its object.
    pub fn put(&self, src: &Path) -> io::Result<StoredOutput> {
        let meta = fs::metadata(src)?;
        let (hash, kind, bytes) = if meta.is_dir() {
            let (h, b) = hash_dir(src)?;
            (h, "dir", b)
        } else {
            (hash_file(src)?, "file", meta.len())
        };
        let dest = self.object_path(&hash);
        if dest.exists() {
            // Same content already stored (by this or another run).
            if meta.is_dir() {
                fs::remove_dir_all(src)?;
            } else {
                fs::remove_file(src)?;
            }
        } else {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            make_read_only(src)?;
            match fs::rename(src, &dest) {
                Ok(()) => {}
                // Another run renamed the same object in between: keep theirs.
                Err(_) if dest.exists() => {
                    let _ = if meta.is_dir() {
                        fs::remove_dir_all(src)
                    } else {
                        fs::remove_file(src)
                    };
                }
                Err(e) => return Err(e),
            }
        }
        Ok(StoredOutput {
            object: hash,
            kind: kind.to_string(),
            bytes,
        })
    }

    /// Stores a small value (a parameter output) as JSON text.
    pub fn put_value(&self, value: &serde_json::Value, scratch: &Path) -> io::Result<StoredOutput> {
        let text = serde_json::to_string(value).unwrap_or_default();
        let tmp = scratch.join(format!(".value-{}", crate::util::unique()));
        fs::write(&tmp, text.as_bytes())?;
        let mut o = self.put(&tmp)?;
        o.kind = "value".into();
        Ok(o)
    }

    /// Reads a stored value.
    pub fn read_value(&self, hash: &str) -> Option<serde_json::Value> {
        let text = fs::read_to_string(self.object_path(hash)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The cache entry for `key`, if it exists and all its objects are present.
    pub fn cache_get(&self, key: &str) -> Option<CacheEntry> {
        let text = fs::read_to_string(self.root.join("cache").join(format!("{key}.json"))).ok()?;
        let entry: CacheEntry = serde_json::from_str(&text).ok()?;
        entry
            .outputs
            .values()
            .all(|o| self.has_object(&o.object))
            .then_some(entry)
    }

    /// Records a cache entry atomically.
    pub fn cache_put(&self, entry: &CacheEntry) -> io::Result<()> {
        let path = self.root.join("cache").join(format!("{}.json", entry.key));
        self.write_atomic(
            &path,
            serde_json::to_string_pretty(entry)
                .unwrap_or_default()
                .as_bytes(),
        )
    }

    /// The cache-key ingredients last used for `slot` (pipeline/task), for `--explain-cache`.
    pub fn last_ingredients(&self, slot: &str) -> Option<serde_json::Value> {
        let text = fs::read_to_string(
            self.root
                .join("cache/last")
                .join(format!("{}.json", crate::util::file_safe(slot))),
        )
        .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Remembers the cache-key ingredients of `slot`.
    pub fn set_last_ingredients(&self, slot: &str, v: &serde_json::Value) -> io::Result<()> {
        let path = self
            .root
            .join("cache/last")
            .join(format!("{}.json", crate::util::file_safe(slot)));
        self.write_atomic(
            &path,
            serde_json::to_string_pretty(v)
                .unwrap_or_default()
                .as_bytes(),
        )
    }

    /// Takes the exclusive lock of a cache key (released when the file is dropped).
    pub fn lock_key(&self, key: &str) -> io::Result<File> {
        let path = self.root.join("locks").join(format!("{key}.lock"));
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        f.lock()?;
        Ok(f)
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!(".w-{}", crate::util::unique()));
        // No fsync: the rename is atomic for any reader, and a killed process loses nothing
        // the kernel already has. (A power cut may lose the newest cache entries; the cache is
        // only an optimisation, and objects are verified by their hash on the next run.)
        File::create(&tmp)?.write_all(bytes)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&tmp, path)
    }
}

/// SHA-256 of a file's bytes, streamed.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// SHA-256 over a folder: sorted relative paths with their file hashes; and total bytes.
pub fn hash_dir(dir: &Path) -> io::Result<(String, u64)> {
    let mut entries = Vec::new();
    collect(dir, dir, &mut entries)?;
    entries.sort();
    let mut h = Sha256::new();
    let mut bytes = 0;
    for (rel, path) in entries {
        let fh = hash_file(&path)?;
        bytes += fs::metadata(&path)?.len();
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(fh.as_bytes());
        h.update([0]);
    }
    Ok((format!("{:x}", h.finalize()), bytes))
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            collect(base, &p, out)?;
        } else {
            let rel = p
                .strip_prefix(base)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((rel, p));
        }
    }
    Ok(())
}

fn make_read_only(p: &Path) -> io::Result<()> {
    let meta = fs::metadata(p)?;
    if meta.is_dir() {
        for e in fs::read_dir(p)? {
            make_read_only(&e?.path())?;
        }
        return Ok(());
    }
    let mut perm = meta.permissions();
    perm.set_readonly(true);
    fs::set_permissions(p, perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&dir.path().join("s")).unwrap_or_else(|e| panic!("{e}"));
        let a = dir.path().join("a.txt");
        fs::write(&a, "hello").unwrap_or_else(|e| panic!("{e}"));
        let o1 = store.put(&a).unwrap_or_else(|e| panic!("{e}"));
        fs::write(&a, "hello").unwrap_or_else(|e| panic!("{e}"));
        let o2 = store.put(&a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o1, o2);
        assert!(!a.exists());
        assert_eq!(
            fs::read_to_string(store.object_path(&o1.object)).unwrap_or_default(),
            "hello"
        );
    }
}
