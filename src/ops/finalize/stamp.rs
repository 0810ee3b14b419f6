//! The finalize stamp: what a finalize-tasks run that found nothing to change
//! read, and what it reported, so a run on the very same files answers at once.
//!
//! A run that wrote nothing (no WP file, no lanes.json, no seeded event) saves
//! its report beside a description of every input it read and every output it
//! would have written: the WP files (names and a SHA-256 of their bytes),
//! tasks.md, spec.md, lanes.json, status.json and meta.json (SHA-256 of their bytes), the
//! status log (its [`LogIdentity`]: identity, size, time and sampled windows,
//! what the saved fold trusts), the mission's slug, id and target branch, the
//! lane strategy, and the running binary (path, size and time: another build
//! may report differently). A later run computes the same description of the
//! files as they are now; only when every part is equal, and the saved report
//! agrees with the files listed (ids, counts, nothing to write), is that report
//! the answer. Otherwise (a changed, missing, unreadable, corrupt or hostile
//! stamp, another binary) the run is the full one. The stamp never stands in
//! for a file: it only says that a full run would find these files unchanged
//! and report this.
//!
//! It is derived data, kept where the saved status fold is and where
//! `git status` never looks: `<git-common-dir>/spec-kitty/finalize-cache/`
//! (one file per mission directory, so each worktree keeps its own), or
//! `.kittify/runtime/finalize-cache/` (git-ignored by `init`) without git.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Report;
use crate::fsutil;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::cache::{log_identity, LogIdentity};
use crate::tasks_md::wp::{self, WpText};

/// Layout of the stamp file: another one is ignored (a full run).
const STAMP_VERSION: u32 = 1;

/// Everything a finalize run's report depends on, and what it leaves behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Inputs {
    /// The running binary: canonical path, size, modification time (ns).
    binary: (PathBuf, u64, u64),
    version: String,
    mission_dir: PathBuf,
    slug: String,
    mission_id: Option<String>,
    /// meta.json's bytes (the mission's type and number reach status.json).
    meta_json: Option<String>,
    target: String,
    strategy: String,
    /// SHA-256 of every WP file's name and bytes, in listing order.
    wps: String,
    tasks_md: Option<String>,
    spec_md: Option<String>,
    lanes_json: Option<String>,
    status_json: Option<String>,
    log: Option<LogIdentity>,
}

/// What the stamp file holds.
#[derive(Debug, Serialize, Deserialize)]
struct StampFile {
    version: u32,
    inputs: Inputs,
    report: Report,
}

/// The facts about the mission a run is keyed on, besides its files.
pub(super) struct Key<'a> {
    pub mission: &'a Mission,
    pub target: &'a str,
    pub strategy: &'a str,
}

/// Where the stamp of `mission` lives (see the module docs).
pub(super) fn path(project: &Project, mission: &Mission) -> PathBuf {
    let base = match &project.git_common_dir {
        Some(common) => common.join("spec-kitty").join("finalize-cache"),
        None => project.kittify_dir().join("runtime").join("finalize-cache"),
    };
    let real = std::fs::canonicalize(&mission.dir).unwrap_or_else(|_| mission.dir.clone());
    let tag: String = sha256(real.to_string_lossy().as_bytes())
        .chars()
        .take(16)
        .collect();
    base.join(format!("{}-{tag}.json", mission.slug))
}

fn hex(d: ring::digest::Digest) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// SHA-256 of every WP file's name and bytes; None when one could not be read.
fn wps_digest(texts: &[WpText]) -> Option<String> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&(texts.len() as u64).to_le_bytes());
    for (path, text) in texts {
        let name = path.file_name()?.to_string_lossy();
        let text = text.as_deref()?;
        ctx.update(&(name.len() as u64).to_le_bytes());
        ctx.update(name.as_bytes());
        ctx.update(&(text.len() as u64).to_le_bytes());
        ctx.update(text.as_bytes());
    }
    Some(hex(ctx.finish()))
}

/// SHA-256 of a file read now; Some(None) when it does not exist, None when it
/// cannot be read.
fn file_digest(path: &Path) -> Option<Option<String>> {
    fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .map(|t| t.map(|t| sha256(t.as_bytes())))
}

