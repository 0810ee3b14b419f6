#!/usr/bin/env bash
# Does claiming one WP, or one move with auto_commit, grow with the mission?
# The median wall time and CPU time (perf stat task-clock) of
#   agent action implement WP0001 (a new lane worktree)
#   agent tasks move-task WP0001 --to claimed
# on a 10-WP and an N-WP mission (default 5,000), both with auto_commit: true,
# for one or two binaries.
#
#   benches/scale.sh [RUNS] [N] [BEFORE_BINARY]
#
# RUNS defaults to 11; the binary measured is target/release/spec-kitty
# (built first); BEFORE_BINARY, when given, is measured the same way
# (BEFORE_BIG_RUNS runs on the large mission, default RUNS). Each run gets its
# own copy of the fixture, made in advance (cp -a, then `git update-index
# --refresh`, as any git command in a user's checkout leaves the index), so no
# run times a restore, and freshly freed inodes are not reused in the timed
# region. Needs perf for the CPU column (else it prints 0).
set -euo pipefail
RUNS=${1:-11}
N=${2:-5000}
BEFORE=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
cargo build --release --quiet --locked --manifest-path "$ROOT/Cargo.toml"
AFTER="$ROOT/target/release/spec-kitty"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_GLOBAL="$W/gitconfig" GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1
mkdir -p "$HOME"
bench_gitconfig "$GIT_CONFIG_GLOBAL"

# The fixtures: one mission of 10 and of N code WPs in chains of 10
# (benches/lib.sh), finalized, auto_commit on, all committed.
make_scale "$W/p10" 10 "$AFTER"
make_scale "$W/p$N" "$N" "$AFTER"
bins=(after)
[[ -n $BEFORE ]] && bins+=(before)
for n in 10 "$N"; do for b in "${bins[@]}"; do for c in impl move; do for ((k = 0; k < RUNS; k++)); do
  d="$W/$n-$b-$c-$k"
  cp -a "$W/p$n" "$d"
  (cd "$d" && git update-index -q --refresh)
done; done; done; done
sync
sleep 10

# median (benches/lib.sh) of wall times in microseconds: the caller's format
# turns them into milliseconds.

run() { # n which cmd
  local n=$1 b=$2 c=$3 bin=$AFTER runs=$RUNS k d t0 t1 cpu
  if [[ $b == before ]]; then
    bin=$BEFORE
    [[ $n != 10 ]] && runs=${BEFORE_BIG_RUNS:-$RUNS}
  fi
  for ((k = 0; k < runs; k++)); do
    d="$W/$n-$b-$c-$k"
    cd "$d"
    if [[ $c == impl ]]; then
      set -- agent action implement WP0001 --mission 001-big --agent codex --json
    else
      set -- agent tasks move-task WP0001 --to claimed --mission 001-big --agent codex
    fi
    t0=$EPOCHREALTIME
    if command -v perf >/dev/null; then
      perf stat -x, -e task-clock -o "$W/stat" "$bin" "$@" >/dev/null 2>&1
      cpu=$(grep task-clock "$W/stat" | cut -d, -f1)
    else
      "$bin" "$@" >/dev/null 2>&1
      cpu=0
    fi
    t1=$EPOCHREALTIME
    git log -1 --format=%s | grep -q WP0001 || echo "no auto_commit commit: $n $b $c run $k" >&2
    echo "$((10#${t1/./} - 10#${t0/./})) $cpu"
  done >"$W/times"
  printf '%-28s wall %9.1f ms   cpu %9.1f ms   (median of %d)\n' "$c $b $n WPs" \
    "$(cut -d' ' -f1 "$W/times" | median | awk '{ print $1 / 1000 }')" "$(cut -d' ' -f2 "$W/times" | median)" "$(wc -l <"$W/times")"
}
for c in impl move; do for b in "${bins[@]}"; do for n in 10 "$N"; do run "$n" "$b" "$c"; done; done; done
