//! Work package operations on top of the log: a lane move with the evidence its
//! guard needs, the activity log in the WP file, and the board.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::json;

use super::error::{Result, StatusError};
use super::model::Lane;
use super::reduce::Snapshot;
use super::store::{LogWarning, StatusStore, Transition};
use super::transitions::{self, TransitionContext};
use super::work;
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::Mission;
use crate::project::Project;
use crate::tasks_md::{parse, wp, WpFile};

/// A move requested by a person or an agent.
#[derive(Debug, Clone, Default)]
pub struct MoveRequest {
    pub wp_id: String,
    pub to: String,
    pub agent: Option<String>,
    pub note: Option<String>,
    pub review_feedback: Option<String>,
    pub force: bool,
    pub reason: Option<String>,
    /// The workspace the WP runs in (recorded for claimed -> in_progress).
    pub workspace: Option<String>,
    /// Set by `spec-kitty merge`: the commit the work landed in (satisfies the
    /// `merged` guard of approved -> done, recorded as `merged_commit`).
    pub landed: Option<String>,
    /// Set by `implement`: the lane whose workspace it prepared. The move is
    /// refused (nothing recorded) when lanes.json, read under the status lock,
    /// no longer puts the WP there (a re-plan got in between).
    pub expect_lane: Option<String>,
    /// Extra keys recorded on every event of the move (an orchestrator's
    /// validated `policy_metadata`, its `evidence`); keys the move sets itself win.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoveOutcome {
    pub wp_id: String,
    pub from_lane: Lane,
    pub to_lane: Lane,
    pub event_ids: Vec<String>,
    /// Every lane the move passed through, the last one `to_lane`.
    pub hops: Vec<Lane>,
    /// What the move went ahead despite (e.g. uncommitted files outside the WP).
    pub warnings: Vec<String>,
    /// The WP file moved.
    #[serde(skip)]
    pub path: PathBuf,
}

/// The WP file of `wp_id` (case-insensitive), or an error listing the known ids.
pub fn find_wp(mission: &Mission, wp_id: &str) -> Result<WpFile> {
    let id = wp_id.to_ascii_uppercase();
    let tasks_dir = mission.tasks_dir();
    if let Some(path) = wp::find_wp_file(&tasks_dir, &id)? {
        return Ok(WpFile::read(&path)?);
    }
    // Not there: the whole listing, for the ids the error names.
    let files = wp::list_wp_files(&tasks_dir)?;
    let mut known = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(found) = wp::wp_id_from_filename(&name) {
            if found == id {
                return Ok(WpFile::read(&f)?);
            }
            known.push(found);
        }
    }
    Err(StatusError::NoSuchWp {
        slug: mission.slug.clone(),
        id,
        known,
    })
}

/// The WP files of a mission's tasks directory, listed once for a command
/// that looks up more than one (implement: its WP, the dependencies its lane
/// set-up walks, the claim, the WP-file side of the move). The same entries
/// as [`wp::list_wp_files`] (a file or a link to one, named as
/// [`wp::wp_id_from_filename`] reads WP ids), each id found through a hash
/// table; when one id has several names, sorted by id then name instead, so
/// that each id's names are together and in name order, which is all
/// [`WpListing::find`] and [`WpListing::duplicate`] need. The names are kept
/// back to back in one buffer (5,000 WP files: no allocation per file).
#[derive(Debug)]
pub struct WpListing {
    dir: PathBuf,
    names: Vec<u8>,
    /// `(start, name length, id length)` in `names`: in listing order, or
    /// sorted when `table` is empty.
    entries: Vec<(usize, usize, usize)>,
    /// Open addressing on [`id_hash`]: 1 + the entry number of each id, 0
    /// for a free slot. Empty when an id has several names (the entries are
    /// then sorted and searched).
    table: Vec<u32>,
}

/// FNV-1a of a WP id's bytes (a few digits after `WP`), then MurmurHash3's
/// finaliser: FNV alone leaves the last digit in few bits, and ids that differ
/// only there would share slots.
fn id_hash(id: &[u8]) -> usize {
    let mut h = id.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    // A table holds far fewer than 2^32 slots: the low bits are enough.
    h as usize
}

