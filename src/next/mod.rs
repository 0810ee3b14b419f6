//! Deciding a mission's next step from its artifacts and status.
//!
//! There is no separate run state to drift from reality: the decision is read
//! off the files every time. spec.md still the template → specify; no plan →
//! plan; no work packages → tasks; not finalized → finalize; a ready WP →
//! implement it; a WP waiting for review → review it; the agent's own claimed
//! work → carry on with it; everything approved → accept; accepted → merge;
//! everything done → terminal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::Diagnose;
use crate::fsutil::{self, LockError};
use crate::lanes::{ActingLanes, LanesManifest};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::transitions::{self, Guard, Role as Who};
use crate::status::{Lane, Roles, Snapshot, StatusStore};
use crate::tasks_md::wp;
use crate::workspace;

mod runlog;

/// Why `next` could not decide or record a step. `next` has no refusals of its
/// own: what stops it is a file it reads or writes, so each variant keeps the
/// failure of the module that read it.
#[derive(Debug, thiserror::Error)]
pub enum NextError {
    /// The run log could not be read.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `.kittify/config.yaml` (read for `agents.reviewers`) cannot be read,
    /// or the list is not a list of names.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The run log's lock.
    #[error("{0}")]
    Lock(#[from] LockError),
    // The failures of the modules `next` reads through, each kept whole (its
    // message, hint and details are its own).
    /// A read or write through [`crate::fsutil`].
    #[error("{0}")]
    Fs(#[from] crate::fsutil::FsError),
    /// The WP files ([`crate::tasks_md`]).
    #[error("{0}")]
    TasksMd(#[from] crate::tasks_md::TasksError),
    /// The status log ([`crate::status`]).
    #[error("{0}")]
    Status(#[from] crate::status::StatusError),
    /// lanes.json ([`crate::lanes`]).
    #[error("{0}")]
    Lanes(#[from] crate::lanes::LanesError),
    /// The WP's workspace or prompt path ([`crate::workspace`]); boxed, the
    /// largest payload.
    #[error(transparent)]
    Workspace(Box<crate::workspace::WorkspaceError>),
}

crate::error::wraps!(NextError {
    Workspace(crate::workspace::WorkspaceError)
});

impl Diagnose for NextError {
    /// The failure of the module `next` read through, which speaks for itself.
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        use NextError::*;
        Some(match self {
            Fs(e) => e,
            TasksMd(e) => e,
            Status(e) => e,
            Lanes(e) => e,
            Lock(e) => e,
            Workspace(e) => e.as_ref(),
            Config(e) => e,
            Io { .. } => return None,
        })
    }
    fn hint(&self) -> Option<String> {
        match self {
            NextError::Io { path, source, .. } => crate::error::io_hint(path, source.kind()),
            _ => self.wrapped().and_then(Diagnose::hint),
        }
    }
}

type Result<T> = std::result::Result<T, NextError>;

/// What kind of answer `next` gives (serialised as `step`, `blocked`, `terminal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// There is a step to do: `action` says which.
    Step,
    /// Nothing this agent can do now: `reason` says why.
    Blocked,
    /// The mission is done.
    Terminal,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Step => "step",
            DecisionKind::Blocked => "blocked",
            DecisionKind::Terminal => "terminal",
        }
    }
}

/// How far a mission's work packages are, by lane (all zero before any exist).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Progress {
    pub total_wps: usize,
    pub done_wps: usize,
    pub approved_wps: usize,
    pub in_progress_wps: usize,
    pub planned_wps: usize,
    pub for_review_wps: usize,
    /// Lane-weighted completion, 0 to 100 with one decimal.
    pub weighted_percentage: f64,
}

