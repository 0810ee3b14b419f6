//! Reading and appending `status.events.jsonl`, and writing `status.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::cache;
use super::error::{io, Result, StatusError};
use super::model::{Lane, StatusEvent};
use super::reduce::Snapshot;
use super::transitions::{route, validate, TransitionContext};
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::Mission;
use crate::project::Project;

/// A line of the log that could not be read (a torn write, or hand editing).
#[derive(Debug, Clone, PartialEq)]
pub struct LogWarning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for LogWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Who implemented and who reviewed a work package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub implementer: Option<String>,
    pub reviewer: Option<String>,
    /// A review sent it back and the rework is not handed in yet (what
    /// [`super::work::changes_requested`] finds, without its details).
    pub sent_back: bool,
    /// Everyone who implemented it (what [`super::work::implementers`] finds).
    pub implementers: Vec<String>,
    /// The review that sent it back, while `sent_back` (what
    /// [`super::work::changes_requested`] finds, folded over every readable line).
    pub changes_requested: Option<super::work::SentBack>,
    /// The latest recorded claim commit (`work::recorded(.., CLAIM_COMMIT)`'s last).
    pub claim_commit: Option<String>,
    /// The earliest recorded claim commit (`work::recorded(.., CLAIM_COMMIT)`'s
    /// first): where the range of a WP's own work starts ([`super::work::wp_range`]).
    pub first_claim_commit: Option<String>,
    /// The latest recorded hand-in commit.
    pub hand_in_commit: Option<String>,
    /// The commit its latest approval recorded ([`super::work::approved_commit`]).
    pub approved_commit: Option<String>,
    /// A review sent it back with feedback at some time (an event
    /// [`crate::workspace::action::review_feedback`] would quote): only then
    /// does a prompt read the log for the feedback's text.
    pub had_feedback: bool,
    /// The feedback of the last reviews that sent it back, `(by, at, text)`,
    /// oldest first (what [`super::work::review_feedback`] finds).
    pub feedback: Vec<(String, String, String)>,
    /// The hand-in commit before the latest one, when a review sent it back
    /// in between (what [`super::work::previous_hand_in`] finds).
    pub previous_hand_in: Option<String>,
}

/// The parsed log plus anything that had to be skipped.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    pub events: Vec<StatusEvent>,
    pub warnings: Vec<LogWarning>,
}

/// A move to record.
#[derive(Debug, Clone)]
pub struct Transition {
    pub wp_id: String,
    pub to: Lane,
    pub force: bool,
    /// Record the lanes the lifecycle passes through on the way
    /// ([`route`]: the claim before in_progress, the review claim before a
    /// verdict); nothing else is chained.
    pub chain: bool,
    /// `worktree` or `direct_repo`.
    pub execution_mode: String,
    pub ctx: TransitionContext,
    /// Extra keys for the last event (the reference ignores keys it does not
    /// know): `claim_commit`, `hand_in_commit`, `lane_branch`, ...
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The status files of one mission and the lock that guards them.
#[derive(Debug, Clone)]
pub struct StatusStore {
    pub events_path: PathBuf,
    pub snapshot_path: PathBuf,
    pub lock_path: PathBuf,
    /// The saved fold of the log ([`super::cache`]), outside the tracked files.
    pub cache_path: PathBuf,
    pub mission_slug: String,
    pub mission_number: String,
    pub mission_type: String,
    /// The caller read the repository's index once and found no unmerged
    /// path ([`StatusStore::index_known_clean`]): the log is not asked about.
    index_clean: bool,
    /// A reader saves a fold only of a log at least this long
    /// ([`StatusStore::saving_folds_from`]; 0: any).
    save_from: u64,
}

impl StatusStore {
    pub fn for_mission(project: &Project, mission: &Mission) -> StatusStore {
        Self::for_mission_in(project, mission, None)
    }

    /// [`StatusStore::for_mission`] for a caller that knows the real path of
    /// the mission's directory (a listing resolves `kitty-specs/` once
    /// rather than every mission's path): the same store.
    pub fn for_mission_at(project: &Project, mission: &Mission, real_dir: &Path) -> StatusStore {
        Self::for_mission_in(project, mission, Some(real_dir))
    }

    fn for_mission_in(
        project: &Project,
        mission: &Mission,
        real_dir: Option<&Path>,
    ) -> StatusStore {
        let events_path = mission.dir.join("status.events.jsonl");
        let cache_dir = match &project.git_common_dir {
            Some(common) => common.join("spec-kitty").join("status-cache"),
            None => project.kittify_dir().join("runtime").join("status-cache"),
        };
        let cache_path = match real_dir {
            Some(real) => cache::cache_path_in(&cache_dir, &mission.slug, real),
            None => cache::cache_path(&cache_dir, &mission.slug, &events_path),
        };
        StatusStore {
            cache_path,
            events_path,
            snapshot_path: mission.dir.join("status.json"),
            lock_path: mission.status_lock_path(project),
            mission_slug: mission.slug.clone(),
            mission_number: mission.number.clone().unwrap_or_default(),
            mission_type: mission.mission_type().to_string(),
            index_clean: false,
            save_from: 0,
        }
    }

    /// This store for a caller that checked the whole index for unmerged paths
    /// once ([`crate::git::index_has_conflicts`]) and found none, so reading
    /// the log does not ask git again (a listing of hundreds of missions read
    /// the index once per mission).
    pub fn index_known_clean(mut self, clean: bool) -> StatusStore {
        self.index_clean = clean;
        self
    }

    /// This store for a reader of many missions (a listing) that keeps what
    /// it read elsewhere: the fold of a log shorter than `bytes` is not saved
    /// (writing it, and the status lock file, cost more than folding a short
    /// log again; a listing of hundreds of fresh missions was mostly that).
    pub fn saving_folds_from(mut self, bytes: u64) -> StatusStore {
        self.save_from = bytes;
        self
    }

