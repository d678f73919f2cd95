#!/usr/bin/env bash
# Times Python ipfn on the task of builtins/bench/whole_process.flow (generate
# the synthetic panel, rake it on four variables to 1e-6, store the weighted
# panel as Parquet). Creates a virtualenv (outside the repository) with ipfn,
# pandas, numpy and pyarrow (pandas' Parquet writer), then runs
# ipfn_compare.py for each size given (default 1000000 10000000), reporting
# the whole process (interpreter start and imports included) and its parts.
#
# With FLOWC set to a flowc binary (a release build: `cargo build --release
# -p flowc`), each size is also run with `flowc run` on
# builtins/bench/whole_process.flow, with a fresh store, right after ipfn, so
# both are measured under the same load; REPEAT (default 1) repeats each pair.
#
# Usage: survey/bench/run_ipfn.sh [N ...]
# Environment: IPFN_VENV (virtualenv location), PYTHON (interpreter), FLOWC,
# REPEAT.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${IPFN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flowc-survey-ipfn-venv}"
python="${PYTHON:-python3}"
repeat="${REPEAT:-1}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import ipfn, pandas, numpy, pyarrow' 2>/dev/null; then
    "$venv/bin/pip" install --quiet ipfn pandas numpy pyarrow
fi
"$venv/bin/python" -c 'import ipfn, pandas, numpy, pyarrow; print("pandas", pandas.__version__, "numpy", numpy.__version__, "pyarrow", pyarrow.__version__)'
"$venv/bin/pip" show ipfn 2>/dev/null | sed -n 's/^Version: /ipfn /p'

sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(1000000 10000000)
fi
seconds() {
    "$venv/bin/python" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"
}
for n in "${sizes[@]}"; do
    for _ in $(seq "$repeat"); do
        echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
        start=$(date +%s.%N)
        # OpenBLAS overrides slow a current numpy down; drop them for this run only.
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$here/ipfn_compare.py" "$n"
        end=$(date +%s.%N)
        echo "ipfn n=$n: whole process $(seconds "$start" "$end") s"
        if [ -n "${FLOWC:-}" ]; then
            store="$(mktemp -d)"
            start=$(date +%s.%N)
            "$FLOWC" run "$repo/builtins/bench/whole_process.flow" --store "$store" \
                --param "n=$n" >"$store.log" 2>&1
            end=$(date +%s.%N)
            steps=$(grep -E '^whole_process\.(installed|weights) ' "$store.log" |
                awk '{printf "%s%s %s s", sep, $1, $NF; sep=", "}')
            echo "flowc n=$n: whole process $(seconds "$start" "$end") s ($steps)"
            rm -rf "$store" "$store.log"
        fi
    done
done
