//! The store's copy on object storage (`flowc run --store s3://BUCKET/PREFIX`): the [`Remote`]
//! a [`Store`] writes through to and reads through from, its local folder serving as the
//! working area and as a cache of objects.
//!
//! Keys under the prefix mirror the local layout: `objects/ab/<sha256>` (a file's bytes; a
//! folder is a manifest, `{"flowc.dir": 1, "files": [...]}`, naming its files' objects),
//! `cache/<key>.json` (cache entries), `cache/last/<sha256 of the slot>.json` (the ingredients
//! of a task's last run, for `--explain-cache`) and `runs/<id>/…` (a run's plan, records, logs
//! and, last, its `summary.json`).
//!
//! Consistency: S3 is strongly consistent (a GET after a completed PUT sees it), and a PUT,
//! multipart or not, is visible only once complete. Objects are uploaded before the cache entry
//! that names them, so an entry that can be read names only complete objects; objects are
//! content-addressed, so two writers of one key write the same bytes; a cache entry is written
//! with `If-None-Match: *` (the first writer wins, and both entries would be complete); a run's
//! `summary.json` is written after everything else of the run. There is no lock across
//! machines: two runs may compute the same step at once, and both results are valid. A run
//! killed mid-upload leaves no object (an unfinished multipart upload is invisible; a bucket
//! lifecycle rule should abort such uploads after a day).

use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::s3::{Listed, S3};
use super::{collect, hash_file, make_read_only, CacheEntry, Store, StoredOutput};
use crate::error::{RunCode, RunError};

/// Object storage a store writes through to: blocking requests on keys relative to the store's
/// prefix. [`S3`] is the one implementation.
pub trait Remote: Send + Sync + std::fmt::Debug {
    /// The store's URL (`s3://BUCKET/PREFIX`).
    fn url(&self) -> String;
    /// Checks that the store can be reached with these credentials.
    fn probe(&self) -> Result<(), RunError>;
    /// Whether `key` exists.
    fn exists(&self, key: &str) -> Result<bool, RunError>;
    /// The bytes of `key`, `None` when it does not exist.
    fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, RunError>;
    /// Downloads `key` into the new file `dest`; `false` when it does not exist.
    fn get_file(&self, key: &str, dest: &Path) -> Result<bool, RunError>;
    /// Writes `key`; with `if_absent`, only when it does not exist (`false` when it did).
    fn put_bytes(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<bool, RunError>;
    /// Uploads the file `src` to `key`, visible only once complete.
    fn put_file(&self, key: &str, src: &Path) -> Result<(), RunError>;
    /// The objects under `prefix`, sorted by key.
    fn list(&self, prefix: &str) -> Result<Vec<Listed>, RunError>;
    /// Deletes `key` (nothing to do when it does not exist).
    fn delete(&self, key: &str) -> Result<(), RunError>;
    /// Copies `from` to `to`.
    fn copy(&self, from: &str, to: &str) -> Result<(), RunError>;
}

impl Remote for S3 {
    fn url(&self) -> String {
        S3::url(self)
    }
    fn probe(&self) -> Result<(), RunError> {
        S3::probe(self)
    }
    fn exists(&self, key: &str) -> Result<bool, RunError> {
        S3::exists(self, key)
    }
    fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, RunError> {
        S3::get_bytes(self, key)
    }
    fn get_file(&self, key: &str, dest: &Path) -> Result<bool, RunError> {
        S3::get_file(self, key, dest)
    }
    fn put_bytes(&self, key: &str, bytes: Vec<u8>, if_absent: bool) -> Result<bool, RunError> {
        S3::put_bytes(self, key, bytes, if_absent)
    }
    fn put_file(&self, key: &str, src: &Path) -> Result<(), RunError> {
        S3::put_file(self, key, src)
    }
    fn list(&self, prefix: &str) -> Result<Vec<Listed>, RunError> {
        S3::list_meta(self, prefix)
    }
    fn delete(&self, key: &str) -> Result<(), RunError> {
        S3::delete(self, key)
    }
    fn copy(&self, from: &str, to: &str) -> Result<(), RunError> {
        S3::copy(self, from, to)
    }
}

/// The key of object `hash`.
pub fn object_key(hash: &str) -> String {
    format!("objects/{}/{hash}", hash.get(..2).unwrap_or("00"))
}

/// The key of the cache entry of `key`.
fn entry_key(key: &str) -> String {
    format!("cache/{key}.json")
}

/// The key of the last ingredients of `slot`.
fn last_key(slot: &str) -> String {
    format!("cache/last/{:x}.json", Sha256::digest(slot.as_bytes()))
}

/// A folder object on object storage: its files' objects.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DirManifest {
    #[serde(rename = "flowc.dir")]
    pub(crate) version: u32,
    pub(crate) files: Vec<DirFile>,
}

