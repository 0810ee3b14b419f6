//! The incremental fold of `status.events.jsonl`: a reader folds only the
//! events appended since the fold was last saved.
//!
//! The fold of a log prefix ([`FoldState`]: per WP its deciding event, force
//! count and roles, plus the counts and warnings) is saved with a description
//! of the prefix it covers ([`Cursor`]: byte length, line count, the file's
//! device and inode, and a SHA-256 of sampled windows of the prefix: its
//! head, its tail and six windows between). A reader checks the cursor
//! against the file, folds the lines after it and uses the result; a log that
//! was rewritten (a different inode, shorter, or different bytes in a sampled
//! window: a merge, a repair, a reset) is folded again from the start.
//!
//! Why not in `status.json`: that file is tracked (implement commits it),
//! written byte-for-byte as the Python 3.1.1 tool writes it (which rewrites it
//! without keys it does not know, so every alternation of the two tools would
//! show a diff), and has no room for the roles or the rollback flags a fold
//! needs. The saved fold is a derived cache instead, kept where `git status`
//! never sees it: `<git-common-dir>/spec-kitty/status-cache/` (one file per
//! log, so the main checkout and each worktree keep their own), or
//! `.kittify/runtime/status-cache/` in a project without git. It is never
//! trusted over the log: a missing, unreadable or mismatched cache is a full
//! fold.
//!
//! Deduplication by `event_id` (first occurrence wins) is what makes a fold
//! depend on more than a prefix: a new event could repeat any old id. The
//! fold keeps the greatest id it has seen; a new event whose id is greater
//! cannot repeat an earlier one (event ids are ULIDs, and this tool's writers
//! make each new id greater than every id in the log, see
//! [`next_event_id`]). An event whose id is not greater is a "suspect": an
//! incremental fold then gives up and folds the whole log, in two streaming
//! passes when needed (the first finds the suspect ids, the second
//! deduplicates exactly those), so memory grows with the number of
//! out-of-order ids, not with the log.
//!
//! A full fold streams the file in chunks of [`CHUNK`] bytes (each chunk's
//! lines parsed on every core): memory stays bounded whatever the log's size.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::fsutil::{dev_ino, mtime_ns, read_at};
pub use crate::logprefix::Prefix as Cursor;

use serde::{Deserialize, Serialize};

use super::model::{EventFields, FoldEvent, Lane, LANES};
use super::reduce::{Snapshot, WpState};
use super::store::{count_newlines, parse_event_pieces, LogWarning, Roles};

/// Bytes read per step of a streaming fold.
pub const CHUNK: usize = 8 << 20;
pub use super::store::MAX_EVENT_LINE;
/// Version of the cache file's layout: another one is ignored (a full fold).
const CACHE_VERSION: u32 = 7; // 2: roles carry sent_back and implementers; 3: and who sent it back, when, why; 4: and the recorded commits; 5: and the first claim commit; 6: empty and false fields left out (most WPs have no roles: their ten empty fields were over half the file at 5,000 WPs); 7: and the review feedback and the previous hand-in

/// The deciding event of one WP, owned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct WpFold {
    at: String,
    #[serde(default, skip_serializing_if = "is_false")]
    rollback: bool,
    event_id: String,
    actor: String,
    lane: Option<Lane>,
    force_count: u64,
}

/// Roles of one WP: the actors of its latest claim and latest review claim,
/// in file order (duplicates included, as [`super::work::claimant`] reads them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct RoleFold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    implementer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reviewer: Option<String>,
    /// See [`Roles::sent_back`]; folded over every readable line.
    #[serde(default, skip_serializing_if = "is_false")]
    sent_back: bool,
    /// See [`Roles::implementers`]; folded over every readable line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    implementers: Vec<String>,
    /// `(by, at, feedback)` of the review that sent it back, while `sent_back`
    /// (see [`Roles::changes_requested`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changes: Option<(String, String, String)>,
    /// See [`Roles::claim_commit`], [`Roles::hand_in_commit`] and
    /// [`Roles::approved_commit`]; folded over every readable line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claim_commit: Option<String>,
    /// See [`Roles::first_claim_commit`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_claim_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hand_in_commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approved_commit: Option<String>,
    /// See [`Roles::had_feedback`].
    #[serde(default, skip_serializing_if = "is_false")]
    had_feedback: bool,
    /// See [`Roles::feedback`]: `(by, at, text)`, the last three.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    feedback: Vec<(String, String, String)>,
    /// A review sent it back since its latest hand-in commit (the state
    /// machine of [`super::work::previous_hand_in`]).
    #[serde(default, skip_serializing_if = "is_false")]
    sent_back_since_hand_in: bool,
    /// See [`Roles::previous_hand_in`] (before the filter against the latest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_hand_in: Option<String>,
}

/// A log prefix folded: everything [`super::reduce`] computes, the roles, and
/// the warnings of its unreadable lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FoldState {
    event_count: usize,
    /// `(at, event_id, mission_slug)` of the first event in `(at, event_id)` order.
    first: Option<(String, String, String)>,
    /// `(at, event_id)` of the last event in that order.
    last: Option<(String, String)>,
    /// The greatest event id folded (deduplication, see the module docs).
    max_id: Option<String>,
    /// Shared, so that handing out a fold (the memo of [`load`], each read
    /// of a command) costs a count, not a copy of every WP; the first change
    /// to a shared fold copies it ([`Arc::make_mut`]).
    #[serde(serialize_with = "shared::serialize", deserialize_with = "shared::map")]
    wps: Arc<BTreeMap<String, WpFold>>,
    /// Every WP named by a readable line, with its roles.
    #[serde(serialize_with = "shared::serialize", deserialize_with = "shared::map")]
    roles: Arc<BTreeMap<String, RoleFold>>,
    /// `(line, message)` of every unreadable line.
    warnings: Vec<(usize, String)>,
}

impl super::reduce::LaneLookup for FoldState {
    fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        FoldState::lane_of(self, wp_id)
    }
}

/// The roles of one WP's fold; None when it has none worth a
/// [`FoldState::roles`] entry.
fn role_of(r: &RoleFold) -> Option<Roles> {
    let any = r.implementer.is_some()
        || r.reviewer.is_some()
        || r.sent_back
        || !r.implementers.is_empty()
        || r.claim_commit.is_some()
        || r.hand_in_commit.is_some()
        || r.approved_commit.is_some()
        || r.had_feedback;
    if !any {
        return None;
    }
    Some(Roles {
        implementer: r.implementer.clone(),
        reviewer: r.reviewer.clone(),
        sent_back: r.sent_back,
        implementers: r.implementers.clone(),
        changes_requested: r
            .changes
            .as_ref()
            .map(|(by, at, feedback)| super::work::SentBack {
                by: by.clone(),
                at: at.clone(),
                feedback: feedback.clone(),
            }),
        claim_commit: r.claim_commit.clone(),
        first_claim_commit: r.first_claim_commit.clone(),
        hand_in_commit: r.hand_in_commit.clone(),
        approved_commit: r.approved_commit.clone(),
        had_feedback: r.had_feedback,
        feedback: r.feedback.clone(),
        previous_hand_in: r
            .previous_hand_in
            .clone()
            .filter(|p| r.hand_in_commit.as_ref() != Some(p)),
    })
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// (De)serialises an `Arc<T>` as the `T` inside (serde's `rc` feature
/// without rebuilding serde and everything above it for it).
mod shared {
    use std::sync::Arc;

    use std::collections::BTreeMap;

    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(v: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
        T::serialize(v, s)
    }

    /// A map saved from a `BTreeMap` (its keys in order) read back into one:
    /// the entries collected, then built in one pass (a later duplicate key
    /// wins, as an insert would have it), not inserted one by one (a search
    /// from the root for each of 5,000 WPs was a fifth of reading the fold).
    pub fn map<'de, V: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<BTreeMap<String, V>>, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        let entries = d.deserialize_map(Entries(std::marker::PhantomData))?;
        Ok(Arc::new(entries.into_iter().collect()))
    }
}