/// The decision, in the reference's schema plus the exact command to run.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub kind: DecisionKind,
    pub agent: Option<String>,
    pub mission_slug: String,
    pub mission_number: Option<String>,
    pub mission_type: String,
    pub mission: String,
    pub mission_state: &'static str,
    pub timestamp: String,
    pub action: Option<&'static str>,
    pub wp_id: Option<String>,
    pub workspace_path: Option<PathBuf>,
    pub prompt_file: Option<PathBuf>,
    pub reason: Option<String>,
    pub guard_failures: Vec<String>,
    /// Always an object, as the reference's: zeros while planning.
    pub progress: Progress,
    pub origin: Value,
    pub run_id: Option<String>,
    pub step_id: &'static str,
    pub decision_id: Option<String>,
    pub input_key: Option<String>,
    pub question: Option<String>,
    pub options: Option<Vec<String>>,
    pub is_query: bool,
    pub preview_step: Option<String>,
    /// The shell command that performs the step.
    pub command: Option<String>,
    /// The agent slash command for steps an agent writes (specify, plan, tasks).
    pub slash_command: Option<String>,
    /// The `--result` this call recorded, if any.
    pub recorded_result: Option<String>,
    /// What the agent should know before it acts (e.g. project files not
    /// committed before the first lane is made).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn is_template(mission: &Mission, path: &Path, part: &str) -> bool {
    let Ok(text) = fsutil::read_to_string(path) else {
        return true;
    };
    let t = text.trim();
    t.is_empty()
        || crate::templates::mission_template(mission.mission_type(), part)
            .is_some_and(|tpl| tpl.trim() == t)
}

/// What an agent is asking for work as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Implementation first; reviews of other agents' work when none is ready.
    Implement,
    /// Waiting reviews only (never the agent's own work).
    Review,
}

/// The role `.kittify/config.yaml` gives an agent: `review` when it is listed
/// under `agents.reviewers`. No config file means no configured role; a file
/// that is not YAML, or a `reviewers` that is not a list, is an error naming
/// the file and line (a reviewer must not silently stop counting).
pub fn configured_role(project: &Project, agent: &str) -> Result<Option<Role>> {
    Ok(configured_reviewers(project)?
        .is_some_and(|names| names.iter().any(|r| r == agent))
        .then_some(Role::Review))
}

/// `agents.reviewers` from `.kittify/config.yaml`, checked: `None` when there
/// is no file or no list; an error naming the file and line when the file is
/// not YAML or the list is not a list of names.
fn configured_reviewers(project: &Project) -> Result<Option<Vec<String>>> {
    Ok(crate::config::Config::load(&project.root)?.reviewers()?)
}

/// Decide the next step for `agent` and write the step's prompt file: every
/// step names a `prompt_file` and a `command`.
pub fn decide(
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Option<Role>,
) -> Result<Decision> {
    // The config is read and checked whatever decides the role: an explicit
    // `--role` makes its reviewers list moot, not a broken file fine.
    let reviewers = configured_reviewers(project)?;
    let role = match (role, agent) {
        (Some(r), _) => r,
        (None, Some(a)) if reviewers.is_some_and(|n| n.iter().any(|r| r == a)) => Role::Review,
        _ => Role::Implement,
    };
    let mut d = decide_step(project, mission, agent, result, role)?;
    if d.kind == DecisionKind::Step {
        attach_prompt(project, mission, &mut d)?;
    }
    Ok(d)
}

fn template(name: &str) -> Option<&'static str> {
    Some(match name {
        "specify" => include_str!("../../templates/next/specify.md"),
        "plan" => include_str!("../../templates/next/plan.md"),
        "tasks" => include_str!("../../templates/next/tasks.md"),
        "tasks-finalize" => include_str!("../../templates/next/tasks-finalize.md"),
        "implement" => include_str!("../../templates/next/implement.md"),
        "review" => include_str!("../../templates/next/review.md"),
        "accept" => include_str!("../../templates/next/accept.md"),
        "merge" => include_str!("../../templates/next/merge.md"),
        _ => return None,
    })
}

/// `s` reduced to a file-name-safe word.
fn file_word(s: &str) -> String {
    let w: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if w.is_empty() {
        "agent".into()
    } else {
        w
    }
}

