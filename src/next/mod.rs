//! Deciding a mission's next step from its artifacts and status.
//!
//! There is no separate run state to drift from reality: the decision is read
//! off the files every time. spec.md still the template → specify; no plan →
//! plan; no work packages → tasks; not finalized → finalize; a ready WP →
//! implement it; a WP waiting for review → review it; the agent's own claimed
//! work → carry on with it; everything approved → accept; accepted → merge;
//! everything done → terminal.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::Result;
use crate::fsutil;
use crate::lanes::LanesManifest;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::transitions::{self, Guard, Role as Who};
use crate::status::{Lane, StatusStore};
use crate::tasks_md::wp;
use crate::workspace;

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

/// How far a mission's work packages are, by lane.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub progress: Option<Progress>,
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
}

fn is_template(mission: &Mission, path: &std::path::Path, part: &str) -> bool {
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
/// under `agents.reviewers`.
pub fn configured_role(project: &Project, agent: &str) -> Option<Role> {
    let path = project.kittify_dir().join("config.yaml");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let reviewers = v.get("agents")?.get("reviewers")?.as_sequence()?;
    reviewers
        .iter()
        .any(|r| r.as_str() == Some(agent))
        .then_some(Role::Review)
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
    let role = role
        .or_else(|| agent.and_then(|a| configured_role(project, a)))
        .unwrap_or(Role::Implement);
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
    let path = crate::workspace::action::prompt_path(project, mission, &who, action)?;
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
    fsutil::write_private(&path, text.as_bytes())?;
    d.prompt_file = Some(path);
    d.command = Some(command);
    Ok(())
}

fn decide_step(
    project: &Project,
    mission: &Mission,
    agent: Option<&str>,
    result: Option<&str>,
    role: Role,
) -> Result<Decision> {
    let slug = &mission.slug;
    // One shell word: it is printed inside commands (crate::shell).
    let agent_name = agent.map_or_else(|| "<agent>".to_string(), crate::shell::quote);
    let mut d = Decision {
        kind: DecisionKind::Step,
        agent: agent.map(str::to_string),
        mission_slug: slug.clone(),
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
        progress: None,
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
    };
    let step = |d: &mut Decision,
                state: &'static str,
                action: &'static str,
                slash: Option<&str>,
                cmd: Option<String>,
                reason: String| {
        d.mission_state = state;
        d.step_id = state;
        d.action = Some(action);
        d.slash_command = slash.map(str::to_string);
        d.command = cmd;
        d.reason = Some(reason);
    };
    if is_template(mission, &mission.spec_file(), "spec") {
        step(
            &mut d,
            "specify",
            "specify",
            // The slash command creates a mission; this one exists already, so
            // the step's prompt file (written below) is the instruction.
            None,
            None,
            format!(
                "{} is still the template: write the specification",
                mission.spec_file().display()
            ),
        );
        return Ok(d);
    }
    if is_template(mission, &mission.plan_file(), "plan") {
        step(
            &mut d,
            "plan",
            "plan",
            Some("/spec-kitty.plan"),
            Some(format!(
                "spec-kitty agent mission setup-plan --mission {slug}"
            )),
            "there is no plan.md yet: write the technical plan".into(),
        );
        return Ok(d);
    }
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
    } else {
        Vec::new()
    };
    if !mission.tasks_file().is_file() || files.is_empty() {
        step(
            &mut d,
            "tasks",
            "tasks",
            Some("/spec-kitty.tasks"),
            None,
            "no work packages yet: write tasks.md and tasks/WPxx-*.md".into(),
        );
        return Ok(d);
    }
    // Finalized: lanes.json exists and places every WP, and every WP declares
    // its dependencies. A WP added or renamed since then needs another pass.
    let lanes_json = LanesManifest::for_mission(mission)?;
    let finalized = lanes_json.as_ref().is_some_and(|l| {
        files
            .iter()
            .all(|f| f.declares_dependencies() && l.lane_for_wp(&f.id).is_some())
    });
    if !finalized {
        step(
            &mut d,
            "tasks_finalize",
            "tasks-finalize",
            Some("/spec-kitty.tasks-finalize"),
            Some(format!(
                "spec-kitty agent mission finalize-tasks --mission {slug}"
            )),
            "work packages are not finalized: compute dependencies and lanes".into(),
        );
        return Ok(d);
    }

    let store = StatusStore::for_mission(project, mission);
    let events = store.read()?.events;
    let snap = crate::status::reduce(&events);
    let lane = |id: &str| snap.lane_of(id).unwrap_or(Lane::Planned);
    let count = |ls: &[Lane]| files.iter().filter(|f| ls.contains(&lane(&f.id))).count();
    let weighted: f64 = files
        .iter()
        .map(|f| lane(&f.id).progress_weight())
        .sum::<f64>()
        / files.len() as f64;
    d.progress = Some(Progress {
        total_wps: files.len(),
        done_wps: count(&[Lane::Done]),
        approved_wps: count(&[Lane::Approved]),
        in_progress_wps: count(&[Lane::Claimed, Lane::InProgress]),
        planned_wps: count(&[Lane::Planned]),
        for_review_wps: count(&[Lane::ForReview, Lane::InReview]),
        weighted_percentage: (weighted * 1000.0).round() / 10.0,
    });
    let Some(lanes) = lanes_json else {
        return Ok(d);
    };
    // Work waiting for review that this agent did not implement.
    let reviewable = |f: &&wp::WpFile| {
        transitions::offered(lane(&f.id), Guard::ReviewClaim)
            .is_some_and(|r| r.role == Who::Reviewer)
            && !agent.is_some_and(|a| {
                crate::status::work::claimant(&events, &f.id).as_deref() == Some(a)
            })
    };
    let reviewing = |f: &&wp::WpFile| {
        transitions::offered(lane(&f.id), Guard::Verdict).is_some()
            && agent.is_some_and(|a| snap.work_packages.get(&f.id).is_some_and(|s| s.actor == a))
    };
    if role == Role::Review {
        let pick = files
            .iter()
            .find(reviewing)
            .map(|f| (f, "is in review by you: approve it or send it back"))
            .or_else(|| {
                files
                    .iter()
                    .find(reviewable)
                    .map(|f| (f, "is waiting for review"))
            });
        if let Some((f, why)) = pick {
            let ws = workspace::resolve(project, mission, &lanes, f)?;
            step(
                &mut d,
                "review",
                "review",
                Some("/spec-kitty.review"),
                Some(format!(
                    "spec-kitty agent action review {} --mission {slug} --agent {agent_name}",
                    f.id
                )),
                format!("{} {why}", f.id),
            );
            d.wp_id = Some(f.id.clone());
            d.workspace_path = Some(ws.path);
            return Ok(d);
        }
        d.kind = DecisionKind::Blocked;
        d.mission_state = "review";
        d.step_id = "review";
        d.reason = Some(format!(
            "nothing to review for {agent_name}: no work package is waiting for review by someone other than its implementer"
        ));
        d.command = Some(format!("spec-kitty agent tasks status --mission {slug}"));
        return Ok(d);
    }
    // Ready: planned, every dependency approved, and its lane's worktree free.
    let ready = files.iter().find(|f| {
        transitions::offered(lane(&f.id), Guard::Claim).is_some()
            && workspace::handoff::wait_reason(&lanes, &snap, f).is_none()
    });
    if let Some(f) = ready {
        let ws = workspace::resolve(project, mission, &lanes, f)?;
        step(
            &mut d,
            "implement",
            "implement",
            Some("/spec-kitty.implement"),
            Some(format!(
                "spec-kitty agent action implement {} --mission {slug} --agent {agent_name}",
                f.id
            )),
            format!("{} is ready: its dependencies are done", f.id),
        );
        d.wp_id = Some(f.id.clone());
        d.workspace_path = Some(ws.path);
        return Ok(d);
    }
    if let Some(f) = files.iter().find(reviewable) {
        let ws = workspace::resolve(project, mission, &lanes, f)?;
        step(
            &mut d,
            "review",
            "review",
            Some("/spec-kitty.review"),
            Some(format!(
                "spec-kitty agent action review {} --mission {slug} --agent {agent_name}",
                f.id
            )),
            format!("{} is waiting for review", f.id),
        );
        d.wp_id = Some(f.id.clone());
        d.workspace_path = Some(ws.path);
        return Ok(d);
    }
    // The agent's own claimed work: carry on with it rather than wait. An
    // implementation belongs to whoever claimed it; a review to whoever took it.
    let claimed_by_me = |f: &&wp::WpFile| {
        [Guard::Workspace, Guard::HandIn].into_iter().any(|g| {
            transitions::offered(lane(&f.id), g).is_some_and(|r| r.role == Who::Implementer)
        }) && agent.is_some_and(|a| {
            crate::workspace::action::claimant(&events, &f.id).as_deref() == Some(a)
        })
    };
    if let Some(f) = files.iter().find(claimed_by_me) {
        let ws = workspace::resolve(project, mission, &lanes, f)?;
        step(
            &mut d,
            "implement",
            "implement",
            Some("/spec-kitty.implement"),
            Some(format!(
                "spec-kitty agent action implement {} --mission {slug} --agent {agent_name}",
                f.id
            )),
            format!(
                "{} is {} by {agent_name}: finish it and hand it in for review (the command prints its prompt again)",
                f.id,
                lane(&f.id)
            ),
        );
        d.wp_id = Some(f.id.clone());
        d.workspace_path = Some(ws.path);
        return Ok(d);
    }
    if let Some(f) = files.iter().find(reviewing) {
        let ws = workspace::resolve(project, mission, &lanes, f)?;
        step(
            &mut d,
            "review",
            "review",
            Some("/spec-kitty.review"),
            Some(format!(
                "spec-kitty agent action review {} --mission {slug} --agent {agent_name}",
                f.id
            )),
            format!(
                "{} is in review by {agent_name}: approve it or send it back",
                f.id
            ),
        );
        d.wp_id = Some(f.id.clone());
        d.workspace_path = Some(ws.path);
        return Ok(d);
    }
    let active: Vec<&str> = files
        .iter()
        .filter(|f| !transitions::settled(lane(&f.id)))
        .map(|f| f.id.as_str())
        .collect();
    if active.is_empty() {
        if files.iter().all(|f| lane(&f.id).is_terminal()) {
            d.kind = DecisionKind::Terminal;
            d.mission_state = "done";
            d.step_id = "done";
            d.reason = Some("every work package is done".into());
            return Ok(d);
        }
        if mission.meta_str("accepted_at").is_some() {
            step(
                &mut d,
                "merge",
                "merge",
                Some("/spec-kitty.merge"),
                Some(format!("spec-kitty merge --mission {slug} --dry-run")),
                "the mission is accepted: forecast the merge, then land it".into(),
            );
            return Ok(d);
        }
        step(
            &mut d,
            "accept",
            "accept",
            Some("/spec-kitty.accept"),
            Some(format!("spec-kitty agent mission accept --mission {slug}")),
            "every work package is approved: check the mission and merge it".into(),
        );
        return Ok(d);
    }
    let waiting: Vec<String> = files
        .iter()
        .filter(|f| active.contains(&f.id.as_str()))
        .map(|f| match lane(&f.id) {
            Lane::Planned => workspace::handoff::wait_reason(&lanes, &snap, f)
                .unwrap_or_else(|| format!("{} is planned", f.id)),
            l => format!("{} is {l}", f.id),
        })
        .collect();
    d.kind = DecisionKind::Blocked;
    d.mission_state = "implement";
    d.step_id = "implement";
    d.reason = Some(format!("nothing is ready: {}", waiting.join(", ")));
    d.command = Some(format!("spec-kitty agent tasks status --mission {slug}"));
    Ok(d)
}

