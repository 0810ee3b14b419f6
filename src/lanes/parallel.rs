//! The `parallel` strategy: lanes that finish a mission in as many steps as its
//! longest dependency chain.
//!
//! Every WP has an earliest step it can start at (its depth in the dependency
//! graph: 0 without dependencies, else one more than its deepest dependency).
//! Each lane is a chain of WPs in which every WP depends, directly or through
//! others, on the one before it; so the WPs of a lane sit at strictly
//! increasing steps, and with one agent per lane every WP starts at its
//! earliest step: the makespan is the critical path.
//!
//! The lanes are as few as such chains can be: as many as the widest set of
//! WPs that can all run at once. Within that, a lane follows direct
//! dependencies where it can, so few dependencies cross lanes, and avoids joins
//! that would make two lanes wait on each other.

use std::cmp::Reverse;

use super::plan::PlanWp;

/// A dependency graph over WPs given in a fixed order (indices into it).
pub(crate) struct Graph {
    pub deps: Vec<Vec<usize>>,
    pub dependents: Vec<Vec<usize>>,
    pub planning: Vec<bool>,
    /// Topological order; WPs on a cycle (rejected before planning) come last.
    pub order: Vec<usize>,
}

impl Graph {
    pub fn new(wps: &[&PlanWp]) -> Graph {
        let index: std::collections::HashMap<&str, usize> = wps
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id.as_str(), i))
            .collect();
        let n = wps.len();
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, w) in wps.iter().enumerate() {
            let mut mine: Vec<usize> = w
                .dependencies
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&j| j != i)
                .collect();
            mine.sort_unstable();
            mine.dedup();
            for &j in &mine {
                dependents[j].push(i);
            }
            deps.push(mine);
        }
        let mut indeg: Vec<usize> = deps.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<usize> =
            (0..n).filter(|&i| indeg[i] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(i) = ready.pop_first() {
            order.push(i);
            for &u in &dependents[i] {
                indeg[u] -= 1;
                if indeg[u] == 0 {
                    ready.insert(u);
                }
            }
        }
        if order.len() < n {
            let mut placed = vec![false; n];
            for &i in &order {
                placed[i] = true;
            }
            order.extend((0..n).filter(|&i| !placed[i]));
        }
        Graph {
            deps,
            dependents,
            planning: wps.iter().map(|w| w.planning).collect(),
            order,
        }
    }

    /// Earliest step of every WP: 0 without dependencies, else one more than
    /// the latest of its dependencies (dependencies on a cycle count as 0).
    pub fn levels(&self) -> Vec<usize> {
        let n = self.deps.len();
        let mut level = vec![0usize; n];
        let mut done = vec![false; n];
        for &i in &self.order {
            level[i] = self.deps[i]
                .iter()
                .filter(|&&d| done[d])
                .map(|&d| level[d] + 1)
                .max()
                .unwrap_or(0);
            done[i] = true;
        }
        level
    }

    /// The number of WPs on the longest chain starting at each WP.
    fn heights(&self) -> Vec<usize> {
        let n = self.deps.len();
        let mut h = vec![1usize; n];
        let mut done = vec![false; n];
        for &i in self.order.iter().rev() {
            h[i] = 1 + self.dependents[i]
                .iter()
                .filter(|&&u| done[u])
                .map(|&u| h[u])
                .max()
                .unwrap_or(0);
            done[i] = true;
        }
        h
    }
}

