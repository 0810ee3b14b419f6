//! `accept`: the readiness gates of a mission, and recording its acceptance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::MergeError;
use super::{code_lanes, short, target_branch, CodeLane};
use crate::git::{Oid, Repo};

type Result<T, E = MergeError> = std::result::Result<T, E>;
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::lanes::LanesManifest;
use crate::mission::{read_meta, write_meta_file, Mission};
use crate::project::Project;
use crate::status::{Lane, Snapshot, StatusStore};
use crate::tasks_md::wp;
use crate::workspace;

/// What `accept` was asked to do beyond the standard gates.
#[derive(Debug, Clone, Default)]
pub struct AcceptOptions {
    /// A shell command to run once on the mission as it will land (`--test`):
    /// every lane merged onto the target, in a scratch worktree.
    pub test_command: Option<String>,
    /// Who accepts (default: git's user.name, else `user`).
    pub actor: Option<String>,
    /// Run the gates and report; record nothing (`--no-commit`, `--mode checklist`).
    pub report_only: bool,
    /// Unticked tasks.md checkboxes are reported, not blocking (`--lenient`).
    pub lenient: bool,
    /// How the accepted mission will land (`auto`, `pr`, `local`), recorded as
    /// `acceptance_mode` in meta.json.
    pub mode: Option<String>,
}

/// One readiness gate and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub name: &'static str,
    pub passed: bool,
    /// One line saying what was checked and the result.
    pub detail: String,
    /// Every reason the gate failed, one per item.
    pub problems: Vec<String>,
}

impl Gate {
    fn new(name: &'static str, ok_detail: String, problems: Vec<String>) -> Gate {
        let passed = problems.is_empty();
        let detail = if passed {
            ok_detail
        } else {
            problems.join("; ")
        };
        Gate {
            name,
            passed,
            detail,
            problems,
        }
    }
}

/// A code lane at acceptance time.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptedLane {
    pub lane_id: String,
    pub branch: String,
    pub worktree: PathBuf,
    pub wp_ids: Vec<String>,
    pub tip: Option<String>,
}

/// The outcome of `accept`: every gate, and whether acceptance was recorded.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptReport {
    pub mission_slug: String,
    pub accepted: bool,
    pub accepted_at: Option<String>,
    pub accepted_by: Option<String>,
    pub meta_file: PathBuf,
    pub gates: Vec<Gate>,
    pub lanes: Vec<AcceptedLane>,
    pub notes: Vec<String>,
}

