//! The status log, move-task and the board.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::flow::{move_task, Flow};
use crate::common::snap::assert_run;
use crate::common::{finalize_tasks, hold_and_contend, stderr, stdout, TestEnv};

/// A finalized mission `001-m` with `n` independent code WPs.
fn mission(env: &TestEnv, n: usize) -> (PathBuf, PathBuf) {
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "create", "m", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    let mut tasks = String::from("# WPs\n");
    for i in 1..=n {
        tasks.push_str(&format!(
            "\n## WP{i:02}: Package {i}\n\n- [ ] T{i:03} build it\n"
        ));
        fs::write(
            dir.join(format!("tasks/WP{i:02}-p{i}.md")),
            format!(
                "---\nwork_package_id: WP{i:02}\ntitle: Package {i}\n---\n\nBuild `src/p{i}/`.\n"
            ),
        )
        .unwrap();
    }
    fs::write(dir.join("tasks.md"), tasks).unwrap();
    env.json(&root, &finalize_tasks("m"));
    (root, dir)
}

#[test]
fn legal_moves_illegal_moves_and_force() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 2);
    let f = Flow::new(&env, &root, "m");
    // Every refusal names the rule, the current lane and the command to run.
    let out = assert_run!(
        env,
        &root,
        "refused_planned_to_done",
        move_task("WP01", "done", &[], "m")
    );
    assert_eq!(out.status.code(), Some(1));

    let out = f.move_task("WP01", "claimed", &["--agent", "codex", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["from_lane"].as_str(), v["to_lane"].as_str()),
        (Some("planned"), Some("claimed"))
    );

    // A refused move names the allowed targets and the override.
    let out = assert_run!(
        env,
        &root,
        "refused_claimed_to_planned",
        move_task("WP01", "planned", &[], "m")
    );
    assert_eq!(out.status.code(), Some(1));
    // Under --json the backward refusal is named as one, with the same keys.
    let out = f.move_task("WP01", "planned", &["--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rule"], "no-going-back", "{v}");
    assert_eq!(v["current_lane"], "claimed", "{v}");
    assert!(v["command"].is_string(), "{v}");

    // for_review needs the WP's subtasks ticked.
    f.move_task("WP01", "in_progress", &["--agent", "codex"]);
    let out = assert_run!(
        env,
        &root,
        "refused_unticked",
        move_task("WP01", "for_review", &[], "m")
    );
    assert_eq!(out.status.code(), Some(1));
    env.json(
        &root,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "--status",
            "done",
            "--mission",
            "m",
            "--json",
        ],
    );
    // A code WP hands in committed work on its lane branch, and there is none.
    let out = assert_run!(
        env,
        &root,
        "refused_no_lane_branch",
        move_task("WP01", "for_review", &["--agent", "codex"], "m")
    );
    assert_eq!(out.status.code(), Some(1));
    let v = env.json(&root, &crate::common::implement_args("WP01", "m", "codex"));
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    fs::create_dir_all(wt.join("src/p1")).unwrap();
    fs::write(wt.join("src/p1/lib.rs"), "// p1\n").unwrap();
    env.git(&wt, &["add", "-A"]);
    env.git(&wt, &["commit", "-qm", "WP01"]);
    let out = f.move_task("WP01", "for_review", &["--agent", "codex"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // --force needs --reason; with it the move is recorded as forced.
    assert_eq!(
        f.move_task("WP02", "done", &["--force"]).status.code(),
        Some(2)
    );
    let out = f.move_task(
        "WP02",
        "canceled",
        &["--force", "--reason", "dropped", "--agent", "lead"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let log = fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["force"], true);
    assert_eq!(last["reason"], "dropped");
    assert_eq!(last["to_lane"], "canceled");
    // The activity log of the WP file records the moves.
    let wp1 = fs::read_to_string(dir.join("tasks/WP01-p1.md")).unwrap();
    assert!(
        wp1.contains("## Activity Log") && wp1.contains("codex – Moved to for_review"),
        "{wp1}"
    );
    assert!(wp1.contains("agent: codex"), "{wp1}");
}

#[test]
fn board_shows_dependencies_progress_and_ready() {
    let env = TestEnv::new();
    let root = env.project("p");
    let v = env.json(&root, &["agent", "mission", "create", "m", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    fs::write(
        dir.join("tasks.md"),
        "## WP01: Alpha\n\n## WP02: Beta\nDepends on WP01\n",
    )
    .unwrap();
    for (f, id) in [("WP01-a.md", "WP01"), ("WP02-b.md", "WP02")] {
        fs::write(
            dir.join("tasks").join(f),
            format!("---\nwork_package_id: {id}\ntitle: {id} work\n---\n`src/{id}/`\n"),
        )
        .unwrap();
    }
    env.json(&root, &finalize_tasks("m"));
    let out = assert_run!(
        env,
        &root,
        "board_with_dependencies",
        ["agent", "tasks", "status", "--mission", "m"]
    );
    assert!(out.status.success());
    let board = stdout(&out);
    assert!(board.lines().all(|l| l.chars().count() <= 80), "{board}");
    assert!(!board.contains('\u{1b}'), "no colour without a TTY");

    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "m", "--json"],
    );
    assert_eq!(v["total_wps"], 2);
    assert_eq!(v["ready"], serde_json::json!(["WP01"]));
    let w2 = v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "WP02")
        .unwrap();
    assert_eq!(w2["dependencies"], serde_json::json!(["WP01"]));
    assert_eq!(w2["lane"], "planned");

    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "list-tasks",
            "--mission",
            "m",
            "--lane",
            "planned",
            "--json",
        ],
    );
    assert_eq!(v["count"], 2);
    let v = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "list-tasks",
            "--mission",
            "m",
            "--lane",
            "done",
            "--json",
        ],
    );
    assert_eq!(v["count"], 0);
    env.json(
        &root,
        &[
            "agent",
            "tasks",
            "add-history",
            "WP02",
            "--note",
            "waiting on alpha",
            "--mission",
            "m",
            "--json",
        ],
    );
    let wp2 = fs::read_to_string(dir.join("tasks/WP02-b.md")).unwrap();
    assert!(wp2.contains("user – waiting on alpha"), "{wp2}");
}