impl WpListing {
    /// One pass over `tasks_dir` (missing: empty).
    pub fn of(
        tasks_dir: &std::path::Path,
    ) -> std::result::Result<WpListing, crate::tasks_md::TasksError> {
        let mut names = Vec::new();
        let mut entries: Vec<(usize, usize, usize)> = Vec::new();
        let listed = crate::fsutil::for_each_entry(tasks_dir, |name, kind| {
            let bytes = name.as_encoded_bytes();
            let Some(id_len) = wp::wp_id_len(bytes) else {
                return;
            };
            // The listing's rule: a file, or a link to one.
            let file = match kind {
                crate::fsutil::EntryKind::File => true,
                crate::fsutil::EntryKind::Dir => false,
                _ => tasks_dir.join(name).is_file(),
            };
            if file {
                entries.push((names.len(), bytes.len(), id_len));
                names.extend_from_slice(bytes);
            }
        });
        match listed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(crate::tasks_md::TasksError::Io {
                    action: "read",
                    path: tasks_dir.to_path_buf(),
                    source,
                })
            }
        }
        // Each id in a hash table of entry numbers: a claim looks up a few.
        // Only when one id has several names is the listing sorted (by id,
        // then name: what [`WpListing::duplicate`] reports from).
        let id_of = |&(at, _, id): &(usize, usize, usize)| &names[at..at + id];
        let mut table = vec![0u32; (entries.len() * 2).next_power_of_two().max(16)];
        let mask = table.len() - 1;
        let mut twice = false;
        'entries: for (i, e) in entries.iter().enumerate() {
            let Ok(n) = u32::try_from(i + 1) else {
                twice = true;
                break;
            };
            let id = id_of(e);
            let mut slot = id_hash(id) & mask;
            while let Some(&taken) = table.get(slot).filter(|&&t| t != 0) {
                if id_of(&entries[taken as usize - 1]) == id {
                    twice = true;
                    break 'entries;
                }
                slot = (slot + 1) & mask;
            }
            table[slot] = n;
        }
        if twice {
            // Sorted on the id's first 16 bytes as one number (zero-padded,
            // big-endian: the same order as the bytes), then each run of
            // equal numbers on the whole id and name.
            let key = |&(at, len, id): &(usize, usize, usize)| {
                (&names[at..at + id], &names[at..at + len])
            };
            let head = |&(at, _, id): &(usize, usize, usize)| {
                let mut b = [0u8; 16];
                let n = id.min(16);
                b[..n].copy_from_slice(&names[at..at + n]);
                u128::from_be_bytes(b)
            };
            let mut keyed: Vec<(u128, usize)> = entries
                .iter()
                .enumerate()
                .map(|(i, e)| (head(e), i))
                .collect();
            keyed.sort_unstable_by_key(|k| k.0);
            for run in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
                if run.len() > 1 {
                    run.sort_unstable_by(|a, b| key(&entries[a.1]).cmp(&key(&entries[b.1])));
                }
            }
            entries = keyed.into_iter().map(|(_, i)| entries[i]).collect();
            table.clear();
        }
        Ok(WpListing {
            dir: tasks_dir.to_path_buf(),
            names,
            entries,
            table,
        })
    }

    fn id(&self, &(at, _, id): &(usize, usize, usize)) -> &[u8] {
        &self.names[at..at + id]
    }

    fn name(&self, &(at, len, _): &(usize, usize, usize)) -> &std::ffi::OsStr {
        // SAFETY: these bytes are a whole name as `OsStr::as_encoded_bytes`
        // gave them, copied unchanged.
        unsafe { std::ffi::OsStr::from_encoded_bytes_unchecked(&self.names[at..at + len]) }
    }

    /// The file of `id` (`WP` and digits, as file names give it): the first
    /// in name order when several name it, as [`wp::find_wp_file`] finds it.
    pub fn path_of(&self, id: &str) -> Option<PathBuf> {
        if !self.table.is_empty() {
            let mask = self.table.len() - 1;
            let mut slot = id_hash(id.as_bytes()) & mask;
            loop {
                let n = *self.table.get(slot)? as usize;
                let e = self.entries.get(n.checked_sub(1)?)?;
                if self.id(e) == id.as_bytes() {
                    return Some(self.dir.join(self.name(e)));
                }
                slot = (slot + 1) & mask;
            }
        }
        let at = self.entries.partition_point(|e| self.id(e) < id.as_bytes());
        let e = self
            .entries
            .get(at)
            .filter(|e| self.id(e) == id.as_bytes())?;
        Some(self.dir.join(self.name(e)))
    }

    /// [`find_wp`] from this listing: the same file, and the same error (the
    /// directory listed again for the ids it names) when there is none.
    pub fn find(&self, mission: &Mission, wp_id: &str) -> Result<WpFile> {
        match self.path_of(&wp_id.to_ascii_uppercase()) {
            Some(path) => Ok(WpFile::read(&path)?),
            None => find_wp(mission, wp_id),
        }
    }

    /// Two files with one WP id, as a sorted walk of the listing meets them
    /// first ([`wp::load_all`]'s error): the earliest name whose id an
    /// earlier name has, with that earlier one.
    pub fn duplicate(&self) -> Option<crate::tasks_md::TasksError> {
        // Hashed: every id has one name.
        if !self.table.is_empty() {
            return None;
        }
        // Per id with two names or more: its first two, in name order.
        let (first, second) = self
            .entries
            .windows(2)
            .enumerate()
            .filter(|(i, w)| {
                let opens_id = *i == 0 || self.id(&self.entries[i - 1]) != self.id(&w[0]);
                opens_id && self.id(&w[0]) == self.id(&w[1])
            })
            .map(|(_, w)| (w[0], w[1]))
            .min_by(|a, b| self.name(&a.1).cmp(self.name(&b.1)))?;
        Some(crate::tasks_md::TasksError::DuplicateWpFile {
            path: self.dir.join(self.name(&second)),
            id: String::from_utf8_lossy(self.id(&first)).into_owned(),
            other: self.dir.join(self.name(&first)),
        })
    }
}

