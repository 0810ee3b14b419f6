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

use crate::fsutil::{dev_ino, mtime_ns, read_at};
pub use crate::logprefix::Prefix as Cursor;

use serde::{Deserialize, Serialize};

use super::model::{EventFields, FoldEvent, Lane, LANES};
use super::packed::{Item, Pack, WpMap};
use super::reduce::{Snapshot, WpState};
use super::store::{count_newlines, parse_event_pieces, LogWarning, Roles};

/// Bytes read per step of a streaming fold.
pub const CHUNK: usize = 8 << 20;
pub use super::store::MAX_EVENT_LINE;
/// Version of the cache file's layout: another one is ignored (a full fold).
pub(crate) const CACHE_VERSION: u32 = 9; // 2: roles carry sent_back and implementers; 3: and who sent it back, when, why; 4: and the recorded commits; 5: and the first claim commit; 6: empty and false fields left out (most WPs have no roles: their ten empty fields were over half the file at 5,000 WPs); 7: and the review feedback and the previous hand-in; 8: postcard after a binary header (see [`MAGIC`]), every field written (parsing the JSON was a third of implement's instructions at 5,000 WPs); 9: the WPs' folds and roles as sorted records decoded one WP at a time ([`super::packed`]: decoding every WP was 40% of a claim's instructions at 5,000 WPs)

/// The deciding event of one WP, owned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct WpFold {
    at: String,
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
    implementer: Option<String>,
    reviewer: Option<String>,
    /// See [`Roles::sent_back`]; folded over every readable line.
    sent_back: bool,
    /// See [`Roles::implementers`]; folded over every readable line.
    implementers: Vec<String>,
    /// `(by, at, feedback)` of the review that sent it back, while `sent_back`
    /// (see [`Roles::changes_requested`]).
    changes: Option<(String, String, String)>,
    /// See [`Roles::claim_commit`], [`Roles::hand_in_commit`] and
    /// [`Roles::approved_commit`]; folded over every readable line.
    claim_commit: Option<String>,
    /// See [`Roles::first_claim_commit`].
    first_claim_commit: Option<String>,
    hand_in_commit: Option<String>,
    approved_commit: Option<String>,
    /// See [`Roles::had_feedback`].
    had_feedback: bool,
    /// See [`Roles::feedback`]: `(by, at, text)`, the last three.
    feedback: Vec<(String, String, String)>,
    /// A review sent it back since its latest hand-in commit (the state
    /// machine of [`super::work::previous_hand_in`]).
    sent_back_since_hand_in: bool,
    /// See [`Roles::previous_hand_in`] (before the filter against the latest).
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
    /// Packed as read from a saved fold, each WP decoded when it is looked
    /// at ([`WpMap`]); handing out a fold (the memo of [`load`], each read of
    /// a command) costs two counts, not a copy of every WP.
    wps: WpMap<WpFold>,
    /// Every WP named by a readable line, with its roles.
    roles: WpMap<RoleFold>,
    /// `(line, message)` of every unreadable line.
    warnings: Vec<(usize, String)>,
}

impl super::reduce::LaneLookup for FoldState {
    fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        FoldState::lane_of(self, wp_id)
    }
}

/// A [`WpFold`] as [`FoldState::wps`] keeps it, borrowed from its record or
/// from the entry changed since.
#[derive(Debug, Clone, Copy)]
struct WpView<'a> {
    at: &'a str,
    rollback: bool,
    event_id: &'a str,
    actor: &'a str,
    lane: Option<Lane>,
    force_count: u64,
}

/// The view of one entry of [`FoldState::wps`].
fn view<'a>(item: Item<'a, WpFold>) -> WpView<'a> {
    match item {
        Item::Own(w) => WpView {
            at: &w.at,
            rollback: w.rollback,
            event_id: &w.event_id,
            actor: &w.actor,
            lane: w.lane,
            force_count: w.force_count,
        },
        Item::Packed(b) => unpack_wp(b).unwrap_or(WpView {
            at: "",
            rollback: false,
            event_id: "",
            actor: "",
            lane: None,
            force_count: 0,
        }),
    }
}

