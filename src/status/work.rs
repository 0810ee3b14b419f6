//! The git evidence the lifecycle guards read: the commit a WP was claimed at,
//! the commit it was handed in at, whether its worktree holds uncommitted work,
//! which files it changed outside what it owns, and whether its work reached
//! the target branch.
//!
//! Claim and hand-in commits are recorded in the status events under extra
//! keys (`claim_commit`, `hand_in_commit`, `lane_branch`) that the reference
//! ignores on read, so its own tools keep reading the log.

use std::path::{Path, PathBuf};

use crate::git::{short12 as short, Oid, Repo};
use serde::Serialize;
use serde_json::{Map, Value};

use super::error::Result;
use super::model::{Lane, StatusEvent};
use crate::lanes::model::{lane_branch, worktree_path, LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;
use crate::tasks_md::ownership::{glob_match, literal_prefix};
use crate::tasks_md::WpFile;

/// Event keys (beyond the reference's fields) this module writes.
pub const CLAIM_COMMIT: &str = "claim_commit";
pub const HAND_IN_COMMIT: &str = "hand_in_commit";
pub const LANE_BRANCH: &str = "lane_branch";
pub const MERGED_COMMIT: &str = "merged_commit";

/// The heading of the WP body section that allows changes outside `owned_files`.
pub const ALLOWANCE_HEADING: &str = "## Scope allowance";

/// Where a code WP's work lives: its lane branch and worktree.
#[derive(Debug, Clone)]
pub struct LaneOf {
    pub branch: String,
    pub worktree: PathBuf,
}

/// The lane of a code WP, from lanes.json; None for planning work (the main
/// checkout) or a mission without lanes.json. A lanes.json that does not read,
/// or names another mission, is an error (the mission-checked loader every
/// command uses): a claim or a guard never acts on another mission's lanes.
pub fn lane_of(project: &Project, mission: &Mission, wp: &WpFile) -> Result<Option<LaneOf>> {
    if wp.is_planning_artifact() {
        return Ok(None);
    }
    let Some(lanes) = LanesManifest::for_mission_acting(project, mission)? else {
        return Ok(None);
    };
    let Some(lane) = lanes.lane_for_wp(&wp.id) else {
        return Ok(None);
    };
    if lane.lane_id == PLANNING_LANE {
        return Ok(None);
    }
    Ok(Some(LaneOf {
        branch: lane_branch(&mission.slug, &lane.lane_id),
        worktree: worktree_path(&project.root, &mission.slug, &lane.lane_id),
    }))
}

/// The mission's target branch: meta.json, then lanes.json (mission-checked,
/// as in [`lane_of`]), then `main`.
pub fn target_branch(project: &Project, mission: &Mission) -> Result<String> {
    if let Some(t) = mission.target_branch() {
        return Ok(t.to_string());
    }
    Ok(LanesManifest::for_mission_acting(project, mission)?
        .map(|l| l.target_branch.clone())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "main".into()))
}

/// The main checkout's repository, opened once per command and handed to the
/// guards below; None when the project is not a git repository (or git cannot
/// open it).
pub fn open(project: &Project) -> Option<Repo> {
    if !project.is_git() {
        return None;
    }
    Repo::open(&project.root).ok()
}

/// The `evidence.repos` entry recording a WP's approved commit.
pub fn approval_repos(branch: &str, commit: Oid) -> Value {
    serde_json::json!([{"repo": ".", "branch": branch, "commit": commit.to_string()}])
}

/// The commit a WP was approved at: the one recorded by its latest approval
/// (or done) event that recorded one.
pub fn approved_commit(events: &[StatusEvent], wp_id: &str) -> Option<Oid> {
    events
        .iter()
        .rev()
        .filter(|e| e.wp_id == wp_id && matches!(e.to_lane, Lane::Approved | Lane::Done))
        .find_map(|e| {
            let repos = e.evidence.as_ref()?.get("repos")?.as_array()?;
            repos.iter().find_map(|r| {
                r.get("commit")?
                    .as_str()
                    .and_then(|c| Oid::from_str(c).ok())
            })
        })
}

