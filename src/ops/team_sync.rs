//! `agent mission sync-team`: the one safe sync of a mission between clones
//! of one repository (the Python tool's `sync` group is its hosted service;
//! this is plain git). In order, stopping at the first refusal:
//!
//! 1. refuse when a git merge/rebase is in progress or the index holds
//!    unmerged files (they are named; nothing is recorded or pushed);
//! 2. register the merge drivers (by this binary's absolute path), so the
//!    merge below unions event logs and activity logs;
//! 3. record the mission's own files (`kitty-specs/<mission>/`, what
//!    `agent mission record` commits; no other file is ever committed);
//! 4. `git fetch <remote>`;
//! 5. merge `<remote>/<branch>` into the current branch (`git merge`, so
//!    the drivers run); a conflict is named, left for the user to resolve,
//!    and nothing is pushed;
//! 6. bring the mission's local lane branches up to their remote ones when
//!    they only lack commits (git itself refuses a branch checked out in a
//!    worktree); a lane that diverged is named and nothing is pushed (a
//!    merged mission's lane branches are left alone);
//! 7. push the current branch and the mission's lane branches the remote
//!    lacks commits of (never forced).
//!
//! fetch, merge and push run the `git` program: it uses the user's credential
//! helpers and ssh setup and runs the registered merge drivers, which libgit2
//! does not. It never prompts and is stopped after a timeout
//! ([`crate::git::cli`]).

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::cli::{self, LOCAL_TIMEOUT, NETWORK_TIMEOUT};
use crate::git::remote::{self as gremote, Standing};
use crate::lanes::model::{lane_branch, LanesManifest, PLANNING_LANE};
use crate::mission::Mission;
use crate::project::Project;

/// One git step: the command and what came of it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub command: String,
    /// `done`, `skipped: <why>`, `would run` (dry run), or `failed`.
    pub outcome: String,
}

/// What a sync did (or, with `dry_run`, would do).
#[derive(Debug, Serialize)]
pub struct TeamSync {
    pub mission_slug: String,
    pub remote: String,
    pub branch: String,
    pub dry_run: bool,
    /// Merge drivers registered now (empty: they already were).
    pub drivers_registered: Vec<String>,
    /// The record commit (None: nothing to record, or a dry run).
    pub recorded_commit: Option<String>,
    /// The mission files recorded (dry run: that would be).
    pub recorded_files: Vec<String>,
    pub steps: Vec<Step>,
    /// Local lane branches moved up to their remote ones.
    pub lanes_updated: Vec<String>,
    /// Lane branches left as they are, and why.
    pub lanes_kept: Vec<String>,
    /// Branches pushed.
    pub pushed: Vec<String>,
}

/// The options of one sync.
pub struct Options<'a> {
    /// The remote; default: the current branch's upstream remote, else `origin`.
    pub remote: Option<&'a str>,
    pub dry_run: bool,
    /// This binary, named by the merge drivers registered in `.git/config`.
    pub exe: Option<&'a Path>,
}

fn git_err(e: impl Into<crate::git::GitError>) -> Error {
    Error::from(e.into())
}

/// The mission's branches: its lane branches and its mission branch. None
/// once the mission is merged: its lanes are on the target branch, and what a
/// clone's merge or `merge --clean-up` removed is not brought back.
fn mission_branches(mission: &Mission) -> Result<Vec<String>> {
    if mission.meta_str("merged_at").is_some() {
        return Ok(Vec::new());
    }
    let mut out = vec![format!("kitty/mission-{}", mission.slug)];
    if let Some(lanes) = LanesManifest::for_mission(mission)? {
        for lane in &lanes.lanes {
            if lane.lane_id != PLANNING_LANE && crate::ids::is_lane_id(&lane.lane_id) {
                out.push(lane_branch(&mission.slug, &lane.lane_id));
            }
        }
    }
    Ok(out)
}

struct Runner<'a> {
    root: &'a Path,
    steps: Vec<Step>,
}

impl Runner<'_> {
    /// Run `git ARGS`; a failure is returned with what git said.
    fn run(&mut self, args: &[&str], timeout: std::time::Duration) -> Result<cli::Ran> {
        let command = format!("git {}", args.join(" "));
        let ran = cli::run(self.root, args, timeout)?;
        self.steps.push(Step {
            command,
            outcome: if ran.success { "done" } else { "failed" }.into(),
        });
        Ok(ran)
    }

    fn plan(&mut self, command: String, outcome: &str) {
        self.steps.push(Step {
            command,
            outcome: outcome.into(),
        });
    }
}

