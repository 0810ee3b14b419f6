//! `merge` and `agent mission merge` as one operation: land the mission
//! ([`crate::merge`]), or finish an interrupted merge, then push the target to
//! its upstream when asked. Also the two ways a merge is pointed at its
//! mission besides `--mission`: a context token (`--context`) and the lane
//! worktree the command runs in (`--auto-retry`).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::merge::{self, Keep, MergeOptions, MergeReport};
use crate::mission::Mission;
use crate::project::Project;

/// What `merge` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    pub options: MergeOptions,
    /// Finish a merge that stopped part-way (`--continue`, `--resume`).
    pub resume: bool,
    /// After landing, push the target branch to its upstream.
    pub push: bool,
}

/// Where `--push` sent the target branch.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    pub remote: String,
    pub branch: String,
    /// The branch on the remote (the upstream's name; usually the same).
    pub remote_branch: String,
}

/// What a merge did, and what the push did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    #[serde(flatten)]
    pub report: MergeReport,
    pub push: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<Pushed>,
    /// `--push` with no remote to push to: why nothing was pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_skipped: Option<String>,
    /// The mission's lanes as lanes.json plans them (write scopes, lane
    /// dependencies, parallel groups), for the surfaces that show the plan.
    #[serde(skip)]
    pub planned_lanes: Vec<crate::lanes::ExecLane>,
}

/// Merge (or resume a merge), then push the target when asked. A dry run
/// pushes nothing. A failed push is an error carrying the merge report: the
/// merge itself stays done.
pub fn run(project: &Project, mission: &Mission, req: &MergeRequest) -> Result<MergeOutcome> {
    let report = if req.resume {
        merge::continue_merge(
            project,
            mission,
            Keep {
                worktrees: req.options.keep_worktrees,
                branches: req.options.keep_branches,
            },
        )?
    } else {
        merge::merge(project, mission, &req.options)?
    };
    let planned_lanes = crate::lanes::LanesManifest::for_mission(mission)
        .ok()
        .flatten()
        .map(|l| l.lanes)
        .unwrap_or_default();
    let mut out = MergeOutcome {
        report,
        push: req.push,
        pushed: None,
        push_skipped: None,
        planned_lanes,
    };
    if !req.push || out.report.dry_run {
        return Ok(out);
    }
    let repo = merge::open_repo(project)?;
    let target = out.report.target_branch.clone();
    let Some((remote, dest)) = repo.push_destination(&target) else {
        out.push_skipped = Some(format!(
            "{target} has no upstream and there is no remote named origin; nothing was pushed"
        ));
        return Ok(out);
    };
    if let Err(msg) = crate::git::remote::push_branch(&project.root, &remote, &target, &dest) {
        return Err(Error::user(format!(
            "merged {} into {target}, but pushing {target} to {remote} failed: {msg}",
            out.report.mission_slug
        ))
        .with_hint(format!(
            "the merge is complete locally; push it yourself with `git push {remote} {target}:{dest}` once the remote accepts it"
        ))
        .with_details(serde_json::to_value(&out).unwrap_or_default()));
    }
    out.pushed = Some(Pushed {
        remote,
        branch: target,
        remote_branch: dest,
    });
    Ok(out)
}

/// The most a context token file may hold.
const MAX_CONTEXT_BYTES: u64 = 64 * 1024;

/// A context token as `agent context resolve` / `context mission-resolve`
/// make them: `ctx-` and a ULID (letters and digits only).
pub fn valid_context_token(token: &str) -> bool {
    token.strip_prefix("ctx-").is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The mission a context token names: `mission_slug` of
/// `.kittify/runtime/contexts/<token>.json`.
pub fn mission_of_context(project: &Project, token: &str) -> Result<String> {
    if !valid_context_token(token) {
        return Err(Error::user(format!(
            "{:?} is not a context token (expected ctx- followed by letters and digits)",
            crate::shell::printable(token)
        ))
        .with_hint(
            "pass the token `spec-kitty context mission-resolve` printed, or use --mission <slug>",
        ));
    }
    let path = project
        .root
        .join(".kittify/runtime/contexts")
        .join(format!("{token}.json"));
    let text = crate::fsutil::read_capped(&path, MAX_CONTEXT_BYTES)?.ok_or_else(|| {
        Error::user(format!(
            "context token {token} not found: {} does not exist",
            path.display()
        ))
        .with_hint("create one with `spec-kitty context mission-resolve`, or use --mission <slug>")
    })?;
    let v: serde_json::Value = crate::bounds::json(&text).map_err(|e| {
        Error::user(format!("{}: not valid JSON: {e}", path.display()))
            .with_hint("delete the file and resolve the context again")
    })?;
    v.get("mission_slug")
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::user(format!(
                "{}: no mission_slug in the context",
                path.display()
            ))
            .with_hint("delete the file and resolve the context again")
        })
}

/// `--context` and `--mission` together must name the same mission; alone,
/// either selects it.
pub fn mission_selector(
    project: &Project,
    mission: Option<&str>,
    context: Option<&str>,
) -> Result<Option<String>> {
    let Some(token) = context else {
        return Ok(mission.map(str::to_string));
    };
    let from_context = mission_of_context(project, token)?;
    if let Some(m) = mission {
        let a = crate::mission::resolve(project, crate::mission::Selector::Given(m))?;
        let b = crate::mission::resolve(project, crate::mission::Selector::Given(&from_context))?;
        if a.slug != b.slug {
            return Err(Error::user(format!(
                "--mission {m} and --context {token} name different missions ({} and {})",
                a.slug, b.slug
            ))
            .with_hint("pass one of them"));
        }
    }
    Ok(Some(from_context))
}

/// A merge run from inside a lane worktree: with `--no-auto-retry` it is
/// refused (the reference's merge must run in the main checkout); otherwise
/// it goes on in the main checkout the worktree belongs to, and the returned
/// note says so.
pub fn check_location(project: &Project, auto_retry: Option<bool>) -> Result<Option<String>> {
    let Some(wt) = &project.worktree else {
        return Ok(None);
    };
    if auto_retry == Some(false) {
        return Err(Error::user(format!(
            "this runs in the lane worktree {}; --no-auto-retry merges only from the main checkout",
            wt.display()
        ))
        .with_hint(format!(
            "run it in {} (or drop --no-auto-retry to merge from there automatically)",
            project.root.display()
        )));
    }
    Ok(Some(format!(
        "run from the lane worktree {}: merging from the main checkout {}",
        wt.display(),
        project.root.display()
    )))
}
