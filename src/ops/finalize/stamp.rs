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
const STAMP_VERSION: u32 = 3;

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
    /// SHA-256 of every WP file's name and digest, in listing order
    /// ([`WpDigests::all`]).
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
    /// The WP files as `stat` saw them before the run read them, each with
    /// the SHA-256 of the bytes it read.
    wp_stats: Option<WpStats>,
    report: Report,
}

/// One WP file as `stat` saw it: name, size, modification and change time
/// (seconds, nanoseconds), inode, device. A JSON array in the stamp (a
/// thousand of them parse without a key per field). A file whose every field
/// is the same, and whose last change was before the stats were taken (see
/// [`WpStats`]), has the bytes it had then, as `git status` trusts its index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStat(String, u64, (i64, i64), (i64, i64), u64, u64);

impl FileStat {
    /// The later of its modification and change times, in nanoseconds.
    fn changed_ns(&self) -> i128 {
        ns(self.2).max(ns(self.3))
    }

    /// Both times on whole seconds (a filesystem that keeps no nanoseconds).
    fn whole_seconds(&self) -> bool {
        self.2 .1 == 0 && self.3 .1 == 0
    }
}

fn ns((s, n): (i64, i64)) -> i128 {
    i128::from(s) * 1_000_000_000 + i128::from(n)
}

/// The WP files of a run as `stat` saw them before any was read, and when:
/// the system clock (ns) just before the first `stat`, and the granularity
/// of the clock file times come from (`slack`, ns). The racy-clean rule of
/// git's index: a file whose last change is `slack` or more before `taken`
/// was last written before the stats were taken, so any later write gives it
/// a later time and shows in its stat; a file changed closer to `taken` (or
/// after it, or not before the stamp file itself was written) is "racily
/// clean": its stat cannot tell, so it is read and hashed. On a filesystem
/// whose times have no nanoseconds the slack is [`COARSE_SLACK_NS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct WpStats {
    taken: i128,
    slack: i128,
    files: Vec<FileStat>,
    /// SHA-256 (hex) of each file's bytes as the run read them; empty in
    /// [`Listed`] (before the read).
    digests: Vec<String>,
}

/// The slack on a filesystem that keeps file times in whole seconds (or
/// coarser: FAT keeps two-second times).
const COARSE_SLACK_NS: i128 = 2_000_000_000;

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

/// How far file times may lag the system clock: the tick of the coarse
/// clock the kernel stamps files with, and a millisecond more.
#[cfg(target_os = "linux")]
fn clock_slack_ns() -> i128 {
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_getres writes one timespec into the struct it is given.
    let ok = unsafe { libc::clock_getres(libc::CLOCK_REALTIME_COARSE, &mut res) } == 0;
    let tick = i128::from(res.tv_sec) * 1_000_000_000 + i128::from(res.tv_nsec);
    if ok && (0..=1_000_000_000).contains(&tick) {
        tick + 1_000_000
    } else {
        COARSE_SLACK_NS
    }
}

#[cfg(all(unix, not(target_os = "linux")))]
fn clock_slack_ns() -> i128 {
    COARSE_SLACK_NS
}

#[cfg(unix)]
fn wp_stats(paths: &[PathBuf]) -> Option<WpStats> {
    use std::os::unix::fs::MetadataExt;
    let taken = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    let taken = i128::try_from(taken).ok()?;
    let files = paths
        .iter()
        .map(|p| {
            let md = std::fs::metadata(p).ok()?;
            Some(FileStat(
                p.file_name()?.to_str()?.to_string(),
                md.len(),
                (md.mtime(), md.mtime_nsec()),
                (md.ctime(), md.ctime_nsec()),
                md.ino(),
                md.dev(),
            ))
        })
        .collect::<Option<Vec<FileStat>>>()?;
    Some(WpStats {
        taken,
        slack: clock_slack_ns(),
        files,
        digests: Vec::new(),
    })
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

/// The WP files' digests: each file's SHA-256 (hex) and the one over all.
pub(super) struct WpDigests {
    /// SHA-256 of the count, then each file's name and digest, in order.
    pub all: String,
    each: Vec<String>,
}

/// The SHA-256 of every WP file's name and bytes; None when one could not
/// be read.
pub(super) fn wps_digest(texts: &[WpText]) -> Option<WpDigests> {
    let each = texts
        .iter()
        .map(|(_, text)| Some(sha256(text.as_deref()?.as_bytes())))
        .collect::<Option<Vec<String>>>()?;
    let names = texts
        .iter()
        .map(|(p, _)| Some(p.file_name()?.to_string_lossy()))
        .collect::<Option<Vec<_>>>()?;
    let all = combine(names.iter().map(|n| n.as_ref()), &each);
    Some(WpDigests { all, each })
}

/// One digest over the files' names and digests.
fn combine<'a>(names: impl Iterator<Item = &'a str>, each: &[String]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&(each.len() as u64).to_le_bytes());
    for (name, digest) in names.zip(each) {
        ctx.update(&(name.len() as u64).to_le_bytes());
        ctx.update(name.as_bytes());
        ctx.update(digest.as_bytes());
    }
    hex(ctx.finish())
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
pub(super) struct Saved {
    stamp: Box<StampFile>,
    /// The stamp file's modification time (ns): no file changed at or after
    /// it is trusted by its stat.
    written: Option<i128>,
}