/// How a fold deduplicates event ids (see the module docs); handed to
/// [`Fold::add`], which passes it on to [`FoldState::add`].
pub enum Dedupe<'s> {
    /// Ids greater than every id so far are new; others are suspects.
    Monotonic { suspects: HashSet<String> },
    /// Only the known suspect ids can repeat: they are tracked exactly.
    Known {
        suspects: &'s HashSet<String>,
        seen: HashSet<String>,
    },
}

impl Dedupe<'_> {
    /// The suspect ids a monotonic pass collected.
    fn into_suspects(self) -> HashSet<String> {
        match self {
            Dedupe::Monotonic { suspects } => suspects,
            Dedupe::Known { .. } => HashSet::new(),
        }
    }
}

fn is_rollback(e: &impl EventFields) -> bool {
    e.lane_before() == Lane::ForReview && e.lane_after() == Lane::InProgress && e.has_review_ref()
}

fn set(slot: &mut String, v: &str) {
    slot.clear();
    slot.push_str(v);
}

impl FoldState {
    /// Fold one readable event, in file order. Returns false when it is a
    /// suspect under [`Dedupe::Monotonic`] (it is then not folded).
    pub fn add(&mut self, e: &FoldEvent<'_>, dedupe: &mut Dedupe<'_>) -> bool {
        // Owned strings are made only for a WP seen for the first time; the
        // others are overwritten in place (no allocation per event).
        let all_roles = Arc::make_mut(&mut self.roles);
        let roles = match all_roles.get_mut(e.wp_id()) {
            Some(r) => r,
            None => all_roles.entry(e.wp_id().to_string()).or_default(),
        };
        let slot = if e.to_lane == Lane::Claimed
            || (e.to_lane == Lane::InProgress && e.from_lane == Lane::Planned)
        {
            Some(&mut roles.implementer)
        } else if e.to_lane == Lane::InReview {
            Some(&mut roles.reviewer)
        } else {
            None
        };
        if let Some(slot) = slot {
            match slot {
                Some(actor) => set(actor, e.actor()),
                None => *slot = Some(e.actor().to_string()),
            }
        }
        // Sent back by a review, until the rework is handed in again (the
        // state machine of `work::changes_requested`, over every readable
        // line like the roles above).
        let back = matches!(
            e.from_lane,
            Lane::ForReview | Lane::InReview | Lane::Approved
        ) && matches!(e.to_lane, Lane::Planned | Lane::Claimed | Lane::InProgress);
        roles.had_feedback |= back && e.review_ref.is_some() && e.to_lane != Lane::Claimed;
        if back
            || matches!(
                e.to_lane,
                Lane::ForReview | Lane::Approved | Lane::Done | Lane::Canceled
            )
        {
            roles.sent_back = back;
            roles.changes = back.then(|| {
                let feedback = e.review_ref.as_deref().or(e.reason.as_deref());
                (
                    e.actor().to_string(),
                    e.at().to_string(),
                    feedback.unwrap_or_default().trim().to_string(),
                )
            });
        }
        // Everyone who implemented it: the actors of its claims and hand-ins
        // (the rule of `work::implementers`).
        let claim = e.to_lane == Lane::Claimed
            || (e.to_lane == Lane::InProgress
                && matches!(e.from_lane, Lane::Planned | Lane::Claimed | Lane::Blocked));
        let hand_in = e.to_lane == Lane::ForReview && e.actor() != "user";
        if (claim || hand_in)
            && !e.actor().trim().is_empty()
            && e.actor() != "implement-command"
            && !roles.implementers.iter().any(|a| a == e.actor())
        {
            roles.implementers.push(e.actor().to_string());
        }
        // The review feedback a prompt quotes (`work::review_feedback`): the
        // last three moves back from a review lane with a review reference.
        if matches!(
            e.from_lane,
            Lane::ForReview | Lane::InReview | Lane::Approved
        ) && matches!(e.to_lane, Lane::Planned | Lane::InProgress)
        {
            if let Some(text) = e.review_ref.as_deref().map(str::trim) {
                if !text.is_empty() {
                    if roles.feedback.len() == super::work::FEEDBACK_QUOTED {
                        roles.feedback.remove(0);
                    }
                    roles.feedback.push((
                        e.actor().to_string(),
                        e.at().to_string(),
                        text.to_string(),
                    ));
                }
            }
        }
        // The hand-in before the latest one, when a review sent it back in
        // between (`work::previous_hand_in`): read before the latest moves.
        if e.commits.as_ref().is_some_and(|c| c.hand_in.is_some()) {
            if roles.sent_back_since_hand_in {
                roles.previous_hand_in.clone_from(&roles.hand_in_commit);
            }
            roles.sent_back_since_hand_in = false;
        }
        if back {
            roles.sent_back_since_hand_in = true;
        }
        // The commits recorded, latest wins (`work::recorded(..).pop()`,
        // `work::approved_commit`).
        if let Some(c) = &e.commits {
            if roles.first_claim_commit.is_none() {
                roles.first_claim_commit.clone_from(&c.claim);
            }
            for (slot, v) in [
                (&mut roles.claim_commit, &c.claim),
                (&mut roles.hand_in_commit, &c.hand_in),
                (&mut roles.approved_commit, &c.approved),
            ] {
                if let Some(v) = v {
                    *slot = Some(v.clone());
                }
            }
        }
        let id = e.event_id();
        let above_max = self.max_id.as_deref().is_none_or(|m| id > m);
        match dedupe {
            Dedupe::Monotonic { suspects } => {
                if !above_max {
                    suspects.insert(id.to_string());
                    return false;
                }
            }
            Dedupe::Known { suspects, seen } => {
                if suspects.contains(id) && !seen.insert(id.to_string()) {
                    return true;
                }
            }
        }
        if above_max {
            match &mut self.max_id {
                Some(max) => set(max, id),
                None => self.max_id = Some(id.to_string()),
            }
        }
        self.event_count += 1;
        let key = (e.at(), id);
        if self
            .first
            .as_ref()
            .is_none_or(|(a, i, _)| key < (a.as_str(), i.as_str()))
        {
            self.first = Some((key.0.into(), id.into(), e.mission_slug().into()));
        }
        match &mut self.last {
            Some((a, i)) if key <= (a.as_str(), i.as_str()) => {}
            Some((a, i)) => {
                set(a, key.0);
                set(i, id);
            }
            None => self.last = Some((key.0.into(), id.into())),
        }
        let rollback = is_rollback(e);
        let wps = Arc::make_mut(&mut self.wps);
        let wp = match wps.get_mut(e.wp_id()) {
            Some(wp) => wp,
            None => wps.entry(e.wp_id().to_string()).or_default(),
        };
        wp.force_count += u64::from(e.force());
        // The greatest `(at, is a rollback, event_id)` decides (see reduce.rs).
        if wp.lane.is_none()
            || (e.at(), rollback, id) > (wp.at.as_str(), wp.rollback, wp.event_id.as_str())
        {
            set(&mut wp.at, e.at());
            wp.rollback = rollback;
            set(&mut wp.event_id, id);
            set(&mut wp.actor, e.actor());
            wp.lane = Some(e.to_lane);
        }
        true
    }

