#!/usr/bin/env bash
# Per-step cost of a Python step (docs/python.md, figures in docs/perf.md#python-steps), next
# to a bare interpreter that imports pyarrow and to the kfp SDK's local runner.
# Usage: bench/python_step.sh [ROUNDS] [TASKS]   (defaults 7 and 10)
# bench/python_step.py does the timing, alternating the three in each round:
#   bare    `python -c "import pyarrow.parquet"`, a whole process;
#   flowc   `python -m flowc_step` calling a function that takes a 1,000-row table and returns
#           it (Parquet read, a pandas DataFrame, the schema check, Parquet written), a whole
#           process, as `flowc run` and a pod start it;
#   kfp     a pipeline of TASKS lightweight components (`@dsl.component`, an int in and out)
#           run by `kfp.local` with `SubprocessRunner(use_venv=False)`, per task.
# The interpreter is the test virtualenv's (.ci/python-venv) for bare and flowc; kfp goes into
# its own virtualenv, target/bench-kfp-venv, made on the first run (needs the package index).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-7}"
TASKS="${2:-10}"
PY="${FLOWC_TEST_VENV:-target/test-venv}/bin/python"
[ -x "$PY" ] || { echo "error: $PY is missing: run .ci/python-venv first" >&2; exit 1; }
KFP_VENV="$PWD/target/bench-kfp-venv"
if [ ! -x "$KFP_VENV/bin/python" ]; then
  python3 -m venv "$KFP_VENV"
  "$KFP_VENV/bin/pip" install --quiet --disable-pip-version-check 'kfp==2.17.3'
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PY" bench/python_step.py --rounds "$ROUNDS" --tasks "$TASKS" --kfp-python "$KFP_VENV/bin/python"
