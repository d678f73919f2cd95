//! `flowc store verify` and `flowc store gc` on the store of real runs: a sound store verifies,
//! a corrupted output is found (exit 1), quarantined, and recomputed by the next run; gc keeps
//! the newest runs and what they name.

mod common;
use common::{flowc, ok, text, write};

const PIPELINE: &str = r#"
step count(day: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf 'day %s\n' \"$1\" > \"$2\"", "count", day, out]
}
pipeline counts(day: Str = "2024-06-03") {
  c = count(day: day)
  output c
}
"#;

#[test]
fn verify_finds_a_corrupt_output_quarantines_it_and_the_next_run_recomputes_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "counts.flow", PIPELINE);
    ok(&["run", "counts.flow", "--engine", "host"], d);
    let clean = ok(&["store", "verify"], d);
    assert!(
        text(&clean)
            .contains("1 objects, 1 cache entries, 1 runs (0 unfinished) checked: 0 problem(s)"),
        "{}",
        text(&clean)
    );

    // Corrupt the one object in place (as a disk error would).
    let objects = d.join(".flow/objects");
    let prefix = std::fs::read_dir(&objects)
        .expect("objects")
        .flatten()
        .next()
        .expect("a prefix");
    let object = std::fs::read_dir(prefix.path())
        .expect("o")
        .flatten()
        .next()
        .expect("an object")
        .path();
    let mut perm = std::fs::metadata(&object).expect("meta").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&object, perm).expect("chmod");
    std::fs::write(&object, "day 2024-06-04\n").expect("corrupt");

    let bad = flowc(&["store", "verify"], d);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(
        text(&bad).contains("corrupt_object: objects/"),
        "{}",
        text(&bad)
    );
    let q = flowc(&["store", "verify", "--quarantine"], d);
    assert_eq!(q.status.code(), Some(1), "{}", text(&q));
    assert!(text(&q).contains("(moved to quarantine/"), "{}", text(&q));

    // The next run recomputes the step (its entry was quarantined with the object).
    let again = ok(
        &["run", "counts.flow", "--engine", "host", "--explain-cache"],
        d,
    );
    assert!(!text(&again).contains("cached"), "{}", text(&again));
    let after = ok(&["store", "verify"], d);
    assert!(text(&after).contains("0 problem(s)"), "{}", text(&after));
}

#[test]
fn gc_keeps_the_newest_runs_and_refuses_without_a_policy() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "counts.flow", PIPELINE);
    for day in ["2024-06-01", "2024-06-02", "2024-06-03"] {
        ok(
            &[
                "run",
                "counts.flow",
                "--engine",
                "host",
                "--param",
                &format!("day={day}"),
            ],
            d,
        );
    }
    let none = flowc(&["store", "gc"], d);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    let dry = ok(&["store", "gc", "--keep-runs", "1", "--dry-run"], d);
    assert!(
        text(&dry).contains("would remove 2 run(s), 0 cache entr(y/ies), 0 object(s)"),
        "{}",
        text(&dry)
    );
    // Runs beyond the newest go; their cache entries are young, so they and their objects stay.
    let done = ok(
        &["store", "gc", "--keep-runs", "1", "--older-than", "1d"],
        d,
    );
    assert!(
        text(&done).contains("removed 2 run(s), 0 cache entr(y/ies), 0 object(s)"),
        "{}",
        text(&done)
    );
    let runs = std::fs::read_dir(d.join(".flow/runs"))
        .expect("runs")
        .count();
    assert_eq!(runs, 1);
    assert!(text(&ok(&["store", "verify"], d)).contains("0 problem(s)"));
    // With an age of zero everything is old: the last run, every entry and object go.
    let all = ok(&["store", "gc", "--older-than", "0s"], d);
    assert!(
        text(&all).contains("removed 1 run(s), 3 cache entr(y/ies), 3 object(s)"),
        "{}",
        text(&all)
    );
    assert!(text(&ok(&["store", "verify"], d)).contains("0 objects, 0 cache entries, 0 runs"));
    let bad = flowc(&["store", "gc", "--older-than", "5w"], d);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}