/// Refuse to review or approve a code WP whose latest recorded hand-in
/// commit this clone does not have: the reviewer would see no diff and
/// approve work it never saw. The error carries the exact fetch command
/// (the lane branch from the remote it tracks, else `origin`, else the
/// only remote).
///
/// `hand_in`: the WP's latest recorded hand-in commit (the status fold's
/// [`super::Roles::hand_in_commit`], or [`recorded`]'s last).
pub fn require_hand_in(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
    hand_in: Option<String>,
) -> Result<()> {
    let Some(commit) = hand_in else {
        return Ok(());
    };
    let Some(lane) = lane_of(project, mission, wp)? else {
        return Ok(());
    };
    let Some(repo) = repo else {
        return Ok(());
    };
    let present = Oid::from_str(&commit)
        .ok()
        .is_some_and(|oid| repo.has_commit(oid));
    if present {
        return Ok(());
    }
    let remotes: Vec<String> = repo.remote_names();
    let tracked = repo.upstream_remote(&lane.branch);
    let remote = tracked
        .filter(|r| remotes.contains(r))
        .or_else(|| remotes.iter().find(|r| *r == "origin").cloned())
        .or_else(|| (remotes.len() == 1).then(|| remotes[0].clone()))
        .filter(|r| {
            !r.starts_with('-')
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._/".contains(&b))
        })
        .unwrap_or_else(|| "<remote>".into());
    Err(super::StatusError::MissingHandIn {
        wp: wp.id.clone(),
        commit,
        fetch: format!("git fetch {remote} {}", lane.branch),
    })
}

