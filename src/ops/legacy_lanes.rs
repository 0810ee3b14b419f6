//! `validate-tasks`: legacy missions kept their work packages in lane
//! directories (`tasks/planned/`, `tasks/doing/`, `tasks/for_review/`,
//! `tasks/done/`). A file whose frontmatter `lane` disagrees with the directory
//! it sits in is a mismatch; `fix` sets `lane` to the directory's lane (the
//! rest of the frontmatter kept as written) and notes the repair in the file's
//! Activity Log. Current missions (flat `tasks/`) have nothing to check here:
//! their lanes live in the event log.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml::Value;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::tasks_md::wp::{wp_id_from_filename, WpFile};

/// The legacy lane directories, in the reference's order.
pub const LANE_DIRS: &[&str] = &["planned", "doing", "for_review", "done"];

/// Directory levels walked below a lane directory.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Relative to the mission directory.
    pub file: String,
    pub expected_lane: String,
    /// None when the file has no `lane`.
    pub actual_lane: Option<String>,
    pub fixed: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MissionReport {
    pub mission_slug: String,
    pub feature_dir: PathBuf,
    pub mismatches: Vec<Mismatch>,
}

impl MissionReport {
    pub fn fixed(&self) -> usize {
        self.mismatches.iter().filter(|m| m.fixed).count()
    }
}

/// Who repairs: the activity-log entry names them.
pub struct Repairer<'a> {
    pub agent: &'a str,
    pub shell_pid: &'a str,
}

fn wp_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let meta = std::fs::symlink_metadata(&p).map_err(|e| Error::io("read", &p, e))?;
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if meta.is_dir() {
            wp_files(&p, depth + 1, out)?;
        } else if meta.is_file() && name.ends_with(".md") && wp_id_from_filename(&name).is_some() {
            out.push(p);
        }
    }
    Ok(())
}

/// Check (and with `fix`, repair) the lane directories of one mission.
pub fn check_dir(slug: &str, dir: &Path, fix: Option<&Repairer>) -> Result<MissionReport> {
    let mut report = MissionReport {
        mission_slug: slug.to_string(),
        feature_dir: dir.to_path_buf(),
        mismatches: Vec::new(),
    };
    for lane in LANE_DIRS {
        let lane_dir = dir.join("tasks").join(lane);
        if !std::fs::symlink_metadata(&lane_dir).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let mut files = Vec::new();
        wp_files(&lane_dir, 0, &mut files)?;
        for path in files {
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let wp = match WpFile::read(&path) {
                Ok(wp) => wp,
                Err(e) => {
                    report.mismatches.push(Mismatch {
                        file: rel,
                        expected_lane: (*lane).to_string(),
                        actual_lane: None,
                        fixed: false,
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let actual = wp.get_str("lane").map(|l| l.trim().to_string());
            if actual.as_deref() == Some(*lane) {
                continue;
            }
            let mut m = Mismatch {
                file: rel,
                expected_lane: (*lane).to_string(),
                actual_lane: actual,
                fixed: false,
                error: None,
            };
            if let Some(who) = fix {
                match repair(&wp, lane, m.actual_lane.as_deref(), who) {
                    Ok(()) => m.fixed = true,
                    Err(e) => m.error = Some(e.to_string()),
                }
            }
            report.mismatches.push(m);
        }
    }
    Ok(report)
}

fn repair(wp: &WpFile, lane: &str, was: Option<&str>, who: &Repairer) -> Result<()> {
    let text = wp.text_with_keys(&[("lane", Value::String(lane.to_string()))], &[], "title")?;
    let note = format!(
        "Auto-repaired lane metadata to {lane} (was: {}; shell_pid {})",
        was.unwrap_or("unset"),
        who.shell_pid
    );
    let text = crate::status::ops::with_activity(&text, who.agent, &note);
    fsutil::atomic_write(&wp.path, text.as_bytes())?;
    Ok(())
}

/// [`check_dir`] on a mission of the project; a fix holds the mission's
/// status lock (the lock every writer of its work package files takes).
pub fn check_mission(
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    fix: Option<&Repairer>,
) -> Result<MissionReport> {
    let _lock = if fix.is_some() {
        let store = crate::status::StatusStore::for_mission(project, mission);
        Some(fsutil::FileLock::acquire(
            &store.lock_path,
            fsutil::LOCK_TIMEOUT,
            "the mission's status",
        )?)
    } else {
        None
    };
    check_dir(&mission.slug, &mission.dir, fix)
}

/// `validate-tasks` over several missions (with `worktrees`, also the
/// copies of missions inside lane worktrees): each report, and the totals.
#[derive(Debug, Clone)]
pub struct Run {
    pub reports: Vec<MissionReport>,
    /// Mismatches found, and fixed.
    pub found: usize,
    pub fixed: usize,
    pub fix: bool,
}

/// [`check_mission`] on each of `missions`, then (with `worktrees`)
/// [`check_dir`] on each mission directory inside a lane worktree.
pub fn check_missions(
    project: &crate::project::Project,
    missions: &[crate::mission::Mission],
    worktrees: bool,
    fix: Option<&Repairer>,
) -> Result<Run> {
    let copies = if worktrees {
        worktree_missions(project)
    } else {
        Vec::new()
    };
    let mut reports = Vec::new();
    for m in missions {
        reports.push(check_mission(project, m, fix)?);
    }
    for (slug, dir) in &copies {
        reports.push(check_dir(slug, dir, fix)?);
    }
    Ok(Run {
        found: reports.iter().map(|r| r.mismatches.len()).sum(),
        fixed: reports.iter().map(MissionReport::fixed).sum(),
        reports,
        fix: fix.is_some(),
    })
}

/// The mission directories inside lane worktrees (`.worktrees/*/kitty-specs/*`).
fn worktree_missions(project: &crate::project::Project) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(project.worktrees_dir()) else {
        return out;
    };
    let mut wts: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    wts.sort();
    for wt in wts {
        let Ok(specs) = std::fs::read_dir(wt.join("kitty-specs")) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = specs
            .flatten()
            .map(|e| e.path())
            .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
            .collect();
        dirs.sort();
        for d in dirs {
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let wt_name = wt
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push((format!("{name} (in .worktrees/{wt_name})"), d));
        }
    }
    out
}
