#!/usr/bin/env bash
# A project with N missions (437 is the upstream repository's count), for timing
# `agent mission list` and the dashboard's index as the missions pile up.
#
#   benches/make_many_missions.sh DIR N [BIN]
#
# BIN defaults to target/release/spec-kitty. The project is made by BIN: a git
# repo, `init`, then N missions made by `agent mission create` (so each
# meta.json is what a user's would be). Each mission gets a spec, a 5-WP
# tasks.md, five WP files and a status log of 25 events (every WP planned ->
# claimed -> in_progress -> for_review -> approved -> done, written as the
# status commands would). Everything is committed: the tree is clean, and no
# saved fold exists yet (the first listing is a cold one).
#
# Time it with benches/many_missions.sh, or by hand:
#   cd DIR && BIN agent mission list --json
set -euo pipefail
USAGE="make_many_missions.sh DIR N [BIN]"
# shellcheck source=benches/new_project.sh
source "$(dirname "$0")/new_project.sh"
for ((k = 1; k <= N; k++)); do
  "$BIN" agent mission create "mission-$k" --json >/dev/null
done
# Content for every mission in one awk run (N*7 files).
for m in kitty-specs/*/; do mkdir -p "$m/tasks"; done
ls -d kitty-specs/*/ | sed 's#/$##' | awk '
function out(f, s) { printf "%s", s > f; close(f) }
{
  m = $0; slug = m; sub(/^kitty-specs\//, "", slug)
  out(m "/spec.md", "# Spec\n\n| FR-001 | the thing |\n")
  t = "# Work Packages\n"
  for (i = 1; i <= 5; i++) {
    t = t sprintf("\n## WP%02d: Part %d\n\n**Requirement Refs**: FR-001\n**Dependencies**: %s\n\n- [x] T%03d do it\n", i, i, (i == 1 ? "none" : sprintf("WP%02d", i - 1)), i)
    out(sprintf("%s/tasks/WP%02d-part-%d.md", m, i, i), sprintf("---\nwork_package_id: WP%02d\ntitle: Part %d\ndependencies: %s\nrequirement_refs:\n- FR-001\nexecution_mode: code_change\nowned_files:\n- src/%s/part%d/**\n---\n\n# Part %d\n\nBuild it.\n", i, i, (i == 1 ? "[]" : sprintf("\n- WP%02d", i - 1)), slug, i, i))
  }
  out(m "/tasks.md", t)
  split("planned claimed in_progress for_review approved done", lane, " ")
  events = ""
  for (i = 1; i <= 5; i++) {
    for (k = 1; k <= 5; k++) {
      e++
      events = events sprintf("{\"actor\": \"bench\", \"at\": \"2026-01-01T%02d:%02d:%02d.000000+00:00\", \"event_id\": \"01KB%022d\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"%s\", \"mission_slug\": \"%s\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \"to_lane\": \"%s\", \"wp_id\": \"WP%02d\"}\n", int(e / 3600) % 24, int(e / 60) % 60, e % 60, e, lane[k], slug, lane[k + 1], i)
    }
  }
  out(m "/status.events.jsonl", events)
}'
git add -A && git commit -qm "$N missions"
