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
//! `<git-common-dir>/spec-kitty/mission-list-<tag>.txt` (tag: a hash of the
//! project root), or under `.kittify/runtime/` in a project without git;
//! its layout is [`ListingCache`]'s (version 1 was JSON, in a `.json` file
//! of the same name, removed when version 2 is written).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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
const CACHE_VERSION: u32 = 2;

/// Every mission of the project with its lane counts. A mission whose status
/// cannot be read counts no work packages (its `meta_error` says what is wrong
/// with its meta.json; the status log is checked by `agent status validate`).
pub fn list(project: &Project) -> Result<Vec<Listed>> {
    let names = mission::list_dir_names(project)?;
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
    let text = ListingCache::read(&path);
    let mut saved = text
        .as_deref()
        .and_then(|t| ListingCache::parse(t, &project.root));
    let known_clean =
        matches!((&index, &saved), (Some(Ok(Some(now))), Some(s)) if s.index == Some(*now));
    let clean =
        !names.is_empty() && (known_clean || !crate::git::index_has_conflicts(&project.root));
    if !clean {
        saved = None;
    }
    // The index stamp to keep: only a settled one of a clean index.
    let index_kept = match index {
        Some(Ok(Some(s))) if clean && s.settled_before(settled_before) => Some(s),
        _ => None,
    };
    let saved_index = saved.as_ref().map(|s| s.index);
    // Whether the cache file would change: written only then.
    let mut dirty = saved.is_none() || saved_index != Some(index_kept);
    // The saved entries, by name in the order of the directories: walked
    // beside them; an entry passed over is a mission gone since.
    let mut remaining = saved.map(|s| s.missions.into_iter().peekable());
    let specs_dir = project.specs_dir();
    let specs = DirStat::open(&specs_dir);
    // First the stats: a mission whose files are as the saved listing found
    // them is listed from it; the others are read afterwards, in parallel.
    let mut rows: Vec<Row> = Vec::with_capacity(names.len());
    let mut rel = PathBuf::new();
    for name in names {
        let slug = name.to_string_lossy().into_owned();
        let stamps = Stamps::of(specs.as_ref(), &specs_dir, &name, &mut rel);
        let mut old = None;
        if let Some(it) = remaining.as_mut() {
            while let Some((s, _)) = it.peek() {
                match s.as_ref().cmp(slug.as_str()) {
                    std::cmp::Ordering::Less => {
                        dirty = true;
                        it.next();
                    }
                    std::cmp::Ordering::Equal => {
                        old = it.next().map(|(_, e)| e);
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
        }
        rows.push(match (old, stamps) {
            (Some(e), Some(now)) if e.stamps == now => {
                let listed = e.listed(slug);
                Row::Saved(listed, now)
            }
            (old, stamps) => Row::Read {
                dir: specs_dir.join(&name),
                stamps,
                old,
            },
        });
    }
    dirty |= remaining.is_some_and(|mut m| m.next().is_some());
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
        .then(|| std::fs::canonicalize(&specs_dir).ok())
        .flatten();
    let read = read_missions(project, &to_read, clean, real_specs.as_deref());
    drop(to_read);
    let mut read = read.into_iter();
    // The missions kept in the cache: their place in `out` and their stamps.
    let mut kept: Vec<(usize, Stamps)> = Vec::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Row::Saved(listed, stamps) => {
                kept.push((out.len(), stamps));
                out.push(listed);
            }
            Row::Read { dir, stamps, old } => {
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
                        dirty |= !old.is_some_and(|o| o.describes(&listed, &stamps));
                        kept.push((out.len(), stamps));
                    }
                    None => dirty |= old.is_some(),
                }
                out.push(listed);
            }
        }
    }
    if clean && dirty {
        ListingCache::save(&path, &project.root, index_kept, &out, &kept);
    }
    Ok(out)
}