/// A packed [`WpFold`]: its lane (0 for none, else 1 + its place in
/// [`LANES`]), the rollback flag, the force count (u64), the lengths of its
/// time, event id and actor (u32 each; all little-endian), then those three
/// strings back to back (checked as UTF-8 in one pass, and each at a
/// character boundary).
fn unpack_wp(b: &[u8]) -> Option<WpView<'_>> {
    let (head, text) = b.split_first_chunk::<22>()?;
    let (&[lane, rollback], rest) = head.split_first_chunk::<2>()?;
    let (count, rest) = rest.split_first_chunk::<8>()?;
    let len = |i: usize| -> Option<usize> {
        let b = rest.get(i * 4..i * 4 + 4)?;
        usize::try_from(u32::from_le_bytes(b.try_into().ok()?)).ok()
    };
    let (at_len, id_len, actor_len) = (len(0)?, len(1)?, len(2)?);
    if at_len.checked_add(id_len)?.checked_add(actor_len)? != text.len() || rollback > 1 {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let (at, rest) = text.split_at_checked(at_len)?;
    let (event_id, actor) = rest.split_at_checked(id_len)?;
    Some(WpView {
        at,
        rollback: rollback == 1,
        event_id,
        actor,
        lane: lane_of_byte(lane)?,
        force_count: u64::from_le_bytes(*count),
    })
}

/// A packed lane: 0 for none, else 1 + its place in [`LANES`]; None when
/// out of range.
fn lane_of_byte(b: u8) -> Option<Option<Lane>> {
    match b {
        0 => Some(None),
        n => LANES.get(usize::from(n) - 1).map(|l| Some(*l)),
    }
}

/// The lane of one entry of [`FoldState::wps`], read from its record's
/// first byte when packed (the summary counts every WP's lane).
fn lane_of_item(item: Item<'_, WpFold>) -> Option<Lane> {
    match item {
        Item::Own(w) => w.lane,
        Item::Packed(b) => b.first().and_then(|&l| lane_of_byte(l)).flatten(),
    }
}

/// One WP's entry in status.json, from its id to its closing brace.
fn write_entry(out: &mut String, id: &str, w: WpView<'_>) {
    use crate::jsonfmt::write_json_str as string;
    use std::fmt::Write as _;
    string(id, out);
    out.push_str(": {\n      \"actor\": ");
    string(w.actor, out);
    let _ = write!(out, ",\n      \"force_count\": {}", w.force_count);
    out.push_str(",\n      \"lane\": ");
    string(w.lane.unwrap_or(Lane::Planned).as_str(), out);
    out.push_str(",\n      \"last_event_id\": ");
    string(w.event_id, out);
    out.push_str(",\n      \"last_transition_at\": ");
    string(w.at, out);
    out.push_str("\n    }");
}

impl Pack for WpFold {
    fn pack(&self, out: &mut Vec<u8>) {
        let lane = self
            .lane
            .and_then(|l| LANES.iter().position(|x| *x == l))
            .map_or(0, |i| i as u8 + 1);
        out.push(lane);
        out.push(u8::from(self.rollback));
        out.extend_from_slice(&self.force_count.to_le_bytes());
        // Times, ids and actors come from log lines, whose length is capped
        // far below 4 GiB.
        let len = |s: &str| u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes();
        for s in [&self.at, &self.event_id, &self.actor] {
            out.extend_from_slice(&len(s));
        }
        for s in [&self.at, &self.event_id, &self.actor] {
            out.extend_from_slice(s.as_bytes());
        }
    }
    /// [`unpack_wp`]'s checks, ASCII text (every time and id this tool
    /// writes) checked a word at a time.
    fn valid(bytes: &[u8]) -> bool {
        match bytes.get(22..) {
            Some(text) if text.is_ascii() => {
                let len = |i: usize| {
                    bytes
                        .get(10 + i * 4..14 + i * 4)
                        .and_then(|b| b.try_into().ok())
                        .map(|b: [u8; 4]| u64::from(u32::from_le_bytes(b)))
                };
                let lens = (len(0), len(1), len(2));
                let total = match lens {
                    (Some(a), Some(b), Some(c)) => Some(a + b + c),
                    _ => None,
                };
                total == Some(text.len() as u64)
                    && bytes.get(1).is_some_and(|&r| r <= 1)
                    && bytes.first().and_then(|&l| lane_of_byte(l)).is_some()
            }
            _ => unpack_wp(bytes).is_some(),
        }
    }
    fn unpack(bytes: &[u8]) -> Self {
        let Some(w) = unpack_wp(bytes) else {
            return WpFold::default();
        };
        WpFold {
            at: w.at.to_string(),
            rollback: w.rollback,
            event_id: w.event_id.to_string(),
            actor: w.actor.to_string(),
            lane: w.lane,
            force_count: w.force_count,
        }
    }
}