/// Run every gate (all of them, so the report is complete) and, if all pass,
/// record `accepted_at`, `accepted_by` and `accepted_lanes` (lane → tip commit)
/// in meta.json under the mission's lock.
pub fn accept(project: &Project, mission: &Mission, opts: &AcceptOptions) -> Result<AcceptReport> {
    let store = StatusStore::for_mission(project, mission);
    let (snap, _) = store.snapshot()?;
    let lanes_result = LanesManifest::for_mission(mission).map_err(MergeError::from);
    let lanes = lanes_result.as_ref().ok().and_then(|l| l.as_ref());
    let mut gates = Vec::new();
    let mut notes = Vec::new();

    gates.push(work_packages_gate(mission, &snap)?);

    let repo = if project.is_git() {
        Some(Repo::open(&project.root)?)
    } else {
        None
    };
    let (code, lane_notes) = match lanes {
        Some(l) => code_lanes(project, mission, l, &snap)?,
        None => (Vec::new(), Vec::new()),
    };
    notes.extend(lane_notes);
    let tips: Vec<Option<Oid>> = code
        .iter()
        .map(|l| repo.as_ref().and_then(|r| r.branch_tip(&l.branch)))
        .collect();

    // Lane branches exist.
    let mut problems = Vec::new();
    if lanes.is_none() {
        problems.push(format!(
            "{} has no lanes.json; run `spec-kitty agent mission finalize-tasks --mission {}`",
            mission.slug, mission.slug
        ));
    } else if repo.is_none() && !code.is_empty() {
        problems.push(format!(
            "{} is not a git repository, so the code lanes have no branches",
            project.root.display()
        ));
    } else {
        for (lane, tip) in code.iter().zip(&tips) {
            if tip.is_none() {
                problems.push(format!(
                    "{}: branch {} does not exist (start its work with `spec-kitty agent action implement {} --mission {}`)",
                    lane.lane_id,
                    lane.branch,
                    lane.wp_ids.first().map(String::as_str).unwrap_or("WPxx"),
                    mission.slug
                ));
            }
        }
    }
    gates.push(Gate::new(
        "lane_branches",
        format!("{} code lane branch(es) present", code.len()),
        problems,
    ));

    // Lane worktrees have nothing uncommitted.
    let mut problems = Vec::new();
    for lane in &code {
        if lane.worktree.exists() && workspace::is_dirty(&lane.worktree).unwrap_or(true) {
            problems.push(format!(
                "{}: {} has uncommitted changes; commit them on {} (or discard them)",
                lane.lane_id,
                lane.worktree.display(),
                lane.branch
            ));
        }
    }
    gates.push(Gate::new(
        "lane_worktrees_clean",
        "no uncommitted changes in the lane worktrees".into(),
        problems,
    ));

    // A lane contains the work of other lanes it depends on.
    let mut problems = Vec::new();
    if let Some(repo) = &repo {
        problems = dependency_problems(project, mission, repo, &code, &tips)?;
    }
    gates.push(Gate::new(
        "lane_dependencies",
        "every lane contains the work it depends on".into(),
        problems,
    ));

    gates.push(scope_gate(repo.as_ref(), project, mission)?);
    gates.push(artifacts_gate(mission, &lanes_result));
    let mut boxes = checkboxes_gate(mission)?;
    if opts.lenient && !boxes.passed {
        notes.push(format!(
            "lenient: tasks.md checkboxes not blocking ({})",
            boxes.problems.join("; ")
        ));
        boxes.passed = true;
        boxes.detail = format!("lenient: {}", boxes.detail);
        boxes.problems.clear();
    }
    gates.push(boxes);

    if let Some(cmd) = &opts.test_command {
        gates.push(test_gate(
            project,
            mission,
            repo.as_ref(),
            lanes,
            cmd,
            &code,
            &tips,
        )?);
    }

    let lanes_out: Vec<AcceptedLane> = code
        .iter()
        .zip(&tips)
        .map(|(l, t)| AcceptedLane {
            lane_id: l.lane_id.clone(),
            branch: l.branch.clone(),
            worktree: l.worktree.clone(),
            wp_ids: l.wp_ids.clone(),
            tip: t.map(|o| o.to_string()),
        })
        .collect();
    let mut report = AcceptReport {
        mission_slug: mission.slug.clone(),
        accepted: false,
        accepted_at: None,
        accepted_by: None,
        meta_file: mission.meta_file(),
        gates,
        lanes: lanes_out,
        notes,
    };
    if opts.report_only {
        report
            .notes
            .push("report only: acceptance was not recorded".into());
    }
    if report.gates.iter().all(|g| g.passed) && !opts.report_only {
        let actor = opts
            .actor
            .clone()
            .filter(|a| !a.trim().is_empty())
            .or_else(|| git_user_name(repo.as_ref()))
            .unwrap_or_else(|| "user".into());
        let at = crate::timefmt::now_iso();
        let accepted_lanes: serde_json::Map<String, Value> = report
            .lanes
            .iter()
            .map(|l| {
                (
                    l.lane_id.clone(),
                    l.tip.clone().map(Value::String).unwrap_or(Value::Null),
                )
            })
            .collect();
        let _lock = FileLock::acquire(
            &mission.status_lock_path(project),
            LOCK_TIMEOUT,
            &format!("mission {}", mission.slug),
        )?;
        let mut meta = read_meta(&mission.meta_file())?;
        meta.insert("accepted_at".into(), Value::String(at.clone()));
        meta.insert("accepted_by".into(), Value::String(actor.clone()));
        meta.insert("accepted_lanes".into(), Value::Object(accepted_lanes));
        if let Some(mode) = &opts.mode {
            meta.insert("acceptance_mode".into(), Value::String(mode.clone()));
        }
        write_meta_file(&mission.meta_file(), &meta)?;
        report.accepted = true;
        report.accepted_at = Some(at);
        report.accepted_by = Some(actor);
    }
    Ok(report)
}