    /// The snapshot of the folded events.
    pub fn snapshot(&self) -> Snapshot {
        let work_packages: BTreeMap<String, WpState> = self
            .wps
            .iter()
            .map(|(id, w)| {
                let state = WpState {
                    actor: w.actor.clone(),
                    force_count: w.force_count,
                    lane: w.lane.unwrap_or(Lane::Planned),
                    last_event_id: w.event_id.clone(),
                    last_transition_at: w.at.clone(),
                };
                (id.clone(), state)
            })
            .collect();
        let summary = self.summary();
        Snapshot {
            event_count: self.event_count,
            last_event_id: self.last.as_ref().map(|(_, i)| i.clone()),
            materialized_at: self
                .last
                .as_ref()
                .map(|(a, _)| a.clone())
                .unwrap_or_default(),
            mission_slug: self
                .first
                .as_ref()
                .map(|(_, _, s)| s.clone())
                .unwrap_or_default(),
            summary,
            work_packages,
        }
    }

    /// The bytes of `status.json` for this fold: [`Snapshot::status_json_bytes`]
    /// of [`FoldState::snapshot`], written straight from the fold (a writer
    /// of `status.json` builds no snapshot of every WP first), by hand: the
    /// layout serde_json's pretty printer gives that document (keys sorted,
    /// indent 2, `{}` for no WPs, a trailing newline), its strings escaped by
    /// [`crate::jsonfmt::write_json_str`] (serde_json's escapes). At 5,000
    /// WPs the generic printer's byte-by-byte escaping was a tenth of a move.
    pub fn status_json_bytes(
        &self,
        mission_number: &str,
        mission_type: &str,
        mission_slug: &str,
    ) -> Vec<u8> {
        use crate::jsonfmt::write_json_str as string;
        use std::fmt::Write as _;
        let mut out = String::with_capacity(512 + self.wps.len() * 256);
        let _ = write!(out, "{{\n  \"event_count\": {}", self.event_count);
        out.push_str(",\n  \"last_event_id\": ");
        match &self.last {
            Some((_, id)) => string(id, &mut out),
            None => out.push_str("null"),
        }
        out.push_str(",\n  \"materialized_at\": ");
        string(self.last.as_ref().map_or("", |(a, _)| a.as_str()), &mut out);
        out.push_str(",\n  \"mission_number\": ");
        string(mission_number, &mut out);
        out.push_str(",\n  \"mission_slug\": ");
        let slug = self.first.as_ref().map_or("", |(_, _, s)| s.as_str());
        string(if slug.is_empty() { mission_slug } else { slug }, &mut out);
        out.push_str(",\n  \"mission_type\": ");
        string(mission_type, &mut out);
        out.push_str(",\n  \"summary\": {");
        for (i, (lane, n)) in self.summary().iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            string(lane, &mut out);
            let _ = write!(out, ": {n}");
        }
        out.push_str("\n  },\n  \"work_packages\": {");
        for (i, (id, w)) in self.wps.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            string(id, &mut out);
            out.push_str(": {\n      \"actor\": ");
            string(&w.actor, &mut out);
            let _ = write!(out, ",\n      \"force_count\": {}", w.force_count);
            out.push_str(",\n      \"lane\": ");
            string(w.lane.unwrap_or(Lane::Planned).as_str(), &mut out);
            out.push_str(",\n      \"last_event_id\": ");
            string(&w.event_id, &mut out);
            out.push_str(",\n      \"last_transition_at\": ");
            string(&w.at, &mut out);
            out.push_str("\n    }");
        }
        out.push_str(if self.wps.is_empty() {
            "}\n}\n"
        } else {
            "\n  }\n}\n"
        });
        out.into_bytes()
    }

    /// How many WPs are in each lane (every lane named, as in `status.json`).
    fn summary(&self) -> BTreeMap<&'static str, usize> {
        // Counted by position in LANES (every WP's lane is one of them), then
        // named: a map lookup by name for each of 5,000 WPs cost more.
        let mut counts = [0usize; LANES.len()];
        for w in self.wps.values() {
            let lane = w.lane.unwrap_or(Lane::Planned);
            if let Some(i) = LANES.iter().position(|l| *l == lane) {
                counts[i] += 1;
            }
        }
        LANES.iter().map(|l| l.as_str()).zip(counts).collect()
    }

    /// Who implemented and who reviewed each WP that has either.
    pub fn roles(&self) -> BTreeMap<String, Roles> {
        self.roles
            .iter()
            .filter_map(|(id, r)| Some((id.clone(), role_of(r)?)))
            .collect()
    }

    /// [`FoldState::roles`] of one WP (the default when it has none), without
    /// building those of every WP.
    pub fn roles_of(&self, wp_id: &str) -> Roles {
        self.roles.get(wp_id).and_then(role_of).unwrap_or_default()
    }

    /// The lane of `wp_id` ([`FoldState::snapshot`]'s, without building the
    /// snapshot of every WP); None when no event decides it.
    pub fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        self.wps.get(wp_id).map(|w| w.lane.unwrap_or(Lane::Planned))
    }

    /// What `status.json` says of the log it describes, as
    /// [`FoldState::snapshot`] would: its event count and last event id.
    pub fn head(&self) -> (usize, Option<String>) {
        (self.event_count, self.last.as_ref().map(|(_, i)| i.clone()))
    }

    /// The id of the event that decides `wp_id`'s lane (what
    /// [`FoldState::snapshot`]'s `last_event_id` of it says), without
    /// building the snapshot of every WP.
    pub fn deciding_event(&self, wp_id: &str) -> Option<&str> {
        self.wps.get(wp_id).map(|w| w.event_id.as_str())
    }

    /// How many events were folded (each event id once).
    pub fn event_count(&self) -> usize {
        self.event_count
    }

    /// Whether any readable line names `wp_id` (duplicates included).
    pub fn names_wp(&self, wp_id: &str) -> bool {
        self.roles.contains_key(wp_id)
    }

    /// The WP ids named by readable lines.
    pub fn wp_ids(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// The greatest event id in the log, if any.
    pub fn max_event_id(&self) -> Option<&str> {
        self.max_id.as_deref()
    }

    /// The unreadable lines, numbered from 1 in the whole log.
    pub fn warnings(&self, path: &Path) -> Vec<LogWarning> {
        self.warnings
            .iter()
            .map(|(line, message)| LogWarning {
                path: path.to_path_buf(),
                line: *line,
                message: message.clone(),
            })
            .collect()
    }
}

/// A fold of the log that can be saved and continued: [`FoldState`], or a
/// surface's own fold built around one (the dashboard's history).
pub trait Fold: Clone + Default {
    /// What one line is read as.
    type Event<'a>: serde::Deserialize<'a> + Send;
    /// Fold one readable event, in file order (see [`FoldState::add`]).
    fn add(&mut self, e: &Self::Event<'_>, dedupe: &mut Dedupe<'_>) -> bool;
    /// The core fold inside (where unreadable lines are recorded).
    fn core(&mut self) -> &mut FoldState;
}

impl Fold for FoldState {
    type Event<'a> = FoldEvent<'a>;
    fn add(&mut self, e: &FoldEvent<'_>, dedupe: &mut Dedupe<'_>) -> bool {
        FoldState::add(self, e, dedupe)
    }
    fn core(&mut self) -> &mut FoldState {
        self
    }
}

