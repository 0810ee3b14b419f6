//! `agent action implement|review`: pick a work package, prepare its
//! workspace, record the claim, and build the prompt the agent works from.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{commit_diff, ensure, is_dirty, lane_diff, require_lanes, resolve, Workspace};
use super::{Result, WorkspaceError};
use crate::error::Diagnose;
use crate::fsutil;
use crate::git::Repo;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::cache::FoldState;
use crate::status::ops::{self, MoveRequest};
use crate::status::work::{self, Scope};
use crate::status::{Lane, Snapshot, StatusEvent, StatusStore};
use crate::tasks_md::{parse, wp, WpFile};

/// The prompt handed to an agent, and where it was saved.
#[derive(Debug, Clone, Serialize)]
pub struct Handoff {
    pub action: &'static str,
    pub wp_id: String,
    pub title: String,
    pub mission_slug: String,
    pub agent: String,
    pub workspace: Workspace,
    pub prompt_file: PathBuf,
    pub prompt: String,
    pub from_lane: String,
    pub lane: String,
    /// Things the agent should know (e.g. mission files not committed yet).
    pub notes: Vec<String>,
    /// Review: the WP's own commits (claim..hand-in) and the files changed
    /// outside what it owns.
    pub scope: Option<Scope>,
}

/// Before the first code lane of a mission is created: lane worktrees branch
/// from the target's last commit, so whatever spec-kitty wrote that is not in
/// that commit is missing there. The project's own files (`.kittify/`,
/// `.gitignore`, `.gitattributes`) missing is an error with the command that
/// fixes it; the mission's files missing is a note (the prompt quotes them, and
/// `merge` commits them at the end).
pub fn check_committed_before_lanes(
    repo: &Repo,
    project: &Project,
    mission: &Mission,
    target: &str,
) -> Result<Option<String>> {
    let Some(tree) = repo.branch_tree(target)? else {
        return Ok(None);
    };
    // The project's own files, new or changed since the target's commit:
    // `.kittify/` (not its ignored runtime files), and the `.gitignore` and
    // `.gitattributes` init wrote or changed (without them every clone stays
    // dirty, and has no merge drivers).
    let mut project_files: Vec<String> = tree.changed_under(".kittify/")?;
    for rel in [".gitignore", ".gitattributes"] {
        if tree.file_changed(rel)? {
            project_files.push(rel.to_string());
        }
    }
    let prefix = crate::git::commit::dir_prefix(&project.root, &mission.dir)?;
    if !project_files.is_empty() {
        let mut add: Vec<String> = Vec::new();
        for f in &project_files {
            let a = if f.starts_with(".kittify/") {
                ".kittify".to_string()
            } else {
                f.clone()
            };
            if !add.contains(&a) {
                add.push(a);
            }
        }
        add.push(prefix.trim_end_matches('/').to_string());
        return Err(WorkspaceError::ProjectFilesUncommitted {
            target: target.to_string(),
            files: project_files,
            add,
        });
    }
    let missing = tree.changed_under(&prefix)?;
    if missing.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{} file(s) of {prefix} are not committed on {target} (e.g. {}): the lane worktree branches from its last commit and will not contain them; `spec-kitty merge` commits them at the end, or share them now with `spec-kitty agent mission record --mission {}`",
        missing.len(),
        missing[0],
        mission.slug
    )))
}

/// How much of spec.md and of plan.md a prompt quotes.
const CONTEXT_LIMIT: usize = 16_000;
/// How much patch text a review prompt quotes.
const DIFF_LIMIT: usize = 200_000;

/// WP files whose dependencies are not all approved or done.
pub fn unmet_dependencies(snap: &Snapshot, wp: &WpFile) -> Vec<String> {
    wp.dependencies()
        .into_iter()
        .filter(|d| !matches!(snap.lane_of(d), Some(Lane::Done | Lane::Approved)))
        .collect()
}

/// `<git-common-dir>/spec-kitty/prompts/<slug>-<WP>-<action>.md` (or
/// `.kittify/runtime/prompts/` without git): inside the project's own ignored
/// area, in a private (0700) directory, never a shared, predictable `/tmp` path.
pub fn prompt_path(
    project: &Project,
    mission: &Mission,
    wp_id: &str,
    action: &str,
) -> Result<PathBuf> {
    let dir = project.prompts_dir();
    fsutil::create_private_dir(&dir)?;
    Ok(dir.join(format!("{}-{wp_id}-{action}.md", mission.slug)))
}

