//! How long a lane plan takes, in the planner's model: every WP is one step of
//! work; a WP starts once its dependencies are done and, in a code lane, once
//! the WP before it in the lane is done (one agent per lane); planning WPs run
//! in the main checkout and wait only for their dependencies.

use std::collections::HashMap;

use serde::Serialize;

use super::model::{LanesManifest, PLANNING_LANE};
use super::parallel::Graph;
use super::plan::PlanWp;

/// Figures of a plan, for finalize, the bench and the tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanStats {
    pub wps: usize,
    /// WPs on the longest dependency chain: no plan finishes in fewer steps.
    pub critical_path: usize,
    /// Steps the plan takes with one agent per lane; None when its lane order
    /// contradicts the dependencies so that some WP can never start.
    pub makespan: Option<usize>,
    /// Code lanes (lane-planning not counted).
    pub lanes: usize,
    /// Dependencies between code WPs in different lanes: each is a hand-off
    /// (the later lane merges the earlier WP's approved commit).
    pub handoffs: usize,
    /// Dependencies between code WPs of one lane.
    pub in_lane: usize,
}

/// The step (0-based) at which each WP starts; None when the lane order
/// deadlocks against the dependencies. WPs in no lane are scheduled like
/// planning WPs.
pub fn start_steps(wps: &[PlanWp], manifest: &LanesManifest) -> Option<HashMap<String, usize>> {
    let refs: Vec<&PlanWp> = wps.iter().collect();
    let g = Graph::new(&refs);
    let n = wps.len();
    let index: HashMap<&str, usize> = wps
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.as_str(), i))
        .collect();
    // The WP before each WP in its code lane.
    let mut prev: Vec<Option<usize>> = vec![None; n];
    for lane in manifest.lanes.iter().filter(|l| l.lane_id != PLANNING_LANE) {
        let mut last: Option<usize> = None;
        for id in &lane.wp_ids {
            if let Some(&i) = index.get(id.as_str()) {
                prev[i] = last;
                last = Some(i);
            }
        }
    }
    let mut waits: Vec<Vec<usize>> = g.deps.clone();
    for (i, p) in prev.iter().enumerate() {
        if let Some(p) = p {
            if !waits[i].contains(p) {
                waits[i].push(*p);
            }
        }
    }
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    for (i, ws) in waits.iter().enumerate() {
        indeg[i] = ws.len();
        for &d in ws {
            users[d].push(i);
        }
    }
    let mut start = vec![0usize; n];
    let mut stack: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = stack.pop() {
        seen += 1;
        start[i] = waits[i].iter().map(|&d| start[d] + 1).max().unwrap_or(0);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                stack.push(u);
            }
        }
    }
    (seen == n).then(|| {
        wps.iter()
            .enumerate()
            .map(|(i, w)| (w.id.clone(), start[i]))
            .collect()
    })
}

/// The figures of `manifest` as a plan for `wps`.
pub fn stats(wps: &[PlanWp], manifest: &LanesManifest) -> PlanStats {
    let refs: Vec<&PlanWp> = wps.iter().collect();
    let g = Graph::new(&refs);
    let critical_path = if wps.is_empty() {
        0
    } else {
        g.levels().into_iter().max().unwrap_or(0) + 1
    };
    let makespan = start_steps(wps, manifest).map(|s| s.values().map(|v| v + 1).max().unwrap_or(0));
    let lane_of: HashMap<&str, &str> = manifest
        .lanes
        .iter()
        .flat_map(|l| {
            l.wp_ids
                .iter()
                .map(move |w| (w.as_str(), l.lane_id.as_str()))
        })
        .collect();
    let (mut handoffs, mut in_lane) = (0, 0);
    for (i, w) in wps.iter().enumerate() {
        if g.planning[i] {
            continue;
        }
        for &d in &g.deps[i] {
            if g.planning[d] {
                continue;
            }
            match (lane_of.get(w.id.as_str()), lane_of.get(wps[d].id.as_str())) {
                (Some(a), Some(b)) if a == b => in_lane += 1,
                _ => handoffs += 1,
            }
        }
    }
    PlanStats {
        wps: wps.len(),
        critical_path,
        makespan,
        lanes: manifest
            .lanes
            .iter()
            .filter(|l| l.lane_id != PLANNING_LANE)
            .count(),
        handoffs,
        in_lane,
    }
}

/// The largest set of code WPs no two of which are ordered by a dependency
/// (directly or through other WPs, planning ones included): the most code WPs
/// that can ever run at once. Dilworth: code WPs minus a maximum matching in
/// the comparability graph. Quadratic memory; for tests and the bench.
pub fn widest_parallel_set(wps: &[PlanWp]) -> usize {
    let refs: Vec<&PlanWp> = wps.iter().collect();
    let g = Graph::new(&refs);
    let n = wps.len();
    let words = n.div_ceil(64).max(1);
    // below[i]: every WP that (transitively) depends on i.
    let mut below = vec![vec![0u64; words]; n];
    for &i in g.order.iter().rev() {
        let mut set = vec![0u64; words];
        for &u in &g.dependents[i] {
            set[u / 64] |= 1u64 << (u % 64);
            for (k, x) in below[u].iter().enumerate() {
                set[k] |= x;
            }
        }
        below[i] = set;
    }
    let code: Vec<usize> = (0..n).filter(|&i| !g.planning[i]).collect();
    let adj: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            if g.planning[i] {
                return Vec::new();
            }
            code.iter()
                .copied()
                .filter(|&j| below[i][j / 64] & (1u64 << (j % 64)) != 0)
                .collect()
        })
        .collect();
    let mut matched_to: Vec<Option<usize>> = vec![None; n];
    fn augment(
        i: usize,
        adj: &[Vec<usize>],
        seen: &mut [bool],
        matched_to: &mut [Option<usize>],
    ) -> bool {
        for &j in &adj[i] {
            if seen[j] {
                continue;
            }
            seen[j] = true;
            if matched_to[j].is_none_or(|k| augment(k, adj, seen, matched_to)) {
                matched_to[j] = Some(i);
                return true;
            }
        }
        false
    }
    let mut matching = 0;
    for &i in &code {
        let mut seen = vec![false; n];
        if augment(i, &adj, &mut seen, &mut matched_to) {
            matching += 1;
        }
    }
    code.len() - matching
}