/// Subtask ids of the WP's tasks.md section that are not ticked yet.
pub fn open_subtasks(mission: &Mission, wp_id: &str) -> Result<Vec<String>> {
    let Some(text) = read_tasks_md(mission)? else {
        return Ok(Vec::new());
    };
    let subtasks = parse::subtasks(&text, wp_id);
    Ok(subtasks
        .map(|s| s.into_iter().filter(|t| !t.done).map(|t| t.id).collect())
        .unwrap_or_default())
}

/// The mission's tasks.md; None when there is none.
fn read_tasks_md(mission: &Mission) -> Result<Option<String>> {
    let path = mission.tasks_file();
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(fsutil::read_to_string(&path)?))
}

/// Record a lane move, filling in the evidence the guards ask for from what the
/// caller said (`--agent`, `--note`, `--review-feedback`) and from git (the
/// claim and hand-in commits, whether approved work is merged), then note it in
/// the WP file's activity log. `repo` is the main checkout's, opened once by
/// the command ([`work::open`]); None outside git.
pub fn move_wp(
    repo: Option<&crate::git::Repo>,
    project: &Project,
    mission: &Mission,
    req: &MoveRequest,
) -> Result<MoveOutcome> {
    move_wp_listed(repo, project, mission, req, None)
}

/// [`move_wp`] for a command that listed the mission's WP files already
/// ([`WpListing`]): the WP file is found there, not by another listing.
pub fn move_wp_listed(
    repo: Option<&crate::git::Repo>,
    project: &Project,
    mission: &Mission,
    req: &MoveRequest,
    listing: Option<&WpListing>,
) -> Result<MoveOutcome> {
    let file = match listing {
        Some(l) => l.find(mission, &req.wp_id)?,
        None => find_wp(mission, &req.wp_id)?,
    };
    let to = Lane::parse(&req.to)?;
    let store = StatusStore::for_mission(project, mission);
    // The saved fold, not the whole log: the lanes, roles and recorded
    // commits the guards read (the move itself re-checks under the lock).
    let (lane, roles) = store.lane_and_roles(&file.id)?;
    let from = lane.unwrap_or(Lane::Planned);
    let actor = req.agent.clone().unwrap_or_else(|| "user".into());
    let route = if req.force {
        vec![to]
    } else {
        transitions::route(from, to)
    };
    let mut warnings = Vec::new();
    let mut extra = serde_json::Map::new();
    let mut work_problem = None;
    let mut merge_problem = None;
    if from != to {
        if route.last() == Some(&Lane::InProgress) {
            extra = work::claim_keys(repo, project, mission, &file)?;
        }
        if to == Lane::ForReview && !req.force {
            let h = work::hand_in(repo, project, mission, &file, roles.claim_commit.clone())?;
            work_problem = h.problem;
            warnings = h.warnings;
            extra = h.keys;
        }
        // Reviewing or approving needs the handed-in commit in this clone.
        if matches!(to, Lane::InReview | Lane::Approved) && !req.force {
            work::require_hand_in(repo, project, mission, &file, roles.hand_in_commit.clone())?;
        }
        if to == Lane::Done && !req.force {
            match &req.landed {
                Some(c) => {
                    extra.insert(work::MERGED_COMMIT.into(), c.clone().into());
                }
                None => {
                    merge_problem = work::merge_problem(
                        repo,
                        project,
                        mission,
                        &file,
                        roles.hand_in_commit.clone(),
                    )?
                }
            }
        }
    }
    for (k, v) in &req.extra {
        if !extra.contains_key(k) {
            extra.insert(k.clone(), v.clone());
        }
    }
    // Only the hand-in guard reads the open subtasks, and for_review is the
    // one lane whose rule has it (no route passes through for_review on the
    // way elsewhere): another move reads tasks.md (the same read errors) but
    // does not parse it.
    let open = if to == Lane::ForReview {
        open_subtasks(mission, &file.id)?
    } else {
        read_tasks_md(mission)?;
        Vec::new()
    };
    let feedback = req.review_feedback.clone().or_else(|| req.note.clone());
    let leaving_review =
        from == Lane::InReview || (from == Lane::ForReview && !matches!(to, Lane::InReview));
    let approving = matches!(to, Lane::Approved | Lane::Done);
    let evidence = (leaving_review || approving).then(|| {
        let mut e = json!({"review": {
            "reviewer": actor,
            "verdict": if approving { "approved" } else { "changes_requested" },
            "reference": feedback.clone().unwrap_or_else(|| format!("move-task by {actor}")),
        }});
        // The approved commit: what a WP of another lane that depends on this
        // one gets merged into its lane before it starts.
        // It is the reviewed hand-in commit when one was recorded: commits the
        // implementer made on the lane after the hand-in were not reviewed.
        if approving && !file.is_planning_artifact() {
            let tip = repo.and_then(|r| crate::lanes::lane_tip_of(project, r, mission, &file.id));
            if let Some((branch, tip)) = tip {
                let reviewed = roles
                    .hand_in_commit
                    .as_deref()
                    .and_then(|c| crate::git::Oid::from_str(c).ok())
                    .unwrap_or(tip);
                e["repos"] = super::work::approval_repos(&branch, reviewed);
            }
        }
        e
    });
    let sending_back = matches!(from, Lane::InReview | Lane::Approved | Lane::ForReview)
        && matches!(to, Lane::InProgress | Lane::Planned);
    let ctx = TransitionContext {
        actor: actor.clone(),
        reason: req.reason.clone().or_else(|| req.note.clone()),
        review_ref: if sending_back {
            req.review_feedback.clone()
        } else {
            None
        },
        evidence,
        workspace_context: Some(
            req.workspace
                .clone()
                .unwrap_or_else(|| "main-checkout".into()),
        ),
        wp_id: file.id.clone(),
        mission_slug: mission.slug.clone(),
        open_subtasks: open,
        implementer: roles.implementer.clone(),
        implementers: roles.implementers.clone(),
        work_problem,
        merge_problem,
    };
    let mode = if file.is_planning_artifact() {
        "direct_repo"
    } else {
        "worktree"
    };
    settle_pending_now(project, mission)?;
    let set_agent =
        req.agent.is_some() && matches!(to, Lane::Claimed | Lane::InProgress | Lane::InReview);
    let note = req
        .note
        .as_deref()
        .map(|n| format!(" – {n}"))
        .unwrap_or_default();
    let mut pending = Pending {
        wp_id: file.id.clone(),
        event_ids: Vec::new(),
        at: crate::timefmt::now_iso_seconds_z(),
        actor: actor.clone(),
        entry: format!("Moved to {to}{note}"),
        agent: set_agent.then(|| actor.clone()),
        seen: 0,
    };
    let record = pending_path(project, mission, &file.id);
    let events = store.transition_then(
        &Transition {
            wp_id: file.id.clone(),
            to,
            force: req.force,
            chain: true,
            execution_mode: mode.into(),
            ctx,
            extra,
        },
        |events| {
            // A merge holding the mission moves its work packages itself
            // (`landed`); nobody else moves them under it.
            if req.landed.is_none()
                && project
                    .merge_state_path(&mission.slug)
                    .is_some_and(|p| p.exists())
            {
                return Err(StatusError::MergeHoldsMission {
                    slug: mission.slug.clone(),
                    wp_id: file.id.clone(),
                });
            }
            if let Some(lane) = &req.expect_lane {
                let now = crate::lanes::LanesManifest::lane_id_at(
                    project,
                    &mission.lanes_file(),
                    &file.id,
                )?;
                if now.as_deref() != Some(lane.as_str()) {
                    return Err(StatusError::Replanned {
                        wp_id: file.id.clone(),
                        lane: lane.clone(),
                        now,
                    });
                }
            }
            // What the WP file must show once these events are in the log, written
            // first: a kill after the append leaves it for the next command.
            pending.event_ids = events.iter().map(|e| e.event_id.clone()).collect();
            let line = activity_line(&pending.at, &pending.actor, &pending.entry);
            pending.seen = fsutil::read_to_string(&file.path)
                .map(|t| t.matches(&line).count())
                .unwrap_or(0);
            let json = serde_json::to_vec(&pending).map_err(StatusError::Serialize)?;
            Ok(fsutil::atomic_write(&record, &json)?)
        },
    )?;
    if !events.is_empty() {
        let _lock = FileLock::acquire(&store.lock_path, LOCK_TIMEOUT, "the mission's status")?;
        settle_pending_with(project, mission, Some(&file))?;
    }
    Ok(MoveOutcome {
        path: file.path,
        wp_id: file.id,
        from_lane: from,
        to_lane: to,
        hops: events.iter().map(|e| e.to_lane).collect(),
        event_ids: events.into_iter().map(|e| e.event_id).collect(),
        warnings,
    })
}