/// The run log of a mission: in the git directory, or without one in
/// `.kittify/runtime/next/` (which init's .gitignore covers); never in tracked files.
pub fn run_log_path(project: &Project, mission: &Mission) -> PathBuf {
    match &project.git_common_dir {
        Some(g) => g.join("spec-kitty").join("runs"),
        None => project.kittify_dir().join("runtime").join("next"),
    }
    .join(format!("{}.jsonl", mission.slug))
}

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
/// warnings and kept; a torn last line is closed with a newline first.
pub fn record(
    project: &Project,
    mission: &Mission,
    agent: &str,
    result: Option<&str>,
    decision: &Decision,
) -> Result<Recorded> {
    let path = run_log_path(project, mission);
    if let Some(dir) = path.parent() {
        fsutil::create_dir_all(dir)?;
    }
    let _lock = fsutil::FileLock::acquire(
        &path.with_extension("lock"),
        fsutil::LOCK_TIMEOUT,
        "the mission's run log",
    )?;
    let old = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(crate::error::Error::io("read", &path, e)),
    };
    let mut warnings = Vec::new();
    let mut previous: Option<Value> = None;
    let line_count = old.split(|&b| b == b'\n').count();
    for (i, raw) in old.split(|&b| b == b'\n').enumerate() {
        if raw.is_empty() {
            continue;
        }
        let torn = i + 1 == line_count;
        let parsed = std::str::from_utf8(raw)
            .map_err(|e| format!("not valid UTF-8 (byte {})", e.valid_up_to()))
            .and_then(|t| serde_json::from_str::<Value>(t).map_err(|e| e.to_string()));
        match parsed {
            Ok(v) if v["event"] == "decision" && v["agent"] == agent => previous = Some(v),
            Ok(_) => {}
            Err(why) => warnings.push(format!(
                "{}:{}: {}{why}; the line is kept as it is",
                path.display(),
                i + 1,
                if torn { "torn last line: " } else { "" }
            )),
        }
    }
    let now = crate::timefmt::now_iso();
    let mut text = String::new();
    if !old.is_empty() && !old.ends_with(b"\n") {
        text.push('\n');
    }
    if let Some(result) = result {
        let field = |k: &str| {
            previous
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
    fsutil::append(&path, text.as_bytes())?;
    Ok(Recorded { path, warnings })
}
