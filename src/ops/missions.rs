//! `agent mission list`: the project's missions, each with its work packages
//! counted per lane from its status snapshot.
//!
//! What a listed mission shows comes from two files: its `meta.json` (id,
//! type, name) and its status log (the lane counts). Reading and parsing
//! both for every mission made a listing of hundreds of missions cost
//! hundreds of parses, so the listing keeps what it read in a derived cache
//! ([`ListingCache`]), one entry per mission directory, keyed by the stat
//! identity of the files it was read from (device, inode, size, modification
//! and change times of `meta.json`, the log and `status.json`). A listing
//! stats those three files per mission (relative to the open `kitty-specs/`
//! directory) and reads again only the missions whose stat changed, on up to
//! four threads when there are many; it rewrites the cache only when an
//! entry changed. A directory's own stat cannot stand for its files': a log
//! appended to or a file rewritten in place leaves it as it was. The fold
//! of a short log is not saved by a listing (folding it costs less than
//! writing it). The cache is never trusted over the files:
//! - a stat that differs (an edit, a rename into place, an append, a file
//!   created or removed) means the mission is read again;
//! - an entry is kept only when its files were last changed some time
//!   before the listing started ([`SETTLE`]): a file rewritten in place
//!   within one tick of the filesystem's clock keeps its stat, but never
//!   one that had already settled when it was read;
//! - a mission whose `meta.json` is broken, whose status could not be read,
//!   or whose `status.json` was stale and could not be rewritten is never
//!   kept (it is read, and reported, every time);
//! - while the git index holds an unmerged path, the cache is neither read
//!   nor written (an unmerged log is read as the union of its stages); the
//!   index is read once per listing, unless its stamp is the settled one a
//!   listing found clean (git replaces the index by a rename on each change);
//! - a cache file that is missing, unreadable, of another version or
//!   another project, or holding a value no listing could have written is
//!   ignored and written anew;
//! - it is replaced atomically, so concurrent listings each leave a whole,
//!   valid file (the last one wins; either describes the files it stats).
//!
//! It lives with the other derived state, where `git status` never sees it:
//! `<git-common-dir>/spec-kitty/mission-list-<tag>.json` (tag: a hash of the
//! project root), or under `.kittify/runtime/` in a project without git.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsutil::{DirStat, StatId};
use crate::mission::{self, Mission};
use crate::project::Project;
use crate::status::{StatusStore, LANES};

/// One mission of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Directory name, `NNN-slug`.
    pub slug: String,
    /// The numeric prefix (`"079"`), if the directory has one.
    pub number: Option<String>,
    pub mission_id: Option<String>,
    /// `mission_type` (or the legacy `mission`), else `software-dev`.
    pub mission_type: String,
    pub friendly_name: String,
    /// Why `meta.json` could not be used, if it could not.
    pub meta_error: Option<String>,
    /// Lanes holding at least one work package, in the snapshot's order, with their count.
    pub lanes: Vec<(String, usize)>,
    /// Work packages in all lanes.
    pub total: usize,
}

/// How long a mission's files must have been left unchanged before the
/// cache keeps what was read from them (longer than any filesystem's clock
/// tick: a later change cannot keep the same times).
pub const SETTLE: Duration = Duration::from_secs(2);

/// Version of the cache file's layout: another one is ignored.
const CACHE_VERSION: u32 = 1;

