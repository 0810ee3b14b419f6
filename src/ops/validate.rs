//! `agent tasks validate-workflow`: structure and workflow checks that write nothing.
//!
//! Structure (tasks.md, WP frontmatter, dependencies, ownership) is checked by
//! running finalize in validate-only mode, so both commands agree on what is
//! valid. On top of that come the workflow checks finalize cannot make: a WP
//! that started before its dependencies finished, a WP missing from lanes.json,
//! an active WP with no agent, approved work with unticked subtasks.

use serde::Serialize;

use crate::status::StatusError;

type Result<T, E = StatusError> = std::result::Result<T, E>;
use crate::error::{Diagnose, Kind};
use crate::fsutil;
use crate::lanes::LanesManifest;
use crate::mission::Mission;
use crate::project::Project;
use crate::status::ops::Board;
use crate::status::{transitions, work, Lane};
use crate::tasks_md::parse;

use super::finalize;

/// The findings for one work package.
#[derive(Debug, Clone, Serialize)]
pub struct WpCheck {
    pub id: String,
    pub lane: String,
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Mission-wide findings plus one entry per checked work package.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowReport {
    pub valid: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub work_packages: Vec<WpCheck>,
}

/// Check the mission, or only `only` (a WP id, any case) when given.
pub fn validate_workflow(
    project: &Project,
    mission: &Mission,
    only: Option<&str>,
) -> Result<WorkflowReport> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    match finalize::finalize(
        project,
        mission,
        true,
        crate::lanes::Strategy::configured(project)?,
    ) {
        Ok(r) => {
            if !r.would_modify.is_empty() {
                let ids: Vec<&str> = r.would_modify.iter().map(|c| c.wp_id.as_str()).collect();
                warnings.push(format!(
                    "finalize-tasks would still update {}: run `spec-kitty agent mission finalize-tasks --mission {}`",
                    ids.join(", "),
                    mission.slug
                ));
            }
            if r.wp_count > 0 && r.lanes.changed {
                warnings.push(format!(
                    "lanes.json is missing or out of date: run `spec-kitty agent mission finalize-tasks --mission {}`",
                    mission.slug
                ));
            }
            warnings.extend(r.warnings);
        }
        // Structural errors are findings here, not failures of the command.
        Err(e) if e.kind() == Kind::User => errors.push(match e.hint() {
            Some(h) => format!("{} ({h})", e.message()),
            None => e.message(),
        }),
        Err(finalize::FinalizeError::Status(e)) => return Err(e),
        Err(finalize::FinalizeError::Tasks(e)) => return Err(e.into()),
    }

    let board = Board::load(project, mission)?;
    warnings.extend(board.warnings.iter().map(|w| w.to_string()));
    // Every event is checked (the lifecycle, the chains): one streaming pass
    // over the log, memory per WP, not per event. A log whose events are not
    // in (time, id) order (logs of two clones merged) is read whole for the
    // chains, which are checked in that order.
    let store = crate::status::StatusStore::for_mission(project, mission);
    let log: LogChecks = store.fold_all()?;
    let (chain_errors, chain_warnings) = if log.unsorted {
        broken_chains(&store.read()?.events)
    } else {
        log.chains()
    };
    let roles = log.core.roles();
    let lanes = LanesManifest::for_mission(mission).unwrap_or_else(|e| {
        errors.push(e.to_string());
        None
    });
    let tasks_path = mission.tasks_file();
    let doc = if tasks_path.is_file() {
        parse::parse(&fsutil::read_to_string(&tasks_path)?)
    } else {
        parse::TasksDoc::default()
    };

    let only = only.map(str::to_ascii_uppercase);
    if let Some(id) = &only {
        if !board.work_packages.iter().any(|w| &w.id == id) {
            let known: Vec<&str> = board.work_packages.iter().map(|w| w.id.as_str()).collect();
            return Err(StatusError::NoSuchWp {
                slug: mission.slug.clone(),
                id: id.clone(),
                known: known.into_iter().map(str::to_string).collect(),
            });
        }
    }

