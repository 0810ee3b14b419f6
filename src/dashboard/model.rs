//! What the dashboard shows, read from disk through the core (mission list,
//! WP files, the status reducer, tasks.md, lanes.json) and kept in memory.
//!
//! One mission is one [`MissionView`], rebuilt only when a stat of its files
//! (its [`Fingerprint`]) changes. A broken file becomes a [`Problem`] on that
//! mission, never an error for the page. Every file is read only after
//! [`confined`] has checked that its real location (symlinks resolved) is
//! inside the project.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::UNIX_EPOCH;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use super::ReadProblem;
use crate::lanes::LanesManifest;
use crate::mission::{self, Mission};
use crate::project::Project;
use crate::status::cache::{self, Cursor, Dedupe, Fold, FoldState};
use crate::status::Lane;
use crate::status::{EventFields, FoldEvent, RawEvent};
use crate::tasks_md::{self, WpFile};

/// The five board columns and the lifecycle lanes each one holds (the
/// reference's grouping: claimed and blocked under planned, in_review under
/// for review, canceled under done).
pub const COLUMNS: [(&str, &str, &[Lane]); 5] = [
    (
        "planned",
        "Planned",
        &[Lane::Planned, Lane::Claimed, Lane::Blocked],
    ),
    ("doing", "Doing", &[Lane::InProgress]),
    (
        "for_review",
        "For review",
        &[Lane::ForReview, Lane::InReview],
    ),
    ("approved", "Approved", &[Lane::Approved]),
    ("done", "Done", &[Lane::Done, Lane::Canceled]),
];

/// The column a lane is shown in.
pub fn column_of(lane: Lane) -> &'static str {
    COLUMNS
        .iter()
        .find(|(_, _, lanes)| lanes.contains(&lane))
        .map(|(id, _, _)| *id)
        .unwrap_or("planned")
}

/// Artifacts a mission may have: (route name, label, file or directory name).
pub const ARTIFACTS: [(&str, &str, &str); 8] = [
    ("spec", "Spec", "spec.md"),
    ("plan", "Plan", "plan.md"),
    ("tasks", "Tasks", "tasks.md"),
    ("research", "Research", "research.md"),
    ("data-model", "Data model", "data-model.md"),
    ("quickstart", "Quickstart", "quickstart.md"),
    ("contracts", "Contracts", "contracts"),
    ("checklists", "Checklists", "checklists"),
];

/// Something wrong with one file of a mission, shown on its page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// Path relative to the project root.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
}

/// A review that sent a WP back ("changes requested"), shown until the WP is
/// handed in again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesRequested {
    pub by: String,
    pub at: String,
    pub feedback: String,
}

/// One card on the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WpCard {
    pub id: String,
    pub title: String,
    pub lane: Lane,
    pub column: &'static str,
    /// The WP file's `agent:` frontmatter: whoever acted on it last.
    pub agent: String,
    /// Who claimed it for implementation (the event log; the frontmatter
    /// agent when the log names nobody, as the CLI board does).
    pub implementer: String,
    /// Who took its review (the event log; else the frontmatter's reviewer).
    pub reviewer: String,
    /// The last review sent it back and it has not been handed in since.
    pub changes_requested: Option<ChangesRequested>,
    /// The commit `merge` recorded when it moved the WP to done.
    pub merged_commit: Option<String>,
    pub dependencies: Vec<String>,
    /// Dependencies not yet approved or done.
    pub waiting_on: Vec<String>,
    /// Planned with every dependency finished.
    pub ready: bool,
    pub subtasks_done: usize,
    pub subtasks_total: usize,
    /// The execution lane (lanes.json) that holds it.
    pub exec_lane: Option<String>,
    /// The WP file, relative to the project root.
    pub file: String,
    /// Why the WP file could not be read, when it could not.
    pub problem: Option<String>,
}

/// One transition of a WP, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub at: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub actor: String,
    pub note: String,
}

/// How many of a WP's latest transitions the view keeps (its page says how
/// many earlier ones it leaves out): the memory a view holds grows with the
/// number of WPs, never with the length of the log.
pub const HISTORY_KEEP: usize = 200;

/// A WP's latest transitions, oldest first, and how many it has in all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WpHistory {
    pub total: usize,
    pub rows: Vec<HistoryRow>,
}

impl WpHistory {
    fn push(&mut self, row: HistoryRow) {
        self.total += 1;
        self.rows.push(row);
        if self.rows.len() >= 2 * HISTORY_KEEP {
            self.settle();
        }
    }

    /// Order by time (the log's order among equal times) and keep the latest.
    fn settle(&mut self) {
        self.rows.sort_by(|a, b| a.at.cmp(&b.at));
        let skip = self.rows.len().saturating_sub(HISTORY_KEEP);
        self.rows.drain(..skip);
    }

    /// Transitions left out (older than the kept ones).
    pub fn omitted(&self) -> usize {
        self.total.saturating_sub(self.rows.len())
    }
}

/// What `merge` recorded in meta.json, when the mission was merged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    pub at: String,
    pub into: Option<String>,
    pub commit: Option<String>,
    pub by: Option<String>,
}

