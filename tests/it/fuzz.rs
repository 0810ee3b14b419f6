//! Property tests: random and truncated input never panics, and every error
//! names the file it came from. The planner keeps its invariants on random graphs.

use std::path::Path;

use proptest::prelude::*;
use spec_kitty::lanes::plan::{plan, PlanMeta, PlanWp};
use spec_kitty::lanes::LanesManifest;
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
        if let Err(e) = WpFile::parse(path, &body) {
            prop_assert!(e.message.contains("WP01-fuzz.md"), "{}", e.message);
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
            if let Err(e) = LanesManifest::read(&p) {
                prop_assert!(e.message.contains("lanes.json"), "{}", e.message);
            }
            let m = dir.path().join("meta.json");
            std::fs::write(&m, &content).unwrap();
            if let Err(e) = spec_kitty::mission::read_meta(&m) {
                prop_assert!(e.message.contains("meta.json"), "{}", e.message);
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
        let m = plan(&wps, &PlanMeta { mission_slug: "001-x".into(), mission_id: "X".into(), target_branch: "main".into(), computed_at: String::new() });
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
                    // Across lanes: a recorded lane dependency and a later parallel group.
                    prop_assert!(mine.depends_on_lanes.contains(&theirs.lane_id));
                    prop_assert!(mine.parallel_group > theirs.parallel_group);
                }
            }
        }
    }
}
