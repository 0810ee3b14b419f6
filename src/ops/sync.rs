//! `sync ...`: the reference's hosted-sync group, answered locally.
//!
//! This build has no hosted sync and never sends anything anywhere: teams
//! share mission state through git (commit, pull, push; see the README,
//! "Working as a team through git"). So the upload queue is always empty,
//! the daemon never runs, and with `SPEC_KITTY_ENABLE_SAAS_SYNC` set every
//! step that would need the hosted service is refused with that reason.
//! What is local works either way: the server URL in
//! `~/.spec-kitty/config.toml` (shared with `auth`), the stored login's
//! expiry, and `sync workspace`, which brings a lane worktree up to date with
//! its mission's target branch by a merge (never a rebase, never a fetch).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::auth::AuthHome;
use crate::error::{Error, Result};
use crate::git::catch_up::RepoState;
use crate::git::merge_commit::Merged;
use crate::git::Repo;
use crate::project::Project;

/// The reference's words for the switched-off service.
pub const DISABLED: &str =
    "SaaS sync is disabled by feature flag. Set SPEC_KITTY_ENABLE_SAAS_SYNC=1 to enable.";

/// Why a step that needs the hosted service is refused with the flag on.
pub fn no_hosted_service(what: &str) -> Error {
    Error::user(format!(
        "{what} needs the hosted sync service, which this build does not use: it syncs teams through git and sends nothing anywhere"
    ))
    .with_hint("share mission state by committing, pulling and pushing the project (README: \"Working as a team through git\"); unset SPEC_KITTY_ENABLE_SAAS_SYNC to silence this")
}

/// Settings from the environment (read through `crate::env`).
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub saas_enabled: bool,
    pub auth: AuthHome,
}

impl SyncSettings {
    pub fn from_env() -> Result<SyncSettings> {
        Ok(SyncSettings {
            saas_enabled: crate::env::saas_sync_enabled(),
            auth: AuthHome::from_env()?,
        })
    }
}

/// The stored login, as far as this machine knows (nothing is asked of a server).
#[derive(Debug, Clone, Serialize)]
pub struct LocalAuth {
    pub username: String,
    pub team_slug: Option<String>,
    pub access_expires_at: String,
    pub access_valid: bool,
    pub refresh_expires_at: String,
    pub refresh_valid: bool,
}

fn local_auth(home: &AuthHome) -> Result<Option<LocalAuth>> {
    Ok(crate::auth::load(home)?.map(|c| LocalAuth {
        access_valid: c.access_seconds_left() > 0,
        refresh_valid: c.refresh_seconds_left() > 0,
        username: c.username,
        team_slug: c.team_slug,
        access_expires_at: c.access_expires_at,
        refresh_expires_at: c.refresh_expires_at,
    }))
}

/// `sync status`.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    pub saas_enabled: bool,
    pub queue_size: usize,
    pub daemon_running: bool,
    pub last_sync: Option<String>,
    pub server_url: String,
    pub config_file: PathBuf,
    /// None with the flag off (the reference does not look then).
    pub auth: Option<Option<LocalAuth>>,
    /// `--check` with the flag off: the reference's "Disabled" row.
    pub ping_disabled: bool,
}

pub fn status(s: &SyncSettings, check: bool) -> Result<SyncStatus> {
    if check && s.saas_enabled {
        return Err(no_hosted_service("`sync status --check`"));
    }
    Ok(SyncStatus {
        saas_enabled: s.saas_enabled,
        queue_size: 0,
        daemon_running: false,
        last_sync: None,
        server_url: crate::auth::server_url(&s.auth)?,
        config_file: s.auth.config(),
        auth: if s.saas_enabled {
            Some(local_auth(&s.auth)?)
        } else {
            None
        },
        ping_disabled: check,
    })
}

/// `sync doctor`: the local half of the reference's checks.
#[derive(Debug, Clone, Serialize)]
pub struct SyncDoctor {
    pub saas_enabled: bool,
    pub queue_size: usize,
    pub server_url: String,
    pub auth: Option<LocalAuth>,
    pub issues: Vec<String>,
}

pub fn doctor(s: &SyncSettings) -> Result<SyncDoctor> {
    let auth = local_auth(&s.auth)?;
    let mut issues = Vec::new();
    match &auth {
        None => issues.push("Not authenticated. Run `spec-kitty auth login`.".to_string()),
        Some(a) if !a.access_valid && !a.refresh_valid => issues.push(
            "Both access and refresh tokens are expired. Run `spec-kitty auth login` to re-authenticate.".into(),
        ),
        Some(a) if !a.access_valid => issues.push(
            "Access token expired but refresh token is still valid. Token will auto-refresh on next sync attempt.".into(),
        ),
        Some(_) => {}
    }
    Ok(SyncDoctor {
        saas_enabled: s.saas_enabled,
        queue_size: 0,
        server_url: crate::auth::server_url(&s.auth)?,
        auth,
        issues,
    })
}