/// Roles in postcard; the default (a WP no one claimed or reviewed: most of
/// them) is no bytes at all.
impl Pack for RoleFold {
    fn pack(&self, out: &mut Vec<u8>) {
        if *self != RoleFold::default() {
            if let Ok(bytes) = postcard::to_allocvec(self) {
                out.extend_from_slice(&bytes);
            }
        }
    }
    fn valid(bytes: &[u8]) -> bool {
        bytes.is_empty() || matches!(postcard::take_from_bytes::<RoleFold>(bytes), Ok((_, [])))
    }
    fn unpack(bytes: &[u8]) -> Self {
        match postcard::take_from_bytes::<RoleFold>(bytes) {
            Ok((r, [])) => r,
            _ => RoleFold::default(),
        }
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

/// Fold one readable event into its WP's roles (see [`FoldState::add`]).
fn fold_roles(roles: &mut RoleFold, e: &FoldEvent<'_>) {
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
                roles
                    .feedback
                    .push((e.actor().to_string(), e.at().to_string(), text.to_string()));
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
}

impl FoldState {
    /// Fold one readable event, in file order. Returns false when it is a
    /// suspect under [`Dedupe::Monotonic`] (it is then not folded).
    pub fn add(&mut self, e: &FoldEvent<'_>, dedupe: &mut Dedupe<'_>) -> bool {
        // Owned strings are made only for a WP seen for the first time; the
        // others are overwritten in place (no allocation per event).
        self.roles
            .with_entry(e.wp_id(), |roles| fold_roles(roles, e));
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
        self.wps.with_entry(e.wp_id(), |wp| {
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
        });
        true
    }

    /// The snapshot of the folded events.
    pub fn snapshot(&self) -> Snapshot {
        let work_packages: BTreeMap<String, WpState> = self
            .wps
            .iter()
            .map(|(id, w)| {
                let w = view(w);
                let state = WpState {
                    actor: w.actor.to_string(),
                    force_count: w.force_count,
                    lane: w.lane.unwrap_or(Lane::Planned),
                    last_event_id: w.event_id.to_string(),
                    last_transition_at: w.at.to_string(),
                };
                (id.to_string(), state)
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
        let mut out = String::with_capacity(512 + self.wps.len() * 256);
        self.write_header(&mut out, mission_number, mission_type, mission_slug);
        for (i, (id, w)) in self.wps.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            write_entry(&mut out, id, view(w));
        }
        out.push_str(if self.wps.is_empty() {
            "}\n}\n"
        } else {
            "\n  }\n}\n"
        });
        out.into_bytes()
    }

    /// [`FoldState::status_json_bytes`] made from `old`, the bytes of
    /// `before`'s status.json (as this tool writes it), when this fold is
    /// `before` with a few WPs changed: the head and the entries of the WPs
    /// that differ are written again, every other byte is kept. None (write
    /// it whole) when `old` is not what `before` renders to in those places,
    /// when a WP was added, or when too many WPs may differ for it to pay.
    ///
    /// A claim in a 5,000-WP mission rendered 1.1 MB of JSON to change two
    /// entries and the head.
    pub fn status_json_spliced(
        &self,
        before: &FoldState,
        old: &[u8],
        mission: (&str, &str, &str),
    ) -> Option<Vec<u8>> {
        /// More WPs changed since the saved fold than this: rendered whole.
        const MOST: usize = 64;
        let (number, kind, slug) = mission;
        if self.wps.changed() > MOST || self.wps.is_empty() || self.wps.len() != before.wps.len() {
            return None;
        }
        let mut head = String::new();
        before.write_header(&mut head, number, kind, slug);
        if !old.starts_with(head.as_bytes()) {
            return None;
        }
        // (start, end, new bytes) of each entry that changed, in file order.
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let mut from = head.len();
        let mut key = String::new();
        for id in self.wps.changed_ids() {
            let now = view(self.wps.item(id)?);
            let then = view(before.wps.item(id)?);
            let (mut was, mut is) = (String::new(), String::new());
            write_entry(&mut was, id, then);
            write_entry(&mut is, id, now);
            if was == is {
                continue;
            }
            // An entry starts a line indented by four, with its id and an
            // opening brace (the summary's lines at that depth hold numbers),
            // and ends at the first line that is four spaces and a brace
            // (every value inside is one line).
            key.clear();
            key.push_str("\n    ");
            crate::jsonfmt::write_json_str(id, &mut key);
            key.push_str(": {\n");
            let at = from + memchr::memmem::find(old.get(from..)?, key.as_bytes())? + 5;
            let end = at + was.len();
            if old.get(at..end)? != was.as_bytes() {
                return None;
            }
            edits.push((at, end, is));
            from = end;
        }
        let mut out = String::with_capacity(old.len() + 256);
        self.write_header(&mut out, number, kind, slug);
        let mut out = out.into_bytes();
        let mut kept = head.len();
        for (at, end, is) in edits {
            out.extend_from_slice(old.get(kept..at)?);
            out.extend_from_slice(is.as_bytes());
            kept = end;
        }
        out.extend_from_slice(old.get(kept..)?);
        Some(out)
    }

    /// status.json up to the opening brace of `work_packages`.
    fn write_header(
        &self,
        out: &mut String,
        mission_number: &str,
        mission_type: &str,
        mission_slug: &str,
    ) {
        use crate::jsonfmt::write_json_str as string;
        use std::fmt::Write as _;
        let _ = write!(out, "{{\n  \"event_count\": {}", self.event_count);
        out.push_str(",\n  \"last_event_id\": ");
        match &self.last {
            Some((_, id)) => string(id, out),
            None => out.push_str("null"),
        }
        out.push_str(",\n  \"materialized_at\": ");
        string(self.last.as_ref().map_or("", |(a, _)| a.as_str()), out);
        out.push_str(",\n  \"mission_number\": ");
        string(mission_number, out);
        out.push_str(",\n  \"mission_slug\": ");
        let slug = self.first.as_ref().map_or("", |(_, _, s)| s.as_str());
        string(if slug.is_empty() { mission_slug } else { slug }, out);
        out.push_str(",\n  \"mission_type\": ");
        string(mission_type, out);
        out.push_str(",\n  \"summary\": {");
        for (i, (lane, n)) in self.summary().iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            string(lane, out);
            let _ = write!(out, ": {n}");
        }
        out.push_str("\n  },\n  \"work_packages\": {");
    }

    /// How many WPs are in each lane (every lane named, as in `status.json`).
    fn summary(&self) -> BTreeMap<&'static str, usize> {
        // Counted by position in LANES (every WP's lane is one of them), then
        // named: a map lookup by name for each of 5,000 WPs cost more.
        let mut counts = [0i64; LANES.len()];
        self.wps.tally(|w, n| {
            let lane = lane_of_item(w).unwrap_or(Lane::Planned);
            if let Some(i) = LANES.iter().position(|l| *l == lane) {
                counts[i] += n;
            }
        });
        let counts = counts.map(|n| usize::try_from(n).unwrap_or(0));
        LANES.iter().map(|l| l.as_str()).zip(counts).collect()
    }

    /// Who implemented and who reviewed each WP that has either.
    pub fn roles(&self) -> BTreeMap<String, Roles> {
        self.roles
            .iter()
            .filter_map(|(id, r)| Some((id.to_string(), role_of(&r.value())?)))
            .collect()
    }

    /// [`FoldState::roles`] of one WP (the default when it has none), without
    /// building those of every WP.
    pub fn roles_of(&self, wp_id: &str) -> Roles {
        self.roles
            .get(wp_id)
            .and_then(|r| role_of(&r))
            .unwrap_or_default()
    }

    /// The lane of `wp_id` ([`FoldState::snapshot`]'s, without building the
    /// snapshot of every WP); None when no event decides it.
    pub fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        self.wps
            .item(wp_id)
            .map(|w| view(w).lane.unwrap_or(Lane::Planned))
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
        self.wps.item(wp_id).map(|w| view(w).event_id)
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
        self.roles.keys()
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

/// The first bytes of a saved fold: not text (a JSON cache of an older
/// spec-kitty begins with `{`), with a newline a text-mode copy would change.
/// Then the core's layout version ([`CACHE_VERSION`]) and the surface's
/// ([`load_as`]; 0 for the core's own fold), each a little-endian u32, the
/// CRC-32 of the body (little-endian), and the body: `(Cursor, fold)` in
/// postcard.
///
/// postcard is not self-describing: every field is written, in declaration
/// order, with no names (no `skip_serializing_if` on anything it writes, or
/// a read would take the next field's bytes for the skipped one). A body
/// with a bit flipped would still often decode as some other fold, so the
/// body's CRC is checked before it is decoded (it catches every error of up
/// to 32 bits in a row; SHA-256 cost as much as the decoding at 5,000 WPs,
/// and a hash protects nothing against whoever can rewrite the file and its
/// hash: the decoder itself takes any bytes without a panic or an
/// allocation past the input's size). A file that fails the check,
/// is of another version, shorter than its header, or has bytes after the
/// body is ignored, and the log is folded from its first line.
const MAGIC: &[u8; 8] = b"\x89SKfold\n";

/// Bytes before the body: [`MAGIC`], two versions, the body's CRC-32.
const HEADER: usize = MAGIC.len() + 4 + 4 + 4;

/// The whole file of a saved fold: the header (see [`MAGIC`]) and the body.
fn encode<F: Serialize + ?Sized>(
    cache: &Path,
    surface: u32,
    state: &F,
    cursor: &Cursor,
) -> Result<Vec<u8>, crate::fsutil::FsError> {
    let mut out =
        postcard::to_extend(&(cursor, state), header(CACHE_VERSION, surface)).map_err(|e| {
            crate::fsutil::FsError::Io {
                action: "encode",
                path: cache.to_path_buf(),
                source: std::io::Error::other(e),
            }
        })?;
    seal(&mut out);
    Ok(out)
}

/// A header (see [`MAGIC`]) of these versions, its CRC not yet filled in.
fn header(core: u32, surface: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 << 10);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&core.to_le_bytes());
    out.extend_from_slice(&surface.to_le_bytes());
    out.resize(HEADER, 0);
    out
}

