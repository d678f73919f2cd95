#!/usr/bin/env bash
# Per-step cost of `flowc run` on a chain of N trivial container steps (`cache off`), next to
# GNU make -j2 running the same commands from a Makefile of N rules, under the host engine
# (make runs `true i`) and the sandbox engine (make runs the same `true i` under the bare
# bubblewrap sandbox flowc starts: `bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind
# / / --dev /dev --proc /proc true i`), and a program spawning the same command lines.
# Like for like twice: flowc `--quiet` beside `make -s` (both print nothing), and flowc's
# progress lines (a start and an end line a step) beside make printing each command it runs.
# Usage: bench/run_overhead.sh [N] [ROUNDS]   (defaults 300 and 5)
# Each round runs every case once, in turn (so that flowc and its peer see the same load);
# each run is a whole process, timed from outside (wall time, and CPU time of the process and
# its children). Medians are reported with the load average, and each engine's ratio to make,
# the median of the rounds' ratios. With SNAKEMAKE=1, Snakemake (`-j1`, installed into a
# virtualenv outside the repository) runs the same chain too, once a round. With
# BEFORE=path/to/another/flowc, that binary (say, a release build of main) runs both engines
# too, in the same rounds, for a before/after comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-300}"
ROUNDS="${2:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
command -v make >/dev/null || { echo "error: GNU make is not installed" >&2; exit 1; }
command -v bwrap >/dev/null || { echo "error: bwrap is not installed (apt-get install bubblewrap)" >&2; exit 1; }

# Container steps only: the polars built-ins are not needed (and take long to build).
cargo build --release -q -p flowc --no-default-features
cargo build --release -q -p flowc-runtime --example spawn_baseline
FLOWC="$PWD/target/release/flowc"
SPAWN="$PWD/target/release/examples/spawn_baseline"
BWRAP="bwrap --unshare-all --as-pid-1 --die-with-parent --ro-bind / / --dev /dev --proc /proc"

# The same chain for every tool: step i runs `true i` after step i-1.
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
# Phony rules (nothing cached, as `cache off`); make runs a command line without shell
# metacharacters itself, without a shell, as flowc does.
makefile() { # $1: the command's prefix
  echo ".PHONY: all $(seq -f 's%g' -s ' ' 0 $((N - 1)))"
  echo "all: s$((N - 1))"
  echo "s0:"
  printf '\t%strue 0\n' "$1"
  for i in $(seq 1 $((N - 1))); do
    echo "s$i: s$((i - 1))"
    printf '\t%strue %s\n' "$1" "$i"
  done
}
makefile "" > "$WORK/host.mk"
makefile "$BWRAP " > "$WORK/sandbox.mk"