/// Write the step's prompt (from `templates/next/`) and name it; a step an
/// agent writes itself (specify, tasks) gets `cat <prompt_file>` as command.
fn attach_prompt(project: &Project, mission: &Mission, d: &mut Decision) -> Result<()> {
    let Some(action) = d.action else {
        return Ok(());
    };
    let Some(tpl) = template(action) else {
        return Ok(());
    };
    let agent = d.agent.clone().unwrap_or_else(|| "<agent>".into());
    let who = file_word(&format!("next-{agent}"));
    let path = crate::workspace::action::prompt_path(project, mission, &who, action)
        .map_err(NextError::from)?;
    let quoted = crate::workspace::action::shell_quote(&path);
    let command = d.command.clone().unwrap_or_else(|| format!("cat {quoted}"));
    let next = format!(
        "spec-kitty next --agent {} --mission {} --result success",
        crate::shell::quote(&agent),
        mission.slug
    );
    let text = tpl
        .replace("{{MISSION}}", &mission.slug)
        .replace("{{AGENT}}", &agent)
        .replace("{{FEATURE_DIR}}", &mission.dir.display().to_string())
        .replace("{{COMMAND}}", &command)
        .replace("{{NEXT}}", &next)
        .replace("{{WP}}", d.wp_id.as_deref().unwrap_or(""))
        .replace(
            "{{WORKSPACE}}",
            &d.workspace_path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        )
        .replace(
            "{{REASON}}",
            d.reason.as_deref().unwrap_or("").trim_end_matches('.'),
        );
    fsutil::write_private(&path, text.as_bytes()).map_err(NextError::Fs)?;
    d.prompt_file = Some(path);
    d.command = Some(command);
    Ok(())
}

/// The step for `agent` in `role`, read off the mission's files: the planning
/// steps until the work packages are finalized, then the board.
fn decide_step(
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Role,
) -> Result<Decision> {
    let mut d = new_decision(mission, agent, result);
    let Some((files, lanes)) = planning_step(project, mission, &mut d)? else {
        return Ok(d);
    };
    let board = Board::read(project, mission, files, agent)?;
    d.progress = board.progress();
    let desk = Desk {
        project,
        mission,
        lanes: &lanes,
        // One shell word: it is printed inside commands (crate::shell).
        agent_name: agent.map_or_else(|| "<agent>".to_string(), crate::shell::quote),
    };
    match role {
        Role::Review => review_step(&desk, &board, &mut d)?,
        Role::Implement => implement_step(&desk, &board, &mut d)?,
    }
    Ok(d)
}

/// A decision with nothing decided yet.
fn new_decision(mission: &Mission, agent: Option<&str>, result: Option<&str>) -> Decision {
    Decision {
        kind: DecisionKind::Step,
        agent: agent.map(str::to_string),
        mission_slug: mission.slug.clone(),
        mission_number: mission.number.clone(),
        mission_type: mission.mission_type().to_string(),
        mission: mission.mission_type().to_string(),
        mission_state: "not_started",
        timestamp: crate::timefmt::now_iso(),
        action: None,
        wp_id: None,
        workspace_path: None,
        prompt_file: None,
        reason: None,
        guard_failures: Vec::new(),
        progress: Progress::default(),
        origin: json!({"mission_tier": "package_default", "mission_path": null}),
        run_id: None,
        step_id: "",
        decision_id: None,
        input_key: None,
        question: None,
        options: None,
        is_query: result.is_none(),
        preview_step: None,
        command: None,
        slash_command: None,
        recorded_result: result.map(str::to_string),
        warnings: Vec::new(),
    }
}

impl Decision {
    /// Make this the step `action` of mission state `state`.
    fn set_step(
        &mut self,
        state: &'static str,
        action: &'static str,
        slash: Option<&str>,
        command: Option<String>,
        reason: String,
    ) {
        self.mission_state = state;
        self.step_id = state;
        self.action = Some(action);
        self.slash_command = slash.map(str::to_string);
        self.command = command;
        self.reason = Some(reason);
    }