/// Fill in the CRC of a file's body (the bytes after its header).
fn seal(file: &mut [u8]) {
    let sum = crc32fast::hash(&file[HEADER..]);
    file[HEADER - 4..HEADER].copy_from_slice(&sum.to_le_bytes());
}

/// A file of these versions around `body`, sealed as [`save`] seals one
/// (hostile bodies for the tests of the readers).
#[cfg(test)]
pub(crate) fn sealed(core: u32, surface: u32, body: &[u8]) -> Vec<u8> {
    let mut out = header(core, surface);
    out.extend_from_slice(body);
    seal(&mut out);
    out
}

/// The fold and cursor in the bytes of a saved fold of `surface`'s layout
/// (see [`MAGIC`]); None for anything else.
///
/// No depth pre-scan ([`crate::bounds::json_too_deep`], which guards the
/// JSON readers): postcard input nests only as deep as the types it is read
/// into, and none of the saved folds' types is recursive (maps, vectors,
/// options and tuples of strings, numbers and lanes), so no byte sequence
/// can make the decoder recurse further than they do. Lengths are checked
/// against the bytes left before anything is allocated for them.
fn decode<F: serde::de::DeserializeOwned>(bytes: &[u8], surface: u32) -> Option<(F, Cursor)> {
    let rest = bytes.strip_prefix(MAGIC.as_slice())?;
    let (core, rest) = rest.split_first_chunk::<4>()?;
    let (version, rest) = rest.split_first_chunk::<4>()?;
    let (sum, body) = rest.split_first_chunk::<4>()?;
    if u32::from_le_bytes(*core) != CACHE_VERSION
        || u32::from_le_bytes(*version) != surface
        || u32::from_le_bytes(*sum) != crc32fast::hash(body)
    {
        return None;
    }
    match postcard::take_from_bytes::<(Cursor, F)>(body) {
        Ok(((cursor, fold), [])) => Some((fold, cursor)),
        _ => None,
    }
}

