//! `flowc run` as a person sees it on a terminal: the run goes through `script` (util-linux),
//! which gives it a pseudo-terminal, so the progress bar is drawn as it is for a user. A loop of
//! 12 iterations is counted as 12 on the bar (never `6/1`), the summary lists the tasks in plan
//! order, and a loop's outputs are printed one per line by name.

mod common;
use common::write;

use std::process::Command;

/// The text of a terminal capture without its escape sequences (colours, cursor moves).
fn strip_escapes(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters, then one final byte in `@`..`~`.
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Every `pos/len` the progress bar drew: frames are the pieces between carriage returns and
/// line breaks that hold the bar's elapsed time (`[00:00:01]`).
fn bar_counts(screen: &str) -> Vec<(u64, u64)> {
    screen
        .split(['\r', '\n'])
        .filter(|frame| frame.contains("[00:0"))
        .flat_map(|frame| frame.split_whitespace())
        .filter_map(|word| {
            let (pos, len) = word.split_once('/')?;
            Some((pos.parse().ok()?, len.parse().ok()?))
        })
        .collect()
}

const LOOP: &str = r#"
step work(i: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.2; echo $0 > $1", i, out]
  cache off
}

step first(i: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "echo $0 > $1", i, out]
  cache off
}

pipeline looped(items: List<Int> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
  f = first(i: 0)
  for i in items parallel 3 {
    w = work(i: i)
  }
  output start = f
  output parts = w
}
"#;

#[test]
fn on_a_terminal_the_bar_counts_loop_iterations_and_the_summary_is_in_plan_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "l.flow", LOOP);
    let flowc = env!("CARGO_BIN_EXE_flowc");
    let out = Command::new("script")
        .args(["-qec", &format!("{flowc} run l.flow"), "/dev/null"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .output()
        .expect("`script` (util-linux) runs");
    let screen = strip_escapes(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(out.status.code(), Some(0), "{screen}");
    // The bar: 13 instances (the step before the loop and 12 iterations), never beyond.
    let counts = bar_counts(&screen);
    assert!(!counts.is_empty(), "the bar was drawn: {screen}");
    assert!(counts.iter().all(|(pos, len)| pos <= len), "{counts:?}");
    assert!(counts.iter().any(|(_, len)| *len == 13), "{counts:?}");
    assert!(counts.iter().all(|(_, len)| *len <= 13), "{counts:?}");
    assert!(
        !screen.contains("start    "),
        "no plain lines on a terminal: {screen}"
    );
    // The summary: the tasks in plan order, iterations by index.
    let table: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.starts_with("task "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    let mut want = vec!["looped.f".to_string()];
    want.extend((0..12).map(|i| format!("looped.w[{i}]")));
    assert_eq!(table, want, "{screen}");
    // The outputs: one per line by name, a loop's one per iteration.
    let outputs: Vec<&str> = screen
        .lines()
        .skip_while(|l| l.trim() != "outputs:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().split(" = ").next().unwrap_or(""))
        .collect();
    let mut want = vec!["start".to_string()];
    want.extend((0..12).map(|i| format!("parts[{i}]")));
    assert_eq!(outputs, want, "{screen}");
}
