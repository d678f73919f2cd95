//! `flowc run` with run-time values in a pipeline's strings: a value output bound alone
//! (`${n}`) and the outputs of a call with several, read by name (`${f.count}`), written into
//! the argument of the step that reads them; an escaped `\${f.count}` stays text.

mod common;
use common::{ok, text, write};

#[test]
fn outputs_read_by_name_are_interpolated_when_the_pipeline_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "i.flow",
        r#"
step flip() -> (count: Int, side: Str) {
  image "busybox:1.36"
  run ["sh", "-c", "echo 3 > $0; printf heads > $1", count, side]
}

step roll() -> (n: Int) {
  image "busybox:1.36"
  run ["sh", "-c", "echo 6 > $0", n]
}

step say(msg: Str) -> (o: File) {
  image "busybox:1.36"
  run ["sh", "-c", "printf '%s' \"$0\" > $1", msg, o]
}

pipeline i() {
  f = flip()
  n = roll()
  s = say(msg: "${f.count} ${f.side}, then ${n}; not \${f.count}")
  output s
}
"#,
    );
    let out = ok(&["run", "i.flow", "--engine", "host"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("s = "))
        .unwrap_or_else(|| panic!("no output `s`: {}", text(&out)));
    assert_eq!(
        std::fs::read_to_string(path).expect("the output"),
        "3 heads, then 6; not ${f.count}"
    );
}