/// One mission directory of a listing: listed from the saved listing, or to
/// be read from its files.
enum Row<'a> {
    /// Listed from its saved entry, whose stamps these are.
    Saved(Listed, Stamps),
    Read {
        dir: PathBuf,
        /// Its files' stamps before the read (None: one could not be stat'ed).
        stamps: Option<Stamps>,
        /// Its saved entry, stale.
        old: Option<Entry<'a>>,
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
/// Written as `dev,ino,size,mtime_ns,ctime_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// `dev,ino,size,mtime_ns,ctime_ns`, or `-` for none.
    fn write(s: Option<Stamp>, out: &mut String) {
        use std::fmt::Write;
        match s {
            Some(Stamp(a, b, c, d, e)) => {
                let _ = write!(out, "{a},{b},{c},{d},{e}");
            }
            None => out.push('-'),
        }
    }

    /// What [`Stamp::write`] wrote; Err for anything else.
    fn parse(text: &str) -> std::result::Result<Option<Stamp>, ()> {
        if text == "-" {
            return Ok(None);
        }
        let mut it = text.split(',');
        let mut unsigned = || it.next().ok_or(())?.parse::<u64>().map_err(|_| ());
        let (a, b, c) = (unsigned()?, unsigned()?, unsigned()?);
        let mut signed = || it.next().ok_or(())?.parse::<i64>().map_err(|_| ());
        let (d, e) = (signed()?, signed()?);
        match it.next() {
            None => Ok(Some(Stamp(a, b, c, d, e))),
            Some(_) => Err(()),
        }
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

/// The three files a listed mission is read from, in the order of [`Stamps`].
const STAMPED: [&str; 3] = ["meta.json", "status.events.jsonl", "status.json"];

/// The stamps of the three files a listed mission is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamps {
    meta: Option<Stamp>,
    log: Option<Stamp>,
    snapshot: Option<Stamp>,
}

impl Stamps {
    /// None when one of them cannot be stat'ed. `specs` is the open
    /// missions directory `specs_dir` holding the mission as `name`
    /// (stat'ed relative to it), if it could be opened; `rel` is a buffer
    /// (its content is replaced).
    fn of(
        specs: Option<&DirStat>,
        specs_dir: &Path,
        name: &std::ffi::OsStr,
        rel: &mut PathBuf,
    ) -> Option<Stamps> {
        let mut one = |file: &str| {
            let r = match specs {
                Some(d) => {
                    rel.as_mut_os_string().clear();
                    rel.push(name);
                    rel.push(file);
                    d.stat(rel).map(|s| s.map(Stamp::from)).map_err(|_| ())
                }
                None => stamp(&specs_dir.join(name).join(file)),
            };
            r.ok()
        };
        Some(Stamps {
            meta: one(STAMPED[0])?,
            log: one(STAMPED[1])?,
            snapshot: one(STAMPED[2])?,
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

/// What the listing keeps of one mission, as read from the cache file
/// (its texts borrowed from it unless they hold an escape).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry<'a> {
    stamps: Stamps,
    mission_id: Option<&'a str>,
    mission_type: Cow<'a, str>,
    friendly_name: Cow<'a, str>,
    lanes: Vec<(&'static str, usize)>,
}

/// The longest text an entry may hold (meta.json values are short).
const MAX_ENTRY_TEXT: usize = 64 << 10;

impl Entry<'_> {
    fn listed(&self, slug: String) -> Listed {
        Listed {
            number: mission::split_number(&slug).map(|(n, _)| n.to_string()),
            slug,
            mission_id: self.mission_id.map(str::to_string),
            mission_type: self.mission_type.clone().into_owned(),
            friendly_name: self.friendly_name.clone().into_owned(),
            meta_error: None,
            total: self.lanes.iter().map(|(_, n)| n).sum(),
            lanes: self
                .lanes
                .iter()
                .map(|(l, n)| (l.to_string(), *n))
                .collect(),
        }
    }

    /// Whether this entry is what a listing would keep of `l` read with
    /// `stamps` (else the cache file changes).
    fn describes(&self, l: &Listed, stamps: &Stamps) -> bool {
        self.stamps == *stamps
            && self.mission_id == l.mission_id.as_deref()
            && self.mission_type == l.mission_type.as_str()
            && self.friendly_name == l.friendly_name.as_str()
            && self.lanes.len() == l.lanes.len()
            && self
                .lanes
                .iter()
                .zip(&l.lanes)
                .all(|((a, n), (b, m))| a == b && n == m)
    }

    /// Whether a listing could have written this entry: an id shaped as
    /// meta.json's are checked, known lanes in the snapshot's order, each
    /// holding work packages, short texts.
    fn plausible(&self) -> bool {
        self.mission_id.is_none_or(mission::is_ulid)
            && !self.mission_type.is_empty()
            && self.mission_type.len() <= MAX_ENTRY_TEXT
            && self.friendly_name.len() <= MAX_ENTRY_TEXT
            && self.lanes.iter().all(|(_, n)| *n > 0)
            && self.lanes.windows(2).all(|w| w[0].0 < w[1].0)
            && self
                .lanes
                .iter()
                .try_fold(0usize, |sum, (_, n)| sum.checked_add(*n))
                .is_some()
    }
}

/// The saved listing (see the module docs), as read from its file.
///
/// The file is text, one line a record, fields separated by tabs (a tab,
/// newline, carriage return or backslash in a text is written `\t`, `\n`,
/// `\r`, `\\`): a line `spec-kitty mission-list VERSION`; the project root;
/// the git index's stamp (`-`: none); then one line per kept mission, in
/// the order of their names: name, the stamps of its meta.json, status log
/// and status.json, mission id (`-`: none), type, name, and its lanes as
/// `lane:count` separated by commas. Read without a general parser (a JSON
/// listing of hundreds of missions cost more to parse than the rest of the
/// listing); anything else in it and the file is ignored.
#[derive(Debug)]
struct ListingCache<'a> {
    /// The stamp of the git index when it held no unmerged path.
    index: Option<Stamp>,
    /// By mission directory name, in order.
    missions: Vec<(Cow<'a, str>, Entry<'a>)>,
}

/// The first line of a cache file of this version.
fn cache_header() -> String {
    format!("spec-kitty mission-list {CACHE_VERSION}")
}

/// Append `text` with tab, newline, carriage return and backslash escaped.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// What [`push_escaped`] wrote; Err on any other escape.
fn unescape(text: &str) -> std::result::Result<Cow<'_, str>, ()> {
    if !text.contains('\\') {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => match chars.next() {
                Some('\\') => '\\',
                Some('t') => '\t',
                Some('n') => '\n',
                Some('r') => '\r',
                _ => return Err(()),
            },
            c => c,
        });
    }
    Ok(Cow::Owned(out))
}