    /// Nothing to do in `state` now: say why and how to watch the board.
    fn set_blocked(&mut self, state: &'static str, reason: String) {
        self.kind = DecisionKind::Blocked;
        self.mission_state = state;
        self.step_id = state;
        self.reason = Some(reason);
        self.command = Some(format!(
            "spec-kitty agent tasks status --mission {}",
            self.mission_slug
        ));
    }
}

/// Specify, plan, tasks, finalize: the first of them still to do becomes the
/// step (and `None` is returned); once all are done, the work packages and
/// the lanes they are placed in.
fn planning_step(
    project: &Project,
    mission: &Mission,
    d: &mut Decision,
) -> Result<Option<(Vec<wp::WpFile>, std::sync::Arc<ActingLanes>)>> {
    let slug = &mission.slug;
    if is_template(mission, &mission.spec_file(), "spec") {
        d.set_step(
            "specify",
            "specify",
            // The slash command creates a mission; this one exists already, so
            // the step's prompt file is the instruction.
            None,
            None,
            format!(
                "{} is still the template: write the specification",
                mission.spec_file().display()
            ),
        );
        return Ok(None);
    }
    if is_template(mission, &mission.plan_file(), "plan") {
        d.set_step(
            "plan",
            "plan",
            Some("/spec-kitty.plan"),
            Some(format!(
                "spec-kitty agent mission setup-plan --mission {slug}"
            )),
            "there is no plan.md yet: write the technical plan".into(),
        );
        return Ok(None);
    }
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir()).map_err(NextError::TasksMd)?
    } else {
        Vec::new()
    };
    if !mission.tasks_file().is_file() || files.is_empty() {
        d.set_step(
            "tasks",
            "tasks",
            Some("/spec-kitty.tasks"),
            None,
            "no work packages yet: write tasks.md and tasks/WPxx-*.md".into(),
        );
        return Ok(None);
    }
    // Finalized: lanes.json exists and places every WP, and every WP declares
    // its dependencies. A WP added or renamed since then needs another pass.
    // The acting read (no `collapse_report`, from the memo of lanes.json when
    // it stands for the file): the same checks and errors as a whole read.
    match LanesManifest::for_mission_acting(project, mission).map_err(NextError::Lanes)? {
        Some(lanes)
            if files
                .iter()
                .all(|f| f.declares_dependencies() && lanes.lane_for_wp(&f.id).is_some()) =>
        {
            Ok(Some((files, lanes)))
        }
        _ => {
            d.set_step(
                "tasks_finalize",
                "tasks-finalize",
                Some("/spec-kitty.tasks-finalize"),
                Some(format!(
                    "spec-kitty agent mission finalize-tasks --mission {slug}"
                )),
                "work packages are not finalized: compute dependencies and lanes".into(),
            );
            Ok(None)
        }
    }
}

/// The work packages, where each one stands, and who is asking. Which step a
/// WP's lane waits for is the lifecycle table's answer (`transitions`).
struct Board<'a> {
    files: Vec<wp::WpFile>,
    /// Who claimed (implemented) and who took the review of each WP.
    roles: BTreeMap<String, Roles>,
    snap: Snapshot,
    agent: Option<&'a str>,
}

impl<'a> Board<'a> {
    fn read(
        project: &Project,
        mission: &Mission,
        files: Vec<wp::WpFile>,
        agent: Option<&'a str>,
    ) -> Result<Self> {
        // The incrementally maintained fold: no event is held, only what each
        // WP's state and roles need.
        let (snap, _, roles) = StatusStore::for_mission(project, mission)
            .snapshot_with_roles()
            .map_err(NextError::Status)?;
        Ok(Board {
            files,
            roles,
            snap,
            agent,
        })
    }

