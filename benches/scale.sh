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
# region. Needs perf for the CPU column (else it prints 0).
set -euo pipefail
RUNS=${1:-11}
N=${2:-5000}
BEFORE=${3:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --locked --manifest-path "$ROOT/Cargo.toml"
AFTER="$ROOT/target/release/spec-kitty"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export GIT_CONFIG_GLOBAL="$W/gitconfig" GIT_CONFIG_NOSYSTEM=1 HOME="$W/home" NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1
mkdir -p "$HOME"
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n' >"$GIT_CONFIG_GLOBAL"

# make DIR N: one mission of N code WPs in chains of 10 (dependencies and
# owned files in frontmatter), finalized, auto_commit on, all committed.
make() {
  local d=$1 n=$2 m
  mkdir -p "$d"
  (
    cd "$d"
    git init -q -b main .
    "$AFTER" init . --ai codex --non-interactive >/dev/null 2>&1
    "$AFTER" agent mission create big --json >/dev/null 2>&1
    m=$(ls -d kitty-specs/*-big)
    printf '# Spec\n\n| FR-001 | scale |\n' >"$m/spec.md"
    printf '# Work Packages\n\nDeclared in each WP file.\n' >"$m/tasks.md"
    mkdir -p "$m/tasks"
    awk -v n="$n" -v dir="$m/tasks" 'BEGIN {
      for (i = 1; i <= n; i++) {
        f = sprintf("%s/WP%04d-part-%d.md", dir, i, i)
        dep = (i % 10 == 1) ? "[]" : sprintf("\n- WP%04d", i - 1)
        printf "---\nwork_package_id: WP%04d\ntitle: Part %d\ndependencies: %s\nrequirement_refs:\n- FR-001\nowned_files:\n- src/chain%d/part%d/**\n---\n\n# Part %d\n\nBuild it.\n", i, i, dep, int((i - 1) / 10), i, i > f
        close(f)
      }
    }'
    "$AFTER" agent mission finalize-tasks --mission 001-big --json >/dev/null 2>&1
    sed -i 's/^  auto_commit: false/  auto_commit: true/' .kittify/config.yaml
    git add -A && git commit -qm big
  )
  # The same with WP0001 implemented (its lane worktree made) and approved.
  cp -a "$d" "$d-a"
  (
    cd "$d-a"
    "$AFTER" agent action implement WP0001 --mission 001-big --agent codex --json >/dev/null 2>&1
    "$AFTER" agent tasks move-task WP0001 --to approved --force --reason bench --mission 001-big --agent codex >/dev/null 2>&1
  )
}

# relink DIR: point the lane worktrees of a copied project at the copy (git
# keeps absolute paths both ways), and refresh their index stat data.
relink() {
  local dst=$1 w n
  for w in "$dst"/.worktrees/*/; do
    [[ -e $w/.git ]] || continue
    n=$(basename "$w")
    printf 'gitdir: %s/.git/worktrees/%s\n' "$dst" "$n" >"$w/.git"
    printf '%s/.worktrees/%s/.git\n' "$dst" "$n" >"$dst/.git/worktrees/$n/gitdir"
    printf '%s/.git/\n' "$dst" >"$dst/.git/worktrees/$n/commondir"
    git -C "$w" update-index -q --refresh || true
  done
}
make "$W/p10" 10
make "$W/p$N" "$N"
bins=(after)
[[ -n $BEFORE ]] && bins+=(before)
for n in 10 "$N"; do for b in "${bins[@]}"; do for c in impl exist move; do for ((k = 0; k < RUNS; k++)); do
  d="$W/$n-$b-$c-$k"
  if [[ $c == exist ]]; then
    cp -a "$W/p$n-a" "$d"
    relink "$d"
  else
    cp -a "$W/p$n" "$d"
  fi
  (cd "$d" && git update-index -q --refresh)
done; done; done; done
sync
sleep 10

# The median of the numbers on stdin, one a line (wall times in microseconds
# are turned into milliseconds by the caller's format).
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

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
