#!/usr/bin/env bash
# Compares `flowc build --target kfp|argo` with the kfp SDK compiler and Hera on the same
# generated pipelines, timing each tool as a whole process, as a user runs it. Prints Markdown
# tables. Two sections (SECTIONS="shared distinct" by default):
#
# - shared: 100, 1,000 and 10,000 calls of three shared components (the layered graph of
#   `generate::pipeline` in tests/lib.rs: sources, transforms and merges over table artifacts);
# - distinct: 100, 1,000 and 10,000 distinct container steps, one declaration (one kfp
#   component, one Hera template) per step, as a chain and as diamonds (`generate::distinct`
#   and bench/distinct_peers.py). The peer and flowc run alternately, round by round; the
#   table gives medians, ratios, output sizes and `flowc check` alone. Each shape comes in two
#   variants: with cpu/memory requests on every step and retries on every other one (`chain`,
#   `diamond`), and plain, without either, as the issue's pipeline (`chain-plain`,
#   `diamond-plain`); the kfp SDK's calls for those settings cost it most of its time.
#
#   bash bench/compare_build.sh
#   SECTIONS=distinct SIZES="100 1000" SHAPES="chain chain-plain" RUNS=5 bash bench/compare_build.sh
#
# Needs python3 (with venv) and network access to PyPI the first time: kfp and hera are
# installed into a virtualenv outside the repository, in ${XDG_CACHE_HOME:-$HOME/.cache}/flowc-bench.
# When the CLI does not offer `--target kfp` yet, the kfp side of flowc is timed with the
# `kfp_build` example of flowc-tests, which calls the same emitter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/flowc-bench"
# BENCH_VENV: a virtualenv that already has kfp and hera; BENCH_WORK: the folder for the
# generated files (one per concurrent run of the script).
VENV="${BENCH_VENV:-$CACHE/venv}"
WORK="${BENCH_WORK:-$CACHE/work}"
SIZES="${SIZES:-100 1000 10000}"
RUNS="${RUNS:-3}"
SECTIONS="${SECTIONS:-shared distinct}"
SHAPES="${SHAPES:-chain chain-plain diamond diamond-plain}"
mkdir -p "$CACHE" "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import kfp, hera" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check kfp hera
fi
PY="$VENV/bin/python"
KFP_VERSION="$("$PY" -c 'import kfp; print(kfp.__version__)')"
HERA_VERSION="$("$PY" -c 'import importlib.metadata as m; print(m.version("hera"))')"

# flowc without polars (`flowc build` and `check` do not need the built-ins' data path), one job
# at a time (release builds are slow on a shared 2-core machine); the generators in the dev
# profile, which needs no second build of the workspace.
(cd "$ROOT" && cargo build --release -j 1 -p flowc --no-default-features >&2)
(cd "$ROOT" && cargo build -j 1 -p flowc-tests --example gen_pipeline --example kfp_build >&2)
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
FLOWC="$TARGET/release/flowc"
KFP_BUILD="$TARGET/debug/examples/kfp_build"
GEN="$TARGET/debug/examples/gen_pipeline"

cat >"$WORK/kfp_gen.py" <<'PY'
"""The benchmark pipeline with the kfp SDK: python kfp_gen.py N OUT.yaml"""
import sys
from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Metrics, Output

IMAGE = 'registry.example.com/gen:1.0'


@dsl.container_component
def source(day: str, part: int, out: Output[Dataset]):
    return dsl.ContainerSpec(image=IMAGE, command=['gen'], args=['--day', day, '--part', part, '--out', out.path])


@dsl.container_component
def transform(input: Input[Dataset], factor: float, out: Output[Dataset]):
    return dsl.ContainerSpec(image=IMAGE, command=['transform'], args=[input.path, factor, out.path])


@dsl.container_component
def merge(left: Input[Dataset], right: Input[Dataset], out: Output[Dataset], stats: Output[Metrics]):
    return dsl.ContainerSpec(image=IMAGE, command=['merge'], args=[left.path, right.path, out.path, stats.path])


N = int(sys.argv[1])


@dsl.pipeline(name='big')
def big(day: str = '2024-01-01', factor: float = 1.5):
    s = []
    for i in range(N):
        if i < 10:
            t = source(day=day, part=i)
            t.set_cpu_request('500m')
            t.set_memory_request('1Gi')
        elif i % 3 == 0:
            t = merge(left=s[i - 1].outputs['out'], right=s[i - 7].outputs['out'])
        else:
            t = transform(input=s[i - 1 - i % 5].outputs['out'], factor=factor)
            t.set_retry(num_retries=2, backoff_duration='10s', backoff_factor=2.0, backoff_max_duration='300s')
        s.append(t)


compiler.Compiler().compile(big, sys.argv[2])
PY

cat >"$WORK/hera_gen.py" <<'PY'
"""The benchmark pipeline with Hera (Argo Workflows): python hera_gen.py N OUT.yaml"""
import sys
from hera.workflows import DAG, Artifact, Container, Parameter, Resources, RetryStrategy, WorkflowTemplate

IMAGE = 'registry.example.com/gen:1.0'
N = int(sys.argv[1])

