//! The lane planner: group work packages into lanes that can run in parallel.
//!
//! Code WPs that depend on each other, or whose write scopes overlap, share a
//! lane (union-find); every other group gets its own lane, `lane-a`, `lane-b`,
//! ... in order of their smallest WP id. Planning-artifact WPs all go to
//! `lane-planning`, which runs in the main checkout. A code lane that depends on
//! planning work records it in `depends_on_lanes`, and `parallel_group` is the
//! lane's depth in the lane graph, so a lane never starts before its inputs.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{CollapseEvent, CollapseReport, ExecLane, LanesManifest, PLANNING_LANE};
use crate::tasks_md::ownership::globs_overlap;

/// What the planner needs to know about one WP.
#[derive(Debug, Clone)]
pub struct PlanWp {
    pub id: String,
    pub dependencies: Vec<String>,
    pub planning: bool,
    pub owned_files: Vec<String>,
}

/// Identity fields copied into the manifest.
#[derive(Debug, Clone)]
pub struct PlanMeta {
    pub mission_slug: String,
    pub mission_id: String,
    pub target_branch: String,
    pub computed_at: String,
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    /// Join two sets; false when they were already one.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi] = lo;
        true
    }
}

/// Compute the lanes. WPs are taken in id order; unknown dependencies are
/// ignored here (finalize rejects them before planning).
pub fn plan(wps: &[PlanWp], meta: &PlanMeta) -> LanesManifest {
    let mut sorted: Vec<&PlanWp> = wps.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let code: Vec<&PlanWp> = sorted.iter().copied().filter(|w| !w.planning).collect();
    let planning: Vec<&PlanWp> = sorted.iter().copied().filter(|w| w.planning).collect();
    let index: BTreeMap<&str, usize> = code
        .iter()
        .enumerate()
        .map(|(i, w)| (w.id.as_str(), i))
        .collect();

    let mut uf = UnionFind {
        parent: (0..code.len()).collect(),
    };
    let mut events = Vec::new();
    let mut by_rule: BTreeMap<&str, u32> = BTreeMap::new();
    for (i, w) in code.iter().enumerate() {
        for d in &w.dependencies {
            if let Some(&j) = index.get(d.as_str()) {
                if uf.union(i, j) {
                    events.push(CollapseEvent {
                        wp_a: w.id.clone(),
                        wp_b: d.clone(),
                        rule: "dependency".into(),
                        evidence: format!("{} depends on {d}", w.id),
                    });
                    *by_rule.entry("dependency").or_default() += 1;
                }
            }
        }
    }
    let mut independent = 0;
    let closure = transitive_deps(wps);
    for i in 0..code.len() {
        for j in i + 1..code.len() {
            let pairs: Vec<String> = code[i]
                .owned_files
                .iter()
                .flat_map(|a| code[j].owned_files.iter().map(move |b| (a, b)))
                .filter(|(a, b)| globs_overlap(a, b))
                .map(|(a, b)| format!("'{a}' vs '{b}'"))
                .collect();
            if !pairs.is_empty() && uf.union(i, j) {
                let related = closure
                    .get(&code[i].id)
                    .is_some_and(|s| s.contains(&code[j].id))
                    || closure
                        .get(&code[j].id)
                        .is_some_and(|s| s.contains(&code[i].id));
                if !related {
                    independent += 1;
                }
                events.push(CollapseEvent {
                    wp_a: code[i].id.clone(),
                    wp_b: code[j].id.clone(),
                    rule: "write_scope_overlap".into(),
                    evidence: format!("overlapping globs: {}", pairs.join(", ")),
                });
                *by_rule.entry("write_scope_overlap").or_default() += 1;
            }
        }
    }

    // Groups in order of their smallest member (members are already in id order).
    let mut groups: BTreeMap<usize, Vec<&PlanWp>> = BTreeMap::new();
    for (i, w) in code.iter().enumerate() {
        groups.entry(uf.find(i)).or_default().push(w);
    }
    let mut lanes: Vec<ExecLane> = Vec::new();
    let mut lane_of: BTreeMap<&str, String> = BTreeMap::new();
    for (n, members) in groups.values().enumerate() {
        let lane_id = lane_name(n);
        for w in members {
            lane_of.insert(&w.id, lane_id.clone());
        }
        lanes.push(ExecLane {
            lane_id,
            wp_ids: topo_order(members),
            write_scope: scope(members),
            predicted_surfaces: Vec::new(),
            depends_on_lanes: Vec::new(),
            parallel_group: 0,
        });
    }
    if !planning.is_empty() {
        for w in &planning {
            lane_of.insert(&w.id, PLANNING_LANE.to_string());
        }
        lanes.push(ExecLane {
            lane_id: PLANNING_LANE.into(),
            wp_ids: planning.iter().map(|w| w.id.clone()).collect(),
            write_scope: scope(&planning),
            predicted_surfaces: vec!["planning".into()],
            depends_on_lanes: Vec::new(),
            parallel_group: 0,
        });
    }

    // Lane edges: a code lane depends on every other lane holding one of its WPs'
    // dependencies. The planning lane runs in the main checkout and each of its WPs
    // waits for its own dependencies, so it records no lane edges (and the lane
    // graph stays acyclic).
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for w in &sorted {
        let Some(mine) = lane_of.get(w.id.as_str()) else {
            continue;
        };
        if mine == PLANNING_LANE {
            continue;
        }
        for d in &w.dependencies {
            if let Some(theirs) = lane_of.get(d.as_str()) {
                if theirs != mine {
                    edges
                        .entry(mine.clone())
                        .or_default()
                        .insert(theirs.clone());
                }
            }
        }
    }
    let mut depth: BTreeMap<String, u32> = BTreeMap::new();
    for lane in &lanes {
        lane_depth(&lane.lane_id, &edges, &mut depth, &mut BTreeSet::new());
    }
    for lane in &mut lanes {
        lane.depends_on_lanes = edges
            .get(&lane.lane_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        lane.parallel_group = depth.get(&lane.lane_id).copied().unwrap_or(0);
    }

    let collapse_report = (!events.is_empty()).then(|| CollapseReport {
        total_merges: events.len() as u32,
        independent_wps_collapsed: independent,
        by_rule: by_rule
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(v)))
            .collect(),
        events,
    });
    LanesManifest {
        version: 1,
        mission_slug: meta.mission_slug.clone(),
        mission_id: meta.mission_id.clone(),
        mission_branch: format!("kitty/mission-{}", meta.mission_slug),
        target_branch: meta.target_branch.clone(),
        lanes,
        computed_at: meta.computed_at.clone(),
        computed_from: "dependency_graph+ownership".into(),
        planning_artifact_wps: planning.iter().map(|w| w.id.clone()).collect(),
        collapse_report,
    }
}

