#!/usr/bin/env bash
# `agent tasks status` and `next --json` as the status log grows: the median
# wall time of RUNS runs and the peak RSS (/usr/bin/time -v) on a 1,000-event
# and a 1,000,000-event log, for one or two binaries, with the 1M/1k ratio.
#
#   benches/status_scale.sh [RUNS] [BIN...]
#
# The CPU column is perf stat's mean task-clock over RUNS runs (when perf is
# installed). RUNS defaults to 10; BIN defaults to target/release/spec-kitty (build it with
# `cargo build --release --locked`). Give an older build first to compare
# ("before" and "after" in one run). The fixtures come from
# benches/make_big_log.sh, made once by the last BIN; each binary works on its
# own copy. A binary that keeps a saved fold of the log is timed warm (the
# median) and cold: "cold" is one run right after the saved fold was deleted
# (`.git/spec-kitty/status-cache/`), i.e. a full streaming fold.
set -euo pipefail
RUNS=${1:-10}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
bench_scratch "$ROOT" "$@"
last=${BINS[${#BINS[@]}-1]}
for n in 1000 1000000; do
  "$ROOT/benches/make_big_log.sh" "$SCRATCH/fixture-$n" "$n" "$last"
done

# median_ms RUNS CMD...: the median wall time in ms of RUNS runs.
median_ms() {
  local runs=$1 k t0 t1
  shift
  local times=()
  for ((k = 0; k < runs; k++)); do
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>&1
    t1=$EPOCHREALTIME
    times+=($((10#${t1/./} - 10#${t0/./})))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {
    m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000 }'
}

# cpu_ms RUNS CMD...: mean CPU time (task-clock) in ms over RUNS runs, by
# `perf stat` when it is installed ("-" otherwise): on a loaded machine the
# wall time of a few-millisecond command is mostly waiting for a core.
cpu_ms() {
  local runs=$1
  shift
  if ! command -v perf >/dev/null; then
    echo -
    return
  fi
  perf stat -x, -e task-clock -r "$runs" "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {printf "%.2f\n", $1}'
}

# peak_mb CMD...: peak RSS in MB of one run.
peak_mb() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {printf "%.1f\n", $6 / 1024}'
}

printf '| binary | command | events | median ms | CPU ms | peak RSS MB | cold ms | cold peak MB |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for bin in "${BINS[@]}"; do
  declare -A med=() cpu=()
  for n in 1000 1000000; do
    d="$SCRATCH/$(basename "$bin")-$n"
    rm -rf "$d"
    cp -a "$SCRATCH/fixture-$n" "$d"
    cd "$d"
    # The fixture's maker may have saved a fold: each binary starts without.
    rm -rf .git/spec-kitty/status-cache
    for cmd in status next; do
      if [[ $cmd == status ]]; then
        args=(agent tasks status --mission 001-bench)
      else
        args=(next --agent bench --json --mission 001-bench)
      fi
      cold=- coldmb=-
      # Warm-up (a binary that saves a fold saves it here).
      "$bin" "${args[@]}" >/dev/null 2>&1
      if [[ -d .git/spec-kitty/status-cache ]]; then
        rm -rf .git/spec-kitty/status-cache
        cold=$(median_ms 1 "$bin" "${args[@]}")
        rm -rf .git/spec-kitty/status-cache
        coldmb=$(peak_mb "$bin" "${args[@]}")
      fi
      m=$(median_ms "$RUNS" "$bin" "${args[@]}")
      c=$(cpu_ms "$RUNS" "$bin" "${args[@]}")
      mb=$(peak_mb "$bin" "${args[@]}")
      med[$cmd-$n]=$m
      cpu[$cmd-$n]=$c
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(basename "$bin")" "$cmd" "$n" "$m" "$c" "$mb" "$cold" "$coldmb"
    done
    cd - >/dev/null
  done
  for cmd in status next; do
    printf '| %s | %s | ratio 1M/1k | %s | %s | | | |\n' "$(basename "$bin")" "$cmd" \
      "$(awk -v a="${med[$cmd-1000000]}" -v b="${med[$cmd-1000]}" 'BEGIN {printf "%.1fx", a / b}')" \
      "$(awk -v a="${cpu[$cmd-1000000]}" -v b="${cpu[$cmd-1000]}" 'BEGIN {if (b + 0 > 0) printf "%.1fx", a / b; else print "-"}')"
  done
  unset med cpu
done
