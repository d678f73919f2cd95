//! Chaos: concurrent runs of one pipeline on one store, killed with SIGKILL at random moments
//! (seeded), then `flowc store verify` finds nothing wrong and a final run reuses every step
//! that any killed run recorded as done.
//!
//! Bounded for CI: `FLOWC_CHAOS_SECONDS` (default 20) of rounds, `FLOWC_CHAOS_SEED` (default
//! 19) for the kill times; each round has its own parameter, so its steps are new to the store,
//! and three runs of it race for the same cache keys. docs/reliability.md has longer runs.

mod common;
use common::{flowc, ok, text, write};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PIPELINE: &str = r#"
step make(round: Int, n: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.15; echo \"$1 $2\" > \"$3\"", "make", round, n, out]
}
step grow(n: Int, prev: File) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "sleep 0.15; cat \"$2\" > \"$3\"; echo \"$1\" >> \"$3\"", "grow", n, prev, out]
}
pipeline chaos(round: Int = 0) {
  a = make(round: round, n: 1)
  b = grow(n: 2, prev: a)
  c = grow(n: 3, prev: b)
  d = make(round: round, n: 4)
  e = grow(n: 5, prev: d)
  output c
  output e
}
"#;

/// xorshift64*, so that the kill times are the same on every machine for a seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The run folders of the store.
fn run_dirs(store: &Path) -> BTreeSet<std::path::PathBuf> {
    std::fs::read_dir(store.join("runs"))
        .expect("runs")
        .flatten()
        .map(|e| e.path())
        .collect()
}

/// (round, task, reason) of every record of the runs `runs`.
fn records(runs: &BTreeSet<std::path::PathBuf>) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for run in runs {
        let meta: serde_json::Value = std::fs::read_to_string(run.join("run.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let round = meta["params"]["round"].to_string();
        let text = std::fs::read_to_string(run.join("records.jsonl")).unwrap_or_default();
        for line in text.lines() {
            // A killed run may leave its last line cut short: it is not a record.
            let Ok(r) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let field = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            out.push((round.clone(), field("task"), field("reason")));
        }
    }
    out
}

#[test]
fn killed_runs_leave_a_sound_store_and_every_completed_step_is_reused() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(d, "chaos.flow", PIPELINE);
    let mut rng = Rng(env_u64("FLOWC_CHAOS_SEED", 19) | 1);
    let budget = Duration::from_secs(env_u64("FLOWC_CHAOS_SECONDS", 20));
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < budget {
        rounds += 1;
        let runs: Vec<_> = (0..3)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_flowc"))
                    .args(["run", "chaos.flow", "--engine", "host", "--param"])
                    .arg(format!("round={rounds}"))
                    .current_dir(d)
                    .env("NO_COLOR", "1")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("flowc starts")
            })
            .collect();
        for mut child in runs {
            std::thread::sleep(Duration::from_millis(rng.below(500)));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
    }
    let store = d.join(".flow");
    let verified = ok(&["store", "verify"], d);
    assert!(
        text(&verified).contains(" 0 problem(s)"),
        "{}",
        text(&verified)
    );

    let before = records(&run_dirs(&store));
    let done: BTreeMap<String, BTreeSet<String>> = before
        .iter()
        .filter(|(_, _, why)| why == "ok")
        .fold(BTreeMap::new(), |mut m, (r, t, _)| {
            m.entry(r.clone()).or_default().insert(t.clone());
            m
        });
    assert!(
        !done.is_empty(),
        "no step finished in {rounds} rounds: kill later"
    );
    for (round, tasks) in &done {
        let earlier = run_dirs(&store);
        let o = flowc(
            &[
                "run",
                "chaos.flow",
                "--engine",
                "host",
                "--param",
                &format!("round={round}"),
            ],
            d,
        );
        assert!(o.status.success(), "round {round}: {}", text(&o));
        let last: BTreeSet<_> = run_dirs(&store).difference(&earlier).cloned().collect();
        assert_eq!(last.len(), 1, "one new run");
        let cached: BTreeSet<String> = records(&last)
            .into_iter()
            .filter(|(_, _, why)| why == "cached")
            .map(|(_, t, _)| t.clone())
            .collect();
        for t in tasks {
            assert!(
                cached.contains(t),
                "round {round}: `{t}` was done but not reused"
            );
        }
    }
    let final_check = ok(&["store", "verify"], d);
    assert!(
        text(&final_check).contains(" 0 problem(s)"),
        "{}",
        text(&final_check)
    );
    eprintln!(
        "chaos: {rounds} rounds of 3 killed runs, {} completed steps reused",
        done.values().map(BTreeSet::len).sum::<usize>()
    );
}

/// A full disk while a step writes its output: the store lives on a 256 KiB tmpfs mounted in a
/// user and mount namespace of its own (`unshare -rm`, as the sandbox needs user namespaces
/// too); the step's write fails with ENOSPC, the run fails naming the step, its exit code and
/// its own last message (its log, on the same disk, cannot hold it), and the store verifies. A step that fits then runs and is cached.
#[test]
fn a_full_disk_fails_the_step_with_its_reason_and_leaves_the_store_sound() {
    let dir = tempfile::tempdir().expect("a folder");
    let d = dir.path();
    write(
        d,
        "full.flow",
        r#"
step fill(kib: Int) -> (out: File) {
  image "busybox:1.36"
  run ["sh", "-c", "head -c $(($1 * 1024)) /dev/zero > \"$2\"", "fill", kib, out]
}
pipeline full(kib: Int = 1024) {
  f = fill(kib: kib)
  output f
}
"#,
    );
    std::fs::create_dir_all(d.join("small")).expect("mount point");
    let flowc_bin = env!("CARGO_BIN_EXE_flowc");
    let script = format!(
        "mount -t tmpfs -o size=256k tmpfs small || exit 99; \
         {flowc_bin} run full.flow --engine host --store small/.flow > big.out 2>&1; echo $? > big.code; \
         cat small/.flow/runs/*/logs/*.log > big.log; \
         {flowc_bin} store verify --store small/.flow > verify.out 2>&1; echo $? > verify.code; \
         {flowc_bin} run full.flow --engine host --store small/.flow --param kib=16 > small.out 2>&1; echo $? > small.code; \
         {flowc_bin} store verify --store small/.flow > verify2.out 2>&1; echo $? > verify2.code"
    );
    let o = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .current_dir(d)
        .output()
        .expect("unshare runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "a tmpfs could not be mounted in a user namespace: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(d.join(f)).expect(f);
    assert_eq!(read("big.code").trim(), "1", "{}", read("big.out"));
    let big = read("big.out");
    assert!(
        big.contains("full.f failed: exited with code 1"),
        "names the step: {big}"
    );
    assert!(big.contains("log: "), "points at the step's log: {big}");
    // The step's own message (`No space left on device`) cannot reach its log, which is on the
    // same full disk; flowc keeps the end of the output in memory and shows it in the reason.
    assert_eq!(read("big.log"), "", "the log could not be written");
    assert!(
        big.contains("its log could not be written (No space left on device"),
        "says why the log is empty: {big}"
    );
    assert!(
        big.contains("its last output: ") && big.matches("No space left on device").count() >= 2,
        "shows the step's own message: {big}"
    );
    assert_eq!(read("verify.code").trim(), "0", "{}", read("verify.out"));
    assert_eq!(read("small.code").trim(), "0", "{}", read("small.out"));
    assert_eq!(read("verify2.code").trim(), "0", "{}", read("verify2.out"));
    assert!(
        read("verify2.out").contains("1 cache entries"),
        "{}",
        read("verify2.out")
    );
}