fn git_user_name(repo: Option<&Repo>) -> Option<String> {
    repo?.identity().ok()?.0
}

/// Work packages that are neither approved nor done (canceled ones are left out
/// of the merge and do not block it).
pub(crate) fn unfinished_wps(mission: &Mission, snap: &Snapshot) -> Result<(usize, Vec<String>)> {
    let files = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
    } else {
        Vec::new()
    };
    let mut problems = Vec::new();
    for f in &files {
        let lane = snap.lane_of(&f.id).unwrap_or(Lane::Planned);
        if !crate::status::transitions::settled(lane) {
            problems.push(format!("{} is {lane}", f.id));
        }
    }
    Ok((files.len(), problems))
}

fn work_packages_gate(mission: &Mission, snap: &Snapshot) -> Result<Gate> {
    let (total, mut problems) = unfinished_wps(mission, snap)?;
    if total == 0 {
        problems.push(format!(
            "{} has no work packages (tasks/WPxx-*.md)",
            mission.slug
        ));
    } else if !problems.is_empty() {
        let last = problems.len() - 1;
        problems[last].push_str(" (every work package must be approved or done)");
    }
    let canceled = snap
        .work_packages
        .values()
        .filter(|s| s.lane == Lane::Canceled)
        .count();
    let detail = if canceled > 0 {
        format!("{total} work package(s) approved or done ({canceled} canceled, left out)")
    } else {
        format!("{total} work package(s) approved or done")
    };
    Ok(Gate::new("work_packages", detail, problems))
}

