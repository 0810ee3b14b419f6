use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use serde::Serialize;

use super::model::{EventFields, Lane, StatusEvent, LANES};

/// The state of one work package after folding its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WpState {
    pub actor: String,
    pub force_count: u64,
    pub lane: Lane,
    pub last_event_id: String,
    pub last_transition_at: String,
}

/// `status.json`: the log folded into one lane per work package.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub event_count: usize,
    pub last_event_id: Option<String>,
    pub materialized_at: String,
    pub mission_slug: String,
    pub summary: BTreeMap<&'static str, usize>,
    pub work_packages: BTreeMap<String, WpState>,
}

/// Where a reader looks up one WP's lane: a [`Snapshot`], or the fold it is
/// built from ([`super::cache::FoldState`]) for a reader that looks up a few
/// WPs and builds no snapshot of every WP. Both answer the same.
pub trait LaneLookup {
    /// The WP's lane; None when no event decides it.
    fn lane_of(&self, wp_id: &str) -> Option<Lane>;
}

impl LaneLookup for Snapshot {
    fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        Snapshot::lane_of(self, wp_id)
    }
}

impl Snapshot {
    pub fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        self.work_packages.get(wp_id).map(|s| s.lane)
    }

    /// The bytes of `status.json` (with `mission_slug` standing in for an
    /// empty slug): the same bytes as [`crate::jsonfmt::pretty`] of
    /// [`Self::to_json`], serialized straight from the fold. The keys of the
    /// borrowed view below are in sorted order, as `to_json` sorts them, and
    /// the maps are `BTreeMap`s (byte order, as Python's `sort_keys`), so no
    /// intermediate `Value` tree is built: at 5,000 WPs that tree and its
    /// sorted copy were most of the cost of writing the file.
    pub fn status_json_bytes(
        &self,
        mission_number: &str,
        mission_type: &str,
        mission_slug: &str,
    ) -> Vec<u8> {
        #[derive(Serialize)]
        struct Doc<'a> {
            event_count: usize,
            last_event_id: &'a Option<String>,
            materialized_at: &'a str,
            mission_number: &'a str,
            mission_slug: &'a str,
            mission_type: &'a str,
            summary: &'a BTreeMap<&'static str, usize>,
            work_packages: &'a BTreeMap<String, WpState>,
        }
        let doc = Doc {
            event_count: self.event_count,
            last_event_id: &self.last_event_id,
            materialized_at: &self.materialized_at,
            mission_number,
            mission_slug: if self.mission_slug.is_empty() {
                mission_slug
            } else {
                &self.mission_slug
            },
            mission_type,
            summary: &self.summary,
            work_packages: &self.work_packages,
        };
        // About 200 bytes per WP entry.
        let mut out = Vec::with_capacity(512 + self.work_packages.len() * 256);
        if serde_json::to_writer_pretty(&mut out, &doc).is_err() {
            // Serializing these types into a Vec cannot fail; keep the old
            // path's answer if it ever did.
            out = b"null".to_vec();
        }
        out.push(b'\n');
        out
    }

    /// The JSON document the reference writes as `status.json`.
    pub fn to_json(&self, mission_number: &str, mission_type: &str) -> serde_json::Value {
        let summary: serde_json::Map<String, serde_json::Value> = self
            .summary
            .iter()
            .map(|(k, v)| (k.to_string(), (*v).into()))
            .collect();
        let wps: serde_json::Map<String, serde_json::Value> = self
            .work_packages
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
            .collect();
        crate::jsonfmt::sorted(&serde_json::json!({
            "event_count": self.event_count,
            "last_event_id": self.last_event_id,
            "materialized_at": self.materialized_at,
            "mission_number": mission_number,
            "mission_slug": self.mission_slug,
            "mission_type": mission_type,
            "summary": summary,
            "work_packages": wps,
        }))
    }
}

/// A fast hasher for event ids (ULIDs) when deduplicating a long log; the
/// default SipHash was a visible share of reading 100,000 events. Flooding
/// your own log with colliding ids only slows your own board down.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn is_rollback(e: &impl EventFields) -> bool {
    e.lane_before() == Lane::ForReview && e.lane_after() == Lane::InProgress && e.has_review_ref()
}

/// Fold events into a snapshot: dedupe by event_id (first wins), order by
/// `(at, event_id)`, last event per WP wins, except that a review rollback beats a
/// forward event with the same timestamp.
pub fn reduce(events: &[StatusEvent]) -> Snapshot {
    reduce_events(events)
}

/// [`reduce`] over owned or borrowed events (see [`super::model::RawEvent`]).
pub fn reduce_events<E: EventFields>(events: &[E]) -> Snapshot {
    fold(events.iter(), events.len())
}

/// [`reduce_events`] over a log read in pieces (the pieces in file order), so
/// they need not be copied into one vector first.
pub fn reduce_pieces<E: EventFields>(pieces: &[Vec<E>]) -> Snapshot {
    fold(pieces.iter().flatten(), pieces.iter().map(Vec::len).sum())
}