/// 16 moves of one mission's WPs at once, twice: the first is held between
/// reading the event log and appending to it (pause point
/// `status-before-append`, under the status lock) while the 15 others start
/// and each waits for that lock; then all land. Every event is in the log and
/// status.json matches it; without the lock the others would not wait (the
/// test fails) and events would be lost.
#[test]
fn parallel_moves_all_land_and_snapshot_matches_log() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 16);
    for round in ["claimed", "in_progress"] {
        let mv = |i: usize| -> Vec<String> {
            [
                "agent",
                "tasks",
                "move-task",
                &format!("WP{i:02}"),
                "--to",
                round,
                "--agent",
                "a",
                "--mission",
                "m",
            ]
            .map(str::to_string)
            .to_vec()
        };
        let first = mv(1);
        let first: Vec<&str> = first.iter().map(String::as_str).collect();
        let others: Vec<Vec<String>> = (2..=16).map(mv).collect();
        for out in hold_and_contend(&env, &root, &first, "status-before-append", &others) {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let log = fs::read_to_string(dir.join("status.events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 16 + 32, "bootstrap + 2 moves per WP");
    let snap: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
    assert_eq!(snap["event_count"], 48);
    for i in 1..=16 {
        assert_eq!(
            snap["work_packages"][format!("WP{i:02}")]["lane"],
            "in_progress"
        );
    }
    // Rebuilding from the log gives the same lanes.
    let before = snap["work_packages"].clone();
    env.json(&root, &["materialize", "--mission", "m", "--json"]);
    let again: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
    assert_eq!(again["work_packages"], before);
}

#[test]
fn torn_last_line_is_reported_and_kept() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 2);
    let f = Flow::new(&env, &root, "m");
    let path = dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"actor\": \"crash\", \"at");
    fs::write(&path, &text).unwrap();
    let out = env.run(&root, &["agent", "tasks", "status", "--mission", "m"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("status.events.jsonl:3: unreadable event skipped"),
        "{}",
        stderr(&out)
    );
    assert!(f
        .move_task("WP01", "claimed", &["--agent", "a"])
        .status
        .success());
    let after = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(lines.len(), 4, "{after}");
    assert_eq!(
        lines[2], "{\"actor\": \"crash\", \"at",
        "the torn line is kept on its own line"
    );
    assert!(serde_json::from_str::<serde_json::Value>(lines[3]).is_ok());
}

/// The fields both implementations report per work package, keyed by WP id.
fn lanes_by_wp(v: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let mut rows: Vec<_> = v["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("lane"), s("agent"), s("execution_mode"))
        })
        .collect();
    rows.sort();
    rows
}