/// `p` as one shell word ([`crate::shell::quote`]).
pub fn shell_quote(p: &Path) -> String {
    crate::shell::quote_path(p)
}

fn q(s: &str) -> String {
    crate::shell::quote(s)
}

/// A mission document quoted in a prompt: empty when missing; a file that
/// cannot be read, or is over the size cap (`bounds::MAX_TEXT_BYTES`), is an
/// error naming it, never quoted as empty.
fn read_doc(p: &Path) -> Result<String> {
    Ok(fsutil::read_capped(p, crate::bounds::MAX_TEXT_BYTES)?.unwrap_or_default())
}

/// Every mission document a prompt quotes, read once before anything is
/// claimed, so a bad one refuses the command with nothing changed.
fn check_docs(mission: &Mission) -> Result<()> {
    for p in [
        mission.tasks_file(),
        mission.spec_file(),
        mission.plan_file(),
    ] {
        read_doc(&p)?;
    }
    Ok(())
}

/// `text` cut to at most `limit` bytes on a character boundary; true if cut.
#[allow(clippy::string_slice)] // `end` was walked back to a char boundary just above
fn cut(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// A mission document quoted for context, or a note that it is missing.
fn context_block(title: &str, path: &Path) -> Result<String> {
    let text = read_doc(path)?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(format!(
            "### {title}\n\n({} is empty or missing.)\n",
            path.display()
        ));
    }
    let (shown, was_cut) = cut(text, CONTEXT_LIMIT);
    let tail = if was_cut {
        format!("\n\n[cut here; read the rest in {}]", path.display())
    } else {
        String::new()
    };
    Ok(format!(
        "### {title} ({})\n\n{shown}{tail}\n",
        path.display()
    ))
}

/// The WP's subtasks: its frontmatter list plus its tasks.md checkboxes, in order.
fn subtasks_of(mission: &Mission, f: &WpFile) -> Result<Vec<String>> {
    let mut ids = f.get_list("subtasks");
    for t in parse::subtasks(&read_doc(&mission.tasks_file())?, &f.id).unwrap_or_default() {
        if !ids.contains(&t.id) {
            ids.push(t.id);
        }
    }
    Ok(ids)
}

/// Who took a WP for implementation (see [`work::claimant`]).
pub fn claimant(events: &[StatusEvent], wp_id: &str) -> Option<String> {
    work::claimant(events, wp_id)
}

/// The WP to implement: the named one, or else `agent`'s own rework (a WP a
/// review sent back to it), else the first planned WP whose dependencies are
/// finished and that is not someone else's rework (skipping `passed_over`).
///
/// `fold` is the log's fold: the lanes and roles of the WPs looked at are
/// read there, with no snapshot of every WP built.
fn pick(
    mission: &Mission,
    lanes: &crate::lanes::ActingLanes,
    fold: &FoldState,
    agent: &str,
    wp_id: Option<&str>,
    passed_over: &[String],
    listing: &mut Option<ops::WpListing>,
) -> Result<WpFile> {
    if let Some(id) = wp_id {
        // The one listing of the tasks directory this command makes: the
        // lane set-up and the claim find their files in it.
        let l = match listing {
            Some(l) => l,
            None => listing.insert(ops::WpListing::of(&mission.tasks_dir())?),
        };
        return Ok(l.find(mission, id)?);
    }
    let files = wp::load_all(&mission.tasks_dir())?;
    let rework_of = |f: &WpFile| {
        Some(fold.roles_of(&f.id))
            .filter(|r| r.sent_back)
            .and_then(|r| r.implementer)
            .filter(|c| !c.trim().is_empty() && c != "implement-command")
    };
    let ready: Vec<WpFile> = files
        .into_iter()
        .filter(|f| {
            !passed_over.contains(&f.id)
                && fold.lane_of(&f.id).unwrap_or(Lane::Planned) == Lane::Planned
                && super::handoff::wait_reason(lanes, fold, f).is_none()
        })
        .collect();
    let own = ready
        .iter()
        .position(|f| rework_of(f).as_deref() == Some(agent));
    let first = own.or_else(|| ready.iter().position(|f| rework_of(f).is_none()));
    first
        .and_then(|i| ready.into_iter().nth(i))
        .ok_or_else(|| WorkspaceError::NothingReady {
            slug: mission.slug.clone(),
        })
}