/// The stamp at `path`, when there is a readable one of this layout.
pub(super) fn load(path: &Path) -> Option<Saved> {
    let text = fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()?;
    let stamp: StampFile = crate::bounds::json(&text).ok()?;
    (stamp.version == STAMP_VERSION).then(|| Saved {
        stamp: Box::new(stamp),
        written: modified_ns(path),
    })
}

#[cfg(unix)]
fn modified_ns(path: &Path) -> Option<i128> {
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(path).ok()?;
    Some(ns((md.mtime(), md.mtime_nsec())))
}

#[cfg(not(unix))]
fn modified_ns(_: &Path) -> Option<i128> {
    None
}

impl Saved {
    /// The digest of the WP files listed now ([`WpDigests::all`]), when they
    /// are the files the saved run read (same names, in the same order) with
    /// the same bytes: a file whose stat is the one the saved run saw and
    /// that had settled by then (see [`WpStats`]) is trusted without a read;
    /// any other is read now and its digest compared. None when one differs
    /// or cannot be read.
    pub(super) fn unchanged_wps(&self, listed: &Listed) -> Option<String> {
        self.unchanged_wps_with(listed, |p| fsutil::read_to_string(p).ok())
    }

    fn unchanged_wps_with(
        &self,
        listed: &Listed,
        read: impl Fn(&Path) -> Option<String>,
    ) -> Option<String> {
        let then = self.stamp.wp_stats.as_ref()?;
        let now = listed.stats.as_ref()?;
        if then.files.len() != now.files.len()
            || then.digests.len() != then.files.len()
            || listed.paths.len() != now.files.len()
            || then.files.iter().zip(&now.files).any(|(a, b)| a.0 != b.0)
        {
            return None;
        }
        let written = self.written?;
        let slack = if then.files.iter().all(FileStat::whole_seconds) {
            COARSE_SLACK_NS
        } else {
            then.slack.max(0)
        };
        let settled_before = (then.taken - slack).min(written);
        for (((a, b), digest), path) in then
            .files
            .iter()
            .zip(&now.files)
            .zip(&then.digests)
            .zip(&listed.paths)
        {
            if a == b && a.changed_ns() < settled_before {
                continue;
            }
            // Racily clean, or its stat changed: its bytes tell.
            let text = read(path)?;
            if &sha256(text.as_bytes()) != digest {
                return None;
            }
        }
        let all = combine(then.files.iter().map(|f| f.0.as_str()), &then.digests);
        (all == self.stamp.inputs.wps).then_some(all)
    }