/// Every mission of the project with its lane counts. A mission whose status
/// cannot be read counts no work packages (its `meta_error` says what is wrong
/// with its meta.json; the status log is checked by `agent status validate`).
pub fn list(project: &Project) -> Result<Vec<Listed>> {
    let dirs = mission::list_dirs(project)?;
    let start = SystemTime::now();
    let settled_before = start
        .checked_sub(crate::env::listing_settle().unwrap_or(SETTLE))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let path = ListingCache::path(project);
    // One read of the git index for the whole list, not one per mission: with
    // no unmerged path anywhere, no mission's log is unmerged. An index whose
    // stat is the one a listing found clean (and settled) is not read again:
    // git replaces the index by a rename on every change.
    let index = index_path(project).map(|p| stamp(&p));
    let mut saved = ListingCache::load(&path, &project.root);
    let known_clean =
        matches!((&index, &saved), (Some(Ok(Some(now))), Some(s)) if s.index == Some(*now));
    let clean =
        !dirs.is_empty() && (known_clean || !crate::git::index_has_conflicts(&project.root));
    if !clean {
        saved = None;
    }
    // The index stamp to keep: only a settled one of a clean index.
    let index_kept = match index {
        Some(Ok(Some(s))) if clean && s.settled_before(settled_before) => Some(s),
        _ => None,
    };
    let saved_index = saved.as_ref().map(|s| s.index);
    // Entries are moved out of the saved listing as missions are found: what
    // is left at the end are missions gone since.
    let mut remaining = saved.map(|s| s.missions);
    // Whether the cache file would change: written only then.
    let mut dirty = remaining.is_none() || saved_index != Some(index_kept);
    let specs = DirStat::open(&project.specs_dir());
    // First the stats: a mission whose files are as the saved listing found
    // them is listed from it; the others are read afterwards, in parallel.
    let mut rows: Vec<Row> = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let Some(name) = dir.file_name() else {
            continue;
        };
        let slug = name.to_string_lossy().into_owned();
        let stamps = Stamps::of(specs.as_ref(), dir, Path::new(name));
        let old = remaining.as_mut().and_then(|m| m.remove(&slug));
        rows.push(match (old, stamps) {
            (Some(e), Some(now)) if e.stamps == now => Row::Saved(slug, e),
            (old, stamps) => Row::Read {
                slug,
                dir,
                stamps,
                old,
            },
        });
    }
    let to_read: Vec<&Path> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Read { dir, .. } => Some(dir.as_path()),
            Row::Saved(..) => None,
        })
        .collect();
    // The real path of kitty-specs/, resolved once: a listed mission is a
    // directory in it (not a link), so its real path is that and its name.
    let real_specs = (!to_read.is_empty())
        .then(|| std::fs::canonicalize(project.specs_dir()).ok())
        .flatten();
    let mut read = read_missions(project, &to_read, clean, real_specs.as_deref()).into_iter();
    let mut kept = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Row::Saved(slug, e) => {
                out.push(e.listed(slug.clone()));
                kept.insert(slug, e);
            }
            Row::Read {
                slug,
                dir,
                stamps,
                old,
            } => {
                let Some((listed, settled)) = read.next() else {
                    continue;
                };
                // status.json may have been rewritten just now: its stat is
                // taken after the read.
                let stamps = stamps.and_then(|s| {
                    Some(Stamps {
                        snapshot: stamp(&dir.join("status.json")).ok()?,
                        ..s
                    })
                });
                match stamps.filter(|s| clean && settled && s.settled_before(settled_before)) {
                    Some(stamps) => {
                        let entry = Entry::of(&listed, stamps);
                        dirty |= old.as_ref() != Some(&entry);
                        kept.insert(slug, entry);
                    }
                    None => dirty |= old.is_some(),
                }
                out.push(listed);
            }
        }
    }
    dirty |= remaining.is_some_and(|m| !m.is_empty());
    if clean && dirty {
        ListingCache::save(&path, &project.root, index_kept, kept);
    }
    Ok(out)
}

/// One mission directory of a listing: listed from the saved listing, or to
/// be read from its files.
enum Row<'a> {
    Saved(String, Entry),
    Read {
        slug: String,
        dir: &'a PathBuf,
        /// Its files' stamps before the read (None: one could not be stat'ed).
        stamps: Option<Stamps>,
        /// Its saved entry, stale.
        old: Option<Entry>,
    },
}

/// Fewer missions than this to read are read on this thread (a thread's
/// start costs more than reading a few).
const PARALLEL_FROM: usize = 16;

/// [`read_mission`] of each of `dirs`, in their order: on up to four threads
/// when there are many (each mission's files are its own; its status lock
/// is taken without waiting, as on one thread).
fn read_missions(
    project: &Project,
    dirs: &[&Path],
    clean: bool,
    real_specs: Option<&Path>,
) -> Vec<(Listed, bool)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    if dirs.len() < PARALLEL_FROM || threads == 1 {
        return dirs
            .iter()
            .map(|d| read_mission(project, d, clean, real_specs))
            .collect();
    }
    let chunk = dirs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|d| read_mission(project, d, clean, real_specs))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(dirs.len());
        for (h, part) in handles.into_iter().zip(dirs.chunks(chunk)) {
            match h.join() {
                Ok(v) => out.extend(v),
                // A thread that died (it never should) leaves its missions
                // to this one.
                Err(_) => out.extend(
                    part.iter()
                        .map(|d| read_mission(project, d, clean, real_specs)),
                ),
            }
        }
        out
    })
}

