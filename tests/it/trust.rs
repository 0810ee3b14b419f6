//! Trust boundaries: repo content is input from strangers. Hostile ids in
//! lanes.json, meta.json and directory names, lanes.json copied from another
//! mission, and links that lead out of the project never make a command create,
//! delete, lock or write anything outside the project.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::flow::action_json;
use crate::common::{stderr, stdout, write_mission, TestEnv, WpDef};

/// A finalized mission `001-demo` with one code WP (no dependencies), so
/// `implement` creates a lane worktree at once.
fn one_code_wp(env: &TestEnv) -> (PathBuf, crate::common::MissionInfo) {
    env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])])
}

fn implement(env: &TestEnv, root: &Path, slug: &str) -> std::process::Output {
    env.run(root, &crate::common::implement_args("WP01", slug, "codex"))
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

fn branches(env: &TestEnv, root: &Path) -> String {
    env.git(root, &["branch", "--list", "--format=%(refname)"])
}

/// Exit 1, one JSON error document whose message names `needles`.
fn refused_json(out: &std::process::Output, needles: &[&str]) -> Value {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let msg = v["error"].as_str().unwrap_or_default();
    for n in needles {
        assert!(msg.contains(n), "{n:?} not in {msg}");
    }
    v
}

#[test]
fn hostile_ids_in_lanes_json_are_refused_before_anything_is_created() {
    let env = TestEnv::new();
    let (root, m) = one_code_wp(&env);
    let lanes = m.dir.join("lanes.json");
    let pristine = fs::read_to_string(&lanes).unwrap();
    let before = branches(&env, &root);
    // (field named in the error, JSON pointer, hostile value)
    let cases = [
        (
            "lanes[0].lane_id",
            "/lanes/0/lane_id",
            json!("lane-a/../../../../escape"),
        ),
        (
            "lanes[0].lane_id",
            "/lanes/0/lane_id",
            json!("../../escape"),
        ),
        (
            "lanes[0].wp_ids[0]",
            "/lanes/0/wp_ids/0",
            json!("WP01/../../x"),
        ),
        (
            "lanes[0].depends_on_lanes[0]",
            "/lanes/0/depends_on_lanes",
            json!(["lane-$(id)"]),
        ),
        ("mission_slug", "/mission_slug", json!("../../escape")),
        ("target_branch", "/target_branch", json!("-rf")),
        ("mission_branch", "/mission_branch", json!("kitty/../x")),
    ];
    for (field, pointer, value) in cases {
        fs::write(&lanes, &pristine).unwrap();
        edit_json(&lanes, |v| *v.pointer_mut(pointer).unwrap() = value.clone());
        let out = implement(&env, &root, &m.slug);
        refused_json(&out, &["lanes.json", field]);
        assert!(
            !root.join(".worktrees").exists(),
            "{field}: nothing created"
        );
        assert!(!env.work.join("escape").exists() && !root.join("escape").exists());
        assert_eq!(branches(&env, &root), before, "{field}: no branch created");
        // The board and next refuse the same file the same way.
        let out = env.run(
            &root,
            &["next", "--agent", "codex", "--mission", &m.slug, "--json"],
        );
        refused_json(&out, &["lanes.json", field]);
    }
    // Restored, the same command goes through.
    fs::write(&lanes, &pristine).unwrap();
    let out = implement(&env, &root, &m.slug);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn lanes_json_of_another_mission_or_a_renumbered_directory_is_never_acted_on() {
    let env = TestEnv::new();
    let (root, a) = one_code_wp(&env);
    // Mission A's lane exists with work on it.
    assert!(implement(&env, &root, &a.slug).status.success());
    let b = env.create_mission(&root, "other");
    write_mission(
        &b.dir,
        &b.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &b.slug],
    );
    let before = branches(&env, &root);

    // B's lanes.json is replaced by A's (copied by hand, or a bad merge).
    fs::copy(a.dir.join("lanes.json"), b.dir.join("lanes.json")).unwrap();
    for args in [
        vec!["merge", "--mission", &b.slug, "--dry-run", "--json"],
        vec!["merge", "--mission", &b.slug, "--json"],
        crate::common::implement_args("WP01", &b.slug, "codex").to_vec(),
    ] {
        let out = env.run(&root, &args);
        refused_json(&out, &["lanes.json", "mission_slug", &a.slug, &b.slug]);
    }
    // Same slug, another mission's id.
    edit_json(&b.dir.join("lanes.json"), |v| {
        v["mission_slug"] = b.slug.clone().into();
        v["mission_id"] = a.id.clone().into();
    });
    let out = implement(&env, &root, &b.slug);
    refused_json(&out, &["mission_id", &a.id]);
    assert_eq!(branches(&env, &root), before, "A's lane branches untouched");
    assert!(root.join(".worktrees/001-demo-lane-a").is_dir());

    // A renumbered directory: its lanes.json still names the old slug.
    let renamed = root.join("kitty-specs/005-demo");
    fs::rename(&a.dir, &renamed).unwrap();
    let out = env.run(&root, &["merge", "--mission", "005-demo", "--json"]);
    refused_json(&out, &["mission_slug", "001-demo", "005-demo"]);
    assert_eq!(branches(&env, &root), before);
}

#[test]
fn a_corrupt_meta_json_or_a_hostile_directory_name_is_an_error_for_the_mission() {
    let env = TestEnv::new();
    let (root, m) = one_code_wp(&env);
    let meta = m.dir.join("meta.json");
    let good = fs::read_to_string(&meta).unwrap();
    for (bad, needle) in [
        ("{\"mission_id\": ", "meta.json:1"),
        ("[1, 2]", "meta.json"),
        ("{\"target_branch\": \"main;rm -rf ~\"}", "target_branch"),
        ("{\"target_branch\": \"--force\"}", "target_branch"),
    ] {
        fs::write(&meta, bad).unwrap();
        for args in [
            vec!["agent", "tasks", "status", "--mission", "001", "--json"],
            vec!["next", "--agent", "codex", "--mission", "001", "--json"],
            vec!["merge", "--mission", "001", "--dry-run", "--json"],
        ] {
            let out = env.run(&root, &args);
            refused_json(&out, &[needle]);
        }
        let out = implement(&env, &root, "001");
        refused_json(&out, &[needle]);
        assert!(!root.join(".worktrees").exists());
    }
    fs::write(&meta, good).unwrap();

    // A directory whose name is not a slug never builds a branch or a lock.
    let evil = root.join("kitty-specs/001-x;touch PWNED");
    fs::create_dir_all(evil.join("tasks")).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "status",
            "--mission",
            "001-x;touch PWNED",
            "--json",
        ],
    );
    refused_json(&out, &["mission directory name", "not a mission slug"]);
    assert!(!root.join("PWNED").exists());
}