/// Board `--json` of `mission` after copying `fixture` into a fresh project.
fn board_of_fixture(env: &TestEnv, fixture: &Path, mission: &str) -> serde_json::Value {
    let root = env.project("p");
    let name = fixture.file_name().unwrap();
    crate::common::copy_dir(fixture, &root.join("kitty-specs").join(name));
    env.json(
        &root,
        &["agent", "tasks", "status", "--mission", mission, "--json"],
    )
}

fn assert_same_board(ours: &serde_json::Value, reference: &serde_json::Value) {
    assert_eq!(lanes_by_wp(ours), lanes_by_wp(reference));
    assert_eq!(ours["by_lane"], reference["by_lane"]);
    assert_eq!(ours["total_wps"], reference["total_wps"]);
    assert_eq!(
        ours["progress_percentage"],
        reference["progress_percentage"]
    );
}

#[test]
fn a_log_the_reference_wrote_reads_the_same() {
    let env = TestEnv::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let ours = board_of_fixture(
        &env,
        &fixtures.join("taskgraph/001-dogfood-track2"),
        "dogfood-track2",
    );
    let reference: serde_json::Value = serde_json::from_slice(
        &fs::read(fixtures.join("status/reference-status-of-001-dogfood-track2.json")).unwrap(),
    )
    .unwrap();
    assert_same_board(&ours, &reference);
    assert_eq!(ours["warnings"], serde_json::json!([]));
}

#[test]
fn the_reference_reads_our_log_the_same() {
    let env = TestEnv::new();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/status/ours-read-by-reference");
    let ours = board_of_fixture(&env, &fixture.join("001-demo"), "demo");
    let reference: serde_json::Value =
        serde_json::from_slice(&fs::read(fixture.join("reference-status.json")).unwrap()).unwrap();
    assert_same_board(&ours, &reference);
    // Rebuilding the snapshot from the log gives the lanes the reference read.
    let dir = env.work.join("p/kitty-specs/001-demo");
    fs::remove_file(dir.join("status.json")).unwrap();
    let o = env.run(
        &env.work.join("p"),
        &["materialize", "--mission", "001-demo"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let snap: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("status.json")).unwrap()).unwrap();
    for (id, lane, _, _) in lanes_by_wp(&reference) {
        assert_eq!(snap["work_packages"][&id]["lane"], lane.as_str(), "{id}");
    }
    assert_eq!(snap["event_count"], 11);
}

/// The board under a pseudo-terminal (util-linux `script`), with or without NO_COLOR.
fn board_on_a_terminal(env: &TestEnv, root: &Path, no_color: bool) -> String {
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut cmd = std::process::Command::new("script");
    cmd.args([
        "-qec",
        &format!("'{}' agent tasks status --mission m", bin.display()),
        "/dev/null",
    ])
    .current_dir(root)
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", &env.home)
    .env("TERM", "xterm-256color")
    .stdin(std::process::Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

#[test]
#[cfg_attr(
    not(has_script),
    ignore = "needs util-linux `script` for a pseudo-terminal (.ci/run installs it)"
)]
fn the_board_is_coloured_on_a_terminal_unless_no_color() {
    let env = TestEnv::new();
    let (root, _) = mission(&env, 2);
    let coloured = board_on_a_terminal(&env, &root, false);
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    assert!(coloured.contains("planned (2)"), "{coloured:?}");
    let plain = board_on_a_terminal(&env, &root, true);
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    assert!(plain.contains("planned (2)"), "{plain:?}");
    assert!(
        plain.lines().all(|l| l.trim_end().chars().count() <= 80),
        "{plain}"
    );
}

