//! The cost of spawning a trivial process and waiting for it, the floor of any runner's
//! per-step overhead: `cargo run --release -p flowc-runtime --example spawn_baseline -- 500`.
//!
//! Process `i` runs `true i`, the command of step `i` of the benchmark's chain
//! (`bench/run_overhead.sh`): with an argument, coreutils' `true` sets up the locale (about 30
//! file opens), which costs a third of a millisecond more than a bare `true`.

use std::process::Command;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let start = Instant::now();
    for i in 0..n {
        let ok = Command::new("true")
            .arg(i.to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("`true` failed to run");
            std::process::exit(1);
        }
    }
    let total = start.elapsed().as_secs_f64();
    println!(
        "spawned {n} processes in {total:.3} s: {:.3} ms per process",
        total * 1000.0 / n as f64
    );
}