/// Everything the pages show about one mission.
#[derive(Debug, Clone, Serialize)]
pub struct MissionView {
    pub slug: String,
    pub number: String,
    pub name: String,
    pub mission_type: String,
    pub mission_id: Option<String>,
    pub accepted: bool,
    pub merged: bool,
    /// meta.json's merge record.
    pub merge: Option<Merged>,
    pub total: usize,
    pub done: usize,
    pub progress_percentage: f64,
    pub event_count: usize,
    pub work_packages: Vec<WpCard>,
    /// lanes.json, when it exists and reads.
    pub lanes: Option<LanesManifest>,
    /// Artifact route names that exist on disk.
    pub artifacts: Vec<&'static str>,
    pub problems: Vec<Problem>,
    /// Each WP's transitions, built with the view (pages never re-read the log).
    #[serde(skip)]
    pub history: BTreeMap<String, WpHistory>,
    /// meta.json as read (empty when missing or broken).
    #[serde(skip)]
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// status.events.jsonl exists (inside the project).
    #[serde(skip)]
    pub has_event_log: bool,
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(skip)]
    pub fingerprint: Fingerprint,
    /// This mission's row of the index page, rendered once: a view rebuilt
    /// after one mission changed renders that mission's row, and the others
    /// are the rows of the very same (unchanged, shared) mission views.
    #[serde(skip)]
    pub index_row: Memo<String>,
}

impl MissionView {
    pub fn wp(&self, id: &str) -> Option<&WpCard> {
        self.work_packages.iter().find(|w| w.id == id)
    }

    /// The planned lane count: execution lanes in lanes.json.
    pub fn lane_count(&self) -> usize {
        self.lanes.as_ref().map_or(0, |l| l.lanes.len())
    }
}

/// What was rendered from the value that holds it, computed once and kept
/// with it (a page, a row): dropped with its value, so never another
/// value's and never more than one. A clone starts empty, since the clone
/// may be changed before it is rendered.
#[derive(Debug)]
pub struct Memo<T>(OnceLock<T>);

impl<T> Memo<T> {
    /// The kept value, if it was computed.
    pub fn get(&self) -> Option<&T> {
        self.0.get()
    }

    /// The kept value, computed by `f` the first time.
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        self.0.get_or_init(f)
    }

    /// Keep `value` unless one is kept already (then it is handed back).
    pub fn set(&self, value: T) -> std::result::Result<(), T> {
        self.0.set(value)
    }
}

impl<T> Default for Memo<T> {
    fn default() -> Memo<T> {
        Memo(OnceLock::new())
    }
}

impl<T> Clone for Memo<T> {
    fn clone(&self) -> Memo<T> {
        Memo::default()
    }
}

/// The whole project as the dashboard sees it at one moment.
#[derive(Debug, Clone)]
pub struct ProjectView {
    /// Bumped on every change that reached the page.
    pub version: u64,
    pub project_path: String,
    pub project_name: String,
    pub missions: Vec<Arc<MissionView>>,
    /// Problems outside any one mission (kitty-specs unreadable, a charter link out).
    pub problems: Vec<Problem>,
    pub has_charter: bool,
    /// The index page of this very view, rendered once: by the watcher's
    /// thread before it publishes the view (so no request renders it), or by
    /// the first request for it when the view came from elsewhere. Dropped
    /// with the view: one rendered index per view, never another view's.
    pub index_page: Memo<Bytes>,
}

impl ProjectView {
    /// The view a server holds while its first one is being built (version
    /// 0: every view the loader builds is 1 or later). Pages wait for the
    /// first built view; only `/api/health` answers from this one.
    pub fn pending(root: &Path) -> ProjectView {
        ProjectView {
            version: 0,
            project_path: root.to_string_lossy().into_owned(),
            project_name: root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            missions: Vec::new(),
            problems: Vec::new(),
            has_charter: false,
            index_page: Memo::default(),
        }
    }

    /// Whether this is a built view (not [`ProjectView::pending`]).
    pub fn is_built(&self) -> bool {
        self.version > 0
    }

    pub fn mission(&self, slug: &str) -> Option<&Arc<MissionView>> {
        self.missions.iter().find(|m| m.slug == slug)
    }
}

/// The stat of every file a mission view is built from: equal fingerprints
/// mean nothing the page shows has changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, u64, i128, u64)>);

fn stat_entry(path: &Path) -> Option<(PathBuf, u64, i128, u64)> {
    let md = fs::metadata(path).ok()?;
    let mtime = md
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(&md);
    #[cfg(not(unix))]
    let ino = 0;
    Some((path.to_path_buf(), md.len(), mtime, ino))
}

/// Stat a mission directory and the sub-directories the pages read
/// (tasks/, contracts/, checklists/): a few dozen `stat` calls, no reads.
pub fn fingerprint(dir: &Path) -> Fingerprint {
    let mut out = Vec::new();
    let visit = |d: &Path, out: &mut Vec<_>| {
        if let Some(e) = stat_entry(d) {
            out.push(e);
        }
        if let Ok(rd) = fs::read_dir(d) {
            for entry in rd.flatten() {
                if let Some(e) = stat_entry(&entry.path()) {
                    out.push(e);
                }
            }
        }
    };
    visit(dir, &mut out);
    for sub in ["tasks", "contracts", "checklists"] {
        let p = dir.join(sub);
        if p.is_dir() {
            visit(&p, &mut out);
        }
    }
    out.sort();
    Fingerprint(out)
}

