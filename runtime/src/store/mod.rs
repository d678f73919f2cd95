//! The content-addressed artifact store (`.flow/` beside the project by default).
//!
//! Layout: `objects/ab/<sha256>` holds artifacts (files, or folders for `Dir`), named by the hash
//! of their content and made read-only; `cache/<key>.json` maps a task's cache key to its output
//! objects, and `cache/last/index.json` keeps the ingredients of each task's key at its last run
//! (for `--explain-cache`); `runs/<id>/` holds each run's plan, records, logs and summary; `tmp/`
//! holds work in progress. Every write goes to a temporary name and is renamed into place, so
//! nothing is ever half-written: a run killed at any instant leaves only garbage in `tmp/`. Runs
//! hold a shared lock on the store, and the task that computes a cache key holds an exclusive lock
//! on that key (`locks/`), so two runs never compute the same step at once and never corrupt each
//! other.
//!
//! Nothing is fsynced: renames make every write atomic for readers and for a killed runner, at
//! no cost per step. A power cut or a kernel crash can lose the newest writes, and may leave a
//! cache entry naming an object whose content never reached the disk; such an entry is not
//! reused when the object lacks its recorded size (the usual outcome is an empty file).
//! Synchronising every object, entry and folder would cost milliseconds a step on common disks
//! (docs/perf.md).
//!
//! A store on object storage (`s3://BUCKET/PREFIX`, [`Store::open_remote`]) keeps this layout
//! in a local folder, which is its working area and a cache of objects, and writes objects,
//! cache entries, last ingredients and run folders through to the bucket, where cache entries
//! are looked up (`remote.rs`, which also states the consistency model; the client is `s3.rs`).

pub mod remote;
pub mod s3;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::error::{RunCode, RunError};

