//! `spec-kitty migrate`: bring a project made by an older spec-kitty up to
//! this build's layout.
//!
//! The reference's migrate installs its global runtime (`~/.kittify/`) and
//! removes or moves the per-project copies of its templates. This build keeps
//! its templates in the binary and never writes `$HOME`, so what applies here
//! is the project's own state: missions without a `mission_id` get one, and
//! missions whose lanes live only in the work packages' frontmatter get their
//! status event log. Per-project asset copies an older version left in
//! `.kittify/` are reported (this build does not read them) and left alone.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::mission;
use crate::ops::status_migrate::{self, MigrationReport};
use crate::project::Project;

/// How one entry of `.kittify/` is classified.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Project-relative path (a folder ends in `/`).
    pub path: String,
    /// `project` (this build's state: kept), `legacy_asset` (a copy of an
    /// older version's templates or scripts, unused here: kept) or `unknown`.
    pub class: &'static str,
}

/// A mission that got (or would get) a `mission_id`.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub mission_slug: String,
    pub mission_id: String,
    pub written: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    pub dry_run: bool,
    pub entries: Vec<Entry>,
    pub identities: Vec<Identity>,
    pub status: MigrationReport,
}

impl MigrateReport {
    pub fn count(&self, class: &str) -> usize {
        self.entries.iter().filter(|e| e.class == class).count()
    }
    /// Whether anything was (or, on a dry run, would be) changed.
    pub fn changes(&self) -> usize {
        self.identities.len() + self.status.summary.total_migrated
    }
}

/// This build's own state under `.kittify/`.
const PROJECT: &[&str] = &[
    "config.yaml",
    "metadata.yaml",
    "managed-files.json",
    "charter",
    "doctrine",
    "glossary",
    ".locks",
    ".dashboard",
    "workspaces",
    "merge-state.json",
    "dossiers",
    "events",
    "runtime",
    "prompts",
];

/// What older versions copied into every project (now built into the binary).
const LEGACY: &[&str] = &[
    "templates",
    "missions",
    "scripts",
    "command-templates",
    "memory",
    "overrides",
    "AGENTS.md",
    "skills-manifest.json",
];

fn classify(kittify: &Path) -> Vec<Entry> {
    let Ok(rd) = std::fs::read_dir(kittify) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = rd
        .flatten()
        .take(10_000)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let dir = e.file_type().is_ok_and(|t| t.is_dir());
            let class = if PROJECT.contains(&name.as_str()) || crate::fsutil::is_temp_name(&name) {
                "project"
            } else if LEGACY.contains(&name.as_str()) {
                "legacy_asset"
            } else {
                "unknown"
            };
            Entry {
                path: format!(".kittify/{name}{}", if dir { "/" } else { "" }),
                class,
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// Run (or with `dry_run`, preview) the migration of `project`.
pub fn migrate(project: &Project, dry_run: bool) -> Result<MigrateReport> {
    let missions = mission::list(project)?;
    let identities = mission::backfill_identity(project, &missions, dry_run)?
        .into_iter()
        .map(|b| Identity {
            mission_slug: b.slug,
            mission_id: b.mission_id,
            written: b.written,
        })
        .collect();
    // Listed again: a backfilled meta.json is what the status migration reads.
    let missions = mission::list(project)?;
    let status = status_migrate::migrate(project, &missions, "migration", dry_run)?;
    Ok(MigrateReport {
        dry_run,
        entries: classify(&project.kittify_dir()),
        identities,
        status,
    })
}