/// The real path of `path` when it exists and lies inside `root` (already
/// canonical); `Ok(None)` when it does not exist; `Err` naming the problem
/// when it resolves outside the project.
pub fn confined(root: &Path, path: &Path) -> Result<Option<PathBuf>, ReadProblem> {
    match fs::canonicalize(path) {
        Ok(real) if real.starts_with(root) => Ok(Some(real)),
        Ok(real) => Err(ReadProblem::OutsideProject { real }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A dangling link is "missing", not a way out.
            Ok(None)
        }
        Err(e) => Err(ReadProblem::Unreadable(e)),
    }
}

/// [`confined`] of `path`, a file directly in a directory whose real path
/// (inside `root`) is `real_parent`: when `path` itself is not a link its
/// real path is `real_parent` and its name, learnt from one `lstat` rather
/// than a resolution of every component (a large project's start-up made
/// tens of thousands of those); anything else is resolved whole.
fn confined_in(
    root: &Path,
    real_parent: Option<&Path>,
    path: &Path,
) -> Result<Option<PathBuf>, ReadProblem> {
    if let (Some(parent), Some(name)) = (real_parent, path.file_name()) {
        match fs::symlink_metadata(path) {
            Ok(md) if !md.file_type().is_symlink() => return Ok(Some(parent.join(name))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            _ => {}
        }
    }
    confined(root, path)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

/// The largest markdown or WP file the pages read (a bigger one is a problem
/// shown on the page, not a memory spike).
pub const MAX_TEXT_FILE: u64 = 4 << 20;

/// Read a confined file as text: Ok(None) when missing.
pub fn read_confined(root: &Path, path: &Path) -> Result<Option<String>, ReadProblem> {
    read_confined_in(root, None, path)
}

/// [`read_confined`] of a file directly in a directory whose real path is
/// `real_parent` (see [`confined_in`]).
fn read_confined_in(
    root: &Path,
    real_parent: Option<&Path>,
    path: &Path,
) -> Result<Option<String>, ReadProblem> {
    match confined_in(root, real_parent, path)? {
        None => Ok(None),
        Some(real) if fs::metadata(&real).is_ok_and(|m| m.len() > MAX_TEXT_FILE) => {
            Err(ReadProblem::TooLarge {
                limit: MAX_TEXT_FILE,
            })
        }
        Some(real) => match fs::read(&real) {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) => Err(ReadProblem::Unreadable(e)),
        },
    }
}

/// Who implemented and who reviewed a WP, by the event log (the latest
/// claim and the latest review claim, as the CLI board reads them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LogRoles {
    implementer: Option<String>,
    reviewer: Option<String>,
    /// The latest review verdict that sent it back, if no hand-in followed.
    sent_back: Option<ChangesRequested>,
    merged_commit: Option<String>,
}

/// What one pass over the event log gives the pages besides the lanes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LogFacts {
    roles: BTreeMap<String, LogRoles>,
    history: BTreeMap<String, WpHistory>,
}

impl LogFacts {
    fn add(&mut self, e: &RawEvent<'_>) {
        let id = e.wp_id();
        let (from, to) = (e.lane_before(), e.lane_after());
        let note = e
            .reason
            .as_deref()
            .or(e.review_ref.as_deref())
            .unwrap_or_default();
        self.history
            .entry(id.to_string())
            .or_default()
            .push(HistoryRow {
                at: e.at.to_string(),
                from_lane: from,
                to_lane: to,
                actor: e.actor.to_string(),
                note: note.to_string(),
            });
        let claim = to == Lane::Claimed || (to == Lane::InProgress && from == Lane::Planned);
        let review_claim = to == Lane::InReview;
        let sent_back = matches!(from, Lane::ForReview | Lane::InReview | Lane::Approved)
            && matches!(to, Lane::Planned | Lane::InProgress | Lane::Claimed);
        let handed_in = matches!(
            to,
            Lane::ForReview | Lane::InReview | Lane::Approved | Lane::Done | Lane::Canceled
        );
        let merged = (to == Lane::Done)
            .then(|| e.extra.get("merged_commit").and_then(|v| v.as_str()))
            .flatten();
        if !(claim || review_claim || sent_back || handed_in) {
            return;
        }
        let r = self.roles.entry(id.to_string()).or_default();
        if claim && !e.actor.is_empty() {
            r.implementer = Some(e.actor.to_string());
        }
        if review_claim && !e.actor.is_empty() {
            r.reviewer = Some(e.actor.to_string());
        }
        if sent_back {
            r.sent_back = Some(ChangesRequested {
                by: e.actor.to_string(),
                at: e.at.to_string(),
                feedback: e.review_ref.as_deref().unwrap_or(note).trim().to_string(),
            });
        } else if handed_in {
            r.sent_back = None;
        }
        if let Some(c) = merged {
            r.merged_commit = Some(c.to_string());
        }
    }

    fn settle(&mut self) {
        for h in self.history.values_mut() {
            h.settle();
        }
    }

    /// "Changes requested" while the WP waits for (or is in) its rework.
    fn changes_requested(&self, id: &str, lane: Lane) -> Option<ChangesRequested> {
        let rework = matches!(
            lane,
            Lane::Planned | Lane::Claimed | Lane::InProgress | Lane::Blocked
        );
        rework
            .then(|| self.roles.get(id)?.sent_back.clone())
            .flatten()
    }
}

/// The event log of one mission folded for the pages: the core's fold (lanes,
/// roles, unreadable lines), the history and review facts, and how many
/// events were read. Kept by the [`Loader`] with the [`Cursor`] of the log
/// prefix it covers, so a change reads only the lines appended since.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LogFold {
    core: FoldState,
    facts: LogFacts,
    events: usize,
}

