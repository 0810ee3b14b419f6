//! `agent mission create` and `backfill-identity`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{
    is_ulid, list, read_meta, split_number, types, write_meta_file, Mission, MissionError, Result,
};
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::project::Project;
use crate::templates;
use crate::timefmt;

#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub slug: String,
    pub mission_type: String,
    /// Defaults to the main checkout's current branch.
    pub target_branch: Option<String>,
    /// Use this mission number instead of the next free one (it must be free).
    pub number: Option<u64>,
}

/// What `create` made.
#[derive(Debug, Clone)]
pub struct Created {
    pub mission: Mission,
    pub mission_id: String,
    pub created_at: String,
    pub current_branch: Option<String>,
    pub target_branch: String,
    pub created_files: Vec<PathBuf>,
}

/// Check a slug is kebab-case; the error suggests a corrected one.
pub fn validate_slug(slug: &str) -> Result<()> {
    let ok = !slug.is_empty()
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        return Ok(());
    }
    Err(MissionError::BadSlug {
        slug: slug.to_string(),
        suggestion: suggest_slug(slug),
    })
}

fn suggest_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Create `kitty-specs/NNN-<slug>/` under an exclusive lock. The directory is
/// built under a hidden temporary name and renamed into place, so no reader ever
/// sees a half-made mission. Nothing outside the new directory changes.
pub fn create(project: &Project, opts: &CreateOptions) -> Result<Created> {
    validate_slug(&opts.slug)?;
    types::lookup(&opts.mission_type)?;
    let current_branch = project.current_branch();
    let target_branch = match (&opts.target_branch, &current_branch) {
        (Some(t), _) => t.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) if project.is_git() => return Err(MissionError::DetachedHead),
        (None, None) => "main".to_string(),
    };

    let specs = project.specs_dir();
    fsutil::create_dir_all(&specs).map_err(MissionError::Fs)?;
    let _lock = FileLock::acquire(
        &project.locks_dir().join("mission-create.lock"),
        LOCK_TIMEOUT,
        "mission numbering",
    )?;

    if let Some(existing) = list(project)?
        .into_iter()
        .find(|m| m.short_slug() == opts.slug)
    {
        return Err(MissionError::SlugTaken {
            slug: opts.slug.clone(),
            existing: existing.slug,
        });
    }
    let number = match opts.number {
        None => next_number(project)?,
        Some(n) => {
            if let Some(taken) = list(project)?
                .into_iter()
                .find(|m| m.number.as_deref().and_then(|x| x.parse().ok()) == Some(n))
            {
                return Err(MissionError::NumberTaken {
                    number: n,
                    by: taken.slug,
                });
            }
            n
        }
    };
    let dir_name = format!("{number:03}-{}", opts.slug);
    let final_dir = specs.join(&dir_name);
    let staging = specs.join(format!(".{dir_name}.creating-{}", std::process::id()));
    remove_stale_staging(&specs);
    // Created exactly where removal would be allowed: directly inside the
    // project's own kitty-specs/, never through a link.
    for dir in [&final_dir, &staging] {
        crate::confine::creatable(project, dir, crate::confine::Area::MissionDir)
            .map_err(MissionError::Confine)?;
    }

    let created_at = timefmt::now_iso();
    let mission_id = crate::ids::new_ulid();
    let build = || -> Result<()> {
        for sub in ["checklists", "research", "tasks"] {
            fsutil::create_dir_all(&staging.join(sub)).map_err(MissionError::Fs)?;
        }
        let write = |name: &str, contents: &[u8]| {
            let path = staging.join(name);
            fs::write(&path, contents).map_err(|e| MissionError::io("write", &path, e))?;
            crate::env::crash_step("create-staged-file", Some(&path));
            Ok::<(), MissionError>(())
        };
        write("tasks/.gitkeep", b"")?;
        let readme = templates::tasks_readme().replace("{target_branch}", &target_branch);
        write("tasks/README.md", readme.as_bytes())?;
        write("status.events.jsonl", b"")?;
        let spec = templates::mission_template(&opts.mission_type, "spec").unwrap_or("");
        write("spec.md", spec.as_bytes())?;

        let mut meta = Map::new();
        meta.insert("created_at".into(), Value::String(created_at.clone()));
        meta.insert(
            "friendly_name".into(),
            Value::String(opts.slug.replace('-', " ")),
        );
        meta.insert("mission_id".into(), Value::String(mission_id.clone()));
        meta.insert(
            "mission_number".into(),
            Value::String(format!("{number:03}")),
        );
        meta.insert("mission_slug".into(), Value::String(dir_name.clone()));
        meta.insert(
            "mission_type".into(),
            Value::String(opts.mission_type.clone()),
        );
        meta.insert("slug".into(), Value::String(dir_name.clone()));
        meta.insert("target_branch".into(), Value::String(target_branch.clone()));
        if opts.mission_type == "documentation" {
            meta.insert(
                "documentation_state".into(),
                serde_json::json!({
                    "coverage_percentage": 0.0, "divio_types_selected": [], "generators_configured": [],
                    "iteration_mode": "initial", "last_audit_date": null, "target_audience": "developers"
                }),
            );
        }
        write_meta_file(&staging.join("meta.json"), &meta)?;
        // Test hooks: hold here (numbered, staged, not published) while
        // another creator waits for the numbering lock; or die here.
        crate::env::pause_at(crate::env::PausePoint::CreateBeforePublish);
        crate::env::crash_step("create-staged", None);
        if final_dir.exists() {
            return Err(MissionError::AppearedWhileCreating {
                path: final_dir.clone(),
            });
        }
        fs::rename(&staging, &final_dir).map_err(|e| MissionError::io("create", &final_dir, e))?;
        crate::fsutil::note_written(&final_dir);
        crate::env::crash_step("create-published", None);
        Ok(())
    };
    if let Err(e) = build() {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    let mission = Mission::load(&final_dir);
    let created_files = vec![
        mission.spec_file(),
        mission.meta_file(),
        final_dir.join("tasks/README.md"),
    ];
    Ok(Created {
        mission,
        mission_id,
        created_at,
        current_branch,
        target_branch,
        created_files,
    })
}