/// The values of event key `key` recorded for `wp_id`, oldest first.
pub fn recorded(events: &[StatusEvent], wp_id: &str, key: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.wp_id == wp_id)
        .filter_map(|e| e.extra.get(key).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The keys to record when a WP is claimed: the tip of its lane branch (code
/// work) or HEAD of the main checkout (planning work).
pub fn claim_keys(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    let Some(repo) = repo else {
        return Ok(m);
    };
    match lane_of(project, mission, wp)? {
        Some(lane) => {
            if let Some(tip) = repo.branch_tip(&lane.branch) {
                m.insert(CLAIM_COMMIT.into(), tip.to_string().into());
                m.insert(LANE_BRANCH.into(), lane.branch.into());
            }
        }
        None => {
            if let Some(head) = repo.head_commit() {
                m.insert(CLAIM_COMMIT.into(), head.to_string().into());
            }
        }
    }
    Ok(m)
}

/// What the hand-in guard found.
#[derive(Debug, Clone, Default)]
pub struct HandIn {
    /// Why the work is not there yet, and the command that fixes it.
    pub problem: Option<(String, String)>,
    /// Things the move goes ahead despite (uncommitted files outside the WP).
    pub warnings: Vec<String>,
    /// Keys for the for_review event.
    pub keys: Map<String, Value>,
}

fn owns(owned: &[String], path: &str) -> bool {
    owned.is_empty() || owned.iter().any(|g| glob_match(g, path))
}

/// Check a code WP's hand-in: a commit on its lane branch since its latest
/// claim, and no uncommitted change to the files it owns. Planning work (in the
/// main checkout) has nothing to check here. `claim`: its latest recorded
/// claim commit ([`super::Roles::claim_commit`]).
pub fn hand_in(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
    claim: Option<String>,
) -> Result<HandIn> {
    let mut out = HandIn::default();
    let Some(lane) = lane_of(project, mission, wp)? else {
        return Ok(out);
    };
    let (id, slug) = (&wp.id, &mission.slug);
    let implement =
        format!("spec-kitty agent action implement {id} --mission {slug} --agent <you>");
    let Some(repo) = repo else {
        out.problem = Some((
            format!(
                "{} is not a git repository, so {id} has no lane branch",
                project.root.display()
            ),
            "run `git init` and commit, or mark the WP execution_mode: planning_artifact".into(),
        ));
        return Ok(out);
    };
    let Some(tip) = repo.branch_tip(&lane.branch) else {
        out.problem = Some((
            format!(
                "lane branch {} does not exist, so there is no work to review",
                lane.branch
            ),
            format!("start it with `{implement}`, commit the work there, then hand it in"),
        ));
        return Ok(out);
    };
    let wt = lane.worktree.display().to_string();
    let commit_cmd =
        format!("commit the work: `git -C {wt} add -A && git -C {wt} commit -m \"{id}: ...\"`");
    if lane.worktree.exists() {
        let owned = wp.owned_files();
        let (inside, outside) = dirty_paths(&lane.worktree, &owned)?;
        if !inside.is_empty() {
            out.problem = Some((
                format!(
                    "{wt} has uncommitted changes to files {id} owns: {}",
                    inside.join(", ")
                ),
                commit_cmd.clone(),
            ));
            return Ok(out);
        }
        if !outside.is_empty() {
            out.warnings.push(format!(
                "{wt} has uncommitted changes outside the files {id} owns; they are not handed in: {}",
                outside.join(", ")
            ));
        }
    }
    match &claim {
        Some(c) if c == &tip.to_string() => {
            out.problem = Some((
                format!(
                    "no commit on {} since {id} was claimed at {}",
                    lane.branch,
                    short(c)
                ),
                commit_cmd.clone(),
            ));
            return Ok(out);
        }
        Some(_) => {}
        None => {
            // Claimed without a recorded commit (plain move-task, or another
            // tool): the lane must at least be ahead of the target.
            let target = target_branch(project, mission)?;
            let ahead = match repo.branch_tip(&target) {
                Some(t) => repo
                    .merge_base_and_ahead(tip, t)
                    .ok()
                    .flatten()
                    .map(|(_, a)| a)
                    .unwrap_or(0),
                None => 1,
            };
            if ahead == 0 {
                out.problem = Some((
                    format!("{} has no commit beyond {target}", lane.branch),
                    commit_cmd.clone(),
                ));
                return Ok(out);
            }
        }
    }
    if let Some(c) = claim {
        out.keys.insert(CLAIM_COMMIT.into(), c.into());
    }
    out.keys
        .insert(HAND_IN_COMMIT.into(), tip.to_string().into());
    out.keys.insert(LANE_BRANCH.into(), lane.branch.into());
    Ok(out)
}

/// Uncommitted paths of a worktree, split into those the WP owns and the rest.
fn dirty_paths(worktree: &Path, owned: &[String]) -> Result<(Vec<String>, Vec<String>)> {
    let repo = Repo::open(worktree)?;
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for p in repo.uncommitted_paths()? {
        if owns(owned, &p) {
            inside.push(p);
        } else {
            outside.push(p);
        }
    }
    Ok((inside, outside))
}

/// Why approved work cannot be `done` yet (None when it can): a code WP's
/// handed-in commit must be in the target branch; a planning WP's owned files
/// must be in the main checkout. `hand_in`: its latest recorded hand-in
/// commit ([`super::Roles::hand_in_commit`]).
pub fn merge_problem(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
    hand_in: Option<String>,
) -> Result<Option<(String, String)>> {
    let slug = &mission.slug;
    let merge = format!("merge it: `spec-kitty merge --mission {slug}`");
    let target = target_branch(project, mission)?;
    Ok(match lane_of(project, mission, wp)? {
        Some(lane) => {
            let Some(repo) = repo else {
                return Ok(Some(("the project is not a git repository".into(), merge)));
            };
            let work = hand_in
                .and_then(|c| Oid::from_str(&c).ok())
                .or_else(|| repo.branch_tip(&lane.branch));
            let Some(work) = work else {
                return Ok(Some((
                    format!("lane branch {} does not exist", lane.branch),
                    merge,
                )));
            };
            let Some(t) = repo.branch_tip(&target) else {
                return Ok(Some((
                    format!("target branch {target} does not exist"),
                    merge,
                )));
            };
            let merged = repo.contains(t, work).unwrap_or(false);
            (!merged).then(|| {
                (
                    format!(
                        "its work ({} on {}) is not merged into {target}",
                        short(&work.to_string()),
                        lane.branch
                    ),
                    merge,
                )
            })
        }
        None => {
            let owned = wp.owned_files();
            let missing: Vec<&String> = owned
                .iter()
                .filter(|g| !present(&project.root, g))
                .collect();
            (!missing.is_empty()).then(|| {
                (
                    format!(
                        "its files are not in the main checkout: {}",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!("write and commit them in {}", project.root.display()),
                )
            })
        }
    })
}

/// A file matching `glob` exists under `root`.
fn present(root: &Path, glob: &str) -> bool {
    let prefix = literal_prefix(glob);
    if !glob.contains(['*', '?', '[']) {
        return root.join(glob).exists();
    }
    let start = root.join(prefix);
    let mut stack = vec![start];
    let mut seen = 0usize;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > 100_000 {
                return false;
            }
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(root) {
                if glob_match(glob, &rel.to_string_lossy().replace('\\', "/")) {
                    return true;
                }
            }
        }
    }
    false
}

/// The globs a WP's `## Scope allowance` section allows beyond `owned_files`:
/// the first word of each `- ` item (backticks stripped), the rest is the why.
pub fn scope_allowance(wp: &WpFile) -> Vec<String> {
    let text = std::fs::read_to_string(&wp.path).unwrap_or_default();
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("## ") {
            inside = line.trim_end() == ALLOWANCE_HEADING;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(item) = line.trim_start().strip_prefix("- ") {
            if let Some(word) = item.split_whitespace().next() {
                let g = word.trim_matches('`').trim_end_matches([':', ',']);
                if !g.is_empty() {
                    out.push(g.trim_matches('`').to_string());
                }
            }
        }
    }
    out
}

/// A WP's changes as a reviewer sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    pub wp_id: String,
    /// The earliest recorded claim commit and the latest hand-in commit.
    pub claim_commit: String,
    pub hand_in_commit: String,
    pub changed: Vec<String>,
    /// Changed files matching neither `owned_files` nor the allowance.
    pub out_of_scope: Vec<String>,
    /// Changed files outside `owned_files` that the allowance covers.
    pub allowed: Vec<String>,
}