/// One file of a folder object.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct DirFile {
    /// Its path in the folder, `/`-separated.
    pub(crate) path: String,
    pub(crate) object: String,
    pub(crate) bytes: u64,
}

impl DirManifest {
    /// The name of the folder object this manifest describes: [`super::hash_dir`] of the
    /// folder, computed from its files' paths and objects (the files sorted by path).
    pub(crate) fn folder_hash(&self) -> String {
        let mut files: Vec<&DirFile> = self.files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut h = Sha256::new();
        for f in files {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(f.object.as_bytes());
            h.update([0]);
        }
        format!("{:x}", h.finalize())
    }
}

/// A run error as an IO error (for the store's `io::Result` functions).
pub(super) fn to_io(e: RunError) -> io::Error {
    io::Error::other(e.to_string())
}

fn local_err(what: &str, path: &Path, e: &io::Error) -> RunError {
    RunError::new(
        RunCode::StoreUnavailable,
        format!("cannot {what} `{}`: {e}", path.display()),
    )
}

fn missing(r: &dyn Remote, key: &str) -> RunError {
    RunError::new(
        RunCode::StoreTransfer,
        format!("`{}/{key}` is missing from the store", r.url()),
    )
    .hint("something deleted objects that a cache entry names; run with caching off for this step, or remove the entry")
}

impl Store {
    /// Uploads object `o` (already in the local store) unless the remote has it.
    pub(super) fn upload_object(&self, r: &dyn Remote, o: &StoredOutput) -> Result<(), RunError> {
        let key = object_key(&o.object);
        if r.exists(&key)? {
            return Ok(());
        }
        let local = self.object_path(&o.object);
        if o.kind != "dir" {
            return r.put_file(&key, &local);
        }
        let mut entries = Vec::new();
        collect(&local, &local, &mut entries).map_err(|e| local_err("read", &local, &e))?;
        entries.sort();
        let mut files = Vec::new();
        for (rel, path) in entries {
            let hash = hash_file(&path).map_err(|e| local_err("read", &path, &e))?;
            let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let file_key = object_key(&hash);
            if !r.exists(&file_key)? {
                r.put_file(&file_key, &path)?;
            }
            files.push(DirFile {
                path: rel,
                object: hash,
                bytes,
            });
        }
        let manifest = serde_json::to_vec(&DirManifest { version: 1, files }).unwrap_or_default();
        r.put_bytes(&key, manifest, false).map(|_| ())
    }