    /// The saved report, when it was made from exactly `inputs` and agrees
    /// with the WP files listed.
    pub(super) fn report_for(self, inputs: &Inputs, wps: &[PathBuf]) -> Option<Report> {
        let stamp = *self.stamp;
        (&stamp.inputs == inputs && agrees(&stamp.report, wps)).then_some(stamp.report)
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

/// Save the report of a run that changed nothing, with the stats of the
/// WP files it listed and the digests of what it read (a failure only means
/// the next run is a full one).
pub(super) fn save(
    path: &Path,
    inputs: Inputs,
    listed: &Listed,
    digests: WpDigests,
    report: &Report,
) {
    let mut report = report.clone();
    report.validate_only = false;
    let wp_stats = listed.stats.clone().map(|mut s| {
        s.digests = digests.each;
        s
    });
    let stamp = StampFile {
        version: STAMP_VERSION,
        inputs,
        wp_stats,
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

    const SEC: i128 = 1_000_000_000;

    fn stat(name: &str, changed: i64) -> FileStat {
        FileStat(name.into(), 100, (changed, 5), (changed, 7), 42, 1)
    }

    fn text_of(name: &str) -> String {
        format!("text of {name}")
    }

    /// A stamp saved at `taken` (seconds) of `files`, written at `written`
    /// (seconds), whose digests are those of [`text_of`] each name.
    fn saved(taken: i64, written: i64, files: Vec<FileStat>) -> Saved {
        let digests: Vec<String> = files
            .iter()
            .map(|f| sha256(text_of(&f.0).as_bytes()))
            .collect();
        let wps = combine(files.iter().map(|f| f.0.as_str()), &digests);
        Saved {
            stamp: Box::new(StampFile {
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
                    wps,
                    tasks_md: None,
                    spec_md: None,
                    lanes_json: None,
                    status_json: None,
                    log: None,
                },
                wp_stats: Some(WpStats {
                    taken: i128::from(taken) * SEC,
                    slack: 5_000_000,
                    files,
                    digests,
                }),
                report: Report::default(),
            }),
            written: Some(i128::from(written) * SEC),
        }
    }

    fn listed(files: Vec<FileStat>) -> Listed {
        Listed {
            paths: files.iter().map(|f| PathBuf::from(&f.0)).collect(),
            stats: Some(WpStats {
                taken: 0,
                slack: 0,
                files,
                digests: Vec::new(),
            }),
        }
    }

    /// [`Saved::unchanged_wps`] with file texts from `texts` (by name),
    /// and the names it read.
    fn check(
        s: &Saved,
        now: &Listed,
        texts: &dyn Fn(&str) -> Option<String>,
    ) -> (Option<String>, Vec<String>) {
        let reads = std::cell::RefCell::new(Vec::new());
        let got = s.unchanged_wps_with(now, |p| {
            let name = p.to_string_lossy().into_owned();
            reads.borrow_mut().push(name.clone());
            texts(&name)
        });
        (got, reads.into_inner())
    }

    #[test]
    fn settled_files_with_the_same_stat_are_trusted_without_a_read() {
        let then = vec![stat("WP01-a.md", 1000), stat("WP02-b.md", 990)];
        let s = saved(1010, 1011, then.clone());
        let unreadable = |_: &str| None;
        let (got, reads) = check(&s, &listed(then.clone()), &unreadable);
        assert_eq!(got.as_deref(), Some(s.stamp.inputs.wps.as_str()));
        assert!(reads.is_empty(), "{reads:?}");
    }

    #[test]
    fn a_file_whose_stat_differs_is_read_and_its_bytes_decide() {
        let then = vec![stat("WP01-a.md", 1000), stat("WP02-b.md", 990)];
        let s = saved(1010, 1011, then.clone());
        let edits: [fn(&mut FileStat); 6] = [
            |f| f.1 += 1,
            |f| f.2 .1 += 1,
            |f| f.3 .1 += 1,
            |f| f.3 .0 -= 1,
            |f| f.4 += 1,
            |f| f.5 += 1,
        ];
        for edit in &edits {
            let mut now = then.clone();
            edit(&mut now[1]);
            // The same bytes: the stamp stands; only that file was read.
            let (got, reads) = check(&s, &listed(now.clone()), &|n| Some(text_of(n)));
            assert!(got.is_some());
            assert_eq!(reads, ["WP02-b.md"]);
            // Other bytes, or unreadable: it does not.
            let (got, _) = check(&s, &listed(now.clone()), &|n| Some(format!("{n}!")));
            assert_eq!(got, None);
            assert_eq!(check(&s, &listed(now), &|_| None).0, None);
        }
    }

    #[test]
    fn other_files_or_no_stats_are_not_the_saved_run() {
        let then = vec![stat("WP01-a.md", 1000), stat("WP02-b.md", 990)];
        let s = saved(1010, 1011, then.clone());
        let same = |n: &str| Some(text_of(n));
        let mut renamed = then.clone();
        renamed[1].0 = "WP02-c.md".into();
        assert_eq!(check(&s, &listed(renamed), &same).0, None);
        assert_eq!(check(&s, &listed(then[..1].to_vec()), &same).0, None);
        let mut more = then.clone();
        more.push(stat("WP03-c.md", 900));
        assert_eq!(check(&s, &listed(more), &same).0, None);
        let swapped = vec![then[1].clone(), then[0].clone()];
        assert_eq!(check(&s, &listed(swapped), &same).0, None);
        let none = Listed {
            paths: Vec::new(),
            stats: None,
        };
        assert_eq!(check(&s, &none, &same).0, None);
        let mut no_stats = saved(1010, 1011, Vec::new());
        no_stats.stamp.wp_stats = None;
        assert_eq!(check(&no_stats, &listed(Vec::new()), &same).0, None);
        // Digests that do not add up to the digest of the whole: not trusted.
        let mut forged = saved(1010, 1011, then.clone());
        forged.stamp.inputs.wps = "0".repeat(64);
        assert_eq!(check(&forged, &listed(then.clone()), &same).0, None);
        // A stamp whose own time cannot be told trusts no stat.
        let mut unknown = saved(1010, 1011, then.clone());
        unknown.written = None;
        assert_eq!(check(&unknown, &listed(then), &same).0, None);
    }

    /// git's racy-clean rule: a file changed within the slack of when the
    /// stats were taken (or after the stamp was written) may have been
    /// written again in the same clock tick without its stat showing it, so
    /// its bytes are read; the settled ones are not.
    #[test]
    fn racily_clean_files_are_read_and_only_they() {
        let then = vec![stat("WP01-a.md", 1000), stat("WP02-b.md", 990)];
        let same = |n: &str| Some(text_of(n));
        // Stats taken in the same second as WP01's change (its time is
        // 1000 s + 7 ns; the slack is 5 ms): WP01 is read, WP02 is not.
        let mut racy = then.clone();
        racy[0].2 = (1000, 0);
        racy[0].3 = (1000, 2_000_000);
        let mut s = saved(1000, 1011, racy.clone());
        s.stamp.wp_stats.as_mut().unwrap().taken = 1000 * SEC + 6_000_000;
        let (got, reads) = check(&s, &listed(racy.clone()), &same);
        assert!(got.is_some());
        assert_eq!(reads, ["WP01-a.md"]);
        // Its bytes changed without its stat showing it: not the stamp's answer.
        let (got, _) = check(&s, &listed(racy.clone()), &|n| {
            Some(if n == "WP01-a.md" {
                "edited".into()
            } else {
                text_of(n)
            })
        });
        assert_eq!(got, None);
        // Changed just outside the slack: trusted.
        s.stamp.wp_stats.as_mut().unwrap().taken = 1000 * SEC + 7_000_001;
        assert!(check(&s, &listed(racy.clone()), &same).1.is_empty());
        // Changed after the stats were taken (a clock set back): read.
        assert_eq!(
            check(
                &saved(999, 1011, then.clone()),
                &listed(then.clone()),
                &same
            )
            .1,
            ["WP01-a.md"]
        );
        // Not before the stamp file's own time: read.
        assert_eq!(
            check(
                &saved(1010, 995, then.clone()),
                &listed(then.clone()),
                &same
            )
            .1,
            ["WP01-a.md"]
        );
        // Times in whole seconds (a coarse filesystem): two seconds of slack.
        let coarse: Vec<FileStat> = then
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f.2 .1 = 0;
                f.3 .1 = 0;
                f
            })
            .collect();
        assert_eq!(
            check(
                &saved(1001, 1011, coarse.clone()),
                &listed(coarse.clone()),
                &same
            )
            .1,
            ["WP01-a.md"]
        );
        assert!(
            check(&saved(1003, 1011, coarse.clone()), &listed(coarse), &same)
                .1
                .is_empty()
        );
    }

    #[test]
    fn the_stamps_file_stats_are_compact_arrays() {
        let text = serde_json::to_string(&stat("WP01-a.md", 1000)).unwrap();
        assert_eq!(text, r#"["WP01-a.md",100,[1000,5],[1000,7],42,1]"#);
    }
}
