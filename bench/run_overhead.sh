#!/usr/bin/env bash
# Per-step overhead of `flowc run` on a chain of N trivial steps, next to the cost of a bare
# process spawn and to Snakemake running the same chain. Snakemake is installed into a
# virtualenv outside the repository. Usage: bench/run_overhead.sh [N]   (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/flowc-bench/snakemake-venv"

# Container steps only: the polars built-ins are not needed (and take long to build).
cargo build --release -q -p flowc --no-default-features
cargo build --release -q -p flowc-runtime --example spawn_baseline
FLOWC="$PWD/target/release/flowc"

# The same chain for both tools: step i runs `true` after step i-1.
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
{
  echo "rule all:"
  echo "    input: \"done/$((N - 1))\""
  for i in $(seq 0 $((N - 1))); do
    echo "rule s$i:"
    if [ "$i" -gt 0 ]; then echo "    input: \"done/$((i - 1))\""; fi
    echo "    output: \"done/$i\""
    echo "    shell: \"true $i && touch {output}\""
  done
} > "$WORK/Snakefile"

time_it() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

echo "== bare spawn"
./target/release/examples/spawn_baseline "$N"
SPAWN_MS=$(./target/release/examples/spawn_baseline "$N" | sed -E 's/.*: ([0-9.]+) ms per process/\1/')

echo "== flowc run ($N steps, one at a time as the chain requires)"
FLOWC_S=$(time_it "$FLOWC" run "$WORK/chain.flow" --store "$WORK/store")
FLOWC_S=$(time_it "$FLOWC" run "$WORK/chain.flow" --store "$WORK/store2")
echo "flowc: $FLOWC_S s in all"

if [ ! -x "$VENV/bin/snakemake" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q snakemake
fi
echo "== snakemake $("$VENV/bin/snakemake" --version)"
SNAKE_S=$(cd "$WORK" && time_it "$VENV/bin/snakemake" -j1 --quiet all)
echo "snakemake: $SNAKE_S s in all"

python3 - "$N" "$SPAWN_MS" "$FLOWC_S" "$SNAKE_S" <<'PY'
import sys
n, spawn_ms, flowc_s, snake_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
flowc_ms, snake_ms = flowc_s * 1000 / n, snake_s * 1000 / n
print()
print("| per step | ms | vs bare spawn |")
print("|---|---:|---:|")
print(f"| bare spawn of `true` | {spawn_ms:.2f} | 1.0x |")
print(f"| flowc run | {flowc_ms:.2f} | {flowc_ms / spawn_ms:.1f}x |")
print(f"| snakemake -j1 | {snake_ms:.2f} | {snake_ms / spawn_ms:.1f}x |")
over_f, over_s = flowc_ms - spawn_ms, snake_ms - spawn_ms
print(f"\noverhead beyond the spawn, per step: flowc {over_f:.2f} ms, snakemake {over_s:.2f} ms ({over_s / over_f:.0f}x)")
PY
