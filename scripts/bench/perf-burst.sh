#!/bin/bash
# On-CPU profile of the burst's evaluator (issue 9): runs the two-slot burst with
# --perf-basic-prof, attaches `perf record` to the burst platform's evaluator process (the
# second sonocode-evaluator to appear: the first platform measures the languages) and writes
# OUT/perf.data, OUT/bench.log and OUT/script.txt (`perf script`). V8's --cpu-prof samples wall
# time (a pipe write that wakes a supervisor and is preempted by it looks like CPU there);
# perf's cpu-clock counts only time on a CPU. Summarise with scripts/bench/perf-summary.ts.
# PERF_TARGET=launcher records the burst platform's launcher instead (the evaluator's parent: API
# services, the PGlite worker thread, socket-service); summarise it from the first
# result job (--from processJob); perf-summary's categories are the evaluator's, its threads apply.
#
#   flock /work/coord/bench.lock bash scripts/bench/perf-burst.sh /tmp/perf [extra bench:pipeline flags]
#   npx tsx scripts/bench/perf-summary.ts /tmp/perf/script.txt --submissions 100
#   PERF_TARGET=launcher bash scripts/bench/perf-burst.sh /tmp/perf-launcher
#   npx tsx scripts/bench/perf-summary.ts /tmp/perf-launcher/script.txt --from processJob
set -euo pipefail
out=${1:?usage: perf-burst.sh OUTDIR [bench flags]}
shift
command -v perf > /dev/null || { echo "perf is not installed (linux-perf)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
cd "$(dirname "$0")/../.."
npm run bench:pipeline -- --languages c --runs 1 --warmup 1 --burst-slots 2 --skip-ingest \
  --node-options=--perf-basic-prof --json "$out/bench.json" "$@" > "$out/bench.log" 2>&1 &
bench=$!
# The burst's evaluator is the first of this bench's evaluators (another platform on the machine,
# a test's, has its own) whose launcher is not the first platform's; pids wrap, so no pid order.
parent() { awk '{print $4}' "/proc/$1/stat" 2> /dev/null || true; }
ours() {
  local pid=$1
  while [ -n "$pid" ] && [ "$pid" -gt 1 ]; do
    [ "$pid" = "$bench" ] && return 0
    pid=$(parent "$pid")
  done
  return 1
}
first_launcher=""
evaluator=""
while kill -0 "$bench" 2> /dev/null; do
  for current in $(pgrep -f '^sonocode-evaluator' || true); do
    launcher=$(parent "$current")
    # Not a fork of an evaluator on its way to exec (it shows the evaluator's command line).
    tr '\0' ' ' < "/proc/$launcher/cmdline" 2> /dev/null | grep -q 'apps/platform/src/main.ts' || continue
    ours "$launcher" || continue
    if [ -z "$first_launcher" ]; then first_launcher=$launcher; elif [ "$launcher" != "$first_launcher" ]; then evaluator=$current; break 2; fi
  done
  sleep 0.05
done
if [ -z "$evaluator" ]; then
  echo "no second evaluator appeared; see $out/bench.log" >&2
  wait "$bench" || true
  exit 1
fi
target=$evaluator
if [ "${PERF_TARGET:-evaluator}" = launcher ]; then target=$(parent "$evaluator"); fi
echo "evaluator pid $evaluator, recording ${PERF_TARGET:-evaluator} pid $target" > "$out/perf.txt"
perf record -F 1999 -g -p "$target" -o "$out/perf.data" >> "$out/perf.txt" 2>&1 &
recorder=$!
wait "$bench" || true
wait "$recorder" || true
perf script -i "$out/perf.data" -F tid,time,ip,sym --no-demangle > "$out/script.txt" 2> /dev/null
grep -E "burst of|CPU per sub" "$out/bench.log" | cut -c1-400 || true
echo "perf script: $out/script.txt (${PERF_TARGET:-evaluator} pid $target)"
