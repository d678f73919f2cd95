//! `flowc store verify` and `flowc store gc` on a store in object storage (`s3://BUCKET/PREFIX`,
//! layout in [`crate::store::remote`]), with the same reports as on a folder.
//!
//! `verify` downloads every object once (into a scratch folder, one at a time) and re-hashes it:
//! a file object must hash to its name, a folder object is a manifest whose files hash (by
//! [`crate::store::hash_dir`]'s rule) to its name and are themselves objects of their recorded
//! sizes. Cache entries and run summaries are checked against the objects listed. With
//! `quarantine`, what is wrong is copied to `quarantine/<id>/<key>` and then deleted.
//!
//! `gc` applies the folder store's retention rules. There is no lock across machines, so it
//! never removes what may be in flight: an object written less than `grace_ms` ago (a run
//! uploads its objects before the cache entry that names them), and a run folder without a
//! summary written less than `grace_ms` ago (a run publishes its folder when it ends, the
//! summary last). A run folder is removed summary first, so that a removal cut short leaves an
//! unfinished run, never a finished one with missing parts.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;

use super::VerifyReport;
use super::{is_object_name, summary_objects, GcPolicy, GcReport, Problem, ProblemKind};
use crate::error::RunError;
use crate::store::remote::{DirManifest, Remote};
use crate::store::s3::Listed;
use crate::store::{hash_file, CacheEntry};

/// Manifests are small JSON documents; a larger object is never read as one.
const MANIFEST_MAX_BYTES: u64 = 16 << 20;

/// What an object turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Object {
    /// A file (or a value) of this many bytes.
    File(u64),
    /// A folder whose files add up to this many bytes.
    Dir(u64),
}

struct BucketVerifier<'a> {
    r: &'a dyn Remote,
    scratch: PathBuf,
    quarantine: Option<String>,
    report: VerifyReport,
    objects: BTreeMap<String, Object>,
}

/// Verifies the store on `r` (downloading each object once into a scratch folder of the
/// system's temporary folder, removed at the end); with `quarantine`, moves what is wrong aside.
pub fn verify_remote(r: &dyn Remote, quarantine: bool) -> Result<VerifyReport, RunError> {
    r.probe()?;
    let scratch = std::env::temp_dir().join(format!("flowc-verify-{}", crate::util::unique()));
    fs::create_dir_all(&scratch).map_err(|e| {
        RunError::new(
            crate::error::RunCode::StoreUnavailable,
            format!("cannot create `{}`: {e}", scratch.display()),
        )
    })?;
    let mut v = BucketVerifier {
        r,
        scratch: scratch.clone(),
        quarantine: quarantine.then(crate::util::unique),
        report: VerifyReport::default(),
        objects: BTreeMap::new(),
    };
    let done = v
        .objects()
        .and_then(|()| v.entries())
        .and_then(|()| v.runs());
    let _ = fs::remove_dir_all(&scratch);
    done.map(|()| v.report)
}

