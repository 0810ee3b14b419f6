//! Property tests: random and truncated input never panics, and every error
//! names the file it came from. The planner keeps its invariants on random graphs.

use std::path::Path;

use proptest::prelude::*;
use spec_kitty::lanes::plan::{plan, PlanMeta, PlanWp};
use spec_kitty::lanes::{LanesManifest, Strategy as LaneStrategy};
use spec_kitty::ops::finalize;
use spec_kitty::status::store::parse_log;
use spec_kitty::tasks_md::{parse, WpFile};

/// Markdown-ish text built from the pieces the parsers look for.
fn tasksish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "## WP[0-9]{2}: [a-z ]{0,8}\n",
        "### WP[0-9]{2}\n",
        "## Notes\n",
        "# Appendix\n",
        "### Dependencies\n",
        "- WP[0-9]{2}\n",
        "Depends on WP[0-9]{2}(, WP[0-9]{2})?\n",
        "\\*\\*Dependencies\\*\\*: (WP[0-9]{2}|none|\\[\\])\n",
        "\\*\\*Requirement Refs\\*\\*: FR-[0-9]{3}\n",
        "- \\[[ x]\\] T[0-9]{3} [a-z]{0,6}\n",
        "[^\n]{0,20}\n",
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn tasks_md_never_panics_and_sections_are_bounded(text in tasksish(), cut in 0usize..2000) {
        let cut = text.char_indices().map(|(i, _)| i).find(|&i| i >= cut).unwrap_or(text.len());
        for t in [&text[..], &text[..cut]] {
            let doc = parse::parse(t);
            let n = t.lines().count();
            for s in &doc.sections {
                prop_assert!(s.line <= s.end_line && s.end_line <= n.max(1));
                for d in &s.dependencies {
                    prop_assert!(d.line > s.line && d.line <= s.end_line);
                }
            }
        }
    }

    #[test]
    fn wp_frontmatter_errors_name_the_file(body in "(---\n)?[ -~\n]{0,200}(---\n)?[ -~\n]{0,40}") {
        let path = Path::new("kitty-specs/001-x/tasks/WP01-fuzz.md");
        match WpFile::parse(path, &body) {
            Err(e) => prop_assert!(e.to_string().contains("WP01-fuzz.md"), "{}", e.to_string()),
            // Accepted: it had frontmatter, and the body is what followed it.
            Ok(wp) => {
                prop_assert_eq!(wp.id.as_str(), "WP01");
                prop_assert!(body.starts_with("---") && body.ends_with(&wp.body));
            }
        }
    }

    #[test]
    fn status_log_lines_never_panic(lines in proptest::collection::vec("[ -~]{0,120}", 0..20)) {
        let text = lines.join("\n");
        let log = parse_log(Path::new("status.events.jsonl"), text.as_bytes());
        prop_assert!(log.events.len() + log.warnings.len() <= lines.len());
        for w in &log.warnings {
            prop_assert!(w.to_string().starts_with("status.events.jsonl:"));
        }
    }

    #[test]
    fn lanes_and_meta_errors_name_the_file(text in "[ -~\n]{0,300}", cut in 0usize..400) {
        let dir = tempfile::tempdir().unwrap();
        let good = r#"{"version": 1, "mission_slug": "001-x", "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01"]}]}"#;
        for (name, content) in [
            ("lanes.json", text.clone()),
            ("lanes.json", good[..cut.min(good.len())].to_string()),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, &content).unwrap();
            match LanesManifest::read(&p) {
                Err(e) => {
                    prop_assert!(e.to_string().contains("lanes.json"), "{e}");
                    prop_assert!(content != good, "the whole good file was refused");
                }
                Ok(l) => prop_assert_eq!(l.map(|l| l.mission_slug), Some("001-x".to_string())),
            }
            let m = dir.path().join("meta.json");
            std::fs::write(&m, &content).unwrap();
            match spec_kitty::mission::read_meta(&m) {
                Err(e) => {
                    let e = spec_kitty::error::Error::from(e);
                    prop_assert!(e.message.contains("meta.json"), "{}", e.message);
                    prop_assert!(content != good, "the whole good file was refused");
                }
                Ok(meta) => prop_assert!(
                    serde_json::from_str::<serde_json::Value>(&content).is_ok_and(|v| v.is_object()),
                    "accepted {content:?} as {meta:?}"
                ),
            }
        }
    }

    #[test]
    fn planner_invariants(edges in proptest::collection::vec((0usize..12, 0usize..12), 0..30), planning in proptest::collection::vec(any::<bool>(), 12)) {
        let wps: Vec<PlanWp> = (0..12)
            .map(|i| PlanWp {
                id: format!("WP{:02}", i + 1),
                // Only backward edges: the graph is acyclic, as finalize guarantees.
                dependencies: edges.iter().filter(|(a, b)| *a == i && b < a).map(|(_, b)| format!("WP{:02}", b + 1)).collect(),
                planning: planning[i],
                owned_files: vec![format!("src/m{i}/**")],
            })
            .collect();
        for strategy in [LaneStrategy::Parallel, LaneStrategy::Components] {
        let m = plan(&wps, &PlanMeta { mission_slug: "001-x".into(), mission_id: "X".into(), target_branch: "main".into(), computed_at: String::new() }, strategy);
        let start = spec_kitty::lanes::schedule::start_steps(&wps, &m).expect("the plan never deadlocks");
        // Every WP in exactly one lane.
        for w in &wps {
            prop_assert_eq!(m.lanes.iter().filter(|l| l.wp_ids.contains(&w.id)).count(), 1);
        }
        for w in &wps {
            let mine = m.lane_for_wp(&w.id).unwrap();
            for d in &w.dependencies {
                let theirs = m.lane_for_wp(d).unwrap();
                if theirs.lane_id == mine.lane_id {
                    // Inside a lane, dependencies come first.
                    let pos = |id: &str| mine.wp_ids.iter().position(|x| x == id).unwrap();
                    prop_assert!(w.planning || pos(d) < pos(&w.id));
                } else if mine.lane_id != "lane-planning" {
                    // Across lanes: a recorded lane dependency, and the WP starts
                    // after its dependency (lanes may wait on each other through
                    // different WPs, so lane-level groups need not be ordered).
                    prop_assert!(mine.depends_on_lanes.contains(&theirs.lane_id));
                    prop_assert!(start[&w.id] > start[d]);
                }
            }
        }
        }
    }
}