SNAKE=""
if [ "${SNAKEMAKE:-0}" = 1 ]; then
  VENV="${XDG_CACHE_HOME:-$HOME/.cache}/flowc-bench/snakemake-venv"
  mkdir "$WORK/snake"
  {
    # Snakemake builds its DAG recursively: a long chain exceeds Python's default recursion
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
  SNAKE="$VENV/bin/snakemake"
  echo "snakemake $("$SNAKE" --version)"
fi
echo "$(make --version | head -1); $(bwrap --version)"

python3 - "$N" "$ROUNDS" "$FLOWC" "$SPAWN" "$WORK" "$SNAKE" "${BEFORE:-}" <<'PY'
import os, shutil, statistics, subprocess, sys, time
n, rounds, flowc, spawn, work, snake, before = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
chain, store = os.path.join(work, "chain.flow"), os.path.join(work, "store")
cases = [
    ("make", "make -s -j2 (`true i`)", ["make", "-s", "-j2", "-f", f"{work}/host.mk"]),
    ("host_quiet", "flowc run --engine host --quiet", [flowc, "run", chain, "--store", store, "--engine", "host", "--quiet"]),
    ("make_print", "make -j2 (`true i`), printing each command", ["make", "-j2", "-f", f"{work}/host.mk"]),
    ("host", "flowc run --engine host, progress lines", [flowc, "run", chain, "--store", store, "--engine", "host"]),
    ("make_bwrap", "make -s -j2 (`bwrap ... true i`)", ["make", "-s", "-j2", "-f", f"{work}/sandbox.mk"]),
    ("sandbox_quiet", "flowc run --engine sandbox --quiet", [flowc, "run", chain, "--store", store, "--engine", "sandbox", "--quiet"]),
    ("sandbox", "flowc run --engine sandbox, progress lines", [flowc, "run", chain, "--store", store, "--engine", "sandbox"]),
    ("spawn", "a program spawning `true i`", [spawn, str(n)]),
]
if before:
    cases[4:4] = [("host_before", "flowc run --engine host, before (progress lines)", [before, "run", chain, "--store", store, "--engine", "host"])]
    cases[8:8] = [("sandbox_before", "flowc run --engine sandbox, before (progress lines)", [before, "run", chain, "--store", store, "--engine", "sandbox"])]
if snake:
    snakedir = os.path.join(work, "snake")
    cases.append(("snake", "snakemake -j1", ["sh", "-c", f"cd {snakedir} && rm -rf done .snakemake && {snake} -j1 --quiet all && test -f done/{n - 1}"]))

def once(argv):
    """Wall and CPU (user + system, its processes included) seconds of one whole run."""
    shutil.rmtree(store, ignore_errors=True)
    t0 = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - t0
    # A failed run, or one that fell back to host processes, measured nothing.
    if status != 0 or "sandbox engine cannot run" in out:
        sys.exit(f"error: {' '.join(argv[:4])} failed:\n{out[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime

def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])

print(f"load average before: {load()}")
for _, _, argv in cases:  # warm-up
    once(argv)
wall, cpu = {}, {}
for r in range(rounds):  # each round runs every case once, in turn
    for key, _, argv in cases:
        w, c = once(argv)
        wall.setdefault(key, []).append(w)
        cpu.setdefault(key, []).append(c)
print(f"load average after: {load()}")
print(f"\n{rounds} rounds of a {n}-step chain; whole process, medians\n")
print("| tool | wall s | wall ms/step | fastest s | CPU s |")
print("|---|---:|---:|---:|---:|")
for key, label, _ in cases:
    m = statistics.median(wall[key])
    print(f"| {label} | {m:.3f} | {m * 1000 / n:.2f} | {min(wall[key]):.3f} | {statistics.median(cpu[key]):.3f} |")
def ratio(m, a, b):
    return statistics.median(y / x for x, y in zip(m[a], m[b]))
print("\nflowc / make (median of the rounds' ratios; aim: at most 1.0). Like for like: both silent")
print("(`--quiet`, `make -s`), and both printing a line or two a step (flowc's progress lines, make's commands):")
for a, b, label in [("make", "host_quiet", "host engine --quiet vs make -s"),
                    ("make_print", "host", "host engine (progress lines) vs make printing its commands"),
                    ("make", "host", "host engine (progress lines) vs make -s"),
                    ("make_bwrap", "sandbox_quiet", "sandbox engine --quiet vs make -s running bwrap"),
                    ("make_bwrap", "sandbox", "sandbox engine (progress lines) vs make -s running bwrap"),
                    ("make", "sandbox", "sandbox engine (progress lines) vs make -s without a sandbox")]:
    print(f"- {label}: wall {ratio(wall, a, b):.2f}x, CPU {ratio(cpu, a, b):.2f}x")
if before:
    print("\nbefore / make, and this build / before:")
    for a, b, label in [("make", "host_before", "host engine before vs make"),
                        ("make_bwrap", "sandbox_before", "sandbox engine before vs make running bwrap"),
                        ("host_before", "host", "host engine, this build vs before"),
                        ("sandbox_before", "sandbox", "sandbox engine, this build vs before")]:
        print(f"- {label}: wall {ratio(wall, a, b):.2f}x, CPU {ratio(cpu, a, b):.2f}x")
PY