/// The range of a WP's own commits: its earliest recorded claim commit to its
/// latest hand-in commit (None when either was never recorded).
pub fn wp_range(events: &[StatusEvent], wp_id: &str) -> Option<(String, String)> {
    let claim = recorded(events, wp_id, CLAIM_COMMIT).into_iter().next()?;
    let hand_in = recorded(events, wp_id, HAND_IN_COMMIT).pop()?;
    Some((claim, hand_in))
}

/// Files changed between two commits.
pub fn changed_files(repo: &Repo, from: Oid, to: Oid) -> Result<Vec<String>> {
    Ok(repo.changed_paths(from, to)?)
}

/// Files the WP's own commits change: the non-merge commits of claim..hand-in
/// that neither the target branch nor another lane of the mission holds (work
/// merged in from a dependency lane is that lane's, not this WP's).
fn own_changes(
    repo: &Repo,
    mission: &Mission,
    wp: &WpFile,
    project: &Project,
    from: Oid,
    to: Oid,
) -> Result<Vec<String>> {
    let own = lane_of(project, mission, wp)?.map(|l| l.branch);
    let prefix = format!("kitty/mission-{}-", mission.slug);
    let target: Vec<Oid> = repo
        .branch_tip(&target_branch(project, mission)?)
        .into_iter()
        .collect();
    Ok(repo.own_commit_changes(from, to, &target, &prefix, own.as_deref())?)
}

/// The scope of a code WP's handed-in work (None for planning work or when no
/// claim..hand-in range was recorded).
pub fn scope(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
    events: &[StatusEvent],
) -> Result<Option<Scope>> {
    scope_of_range(repo, project, mission, wp, wp_range(events, &wp.id))
}