/// `sync diagnose`: the reference's document for its upload queue, which
/// this build never fills.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub total: usize,
    pub valid: usize,
    pub invalid: usize,
    pub results: Vec<serde_json::Value>,
}

pub fn diagnose() -> Diagnosis {
    Diagnosis {
        total: 0,
        valid: 0,
        invalid: 0,
        results: Vec::new(),
    }
}

/// `sync now`: nothing to upload with the flag off; refused with it on.
pub fn now(s: &SyncSettings) -> Result<()> {
    if s.saas_enabled {
        return Err(no_hosted_service("`sync now`"));
    }
    Ok(())
}

/// `sync server [URL]`.
#[derive(Debug, Clone, Serialize)]
pub struct ServerOutcome {
    pub server_url: String,
    pub config_file: PathBuf,
    /// A new URL was written.
    pub changed: bool,
}

pub fn server(s: &SyncSettings, url: Option<&str>) -> Result<ServerOutcome> {
    let config_file = s.auth.config();
    let Some(url) = url else {
        return Ok(ServerOutcome {
            server_url: crate::auth::server_url(&s.auth)?,
            config_file,
            changed: false,
        });
    };
    let url = url.trim().trim_end_matches('/');
    let ok = url::Url::parse(url)
        .ok()
        .is_some_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()));
    if !ok {
        return Err(Error::user(
            "Invalid server URL. Use a full HTTPS URL, for example: https://spec-kitty-dev.fly.dev",
        ));
    }
    crate::fsutil::create_private_dir(&s.auth.dir)?;
    let _lock = crate::fsutil::FileLock::acquire(
        &s.auth.lock_path(),
        s.auth.lock_timeout,
        "the credentials file",
    )?;
    let text = crate::fsutil::read_capped(&config_file, 1 << 20)?.unwrap_or_default();
    let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::user(format!("{} is not TOML: {e}", config_file.display()))
            .with_hint("fix or remove that file, then set the server again")
    })?;
    let sync = doc
        .entry("sync")
        .or_insert_with(|| toml::Value::Table(Default::default()));
    let Some(table) = sync.as_table_mut() else {
        return Err(Error::user(format!(
            "{}: `sync` is not a table",
            config_file.display()
        )));
    };
    table.insert("server_url".into(), toml::Value::String(url.to_string()));
    let out =
        toml::to_string(&doc).map_err(|e| Error::internal(format!("cannot write TOML: {e}")))?;
    crate::fsutil::atomic_write(&config_file, out.as_bytes())?;
    Ok(ServerOutcome {
        server_url: url.to_string(),
        config_file,
        changed: true,
    })
}

/// How `sync workspace` left the lane.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceResult {
    UpToDate,
    FastForward,
    Merged,
    /// `--repair` found nothing to repair.
    NothingToRepair,
    /// `--repair` aborted an interrupted merge, rebase or cherry-pick.
    Repaired,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceSync {
    pub workspace: String,
    pub mission_slug: String,
    pub branch: String,
    pub base: String,
    pub result: WorkspaceResult,
    /// Commits of the base the lane did not have.
    pub commits_integrated: Vec<(String, String)>,
    pub files_changed: usize,
    pub lane_commit: Option<String>,
}

/// The lane worktree `cwd` is in: (worktree root, mission slug, lane id).
fn lane_of(project: &Project) -> Result<(PathBuf, String, String)> {
    let not_lane = || {
        Error::user("Not in a recognized workspace: run this command inside a lane worktree")
            .with_hint("cd .worktrees/<mission>-lane-a/ first")
    };
    let wt = project.worktree.clone().ok_or_else(not_lane)?;
    let name = wt
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(not_lane)?;
    let (slug, lane) = name.rsplit_once("-lane-").ok_or_else(not_lane)?;
    let lane = format!("lane-{lane}");
    if !crate::ids::is_mission_slug(slug) || !crate::ids::is_lane_id(&lane) {
        return Err(not_lane());
    }
    Ok((wt.clone(), slug.to_string(), lane))
}

