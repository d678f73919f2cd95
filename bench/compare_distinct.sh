# The distinct-steps section of bench/compare_build.sh (sourced by it: uses its PY, FLOWC, GEN,
# WORK, RUNS, SIZES, SHAPES, LIMIT and its fmt and ratio helpers). For each shape and size, each
# round runs the kfp SDK, flowc --target kfp, Hera, flowc --target argo and flowc check once, in
# turn, so the peer and flowc share the machine's load; the tables give the medians of wall
# time and of CPU time (user + system: perf's task-clock, or GNU time without perf), which a loaded machine disturbs less.

# One whole-process run: prints "WALL CPU" in seconds, or "timeout timeout". A flowc build
# refused with E503 (over the size limit, after doing all the work) counts, and marks the output.
run_once() {
  local out="$1" rc=0
  shift
  rm -f "$out.e503"
  local t0 t1 cpu
  t0=$(date +%s.%N)
  # perf's task-clock counts the CPU time of the process and its children to the microsecond;
  # GNU time's user and system times (10 ms steps) where perf is not allowed.
  if [ "$PERF_OK" = 1 ]; then
    perf stat -x, -e task-clock -o "$WORK/time" timeout "$LIMIT" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
  else
    /usr/bin/time -f "%U %S" -o "$WORK/time" timeout "$LIMIT" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
  fi
  t1=$(date +%s.%N)
  if [ "$rc" = 124 ]; then echo "timeout timeout"; return 0; fi
  if [ "$rc" = 1 ] && grep -q "E503" "$WORK/stderr"; then touch "$out.e503" "$WORK/e503"; rc=0; fi
  if [ "$rc" != 0 ]; then echo "failed: $*" >&2; cat "$WORK/stderr" >&2; return 1; fi
  if [ "$PERF_OK" = 1 ]; then
    cpu=$(grep task-clock "$WORK/time" | awk -F, '{ printf "%.4f", $1 / 1000 }')
  else
    cpu=$(tail -n 1 "$WORK/time" | awk '{ printf "%.4f", $1 + $2 }')
  fi
  awk -v a="$t0" -v b="$t1" -v c="$cpu" 'BEGIN { printf "%.4f %s", b - a, c }'
}

PERF_OK=0
if perf stat -x, -e task-clock -o /dev/null true 2>/dev/null; then PERF_OK=1; fi

# The wall (field 1) or CPU (field 2) times of a list of "WALL CPU" pairs, one a line.
field() {
  local f="$1"
  shift
  printf '%s\n' "$@" | cut -d' ' -f"$f"
}

# The median of field F of "WALL CPU" pairs.
median() {
  local f="$1"
  shift
  if printf '%s\n' "$@" | grep -q timeout; then echo timeout; return; fi
  field "$f" "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

size_of() {
  if [ -e "$1.e503" ]; then echo "E503"; return; fi
  awk -v b="$(wc -c <"$1")" 'BEGIN { printf "%.2f MB", b / 1e6 }'
}

size_ratio() {
  if [ -e "$2.e503" ]; then echo "—"; return; fi
  awk -v a="$(wc -c <"$2")" -v b="$(wc -c <"$1")" 'BEGIN { printf "%.2f×", a / b }'
}

rows_wall=()
rows_cpu=()
sizes=()
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
    label="$shape | $(printf "%'d" "$n")"
    for f in 1 2; do
      m_tk=$(median "$f" "${tk[@]}") m_fk=$(median "$f" "${fk[@]}") m_th=$(median "$f" "${th[@]}")
      m_fa=$(median "$f" "${fa[@]}") m_fc=$(median "$f" "${fc[@]}")
      row="$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$label" \
        "$(fmt "$m_tk")" "$(fmt "$m_fk")" "$(ratio "$m_tk" "$m_fk")" \
        "$(fmt "$m_th")" "$(fmt "$m_fa")" "$(ratio "$m_th" "$m_fa")" "$(fmt "$m_fc")")"
      if [ "$f" = 1 ]; then
        rows_wall+=("$row")
        sizes+=("$(printf '| %s | %s KB | %s | %s | %s |' "$label" "$(($(wc -c <"$base.flow") / 1000))" \
          "$(size_of "${base}_hera.yaml")" "$(size_of "${base}_flowc_argo.yaml")" \
          "$(size_ratio "${base}_hera.yaml" "${base}_flowc_argo.yaml")")")
      else
        rows_cpu+=("$row")
      fi
    done
  done
done
header="| shape | steps | kfp SDK | flowc kfp | ratio | Hera | flowc argo | ratio | flowc check |"
rule="|---|---:|---:|---:|---:|---:|---:|---:|---:|"
echo
echo "Distinct steps (one declaration per step), wall time, medians of $RUNS alternating rounds:"
echo
printf '%s\n' "$header" "$rule" "${rows_wall[@]}"
echo
echo "The same runs, CPU time (user + system):"
echo
printf '%s\n' "$header" "$rule" "${rows_cpu[@]}"
echo
echo "Sizes:"
echo
printf '%s\n' "| shape | steps | .flow | Hera YAML | flowc Argo YAML | bytes ratio |" "|---|---:|---:|---:|---:|---:|" "${sizes[@]}"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