/// A directory outside the project with a file in it that must survive.
fn precious(env: &TestEnv, name: &str) -> PathBuf {
    let dir = env.work.join(name);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("precious.txt"), "keep me\n").unwrap();
    dir
}

#[cfg(unix)]
#[test]
fn delete_never_removes_anything_outside_worktrees_and_the_mission() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();

    // 1. A lane worktree path that is a link to a directory outside.
    let (root, m) = one_code_wp(&env);
    let outside = precious(&env, "outside-1");
    fs::create_dir_all(root.join(".worktrees")).unwrap();
    symlink(&outside, root.join(".worktrees/001-demo-lane-a")).unwrap();
    let out = env.run(
        &root,
        &["agent", "mission", "delete", "demo", "--force", "--json"],
    );
    refused_json(&out, &["refusing to remove", "symbolic link"]);
    assert!(outside.join("precious.txt").exists());
    assert!(m.dir.join("meta.json").exists(), "nothing removed");
    fs::remove_file(root.join(".worktrees/001-demo-lane-a")).unwrap();

    // 2. A directory in .worktrees/ that git does not list as a worktree.
    let stray = root.join(".worktrees/001-demo-lane-b");
    fs::create_dir_all(&stray).unwrap();
    fs::write(stray.join("notes.txt"), "mine\n").unwrap();
    let out = env.run(
        &root,
        &["agent", "mission", "delete", "demo", "--force", "--json"],
    );
    refused_json(&out, &["git does not list it"]);
    assert!(stray.join("notes.txt").exists());
    assert!(m.dir.join("meta.json").exists());
    fs::remove_dir_all(&stray).unwrap();
    fs::remove_dir(root.join(".worktrees")).unwrap();

    // 3. `.worktrees` itself is a link to a directory outside.
    let outside = env.work.join("outside-3");
    let lane = precious(&env, "outside-3/001-demo-lane-a");
    symlink(&outside, root.join(".worktrees")).unwrap();
    let out = env.run(
        &root,
        &["agent", "mission", "delete", "demo", "--force", "--json"],
    );
    refused_json(&out, &["refusing to remove"]);
    assert!(lane.join("precious.txt").exists());
    fs::remove_file(root.join(".worktrees")).unwrap();

    // 4. The mission directory is reached through a linked kitty-specs.
    let env2 = TestEnv::new();
    let root2 = env2.project("p");
    let m2 = env2.create_mission(&root2, "demo");
    let real_specs = env2.work.join("specs-elsewhere");
    fs::rename(root2.join("kitty-specs"), &real_specs).unwrap();
    fs::write(real_specs.join("precious.txt"), "keep me\n").unwrap();
    let moved = real_specs.join(&m2.slug);
    symlink(&real_specs, root2.join("kitty-specs")).unwrap();
    let out = env2.run(&root2, &["agent", "mission", "delete", "demo", "--json"]);
    refused_json(&out, &["refusing to remove", "not directly inside"]);
    assert!(moved.join("meta.json").exists() && real_specs.join("precious.txt").exists());

    // With nothing hostile left, delete works and removes the real lane worktree.
    assert!(implement(&env, &root, &m.slug).status.success());
    let v = env.json(
        &root,
        &["agent", "mission", "delete", "demo", "--force", "--json"],
    );
    assert_eq!(v["result"], "success");
    assert!(!m.dir.exists() && !root.join(".worktrees").exists());
    assert!(env.work.join("outside-1/precious.txt").exists());
}