/// [`scope`] of the recorded range `(claim, hand_in)` ([`wp_range`], or the
/// saved fold's [`Roles::first_claim_commit`] and [`Roles::hand_in_commit`]).
///
/// [`Roles::first_claim_commit`]: super::Roles::first_claim_commit
/// [`Roles::hand_in_commit`]: super::Roles::hand_in_commit
pub fn scope_of_range(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    wp: &WpFile,
    range: Option<(String, String)>,
) -> Result<Option<Scope>> {
    if wp.is_planning_artifact() {
        return Ok(None);
    }
    let Some((claim, hand_in)) = range else {
        return Ok(None);
    };
    let Some(repo) = repo else {
        return Ok(None);
    };
    let (Ok(from), Ok(to)) = (Oid::from_str(&claim), Oid::from_str(&hand_in)) else {
        return Ok(None);
    };
    if !repo.has_commit(from) || !repo.has_commit(to) {
        return Ok(None);
    }
    let changed = own_changes(repo, mission, wp, project, from, to)?;
    let owned = wp.owned_files();
    let allowance = scope_allowance(wp);
    let mut out_of_scope = Vec::new();
    let mut allowed = Vec::new();
    for f in &changed {
        if owned.is_empty() || owned.iter().any(|g| glob_match(g, f)) {
            continue;
        }
        if allowance.iter().any(|g| glob_match(g, f)) {
            allowed.push(f.clone());
        } else {
            out_of_scope.push(f.clone());
        }
    }
    Ok(Some(Scope {
        wp_id: wp.id.clone(),
        claim_commit: claim,
        hand_in_commit: hand_in,
        changed,
        out_of_scope,
        allowed,
    }))
}

/// Who took a WP for implementation: the actor of its latest claim (the move to
/// `claimed`, or straight to `in_progress` from planned). A review sending it
/// back keeps the claim with the implementer.
pub fn claimant(events: &[StatusEvent], wp_id: &str) -> Option<String> {
    let mut last: Option<&StatusEvent> = None;
    for e in events.iter().filter(|e| e.wp_id == wp_id) {
        if e.to_lane == Lane::Claimed
            || (e.to_lane == Lane::InProgress && matches!(e.from_lane, Lane::Planned))
        {
            last = Some(e);
        }
    }
    last.map(|e| e.actor.clone())
}

/// Everyone who implemented a WP: the actors of its claims (`claimed`, or
/// `in_progress` from planned, claimed or blocked) and of its hand-ins
/// (`for_review`). After two clones claimed the same WP and the conflict was
/// settled, both are implementers: neither reviews it. Tools' placeholder
/// actors (`implement-command`, an empty actor, and `user` on a hand-in) bind
/// nobody.
pub fn implementers(events: &[StatusEvent], wp_id: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| e.wp_id == wp_id) {
        let claim = e.to_lane == Lane::Claimed
            || (e.to_lane == Lane::InProgress
                && matches!(e.from_lane, Lane::Planned | Lane::Claimed | Lane::Blocked));
        let hand_in = e.to_lane == Lane::ForReview && e.actor != "user";
        if (claim || hand_in)
            && !e.actor.trim().is_empty()
            && e.actor != "implement-command"
            && !out.contains(&e.actor)
        {
            out.push(e.actor.clone());
        }
    }
    out
}

/// A review that sent a WP back and is still waiting for its rework: the
/// latest move from a review lane (`for_review`, `in_review`, `approved`) back
/// to `planned`, `claimed` or `in_progress`, with no hand-in since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentBack {
    /// The reviewer who sent it back.
    pub by: String,
    pub at: String,
    /// The review feedback (`--review-feedback`), else the move's note.
    pub feedback: String,
}

/// "Changes requested" for a WP: the review that sent it back, while its
/// rework has not been handed in again (see [`SentBack`]).
pub fn changes_requested(events: &[StatusEvent], wp_id: &str) -> Option<SentBack> {
    let mut out = None;
    for e in events.iter().filter(|e| e.wp_id == wp_id) {
        let sent_back = matches!(
            e.from_lane,
            Lane::ForReview | Lane::InReview | Lane::Approved
        ) && matches!(e.to_lane, Lane::Planned | Lane::Claimed | Lane::InProgress);
        if sent_back {
            let feedback = e
                .review_ref
                .as_deref()
                .or(e.reason.as_deref())
                .unwrap_or_default()
                .trim()
                .to_string();
            out = Some(SentBack {
                by: e.actor.clone(),
                at: e.at.clone(),
                feedback,
            });
        } else if matches!(
            e.to_lane,
            Lane::ForReview | Lane::Approved | Lane::Done | Lane::Canceled
        ) {
            out = None;
        }
    }
    out
}

