//! The lane planner: group work packages into lanes that can run in parallel.
//!
//! The strategy decides which code WPs share a lane: `parallel` (see
//! [`super::parallel`]) follows dependency chains so the mission finishes at its
//! critical path; `components` joins every dependency and every write-scope
//! overlap into one lane (union-find), as the reference does. Lanes are named
//! `lane-a`, `lane-b`, ... in order of their smallest WP id. Planning-artifact
//! WPs all go to `lane-planning`, which runs in the main checkout. A code lane
//! records in `depends_on_lanes` every other lane holding one of its WPs'
//! dependencies, and `parallel_group` is the step at which its first WP can
//! start (see [`super::schedule`]).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{CollapseEvent, CollapseReport, ExecLane, LanesManifest, PLANNING_LANE};
use super::Strategy;
use crate::tasks_md::ownership::{globs_overlap, overlapping_pairs};

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

/// Compute the lanes with the given strategy. WPs are taken in id order;
/// unknown dependencies are ignored here (finalize rejects them before planning).
pub fn plan(wps: &[PlanWp], meta: &PlanMeta, strategy: Strategy) -> LanesManifest {
    let mut sorted: Vec<&PlanWp> = wps.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let planning: Vec<&PlanWp> = sorted.iter().copied().filter(|w| w.planning).collect();
    let (mut groups, collapse_report) = match strategy {
        Strategy::Components => components(&sorted, wps),
        Strategy::Parallel => {
            let groups: Vec<Vec<&PlanWp>> = super::parallel::assign(&sorted)
                .into_iter()
                .map(|lane| lane.into_iter().map(|i| sorted[i]).collect::<Vec<_>>())
                .collect();
            let report = dependency_events(&groups);
            (groups, report)
        }
    };
    // Lanes are named in order of their smallest WP id.
    groups.retain(|g: &Vec<&PlanWp>| !g.is_empty());
    groups.sort_by(|a, b| min_id(a).cmp(min_id(b)));

    let mut lanes: Vec<ExecLane> = Vec::new();
    let mut lane_of: BTreeMap<&str, String> = BTreeMap::new();
    for (n, members) in groups.iter().enumerate() {
        let lane_id = lane_name(n);
        for w in members {
            lane_of.insert(&w.id, lane_id.clone());
        }
        lanes.push(ExecLane {
            lane_id,
            wp_ids: members.iter().map(|w| w.id.clone()).collect(),
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
    // waits for its own dependencies, so it records no lane edges.
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
    let mut manifest = LanesManifest {
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
    };
    // parallel_group: the step at which the lane's first WP can start.
    let starts = super::schedule::start_steps(wps, &manifest).unwrap_or_default();
    for lane in &mut manifest.lanes {
        lane.depends_on_lanes = edges
            .get(&lane.lane_id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        lane.parallel_group = lane
            .wp_ids
            .iter()
            .filter_map(|w| starts.get(w))
            .min()
            .copied()
            .unwrap_or(0) as u32;
    }
    manifest
}

/// The reference's collapse report for lanes that follow dependencies: one
/// `dependency` event per WP that shares a lane with one of its dependencies
/// (the first it declares). No independent WPs ever share a lane.
fn dependency_events(groups: &[Vec<&PlanWp>]) -> Option<CollapseReport> {
    let mut lane_of: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, g) in groups.iter().enumerate() {
        for w in g {
            lane_of.insert(&w.id, n);
        }
    }
    let mut wps: Vec<&PlanWp> = groups.iter().flatten().copied().collect();
    wps.sort_by(|a, b| a.id.cmp(&b.id));
    let events: Vec<CollapseEvent> = wps
        .iter()
        .filter_map(|w| {
            let mine = lane_of.get(w.id.as_str())?;
            let d = w
                .dependencies
                .iter()
                .find(|d| lane_of.get(d.as_str()) == Some(mine))?;
            Some(CollapseEvent {
                wp_a: w.id.clone(),
                wp_b: d.clone(),
                rule: "dependency".into(),
                evidence: format!("{} depends on {d}", w.id),
            })
        })
        .collect();
    (!events.is_empty()).then(|| CollapseReport {
        total_merges: events.len() as u32,
        independent_wps_collapsed: 0,
        by_rule: std::iter::once((
            "dependency".to_string(),
            serde_json::Value::from(events.len() as u32),
        ))
        .collect(),
        events,
    })
}

fn min_id<'a>(g: &[&'a PlanWp]) -> &'a str {
    g.iter().map(|w| w.id.as_str()).min().unwrap_or("")
}