/// [`ensure`], the dependency walk finding its files in the command's
/// listing when it made one.
fn ensure_with(
    repo: Option<&Repo>,
    project: &Project,
    mission: &Mission,
    lanes: &crate::lanes::ActingLanes,
    file: &WpFile,
    listing: &Option<ops::WpListing>,
) -> Result<Workspace> {
    match listing {
        Some(l) => super::ensure_listed(repo, project, mission, lanes, file, l),
        None => ensure(repo, project, mission, lanes, file),
    }
}

/// Claim a WP for implementation and build its prompt.
///
/// The claim is checked after it is recorded: when another agent claimed the
/// same WP a moment earlier (both saw it planned), a named WP is refused and an
/// unnamed pick moves on to the next ready one.
pub fn implement(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
) -> Result<Handoff> {
    implement_with(project, mission, wp_id, agent, &serde_json::Map::new())
}

/// [`implement`], recording `extra` keys (an orchestrator's validated
/// `policy_metadata`) on the claim's events.
pub fn implement_with(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<Handoff> {
    let mut lanes = require_lanes(project, mission)?;
    check_docs(mission)?;
    // The main checkout's repository, once for the whole hand-out.
    let main = super::open_main_if_git(project)?;
    let store = StatusStore::for_mission(project, mission);
    let mut passed_over: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut replans = 0;
    // Who claimed what comes from the saved status fold, never the whole log.
    let claimant_now =
        |id: &str| -> Result<String> { Ok(store.roles_of(id)?.implementer.unwrap_or_default()) };
    let mut listing: Option<ops::WpListing> = None;
    let (file, ws, from) = loop {
        // The fold, status.json refreshed as a snapshot read leaves it; only
        // the WPs this hand-out looks at are looked up in it.
        let fold = store.fold_view()?;
        let file = pick(
            mission,
            &lanes,
            &fold,
            agent,
            wp_id,
            &passed_over,
            &mut listing,
        )?;
        let from = fold.lane_of(&file.id).unwrap_or(Lane::Planned);
        if matches!(from, Lane::Planned | Lane::Claimed) {
            if let Some(why) = super::handoff::wait_reason(&*lanes, &fold, &file) {
                return Err(WorkspaceError::Waiting { why });
            }
        }
        if !matches!(from, Lane::Planned | Lane::Claimed | Lane::InProgress) {
            return Err(WorkspaceError::NotPlanned {
                wp: file.id.clone(),
                lane: from,
                slug: mission.slug.clone(),
            });
        }
        let first_lane = project.is_git()
            && resolve(project, mission, &lanes, &file)
                .is_ok_and(|w| w.branch.is_some() && !w.path.exists());
        if let (true, Some(repo)) = (first_lane, main.as_ref()) {
            let target = super::target_branch(mission, Some(&*lanes));
            notes.extend(check_committed_before_lanes(
                repo, project, mission, &target,
            )?);
        }
        if from == Lane::InProgress {
            // Someone else's work in progress is not handed out again.
            let owner = fold.roles_of(&file.id).implementer.unwrap_or_default();
            if !owner.is_empty() && owner != agent {
                if wp_id.is_some() {
                    return Err(WorkspaceError::ClaimedBy {
                        wp: file.id.clone(),
                        owner,
                    });
                }
                passed_over.push(file.id.clone());
                continue;
            }
            let ws = ensure_with(main.as_ref(), project, mission, &lanes, &file, &listing)?;
            break (file, ws, from);
        }
        // The fold shares its maps with the process's memo of the saved
        // fold: let go of it before the claim folds its own events on.
        drop(fold);
        let ws = ensure_with(main.as_ref(), project, mission, &lanes, &file, &listing)?;
        crate::env::pause_at(crate::env::PausePoint::ImplementBeforeClaim);
        // The claim checks, under the status lock, that the WP is still in
        // the lane just prepared: a re-plan in between (finalize-tasks) sends
        // us round again with the new lanes, never to claim the old one.
        let moved = match ops::move_wp_listed(
            main.as_ref(),
            project,
            mission,
            &MoveRequest {
                wp_id: file.id.clone(),
                to: "in_progress".into(),
                agent: Some(agent.to_string()),
                workspace: Some(ws.path.display().to_string()),
                expect_lane: ws.branch.is_some().then(|| ws.lane_id.clone()),
                extra: extra.clone(),
                ..Default::default()
            },
            listing.as_ref(),
        ) {
            Err(crate::status::StatusError::Replanned { .. }) if replans < 3 => {
                replans += 1;
                lanes = require_lanes(project, mission)?;
                // A re-plan may have written WP files: listed again.
                listing = None;
                continue;
            }
            other => other?,
        };
        if !moved.event_ids.is_empty() {
            break (file, ws, from);
        }
        // Nothing recorded: it was already in_progress when our move got the lock.
        let owner = claimant_now(&file.id)?;
        if owner == agent {
            break (file, ws, from);
        }
        if wp_id.is_some() {
            return Err(WorkspaceError::ClaimedJustNow {
                wp: file.id.clone(),
                owner,
            });
        }
        passed_over.push(file.id.clone());
    };
    let fresh = WpFile::read(&file.path)?;
    // The feedback of the reviews that sent it back: in the saved fold.
    let feedback = store.roles_of(&file.id)?.feedback;
    let prompt = implement_prompt(mission, &fresh, &ws, agent, &feedback)?;
    let prompt = crate::charter::with_prompt_block(project, prompt);
    let prompt_file = prompt_path(project, mission, &file.id, "implement")?;
    fsutil::write_private(&prompt_file, prompt.as_bytes())?;
    Ok(Handoff {
        action: "implement",
        wp_id: file.id.clone(),
        title: fresh.title().unwrap_or_default(),
        mission_slug: mission.slug.clone(),
        agent: agent.to_string(),
        workspace: ws,
        prompt_file,
        prompt,
        from_lane: from.to_string(),
        lane: Lane::InProgress.to_string(),
        notes,
        scope: None,
    })
}

fn file_list(files: &[String]) -> String {
    if files.is_empty() {
        "(no committed changes)".to_string()
    } else {
        files
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn file_text(f: &WpFile) -> Result<String> {
    read_doc(&f.path)
}

fn implement_prompt(
    mission: &Mission,
    f: &WpFile,
    ws: &Workspace,
    agent: &str,
    feedback: &[(String, String, String)],
) -> Result<String> {
    let slug = &mission.slug;
    let id = &f.id;
    let title = f.title().unwrap_or_default();
    let path = ws.path.display();
    let qpath = shell_quote(&ws.path);
    let place = match &ws.branch {
        Some(b) => format!(
            "the lane worktree {path} on branch {b} (lane {}, started from {})",
            ws.lane_id, ws.base_branch
        ),
        None => format!("the main checkout {path} (planning work: no worktree, no lane branch)"),
    };
    let owned = {
        let o = f.owned_files();
        if o.is_empty() {
            "(not declared)".to_string()
        } else {
            o.join(", ")
        }
    };
    let subtasks = subtasks_of(mission, f)?;
    let mut steps = Vec::new();
    if ws.branch.is_some() {
        steps.push(format!(
            "Commit your work on the lane branch (review reads the branch, not the working tree):\n\n    git -C {qpath} add -A\n    git -C {qpath} commit -m {}",
            q(&format!("{id}: {}", crate::shell::one_line(&title)))
        ));
    } else {
        steps.push(
            "Leave your changes in the main checkout; spec-kitty does not commit them for you."
                .to_string(),
        );
    }
    // Every value in a printed command is one shell word (crate::shell).
    let (qid, qagent, qslug) = (q(id), q(agent), q(slug));
    let mut commands = String::new();
    if !subtasks.is_empty() {
        let ids: Vec<String> = subtasks.iter().map(|t| q(t)).collect();
        commands.push_str(&format!(
            "    spec-kitty agent tasks mark-status {} --status done --mission {qslug}\n",
            ids.join(" ")
        ));
    }
    commands.push_str(&format!(
        "    spec-kitty agent tasks move-task {qid} --to for_review --agent {qagent} --mission {qslug} --note \"what you did\""
    ));
    steps.push(format!(
        "Tick the subtasks and hand the work package in for review:\n\n{commands}"
    ));
    let steps: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    Ok(format!(
        "# Implement {id}: {title}\n\n\
         Mission: {slug}\nAgent: {agent}\nWorkspace: {place}\n\n\
         Work in the workspace only:\n\n    cd {qpath}\n\n\
         Stay within the files this work package owns: {owned}.\n\
         The mission's files (kitty-specs/{slug}/) live in the main checkout; spec-kitty commands read and write them there from anywhere.\n\n\
         {feedback}\
         ## The work package\n\n\
         ---- work package {id} ----\n{text}\n---- end of {id} ----\n\n\
         ## Mission context\n\n{spec}\n{plan}\n\
         ## When you are done\n\n{steps}\n\n\
         Then ask for the next step: `spec-kitty next --agent {qagent} --mission {qslug}`.\n",
        text = file_text(f)?.trim_end(),
        feedback = if feedback.is_empty() {
            String::new()
        } else {
            let items: Vec<String> = feedback
                .iter()
                .map(|(who, at, text)| format!("- {at}, {who}: {text}"))
                .collect();
            format!(
                "## Review feedback to address\n\nThis work package was sent back by review. Fix what it asks for first:\n\n{}\n\n",
                items.join("\n")
            )
        },
        spec = context_block("Specification", &mission.spec_file())?,
        plan = context_block("Plan", &mission.plan_file())?,
        steps = steps.join("\n\n"),
    ))
}

/// Claim a WP that waits for review and build the review prompt.
pub fn review(
    project: &Project,
    mission: &Mission,
    wp_id: Option<&str>,
    agent: &str,
) -> Result<Handoff> {
    let lanes = require_lanes(project, mission)?;
    check_docs(mission)?;
    // The main checkout's repository, once for the whole hand-out.
    let main = super::open_main_if_git(project)?;
    let store = StatusStore::for_mission(project, mission);
    let mut passed_over: Vec<String> = Vec::new();
    let (file, mut ws, from) = loop {
        // The saved fold plus the new lines: the lanes, who claimed and who
        // implemented each WP, its recorded hand-in (never the whole log).
        let (snap, roles) = store.state()?;
        let role = |id: &str| roles.get(id).cloned().unwrap_or_default();
        let file = match wp_id {
            Some(id) => ops::find_wp(mission, id)?,
            None => wp::load_all(&mission.tasks_dir())?
                .into_iter()
                .find(|f| {
                    let r = role(&f.id);
                    !passed_over.contains(&f.id)
                        && snap.lane_of(&f.id) == Some(Lane::ForReview)
                        && r.implementer.as_deref() != Some(agent)
                        && !r.implementers.iter().any(|i| i == agent)
                })
                .ok_or_else(|| WorkspaceError::NothingToReview {
                    slug: mission.slug.clone(),
                })?,
        };
        let from = snap.lane_of(&file.id).unwrap_or(Lane::Planned);
        if !matches!(from, Lane::ForReview | Lane::InReview) {
            return Err(WorkspaceError::NotForReview {
                wp: file.id.clone(),
                lane: from,
            });
        }
        let ws = resolve(project, mission, &lanes, &file)?;
        let hand_in = role(&file.id).hand_in_commit;
        work::require_hand_in(main.as_ref(), project, mission, &file, hand_in)?;
        if from == Lane::InReview {
            break (file, ws, from);
        }
        let moved = ops::move_wp(
            main.as_ref(),
            project,
            mission,
            &MoveRequest {
                wp_id: file.id.clone(),
                to: "in_review".into(),
                agent: Some(agent.to_string()),
                ..Default::default()
            },
        )?;
        if !moved.event_ids.is_empty() {
            break (file, ws, from);
        }
        // Another reviewer took it between our read and our move.
        let owner = store
            .snapshot()?
            .0
            .work_packages
            .get(&file.id)
            .map(|s| s.actor.clone())
            .unwrap_or_default();
        if owner == agent {
            break (file, ws, from);
        }
        if wp_id.is_some() {
            return Err(WorkspaceError::TakenForReview {
                wp: file.id.clone(),
                owner,
            });
        }
        passed_over.push(file.id.clone());
    };
    let roles = store.state()?.1.remove(&file.id).unwrap_or_default();
    let range = roles
        .first_claim_commit
        .clone()
        .zip(roles.hand_in_commit.clone());
    let scope = work::scope_of_range(main.as_ref(), project, mission, &file, range)?;
    // A diff needs the repository; without one it says why there is none.
    let need_git = || WorkspaceError::NeedsGit {
        root: project.root.clone(),
    };
    let repo = main.as_ref().ok_or_else(need_git);
    let lane_worktree = ws.path.clone();
    // A rework under review: the diff starts at the hand-in the last review
    // sent back, and that review's feedback comes first.
    let previous = roles
        .previous_hand_in
        .clone()
        .filter(|p| scope.as_ref().is_some_and(|sc| &sc.hand_in_commit != p));
    let feedback = match roles.feedback.last().cloned() {
        Some((by, at, text)) => format!(
            "CHANGES REQUESTED before: the last review ({by}, {at}) sent {id} back with this feedback. Check that the rework addresses every point:\n\n{quoted}\n\n",
            id = file.id,
            quoted = text.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n"),
        ),
        None => String::new(),
    };
    let flagged = match &scope {
        Some(sc) if !sc.out_of_scope.is_empty() => format!(
            "OUT OF SCOPE: {id} changed files it does not own ({owned}):\n\n{list}\n\nSend it back unless the change belongs here; an allowed exception is recorded in the WP file under `{heading}` (`- path-or-glob why`).\n\n",
            id = file.id,
            owned = file.owned_files().join(", "),
            list = sc.out_of_scope.iter().map(|f| format!("- {f}")).collect::<Vec<_>>().join("\n"),
            heading = work::ALLOWANCE_HEADING,
        ),
        _ => String::new(),
    };
    let rework = match (&ws.branch, &scope, &previous) {
        (Some(b), Some(sc), Some(prev)) => {
            match repo
                .as_ref()
                .map_err(|_| need_git())
                .and_then(|r| commit_diff(r, prev, &sc.hand_in_commit, DIFF_LIMIT))
            {
                Ok(d) => Some(format!(
                    "{flagged}The rework of {id} on {b}: from the previous hand-in ({prev_s}), which was sent back, to this hand-in ({hand_in}), {n} files:\n\n{list}\n\n```diff\n{patch}```\n\n\
                     Review this hand-in commit, not the lane worktree. Rework only: `git diff {prev_s}..{hand_in}`; the whole work since the claim: `git diff {claim}..{hand_in}`; a file as handed in: `git show {hand_in}:<path>`.\n",
                    id = file.id,
                    prev_s = crate::git::short12(prev),
                    hand_in = crate::git::short12(&sc.hand_in_commit),
                    claim = crate::git::short12(&sc.claim_commit),
                    n = d.files.len(),
                    list = file_list(&d.files),
                    patch = d.patch,
                )),
                Err(_) => None,
            }
        }
        _ => None,
    };
    let diff = match (&ws.branch, &scope) {
        _ if rework.is_some() => rework.unwrap_or_default(),
        (Some(b), Some(sc)) => match repo.as_ref().map_err(|_| need_git()).and_then(|r| commit_diff(r, &sc.claim_commit, &sc.hand_in_commit, DIFF_LIMIT)) {
            Ok(d) => {
                let (claim, hand_in) = (crate::git::short12(&sc.claim_commit), crate::git::short12(&sc.hand_in_commit));
                format!(
                    "{flagged}The work of {id} on {b}: its commits from the claim ({claim}) to the hand-in ({hand_in}), {n} files:\n\n{list}\n\n```diff\n{patch}```\n\n\
                     Review this hand-in commit, not the lane worktree (the implementer may already be working there on the next work package). \
                     Full diff: `git diff {claim}..{hand_in}`; a file as handed in: `git show {hand_in}:<path>`.\n",
                    id = file.id,
                    n = d.files.len(),
                    list = file_list(&d.files),
                    patch = d.patch,
                )
            }
            Err(e) => format!("(no diff: {})\n", Diagnose::message(&e)),
        },
        (Some(b), None) => match repo.as_ref().map_err(|_| need_git()).and_then(|r| lane_diff(r, mission, &lanes, &file, &ws, DIFF_LIMIT)) {
            Ok(d) => {
                ws.base_branch = d.base.clone();
                format!(
                    "No claim and hand-in commits are recorded for {id}, so this is everything on {b} since it left {base} ({n} files):\n\n{list}\n\n```diff\n{patch}```\n\nFull diff: `git diff {base}...{b}`\n",
                    id = file.id,
                    base = d.base,
                    n = d.files.len(),
                    list = file_list(&d.files),
                    patch = d.patch,
                )
            }
            Err(e) => format!("(no diff: {})\n", Diagnose::message(&e)),
        },
        (None, _) => format!(
            "Planning work in the main checkout: review the files under {} (`git diff` and `git status` there).\n",
            mission.dir.display()
        ),
    };
    let dirty = if ws.branch.is_some()
        && lane_worktree.exists()
        && is_dirty(&lane_worktree).unwrap_or(false)
    {
        format!(
            "\nNote: the lane worktree {} has uncommitted changes; they are not part of this review.\n",
            lane_worktree.display(),
        )
    } else {
        String::new()
    };
    // Tests run on a checkout of the hand-in of the reviewer's own.
    let dirty = if ws.branch.is_some() {
        format!(
            "{dirty}\nRun the tests on exactly this hand-in, never in the lane worktree: `spec-kitty agent action review {} --mission {} --agent {} --checkout` checks it out in a scratch worktree under .worktrees/ and prints its path.\n",
            q(&file.id),
            q(&mission.slug),
            q(agent)
        )
    } else {
        dirty
    };
    // The reviewer reads the hand-in commit from the main checkout; it is never
    // sent into the lane worktree, where the implementer may be working.
    if ws.branch.is_some() {
        ws.kind = "review_view";
        ws.path = project.root.clone();
    }
    let fresh = WpFile::read(&file.path)?;
    let slug = &mission.slug;
    let id = &file.id;
    let prompt = format!(
        "# Review {id}: {title}\n\nMission: {slug}\nReviewer: {agent}\nWorkspace: {path}\n\n{feedback}{diff}{dirty}\n\
         ---- work package {id} (its acceptance criteria) ----\n{text}\n---- end of {id} ----\n\n\
         Approve:\n\n    spec-kitty agent tasks move-task {qid} --to approved --agent {qagent} --mission {qslug} --note \"why it is good\"\n\n\
         Or send it back with feedback:\n\n    spec-kitty agent tasks move-task {qid} --to planned --agent {qagent} --mission {qslug} --review-feedback \"what must change\"\n",
        qid = q(id),
        qagent = q(agent),
        qslug = q(slug),
        title = fresh.title().unwrap_or_default(),
        path = ws.path.display(),
        text = file_text(&fresh)?.trim_end(),
    );
    let prompt = crate::charter::with_prompt_block(project, prompt);
    let prompt_file = prompt_path(project, mission, id, "review")?;
    fsutil::write_private(&prompt_file, prompt.as_bytes())?;
    Ok(Handoff {
        action: "review",
        wp_id: id.clone(),
        title: fresh.title().unwrap_or_default(),
        mission_slug: slug.clone(),
        agent: agent.to_string(),
        workspace: ws,
        prompt_file,
        prompt,
        from_lane: from.to_string(),
        lane: Lane::InReview.to_string(),
        notes: Vec::new(),
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("abc", 10), ("abc", false));
        assert_eq!(cut("äbc", 1), ("", true));
        assert_eq!(cut("äbc", 2), ("ä", true));
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(
            shell_quote(Path::new("/a/b-c/.worktrees/x")),
            "/a/b-c/.worktrees/x"
        );
        assert_eq!(shell_quote(Path::new("/a b/c")), "'/a b/c'");
        assert_eq!(shell_quote(Path::new("/it's")), "'/it'\\''s'");
    }
}
