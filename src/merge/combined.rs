//! The mission as it will land: its lanes merged together onto the target in
//! dependency order, computed the way `merge` computes it, without moving any
//! ref. `accept --test` runs its command on that commit.

use super::integrate::{self, Input, LaneInput, Outcome};
use super::{target_branch, CodeLane, MergeError, Strategy};
use crate::git::merge_tree::Committer;
use crate::git::{Oid, Repo};
use crate::lanes::LanesManifest;
use crate::mission::Mission;

type Result<T, E = MergeError> = std::result::Result<T, E>;

/// The commit the target would hold after the merge, or why there is none (a
/// lane without a branch, a conflict). Its objects are written to the
/// repository (unreferenced: git's garbage collection takes them later); no
/// ref moves.
pub(crate) fn combined_commit(
    repo: &Repo,
    mission: &Mission,
    lanes: &LanesManifest,
    code: &[CodeLane],
    tips: &[Option<Oid>],
) -> Result<std::result::Result<Oid, String>> {
    let mut inputs = Vec::new();
    for (lane, tip) in code.iter().zip(tips) {
        let Some(tip) = tip else {
            return Ok(Err(format!(
                "{}: branch {} does not exist, so the lanes cannot be combined",
                lane.lane_id, lane.branch
            )));
        };
        inputs.push(LaneInput {
            lane_id: lane.lane_id.clone(),
            branch: lane.branch.clone(),
            tip: *tip,
            wp_ids: lane.wp_ids.clone(),
        });
    }
    let target = target_branch(mission, Some(lanes));
    let Some(target_tip) = repo.branch_tip(&target) else {
        return Ok(Err(format!(
            "the target branch {target} does not exist, so the lanes have nothing to land on"
        )));
    };
    let mission_branch = mission.mission_branch();
    let sig = match repo.committer()? {
        Some(who) => who,
        None => Committer::now("spec-kitty", "spec-kitty@localhost")?,
    };
    let mission_tip = repo.branch_tip(&mission_branch);
    let input = Input {
        strategy: Strategy::Merge,
        mission_slug: &mission.slug,
        target_branch: &target,
        target_tip,
        mission_branch: &mission_branch,
        mission_tip,
        lanes: &inputs,
        sig: &sig,
    };
    // Computed in memory; only a clean result is written to the repository.
    repo.in_memory(|sim, pending| match integrate::integrate(sim, &input)? {
        Outcome::Clean(done) => {
            if !done.created.is_empty() {
                pending
                    .write()?
                    .map_err(|source| MergeError::WriteObjects { source })?;
            }
            Ok(Ok(done.target_after))
        }
        Outcome::Conflict(s) => Ok(Err(format!(
            "{} conflicts with {} in {}, so the lanes cannot be combined (see `spec-kitty merge --mission {} --dry-run`)",
            s.what,
            s.into,
            s.files.join(", "),
            mission.slug
        ))),
    })
}
