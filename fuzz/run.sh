#!/bin/sh
# Runs one fuzz target under AFL++ for a bounded time, at the lowest priority:
#
#   fuzz/run.sh TARGET MINUTES      (TARGET: check fmt lsp autotune exec import)
#
# Needs AFL++ (`apt-get install afl++`) and cargo-afl (`cargo install cargo-afl`). The seed
# corpus is fuzz/corpus/TARGET; AFL++'s queue, crashes and hangs go to fuzz/out/TARGET (not
# committed). A rerun resumes from there. At the end it prints how long it ran, how many
# inputs it executed and what it found; replay a finding with
#   cargo run --release --manifest-path fuzz/Cargo.toml --bin replay -- TARGET FILE
# and keep it as a regression test in the suite of the crate it concerns (docs/reliability.md).
set -eu
target=${1:?usage: fuzz/run.sh TARGET MINUTES}
minutes=${2:?usage: fuzz/run.sh TARGET MINUTES}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
[ -d "corpus/$target" ] || { echo "unknown target \`$target\` (no corpus/$target)" >&2; exit 2; }
nice -n 19 cargo afl build --release --quiet --bin "$target"
mkdir -p out
input="corpus/$target"
# Resume an earlier session of this target rather than start over.
[ -f "out/$target/default/fuzzer_stats" ] && input=-
export AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_AUTORESUME=1
nice -n 19 cargo afl fuzz -i "$input" -o "out/$target" -V $((minutes * 60)) -t 2000 \
  "target/release/$target" > "out/$target.log" 2>&1 || true
stats="out/$target/default/fuzzer_stats"
[ -f "$stats" ] || { echo "AFL++ did not start; see fuzz/out/$target.log" >&2; exit 1; }
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats"
crashes=$(find "out/$target/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "out/$target/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
echo "$target: $crashes crash(es), $hangs hang(s) in out/$target/default/{crashes,hangs}"