    /// Read the log. A missing file is an empty log; unreadable lines are skipped
    /// and reported with their line numbers.
    pub fn read(&self) -> Result<EventLog> {
        if let Some(text) = super::unmerged::union_if_unmerged(&self.events_path)? {
            return Ok(parse_log(&self.events_path, text.as_bytes()));
        }
        let bytes = match fs::read(&self.events_path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(EventLog::default()),
            Err(e) => return Err(io("read", &self.events_path)(e)),
        };
        Ok(parse_log(&self.events_path, &bytes))
    }

    /// Current snapshot, computed from the log. The fold saved by the last
    /// reader or writer is reused when it still describes a prefix of the log:
    /// only the lines after it are read ([`super::cache`]).
    pub fn snapshot(&self) -> Result<(Snapshot, Vec<LogWarning>)> {
        let (snap, warnings, _) = self.snapshot_settled()?;
        Ok((snap, warnings))
    }

    /// [`StatusStore::snapshot`], and whether `status.json` is left with
    /// nothing for a later reader to do: it describes the log (or was
    /// rewritten to), or one of the two files does not exist. False when a
    /// stale one could not be rewritten (the status lock was busy, a write
    /// failed): a later reader tries again.
    pub fn snapshot_settled(&self) -> Result<(Snapshot, Vec<LogWarning>, bool)> {
        let folded = self.fold_for_reading()?;
        let fold = folded.current();
        let snap = fold.snapshot();
        let settled = self.refresh_if_stale(fold);
        Ok((snap, fold.warnings(&self.events_path), settled))
    }

    /// The id of the event that decides `wp_id`'s lane in the log as it is
    /// now (the saved fold plus the lines after it; nothing saved, no lock
    /// taken); None when the log names no such WP or cannot be read.
    pub fn deciding_event(&self, wp_id: &str) -> Option<String> {
        let folded = self.fold(true).ok()?;
        folded.current().deciding_event(wp_id).map(str::to_string)
    }

    /// The log folded from the saved fold (or from the first line), the saved
    /// fold brought up to date when the status lock is free right now (a
    /// reader never waits for it: the next reader folds the same lines).
    fn fold_for_reading(&self) -> Result<cache::Folded> {
        let folded = self.fold_keeping(true, self.save_from)?;
        let long_enough = folded
            .cursor
            .as_ref()
            .is_some_and(|c| c.bytes() >= self.save_from);
        if folded.worth_saving() && long_enough {
            if let Ok(_lock) =
                FileLock::acquire(&self.lock_path, std::time::Duration::ZERO, "the status log")
            {
                self.save_fold(&folded);
            }
        }
        Ok(folded)
    }

    /// Fold the log: the union of an unmerged log's stages (never saved),
    /// else the file, from the saved fold when `reuse` and it still fits.
    fn fold(&self, reuse: bool) -> Result<cache::Folded> {
        self.fold_keeping(reuse, 0)
    }

    /// [`StatusStore::fold`] for a reader that saves only a fold of at least
    /// `keep_from` bytes ([`cache::fold_log_keeping`]).
    fn fold_keeping(&self, reuse: bool, keep_from: u64) -> Result<cache::Folded> {
        if !self.index_clean {
            if let Some(text) = super::unmerged::union_if_unmerged(&self.events_path)? {
                return Ok(cache::fold_text(&self.events_path, text.as_bytes()));
            }
        }
        let saved = if reuse {
            cache::load(&self.cache_path)
        } else {
            None
        };
        cache::fold_log_keeping(&self.events_path, saved, keep_from)
            .map_err(io("read", &self.events_path))
    }

    /// Save a fold that covers more of the log than the saved one. The
    /// caller holds the status lock. A failure only costs the next reader time.
    fn save_fold(&self, folded: &cache::Folded) {
        if let (true, Some(cursor)) = (folded.worth_saving(), &folded.cursor) {
            let _ = cache::save(&self.cache_path, &folded.state, cursor);
        }
    }

