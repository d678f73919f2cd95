#!/usr/bin/env bash
# Per-step overhead of the sandbox engine of `flowc run` (docs/running.md) on a chain of N
# trivial steps, next to the host engine and to a bare `bwrap ... true`.
# Usage: bench/sandbox_overhead.sh [N] [ROUNDS]   (defaults 200 and 5)
# Each round runs, in turn: `flowc run --engine host`, `flowc run --engine sandbox` (with the
# network, the default, and without, `--network off`), a shell loop running `/usr/bin/true i`
# N times, and the same loop running it under a bare
# `bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind / / --dev /dev --proc /proc`;
# it measures each one's wall time and CPU time (user + system, its processes included).
# Medians are reported with the load average, since other work on the machine moves the wall
# figures; the sandbox's cost is the median of the differences within rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
ROUNDS="${2:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
command -v bwrap >/dev/null || { echo "error: bwrap is not installed (apt-get install bubblewrap)" >&2; exit 1; }

# Container steps only: the polars built-ins are not needed (and take long to build).
cargo build --release -q -p flowc --no-default-features
FLOWC="$PWD/target/release/flowc"

{
  echo 'step noop(i: Int) {'
  echo '  image "busybox:1.36"'
  echo '  run ["true", i]'
  echo '  cache off'
  echo '}'
  echo
  echo 'pipeline chain() {'
  echo "  s0 = noop(i: 0)"
  for i in $(seq 1 $((N - 1))); do echo "  s$i = noop(i: $i) after s$((i - 1))"; done
  echo '}'
} > "$WORK/chain.flow"

python3 - "$N" "$ROUNDS" "$FLOWC" "$WORK" <<'PY'
import os, resource, shutil, statistics, subprocess, sys, time
n, rounds, flowc, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
chain, store = os.path.join(work, "chain.flow"), os.path.join(work, "store")
bwrap = "bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind / / --dev /dev --proc /proc"
cases = [
    ("host", "flowc run --engine host", [flowc, "run", chain, "--store", store, "--engine", "host"]),
    ("sandbox", "flowc run --engine sandbox", [flowc, "run", chain, "--store", store, "--engine", "sandbox"]),
    ("offline", "flowc run --engine sandbox --network off", [flowc, "run", chain, "--store", store, "--network", "off"]),
    ("true", "shell loop of `true i`", ["sh", "-c", f"for i in $(seq {n}); do /usr/bin/true $i; done"]),
    ("bwrap", "shell loop of bare `bwrap ... true i`", ["sh", "-c", f"for i in $(seq {n}); do {bwrap} /usr/bin/true $i; done"]),
]

def once(argv):
    """Wall and CPU (user + system, with children) milliseconds per step of one run."""
    shutil.rmtree(store, ignore_errors=True)
    before, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True)
    wall, after = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    # A failed run, or one that fell back to host processes, measured nothing.
    if out.returncode != 0 or "sandbox engine cannot run" in out.stdout + out.stderr:
        sys.exit(f"error: {' '.join(argv[:4])} failed:\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000 / n, cpu * 1000 / n

print(f"load average before: {open('/proc/loadavg').read().split()[:3]}")
for _, _, argv in cases:  # warm-up
    once(argv)
wall, cpu = {}, {}
for _ in range(rounds):  # each round runs every case once, in turn
    for key, _, argv in cases:
        w, c = once(argv)
        wall.setdefault(key, []).append(w)
        cpu.setdefault(key, []).append(c)
print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
print(f"\nper step: {rounds} rounds of {n} steps\n")
print("| per step | wall median ms | wall fastest ms | CPU median ms |")
print("|---|---:|---:|---:|")
for key, label, _ in cases:
    print(f"| {label} | {statistics.median(wall[key]):.2f} | {min(wall[key]):.2f} | {statistics.median(cpu[key]):.2f} |")
def over(m, a, b):
    return statistics.median(y - x for x, y in zip(m[a], m[b]))
print("\nper step, the median of the rounds' differences:")
for a, b, label in [("host", "sandbox", "sandbox over host"), ("host", "offline", "sandbox without network over host"),
                    ("true", "bwrap", "bare bwrap over a bare spawn")]:
    print(f"- {label}: wall {over(wall, a, b):.2f} ms, CPU {over(cpu, a, b):.2f} ms")
PY