/// The hand-in commit before the latest one, when a review sent the WP back
/// in between: where a second review's diff starts (the rework since).
pub fn previous_hand_in(events: &[StatusEvent], wp_id: &str) -> Option<String> {
    let mut hand_ins: Vec<String> = Vec::new();
    let mut sent_back_since_last = false;
    let mut previous = None;
    for e in events.iter().filter(|e| e.wp_id == wp_id) {
        if let Some(c) = e.extra.get(HAND_IN_COMMIT).and_then(Value::as_str) {
            if sent_back_since_last {
                previous = hand_ins.last().cloned();
            }
            hand_ins.push(c.to_string());
            sent_back_since_last = false;
        }
        if matches!(
            e.from_lane,
            Lane::ForReview | Lane::InReview | Lane::Approved
        ) && matches!(e.to_lane, Lane::Planned | Lane::Claimed | Lane::InProgress)
        {
            sent_back_since_last = true;
        }
    }
    previous.filter(|p| hand_ins.last() != Some(p))
}

/// How many of a WP's review feedbacks a prompt quotes.
pub const FEEDBACK_QUOTED: usize = 3;

/// The feedback of the reviews that sent a WP back, oldest first (at most the
/// last [`FEEDBACK_QUOTED`]): `(reviewer, time, text)`.
pub fn review_feedback(events: &[StatusEvent], wp_id: &str) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = events
        .iter()
        .filter(|e| {
            e.wp_id == wp_id
                && matches!(
                    e.from_lane,
                    Lane::ForReview | Lane::InReview | Lane::Approved
                )
                && matches!(e.to_lane, Lane::Planned | Lane::InProgress)
        })
        .filter_map(|e| {
            let text = e.review_ref.as_deref()?.trim();
            (!text.is_empty()).then(|| (e.actor.clone(), e.at.clone(), text.to_string()))
        })
        .collect();
    let skip = out.len().saturating_sub(FEEDBACK_QUOTED);
    out.drain(..skip);
    out
}

/// A WP whose handed-in work changes files outside what it owns (and outside
/// its recorded allowance).
#[derive(Debug, Clone, Serialize)]
pub struct ScopeFinding {
    pub wp_id: String,
    pub wp_file: PathBuf,
    pub files: Vec<String>,
}

/// Every non-canceled WP of the mission with out-of-scope changes.
pub fn out_of_scope(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
) -> Result<Vec<ScopeFinding>> {
    if !mission.tasks_dir().is_dir() {
        return Ok(Vec::new());
    }
    // The saved fold plus the new lines: the lanes and each WP's recorded
    // range, never the whole log.
    let (snap, roles) = super::StatusStore::for_mission(project, mission).state()?;
    let mut out = Vec::new();
    for wp in crate::tasks_md::wp::load_all(&mission.tasks_dir())? {
        if snap.lane_of(&wp.id) == Some(Lane::Canceled) {
            continue;
        }
        let range = roles
            .get(&wp.id)
            .and_then(|r| Some((r.first_claim_commit.clone()?, r.hand_in_commit.clone()?)));
        if let Some(s) = scope_of_range(repo, project, mission, &wp, range)? {
            if !s.out_of_scope.is_empty() {
                out.push(ScopeFinding {
                    wp_id: wp.id.clone(),
                    wp_file: wp.path.clone(),
                    files: s.out_of_scope,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod typed_error_tests {
    use super::*;
    use crate::status::StatusError;

    #[test]
    fn a_missing_commit_is_a_typed_status_error_that_keeps_git2() {
        use std::error::Error as _;
        let tmp = tempfile::tempdir().unwrap();
        git2::Repository::init(tmp.path()).unwrap();
        let repo = Repo::open(tmp.path()).unwrap();
        let zero = Oid::from_str("1111111111111111111111111111111111111111").unwrap();
        let e = changed_files(&repo, zero, zero).unwrap_err();
        let StatusError::Git(g) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(g.code(), Some(git2::ErrorCode::NotFound));
        let lib = crate::Error::from(e);
        assert!(lib.message.starts_with("git: "), "{}", lib.message);
        assert!(lib.source().unwrap().source().is_some(), "git2 kept inside");
    }
}