/// The `components` strategy (the reference's grouping): code WPs that depend
/// on each other, or whose write scopes overlap, share a lane (union-find), in
/// dependency order inside it.
fn components<'a>(
    sorted: &[&'a PlanWp],
    wps: &[PlanWp],
) -> (Vec<Vec<&'a PlanWp>>, Option<CollapseReport>) {
    let code: Vec<&PlanWp> = sorted.iter().copied().filter(|w| !w.planning).collect();
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
    let mut reach = Reach::new(wps);
    // Only WP pairs with at least one overlapping glob pair can merge; visiting
    // them in (i, j) order gives the same unions and events as scanning every pair.
    for (i, j) in overlapping_wp_pairs(&code) {
        if uf.find(i) == uf.find(j) {
            // Already one lane: the union below would record nothing.
            continue;
        }
        let pairs: Vec<String> = code[i]
            .owned_files
            .iter()
            .flat_map(|a| code[j].owned_files.iter().map(move |b| (a, b)))
            .filter(|(a, b)| globs_overlap(a, b))
            .map(|(a, b)| format!("'{a}' vs '{b}'"))
            .collect();
        if !pairs.is_empty() && uf.union(i, j) {
            let related = reach.depends_on(&code[i].id, &code[j].id)
                || reach.depends_on(&code[j].id, &code[i].id);
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

    // Groups in order of their smallest member (members are already in id order).
    let mut groups: BTreeMap<usize, Vec<&PlanWp>> = BTreeMap::new();
    for (i, w) in code.iter().enumerate() {
        groups.entry(uf.find(i)).or_default().push(w);
    }
    let groups: Vec<Vec<&PlanWp>> = groups
        .into_values()
        .map(|members| {
            let by_id: BTreeMap<&str, &PlanWp> =
                members.iter().map(|w| (w.id.as_str(), *w)).collect();
            topo_order(&members)
                .iter()
                .filter_map(|id| by_id.get(id.as_str()).copied())
                .collect()
        })
        .collect();
    let collapse_report = (!events.is_empty()).then(|| CollapseReport {
        total_merges: events.len() as u32,
        independent_wps_collapsed: independent,
        by_rule: by_rule
            .into_iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(v)))
            .collect(),
        events,
    });
    (groups, collapse_report)
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
    if out.len() < ids.len() {
        let placed: BTreeSet<String> = out.iter().cloned().collect();
        for i in ids {
            if !placed.contains(i) {
                out.push(i.to_string());
            }
        }
    }
    out
}

/// Pairs `(i, j)`, `i < j`, of WPs (indices into `wps`) that own at least one
/// pair of overlapping globs, in ascending order.
pub fn overlapping_wp_pairs(wps: &[&PlanWp]) -> Vec<(usize, usize)> {
    let mut globs: Vec<&str> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, w) in wps.iter().enumerate() {
        for g in &w.owned_files {
            globs.push(g);
            owner.push(i);
        }
    }
    let mut pairs: Vec<(usize, usize)> = overlapping_pairs(&globs)
        .into_iter()
        .map(|(a, b)| (owner[a], owner[b]))
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
}

/// "Does WP a depend on WP b, directly or transitively?", answered on demand.
///
/// The same relation as [`transitive_deps`], without building every WP's full
/// set of dependency ids up front (quadratic in time and memory on long chains):
/// each WP's reachable set is a bitset, computed by one graph walk the first time
/// that WP is asked about, then kept.
pub struct Reach {
    index: BTreeMap<String, usize>,
    deps: Vec<Vec<usize>>,
    memo: Vec<Option<Vec<u64>>>,
}