    /// Everyone who implemented `id` ([`crate::status::work::implementers`]),
    /// from the fold; its latest claimant always among them.
    fn implementers(&self, id: &str) -> Vec<String> {
        let mut all = self
            .roles
            .get(id)
            .map(|r| r.implementers.clone())
            .unwrap_or_default();
        if let Some(c) = self.claimant(id) {
            if !all.iter().any(|a| a == c) {
                all.push(c.to_string());
            }
        }
        all
    }

    fn lane(&self, id: &str) -> Lane {
        self.snap.lane_of(id).unwrap_or(Lane::Planned)
    }

    /// Whether the table offers a move under `guard` from `f`'s lane to `who`
    /// (any role when `None`).
    fn offers(&self, f: &wp::WpFile, guard: Guard, who: Option<Who>) -> bool {
        transitions::offered(self.lane(&f.id), guard)
            .is_some_and(|r| who.is_none_or(|w| r.role == w))
    }

    /// The actor of the WP's latest claim ([`crate::status::work::claimant`]).
    fn claimant(&self, id: &str) -> Option<&str> {
        self.roles.get(id).and_then(|r| r.implementer.as_deref())
    }

    fn is_asker(&self, name: Option<&str>) -> bool {
        self.agent.is_some_and(|a| name == Some(a))
    }

    fn progress(&self) -> Progress {
        let files = &self.files;
        let count = |ls: &[Lane]| {
            files
                .iter()
                .filter(|f| ls.contains(&self.lane(&f.id)))
                .count()
        };
        let weighted: f64 = files
            .iter()
            .map(|f| self.lane(&f.id).progress_weight())
            .sum::<f64>()
            / files.len() as f64;
        Progress {
            total_wps: files.len(),
            done_wps: count(&[Lane::Done]),
            approved_wps: count(&[Lane::Approved]),
            in_progress_wps: count(&[Lane::Claimed, Lane::InProgress]),
            planned_wps: count(&[Lane::Planned]),
            for_review_wps: count(&[Lane::ForReview, Lane::InReview]),
            weighted_percentage: (weighted * 1000.0).round() / 10.0,
        }
    }

    /// A WP waiting to be claimed whose dependencies are approved and whose
    /// lane's worktree is free.
    /// A rework (a review sent it back) waits for whoever implemented it: it
    /// is not new work for anyone else.
    fn ready(&self, lanes: &ActingLanes) -> Option<&wp::WpFile> {
        self.files.iter().find(|f| {
            self.offers(f, Guard::Claim, None)
                && workspace::handoff::wait_reason(lanes, &self.snap, f).is_none()
                && self.rework_owner(f).is_none()
        })
    }

    /// Who a sent-back WP waits for: its implementer (the latest claimant),
    /// while the review that sent it back waits for its rework.
    fn rework_owner(&self, f: &wp::WpFile) -> Option<(String, String)> {
        // From the fold alone (no log read): whether a review sent it back
        // and is waiting, its latest claimant, and who took the review (the
        // one who sent it back: a rejection is recorded as the review claim,
        // then the move back, by the same actor).
        let roles = self.roles.get(&f.id)?;
        if !roles.sent_back {
            return None;
        }
        let who = roles
            .implementer
            .clone()
            .filter(|c| !c.trim().is_empty() && c != "implement-command")?;
        let by = roles.reviewer.clone().unwrap_or_else(|| "a review".into());
        Some((who, by))
    }

    /// A WP sent back to the asking agent for rework, ready to be claimed
    /// again: it comes before any other work.
    fn rework_for_asker(&self, lanes: &ActingLanes) -> Option<&wp::WpFile> {
        self.files.iter().find(|f| {
            self.offers(f, Guard::Claim, None)
                && workspace::handoff::wait_reason(lanes, &self.snap, f).is_none()
                && self
                    .rework_owner(f)
                    .is_some_and(|(who, _)| self.is_asker(Some(&who)))
        })
    }