impl LogFold {
    /// Whether a dashboard could have saved it: each WP's kept history no
    /// longer than its count nor than a settled history holds.
    fn plausible(&self) -> bool {
        self.facts
            .history
            .values()
            .all(|h| h.rows.len() <= h.total && h.rows.len() <= HISTORY_KEEP)
    }
}

/// Version of the layout of the dashboard's saved fold ([`Loader`]).
const SAVED_FOLD_VERSION: u32 = 1;

/// A mission's fold is saved for the next run once its log is this many
/// bytes longer than the saved one covers (a change between saves is folded
/// from memory; a restart folds at most this much). A smaller log is folded
/// again as fast as a saved fold is read: nothing is saved for it.
const SAVE_EVERY: u64 = 4 << 20;

impl Fold for LogFold {
    type Event<'a> = RawEvent<'a>;

    fn add(&mut self, e: &RawEvent<'_>, dedupe: &mut Dedupe<'_>) -> bool {
        self.events += 1;
        self.facts.add(e);
        self.core.add(&FoldEvent::view(e), dedupe)
    }

    fn core(&mut self) -> &mut FoldState {
        &mut self.core
    }
}

/// A mission's saved log fold (see [`LogFold`]).
pub type SavedLog = (LogFold, Cursor);

/// Build the view of the mission in `dir` (a directory under kitty-specs/).
pub fn load_mission(root: &Path, dir: &Path) -> MissionView {
    load_mission_from(root, dir, None).0
}