/// The bytes of the saved fold at `cache`; None when it is missing,
/// unreadable or over [`crate::bounds::MAX_TEXT_BYTES`] (refused before it
/// is read).
fn read_saved(cache: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = File::open(cache).ok()?;
    let len = file.metadata().ok()?.len();
    let max = crate::bounds::MAX_TEXT_BYTES;
    if len > max {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).ok()?.saturating_add(1));
    // At most one byte over the cap: a file that grew past it is refused too.
    file.take(max + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= max).then_some(bytes)
}

/// The saved fold of `log` at `cache`, if it is readable and of this version.
pub fn load(cache: &Path) -> Option<(FoldState, Cursor)> {
    let stamp = file_stamp(&fs::metadata(cache).ok()?);
    if let Ok(m) = MEMO.lock() {
        if let Some(m) = m.as_ref().filter(|m| m.path == cache && m.stamp == stamp) {
            return Some((m.state.clone(), m.cursor.clone()));
        }
    }
    let (fold, cursor) = decode::<FoldState>(&read_saved(cache)?, 0)?;
    // Remembered only when the file did not change while it was read.
    if fs::metadata(cache).ok().map(|md| file_stamp(&md)) == Some(stamp) {
        remember(cache, stamp, &fold, &cursor);
    }
    Some((fold, cursor))
}

/// A surface's own saved fold (one built around a [`FoldState`], like the
/// dashboard's), if it is readable and of `version` (the surface's layout
/// version, 1 or more; the core's [`CACHE_VERSION`] is checked too).
pub fn load_as<F: serde::de::DeserializeOwned>(cache: &Path, version: u32) -> Option<(F, Cursor)> {
    if version == 0 {
        return None;
    }
    decode(&read_saved(cache)?, version)
}

