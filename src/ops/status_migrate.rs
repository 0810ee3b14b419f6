//! `agent status migrate` and `agent status reconcile`: the `lane:` key that
//! work package files of old missions carry in their frontmatter, against the
//! event log that is the only authority today.
//!
//! The reference 3.1.1 removed both commands (they exit 1 with a notice);
//! here they work, inside the project only:
//! - migrate: a WP with no event in the log gets its frontmatter lane recorded
//!   (a bootstrap event, then a forced move to that lane naming the source);
//!   a WP the log already knows is left alone.
//! - reconcile: lists WPs whose frontmatter lane disagrees with the log;
//!   `--apply` rewrites that one key to the log's lane (the log never changes).

use serde::Serialize;
use serde_yaml::Value as Yaml;

use crate::error::{Error, Result};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore, Transition, TransitionContext};
use crate::tasks_md::wp::{self, WpFile};

/// One WP of a migration.
#[derive(Debug, Clone, Serialize)]
pub struct WpMigration {
    pub wp_id: String,
    /// The frontmatter value as written (`planned` when there was none).
    pub original_lane: String,
    pub canonical_lane: String,
    /// The value was an alias (`doing` for `in_progress`).
    pub alias_resolved: bool,
}

/// One mission of a migration.
#[derive(Debug, Clone, Serialize)]
pub struct MissionMigration {
    pub mission_slug: String,
    /// `migrated`, `skipped` (every WP already in the log) or `failed`.
    pub status: String,
    pub wp_count: usize,
    pub wp_details: Vec<WpMigration>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrationSummary {
    pub total_migrated: usize,
    pub total_skipped: usize,
    pub total_failed: usize,
    pub aliases_resolved: usize,
}

/// The reference's migration document.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationReport {
    pub features: Vec<MissionMigration>,
    pub summary: MigrationSummary,
    pub dry_run: bool,
}

fn frontmatter_lane(f: &WpFile) -> Option<String> {
    f.get_str("lane").filter(|s| !s.trim().is_empty())
}

fn migrate_one(
    project: &Project,
    mission: &Mission,
    actor: &str,
    dry_run: bool,
) -> MissionMigration {
    let mut out = MissionMigration {
        mission_slug: mission.slug.clone(),
        status: "skipped".into(),
        wp_count: 0,
        wp_details: Vec::new(),
        error: None,
    };
    if let Err(e) = migrate_into(project, mission, actor, dry_run, &mut out) {
        out.status = "failed".into();
        out.error = Some(e.message);
    }
    out.wp_count = out.wp_details.len();
    out
}

fn migrate_into(
    project: &Project,
    mission: &Mission,
    actor: &str,
    dry_run: bool,
    out: &mut MissionMigration,
) -> Result<()> {
    let store = StatusStore::for_mission(project, mission);
    // Every WP a readable line names, from the saved fold plus the new lines.
    let known = store.named_wps()?;
    let mut todo = Vec::new();
    for f in wp::load_all(&mission.tasks_dir())? {
        if known.contains(&f.id) {
            continue;
        }
        let original = frontmatter_lane(&f).unwrap_or_else(|| "planned".into());
        let lane = Lane::parse(&original).map_err(|e| {
            Error::user(format!(
                "{}: frontmatter lane {original:?}: {e}",
                f.path.display()
            ))
        })?;
        todo.push(WpMigration {
            wp_id: f.id.clone(),
            alias_resolved: original.trim() != lane.as_str(),
            original_lane: original,
            canonical_lane: lane.as_str().into(),
        });
    }
    if todo.is_empty() {
        return Ok(());
    }
    if !dry_run {
        let ids: Vec<String> = todo.iter().map(|w| w.wp_id.clone()).collect();
        let seeded = store.bootstrap(&ids, actor, false)?;
        for w in todo.iter().filter(|w| seeded.contains(&w.wp_id)) {
            if w.canonical_lane == "planned" {
                continue;
            }
            store.transition(&Transition {
                wp_id: w.wp_id.clone(),
                to: Lane::parse(&w.canonical_lane)?,
                force: true,
                chain: false,
                execution_mode: "worktree".into(),
                ctx: TransitionContext {
                    actor: actor.to_string(),
                    reason: Some(format!(
                        "migrated from frontmatter lane: {}",
                        w.original_lane
                    )),
                    wp_id: w.wp_id.clone(),
                    mission_slug: mission.slug.clone(),
                    ..Default::default()
                },
                extra: Default::default(),
            })?;
        }
    }
    out.status = "migrated".into();
    out.wp_details = todo;
    Ok(())
}

/// Migrate `missions`.
pub fn migrate(
    project: &Project,
    missions: &[Mission],
    actor: &str,
    dry_run: bool,
) -> Result<MigrationReport> {
    if actor.trim().is_empty() {
        return Err(Error::user("--actor must not be empty"));
    }
    let features: Vec<MissionMigration> = missions
        .iter()
        .map(|m| migrate_one(project, m, actor, dry_run))
        .collect();
    let count = |s: &str| features.iter().filter(|f| f.status == s).count();
    let summary = MigrationSummary {
        total_migrated: count("migrated"),
        total_skipped: count("skipped"),
        total_failed: count("failed"),
        aliases_resolved: features
            .iter()
            .flat_map(|f| &f.wp_details)
            .filter(|w| w.alias_resolved)
            .count(),
    };
    Ok(MigrationReport {
        features,
        summary,
        dry_run,
    })
}

/// A WP whose frontmatter lane disagrees with the log.
#[derive(Debug, Clone, Serialize)]
pub struct LaneDrift {
    pub wp_id: String,
    pub file: std::path::PathBuf,
    pub frontmatter_lane: String,
    pub log_lane: String,
    /// The file was rewritten (`--apply`).
    pub fixed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    pub mission_slug: String,
    pub dry_run: bool,
    pub drift: Vec<LaneDrift>,
}

/// Compare each WP's frontmatter lane with the log; with `apply`, rewrite the
/// key to the log's lane under the mission's status lock.
pub fn reconcile(project: &Project, mission: &Mission, apply: bool) -> Result<ReconcileReport> {
    let store = StatusStore::for_mission(project, mission);
    let held = if apply { Some(store.hold()?) } else { None };
    // The saved fold plus the new lines, never the whole log.
    let snap = match &held {
        Some(h) => store.snapshot_held(h)?,
        None => store.state()?.0,
    };
    let mut drift = Vec::new();
    for f in wp::load_all(&mission.tasks_dir())? {
        let Some(written) = frontmatter_lane(&f) else {
            continue;
        };
        let Some(log) = snap.lane_of(&f.id) else {
            continue;
        };
        if Lane::parse(&written).ok() == Some(log) {
            continue;
        }
        let mut d = LaneDrift {
            wp_id: f.id.clone(),
            file: f.path.clone(),
            frontmatter_lane: written,
            log_lane: log.as_str().into(),
            fixed: false,
        };
        if apply {
            let text =
                f.text_with_keys(&[("lane", Yaml::String(log.as_str().into()))], &[], "lane")?;
            crate::fsutil::atomic_write(&f.path, text.as_bytes())?;
            d.fixed = true;
        }
        drift.push(d);
    }
    Ok(ReconcileReport {
        mission_slug: mission.slug.clone(),
        dry_run: !apply,
        drift,
    })
}