/// The git index of a project whose root holds its git directory as
/// `.git/` (where the listing may keep the index's stamp); None otherwise.
fn index_path(project: &Project) -> Option<PathBuf> {
    let common = project.git_common_dir.as_ref()?;
    (project.worktree.is_none() && *common == project.root.join(".git"))
        .then(|| common.join("index"))
}

/// Read one mission from its files: its listing and whether what was read
/// may be kept (its meta.json and status were read, status.json is settled).
fn read_mission(
    project: &Project,
    dir: &Path,
    clean: bool,
    real_specs: Option<&Path>,
) -> (Listed, bool) {
    let m = Mission::load(dir);
    let store = match (real_specs, dir.file_name()) {
        (Some(specs), Some(name)) => StatusStore::for_mission_at(project, &m, &specs.join(name)),
        _ => StatusStore::for_mission(project, &m),
    }
    .index_known_clean(clean)
    .saving_folds_from(crate::status::cache::SAVE_AFTER);
    let mut lanes = Vec::new();
    let mut total = 0;
    let mut settled = false;
    if let Ok((snap, _, done)) = store.snapshot_settled() {
        settled = done;
        for (lane, n) in &snap.summary {
            if *n > 0 {
                lanes.push((lane.to_string(), *n));
                total += n;
            }
        }
    }
    let listed = Listed {
        number: m.number.clone(),
        mission_id: m.mission_id().map(str::to_string),
        mission_type: m.mission_type().to_string(),
        friendly_name: m.friendly_name(),
        meta_error: m.meta_error.clone(),
        lanes,
        total,
        slug: m.slug,
    };
    let settled = settled && listed.meta_error.is_none();
    (listed, settled)
}

/// What identifies one state of a file: where it is (device, inode) and its
/// size, modification and change times. A write in place changes the times
/// (and the change time cannot be set back); a rename into place changes
/// the inode.
/// Written as an array: `[dev, ino, size, mtime_ns, ctime_ns]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp(u64, u64, u64, i64, i64);

impl From<StatId> for Stamp {
    fn from(s: StatId) -> Stamp {
        Stamp(s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns)
    }
}

impl Stamp {
    /// The latest of its two times.
    fn changed(&self) -> i64 {
        self.3.max(self.4)
    }