/// Work a lane builds on but does not hold. For a WP that depends on a WP of
/// another lane, the lane must contain that dependency's approved commit (the
/// one merged into it when the WP was handed out); a lane that depends on
/// another lane with no such commit recorded must contain that lane's tip.
pub(crate) fn dependency_problems(
    project: &Project,
    mission: &Mission,
    repo: &Repo,
    code: &[CodeLane],
    tips: &[Option<Oid>],
) -> Result<Vec<String>> {
    let tip_of: BTreeMap<&str, Option<Oid>> = code
        .iter()
        .zip(tips)
        .map(|(l, t)| (l.lane_id.as_str(), *t))
        .collect();
    let lane_of: BTreeMap<&str, &str> = code
        .iter()
        .flat_map(|l| {
            l.wp_ids
                .iter()
                .map(move |w| (w.as_str(), l.lane_id.as_str()))
        })
        .collect();
    let deps_of: BTreeMap<String, Vec<String>> = if mission.tasks_dir().is_dir() {
        wp::load_all(&mission.tasks_dir())?
            .into_iter()
            .map(|f| {
                let d = f.dependencies();
                (f.id, d)
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    // The approved commits, from the saved status fold (not the whole log).
    let (_, _, roles) = StatusStore::for_mission(project, mission).snapshot_with_roles()?;
    let approved_commit = |d: &str| {
        roles
            .get(d)
            .and_then(|r| r.approved_commit.as_deref())
            .and_then(|c| crate::git::Oid::from_str(c).ok())
    };
    let mut problems = Vec::new();
    for (lane, tip) in code.iter().zip(tips) {
        let Some(tip) = tip else { continue };
        // (dependency lane) -> approved commits of the WPs this lane needs from it
        let mut needed: BTreeMap<&str, Vec<(&str, &str, Oid)>> = BTreeMap::new();
        for w in &lane.wp_ids {
            for d in deps_of.get(w).map(Vec::as_slice).unwrap_or(&[]) {
                let Some(&theirs) = lane_of.get(d.as_str()) else {
                    continue;
                };
                if theirs == lane.lane_id {
                    continue;
                }
                if let Some(c) = approved_commit(d) {
                    needed.entry(theirs).or_default().push((w, d, c));
                }
            }
        }
        for (dep_lane, wants) in &needed {
            for (w, d, c) in wants {
                if !repo.contains(*tip, *c)? {
                    problems.push(format!(
                        "{}: {w} depends on {d} (approved at {} in {dep_lane}), but the lane does not contain that commit; its work could be lost or undone. Bring it in first: `git -C {} merge {c}`",
                        lane.lane_id,
                        short(*c),
                        lane.worktree.display(),
                    ));
                }
            }
        }
        for dep in &lane.depends_on {
            if needed.contains_key(dep.as_str()) {
                continue;
            }
            let Some(Some(dep_tip)) = tip_of.get(dep.as_str()) else {
                continue;
            };
            if !repo.contains(*tip, *dep_tip)? {
                let dep_branch = code
                    .iter()
                    .find(|l| &l.lane_id == dep)
                    .map(|l| l.branch.clone())
                    .unwrap_or_default();
                problems.push(format!(
                    "{} depends on {dep} but does not contain its latest commit {}; merging it as it is could undo {dep}'s work. Bring it in first: `git -C {} merge {dep_branch}`",
                    lane.lane_id,
                    short(*dep_tip),
                    lane.worktree.display(),
                ));
            }
        }
    }
    Ok(problems)
}

/// No WP's handed-in work changes files outside its `owned_files`, unless the
/// WP file records the exception under `## Scope allowance`.
fn scope_gate(repo: Option<&Repo>, project: &Project, mission: &Mission) -> Result<Gate> {
    let problems = crate::status::work::out_of_scope(repo, project, mission)?
        .into_iter()
        .map(|f| {
            format!(
                "{} changed files outside its owned_files: {} (send it back, or record the exception under `{}` in {})",
                f.wp_id,
                f.files.join(", "),
                crate::status::work::ALLOWANCE_HEADING,
                f.wp_file.display()
            )
        })
        .collect();
    Ok(Gate::new(
        "scope",
        "every work package changed only the files it owns (or its recorded allowance)".into(),
        problems,
    ))
}

fn nonempty(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.len() > 0)
        .unwrap_or(false)
}

fn artifacts_gate(mission: &Mission, lanes: &Result<Option<LanesManifest>>) -> Gate {
    let mut problems = Vec::new();
    if let Some(e) = &mission.meta_error {
        problems.push(format!("meta.json: {e}"));
    } else if !mission.meta_file().is_file() {
        problems.push("meta.json is missing".into());
    }
    for (name, path) in [
        ("spec.md", mission.spec_file()),
        ("plan.md", mission.plan_file()),
        ("tasks.md", mission.tasks_file()),
    ] {
        if !nonempty(&path) {
            problems.push(format!("{name} is missing or empty ({})", path.display()));
        }
    }
    let wp_files = wp::list_wp_files(&mission.tasks_dir())
        .map(|v| v.len())
        .unwrap_or(0);
    if wp_files == 0 {
        problems.push(format!(
            "no work package files in {}",
            mission.tasks_dir().display()
        ));
    }
    match lanes {
        Ok(Some(_)) => {}
        Ok(None) => problems.push("lanes.json is missing".into()),
        Err(e) => problems.push(crate::error::Diagnose::message(e)),
    }
    Gate::new(
        "artifacts",
        "meta.json, spec.md, plan.md, tasks.md, work package files and lanes.json present".into(),
        problems,
    )
}

/// Every Markdown checkbox in tasks.md is ticked.
fn checkboxes_gate(mission: &Mission) -> Result<Gate> {
    let path = mission.tasks_file();
    let mut problems = Vec::new();
    let mut boxes = 0;
    if path.is_file() {
        let text = fsutil::read_to_string(&path)?;
        for (i, line) in text.lines().enumerate() {
            match checkbox(line) {
                Some(true) => boxes += 1,
                Some(false) => {
                    boxes += 1;
                    problems.push(format!(
                        "tasks.md:{}: {} is not checked",
                        i + 1,
                        line.trim()
                    ));
                }
                None => {}
            }
        }
    }
    Ok(Gate::new(
        "tasks_checkboxes",
        format!("all {boxes} checkbox(es) in tasks.md are checked"),
        problems,
    ))
}

/// `Some(done)` for a list item that starts with a checkbox.
#[allow(clippy::string_slice)] // `digits` counts leading ASCII digits: a char boundary
fn checkbox(line: &str) -> Option<bool> {
    let t = line.trim_start().trim_start_matches('>').trim_start();
    let rest = if let Some(r) = t.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        t[digits..].strip_prefix(['.', ')'])?
    };
    let rest = rest.strip_prefix([' ', '\t'])?.trim_start();
    match rest.get(..3)? {
        "[ ]" => Some(false),
        "[x]" | "[X]" => Some(true),
        _ => None,
    }
}

/// Run `cmd` once on the mission as it will land: every code lane merged onto
/// the target in dependency order (as `merge` would), checked out in a scratch
/// worktree `.worktrees/<slug>-accept-test` that is removed afterwards, pass or
/// fail. A lane that alone would fail (docs only, or half of a feature) passes
/// when the combination does.
fn test_gate(
    project: &Project,
    mission: &Mission,
    repo: Option<&Repo>,
    lanes: Option<&LanesManifest>,
    cmd: &str,
    code: &[CodeLane],
    tips: &[Option<Oid>],
) -> Result<Gate> {
    let fail = |problem: String| Gate::new("tests", String::new(), vec![problem]);
    let (Some(repo), Some(lanes)) = (repo, lanes) else {
        return Ok(fail(format!(
            "cannot run `{cmd}`: the mission needs a git repository and lanes.json to be combined"
        )));
    };
    let commit = match super::combined::combined_commit(repo, mission, lanes, code, tips)? {
        Ok(c) => c,
        Err(why) => return Ok(fail(format!("cannot run `{cmd}`: {why}"))),
    };
    let name = format!("{}-accept-test", mission.slug);
    let scratch = match crate::workspace::scratch::Scratch::create(project, &name, commit) {
        Ok(s) => s,
        Err(e) => {
            return Ok(fail(format!(
                "cannot run `{cmd}`: the scratch worktree {} could not be made: {e}",
                project.worktrees_dir().join(&name).display()
            )))
        }
    };
    let combined: Vec<&str> = code.iter().map(|l| l.lane_id.as_str()).collect();
    let what = if combined.is_empty() {
        format!(
            "{} ({})",
            target_branch(mission, Some(lanes)),
            short(commit)
        )
    } else {
        format!(
            "{} merged onto {} ({})",
            combined.join(", "),
            target_branch(mission, Some(lanes)),
            short(commit)
        )
    };
    let result = run_shell(cmd, scratch.path());
    // The scratch worktree goes whatever the command did.
    drop(scratch);
    let problem = match result {
        Ok(out) if out.status.success() => None,
        Ok(out) => {
            let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(10)..].join("\n");
            let code = out
                .status
                .code()
                .map(|c| format!("exit code {c}"))
                .unwrap_or_else(|| "killed by a signal".into());
            Some(format!(
                "`{cmd}` failed with {code} on {what}{}",
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(":\n{tail}")
                }
            ))
        }
        Err(e) => Some(format!("cannot run `{cmd}`: {e}")),
    };
    Ok(Gate::new(
        "tests",
        format!("`{cmd}` passed on {what}, the mission as it will land"),
        problem.into_iter().collect(),
    ))
}