#[cfg(unix)]
#[test]
fn writes_never_go_through_a_link_that_leaves_the_project() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    let outside = precious(&env, "outside");
    let victim = outside.join("precious.txt");

    // A WP file that is a link to a file outside: finalize refuses, writes nothing.
    let wp = m.dir.join("tasks/WP01-core.md");
    fs::copy(&wp, &victim).unwrap();
    let before = fs::read_to_string(&victim).unwrap();
    fs::remove_file(&wp).unwrap();
    symlink(&victim, &wp).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "demo",
            "--json",
        ],
    );
    refused_json(&out, &["refusing to write", "WP01-core.md", "outside"]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), before);
    assert!(!m.dir.join("lanes.json").exists(), "nothing written");
    // Inside the project a link is followed (documented): the linked file changes.
    let inside = root.join("docs/WP01-core.md");
    fs::create_dir_all(inside.parent().unwrap()).unwrap();
    fs::copy(&victim, &inside).unwrap();
    fs::remove_file(&wp).unwrap();
    symlink(&inside, &wp).unwrap();
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    assert!(fs::symlink_metadata(&wp).unwrap().file_type().is_symlink());
    assert!(fs::read_to_string(&inside)
        .unwrap()
        .contains("dependencies:"));

    // status.json and the event log linked outside: a move refuses, writes nothing there.
    for (name, to) in [
        ("status.events.jsonl", "claimed"),
        ("status.json", "claimed"),
    ] {
        let file = m.dir.join(name);
        let saved = fs::read(&file).unwrap();
        fs::write(&victim, &saved).unwrap();
        fs::remove_file(&file).unwrap();
        symlink(&victim, &file).unwrap();
        let out = env.run(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                to,
                "--agent",
                "x",
                "--mission",
                "demo",
                "--json",
            ],
        );
        refused_json(&out, &["refusing to write", name]);
        assert_eq!(fs::read(&victim).unwrap(), saved, "{name}");
        fs::remove_file(&file).unwrap();
        fs::write(&file, saved).unwrap();
    }

    // The refused snapshot is derived data: with the link gone, the next
    // command writes it from the log (the claim above was recorded).
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "demo", "--json"],
    );
    assert!(board.to_string().contains("claimed"), "{board}");

    // A mission subdirectory that is a link to a directory outside.
    let tasks = m.dir.join("tasks");
    let moved = env.work.join("tasks-elsewhere");
    fs::rename(&tasks, &moved).unwrap();
    symlink(&moved, &tasks).unwrap();
    let real_wp = moved.join("WP01-core.md");
    fs::remove_file(&real_wp).unwrap();
    fs::copy(&inside, &real_wp).unwrap();
    let before = fs::read(&real_wp).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "in_progress",
            "--agent",
            "x",
            "--mission",
            "demo",
            "--json",
        ],
    );
    refused_json(&out, &["refusing to write", "resolves to"]);
    assert_eq!(fs::read(&real_wp).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn prompts_live_in_a_private_dir_inside_the_git_directory_and_never_follow_a_planted_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let env = TestEnv::new();
    let (root, m) = one_code_wp(&env);
    let dir = root.join(".git/spec-kitty/prompts");
    // Planted before the first run: a link where the prompt will go, and the
    // directory made world-writable.
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let outside = precious(&env, "outside");
    let planted = dir.join(format!("{}-WP01-implement.md", m.slug));
    symlink(outside.join("precious.txt"), &planted).unwrap();
    let out = implement(&env, &root, &m.slug);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = PathBuf::from(v["prompt_file"].as_str().unwrap());
    assert_eq!(file, planted);
    assert!(!fs::symlink_metadata(&file)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        v["prompt"].as_str().unwrap()
    );
    assert_eq!(
        fs::read_to_string(outside.join("precious.txt")).unwrap(),
        "keep me\n"
    );
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Nothing under TMPDIR, and git status never shows the prompts.
    let tmp_spec_kitty = env.tmp.path().join("spec-kitty");
    assert!(!tmp_spec_kitty.exists(), "no shared /tmp folder");
    assert!(!env
        .git(&root, &["status", "--porcelain", "--ignored"])
        .contains("prompt"));

    // The prompts directory replaced by a link: refused, never followed.
    fs::remove_dir_all(&dir).unwrap();
    let elsewhere = precious(&env, "elsewhere");
    symlink(&elsewhere, &dir).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "action",
            "review",
            "WP01",
            "--mission",
            &m.slug,
            "--agent",
            "claude",
            "--json",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        fs::read_dir(&elsewhere).unwrap().count(),
        1,
        "nothing written there"
    );
}