// ---------------------------------------------------------------------------
// Unicode, raw bytes and truncation, file by file: every reader either reads the
// file or fails with an error naming it; nothing panics.

use std::path::PathBuf;

use spec_kitty::auth::{self, AuthHome};
use spec_kitty::status::{Lane, StatusEvent, LANES};
use spec_kitty::tasks_md::ownership;

/// The longest prefix of `text` of at most `cut` bytes that ends on a char boundary.
fn prefix_at(text: &str, cut: usize) -> &str {
    let mut cut = cut.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// Short text that mixes ASCII with multi-byte characters, the shapes byte
/// slicing gets wrong.
fn wordish() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ._/*ü€😀—-]{0,16}"
}

/// A file in a fresh temp dir holding `bytes`.
fn file_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, bytes).unwrap();
    (dir, p)
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn event(wp: u8, from: usize, to: usize, actor: &str, reason: &str, n: u64) -> StatusEvent {
    StatusEvent {
        event_id: ulid::Ulid::from_parts(1_700_000_000_000 + n, n as u128).to_string(),
        mission_slug: "001-fuzz".into(),
        wp_id: format!("WP{wp:02}"),
        from_lane: LANES[from % LANES.len()],
        to_lane: LANES[to % LANES.len()],
        at: format!("2026-01-01T00:00:{:02}+00:00", n % 60),
        actor: actor.into(),
        force: n.is_multiple_of(2),
        execution_mode: "worktree".into(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        review_ref: None,
        evidence: None,
        policy_metadata: None,
        extra: Default::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn unicode_tasks_md_and_ownership_inference_never_panic(
        pieces in proptest::collection::vec(
            prop_oneof![
                wordish().prop_map(|w| format!("## WP0{}: {w}\n", w.len() % 10)),
                wordish().prop_map(|w| format!("**Dependencies**: {w}\n")),
                wordish().prop_map(|w| format!("Depends on WP01 {w}\n")),
                wordish().prop_map(|w| format!("- [ ] T001 {w}\n")),
                wordish().prop_map(|w| format!("Build `src/{w}` and tests/{w}.rs\n")),
                "\\PC{0,40}\n",
            ],
            0..25,
        ),
        cut in 0usize..1500,
    ) {
        let text = pieces.concat();
        for t in [text.as_str(), prefix_at(&text, cut)] {
            let doc = parse::parse(t);
            for s in &doc.sections {
                prop_assert!(s.line <= s.end_line);
            }
            let o = ownership::infer(t, "001-x");
            prop_assert!(!o.owned_files.is_empty());
            prop_assert!(!o.authoritative_surface.is_empty());
            for g in &o.owned_files {
                // A glob always overlaps itself; matching never panics on odd text.
                prop_assert!(ownership::globs_overlap(g, g));
                let _ = ownership::glob_match(g, &o.authoritative_surface);
            }
            let _ = parse::set_subtasks(t, &["T001".to_string()], true);
        }
    }

    #[test]
    fn wp_files_random_truncated_or_not_utf8_name_the_file(
        title in wordish(),
        dep in wordish(),
        body in "\\PC{0,80}",
        cut in 0usize..400,
        junk in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let good = format!(
            "---\nwork_package_id: WP01\ntitle: {}\ndependencies:\n- {}\nowned_files: [src/ü/**]\n---\n\n# {title}\n\n{body}\n",
            yaml_quote(&title),
            yaml_quote(&dep)
        );
        let truncated_bytes = &good.as_bytes()[..cut.min(good.len())];
        let (_dir, path) = file_with("tasks/WP01-fuzz ü.md", good.as_bytes());
        let wp = WpFile::read(&path);
        prop_assert!(wp.is_ok(), "{:?}", wp.err());
        for bytes in [good.as_bytes(), truncated_bytes, &junk[..]] {
            let (_dir, path) = file_with("tasks/WP01-fuzz ü.md", bytes);
            match WpFile::read(&path) {
                Ok(wp) => {
                    // Whatever was read can be edited and rendered again.
                    let text = wp.text_with_keys(&[("dependencies", serde_yaml::Value::Sequence(vec![]))], &[], "title");
                    prop_assert!(text.is_ok());
                    let _ = wp.dependencies();
                    let _ = wp.owned_files();
                }
                Err(e) => prop_assert!(e.to_string().contains("WP01-fuzz ü.md"), "{}", e.to_string()),
            }
        }
    }

    #[test]
    fn meta_and_lanes_truncated_or_not_utf8_name_the_file(
        name in wordish(),
        cut in 0usize..600,
        junk in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let meta = serde_json::json!({
            "mission_number": "001", "slug": "001-x", "mission_slug": "001-x",
            "friendly_name": name, "mission_type": "software-dev", "target_branch": "main",
            "created_at": "2026-01-01T00:00:00+00:00", "mission_id": "01KBX4N5Z8VJ3M2T7Q9R6W1Y0S",
        }).to_string();
        let lanes = serde_json::json!({
            "version": 1, "mission_slug": "001-x", "mission_id": "01KBX4N5Z8VJ3M2T7Q9R6W1Y0S",
            "lanes": [{"lane_id": "lane-a", "wp_ids": ["WP01"], "write_scope": [format!("src/{name}/**")]}],
            "computed_at": "2026-01-01T00:00:00+00:00",
        }).to_string();
        for (file, good) in [("meta.json", &meta), ("lanes.json", &lanes)] {
            let cut_bytes = &good.as_bytes()[..cut.min(good.len())];
            for bytes in [good.as_bytes(), cut_bytes, &junk[..]] {
                let (dir, path) = file_with(file, bytes);
                let err = if file == "meta.json" {
                    // Loading a mission never fails: a bad meta.json is recorded.
                    let m = spec_kitty::mission::Mission::load(dir.path());
                    if let Some(why) = &m.meta_error {
                        prop_assert!(why.contains("meta.json"), "{why}");
                    }
                    spec_kitty::mission::read_meta(&path)
                        .err()
                        .map(spec_kitty::error::Error::from)
                } else {
                    LanesManifest::read(&path).err().map(spec_kitty::Error::from)
                };
                if let Some(e) = err {
                    prop_assert!(e.message.contains(file), "{}", e.message);
                }
                if bytes == good.as_bytes() {
                    // The untouched document always reads.
                    let reads = if file == "meta.json" {
                        spec_kitty::mission::read_meta(&path).is_ok()
                    } else {
                        LanesManifest::read(&path).is_ok()
                    };
                    prop_assert!(reads, "{file} does not read");
                }
            }
        }
    }

    #[test]
    fn a_truncated_status_log_loses_only_its_torn_line(
        events in proptest::collection::vec((1u8..6, 0usize..9, 0usize..9, wordish(), wordish()), 1..12),
        cut in 0usize..4000,
    ) {
        let all: Vec<StatusEvent> = events
            .iter()
            .enumerate()
            .map(|(n, (wp, from, to, actor, reason))| event(*wp, *from, *to, actor, reason, n as u64))
            .collect();
        let text: String = all.iter().map(|e| e.to_line() + "\n").collect();
        let cut = cut.min(text.len());
        let bytes = &text.as_bytes()[..cut];
        let log = parse_log(Path::new("kitty-specs/001-fuzz/status.events.jsonl"), bytes);
        // Every line that was written in full is read back exactly; so is a last
        // line cut just before its newline (its JSON is whole).
        let complete = bytes.iter().filter(|&&b| b == b'\n').count();
        let tail = &bytes[bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
        let whole_tail = complete < all.len() && tail == all[complete].to_line().as_bytes();
        let read = complete + usize::from(whole_tail);
        prop_assert_eq!(&log.events[..], &all[..read]);
        // What is left is at most one torn line, reported with its file and line.
        let torn = !tail.is_empty() && !whole_tail;
        prop_assert_eq!(log.warnings.len(), usize::from(torn));
        for w in &log.warnings {
            prop_assert_eq!(w.line, complete + 1);
            prop_assert!(w.to_string().starts_with("kitty-specs/001-fuzz/status.events.jsonl:"));
        }
        // And the fold of what was read never panics.
        let snap = spec_kitty::status::reduce(&log.events);
        prop_assert!(snap.work_packages.len() <= 5);
        prop_assert!(snap.work_packages.values().all(|s| LANES.contains(&s.lane) || s.lane == Lane::Planned));
    }

    #[test]
    fn credentials_random_truncated_or_not_utf8_name_the_file(
        user in wordish(),
        token in "[A-Za-z0-9._ü-]{0,40}",
        cut in 0usize..400,
        junk in proptest::collection::vec(any::<u8>(), 0..200),
        text in "\\PC{0,200}",
    ) {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let good = format!(
            "[tokens]\naccess = {}\nrefresh = {}\naccess_expires_at = \"2026-01-01T00:00:00+00:00\"\nrefresh_expires_at = \"2026-02-01T00:00:00+00:00\"\n\n[user]\nusername = {}\n\n[server]\nurl = \"https://example.com\"\n",
            q(&token), q(&token), q(&user)
        );
        let cut_bytes = &good.as_bytes()[..cut.min(good.len())];
        for bytes in [good.as_bytes(), cut_bytes, &junk[..], text.as_bytes()] {
            let dir = tempfile::tempdir().unwrap();
            let home = AuthHome::new(dir.path().to_path_buf());
            std::fs::create_dir_all(&home.dir).unwrap();
            std::fs::write(home.credentials(), bytes).unwrap();
            match auth::load(&home) {
                Ok(Some(c)) => {
                    let _ = (c.access_seconds_left(), c.refresh_seconds_left());
                    if bytes == good.as_bytes() {
                        prop_assert_eq!(&c.username, &user);
                        prop_assert_eq!(&c.access, &token);
                    }
                }
                Ok(None) => prop_assert!(false, "the file exists"),
                Err(e) => {
                    let e = spec_kitty::error::Error::from(e);
                    prop_assert!(bytes != good.as_bytes(), "{}", e.message);
                    prop_assert!(e.message.contains(".spec-kitty/credentials"), "{}", e.message);
                }
            }
        }
    }
}

/// A project on disk with mission `001-fuzz`: `tasks_md` and WP files.
fn fuzz_mission(
    tasks_md: &str,
    wps: &[(String, Vec<u8>)],
) -> (
    tempfile::TempDir,
    spec_kitty::project::Project,
    spec_kitty::mission::Mission,
) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let dir = root.join("kitty-specs/001-fuzz");
    std::fs::create_dir_all(root.join(".kittify")).unwrap();
    std::fs::create_dir_all(dir.join("tasks")).unwrap();
    std::fs::write(
        dir.join("spec.md"),
        "# Spec\n\n| FR-001 | x |\n| NFR-001 | y |\n",
    )
    .unwrap();
    std::fs::write(dir.join("tasks.md"), tasks_md).unwrap();
    for (name, bytes) in wps {
        std::fs::write(dir.join("tasks").join(name), bytes).unwrap();
    }
    let project = spec_kitty::project::Project::at(root);
    let mission = spec_kitty::mission::Mission::load(&dir);
    (tmp, project, mission)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The whole finalize pipeline on fuzzed missions: it succeeds, or fails
    /// with an error naming a file of the mission, and never panics.
    #[test]
    fn finalize_on_fuzzed_missions_never_panics(
        tasks in proptest::collection::vec(
            prop_oneof![
                "## WP0[1-4]: [a-zü ]{0,8}\n",
                "\\*\\*Dependencies\\*\\*: (WP0[1-4]|none)\n",
                "Depends on WP0[1-4]\n",
                "\\*\\*Requirement Refs\\*\\*: FR-00[0-2]\n",
                "- \\[[ x]\\] T00[1-4] [a-z]{0,6}\n",
                "## Notes\n",
                "[^\n]{0,20}\n",
            ],
            0..16,
        ).prop_map(|v| v.concat()),
        wp_fields in proptest::collection::vec(
            (
                proptest::option::of(proptest::collection::vec(0usize..4, 0..3)),
                proptest::option::weighted(0.8, 0u8..5),
                proptest::option::weighted(0.3, "code_change|planning_artifact|other"),
                proptest::option::weighted(0.2, "\\[FR-001\\]|\\[NFR-00[12]\\]|\\[fr-001\\]"),
                proptest::option::weighted(0.05, "[a-z_]{1,8}: [ -~]{0,12}"),
            ),
            4,
        ),
        bodies in proptest::collection::vec("[ -~üé\n]{0,60}", 4),
        cut in 0usize..1500,
    ) {
        let mut wps = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let n = i + 1;
            let (deps, owned, mode, refs, junk) = &wp_fields[i];
            let mut mine = String::new();
            if let Some(d) = deps {
                // Mostly earlier WPs (a valid graph); `% 4 == 3` on WP04 names itself.
                let ids: Vec<String> = d
                    .iter()
                    .map(|k| format!("WP0{}", k % n + 1))
                    .filter(|id| *id != format!("WP0{n}") || n == 4)
                    .collect();
                mine.push_str(&format!("dependencies: [{}]\n", ids.join(", ")));
            }
            if let Some(o) = owned {
                let glob = match o {
                    0 | 1 => format!("src/w{n}/**"),
                    2 => "src/**".to_string(),
                    3 => "kitty-specs/001-fuzz/**".to_string(),
                    _ => format!("tests/w{n}ü.rs"),
                };
                mine.push_str(&format!("owned_files: ['{glob}']\n"));
            }
            if let Some(m) = mode {
                mine.push_str(&format!("execution_mode: {m}\n"));
            }
            if let Some(r) = refs {
                mine.push_str(&format!("requirement_refs: {r}\n"));
            }
            if let Some(j) = junk {
                mine.push_str(j);
                mine.push('\n');
            }
            let mut text = format!("---\nwork_package_id: WP0{n}\ntitle: Ünïcode {n}\n{mine}---\n\n# WP0{n}\n\nBuild `src/b{n}/`. {body}\n").into_bytes();
            if i == 3 {
                text.truncate(cut.min(text.len()));
            }
            wps.push((format!("WP0{n}-fuzz ü.md"), text));
        }
        let (_tmp, project, mission) = fuzz_mission(&tasks, &wps);
        for validate_only in [true, false] {
            match finalize::finalize(&project, &mission, validate_only, LaneStrategy::Parallel) {
                Ok(report) => {
                    prop_assert_eq!(report.wp_count, 4);
                    if !validate_only {
                        // What finalize wrote, it reads back as already final.
                        let again = finalize::finalize(&project, &mission, false, LaneStrategy::Parallel);
                        prop_assert!(again.is_ok(), "{:?}", again.err());
                        let again = again.unwrap();
                        prop_assert!(again.modified_wps.is_empty(), "{:?}", again.modified_wps);
                        prop_assert!(!again.lanes.changed);
                    }
                }
                Err(e) => prop_assert!(
                    e.to_string().contains("tasks.md") || e.to_string().contains("-fuzz ü.md") || e.to_string().contains("001-fuzz"),
                    "{}", e.to_string()
                ),
            }
        }
    }
}