/// Parse and fold complete lines (numbered from `lines_before + 1`). Returns
/// false when a suspect was met under `Monotonic` (the rest is still parsed,
/// so every suspect id is collected).
fn add_lines<F: Fold>(
    fold: &mut F,
    path: &Path,
    bytes: &[u8],
    lines_before: usize,
    dedupe: &mut Dedupe<'_>,
) -> bool {
    let (pieces, warnings) = parse_event_pieces::<F::Event<'_>>(path, bytes);
    let mut clean = true;
    for e in pieces.iter().flatten() {
        clean &= fold.add(e, dedupe);
    }
    fold.core().warnings.extend(
        warnings
            .into_iter()
            .map(|w| (w.line + lines_before, w.message)),
    );
    clean
}

/// A new event id for an append to a log whose greatest id is `max`: a fresh
/// ULID, or the successor of `max` when the clock gives one that is not
/// greater (two events in one millisecond, a clock set back), so the
/// incremental fold never meets one of its own events as a suspect.
pub fn next_event_id(max: Option<&str>) -> String {
    let fresh = crate::ids::fresh_ulid();
    let Some(max) = max.and_then(|m| ulid::Ulid::from_string(m).ok()) else {
        return fresh.to_string();
    };
    if fresh > max {
        return fresh.to_string();
    }
    max.increment().unwrap_or(fresh).to_string()
}

/// The whole log as a derived record of a later step keys on it (the
/// finalize stamp): its identity, size, modification time and the sampled
/// windows of all its bytes, the same description a saved fold trusts for
/// the prefix it covers ([`Cursor`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: u64,
    check: String,
}

/// The [`LogIdentity`] of the log at `path`; None when there is no log.
pub fn log_identity(path: &Path) -> std::io::Result<Option<LogIdentity>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let md = file.metadata()?;
    let (dev, ino) = dev_ino(&md);
    Ok(Some(LogIdentity {
        dev,
        ino,
        size: md.len(),
        mtime_ns: mtime_ns(&md),
        check: crate::logprefix::whole_check(&file, &md)?,
    }))
}

/// Where a streaming pass ended.
struct ScanEnd {
    /// Just after the last complete line.
    len: u64,
    /// Newlines up to there.
    lines: usize,
    /// The bytes after the last newline (a torn or unterminated last line),
    /// unless it was too long to keep.
    fragment: Vec<u8>,
    /// Line numbers of lines over [`MAX_EVENT_LINE`] never held whole, skipped.
    too_long: Vec<usize>,
}

/// Stream `file` from `start` (just after a newline, `lines` newlines before
/// it), handing complete lines to `each` a chunk at a time with the number
/// of lines before the chunk. Memory: one chunk plus one line.
fn scan(
    file: &File,
    start: u64,
    lines: usize,
    mut each: impl FnMut(&[u8], usize),
) -> std::io::Result<ScanEnd> {
    let mut end = ScanEnd {
        len: start,
        lines,
        fragment: Vec::new(),
        too_long: Vec::new(),
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut pos = start;
    let size = file.metadata().map_or(0, |m| m.len());
    // Inside a line too long to keep: drop bytes up to its newline.
    let mut skipping = false;
    loop {
        let have = buf.len();
        // What is left by the size taken at the start (a short tail is one
        // small read), at least 4 KiB (the file may have grown), at most a
        // chunk. The buffer is zeroed before each read: a larger minimum
        // cost a short log (a listing reads hundreds) more than its read.
        let want = usize::try_from(size.saturating_sub(pos))
            .unwrap_or(CHUNK)
            .clamp(4 << 10, CHUNK);
        buf.resize(have + want, 0);
        let got = read_at(file, pos, &mut buf[have..])?;
        buf.truncate(have + got);
        pos += got as u64;
        if got == 0 {
            break;
        }
        let Some(last_nl) = memchr::memrchr(b'\n', &buf[have..]).map(|i| have + i) else {
            if buf.len() > MAX_EVENT_LINE {
                if !skipping {
                    end.too_long.push(end.lines + 1);
                }
                skipping = true;
                end.len += buf.len() as u64;
                buf.clear();
            }
            continue;
        };
        let mut from = 0;
        if skipping {
            // The long line ends at the first newline.
            from = memchr::memchr(b'\n', &buf).map_or(last_nl, |nl| nl) + 1;
            end.lines += 1;
            skipping = false;
        }
        let complete = &buf[from..=last_nl];
        each(complete, end.lines);
        end.lines += count_newlines(complete);
        end.len += (last_nl + 1) as u64;
        buf.drain(..=last_nl);
    }
    if skipping {
        end.len += buf.len() as u64;
    } else {
        end.fragment = buf;
    }
    Ok(end)
}

/// The log folded: the complete lines (what a cache saves) and, when the
/// log ends in a line without a newline, the fold including it.
#[derive(Debug, Clone)]
pub struct Folded<F = FoldState> {
    pub state: F,
    pub cursor: Option<Cursor>,
    with_fragment: Option<F>,
    /// Whether the fold started over from the first line.
    pub rebuilt: bool,
    /// Whether `state` covers more of the log than the fold it started from.
    pub advanced: bool,
    /// The bytes of the log the saved fold it started from covered (None:
    /// it started over from the first line).
    from_len: Option<u64>,
}

impl<F: Fold> Folded<F> {
    /// The fold of every line of the log.
    pub fn current(&self) -> &F {
        self.with_fragment.as_ref().unwrap_or(&self.state)
    }

    /// The fold of every line, owned.
    pub fn into_current(self) -> F {
        self.with_fragment.unwrap_or(self.state)
    }

    /// Whether saving this fold spares the next reader enough to pay for
    /// writing it (the saved fold holds every WP: rewriting it after each
    /// event made a move cost the size of the mission): it started over from
    /// the first line, or it covers [`SAVE_AFTER`] bytes or more past the
    /// saved fold it started from. Below that the next reader folds the few
    /// new lines after the saved fold itself.
    pub fn worth_saving(&self) -> bool {
        let Some(cursor) = &self.cursor else {
            return false;
        };
        self.advanced
            && self
                .from_len
                .is_none_or(|from| cursor.bytes().saturating_sub(from) >= SAVE_AFTER)
    }

    /// The fold of an empty or missing log.
    pub fn empty() -> Folded<F> {
        Folded {
            state: F::default(),
            cursor: None,
            with_fragment: None,
            rebuilt: true,
            advanced: false,
            from_len: None,
        }
    }
}

/// One pass from `start` (a cursor or the beginning) under `dedupe`; false
/// when `Monotonic` met a suspect.
fn pass<F: Fold>(
    file: &File,
    path: &Path,
    state: &mut F,
    start: (u64, usize),
    dedupe: &mut Dedupe<'_>,
) -> std::io::Result<(bool, ScanEnd, Option<F>)> {
    let mut clean = true;
    let end = scan(file, start.0, start.1, |bytes, before| {
        clean &= add_lines(state, path, bytes, before, dedupe);
    })?;
    let core = state.core();
    for &line in &end.too_long {
        core.warnings.push((line, super::store::too_long_message()));
    }
    core.warnings.sort_by_key(|w| w.0);
    let mut with_fragment = None;
    if !end.fragment.is_empty() {
        let mut whole = state.clone();
        clean &= add_lines(&mut whole, path, &end.fragment, end.lines, dedupe);
        whole.core().warnings.sort_by_key(|w| w.0);
        with_fragment = Some(whole);
    }
    Ok((clean, end, with_fragment))
}

/// Fold the log at `path`, starting from `from` (a saved fold and its cursor)
/// when it still describes a prefix of the file, else from the first line.
pub fn fold_log<F: Fold>(path: &Path, from: Option<(F, Cursor)>) -> std::io::Result<Folded<F>> {
    fold_log_keeping(path, from, 0)
}

/// [`fold_log`] for a reader that keeps a fold only when it covers at least
/// `keep_from` bytes of the log: a fold that ends short of that (and does not
/// continue `from`) has no cursor, so nothing saves it, and the cursor's
/// sampled windows are not hashed (most of a cold listing's work per short
/// log was hashing them).
pub fn fold_log_keeping<F: Fold>(
    path: &Path,
    from: Option<(F, Cursor)>,
    keep_from: u64,
) -> std::io::Result<Folded<F>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Folded::empty()),
        Err(e) => return Err(e),
    };
    let md = file.metadata()?;
    let cursor_at = |len: u64, lines: usize| Cursor::of(&file, &md, len, lines);
    if let Some((mut state, cursor)) = from {
        if cursor.holds(&file, &md)? {
            let mut dedupe = Dedupe::Monotonic {
                suspects: HashSet::new(),
            };
            let (clean, end, with_fragment) = pass(
                &file,
                path,
                &mut state,
                (cursor.bytes(), cursor.lines()),
                &mut dedupe,
            )?;
            if clean {
                let from_len = cursor.bytes();
                let advanced = end.len != cursor.bytes();
                let cursor = if advanced {
                    cursor_at(end.len, end.lines)?
                } else {
                    cursor
                };
                let from_len = Some(from_len);
                return Ok(Folded {
                    state,
                    cursor: Some(cursor),
                    with_fragment,
                    rebuilt: false,
                    advanced,
                    from_len,
                });
            }
        }
    }
    let mut state = F::default();
    let mut dedupe = Dedupe::Monotonic {
        suspects: HashSet::new(),
    };
    let (clean, mut end, mut with_fragment) = pass(&file, path, &mut state, (0, 0), &mut dedupe)?;
    if !clean {
        let suspects = dedupe.into_suspects();
        state = F::default();
        let mut known = Dedupe::Known {
            suspects: &suspects,
            seen: HashSet::new(),
        };
        (_, end, with_fragment) = pass(&file, path, &mut state, (0, 0), &mut known)?;
    }
    let cursor = if end.len >= keep_from {
        Some(cursor_at(end.len, end.lines)?)
    } else {
        None
    };
    Ok(Folded {
        state,
        cursor,
        with_fragment,
        rebuilt: true,
        advanced: true,
        from_len: None,
    })
}

