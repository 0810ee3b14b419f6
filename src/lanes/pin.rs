//! A re-plan never moves started work: a work package that was claimed (or got
//! further) keeps the lane it was started in, because that lane's worktree and
//! branch hold its work. [`keep_started`] renames the lanes of a fresh plan so
//! every started work package keeps its lane id, or names the work packages
//! when no naming can (two started lanes joined, one started lane split, work
//! moved into or out of the planning lane).

use std::collections::{BTreeMap, BTreeSet};

use super::model::{LanesManifest, PLANNING_LANE};
use super::plan::lane_name;

/// A started work package and the lane its work is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub wp_id: String,
    /// Its lane in the manifest it was started under.
    pub lane_id: String,
    /// Its status lane (`claimed`, `in_progress`, ...), for the message.
    pub status: String,
}

/// Why the new plan cannot keep every started work package in its lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinConflict {
    /// One line per problem, naming the work packages and their lanes.
    pub problems: Vec<String>,
}

fn shown(s: &Started) -> String {
    format!("{} ({} in {})", s.wp_id, s.status, s.lane_id)
}

/// Rename `manifest`'s lanes so each started work package keeps its lane id.
/// Lanes holding no started work take the first free names in their order. A
/// plan that already keeps them is left exactly as it is.
pub fn keep_started(manifest: &mut LanesManifest, started: &[Started]) -> Result<(), PinConflict> {
    let lane_of: BTreeMap<&str, usize> = manifest
        .lanes
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.wp_ids.iter().map(move |w| (w.as_str(), i)))
        .collect();
    let mut problems = Vec::new();
    // New lane index -> the started WP that names it; old lane -> its index.
    let mut want: BTreeMap<usize, &Started> = BTreeMap::new();
    let mut taken: BTreeMap<&str, (usize, &Started)> = BTreeMap::new();
    for s in started {
        let Some(&i) = lane_of.get(s.wp_id.as_str()) else {
            continue;
        };
        let now = manifest.lanes[i].lane_id.as_str();
        let was_planning = s.lane_id == PLANNING_LANE;
        if was_planning != (now == PLANNING_LANE) {
            problems.push(format!(
                "{} would move to {now}: planning work runs in the main checkout, code work in a lane worktree",
                shown(s)
            ));
            continue;
        }
        if was_planning {
            continue;
        }
        if let Some(other) = want.get(&i) {
            if other.lane_id != s.lane_id {
                problems.push(format!(
                    "{} and {} would share one lane; their work is in two worktrees",
                    shown(other),
                    shown(s)
                ));
            }
            continue;
        }
        if let Some((j, other)) = taken.get(s.lane_id.as_str()) {
            if *j != i {
                problems.push(format!(
                    "{} and {} would be split into two lanes; their work is in one worktree",
                    shown(other),
                    shown(s)
                ));
                continue;
            }
        }
        want.insert(i, s);
        taken.insert(s.lane_id.as_str(), (i, s));
    }
    if !problems.is_empty() {
        return Err(PinConflict { problems });
    }
    if want
        .iter()
        .all(|(i, s)| manifest.lanes[*i].lane_id == s.lane_id)
    {
        return Ok(());
    }
    let reserved: BTreeSet<&str> = taken.keys().copied().collect();
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    let mut n = 0;
    for (i, lane) in manifest.lanes.iter().enumerate() {
        if lane.lane_id == PLANNING_LANE {
            continue;
        }
        let name = match want.get(&i) {
            Some(s) => s.lane_id.clone(),
            None => loop {
                let candidate = lane_name(n);
                n += 1;
                if !reserved.contains(candidate.as_str()) {
                    break candidate;
                }
            },
        };
        renames.insert(lane.lane_id.clone(), name);
    }
    for lane in &mut manifest.lanes {
        if let Some(new) = renames.get(&lane.lane_id) {
            lane.lane_id = new.clone();
        }
        for d in &mut lane.depends_on_lanes {
            if let Some(new) = renames.get(d) {
                *d = new.clone();
            }
        }
        lane.depends_on_lanes.sort();
    }
    manifest.lanes.sort_by(|a, b| {
        (a.lane_id == PLANNING_LANE, a.lane_id.len(), &a.lane_id).cmp(&(
            b.lane_id == PLANNING_LANE,
            b.lane_id.len(),
            &b.lane_id,
        ))
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::ExecLane;

    fn lane(id: &str, wps: &[&str], deps: &[&str]) -> ExecLane {
        ExecLane {
            lane_id: id.into(),
            wp_ids: wps.iter().map(|w| w.to_string()).collect(),
            write_scope: Vec::new(),
            predicted_surfaces: Vec::new(),
            depends_on_lanes: deps.iter().map(|d| d.to_string()).collect(),
            parallel_group: 0,
        }
    }

    fn manifest(lanes: Vec<ExecLane>) -> LanesManifest {
        LanesManifest {
            version: 1,
            mission_slug: "001-x".into(),
            mission_id: String::new(),
            mission_branch: String::new(),
            target_branch: "main".into(),
            lanes,
            computed_at: String::new(),
            computed_from: String::new(),
            planning_artifact_wps: Vec::new(),
            collapse_report: None,
        }
    }

    fn started(wp: &str, lane: &str) -> Started {
        Started {
            wp_id: wp.into(),
            lane_id: lane.into(),
            status: "in_progress".into(),
        }
    }

    fn ids(m: &LanesManifest) -> Vec<(String, Vec<String>, Vec<String>)> {
        m.lanes
            .iter()
            .map(|l| {
                (
                    l.lane_id.clone(),
                    l.wp_ids.clone(),
                    l.depends_on_lanes.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_started_wp_keeps_its_lane_and_the_others_take_free_names() {
        let mut m = manifest(vec![
            lane("lane-a", &["WP01", "WP03"], &[]),
            lane("lane-b", &["WP02"], &["lane-a"]),
        ]);
        keep_started(&mut m, &[started("WP03", "lane-c")]).unwrap();
        assert_eq!(
            ids(&m),
            vec![
                ("lane-a".into(), vec!["WP02".into()], vec!["lane-c".into()]),
                ("lane-c".into(), vec!["WP01".into(), "WP03".into()], vec![]),
            ]
        );
    }

    #[test]
    fn a_plan_that_keeps_them_is_unchanged() {
        let before = manifest(vec![
            lane("lane-a", &["WP01"], &[]),
            lane("lane-b", &["WP02"], &["lane-a"]),
        ]);
        let mut m = before.clone();
        keep_started(&mut m, &[started("WP02", "lane-b")]).unwrap();
        assert_eq!(m, before);
    }

    #[test]
    fn joined_split_and_planning_moves_are_refused_naming_the_wps() {
        let mut m = manifest(vec![lane("lane-a", &["WP01", "WP02"], &[])]);
        let e = keep_started(
            &mut m,
            &[started("WP01", "lane-a"), started("WP02", "lane-b")],
        )
        .unwrap_err();
        assert!(
            e.problems[0].contains("WP01") && e.problems[0].contains("WP02"),
            "{e:?}"
        );
        let mut m = manifest(vec![
            lane("lane-a", &["WP01"], &[]),
            lane("lane-b", &["WP02"], &[]),
        ]);
        let e = keep_started(
            &mut m,
            &[started("WP01", "lane-a"), started("WP02", "lane-a")],
        )
        .unwrap_err();
        assert!(e.problems[0].contains("split"), "{e:?}");
        let mut m = manifest(vec![lane(PLANNING_LANE, &["WP01"], &[])]);
        let e = keep_started(&mut m, &[started("WP01", "lane-a")]).unwrap_err();
        assert!(e.problems[0].contains("planning"), "{e:?}");
    }
}
