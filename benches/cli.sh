#!/usr/bin/env bash
# Whole-command wall time: median of N runs per command, for this binary and,
# when available, the Python reference (../shared/tools/sk-ref), with the ratio.
#
#   benches/cli.sh [RUNS]        (default 10; builds the release binary first)
#
# Each command runs in a fresh scratch project prepared outside the timed region.
set -euo pipefail
RUNS=${1:-10}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
SK="$ROOT/target/release/spec-kitty"
REF="$ROOT/../shared/tools/sk-ref"
REF_BIN=${SKREF_VENV:-$HOME/.cache/sk-ref-3.1.1}/bin/spec-kitty
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export GIT_CONFIG_GLOBAL="$SCRATCH/gitconfig" GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1
printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n' > "$GIT_CONFIG_GLOBAL"

now_ms() { date +%s%N | awk '{printf "%.3f", $1/1000000}'; }

# median of the times (ms) of running "$@" RUNS times, each after `setup`.
time_cmd() {
  local setup=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    eval "$setup" >/dev/null 2>&1
    local t0 t1
    t0=$(now_ms); "$@" >/dev/null 2>&1 || true; t1=$(now_ms)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END{if(NR%2){print a[(NR+1)/2]}else{printf "%.2f\n",(a[NR/2]+a[NR/2+1])/2}}'
}

# A project with one 10-WP mission (WP10 planning, the rest code in chains).
make_project() { # dir bin
  local d=$1 bin=$2
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  git init -q . && git commit -q --allow-empty -m init
  "$bin" init . --ai codex --non-interactive >/dev/null 2>&1 || true
  "$bin" agent mission create bench --json >/dev/null 2>&1 || true
  local m; m=$(ls -d kitty-specs/*bench | head -1)
  printf '# Spec\n\n| FR-001 | thing |\n' > "$m/spec.md"; printf '# Plan\n' > "$m/plan.md"
  { echo "# Work Packages"; for i in $(seq -w 1 10); do
      echo; echo "## WP$i: Package $i"; echo; echo "**Requirement Refs**: FR-001"
      if [ "$i" != 01 ] && [ $((10#$i % 3)) != 1 ] && [ "$i" != 10 ]; then echo "**Dependencies**: WP$(printf %02d $((10#$i-1)))"; else echo "**Dependencies**: none"; fi
      echo; echo "- [ ] T0$i do it"; done; } > "$m/tasks.md"
  for i in $(seq -w 1 10); do
    if [ "$i" = 10 ]; then body="Write kitty-specs notes in research.md"; else body="Build \`src/pkg$i/\`"; fi
    printf -- '---\nwork_package_id: WP%s\ntitle: Package %s\nsubtasks:\n- T0%s\n---\n\n# WP%s\n\n%s\n' "$i" "$i" "$i" "$i" "$body" > "$m/tasks/WP$i-package-$i.md"
  done
  git add -A && git commit -qm setup
  cd - >/dev/null
}

row() { # label ours ref
  if [ -n "$3" ]; then
    printf '| %-44s | %8s | %8s | %6sx |\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN{printf "%.0f", b/a}')"
  else
    printf '| %-44s | %8s | %8s | %7s |\n' "$1" "$2" "-" "-"
  fi
}

bench_one() { # label setup args...
  local label=$1 setup=$2; shift 2
  local ours ref=""
  ours=$(time_cmd "$setup" "$SK" "$@")
  if [ -x "$REF_BIN" ]; then
    ref=$(HOME="$SCRATCH/refhome" time_cmd "$setup" "$REF_BIN" "$@")
  fi
  row "$label" "$ours" "$ref"
}

echo "Median wall time over $RUNS runs, milliseconds (2-core machine)."
echo
printf '| %-44s | %8s | %8s | %8s |\n' command ours python ratio
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..46})" ---------- ---------- ---------
cd "$SCRATCH"
bench_one "--version" "true" --version
bench_one "--help" "true" --help
bench_one "init demo --ai codex --non-interactive" "rm -rf $SCRATCH/demo" init demo --ai codex --non-interactive
P="$SCRATCH/p"
make_project "$P" "$SK"
bench_one "agent mission create" "cd $P && rm -rf kitty-specs/*-extra" agent mission create extra --json
cd "$P"
bench_one "agent mission finalize-tasks (10 WPs)" "true" agent mission finalize-tasks --mission bench --json
bench_one "agent tasks status" "true" agent tasks status --mission bench
bench_one "next --json" "true" next --agent codex --mission bench --json
bench_one "agent action implement (planning WP)" "true" agent action implement WP10 --mission bench --agent codex --json
bench_one "agent action implement (code WP, worktree)" "git worktree remove --force .worktrees/*-lane-a 2>/dev/null; git branch -D \$(git branch --list 'kitty/*' --format='%(refname:short)') 2>/dev/null" agent action implement WP01 --mission bench --agent codex --json
cd "$ROOT"
bench_one "agent release prep --json" "true" agent release prep --channel stable --json