fn said(ran: &cli::Ran) -> String {
    let text = if ran.stderr.trim().is_empty() {
        &ran.stdout
    } else {
        &ran.stderr
    };
    crate::shell::one_line(text)
}

fn conflict_error(files: &[String], what: &str) -> Error {
    Error::user(format!(
        "{what}: {} file(s) in conflict: {}; nothing was pushed",
        files.len(),
        files.join(", ")
    ))
    .with_hint("resolve them (a status log: `spec-kitty agent mission repair-status`), `git add` them and `git commit`, then run `spec-kitty agent mission sync-team` again; or `git merge --abort`")
    .with_details(serde_json::json!({ "conflicts": files }))
}

pub fn sync(project: &Project, mission: &Mission, opts: &Options<'_>) -> Result<TeamSync> {
    let repo = crate::merge::open_repository(project)?;
    let branch = crate::git::commit::current_branch(&repo).map_err(Error::from)?;
    let remote = match opts.remote {
        Some(r) => r.to_string(),
        None => gremote::upstream_of(&repo, &branch).unwrap_or_else(|| "origin".into()),
    };
    if !gremote::exists(&repo, &remote) {
        return Err(Error::user(format!(
            "no git remote named {:?} in this clone; nothing was recorded or pushed",
            crate::shell::one_line(&remote)
        ))
        .with_hint(
            "add one (`git remote add origin <url>`) or name it with --remote; see `git remote -v`",
        ));
    }
    // 1. never record, merge or push over an unfinished git operation.
    let unmerged = gremote::unmerged_paths(&repo).map_err(git_err)?;
    if !unmerged.is_empty() {
        return Err(conflict_error(&unmerged, "an unfinished git merge"));
    }
    if let Some(op) = gremote::operation_in_progress(&repo) {
        return Err(Error::user(format!(
            "a git {op} is in progress in this checkout; nothing was recorded or pushed"
        ))
        .with_hint(format!(
            "finish it (`git {op} --continue`, or `git commit` for a merge) or abort it (`git {op} --abort`), then run this again"
        )));
    }
    let mut out = TeamSync {
        mission_slug: mission.slug.clone(),
        remote: remote.clone(),
        branch: branch.clone(),
        dry_run: opts.dry_run,
        drivers_registered: Vec::new(),
        recorded_commit: None,
        recorded_files: Vec::new(),
        steps: Vec::new(),
        lanes_updated: Vec::new(),
        lanes_kept: Vec::new(),
        pushed: Vec::new(),
    };
    let branches = mission_branches(mission)?;
    let mut git = Runner {
        root: &project.root,
        steps: Vec::new(),
    };
    if opts.dry_run {
        let prefix = crate::git::commit::dir_prefix(&project.root, &mission.dir)?;
        let tree = repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .map_err(git_err)?;
        out.recorded_files = crate::git::commit::changed_under(&repo, Some(&tree), &prefix)?;
        if let Some(common) = &project.git_common_dir {
            out.drivers_registered = crate::status::drivers::missing(common, opts.exe)
                .into_iter()
                .map(String::from)
                .collect();
        }
        git.plan(format!("git fetch {remote}"), "would run");
        git.plan(
            format!("git merge --no-edit {remote}/{branch}"),
            "would run when the remote has commits this branch lacks",
        );
        for b in &branches {
            git.plan(
                format!("git fetch {remote} refs/heads/{b}:refs/heads/{b}"),
                "would run when the local lane branch only lacks the remote's commits",
            );
        }
        let mut push = vec![branch.clone()];
        push.extend(
            branches
                .iter()
                .filter(|b| crate::git::branch_tip(&repo, b).is_some())
                .cloned(),
        );
        git.plan(
            format!("git push {remote} {}", push.join(" ")),
            "would run for the branches the remote lacks commits of",
        );
        out.steps = git.steps;
        return Ok(out);
    }
    // 2. the drivers, so the merge unions the logs.
    if let Some(common) = &project.git_common_dir {
        out.drivers_registered = crate::status::drivers::ensure_registered(common, opts.exe)
            .map_err(Error::from)?
            .into_iter()
            .map(String::from)
            .collect();
    }
    // 3. the mission's own files, nothing else.
    let rec = crate::merge::record::record_mission(
        project,
        mission,
        None,
        &format!("Record mission {} state", mission.slug),
    )?;
    out.recorded_commit = rec.commit;
    out.recorded_files = rec.files;
    // 4. fetch.
    let ran = git.run(&["fetch", "--quiet", &remote], NETWORK_TIMEOUT)?;
    if !ran.success {
        out.steps = git.steps;
        return Err(Error::user(format!(
            "git fetch {remote} failed: {}; nothing was pushed",
            said(&ran)
        ))
        .with_hint("check the remote is reachable (`git fetch` by hand shows why); the mission's files are recorded and stay so"));
    }
    // 5. pull with merge.
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.target())
        .ok_or_else(|| Error::user(format!("{branch} has no commit yet")))?;
    match gremote::tracking_tip(&repo, &remote, &branch) {
        None => git.plan(
            format!("git merge --no-edit {remote}/{branch}"),
            "skipped: the remote has no such branch yet",
        ),
        Some(theirs) => match gremote::standing(&repo, head, theirs).map_err(git_err)? {
            Standing::Same | Standing::Ahead => git.plan(
                format!("git merge --no-edit {remote}/{branch}"),
                "skipped: nothing new on the remote",
            ),
            Standing::Behind | Standing::Diverged => {
                let target = format!("{remote}/{branch}");
                let ran = git.run(&["merge", "--no-edit", &target], LOCAL_TIMEOUT)?;
                if !ran.success {
                    let unmerged =
                        gremote::unmerged_paths(&crate::merge::open_repository(project)?)
                            .map_err(git_err)?;
                    if !unmerged.is_empty() {
                        return Err(conflict_error(
                            &unmerged,
                            &format!("merging {target} into {branch}"),
                        ));
                    }
                    return Err(Error::user(format!(
                        "git merge {target} failed: {}; nothing was pushed",
                        said(&ran)
                    ))
                    .with_hint(
                        "commit or stash the local changes git names, then run this again",
                    ));
                }
            }
        },
    }
    // 6. the mission's lane branches, up to their remote ones.
    let repo = crate::merge::open_repository(project)?;
    let mut diverged = Vec::new();
    let mut to_push = vec![branch.clone()];
    for b in &branches {
        let local = crate::git::branch_tip(&repo, b);
        let theirs = gremote::tracking_tip(&repo, &remote, b);
        let standing = match (local, theirs) {
            (None, None) => continue,
            (Some(_), None) => Standing::Ahead,
            (None, Some(_)) => Standing::Behind,
            (Some(l), Some(t)) => gremote::standing(&repo, l, t).map_err(git_err)?,
        };
        match standing {
            Standing::Same => {}
            Standing::Ahead => to_push.push(b.clone()),
            Standing::Diverged => diverged.push(b.clone()),
            Standing::Behind => {
                let spec = format!("refs/remotes/{remote}/{b}:refs/heads/{b}");
                // A fetch from this clone itself: git refuses a non-fast-forward
                // and a branch checked out in a worktree.
                let ran = git.run(&["fetch", "--quiet", ".", &spec], LOCAL_TIMEOUT)?;
                if ran.success {
                    out.lanes_updated.push(b.clone());
                } else {
                    out.lanes_kept.push(format!("{b}: {}", said(&ran)));
                }
            }
        }
    }
    if !diverged.is_empty() {
        out.steps = git.steps;
        return Err(Error::user(format!(
            "lane branch(es) with commits both here and on {remote}: {}; nothing was pushed",
            diverged.join(", ")
        ))
        .with_hint(format!(
            "in the lane's worktree, `git merge {remote}/<branch>` and resolve, then run this again"
        ))
        .with_details(serde_json::json!({ "diverged": diverged })));
    }
    // 7. push what the remote lacks.
    let head = repo.head().ok().and_then(|h| h.target());
    if let (Some(h), Some(t)) = (head, gremote::tracking_tip(&repo, &remote, &branch)) {
        if h == t {
            to_push.retain(|b| b != &branch);
        }
    }
    if to_push.is_empty() {
        git.plan(
            format!("git push {remote}"),
            "skipped: the remote has everything",
        );
    } else {
        let specs: Vec<String> = to_push
            .iter()
            .map(|b| format!("refs/heads/{b}:refs/heads/{b}"))
            .collect();
        let mut args = vec!["push", "--quiet", remote.as_str()];
        args.extend(specs.iter().map(String::as_str));
        let ran = git.run(&args, NETWORK_TIMEOUT)?;
        if !ran.success {
            out.steps = git.steps;
            return Err(Error::user(format!(
                "git push {remote} failed: {}",
                said(&ran)
            ))
            .with_hint("a teammate pushed in between: run `spec-kitty agent mission sync-team` again (it merges their work first)"));
        }
        out.pushed = to_push;
    }
    out.steps = git.steps;
    Ok(out)
}
