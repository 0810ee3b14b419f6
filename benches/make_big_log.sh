#!/usr/bin/env bash
# A project whose one 10-WP mission (001-bench) has a status log of N events,
# for timing `agent tasks status` and `next --json` as the history grows.
#
#   benches/make_big_log.sh DIR N [BIN]
#
# BIN defaults to target/release/spec-kitty. The project is made by BIN (git
# repo, `init`, the mission, 10 WP files, `finalize-tasks`), then the log is
# rewritten as N synthetic events (WP01..WP10 cycled through planned ->
# claimed -> in_progress -> for_review -> planned, at 2026-01-01 times, ULID-
# shaped increasing event ids) followed by the finalize bootstrap events, so
# every WP is planned again at the end and `next` hands WP01 out. Everything
# is committed: the tree is clean.
#
# Time it with benches/status_scale.sh, or by hand:
#   cd DIR && /usr/bin/time -v BIN agent tasks status --mission 001-bench
set -euo pipefail
USAGE="make_big_log.sh DIR N [BIN]"
# shellcheck source=benches/new_project.sh
source "$(dirname "$0")/new_project.sh"
"$BIN" agent mission create bench --json >/dev/null 2>&1
m=kitty-specs/001-bench
printf '# Spec\n\n| FR-001 | the thing |\n' >"$m/spec.md"
printf '# Plan\n\nTen packages.\n' >"$m/plan.md"
{
  echo "# Work Packages"
  for i in 01 02 03 04 05 06 07 08 09 10; do
    printf '\n## WP%s: Package %s\n\n**Requirement Refs**: FR-001\n**Dependencies**: none\n\n- [ ] T0%s do it\n' "$i" "$i" "$i"
  done
} >"$m/tasks.md"
mkdir -p "$m/tasks"
for i in 01 02 03 04 05 06 07 08 09 10; do
  printf -- '---\nwork_package_id: WP%s\ntitle: Package %s\n---\n\n# WP%s: Package %s\n\nBuild `src/part%s/` (a new module).\n' \
    "$i" "$i" "$i" "$i" "$i" >"$m/tasks/WP$i-package-$i.md"
done
git add -A && git commit -qm tasks
"$BIN" agent mission finalize-tasks --mission 001-bench --json >/dev/null 2>&1
log="$m/status.events.jsonl"
mv "$log" "$DIR/.bootstrap"
awk -v n="$N" -v slug=001-bench 'BEGIN {
  split("planned claimed in_progress for_review", lane, " ")
  for (i = 0; i < n; i++) {
    wp = i % 10 + 1; k = int(i / 10) % 4
    printf "{\"actor\": \"bench\", \"at\": \"2026-01-01T%02d:%02d:%02d.%06d+00:00\", \"event_id\": \"01KB%022d\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"%s\", \"mission_slug\": \"%s\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \"to_lane\": \"%s\", \"wp_id\": \"WP%02d\"}\n", int(i / 3600000000) % 24, int(i / 60000000) % 60, int(i / 1000000) % 60, i % 1000000, i, lane[k + 1], slug, lane[(k + 1) % 4 + 1], wp
  }
}' >"$log"
cat "$DIR/.bootstrap" >>"$log"
rm "$DIR/.bootstrap"
"$BIN" agent status materialize --mission 001-bench >/dev/null 2>&1 || true
git add -A && git commit -qm "history of $N events" --allow-empty