/// Lanes of code WPs (indices into `wps`, in run order) for the `parallel`
/// strategy. Planning WPs take part in the ordering but get no code lane.
///
/// A lane is a chain: each WP in it depends (directly or through other WPs) on
/// the one before it, so a lane never makes a WP wait for unrelated work, and
/// every WP can run at its earliest step. The fewest such chains covering the
/// code WPs is the size of the widest set of WPs that can run at once
/// (Dilworth), found as a maximum matching "WP -> next WP in its lane" over the
/// dependency order. The matching starts greedy, from direct dependencies
/// (a lane follows a dependency chain, so few dependencies cross lanes, and
/// joins that would make two lanes wait on each other are avoided), and is then
/// completed by augmenting paths.
pub(crate) fn assign(wps: &[&PlanWp]) -> Vec<Vec<usize>> {
    let g = Graph::new(wps);
    let n = wps.len();
    let level = g.levels();
    let height = g.heights();
    let words = n.div_ceil(64).max(1);
    let has = |set: &[u64], i: usize| set[i / 64] & (1u64 << (i % 64)) != 0;

    // later[i]: the code WPs that depend on i, directly or through any WPs.
    let mut later = vec![0u64; n * words];
    for &i in g.order.iter().rev() {
        let mut set = vec![0u64; words];
        for &u in &g.dependents[i] {
            if !g.planning[u] {
                set[u / 64] |= 1u64 << (u % 64);
            }
            for (k, x) in later[u * words..(u + 1) * words].iter().enumerate() {
                set[k] |= x;
            }
        }
        later[i * words..(i + 1) * words].copy_from_slice(&set);
    }
    let later_of = |i: usize| &later[i * words..(i + 1) * words];

    let mut code: Vec<usize> = (0..n).filter(|&i| !g.planning[i]).collect();
    code.sort_by_key(|&i| (level[i], Reverse(height[i]), i));

    // Greedy: each WP continues the lane of one of its direct dependencies that
    // is still the last of its lane.
    let mut next = vec![usize::MAX; n];
    let mut prev = vec![usize::MAX; n];
    let mut lane_of = vec![usize::MAX; n];
    let mut lane_count = 0usize;
    // waits[L]: lanes L waits on, directly or through others (grown as needed).
    let mut waits: Vec<Vec<u64>> = Vec::new();
    let lane_bit =
        |set: &Vec<u64>, l: usize| set.get(l / 64).is_some_and(|w| w & (1u64 << (l % 64)) != 0);
    for &w in &code {
        let dep_lanes: Vec<usize> = g.deps[w]
            .iter()
            .filter(|&&d| !g.planning[d] && lane_of[d] != usize::MAX)
            .map(|&d| lane_of[d])
            .collect();
        let safe = |l: usize, waits: &Vec<Vec<u64>>| {
            dep_lanes.iter().all(|&m| m == l || !lane_bit(&waits[m], l))
        };
        let pick = g.deps[w]
            .iter()
            .copied()
            .filter(|&d| !g.planning[d] && lane_of[d] != usize::MAX && next[d] == usize::MAX)
            .max_by_key(|&d| {
                let l = lane_of[d];
                (
                    safe(l, &waits),
                    level[d] + 1 == level[w],
                    dep_lanes.iter().filter(|&&m| m == l).count(),
                    Reverse(d),
                )
            });
        let lane = match pick {
            Some(d) => {
                next[d] = w;
                prev[w] = d;
                lane_of[d]
            }
            None => {
                lane_count += 1;
                waits.push(Vec::new());
                lane_count - 1
            }
        };
        lane_of[w] = lane;
        for &m in &dep_lanes {
            if m == lane || lane_bit(&waits[lane], m) {
                continue;
            }
            let mut add = waits[m].clone();
            let need = (lane_count.div_ceil(64)).max(1);
            add.resize(need, 0);
            add[m / 64] |= 1u64 << (m % 64);
            for (x, wx) in waits.iter_mut().enumerate() {
                if x == lane || lane_bit(wx, lane) {
                    wx.resize(need, 0);
                    for (k, a) in add.iter().enumerate() {
                        wx[k] |= a;
                    }
                }
            }
        }
    }

    // Augmenting paths (Kuhn), iteratively: a lane's last WP tries to hand on
    // to a WP that depends on it, taking it from another lane if that lane can
    // hand on elsewhere. Direct dependents are tried first. A search that
    // fails leaves its marks: what it saw cannot lead anywhere until the
    // matching changes, so only a success clears them.
    struct Frame {
        left: usize,
        direct: usize,
        word: usize,
        bits: u64,
    }
    let mut seen = vec![0u64; words];
    let mut stack: Vec<Frame> = Vec::new();
    for &start in &code {
        if next[start] != usize::MAX {
            continue;
        }
        stack.clear();
        stack.push(Frame {
            left: start,
            direct: 0,
            word: 0,
            bits: 0,
        });
        let mut found: Option<usize> = None;
        while let Some(f) = stack.last_mut() {
            let i = f.left;
            // The next candidate of this frame, if any.
            let j = if f.direct < g.dependents[i].len() {
                let u = g.dependents[i][f.direct];
                f.direct += 1;
                if g.planning[u] {
                    continue;
                }
                Some(u)
            } else {
                let row = later_of(i);
                while f.bits == 0 && f.word < words {
                    f.bits = row[f.word] & !seen[f.word];
                    f.word += 1;
                }
                if f.bits == 0 {
                    None
                } else {
                    let j = (f.word - 1) * 64 + f.bits.trailing_zeros() as usize;
                    f.bits &= f.bits - 1;
                    Some(j)
                }
            };
            let Some(j) = j else {
                stack.pop();
                continue;
            };
            if has(&seen, j) {
                continue;
            }
            seen[j / 64] |= 1u64 << (j % 64);
            if prev[j] == usize::MAX {
                found = Some(j);
                break;
            }
            stack.push(Frame {
                left: prev[j],
                direct: 0,
                word: 0,
                bits: 0,
            });
        }
        if let Some(mut j) = found {
            // Flip the path: the deepest WP takes the free one, and each WP
            // above it on the path takes the one its child gave up.
            while let Some(f) = stack.pop() {
                let old = next[f.left];
                next[f.left] = j;
                prev[j] = f.left;
                j = old;
                if j == usize::MAX {
                    break;
                }
            }
            seen.fill(0);
        }
    }

    // The chains, from each lane's first WP.
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    for &w in &code {
        if prev[w] != usize::MAX {
            continue;
        }
        let mut chain = vec![w];
        let mut at = w;
        while next[at] != usize::MAX {
            at = next[at];
            chain.push(at);
        }
        lanes.push(chain);
    }
    lanes
}