/// `before` (the fold of the whole log at `path`, taken under the status
/// lock) with `events` folded on, which the caller has just appended as the
/// lines `appended` (one a line, each ending in a newline): the fold
/// [`fold_log`] makes by reading those lines back, without reading or
/// parsing them. None when that cannot be told without the file (the fold
/// ended in a torn line, the log is not `before`'s plus exactly these bytes,
/// a line is over [`MAX_EVENT_LINE`], an event id is not past every earlier
/// one): the caller then reads the new lines.
pub fn fold_appended(
    path: &Path,
    before: &Folded,
    events: &[super::model::StatusEvent],
    appended: &[u8],
) -> std::io::Result<Option<Folded>> {
    let (Some(cursor), None) = (&before.cursor, &before.with_fragment) else {
        return Ok(None);
    };
    let lines = count_newlines(appended);
    let whole_lines = appended.last().is_some_and(|&b| b == b'\n')
        && lines == events.len()
        && appended
            .split(|&b| b == b'\n')
            .all(|l| l.len() <= MAX_EVENT_LINE);
    if !whole_lines {
        return Ok(None);
    }
    let file = File::open(path)?;
    let md = file.metadata()?;
    if !cursor.same_file(&md) || md.len() != cursor.bytes() + appended.len() as u64 {
        return Ok(None);
    }
    let mut state = before.state.clone();
    let mut dedupe = Dedupe::Monotonic {
        suspects: HashSet::new(),
    };
    for e in events {
        if !state.add(&FoldEvent::of_event(e), &mut dedupe) {
            return Ok(None);
        }
    }
    Ok(Some(Folded {
        state,
        cursor: Some(Cursor::of(&file, &md, md.len(), cursor.lines() + lines)?),
        with_fragment: None,
        rebuilt: false,
        advanced: !appended.is_empty(),
        from_len: Some(cursor.bytes()),
    }))
}

/// Fold a log held in memory (the union of an unmerged log's stages): the
/// same fold as [`fold_log`], nothing saved.
pub fn fold_text<F: Fold>(path: &Path, bytes: &[u8]) -> Folded<F> {
    let mut state = F::default();
    let mut dedupe = Dedupe::Monotonic {
        suspects: HashSet::new(),
    };
    if !add_lines(&mut state, path, bytes, 0, &mut dedupe) {
        let suspects = dedupe.into_suspects();
        state = F::default();
        let mut known = Dedupe::Known {
            suspects: &suspects,
            seen: HashSet::new(),
        };
        add_lines(&mut state, path, bytes, 0, &mut known);
    }
    Folded {
        state,
        cursor: None,
        with_fragment: None,
        rebuilt: true,
        advanced: false,
        from_len: None,
    }
}

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    log: Cursor,
    fold: FoldState,
}

/// A fold saved this far past the one it started from is saved again
/// ([`Folded::worth_saving`]): about two hundred events.
pub const SAVE_AFTER: u64 = 64 << 10;

pub(super) use crate::fsutil::{file_stamp, FileStamp};

/// The saved fold this process last read or wrote, with the stamp of its
/// file: a command reads the fold several times (the guards, the move, the
/// claim check) and parses the file once. A file with another stamp is read
/// again; what the memo holds is checked against the log like the file.
struct Memo {
    path: PathBuf,
    stamp: FileStamp,
    state: FoldState,
    cursor: Cursor,
}

static MEMO: std::sync::Mutex<Option<Memo>> = std::sync::Mutex::new(None);

fn remember(path: &Path, stamp: FileStamp, state: &FoldState, cursor: &Cursor) {
    if let Ok(mut m) = MEMO.lock() {
        *m = Some(Memo {
            path: path.to_path_buf(),
            stamp,
            state: state.clone(),
            cursor: cursor.clone(),
        });
    }
}

/// Take the memo of the saved fold at `cache` out, returning the stamp of
/// the file it described: a writer about to fold its own events onto the
/// state it loaded (which shares its maps with the memo) then changes them in
/// place rather than copying every WP's fold ([`Arc::make_mut`]).
pub fn forget(cache: &Path) -> Option<FileStamp> {
    let mut m = MEMO.lock().ok()?;
    if m.as_ref().is_some_and(|m| m.path == cache) {
        return m.take().map(|m| m.stamp);
    }
    None
}

/// After [`forget`]: remember a fold that goes further into the log than the
/// saved one at `cache` (whose file still has `stamp`; it was not worth
/// saving again), so the reads that follow in this process fold from it.
/// What the memo holds is checked against the log like the file's fold (its
/// cursor), so a fold further on is as safe to hand out.
pub fn remember_further(cache: &Path, stamp: FileStamp, state: &FoldState, cursor: &Cursor) {
    if fs::metadata(cache).ok().map(|md| file_stamp(&md)) == Some(stamp) {
        remember(cache, stamp, state, cursor);
    }
}

