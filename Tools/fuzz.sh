#!/bin/bash
# Runs each libFuzzer target of Tools/fuzz for a given time (seconds each, default 15) from its
# committed seed corpus, and prints what each ran and found. Exit 1 when any target crashed or
# hung; the input is left in .build-fuzz/findings/TARGET. New corpus entries go to a scratch
# folder, never into the repository.
#   Tools/fuzz.sh [SECONDS] [TARGET...]
set -u
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-15}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(push manifest bank signature)
BUILD=.build-fuzz
echo "== fuzz: building tally-fuzz with -sanitize=fuzzer"
swift build --product tally-fuzz --build-path "$BUILD" -Xswiftc -sanitize=fuzzer -Xswiftc -DTALLY_FUZZ 2>&1 | tail -3
BIN="$BUILD/debug/tally-fuzz"
[ -x "$BIN" ] || { echo "fuzz: the build failed"; exit 1; }
failed=0
for t in "${TARGETS[@]}"; do
  work="$BUILD/corpus/$t"; findings="$BUILD/findings/$t"
  rm -rf "$work" "$findings"; mkdir -p "$work" "$findings"
  log="$BUILD/$t.log"
  TALLY_FUZZ_TARGET="$t" "$BIN" -max_total_time="$SECONDS_EACH" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" "Tools/fuzz/corpus/$t" > "$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  found=$(ls "$findings" | wc -l)
  echo "fuzz $t: ${runs:-?} executions in ${SECONDS_EACH} s, ${cov:-cov ?}, corpus $(ls "$work" | wc -l) inputs, $found crash/hang inputs (exit $status)"
  if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then failed=1; tail -20 "$log"; fi
done
exit $failed
