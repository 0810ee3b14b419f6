#!/usr/bin/env bash
# Whole-process wall time and CPU time (user+sys of the process and its children):
# the median of RUNS runs of each command, for this binary and, when it is
# available, the Python reference (sk-ref), with the wall-time ratio.
#
#   benches/cli.sh [RUNS]      RUNS defaults to 10; builds the release binary first
#
# Environment:
#   NO_REF=1         skip the reference even when it is installed
#   REF_RUNS=N       runs per command for the reference (default: RUNS)
#   REF_RUNS_100K=N  reference runs on the 100,000-event log (default 3: it is slow)
#   SK_BENCH_KEEP=1  keep the scratch directory (printed at the end)
#   SK_BIN=PATH      time this spec-kitty binary instead of building the release one
#                    (e.g. a build of an older commit, for a before/after table)
#
# Every run starts from the same state: each run works in its own copy of the
# project at a tag (extra worktrees and branches removed), made in advance, before
# any timing starts. A command that changes state (finalize-tasks, implement) is
# thus timed doing its real work every time, never a no-op repeat, and never right
# after a `git reset`/`git clean` or an `rm -rf`: ext4 skips recently freed inodes,
# so a command timed just after a restore pays allocation work a user never sees
# (a 1,000-WP finalize measured 0.47-0.59 s right after a restore, 0.19-0.22 s on a
# copy made a minute earlier). Used copies are deleted only when the script ends. Each side works in a project that
# its own binary created. A command that exits non-zero is reported, not timed
# silently: our side aborts the script, the reference's cell says `exit N`.
set -euo pipefail
RUNS=${1:-10}
REF_RUNS=${REF_RUNS:-$RUNS}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benches/lib.sh
source "$ROOT/benches/lib.sh"
if [[ -n ${SK_BIN:-} ]]; then
  SK=$(realpath "$SK_BIN")
else
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
  SK="$ROOT/target/release/spec-kitty"
fi

# The reference: ../shared/tools/sk-ref installs it once into a venv; we call the
# venv's binary directly (no wrapper start-up) with a persistent scratch HOME, as
# a real user's HOME would be.
REF_WRAPPER="$ROOT/../shared/tools/sk-ref"
REF_BIN="${SKREF_VENV:-$HOME/.cache/sk-ref-3.1.1}/bin/spec-kitty"
if [[ -z ${NO_REF:-} && ! -x $REF_BIN && -x $REF_WRAPPER ]]; then
  "$REF_WRAPPER" --version >/dev/null 2>&1 || true
fi
[[ -z ${NO_REF:-} && -x $REF_BIN ]] || REF_BIN=""

SCRATCH=$(mktemp -d)
if [[ -z ${SK_BENCH_KEEP:-} ]]; then trap 'rm -rf "$SCRATCH"' EXIT; fi
OUR_HOME="$SCRATCH/home"
REF_HOME="$SCRATCH/refhome"
mkdir -p "$OUR_HOME" "$REF_HOME"
export GIT_CONFIG_GLOBAL="$SCRATCH/gitconfig" GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
export SPEC_KITTY_NON_INTERACTIVE=1 TMPDIR="$SCRATCH/tmp"
mkdir -p "$TMPDIR"
bench_gitconfig "$GIT_CONFIG_GLOBAL"

ours() { HOME="$OUR_HOME" "$SK" "$@"; }
theirs() { HOME="$REF_HOME" "$REF_BIN" "$@"; }

RUN1="$SCRATCH/run1.py"
write_run1 "$RUN1"