impl<'a> ListingCache<'a> {
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
        base.join(format!("mission-list-{tag}.txt"))
    }

    /// The cache file's text, when it reads (size-capped).
    fn read(path: &Path) -> Option<String> {
        crate::fsutil::read_capped(path, crate::bounds::MAX_TEXT_BYTES)
            .ok()
            .flatten()
    }

    /// The saved listing of `root` in `text`, when it is of this version
    /// and every line is one a listing could have written.
    fn parse(text: &'a str, root: &Path) -> Option<ListingCache<'a>> {
        let mut lines = text.split_terminator('\n');
        if lines.next()? != cache_header() {
            return None;
        }
        if unescape(lines.next()?).ok()? != root.to_str()? {
            return None;
        }
        let index = Stamp::parse(lines.next()?).ok()?;
        let mut missions: Vec<(Cow<'a, str>, Entry<'a>)> = Vec::new();
        for line in lines {
            let (slug, entry) = Self::parse_entry(line)?;
            // In the order a listing writes them, each once.
            if missions.last().is_some_and(|(last, _)| *last >= slug) {
                return None;
            }
            missions.push((slug, entry));
        }
        // A text that ended without its last newline is torn.
        (text.ends_with('\n')).then_some(ListingCache { index, missions })
    }

    fn parse_entry<'t>(line: &'t str) -> Option<(Cow<'t, str>, Entry<'t>)> {
        let mut f = line.split('\t');
        let mut next = || f.next();
        let slug = unescape(next()?).ok()?;
        let stamps = Stamps {
            meta: Stamp::parse(next()?).ok()?,
            log: Stamp::parse(next()?).ok()?,
            snapshot: Stamp::parse(next()?).ok()?,
        };
        let mission_id = match next()? {
            "-" => None,
            id => Some(id),
        };
        let mission_type = unescape(next()?).ok()?;
        let friendly_name = unescape(next()?).ok()?;
        let lanes_text = next()?;
        if next().is_some() || slug.is_empty() {
            return None;
        }
        let mut lanes = Vec::new();
        for item in lanes_text.split(',').filter(|l| !l.is_empty()) {
            let (lane, n) = item.split_once(':')?;
            let lane = LANES.iter().find(|k| k.as_str() == lane)?.as_str();
            lanes.push((lane, n.parse::<usize>().ok()?));
        }
        let entry = Entry {
            stamps,
            mission_id,
            mission_type,
            friendly_name,
            lanes,
        };
        entry.plausible().then_some((slug, entry))
    }

    /// Replace the saved listing with the missions `kept` of `listed` (each
    /// its place in `listed` and its stamps), atomically, not synced: it is
    /// derived, and one a crash left missing, empty or torn is rebuilt; a
    /// failure only means the next listing reads more.
    fn save(
        path: &Path,
        root: &Path,
        index: Option<Stamp>,
        listed: &[Listed],
        kept: &[(usize, Stamps)],
    ) {
        let Some(root) = root.to_str() else {
            return;
        };
        let mut text = String::with_capacity(256 + 200 * kept.len());
        text.push_str(&cache_header());
        text.push('\n');
        push_escaped(&mut text, root);
        text.push('\n');
        Stamp::write(index, &mut text);
        text.push('\n');
        let mut last: Option<&str> = None;
        for (i, stamps) in kept {
            let Some(l) = listed.get(*i) else {
                continue;
            };
            // Names that read the same (not UTF-8) are not kept: a reader
            // takes an entry for the first of them only.
            if last.is_some_and(|s| s >= l.slug.as_str()) {
                continue;
            }
            let line_start = text.len();
            push_escaped(&mut text, &l.slug);
            for s in [stamps.meta, stamps.log, stamps.snapshot] {
                text.push('\t');
                Stamp::write(s, &mut text);
            }
            text.push('\t');
            text.push_str(l.mission_id.as_deref().unwrap_or("-"));
            text.push('\t');
            push_escaped(&mut text, &l.mission_type);
            text.push('\t');
            push_escaped(&mut text, &l.friendly_name);
            text.push('\t');
            for (k, (lane, n)) in l.lanes.iter().enumerate() {
                if k > 0 {
                    text.push(',');
                }
                text.push_str(lane);
                text.push(':');
                text.push_str(&n.to_string());
            }
            // Only a line that reads back as this entry is kept (a text
            // longer than an entry may hold, an id that is not a ULID):
            // one that did not would make every listing rewrite the file.
            let reads_back = text
                .get(line_start..)
                .and_then(ListingCache::parse_entry)
                .is_some_and(|(slug, e)| slug == l.slug.as_str() && e.describes(l, stamps));
            if reads_back {
                text.push('\n');
                last = Some(&l.slug);
            } else {
                text.truncate(line_start);
            }
        }
        if let Some(dir) = path.parent() {
            if crate::fsutil::create_dir_all(dir).is_err() {
                return;
            }
        }
        if crate::fsutil::write_derived(path, text.as_bytes()).is_ok() {
            // The JSON cache of version 1, left by an older spec-kitty.
            let _ = std::fs::remove_file(path.with_extension("json"));
        }
    }
}