    let lane_of = |id: &str| {
        board
            .work_packages
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.lane)
    };
    let scope: Vec<work::ScopeFinding> =
        work::out_of_scope(work::open(project).as_ref(), project, mission)?;
    let mut checks = Vec::new();
    for wp in &board.work_packages {
        if only.as_ref().is_some_and(|id| id != &wp.id) {
            continue;
        }
        let lane = wp.lane;
        let mut errs: Vec<String> = chain_errors
            .iter()
            .filter(|(id, _)| id == &wp.id)
            .map(|(_, m)| m.clone())
            .collect();
        let mut warns: Vec<String> = chain_warnings
            .iter()
            .filter(|(id, _)| id == &wp.id)
            .map(|(_, m)| m.clone())
            .collect();
        let started = !matches!(lane, Lane::Planned | Lane::Blocked | Lane::Canceled);
        if started {
            for dep in &wp.dependencies {
                match lane_of(dep) {
                    Some(Lane::Approved | Lane::Done) => {}
                    Some(l) => errs.push(format!(
                        "{} is {lane} but its dependency {dep} is still {l}",
                        wp.id
                    )),
                    None => errs.push(format!("{} depends on unknown {dep}", wp.id)),
                }
            }
        }
        if matches!(
            lane,
            Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview
        ) && wp.agent.is_empty()
        {
            warns.push(format!("{} is {lane} but no agent is recorded", wp.id));
        }
        if wp.title.is_empty() {
            warns.push(format!(
                "{} has no title (add `title:` to tasks/{})",
                wp.id, wp.file
            ));
        }
        if let Some(m) = &lanes {
            let n = m.lanes.iter().filter(|l| l.wp_ids.contains(&wp.id)).count();
            if n != 1 {
                errs.push(format!(
                    "{} is in {n} lanes of lanes.json (expected exactly one)",
                    wp.id
                ));
            }
        }
        if matches!(lane, Lane::Approved | Lane::Done) {
            let open: Vec<&str> = doc
                .section(&wp.id)
                .map(|s| {
                    s.subtasks
                        .iter()
                        .filter(|t| !t.done)
                        .map(|t| t.id.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if !open.is_empty() {
                warns.push(format!(
                    "{} is {lane} with unticked subtasks {} (tick them with `spec-kitty agent tasks mark-status {} --status done --mission {}`)",
                    wp.id,
                    open.join(", "),
                    open.join(" "),
                    mission.slug
                ));
            }
        }
        // The recorded history against the lifecycle table.
        warns.extend(log.illegal.get(&wp.id).into_iter().flatten().cloned());
        // A self-review that was not a recorded override (--force --reason):
        // the reviewer is anyone who implemented the WP (after a double claim
        // settled between clones, both claimants did), as the move guard says.
        let implementers = roles
            .get(&wp.id)
            .map(|r| r.implementers.clone())
            .unwrap_or_default();
        let reviewer = log.reviewer.get(&wp.id).cloned().flatten();
        if let Some(r) = reviewer.filter(|r| implementers.contains(r)) {
            if matches!(lane, Lane::InReview | Lane::Approved | Lane::Done) {
                errs.push(format!(
                    "{} was reviewed by {r}, who also implemented it (implementers: {})",
                    wp.id,
                    implementers.join(", ")
                ));
            }
        }
        if let Some(f) = scope.iter().find(|f| f.wp_id == wp.id) {
            warns.push(format!(
                "{} changed files outside its owned_files: {} (accept refuses this unless {} records them under `{}`)",
                wp.id,
                f.files.join(", "),
                f.wp_file.display(),
                work::ALLOWANCE_HEADING
            ));
        }
        checks.push(WpCheck {
            id: wp.id.clone(),
            lane: lane.to_string(),
            valid: errs.is_empty(),
            errors: errs,
            warnings: warns,
        });
    }
    let valid = errors.is_empty() && checks.iter().all(|c| c.valid);
    Ok(WorkflowReport {
        valid,
        errors,
        warnings,
        work_packages: checks,
    })
}

/// (work package id, message) pairs.
pub type Findings = Vec<(String, String)>;

/// Breaks in each work package's from/to chain, in log order (deduplicated,
/// sorted by `at` and `event_id`, as the reducer reads it): an event whose
/// `from_lane` is not where the previous event left the work package. That
/// happens when two clones moved it at the same time and git merged both
/// logs. A break is an error unless a later forced move settled the lane (a
/// warning then). Returns (wp id, message) pairs: errors, warnings.
pub fn broken_chains(events: &[crate::status::StatusEvent]) -> (Findings, Findings) {
    let mut seen = std::collections::HashSet::new();
    let mut sorted: Vec<&crate::status::StatusEvent> = events
        .iter()
        .filter(|e| seen.insert(e.event_id.as_str()))
        .collect();
    sorted.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    let mut chains = Chains::default();
    for e in sorted {
        chains.step(&e.wp_id, &e.event_id, e.from_lane, e.to_lane, e.force);
    }
    chains.findings()
}

/// The chain check of [`broken_chains`], one event at a time in (time, id)
/// order: per WP the lane the last event left it in, and its first unsettled
/// break.
#[derive(Debug, Clone, Default)]
struct Chains {
    /// wp -> (lane, the id of the event that left it there)
    state: std::collections::BTreeMap<String, (Lane, String)>,
    /// wp -> the first unsettled break (message)
    open: std::collections::BTreeMap<String, String>,
    settled: Findings,
}

impl Chains {
    fn step(&mut self, wp: &str, id: &str, from: Lane, to: Lane, force: bool) {
        let (lane, prev_id) = self
            .state
            .get(wp)
            .map(|(l, p)| (*l, p.as_str()))
            .unwrap_or((Lane::Planned, ""));
        if from != lane && !self.open.contains_key(wp) {
            let m = format!(
                "{wp}: concurrent transition: event {id} moves it {from} -> {to}, but event {} had left it {lane} (two clones moved it at the same time and their logs were merged)",
                if prev_id.is_empty() { "(none)" } else { prev_id },
            );
            self.open.insert(wp.to_string(), m);
        } else if force && from == lane {
            if let Some(m) = self.open.remove(wp) {
                self.settled.push((
                    wp.to_string(),
                    format!("{m}; settled by the forced move {id}"),
                ));
            }
        }
        self.state.insert(wp.to_string(), (to, id.to_string()));
    }

    /// (errors, warnings): the breaks left open, and those a forced move settled.
    fn findings(self) -> (Findings, Findings) {
        let errors = self
            .open
            .into_iter()
            .map(|(id, m)| {
                let fix = format!("{m}; agree on its lane and record it with `spec-kitty agent tasks move-task {id} --to <lane> --force --reason \"...\"`");
                (id, fix)
            })
            .collect();
        (errors, self.settled)
    }
}

/// What validate-workflow checks of the log, folded in one streaming pass
/// ([`crate::status::StatusStore::fold_all`]): the lifecycle check of every
/// readable line, each WP's latest review claim, the roles, and the chains
/// while the events come in (time, id) order.
#[derive(Debug, Clone, Default)]
struct LogChecks {
    core: crate::status::cache::FoldState,
    /// wp -> the warnings of its moves the lifecycle does not allow, in file order.
    illegal: std::collections::BTreeMap<String, Vec<String>>,
    /// wp -> the actor of its latest move to in_review, unless forced or `user`.
    reviewer: std::collections::BTreeMap<String, Option<String>>,
    chains: Chains,
    /// `(at, event_id)` of the last event folded into `chains`.
    last: Option<(String, String)>,
    /// An event came before the one folded last in (time, id) order: the
    /// chains are checked on the sorted log instead.
    unsorted: bool,
}

impl LogChecks {
    fn chains(&self) -> (Findings, Findings) {
        self.chains.clone().findings()
    }
}

impl crate::status::cache::Fold for LogChecks {
    type Event<'a> = crate::status::FoldEvent<'a>;

    fn add(
        &mut self,
        e: &crate::status::FoldEvent<'_>,
        dedupe: &mut crate::status::cache::Dedupe<'_>,
    ) -> bool {
        let wp = e.wp_id.as_ref();
        if !e.force
            && e.from_lane != e.to_lane
            && transitions::rule(e.from_lane, e.to_lane).is_none()
        {
            self.illegal.entry(wp.to_string()).or_default().push(format!(
                "{wp}: event {} records {} -> {} without --force, which the lifecycle does not allow (see `spec-kitty agent tasks move-task --help`)",
                e.event_id, e.from_lane, e.to_lane
            ));
        }
        if e.to_lane == Lane::InReview {
            let by = (!e.force && e.actor.as_ref() != "user").then(|| e.actor.to_string());
            self.reviewer.insert(wp.to_string(), by);
        }
        let before = self.core.event_count();
        let clean = self.core.add(e, dedupe);
        // Each event id once (first wins), as broken_chains reads them.
        if self.core.event_count() > before && !self.unsorted {
            let key = (e.at.as_ref(), e.event_id.as_ref());
            if self
                .last
                .as_ref()
                .is_some_and(|(a, i)| key <= (a.as_str(), i.as_str()))
            {
                self.unsorted = true;
            } else {
                self.last = Some((key.0.to_string(), key.1.to_string()));
                self.chains
                    .step(wp, &e.event_id, e.from_lane, e.to_lane, e.force);
            }
        }
        clean
    }

    fn core(&mut self) -> &mut crate::status::cache::FoldState {
        &mut self.core
    }
}

#[cfg(test)]
mod streaming_tests {
    use super::*;
    use crate::status::cache::{fold_log, Fold};
    use crate::status::store::parse_log;

    /// The streaming checks equal the whole-log ones on random logs: moves
    /// legal and not, forced settles, repeated event ids, unreadable lines;
    /// logs in (time, id) order give the same chains, others say `unsorted`.
    #[test]
    fn streaming_checks_equal_the_whole_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.events.jsonl");
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut below = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let (mut sorted_logs, mut unsorted_logs) = (0, 0);
        for round in 0..80 {
            let mut text = String::new();
            let shuffle = round % 4 == 3;
            for i in 0..(20 + below(60)) {
                if below(25) == 0 {
                    text.push_str("{not json\n");
                    continue;
                }
                // A repeated id now and then (a suspect: folded once).
                let id = if i > 0 && below(12) == 0 { i - 1 } else { i };
                let t = if shuffle { below(50) } else { id };
                let from = crate::status::LANES[below(9) as usize];
                let to = crate::status::LANES[below(9) as usize];
                text.push_str(&format!(
                    "{{\"actor\": \"{}\", \"at\": \"2026-01-01T00:00:{:02}+00:00\", \"event_id\": \"01AB{:022}\", \"force\": {}, \"from_lane\": \"{from}\", \"mission_slug\": \"001-x\", \"to_lane\": \"{to}\", \"wp_id\": \"WP0{}\"}}\n",
                    ["a", "b", "user"][below(3) as usize],
                    t,
                    id,
                    below(4) == 0,
                    below(3),
                ));
            }
            std::fs::write(&path, &text).unwrap();
            let log = parse_log(&path, text.as_bytes());
            let checks: LogChecks = fold_log::<LogChecks>(&path, None).unwrap().into_current();
            if checks.unsorted {
                unsorted_logs += 1;
            } else {
                sorted_logs += 1;
                assert_eq!(checks.chains(), broken_chains(&log.events), "round {round}");
            }
            for wp in ["WP00", "WP01", "WP02"] {
                let illegal: Vec<String> = log
                    .events
                    .iter()
                    .filter(|e| {
                        e.wp_id == wp
                            && !e.force
                            && e.from_lane != e.to_lane
                            && transitions::rule(e.from_lane, e.to_lane).is_none()
                    })
                    .map(|e| e.event_id.clone())
                    .collect();
                let got: Vec<String> = checks
                    .illegal
                    .get(wp)
                    .into_iter()
                    .flatten()
                    .map(|m| m.split(' ').nth(2).unwrap().to_string())
                    .collect();
                assert_eq!(got, illegal, "round {round} {wp}");
                let reviewer = log
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.wp_id == wp && e.to_lane == Lane::InReview)
                    .filter(|e| !e.force && e.actor != "user")
                    .map(|e| e.actor.clone());
                assert_eq!(
                    checks.reviewer.get(wp).cloned().flatten(),
                    reviewer,
                    "round {round} {wp}"
                );
                let mut core = checks.clone();
                let implementers = Fold::core(&mut core)
                    .roles()
                    .get(wp)
                    .map(|r| r.implementers.clone())
                    .unwrap_or_default();
                assert_eq!(implementers, work::implementers(&log.events, wp));
            }
        }
        assert!(
            sorted_logs > 20 && unsorted_logs > 5,
            "{sorted_logs} {unsorted_logs}"
        );
    }
}