    /// Whether it was last changed before `t`.
    fn settled_before(&self, t: SystemTime) -> bool {
        let Ok(t) = t.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        self.changed() < i64::try_from(t.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// The stamp of the file at `path` (links followed, as its readers do):
/// None when it does not exist; Err when it cannot be stat'ed, or on a
/// system without inodes (nothing is cached there).
fn stamp(path: &Path) -> std::result::Result<Option<Stamp>, ()> {
    match std::fs::metadata(path) {
        #[cfg(unix)]
        Ok(md) => {
            use std::os::unix::fs::MetadataExt;
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            Ok(Some(Stamp(
                md.dev(),
                md.ino(),
                md.len(),
                ns(md.mtime(), md.mtime_nsec()),
                ns(md.ctime(), md.ctime_nsec()),
            )))
        }
        #[cfg(not(unix))]
        Ok(_) => Err(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(()),
    }
}

/// The stamps of the three files a listed mission is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamps {
    meta: Option<Stamp>,
    log: Option<Stamp>,
    snapshot: Option<Stamp>,
}

impl Stamps {
    /// None when one of them cannot be stat'ed. `specs` is the open
    /// missions directory holding `dir` as `name` (stat'ed relative to it),
    /// if it could be opened.
    fn of(specs: Option<&DirStat>, dir: &Path, name: &Path) -> Option<Stamps> {
        let one = |file: &str| match specs {
            Some(d) => d
                .stat(&name.join(file))
                .map(|s| s.map(Stamp::from))
                .map_err(|_| ()),
            None => stamp(&dir.join(file)),
        };
        Some(Stamps {
            meta: one("meta.json").ok()?,
            log: one("status.events.jsonl").ok()?,
            snapshot: one("status.json").ok()?,
        })
    }

    /// Whether every file was last changed before `t`.
    fn settled_before(&self, t: SystemTime) -> bool {
        [self.meta, self.log, self.snapshot]
            .iter()
            .flatten()
            .all(|s| s.settled_before(t))
    }
}

/// What the listing keeps of one mission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    stamps: Stamps,
    mission_id: Option<String>,
    mission_type: String,
    friendly_name: String,
    lanes: Vec<(String, usize)>,
}

/// The longest text an entry may hold (meta.json values are short).
const MAX_ENTRY_TEXT: usize = 64 << 10;

impl Entry {
    fn of(l: &Listed, stamps: Stamps) -> Entry {
        Entry {
            stamps,
            mission_id: l.mission_id.clone(),
            mission_type: l.mission_type.clone(),
            friendly_name: l.friendly_name.clone(),
            lanes: l.lanes.clone(),
        }
    }

    fn listed(&self, slug: String) -> Listed {
        Listed {
            number: mission::split_number(&slug).map(|(n, _)| n.to_string()),
            slug,
            mission_id: self.mission_id.clone(),
            mission_type: self.mission_type.clone(),
            friendly_name: self.friendly_name.clone(),
            meta_error: None,
            total: self.lanes.iter().map(|(_, n)| n).sum(),
            lanes: self.lanes.clone(),
        }
    }

    /// Whether a listing could have written this entry: an id shaped as
    /// meta.json's are checked, known lanes in the snapshot's order, each
    /// holding work packages, short texts.
    fn plausible(&self) -> bool {
        let known = |l: &str| LANES.iter().any(|k| k.as_str() == l);
        self.mission_id.as_deref().is_none_or(mission::is_ulid)
            && !self.mission_type.is_empty()
            && self.mission_type.len() <= MAX_ENTRY_TEXT
            && self.friendly_name.len() <= MAX_ENTRY_TEXT
            && self.lanes.iter().all(|(l, n)| known(l) && *n > 0)
            && self.lanes.windows(2).all(|w| w[0].0 < w[1].0)
            && self
                .lanes
                .iter()
                .try_fold(0usize, |sum, (_, n)| sum.checked_add(*n))
                .is_some()
    }
}

/// The saved listing (see the module docs).
#[derive(Debug, Serialize, Deserialize)]
struct ListingCache {
    version: u32,
    /// The project root it lists.
    root: PathBuf,
    /// The stamp of the git index when it held no unmerged path.
    index: Option<Stamp>,
    /// By mission directory name.
    missions: BTreeMap<String, Entry>,
}

impl ListingCache {
    fn path(project: &Project) -> PathBuf {
        let base = match &project.git_common_dir {
            Some(common) => common.join("spec-kitty"),
            None => project.kittify_dir().join("runtime"),
        };
        let digest = ring::digest::digest(
            &ring::digest::SHA256,
            project.root.to_string_lossy().as_bytes(),
        );
        let tag: String = digest.as_ref()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        base.join(format!("mission-list-{tag}.json"))
    }

    /// The saved listing of `root`, when it reads, is of this version and
    /// every entry is one a listing could have written.
    fn load(path: &Path, root: &Path) -> Option<ListingCache> {
        let text = crate::fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
            .ok()
            .flatten()?;
        let file: ListingCache = crate::bounds::json(&text).ok()?;
        (file.version == CACHE_VERSION
            && file.root == root
            && file.missions.values().all(Entry::plausible))
        .then_some(file)
    }

    /// Replace the saved listing (atomically, not synced: it is derived, and
    /// one a crash left missing, empty or torn is rebuilt; a failure only
    /// means the next listing reads more).
    fn save(path: &Path, root: &Path, index: Option<Stamp>, missions: BTreeMap<String, Entry>) {
        let file = ListingCache {
            version: CACHE_VERSION,
            root: root.to_path_buf(),
            index,
            missions,
        };
        let Ok(text) = serde_json::to_vec(&file) else {
            return;
        };
        if let Some(dir) = path.parent() {
            if crate::fsutil::create_dir_all(dir).is_err() {
                return;
            }
        }
        let _ = crate::fsutil::write_derived(path, &text);
    }
}