#[test]
fn the_next_run_log_is_append_only_and_bad_lines_are_reported_and_kept() {
    let env = TestEnv::new();
    let (root, m) = one_code_wp(&env);
    let next = |env: &TestEnv| {
        env.run(
            &root,
            &["next", "--agent", "codex", "--mission", &m.slug, "--json"],
        )
    };
    assert!(next(&env).status.success());
    let log = root.join(format!(".git/spec-kitty/runs/{}.jsonl", m.slug));
    let mut bytes = fs::read(&log).unwrap();
    // A hand-edited line of bad UTF-8, then a torn last line.
    bytes.extend_from_slice(
        b"{\"event\": \"decision\", \"agent\": \"\xff\xfe\"}\n{\"event\": \"deci",
    );
    fs::write(&log, &bytes).unwrap();
    let out = next(&env);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(".jsonl:2") && err.contains("UTF-8"), "{err}");
    assert!(err.contains(".jsonl:3") && err.contains("torn"), "{err}");
    let after = fs::read(&log).unwrap();
    assert!(after.starts_with(&bytes), "every old byte kept in place");
    let tail = String::from_utf8(after[bytes.len()..].to_vec()).unwrap();
    assert!(
        tail.starts_with('\n'),
        "the torn line is closed, not glued: {tail:?}"
    );
    assert_eq!(tail.trim().lines().count(), 1, "one new decision: {tail}");
}

/// finalize-tasks on a one-WP mission whose WP file frontmatter gets `extra`.
fn finalize_with(env: &TestEnv, extra: &str, replace_owned: Option<&str>) -> std::process::Output {
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    let wp = m.dir.join("tasks/WP01-core.md");
    let mut text = fs::read_to_string(&wp).unwrap();
    if let Some(owned) = replace_owned {
        text = text.replace("owned_files:\n- src/core/**\n", owned);
    }
    text = text.replacen("---\n", &format!("---\n{extra}"), 1);
    fs::write(&wp, text).unwrap();
    env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "demo",
            "--json",
        ],
    )
}