/// The WP-file side of a move (its activity line and `agent`), recorded before
/// the move's events are appended and removed once the WP file shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct Pending {
    wp_id: String,
    event_ids: Vec<String>,
    at: String,
    actor: String,
    entry: String,
    agent: Option<String>,
    /// How many copies of this move's activity line the WP file had when the
    /// move was recorded: the same move twice in one second writes the same
    /// line, so only a copy beyond these shows that this move reached the file.
    #[serde(default)]
    seen: usize,
}

/// `<locks dir>/<slug>.pending-<WP>.json`: beside the status lock, never shown
/// by `git status`.
fn pending_path(project: &Project, mission: &Mission, wp_id: &str) -> PathBuf {
    project
        .locks_dir()
        .join(format!("{}.pending-{wp_id}.json", mission.slug))
}

/// Bring WP files up to date with moves whose events reached the log but whose
/// activity line or `agent` did not reach the WP file (a kill between the two
/// writes); records of moves whose events never reached the log are dropped.
/// The caller holds the mission's status lock.
pub fn settle_pending(project: &Project, mission: &Mission) -> Result<Vec<String>> {
    settle_pending_with(project, mission, None)
}

/// [`settle_pending`] by a move that found its WP file already (`known`):
/// a record of that WP is settled in that file (the one [`find_wp`] finds)
/// without listing the tasks directory again.
fn settle_pending_with(
    project: &Project,
    mission: &Mission,
    known: Option<&WpFile>,
) -> Result<Vec<String>> {
    let records = pending_records(project, mission);
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let store = StatusStore::for_mission(project, mission);
    // Every event id in the log, read only when a record's events are not
    // known to be there from the fold (the whole log is one entry per event).
    let mut logged: Option<std::collections::HashSet<String>> = None;
    let mut settled = Vec::new();
    for path in records {
        let pending: Option<Pending> = fsutil::read_to_string(&path)
            .ok()
            .and_then(|t| crate::bounds::json(&t).ok());
        let pending = pending.filter(|p| crate::ids::is_wp_id(&p.wp_id) && !p.event_ids.is_empty());
        // A record's events are appended in one write, in order, so the
        // last of them deciding the WP's lane in the fold means all are in
        // the log: the common case, the move that wrote the record just now.
        let in_log = |p: &Pending, logged: &mut Option<std::collections::HashSet<String>>| {
            if p.event_ids.last().is_some_and(|last| {
                store.deciding_event(&p.wp_id).as_deref() == Some(last.as_str())
            }) {
                return Ok::<bool, StatusError>(true);
            }
            if logged.is_none() {
                *logged = Some(
                    store
                        .read()?
                        .events
                        .into_iter()
                        .map(|e| e.event_id)
                        .collect(),
                );
            }
            Ok(logged
                .as_ref()
                .is_some_and(|l| p.event_ids.iter().all(|id| l.contains(id))))
        };
        let pending = match pending {
            Some(p) if in_log(&p, &mut logged)? => Some(p),
            _ => None,
        };
        if let Some(p) = pending {
            let file_path = match known.filter(|k| k.id == p.wp_id) {
                Some(k) => k.path.clone(),
                None => find_wp(mission, &p.wp_id)?.path,
            };
            // Read once: the file's text and its parse.
            let original = fsutil::read_to_string(&file_path)?;
            let fresh = WpFile::parse(&file_path, &original)?;
            let tail: Vec<(&str, serde_yaml::Value)> = match &p.agent {
                Some(a) if fresh.get_str("agent").as_deref() != Some(a.as_str()) => {
                    vec![("agent", serde_yaml::Value::String(a.clone()))]
                }
                _ => Vec::new(),
            };
            let text = if tail.is_empty() {
                original.clone()
            } else {
                fresh.text_with_keys(&[], &tail, "title")?
            };
            let line = activity_line(&p.at, &p.actor, &p.entry);
            let out = if text.matches(&line).count() > p.seen {
                text
            } else {
                insert_activity(&text, &line)
            };
            if out != original {
                fsutil::atomic_write(&file_path, out.as_bytes())?;
            }
            settled.push(p.wp_id);
        }
        crate::confine::remove_file(project, &path)?;
    }
    Ok(settled)
}