/// The same move twice within one second writes the same activity line twice:
/// each move reaches the WP file, and so does the `agent` it sets. (Moves by
/// the built binary take milliseconds, so these usually share a second; when
/// they do not, the test passes trivially. Before the fix, the WP-file side of
/// a move whose line was already there was taken as done and skipped.)
#[test]
fn repeated_moves_in_one_second_each_reach_the_wp_file() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 1);
    let f = Flow::new(&env, &root, "m");
    let ok = |wp: &str, to: &str, extra: &[&str]| {
        let out = f.move_task(wp, to, extra);
        assert!(
            out.status.success(),
            "{wp} -> {to} {extra:?}: {}",
            stderr(&out)
        );
    };
    ok("WP01", "in_progress", &["--agent", "ana"]);
    ok("WP01", "blocked", &["--agent", "ana"]);
    ok(
        "WP01",
        "in_progress",
        &["--agent", "bo", "--force", "--reason", "taking over"],
    );
    ok("WP01", "blocked", &["--agent", "ana"]);
    ok(
        "WP01",
        "in_progress",
        &["--agent", "ana", "--force", "--reason", "back"],
    );
    let text = fs::read_to_string(dir.join("tasks/WP01-p1.md")).unwrap();
    let log: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("- ") && l.contains(" – Moved to "))
        .map(|l| l.split_once(" – ").unwrap().1)
        .collect();
    assert_eq!(
        log,
        [
            "ana – Moved to in_progress",
            "ana – Moved to blocked",
            "bo – Moved to in_progress",
            "ana – Moved to blocked",
            "ana – Moved to in_progress",
        ],
        "{text}"
    );
    let (yaml, _) = spec_kitty::tasks_md::wp::split_frontmatter(&text).unwrap();
    let fm: serde_yaml::Mapping = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(
        fm.get("agent").and_then(|v| v.as_str()),
        Some("ana"),
        "{text}"
    );
}

/// Where readers save the incremental fold of the status logs: inside the
/// git directory, never in the work tree.
fn status_cache(root: &Path) -> PathBuf {
    root.join(".git/spec-kitty/status-cache")
}

/// `agent tasks status --json` of mission `m`, and the same after the saved
/// fold was deleted (a full fold of the log): they must agree.
fn board_cached_and_fresh(env: &TestEnv, root: &Path) -> (serde_json::Value, serde_json::Value) {
    let args = ["agent", "tasks", "status", "--mission", "m", "--json"];
    let cached = env.json(root, &args);
    let _ = fs::remove_dir_all(status_cache(root));
    let fresh = env.json(root, &args);
    (cached, fresh)
}

#[test]
fn the_saved_fold_stays_out_of_the_work_tree_and_follows_appends() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 3);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "finalized"]);
    let status = || env.git(&root, &["status", "--porcelain", "--ignored"]);
    let before = status();
    env.json(
        &root,
        &["agent", "tasks", "status", "--mission", "m", "--json"],
    );
    env.json(&root, &["next", "--agent", "a", "--mission", "m", "--json"]);
    let saved: Vec<_> = fs::read_dir(status_cache(&root))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].starts_with("001-m-") && saved[0].ends_with(".json"));
    assert_eq!(status(), before, "reading status leaves the tree as it was");
    // Moves append; readers fold only the new lines and agree with a full fold.
    let f = Flow::new(&env, &root, "m");
    assert!(f
        .move_task("WP01", "claimed", &["--agent", "a"])
        .status
        .success());
    assert!(f
        .move_task("WP02", "in_progress", &["--agent", "b"])
        .status
        .success());
    let (cached, fresh) = board_cached_and_fresh(&env, &root);
    assert_eq!(cached, fresh);
    let lanes: Vec<_> = lanes_by_wp(&cached).into_iter().map(|r| r.1).collect();
    assert_eq!(lanes, ["claimed", "in_progress", "planned"]);
    // status.json is the reference's document, nothing of the fold in it.
    let snap: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
    let keys: Vec<&str> = snap
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "event_count",
            "last_event_id",
            "materialized_at",
            "mission_number",
            "mission_slug",
            "mission_type",
            "summary",
            "work_packages"
        ]
    );
    assert_eq!(snap["event_count"], 3 + 3);
}