    /// status.json is derived: when it no longer describes the log (a git
    /// merge or pull brought new events, a crash came between the two writes)
    /// or is older than it, it is rebuilt. A failure here only leaves it stale
    /// for the next reader. Returns whether nothing is left to do (see
    /// [`StatusStore::snapshot_settled`]).
    fn refresh_if_stale(&self, fold: &cache::FoldState) -> bool {
        let (event_count, last_event_id) = fold.head();
        let last_event_id = last_event_id.as_deref();
        #[derive(serde::Deserialize)]
        struct Head {
            event_count: Option<usize>,
            last_event_id: Option<String>,
        }
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let (Some(log), Some(written)) =
            (modified(&self.events_path), modified(&self.snapshot_path))
        else {
            return true;
        };
        // What this process last wrote or read there, while the file is the
        // same; else read (status.json holds every WP: parsing it on each
        // read of a command cost the size of the mission).
        let stamp = fs::metadata(&self.snapshot_path)
            .ok()
            .map(|m| cache::file_stamp(&m));
        let head = stamp
            .and_then(|st| snapshot_head_known(&self.snapshot_path, st))
            .or_else(|| self.saved_head())
            .map(|(head, _)| head)
            .or_else(|| {
                // This tool's own rendering of the fold (a copy or checkout
                // of what it wrote): its head is the fold's, and the next
                // move may rewrite only what changes in it.
                let st = stamp?;
                let ours = self.rendering(fold);
                if file_holds(&self.snapshot_path, &ours) {
                    let again = fs::metadata(&self.snapshot_path).ok()?;
                    if cache::file_stamp(&again) == st {
                        let head = fold.head();
                        remember_snapshot_head(&self.snapshot_path, st, &head, true);
                        self.save_head(&head, true);
                        return Some(head);
                    }
                }
                None
            })
            .or_else(|| {
                let text = fsutil::read_capped(&self.snapshot_path, crate::bounds::MAX_TEXT_BYTES)
                    .ok()
                    .flatten()?;
                let h = crate::bounds::json::<Head>(&text).ok()?;
                let head = (h.event_count?, h.last_event_id);
                let again = fs::metadata(&self.snapshot_path)
                    .ok()
                    .map(|m| cache::file_stamp(&m));
                if let (Some(st), true) = (stamp, again == stamp) {
                    remember_snapshot_head(&self.snapshot_path, st, &head, false);
                    self.save_head(&head, false);
                }
                Some(head)
            });
        let describes = head
            .is_some_and(|(count, last)| count == event_count && last.as_deref() == last_event_id);
        if describes && written >= log {
            return true;
        }
        if self.rewrite_snapshot().is_err() {
            return false;
        }
        // Unchanged content is not rewritten: mark it as current all the same.
        fs::File::options()
            .write(true)
            .open(&self.snapshot_path)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()))
            .is_ok()
    }

    /// Rewrite `status.json` under the lock from the log as it is now (the
    /// saved fold plus what was appended since).
    fn rewrite_snapshot(&self) -> Result<()> {
        let _lock = self.lock()?;
        let folded = self.fold(true)?;
        self.save_fold(&folded);
        self.write_fold(folded.current())
    }

    /// The snapshot for a caller holding the status lock ([`StatusStore::hold`]):
    /// the saved fold plus the lines after it, saved again when it advanced.
    pub fn snapshot_held(&self, _held: &FileLock) -> Result<Snapshot> {
        let folded = self.fold(true)?;
        self.save_fold(&folded);
        Ok(folded.current().snapshot())
    }

    /// [`StatusStore::snapshot`] plus who implemented and who reviewed each WP
    /// (the actors of its latest claim and latest review claim), from one fold.
    pub fn snapshot_with_roles(
        &self,
    ) -> Result<(Snapshot, Vec<LogWarning>, BTreeMap<String, Roles>)> {
        let folded = self.fold_for_reading()?;
        let fold = folded.current();
        let snap = fold.snapshot();
        self.refresh_if_stale(fold);
        Ok((snap, fold.warnings(&self.events_path), fold.roles()))
    }

    /// The lane and the roles of one WP, from one fold, with `status.json`
    /// refreshed as [`StatusStore::snapshot_with_roles`] leaves it: for a
    /// caller that needs no other WP's state (a move's guards), so no
    /// snapshot of every WP is built. The lane is None when no event
    /// decides it; the roles are the default when it has none.
    pub fn lane_and_roles(&self, wp_id: &str) -> Result<(Option<Lane>, Roles)> {
        let folded = self.fold_for_reading()?;
        let fold = folded.current();
        self.refresh_if_stale(fold);
        Ok((fold.lane_of(wp_id), fold.roles_of(wp_id)))
    }

    /// The fold of the log (the saved fold plus the lines after it), with
    /// `status.json` refreshed as [`StatusStore::lane_and_roles`] leaves it:
    /// for a caller that looks up a few WPs ([`cache::FoldState::lane_of`],
    /// [`cache::FoldState::roles_of`]) without a snapshot of every WP (the
    /// fold's maps are shared with the process's memo, not copied).
    pub fn fold_view(&self) -> Result<cache::FoldState> {
        let folded = self.fold_for_reading()?;
        self.refresh_if_stale(folded.current());
        Ok(folded.into_current())
    }

    /// [`StatusStore::roles`] of one WP (the default when it has none),
    /// without building those of every WP.
    pub fn roles_of(&self, wp_id: &str) -> Result<Roles> {
        Ok(self.fold_for_reading()?.current().roles_of(wp_id))
    }

    /// The roles of every WP from the saved fold plus the lines after it,
    /// for a caller that already read the lanes this command
    /// ([`StatusStore::snapshot_with_roles`]): no snapshot of every WP is
    /// built and `status.json` is left as that read left it.
    pub fn roles(&self) -> Result<BTreeMap<String, Roles>> {
        Ok(self.fold_for_reading()?.current().roles())
    }

    /// The snapshot and the roles of every WP from the saved fold plus the
    /// lines after it, for a caller that only reads the mission's state:
    /// unlike [`StatusStore::snapshot_with_roles`], `status.json` is left
    /// as it is (a merge checks the tree it is about to land).
    pub fn state(&self) -> Result<(Snapshot, BTreeMap<String, Roles>)> {
        let folded = self.fold_for_reading()?;
        let fold = folded.current();
        Ok((fold.snapshot(), fold.roles()))
    }

    /// Every line of the log folded into `F` from the first (nothing saved is
    /// used or written, no lock taken): a streaming fold, bounded memory
    /// whatever the log's size ([`cache::fold_log`]); an unmerged log's
    /// union of stages.
    pub fn fold_all<F: cache::Fold>(&self) -> Result<F> {
        if !self.index_clean {
            if let Some(text) = super::unmerged::union_if_unmerged(&self.events_path)? {
                return Ok(cache::fold_text::<F>(&self.events_path, text.as_bytes()).into_current());
            }
        }
        Ok(cache::fold_log::<F>(&self.events_path, None)
            .map_err(io("read", &self.events_path))?
            .into_current())
    }

    /// Every WP a readable line of the log names (duplicates included), from
    /// the saved fold plus the lines after it.
    pub fn named_wps(&self) -> Result<std::collections::BTreeSet<String>> {
        let folded = self.fold_for_reading()?;
        Ok(folded.current().wp_ids().map(str::to_string).collect())
    }

    /// [`StatusStore::state`]'s snapshot with the log's unreadable lines, for
    /// a caller that only reads (`status.json` left as it is).
    pub fn state_and_warnings(&self) -> Result<(Snapshot, Vec<LogWarning>)> {
        let folded = self.fold_for_reading()?;
        let fold = folded.current();
        Ok((fold.snapshot(), fold.warnings(&self.events_path)))
    }

    /// A writer holding the lock first writes the union of an unmerged log's
    /// stages into the working file, so what it appends lands on every event
    /// (the index stays unmerged until the user runs `git add`). Returns
    /// whether the file changed.
    pub fn heal_unmerged(&self) -> Result<bool> {
        let Some(text) = super::unmerged::union_if_unmerged(&self.events_path)? else {
            return Ok(false);
        };
        if fs::read(&self.events_path).ok().as_deref() == Some(text.as_bytes()) {
            return Ok(false);
        }
        fsutil::atomic_write(&self.events_path, text.as_bytes())?;
        Ok(true)
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::acquire(
            &self.lock_path,
            LOCK_TIMEOUT,
            &format!("the status log of {}", self.mission_slug),
        )
        .map_err(StatusError::from)
    }

    /// Validate and record a move under the lock; returns the events written
    /// (none when the WP is already in the target lane).
    pub fn transition(&self, t: &Transition) -> Result<Vec<StatusEvent>> {
        self.transition_then(t, |_| Ok(()))
    }

    /// [`StatusStore::transition`] that calls `before_append` with the events
    /// about to be written, under the lock, before the append (a failure there
    /// writes nothing).
    pub fn transition_then(
        &self,
        t: &Transition,
        before_append: impl FnOnce(&[StatusEvent]) -> Result<()>,
    ) -> Result<Vec<StatusEvent>> {
        let _lock = self.lock()?;
        self.heal_unmerged()?;
        let folded = self.fold(true)?;
        // Test hook: hold between read and append while another process
        // waits for the lock (the parallel-process tests).
        crate::env::pause_at(crate::env::PausePoint::StatusBeforeAppend);
        let fold = folded.current();
        if !fold.names_wp(&t.wp_id) {
            return Err(StatusError::NoStatusYet {
                wp_id: t.wp_id.clone(),
                log: self.events_path.clone(),
            });
        }
        let from = fold.lane_of(&t.wp_id).unwrap_or(Lane::Planned);
        if from == t.to && !t.force {
            self.save_fold(&folded);
            return Ok(Vec::new());
        }
        let hops = if t.force || !t.chain {
            vec![t.to]
        } else {
            route(from, t.to)
        };
        let mut prev = from;
        let mut max_id = fold.max_event_id().map(str::to_string);
        let mut events = Vec::with_capacity(hops.len());
        for (i, &to) in hops.iter().enumerate() {
            let mut ctx = t.ctx.clone();
            // Feedback belongs to the hop that sends the WP back: the last.
            if i + 1 < hops.len() {
                ctx.review_ref = None;
            }
            validate(prev, to, t.force, &ctx)?;
            let id = cache::next_event_id(max_id.as_deref());
            max_id = Some(id.clone());
            let mut e = self.new_event(id, &t.wp_id, prev, to, t.force, &t.execution_mode, &ctx);
            // An orchestrator's policy goes on every hop, in its own field.
            if let Some(p) = t.extra.get("policy_metadata") {
                e.policy_metadata = Some(p.clone());
            }
            if i + 1 == hops.len() {
                e.extra = t.extra.clone();
                e.extra.remove("policy_metadata");
            }
            events.push(e);
            prev = to;
        }
        before_append(&events)?;
        crate::env::crash_point(crate::env::CrashPoint::BeforeAppend);
        self.append(&events)?;
        crate::env::crash_point(crate::env::CrashPoint::AfterAppend);
        self.settle_after_append(folded)?;
        Ok(events)
    }

    /// After an append under the lock: fold what was appended onto `before`
    /// (reading only the new lines), save the fold and write `status.json`.
    fn settle_after_append(&self, before: cache::Folded) -> Result<()> {
        // What status.json described before the append (two counts).
        let prior = before.state.clone();
        // The loaded fold shares its maps with this process's memo of the
        // saved one: out of the memo, the new events change them in place.
        let memo = cache::forget(&self.cache_path);
        let folded = match before.cursor {
            Some(cursor) => cache::fold_log(&self.events_path, Some((before.state, cursor)))
                .map_err(io("read", &self.events_path))?,
            // An unmerged log's union: folded again.
            None => self.fold(false)?,
        };
        if folded.worth_saving() {
            self.save_fold(&folded);
        } else if let (Some(stamp), Some(cursor)) = (memo, &folded.cursor) {
            // Not saved (a few lines past the saved fold): the rest of this
            // command reads from here rather than folding them again.
            cache::remember_further(&self.cache_path, stamp, &folded.state, cursor);
        }
        match self.spliced(&prior, folded.current()) {
            Some(bytes) => {
                fsutil::write_derived(&self.snapshot_path, &bytes)?;
                self.note_head(folded.current().head(), true);
                Ok(())
            }
            None => self.write_fold(folded.current()),
        }
    }

    /// The new status.json of `fold` made from the file on disk when this
    /// tool wrote it for `prior` ([`cache::FoldState::status_json_spliced`]);
    /// None when it did not, or changed while it was read.
    fn spliced(&self, prior: &cache::FoldState, fold: &cache::FoldState) -> Option<Vec<u8>> {
        let stamp = cache::file_stamp(&fs::metadata(&self.snapshot_path).ok()?);
        let (head, ours) =
            snapshot_head_known(&self.snapshot_path, stamp).or_else(|| self.saved_head())?;
        if !ours || head != prior.head() {
            return None;
        }
        let old = fsutil::read_capped(&self.snapshot_path, crate::bounds::MAX_TEXT_BYTES)
            .ok()
            .flatten()?;
        let again = cache::file_stamp(&fs::metadata(&self.snapshot_path).ok()?);
        if again != stamp {
            return None;
        }
        fold.status_json_spliced(
            prior,
            old.as_bytes(),
            (&self.mission_number, &self.mission_type, &self.mission_slug),
        )
    }

    /// Give every listed WP without events a forced `planned -> planned`
    /// bootstrap event. Returns the ids that were seeded.
    pub fn bootstrap(&self, wp_ids: &[String], actor: &str, dry_run: bool) -> Result<Vec<String>> {
        let held = self.lock()?;
        self.bootstrap_held(&held, wp_ids, actor, dry_run)
    }

    /// The status lock of this mission, for a caller that must hold it across
    /// more than one step (finalize-tasks rewrites WP files under it).
    pub fn hold(&self) -> Result<FileLock> {
        self.lock()
    }

    /// [`StatusStore::bootstrap`] for a caller already holding [`StatusStore::hold`].
    pub fn bootstrap_held(
        &self,
        _held: &FileLock,
        wp_ids: &[String],
        actor: &str,
        dry_run: bool,
    ) -> Result<Vec<String>> {
        let folded = self.fold(true)?;
        self.bootstrap_folded(_held, &folded, wp_ids, actor, dry_run)
    }

    /// The log folded once (from the saved fold), for a caller holding
    /// [`StatusStore::hold`] that reads the state and then seeds it with
    /// [`StatusStore::bootstrap_folded`] (finalize-tasks: one read of the log
    /// for its lane plan, its dry run and its write).
    pub fn fold_held(&self, _held: &FileLock) -> Result<cache::Folded> {
        self.fold(true)
    }

    /// [`StatusStore::bootstrap_held`] from a fold of the log taken under the
    /// same hold. When not a dry run an unmerged log is healed first (written
    /// as the union of its stages, which is what the fold already read).
    pub fn bootstrap_folded(
        &self,
        _held: &FileLock,
        folded: &cache::Folded,
        wp_ids: &[String],
        actor: &str,
        dry_run: bool,
    ) -> Result<Vec<String>> {
        if !dry_run {
            self.heal_unmerged()?;
        }
        let fold = folded.current();
        let unseeded = wp_ids.iter().filter(|id| !fold.names_wp(id));
        if dry_run {
            // What would be seeded; no event is made.
            return Ok(unseeded.cloned().collect());
        }
        let ctx = TransitionContext {
            actor: actor.to_string(),
            reason: Some("canonical bootstrap".into()),
            ..Default::default()
        };
        let mut max_id = fold.max_event_id().map(str::to_string);
        let events: Vec<StatusEvent> = unseeded
            .map(|id| {
                let event_id = cache::next_event_id(max_id.as_deref());
                max_id = Some(event_id.clone());
                self.new_event(
                    event_id,
                    id,
                    Lane::Planned,
                    Lane::Planned,
                    true,
                    "worktree",
                    &ctx,
                )
            })
            .collect();
        let seeded = events.iter().map(|e| e.wp_id.clone()).collect();
        if events.is_empty() {
            self.save_fold(folded);
            self.write_fold(folded.current())?;
        } else {
            let appended = self.append(&events)?;
            // The events just written folded on as they are, not read back.
            match cache::fold_appended(&self.events_path, folded, &events, appended.as_bytes()) {
                Ok(Some(after)) => {
                    self.save_fold(&after);
                    self.write_fold(after.current())?;
                }
                _ => self.settle_after_append(folded.clone())?,
            }
        }
        Ok(seeded)
    }

    /// Rebuild `status.json` from the log.
    /// Every line is folded again (the saved fold is not trusted), and the
    /// fold saved for the readers that follow.
    pub fn materialize(&self) -> Result<(Snapshot, Vec<LogWarning>)> {
        let _lock = self.lock()?;
        let folded = self.fold(false)?;
        self.save_fold(&folded);
        let fold = folded.current();
        let snap = fold.snapshot();
        self.write_snapshot(&snap)?;
        Ok((snap, fold.warnings(&self.events_path)))
    }

    #[allow(clippy::too_many_arguments)]
    fn new_event(
        &self,
        event_id: String,
        wp: &str,
        from: Lane,
        to: Lane,
        force: bool,
        mode: &str,
        ctx: &TransitionContext,
    ) -> StatusEvent {
        StatusEvent {
            event_id,
            mission_slug: self.mission_slug.clone(),
            wp_id: wp.to_string(),
            from_lane: from,
            to_lane: to,
            at: crate::timefmt::now_iso(),
            actor: ctx.actor.clone(),
            force,
            execution_mode: mode.to_string(),
            reason: ctx.reason.clone(),
            review_ref: ctx.review_ref.clone(),
            evidence: ctx.evidence.clone(),
            policy_metadata: None,
            extra: Default::default(),
        }
    }

    /// Append events with one write. If a crash left a torn last line, it is
    /// first closed with a newline so it stays visible (and reported) instead of
    /// being glued to the new event. Returns the bytes appended.
    fn append(&self, events: &[StatusEvent]) -> Result<String> {
        let mut buf = String::new();
        if let Ok(meta) = fs::metadata(&self.events_path) {
            if meta.len() > 0 && !ends_with_newline(&self.events_path)? {
                buf.push('\n');
            }
        }
        for e in events {
            buf.push_str(&e.to_line());
            buf.push('\n');
        }
        fsutil::append(&self.events_path, buf.as_bytes())?;
        Ok(buf)
    }

    /// Write `status.json` atomically, only when its content changes. It is
    /// derived from the log (a reader rebuilds it when it no longer describes
    /// the log or cannot be read, the next move rewrites it), so it is not
    /// synced ([`fsutil::write_derived`]): its two syncs were a journal
    /// commit each that every move waited for.
    pub fn write_snapshot(&self, snap: &Snapshot) -> Result<()> {
        let bytes =
            snap.status_json_bytes(&self.mission_number, &self.mission_type, &self.mission_slug);
        self.write_status_json(&bytes, (snap.event_count, snap.last_event_id.clone()))
    }

    /// [`StatusStore::write_snapshot`] of a fold's snapshot, written straight
    /// from the fold ([`cache::FoldState::status_json_bytes`]).
    fn write_fold(&self, fold: &cache::FoldState) -> Result<()> {
        self.write_status_json(&self.rendering(fold), fold.head())
    }

    /// The bytes of `status.json` for `fold`.
    fn rendering(&self, fold: &cache::FoldState) -> Vec<u8> {
        fold.status_json_bytes(&self.mission_number, &self.mission_type, &self.mission_slug)
    }

    /// Write `bytes` as `status.json` (when they differ from the file) and
    /// remember its head.
    fn write_status_json(&self, bytes: &[u8], head: SnapshotHead) -> Result<()> {
        if !file_holds(&self.snapshot_path, bytes) {
            fsutil::write_derived(&self.snapshot_path, bytes)?;
        }
        self.note_head(head, true);
        Ok(())
    }

    /// Remember `head` as what status.json says now, in this process and for
    /// the next command; `ours`: its bytes are what this tool renders for it.
    fn note_head(&self, head: SnapshotHead, ours: bool) {
        if let Ok(md) = fs::metadata(&self.snapshot_path) {
            remember_snapshot_head(&self.snapshot_path, cache::file_stamp(&md), &head, ours);
            self.save_head(&head, ours);
        }
    }

    /// Where the head of `status.json` is kept between commands:
    /// `<git-common-dir>/spec-kitty/status-head/<the saved fold's name>` (a
    /// derived file beside the saved folds' directory, never tracked).
    fn head_path(&self) -> Option<PathBuf> {
        let base = self.cache_path.parent()?.parent()?;
        Some(base.join("status-head").join(self.cache_path.file_name()?))
    }

    /// The head of `status.json` as a command last read or wrote it, when the
    /// file is still the one it described: same device, inode, size,
    /// modification and change times, and modified before that command wrote
    /// down the head (a file changed in the same clock tick is "racily clean",
    /// as git says, and read again). status.json holds every WP: parsing it
    /// to learn its two head fields cost each command the size of the mission.
    /// A missing, unreadable or malformed record is no record. With the head,
    /// whether the file's bytes are what this tool rendered for it (written,
    /// or found equal, by this tool; a record of the first layout says not).
    fn saved_head(&self) -> Option<(SnapshotHead, bool)> {
        let path = self.head_path()?;
        let written = fs::metadata(&path).ok()?;
        let md = fs::metadata(&self.snapshot_path).ok()?;
        let key = head_key(&md)?;
        if fsutil::mtime_ns(&md) >= fsutil::mtime_ns(&written) {
            return None;
        }
        let text = fsutil::read_capped(&path, 1024).ok().flatten()?;
        let mut f = text.trim_end_matches('\n').split(' ');
        let layout = f.next()?;
        if layout != "1" && layout != "2" {
            return None;
        }
        let mut n = || f.next()?.parse::<u64>().ok();
        let saved = [n()?, n()?, n()?, n()?, n()?];
        let count = usize::try_from(n()?).ok()?;
        let last = match f.next()? {
            "-" => None,
            id if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Some(id.to_string())
            }
            _ => return None,
        };
        let ours = match (layout, f.next()) {
            ("1", None) => false,
            ("2", Some("w")) => true,
            ("2", Some("r")) => false,
            _ => return None,
        };
        if f.next().is_some() || saved != key {
            return None;
        }
        let head = (count, last);
        remember_snapshot_head(&self.snapshot_path, cache::file_stamp(&md), &head, ours);
        Some((head, ours))
    }

    /// Write down `head` as what `status.json` says now (see
    /// [`StatusStore::saved_head`]); a failure only costs the next command
    /// a parse. `ours`: see [`StatusStore::saved_head`].
    fn save_head(&self, head: &SnapshotHead, ours: bool) {
        let Some(path) = self.head_path() else {
            return;
        };
        let Some(key) = fs::metadata(&self.snapshot_path)
            .ok()
            .and_then(|md| head_key(&md))
        else {
            return;
        };
        let last = match &head.1 {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                id.as_str()
            }
            Some(_) => return,
            None => "-",
        };
        let [dev, ino, size, mtime, ctime] = key;
        let ours = if ours { "w" } else { "r" };
        let text = format!(
            "2 {dev} {ino} {size} {mtime} {ctime} {} {last} {ours}\n",
            head.0
        );
        if let Some(dir) = path.parent() {
            if fsutil::create_dir_all(dir).is_err() {
                return;
            }
        }
        let _ = fsutil::write_memo(&path, text.as_bytes());
    }
}

