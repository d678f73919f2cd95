#!/usr/bin/env bash
# Compares two revisions of flowc on the front end and the emitters: `flowc check`,
# `flowc build --target kfp` and `--target argo` on the generated 1,000-step pipeline
# (`generate::pipeline` in tests/lib.rs), as whole processes. The two binaries run alternately,
# so load on the machine falls on both alike; it prints the median wall time of each, and the
# instruction count of one run under callgrind when valgrind is installed (repeatable whatever
# the load). Used to show that a refactor is no slower.
#
#   bash bench/compare_revisions.sh OLD_REV [NEW_REV]      # NEW_REV defaults to the work tree
#   RUNS=21 STEPS=1000 bash bench/compare_revisions.sh a0498fa
#
# Both revisions are built in release mode without the built-in steps (`--no-default-features`:
# check and build never run polars), OLD_REV in a temporary git worktree with a build folder of
# its own: cargo names a workspace crate's artifacts by its path inside the workspace, so two
# checkouts sharing one build folder would reuse each other's crates. OLD_BIN=PATH and
# NEW_BIN=PATH skip the builds and time binaries built before.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OLD="${1:?usage: compare_revisions.sh OLD_REV [NEW_REV]}"
NEW="${2:-}"
RUNS="${RUNS:-21}"
STEPS="${STEPS:-1000}"
WORK="$(mktemp -d)"
trap 'git -C "$ROOT" worktree remove --force "$WORK/old" >/dev/null 2>&1 || true; git -C "$ROOT" worktree remove --force "$WORK/new" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

build() { # build DIR NAME -> path of a copy of the release binary
  (cd "$1" && CARGO_TARGET_DIR="$1/target" cargo build --release --quiet -p flowc --no-default-features >&2)
  cp "$1/target/release/flowc" "$WORK/flowc-$2"
  echo "$WORK/flowc-$2"
}

if [ -z "${OLD_BIN:-}" ]; then
  git -C "$ROOT" worktree add --quiet --detach "$WORK/old" "$OLD"
  OLD_BIN="$(build "$WORK/old" old)"
fi
if [ -z "${NEW_BIN:-}" ] && [ -n "$NEW" ]; then
  git -C "$ROOT" worktree add --quiet --detach "$WORK/new" "$NEW"
  NEW_BIN="$(build "$WORK/new" new)"
elif [ -z "${NEW_BIN:-}" ]; then
  NEW_BIN="$(build "$ROOT" new)"
fi

(cd "$ROOT" && cargo run --quiet --example gen_pipeline -p flowc-tests -- "$STEPS") >"$WORK/big.flow"

# The median wall time, in ms, of RUNS runs of each command, interleaving the two binaries.
median_ms() { sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}'; }
now_ns() { date +%s%N; }
time_once() { # BIN ARGS... -> ms
  local t0 t1
  t0=$(now_ns)
  "$@" >/dev/null 2>&1 || true
  t1=$(now_ns)
  echo $(((t1 - t0) / 1000)) | awk '{printf "%.3f\n", $1 / 1000}'
}
instructions() { # BIN ARGS... -> instruction count under callgrind, or "-"
  if ! command -v valgrind >/dev/null 2>&1; then echo "-"; return; fi
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    awk '/Collected/ {print $NF}' | tail -n 1
}

echo "| command ($STEPS steps) | $OLD | ${NEW:-work tree} | ratio | instructions $OLD | instructions ${NEW:-work tree} |"
echo "|---|---:|---:|---:|---:|---:|"
for cmd in "check" "build --target kfp" "build --target argo"; do
  : >"$WORK/old.t"
  : >"$WORK/new.t"
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086
    time_once "$OLD_BIN" $cmd "$WORK/big.flow" >>"$WORK/old.t"
    # shellcheck disable=SC2086
    time_once "$NEW_BIN" $cmd "$WORK/big.flow" >>"$WORK/new.t"
  done
  o=$(median_ms <"$WORK/old.t")
  n=$(median_ms <"$WORK/new.t")
  # shellcheck disable=SC2086
  io=$(instructions "$OLD_BIN" $cmd "$WORK/big.flow")
  # shellcheck disable=SC2086
  in=$(instructions "$NEW_BIN" $cmd "$WORK/big.flow")
  ratio=$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.2f", n / o}')
  echo "| \`flowc $cmd\` | $o ms | $n ms | $ratio | $io | $in |"
done
