//! `agent action review [WP] [--checkout]`: take a review and, when asked,
//! give the reviewer a runnable tree of exactly what was handed in: the
//! hand-in commit checked out (detached) in a scratch worktree
//! `.worktrees/<mission>-review-<WP>`, never the implementer's lane worktree.

use std::path::PathBuf;

use crate::error::{Diagnose, Kind};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{work, StatusStore};
use crate::workspace::action::{self, Handoff};
use crate::workspace::scratch::{Scratch, ScratchError};

use super::OpError;

/// A review taken, and where its hand-in is checked out (with `--checkout`).
#[derive(Debug)]
pub struct Review {
    pub handoff: Handoff,
    pub checkout: Option<Checkout>,
}

/// The scratch worktree holding the hand-in commit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Checkout {
    pub path: PathBuf,
    pub commit: String,
}

/// Why there is nothing to check out.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(
        "{wp} is planning work: it was done in the main checkout, so review it there ({root})"
    )]
    Planning { wp: String, root: String },
    #[error(
        "cannot name a checkout after work package {wp:?} of mission {slug:?}: not a valid id"
    )]
    BadId { wp: String, slug: String },
    #[error(
        "{wp} has no recorded hand-in commit and its lane branch {branch} does not exist here"
    )]
    NoCommit { wp: String, branch: String },
}

impl Diagnose for CheckoutError {
    fn kind(&self) -> Kind {
        Kind::User
    }
    fn hint(&self) -> Option<String> {
        match self {
            CheckoutError::Planning { .. } => Some(
                "run the tests in the main checkout; --checkout is for code work packages".into(),
            ),
            CheckoutError::BadId { .. } => {
                Some("work package ids look like WP01 and mission slugs like 001-name".into())
            }
            CheckoutError::NoCommit { branch, .. } => Some(format!(
                "fetch the lane branch first (`git fetch <remote> {branch}:{branch}`)"
            )),
        }
    }
}

impl From<ScratchError> for OpError {
    fn from(e: ScratchError) -> Self {
        match e {
            ScratchError::Git(g) => crate::workspace::WorkspaceError::from(g).into(),
            ScratchError::Confine(c) => c.into(),
            ScratchError::Fs(f) => f.into(),
        }
    }
}

/// Take the review of `wp_id` (or the next one waiting) for `agent`; with
/// `checkout`, also check its hand-in commit out in a scratch worktree (made
/// afresh each time) and name it in the review prompt.
pub fn review(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
    checkout: bool,
) -> Result<Review, crate::Error> {
    // A planning WP has no hand-in tree: refused before the review is taken.
    if let (true, Some(id)) = (checkout, wp_id) {
        let file = crate::status::ops::find_wp(mission, id)?;
        if file.is_planning_artifact() {
            return Err(CheckoutError::Planning {
                wp: file.id.clone(),
                root: project.root.display().to_string(),
            }
            .into());
        }
    }
    let mut handoff = action::review(project, mission, wp_id, agent)?;
    if !checkout {
        return Ok(Review {
            handoff,
            checkout: None,
        });
    }
    let c = check_out_hand_in(project, mission, &handoff.wp_id)?;
    handoff.prompt.push_str(&format!(
        "\nA runnable checkout of this hand-in ({}) is at {}: build it and run the tests there (it is yours to dirty; the next --checkout replaces it).\n",
        crate::git::short12(&c.commit),
        c.path.display()
    ));
    crate::fsutil::write_private(&handoff.prompt_file, handoff.prompt.as_bytes())
        .map_err(OpError::from)?;
    Ok(Review {
        handoff,
        checkout: Some(c),
    })
}

/// Check out the hand-in commit of `wp_id` (the lane branch's tip when no
/// hand-in was recorded) in `.worktrees/<mission>-review-<WP>`.
pub fn check_out_hand_in(
    project: &Project,
    mission: &Mission,
    wp_id: &str,
) -> Result<Checkout, crate::Error> {
    let file = crate::status::ops::find_wp(mission, wp_id)?;
    // The ids name a path and a worktree: validated first.
    if !crate::ids::is_wp_id(&file.id) || !crate::ids::is_mission_slug(&mission.slug) {
        return Err(CheckoutError::BadId {
            wp: file.id.clone(),
            slug: mission.slug.clone(),
        }
        .into());
    }
    if file.is_planning_artifact() {
        return Err(CheckoutError::Planning {
            wp: file.id.clone(),
            root: project.root.display().to_string(),
        }
        .into());
    }
    let (_, _, mut roles) = StatusStore::for_mission(project, mission).snapshot_with_roles()?;
    let hand_in = roles.remove(&file.id).and_then(|r| r.hand_in_commit);
    let repo = crate::merge::open_repo(project)?;
    work::require_hand_in(Some(&repo), project, mission, &file, hand_in.clone())?;
    let lanes = crate::workspace::require_lanes(project, mission)?;
    let branch = lanes
        .lane_for_wp(&file.id)
        .map(|l| lanes.lane_branch(&l.lane_id))
        .unwrap_or_default();
    let commit = hand_in
        .and_then(|c| crate::git::Oid::from_str(&c).ok())
        .or_else(|| repo.branch_tip(&branch))
        .ok_or_else(|| CheckoutError::NoCommit {
            wp: file.id.clone(),
            branch: branch.clone(),
        })?;
    let name = format!("{}-review-{}", mission.slug, file.id);
    let scratch = Scratch::create(project, &name, commit).map_err(OpError::from)?;
    Ok(Checkout {
        path: scratch.keep(),
        commit: commit.to_string(),
    })
}
