# The distinct-steps section of bench/compare_build.sh (sourced by it: uses its PY, FLOWC, GEN,
# WORK, RUNS, SIZES, SHAPES, LIMIT and its fmt and ratio helpers). For each shape and size, each
# round runs the kfp SDK, flowc --target kfp, Hera, flowc --target argo and flowc check once, in
# turn, so the peer and flowc share the machine's load; the table gives the medians.

# One whole-process run: prints its wall time in seconds, or "timeout". A flowc build refused
# with E503 (over the size limit, after doing all the work) counts, and marks the output.
run_once() {
  local out="$1" t0 t1 rc=0
  shift
  rm -f "$out.e503"
  t0=$(date +%s.%N)
  timeout "$LIMIT" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
  t1=$(date +%s.%N)
  if [ "$rc" = 124 ]; then echo timeout; return 0; fi
  if [ "$rc" = 1 ] && grep -q "E503" "$WORK/stderr"; then touch "$out.e503" "$WORK/e503"; rc=0; fi
  if [ "$rc" != 0 ]; then echo "failed: $*" >&2; cat "$WORK/stderr" >&2; return 1; fi
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

median() {
  if printf '%s\n' "$@" | grep -q timeout; then echo timeout; return; fi
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

size_of() {
  if [ -e "$1.e503" ]; then echo "E503"; return; fi
  awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.2f MB", b / 1e6 }'
}

size_ratio() {
  if [ -e "$2.e503" ]; then echo "—"; return; fi
  awk -v a="$(wc -c <"$2")" -v b="$(wc -c <"$1")" 'BEGIN { printf "%.2f×", a / b }'
}

echo
echo "Distinct steps (one declaration per step), medians of $RUNS alternating rounds:"
echo
echo "| shape | steps | .flow | kfp SDK | flowc kfp | ratio | Hera | flowc argo | ratio | Hera YAML | flowc Argo YAML | bytes ratio | flowc check |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for shape in $SHAPES; do
  for n in $SIZES; do
    base="$WORK/distinct_${shape}_$n"
    "$GEN" "$n" "$shape" >"$base.flow"
    "$PY" "$ROOT/bench/distinct_peers.py" "$n" "$shape" "${base}_kfp.py" "${base}_hera.py"
    rounds="$RUNS"
    # The kfp SDK is superlinear: at 10,000 steps one round is all there is time for.
    if [ "$n" -ge 10000 ]; then rounds=1; fi
    tk=() fk=() th=() fa=() fc=()
    for _ in $(seq "$rounds"); do
      tk+=("$(run_once "${base}_kfp.yaml" "$PY" "${base}_kfp.py" "${base}_kfp.yaml")")
      fk+=("$(run_once "${base}_flowc_kfp.yaml" "$FLOWC" build --target kfp "$base.flow" -o "${base}_flowc_kfp.yaml")")
      th+=("$(run_once "${base}_hera.yaml" "$PY" "${base}_hera.py" "${base}_hera.yaml")")
      fa+=("$(run_once "${base}_flowc_argo.yaml" "$FLOWC" build --target argo "$base.flow" -o "${base}_flowc_argo.yaml")")
      fc+=("$(run_once "$base.check" "$FLOWC" check "$base.flow")")
    done
    m_tk=$(median "${tk[@]}") m_fk=$(median "${fk[@]}") m_th=$(median "${th[@]}")
    m_fa=$(median "${fa[@]}") m_fc=$(median "${fc[@]}")
    printf '| %s | %s | %s KB | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
      "$shape" "$(printf "%'d" "$n")" "$(($(wc -c <"$base.flow") / 1000))" \
      "$(fmt "$m_tk")" "$(fmt "$m_fk")" "$(ratio "$m_tk" "$m_fk")" \
      "$(fmt "$m_th")" "$(fmt "$m_fa")" "$(ratio "$m_th" "$m_fa")" \
      "$(size_of "${base}_hera.yaml")" "$(size_of "${base}_flowc_argo.yaml")" \
      "$(size_ratio "${base}_hera.yaml" "${base}_flowc_argo.yaml")" "$(fmt "$m_fc")"
  done
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
