//! `flowc_runtime::audit` on real stores written through `Store`'s own functions: verification
//! finds corrupt, missing and mis-sized objects and broken entries, and quarantines them; the
//! collection keeps what retention, kept runs and live references require, and refuses to start
//! while a run holds the store.

use std::fs;
use std::path::Path;

use flowc_runtime::audit::{gc, verify, GcPolicy, ProblemKind};
use flowc_runtime::store::{CacheEntry, Store, StoredOutput};

const DAY: u64 = 86_400_000;
const NOW: u64 = 1_800_000_000_000;

/// Stores `text` as an object.
fn object(store: &Store, scratch: &Path, text: &str) -> StoredOutput {
    let f = scratch.join(format!("o-{}", flowc_runtime::util::unique()));
    fs::write(&f, text).expect("write");
    store.put(&f).expect("put")
}

/// A cache entry of run `run` (created `age` ms before NOW) for one output.
fn entry(store: &Store, key: &str, run: &str, age: u64, out: &StoredOutput) {
    let mut outputs = indexmap::IndexMap::new();
    outputs.insert("out".to_string(), out.clone());
    let e = CacheEntry {
        key: key.into(),
        created_ms: NOW - age,
        run_id: run.into(),
        outputs,
    };
    store.cache_put(&e).expect("entry");
}

/// A finished run folder started `age` ms before NOW whose summary names `outputs`.
fn run(store: &Store, id: &str, age: u64, outputs: &[&StoredOutput]) {
    let dir = store.run_dir(id);
    fs::create_dir_all(&dir).expect("run folder");
    let started = flowc_runtime::util::rfc3339(NOW - age);
    fs::write(
        dir.join("run.json"),
        format!(r#"{{"run_id":"{id}","started":"{started}"}}"#),
    )
    .expect("run.json");
    let outs: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let p = store.object_path(&o.object).to_string_lossy().into_owned();
            (format!("o{i}"), serde_json::Value::String(p))
        })
        .collect();
    let summary = serde_json::json!({"run_id": id, "status": "succeeded", "outputs": outs});
    fs::write(dir.join("summary.json"), summary.to_string()).expect("summary");
}