#[test]
fn finalize_refuses_escaping_owned_files_hostile_subtasks_and_wrong_types() {
    // (frontmatter added, owned_files replaced, what the error must name)
    let cases: &[(&str, Option<&str>, &[&str])] = &[
        (
            "",
            Some("owned_files:\n- src/ok/**\n- /etc/**\n"),
            &["WP01-core.md:6", "/etc/**", "absolute"],
        ),
        (
            "",
            Some("owned_files:\n- ../../outside/**\n"),
            &["WP01-core.md:5", "..", "climbs out"],
        ),
        (
            "",
            Some("owned_files:\n- src/../../x\n"),
            &["WP01-core.md:5", "climbs out"],
        ),
        ("", Some("owned_files:\n- ~/.ssh/**\n"), &["absolute"]),
        (
            "subtasks:\n- T001\n- 'T002; touch PWNED'\n",
            None,
            &["WP01-core.md:4", "subtask", "T002; touch PWNED"],
        ),
        (
            "dependencies: {a: b}\n",
            None,
            &["WP01-core.md:2", "`dependencies`", "mapping"],
        ),
        ("dependencies: 5\n", None, &["`dependencies`", "a number"]),
        (
            "owned_files_x: 1\nrequirement_refs:\n- {x: 1}\n",
            None,
            &["`requirement_refs`", "mapping"],
        ),
        (
            "execution_mode: [a, b]\n",
            None,
            &["`execution_mode`", "a list"],
        ),
    ];
    for (extra, owned, needles) in cases {
        let env = TestEnv::new();
        let out = finalize_with(&env, extra, *owned);
        refused_json(&out, needles);
        let lanes = env.work.join("p/kitty-specs/001-demo/lanes.json");
        assert!(!lanes.exists(), "{extra}{owned:?}: nothing written");
    }
    // Two WP files with one id: an error for finalize and for every command
    // that reads the WP files (it would act on whichever came first).
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    fs::copy(
        m.dir.join("tasks/WP01-core.md"),
        m.dir.join("tasks/WP01-copy.md"),
    )
    .unwrap();
    for args in [
        vec![
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "demo",
            "--json",
        ],
        vec![
            "agent",
            "action",
            "implement",
            "--mission",
            "demo",
            "--agent",
            "x",
            "--json",
        ],
    ] {
        let out = env.run(&root, &args);
        refused_json(
            &out,
            &[
                "duplicate work package id WP01",
                "WP01-core.md",
                "WP01-copy.md",
            ],
        );
    }
}

/// Every command line a prompt prints: indented lines and `backticked` spans
/// that start with `spec-kitty `, `git -C ` or `cd `.
fn printed_commands(prompt: &str) -> Vec<String> {
    let starts = |l: &str| {
        ["spec-kitty ", "git -C ", "cd "]
            .iter()
            .any(|p| l.starts_with(p))
    };
    let mut out = Vec::new();
    for line in prompt.lines() {
        let t = line.trim();
        if line.starts_with("    ") && starts(t) {
            out.push(t.to_string());
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("spec-kitty ") {
                out.push(span.to_string());
            }
        }
    }
    out
}

