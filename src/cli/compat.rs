//! Compatibility keys: the JSON keys the Python 3.1.1 prompts and skills tell an
//! agent to read, added alongside our own keys (a superset, never a rename), so a
//! team's installed slash commands keep working after switching binaries.
//!
//! This is the one place they are defined. Each command's JSON carries:
//!
//! | command | compatibility keys |
//! |---|---|
//! | `agent mission create`, `setup-plan`, `branch-context`, `check-prerequisites`, `agent context resolve` | the branch keys below |
//! | `agent mission check-prerequisites` | `valid`, `errors`, `warnings`, `paths{}`, `artifact_files{}`, `artifact_dirs{}`, `available_docs`, `FEATURE_DIR`, `AVAILABLE_DOCS`; with `--paths-only` also the flat paths and `SPEC_FILE`, `PLAN_FILE`, `TASKS_FILE`, `FEATURE_SPEC`, `IMPL_PLAN`, `TASKS`, `SPECS_DIR` |
//! | `agent mission create` | `write_mode` |
//! | `agent tasks move-task` | `success`, `task_id`, `old_lane`, `new_lane` |
//! | `agent tasks map-requirements` | `total_mappings`, `mission_number`, `mission_type`, `coverage{total_functional, mapped_functional (a count), unmapped_functional}` |
//! | `accept`, `agent mission accept` | `success`, `ok`, `all_done`, `mode`, `unchecked_tasks`, `missing_artifacts`, `git_dirty`, `warnings` |
//! | `agent release prep` | `repo`, `proposed_version`, `changelog_block`, `mission_slug_list`, `target_branch`, `structured_inputs{version, tag_name, release_title, release_notes_body, mission_slug_list}` |
//! | `agent context resolve` | `success`, `detection_method`, `wp_id`, `wp_file`, `lane`, `lane_id`, `branch_name`, `execution_mode`, `dependencies`, `workspace_path`, `commands{}`, `warnings` |
//! | `charter ...` | `success`, `interview_path`, `charter_path`, `mode`, `first_load`, `references_count`, `context`/`text` |
//!
//! The branch keys: `current_branch`, `target_branch`, `base_branch`,
//! `planning_base_branch`, `merge_target_branch`, `branch_matches_target`,
//! `branch_strategy_summary`, `target_branch_source`, their upper-case aliases
//! (`CURRENT_BRANCH`, `TARGET_BRANCH`, `BASE_BRANCH`, `PLANNING_BASE_BRANCH`,
//! `MERGE_TARGET_BRANCH`, `EXPECTED_TARGET_BRANCH`, `EXPECTED_BASE_BRANCH`,
//! `BRANCH_MATCHES_TARGET`), `runtime_vars{now_utc_iso, ...}`, `NOW_UTC_ISO` and
//! `branch_context{..., expected_checkout_branch, matches_target}`.

use serde_json::{json, Map, Value};

use crate::mission::branch::BranchContext;

/// The branch keys of `bc` (see the module docs).
pub fn branch_keys(bc: &BranchContext) -> Map<String, Value> {
    let now = crate::timefmt::now_iso_seconds_z();
    let t = &bc.target_branch;
    let current = &bc.current_branch;
    let matches = bc.matches_target();
    let summary = bc.summary();
    let v = json!({
        "current_branch": current,
        "CURRENT_BRANCH": current,
        "target_branch": t,
        "base_branch": t,
        "TARGET_BRANCH": t,
        "BASE_BRANCH": t,
        "planning_base_branch": t,
        "PLANNING_BASE_BRANCH": t,
        "merge_target_branch": t,
        "MERGE_TARGET_BRANCH": t,
        "EXPECTED_TARGET_BRANCH": t,
        "EXPECTED_BASE_BRANCH": t,
        "branch_matches_target": matches,
        "BRANCH_MATCHES_TARGET": matches,
        "branch_strategy_summary": summary,
        "target_branch_source": bc.source.as_str(),
        "runtime_vars": {
            "now_utc_iso": now,
            "current_branch": current,
            "target_branch": t,
            "base_branch": t,
            "planning_base_branch": t,
            "merge_target_branch": t,
            "branch_matches_target": matches,
            "branch_strategy_summary": summary,
        },
        "NOW_UTC_ISO": now,
        "branch_context": {
            "current_branch": current,
            "target_branch": t,
            "base_branch": t,
            "planning_base_branch": t,
            "merge_target_branch": t,
            "expected_checkout_branch": t,
            "matches_target": matches,
            "branch_strategy_summary": summary,
        },
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Add `extra` to the object `base`; keys `base` already has keep our value.
pub fn extend(base: &mut Value, extra: Map<String, Value>) {
    if let Value::Object(b) = base {
        for (k, v) in extra {
            b.entry(k).or_insert(v);
        }
    }
}