impl BucketVerifier<'_> {
    /// Records a problem at `key`, moving the object aside when quarantining.
    fn problem(&mut self, kind: ProblemKind, key: &str, message: String) {
        let quarantined = self.quarantine.as_ref().and_then(|id| {
            let to = format!("quarantine/{id}/{key}");
            let moved = self.r.copy(key, &to).is_ok() && self.r.delete(key).is_ok();
            moved.then_some(to)
        });
        self.report.problems.push(Problem {
            kind,
            path: key.to_string(),
            message,
            quarantined,
        });
    }

    fn objects(&mut self) -> Result<(), RunError> {
        let listed = self.r.list("objects/")?;
        let mut folders = Vec::new();
        for o in &listed {
            self.report.objects += 1;
            let mut parts = o.key.split('/').skip(1);
            let (prefix, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let in_place = parts.next().is_none() && name.get(..2) == Some(prefix);
            if !is_object_name(name) || !in_place {
                let m = format!("`{}` is not an object name in its place", o.key);
                self.problem(ProblemKind::StrayObject, &o.key, m);
                continue;
            }
            match self.identify(o, name)? {
                Ok(Identified::File) => {
                    self.objects.insert(name.to_string(), Object::File(o.bytes));
                }
                Ok(Identified::Folder(m)) => folders.push((o.key.clone(), name.to_string(), m)),
                Err(m) => self.problem(ProblemKind::CorruptObject, &o.key, m),
            }
        }
        // A folder is whole when each of its files is an object of the recorded size.
        for (key, name, manifest) in folders {
            let broken = manifest
                .files
                .iter()
                .find(|f| self.objects.get(&f.object) != Some(&Object::File(f.bytes)));
            match broken {
                Some(f) => {
                    let m = format!(
                        "its file `{}` names object {} of {} bytes, which is missing or differs",
                        f.path, f.object, f.bytes
                    );
                    self.problem(ProblemKind::CorruptObject, &key, m);
                }
                None => {
                    let bytes = manifest.files.iter().map(|f| f.bytes).sum();
                    self.objects.insert(name, Object::Dir(bytes));
                }
            }
        }
        Ok(())
    }

    /// Whether object `o` (named `name`) is a file of its hash or a folder's manifest;
    /// `Err` inside says why it is neither. Transfer errors end the verification.
    fn identify(&self, o: &Listed, name: &str) -> Result<Result<Identified, String>, RunError> {
        let tmp = self
            .scratch
            .join(format!("{name}.{}", crate::util::unique()));
        if !self.r.get_file(&o.key, &tmp)? {
            return Ok(Err("listed but gone when read".to_string()));
        }
        let hashed = hash_file(&tmp);
        let manifest = match (&hashed, o.bytes <= MANIFEST_MAX_BYTES) {
            (Ok(h), _) if h == name => None,
            (Ok(_), true) => fs::read(&tmp)
                .ok()
                .and_then(|b| serde_json::from_slice::<DirManifest>(&b).ok()),
            _ => None,
        };
        let _ = fs::remove_file(&tmp);
        Ok(match (hashed, manifest) {
            (Err(e), _) => Err(format!("unreadable: {e}")),
            (Ok(h), _) if h == name => Ok(Identified::File),
            (Ok(_), Some(m)) if m.folder_hash() == name => Ok(Identified::Folder(m)),
            (Ok(h), _) => Err(format!("the content hashes to {h}, not to its name")),
        })
    }

    fn entries(&mut self) -> Result<(), RunError> {
        for o in entry_keys(self.r)? {
            self.report.entries += 1;
            let stem = entry_stem(&o.key);
            let entry = match read_entry(self.r, &o.key)? {
                Ok(e) => e,
                Err(e) => {
                    self.problem(
                        ProblemKind::BrokenEntry,
                        &o.key,
                        format!("not a cache entry: {e}"),
                    );
                    continue;
                }
            };
            if entry.key != stem {
                let m = format!("it records the key {}, not its name's", entry.key);
                self.problem(ProblemKind::BrokenEntry, &o.key, m);
                continue;
            }
            if let Some(m) = self.entry_problem(&entry) {
                self.problem(ProblemKind::EntryMissingObject, &o.key, m);
            }
        }
        Ok(())
    }

    /// Why an entry's outputs are not all present as recorded, if they are not.
    fn entry_problem(&self, entry: &CacheEntry) -> Option<String> {
        entry.outputs.iter().find_map(|(name, o)| {
            let want = if o.kind == "dir" {
                Object::Dir(o.bytes)
            } else {
                Object::File(o.bytes)
            };
            match self.objects.get(&o.object) {
                None => Some(format!("output `{name}`: object {} is missing", o.object)),
                Some(got) if *got != want => Some(format!(
                    "output `{name}`: object {} is {}, the entry records a {} of {} bytes",
                    o.object,
                    describe(*got),
                    o.kind,
                    o.bytes
                )),
                Some(_) => None,
            }
        })
    }

    fn runs(&mut self) -> Result<(), RunError> {
        for (id, keys) in RunIndex::of(self.r)?.runs {
            self.report.runs += 1;
            let meta = format!("runs/{id}/run.json");
            let readable = keys.contains_key("run.json")
                && self
                    .r
                    .get_bytes(&meta)?
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some();
            if !readable {
                let m = "its run.json cannot be read".to_string();
                self.problem(ProblemKind::BrokenRun, &meta, m);
                continue;
            }
            let path = format!("runs/{id}/summary.json");
            let Some(bytes) = self.r.get_bytes(&path)? else {
                self.report.unfinished_runs += 1;
                continue;
            };
            let Ok(summary) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                let m = "its summary.json is not JSON".to_string();
                self.problem(ProblemKind::BrokenRun, &path, m);
                continue;
            };
            let mut named = Vec::new();
            summary_objects(&summary["outputs"], &mut named);
            if let Some(missing) = named.iter().find(|o| !self.objects.contains_key(*o)) {
                self.report.problems.push(Problem {
                    kind: ProblemKind::RunMissingObject,
                    path,
                    message: format!("an output names object {missing}, which is missing"),
                    quarantined: None,
                });
            }
        }
        Ok(())
    }
}