/// The pending records of this mission (see [`settle_pending`]), sorted.
fn pending_records(project: &Project, mission: &Mission) -> Vec<PathBuf> {
    let prefix = format!("{}.pending-", mission.slug);
    let Ok(entries) = std::fs::read_dir(project.locks_dir()) else {
        return Vec::new();
    };
    let mut records: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json"))
        })
        .collect();
    records.sort();
    records
}

/// [`settle_pending`] for a caller not holding the status lock: takes it only
/// when there is something to settle, so a clean mission's reads stay lock-free.
pub fn settle_pending_now(project: &Project, mission: &Mission) -> Result<Vec<String>> {
    if pending_records(project, mission).is_empty() {
        return Ok(Vec::new());
    }
    let _lock = FileLock::acquire(
        &mission.status_lock_path(project),
        LOCK_TIMEOUT,
        "the mission's status",
    )?;
    settle_pending(project, mission)
}

fn activity_line(at: &str, actor: &str, note: &str) -> String {
    format!("- {at} – {actor} – {note}\n")
}

/// Append `- <UTC time> – <actor> – <note>` to the `## Activity Log` section,
/// creating the section at the end when it is missing.
pub fn with_activity(text: &str, actor: &str, note: &str) -> String {
    let line = activity_line(&crate::timefmt::now_iso_seconds_z(), actor, note);
    insert_activity(text, &line)
}