    /// Makes object `o` present in the local store, downloading it when it is not (or is not
    /// whole).
    pub(super) fn download_object(&self, r: &dyn Remote, o: &StoredOutput) -> Result<(), RunError> {
        let dest = self.object_path(&o.object);
        match fs::metadata(&dest) {
            Ok(m) if m.is_dir() || m.len() == o.bytes => return Ok(()),
            Ok(_) => {
                let _ = fs::remove_file(&dest);
            }
            Err(_) => {}
        }
        let tmp = self
            .root
            .join("tmp")
            .join(format!(".get-{}", crate::util::unique()));
        let got = if o.kind == "dir" {
            self.download_dir(r, &object_key(&o.object), &tmp)
        } else {
            match r.get_file(&object_key(&o.object), &tmp)? {
                true => Ok(()),
                false => Err(missing(r, &object_key(&o.object))),
            }
        };
        if let Err(e) = got {
            let _ = fs::remove_dir_all(&tmp);
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let _ = make_read_only(&tmp);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| local_err("create", parent, &e))?;
        }
        if fs::rename(&tmp, &dest).is_err() && !dest.exists() {
            return Err(local_err(
                "move into",
                &dest,
                &io::Error::other("rename failed"),
            ));
        }
        let _ = fs::remove_dir_all(&tmp);
        let _ = fs::remove_file(&tmp);
        Ok(())
    }

    /// Downloads the folder object whose manifest is at `key` into the new folder `tmp`.
    fn download_dir(&self, r: &dyn Remote, key: &str, tmp: &Path) -> Result<(), RunError> {
        let bytes = r.get_bytes(key)?.ok_or_else(|| missing(r, key))?;
        let manifest: DirManifest = serde_json::from_slice(&bytes).map_err(|e| {
            RunError::new(
                RunCode::StoreTransfer,
                format!("`{}/{key}` is not a folder manifest: {e}", r.url()),
            )
        })?;
        fs::create_dir_all(tmp).map_err(|e| local_err("create", tmp, &e))?;
        for f in &manifest.files {
            let safe = !f.path.is_empty()
                && f.path
                    .split('/')
                    .all(|c| !c.is_empty() && c != "." && c != "..");
            if !safe {
                return Err(RunError::new(
                    RunCode::StoreTransfer,
                    format!(
                        "`{}/{key}` names the file `{}` outside its folder",
                        r.url(),
                        f.path
                    ),
                ));
            }
            let path = tmp.join(&f.path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(|e| local_err("create", parent, &e))?;
            }
            let file_key = object_key(&f.object);
            if !r.get_file(&file_key, &path)? {
                return Err(missing(r, &file_key));
            }
        }
        Ok(())
    }

    /// The cache entry of `key` on the remote, with its objects made present locally.
    pub(super) fn remote_cache_get(&self, r: &dyn Remote, key: &str) -> Option<CacheEntry> {
        let bytes = r.get_bytes(&entry_key(key)).ok()??;
        let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
        if entry.key != key {
            return None;
        }
        for o in entry.outputs.values() {
            if self.download_object(r, o).is_err() {
                // An entry naming an object that is gone (deleted by hand, or by `store gc`
                // while a run that found the object wrote its entry) can never be used, and
                // entries are written only where none is: remove it, so that the result
                // computed now takes its place.
                if matches!(r.exists(&object_key(&o.object)), Ok(false)) {
                    let _ = r.delete(&entry_key(key));
                }
                return None;
            }
        }
        let _ = self.write_atomic(&self.root.join(entry_key(key)), &bytes);
        Some(entry)
    }

    /// Writes a cache entry to the remote, unless one is there already (its objects were
    /// uploaded when they were stored).
    pub(super) fn remote_cache_put(&self, r: &dyn Remote, entry: &CacheEntry) -> io::Result<()> {
        let text = serde_json::to_vec_pretty(entry).unwrap_or_default();
        r.put_bytes(&entry_key(&entry.key), text, true)
            .map(|_| ())
            .map_err(to_io)
    }

    /// The last ingredients of `slot` on the remote.
    pub(super) fn remote_last(&self, r: &dyn Remote, slot: &str) -> Option<Json> {
        let bytes = r.get_bytes(&last_key(slot)).ok()??;
        let doc: Json = serde_json::from_slice(&bytes).ok()?;
        (doc.get("slot")?.as_str()? == slot).then(|| doc.get("ingredients").cloned())?
    }

    /// Writes the last ingredients of each slot to the remote (one object a slot: the last
    /// writer wins, which is what "last" means).
    pub(super) fn remote_save_last(
        &self,
        r: &dyn Remote,
        slots: serde_json::Map<String, Json>,
    ) -> io::Result<()> {
        for (slot, ingredients) in slots {
            let doc = serde_json::json!({ "slot": slot, "ingredients": ingredients });
            r.put_bytes(
                &last_key(&slot),
                serde_json::to_vec(&doc).unwrap_or_default(),
                false,
            )
            .map_err(to_io)?;
        }
        Ok(())
    }

    /// Uploads the folder of run `run_id` to the remote, its `summary.json` last (a run whose
    /// summary can be read has all its files there). Nothing to do for a local store.
    pub fn publish_run(&self, run_id: &str) -> Result<(), RunError> {
        let Some(r) = self.remote.as_deref() else {
            return Ok(());
        };
        let dir = self.run_dir(run_id);
        let mut files = Vec::new();
        collect(&dir, &dir, &mut files).map_err(|e| local_err("read", &dir, &e))?;
        files.sort_by_key(|(rel, _)| (rel == "summary.json", rel.clone()));
        for (rel, path) in files {
            r.put_file(&format!("runs/{run_id}/{rel}"), &path)?;
        }
        Ok(())
    }
}