/// An opened store.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    /// The shared lock held for as long as the store is open.
    _lock: File,
    /// `cache/last/index.json`: the cache-key ingredients of each task's last run, read when
    /// first needed.
    last: OnceLock<serde_json::Map<String, Json>>,
    /// Ingredients of this run's tasks, not saved yet.
    remembered: Mutex<serde_json::Map<String, Json>>,
    /// The object storage this store writes through to, if any.
    remote: Option<Box<dyn remote::Remote>>,
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
            last: OnceLock::new(),
            remembered: Mutex::new(serde_json::Map::new()),
            remote: None,
        })
    }

    /// Opens the store on object storage `remote`, with `root` as its local folder (working
    /// area and cache of objects), after checking that the bucket can be reached with these
    /// credentials (`R020`–`R022` otherwise).
    pub fn open_remote(root: &Path, remote: Box<dyn remote::Remote>) -> Result<Store, RunError> {
        remote.probe()?;
        let mut store = Store::open(root)?;
        store.remote = Some(remote);
        Ok(store)
    }

    /// The URL of the object storage the store writes through to, if any.
    pub fn remote_url(&self) -> Option<String> {
        self.remote.as_ref().map(|r| r.url())
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
        let stored = StoredOutput {
            object: hash,
            kind: kind.to_string(),
            bytes,
        };
        if let Some(r) = &self.remote {
            self.upload_object(r.as_ref(), &stored)
                .map_err(remote::to_io)?;
        }
        Ok(stored)
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

    /// The cache entry for `key`, if it exists and all its objects are present (files with
    /// their recorded size, so an object a power cut left empty is not reused).
    /// On object storage, the entry is looked up there and its objects downloaded when the
    /// local folder lacks them.
    pub fn cache_get(&self, key: &str) -> Option<CacheEntry> {
        if let Some(r) = &self.remote {
            return self.remote_cache_get(r.as_ref(), key);
        }
        let text = fs::read_to_string(self.root.join("cache").join(format!("{key}.json"))).ok()?;
        let entry: CacheEntry = serde_json::from_str(&text).ok()?;
        entry
            .outputs
            .values()
            .all(|o| match fs::metadata(self.object_path(&o.object)) {
                Ok(m) if m.is_file() => m.len() == o.bytes,
                Ok(_) => true,
                Err(_) => false,
            })
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
        )?;
        match &self.remote {
            Some(r) => self.remote_cache_put(r.as_ref(), entry),
            None => Ok(()),
        }
    }

    /// The cache-key ingredients last used for `slot` (pipeline/task) by an earlier run, for
    /// `--explain-cache`: from `cache/last/index.json`, or from `cache/last/<slot>.json` where
    /// older versions of flowc wrote them.
    pub fn last_ingredients(&self, slot: &str) -> Option<Json> {
        if let Some(r) = &self.remote {
            return self.remote_last(r.as_ref(), slot);
        }
        let all = self
            .last
            .get_or_init(|| self.read_last().unwrap_or_default());
        if let Some(v) = all.get(slot) {
            return Some(v.clone());
        }
        let text = fs::read_to_string(
            self.root
                .join("cache/last")
                .join(format!("{}.json", crate::util::file_safe(slot))),
        )
        .ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Remembers the cache-key ingredients of `slot`; [`Store::save_last_ingredients`] writes
    /// them when the run ends. (One file a run instead of one a step: a run killed before its
    /// end only makes the next explanations compare with an older run.)
    pub fn set_last_ingredients(&self, slot: &str, v: &Json) {
        if let Ok(mut r) = self.remembered.lock() {
            r.insert(slot.to_string(), v.clone());
        }
    }

    /// Adds the ingredients remembered by this run to `cache/last/index.json`, under an
    /// exclusive lock so that concurrent runs do not lose each other's.
    pub fn save_last_ingredients(&self) -> io::Result<()> {
        let new = match self.remembered.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(_) => return Ok(()),
        };
        if new.is_empty() {
            return Ok(());
        }
        if let Some(r) = &self.remote {
            return self.remote_save_last(r.as_ref(), new);
        }
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join("locks/last"))?;
        lock.lock()?;
        let mut all = self.read_last().unwrap_or_default();
        all.extend(new);
        let text = serde_json::to_string(&all).unwrap_or_default();
        self.write_atomic(&self.root.join("cache/last/index.json"), text.as_bytes())
    }

    fn read_last(&self) -> Option<serde_json::Map<String, Json>> {
        let text = fs::read_to_string(self.root.join("cache/last/index.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Takes the exclusive lock of a cache key, released when the returned guard is dropped.
    ///
    /// On Linux the lock is one byte of the shared file `locks/keys`, at an offset taken from
    /// the key (an open-file-description lock, so it also excludes other threads of this
    /// process): creating a file is the dearest thing a step's bookkeeping does on many file
    /// systems, and this creates none. Elsewhere, or on kernels without such locks, each key
    /// has its own lock file.
    pub fn lock_key(&self, key: &str) -> io::Result<KeyLock> {
        let locks = self.root.join("locks");
        #[cfg(target_os = "linux")]
        if let Some(offset) = key.get(..15).and_then(|h| i64::from_str_radix(h, 16).ok()) {
            let f = fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(locks.join("keys"))?;
            match lock_byte(&f, offset) {
                Ok(()) => return Ok(KeyLock { _file: f }),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
                Err(e) => return Err(e),
            }
        }
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(locks.join(format!("{key}.lock")))?;
        f.lock()?;
        Ok(KeyLock { _file: f })
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    pub fn write_atomic(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!(".w-{}", crate::util::unique()));
        // No fsync: the rename is atomic for any reader, and a killed process loses nothing
        // the kernel already has. (A power cut may lose the newest cache entries; the cache is
        // only an optimisation, and an entry is reused only when its objects have their
        // recorded sizes.)
        File::create(&tmp)?.write_all(bytes)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&tmp, path)
    }

    /// [`Store::write_atomic`] of what `write` writes, streamed to the file through a buffer
    /// rather than made whole in memory first (a large plan is half a megabyte of JSON).
    pub fn write_atomic_with(
        &self,
        path: &Path,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let tmp = self
            .root
            .join("tmp")
            .join(format!(".w-{}", crate::util::unique()));
        let mut out = io::BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        write(&mut out)?;
        out.flush()?;
        drop(out);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::rename(&tmp, path)
    }
}

/// The exclusive lock of a cache key; dropping it releases the lock.
#[derive(Debug)]
pub struct KeyLock {
    _file: File,
}

/// Write-locks byte `offset` of `f` for its open file description, waiting for it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn lock_byte(f: &File, offset: i64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock is plain data; all zeroes is a valid value (and `l_pid` must be 0).
    let mut range: libc::flock = unsafe { std::mem::zeroed() };
    range.l_type = libc::F_WRLCK as libc::c_short;
    range.l_whence = libc::SEEK_SET as libc::c_short;
    range.l_start = offset;
    range.l_len = 1;
    loop {
        // SAFETY: fcntl reads the flock struct we own, on a descriptor `f` keeps open.
        let r = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_OFD_SETLKW, &range) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
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

/// Copies the file or folder `src` to `dest` (folders with everything in them).
pub(crate) fn copy_into(src: &Path, dest: &Path) -> io::Result<()> {
    if src.is_dir() {
        fs::create_dir_all(dest)?;
        for e in fs::read_dir(src)? {
            let e = e?;
            copy_into(&e.path(), &dest.join(e.file_name()))?;
        }
        Ok(())
    } else {
        fs::copy(src, dest).map(|_| ())
    }
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

    #[test]
    fn last_ingredients_are_saved_once_a_run_and_merged() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().join("s");
        let (one, two) = (serde_json::json!({"n": 1}), serde_json::json!({"n": 2}));
        let first = Store::open(&root).unwrap_or_else(|e| panic!("{e}"));
        first.set_last_ingredients("p/a", &one);
        first.set_last_ingredients("p/b", &one);
        assert_eq!(
            first.last_ingredients("p/a"),
            None,
            "only earlier runs count"
        );
        first
            .save_last_ingredients()
            .unwrap_or_else(|e| panic!("{e}"));
        // A concurrent run that saves later keeps the first one's slots.
        let second = Store::open(&root).unwrap_or_else(|e| panic!("{e}"));
        second.set_last_ingredients("p/b", &two);
        second
            .save_last_ingredients()
            .unwrap_or_else(|e| panic!("{e}"));
        let third = Store::open(&root).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(third.last_ingredients("p/a"), Some(one.clone()));
        assert_eq!(third.last_ingredients("p/b"), Some(two));
        // Stores written by earlier versions kept one file a slot.
        fs::create_dir_all(root.join("cache/last")).unwrap_or_else(|e| panic!("{e}"));
        fs::write(root.join("cache/last/p_c.json"), one.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(third.last_ingredients("p/c"), Some(one));
    }

    /// Whether another holder has the lock of `key` (an open-file-description lock test).
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn key_locked(store: &Store, key: &str) -> bool {
        use std::os::fd::AsRawFd;
        let f = fs::OpenOptions::new()
            .write(true)
            .open(store.root().join("locks/keys"))
            .unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: flock is plain data, all zeroes is valid; fcntl fills in the struct we own.
        let mut range: libc::flock = unsafe { std::mem::zeroed() };
        range.l_type = libc::F_WRLCK as libc::c_short;
        range.l_whence = libc::SEEK_SET as libc::c_short;
        range.l_start = i64::from_str_radix(&key[..15], 16).unwrap_or(0);
        range.l_len = 1;
        let r = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_OFD_GETLK, &mut range) };
        assert_eq!(r, 0, "{}", io::Error::last_os_error());
        range.l_type != libc::F_UNLCK as libc::c_short
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_key_lock_excludes_other_holders_of_that_key_only() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&dir.path().join("s")).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = ("a1".repeat(32), "b2".repeat(32));
        let held = store.lock_key(&a).unwrap_or_else(|e| panic!("{e}"));
        assert!(key_locked(&store, &a) && !key_locked(&store, &b));
        drop(held);
        assert!(!key_locked(&store, &a));
        // A thread of the same process waits for a key another thread holds, and gets it once
        // it is released.
        let held = store.lock_key(&a).unwrap_or_else(|e| panic!("{e}"));
        let got = std::thread::scope(|s| {
            let waiter = s.spawn(|| store.lock_key(&a).is_ok());
            drop(held);
            waiter.join().unwrap_or(false)
        });
        assert!(got);
        assert!(!key_locked(&store, &a), "released when dropped");
    }
}
