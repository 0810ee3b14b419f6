# Fixture makers and helpers shared by the benchmark scripts in benches/.
# Sourced, never run:   source "$(dirname "$0")/lib.sh"
#
# RUN below is how a maker runs spec-kitty: a path to a binary or the name of a
# shell function that runs one (e.g. with its own HOME). The makers need git
# and a git identity: bench_gitconfig writes one.

# bench_gitconfig FILE: the git config of a benchmark (GIT_CONFIG_GLOBAL=FILE
# with GIT_CONFIG_NOSYSTEM=1): an identity, branch main, no signing, and no
# automatic `git gc` (a fixture with thousands of loose objects would otherwise
# repack in the background while it is copied, or inside a timed command).
bench_gitconfig() {
  printf '[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n[gc]\n\tauto = 0\n' >"$1"
}

# median: the median of the numbers on stdin, one a line (empty input: nothing).
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else if (NR) print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# threads_ns PID: the CPU time (ns) of every live thread of PID but the
# dashboard's file watcher (its periodic re-stat of every mission is not a
# request's), from /proc/PID/task/*/schedstat.
threads_ns() {
  local t s=0
  for t in /proc/"$1"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) == dashboard-watch ]] && continue
    s=$((s + $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null || echo 0)))
  done
  echo "$s"
}

# bench_scratch ROOT [BIN...]: the start of a script that times binaries on
# fixtures of its own: BINS (the BINs given, else ROOT's release build), a
# scratch directory SCRATCH removed when the script exits, and a hermetic
# environment (no system git config, no colour, no prompts, HOME inside
# SCRATCH).
bench_scratch() {
  local root=$1
  shift
  BINS=("$@")
  [[ ${#BINS[@]} -gt 0 ]] || BINS=("$root/target/release/spec-kitty")
  SCRATCH=$(mktemp -d)
  trap 'rm -rf "$SCRATCH"' EXIT
  export GIT_CONFIG_NOSYSTEM=1 NO_COLOR=1 SPEC_KITTY_NON_INTERACTIVE=1 HOME="$SCRATCH/home"
  mkdir -p "$HOME"
}

# write_run1 FILE: a Python script that makes one timed run of the command in
# its arguments (stdout and stderr to /dev/null): it spawns it, waits for it
# with wait4 and prints "wall_us cpu_us exit_code" (cpu: user+sys of the
# process and its children, from the kernel's rusage).
write_run1() {
  cat >"$1" <<'PY'
import os, sys, time
null = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_WRONLY, 0) for fd in (1, 2)]
t0 = time.perf_counter_ns()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=null)
_, status, ru = os.wait4(pid, 0)
t1 = time.perf_counter_ns()
print((t1 - t0) // 1000, int((ru.ru_utime + ru.ru_stime) * 1e6), os.waitstatus_to_exitcode(status))
PY
}

# median_us_ms: the median of the microsecond values on stdin, in ms (one
# decimal).
median_us_ms() {
  sort -n | awk '{a[NR]=$1} END {
    m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m / 1000 }'
}

