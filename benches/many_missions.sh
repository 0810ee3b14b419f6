#!/usr/bin/env bash
# `agent mission list` (human and --json) on a project of one mission and on one
# of N missions (default 437, the upstream repository's count), for one or more
# binaries: median wall time and median CPU time (user+sys, from the kernel) of
# RUNS runs, and the N/1 ratio.
#
#   benches/many_missions.sh [RUNS] [N] [BIN...]
#
# RUNS defaults to 10, N to 437; BIN defaults to target/release/spec-kitty (build
# it with `cargo build --release --locked`). Give older builds first to compare
# before and after in one run. The fixtures come from benches/make_many_missions.sh,
# made once by the last BIN; each binary works on its own copy of them, made
# before any timing starts. "warm" runs follow one untimed listing (a binary that
# keeps a saved status fold per mission has it); "cold" runs start with the
# saved folds and the listing cache deleted (a fresh clone). The floor row is
# a plain `cat` of every mission's meta.json and status log (what a listing
# must read at least), timed the same way.
set -euo pipefail
RUNS=${1:-10}
N=${2:-437}
shift 2 || shift $#
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
bench_scratch "$ROOT" "$@"
last=${BINS[${#BINS[@]}-1]}
for n in 1 "$N"; do
  "$ROOT/benches/make_many_missions.sh" "$SCRATCH/fixture-$n" "$n" "$last"
done

RUN1="$SCRATCH/run1.py"
write_run1 "$RUN1"
# timed DIR COLD BIN ARGS...: "median_wall median_cpu" of RUNS runs in DIR.
timed() {
  local dir=$1 cold=$2 bin=$3 k out wall cpu rc
  shift 3
  local walls=() cpus=()
  cd "$dir"
  [[ $cold == 1 ]] || "$bin" "$@" >/dev/null 2>&1
  for ((k = 0; k < RUNS; k++)); do
    [[ $cold == 1 ]] && rm -rf .git/spec-kitty/status-cache .git/spec-kitty/mission-list-*.json
    out=$(python3 "$RUN1" "$bin" "$@")
    read -r wall cpu rc <<<"$out"
    ((rc == 0)) || { echo "$bin $*: exit $rc in $dir" >&2; exit 1; }
    walls+=("$wall")
    cpus+=("$cpu")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median_us_ms) $(printf '%s\n' "${cpus[@]}" | median_us_ms)"
}

k=0
for bin in "${BINS[@]}"; do
  for n in 1 "$N"; do cp -a "$SCRATCH/fixture-$n" "$SCRATCH/copy-$k-$n"; done
  k=$((k + 1))
done
echo "Median wall / CPU (user+sys) of $RUNS runs, ms; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| binary | command | 1 mission | $N missions | ratio wall / CPU |"
echo "|---|---|---|---|---|"
k=0
for bin in "${BINS[@]}"; do
  for cold in 0 1; do
    for args in "agent mission list" "agent mission list --json"; do
      # shellcheck disable=SC2086 # the words of the command
      read -r w1 c1 <<<"$(timed "$SCRATCH/copy-$k-1" "$cold" "$bin" $args)"
      # shellcheck disable=SC2086
      read -r wn cn <<<"$(timed "$SCRATCH/copy-$k-$N" "$cold" "$bin" $args)"
      ratio=$(awk -v a="$w1" -v b="$wn" -v c="$c1" -v d="$cn" 'BEGIN { printf "%.1fx / %.1fx", b / a, d / c }')
      label=$args
      ((cold)) && label="$args (cold)"
      echo "| $(basename "$bin") | \`$label\` | $w1 / $c1 | $wn / $cn | $ratio |"
    done
  done
  k=$((k + 1))
done
# The floor: reading the files a cold listing must read, nothing else.
floor() {
  local dir=$1 k out wall cpu rc walls=() cpus=()
  cd "$dir"
  local files=(kitty-specs/*/meta.json kitty-specs/*/status.events.jsonl)
  for ((k = 0; k < RUNS; k++)); do
    out=$(python3 "$RUN1" "$(command -v cat)" "${files[@]}")
    read -r wall cpu rc <<<"$out"
    walls+=("$wall")
    cpus+=("$cpu")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median_us_ms) $(printf '%s\n' "${cpus[@]}" | median_us_ms)"
}
read -r w1 c1 <<<"$(floor "$SCRATCH/copy-0-1")"
read -r wn cn <<<"$(floor "$SCRATCH/copy-0-$N")"
echo "| (floor) | \`cat\` of every meta.json and status log | $w1 / $c1 | $wn / $cn | $(awk -v a="$w1" -v b="$wn" -v c="$c1" -v d="$cn" 'BEGIN { printf "%.1fx / %.1fx", b / a, d / c }') |"
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