/// What [`BucketVerifier::identify`] found.
enum Identified {
    File,
    Folder(DirManifest),
}

fn describe(o: Object) -> String {
    match o {
        Object::File(b) => format!("a file of {b} bytes"),
        Object::Dir(b) => format!("a folder of {b} bytes"),
    }
}

/// The cache entries' keys (`cache/<key>.json`, not `cache/last/`).
fn entry_keys(r: &dyn Remote) -> Result<Vec<Listed>, RunError> {
    Ok(r.list("cache/")?
        .into_iter()
        .filter(|o| !o.key.starts_with("cache/last/") && o.key.ends_with(".json"))
        .collect())
}

fn entry_stem(key: &str) -> &str {
    key.trim_start_matches("cache/").trim_end_matches(".json")
}

/// The entry at `key`: `Err` inside when it is not one (or vanished).
fn read_entry(r: &dyn Remote, key: &str) -> Result<Result<CacheEntry, String>, RunError> {
    Ok(match r.get_bytes(key)? {
        None => Err("listed but gone when read".to_string()),
        Some(b) => serde_json::from_slice::<CacheEntry>(&b).map_err(|e| e.to_string()),
    })
}

/// Collects the store on `r` under `policy`, keeping whatever was written less than
/// `grace_ms` ago.
pub fn gc_remote(r: &dyn Remote, policy: &GcPolicy, grace_ms: u64) -> Result<GcReport, RunError> {
    r.probe()?;
    let mut report = GcReport::default();
    let cutoff = policy
        .older_than_ms
        .map(|age| policy.now_ms.saturating_sub(age));
    let recent = policy.now_ms.saturating_sub(grace_ms);
    let index = RunIndex::of(r)?;
    let (kept, gone) = index.retain(r, policy, cutoff, recent)?;
    let kept_ids: BTreeSet<&str> = kept.iter().map(String::as_str).collect();
    let mut live = Live::default();
    for o in entry_keys(r)? {
        // An entry that cannot be read is `store verify`'s to report, never gc's to remove.
        let Ok(entry) = read_entry(r, &o.key)? else {
            continue;
        };
        let old = cutoff.is_some_and(|c| entry.created_ms < c);
        if old && !kept_ids.contains(entry.run_id.as_str()) {
            report.entries_removed += 1;
            if !policy.dry_run {
                r.delete(&o.key)?;
            }
        } else {
            for out in entry.outputs.values() {
                live.add(&out.object, out.kind == "dir");
            }
        }
    }
    for id in &kept {
        if let Some(bytes) = r.get_bytes(&format!("runs/{id}/summary.json"))? {
            if let Ok(s) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                let mut named = Vec::new();
                summary_objects(&s["outputs"], &mut named);
                named.iter().for_each(|n| live.add_unknown(n));
            }
        }
    }
    let objects = r.list("objects/")?;
    live.expand_folders(r, &objects)?;
    for id in gone {
        if !policy.dry_run {
            index.remove(r, &id)?;
        }
        report.runs_removed.push(id);
    }
    for o in objects {
        let name = o.key.rsplit('/').next().unwrap_or_default();
        if live.objects.contains(name) || o.modified_ms >= recent {
            continue;
        }
        report.objects_removed += 1;
        report.bytes_freed += o.bytes;
        if !policy.dry_run {
            r.delete(&o.key)?;
        }
    }
    Ok(report)
}

