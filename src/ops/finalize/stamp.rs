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
const STAMP_VERSION: u32 = 2;

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
    /// The WP files as `stat` saw them before the run read them.
    wp_stats: Option<WpStats>,
    report: Report,
}

/// One WP file as `stat` saw it: a file whose every field is the same (and
/// whose last change was well before they were taken, see [`WpStats`]) has
/// the bytes it had then, as `git status` trusts its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStat {
    name: String,
    size: u64,
    /// Seconds and nanoseconds.
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

/// The WP files of a run as `stat` saw them before any was read, and when
/// (the system clock, seconds). A write in the same clock tick as a file's
/// last change leaves its times as they were: only files whose last change
/// was [`SETTLED_SECS`] before `taken` are trusted by their stat; any other
/// is read and hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct WpStats {
    taken: i64,
    files: Vec<FileStat>,
}

/// How long before the stats were taken a file must have last changed to be
/// trusted by its stat (file times come from a coarse clock).
const SETTLED_SECS: i64 = 2;

/// The WP files listed, as `stat` sees them now (before they are read).
pub(super) struct Listed {
    pub paths: Vec<PathBuf>,
    /// None when one could not be told (the files are then read and hashed).
    stats: Option<WpStats>,
}

/// Stat every WP file listed, before any is read.
pub(super) fn stat_listed(paths: Vec<PathBuf>) -> Listed {
    let stats = wp_stats(&paths);
    Listed { paths, stats }
}

#[cfg(unix)]
fn wp_stats(paths: &[PathBuf]) -> Option<WpStats> {
    use std::os::unix::fs::MetadataExt;
    let taken = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let taken = i64::try_from(taken).ok()?;
    let files = paths
        .iter()
        .map(|p| {
            let md = std::fs::metadata(p).ok()?;
            Some(FileStat {
                name: p.file_name()?.to_str()?.to_string(),
                size: md.len(),
                mtime: (md.mtime(), md.mtime_nsec()),
                ctime: (md.ctime(), md.ctime_nsec()),
                ino: md.ino(),
                dev: md.dev(),
            })
        })
        .collect::<Option<Vec<FileStat>>>()?;
    Some(WpStats { taken, files })
}

#[cfg(not(unix))]
fn wp_stats(_: &[PathBuf]) -> Option<WpStats> {
    None
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
pub(super) fn wps_digest(texts: &[WpText]) -> Option<String> {
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
    /// The digest of the WP files ([`wps_digest`]), None when one could not be read.
    pub wps: Option<String>,
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
        wps: read.wps?,
        tasks_md: read.tasks_md.map(|t| sha256(t.as_bytes())),
        spec_md: read.spec_md.map(|t| sha256(t.as_bytes())),
        lanes_json: read.lanes_json.map(|t| sha256(t.as_bytes())),
        status_json: file_digest(read.status_json)?,
        log: read.log?,
    })
}

/// A saved stamp, read before anything is hashed: without one (the first
/// run) the files are not hashed at all.
pub(super) struct Saved(Box<StampFile>);

/// The stamp at `path`, when there is a readable one of this layout.
pub(super) fn load(path: &Path) -> Option<Saved> {
    let text = fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()?;
    let stamp: StampFile = crate::bounds::json(&text).ok()?;
    (stamp.version == STAMP_VERSION).then(|| Saved(Box::new(stamp)))
}

impl Saved {
    /// The digest of the WP files the saved run read, when every file listed
    /// now is one of them as `stat` saw it then (same name, size, times,
    /// inode, device, in the same order), each settled well before then.
    pub(super) fn unchanged_wps(&self, listed: &Listed) -> Option<String> {
        let (Some(then), Some(now)) = (&self.0.wp_stats, &listed.stats) else {
            return None;
        };
        let settled = |f: &FileStat| f.mtime.0.max(f.ctime.0) < then.taken - SETTLED_SECS;
        (then.files == now.files && then.files.iter().all(settled))
            .then(|| self.0.inputs.wps.clone())
    }

    /// The saved report, when it was made from exactly `inputs` and agrees
    /// with the WP files listed; the stamp back otherwise.
    pub(super) fn report_for(self, inputs: &Inputs, wps: &[PathBuf]) -> Result<Report, Saved> {
        if &self.0.inputs == inputs && agrees(&self.0.report, wps) {
            Ok(self.0.report)
        } else {
            Err(self)
        }
    }
}