#[cfg(unix)]
#[test]
fn printed_commands_run_only_spec_kitty_and_git_whatever_the_frontmatter_says() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    let wp = m.dir.join("tasks/WP01-core.md");
    let hostile_title = r#"a"; touch PWNED1; echo "$(touch PWNED2)`touch PWNED3`'\"#;
    let text = fs::read_to_string(&wp).unwrap().replace(
        "title: Core",
        &format!(
            "title: {}",
            serde_json::to_string(&format!("{hostile_title}\nx; touch PWNED4")).unwrap()
        ),
    );
    fs::write(&wp, text).unwrap();
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", "demo"],
    );
    // After finalize, a hand edit slips a hostile subtask id into the frontmatter.
    let text = fs::read_to_string(&wp).unwrap();
    assert!(text.contains("subtasks:\n- T001\n"), "{text}");
    fs::write(
        &wp,
        text.replace(
            "subtasks:\n- T001\n",
            "subtasks:\n- T001\n- 'T9;touch PWNED5'\n",
        ),
    )
    .unwrap();
    let agent = "bot';touch PWNED6;'";
    let mut prompts = Vec::new();
    let v = env.json(&root, &action_json("implement", "WP01", agent));
    prompts.push(v["prompt"].as_str().unwrap().to_string());
    let v = env.json(
        &root,
        &["next", "--agent", agent, "--mission", "demo", "--json"],
    );
    if let Some(c) = v["command"].as_str() {
        prompts.push(format!("    {c}\n"));
    }
    let commands: Vec<String> = prompts.iter().flat_map(|p| printed_commands(p)).collect();
    assert!(commands.len() >= 5, "{commands:?}");

    // Stubs record their arguments, one bracketed word each.
    let stubs = env.tmp.path().join("stubs");
    fs::create_dir_all(&stubs).unwrap();
    let log = env.tmp.path().join("calls.log");
    for name in ["spec-kitty", "git"] {
        let stub = stubs.join(name);
        fs::write(
            &stub,
            format!("#!/bin/sh\nprintf '{name}' >> \"$CALLS\"\nfor a in \"$@\"; do printf ' [%s]' \"$a\" >> \"$CALLS\"; done\necho >> \"$CALLS\"\n"),
        )
        .unwrap();
        fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:/usr/bin:/bin", stubs.display());
    let scratch = env.tmp.path().join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    for c in &commands {
        let syntax = std::process::Command::new("bash")
            .args(["-n", "-c", c])
            .output()
            .unwrap();
        assert!(
            syntax.status.success(),
            "bash -n: {c}\n{}",
            String::from_utf8_lossy(&syntax.stderr)
        );
        let ran = std::process::Command::new("bash")
            .args(["-c", c])
            .current_dir(&scratch)
            .env("PATH", &path)
            .env("CALLS", &log)
            .output()
            .unwrap();
        assert!(
            ran.status.success(),
            "{c}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }
    let calls = fs::read_to_string(&log).unwrap();
    // Only the stubs ran, once per printed spec-kitty/git command, and nothing else.
    let expected = commands.iter().filter(|c| !c.starts_with("cd ")).count();
    assert_eq!(calls.lines().count(), expected, "{calls}");
    assert!(
        calls
            .lines()
            .all(|l| l.starts_with("spec-kitty [") || l.starts_with("git [")),
        "{calls}"
    );
    for dir in [
        &scratch,
        &root,
        &env.work,
        &root.join(".worktrees/001-demo-lane-a"),
    ] {
        for n in 1..=6 {
            assert!(
                !dir.join(format!("PWNED{n}")).exists(),
                "PWNED{n} in {}",
                dir.display()
            );
        }
    }
    // The hostile values arrived as single arguments.
    assert!(calls.contains(&format!("[{agent}]")), "{calls}");
    assert!(calls.contains("[T9;touch PWNED5]"), "{calls}");
    assert!(calls.contains("[WP01: a\"; touch PWNED1;"), "{calls}");
}

/// A loopback HTTP server answering every request with `answer(request_line)`
/// (status, extra header lines, body); returns its URL and the request bodies it saw.
fn http_server(
    answer: impl Fn(&str) -> (u16, String, String) + Send + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            log.lock().unwrap().push(format!(
                "{} {}",
                line.trim(),
                String::from_utf8_lossy(&body)
            ));
            let (status, headers, text) = answer(&line);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, seen)
}

/// A server that logs anyone in and rotates tokens on refresh.
fn good_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    http_server(|_| {
        (
            200,
            String::new(),
            json!({"access": "access-1", "refresh": "refresh-1", "expires_in": 900}).to_string(),
        )
    })
}

fn login_to(env: &TestEnv, url: &str) -> std::process::Output {
    env.sk(
        &env.work,
        &["auth", "login", "-u", "alice", "--password-stdin", "--json"],
    )
    .env("SPEC_KITTY_SERVER_URL", url)
    .write_stdin("s3cret-password\n")
    .output()
    .unwrap()
}

#[test]
fn a_redirect_never_carries_the_password_to_another_server() {
    let (second, second_seen) = good_server();
    for (status, target) in [
        (307, format!("{second}/api/v1/token/")),
        (308, format!("{second}/api/v1/token/")),
        (302, "https://evil.example/steal".to_string()),
    ] {
        let target2 = target.clone();
        let (first, first_seen) =
            http_server(move |_| (status, format!("Location: {target2}\r\n"), "{}".into()));
        let env = TestEnv::new();
        let out = login_to(&env, &first);
        refused_json(&out, &["redirect", &target]);
        assert_eq!(first_seen.lock().unwrap().len(), 1);
        assert!(
            second_seen.lock().unwrap().is_empty(),
            "the second server saw nothing"
        );
        assert!(!env.home.join(".spec-kitty/credentials").exists());
    }
}