#[allow(clippy::string_slice)] // indices come from find() of ASCII headings and newlines: char boundaries
fn insert_activity(text: &str, line: &str) -> String {
    let mut out = text.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    match out.find("\n## Activity Log") {
        Some(start) => {
            // The section ends at the next `## ` heading or at the end of the file.
            let after = start + "\n## Activity Log".len();
            let end = out[after..]
                .find("\n## ")
                .map(|i| after + i + 1)
                .unwrap_or(out.len());
            let mut insert_at = end;
            // Keep blank lines before the next heading after our entry.
            while insert_at > after && out[..insert_at].ends_with("\n\n") {
                insert_at -= 1;
            }
            out.insert_str(insert_at, line);
        }
        None => {
            out.push_str("\n## Activity Log\n\n");
            out.push_str(line);
        }
    }
    out
}

/// Add a note to a WP's activity log.
pub fn add_history(
    project: &Project,
    mission: &Mission,
    wp_id: &str,
    actor: &str,
    note: &str,
) -> Result<PathBuf> {
    let file = find_wp(mission, wp_id)?;
    let store = StatusStore::for_mission(project, mission);
    let _lock = FileLock::acquire(&store.lock_path, LOCK_TIMEOUT, "the mission's status")?;
    settle_pending(project, mission)?;
    let text = fsutil::read_to_string(&file.path)?;
    fsutil::atomic_write(&file.path, with_activity(&text, actor, note).as_bytes())?;
    Ok(file.path)
}

/// One row of the board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardWp {
    pub id: String,
    pub title: String,
    pub lane: Lane,
    pub agent: String,
    /// Who claimed it for implementation, and who took its review.
    pub implementer: String,
    pub reviewer: String,
    /// The review that sent it back, while its rework is not handed in yet.
    pub changes_requested: Option<work::SentBack>,
    pub dependencies: Vec<String>,
    pub execution_mode: String,
    pub workspace_kind: String,
    pub file: String,
    pub ready: bool,
    /// Frontmatter `phase` ("Unknown Phase" when absent, as the reference says).
    pub phase: String,
    /// Frontmatter `agent_profile` and `shell_pid` ("" when absent).
    pub agent_profile: String,
    pub shell_pid: String,
}