/// The saved fold of `log` at `cache`, if it is readable and of this version.
pub fn load(cache: &Path) -> Option<(FoldState, Cursor)> {
    let stamp = file_stamp(&fs::metadata(cache).ok()?);
    if let Ok(m) = MEMO.lock() {
        if let Some(m) = m.as_ref().filter(|m| m.path == cache && m.stamp == stamp) {
            return Some((m.state.clone(), m.cursor.clone()));
        }
    }
    let text = crate::fsutil::read_capped(cache, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()?;
    let file: CacheFile = crate::bounds::json(&text).ok()?;
    if file.version != CACHE_VERSION {
        return None;
    }
    // Remembered only when the file did not change while it was read.
    if fs::metadata(cache).ok().map(|md| file_stamp(&md)) == Some(stamp) {
        remember(cache, stamp, &file.fold, &file.log);
    }
    Some((file.fold, file.log))
}

/// A surface's own saved fold (one built around a [`FoldState`], like the
/// dashboard's), if it is readable and of `version` (the surface's layout
/// version; the core's [`CACHE_VERSION`] is checked too).
pub fn load_as<F: serde::de::DeserializeOwned>(cache: &Path, version: u32) -> Option<(F, Cursor)> {
    #[derive(Deserialize)]
    struct Owned<F> {
        version: u32,
        core_version: u32,
        log: Cursor,
        fold: F,
    }
    let text = crate::fsutil::read_capped(cache, crate::bounds::MAX_TEXT_BYTES)
        .ok()
        .flatten()?;
    let file: Owned<F> = crate::bounds::json(&text).ok()?;
    (file.version == version && file.core_version == CACHE_VERSION).then_some((file.fold, file.log))
}

/// Save a surface's own fold for [`load_as`] (atomically; a failure only
/// means the next reader folds more).
pub fn save_as<F: Serialize>(
    cache: &Path,
    version: u32,
    state: &F,
    cursor: &Cursor,
) -> Result<(), crate::fsutil::FsError> {
    #[derive(Serialize)]
    struct Borrowed<'a, F> {
        version: u32,
        core_version: u32,
        log: &'a Cursor,
        fold: &'a F,
    }
    let text = serde_json::to_vec(&Borrowed {
        version,
        core_version: CACHE_VERSION,
        log: cursor,
        fold: state,
    })
    .unwrap_or_default();
    if let Some(dir) = cache.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    crate::fsutil::write_derived(cache, &text)
}

/// Save a fold (atomically, not synced: it is derived, so a crash that loses
/// it or leaves it empty only means the next reader folds more).
pub fn save(
    cache: &Path,
    state: &FoldState,
    cursor: &Cursor,
) -> Result<(), crate::fsutil::FsError> {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        version: u32,
        log: &'a Cursor,
        fold: &'a FoldState,
    }
    let text = serde_json::to_vec(&Borrowed {
        version: CACHE_VERSION,
        log: cursor,
        fold: state,
    })
    .unwrap_or_default();
    if let Some(dir) = cache.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    crate::fsutil::write_derived(cache, &text)?;
    if let Ok(md) = fs::metadata(cache) {
        remember(cache, file_stamp(&md), state, cursor);
    }
    Ok(())
}

/// Where the saved fold of the log at `events_path` lives (see the module
/// docs): under `base`, named by the mission and a hash of the log's path.
pub fn cache_path(base: &Path, slug: &str, events_path: &Path) -> PathBuf {
    let real = fs::canonicalize(events_path.parent().unwrap_or(events_path))
        .unwrap_or_else(|_| events_path.to_path_buf());
    cache_path_in(base, slug, &real)
}

