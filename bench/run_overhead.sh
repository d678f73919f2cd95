#!/usr/bin/env bash
# Per-step overhead of `flowc run` on a chain of N trivial steps, next to the cost of a bare
# process spawn and to Snakemake running the same chain. Snakemake is installed into a
# virtualenv outside the repository.
# Usage: bench/run_overhead.sh [N] [ROUNDS]   (defaults 500 and 5)
# After a warm-up, each round times the bare spawn and flowc three times in turn (pairs, so
# that both see the same load) and Snakemake once; medians are reported with the load average,
# since other work on the machine moves every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
ROUNDS="${2:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/flowc-bench/snakemake-venv"

# Container steps only: the polars built-ins are not needed (and take long to build).
cargo build --release -q -p flowc --no-default-features
cargo build --release -q -p flowc-runtime --example spawn_baseline
FLOWC="$PWD/target/release/flowc"
SPAWN="$PWD/target/release/examples/spawn_baseline"

# The same chain for both tools: step i runs `true i` after step i-1 (the bare spawn runs the
# same command lines).
{
  echo 'step noop(i: Int) {'
  echo '  image "busybox:1.36"'
  echo '  run ["true", "${i}"]'
  echo '  cache off'
  echo '}'
  echo
  echo 'pipeline chain() {'
  echo "  s0 = noop(i: 0)"
  for i in $(seq 1 $((N - 1))); do echo "  s$i = noop(i: $i) after s$((i - 1))"; done
  echo '}'
} > "$WORK/chain.flow"
mkdir "$WORK/snake"
{
  # Snakemake builds its DAG recursively: a chain of 500 exceeds Python's default recursion
  # limit and fails ("maximum recursion depth exceeded") before running anything.
  echo "import sys"
  echo "sys.setrecursionlimit(max(10000, 20 * $N))"
  echo
  echo "rule all:"
  echo "    input: \"done/$((N - 1))\""
  for i in $(seq 0 $((N - 1))); do
    echo "rule s$i:"
    if [ "$i" -gt 0 ]; then echo "    input: \"done/$((i - 1))\""; fi
    echo "    output: \"done/$i\""
    echo "    shell: \"true $i && touch {output}\""
  done
} > "$WORK/snake/Snakefile"

if [ ! -x "$VENV/bin/snakemake" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q snakemake
fi
SNAKE_VERSION="$("$VENV/bin/snakemake" --version)"

spawn() { "$SPAWN" "$N"; }
# The host engine: the runner's own cost (the sandbox's is measured by sandbox_overhead.sh).
flowc() { rm -rf "$WORK/store"; "$FLOWC" run "$WORK/chain.flow" --store "$WORK/store" --engine host; }
snake() {
  (cd "$WORK/snake" && rm -rf done .snakemake && "$VENV/bin/snakemake" -j1 --quiet all &&
    [ -f "done/$((N - 1))" ])
}
# Appends the seconds `$1` took to the times file (to stdout too); a failed run stops the
# benchmark, so that a tool that gave up early is never timed as if it had finished.
measure() {
  local s e
  s=$(date +%s.%N)
  if ! "$1" >"$WORK/out" 2>&1; then
    tail -5 "$WORK/out" >&2
    echo "error: $1 failed" >&2
    exit 1
  fi
  e=$(date +%s.%N)
  echo "$1 $(echo "$e - $s" | bc)" | tee -a "$WORK/times"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$WORK/times"
for f in spawn flowc snake; do measure "$f" >/dev/null; done # warm-up
: > "$WORK/times"
for r in $(seq "$ROUNDS"); do
  for p in 1 2 3; do measure spawn; measure flowc; done
  measure snake
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$N" "$SNAKE_VERSION" "$WORK/times" <<'PY'
import statistics, sys
n, version = int(sys.argv[1]), sys.argv[2]
runs = {}
for line in open(sys.argv[3]):
    name, seconds = line.split()
    runs.setdefault(name, []).append(float(seconds) * 1000 / n)
med = {k: statistics.median(v) for k, v in runs.items()}
best = {k: min(v) for k, v in runs.items()}
spawn = med["spawn"]
print(f"\nper step: {len(runs['flowc'])} runs of {n} steps for the spawn and flowc, {len(runs['snake'])} for Snakemake\n")
print("| per step | median ms | vs bare spawn | fastest run ms |")
print("|---|---:|---:|---:|")
for key, label in [("spawn", "bare spawn of `true i`"), ("flowc", "flowc run"), ("snake", f"snakemake -j1 ({version})")]:
    print(f"| {label} | {med[key]:.2f} | {med[key] / spawn:.1f}x | {best[key]:.2f} |")
# flowc's overhead: the median difference within pairs (a spawn run, then a flowc run).
over_f = statistics.median(f - s for s, f in zip(runs["spawn"], runs["flowc"]))
over_s = med["snake"] - spawn
ratio = f"{over_s / over_f:.0f}x less" if over_f > 0 else "flowc within the noise of the bare spawn"
print(f"\noverhead beyond the spawn, per step: flowc {over_f:.2f} ms (median of the pairs' differences),"
      f" snakemake {over_s:.2f} ms ({ratio})")
PY