with WorkflowTemplate(name='big', entrypoint='main',
                      arguments=[Parameter(name='day', value='2024-01-01'), Parameter(name='factor', value='1.5')]) as w:
    source = Container(name='source', image=IMAGE, command=['gen'],
                       args=['--day', '{{inputs.parameters.day}}', '--part', '{{inputs.parameters.part}}', '--out', '/tmp/out'],
                       inputs=[Parameter(name='day'), Parameter(name='part')],
                       outputs=[Artifact(name='out', path='/tmp/out')],
                       resources=Resources(cpu_request='500m', memory_request='1Gi'))
    transform = Container(name='transform', image=IMAGE, command=['transform'],
                          args=['/tmp/in', '{{inputs.parameters.factor}}', '/tmp/out'],
                          inputs=[Artifact(name='input', path='/tmp/in'), Parameter(name='factor')],
                          outputs=[Artifact(name='out', path='/tmp/out')],
                          retry_strategy=RetryStrategy(limit='2'))
    merge = Container(name='merge', image=IMAGE, command=['merge'],
                      args=['/tmp/left', '/tmp/right', '/tmp/out', '/tmp/stats'],
                      inputs=[Artifact(name='left', path='/tmp/left'), Artifact(name='right', path='/tmp/right')],
                      outputs=[Artifact(name='out', path='/tmp/out'), Artifact(name='stats', path='/tmp/stats')],
                      timeout='20m')
    with DAG(name='main'):
        s = []
        for i in range(N):
            if i < 10:
                t = source(name=f's{i}', arguments={'day': '{{workflow.parameters.day}}', 'part': str(i)})
            elif i % 3 == 0:
                a, b = s[i - 1], s[i - 7]
                t = merge(name=f's{i}', arguments=[a.get_artifact('out').with_name('left'),
                                                   b.get_artifact('out').with_name('right')])
                [a, b] >> t
            else:
                a = s[i - 1 - i % 5]
                t = transform(name=f's{i}', arguments=[a.get_artifact('out').with_name('input'),
                                                       Parameter(name='factor', value='{{workflow.parameters.factor}}')])
                a >> t
            s.append(t)

with open(sys.argv[2], 'w') as f:
    f.write(w.to_yaml())
PY

# Median wall time of RUNS runs of a command, in seconds; "timeout" when a run takes longer
# than LIMIT seconds (the kfp SDK is superlinear: 10,000 steps take far longer than 10 x 1,000).
LIMIT="${LIMIT:-1800}"
time_it() {
  local runs="$1"
  shift
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1 rc=0
    t0=$(date +%s.%N)
    timeout "$LIMIT" "$@" >/dev/null 2>"$WORK/stderr" || rc=$?
    if [ "$rc" = 124 ]; then echo timeout; return 0; fi
    # flowc reports a spec over the size limit (E503) and writes nothing, after doing the work.
    if [ "$rc" = 1 ] && grep -q "E503" "$WORK/stderr"; then touch "$WORK/e503"; rc=0; fi
    if [ "$rc" != 0 ]; then echo "failed: $*" >&2; cat "$WORK/stderr" >&2; return 1; fi
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

fmt() {
  if [ "$1" = timeout ]; then printf '> %s min' "$((LIMIT / 60))"; return; fi
  awk -v s="$1" 'BEGIN { if (s < 1) printf "%.0f ms", s * 1000; else printf "%.2f s", s }'
}
ratio() {
  if [ "$1" = timeout ]; then awk -v a="$LIMIT" -v b="$2" 'BEGIN { printf "> %.0f×", a / b }'; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f×", a / b }'
}

if "$FLOWC" build --help 2>/dev/null | grep -q -- "- kfp"; then
  FLOWC_KFP=("$FLOWC" build --target kfp)
  KFP_VIA="flowc build --target kfp"
else
  FLOWC_KFP=("$KFP_BUILD")
  KFP_VIA="the kfp_build example (the CLI has no --target kfp yet)"
fi
HAS_ARGO=0
if "$FLOWC" build --help 2>/dev/null | grep -q -- "- argo"; then HAS_ARGO=1; fi

echo "kfp $KFP_VERSION, hera $HERA_VERSION, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), median of $RUNS runs ($KFP_VIA)" >&2
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$WORK/e503"
if [[ " $SECTIONS " == *" shared "* ]]; then
echo
echo "| steps | kfp SDK | flowc --target kfp | ratio | Hera | flowc --target argo | ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
  # KFP cannot expire cache entries, so `cache ttl 1d` is E501 and the CLI writes nothing:
  # benchmark `cache on` (what the kfp and Hera versions do) on both targets.
  "$GEN" "$n" | sed 's/cache ttl 1d/cache on/' >"$WORK/big_$n.flow"
  py_runs="$RUNS"
  if [ "$n" -ge 10000 ]; then py_runs=1; fi
  t_kfp=$(time_it "$py_runs" "$PY" "$WORK/kfp_gen.py" "$n" "$WORK/kfp_$n.yaml")
  t_hera=$(time_it "$py_runs" "$PY" "$WORK/hera_gen.py" "$n" "$WORK/hera_$n.yaml")
  t_fk=$(time_it 5 "${FLOWC_KFP[@]}" "$WORK/big_$n.flow" -o "$WORK/flowc_kfp_$n.yaml")
  if [ "$HAS_ARGO" = 1 ]; then
    t_fa=$(time_it 5 "$FLOWC" build --target argo "$WORK/big_$n.flow" -o "$WORK/flowc_argo_$n.yaml")
    argo_cells="$(fmt "$t_fa") | $(ratio "$t_hera" "$t_fa")"
  else
    argo_cells="n/a | n/a"
  fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$(printf "%'d" "$n")" "$(fmt "$t_kfp")" "$(fmt "$t_fk")" \
    "$(ratio "$t_kfp" "$t_fk")" "$(fmt "$t_hera")" "$argo_cells"
done
fi
if [[ " $SECTIONS " == *" distinct "* ]]; then
  # shellcheck source=bench/compare_distinct.sh
  . "$ROOT/bench/compare_distinct.sh"
fi
if [ -e "$WORK/e503" ]; then
  echo
  echo "Some flowc builds reported E503 (the output exceeds a size limit of the target) and wrote nothing; their times include all the work."
fi