/// Save a surface's own fold for [`load_as`] (atomically; a failure only
/// means the next reader folds more).
pub fn save_as<F: Serialize>(
    cache: &Path,
    version: u32,
    state: &F,
    cursor: &Cursor,
) -> Result<(), crate::fsutil::FsError> {
    let bytes = encode(cache, version, state, cursor)?;
    if let Some(dir) = cache.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    crate::fsutil::write_derived(cache, &bytes)
}

/// Save a fold (atomically, not synced: it is derived, so a crash that loses
/// it or leaves it empty only means the next reader folds more).
pub fn save(
    cache: &Path,
    state: &FoldState,
    cursor: &Cursor,
) -> Result<(), crate::fsutil::FsError> {
    let bytes = encode(cache, 0, state, cursor)?;
    if let Some(dir) = cache.parent() {
        crate::fsutil::create_dir_all(dir)?;
    }
    crate::fsutil::write_derived(cache, &bytes)?;
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

    /// A log of 300 random events and a WP with nothing but its bootstrap
    /// event (no roles at all), folded; the fold has WPs with roles, rollbacks
    /// or feedback and WPs with none.
    fn sample_log(dir: &Path) -> (PathBuf, Folded) {
        let path = dir.join("status.events.jsonl");
        let mut rng = Rng(11);
        let lines: Vec<String> = (0..300)
            .map(|i| line(&mut rng, &format!("01M{i:023}")))
            .collect();
        let bootstrap = "{\"actor\": \"x\", \"at\": \"2026-01-01T00:00:09\", \"event_id\": \"01M99999999999999999999999\", \"force\": true, \"from_lane\": \"planned\", \"mission_slug\": \"001-x\", \"reason\": null, \"review_ref\": null, \"to_lane\": \"planned\", \"wp_id\": \"WP09\"}";
        fs::write(&path, lines.join("\n") + "\n" + bootstrap + "\n").unwrap();
        let folded = fold_log::<FoldState>(&path, None).unwrap();
        let roles: Vec<_> = folded.state.roles.values().collect();
        assert!(roles.iter().any(|r| **r == RoleFold::default()));
        assert!(roles.iter().any(|r| **r != RoleFold::default()));
        assert!(folded.state.wps.values().any(|w| w.rollback));
        assert!(roles.iter().any(|r| !r.feedback.is_empty()));
        (path, folded)
    }

    /// status.json made from the previous one by rewriting its head and the
    /// entries that changed is, byte for byte, the whole rendering; when the
    /// old bytes are not what the previous fold renders to where it looks,
    /// or a WP was added, it is not made at all.
    #[test]
    fn a_spliced_status_json_is_the_whole_rendering() {
        let dir = tempfile::tempdir().unwrap();
        let (path, folded) = sample_log(dir.path());
        let cache = dir.path().join("fold");
        save(&cache, &folded.state, folded.cursor.as_ref().unwrap()).unwrap();
        let (before, cursor) = load_file(&cache).unwrap();
        let mission = ("001", "software-dev", "001-x");
        let render = |f: &FoldState| f.status_json_bytes(mission.0, mission.1, mission.2);
        let old = render(&before);
        let base = fs::read(&path).unwrap();
        let mut rng = Rng(5);
        let mut spliced = 0;
        for round in 0..40 {
            let mut more = String::new();
            for i in 0..=rng.below(3) {
                let mut l = line(&mut rng, &format!("01N{round:03}{i:020}"));
                // Actors the JSON escapes, and a new WP once.
                if round % 5 == 1 {
                    l = l.replacen("\"actor\": \"a", "\"actor\": \"\\\"\u{e9}\\n", 1);
                }
                if round == 7 {
                    l = l.replace("\"wp_id\": \"WP0", "\"wp_id\": \"WP1");
                }
                more.push_str(&l);
                more.push('\n');
            }
            fs::write(&path, [base.as_slice(), more.as_bytes()].concat()).unwrap();
            let after = fold_log(&path, Some((before.clone(), cursor.clone())))
                .unwrap()
                .state;
            let got = after.status_json_spliced(&before, &old, mission);
            if round == 7 {
                assert_eq!(got, None, "a new WP");
                continue;
            }
            assert_eq!(
                got.as_deref().map(String::from_utf8_lossy),
                Some(String::from_utf8_lossy(&render(&after))),
                "round {round}"
            );
            spliced += 1;
            // Old bytes this fold does not render to: in the head, or in
            // an entry that changed.
            let mut bad = old.clone();
            bad[3] = b'X';
            assert_eq!(after.status_json_spliced(&before, &bad, mission), None);
            let changed = after
                .wps
                .changed_ids()
                .find(|id| after.wps.get(id) != before.wps.get(id));
            if let Some(id) = changed {
                let at = memchr::memmem::find(&old, format!("\"{id}\": {{").as_bytes()).unwrap();
                let mut bad = old.clone();
                bad[at + 20] ^= 1;
                assert_eq!(after.status_json_spliced(&before, &bad, mission), None);
            }
        }
        assert_eq!(spliced, 39);
    }

    /// [`load`] from the file, not from this process's memo.
    fn load_file(cache: &Path) -> Option<(FoldState, Cursor)> {
        *MEMO.lock().unwrap() = None;
        load(cache)
    }

    #[test]
    fn a_saved_fold_reads_back_whole_and_other_versions_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (_, folded) = sample_log(dir.path());
        let cursor = folded.cursor.clone().unwrap();
        let cache = dir.path().join("cache").join("fold.json");
        save(&cache, &folded.state, &cursor).unwrap();
        let (state, back) = load_file(&cache).unwrap();
        assert_eq!(state, folded.state);
        assert_eq!(back, cursor);
        let bytes = fs::read(&cache).unwrap();
        assert!(bytes.starts_with(MAGIC));
        // Another core version, another surface's layout: not read.
        for (at, other) in [(8, CACHE_VERSION - 1), (8, CACHE_VERSION + 1), (12, 1)] {
            let mut b = bytes.clone();
            b[at..at + 4].copy_from_slice(&u32::to_le_bytes(other));
            fs::write(&cache, &b).unwrap();
            assert!(load_file(&cache).is_none(), "{at} {other}");
        }
        fs::write(&cache, &bytes).unwrap();
        assert!(load_as::<FoldState>(&cache, 1).is_none());
        assert!(load_as::<FoldState>(&cache, 0).is_none());
        assert!(load_file(&cache).is_some());
        // A surface's fold reads back as its own version only.
        save_as(&cache, 3, &folded.state, &cursor).unwrap();
        assert_eq!(
            load_as::<FoldState>(&cache, 3),
            Some((folded.state.clone(), cursor.clone()))
        );
        assert!(load_as::<FoldState>(&cache, 2).is_none());
        assert!(load_file(&cache).is_none());
    }

    /// Random logs: every fold a reader makes, saved and read back from the
    /// file, is that fold, and continuing from it equals a full fold.
    #[test]
    fn folds_of_random_logs_read_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let cache = dir.path().join("fold");
        let mut rng = Rng(0x0dd_ba11_5eed);
        let mut text = String::new();
        for round in 0..120u64 {
            for _ in 0..rng.below(6) {
                let id = format!("01M{round:03}{:020}", rng.below(1 << 20));
                text.push_str(&line(&mut rng, &id));
                text.push('\n');
            }
            if rng.below(5) == 0 {
                text.push_str("not json\n");
            }
            fs::write(&path, &text).unwrap();
            let saved = load_file(&cache);
            let folded = fold_log(&path, saved).unwrap();
            assert_eq!(
                folded.state,
                fold_log::<FoldState>(&path, None).unwrap().state,
                "round {round}"
            );
            let cursor = folded.cursor.clone().unwrap();
            save(&cache, &folded.state, &cursor).unwrap();
            assert_eq!(
                load_file(&cache),
                Some((folded.state, cursor)),
                "round {round}"
            );
        }
    }

    /// What an older spec-kitty saved at this path (JSON, version 7), with a
    /// cursor that still holds and a fold that does not match the log: not
    /// read, the log is folded whole.
    #[test]
    fn an_old_json_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (path, folded) = sample_log(dir.path());
        let cursor = folded.cursor.clone().unwrap();
        let mut wrong = folded.state.clone();
        for w in wrong.wps.values_mut() {
            w.lane = Some(Lane::Done);
        }
        let cache = dir.path().join("fold.json");
        let old = serde_json::json!({ "version": 7, "log": cursor, "fold": wrong });
        fs::write(&cache, serde_json::to_vec(&old).unwrap()).unwrap();
        assert!(load_file(&cache).is_none());
        assert!(load_as::<FoldState>(&cache, 1).is_none());
        // The same wrong fold in this layout would be read (and trusted: its
        // cursor holds), so the JSON was refused for its layout.
        save(&cache, &wrong, &cursor).unwrap();
        let back = load_file(&cache).unwrap();
        assert_eq!(back.0, wrong);
        assert!(!fold_log(&path, Some(back)).unwrap().rebuilt);
    }

    /// A saved fold cut short, with a bit flipped anywhere, with bytes after
    /// it, garbage, or over the size cap is not read (never a panic): the
    /// reader folds the log whole.
    #[test]
    fn a_damaged_saved_fold_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let (path, folded) = sample_log(dir.path());
        let cursor = folded.cursor.clone().unwrap();
        let cache = dir.path().join("fold");
        save(&cache, &folded.state, &cursor).unwrap();
        let sound = fs::read(&cache).unwrap();
        let whole = fold_log::<FoldState>(&path, None).unwrap();
        let ignored = |bytes: &[u8], what: &str| {
            fs::write(&cache, bytes).unwrap();
            assert!(load_file(&cache).is_none(), "{what}");
            let folded = fold_log(&path, load_file(&cache)).unwrap();
            assert!(folded.rebuilt, "{what}");
            assert_eq!(folded.current(), whole.current(), "{what}");
        };
        for len in (0..sound.len())
            .step_by(97)
            .chain([HEADER - 1, HEADER, sound.len() - 1])
        {
            ignored(&sound[..len], &format!("cut at {len}"));
        }
        // Every byte, one bit each (the header's versions and CRC too).
        for i in 0..sound.len() {
            let mut b = sound.clone();
            b[i] ^= 1 << (i % 8);
            fs::write(&cache, &b).unwrap();
            assert!(load_file(&cache).is_none(), "bit {} of byte {i}", i % 8);
        }
        ignored(&[sound.as_slice(), b"\0"].concat(), "a byte after it");
        ignored(&[sound.as_slice(), &sound].concat(), "twice");
        ignored(b"", "empty");
        ignored(b"\0\0\0\0", "zeros");
        ignored(&sound[HEADER..], "no header");
        let mut rng = Rng(3);
        let noise: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
        ignored(&noise, "noise");
        ignored(
            &[&sound[..HEADER], noise.as_slice()].concat(),
            "noise after the header",
        );
        // Bodies sealed with a right CRC that are not a fold: noise, a fold
        // with trailing bytes, lengths past the end.
        let body = &sound[HEADER..];
        ignored(&sealed(CACHE_VERSION, 0, &noise), "sealed noise");
        ignored(
            &sealed(CACHE_VERSION, 0, &[body, b"\0"].concat()),
            "sealed trailing byte",
        );
        ignored(
            &sealed(CACHE_VERSION, 0, &body[..body.len() - 1]),
            "sealed short",
        );
        ignored(
            &sealed(CACHE_VERSION, 0, &[0xff; 64]),
            "sealed huge lengths",
        );
        // Over the cap (sparse): refused by its size before it is read.
        fs::write(&cache, &sound).unwrap();
        let f = fs::OpenOptions::new().write(true).open(&cache).unwrap();
        f.set_len(crate::bounds::MAX_TEXT_BYTES + 1).unwrap();
        drop(f);
        assert!(load_file(&cache).is_none());
        assert!(read_saved(&cache).is_none());
        // And the sound file reads.
        fs::write(&cache, &sound).unwrap();
        assert_eq!(load_file(&cache), Some((folded.state, cursor)));
    }

    /// A sealed body whose lane is out of range (a packed WP's first byte:
    /// 0 for none, else 1 + its place in [`LANES`]) is refused; the same
    /// patch to a lane in range is read, so the patch hit the lane.
    #[test]
    fn a_saved_lane_out_of_range_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let event = "{\"actor\": \"ACTOR\", \"at\": \"2026-01-01T00:00:09\", \"event_id\": \"01M99999999999999999999999\", \"force\": false, \"from_lane\": \"planned\", \"mission_slug\": \"001-x\", \"reason\": null, \"review_ref\": null, \"to_lane\": \"canceled\", \"wp_id\": \"WP01\"}\n";
        fs::write(&path, event).unwrap();
        let folded = fold_log::<FoldState>(&path, None).unwrap();
        let body =
            postcard::to_allocvec(&(folded.cursor.as_ref().unwrap(), &folded.state)).unwrap();
        // The first record of WP01 (the WPs' folds come before the roles):
        // its id, the value's length, then the lane (canceled: 1 + 8).
        let at = body
            .windows(8)
            .position(|w| w == b"\x04\x00\x00\x00WP01")
            .unwrap()
            + 12;
        assert_eq!(body[at], 9);
        let cache = dir.path().join("fold");
        for (index, lane) in [
            (9, Some(Lane::Canceled)),
            (8, Some(Lane::Blocked)),
            (10, None),
            (200, None),
        ] {
            let mut b = body.clone();
            b[at] = index;
            fs::write(&cache, sealed(CACHE_VERSION, 0, &b)).unwrap();
            let got = load_file(&cache).map(|(s, _)| s.lane_of("WP01"));
            assert_eq!(got, lane.map(Some), "index {index}");
        }
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