/// A saved report fits the files listed now: one entry per WP file in the
/// same order, every one unchanged, nothing written or seeded.
fn agrees(r: &Report, wps: &[PathBuf]) -> bool {
    let ids: Option<Vec<String>> = wps
        .iter()
        .map(|p| wp::wp_id_from_filename(p.file_name()?.to_str()?))
        .collect();
    let Some(ids) = ids else {
        return false;
    };
    let known: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
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
        && r.preserved_wps.iter().all(|id| known.contains(id.as_str()))
}

/// Save the report of a run that changed nothing (a failure only means the
/// next run is a full one).
pub(super) fn save(path: &Path, inputs: Inputs, listed: &Listed, report: &Report) {
    let mut report = report.clone();
    report.validate_only = false;
    let stamp = StampFile {
        version: STAMP_VERSION,
        inputs,
        wp_stats: listed.stats.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(name: &str, changed: i64) -> FileStat {
        FileStat {
            name: name.into(),
            size: 100,
            mtime: (changed, 5),
            ctime: (changed, 7),
            ino: 42,
            dev: 1,
        }
    }

    fn saved(taken: i64, files: Vec<FileStat>) -> Saved {
        Saved(Box::new(StampFile {
            version: STAMP_VERSION,
            inputs: Inputs {
                binary: (PathBuf::from("/bin/x"), 1, 1),
                version: "v".into(),
                mission_dir: PathBuf::from("/m"),
                slug: "001-m".into(),
                mission_id: None,
                meta_json: None,
                target: "main".into(),
                strategy: "parallel".into(),
                wps: "digest".into(),
                tasks_md: None,
                spec_md: None,
                lanes_json: None,
                status_json: None,
                log: None,
            },
            wp_stats: Some(WpStats { taken, files }),
            report: Report::default(),
        }))
    }

    fn listed(files: Vec<FileStat>) -> Listed {
        Listed {
            paths: Vec::new(),
            stats: Some(WpStats { taken: 0, files }),
        }
    }

    #[test]
    fn wp_files_are_trusted_by_their_stat_only_when_every_field_matches_and_settled() {
        let then = vec![stat("WP01-a.md", 1000), stat("WP02-b.md", 990)];
        let s = saved(1010, then.clone());
        assert_eq!(
            s.unchanged_wps(&listed(then.clone())).as_deref(),
            Some("digest")
        );
        // Any field of any file differs: not trusted.
        let edits: [fn(&mut FileStat); 7] = [
            |f| f.name = "WP01-b.md".into(),
            |f| f.size += 1,
            |f| f.mtime.1 += 1,
            |f| f.ctime.1 += 1,
            |f| f.ctime.0 -= 1,
            |f| f.ino += 1,
            |f| f.dev += 1,
        ];
        for edit in &edits {
            let mut now = then.clone();
            edit(&mut now[1]);
            assert_eq!(s.unchanged_wps(&listed(now)), None);
        }
        // A file more or fewer, or in another order: not trusted.
        assert_eq!(s.unchanged_wps(&listed(then[..1].to_vec())), None);
        let mut more = then.clone();
        more.push(stat("WP03-c.md", 900));
        assert_eq!(s.unchanged_wps(&listed(more)), None);
        assert_eq!(
            s.unchanged_wps(&listed(vec![then[1].clone(), then[0].clone()])),
            None
        );
        // Nothing stat-ed now, or then: not trusted.
        let none = Listed {
            paths: Vec::new(),
            stats: None,
        };
        assert_eq!(s.unchanged_wps(&none), None);
        let mut no_stats = saved(1010, Vec::new());
        no_stats.0.wp_stats = None;
        assert_eq!(no_stats.unchanged_wps(&listed(Vec::new())), None);
        // A file changed within SETTLED_SECS of when the stats were taken
        // (a write in the same clock tick would not show): not trusted, by
        // its change time or its modification time.
        for taken in [1000, 1001, 1002] {
            assert_eq!(
                saved(taken, then.clone()).unchanged_wps(&listed(then.clone())),
                None
            );
        }
        let mut late_mtime = then.clone();
        late_mtime[1].mtime.0 = 1009;
        assert_eq!(
            saved(1010, late_mtime.clone()).unchanged_wps(&listed(late_mtime)),
            None
        );
        assert!(saved(1003, then.clone())
            .unchanged_wps(&listed(then))
            .is_some());
    }
}