#[test]
fn the_refresh_token_only_goes_to_the_server_that_issued_it() {
    let env = TestEnv::new();
    let (issuer, issuer_seen) = good_server();
    let (other, other_seen) = good_server();
    assert!(login_to(&env, &issuer).status.success());
    let out = env
        .sk(&env.work, &["auth", "refresh", "--force", "--json"])
        .env("SPEC_KITTY_SERVER_URL", &other)
        .output()
        .unwrap();
    refused_json(&out, &["issued by", &issuer, &other]);
    assert!(
        other_seen.lock().unwrap().is_empty(),
        "no token sent to {other}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["hint"].as_str().unwrap().contains("auth login"), "{v}");
    // The issuer still refreshes it.
    let out = env
        .sk(&env.work, &["auth", "refresh", "--force", "--json"])
        .env("SPEC_KITTY_SERVER_URL", &issuer)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(issuer_seen.lock().unwrap().len(), 2);
}

#[cfg(unix)]
#[test]
fn the_auth_dir_is_private_and_its_files_bounded_and_read_errors_are_errors() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let dir = env.home.join(".spec-kitty");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let (url, _) = good_server();
    assert!(login_to(&env, &url).status.success());
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let creds = dir.join("credentials");
    assert_eq!(
        fs::metadata(&creds).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A huge credentials file is refused by its size, not read.
    let f = fs::File::create(&creds).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    let out = env.run(&env.work, &["auth", "status", "--json"]);
    refused_json(&out, &["credentials", "limit"]);

    // An unreadable config.toml is an error, not the default server.
    fs::remove_file(&creds).unwrap();
    fs::create_dir_all(dir.join("config.toml")).unwrap();
    let out = env
        .sk(
            &env.work,
            &["auth", "login", "-u", "alice", "--password-stdin", "--json"],
        )
        .write_stdin("pw\n")
        .output()
        .unwrap();
    refused_json(&out, &["config.toml"]);
}

#[test]
#[cfg_attr(
    not(has_script),
    ignore = "needs util-linux `script` for a pseudo-terminal (.ci/run installs it)"
)]
fn the_password_prompt_does_not_echo_on_a_terminal() {
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let (url, seen) = good_server();
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut child = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{}' auth login -u alice", bin.display()),
            "/dev/null",
        ])
        .current_dir(&env.work)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("SPEC_KITTY_SERVER_URL", &url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut seen_out = Vec::new();
    let mut buf = [0u8; 256];
    // Type the password only once the prompt is shown (echo is off by then).
    while !String::from_utf8_lossy(&seen_out).contains("Password: ") {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen_out));
        seen_out.extend_from_slice(&buf[..n]);
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"typed-secret\n").unwrap();
    stdout.read_to_end(&mut seen_out).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let screen = String::from_utf8_lossy(&seen_out);
    assert!(
        !screen.contains("typed-secret"),
        "the password was echoed: {screen:?}"
    );
    assert!(
        seen.lock().unwrap()[0].contains("typed-secret"),
        "it was still sent"
    );
}

#[test]
fn expensive_inputs_are_refused_by_size_or_depth_before_parsing() {
    let env = TestEnv::new();
    let (root, m) = one_code_wp(&env);
    let wp = m.dir.join("tasks/WP01-core.md");
    let good = fs::read_to_string(&wp).unwrap();
    let board = ["agent", "tasks", "status", "--mission", "demo", "--json"];
    // 100 000 nested `[` (libyaml's scanner is quadratic in it).
    let deep = format!("x: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    fs::write(&wp, good.replacen("---\n", &format!("---\n{deep}"), 1)).unwrap();
    refused_json(
        &env.run(&root, &board),
        &["WP01-core.md:2", "deeper than 64"],
    );
    // An alias bomb (10^12 nodes if expanded).
    let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    fs::write(&wp, good.replacen("---\n", &format!("---\n{bomb}"), 1)).unwrap();
    refused_json(
        &env.run(&root, &board),
        &["WP01-core.md", "repetition limit"],
    );
    // Frontmatter over 1 MiB.
    let big = format!("notes: {}\n", "x".repeat(1024 * 1024 + 10));
    fs::write(&wp, good.replacen("---\n", &format!("---\n{big}"), 1)).unwrap();
    refused_json(&env.run(&root, &board), &["WP01-core.md", "byte limit"]);
    fs::write(&wp, &good).unwrap();
    // A 100 MB tasks.md (sparse): refused by its size, never read.
    let tasks = m.dir.join("tasks.md");
    let f = fs::OpenOptions::new().append(true).open(&tasks).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    let out = env.run(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            "demo",
            "--json",
        ],
    );
    refused_json(&out, &["tasks.md", "16777216-byte limit"]);
}