/// The saved fold is written without a sync (it is derived): a crash may
/// leave it empty or cut short. A reader then folds the whole log again,
/// answers as a full fold does, and saves a sound fold in its place.
#[test]
fn an_empty_or_torn_saved_fold_is_folded_again() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 3);
    let f = Flow::new(&env, &root, "m");
    assert!(f
        .move_task("WP02", "claimed", &["--agent", "a"])
        .status
        .success());
    let args = ["agent", "tasks", "status", "--mission", "m", "--json"];
    let want = env.json(&root, &args);
    let saved: Vec<PathBuf> = fs::read_dir(status_cache(&root))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let sound = fs::read(&saved[0]).unwrap();
    assert!(spec_kitty::status::cache::load(&saved[0]).is_some());
    let log_len = || fs::metadata(dir.join("status.events.jsonl")).unwrap().len();
    for damage in [&b""[..], &sound[..sound.len() / 2], b"\0\0\0\0"] {
        fs::write(&saved[0], damage).unwrap();
        assert_eq!(env.json(&root, &args), want, "saved fold {damage:?}");
        // A sound fold of the whole log in its place.
        let (_, cursor) = spec_kitty::status::cache::load(&saved[0]).unwrap();
        assert_eq!(cursor.bytes(), log_len(), "saved fold {damage:?}");
    }
}