fn repair(wt: &Path) -> Result<WorkspaceResult> {
    let repo = Repo::open(wt)?;
    let verb = match repo.state() {
        RepoState::Clean => return Ok(WorkspaceResult::NothingToRepair),
        RepoState::Merge => "merge",
        RepoState::Rebase | RepoState::RebaseInteractive | RepoState::RebaseMerge => "rebase",
        RepoState::CherryPick | RepoState::CherryPickSequence => "cherry-pick",
        RepoState::Revert | RepoState::RevertSequence => "revert",
        other => {
            return Err(Error::user(format!(
            "the workspace is in the middle of a git {other:?}; this is not something sync started"
        ))
            .with_hint("finish or abort it with git yourself"))
        }
    };
    // git's own abort puts back the state from before the operation; nothing
    // else is reset, so changes made before it are kept.
    // Run as every git step is: no prompt, stopped after a timeout.
    let out = match crate::git::cli::run(wt, &[verb, "--abort"], crate::git::cli::local_timeout())
    {
        Ok(out) => out,
        Err(e @ crate::git::cli::CliError::TimedOut { .. }) => {
            return Err(Error::user(e.to_string()).with_hint(
                "something git runs there is waiting (a hook, an editor?): look at `git status` in the workspace and finish by hand",
            ))
        }
        Err(e) => return Err(e.into()),
    };
    if !out.success {
        return Err(Error::user(format!(
            "git {verb} --abort failed: {}",
            crate::shell::one_line(&out.stderr)
        ))
        .with_hint("look at `git status` in the workspace and finish by hand"));
    }
    Ok(WorkspaceResult::Repaired)
}

/// Bring the lane worktree the command runs in up to date with its mission's
/// target branch: a fast-forward when the lane has no commits of its own,
/// else a merge commit. Refused when the workspace has uncommitted changes
/// (nothing of a person's work is touched) or the merge would conflict (then
/// nothing changes at all, and the files are named).
pub fn workspace(project: &Project, repair_only: bool) -> Result<WorkspaceSync> {
    let (wt, slug, lane) = lane_of(project)?;
    let mission = crate::mission::resolve(project, crate::mission::Selector::Given(&slug))?;
    let lanes = crate::lanes::LanesManifest::for_mission(&mission)?;
    let base = crate::workspace::target_branch(&mission, lanes.as_ref());
    let branch = crate::lanes::model::lane_branch(&slug, &lane);
    let mut out = WorkspaceSync {
        workspace: wt
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        mission_slug: slug,
        branch: branch.clone(),
        base: base.clone(),
        result: WorkspaceResult::UpToDate,
        commits_integrated: Vec::new(),
        files_changed: 0,
        lane_commit: None,
    };
    if repair_only {
        out.result = repair(&wt)?;
        return Ok(out);
    }
    let repo = Repo::open(&wt)?;
    if repo.state() != RepoState::Clean {
        return Err(Error::user(format!(
            "{}: a git operation is in progress ({:?})",
            out.workspace,
            repo.state()
        ))
        .with_hint("finish it, or run `spec-kitty sync workspace --repair` to abort it"));
    }
    let (head, tip) = repo.head_name_and_tip()?;
    if head.as_deref() != Some(branch.as_str()) {
        return Err(Error::user(format!(
            "{} has {} checked out, not its lane branch {branch}",
            out.workspace,
            head.as_deref().unwrap_or("a detached HEAD")
        ))
        .with_hint(format!("check out {branch} in the workspace first")));
    }
    let base_tip = repo.branch_tip(&base).ok_or_else(|| {
        Error::user(format!(
            "the base branch {base} does not exist in this repository"
        ))
    })?;
    if repo.contains(tip, base_tip)? {
        out.lane_commit = Some(tip.to_string());
        return Ok(out);
    }
    if crate::workspace::is_dirty(&wt)? {
        return Err(Error::user(format!(
            "{} has uncommitted changes; sync never touches uncommitted work",
            out.workspace
        ))
        .with_hint("commit (or stash) them, then run `spec-kitty sync workspace` again"));
    }
    out.commits_integrated = repo
        .commits_missing(tip, base_tip, 1000)?
        .into_iter()
        .map(|(id, summary)| (crate::git::short(id), summary))
        .collect();
    let fast_forward = repo.contains(base_tip, tip)?;
    let new = if fast_forward {
        base_tip
    } else {
        let msg = format!(
            "Merge {base} into {branch}\n\nBrought up to date by `spec-kitty sync workspace`.\n"
        );
        match repo.merge_into_new_commit(tip, base_tip, &msg)? {
            Merged::Commit(new) => new,
            Merged::Conflicts(files) => {
                return Err(Error::user(format!(
                    "merging {base} into {branch} conflicts in: {}; nothing was changed",
                    files.join(", ")
                ))
                .with_details(serde_json::json!({"conflicts": files}))
                .with_hint(format!(
                    "merge by hand in the workspace (`git merge {base}`), resolve, commit"
                )));
            }
        }
    };
    out.files_changed = repo.diff_paths(tip, new)?.len();
    repo.check_out_onto(
        &branch,
        new,
        &format!("spec-kitty sync workspace: bring {branch} up to date with {base}"),
    )?;
    out.result = if fast_forward {
        WorkspaceResult::FastForward
    } else {
        WorkspaceResult::Merged
    };
    out.lane_commit = Some(new.to_string());
    Ok(out)
}