/// The files finalize read, as it read them.
pub(super) struct Read<'a> {
    pub wps: &'a [WpText],
    pub tasks_md: Option<&'a str>,
    pub spec_md: Option<&'a str>,
    pub lanes_json: Option<&'a str>,
    pub status_json: &'a Path,
    /// The log's identity ([`log`]): None when it could not be read.
    pub log: Option<Option<LogIdentity>>,
}

/// The running binary as the stamp keys on it; None when it cannot be told.
fn binary() -> Option<(PathBuf, u64, u64)> {
    let exe = crate::env::current_exe()?;
    let md = std::fs::metadata(&exe).ok()?;
    let mtime = md
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((exe, md.len(), u64::try_from(mtime).ok()?))
}

/// The description of a run on these files; None when some input could not
/// be read (the run is then the full one, and saves no stamp).
pub(super) fn inputs(key: &Key<'_>, read: Read<'_>) -> Option<Inputs> {
    Some(Inputs {
        binary: binary()?,
        version: crate::VERSION.to_string(),
        mission_dir: key.mission.dir.clone(),
        slug: key.mission.slug.clone(),
        mission_id: key.mission.mission_id().map(str::to_string),
        meta_json: file_digest(&key.mission.meta_file())?,
        target: key.target.to_string(),
        strategy: key.strategy.to_string(),
        wps: wps_digest(read.wps)?,
        tasks_md: read.tasks_md.map(|t| sha256(t.as_bytes())),
        spec_md: read.spec_md.map(|t| sha256(t.as_bytes())),
        lanes_json: read.lanes_json.map(|t| sha256(t.as_bytes())),
        status_json: file_digest(read.status_json)?,
        log: read.log?,
    })
}

/// A saved stamp, read before anything is hashed: without one (the first
/// run) the files are not hashed at all.
pub(super) struct Saved(StampFile);

/// The stamp at `path`, when there is a readable one of this layout.
pub(super) fn load(path: &Path) -> Option<Saved> {
    let text = fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()?;
    let stamp: StampFile = crate::bounds::json(&text).ok()?;
    (stamp.version == STAMP_VERSION).then_some(Saved(stamp))
}

impl Saved {
    /// The saved report, when it was made from exactly `inputs` and agrees
    /// with the WP files listed.
    pub(super) fn report_for(self, inputs: &Inputs, wps: &[WpText]) -> Option<Report> {
        let stamp = self.0;
        (&stamp.inputs == inputs && agrees(&stamp.report, wps)).then_some(stamp.report)
    }
}

/// A saved report fits the files listed now: one entry per WP file in the
/// same order, every one unchanged, nothing written or seeded.
fn agrees(r: &Report, wps: &[WpText]) -> bool {
    let ids: Option<Vec<String>> = wps
        .iter()
        .map(|(p, _)| wp::wp_id_from_filename(p.file_name()?.to_str()?))
        .collect();
    let Some(ids) = ids else {
        return false;
    };
    r.wp_count == ids.len()
        && r.unchanged_wps == ids
        && r.modified_wps.is_empty()
        && r.would_modify.is_empty()
        && r.files_written.is_empty()
        && r.bootstrap.total_wps == ids.len()
        && r.bootstrap.newly_seeded == 0
        && r.bootstrap.already_initialized == ids.len()
        && !r.lanes.changed
        && r.dependencies_parsed.len() == ids.len()
        && ids.iter().all(|id| r.dependencies_parsed.contains_key(id))
        && r.requirement_refs_parsed.len() == ids.len()
        && ids
            .iter()
            .all(|id| r.requirement_refs_parsed.contains_key(id))
        && r.preserved_wps.iter().all(|id| ids.contains(id))
}

/// Save the report of a run that changed nothing (a failure only means the
/// next run is a full one).
pub(super) fn save(path: &Path, inputs: Inputs, report: &Report) {
    let mut report = report.clone();
    report.validate_only = false;
    let stamp = StampFile {
        version: STAMP_VERSION,
        inputs,
        report,
    };
    let Ok(text) = serde_json::to_vec(&stamp) else {
        return;
    };
    if let Some(dir) = path.parent() {
        if fsutil::create_dir_all(dir).is_err() {
            return;
        }
    }
    let _ = fsutil::atomic_write(path, &text);
}

/// The log's identity for a stamp; None when it cannot be read (no stamp).
pub(super) fn log(events: &Path) -> Option<Option<LogIdentity>> {
    log_identity(events).ok()
}