/// `text` with the project root (as given and canonical) named `[ROOT]`,
/// and every ULID and timestamp masked: what differs between two copies of
/// a project that ran the same commands.
fn masked(text: &str, root: &Path) -> String {
    let mut text = text.to_string();
    for p in [root.to_path_buf(), fs::canonicalize(root).unwrap()] {
        text = text.replace(p.to_str().unwrap(), "[ROOT]");
    }
    let crockford = |c: char| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"ILOU".contains(c));
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let word_start = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let run = chars[i..].iter().take_while(|c| crockford(**c)).count();
        if word_start && run == 26 {
            out.push_str("[ULID]");
            i += 26;
            continue;
        }
        // 2026-12-06T12:34:56, then any fraction and offset.
        let stamp: String = chars[i..].iter().take(19).collect();
        let shape = stamp
            .chars()
            .zip("dddd-dd-ddTdd:dd:dd".chars())
            .all(|(c, s)| if s == 'd' { c.is_ascii_digit() } else { c == s });
        if word_start && stamp.chars().count() == 19 && shape {
            out.push_str("[TIME]");
            i += 19;
            while i < chars.len() && (chars[i].is_ascii_digit() || ".:+-Z".contains(chars[i])) {
                i += 1;
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// `agent tasks status`, `next` and `implement` answer alike whatever the
/// saved fold holds: none, one of an earlier prefix of the log (stale), an
/// older spec-kitty's JSON, a file cut short, with a bit flipped, garbage,
/// empty, or over the size cap. Each case runs in its own copy of one
/// project (WP01 built, reviewed and approved: roles, commits and a review
/// in the log) after the same hand-appended event. A wrong fold in this
/// build's layout whose cursor holds does change the answer: the cases
/// agree because the damaged files were refused, not by chance.
#[test]
fn status_next_and_implement_answer_alike_whatever_the_saved_fold() {
    use spec_kitty::status::cache::{self, FoldState};
    let env = TestEnv::new();
    let (base, m) = env.three_wp_mission();
    let slug = m.slug.as_str();
    let f = Flow::new(&env, &base, slug);
    f.implement("WP01", "codex");
    f.finish("WP01");
    // What a wrong fold says: every WP done (another log's fold).
    let other = env.work.join("other.jsonl");
    let events = fs::read_to_string(m.dir.join("status.events.jsonl")).unwrap();
    let done: String = events
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["to_lane"] = "done".into();
            format!("{v}\n")
        })
        .collect();
    fs::write(&other, done).unwrap();
    let wrong = cache::fold_log::<FoldState>(&other, None).unwrap().state;

    let cases = [
        "none",
        "stale",
        "old json",
        "cut",
        "bit flipped",
        "garbage",
        "empty",
        "over the cap",
        "wrong fold",
    ];
    let mut answers = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let root = env.work.join(format!("copy{k}"));
        crate::common::copy_dir(&base, &root);
        let _ = fs::remove_dir_all(root.join(".git/spec-kitty"));
        let dir = root.join("kitty-specs").join(slug);
        let status = ["agent", "tasks", "status", "--mission", slug, "--json"];
        env.json(&root, &status);
        let saved: Vec<PathBuf> = fs::read_dir(status_cache(&root))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(saved.len(), 1, "{saved:?}");
        let saved = &saved[0];
        let sound = fs::read(saved).unwrap();
        let (_, cursor) = cache::load(saved).unwrap();
        // The same event appended in every copy: the saved fold is one line
        // short of the log.
        let mut log = fs::OpenOptions::new()
            .append(true)
            .open(dir.join("status.events.jsonl"))
            .unwrap();
        use std::io::Write;
        writeln!(log, "{{\"actor\": \"user\", \"at\": \"2099-01-01T00:00:00.000000+00:00\", \"event_id\": \"01ZZZZZZZZZZZZZZZZZZZZZZZZ\", \"force\": true, \"from_lane\": \"planned\", \"mission_slug\": \"{slug}\", \"reason\": \"hold\", \"review_ref\": null, \"to_lane\": \"blocked\", \"wp_id\": \"WP03\"}}").unwrap();
        drop(log);
        let mut flipped = sound.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x04;
        match *case {
            "none" => fs::remove_file(saved).unwrap(),
            "stale" => {}
            "old json" => {
                let old = serde_json::json!({"version": 7, "log": cursor, "fold": wrong});
                fs::write(saved, serde_json::to_vec(&old).unwrap()).unwrap();
            }
            "cut" => fs::write(saved, &sound[..sound.len() * 2 / 3]).unwrap(),
            "bit flipped" => fs::write(saved, &flipped).unwrap(),
            "garbage" => fs::write(
                saved,
                (0..4096u32)
                    .map(|i| (i * 7919 % 251) as u8)
                    .collect::<Vec<_>>(),
            )
            .unwrap(),
            "empty" => fs::write(saved, b"").unwrap(),
            "over the cap" => {
                let f = fs::OpenOptions::new().write(true).open(saved).unwrap();
                f.set_len(spec_kitty::bounds::MAX_TEXT_BYTES + 1).unwrap();
            }
            "wrong fold" => cache::save(saved, &wrong, &cursor).unwrap(),
            _ => unreachable!(),
        }
        let next = ["next", "--agent", "codex", "--mission", slug, "--json"];
        let implement = crate::common::implement_args("WP02", slug, "claude");
        let mut said = String::new();
        for args in [&status[..], &next[..], &implement[..], &status[..]] {
            let out = env.run(&root, args);
            said.push_str(&format!(
                "$ {args:?}\nexit {:?}\n{}\n{}\n",
                out.status.code(),
                stdout(&out),
                stderr(&out)
            ));
        }
        let said = masked(&said, &root);
        if *case != "wrong fold" {
            // The reader left a sound fold behind.
            assert!(cache::load(saved).is_some(), "{case}");
        }
        answers.push((case, said));
    }
    let (_, want) = &answers[0];
    assert!(want.contains("\"WP02\""), "{want}");
    // The appended event decides WP03, and implement moved WP02.
    assert!(want.contains("\"blocked\": 1"), "{want}");
    assert!(want.contains("\"lane\": \"in_progress\""), "{want}");
    for (case, said) in &answers[1..] {
        if **case == "wrong fold" {
            assert_ne!(said, want, "{case}");
        } else {
            assert_eq!(said, want, "{case}");
        }
    }
}