# time_cmd RUNS SETUP WHO ARGS...: run SETUP (outside the timed region) then time
# WHO's binary ("ours" or "theirs") with ARGS, RUNS times. Prints
# "median_wall_ms median_cpu_ms" or "exit N" when a run failed.
time_cmd() {
  local runs=$1 setup=$2 who=$3
  shift 3
  local walls=() cpus=() k out wall cpu rc bin home
  if [[ $who == ours ]]; then bin=$SK home=$OUR_HOME; else bin=$REF_BIN home=$REF_HOME; fi
  for ((k = 0; k < runs; k++)); do
    eval "$setup" >/dev/null 2>&1 || true
    out=$(HOME="$home" python3 "$RUN1" "$bin" "$@")
    read -r wall cpu rc <<<"$out"
    if ((rc != 0)); then
      echo "exit $rc"
      return
    fi
    walls+=("$wall")
    cpus+=("$cpu")
  done
  echo "$(printf '%s\n' "${walls[@]}" | median_us_ms) $(printf '%s\n' "${cpus[@]}" | median_us_ms)"
}

# Copies made in advance. pool DIR TAG N: N copies of project DIR at TAG (DIR's
# big status log is hard-linked, not copied: no timed command writes it).
# use DIR TAG: cd into the next unused copy (a counter file, as time_cmd runs in
# a subshell).
# pool DIR TAG N NAME WARM...: the same, as pool NAME, running WARM (our binary's
# arguments) in each copy once it is made, outside any timing.
pool() { # dir tag count [name [warm args...]]
  local d=$1 tag=$2 n=$3 k base
  base="$d.${4:-$tag}"
  shift $(($# < 4 ? $# : 4))
  [[ -d $d ]] || return 0
  restore "$d" "$tag"
  local big
  big=$(cd "$d" && ls kitty-specs/*-events/status.events.jsonl 2>/dev/null || true)
  for ((k = 0; k < n; k++)); do
    cp -a "$d" "$base.$k"
    if [[ -n $big ]]; then ln -f "$d/$big" "$base.$k/$big"; fi
    if (($#)); then (cd "$base.$k" && ours "$@" >/dev/null); fi
  done
  echo 0 >"$base.next"
}
use() { # dir tag
  local base="$1.$2" k
  k=$(cat "$base.next")
  [[ -d $base.$k ]] || { echo "bench pool $base exhausted" >&2; return 1; }
  echo $((k + 1)) >"$base.next"
  cd "$base.$k"
}
# Empty directories for `init`, made in advance too.
empty_pool() { # n
  local k
  mkdir -p "$SCRATCH/empty"
  for ((k = 0; k < $1; k++)); do mkdir -p "$SCRATCH/empty/$k"; done
  echo 0 >"$SCRATCH/empty.next"
}
use_empty() {
  local k
  k=$(cat "$SCRATCH/empty.next")
  echo $((k + 1)) >"$SCRATCH/empty.next"
  cd "$SCRATCH/empty/$k"
}

# Back to tag $2 in project $1: drop every worktree and every branch that was
# not there at `post`, then reset and clean (ignored files and .worktrees stay).
restore() { # dir tag
  cd "$1"
  local w b
  git worktree list --porcelain | awk '/^worktree /{sub(/^worktree /, ""); print}' | tail -n +2 |
    while IFS= read -r w; do git worktree remove --force "$w"; done
  git worktree prune
  git checkout -q -f main
  for b in $(git for-each-ref --format='%(refname:short)' refs/heads/); do
    grep -qx "$b" .git/bench-branches || git branch -qD "$b"
  done
  git reset -q --hard "$2"
  git clean -qfd
}

# A project with one 1,000-WP mission: 100 chains of 10 code WPs, dependencies
# and owned files declared in frontmatter (the tasks.md heading syntax only
# knows two-digit ids, as the reference's does).
make_big_project() { # dir wps
  local d=$1 n=$2 m
  rm -rf "$d"
  scale_tasks "$d" "$n" ours
  cd "$d"
  git tag pre
  ours agent mission finalize-tasks --mission 001-big --json >/dev/null
  # A second mission of 20 WPs whose status log holds 100,000 events.
  ours agent mission create events --json >/dev/null 2>&1
  m=$(ls -d kitty-specs/*-events)
  printf '# Spec\n' >"$m/spec.md"
  for i in $(seq -w 1 20); do
    printf -- '---\nwork_package_id: WP%s\ntitle: Part %s\ndependencies: []\nexecution_mode: code_change\nowned_files:\n- src/e%s/**\n---\n\n# Part %s\n' \
      "$i" "$i" "$i" "$i" >"$m/tasks/WP$i-part.md"
  done
  awk -v slug="${m#kitty-specs/}" 'BEGIN {
    split("planned claimed in_progress for_review", lane, " ")
    for (i = 0; i < 100000; i++) {
      wp = i % 20 + 1; k = int(i / 20) % 4
      printf "{\"actor\": \"bench\", \"at\": \"2026-01-01T%02d:%02d:%02d.%06d+00:00\", \"event_id\": \"01KB%022d\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": true, \"from_lane\": \"%s\", \"mission_slug\": \"%s\", \"policy_metadata\": null, \"reason\": \"bench\", \"review_ref\": null, \"to_lane\": \"%s\", \"wp_id\": \"WP%02d\"}\n", int(i / 3600000) % 24, int(i / 60000) % 60, int(i / 1000) % 60, i % 1000, i, lane[k + 1], slug, lane[(k + 1) % 4 + 1], wp
    }
  }' >"$m/status.events.jsonl"
  git add -A && git commit -qm finalized && git tag post
  git for-each-ref --format='%(refname:short)' refs/heads/ >.git/bench-branches
  cd - >/dev/null
}

row() { # label ours_wall ours_cpu ref_wall ref_cpu
  local ratio="-"
  if [[ $2 =~ ^[0-9.]+$ && $4 =~ ^[0-9.]+$ ]]; then
    ratio=$(awk -v a="$2" -v b="$4" 'BEGIN { printf "%.0fx", b / a }')
  fi
  printf '| %-46s | %9s | %9s | %9s | %9s | %7s |\n' "$1" "$2" "$3" "$4" "$5" "$ratio"
}

# bench LABEL SETUP_OURS SETUP_REF -- OUR_ARGS... [-- REF_ARGS...]
# REF_ARGS default to OUR_ARGS; an empty SETUP_REF or a missing reference skips it.
bench() {
  local label=$1 setup_ours=$2 setup_ref=$3
  shift 3
  [[ $1 == -- ]] && shift
  local our_args=() ref_args=() seen=0 a
  for a in "$@"; do
    if [[ $a == -- && $seen == 0 ]]; then seen=1; continue; fi
    if ((seen)); then ref_args+=("$a"); else our_args+=("$a"); fi
  done
  ((seen)) || ref_args=("${our_args[@]}")
  local o r="- -"
  o=$(time_cmd "$RUNS" "$setup_ours" ours "${our_args[@]}")
  if [[ ! $o =~ ^[0-9.]+\ [0-9.]+$ ]]; then
    echo "our side failed: $label: spec-kitty ${our_args[*]}: $o" >&2
    exit 1
  fi
  if [[ -n $REF_BIN && -n $setup_ref ]]; then
    r=$(time_cmd "$REF_RUNS" "$setup_ref" theirs "${ref_args[@]}")
    [[ $r == exit* ]] && r="${r// /_} -"
  fi
  # shellcheck disable=SC2086 # two fields each
  row "$label" $o $r
}

P="$SCRATCH/ours"
Q="$SCRATCH/ref"
B="$SCRATCH/big"
make_project "$P" ours
[[ -n $REF_BIN ]] && {
  theirs --version >/dev/null 2>&1 || true # first call writes its files into HOME
  make_project "$Q" theirs
}
make_big_project "$B" 1000
# Runs per (project, tag): one copy per timed run, all made before any timing.
REF_100K=${REF_RUNS_100K:-3}
pool "$P" post $((8 * RUNS))
pool "$P" pre "$RUNS"
if [[ -n $REF_BIN ]]; then
  pool "$Q" post $((8 * REF_RUNS))
  pool "$Q" pre "$REF_RUNS"
fi
pool "$B" pre "$RUNS"
pool "$B" post $((3 * RUNS + REF_100K))
# The 100,000-event log as a second read finds it: its fold saved by a first
# `status` (in .git/spec-kitty/status-cache/, keyed by the log's path, so a copy
# made after that first read would not find it: each copy warms its own).
pool "$B" post "$RUNS" warm agent tasks status --mission 002-events
# A finalize re-run after one that found nothing to change: that run saved the
# finalize stamp (in .git/spec-kitty/finalize-cache/, keyed by the mission's
# path, so each copy makes its own).
pool "$B" post "$RUNS" stamped agent mission finalize-tasks --mission 001-big --json
empty_pool $((RUNS + REF_RUNS))

echo "Median wall and CPU (user+sys) time of $RUNS runs (reference: $REF_RUNS), milliseconds; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
printf '| %-46s | %9s | %9s | %9s | %9s | %7s |\n' command "ours wall" "ours cpu" "py wall" "py cpu" ratio
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..48})" ----------- ----------- ----------- ----------- ---------
cd "$SCRATCH"
bench "--version" "true" "true" -- --version
bench "--help" "true" "true" -- --help
bench "init demo --ai codex --non-interactive" "use_empty" "use_empty" \
  -- init demo --ai codex --non-interactive
bench "agent mission create" "use $P post" "use $Q post" -- agent mission create extra --json
bench "agent mission finalize-tasks (10 WPs)" "use $P pre" "use $Q pre" \
  -- agent mission finalize-tasks --mission 001-bench --json
bench "agent tasks status" "use $P post" "use $Q post" -- agent tasks status --mission 001-bench
bench "next --json" "use $P post" "use $Q post" -- next --agent codex --mission 001-bench --json
bench "agent action implement (planning WP)" "use $P post" "use $Q post" \
  -- agent action implement WP10 --mission 001-bench --agent codex --json \
  -- agent action implement WP10 --mission 001-bench --agent codex
bench "agent action implement (code WP, new worktree)" "use $P post" "use $Q post" \
  -- agent action implement WP01 --mission 001-bench --agent codex --json \
  -- agent action implement WP01 --mission 001-bench --agent codex
POL='{"orchestrator_id":"bench","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[]}'
bench "orchestrator-api mission-state" "use $P post" "use $Q post" -- orchestrator-api mission-state --mission 001-bench
bench "orchestrator-api start-implementation (new worktree)" "use $P post" "use $Q post" \
  -- orchestrator-api start-implementation --mission 001-bench --wp WP01 --actor orch --policy "$POL"
bench "agent release prep --json" "use $P post" "use $Q post" -- agent release prep --channel stable --json
# The reference only takes two-digit WP ids (WP00-WP99), so it has no 1,000-WP column.
bench "agent mission finalize-tasks (1,000 WPs)" "use $B pre" "" -- agent mission finalize-tasks --mission 001-big --json
bench "finalize-tasks again (1,000 WPs, no change)" "use $B post" "" -- agent mission finalize-tasks --mission 001-big --json
bench "finalize-tasks again (1,000 WPs, stamp saved)" "use $B stamped" "" -- agent mission finalize-tasks --mission 001-big --json
bench "agent tasks status (1,000 WPs)" "use $B post" "" -- agent tasks status --mission 001-big
REF_RUNS=$REF_100K bench "agent tasks status (100,000 events, first read)" "use $B post" "use $B post" \
  -- agent tasks status --mission 002-events
bench "agent tasks status (100,000 events, saved fold)" "use $B warm" "" \
  -- agent tasks status --mission 002-events
echo
echo "The reference takes two-digit WP ids only (WP00-WP99): no 1,000-WP runs for it."
echo "On the 100,000-event log it ran ${REF_RUNS_100K:-3} times (REF_RUNS_100K); it keeps no saved fold."
echo "\"first read\": no saved fold (a full streaming fold); \"saved fold\": the second read."
echo "finalize \"no change\": the first re-run (a full check, it saves the stamp); \"stamp saved\": a later one."
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -n ${SK_BENCH_KEEP:-} ]] && echo "scratch kept in $SCRATCH"
exit 0