/// What identifies a version of `status.json` between commands: device,
/// inode, size, modification and change times (ns). None where the
/// platform has no change time: nothing is kept there.
#[cfg(unix)]
fn head_key(md: &fs::Metadata) -> Option<[u64; 5]> {
    use std::os::unix::fs::MetadataExt;
    let ctime = u64::try_from(md.ctime())
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(u64::try_from(md.ctime_nsec()).ok()?)?;
    Some([md.dev(), md.ino(), md.size(), fsutil::mtime_ns(md), ctime])
}

#[cfg(not(unix))]
fn head_key(_: &fs::Metadata) -> Option<[u64; 5]> {
    None
}

/// What status.json says of the log it describes: its event count and last
/// event id.
type SnapshotHead = (usize, Option<String>);

/// The head of the status.json this process last wrote or read, with the
/// stamp of its file (see [`cache::file_stamp`]): a file with another stamp
/// is read again.
/// With whether the file's bytes are this tool's rendering (see
/// [`StatusStore::saved_head`]).
#[allow(clippy::type_complexity)]
static SNAPSHOT_HEAD: std::sync::Mutex<Option<(PathBuf, cache::FileStamp, SnapshotHead, bool)>> =
    std::sync::Mutex::new(None);

fn remember_snapshot_head(path: &Path, stamp: cache::FileStamp, head: &SnapshotHead, ours: bool) {
    if let Ok(mut m) = SNAPSHOT_HEAD.lock() {
        *m = Some((path.to_path_buf(), stamp, head.clone(), ours));
    }
}