#[test]
fn a_status_json_the_reference_wrote_is_kept_and_the_log_folded() {
    let env = TestEnv::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let root = env.project("p");
    let dir = root.join("kitty-specs/001-dogfood-track2");
    crate::common::copy_dir(&fixtures.join("taskgraph/001-dogfood-track2"), &dir);
    let written = fs::read(fixtures.join("status/reference-written/status.json")).unwrap();
    fs::write(dir.join("status.json"), &written).unwrap();
    let args = [
        "agent",
        "tasks",
        "status",
        "--mission",
        "dogfood-track2",
        "--json",
    ];
    let ours = env.json(&root, &args);
    let reference: serde_json::Value = serde_json::from_slice(
        &fs::read(fixtures.join("status/reference-status-of-001-dogfood-track2.json")).unwrap(),
    )
    .unwrap();
    assert_same_board(&ours, &reference);
    assert_eq!(fs::read(dir.join("status.json")).unwrap(), written);
    // The reference appends an event (its line format, a later ULID) and
    // rewrites status.json without anything of ours: the next read folds the
    // new line onto the saved fold and brings status.json up to date.
    let log = dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str(r#"{"actor": "user", "at": "2026-11-24T20:45:00.000000+00:00", "event_id": "01M87MTQQ0V6Q2YQ1V9JX3S0ZZ", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "blocked", "mission_slug": "001-dogfood-track2", "policy_metadata": null, "reason": "unblocked", "review_ref": null, "to_lane": "planned", "wp_id": "WP03"}"#);
    text.push('\n');
    fs::write(&log, text).unwrap();
    fs::write(dir.join("status.json"), &written).unwrap();
    let after = env.json(&root, &args);
    let wp03 = lanes_by_wp(&after)
        .into_iter()
        .find(|r| r.0 == "WP03")
        .unwrap();
    assert_eq!(wp03.1, "planned");
    let snap: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("status.json")).unwrap()).unwrap();
    assert_eq!(snap["event_count"], 8);
    assert_eq!(snap["last_event_id"], "01M87MTQQ0V6Q2YQ1V9JX3S0ZZ");
    assert_eq!(snap["work_packages"]["WP03"]["lane"], "planned");
}

#[test]
fn a_torn_last_line_reads_the_same_from_the_saved_fold() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 2);
    let path = dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("{\"actor\": \"crash\", \"at");
    fs::write(&path, &text).unwrap();
    let args = ["agent", "tasks", "status", "--mission", "m"];
    let first = env.run(&root, &args);
    let second = env.run(&root, &args);
    for out in [&first, &second] {
        assert!(out.status.success());
        assert!(
            stderr(out).contains("status.events.jsonl:3: unreadable event skipped"),
            "{}",
            stderr(out)
        );
    }
    assert_eq!(stdout(&first), stdout(&second));
    // The torn line is closed by the next append; the saved fold then reads
    // it as a complete unreadable line, as a full fold does.
    let f = Flow::new(&env, &root, "m");
    assert!(f
        .move_task("WP01", "claimed", &["--agent", "a"])
        .status
        .success());
    let cached = env.run(&root, &args);
    let _ = fs::remove_dir_all(status_cache(&root));
    let fresh = env.run(&root, &args);
    assert_eq!(stdout(&cached), stdout(&fresh));
    assert_eq!(stderr(&cached), stderr(&fresh));
    assert!(stderr(&cached).contains("status.events.jsonl:3: unreadable event skipped"));
}

#[test]
fn a_rewritten_log_is_folded_again() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 2);
    let path = dir.join("status.events.jsonl");
    let bootstrap = fs::read_to_string(&path).unwrap();
    let f = Flow::new(&env, &root, "m");
    assert!(f
        .move_task("WP01", "claimed", &["--agent", "a"])
        .status
        .success());
    let moved = fs::read_to_string(&path).unwrap();
    let args = ["agent", "tasks", "status", "--mission", "m", "--json"];
    let lanes = |v: &serde_json::Value| -> Vec<String> {
        lanes_by_wp(v).into_iter().map(|r| r.1).collect()
    };
    assert_eq!(lanes(&env.json(&root, &args)), ["claimed", "planned"]);
    // Shorter, in place (a reset of the file): the saved fold is not used.
    fs::write(&path, &bootstrap).unwrap();
    assert_eq!(lanes(&env.json(&root, &args)), ["planned", "planned"]);
    // Replaced by another file of the same length (a merge, a repair).
    fs::write(&path, &moved).unwrap();
    assert_eq!(lanes(&env.json(&root, &args)), ["claimed", "planned"]);
    let same_length = moved.replace("\"to_lane\": \"claimed\"", "\"to_lane\": \"blocked\"");
    assert_eq!(same_length.len(), moved.len());
    let tmp = dir.join("status.events.jsonl.new");
    fs::write(&tmp, &same_length).unwrap();
    fs::rename(&tmp, &path).unwrap();
    assert_eq!(lanes(&env.json(&root, &args)), ["blocked", "planned"]);
    let (cached, fresh) = board_cached_and_fresh(&env, &root);
    assert_eq!(cached, fresh);
}