/// [`load_mission`] continuing the log fold `saved` when it still describes
/// a prefix of the log (else the log is folded from its first line, streamed);
/// returns the fold to keep for the next change.
pub fn load_mission_from(
    root: &Path,
    dir: &Path,
    saved: Option<SavedLog>,
) -> (MissionView, Option<SavedLog>) {
    let fp = fingerprint(dir);
    let mut problems = Vec::new();
    let mut problem = |path: &Path, line: Option<usize>, message: String| {
        problems.push(Problem {
            file: rel(root, path),
            line,
            message,
        });
    };

    // The mission directory's real path, resolved once: its files are
    // checked against it (see [`confined_in`]).
    let real_dir = confined(root, dir).ok().flatten();

    // meta.json, through Mission::load once it is known to stay inside.
    let meta_path = dir.join("meta.json");
    let mission = match confined_in(root, real_dir.as_deref(), &meta_path) {
        Ok(_) => Mission::load(dir),
        Err(msg) => {
            let slug = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Mission {
                dir: dir.to_path_buf(),
                number: mission::split_number(&slug).map(|(n, _)| n.to_string()),
                slug,
                meta: Default::default(),
                meta_error: Some(msg.to_string()),
            }
        }
    };
    if let Some(e) = &mission.meta_error {
        problem(&meta_path, None, e.clone());
    }

    // The status log: the core's streaming fold, continued from the fold
    // kept for this mission when the log only grew since.
    let events_path = dir.join("status.events.jsonl");
    let mut keep = None;
    let events_real = confined_in(root, real_dir.as_deref(), &events_path);
    let has_event_log = matches!(events_real, Ok(Some(_)));
    let (snapshot, event_count, log) = match events_real {
        Ok(Some(real)) => match cache::fold_log::<LogFold>(&real, saved) {
            Ok(mut folded) => {
                folded.state.facts.settle();
                keep = folded.cursor.clone().map(|c| (folded.state.clone(), c));
                let mut current = folded.into_current();
                for w in current.core.warnings(&events_path) {
                    problem(&events_path, Some(w.line), w.message);
                }
                current.facts.settle();
                (current.core.snapshot(), current.events, current.facts)
            }
            Err(e) => {
                problem(&events_path, None, format!("cannot be read: {e}"));
                (FoldState::default().snapshot(), 0, LogFacts::default())
            }
        },
        Ok(None) => (FoldState::default().snapshot(), 0, LogFacts::default()),
        Err(msg) => {
            problem(&events_path, None, msg.to_string());
            (FoldState::default().snapshot(), 0, LogFacts::default())
        }
    };

    // lanes.json, once it is known to stay inside, through the same
    // mission-checked loader the commands use: one that names another
    // mission is this mission's problem, and its lanes are not shown.
    let lanes_path = mission.lanes_file();
    let lanes = match confined_in(root, real_dir.as_deref(), &lanes_path) {
        Ok(Some(_)) => match LanesManifest::for_mission(&mission) {
            Ok(l) => l,
            Err(e) => {
                problem(&lanes_path, None, e.to_string());
                None
            }
        },
        Ok(None) => None,
        Err(msg) => {
            problem(&lanes_path, None, msg.to_string());
            None
        }
    };

    // tasks.md: subtask checkboxes per WP.
    let tasks_path = mission.tasks_file();
    let tasks_doc = match read_confined_in(root, real_dir.as_deref(), &tasks_path) {
        Ok(Some(text)) => tasks_md::parse::parse(&text),
        Ok(None) => Default::default(),
        Err(msg) => {
            problem(&tasks_path, None, msg.to_string());
            Default::default()
        }
    };

    // WP files: one bad file is one card with a problem, not a lost board.
    let tasks_dir = mission.tasks_dir();
    let mut files: Vec<(PathBuf, Result<WpFile, String>)> = Vec::new();
    match confined_in(root, real_dir.as_deref(), &tasks_dir) {
        Ok(Some(real_tasks)) => match tasks_md::list_wp_files(&tasks_dir) {
            Ok(paths) => {
                for p in paths {
                    let in_tasks =
                        (p.parent() == Some(tasks_dir.as_path())).then_some(real_tasks.as_path());
                    let parsed = match read_confined_in(root, in_tasks, &p) {
                        Ok(Some(text)) => WpFile::parse(&p, &text).map_err(|e| e.to_string()),
                        Ok(None) => continue,
                        Err(msg) => Err(msg.to_string()),
                    };
                    files.push((p, parsed));
                }
            }
            Err(e) => problem(&tasks_dir, None, e.to_string()),
        },
        Ok(None) => {}
        Err(msg) => problem(&tasks_dir, None, msg.to_string()),
    }

    let lane_of = |id: &str| snapshot.lane_of(id).unwrap_or(Lane::Planned);
    let finished = |id: &str| matches!(lane_of(id), Lane::Done | Lane::Approved);
    let mut cards = Vec::new();
    let mut weight = 0.0;
    for (path, parsed) in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = tasks_md::wp_id_from_filename(&name).unwrap_or_else(|| name.clone());
        let lane = lane_of(&id);
        weight += lane.progress_weight();
        let section = tasks_doc.section(&id);
        let (sub_done, sub_total) = section.map_or((0, 0), |s| {
            (
                s.subtasks.iter().filter(|t| t.done).count(),
                s.subtasks.len(),
            )
        });
        let exec_lane = lanes
            .as_ref()
            .and_then(|l| l.lane_for_wp(&id))
            .map(|l| l.lane_id.clone());
        let roles = log.roles.get(&id);
        let card = match parsed {
            Ok(f) => {
                let deps = f.dependencies();
                let waiting_on: Vec<String> =
                    deps.iter().filter(|d| !finished(d)).cloned().collect();
                let agent = f.get_str("agent").unwrap_or_default();
                let reviewer = roles
                    .and_then(|r| r.reviewer.clone())
                    .or_else(|| {
                        ["reviewer_agent", "reviewer", "reviewed_by"]
                            .iter()
                            .find_map(|k| f.get_str(k).filter(|s| !s.is_empty()))
                    })
                    .unwrap_or_default();
                let implementer = roles
                    .and_then(|r| r.implementer.clone())
                    .unwrap_or_else(|| agent.clone());
                WpCard {
                    title: f
                        .title()
                        .filter(|t| !t.is_empty())
                        .or_else(|| section.map(|s| s.title.clone()))
                        .unwrap_or_else(|| f.stem()),
                    lane,
                    column: column_of(lane),
                    agent,
                    implementer,
                    reviewer,
                    changes_requested: log.changes_requested(&id, lane),
                    merged_commit: roles.and_then(|r| r.merged_commit.clone()),
                    ready: lane == Lane::Planned && waiting_on.is_empty(),
                    waiting_on,
                    dependencies: deps,
                    subtasks_done: sub_done,
                    subtasks_total: sub_total,
                    exec_lane,
                    file: rel(root, path),
                    problem: None,
                    id,
                }
            }
            Err(msg) => {
                problem(path, None, msg.clone());
                WpCard {
                    title: section.map(|s| s.title.clone()).unwrap_or_default(),
                    lane,
                    column: column_of(lane),
                    agent: String::new(),
                    implementer: roles
                        .and_then(|r| r.implementer.clone())
                        .unwrap_or_default(),
                    reviewer: roles.and_then(|r| r.reviewer.clone()).unwrap_or_default(),
                    changes_requested: log.changes_requested(&id, lane),
                    merged_commit: roles.and_then(|r| r.merged_commit.clone()),
                    dependencies: Vec::new(),
                    waiting_on: Vec::new(),
                    ready: false,
                    subtasks_done: sub_done,
                    subtasks_total: sub_total,
                    exec_lane,
                    file: rel(root, path),
                    problem: Some(msg.clone()),
                    id,
                }
            }
        };
        cards.push(card);
    }

    let artifacts = ARTIFACTS
        .iter()
        .filter(|(_, _, file)| dir.join(file).exists())
        .map(|(name, _, _)| *name)
        .collect();
    let total = cards.len();
    let done = cards.iter().filter(|c| c.lane == Lane::Done).count();
    let view = MissionView {
        slug: mission.slug.clone(),
        number: mission.number.clone().unwrap_or_default(),
        name: mission.friendly_name(),
        mission_type: mission.mission_type().to_string(),
        mission_id: mission.mission_id().map(str::to_string),
        accepted: mission.meta_str("accepted_at").is_some(),
        merged: mission.meta_str("merged_at").is_some(),
        merge: mission.meta_str("merged_at").map(|at| Merged {
            at: at.to_string(),
            into: mission.meta_str("merged_into").map(str::to_string),
            commit: mission.meta_str("merged_commit").map(str::to_string),
            by: mission.meta_str("merged_by").map(str::to_string),
        }),
        total,
        done,
        progress_percentage: if total == 0 {
            0.0
        } else {
            (weight / total as f64 * 1000.0).round() / 10.0
        },
        event_count,
        work_packages: cards,
        lanes,
        artifacts,
        problems,
        history: log.history,
        meta: mission.meta.clone(),
        has_event_log,
        dir: dir.to_path_buf(),
        fingerprint: fp,
        index_row: Memo::default(),
    };
    (view, keep)
}