/// `lane-a` ... `lane-z`, then `lane-aa`, `lane-ab`, ...
pub fn lane_name(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    format!("lane-{}", String::from_utf8_lossy(&s))
}

fn scope(members: &[&PlanWp]) -> Vec<String> {
    let set: BTreeSet<&String> = members.iter().flat_map(|w| &w.owned_files).collect();
    set.into_iter().cloned().collect()
}

/// Kahn's algorithm within a lane; ties break by id.
fn topo_order(members: &[&PlanWp]) -> Vec<String> {
    let ids: BTreeSet<&str> = members.iter().map(|w| w.id.as_str()).collect();
    let mut indeg: BTreeMap<&str, usize> = ids.iter().map(|&i| (i, 0)).collect();
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for w in members {
        for d in &w.dependencies {
            if ids.contains(d.as_str()) && d != &w.id {
                *indeg.entry(&w.id).or_default() += 1;
                users.entry(d.as_str()).or_default().push(&w.id);
            }
        }
    }
    let mut ready: BTreeSet<&str> = indeg
        .iter()
        .filter(|(_, &n)| n == 0)
        .map(|(&i, _)| i)
        .collect();
    let mut out = Vec::new();
    while let Some(next) = ready.pop_first() {
        out.push(next.to_string());
        for &u in users.get(next).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(n) = indeg.get_mut(u) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(u);
                }
            }
        }
    }
    // A cycle (rejected before planning) would leave members out: keep them, in id order.
    for i in ids {
        if !out.iter().any(|o| o == i) {
            out.push(i.to_string());
        }
    }
    out
}