fn snapshot_head_known(path: &Path, stamp: cache::FileStamp) -> Option<(SnapshotHead, bool)> {
    let m = SNAPSHOT_HEAD.lock().ok()?;
    m.as_ref()
        .filter(|(p, st, _, _)| p == path && *st == stamp)
        .map(|(_, _, h, ours)| (h.clone(), *ours))
}

/// Whether the file at `path` holds exactly `bytes`: read in steps and
/// compared as it goes, so a file that differs early (status.json after an
/// event: its first line counts them) is not read whole into memory.
fn file_holds(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    if f.metadata()
        .map_or(true, |md| md.len() != bytes.len() as u64)
    {
        return false;
    }
    let mut buf = vec![0u8; 64 << 10];
    let mut at = 0usize;
    loop {
        match f.read(&mut buf) {
            Ok(0) => return at == bytes.len(),
            Ok(n) => {
                if bytes.get(at..at + n) != Some(&buf[..n]) {
                    return false;
                }
                at += n;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

fn ends_with_newline(path: &Path) -> Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = fs::File::open(path).map_err(io("open", path))?;
    f.seek(SeekFrom::End(-1)).map_err(io("seek", path))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b).map_err(io("read", path))?;
    Ok(b[0] == b'\n')
}

/// Parse the log bytes; bad lines become warnings.
pub fn parse_log(path: &Path, bytes: &[u8]) -> EventLog {
    let (events, warnings) = parse_events::<StatusEvent>(path, bytes);
    EventLog { events, warnings }
}

/// Parse the log bytes into `T` (owned [`StatusEvent`]s or borrowed
/// [`super::RawEvent`]s); bad lines become warnings.
///
/// A long log is cut at line boundaries into one piece per core and the pieces
/// are parsed at the same time; the result is the same as reading it in one go.
pub fn parse_events<'a, T>(path: &Path, bytes: &'a [u8]) -> (Vec<T>, Vec<LogWarning>)
where
    T: serde::Deserialize<'a> + Send,
{
    let (mut pieces, warnings) = parse_event_pieces(path, bytes);
    if pieces.len() == 1 {
        return (pieces.pop().unwrap_or_default(), warnings);
    }
    let mut events = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
    for piece in pieces {
        events.extend(piece);
    }
    (events, warnings)
}

/// [`parse_events`] without joining the pieces: the events of each piece of
/// the log, pieces in file order (fold them with
/// [`super::reduce::reduce_pieces`]).
pub fn parse_event_pieces<'a, T>(path: &Path, bytes: &'a [u8]) -> (Vec<Vec<T>>, Vec<LogWarning>)
where
    T: serde::Deserialize<'a> + Send,
{
    let threads = piece_count(bytes.len());
    if threads == 1 {
        let (events, warnings, _) = parse_piece(path, bytes);
        return (vec![events], warnings);
    }
    let mut pieces: Vec<&'a [u8]> = Vec::with_capacity(threads);
    let mut rest = bytes;
    for k in (1..threads).rev() {
        let target = rest.len() - rest.len() * k / (k + 1);
        // Cut just after the first newline at or past the target.
        let cut = rest[target..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| target + i + 1);
        let (head, tail) = rest.split_at(cut);
        pieces.push(head);
        rest = tail;
    }
    pieces.push(rest);
    parse_slices(path, &pieces)
}

