//! Turning what a user typed (`079`, `079-slug`, `slug`, a mission_id or an
//! 8+ character prefix of one) into exactly one mission.

use std::path::Path;

use super::{list, Listed, Mission, MissionError, Result};
use crate::ids::{self, IdKind};
use crate::project::Project;

/// What the user asked for.
#[derive(Debug, Clone, Copy)]
pub enum Selector<'a> {
    /// `--mission VALUE`.
    Given(&'a str),
    /// No `--mission`: infer from the working directory, or the only mission.
    Infer { cwd: &'a Path },
}

/// Resolve a selector to one mission, with errors that list what exists.
///
/// The mission found must be usable as an identity: its directory name follows
/// the slug grammar ([`crate::ids`]; it builds branch, worktree and lock names)
/// and an existing meta.json parses. A corrupt meta.json is an error naming the
/// file, never a silent fall-back to defaults.
pub fn resolve(project: &Project, selector: Selector<'_>) -> Result<Mission> {
    let m = find(project, selector)?;
    ids::check(
        IdKind::MissionSlug,
        &m.slug,
        &m.dir,
        "mission directory name",
    )
    .map_err(MissionError::Ids)?;
    if m.meta_file().exists() {
        m.require_meta()?;
    }
    // Temp files an atomic write left when its process was killed (dead pid,
    // our own name pattern): gone before anything reads or commits the
    // mission. A mission directory that is a link is left to confinement.
    // Once per process and directory: a temp file made after the sweep is a
    // live process's (this one's included), and a command resolves its
    // mission more than once (listing 5,000 WP files each time).
    if std::fs::symlink_metadata(&m.dir).is_ok_and(|md| md.is_dir()) && first_sweep_of(&m.dir) {
        crate::fsutil::remove_stale_temps_under(&m.dir);
    }
    Ok(m)
}

/// Whether this process has not yet swept `dir` for stale temp files (and
/// notes that it now has).
fn first_sweep_of(dir: &std::path::Path) -> bool {
    static SWEPT: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut swept) = SWEPT.lock() else {
        return true;
    };
    if swept.iter().any(|d| d == dir) {
        return false;
    }
    swept.push(dir.to_path_buf());
    true
}

fn find(project: &Project, selector: Selector<'_>) -> Result<Mission> {
    let missions = list(project)?;
    match selector {
        Selector::Given(s) => resolve_given(&missions, s.trim()),
        Selector::Infer { cwd } => {
            if let Some(name) = infer_from_path(project, cwd) {
                if let Some(m) = missions.iter().find(|m| m.slug == name) {
                    return Ok(m.clone());
                }
            }
            match missions.len() {
                1 => Ok(missions[0].clone()),
                0 => Err(MissionError::NoMissions),
                _ => Err(MissionError::MustChoose {
                    missions: missions.iter().map(Listed::of).collect(),
                }),
            }
        }
    }
}

fn resolve_given(missions: &[Mission], sel: &str) -> Result<Mission> {
    if sel.is_empty() {
        return Err(MissionError::EmptySelector);
    }
    // 1. Exact directory name.
    if let Some(m) = missions.iter().find(|m| m.slug == sel) {
        return Ok(m.clone());
    }
    let matches: Vec<&Mission> = if sel.bytes().all(|b| b.is_ascii_digit()) {
        // 2. A bare number: 079 or 79.
        let want: Option<u64> = sel.parse().ok();
        missions
            .iter()
            .filter(|m| m.number.as_deref().and_then(|n| n.parse().ok()) == want)
            .collect()
    } else {
        // 3. The slug without its number, case-insensitively.
        let by_slug: Vec<&Mission> = missions
            .iter()
            .filter(|m| m.short_slug().eq_ignore_ascii_case(sel))
            .collect();
        if !by_slug.is_empty() {
            by_slug
        } else if sel.len() >= 8 && sel.bytes().all(|b| b.is_ascii_alphanumeric()) {
            // 4. A mission_id or a unique prefix of one (8+ characters).
            let upper = sel.to_ascii_uppercase();
            missions
                .iter()
                .filter(|m| m.mission_id().is_some_and(|id| id.starts_with(&upper)))
                .collect()
        } else {
            Vec::new()
        }
    };
    match matches.len() {
        1 => Ok(matches[0].clone()),
        0 if missions.is_empty() => Err(MissionError::NoMissionsToMatch {
            selector: sel.to_string(),
        }),
        0 => Err(MissionError::NoMatch {
            selector: sel.to_string(),
            missions: missions.iter().map(Listed::of).collect(),
        }),
        _ => Err(MissionError::Ambiguous {
            selector: sel.to_string(),
            candidates: matches.into_iter().map(Listed::of).collect(),
        }),
    }
}