    /// A WP waiting for a reviewer that the asking agent did not implement
    /// (nor anyone who implemented it, after a double claim).
    fn waiting_review(&self) -> Option<&wp::WpFile> {
        self.files.iter().find(|f| {
            self.offers(f, Guard::ReviewClaim, Some(Who::Reviewer))
                && !self
                    .implementers(&f.id)
                    .iter()
                    .any(|i| self.is_asker(Some(i)))
        })
    }

    /// A WP whose review the asking agent took and has not given a verdict on.
    fn in_review_by_asker(&self) -> Option<&wp::WpFile> {
        self.files.iter().find(|f| {
            self.offers(f, Guard::Verdict, None)
                && self.is_asker(self.snap.work_packages.get(&f.id).map(|s| s.actor.as_str()))
        })
    }

    /// A WP the asking agent claimed and has not handed in yet.
    fn own_implementation(&self) -> Option<&wp::WpFile> {
        self.files.iter().find(|f| {
            [Guard::Workspace, Guard::HandIn]
                .into_iter()
                .any(|g| self.offers(f, g, Some(Who::Implementer)))
                && self.is_asker(self.claimant(&f.id))
        })
    }

    /// WPs that still need work before the mission can be accepted.
    fn unsettled(&self) -> impl Iterator<Item = &wp::WpFile> {
        self.files
            .iter()
            .filter(|f| !transitions::settled(self.lane(&f.id)))
    }
}

/// What every hand-out needs: where the work is and whom it is for.
struct Desk<'a> {
    project: &'a Project,
    mission: &'a Mission,
    lanes: &'a ActingLanes,
    agent_name: String,
}

impl Desk<'_> {
    /// Hand `f` out to `action` (`implement` or `review`) in its workspace.
    fn hand_out(
        &self,
        d: &mut Decision,
        f: &wp::WpFile,
        action: &'static str,
        reason: String,
    ) -> Result<()> {
        let ws = workspace::resolve(self.project, self.mission, self.lanes, f)
            .map_err(NextError::from)?;
        d.set_step(
            action,
            action,
            Some(if action == "review" {
                "/spec-kitty.review"
            } else {
                "/spec-kitty.implement"
            }),
            Some(format!(
                "spec-kitty agent action {action} {} --mission {} --agent {}",
                f.id, self.mission.slug, self.agent_name
            )),
            reason,
        );
        d.wp_id = Some(f.id.clone());
        // A reviewer works from the main checkout (the review command shows
        // the hand-in commit there and `--checkout` gives it a tree of its
        // own); the lane worktree is the implementer's.
        d.workspace_path = Some(if action == "review" && ws.branch.is_some() {
            self.project.root.clone()
        } else {
            ws.path
        });
        Ok(())
    }
}

/// A reviewer: the review it already took, else one waiting; never new work.
fn review_step(desk: &Desk, board: &Board, d: &mut Decision) -> Result<()> {
    if let Some(f) = board.in_review_by_asker() {
        let why = "is in review by you: approve it or send it back";
        return desk.hand_out(d, f, "review", format!("{} {why}", f.id));
    }
    if let Some(f) = board.waiting_review() {
        return desk.hand_out(d, f, "review", format!("{} is waiting for review", f.id));
    }
    d.set_blocked(
        "review",
        format!(
            "nothing to review for {}: no work package is waiting for review by someone other than its implementer",
            desk.agent_name
        ),
    );
    Ok(())
}