/// The next free mission number: one more than the largest numeric prefix under
/// `kitty-specs/` and `.worktrees/`.
fn next_number(project: &Project) -> Result<u64> {
    let mut max = 0u64;
    for dir in [project.specs_dir(), project.worktrees_dir()] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some((n, _)) = split_number(&name) {
                if let Ok(n) = n.parse::<u64>() {
                    max = max.max(n);
                }
            }
        }
    }
    Ok(max + 1)
}

/// A mission that got (or would get) a new mission_id.
#[derive(Debug, Clone)]
pub struct Backfilled {
    pub slug: String,
    pub mission_id: String,
    pub meta_file: PathBuf,
    pub written: bool,
}

/// Mint a mission_id for each given mission whose meta.json lacks one. The ULID's
/// time part comes from `created_at` when it parses. Every other key, and the
/// key order, is left as it was.
pub fn backfill_identity(
    project: &Project,
    missions: &[Mission],
    dry_run: bool,
) -> Result<Vec<Backfilled>> {
    let mut out = Vec::new();
    for m in missions {
        let lock = FileLock::acquire(
            &m.status_lock_path(project),
            LOCK_TIMEOUT,
            &format!("mission {}", m.slug),
        )?;
        let meta_file = m.meta_file();
        let meta = read_meta(&meta_file)?;
        if meta
            .get("mission_id")
            .and_then(Value::as_str)
            .is_some_and(is_ulid)
        {
            continue;
        }
        let when = meta
            .get("created_at")
            .and_then(Value::as_str)
            .and_then(timefmt::parse_iso)
            .map(std::time::SystemTime::from)
            .unwrap_or_else(std::time::SystemTime::now);
        let id = crate::ids::ulid_at(when);
        if !dry_run {
            let updated = insert_keeping_order(meta, "mission_id", Value::String(id.clone()));
            let mut text =
                serde_json::to_string_pretty(&Value::Object(updated)).map_err(|source| {
                    MissionError::RenderMeta {
                        path: meta_file.clone(),
                        source,
                    }
                })?;
            text.push('\n');
            fsutil::atomic_write(&meta_file, text.as_bytes()).map_err(MissionError::Fs)?;
        }
        drop(lock);
        out.push(Backfilled {
            slug: m.slug.clone(),
            mission_id: id,
            meta_file,
            written: !dry_run,
        });
    }
    Ok(out)
}