/// The mission directory name implied by `cwd`: inside `kitty-specs/<name>/...`,
/// or inside a lane worktree `.worktrees/<name>-lane-<x>/...`.
#[allow(clippy::string_slice)] // the cut is where rfind met "-lane-", a char boundary
pub fn infer_from_path(project: &Project, cwd: &Path) -> Option<String> {
    let cwd = crate::project::normalize(cwd);
    if let Ok(rest) = cwd.strip_prefix(project.specs_dir()) {
        return rest
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
    }
    let worktree = project
        .worktree
        .as_deref()
        .map(Path::to_path_buf)
        .or_else(|| {
            let rest = cwd.strip_prefix(project.worktrees_dir()).ok()?;
            Some(
                project
                    .worktrees_dir()
                    .join(rest.components().next()?.as_os_str()),
            )
        })?;
    let name = worktree.file_name()?.to_string_lossy().into_owned();
    let idx = name.rfind("-lane-")?;
    Some(name[..idx].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn project_with(missions: &[(&str, Option<&str>)]) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        for (name, id) in missions {
            let d = dir.path().join("kitty-specs").join(name);
            fs::create_dir_all(&d).unwrap();
            let meta = match id {
                Some(id) => format!("{{\"mission_id\": \"{id}\"}}"),
                None => "{}".to_string(),
            };
            fs::write(d.join("meta.json"), meta).unwrap();
        }
        let p = Project::at(dir.path());
        (dir, p)
    }

    #[test]
    fn every_selector_form_resolves() {
        let (_d, p) = project_with(&[
            ("001-alpha", Some("01M867R2T8RDB4R11T4GJDK4V8")),
            (
                "079-post-555-release-hardening",
                Some("01M867YJZZBYTVW4RNB90MT4D3"),
            ),
        ]);
        for sel in [
            "079",
            "79",
            "079-post-555-release-hardening",
            "post-555-release-hardening",
            "01M867YJZZBYTVW4RNB90MT4D3",
            "01m867yj",
        ] {
            let m = resolve(&p, Selector::Given(sel)).unwrap();
            assert_eq!(m.slug, "079-post-555-release-hardening", "selector {sel}");
        }
    }

    #[test]
    fn ambiguous_prefix_and_unknown_are_clear() {
        let (_d, p) = project_with(&[
            ("001-a", Some("01M867R2T8RDB4R11T4GJDK4V8")),
            ("002-b", Some("01M867R2T9RDB4R11T4GJDK4V8")),
        ]);
        let e = resolve(&p, Selector::Given("01M867R2T")).unwrap_err();
        let MissionError::Ambiguous { candidates, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(candidates.len(), 2);
        let e = crate::Error::from(e);
        assert!(e.message.contains("more than one"), "{}", e.message);
        assert_eq!(
            e.details.as_deref(),
            Some(&serde_json::json!({"candidates": ["001-a", "002-b"]}))
        );
        let e = crate::Error::from(resolve(&p, Selector::Given("nope")).unwrap_err());
        assert!(
            e.message.contains("001-a") && e.message.contains("002-b"),
            "{}",
            e.message
        );
        assert_eq!(
            e.details.as_deref(),
            Some(&serde_json::json!({"available_missions": ["001-a", "002-b"]}))
        );
        let e = resolve(&p, Selector::Given(" ")).unwrap_err();
        assert!(matches!(e, MissionError::EmptySelector));
        assert_eq!(crate::Error::from(e).kind, crate::error::Kind::Usage);
    }

    #[test]
    fn infer_from_mission_dir_and_worktree() {
        let (d, p) = project_with(&[("001-a", None), ("002-b", None)]);
        let m = resolve(
            &p,
            Selector::Infer {
                cwd: &d.path().join("kitty-specs/002-b/tasks"),
            },
        )
        .unwrap();
        assert_eq!(m.slug, "002-b");
        assert_eq!(
            infer_from_path(&p, &d.path().join(".worktrees/001-a-lane-b/src")).as_deref(),
            Some("001-a")
        );
        assert!(resolve(&p, Selector::Infer { cwd: d.path() }).is_err());
    }
}