/// An implementer: new ready work first, then others' work waiting for review,
/// then its own claimed work, then a review it took; with none of these, the
/// mission's wrap-up or what it waits for.
fn implement_step(desk: &Desk, board: &Board, d: &mut Decision) -> Result<()> {
    let name = &desk.agent_name;
    // Rework sent back to this agent comes first.
    if let Some(f) = board.rework_for_asker(desk.lanes) {
        let why = match board.rework_owner(f) {
            Some((_, by)) => format!(
                "{} was sent back to {name} by {by}: changes requested; address the review feedback (the command prints it) and hand it in again",
                f.id
            ),
            None => format!("{} was sent back to {name}: changes requested", f.id),
        };
        return desk.hand_out(d, f, "implement", why);
    }
    if let Some(f) = board.ready(desk.lanes) {
        let why = format!("{} is ready: its dependencies are done", f.id);
        return desk.hand_out(d, f, "implement", why);
    }
    if let Some(f) = board.waiting_review() {
        return desk.hand_out(d, f, "review", format!("{} is waiting for review", f.id));
    }
    // Carry on with claimed work rather than wait. An implementation belongs
    // to whoever claimed it; a review to whoever took it.
    if let Some(f) = board.own_implementation() {
        let why = format!(
            "{} is {} by {name}: finish it and hand it in for review (the command prints its prompt again)",
            f.id,
            board.lane(&f.id)
        );
        return desk.hand_out(d, f, "implement", why);
    }
    if let Some(f) = board.in_review_by_asker() {
        let why = format!(
            "{} is in review by {name}: approve it or send it back",
            f.id
        );
        return desk.hand_out(d, f, "review", why);
    }
    wrap_up_step(desk, board, d);
    Ok(())
}

/// Nothing to hand out: the mission is done, ready to accept or to merge, or
/// waiting on work packages (each named with what it waits for).
fn wrap_up_step(desk: &Desk, board: &Board, d: &mut Decision) {
    let slug = &desk.mission.slug;
    let waiting: Vec<String> = board
        .unsettled()
        .map(|f| match board.lane(&f.id) {
            Lane::Planned => workspace::handoff::wait_reason(desk.lanes, &board.snap, f)
                .or_else(|| {
                    board.rework_owner(f).map(|(who, by)| {
                        format!(
                            "{} waits for its implementer {who} to rework it (changes requested by {by}; to hand it to someone else: `spec-kitty agent action implement {} --mission {slug} --agent <name>`)",
                            f.id, f.id
                        )
                    })
                })
                .unwrap_or_else(|| format!("{} is planned", f.id)),
            l => format!("{} is {l}", f.id),
        })
        .collect();
    if !waiting.is_empty() {
        d.set_blocked(
            "implement",
            format!("nothing is ready: {}", waiting.join(", ")),
        );
    } else if board.files.iter().all(|f| board.lane(&f.id).is_terminal()) {
        d.kind = DecisionKind::Terminal;
        d.mission_state = "done";
        d.step_id = "done";
        d.reason = Some("every work package is done".into());
    } else if desk.mission.meta_str("accepted_at").is_some() {
        d.set_step(
            "merge",
            "merge",
            Some("/spec-kitty.merge"),
            Some(format!("spec-kitty merge --mission {slug} --dry-run")),
            "the mission is accepted: forecast the merge, then land it".into(),
        );
    } else {
        d.set_step(
            "accept",
            "accept",
            Some("/spec-kitty.accept"),
            Some(format!("spec-kitty agent mission accept --mission {slug}")),
            "every work package is approved: check the mission and merge it".into(),
        );
    }
}

pub use crate::mission::run_log_path;

/// What [`record`] appended to, and the lines of the log it could not read.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: PathBuf,
    /// `path:line: why` for every unreadable line (bad UTF-8, not JSON, torn).
    pub warnings: Vec<String>,
}

