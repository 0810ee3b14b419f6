//! What our finalize writes passes the Python reference's own validation.
//!
//! `tests/fixtures/compat/ownership-verdicts.json` holds, for every ownership
//! shape in `ownership-shapes.json`, the ownership fields our finalize wrote and
//! the reference's `finalize-tasks --validate-only` verdict on them (made once by
//! `make-ownership-verdicts.sh`). Here each shape is finalized again: our fields
//! must be the ones the reference judged, and we accept exactly what it accepts.

use serde_json::Value;

use crate::common::flow::move_task;
use crate::common::{write, TestEnv};

fn fixture(name: &str) -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compat/");
    serde_json::from_str(&std::fs::read_to_string(format!("{p}{name}")).unwrap()).unwrap()
}

/// The WP file the generator script writes for `shape`.
fn wp_text(shape: &Value, slug: &str) -> String {
    let mut fm =
        String::from("---\nwork_package_id: WP01\ntitle: Shape\nrequirement_refs:\n- FR-001\n");
    if shape["planning"].as_bool() == Some(true) {
        fm.push_str("execution_mode: planning_artifact\n");
    }
    if let Some(globs) = shape["owned_files"].as_array() {
        fm.push_str("owned_files:\n");
        for g in globs {
            fm.push_str(&format!(
                "- {}\n",
                g.as_str().unwrap().replace("{slug}", slug)
            ));
        }
    }
    if let Some(s) = shape["authoritative_surface"].as_str() {
        fm.push_str(&format!("authoritative_surface: {s}\n"));
    }
    let body: Vec<String> = shape["body_paths"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| format!("`{}`", p.as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let body = if body.is_empty() {
        "the owned files".to_string()
    } else {
        body.join(" and ")
    };
    format!("{fm}---\n\n# WP01: Shape\n\nWork on {body}.\n")
}

#[test]
fn finalize_writes_what_the_reference_validates() {
    let shapes = fixture("ownership-shapes.json");
    let verdicts = fixture("ownership-verdicts.json");
    let shapes = shapes.as_array().unwrap();
    let verdicts = verdicts.as_array().unwrap();
    assert_eq!(
        shapes.len(),
        verdicts.len(),
        "re-run make-ownership-verdicts.sh"
    );
    let env = TestEnv::new();
    for (shape, verdict) in shapes.iter().zip(verdicts) {
        let name = shape["name"].as_str().unwrap();
        assert_eq!(verdict["name"], shape["name"]);
        let root = env.project(name);
        let m = env.create_mission(&root, "shape");
        write(&m.dir.join("spec.md"), "# Spec\n\n| FR-001 | The shape |\n");
        write(&m.dir.join("plan.md"), "# Plan\n\nBuild the shape.\n");
        write(
            &m.dir.join("tasks.md"),
            "# Work Packages\n\n## WP01: Shape\n\n**Requirement Refs**: FR-001\n**Dependencies**: none\n\n- [ ] T001 Do the shape\n",
        );
        let wp = m.dir.join("tasks/WP01-shape.md");
        write(&wp, &wp_text(shape, &m.slug));
        let out = env.run(
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
        let reference_ok = verdict["reference_exit"] == 0;
        assert_eq!(
            out.status.success(),
            reference_ok,
            "{name}: ours and the reference disagree ({:?})\n{}",
            verdict["reference_verdict"],
            String::from_utf8_lossy(&out.stdout)
        );
        let text = std::fs::read_to_string(&wp).unwrap();
        let front: serde_yaml::Value =
            serde_yaml::from_str(text.split("---").nth(1).unwrap()).unwrap();
        let surface = front["authoritative_surface"]
            .as_str()
            .unwrap_or_default()
            .replace(&m.slug, "{slug}");
        assert_eq!(
            surface,
            verdict["authoritative_surface"].as_str().unwrap(),
            "{name}"
        );
        let owned: Vec<String> = front["owned_files"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .map(|g| g.as_str().unwrap().replace(&m.slug, "{slug}"))
                    .collect()
            })
            .unwrap_or_default();
        let recorded: Vec<String> = verdict["owned_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap().to_string())
            .collect();
        assert_eq!(owned, recorded, "{name}");
        if reference_ok {
            assert_eq!(
                front["execution_mode"].as_str(),
                verdict["execution_mode"].as_str(),
                "{name}"
            );
            // A surface the reference accepts is a literal prefix of an owned glob.
            assert!(
                owned.iter().any(|g| g.starts_with(&surface)),
                "{name}: {surface}"
            );
        }
    }
}

/// A mission the reference wrote, continued under ours and handed back: the
/// reference's verdict on the result (`roundtrip-verdict.json`, made once by
/// `make-roundtrip-verdict.sh`) is recorded; here the same steps run with ours
/// and must reach the state the reference judged valid.
#[test]
fn a_reference_mission_continued_under_ours_is_what_the_reference_accepted() {
    let verdict = fixture("roundtrip-verdict.json");
    assert_eq!(verdict["validate_only_result"], "validation_passed");
    assert_eq!(verdict["status_exit"], 0);
    let env = TestEnv::new();
    let root = env.work.join("p");
    std::fs::create_dir_all(&root).unwrap();
    env.git(&root, &["init", "-q"]);
    env.ok(&root, &["init", ".", "--ai", "codex"]);
    crate::common::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/taskgraph/001-dogfood-track2"),
        &root.join("kitty-specs/001-dogfood-track2"),
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "init"]);
    let m = "001-dogfood-track2";
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", m],
    );
    env.ok(
        &root,
        &[
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP01",
            "--refs",
            "FR-001,FR-002",
            "--mission",
            m,
        ],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "tasks"]);
    let v = env.json(&root, &crate::common::implement_args("WP01", m, "codex"));
    let wt = std::path::PathBuf::from(v["workspace"].as_str().unwrap());
    write(&wt.join("src/gamma/lib.rs"), "// gamma\n");
    env.git(&wt, &["add", "-A"]);
    env.git(&wt, &["commit", "-qm", "WP01 gamma"]);
    env.ok(
        &root,
        &move_task(
            "WP01",
            "for_review",
            &["--agent", "codex", "--note", "ready"],
            m,
        ),
    );
    env.ok(
        &root,
        &[
            "agent",
            "action",
            "review",
            "WP01",
            "--mission",
            m,
            "--agent",
            "claude",
        ],
    );
    env.ok(
        &root,
        &move_task(
            "WP01",
            "approved",
            &["--agent", "claude", "--note", "ok"],
            m,
        ),
    );
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", m, "--json"],
    );
    let text = board.to_string();
    for wp in verdict["status"]["work_packages"].as_array().unwrap() {
        let (id, lane) = (wp["id"].as_str().unwrap(), wp["lane"].as_str().unwrap());
        let ours = board["work_packages"]
            .as_array()
            .and_then(|a| a.iter().find(|w| w["id"] == id || w["wp_id"] == id))
            .unwrap_or_else(|| panic!("{id} not on our board: {text}"));
        assert_eq!(ours["lane"].as_str(), Some(lane), "{id}: {text}");
    }
    // Ownership and refs as the reference validated them.
    let wp1 =
        std::fs::read_to_string(root.join("kitty-specs/001-dogfood-track2/tasks/WP01-gamma.md"))
            .unwrap();
    assert!(wp1.contains("- FR-001\n- FR-002\n"), "{wp1}");
    env.ok(
        &root,
        &["agent", "tasks", "validate-workflow", "--mission", m],
    );
}
