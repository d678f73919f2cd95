//! `flowc run --verify`: every cached step runs again with the cache bypassed and its outputs are
//! compared with the cached ones. A step that writes the time is named; deterministic container
//! steps and built-in steps reproduce their outputs; the cache is left as it was.

mod common;
use common::{flowc, ok, text, write};

const PIPELINE: &str = r#"
import std.synth (panel)

step stamp(day: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "date +%s%N > \"$1\"", "stamp", out]
}
step same(day: Str) -> (out: File, n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "echo \"day $1\" > \"$2\"; echo 7 > \"$3\"", "same", day, out, n]
}
step off(day: Str) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "date +%s%N > \"$1\"", "off", out]
  cache off
}
pipeline repro(day: Str = "2024-06-03") {
  s = stamp(day: day)
  t = same(day: day)
  o = off(day: day)
  p = panel(n: 200, seed: 3, day: "2024-06-03")
  output s
  output t = t.out
  output o
  output p
}
"#;

#[test]
fn verify_names_the_step_whose_output_differs_and_keeps_the_cache() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "repro.flow", PIPELINE);
    ok(&["run", "repro.flow", "--engine", "host"], d);
    let entries = || {
        let mut v: Vec<(String, String)> = std::fs::read_dir(d.join(".flow/cache"))
            .expect("cache")
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| {
                let t = std::fs::read_to_string(e.path()).expect("entry");
                (e.file_name().to_string_lossy().into_owned(), t)
            })
            .collect();
        v.sort();
        v
    };
    let before = entries();
    let o = flowc(&["run", "repro.flow", "--engine", "host", "--verify"], d);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("step `stamp` (repro.s): output out differs from the cached result"),
        "{out}"
    );
    assert!(
        !out.contains("step `same`") && !out.contains("step `panel`"),
        "{out}"
    );
    assert!(
        out.contains("verify: 2 step(s) reproduced their cached outputs, 1 differ, 1 not compared"),
        "{out}"
    );
    assert_eq!(entries(), before, "the cache is left as it was");
    // A normal run still reuses the cached steps.
    let again = ok(&["run", "repro.flow", "--engine", "host"], d);
    assert!(text(&again).contains("cached"), "{}", text(&again));
}