/// The kanban board of a mission.
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub mission_slug: String,
    pub mission_number: String,
    pub mission_type: String,
    pub work_packages: Vec<BoardWp>,
    pub done: usize,
    pub total: usize,
    pub progress_percentage: f64,
    pub ready: Vec<String>,
    #[serde(skip)]
    pub warnings: Vec<LogWarning>,
    /// The fold the board was made from (what [`crate::ops::stale::check`] reads).
    #[serde(skip)]
    pub snapshot: Snapshot,
}

impl Board {
    pub fn load(project: &Project, mission: &Mission) -> Result<Board> {
        settle_pending_now(project, mission)?;
        let files = if mission.tasks_dir().is_dir() {
            wp::load_all(&mission.tasks_dir())?
        } else {
            Vec::new()
        };
        let store = StatusStore::for_mission(project, mission);
        // The fold's roles carry who sent a WP back and why: the whole log is
        // never read here (its cost would grow with the history).
        let (snap, warnings, roles) = store.snapshot_with_roles()?;
        let lane = |id: &str| snap.lane_of(id).unwrap_or(Lane::Planned);
        let finished = |id: &str| matches!(lane(id), Lane::Done | Lane::Approved);
        let mut wps = Vec::new();
        let mut weight = 0.0;
        for f in &files {
            let l = lane(&f.id);
            weight += l.progress_weight();
            let deps = f.dependencies();
            let planning = f.is_planning_artifact();
            wps.push(BoardWp {
                id: f.id.clone(),
                title: f.title().unwrap_or_default(),
                lane: l,
                agent: f.get_str("agent").unwrap_or_default(),
                implementer: roles
                    .get(&f.id)
                    .and_then(|r| r.implementer.clone())
                    .unwrap_or_default(),
                reviewer: roles
                    .get(&f.id)
                    .and_then(|r| r.reviewer.clone())
                    .unwrap_or_default(),
                changes_requested: roles.get(&f.id).and_then(|r| r.changes_requested.clone()),
                ready: l == Lane::Planned && deps.iter().all(|d| finished(d)),
                dependencies: deps,
                execution_mode: f.execution_mode().unwrap_or_else(|| "code_change".into()),
                workspace_kind: if planning {
                    "repo_root"
                } else {
                    "lane_workspace"
                }
                .into(),
                file: f
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                phase: f.get_str("phase").unwrap_or_else(|| "Unknown Phase".into()),
                agent_profile: f.get_str("agent_profile").unwrap_or_default(),
                shell_pid: f.get_str("shell_pid").unwrap_or_default(),
            });
        }
        let total = wps.len();
        let done = wps.iter().filter(|w| w.lane == Lane::Done).count();
        Ok(Board {
            mission_slug: mission.slug.clone(),
            mission_number: mission.number.clone().unwrap_or_default(),
            mission_type: mission.mission_type().to_string(),
            ready: wps
                .iter()
                .filter(|w| w.ready)
                .map(|w| w.id.clone())
                .collect(),
            progress_percentage: if total == 0 {
                0.0
            } else {
                (weight / total as f64 * 1000.0).round() / 10.0
            },
            work_packages: wps,
            done,
            total,
            warnings,
            snapshot: snap,
        })
    }
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    /// Ids longer than the sort's 16-byte head are still told apart and
    /// ordered by their whole bytes.
    #[test]
    fn long_ids_sort_by_their_whole_bytes() {
        let (_dir, t) = tasks_dir();
        let long = "WP0000000000000000000";
        for name in [
            format!("{long}1-b.md"),
            format!("{long}1-a.md"),
            format!("{long}2.md"),
            format!("{long}10.md"),
            format!("{long}1_c.md"),
        ] {
            std::fs::write(t.join(name), "---\nwork_package_id: X\n---\n").unwrap();
        }
        let listing = WpListing::of(&t).unwrap();
        for id in [
            format!("{long}1"),
            format!("{long}2"),
            format!("{long}10"),
            format!("{long}3"),
        ] {
            finds_as_find_wp_file(&listing, &t, &id);
        }
        let dup = listing.duplicate().unwrap().to_string();
        assert!(
            dup.contains(&format!("{long}1-a.md")) && dup.contains(&format!("{long}1-b.md")),
            "{dup}"
        );
    }

