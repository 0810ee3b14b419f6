//! The lane planner's guarantees, as properties over random dependency graphs:
//! with the `parallel` strategy the plan finishes at the critical path, with
//! exactly as many code lanes as the widest set of WPs that can run at once,
//! every lane a dependency chain, and lanes.json's `depends_on_lanes` and
//! `parallel_group` telling the truth; finalize refuses overlapping ownership
//! exactly for WPs that can run at the same time.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use spec_kitty::lanes::plan::{plan, PlanMeta, PlanWp};
use spec_kitty::lanes::schedule::{start_steps, stats, widest_parallel_set};
use spec_kitty::lanes::{Strategy as LaneStrategy, PLANNING_LANE};
use spec_kitty::ops::finalize;
use spec_kitty::tasks_md::ownership;

fn meta() -> PlanMeta {
    PlanMeta {
        mission_slug: "001-x".into(),
        mission_id: "X".into(),
        target_branch: "main".into(),
        computed_at: String::new(),
    }
}

/// A random acyclic graph of `n` WPs: each edge goes from a later WP to an
/// earlier one; some WPs are planning work.
fn dag() -> impl proptest::strategy::Strategy<Value = Vec<PlanWp>> {
    (1usize..36).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec((0..n, 0..n), 0..n * 2),
            proptest::collection::vec(0u8..6, n),
        )
            .prop_map(|(n, edges, kinds)| {
                (0..n)
                    .map(|i| PlanWp {
                        id: format!("WP{:02}", i + 1),
                        dependencies: edges
                            .iter()
                            .filter(|(a, b)| *a == i && b < a)
                            .map(|(_, b)| format!("WP{:02}", b + 1))
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect(),
                        planning: kinds[i] == 0,
                        owned_files: vec![format!("src/m{i}/**")],
                    })
                    .collect()
            })
    })
}

/// Every WP's transitive dependencies.
fn closure(wps: &[PlanWp]) -> BTreeMap<String, BTreeSet<String>> {
    spec_kitty::lanes::plan::transitive_deps(wps)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parallel_plans_finish_at_the_critical_path(wps in dag()) {
        let m = plan(&wps, &meta(), LaneStrategy::Parallel);
        let s = stats(&wps, &m);
        let below = closure(&wps);

        // Every WP in exactly one lane; planning work in lane-planning only.
        for w in &wps {
            let lanes: Vec<_> = m.lanes.iter().filter(|l| l.wp_ids.contains(&w.id)).collect();
            prop_assert_eq!(lanes.len(), 1, "{}", w.id);
            prop_assert_eq!(lanes[0].lane_id == PLANNING_LANE, w.planning);
        }
        // Makespan is the critical path.
        prop_assert_eq!(s.makespan, Some(s.critical_path));
        // As many code lanes as the widest set of WPs that can run at once.
        prop_assert_eq!(s.lanes, widest_parallel_set(&wps));
        // Each lane is a chain: every WP depends on the one before it.
        for lane in m.lanes.iter().filter(|l| l.lane_id != PLANNING_LANE) {
            for pair in lane.wp_ids.windows(2) {
                prop_assert!(below[&pair[1]].contains(&pair[0]), "{:?} in {:?}", pair, m.lanes);
            }
        }
        // depends_on_lanes: exactly the other lanes holding its WPs' dependencies.
        let start = start_steps(&wps, &m).unwrap();
        for lane in &m.lanes {
            let mut expect: BTreeSet<String> = BTreeSet::new();
            if lane.lane_id != PLANNING_LANE {
                for id in &lane.wp_ids {
                    let w = wps.iter().find(|w| &w.id == id).unwrap();
                    for d in &w.dependencies {
                        let theirs = &m.lane_for_wp(d).unwrap().lane_id;
                        if theirs != &lane.lane_id {
                            expect.insert(theirs.clone());
                        }
                    }
                }
            }
            let got: BTreeSet<String> = lane.depends_on_lanes.iter().cloned().collect();
            prop_assert_eq!(got, expect);
            // parallel_group: the step at which the lane's first WP starts.
            let first = lane.wp_ids.iter().map(|w| start[w]).min().unwrap();
            prop_assert_eq!(lane.parallel_group as usize, first);
        }
        // Every WP starts after its dependencies, at its earliest step.
        for w in &wps {
            let earliest = w.dependencies.iter().map(|d| start[d] + 1).max().unwrap_or(0);
            prop_assert_eq!(start[&w.id], earliest);
        }
        // The same mission planned twice gives the same file.
        prop_assert_eq!(plan(&wps, &meta(), LaneStrategy::Parallel), m);
    }

    #[test]
    fn components_plans_keep_dependencies_in_one_lane(wps in dag()) {
        let m = plan(&wps, &meta(), LaneStrategy::Components);
        let s = stats(&wps, &m);
        prop_assert_eq!(s.handoffs, 0);
        prop_assert!(s.makespan.unwrap() >= s.critical_path);
        let p = stats(&wps, &plan(&wps, &meta(), LaneStrategy::Parallel));
        prop_assert!(p.makespan <= s.makespan);
    }
}