/// Does `e` decide its WP's state over `best`, in the order of [`reduce`]?
///
/// Walking a WP's events in `(at, event_id)` order, an event replaces the
/// current one unless the current one is a rollback with the same `at` and
/// the new one is not. So the last one standing is the greatest by
/// `(at, is a rollback, event_id)`: one pass, no sort (event ids are unique
/// after dedupe, so there are no ties).
fn decides_over<E: EventFields>(e: &E, best: &E) -> bool {
    (e.at(), is_rollback(e), e.event_id()) > (best.at(), is_rollback(best), best.event_id())
}

fn fold<'e, E: EventFields + 'e>(events: impl Iterator<Item = &'e E>, len: usize) -> Snapshot {
    let mut seen: HashSet<&str, BuildHasherDefault<IdHasher>> =
        HashSet::with_capacity_and_hasher(len, BuildHasherDefault::default());
    let mut event_count = 0;
    // The first and the last event in `(at, event_id)` order.
    let mut first: Option<&E> = None;
    let mut last: Option<&E> = None;
    // Per WP: the event that decides its state and its force count. States
    // are built once at the end.
    let mut wps: BTreeMap<&str, (&E, u64)> = BTreeMap::new();
    for e in events {
        if !seen.insert(e.event_id()) {
            continue;
        }
        event_count += 1;
        let key = (e.at(), e.event_id());
        if first.is_none_or(|f| key < (f.at(), f.event_id())) {
            first = Some(e);
        }
        if last.is_none_or(|l| key > (l.at(), l.event_id())) {
            last = Some(e);
        }
        let force = u64::from(e.force());
        match wps.get_mut(e.wp_id()) {
            Some((best, force_count)) => {
                *force_count += force;
                if decides_over(e, *best) {
                    *best = e;
                }
            }
            None => {
                wps.insert(e.wp_id(), (e, force));
            }
        }
    }
    let wps: BTreeMap<String, WpState> = wps
        .into_iter()
        .map(|(id, (e, force_count))| {
            (
                id.to_string(),
                WpState {
                    actor: e.actor().to_string(),
                    force_count,
                    lane: e.lane_after(),
                    last_event_id: e.event_id().to_string(),
                    last_transition_at: e.at().to_string(),
                },
            )
        })
        .collect();
    let mut summary: BTreeMap<&'static str, usize> =
        LANES.iter().map(|l| (l.as_str(), 0)).collect();
    for state in wps.values() {
        *summary.entry(state.lane.as_str()).or_default() += 1;
    }
    Snapshot {
        event_count,
        last_event_id: last.map(|e| e.event_id().to_string()),
        materialized_at: last.map(|e| e.at().to_string()).unwrap_or_default(),
        mission_slug: first
            .map(|e| e.mission_slug().to_string())
            .unwrap_or_default(),
        summary,
        work_packages: wps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// status.json as written before [`Snapshot::status_json_bytes`]: the
    /// `Value` tree of `to_json`, its slug filled in, pretty-printed.
    fn status_json_via_value(s: &Snapshot, number: &str, ty: &str, slug: &str) -> Vec<u8> {
        let mut v = s.to_json(number, ty);
        if s.mission_slug.is_empty() {
            v["mission_slug"] = serde_json::Value::String(slug.to_string());
        }
        crate::jsonfmt::pretty(&v).into_bytes()
    }

    #[test]
    fn status_json_bytes_match_the_value_serialization() {
        let odd = [
            "",
            "WP01",
            "wp\"q\"",
            "a\\b",
            "é",
            "😀",
            "\u{1}",
            "\u{7f}",
            "\u{2028}",
            "tab\there",
            "new\nline",
            "Z",
            "a b",
            "</script>",
            "\u{feff}x",
            "WP0001",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut snaps = vec![Snapshot {
            event_count: 0,
            last_event_id: None,
            materialized_at: String::new(),
            mission_slug: String::new(),
            summary: BTreeMap::new(),
            work_packages: BTreeMap::new(),
        }];
        for size in [1usize, 17, 3000] {
            let mut wps = BTreeMap::new();
            for i in 0..size {
                let pick = |k: u64| odd[k as usize % odd.len()];
                let id = format!("{}{i:04}{}", pick(next(99)), pick(next(99)));
                wps.insert(
                    id,
                    WpState {
                        actor: pick(next(99)).to_string(),
                        force_count: [0, 1, u64::MAX][next(3) as usize],
                        lane: LANES[next(LANES.len() as u64) as usize],
                        last_event_id: format!("01J{}", pick(next(99))),
                        last_transition_at: format!(
                            "2026-01-01T00:00:{:02}+00:00{}",
                            i % 60,
                            pick(next(99))
                        ),
                    },
                );
            }
            let mut summary: BTreeMap<&'static str, usize> =
                LANES.iter().map(|l| (l.as_str(), 0)).collect();
            for st in wps.values() {
                *summary.entry(st.lane.as_str()).or_default() += 1;
            }
            snaps.push(Snapshot {
                event_count: size * 3,
                last_event_id: Some(format!("01K\"{size}é")),
                materialized_at: "2026-01-01T00:00:00+00:00".into(),
                mission_slug: if size == 17 {
                    String::new()
                } else {
                    format!("00{size}-ödd \"slug\"")
                },
                summary,
                work_packages: wps,
            });
        }
        for s in &snaps {
            for (number, ty, slug) in [
                ("001", "software-dev", "001-x"),
                ("", "r\u{e9}search\n", "ünï \\"),
            ] {
                let fast = s.status_json_bytes(number, ty, slug);
                let slow = status_json_via_value(s, number, ty, slug);
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&slow),
                    "{} WPs",
                    s.work_packages.len()
                );
                assert_eq!(fast, slow);
            }
        }
    }

    /// The fold as first written (states updated event by event).
    fn reduce_by_updates(events: &[StatusEvent]) -> BTreeMap<String, WpState> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut unique: Vec<&StatusEvent> = events
            .iter()
            .filter(|e| seen.insert(e.event_id.as_str()))
            .collect();
        unique.sort_by(|a, b| {
            (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
        });
        let mut wps: BTreeMap<String, (WpState, bool)> = BTreeMap::new();
        for e in &unique {
            let force = u64::from(e.force);
            match wps.get_mut(&e.wp_id) {
                Some((state, was_rollback)) => {
                    if *was_rollback && state.last_transition_at == e.at && !is_rollback(*e) {
                        state.force_count += force;
                        continue;
                    }
                    state.actor = e.actor.clone();
                    state.force_count += force;
                    state.lane = e.to_lane;
                    state.last_event_id = e.event_id.clone();
                    state.last_transition_at = e.at.clone();
                    *was_rollback = is_rollback(*e);
                }
                None => {
                    let state = WpState {
                        actor: e.actor.clone(),
                        force_count: force,
                        lane: e.to_lane,
                        last_event_id: e.event_id.clone(),
                        last_transition_at: e.at.clone(),
                    };
                    wps.insert(e.wp_id.clone(), (state, is_rollback(*e)));
                }
            }
        }
        wps.into_iter().map(|(k, (s, _))| (k, s)).collect()
    }

    /// The whole snapshot as the fold computed it before it went one-pass:
    /// dedupe, sort by `(at, event_id)`, walk.
    fn reduce_sorted(events: &[StatusEvent]) -> Snapshot {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut unique: Vec<&StatusEvent> = events
            .iter()
            .filter(|e| seen.insert(e.event_id.as_str()))
            .collect();
        unique.sort_by(|a, b| (a.at(), a.event_id()).cmp(&(b.at(), b.event_id())));
        let wps = reduce_by_updates(events);
        let mut summary: BTreeMap<&'static str, usize> =
            LANES.iter().map(|l| (l.as_str(), 0)).collect();
        for state in wps.values() {
            *summary.entry(state.lane.as_str()).or_default() += 1;
        }
        Snapshot {
            event_count: unique.len(),
            last_event_id: unique.last().map(|e| e.event_id.clone()),
            materialized_at: unique.last().map(|e| e.at.clone()).unwrap_or_default(),
            mission_slug: unique
                .first()
                .map(|e| e.mission_slug.clone())
                .unwrap_or_default(),
            summary,
            work_packages: wps,
        }
    }

    #[test]
    fn fold_matches_event_by_event_updates() {
        let mut seed = 0x1234_5678_9abc_def1u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..300 {
            let events: Vec<StatusEvent> = (0..next(40))
                .map(|_| {
                    let from = LANES[next(9) as usize];
                    let to = LANES[next(9) as usize];
                    StatusEvent {
                        // Few ids and timestamps: duplicates and ties on purpose.
                        event_id: format!("E{}", next(30)),
                        mission_slug: format!("00{}-x", next(3)),
                        wp_id: format!("WP0{}", next(4)),
                        from_lane: if next(3) == 0 { Lane::ForReview } else { from },
                        to_lane: if next(3) == 0 { Lane::InProgress } else { to },
                        at: format!("2026-01-01T00:00:0{}", next(4)),
                        actor: format!("a{}", next(3)),
                        force: next(2) == 0,
                        execution_mode: "worktree".into(),
                        reason: None,
                        review_ref: (next(2) == 0).then(|| "r".to_string()),
                        evidence: None,
                        policy_metadata: None,
                        extra: Default::default(),
                    }
                })
                .collect();
            assert_eq!(reduce(&events).work_packages, reduce_by_updates(&events));
            // Folding the same events read borrowed from their log lines.
            let lines: Vec<String> = events.iter().map(StatusEvent::to_line).collect();
            let raw: Vec<super::super::model::RawEvent> = lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(reduce_events(&raw), reduce(&events));
            // The whole snapshot is the sorted walk's, also read as fold
            // events in pieces (cut anywhere: duplicates across pieces).
            assert_eq!(reduce(&events), reduce_sorted(&events));
            let fold: Vec<super::super::model::FoldEvent> = lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let cut = next(fold.len() as u64 + 1) as usize;
            let pieces = vec![fold[..cut].to_vec(), fold[cut..].to_vec()];
            assert_eq!(reduce_pieces(&pieces), reduce(&events));
        }
    }
}
