use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::model::{Lane, StatusEvent, LANES};

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

impl Snapshot {
    pub fn lane_of(&self, wp_id: &str) -> Option<Lane> {
        self.work_packages.get(wp_id).map(|s| s.lane)
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

fn is_rollback(e: &StatusEvent) -> bool {
    e.from_lane == Lane::ForReview && e.to_lane == Lane::InProgress && e.review_ref.is_some()
}

/// Fold events into a snapshot: dedupe by event_id (first wins), order by
/// `(at, event_id)`, last event per WP wins, except that a review rollback beats a
/// forward event with the same timestamp.
pub fn reduce(events: &[StatusEvent]) -> Snapshot {
    let mut seen: HashSet<&str> = HashSet::with_capacity(events.len());
    let mut unique: Vec<&StatusEvent> = Vec::with_capacity(events.len());
    for e in events {
        if seen.insert(e.event_id.as_str()) {
            unique.push(e);
        }
    }
    unique.sort_by(|a, b| {
        (a.at.as_str(), a.event_id.as_str()).cmp(&(b.at.as_str(), b.event_id.as_str()))
    });

    let mut wps: BTreeMap<String, (WpState, bool)> = BTreeMap::new();
    for e in &unique {
        let force = u64::from(e.force);
        match wps.get_mut(&e.wp_id) {
            Some((state, was_rollback)) => {
                if *was_rollback && state.last_transition_at == e.at && !is_rollback(e) {
                    state.force_count += force;
                    continue;
                }
                state.actor = e.actor.clone();
                state.force_count += force;
                state.lane = e.to_lane;
                state.last_event_id = e.event_id.clone();
                state.last_transition_at = e.at.clone();
                *was_rollback = is_rollback(e);
            }
            None => {
                wps.insert(
                    e.wp_id.clone(),
                    (
                        WpState {
                            actor: e.actor.clone(),
                            force_count: force,
                            lane: e.to_lane,
                            last_event_id: e.event_id.clone(),
                            last_transition_at: e.at.clone(),
                        },
                        is_rollback(e),
                    ),
                );
            }
        }
    }
    let mut summary: BTreeMap<&'static str, usize> =
        LANES.iter().map(|l| (l.as_str(), 0)).collect();
    for (state, _) in wps.values() {
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
        work_packages: wps.into_iter().map(|(k, (s, _))| (k, s)).collect(),
    }
}
