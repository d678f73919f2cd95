#!/usr/bin/env bash
# Times Python ipfn on the same synthetic panel shapes as `cargo bench -p
# flowc-survey`. Creates a virtualenv (outside the repository) with ipfn,
# pandas and numpy, then runs ipfn_compare.py for each size given (default
# 1000000 10000000), reporting the whole process time and the raking alone.
#
# Usage: survey/bench/run_ipfn.sh [N ...]
# Environment: IPFN_VENV (virtualenv location), PYTHON (interpreter).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${IPFN_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/flowc-survey-ipfn-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet ipfn pandas numpy
fi
"$venv/bin/python" -c 'import ipfn, pandas, numpy; print("pandas", pandas.__version__, "numpy", numpy.__version__)'

sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
    sizes=(1000000 10000000)
fi
for n in "${sizes[@]}"; do
    start=$(date +%s.%N)
    # OpenBLAS overrides slow a current numpy down; drop them for this run only.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$here/ipfn_compare.py" "$n"
    end=$(date +%s.%N)
    "$venv/bin/python" -c "print(f'ipfn n=$n: whole process {$end - $start:.3f} s')"
done
