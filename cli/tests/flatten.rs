//! `flatten(xs)` under `flowc run`: the outputs of nested loops, joined in iteration order,
//! reach a fan-in container step as one folder of numbered entries, a step as one list of
//! values, and a `for` as its list; a gather inside the outer loop sees its own iteration's.

mod common;
use common::{flowc, last_summary, text, write};

/// Nested loops whose first iterations end last, so that the order is the iteration order and
/// not the order of completion.
const NESTED: &str = r#"
step make(a: Str, b: Int) -> (f: File) {
  image "busybox:1.36"
  run ["sh", "-c", "if [ $0 = a ] && [ $1 = 1 ]; then sleep 0.5; fi; echo $0-$1 > $2", a, b, f]
}
step name(a: Str, b: Int) -> (s: Str) {
  image "busybox:1.36"
  run ["sh", "-c", "if [ $0 = a ]; then sleep 0.3; fi; printf %s $0$1 > $2", a, b, s]
}
step gather(files: List<File>) -> (all: File) {
  image "busybox:1.36"
  run ["sh", "-c", "ls $0 > $1; cat $0/* >> $1", files, all]
}
step join(names: List<Str>) -> (f: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", names, f]
}
step upper(s: Str) -> (f: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 | tr a-z A-Z > $1", s, f]
}
pipeline p(xs: List<Str> = ["a", "b"]) {
  for x in xs {
    for y in [1, 2, 3] {
      m = make(a: x, b: y)
      n = name(a: x, b: y)
    }
    per_x = gather(files: m)
  }
  all = gather(files: flatten(m))
  names = join(names: flatten(n))
  for s in flatten(n) {
    u = upper(s: s)
  }
  shouted = gather(files: u)
  output all
  output names
  output shouted
  output per_x
}
"#;

fn read(path: &serde_json::Value) -> String {
    let p = path.as_str().expect("a path");
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn flatten_joins_nested_loops_in_iteration_order() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "nested.flow", NESTED);
    let out = flowc(&["run", "nested.flow"], d);
    assert!(out.status.success(), "{}", text(&out));
    let summary = last_summary(d);
    let outputs = &summary["outputs"];
    assert_eq!(
        read(&outputs["all"]),
        "00000\n00001\n00002\n00003\n00004\n00005\na-1\na-2\na-3\nb-1\nb-2\nb-3\n"
    );
    assert_eq!(
        read(&outputs["names"]),
        "[\"a1\",\"a2\",\"a3\",\"b1\",\"b2\",\"b3\"]\n"
    );
    assert_eq!(
        read(&outputs["shouted"]),
        "00000\n00001\n00002\n00003\n00004\n00005\nA1\nA2\nA3\nB1\nB2\nB3\n"
    );
    // Inside the outer loop, the inner loop's outputs are that iteration's only.
    let per_x = outputs["per_x"].as_array().expect("one per iteration");
    assert_eq!(per_x.len(), 2, "{per_x:?}");
    assert_eq!(read(&per_x[0]), "00000\n00001\n00002\na-1\na-2\na-3\n");
    assert_eq!(read(&per_x[1]), "00000\n00001\n00002\nb-1\nb-2\nb-3\n");
}

/// What Argo's flattening task runs: `flowc exec --gather --levels 2` of a key prefix downloaded
/// as a folder of folders (one per outer iteration, missing for none) gives one folder of
/// numbered entries in order.
#[test]
fn exec_gather_flattens_levels_of_numbered_folders() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    for (outer, inner, text) in [
        ("00000", "00000", "a1"),
        ("00000", "00001", "a2"),
        ("00001", "00000", "b1"),
        ("00002", "00000", "c1"),
        ("00002", "00001", "c2"),
    ] {
        let folder = d.join("prefix").join(outer);
        std::fs::create_dir_all(&folder).expect("a folder");
        write(&folder, inner, text);
    }
    let out = flowc(
        &[
            "exec",
            "--gather",
            "--levels",
            "2",
            "--input",
            "items=prefix",
            "--output",
            "folder=flat",
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    let mut names: Vec<String> = std::fs::read_dir(d.join("flat"))
        .expect("the flat folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["00000", "00001", "00002", "00003", "00004"]);
    let texts: Vec<String> = names
        .iter()
        .map(|n| std::fs::read_to_string(d.join("flat").join(n)).expect("an entry"))
        .collect();
    assert_eq!(texts, ["a1", "a2", "b1", "c1", "c2"]);
}

/// Values of nested loops whose inner list depends on the outer item, some of them empty.
const RAGGED: &str = r#"
step name(a: Int) -> (s: Str) {
  image "busybox:1.36"
  run ["sh", "-c", "printf n%s $0 > $1", a, s]
}
step join(rows: List<List<Str>>) -> (f: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", rows, f]
}
pipeline p(xs: List<List<Int>> = [[1, 2], [], [3]]) {
  for x in xs {
    for y in x {
      n = name(a: y)
    }
  }
  rows = join(rows: n)
  flat = join(rows: [flatten(n)])
  output rows
  output flat
}
"#;

/// An outer iteration whose inner loop is empty is an empty list in a list of lists, in its
/// place: the gather keeps the outer loop's shape, and `flatten` of it loses nothing else.
#[test]
fn empty_inner_loops_are_empty_lists_in_place() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "ragged.flow", RAGGED);
    for (xs, rows, flat) in [
        (None, r#"[["n1","n2"],[],["n3"]]"#, r#"[["n1","n2","n3"]]"#),
        (Some("[[], [], [4]]"), r#"[[],[],["n4"]]"#, r#"[["n4"]]"#),
        (Some("[[], []]"), "[[],[]]", "[[]]"),
    ] {
        let mut args = vec!["run", "ragged.flow"];
        let param = xs.map(|v| format!("xs={v}"));
        if let Some(p) = &param {
            args.extend(["--param", p]);
        }
        let out = flowc(&args, d);
        assert!(out.status.success(), "{}", text(&out));
        let outputs = &last_summary(d)["outputs"];
        assert_eq!(read(&outputs["rows"]), format!("{rows}\n"), "xs = {xs:?}");
        assert_eq!(read(&outputs["flat"]), format!("{flat}\n"), "xs = {xs:?}");
    }
}
