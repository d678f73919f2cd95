#!/usr/bin/env bash
# The data path, whole process: read an N-row panel from Parquet, rake it on four variables to
# 1e-6, write the weighted panel as Parquet; `flowc run bench/data_path.flow` (fresh store, so
# every step's outputs are stored) next to the same written by hand with pyarrow + numpy
# (bench/data_path.py, on the cell table as flowc rakes).
# Usage: bench/data_path.sh [N] [ROUNDS]   (defaults 1000000 and 5)
# Environment: PYTHON, an interpreter with numpy and pyarrow (default: the test virtualenv,
# $FLOWC_TEST_VENV/bin/python, else python3); FLOWC, a flowc binary (with the built-in steps) to
# measure instead of this checkout's release build (to measure another commit's).
# The input files are made once by flowc's own std.synth (untimed). Each round runs the peer and
# flowc in turn; each run is timed from outside (wall, CPU of the process and its children, and
# peak resident memory). Medians are reported with the load average, flowc's ratio to the peer
# (the median of the rounds' ratios), and the table's size in memory (pyarrow's `nbytes` of
# the written table, its categorical columns as one-byte codes). The two outputs' weights must
# agree, or the script fails.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
ROUNDS="${2:-5}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PYTHON="${PYTHON:-${FLOWC_TEST_VENV:+$FLOWC_TEST_VENV/bin/python}}"
PYTHON="${PYTHON:-python3}"
"$PYTHON" -c 'import numpy, pyarrow' || { echo "error: $PYTHON has no numpy or pyarrow" >&2; exit 1; }

# The built-in steps (polars) are needed: the default features.
if [ -z "${FLOWC:-}" ]; then
  cargo build --release -q -p flowc
  FLOWC="$PWD/target/release/flowc"
fi

cat > "$WORK/setup.flow" <<'FLOW'
import std.synth (panel, targets)
import std.io (write_parquet)

pipeline setup(n: Int, panel_file: Str, targets_file: Str) {
  p = panel(n: n, seed: 42, day: "2024-06-03")
  t = targets(seed: 42)
  pf = write_parquet(table: p, path: panel_file)
  tf = write_parquet(table: t, path: targets_file)
}
FLOW
"$FLOWC" run "$WORK/setup.flow" --store "$WORK/setup-store" --param "n=$N" --param "panel_file=$WORK/panel.parquet" --param "targets_file=$WORK/targets.parquet" >/dev/null
rm -rf "$WORK/setup-store"
echo "$("$PYTHON" -c 'import sys, numpy, pyarrow; print("python", sys.version.split()[0], "numpy", numpy.__version__, "pyarrow", pyarrow.__version__)')"

"$PYTHON" - "$N" "$ROUNDS" "$FLOWC" "$PYTHON" "$WORK" "$PWD/bench" <<'PY'
import os, shutil, statistics, subprocess, sys, time
import numpy as np
import pyarrow.parquet as pq
n, rounds, flowc, python, work, bench = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
panel, targets = f"{work}/panel.parquet", f"{work}/targets.parquet"
store = f"{work}/store"
cases = [
    ("peer", "pyarrow + numpy (bench/data_path.py)", [python, f"{bench}/data_path.py", panel, targets, f"{work}/peer.parquet"]),
    ("flowc", "flowc run bench/data_path.flow", [flowc, "run", f"{bench}/data_path.flow", "--store", store,
     "--param", f"panel={panel}", "--param", f"targets={targets}", "--param", f"out={work}/flowc.parquet"]),
]

def once(argv):
    """Wall and CPU seconds and peak resident MB of one whole run."""
    shutil.rmtree(store, ignore_errors=True)
    t0 = time.monotonic()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = child.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit(f"error: {' '.join(argv[:3])} failed:\n{out[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024

def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])

print(f"load average before: {load()}")
for _, _, argv in cases:  # warm-up (and the page cache)
    once(argv)
runs = {}
for _ in range(rounds):
    for key, _, argv in cases:
        runs.setdefault(key, []).append(once(argv))
print(f"load average after: {load()}")

peer, ours = pq.read_table(f"{work}/peer.parquet"), pq.read_table(f"{work}/flowc.parquet")
diff = np.max(np.abs(peer.column("weight").to_numpy() - ours.column("weight").to_numpy()))
if peer.num_rows != n or ours.num_rows != n or not diff < 1e-9:
    sys.exit(f"error: the outputs differ ({peer.num_rows} and {ours.num_rows} rows, weights by {diff})")
size = peer.nbytes / 1e6
print(f"\n{rounds} rounds at {n:,} rows; whole process, medians; the table is {size:.0f} MB in memory\n")
print("| tool | wall s | fastest s | CPU s | peak memory MB | peak / table |")
print("|---|---:|---:|---:|---:|---:|")
for key, label, _ in cases:
    w, c, m = (statistics.median(r[i] for r in runs[key]) for i in range(3))
    print(f"| {label} | {w:.3f} | {min(r[0] for r in runs[key]):.3f} | {c:.3f} | {m:.0f} | {m / size:.1f}x |")
ratio = statistics.median(f[0] / p[0] for p, f in zip(runs["peer"], runs["flowc"]))
cpu = statistics.median(f[1] / p[1] for p, f in zip(runs["peer"], runs["flowc"]))
print(f"\nflowc / peer (median of the rounds' ratios): wall {ratio:.2f}x, CPU {cpu:.2f}x; weights agree within {diff:.1e}")
PY