fn lane_depth(
    lane: &str,
    edges: &BTreeMap<String, BTreeSet<String>>,
    memo: &mut BTreeMap<String, u32>,
    visiting: &mut BTreeSet<String>,
) -> u32 {
    if let Some(&d) = memo.get(lane) {
        return d;
    }
    if !visiting.insert(lane.to_string()) {
        return 0;
    }
    let d = edges
        .get(lane)
        .map(|deps| {
            deps.iter()
                .map(|m| lane_depth(m, edges, memo, visiting) + 1)
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    visiting.remove(lane);
    memo.insert(lane.to_string(), d);
    d
}

/// Every WP's transitive dependencies.
pub fn transitive_deps(wps: &[PlanWp]) -> BTreeMap<String, BTreeSet<String>> {
    let direct: BTreeMap<&str, &Vec<String>> = wps
        .iter()
        .map(|w| (w.id.as_str(), &w.dependencies))
        .collect();
    let mut out = BTreeMap::new();
    for w in wps {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = w.dependencies.iter().map(String::as_str).collect();
        while let Some(d) = stack.pop() {
            if seen.insert(d.to_string()) {
                if let Some(next) = direct.get(d) {
                    stack.extend(next.iter().map(String::as_str));
                }
            }
        }
        out.insert(w.id.clone(), seen);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wp(id: &str, deps: &[&str], planning: bool, owned: &[&str]) -> PlanWp {
        PlanWp {
            id: id.into(),
            dependencies: deps.iter().map(|s| s.to_string()).collect(),
            planning,
            owned_files: owned.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn meta() -> PlanMeta {
        PlanMeta {
            mission_slug: "001-x".into(),
            mission_id: "ID".into(),
            target_branch: "main".into(),
            computed_at: "now".into(),
        }
    }

    #[test]
    fn reference_fixture_shape() {
        let m = plan(
            &[
                wp("WP01", &[], false, &["src/gamma/**"]),
                wp("WP02", &[], true, &["kitty-specs/001-x/**"]),
                wp("WP03", &[], false, &["src/delta/**"]),
                wp("WP04", &["WP01"], false, &["tests/gamma/**"]),
            ],
            &meta(),
        );
        let ids: Vec<_> = m
            .lanes
            .iter()
            .map(|l| (l.lane_id.as_str(), l.wp_ids.clone()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("lane-a", vec!["WP01".to_string(), "WP04".into()]),
                ("lane-b", vec!["WP03".to_string()]),
                ("lane-planning", vec!["WP02".to_string()]),
            ]
        );
        assert_eq!(
            m.lanes[0].write_scope,
            vec!["src/gamma/**", "tests/gamma/**"]
        );
        let r = m.collapse_report.unwrap();
        assert_eq!(r.total_merges, 1);
        assert_eq!(r.events[0].evidence, "WP04 depends on WP01");
        assert_eq!(m.planning_artifact_wps, vec!["WP02"]);
    }

    #[test]
    fn code_lane_waits_for_planning_lane() {
        let m = plan(
            &[
                wp("WP01", &[], true, &["kitty-specs/001-x/**"]),
                wp("WP02", &["WP01"], false, &["src/a/**"]),
            ],
            &meta(),
        );
        assert_eq!(m.lanes[0].depends_on_lanes, vec!["lane-planning"]);
        assert_eq!(m.lanes[0].parallel_group, 1);
        assert!(m.collapse_report.is_none());
    }

    #[test]
    fn topo_order_inside_lane() {
        let m = plan(
            &[
                wp("WP01", &["WP03"], false, &["src/a/**"]),
                wp("WP02", &[], false, &["src/b/**"]),
                wp("WP03", &[], false, &["src/c/**"]),
            ],
            &meta(),
        );
        assert_eq!(m.lanes[0].wp_ids, vec!["WP03", "WP01"]);
        assert_eq!(m.lanes[1].wp_ids, vec!["WP02"]);
    }

    #[test]
    fn names() {
        assert_eq!(lane_name(0), "lane-a");
        assert_eq!(lane_name(25), "lane-z");
        assert_eq!(lane_name(26), "lane-aa");
    }
}
