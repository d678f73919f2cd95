#!/usr/bin/env bash
# Per-step overhead of the sandbox engine of `flowc run` (docs/running.md) on a chain of N
# trivial steps, next to the host engine and to a bare `bwrap ... true`.
# Usage: bench/sandbox_overhead.sh [N] [ROUNDS]   (defaults 200 and 5)
# Each round times, in turn: `flowc run --engine host`, `flowc run --engine sandbox`, a shell
# loop running `/usr/bin/true i` N times, and the same loop running it under a bare
# `bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind / / --dev /dev --proc /proc`.
# Medians are reported with the load average, since other work on the machine moves every
# figure; the sandbox's cost is the median of the differences within rounds.
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

host() { rm -rf "$WORK/store"; "$FLOWC" run "$WORK/chain.flow" --store "$WORK/store" --engine host; }
sandbox() {
  rm -rf "$WORK/store"
  "$FLOWC" run "$WORK/chain.flow" --store "$WORK/store" --engine sandbox >"$WORK/sandbox.out" 2>&1
  # A run that fell back to host processes measured nothing of the sandbox.
  ! grep -q "sandbox engine cannot run" "$WORK/sandbox.out"
}
true_loop() { for i in $(seq "$N"); do /usr/bin/true "$i"; done; }
bwrap_loop() {
  for i in $(seq "$N"); do
    bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind / / --dev /dev --proc /proc \
      /usr/bin/true "$i"
  done
}
measure() {
  local s e
  s=$(date +%s.%N)
  if ! "$1" >"$WORK/out" 2>&1; then
    tail -5 "$WORK/out" "$WORK/sandbox.out" >&2 || true
    echo "error: $1 failed" >&2
    exit 1
  fi
  e=$(date +%s.%N)
  echo "$1 $(echo "$e - $s" | bc)" | tee -a "$WORK/times"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$WORK/times"
for f in host sandbox true_loop bwrap_loop; do measure "$f" >/dev/null; done # warm-up
: > "$WORK/times"
for r in $(seq "$ROUNDS"); do
  for f in host sandbox true_loop bwrap_loop; do measure "$f"; done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$N" "$WORK/times" <<'PY'
import statistics, sys
n = int(sys.argv[1])
runs = {}
for line in open(sys.argv[2]):
    name, seconds = line.split()
    runs.setdefault(name, []).append(float(seconds) * 1000 / n)
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"\nper step: {len(runs['host'])} rounds of {n} steps\n")
print("| per step | median ms | fastest ms |")
print("|---|---:|---:|")
for key, label in [("host", "flowc run --engine host"), ("sandbox", "flowc run --engine sandbox"),
                   ("true_loop", "shell loop of `true i`"), ("bwrap_loop", "shell loop of bare `bwrap ... true i`")]:
    print(f"| {label} | {med[key]:.2f} | {min(runs[key]):.2f} |")
sandbox = statistics.median(s - h for h, s in zip(runs["host"], runs["sandbox"]))
bare = statistics.median(b - t for t, b in zip(runs["true_loop"], runs["bwrap_loop"]))
print(f"\nsandbox over host, per step: {sandbox:.2f} ms (median of the rounds' differences);"
      f" bare bwrap over a bare spawn: {bare:.2f} ms")
PY