/// Insert `key` where a sorted file would have it (if the keys are sorted), else at the end.
fn insert_keeping_order(meta: Map<String, Value>, key: &str, value: Value) -> Map<String, Value> {
    let keys: Vec<&String> = meta.keys().collect();
    let sorted = keys.windows(2).all(|w| w[0] <= w[1]);
    let mut out = Map::with_capacity(meta.len() + 1);
    let mut placed = false;
    for (k, v) in meta {
        if sorted && !placed && k.as_str() > key {
            out.insert(key.to_string(), value.clone());
            placed = true;
        }
        if k != key {
            out.insert(k, v);
        }
    }
    if !placed {
        out.insert(key.to_string(), value);
    }
    out
}

/// Remove `.NNN-slug.creating-PID` directories left by a create that was killed
/// mid-way. Only the holder of the create lock builds staging directories, and we
/// hold it, so any that exist are dead.
fn remove_stale_staging(specs: &Path) {
    let Ok(entries) = fs::read_dir(specs) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".creating-") {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_validation_suggests_fix() {
        assert!(validate_slug("post-555-release-hardening").is_ok());
        assert!(validate_slug("069").is_ok());
        let e = validate_slug("Bad_Slug").unwrap_err();
        assert!(
            matches!(&e, MissionError::BadSlug { suggestion, .. } if suggestion == "bad-slug"),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert_eq!(e.hint.as_deref(), Some("try `bad-slug`"));
        assert_eq!(
            e.details.as_deref(),
            Some(&serde_json::json!({"suggested_slug": "bad-slug"}))
        );
        // Nothing usable left: no hint, and the detail says so with "".
        let e = crate::Error::from(validate_slug("__").unwrap_err());
        assert_eq!(e.hint, None);
        assert_eq!(
            e.details.as_deref(),
            Some(&serde_json::json!({"suggested_slug": ""}))
        );
        assert!(validate_slug("a--b").is_err());
        assert!(validate_slug("-a").is_err());
    }

    #[test]
    fn a_held_numbering_lock_comes_back_as_the_lock_error() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let project = Project::at(dir.path());
        let lock = project.locks_dir().join("mission-create.lock");
        let _held = FileLock::acquire(&lock, LOCK_TIMEOUT, "test").unwrap();
        // The same lock from another handle, with no wait.
        let e = FileLock::acquire(&lock, std::time::Duration::ZERO, "mission numbering")
            .map_err(MissionError::from)
            .unwrap_err();
        assert!(
            matches!(
                &e,
                MissionError::Lock(crate::fsutil::LockError::Timeout { .. })
            ),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<crate::fsutil::LockError>()
            .is_some());
        let e = crate::Error::from(e);
        assert!(e.hint.unwrap().contains("another spec-kitty process"));
    }

    #[test]
    fn backfill_keeps_order_and_other_keys() {
        let mut m = Map::new();
        m.insert("zeta".into(), Value::from(1));
        m.insert("alpha".into(), Value::from(2));
        let out = insert_keeping_order(m, "mission_id", Value::from("X"));
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            vec!["zeta", "alpha", "mission_id"]
        );
        let mut s = Map::new();
        s.insert("created_at".into(), Value::from(1));
        s.insert("slug".into(), Value::from(2));
        let out = insert_keeping_order(s, "mission_id", Value::from("X"));
        assert_eq!(
            out.keys().collect::<Vec<_>>(),
            vec!["created_at", "mission_id", "slug"]
        );
    }
}