fn key(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

#[test]
fn a_sound_store_verifies_and_every_kind_of_damage_is_found_and_quarantined() {
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().join("s");
    let store = Store::open(&root).expect("store");
    let (a, b, c) = (
        object(&store, dir.path(), "alpha"),
        object(&store, dir.path(), "beta"),
        object(&store, dir.path(), "gamma"),
    );
    entry(&store, &key(1), "r1", 0, &a);
    entry(&store, &key(2), "r1", 0, &b);
    entry(&store, &key(3), "r1", 0, &c);
    run(&store, "r1", 0, &[&a, &b]);
    fs::create_dir_all(store.run_dir("r2")).expect("an unfinished run");
    fs::write(store.run_dir("r2").join("run.json"), r#"{"run_id":"r2"}"#).expect("run.json");
    drop(store);

    let clean = verify(&root, false).expect("verify");
    assert_eq!((clean.objects, clean.entries, clean.runs), (3, 3, 2));
    assert_eq!(clean.unfinished_runs, 1);
    assert!(clean.problems.is_empty(), "{:?}", clean.problems);

    // Damage: a corrupt object (same size), a missing one, a broken entry.
    let store = Store::open(&root).expect("store");
    let pa = store.object_path(&a.object);
    let mut perm = fs::metadata(&pa).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    fs::set_permissions(&pa, perm).expect("chmod");
    fs::write(&pa, "ALPHA").expect("corrupt");
    fs::remove_file(store.object_path(&b.object)).expect("remove");
    fs::write(
        root.join("cache").join(format!("{}.json", key(9))),
        "{not json",
    )
    .expect("w");
    drop(store);

    let found = verify(&root, false).expect("verify");
    let kinds: Vec<(ProblemKind, &str)> = found
        .problems
        .iter()
        .map(|p| (p.kind, p.path.as_str()))
        .collect();
    let pa_rel = format!("objects/{}/{}", &a.object[..2], a.object);
    let entry_rel = |k: u8| format!("cache/{}.json", key(k));
    assert_eq!(
        kinds,
        [
            (ProblemKind::CorruptObject, pa_rel.as_str()),
            (ProblemKind::EntryMissingObject, entry_rel(2).as_str()),
            (ProblemKind::BrokenEntry, entry_rel(9).as_str()),
            (ProblemKind::RunMissingObject, "runs/r1/summary.json"),
        ],
        "{:?}",
        found.problems
    );
    assert!(found.problems.iter().all(|p| p.quarantined.is_none()));

    // Quarantine moves the corrupt object aside, then the entries that name it or a missing
    // object and the broken one, so that no run reuses them; the run's summary is reported only.
    let q = verify(&root, true).expect("quarantine");
    let moved: Vec<&str> = q
        .problems
        .iter()
        .filter_map(|p| p.quarantined.as_deref())
        .collect();
    assert_eq!(moved.len(), 4, "{:?}", q.problems);
    assert!(moved.iter().all(|m| m.starts_with("quarantine/")));
    assert!(!pa.exists() && !root.join(entry_rel(1)).exists() && !root.join(entry_rel(2)).exists());
    assert!(root.join(moved[0]).is_file(), "kept for inspection");
    let again = verify(&root, true).expect("verify");
    assert_eq!(
        again.problems.iter().map(|p| p.kind).collect::<Vec<_>>(),
        [ProblemKind::RunMissingObject]
    );
    let store = Store::open(&root).expect("store");
    assert!(store.cache_get(&key(1)).is_none() && store.cache_get(&key(3)).is_some());
}

#[test]
fn gc_keeps_what_retention_kept_runs_and_live_entries_need() {
    let dir = tempfile::tempdir().expect("a folder");
    let root = dir.path().join("s");
    let store = Store::open(&root).expect("store");
    let objs: Vec<StoredOutput> = (0..6)
        .map(|i| object(&store, dir.path(), &format!("object {i}")))
        .collect();
    // Runs of 1, 3, 5 and 10 days ago; the oldest is kept by its `keep` file.
    run(&store, "d01", DAY, &[&objs[0]]);
    run(&store, "d03", 3 * DAY, &[&objs[1]]);
    run(&store, "d05", 5 * DAY, &[&objs[2]]);
    run(&store, "d10", 10 * DAY, &[&objs[3]]);
    fs::write(store.run_dir("d10").join("keep"), "").expect("keep");
    // Entries: a young one, an old one of a removed run, an old one of the kept run.
    entry(&store, &key(1), "d05", 5 * DAY, &objs[2]);
    entry(&store, &key(2), "d03", 3 * DAY, &objs[4]);
    entry(&store, &key(3), "d10", 10 * DAY, &objs[5]);
    fs::write(root.join("tmp").join("leftover"), "x").expect("tmp");

    // While a run holds the store, gc refuses to start.
    let refused = gc(
        &root,
        &GcPolicy {
            keep_runs: Some(1),
            now_ms: NOW,
            ..GcPolicy::default()
        },
    )
    .expect_err("the store is in use");
    assert!(
        refused.to_string().contains("a run is using the store"),
        "{refused}"
    );
    drop(store);

    let policy = GcPolicy {
        keep_runs: Some(2),
        older_than_ms: Some(4 * DAY),
        now_ms: NOW,
        dry_run: true,
    };
    let dry = gc(&root, &policy).expect("dry run");
    assert_eq!(dry.runs_removed, ["d05"]);
    assert!(store_has(&root, "d05"), "a dry run removes nothing");

    let done = gc(
        &root,
        &GcPolicy {
            dry_run: false,
            ..policy
        },
    )
    .expect("gc");
    assert_eq!(done, dry);
    // d05 is the third newest and older than 4 days: gone; its entry too (5 days old). The
    // entry of 3 days is young, the one of the kept run stays.
    assert_eq!(done.entries_removed, 1);
    assert_eq!((done.objects_removed, done.tmp_removed), (1, 1));
    assert!(!store_has(&root, "d05") && store_has(&root, "d10"));
    let store = Store::open(&root).expect("store");
    for (i, o) in objs.iter().enumerate() {
        assert_eq!(store.has_object(&o.object), i != 2, "object {i}");
    }
    assert!(store.cache_get(&key(1)).is_none());
    assert!(store.cache_get(&key(2)).is_some() && store.cache_get(&key(3)).is_some());
    drop(store);
    assert!(verify(&root, false).expect("verify").problems.is_empty());
}

fn store_has(root: &Path, run: &str) -> bool {
    root.join("runs").join(run).is_dir()
}

#[test]
fn neither_command_makes_a_store_where_there_is_none() {
    let dir = tempfile::tempdir().expect("a folder");
    let nowhere = dir.path().join("not-a-store");
    let e = verify(&nowhere, false).expect_err("not a store");
    assert!(e.to_string().contains("is not a flowc store"), "{e}");
    assert!(gc(&nowhere, &GcPolicy::default()).is_err());
    assert!(!nowhere.exists());
}
