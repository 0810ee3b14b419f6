#!/usr/bin/env bash
# Does claiming one WP, or one move with auto_commit, grow with the mission?
# The median wall time and CPU time (perf stat task-clock) of
#   agent action implement WP0001 (a new lane worktree)                 impl
#   agent action implement WP0002 (its lane worktree already there,
#     WP0001 implemented and approved)                                  exist
#   agent tasks move-task WP0001 --to claimed                           move
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
# region. Each copy is then warmed by one untimed `agent tasks status` of the
# binary that times it (see below). Needs perf for the CPU column (else it prints 0).
set -euo pipefail
RUNS=${1:-11}
N=${2:-5000}
BEFORE=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
# AFTER_BINARY, when set, is measured instead (and nothing is built).
if [[ -n ${AFTER_BINARY:-} ]]; then
  AFTER=$AFTER_BINARY
else
  cargo build --release --quiet --locked --manifest-path "$ROOT/Cargo.toml"
  AFTER="$ROOT/target/release/spec-kitty"
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_GLOBAL="$W/gitconfig" GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1
mkdir -p "$HOME"
bench_gitconfig "$GIT_CONFIG_GLOBAL"

# The fixtures: one mission of 10 and of N code WPs in chains of 10
# (benches/lib.sh), finalized, auto_commit on, all committed.
make_scale "$W/p10" 10 "$AFTER"
make_scale "$W/p$N" "$N" "$AFTER"
# The same with WP0001 implemented (its lane worktree made) and approved.
for n in 10 "$N"; do
  cp -a "$W/p$n" "$W/p$n-a"
  (
    cd "$W/p$n-a"
    "$AFTER" agent action implement WP0001 --mission 001-big --agent codex --json >/dev/null 2>&1
    "$AFTER" agent tasks move-task WP0001 --to approved --force --reason bench --mission 001-big --agent codex >/dev/null 2>&1
  )
done
bins=(after)
[[ -n $BEFORE ]] && bins+=(before)
for n in 10 "$N"; do for b in "${bins[@]}"; do for c in impl exist move; do for ((k = 0; k < RUNS; k++)); do
  d="$W/$n-$b-$c-$k"
  if [[ $c == exist ]]; then
    # copy_fixture (benches/lib.sh) points the lane worktree at the copy.
    copy_fixture "$W/p$n-a" "$d"
  else
    cp -a "$W/p$n" "$d"
    (cd "$d" && git update-index -q --refresh)
  fi
  # Warm the copy with one untimed read by the binary it times: a copy gives
  # the status log a new inode, so the saved fold no longer matches it and the
  # first command refolds the whole log; a user's second command does not.
  bin=$AFTER
  [[ $b == before ]] && bin=$BEFORE
  (cd "$d" && "$bin" agent tasks status --mission 001-big >/dev/null 2>&1) || echo "warm-up failed: $d" >&2
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
    local wp=WP0001
    if [[ $c == impl ]]; then
      set -- agent action implement WP0001 --mission 001-big --agent codex --json
    elif [[ $c == exist ]]; then
      wp=WP0002
      set -- agent action implement WP0002 --mission 001-big --agent codex --json
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
    git log -1 --format=%s | grep -q "$wp" || echo "no auto_commit commit: $n $b $c run $k" >&2
    echo "$((10#${t1/./} - 10#${t0/./})) $cpu"
  done >"$W/times"
  printf '%-28s wall %9.1f ms   cpu %9.1f ms   (median of %d)\n' "$c $b $n WPs" \
    "$(cut -d' ' -f1 "$W/times" | median | awk '{ print $1 / 1000 }')" "$(cut -d' ' -f2 "$W/times" | median)" "$(wc -l <"$W/times")"
}
for c in impl exist move; do for b in "${bins[@]}"; do for n in 10 "$N"; do run "$n" "$b" "$c"; done; done; done