/// One piece per core (at most 8), each at least 1 MiB.
fn piece_count(len: usize) -> usize {
    const PIECE_MIN: usize = 1 << 20;
    if len < 2 * PIECE_MIN {
        // One piece whatever the cores: asking how many there are reads
        // /proc and /sys (cgroup quotas), which a small log need not pay.
        return 1;
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
        .min(len / PIECE_MIN)
        .max(1)
}

/// Parse pieces that start and end at line boundaries, one thread each;
/// warnings are numbered by their line in the whole log.
fn parse_slices<'a, T>(path: &Path, pieces: &[&'a [u8]]) -> (Vec<Vec<T>>, Vec<LogWarning>)
where
    T: serde::Deserialize<'a> + Send,
{
    let parsed: Vec<(Vec<T>, Vec<LogWarning>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|&piece| scope.spawn(move || parse_piece::<T>(path, piece)))
            .collect();
        handles
            .into_iter()
            .zip(pieces)
            // A piece whose thread died is read again here.
            .map(|(h, &piece)| h.join().unwrap_or_else(|_| parse_piece(path, piece)))
            .collect()
    });
    let mut events: Vec<Vec<T>> = Vec::with_capacity(parsed.len());
    let mut warnings = Vec::new();
    let mut lines_before = 0;
    for (piece_events, piece_warnings, lines) in parsed {
        events.push(piece_events);
        warnings.extend(piece_warnings.into_iter().map(|mut w| {
            w.line += lines_before;
            w
        }));
        lines_before += lines;
    }
    (events, warnings)
}