/// The mission directories under kitty-specs/ (real directories only: a
/// symlinked mission is reported, not followed).
pub fn mission_dirs(project: &Project, root: &Path) -> (Vec<PathBuf>, Vec<Problem>) {
    let specs = project.specs_dir();
    let mut problems = Vec::new();
    match confined(root, &specs) {
        Ok(Some(_)) => {}
        Ok(None) => return (Vec::new(), problems),
        Err(msg) => {
            problems.push(Problem {
                file: "kitty-specs".into(),
                line: None,
                message: msg.to_string(),
            });
            return (Vec::new(), problems);
        }
    }
    // The directories `mission::list` would load, without reading every
    // meta.json on each re-stat: real directories, not hidden, sorted.
    let missions = match fs::read_dir(&specs) {
        Ok(rd) => {
            let mut dirs: Vec<PathBuf> = rd
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .collect();
            dirs.sort();
            dirs
        }
        Err(e) => {
            problems.push(Problem {
                file: "kitty-specs".into(),
                line: None,
                message: format!("cannot be read: {e}"),
            });
            Vec::new()
        }
    };
    (missions, problems)
}

/// Load several missions, spread over the machine's cores (a cold start of a
/// large project is mostly parsing event logs and WP frontmatter), each from
/// its saved log fold when there is one.
fn load_all(
    root: &Path,
    dirs: Vec<(&PathBuf, Option<SavedLog>)>,
) -> Vec<(MissionView, Option<SavedLog>)> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
        .min(dirs.len());
    if threads <= 1 {
        return dirs
            .into_iter()
            .map(|(d, saved)| load_mission_from(root, d, saved))
            .collect();
    }
    let chunk = dirs.len().div_ceil(threads);
    let mut parts: Vec<Vec<(&PathBuf, Option<SavedLog>)>> = Vec::new();
    let mut it = dirs.into_iter().peekable();
    while it.peek().is_some() {
        parts.push(it.by_ref().take(chunk).collect());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let dirs: Vec<&PathBuf> = part.iter().map(|(d, _)| *d).collect();
                let handle = scope.spawn(move || {
                    part.into_iter()
                        .map(|(d, saved)| load_mission_from(root, d, saved))
                        .collect::<Vec<_>>()
                });
                (handle, dirs)
            })
            .collect();
        handles
            .into_iter()
            // A part whose thread died is loaded again here, from scratch.
            .flat_map(|(h, dirs)| {
                h.join().unwrap_or_else(|_| {
                    dirs.iter()
                        .map(|d| load_mission_from(root, d, None))
                        .collect()
                })
            })
            .collect()
    })
}

/// Keeps the project view and rebuilds only what changed.
pub struct Loader {
    pub project: Project,
    /// The canonical project root: every read must resolve inside it.
    pub root: PathBuf,
    version: u64,
    missions: BTreeMap<PathBuf, Arc<MissionView>>,
    /// Each mission's log fold, continued on the next change.
    logs: BTreeMap<PathBuf, SavedLog>,
    /// Where each mission's log fold is saved between runs (beside the
    /// commands' saved folds, see [`crate::status::cache`]), and how many
    /// bytes of the log the saved one covers.
    saved: BTreeMap<PathBuf, u64>,
    /// [`SAVE_EVERY`] (a test saves every fold).
    save_every: u64,
}

impl Loader {
    pub fn new(project: Project) -> Loader {
        let root = fs::canonicalize(&project.root).unwrap_or_else(|_| project.root.clone());
        Loader {
            project,
            root,
            version: 0,
            missions: BTreeMap::new(),
            logs: BTreeMap::new(),
            saved: BTreeMap::new(),
            save_every: SAVE_EVERY,
        }
    }

    /// Where the log fold of the mission in `dir` is saved between runs: the
    /// status cache's file of that log, as `.dashboard.json`.
    fn saved_path(&self, dir: &Path) -> PathBuf {
        let base = match &self.project.git_common_dir {
            Some(common) => common.join("spec-kitty").join("status-cache"),
            None => self
                .project
                .kittify_dir()
                .join("runtime")
                .join("status-cache"),
        };
        let slug = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cache::cache_path(&base, &slug, &dir.join("status.events.jsonl"))
            .with_extension("dashboard.json")
    }

    /// The fold a previous run saved for the mission in `dir`, when it reads
    /// and is one a dashboard could have saved (its cursor is checked
    /// against the log when it is continued: a rewritten log is folded again).
    fn load_saved(&mut self, dir: &Path) -> Option<SavedLog> {
        let (fold, cursor) = cache::load_as::<LogFold>(&self.saved_path(dir), SAVED_FOLD_VERSION)?;
        if !fold.plausible() {
            return None;
        }
        self.saved.insert(dir.to_path_buf(), cursor.bytes());
        Some((fold, cursor))
    }

    /// Save the fold of the mission in `dir` for the next run once the log
    /// is [`SAVE_EVERY`] bytes past the saved one (or none), or shorter.
    fn save(&mut self, dir: &Path, (fold, cursor): &SavedLog) {
        let at = cursor.bytes();
        let was = self.saved.get(dir).copied().unwrap_or(0);
        if at >= was && at - was < self.save_every.max(1) {
            return;
        }
        if cache::save_as(&self.saved_path(dir), SAVED_FOLD_VERSION, fold, cursor).is_ok() {
            self.saved.insert(dir.to_path_buf(), at);
        }
    }