# copy_fixture SRC DST [PATH...]: a copy of the project SRC at DST (a new
# directory) for one timed run. The git objects (immutable files: a command
# adds new ones beside them) and each PATH (relative to SRC, e.g. a big status
# log that no timed command writes) are hard links, everything else is copied.
# Lane worktrees under SRC/.worktrees/ are pointed at the copy's repository
# (their gitdir and commondir, which libgit2 writes as absolute paths, and
# their .git file), and the copy's index (and each worktree's) is refreshed,
# as any git command in a user's checkout leaves it: a copy changes every
# file's inode and ctime, which would otherwise send the first timed command
# re-hashing the tree.
copy_fixture() {
  local src=$1 dst=$2 p w
  shift 2
  local skip=(--exclude=./.git/objects)
  for p in "$@"; do skip+=("--exclude=./$p"); done
  mkdir -p "$dst"
  tar -C "$src" "${skip[@]}" -cf - . | tar -C "$dst" -xf -
  cp -al "$src/.git/objects" "$dst/.git/objects"
  for p in "$@"; do ln "$src/$p" "$dst/$p"; done
  for w in "$dst"/.git/worktrees/*/gitdir; do
    [[ -f $w ]] || continue
    sed -i "s|^$src/|$dst/|" "$w" "${w%/gitdir}/commondir"
    p=$(cat "$w")
    sed -i "s|^gitdir: $src/|gitdir: $dst/|" "$p"
    git -C "$(dirname "$p")" update-index -q --refresh >/dev/null 2>&1 || true
  done
  git -C "$dst" update-index -q --refresh >/dev/null 2>&1 || true
}

# The 10-WP mission of benches/cli.sh: WP01..WP09 are code WPs in chains
# (WP01-03, WP04-06, WP07-09, so three code lanes), WP10 is a planning WP.
write_wps_10() { # mission_dir
  local m=$1 i dep
  printf '# Spec\n\n| FR-001 | the thing |\n' >"$m/spec.md"
  printf '# Plan\n\nThree packages and a research note.\n' >"$m/plan.md"
  {
    echo "# Work Packages"
    for i in 01 02 03 04 05 06 07 08 09 10; do
      dep=none
      if ((10#$i % 3 != 1 && 10#$i != 10)); then dep=$(printf 'WP%02d' $((10#$i - 1))); fi
      printf '\n## WP%s: Package %s\n\n**Requirement Refs**: FR-001\n**Dependencies**: %s\n\n- [ ] T0%s do it\n' "$i" "$i" "$dep" "$i"
    done
  } >"$m/tasks.md"
  mkdir -p "$m/tasks"
  for i in 01 02 03 04 05 06 07 08 09 10; do
    local body="Build \`src/pkg$(((10#$i + 2) / 3))/part$i/\` (a new module)."
    [[ $i == 10 ]] && body="Write the findings in kitty-specs notes: research.md and plan.md."
    printf -- '---\nwork_package_id: WP%s\ntitle: Package %s\n---\n\n# WP%s: Package %s\n\n%s\n' \
      "$i" "$i" "$i" "$i" "$body" >"$m/tasks/WP$i-package-$i.md"
  done
}

# make_project DIR RUN: the 10-WP fixture of benches/cli.sh, made by RUN: git
# repo, pyproject + CHANGELOG tagged v0.1.0 (for release prep), `init`, one
# 10-WP mission `001-bench`. Tags: `pre` (tasks written, not finalized) and
# `post` (finalized). Returns to the directory it was called from.
make_project() {
  local d=$1 run=$2 m
  rm -rf "$d"
  mkdir -p "$d"
  cd "$d"
  git init -q .
  printf '[project]\nname = "demo"\nversion = "0.1.0"\n' >pyproject.toml
  printf '# Changelog\n\n## [Unreleased]\n\n### Added\n\n- the bench mission\n\n## [0.1.0] - 2026-01-01\n\n- first\n' >CHANGELOG.md
  git add -A && git commit -qm init && git tag v0.1.0
  "$run" init . --ai codex --non-interactive >/dev/null 2>&1
  "$run" agent mission create bench --json >/dev/null 2>&1
  m=$(ls -d kitty-specs/*-bench)
  write_wps_10 "$m"
  git add -A && git commit -qm tasks && git tag pre
  "$run" agent mission finalize-tasks --mission 001-bench --json >/dev/null 2>&1
  git add -A && git commit -qm finalized --allow-empty && git tag post
  git for-each-ref --format='%(refname:short)' refs/heads/ >.git/bench-branches
  cd - >/dev/null
}

# make_run_log FILE N AGENT: the `next` run log of N previous calls of `next
# --agent AGENT` (one decision line each, as `next` writes them, a second
# apart), made by awk instead of N real calls.
make_run_log() {
  mkdir -p "$(dirname "$1")"
  awk -v n="$2" -v agent="$3" 'BEGIN {
    for (i = 0; i < n; i++) {
      s = i % 86400
      printf "{\"agent\": \"%s\", \"at\": \"2026-01-%02dT%02d:%02d:%02d.%06d+00:00\", \"event\": \"decision\", \"kind\": \"step\", \"mission_state\": \"implement\", \"action\": \"implement\", \"wp_id\": \"WP%02d\"}\n",
        agent, 1 + int(i / 86400) % 28, int(s / 3600), int(s / 60) % 60, s % 60, i % 1000000, 1 + i % 10
    }
  }' >"$1"
}

# The N-WP mission of benches/scale.sh, in three steps (each committed):
#   scale_tasks DIR N RUN    a project made by RUN with one mission `001-big` of
#                            N code WPs in chains of 10 (dependencies and owned
#                            files in frontmatter, WP0001..), not finalized
#   scale_finalize DIR RUN   finalize-tasks
#   scale_auto_commit DIR    auto_commit: true in .kittify/config.yaml
# make_scale DIR N RUN does all three.
scale_tasks() {
  local d=$1 n=$2 run=$3 m
  mkdir -p "$d"
  (
    cd "$d"
    git init -q -b main .
    "$run" init . --ai codex --non-interactive >/dev/null 2>&1
    "$run" agent mission create big --json >/dev/null 2>&1
    m=$(ls -d kitty-specs/*-big)
    printf '# Spec\n\n| FR-001 | scale |\n' >"$m/spec.md"
    printf '# Work Packages\n\nDeclared in each WP file.\n' >"$m/tasks.md"
    # A plan, so `next` gets past the planning steps to the work packages.
    printf '# Plan\n\nBuild the parts, one chain of ten at a time.\n' >"$m/plan.md"
    mkdir -p "$m/tasks"
    awk -v n="$n" -v dir="$m/tasks" 'BEGIN {
      for (i = 1; i <= n; i++) {
        f = sprintf("%s/WP%04d-part-%d.md", dir, i, i)
        dep = (i % 10 == 1) ? "[]" : sprintf("\n- WP%04d", i - 1)
        printf "---\nwork_package_id: WP%04d\ntitle: Part %d\ndependencies: %s\nrequirement_refs:\n- FR-001\nowned_files:\n- src/chain%d/part%d/**\n---\n\n# Part %d\n\nBuild it.\n", i, i, dep, int((i - 1) / 10), i, i > f
        close(f)
      }
    }'
    git add -A && git commit -qm "$n WPs"
  )
}
scale_finalize() {
  (
    cd "$1"
    "$2" agent mission finalize-tasks --mission 001-big --json >/dev/null 2>&1
    git add -A && git commit -qm finalized
  )
}
scale_auto_commit() {
  (
    cd "$1"
    sed -i 's/^  auto_commit: false/  auto_commit: true/' .kittify/config.yaml
    grep -q '^  auto_commit: true' .kittify/config.yaml
    git add -A && git commit -qm "auto_commit: true"
  )
}
make_scale() {
  scale_tasks "$1" "$2" "$3"
  scale_finalize "$1" "$3"
  scale_auto_commit "$1"
}