/// The number of `\n` bytes, eight at a time: XOR with `\n` in every byte
/// turns newlines into zero bytes, and `((y & 0x7f..) + 0x7f..) | y` sets the
/// high bit of exactly the non-zero bytes (the masked add cannot carry from one
/// byte into the next). About four times faster than `filter().count()`,
/// which the compiler does not vectorise well, on a long log.
pub(super) fn count_newlines(bytes: &[u8]) -> usize {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut words = bytes.chunks_exact(8);
    let mut total = 0;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let y = u64::from_le_bytes(w) ^ NEWLINES;
        let nonzero = ((y & LOW7) + LOW7) | y;
        total += 8 - (nonzero & !LOW7).count_ones() as usize;
    }
    total + words.remainder().iter().filter(|&&b| b == b'\n').count()
}

/// The longest line read as an event; a longer one is skipped with a
/// warning (a status event is a few hundred bytes), so a reader never holds
/// more than one chunk and one such line.
pub const MAX_EVENT_LINE: usize = 1 << 20;

/// The warning for a line over [`MAX_EVENT_LINE`].
pub(super) fn too_long_message() -> String {
    format!("unreadable event skipped (a line longer than {MAX_EVENT_LINE} bytes)")
}

fn parse_line<T>(
    line: &[u8],
    parse: impl FnOnce() -> serde_json::Result<T>,
) -> std::result::Result<T, String> {
    if line.len() > MAX_EVENT_LINE {
        return Err(too_long_message());
    }
    parse().map_err(|err| format!("unreadable event skipped ({err})"))
}