/// The objects something kept names, with those that may be folders (whose files are then
/// live too).
#[derive(Default)]
struct Live {
    objects: BTreeSet<String>,
    maybe_folders: BTreeSet<String>,
}

impl Live {
    /// An object a cache entry names, as a folder or not.
    fn add(&mut self, name: &str, folder: bool) {
        self.objects.insert(name.to_string());
        if folder {
            self.maybe_folders.insert(name.to_string());
        }
    }

    /// An object a run summary names (which does not say whether it is a folder).
    fn add_unknown(&mut self, name: &str) {
        if self.objects.insert(name.to_string()) {
            self.maybe_folders.insert(name.to_string());
        }
    }

    /// Adds the files of every live folder object (`objects`: the listing, for sizes).
    fn expand_folders(&mut self, r: &dyn Remote, objects: &[Listed]) -> Result<(), RunError> {
        let sizes: BTreeMap<&str, u64> = objects
            .iter()
            .map(|o| (o.key.rsplit('/').next().unwrap_or_default(), o.bytes))
            .collect();
        for name in std::mem::take(&mut self.maybe_folders) {
            if sizes
                .get(name.as_str())
                .is_none_or(|b| *b > MANIFEST_MAX_BYTES)
            {
                continue;
            }
            let key = crate::store::remote::object_key(&name);
            let Some(bytes) = r.get_bytes(&key)? else {
                continue;
            };
            let Ok(m) = serde_json::from_slice::<DirManifest>(&bytes) else {
                continue;
            };
            if m.folder_hash() == name {
                self.objects.extend(m.files.into_iter().map(|f| f.object));
            }
        }
        Ok(())
    }
}

/// The run folders of a store on object storage: each run's id with the names of its files.
pub(crate) struct RunIndex {
    /// Run id → file names (relative to the run's folder), with when each was written.
    pub(crate) runs: BTreeMap<String, BTreeMap<String, u64>>,
}

impl RunIndex {
    /// Lists `runs/` on `r`.
    pub(crate) fn of(r: &dyn Remote) -> Result<RunIndex, RunError> {
        let mut runs: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for o in r.list("runs/")? {
            let rest = o.key.trim_start_matches("runs/");
            if let Some((id, file)) = rest.split_once('/') {
                runs.entry(id.to_string())
                    .or_default()
                    .insert(file.to_string(), o.modified_ms);
            }
        }
        Ok(RunIndex { runs })
    }

    /// Splits the runs into those `policy` keeps and those it removes, newest first: a run is
    /// kept when it is among the newest `keep_runs`, started after `cutoff`, has a `keep` file,
    /// or has no summary and was written to after `recent` (it may still be publishing).
    fn retain(
        &self,
        r: &dyn Remote,
        policy: &GcPolicy,
        cutoff: Option<u64>,
        recent: u64,
    ) -> Result<(Vec<String>, Vec<String>), RunError> {
        let mut runs = Vec::new();
        for (id, files) in &self.runs {
            let started = match r.get_bytes(&format!("runs/{id}/run.json"))? {
                Some(b) => super::gc::started_of(&b),
                None => 0,
            };
            let publishing =
                !files.contains_key("summary.json") && files.values().any(|m| *m >= recent);
            runs.push((
                started,
                id.clone(),
                files.contains_key("keep") || publishing,
            ));
        }
        runs.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        let (mut kept, mut gone) = (Vec::new(), Vec::new());
        for (rank, (started, id, pinned)) in runs.into_iter().enumerate() {
            let too_many = policy.keep_runs.is_some_and(|n| rank >= n);
            let too_old = cutoff.is_some_and(|c| started < c);
            if (too_many || too_old) && !pinned {
                gone.push(id);
            } else {
                kept.push(id);
            }
        }
        gone.sort();
        Ok((kept, gone))
    }

    /// Deletes run `id`'s files, its summary first.
    fn remove(&self, r: &dyn Remote, id: &str) -> Result<(), RunError> {
        let Some(files) = self.runs.get(id) else {
            return Ok(());
        };
        let mut names: Vec<&String> = files.keys().collect();
        names.sort_by_key(|n| (n.as_str() != "summary.json", n.as_str()));
        for n in names {
            r.delete(&format!("runs/{id}/{n}"))?;
        }
        Ok(())
    }
}