fn run_shell(cmd: &str, dir: &Path) -> std::io::Result<std::process::Output> {
    #[cfg(windows)]
    let mut c = {
        let mut c = std::process::Command::new("cmd");
        c.arg("/C").arg(cmd);
        c
    };
    #[cfg(not(windows))]
    let mut c = {
        let mut c = std::process::Command::new("sh");
        c.arg("-c").arg(cmd);
        c
    };
    c.current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
}

/// The acceptance recorded in meta.json, if any: when, and the lane tips.
pub(crate) fn recorded(mission: &Mission) -> Result<Option<(String, BTreeMap<String, String>)>> {
    let meta = read_meta(&mission.meta_file()).map_err(|e| MergeError::UnreadableMeta {
        path: mission.meta_file(),
        source: Box::new(e),
    })?;
    let Some(at) = meta
        .get("accepted_at")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let lanes = meta
        .get("accepted_lanes")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some((at.to_string(), lanes)))
}

#[cfg(test)]
mod tests {
    use super::checkbox;

    #[test]
    fn checkbox_forms() {
        assert_eq!(checkbox("- [ ] T001 build"), Some(false));
        assert_eq!(checkbox("  * [x] done"), Some(true));
        assert_eq!(checkbox("1. [X] numbered"), Some(true));
        assert_eq!(checkbox("> - [ ] quoted"), Some(false));
        assert_eq!(checkbox("- plain item"), None);
        assert_eq!(checkbox("[ ] not a list item"), None);
        assert_eq!(checkbox("-[ ] no space"), None);
    }
}