/// Parse one piece of the log, numbering its lines from 1; returns the events,
/// the warnings and the number of newlines in the piece.
///
/// Valid UTF-8 (the normal case) is checked once for the whole piece, then
/// split with a vectorised newline search and each line read as `str`; a piece
/// with invalid bytes somewhere is read line by line as bytes, so only the bad
/// lines are lost.
fn parse_piece<'a, T: serde::Deserialize<'a>>(
    path: &Path,
    bytes: &'a [u8],
) -> (Vec<T>, Vec<LogWarning>, usize) {
    // One event a line, at most: sized once instead of grown (each doubling
    // was a copy and fresh pages to fault in).
    let mut events = Vec::with_capacity(count_newlines(bytes) + 1);
    let mut warnings = Vec::new();
    let mut newlines = 0;
    let mut take = |i: usize, parsed: std::result::Result<T, String>| match parsed {
        Ok(e) => events.push(e),
        Err(err) => warnings.push(LogWarning {
            path: path.to_path_buf(),
            line: i + 1,
            message: err,
        }),
    };
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            for (i, raw) in text.split('\n').enumerate() {
                newlines = i;
                let line = raw.strip_suffix('\r').unwrap_or(raw);
                if !line.bytes().all(|b| b.is_ascii_whitespace()) {
                    // One line of the append-only log, at most MAX_EVENT_LINE
                    // bytes (and serde_json's depth limit).
                    let parsed = parse_line(line.as_bytes(), || {
                        // bounds: one log line, capped by parse_line.
                        serde_json::from_str::<T>(line)
                    });
                    take(i, parsed);
                }
            }
        }
        Err(_) => {
            for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
                newlines = i;
                let line = raw.strip_suffix(b"\r").unwrap_or(raw);
                if !line.iter().all(u8::is_ascii_whitespace) {
                    // bounds: as above.
                    take(i, parse_line(line, || serde_json::from_slice::<T>(line)));
                }
            }
        }
    }
    (events, warnings, newlines)
}

#[cfg(test)]
mod tests {
    use super::super::model::FoldEvent;
    use super::super::reduce::{reduce, reduce_pieces};
    use super::*;

    #[test]
    fn newlines_are_counted_in_words_and_remainders() {
        for len in [0, 1, 7, 8, 9, 31, 32, 33, 20_001] {
            // All newlines, and a mixture with every byte value beside them.
            let all = vec![b'\n'; len];
            assert_eq!(count_newlines(&all), len);
            let mixed: Vec<u8> = (0..len)
                .map(|i| {
                    if i % 7 == 3 {
                        b'\n'
                    } else {
                        (i * 31 % 256) as u8
                    }
                })
                .collect();
            let expected = mixed.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(&mixed), expected, "{len}");
        }
    }

    #[test]
    fn pieces_read_the_same_as_one_pass() {
        let good = |i: usize| {
            format!(
                r#"{{"at": "2026-01-01T00:00:00+00:00", "event_id": "E{i}", "from_lane": "planned", "to_lane": "claimed", "wp_id": "WP{:02}", "reason": "{}"}}"#,
                i % 50,
                "x".repeat(i % 300)
            )
        };
        // Valid lines, torn and blank lines, and (in the last quarter only, so one
        // piece is valid UTF-8 and another is not) lines with invalid bytes.
        let mut text: Vec<u8> = Vec::new();
        for i in 0..40_000 {
            match i % 997 {
                0 => text.extend_from_slice(b"{\"torn\": \n"),
                500 if i > 30_000 => text.extend_from_slice(b"{\"bad\": \"\xff\"}\n"),
                1 => text.extend_from_slice(b"\r\n"),
                2 => text.extend_from_slice(b"   \n"),
                _ => {
                    text.extend_from_slice(good(i).as_bytes());
                    text.push(b'\n');
                }
            }
        }
        text.extend_from_slice(b"{\"last\": ");
        assert!(text.len() > 4 << 20);
        let path = Path::new("s.jsonl");
        let (events, warnings, _) = parse_piece::<StatusEvent>(path, &text);
        let whole = EventLog { events, warnings };
        let split = parse_log(path, &text);
        assert_eq!(split.events, whole.events);
        assert_eq!(split.warnings, whole.warnings);
        assert_eq!(whole.warnings.len(), 41 + 10 + 1);
        assert_eq!(whole.warnings.last().map(|w| w.line), Some(40_001));
        // The valid-UTF-8 path and the bytes path read a valid line the same way.
        let valid = good(7);
        let bad = [valid.as_bytes(), b"\n\xff"].concat();
        assert_eq!(
            parse_piece::<StatusEvent>(path, valid.as_bytes()).0,
            parse_piece::<StatusEvent>(path, &bad).0
        );
        // Borrowed events are the same events.
        let (raw, raw_warnings) = parse_events::<super::super::RawEvent>(path, &text);
        let owned: Vec<StatusEvent> = raw
            .into_iter()
            .map(super::super::RawEvent::into_owned)
            .collect();
        assert_eq!(owned, split.events);
        assert_eq!(raw_warnings, split.warnings);
        // Fold events in pieces: the same warnings, the same snapshot.
        let (pieces, fold_warnings) = parse_event_pieces::<FoldEvent>(path, &text);
        assert!(
            pieces.len() > 1 || std::thread::available_parallelism().map_or(1, |n| n.get()) == 1
        );
        assert_eq!(fold_warnings, split.warnings);
        assert_eq!(reduce_pieces(&pieces), reduce(&split.events));
    }

    /// The stepwise comparison answers as reading the whole file would.
    #[test]
    fn a_file_holds_exactly_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("status.json");
        assert!(!file_holds(&p, b""), "missing");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &big).unwrap();
        assert!(file_holds(&p, &big));
        for at in [0, 65_535, 65_536, 131_072, big.len() - 1] {
            let mut other = big.clone();
            other[at] ^= 1;
            assert!(!file_holds(&p, &other), "differs at {at}");
        }
        assert!(!file_holds(&p, &big[..big.len() - 1]));
        let mut longer = big.clone();
        longer.push(0);
        assert!(!file_holds(&p, &longer));
        std::fs::write(&p, b"").unwrap();
        assert!(file_holds(&p, b""));
    }

    #[test]
    fn torn_line_is_reported_not_fatal() {
        let good = r#"{"actor": "a", "at": "2026-01-01T00:00:00+00:00", "event_id": "01M867R2T8RDB4R11T4GJDK4V8", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "planned", "mission_slug": "001-x", "policy_metadata": null, "reason": "r", "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}"#;
        let text = format!("{good}\n{{\"actor\": \"b\", \"at");
        let log = parse_log(Path::new("s.jsonl"), text.as_bytes());
        assert_eq!(log.events.len(), 1);
        assert_eq!(log.warnings.len(), 1);
        assert_eq!(log.warnings[0].line, 2);
    }
}