const POOL: [&str; 6] = [
    "src/a/**",
    "src/a/x.rs",
    "src/b/**",
    "src/**",
    "tests/t.rs",
    "docs/guide.md",
];

fn surface(glob: &str) -> String {
    let s = glob.trim_end_matches("**").trim_end_matches('/');
    if s.contains('.') {
        s.to_string()
    } else {
        format!("{s}/")
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// finalize refuses owned_files that overlap between WPs that can run at
    /// the same time, and accepts overlaps between WPs ordered by a dependency.
    #[test]
    fn ownership_overlaps_are_refused_only_for_parallel_work(
        n in 2usize..7,
        edges in proptest::collection::vec((0usize..7, 0usize..7), 0..10),
        owned in proptest::collection::vec(0usize..POOL.len(), 7),
    ) {
        let wps: Vec<PlanWp> = (0..n)
            .map(|i| PlanWp {
                id: format!("WP{:02}", i + 1),
                dependencies: edges
                    .iter()
                    .filter(|(a, b)| *a == i && b < a)
                    .map(|(_, b)| format!("WP{:02}", b + 1))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                planning: false,
                owned_files: vec![POOL[owned[i]].to_string()],
            })
            .collect();
        let below = closure(&wps);
        let mut conflict = false;
        for a in &wps {
            for b in &wps {
                let related = a.id == b.id || below[&a.id].contains(&b.id) || below[&b.id].contains(&a.id);
                if !related && ownership::globs_overlap(&a.owned_files[0], &b.owned_files[0]) {
                    conflict = true;
                }
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let dir = root.join("kitty-specs/001-own");
        std::fs::create_dir_all(root.join(".kittify")).unwrap();
        std::fs::create_dir_all(dir.join("tasks")).unwrap();
        std::fs::write(dir.join("spec.md"), "# Spec\n\n| FR-001 | x |\n").unwrap();
        std::fs::write(dir.join("tasks.md"), "# Tasks\n\nDependencies live in the WP files.\n").unwrap();
        for w in &wps {
            let deps = if w.dependencies.is_empty() {
                " []".to_string()
            } else {
                w.dependencies.iter().map(|d| format!("\n- {d}")).collect()
            };
            std::fs::write(
                dir.join(format!("tasks/{}-w.md", w.id)),
                format!(
                    "---\nwork_package_id: {}\ntitle: W\ndependencies:{deps}\nrequirement_refs:\n- FR-001\nexecution_mode: code_change\nowned_files:\n- {}\nauthoritative_surface: {}\n---\n\n# {}\n",
                    w.id, w.owned_files[0], surface(&w.owned_files[0]), w.id
                ),
            )
            .unwrap();
        }
        let project = spec_kitty::project::Project::at(root);
        let mission = spec_kitty::mission::Mission::load(&dir);
        for strategy in [LaneStrategy::Parallel, LaneStrategy::Components] {
            let r = finalize::finalize(&project, &mission, true, strategy);
            match &r {
                Ok(_) => prop_assert!(!conflict, "overlap accepted: {:?}", wps),
                Err(e) => {
                    prop_assert!(conflict, "refused without a parallel overlap: {} {:?}", e.to_string(), wps);
                    prop_assert!(e.to_string().contains("can run in parallel but own overlapping paths"), "{}", e.to_string());
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// End to end: a 6-WP diamond-and-fan mission through real worktrees, three
// implementing agents and a reviewer working at once.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::common::flow::move_task;
use crate::common::snap::assert_run;
use crate::common::{TestEnv, WpDef};

/// WP01 fans out to WP02, WP03 and WP05; WP02 and WP03 join in WP04; WP06
/// needs WP04 and WP05 and owns a file inside WP04's directory (allowed: they
/// are ordered by a dependency).
fn diamond_and_fan() -> Vec<WpDef> {
    vec![
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "Api", "src/api/**", &["WP01"]),
        WpDef::code("WP03", "Ui", "src/ui/**", &["WP01"]),
        WpDef::code("WP04", "App", "src/app/**", &["WP02", "WP03"]),
        WpDef::code("WP05", "Docs", "src/docs/**", &["WP01"]),
        WpDef::code("WP06", "Release", "src/app/release.txt", &["WP04", "WP05"]),
    ]
}

/// The file a WP writes, and what it writes there.
fn work_of(wp: &str) -> (String, String) {
    let dir = match wp {
        "WP01" => "src/core/wp01.txt",
        "WP02" => "src/api/wp02.txt",
        "WP03" => "src/ui/wp03.txt",
        "WP04" => "src/app/wp04.txt",
        "WP05" => "src/docs/wp05.txt",
        _ => "src/app/release.txt",
    };
    (dir.to_string(), format!("work of {wp}\n"))
}

fn transitive(wps: &[WpDef], wp: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![wp.to_string()];
    while let Some(w) = stack.pop() {
        for d in &wps.iter().find(|x| x.id == w).unwrap().deps {
            if out.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    out
}

struct HandedOut {
    wp: String,
    agent: String,
    workspace: PathBuf,
    /// Dependencies whose files were missing from the workspace at hand-out.
    missing: Vec<String>,
    merged_in: serde_json::Value,
}

fn implementer(env: &TestEnv, root: &Path, slug: &str, agent: &str, log: &Mutex<Vec<HandedOut>>) {
    let wps = diamond_and_fan();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "{agent} never finished");
        let d = env.json(
            root,
            &["next", "--agent", agent, "--mission", slug, "--json"],
        );
        match (d["kind"].as_str(), d["action"].as_str()) {
            (Some("terminal"), _) | (_, Some("accept" | "merge")) => return,
            (_, Some("implement")) => {}
            _ => {
                // Nothing to implement right now (work waits for review or
                // for its dependencies): ask again shortly.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        }
        let wp = d["wp_id"].as_str().unwrap().to_string();
        let out = env.run(root, &crate::common::implement_args(&wp, slug, agent));
        if !out.status.success() {
            // Another agent claimed it a moment earlier.
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ws = PathBuf::from(v["workspace"].as_str().unwrap());
        let missing: Vec<String> = transitive(&wps, &wp)
            .into_iter()
            .filter(|dep| {
                let (file, text) = work_of(dep);
                std::fs::read_to_string(ws.join(&file)).ok().as_deref() != Some(text.as_str())
            })
            .collect();
        log.lock().unwrap().push(HandedOut {
            wp: wp.clone(),
            agent: agent.to_string(),
            workspace: ws.clone(),
            missing,
            merged_in: v["merged_in"].clone(),
        });
        let (file, text) = work_of(&wp);
        crate::common::write(&ws.join(&file), &text);
        env.git(&ws, &["add", "-A"]);
        env.git(&ws, &["commit", "-qm", &format!("{wp} work")]);
        let t = format!("T0{}", &wp[2..]);
        env.ok(
            root,
            &[
                "agent",
                "tasks",
                "mark-status",
                &t,
                "--status",
                "done",
                "--mission",
                slug,
            ],
        );
        env.ok(
            root,
            &move_task(
                &wp,
                "for_review",
                &["--agent", agent, "--note", "done"],
                slug,
            ),
        );
    }
}

fn reviewer(env: &TestEnv, root: &Path, slug: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut approved = 0;
    while approved < 6 {
        assert!(Instant::now() < deadline, "the reviewer never finished");
        let out = env.run(
            root,
            &[
                "agent",
                "action",
                "review",
                "--mission",
                slug,
                "--agent",
                "reviewer",
                "--json",
            ],
        );
        if !out.status.success() {
            // Nothing waits for review yet.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let wp = v["wp_id"].as_str().unwrap();
        env.ok(
            root,
            &move_task(
                wp,
                "approved",
                &["--agent", "reviewer", "--note", "good"],
                slug,
            ),
        );
        approved += 1;
    }
}

#[test]
fn diamond_and_fan_mission_runs_in_parallel_lanes_and_merges_every_wp_once() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    let wps = diamond_and_fan();
    crate::common::write_mission(&m.dir, &m.slug, &wps);
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    // Three lanes (WP02, WP03 and WP05 can run at once), four steps.
    assert_eq!(v["lanes"]["count"], 3, "{v}");
    assert_eq!(v["lanes"]["strategy"], "parallel");
    assert_eq!(v["lanes"]["critical_path"], 4);
    assert_eq!(v["lanes"]["makespan"], 4);
    let main_before = env.git(&root, &["rev-parse", "main"]);

    let log = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for agent in ["alpha", "beta", "gamma"] {
            let (env, root, slug, log) = (&env, &root, &m.slug, &log);
            s.spawn(move || implementer(env, root, slug, agent, log));
        }
        let (env, root, slug) = (&env, &root, &m.slug);
        s.spawn(move || reviewer(env, root, slug));
    });

    let log = log.into_inner().unwrap();
    let ids: BTreeSet<&str> = log.iter().map(|h| h.wp.as_str()).collect();
    assert_eq!(ids.len(), 6, "every WP handed out once");
    assert_eq!(log.len(), 6);
    for h in &log {
        assert!(
            h.missing.is_empty(),
            "{} (by {}) in {} lacked its dependencies' work: {:?}",
            h.wp,
            h.agent,
            h.workspace.display(),
            h.missing
        );
    }
    // Cross-lane dependencies were merged into the lane, and said so.
    assert!(
        log.iter()
            .any(|h| h.merged_in.as_array().is_some_and(|a| !a.is_empty())),
        "no hand-off reported a merge"
    );
    // The user's branch did not move while the lanes worked.
    assert_eq!(env.git(&root, &["rev-parse", "main"]), main_before);

    let v = env.json(&root, &["accept", "--mission", &m.slug, "--json"]);
    assert_eq!(v["accepted"], true, "{v}");
    let v = env.json(&root, &["merge", "--mission", &m.slug, "--json"]);
    assert!(v["blockers"].as_array().unwrap().is_empty(), "{v}");

    // The target holds every WP's work exactly once.
    let subjects = env.git(&root, &["log", "main", "--format=%s"]);
    for w in &wps {
        let (file, text) = work_of(&w.id);
        assert_eq!(
            env.git(&root, &["show", &format!("main:{file}")]),
            text,
            "{file}"
        );
        assert_eq!(
            subjects
                .lines()
                .filter(|l| *l == format!("{} work", w.id))
                .count(),
            1,
            "{} in {subjects}",
            w.id
        );
    }
    let files = env.git(&root, &["ls-tree", "-r", "--name-only", "main", "src"]);
    assert_eq!(files.lines().count(), 6, "{files}");
}

/// The reference reads the lanes.json we write (a recorded check, made with
/// sk-ref; see the fixture's README): our planner still writes that file for
/// that mission, and the reference found every WP's lane in it and read every
/// lane back key for key.
#[test]
fn the_reference_reads_our_parallel_lanes() {
    let env = TestEnv::new();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lanes/ours-read-by-reference");
    let root = env.project("p");
    let dest = root.join("kitty-specs/001-demo");
    crate::common::copy_dir(&fixture.join("001-demo"), &dest);
    std::fs::remove_file(dest.join("lanes.json")).unwrap();
    env.ok(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "001-demo",
        ],
    );
    let read = |p: &Path| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        v.as_object_mut().unwrap().remove("computed_at");
        v
    };
    let ours = read(&dest.join("lanes.json"));
    assert_eq!(ours, read(&fixture.join("001-demo/lanes.json")));
    let merge: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture.join("reference-merge-dry-run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(merge["lanes"], ours["lanes"]);
    assert_eq!(merge["mission_branch"], ours["mission_branch"]);
    for wp in ["WP03", "WP05"] {
        let v: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixture.join(format!("reference-implement-{wp}.json"))).unwrap(),
        )
        .unwrap();
        let lane = ours["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["wp_ids"].as_array().unwrap().contains(&wp.into()))
            .unwrap();
        assert_eq!(v["lane_id"], lane["lane_id"], "{wp}");
        assert_eq!(
            v["branch"],
            format!(
                "kitty/mission-001-demo-{}",
                lane["lane_id"].as_str().unwrap()
            )
        );
    }
    // It is a plan with lanes that wait on other lanes, not the reference's own grouping.
    assert!(ours["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["parallel_group"] == 1));
}

fn implement(env: &TestEnv, root: &Path, slug: &str, wp: &str, agent: &str) -> serde_json::Value {
    env.json(root, &crate::common::implement_args(wp, slug, agent))
}

/// Commit `text` to `file` in the worktree, hand the WP in and approve it.
#[allow(clippy::too_many_arguments)]
fn do_and_approve(
    env: &TestEnv,
    root: &Path,
    slug: &str,
    wp: &str,
    implementer: &str,
    ws: &Path,
    file: &str,
    text: &str,
) {
    crate::common::write(&ws.join(file), text);
    env.git(ws, &["add", "-A"]);
    env.git(ws, &["commit", "-qm", &format!("{wp} work")]);
    let t = format!("T0{}", &wp[2..]);
    env.ok(
        root,
        &[
            "agent",
            "tasks",
            "mark-status",
            &t,
            "--status",
            "done",
            "--mission",
            slug,
        ],
    );
    env.ok(
        root,
        &move_task(wp, "for_review", &["--agent", implementer], slug),
    );
    env.json(
        root,
        &[
            "agent",
            "action",
            "review",
            wp,
            "--mission",
            slug,
            "--agent",
            "rev",
            "--json",
        ],
    );
    env.ok(root, &move_task(wp, "approved", &["--agent", "rev"], slug));
}

/// The issue's example (WP01 -> WP02 -> WP04, WP03 -> WP04): WP03 starts beside
/// WP01; WP04 waits and says on which lanes; when the two lanes' work collides
/// (ownership broken by hand), handing WP04 out changes nothing and names the file.
#[test]
fn independent_work_runs_beside_the_chain_and_a_blocked_wp_names_its_lane() {
    let env = TestEnv::new();
    let wps = vec![
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &["WP01"]),
        WpDef::code("WP03", "Three", "src/three/**", &[]),
        WpDef::code("WP04", "Four", "src/four/**", &["WP02", "WP03"]),
    ];
    let (root, m) = env.finalized_mission(&wps);
    let lanes: serde_json::Value =
        serde_json::from_slice(&std::fs::read(m.dir.join("lanes.json")).unwrap()).unwrap();
    let lane_ids: Vec<(String, serde_json::Value)> = lanes["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lane_id"].as_str().unwrap().to_string(),
                l["wp_ids"].clone(),
            )
        })
        .collect();
    assert_eq!(
        lane_ids,
        vec![
            (
                "lane-a".to_string(),
                serde_json::json!(["WP01", "WP02", "WP04"])
            ),
            ("lane-b".to_string(), serde_json::json!(["WP03"])),
        ]
    );

    // Two agents at once: WP01 and WP03.
    let one = implement(&env, &root, &m.slug, "WP01", "alpha");
    let three = implement(&env, &root, &m.slug, "WP03", "beta");
    assert_ne!(one["workspace"], three["workspace"]);

    // WP04 waits for WP02 (lane-a) and WP03 (lane-b), and says so.
    let wp04 = [
        "agent",
        "action",
        "implement",
        "WP04",
        "--mission",
        &m.slug,
        "--agent",
        "gamma",
    ];
    let out = assert_run!(env, &root, "implement_waits_on_two_lanes", wp04);
    assert_eq!(out.status.code(), Some(1));
    let d = env.json(
        &root,
        &["next", "--agent", "gamma", "--mission", &m.slug, "--json"],
    );
    assert_eq!(d["kind"], "blocked", "{d}");
    let reason = d["reason"].as_str().unwrap();
    assert!(
        reason.contains("WP02 waits on WP01 in lane-a (in_progress)"),
        "{reason}"
    );

    // Both lanes write the same file: ownership broken by hand.
    let ws1 = PathBuf::from(one["workspace"].as_str().unwrap());
    let ws3 = PathBuf::from(three["workspace"].as_str().unwrap());
    do_and_approve(
        &env,
        &root,
        &m.slug,
        "WP01",
        "alpha",
        &ws1,
        "src/one/a.txt",
        "one\n",
    );
    do_and_approve(
        &env,
        &root,
        &m.slug,
        "WP03",
        "beta",
        &ws3,
        "shared.txt",
        "from three\n",
    );
    let two = implement(&env, &root, &m.slug, "WP02", "alpha");
    assert_eq!(two["workspace"], one["workspace"]);
    do_and_approve(
        &env,
        &root,
        &m.slug,
        "WP02",
        "alpha",
        &ws1,
        "shared.txt",
        "from two\n",
    );
    let lane_a = format!("kitty/mission-{}-lane-a", m.slug);
    let before = env.git(&root, &["rev-parse", &lane_a]);
    let main_before = env.git(&root, &["rev-parse", "main"]);
    let out = assert_run!(env, &root, "implement_dependency_lanes_conflict", wp04);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        env.git(&root, &["rev-parse", &lane_a]),
        before,
        "the lane branch moved"
    );
    assert_eq!(env.git(&root, &["rev-parse", "main"]), main_before);
    assert_eq!(
        std::fs::read_to_string(ws1.join("shared.txt")).unwrap(),
        "from two\n"
    );
    assert!(env.git(&ws1, &["status", "--porcelain"]).is_empty());
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    let wp04 = board["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP04")
        .unwrap()
        .clone();
    assert_eq!(wp04["lane"], "planned");

    // Resolved by hand in lane-b (WP03's work redone without the clash and
    // approved again): WP04 now gets it merged into lane-a before it starts.
    env.ok(
        root.as_path(),
        &[
            "agent",
            "tasks",
            "move-task",
            "WP03",
            "--to",
            "planned",
            "--agent",
            "rev",
            "--mission",
            &m.slug,
            "--review-feedback",
            "keep to src/three",
            "--force",
            "--reason",
            "ownership",
        ],
    );
    implement(&env, &root, &m.slug, "WP03", "beta");
    env.git(&ws3, &["rm", "-q", "shared.txt"]);
    crate::common::write(&ws3.join("src/three/c.txt"), "three\n");
    env.git(&ws3, &["add", "-A"]);
    env.git(&ws3, &["commit", "-qm", "WP03 redone"]);
    env.ok(
        root.as_path(),
        &[
            "agent",
            "tasks",
            "move-task",
            "WP03",
            "--to",
            "for_review",
            "--agent",
            "beta",
            "--mission",
            &m.slug,
        ],
    );
    env.json(
        &root,
        &[
            "agent",
            "action",
            "review",
            "WP03",
            "--mission",
            &m.slug,
            "--agent",
            "rev",
            "--json",
        ],
    );
    env.ok(
        root.as_path(),
        &[
            "agent",
            "tasks",
            "move-task",
            "WP03",
            "--to",
            "approved",
            "--agent",
            "rev",
            "--mission",
            &m.slug,
        ],
    );
    let four = implement(&env, &root, &m.slug, "WP04", "gamma");
    assert_eq!(four["workspace"], one["workspace"]);
    let merged = four["merged_in"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{four}");
    assert_eq!(merged[0]["wp_id"], "WP03");
    assert_eq!(merged[0]["lane_id"], "lane-b");
    assert_eq!(merged[0]["how"], "merge_commit");
    assert_eq!(
        merged[0]["commit"].as_str().unwrap(),
        env.git(
            &root,
            &["rev-parse", &format!("kitty/mission-{}-lane-b", m.slug)]
        )
        .trim()
    );
    assert_eq!(
        std::fs::read_to_string(ws1.join("src/three/c.txt")).unwrap(),
        "three\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws1.join("shared.txt")).unwrap(),
        "from two\n"
    );
    assert_eq!(env.git(&root, &["rev-parse", "main"]), main_before);
}