    /// Re-stat every mission and rebuild those whose fingerprint changed; or,
    /// with `only`, rebuild just those missions (new and removed missions are
    /// always seen). Returns the new view when anything changed, when `force` is set
    /// (something outside the missions changed, like the charter), and on the
    /// first call.
    pub fn refresh(
        &mut self,
        only: Option<&BTreeSet<PathBuf>>,
        force: bool,
    ) -> Option<ProjectView> {
        let (dirs, problems) = mission_dirs(&self.project, &self.root);
        let mut changed = force || self.version == 0;
        let present: BTreeSet<&PathBuf> = dirs.iter().collect();
        let before = self.missions.len();
        self.missions.retain(|d, _| present.contains(d));
        self.logs.retain(|d, _| present.contains(d));
        self.saved.retain(|d, _| present.contains(d));
        changed |= self.missions.len() != before;
        let mut todo: Vec<&PathBuf> = Vec::new();
        for dir in &dirs {
            let known = self.missions.contains_key(dir);
            if known && only.is_some_and(|set| !set.contains(dir)) {
                continue;
            }
            // A mission named by a watcher event is re-read whatever its stat
            // says (two same-size writes within one mtime tick look equal);
            // the periodic re-stat compares fingerprints.
            let named = only.is_some_and(|set| set.contains(dir));
            if !named
                && self
                    .missions
                    .get(dir)
                    .is_some_and(|m| m.fingerprint == fingerprint(dir))
            {
                continue;
            }
            todo.push(dir);
        }
        changed |= !todo.is_empty();
        let todo: Vec<(&PathBuf, Option<SavedLog>)> = todo
            .into_iter()
            .map(|d| {
                let kept = self.logs.remove(d);
                (d, kept.or_else(|| self.load_saved(d)))
            })
            .collect();
        for (view, saved) in load_all(&self.root, todo) {
            if let Some(saved) = saved {
                self.save(&view.dir, &saved);
                self.logs.insert(view.dir.clone(), saved);
            }
            self.missions.insert(view.dir.clone(), Arc::new(view));
        }
        if !changed {
            return None;
        }
        self.version += 1;
        let charter = self.project.kittify_dir().join("charter/charter.md");
        Some(ProjectView {
            version: self.version,
            project_path: self.root.to_string_lossy().into_owned(),
            project_name: self
                .root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            missions: self.missions.values().cloned().collect(),
            problems,
            has_charter: matches!(confined(&self.root, &charter), Ok(Some(_))),
            index_page: Memo::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn event(i: usize, wp: usize, from: &str, to: &str, review: bool) -> String {
        let review = if review { "\"changes\"" } else { "null" };
        format!(
            "{{\"actor\": \"a{}\", \"at\": \"2026-01-01T00:00:{:02}.000000+00:00\", \"event_id\": \"01M{i:023}\", \"force\": false, \"from_lane\": \"{from}\", \"mission_slug\": \"001-x\", \"reason\": \"r{i}\", \"review_ref\": {review}, \"to_lane\": \"{to}\", \"wp_id\": \"WP0{wp}\"}}\n",
            i % 3,
            i % 60
        )
    }

    /// The loader continues each mission's log fold: after appends (torn and
    /// unreadable lines among them) and after a rewrite, the view is the one a
    /// fresh load of the same files builds.
    #[test]
    fn a_continued_log_fold_shows_what_a_fresh_load_shows() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let dir = root.join("kitty-specs/001-x");
        fs::create_dir_all(dir.join("tasks")).unwrap();
        fs::write(dir.join("meta.json"), "{\"mission_slug\": \"001-x\"}\n").unwrap();
        for wp in 1..=3 {
            fs::write(
                dir.join(format!("tasks/WP0{wp}-x.md")),
                format!("---\nwork_package_id: WP0{wp}\ntitle: X {wp}\n---\n\n# X\n"),
            )
            .unwrap();
        }
        let log = dir.join("status.events.jsonl");
        let hops = [
            ("planned", "claimed", false),
            ("claimed", "in_progress", false),
            ("in_progress", "for_review", false),
            ("for_review", "in_progress", true),
            ("in_progress", "for_review", false),
            ("for_review", "approved", false),
        ];
        let mut i = 0;
        let mut append = |extra: &str| {
            let mut f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap();
            for wp in 1..=3 {
                let (from, to, review) = hops[(i / 3) % hops.len()];
                f.write_all(event(i, wp, from, to, review).as_bytes())
                    .unwrap();
                i += 1;
            }
            f.write_all(extra.as_bytes()).unwrap();
        };
        let same = |a: &MissionView, b: &MissionView| {
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::to_value(b).unwrap()
            );
            assert_eq!(a.history, b.history);
            assert!(!a.history.is_empty());
        };
        append("");
        let (first, mut saved) = load_mission_from(&root, &dir, None);
        same(&first, &load_mission(&root, &dir));
        for extra in ["", "not json\n", "{\"torn\": ", "", "\n", ""] {
            append(extra);
            let (view, next) = load_mission_from(&root, &dir, saved);
            same(&view, &load_mission(&root, &dir));
            saved = next;
        }
        // A rewrite (the first line dropped) is folded again.
        let text = fs::read_to_string(&log).unwrap();
        let rest = text.split_once('\n').unwrap().1.to_string();
        fs::write(&log, rest).unwrap();
        let (view, _) = load_mission_from(&root, &dir, saved);
        same(&view, &load_mission(&root, &dir));
        assert!(view.event_count > 10);
    }

    /// A restarted dashboard continues the fold the last run saved (only the
    /// events appended since are read), and never trusts it over the log: a
    /// rewritten log, a corrupt file, another layout, or a history no
    /// dashboard keeps each mean the log is folded from its first line.
    #[test]
    fn a_restart_continues_the_saved_fold_and_never_trusts_it_over_the_log() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        let dir = root.join("kitty-specs/001-x");
        fs::create_dir_all(dir.join("tasks")).unwrap();
        fs::write(dir.join("meta.json"), "{\"mission_slug\": \"001-x\"}\n").unwrap();
        fs::write(
            dir.join("tasks/WP01-x.md"),
            "---\nwork_package_id: WP01\ntitle: X\n---\n\n# X\n",
        )
        .unwrap();
        let log = dir.join("status.events.jsonl");
        let hops = [("planned", "claimed"), ("claimed", "planned")];
        let mut i = 0;
        let mut append = |n: usize| {
            let mut f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap();
            for _ in 0..n {
                let (from, to) = hops[i % 2];
                f.write_all(event(i, 1, from, to, false).as_bytes())
                    .unwrap();
                i += 1;
            }
        };
        append(5);
        let start = || {
            let mut l = Loader::new(Project::at(&root));
            l.save_every = 0;
            let v = l.refresh(None, true).unwrap();
            let saved = l.saved_path(&dir);
            (v.missions[0].clone(), saved)
        };
        let fresh = || load_mission(&root, &dir);
        let (view, saved) = start();
        assert_eq!(view.history, fresh().history);
        assert!(saved.is_file(), "{}", saved.display());
        assert!(saved.starts_with(root.join(".kittify/runtime/status-cache")));

        // Mark the saved rows: a restart that shows the mark read them from
        // the saved fold, not from the log.
        let (mut fold, cursor) = cache::load_as::<LogFold>(&saved, SAVED_FOLD_VERSION).unwrap();
        for row in &mut fold.facts.history.get_mut("WP01").unwrap().rows {
            row.note = "from the saved fold".into();
        }
        cache::save_as(&saved, SAVED_FOLD_VERSION, &fold, &cursor).unwrap();
        let marked = fs::read(&saved).unwrap();
        append(3);
        let (view, _) = start();
        let rows = &view.history["WP01"].rows;
        assert_eq!(view.history["WP01"].total, 8);
        assert_eq!(view.event_count, 8);
        assert_eq!(rows[0].note, "from the saved fold");
        assert_eq!(rows[7].note, "r7", "the new events are read");
        assert_eq!(view.work_packages, fresh().work_packages);

        // Each of these is ignored: the log is folded again.
        let saved_as = |version: u32, fold: &LogFold| {
            cache::save_as(&saved, version, fold, &cursor).unwrap();
            fs::read(&saved).unwrap()
        };
        let mut implausible = fold.clone();
        implausible.facts.history.get_mut("WP01").unwrap().total = 1;
        let mut other_core = marked.clone();
        // The core's layout version: the four bytes after the eight of
        // `cache::MAGIC`.
        other_core[8..12].copy_from_slice(&1u32.to_le_bytes());
        // The first row's `to_lane` (claimed, index 1) before its actor and
        // note, replaced by an index no lane has; sealed with a right CRC.
        let body = postcard::to_allocvec(&(&cursor, &fold)).unwrap();
        let row = b"\x02a0\x13from the saved fold";
        let at = body.windows(row.len()).position(|w| w == row).unwrap() - 1;
        assert_eq!(body[at], 1);
        let mut unknown_lane = body.clone();
        unknown_lane[at] = 42;
        let mut bit_flipped = marked.clone();
        let mid = bit_flipped.len() / 2;
        bit_flipped[mid] ^= 0x10;
        let cases = [
            ("corrupt", marked[..marked.len() / 2].to_vec()),
            ("bit flipped", bit_flipped),
            (
                "the JSON of an older dashboard",
                b"{\"version\": 1, \"fold\": {}}".to_vec(),
            ),
            ("other layout", saved_as(7, &fold)),
            ("other core", other_core),
            (
                "more rows than events",
                saved_as(SAVED_FOLD_VERSION, &implausible),
            ),
            (
                "an unknown lane",
                cache::sealed(cache::CACHE_VERSION, SAVED_FOLD_VERSION, &unknown_lane),
            ),
        ];
        // The patch is sound but for the lane: in range, it is read.
        let mut other_lane = body.clone();
        other_lane[at] = 2;
        fs::write(
            &saved,
            cache::sealed(cache::CACHE_VERSION, SAVED_FOLD_VERSION, &other_lane),
        )
        .unwrap();
        let (read, _) = cache::load_as::<LogFold>(&saved, SAVED_FOLD_VERSION).unwrap();
        assert_eq!(read.facts.history["WP01"].rows[0].to_lane, Lane::InProgress);
        for (what, bytes) in cases {
            fs::write(&saved, bytes).unwrap();
            let (view, _) = start();
            assert_eq!(view.history, fresh().history, "{what}");
            assert!(
                view.history["WP01"]
                    .rows
                    .iter()
                    .all(|r| r.note != "from the saved fold"),
                "{what}"
            );
        }

        // A rewritten log (a line dropped) is folded again, whatever was saved.
        fs::write(&saved, &marked).unwrap();
        let text = fs::read_to_string(&log).unwrap();
        fs::write(&log, text.split_once('\n').unwrap().1).unwrap();
        let (view, _) = start();
        assert_eq!(view.history, fresh().history);
        assert_eq!(view.event_count, 7);
    }
}
