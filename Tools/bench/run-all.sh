#!/bin/bash
# Every benchmark of issue 9 in one run, each figure beside its baseline or peer measured in
# the same run, written as a Markdown table into docs/BENCHMARKS.md (between its
# tally-bench:begin/end markers). Release builds; 24 minutes from a clean clone on 2 cores (16 of them building).
#
#   Tools/bench/run-all.sh            # the full sizes of the issue
#   Tools/bench/run-all.sh --quick    # small sizes: a smoke test of the whole chain (2–3 minutes)
#
# Needs python3 with venv and pip (PyPI) for the Yrs peer (pycrdt); the rest is this package.
set -euo pipefail
cd "$(dirname "$0")/../.."
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1

for p in tally tally-bench tally-route-bench tally-sync-bench tally-reconcile-bench; do
  swift build -c release --product "$p" 2>&1 | grep -E "error|Build of" || true
done
B=.build/release
VENV=.build/bench-venv
[ -x $VENV/bin/python ] || python3 -m venv $VENV
$VENV/bin/python -c "import pycrdt" 2>/dev/null || $VENV/bin/pip install -q "pycrdt==0.14.13"

OUT=.build/bench-results
rm -rf $OUT && mkdir -p $OUT
export TALLY_BENCH_RESULTS=$PWD/$OUT/results.jsonl
START=$(date -u +%FT%TZ); LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# A benchmark that fails is named in the table's header; the others still run.
FAILED=""
run() { "$@" || FAILED="$FAILED $(basename "$1")"; }

if [ $QUICK = 1 ]; then
  run $B/tally-bench --only ledger --rows 20000 --runs 3
  run $B/tally-route-bench --tickets 40 --runs 3 --durability full
  run $B/tally-bench --only merge --sites 50 --column-changes 100000 --runs 3 --export $OUT/changes.jsonl
  run $VENV/bin/python Tools/bench/scripts/yrs_merge.py $OUT/changes.jsonl --runs 3
  run $B/tally-sync-bench --only day --runs 3
  run $B/tally-sync-bench --only fleet --vans 20 --fleet-min 100 --fleet-max 100 --fleet-signatures 20
  run $B/tally-sync-bench --only first --rows 50000 --deltas 500 --first-runs 3
  run $B/tally-reconcile-bench --vans 20 --runs 3 --dir $OUT/reconcile
else
  run $B/tally-bench --only ledger --runs 5
  run $B/tally-route-bench --runs 3 --durability full
  run $B/tally-bench --only merge --sites 500 --column-changes 1000000 --runs 3 --export $OUT/changes.jsonl
  run $VENV/bin/python Tools/bench/scripts/yrs_merge.py $OUT/changes.jsonl --runs 3
  run $B/tally-sync-bench --only day --runs 5
  run $B/tally-sync-bench --only fleet --vans 500 --fleet-min 200 --fleet-max 200 --fleet-signatures 200 --fleet-deadline 900
  run $B/tally-sync-bench --only first --first-runs 3
  run $B/tally-reconcile-bench --vans 500 --runs 3 --dir $OUT/reconcile
fi

CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
HEADER="Measured $START by \`Tools/bench/run-all.sh$([ $QUICK = 1 ] && echo ' --quick')\` at $(git rev-parse --short HEAD): $(nproc) × $CPU, \
$(free -g | awk '/Mem:/ {print $2}') GB, SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), $(swift --version 2>&1 | grep -o 'Swift version [0-9.]*'); \
load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end.${FAILED:+ FAILED, so missing below:$FAILED.}"
python3 Tools/bench/scripts/report.py $OUT/results.jsonl docs/BENCHMARKS.md "$HEADER"