/// Log the decision given to `agent` and, with `result`, the outcome the agent
/// reports for the step it was given before (the last decision logged for it).
///
/// The run log is append-only: new lines are appended with one write, and no
/// existing byte is rewritten. An unreadable line is reported in the returned
/// warnings and kept; a torn last line is closed with a newline first. Only
/// the lines appended since the last call are parsed ([`runlog`]'s memo).
pub fn record(
    project: &Project,
    mission: &Mission,
    agent: &str,
    result: Option<&str>,
    decision: &Decision,
) -> Result<Recorded> {
    let path = run_log_path(project, mission);
    if let Some(dir) = path.parent() {
        fsutil::create_dir_all(dir).map_err(NextError::Fs)?;
    }
    let _lock = fsutil::FileLock::acquire(
        &path.with_extension("lock"),
        fsutil::LOCK_TIMEOUT,
        "the mission's run log",
    )?;
    // Only the lines appended since the memo was written are parsed
    // (`runlog`): the log grows by a line or two every call.
    let log = runlog::read(&path, agent).map_err(|source| NextError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    let warnings = log
        .bad
        .iter()
        .map(|(n, why, torn)| {
            format!(
                "{}:{n}: {}{why}; the line is kept as it is",
                path.display(),
                if *torn { "torn last line: " } else { "" }
            )
        })
        .collect();
    let now = crate::timefmt::now_iso();
    let mut text = String::new();
    if log.needs_newline {
        text.push('\n');
    }
    if let Some(result) = result {
        let field = |k: &str| {
            log.previous
                .as_ref()
                .map(|p| p[k].clone())
                .unwrap_or(Value::Null)
        };
        let line = crate::jsonfmt::py_line(&json!({
            "agent": agent, "at": now, "event": "result", "result": result,
            "step": field("mission_state"), "step_action": field("action"), "step_wp_id": field("wp_id"),
        }));
        text.push_str(&line);
        text.push('\n');
    }
    let line = crate::jsonfmt::py_line(&json!({
        "agent": agent, "at": now, "event": "decision", "kind": decision.kind,
        "mission_state": decision.mission_state, "action": decision.action, "wp_id": decision.wp_id,
    }));
    text.push_str(&line);
    text.push('\n');
    fsutil::append(&path, text.as_bytes()).map_err(NextError::Fs)?;
    runlog::remember(log, &path, text.len() as u64);
    Ok(Recorded { path, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn setup() -> (tempfile::TempDir, Project, Mission) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let m = dir.path().join("kitty-specs/001-x");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("meta.json"), "{}").unwrap();
        let p = Project::at(dir.path());
        let m = Mission::load(&m);
        (dir, p, m)
    }

    #[test]
    fn a_corrupt_config_is_the_config_variant_naming_file_and_line() {
        let (d, p, _m) = setup();
        let config = d.path().join(".kittify/config.yaml");
        assert!(configured_role(&p, "claude").unwrap().is_none(), "no file");
        std::fs::write(&config, "agents:\n  reviewers: [claude\n").unwrap();
        let e = configured_role(&p, "claude").unwrap_err();
        match &e {
            NextError::Config(crate::config::ConfigError::Yaml { path, line, .. }) => {
                assert_eq!(path, &config);
                assert!(line.is_some(), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_yaml::Error>()
            .is_some());
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("{}:", config.display())),
            "{shown}"
        );
        std::fs::write(&config, "agents:\n  reviewers: claude\n").unwrap();
        let e = configured_role(&p, "claude").unwrap_err();
        assert!(
            matches!(
                &e,
                NextError::Config(crate::config::ConfigError::Setting { line: Some(2), .. })
            ),
            "{e:?}"
        );
        std::fs::write(&config, "agents:\n  reviewers: [claude]\n").unwrap();
        assert_eq!(configured_role(&p, "claude").unwrap(), Some(Role::Review));
        assert_eq!(configured_role(&p, "codex").unwrap(), None);
    }

    #[test]
    fn an_unreadable_run_log_is_the_io_variant_with_its_io_error() {
        let (_d, p, m) = setup();
        // A directory where the run log goes: reading it fails.
        std::fs::create_dir_all(run_log_path(&p, &m)).unwrap();
        let d = new_decision(&m, Some("a"), None);
        let e = record(&p, &m, "a", None, &d).unwrap_err();
        assert!(matches!(&e, NextError::Io { action: "read", .. }), "{e:?}");
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<std::io::Error>()
            .is_some());
        let e = crate::Error::from(e);
        assert!(e.message.starts_with("cannot read "), "{}", e.message);
        assert!(e.message.contains("001-x.jsonl"), "{}", e.message);
    }
}