    /// The listing of `tasks` finds for `id` the file `find_wp_file` finds.
    fn finds_as_find_wp_file(listing: &WpListing, tasks: &std::path::Path, id: &str) {
        assert_eq!(
            listing.path_of(id),
            wp::find_wp_file(tasks, id).unwrap(),
            "{id}"
        );
    }

    /// A temporary directory with an empty `tasks/` in it (kept while the
    /// first value lives).
    fn tasks_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("tasks");
        std::fs::create_dir_all(&t).unwrap();
        (dir, t)
    }

    /// Every id with one name: found through the hash table, with the same
    /// answers as the listing it replaces, and no duplicate.
    #[test]
    fn a_listing_without_duplicates_answers_from_its_table() {
        let (_dir, t) = tasks_dir();
        for i in 1..=300 {
            let name = match i % 3 {
                0 => format!("WP{i:04}-part.md"),
                1 => format!("WP{i:02}.md"),
                _ => format!("WP{i:03}_x.md"),
            };
            std::fs::write(t.join(name), "---\n---\n").unwrap();
        }
        let listing = WpListing::of(&t).unwrap();
        assert!(!listing.table.is_empty());
        assert!(listing.duplicate().is_none());
        for i in 0..=310 {
            for id in [
                format!("WP{i:02}"),
                format!("WP{i:03}"),
                format!("WP{i:04}"),
            ] {
                finds_as_find_wp_file(&listing, &t, &id);
            }
        }
    }

    /// The listing finds what `find_wp_file` finds and reports the
    /// duplicate the sorted walk of `list_wp_files` meets first.
    #[test]
    fn the_listing_answers_as_the_listings_it_replaces() {
        let (_dir, t) = tasks_dir();
        let listing = WpListing::of(&t).unwrap();
        assert!(listing.duplicate().is_none() && listing.path_of("WP01").is_none());
        for name in [
            "WP01-b.md",
            "WP02.md",
            "WP03_x.md",
            "WP3-short.md",
            "WP07-z.md",
            "notes.md",
            "WP10-c.md",
            "WP10-a.md",
            "WP10-b.md",
            "WP07-y.md",
        ] {
            std::fs::write(t.join(name), "---\nwork_package_id: X\n---\n").unwrap();
        }
        // A directory with a WP name is not a WP file; a link to one is.
        std::fs::create_dir(t.join("WP04-dir.md")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(t.join("WP02.md"), t.join("WP05-link.md")).unwrap();
            std::os::unix::fs::symlink(t.join("WP04-dir.md"), t.join("WP06-dirlink.md")).unwrap();
        }
        let listing = WpListing::of(&t).unwrap();
        for id in [
            "WP01", "WP02", "WP03", "WP3", "WP04", "WP05", "WP06", "WP07", "WP10", "WP99",
        ] {
            finds_as_find_wp_file(&listing, &t, id);
        }
        // The sorted walk meets WP07-z.md after WP07-y.md before any WP10 pair.
        let mut seen: std::collections::HashMap<String, PathBuf> = Default::default();
        let walk = wp::list_wp_files(&t)
            .unwrap()
            .into_iter()
            .find_map(|p| {
                let id = wp::wp_id_from_filename(&p.file_name()?.to_string_lossy())?;
                match seen.get(&id) {
                    Some(prev) => Some(crate::tasks_md::TasksError::DuplicateWpFile {
                        path: p.clone(),
                        id,
                        other: prev.clone(),
                    }),
                    None => {
                        seen.insert(id, p);
                        None
                    }
                }
            })
            .unwrap()
            .to_string();
        let ours = listing.duplicate().unwrap().to_string();
        assert_eq!(ours, walk);
        assert!(
            ours.contains("WP07-z.md") && ours.contains("WP07-y.md"),
            "{ours}"
        );
        // A name that is not UTF-8 is found as the lossy walk finds it.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let odd = std::ffi::OsStr::from_bytes(b"WP08-\xff.md");
            std::fs::write(t.join(odd), "---\nwork_package_id: X\n---\n").unwrap();
            let listing = WpListing::of(&t).unwrap();
            assert_eq!(listing.path_of("WP08"), Some(t.join(odd)));
            assert_eq!(
                listing.path_of("WP08"),
                wp::find_wp_file(&t, "WP08").unwrap()
            );
        }
        // A missing directory lists nothing, as the listings it replaces.
        let none = WpListing::of(&t.with_file_name("missing")).unwrap();
        assert!(none.path_of("WP01").is_none() && none.duplicate().is_none());
    }
}