#[test]
fn parallel_writers_and_readers_agree_with_a_full_fold() {
    let env = TestEnv::new();
    let (root, _dir) = mission(&env, 8);
    let mut children: Vec<_> = (1..=8)
        .map(|i| {
            env.spawn(
                &root,
                &[
                    "agent",
                    "tasks",
                    "move-task",
                    &format!("WP{i:02}"),
                    "--to",
                    "in_progress",
                    "--agent",
                    "a",
                    "--mission",
                    "m",
                ],
            )
        })
        .collect();
    children.extend((0..8).map(|_| {
        env.spawn(
            &root,
            &["agent", "tasks", "status", "--mission", "m", "--json"],
        )
    }));
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (cached, fresh) = board_cached_and_fresh(&env, &root);
    assert_eq!(cached, fresh);
    let lanes: Vec<_> = lanes_by_wp(&cached).into_iter().map(|r| r.1).collect();
    assert_eq!(lanes, vec!["in_progress"; 8]);
}

/// status.json's head (event count, last event id) is kept between commands
/// beside the saved folds, so a command does not parse the whole file to
/// learn that it still describes the log. It is never trusted over the file:
/// a status.json changed since is read again (and rebuilt when it no longer
/// describes the log), and a damaged or hostile record is no record.
#[test]
fn the_kept_head_of_status_json_is_never_trusted_over_the_file() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 3);
    let args = ["agent", "tasks", "status", "--mission", "m", "--json"];
    let want = env.json(&root, &args);
    let good = fs::read(dir.join("status.json")).unwrap();
    let heads = root.join(".git/spec-kitty/status-head");
    let kept: Vec<PathBuf> = fs::read_dir(&heads)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    // status.json cut short or emptied after its head was kept: rebuilt.
    let half = good[..good.len() / 2].to_vec();
    for damage in [half.as_slice(), b"".as_slice(), b"{}".as_slice()] {
        fs::write(dir.join("status.json"), damage).unwrap();
        assert_eq!(env.json(&root, &args), want);
        assert_eq!(fs::read(dir.join("status.json")).unwrap(), good);
    }
    // A damaged or hostile record: read as none, status.json left sound.
    for record in [
        "",
        "1 x y\n",
        "1 1 2 3 4 5 6 ../../etc/passwd\n",
        "9 0 0 0 0 0 0 -\n",
        "\0\0\0\0",
    ] {
        fs::write(&kept[0], record).unwrap();
        fs::write(dir.join("status.json"), &half).unwrap();
        assert_eq!(env.json(&root, &args), want);
        assert_eq!(fs::read(dir.join("status.json")).unwrap(), good);
    }
}

/// A move rewrites only the head and the changed entries of a status.json
/// this tool wrote; the result is, byte for byte, the whole rendering
/// (`materialize`). One written by someone else (here compact JSON of the
/// same state) is not spliced: the next move writes it whole.
#[test]
fn status_json_after_each_move_is_the_whole_rendering() {
    let env = TestEnv::new();
    let (root, dir) = mission(&env, 8);
    let f = Flow::new(&env, &root, "m");
    let status = dir.join("status.json");
    let whole = || {
        let before = fs::read(&status).unwrap();
        env.json(&root, &["materialize", "--mission", "m", "--json"]);
        let after = fs::read(&status).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&before),
            String::from_utf8_lossy(&after)
        );
    };
    f.implement("WP01", "codex");
    whole();
    // Actors JSON escapes, and several WPs moving one after another.
    f.moved("WP02", "claimed", "agent \"é\"\t");
    whole();
    f.moved("WP03", "blocked", "user");
    f.moved("WP02", "in_progress", "agent \"é\"\t");
    whole();
    f.moved("WP03", "canceled", "ünï");
    whole();
    // Someone else's status.json of the same state, in another layout.
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&status).unwrap()).unwrap();
    fs::write(&status, serde_json::to_vec(&v).unwrap()).unwrap();
    f.moved("WP04", "claimed", "codex");
    whole();
    f.moved("WP05", "claimed", "codex");
    whole();
}