/// [`cache_path`] of the log in the mission directory whose real path is
/// `real` (a caller that resolved it already).
pub fn cache_path_in(base: &Path, slug: &str, real: &Path) -> PathBuf {
    let digest = ring::digest::digest(&ring::digest::SHA256, real.to_string_lossy().as_bytes());
    let tag: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    base.join(format!("{slug}-{tag}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_ids_grow_past_the_greatest() {
        let ulid = crate::ids::new_ulid();
        assert!(next_event_id(Some(&ulid)).as_str() > ulid.as_str());
        let far = "7ZZZZZZZZZZZZZZZZZZZZZZZZY";
        let id = next_event_id(Some(far));
        assert_eq!(id, "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
        let old = "01AAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(next_event_id(Some(old)).as_str() > old);
        assert!(crate::mission::is_ulid(&next_event_id(None)));
        assert!(crate::mission::is_ulid(&next_event_id(Some("E7"))));
    }

    use super::super::reduce::reduce;
    use super::super::store::parse_log;
    use std::io::Write;

    /// What every reader computed before the incremental fold: the whole log
    /// parsed as owned events, reduced, and the roles walked in file order.
    fn full(path: &Path) -> (Snapshot, Vec<LogWarning>, BTreeMap<String, Roles>) {
        let bytes = fs::read(path).unwrap_or_default();
        let log = parse_log(path, &bytes);
        let mut roles: BTreeMap<String, Roles> = BTreeMap::new();
        for e in &log.events {
            let claim = e.to_lane == Lane::Claimed
                || (e.to_lane == Lane::InProgress && e.from_lane == Lane::Planned);
            if claim || e.to_lane == Lane::InReview {
                let r = roles.entry(e.wp_id.clone()).or_default();
                if claim {
                    r.implementer = Some(e.actor.clone());
                } else {
                    r.reviewer = Some(e.actor.clone());
                }
            }
        }
        for e in &log.events {
            if let Some(back) = crate::status::work::changes_requested(&log.events, &e.wp_id) {
                let r = roles.entry(e.wp_id.clone()).or_default();
                r.sent_back = true;
                r.changes_requested = Some(back);
            }
            let all = crate::status::work::implementers(&log.events, &e.wp_id);
            if !all.is_empty() {
                roles.entry(e.wp_id.clone()).or_default().implementers = all;
            }
            use crate::status::work::{approved_commit, recorded, CLAIM_COMMIT, HAND_IN_COMMIT};
            if let Some(c) = recorded(&log.events, &e.wp_id, CLAIM_COMMIT).pop() {
                roles.entry(e.wp_id.clone()).or_default().claim_commit = Some(c);
            }
            if let Some(c) = recorded(&log.events, &e.wp_id, CLAIM_COMMIT)
                .into_iter()
                .next()
            {
                roles.entry(e.wp_id.clone()).or_default().first_claim_commit = Some(c);
            }
            if let Some(c) = recorded(&log.events, &e.wp_id, HAND_IN_COMMIT).pop() {
                roles.entry(e.wp_id.clone()).or_default().hand_in_commit = Some(c);
            }
            if let Some(c) = approved_commit(&log.events, &e.wp_id) {
                roles.entry(e.wp_id.clone()).or_default().approved_commit = Some(c.to_string());
            }
            let fed_back = log.events.iter().any(|x| {
                x.wp_id == e.wp_id
                    && matches!(
                        x.from_lane,
                        Lane::ForReview | Lane::InReview | Lane::Approved
                    )
                    && matches!(x.to_lane, Lane::Planned | Lane::InProgress)
                    && x.review_ref.is_some()
            });
            if fed_back {
                roles.entry(e.wp_id.clone()).or_default().had_feedback = true;
            }
            let feedback = crate::status::work::review_feedback(&log.events, &e.wp_id);
            if !feedback.is_empty() {
                roles.entry(e.wp_id.clone()).or_default().feedback = feedback;
            }
            if let Some(p) = crate::status::work::previous_hand_in(&log.events, &e.wp_id) {
                roles.entry(e.wp_id.clone()).or_default().previous_hand_in = Some(p);
            }
        }
        (reduce(&log.events), log.warnings, roles)
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n.max(1)
        }
    }

    fn line(rng: &mut Rng, id: &str) -> String {
        let lanes = LANES;
        let from = lanes[rng.below(9) as usize];
        let to = lanes[rng.below(9) as usize];
        let review = if rng.below(3) == 0 { "\"r\"" } else { "null" };
        let reason = ["null", "\" note \"", "\"why\""][rng.below(3) as usize];
        // Sometimes the commits the guards read: a claim, a hand-in, an
        // approval's evidence (some not commit ids at all).
        let commit = |rng: &mut Rng| match rng.below(4) {
            0 => "\"not-a-commit\"".to_string(),
            n => format!("\"{}\"", format!("{n:x}").repeat(40)),
        };
        let mut commits = String::new();
        if rng.below(4) == 0 {
            commits.push_str(&format!("\"claim_commit\": {}, ", commit(rng)));
        }
        if rng.below(4) == 0 {
            commits.push_str(&format!("\"hand_in_commit\": {}, ", commit(rng)));
        }
        if rng.below(3) == 0 {
            commits.push_str(&format!(
                "\"evidence\": {{\"repos\": [{{\"branch\": \"b\"}}, {{\"commit\": {}}}]}}, ",
                commit(rng)
            ));
        }
        format!(
            "{{{commits}\"actor\": \"a{}\", \"at\": \"2026-01-01T00:00:0{}\", \"event_id\": \"{id}\", \"force\": {}, \"from_lane\": \"{}\", \"mission_slug\": \"00{}-x\", \"reason\": {reason}, \"review_ref\": {review}, \"to_lane\": \"{}\", \"wp_id\": \"WP0{}\"}}",
            rng.below(3),
            rng.below(5),
            rng.below(2) == 0,
            if rng.below(3) == 0 { Lane::ForReview } else { from },
            rng.below(2),
            if rng.below(3) == 0 { Lane::InProgress } else { to },
            rng.below(4),
        )
    }

    /// Events folded on as they are appended ([`fold_appended`]) equal the
    /// same lines read back from the file, from the fold before them and from
    /// the first line: random events (claims, reviews, commits in extra keys
    /// and evidence), on logs ending in a torn line or not; out-of-order ids,
    /// a torn end and a log that is not the fold's plus the append are left
    /// to the reader.
    #[test]
    fn events_folded_as_appended_equal_the_lines_read_back() {
        use super::super::model::StatusEvent;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut rng = Rng(0x5eed_f01d_a99e_4d00);
        let (mut direct, mut left) = (0, 0);
        for round in 0..200 {
            let mut text = String::new();
            let mut max: Option<String> = None;
            for k in 0..rng.below(30) {
                let id = next_event_id(max.as_deref());
                text.push_str(&line(&mut rng, &id));
                text.push('\n');
                max = Some(id);
                if k % 7 == 3 && rng.below(4) == 0 {
                    text.push_str("not json\n");
                }
            }
            let torn = rng.below(6) == 0;
            if torn {
                text.push_str("{\"event_id\": \"01");
            }
            fs::write(&path, &text).unwrap();
            let before = fold_log::<FoldState>(&path, None).unwrap();
            let mut events = Vec::new();
            for _ in 0..1 + rng.below(12) {
                let id = if rng.below(15) == 0 {
                    "01AAAAAAAAAAAAAAAAAAAAAAAA".to_string()
                } else {
                    next_event_id(before.current().max_event_id().max(max.as_deref()))
                };
                max = Some(id.clone()).max(max);
                let l = line(&mut rng, &id);
                events.push(serde_json::from_str::<StatusEvent>(&l).unwrap());
            }
            let mut appended = String::new();
            if torn {
                appended.push('\n');
            }
            for e in &events {
                appended.push_str(&e.to_line());
                appended.push('\n');
            }
            let other_writer = rng.below(10) == 0;
            let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(appended.as_bytes()).unwrap();
            if other_writer {
                f.write_all(b"{}\n").unwrap();
            }
            drop(f);
            let got = fold_appended(&path, &before, &events, appended.as_bytes()).unwrap();
            let cursor = before.cursor.clone();
            let read = fold_log(&path, cursor.map(|c| (before.state.clone(), c))).unwrap();
            let whole = fold_log::<FoldState>(&path, None).unwrap();
            assert_eq!(read.current(), whole.current(), "round {round}");
            let Some(got) = got else {
                left += 1;
                continue;
            };
            direct += 1;
            assert!(!torn && !other_writer, "round {round}");
            assert_eq!(got.state, read.state, "round {round}");
            assert_eq!(got.cursor, read.cursor, "round {round}");
            assert_eq!(got.current(), whole.current(), "round {round}");
            assert_eq!(got.cursor, whole.cursor, "round {round}");
            assert!(got.with_fragment.is_none() && read.with_fragment.is_none());
            assert_eq!(
                (got.rebuilt, got.advanced, got.from_len),
                (read.rebuilt, read.advanced, read.from_len),
                "round {round}"
            );
            assert_eq!(got.worth_saving(), read.worth_saving());
        }
        assert!(
            direct > 80 && left > 30,
            "{direct} folded on, {left} read back"
        );
    }

    /// Tail folding equals a full fold over random histories: appends (fresh,
    /// repeated and out-of-order ids, unreadable and torn lines, lines glued
    /// to a torn one), truncations, rewrites in place and by rename, and
    /// readers continuing from stale saved folds (a concurrent writer's
    /// reader that saved an older prefix).
    #[test]
    fn tail_folding_equals_a_full_fold() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut incremental, mut rebuilt) = (0, 0);
        for round in 0..60 {
            let _ = fs::remove_file(&path);
            let mut ids: Vec<String> = Vec::new();
            let mut next = 0u64;
            let mut saved: Vec<(FoldState, Cursor)> = Vec::new();
            for _ in 0..40 {
                let op = rng.below(20);
                match op {
                    // Append a few events (sometimes torn, sometimes odd ids).
                    0..=11 => {
                        let mut text = String::new();
                        for _ in 0..=rng.below(4) {
                            let id = match rng.below(40) {
                                0 if !ids.is_empty() => {
                                    ids[rng.below(ids.len() as u64) as usize].clone()
                                }
                                1 => format!("01K{:023}", rng.below(1000)),
                                _ => {
                                    next += 1 + rng.below(3);
                                    format!("01M{round:03}{next:020}")
                                }
                            };
                            ids.push(id.clone());
                            text.push_str(&line(&mut rng, &id));
                            text.push('\n');
                        }
                        match rng.below(8) {
                            0 => text.push_str("{\"torn\": "),
                            1 => text.push_str("not json\n"),
                            2 => text.push_str("\n  \r\n"),
                            _ => {}
                        }
                        let mut f = fs::OpenOptions::new()
                            .create(true)
                            .append(true)
                            .open(&path)
                            .unwrap();
                        f.write_all(text.as_bytes()).unwrap();
                    }
                    // Truncate in place.
                    12 | 13 => {
                        if let Ok(md) = fs::metadata(&path) {
                            let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
                            f.set_len(rng.below(md.len() + 1)).unwrap();
                        }
                    }
                    // Rewrite by rename: the lines shuffled (a merge).
                    14 | 15 => {
                        let text = fs::read_to_string(&path).unwrap_or_default();
                        let mut lines: Vec<&str> = text.lines().collect();
                        for i in (1..lines.len()).rev() {
                            lines.swap(i, rng.below(i as u64 + 1) as usize);
                        }
                        let tmp = dir.path().join("tmp");
                        fs::write(&tmp, lines.join("\n") + "\n").unwrap();
                        fs::rename(&tmp, &path).unwrap();
                    }
                    // Rewrite in place, the same length: one lane changed.
                    16 if path.exists() => {
                        let text = fs::read_to_string(&path).unwrap_or_default();
                        let swapped = if text.contains("\"claimed\"") {
                            text.replacen("\"claimed\"", "\"planned\"", 1)
                        } else {
                            text.replacen("\"planned\"", "\"claimed\"", 1)
                        };
                        let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
                        f.write_all(swapped.as_bytes()).unwrap();
                    }
                    _ => {}
                }
                // Mostly the latest saved fold; sometimes none, sometimes an
                // older one (a slow reader saved it after others moved on).
                let from = match rng.below(10) {
                    _ if saved.is_empty() => None,
                    0 => None,
                    1..=3 => Some(saved[rng.below(saved.len() as u64) as usize].clone()),
                    _ => saved.last().cloned(),
                };
                let folded = fold_log(&path, from.clone()).unwrap();
                if from.is_some() && !folded.rebuilt {
                    incremental += 1;
                } else {
                    rebuilt += 1;
                }
                let fold = folded.current();
                let (snap, warnings, roles) = full(&path);
                assert_eq!(fold.snapshot(), snap, "round {round}");
                assert_eq!(fold.warnings(&path), warnings, "round {round}");
                assert_eq!(fold.roles(), roles, "round {round}");
                // status.json written from the fold is the snapshot's.
                for slug in ["", "001-x"] {
                    assert_eq!(
                        String::from_utf8(fold.status_json_bytes("001", "software-dev", slug))
                            .unwrap(),
                        String::from_utf8(snap.status_json_bytes("001", "software-dev", slug))
                            .unwrap(),
                        "round {round}"
                    );
                }
                if let Some(c) = folded.cursor.clone() {
                    saved.push((folded.state.clone(), c));
                }
            }
        }
        // Both paths ran, many times.
        assert!(
            incremental > 500 && rebuilt > 300,
            "{incremental} {rebuilt}"
        );
    }

    #[test]
    fn a_saved_fold_reads_back_whole_and_other_versions_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut rng = Rng(11);
        let lines: Vec<String> = (0..300)
            .map(|i| line(&mut rng, &format!("01M{i:023}")))
            .collect();
        // And a WP with nothing but its bootstrap event: no roles at all.
        let bootstrap = "{\"actor\": \"x\", \"at\": \"2026-01-01T00:00:09\", \"event_id\": \"01M99999999999999999999999\", \"force\": true, \"from_lane\": \"planned\", \"mission_slug\": \"001-x\", \"reason\": null, \"review_ref\": null, \"to_lane\": \"planned\", \"wp_id\": \"WP09\"}";
        fs::write(&path, lines.join("\n") + "\n" + bootstrap + "\n").unwrap();
        let folded = fold_log::<FoldState>(&path, None).unwrap();
        let cursor = folded.cursor.clone().unwrap();
        // Some WPs carry roles, rollbacks or feedback, others nothing: both
        // read back the same, the empty fields left out of the file.
        assert!(folded
            .state
            .roles
            .values()
            .any(|r| *r == RoleFold::default()));
        assert!(folded
            .state
            .roles
            .values()
            .any(|r| *r != RoleFold::default()));
        let cache = dir.path().join("cache").join("fold.json");
        save(&cache, &folded.state, &cursor).unwrap();
        // Read from the file, not from this process's memo.
        *MEMO.lock().unwrap() = None;
        let (state, back) = load(&cache).unwrap();
        assert_eq!(state, folded.state);
        assert_eq!(back.bytes(), cursor.bytes());
        let text = fs::read_to_string(&cache).unwrap();
        assert!(!text.contains("null") && !text.contains("false"), "{text}");
        // The layout before (every field written) is another version: not read.
        let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
        old["version"] = serde_json::json!(CACHE_VERSION - 1);
        fs::write(&cache, serde_json::to_vec(&old).unwrap()).unwrap();
        *MEMO.lock().unwrap() = None;
        assert!(load(&cache).is_none());
        // Corrupt: not read (the store then folds the whole log).
        fs::write(&cache, &text.as_bytes()[..text.len() / 2]).unwrap();
        *MEMO.lock().unwrap() = None;
        assert!(load(&cache).is_none());
    }

    #[test]
    fn a_rewritten_log_is_folded_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut rng = Rng(7);
        let lines: Vec<String> = (0..200)
            .map(|i| line(&mut rng, &format!("01M{i:023}")))
            .collect();
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        let first = fold_log::<FoldState>(&path, None).unwrap();
        let saved = (first.state.clone(), first.cursor.clone().unwrap());
        // Nothing changed: nothing is read again, nothing rebuilt.
        let again = fold_log(&path, Some(saved.clone())).unwrap();
        assert!(!again.rebuilt && !again.advanced);
        // Shorter (a repair dropped a line): rebuilt.
        fs::write(&path, lines[1..].join("\n") + "\n").unwrap();
        let short = fold_log(&path, Some(saved.clone())).unwrap();
        assert!(short.rebuilt);
        assert_eq!(short.current().snapshot(), full(&path).0);
        // Longer, the old bytes changed in place (same inode): rebuilt.
        let mut changed = lines.clone();
        changed.swap(0, 1);
        changed.push(line(&mut rng, "01M99999999999999999999999"));
        let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all((changed.join("\n") + "\n").as_bytes()).unwrap();
        drop(f);
        let fold = fold_log(&path, Some(saved.clone())).unwrap();
        assert!(fold.rebuilt);
        assert_eq!(fold.current().snapshot(), full(&path).0);
        // An append onto the same prefix: only the tail is folded.
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        let base = fold_log::<FoldState>(&path, None).unwrap();
        let saved = (base.state.clone(), base.cursor.clone().unwrap());
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(f, "{}", line(&mut rng, "01M99999999999999999999999")).unwrap();
        drop(f);
        let tail = fold_log(&path, Some(saved)).unwrap();
        assert!(!tail.rebuilt && tail.advanced);
        assert_eq!(tail.current().snapshot(), full(&path).0);
    }

    #[test]
    fn a_fold_short_of_what_is_kept_has_no_cursor_and_the_same_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut rng = Rng(11);
        let lines: Vec<String> = (0..40)
            .map(|i| line(&mut rng, &format!("01M{i:023}")))
            .collect();
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        let len = fs::metadata(&path).unwrap().len();
        let whole = fold_log::<FoldState>(&path, None).unwrap();
        let short = fold_log_keeping::<FoldState>(&path, None, len + 1).unwrap();
        assert!(short.cursor.is_none() && !short.worth_saving());
        assert_eq!(short.state, whole.state);
        assert_eq!(short.current().snapshot(), full(&path).0);
        let kept = fold_log_keeping::<FoldState>(&path, None, len).unwrap();
        assert_eq!(kept.cursor, whole.cursor);
        assert!(kept.worth_saving());
        // Continuing a saved fold checks its cursor whatever is kept.
        let saved = (whole.state.clone(), whole.cursor.clone().unwrap());
        let again = fold_log_keeping(&path, Some(saved), u64::MAX).unwrap();
        assert!(!again.rebuilt && again.cursor == whole.cursor);
    }

    #[test]
    fn scan_hands_out_complete_lines_and_keeps_the_fragment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let long = "x".repeat(CHUNK);
        let text = format!("a\n\nbb\n{long}{long}\nccc\ntorn");
        std::fs::write(&path, &text).unwrap();
        let file = File::open(&path).unwrap();
        let mut seen = Vec::new();
        let end = scan(&file, 0, 0, |b, before| seen.push((b.to_vec(), before))).unwrap();
        assert_eq!(end.fragment, b"torn");
        assert_eq!(end.too_long, vec![4]);
        assert_eq!(end.lines, 5);
        assert_eq!(end.len as usize, text.len() - 4);
        let joined: Vec<u8> = seen.iter().flat_map(|(b, _)| b.clone()).collect();
        assert_eq!(joined, b"a\n\nbb\nccc\n");
    }
}