impl Reach {
    pub fn new(wps: &[PlanWp]) -> Reach {
        // Later duplicates win, as in `transitive_deps`.
        let index: BTreeMap<String, usize> = wps
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.clone(), i))
            .collect();
        let mut deps = vec![Vec::new(); wps.len()];
        for (i, w) in wps.iter().enumerate() {
            if index.get(&w.id) != Some(&i) {
                continue;
            }
            deps[i] = w
                .dependencies
                .iter()
                .filter_map(|d| index.get(d).copied())
                .collect();
        }
        Reach {
            index,
            memo: vec![None; wps.len()],
            deps,
        }
    }

    /// True when `a` depends on `b` through any chain of known WPs.
    pub fn depends_on(&mut self, a: &str, b: &str) -> bool {
        let (Some(&ia), Some(&ib)) = (self.index.get(a), self.index.get(b)) else {
            return false;
        };
        let words = self.deps.len().div_ceil(64);
        let deps = &self.deps;
        let bits = self.memo[ia].get_or_insert_with(|| {
            let mut seen = vec![0u64; words];
            let mut stack: Vec<usize> = deps[ia].clone();
            while let Some(n) = stack.pop() {
                let (w, bit) = (n / 64, 1u64 << (n % 64));
                if seen[w] & bit == 0 {
                    seen[w] |= bit;
                    stack.extend_from_slice(&deps[n]);
                }
            }
            seen
        });
        bits[ib / 64] & (1u64 << (ib % 64)) != 0
    }
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
            Strategy::Components,
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
            Strategy::Components,
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
            Strategy::Components,
        );
        assert_eq!(m.lanes[0].wp_ids, vec!["WP03", "WP01"]);
        assert_eq!(m.lanes[1].wp_ids, vec!["WP02"]);
    }

    /// The on-demand pieces answer exactly what the full scans they replaced did.
    #[test]
    fn pair_index_and_reach_match_the_full_scans() {
        let mut next = crate::testutil::xorshift(0x9e37_79b9_7f4a_7c15u64);
        let pool = [
            "src/**",
            "src/a/**",
            "src/a/b.rs",
            "src/ab/**",
            "src/*.rs",
            "src/main.rs",
            "tests/**",
            "tests/a.rs",
            "docs/",
            "**",
            "src/a",
            "kitty-specs/001-x/**",
        ];
        for _ in 0..300 {
            let n = 1 + next(14) as usize;
            let wps: Vec<PlanWp> = (0..n)
                .map(|i| PlanWp {
                    id: format!("WP{:02}", i + 1),
                    // Any edges, cycles and unknown ids included.
                    dependencies: (0..next(3))
                        .map(|_| format!("WP{:02}", next(n as u64 + 2) + 1))
                        .collect(),
                    planning: next(5) == 0,
                    owned_files: (0..next(3))
                        .map(|_| pool[next(pool.len() as u64) as usize].to_string())
                        .collect(),
                })
                .collect();
            let refs: Vec<&PlanWp> = wps.iter().collect();
            let mut brute = Vec::new();
            for i in 0..n {
                for j in i + 1..n {
                    if wps[i]
                        .owned_files
                        .iter()
                        .any(|a| wps[j].owned_files.iter().any(|b| globs_overlap(a, b)))
                    {
                        brute.push((i, j));
                    }
                }
            }
            assert_eq!(overlapping_wp_pairs(&refs), brute);
            let closure = transitive_deps(&wps);
            let mut reach = Reach::new(&wps);
            for a in &wps {
                for b in &wps {
                    assert_eq!(
                        reach.depends_on(&a.id, &b.id),
                        closure[&a.id].contains(&b.id),
                        "{} -> {} in {wps:?}",
                        a.id,
                        b.id
                    );
                }
            }
        }
    }

    /// The example: WP01 -> WP02 -> WP04 and WP03 -> WP04. `components`
    /// runs all four in one lane; `parallel` starts WP03 beside WP01.
    #[test]
    fn parallel_runs_independent_work_beside_the_chain() {
        let wps = [
            wp("WP01", &[], false, &["src/a/**"]),
            wp("WP02", &["WP01"], false, &["src/b/**"]),
            wp("WP03", &[], false, &["src/c/**"]),
            wp("WP04", &["WP02", "WP03"], false, &["src/d/**"]),
        ];
        let one = plan(&wps, &meta(), Strategy::Components);
        assert_eq!(one.lanes.len(), 1);
        assert_eq!(super::super::schedule::stats(&wps, &one).makespan, Some(4));
        let m = plan(&wps, &meta(), Strategy::Parallel);
        let ids: Vec<_> = m
            .lanes
            .iter()
            .map(|l| (l.lane_id.as_str(), l.wp_ids.clone(), l.parallel_group))
            .collect();
        assert_eq!(
            ids,
            vec![
                (
                    "lane-a",
                    vec!["WP01".into(), "WP02".into(), "WP04".into()],
                    0
                ),
                ("lane-b", vec!["WP03".to_string()], 0),
            ]
        );
        assert_eq!(m.lanes[0].depends_on_lanes, vec!["lane-b"]);
        assert!(m.lanes[1].depends_on_lanes.is_empty());
        let r = m.collapse_report.clone().unwrap();
        assert_eq!((r.total_merges, r.independent_wps_collapsed), (2, 0));
        let s = super::super::schedule::stats(&wps, &m);
        assert_eq!((s.critical_path, s.makespan, s.handoffs), (3, Some(3), 1));
    }

    /// A diamond keeps its lane graph acyclic: the join goes to the lane that
    /// already waits on the other.
    #[test]
    fn diamond_lanes_do_not_wait_on_each_other() {
        let wps = [
            wp("WP01", &[], false, &["src/a/**"]),
            wp("WP02", &["WP01"], false, &["src/b/**"]),
            wp("WP03", &["WP01"], false, &["src/c/**"]),
            wp("WP04", &["WP02", "WP03"], false, &["src/d/**"]),
        ];
        let m = plan(&wps, &meta(), Strategy::Parallel);
        assert_eq!(m.lanes.len(), 2);
        assert_eq!(m.lanes[0].wp_ids, vec!["WP01", "WP02"]);
        assert_eq!(m.lanes[1].wp_ids, vec!["WP03", "WP04"]);
        assert!(m.lanes[0].depends_on_lanes.is_empty());
        assert_eq!(m.lanes[1].depends_on_lanes, vec!["lane-a"]);
        assert_eq!(m.lanes[1].parallel_group, 1);
    }

    #[test]
    fn names() {
        assert_eq!(lane_name(0), "lane-a");
        assert_eq!(lane_name(25), "lane-z");
        assert_eq!(lane_name(26), "lane-aa");
    }
}
