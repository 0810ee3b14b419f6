//! The setup, health and validation commands of the part-1 surface (repair,
//! validate-tasks, validate-encoding, list-legacy-features, context, agent tests
//! stale-check), and the walk of the reference's whole command tree. Reference
//! facts come from tests/fixtures/surface1 and tests/fixtures/surface_health
//! (see their READMEs); tests never run the reference.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use clap::CommandFactory;

use crate::common::reference::{self, parse};
use crate::common::snap::assert_run;
use crate::common::{stderr, stdout, without_clock, TestEnv};

fn tree() -> String {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface1/reference-tree.txt");
    fs::read_to_string(p).unwrap()
}

/// One line of reference-tree.txt: the command path and its option spellings
/// (`--a/--b` and `--a/-s` give both; `(H)` marks a hidden option).
fn parse_line(line: &str) -> Option<(Vec<String>, Vec<String>)> {
    let (path, opts) = line.split_once("::")?;
    if path.contains("(HIDDEN)") && path.trim_start().starts_with("__") {
        return None; // the reference's internal dispatch switch, not a command
    }
    let path: Vec<String> = path
        .split_whitespace()
        .filter(|w| *w != "(HIDDEN)")
        .map(str::to_string)
        .collect();
    let mut names = Vec::new();
    for tok in opts.split_whitespace().filter(|t| t.starts_with('-')) {
        for spelling in tok.trim_end_matches("(H)").split('/') {
            names.push(spelling.to_string());
        }
    }
    Some((path, names))
}

/// Commands other engineers are adding in parallel to this work; the lead
/// empties this list when their branches have landed.
/// Each entry is a command path, or a path and one option spelling.
const NOT_YET: &[&str] = &[];

/// Does `c` take the option spelled `n` (`--long` or `-s`, aliases included)?
fn takes_option(c: &clap::Command, n: &str) -> bool {
    if let Some(long) = n.strip_prefix("--") {
        c.get_arguments().any(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().unwrap_or_default().contains(&long)
        })
    } else {
        let short = n.trim_start_matches('-').chars().next().unwrap();
        c.get_arguments().any(|a| {
            a.get_short() == Some(short)
                || a.get_all_short_aliases()
                    .unwrap_or_default()
                    .contains(&short)
        })
    }
}

/// Every command path of the reference answers `--help` with exit 0 on ours,
/// and every option spelling it lists is one our parser takes there.
#[test]
fn every_reference_command_answers_help_and_takes_its_options() {
    let env = TestEnv::new();
    let mut cmd = spec_kitty::cli::Cli::command();
    cmd.build();
    let mut missing_cmds = Vec::new();
    let mut missing_opts = Vec::new();
    let mut checked = 0;
    for line in tree().lines() {
        let Some((path, names)) = parse_line(line) else {
            continue;
        };
        let joined = path.join(" ");
        if NOT_YET.contains(&joined.as_str()) {
            continue;
        }
        checked += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&env.work, &args);
        if out.status.code() != Some(0) || !stdout(&out).contains("Usage:") {
            missing_cmds.push(joined.clone());
            continue;
        }
        let mut c = &cmd;
        for p in &path {
            c = c.find_subcommand(p).unwrap();
        }
        for n in &names {
            let takes = takes_option(c, n);
            let entry = format!("{joined} {n}");
            if !takes && !NOT_YET.contains(&entry.as_str()) {
                missing_opts.push(entry);
            }
        }
    }
    assert!(
        checked + NOT_YET.iter().filter(|e| !e.contains(" -")).count() >= 102,
        "only {checked} reference commands walked"
    );
    // An entry for something that has landed must leave the list.
    let landed: Vec<&&str> = NOT_YET
        .iter()
        .filter(|e| {
            let (path, opt) = match e.split_once(" -") {
                Some((p, o)) => (p, Some(format!("-{o}"))),
                None => (**e, None),
            };
            let mut c = &cmd;
            for p in path.split(' ') {
                match c.find_subcommand(p) {
                    Some(s) => c = s,
                    None => return false,
                }
            }
            opt.is_none_or(|o| takes_option(c, &o))
        })
        .collect();
    assert!(
        landed.is_empty(),
        "remove from NOT_YET, they have landed: {landed:?}"
    );
    assert!(
        missing_cmds.is_empty() && missing_opts.is_empty(),
        "commands without --help: {missing_cmds:?}\noptions refused: {missing_opts:?}"
    );
}

const M: &str = "001-dogfood-track2";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface_health")
}

fn reference_exit(name: &str) -> i32 {
    reference::exit_in(&fixtures(), name)
}

/// A git copy of the reference-made project (mission 001-dogfood-track2).
fn reference_project(env: &TestEnv) -> PathBuf {
    reference::surface2_project(env)
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Smart quotes in spec.md and a Windows-1252 file: found (exit 1 like the
/// reference), fixed with `.bak` copies of the original bytes (exit 0 like the
/// reference), and `--no-backup` fixes without them.
#[test]
fn validate_encoding_finds_and_fixes_with_backups() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    let spec = dir.join("spec.md");
    let mut text = fs::read(&spec).unwrap();
    text.extend_from_slice("Smart \u{201c}quote\u{201d}\n".as_bytes());
    fs::write(&spec, &text).unwrap();
    fs::write(dir.join("legacy.md"), b"cp1252 \x93q\x94 caf\xe9\n").unwrap();

    let args = ["validate-encoding", "--mission", M];
    let out = assert_run!(env, &root, "validate_encoding_dirty", args);
    assert_eq!(code(&out), reference_exit("validate-encoding-dirty.txt"));

    let v = parse(&env.run(&root, &["validate-encoding", "--mission", M, "--json"]));
    assert_eq!(v["ok"], false);
    let files = v["missions"][0]["files"].as_array().unwrap();
    let legacy = files.iter().find(|f| f["path"] == "legacy.md").unwrap();
    assert_eq!(legacy["not_utf8"], true);
    let s = files.iter().find(|f| f["path"] == "spec.md").unwrap();
    assert_eq!(s["issues"][0]["codepoint"], "U+201C");
    assert_eq!(s["issues"][0]["replacement"], "\"");

    let out = assert_run!(
        env,
        &root,
        "validate_encoding_fix",
        ["validate-encoding", "--mission", M, "--fix"]
    );
    assert_eq!(code(&out), reference_exit("validate-encoding-fixed.txt"));
    assert_eq!(fs::read(dir.join("spec.md.bak")).unwrap(), text);
    assert_eq!(
        fs::read(dir.join("legacy.md.bak")).unwrap(),
        b"cp1252 \x93q\x94 caf\xe9\n"
    );
    assert_eq!(
        fs::read_to_string(dir.join("legacy.md")).unwrap(),
        "cp1252 \"q\" café\n"
    );
    assert!(fs::read_to_string(&spec)
        .unwrap()
        .ends_with("Smart \"quote\"\n"));
    env.ok(&root, &["validate-encoding", "--mission", M]);

    fs::write(dir.join("plan.md"), "a \u{2014} b\n").unwrap();
    env.ok(
        &root,
        &["validate-encoding", "--all", "--fix", "--no-backup"],
    );
    assert_eq!(
        fs::read_to_string(dir.join("plan.md")).unwrap(),
        "a --- b\n"
    );
    assert!(
        !dir.join("plan.md.bak").exists(),
        "--no-backup wrote a .bak"
    );
}

/// A Markdown link in a mission pointing outside the project is reported and
/// never followed, read or written, even with --fix.
#[test]
fn validate_encoding_never_follows_a_link() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let outside = env.tmp.path().join("outside.md");
    fs::write(&outside, "x \u{2019} y\n").unwrap();
    let link = root.join("kitty-specs").join(M).join("link.md");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let out = env.run(
        &root,
        &["validate-encoding", "--mission", M, "--fix", "--json"],
    );
    assert_eq!(code(&out), 1);
    let v = parse(&out);
    let f = v["missions"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "link.md")
        .unwrap()
        .clone();
    assert!(
        f["error"].as_str().unwrap().contains("symbolic link"),
        "{f}"
    );
    assert_eq!(fs::read_to_string(&outside).unwrap(), "x \u{2019} y\n");
    assert!(!env.tmp.path().join("outside.md.bak").exists());
    assert!(link.is_symlink());
}

/// A legacy lane directory whose WP says another lane: found (exit 1 like the
/// reference), fixed with --agent and --shell-pid in the activity log (exit 0),
/// the rest of the file kept as written (the reference doubles it).
#[test]
fn validate_tasks_finds_and_fixes_legacy_lane_mismatches() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let clean = env.run(&root, &["validate-tasks", "--mission", M]);
    assert_eq!(code(&clean), reference_exit("validate-tasks-clean.txt"));
    let doing = root.join("kitty-specs").join(M).join("tasks/doing");
    fs::create_dir_all(&doing).unwrap();
    let wp = doing.join("WP09-old.md");
    fs::write(
        &wp,
        "---\nwork_package_id: WP09\ntitle: Old # kept\nlane: planned\n---\n# WP09\n",
    )
    .unwrap();
    let head = env.git(&root, &["rev-parse", "HEAD"]);
    let out = assert_run!(
        env,
        &root,
        "validate_tasks_mismatch",
        ["validate-tasks", "--mission", M]
    );
    assert_eq!(env.git(&root, &["rev-parse", "HEAD"]), head);
    assert_eq!(code(&out), reference_exit("validate-tasks-mismatch.txt"));
    assert!(fs::read_to_string(&wp).unwrap().contains("lane: planned"));

    let v = parse(&env.run(&root, &["validate-tasks", "--all", "--json"]));
    assert_eq!(v["mismatches_found"], 1);
    assert_eq!(v["missions"][0]["mismatches"][0]["expected_lane"], "doing");
    assert_eq!(v["missions"][0]["mismatches"][0]["actual_lane"], "planned");

    let out = env.run(
        &root,
        &[
            "validate-tasks",
            "--mission",
            M,
            "--fix",
            "--agent",
            "bob",
            "--shell-pid",
            "77",
        ],
    );
    assert_eq!(code(&out), reference_exit("validate-tasks-fixed.txt"));
    // The project says auto_commit: true, so the repair is committed (checks never are).
    let subject = env.git(&root, &["log", "-1", "--format=%s"]);
    assert!(subject.contains("validate-tasks"), "{subject}");
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    let text = fs::read_to_string(&wp).unwrap();
    assert!(
        text.starts_with(
            "---\nwork_package_id: WP09\ntitle: Old # kept\nlane: doing\n---\n# WP09\n"
        ),
        "{text}"
    );
    let log = text.split("## Activity Log").nth(1).unwrap();
    assert!(
        log.contains("bob") && log.contains("shell_pid 77") && log.contains("was: planned"),
        "{log}"
    );
    env.ok(&root, &["validate-tasks", "--mission", M]);
}

/// Only the one-worktree-per-mission worktrees are legacy (the reference 3.1.1
/// crashes on this command: its fixture says exit 1).
#[test]
fn list_legacy_features_names_per_mission_worktrees() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    assert_eq!(reference_exit("list-legacy-features.txt"), 1);
    assert_run!(env, &root, "legacy_none", ["list-legacy-features"]);
    for d in ["001-old-feature", "002-new-lane-a", "003-mid-WP02"] {
        fs::create_dir_all(root.join(".worktrees").join(d)).unwrap();
    }
    let out = assert_run!(env, &root, "legacy_some", ["list-legacy-features"]);
    assert_eq!(code(&out), 0);
    let v = env.json(&root, &["list-legacy-features", "--json"]);
    assert_eq!(
        v["legacy_worktrees"],
        serde_json::json!(["001-old-feature"])
    );
}

/// A generated slash-command file calling scripts/bash: --dry-run names it and
/// writes nothing; without it the file is regenerated and recorded; a healthy
/// project answers like the reference.
#[test]
fn repair_regenerates_broken_command_files() {
    let env = TestEnv::new();
    let root = env.project("p");
    env.ok(&root, &["upgrade"]);
    let healthy = env.run(&root, &["repair", "repair"]);
    assert_eq!(code(&healthy), reference_exit("repair.txt"));
    assert!(stdout(&healthy).contains("project is healthy"));
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root.join(".kittify/managed-files.json")).unwrap(),
    )
    .unwrap();
    let rel = manifest["files"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let file = root.join(&rel);
    let good = fs::read_to_string(&file).unwrap();
    fs::write(&file, "Run scripts/bash/check-prerequisites.sh first.\n").unwrap();

    let before = crate::common::snapshot(&root);
    let elsewhere = env.work.clone();
    let v = env.json(
        &elsewhere,
        &[
            "repair",
            "repair",
            "--dry-run",
            "--project-path",
            root.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(v["broken"], serde_json::json!([rel]));
    assert_eq!(v["repaired"], serde_json::json!([]));
    assert_eq!(crate::common::snapshot(&root), before, "--dry-run wrote");

    assert_run!(env, &root, "repair_broken", ["repair", "repair"]);
    assert_eq!(fs::read_to_string(&file).unwrap(), good);
    // Recorded as ours again: upgrade leaves it as it is, not as the user's edit.
    let up = env.json(&root, &["upgrade", "--json"]);
    assert!(
        !up.to_string().contains("skipped_user_modified\":[\""),
        "{up}"
    );
    env.ok(&root, &["repair", "repair"]);
}

/// `repair worktree`: outside a worktree it says so; --all and a path report
/// each worktree's kitty-specs copy.
#[test]
fn repair_worktree_reports_kitty_specs_copies() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    assert_run!(
        env,
        &root,
        "repair_worktree_outside",
        ["repair", "worktree"]
    );
    let wt = root.join(".worktrees/001-dogfood-track2-lane-a");
    fs::create_dir_all(wt.join("kitty-specs").join(M).join("tasks")).unwrap();
    fs::write(wt.join(".git"), "gitdir: nowhere\n").unwrap();
    fs::write(
        wt.join("kitty-specs").join(M).join("tasks/WP01-x.md"),
        "x\n",
    )
    .unwrap();
    let v = env.json(&root, &["repair", "worktree", "--all", "--json"]);
    assert_eq!(v["worktrees"][0]["name"], "001-dogfood-track2-lane-a");
    assert_eq!(v["worktrees"][0]["has_kitty_specs"], true);
    assert_eq!(v["worktrees"][0]["stale_task_files"], 1);
    let v = env.json(
        &root,
        &["repair", "worktree", wt.to_str().unwrap(), "--json"],
    );
    assert_eq!(v["worktrees"].as_array().unwrap().len(), 1);
    let err = env.refused(&root, &["repair", "worktree", "no/such/dir"]);
    assert!(err.contains("does not exist"), "{err}");
}

/// `context mission-resolve` prints the reference's document (same keys, same
/// values but the token and time), saves it, and `mission-show` reads it back.
#[test]
fn context_tokens_resolve_and_show() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let r = reference::json_in(&fixtures(), "context-mission-resolve.json");
    let v = env.json(
        &root,
        &[
            "context",
            "mission-resolve",
            "--wp",
            "WP01",
            "--mission",
            M,
            "--agent",
            "claude",
            "--json",
        ],
    );
    assert_eq!(reference::keys(&v), reference::keys(&r));
    for (k, want) in r.as_object().unwrap() {
        if !["token", "created_at", "authoritative_repo"].contains(&k.as_str()) {
            assert_eq!(&v[k], want, "{k}");
        }
    }
    let token = v["token"].as_str().unwrap();
    assert!(root
        .join(".kittify/runtime/contexts")
        .join(format!("{token}.json"))
        .is_file());
    let shown = env.json(
        &root,
        &["context", "mission-show", "--context", token, "--json"],
    );
    assert_eq!(shown, v);

    // Plain output is the token alone (for `TOKEN=$(...)`), and --agent defaults to unknown.
    let plain = env.ok(
        &root,
        &["context", "mission-resolve", "--wp", "WP01", "--mission", M],
    );
    let t2 = plain.trim();
    assert!(t2.starts_with("ctx-") && t2.len() == 30, "{plain}");
    let shown = env.json(
        &root,
        &["context", "mission-show", "--context", t2, "--json"],
    );
    assert_eq!(shown["created_by"], "unknown");

    let missing = env.run(
        &root,
        &[
            "context",
            "mission-show",
            "--context",
            "ctx-01M93CE4V12BJ76BY7TENSDAJJ",
        ],
    );
    assert_eq!(
        code(&missing),
        reference_exit("context-mission-show-missing.txt")
    );
    // A token that would name another file is refused before any path is built.
    fs::write(root.join(".kittify/secret.json"), "{}").unwrap();
    let err = env.refused(
        &root,
        &["context", "mission-show", "--context", "../secret"],
    );
    assert!(err.contains("not a context token"), "{err}");
    let err = env.refused(
        &root,
        &["context", "mission-resolve", "--wp", "WP99", "--mission", M],
    );
    assert!(err.contains("WP99"), "{err}");
}

/// Workspace contexts: a reference-written context file whose worktree is
/// gone is orphaned; cleanup --dry-run keeps it, cleanup removes it, and a
/// file naming a path outside the project is never taken as live.
#[test]
fn context_list_info_and_cleanup() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let out = env.run(&root, &["context", "list", "--json"]);
    assert_eq!(code(&out), reference_exit("context-list.json"));
    assert_eq!(
        parse(&out),
        reference::json_in(&fixtures(), "context-list.json")
    );
    let out = env.run(&root, &["context", "info"]);
    assert_eq!(code(&out), reference_exit("context-info-outside.txt"));
    // Bare `context` is `context info`, as the reference's.
    let bare = env.run(&root, &["context"]);
    assert_eq!((code(&bare), stderr(&bare)), (code(&out), stderr(&out)));

    let ws = root.join(".kittify/workspaces");
    fs::create_dir_all(&ws).unwrap();
    let ctx = |wt: &str| {
        serde_json::json!({
            "wp_id": "WP01", "mission_slug": M, "worktree_path": wt,
            "branch_name": "kitty/mission-001-dogfood-track2-lane-a", "base_branch": "main",
            "base_commit": "0123456789abcdef0123456789abcdef01234567", "dependencies": [],
            "created_at": "2026-01-01T00:00:00+00:00", "created_by": "implement-command",
            "vcs_backend": "git", "lane_id": "lane-a", "lane_wp_ids": ["WP01"], "current_wp": "WP01"
        })
        .to_string()
    };
    fs::write(
        ws.join("001-dogfood-track2-lane-a.json"),
        ctx(".worktrees/001-dogfood-track2-lane-a"),
    )
    .unwrap();
    fs::create_dir_all(env.tmp.path().join("elsewhere")).unwrap();
    fs::write(
        ws.join("001-dogfood-track2-lane-b.json"),
        ctx("../../elsewhere"),
    )
    .unwrap();
    fs::write(ws.join("notes.json"), "not a context").unwrap();

    let v = env.json(&root, &["context", "list", "--orphaned", "--json"]);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["workspace"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["001-dogfood-track2-lane-a", "001-dogfood-track2-lane-b"]
    );
    let info = env.json(
        &root,
        &[
            "context",
            "info",
            "-w",
            "001-dogfood-track2-lane-a",
            "--json",
        ],
    );
    assert_eq!(info["lane_wp_ids"], serde_json::json!(["WP01"]));
    env.refused(&root, &["context", "info", "--workspace", "../x"]);

    assert_run!(
        env,
        &root,
        "context_cleanup_dry_run",
        ["context", "cleanup", "--dry-run"]
    );
    assert!(ws.join("001-dogfood-track2-lane-a.json").exists());
    env.ok(&root, &["context", "cleanup"]);
    assert!(!ws.join("001-dogfood-track2-lane-a.json").exists());
    assert!(!ws.join("001-dogfood-track2-lane-b.json").exists());
    assert!(
        ws.join("notes.json").exists(),
        "cleanup removed a file that is not a context"
    );
    assert!(env.tmp.path().join("elsewhere").is_dir());
    assert_eq!(
        env.json(&root, &["context", "list", "--json"]),
        serde_json::json!([])
    );
}

/// A live lane worktree is a workspace context (ours derives it from lanes.json):
/// `context info` inside it, `context list` marks it Active.
#[test]
fn context_info_inside_a_lane_worktree() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let f = crate::common::flow::Flow::new(&env, &root, &m.slug);
    f.implement("WP01", "codex");
    f.finish("WP01");
    let v = f.implement("WP02", "claude");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    let info = env.json(&wt, &["context", "info", "--json"]);
    assert_eq!(info["mission_slug"], m.slug.as_str());
    assert_eq!(info["wp_id"], "WP02");
    assert_eq!(info["dependencies"], serde_json::json!(["WP01"]));
    assert_eq!(info["vcs_backend"], "git");
    assert_eq!(info["base_commit"].as_str().unwrap().len(), 40);
    let list = env.json(&root, &["context", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let text = env.ok(&root, &["context", "list"]);
    assert!(text.contains("Active"), "{text}");
}

fn stale_repo(env: &TestEnv) -> PathBuf {
    let repo = env.work.join("py");
    crate::common::copy_dir(&fixtures().join("stale/base"), &repo);
    env.git(&repo, &["init", "-q"]);
    env.git(&repo, &["add", "-A"]);
    env.git(&repo, &["commit", "-qm", "base"]);
    crate::common::copy_dir(&fixtures().join("stale/head"), &repo);
    env.git(&repo, &["commit", "-qam", "head"]);
    repo
}

/// On the fixture repository ours reports exactly the reference's findings
/// (files, lines, symbols, confidences, hints) under the reference's keys.
#[test]
fn stale_check_matches_the_reference() {
    let env = TestEnv::new();
    let repo = stale_repo(&env);
    let r = reference::json_in(&fixtures(), "stale-check.json");
    let out = env.run(
        &env.work,
        &[
            "agent",
            "tests",
            "stale-check",
            "--base",
            "HEAD~1",
            "--repo",
            "py",
            "--json",
        ],
    );
    assert_eq!(code(&out), reference_exit("stale-check.json"));
    assert!(
        stderr(&out).contains("findings_per_100_loc"),
        "no over-ceiling warning"
    );
    let v = parse(&out);
    assert_eq!(reference::keys(&v), reference::keys(&r));
    let root = fs::canonicalize(&repo).unwrap().display().to_string();
    let norm = |f: &serde_json::Value| {
        let mut f = f.clone();
        for k in ["test_file", "source_file"] {
            f[k] = f[k].as_str().unwrap().replace(&root, "/REPO").into();
        }
        f.to_string()
    };
    let mut ours: Vec<String> = v["findings"].as_array().unwrap().iter().map(norm).collect();
    let mut theirs: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.to_string())
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    assert_eq!(v["files_scanned"], r["files_scanned"]);
    assert_eq!(v["findings_per_100_loc"], r["findings_per_100_loc"]);
    assert_eq!(v["head_ref"], "HEAD");

    // --head acts: HEAD~1..HEAD~1 changes nothing.
    let v = env.json(
        &repo,
        &[
            "agent",
            "tests",
            "stale-check",
            "--base",
            "HEAD~1",
            "--head",
            "HEAD~1",
            "--json",
        ],
    );
    assert_eq!(v["findings"], serde_json::json!([]));
    let err = env.refused(
        &repo,
        &["agent", "tests", "stale-check", "--base", "no-such-ref"],
    );
    assert!(err.contains("no-such-ref"), "{err}");
}

#[test]
fn stale_check_human_report() {
    let env = TestEnv::new();
    let repo = stale_repo(&env);
    assert_run!(
        env,
        &repo,
        "stale_check_report",
        ["agent", "tests", "stale-check", "--base", "HEAD~1"]
    );
}

/// `mission switch` refuses by design, as the reference's does (exit 1), with
/// or without --force.
#[test]
fn mission_switch_refuses_like_the_reference() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let want = reference_exit("mission-switch.txt");
    for args in [
        &["mission", "switch", "research"][..],
        &["mission", "switch", "research", "--force"],
    ] {
        assert_eq!(code(&env.run(&root, args)), want, "{args:?}");
    }
}

/// `mission-type current -f <mission>` is the reference's short spelling of
/// `--mission`: it picks the mission as the long one does.
#[test]
fn mission_type_current_takes_f_for_the_mission() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let long = env.json(
        &root,
        &["mission-type", "current", "--mission", &m.slug, "--json"],
    );
    let short = env.json(&root, &["mission-type", "current", "-f", &m.slug, "--json"]);
    assert_eq!(long["mission_slug"], m.slug.as_str());
    assert_eq!(short, long);
    let out = env.run(
        &root,
        &["mission-type", "current", "-f", "no-such-mission", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// `subtasks:` entries that are mappings (`{id: T001, title: ..., status: ...}`),
/// as the reference team's tooling writes them, are read by their id; a mapping
/// without a usable id, or with an id that is not a subtask id, is refused
/// naming the file.
#[test]
fn subtask_mappings_are_read_by_id() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let wp = fs::read_dir(m.dir.join("tasks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("WP02"))
        .unwrap();
    let text = fs::read_to_string(&wp).unwrap();
    let (head, rest) = text.split_once("\n---\n").unwrap();
    let head: Vec<&str> = head.lines().collect();
    let mut kept: Vec<String> = Vec::new();
    let mut skip = false;
    for l in &head {
        if l.starts_with("subtasks:") {
            skip = true;
            continue;
        }
        if skip && (l.starts_with(' ') || l.starts_with('-')) {
            continue;
        }
        skip = false;
        kept.push((*l).to_string());
    }
    let with = |entries: &str| format!("{}\nsubtasks:\n{entries}---\n{rest}", kept.join("\n"));
    fs::write(
        &wp,
        with("- id: T002\n  title: Build the core\n  status: planned\n"),
    )
    .unwrap();
    env.ok(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--validate-only",
        ],
    );
    let f = crate::common::flow::Flow::new(&env, &root, &m.slug);
    f.implement("WP01", "codex");
    f.finish("WP01");
    let v = f.implement("WP02", "claude");
    assert!(v.to_string().contains("T002"), "{v}");

    fs::write(&wp, with("- id: ../T002\n  title: x\n")).unwrap();
    let err = env.refused(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--validate-only",
        ],
    );
    assert!(err.contains("WP02"), "{err}");
    fs::write(&wp, with("- title: no id\n")).unwrap();
    let err = env.refused(
        &root,
        &["agent", "tasks", "list-tasks", "--mission", &m.slug],
    );
    assert!(err.contains("subtasks"), "{err}");
}

/// Two `validate-tasks --fix` at once: the mission's status lock makes the
/// second see the first's repair, so the file gets exactly one repair entry.
#[test]
fn validate_tasks_fix_runs_one_at_a_time() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let doing = root.join("kitty-specs").join(M).join("tasks/doing");
    fs::create_dir_all(&doing).unwrap();
    let wp = doing.join("WP09-old.md");
    fs::write(
        &wp,
        "---\nwork_package_id: WP09\ntitle: Old\nlane: planned\n---\n# WP09\n",
    )
    .unwrap();
    // The lock is what is tested here, not two auto-commits racing on one branch.
    let config = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace("auto_commit: true", "auto_commit: false"),
    )
    .unwrap();
    let args = ["validate-tasks", "--mission", M, "--fix", "--agent", "bob"];
    let a = env.spawn_piped(&root, &args);
    let b = env.spawn_piped(&root, &args);
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let text = fs::read_to_string(&wp).unwrap();
    assert_eq!(
        text.matches("Auto-repaired lane metadata").count(),
        1,
        "{text}"
    );
    assert!(text.contains("lane: doing\n"), "{text}");
}

fn finalize(env: &TestEnv, root: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "agent",
        "mission",
        "finalize-tasks",
        "--mission",
        M,
        "--json",
    ];
    args.extend_from_slice(extra);
    env.run(root, &args)
}

/// The reference's own mission, its WP subtasks rewritten as mappings the way
/// the reference team's tooling writes them, finalizes on ours with the
/// reference's dependencies and lanes.
#[test]
fn the_reference_mission_finalizes_with_the_reference_dependencies() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    let lanes_before: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("lanes.json")).unwrap()).unwrap();
    for e in fs::read_dir(dir.join("tasks")).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("WP") {
            continue;
        }
        let n = &name[2..4];
        let text = fs::read_to_string(&p).unwrap().replacen(
            "subtasks: []\n",
            &format!("subtasks:\n- id: T0{n}\n  title: Part {n}\n  status: planned\n"),
            1,
        );
        fs::write(&p, text).unwrap();
    }
    let r = reference::json_in(&fixtures(), "finalize.json");
    let out = finalize(&env, &root, &[]);
    assert_eq!(code(&out), reference_exit("finalize.json"));
    let v = parse(&out);
    assert_eq!(v["dependencies_parsed"], r["dependencies_parsed"]);
    assert_eq!(v["requirement_refs_parsed"], r["requirement_refs_parsed"]);
    assert_eq!(v["lanes"]["lane_ids"], r["lanes"]["lane_ids"]);
    assert_eq!(
        v["lanes"]["collapse_report"]["events"],
        r["lanes"]["collapse_report"]["events"]
    );
    let lanes: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("lanes.json")).unwrap()).unwrap();
    let wps = |l: &serde_json::Value| -> Vec<serde_json::Value> {
        l["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["wp_ids"].clone())
            .collect()
    };
    assert_eq!(wps(&lanes), wps(&lanes_before));
    // The mapping entries are kept as written (their ids read, not rewritten).
    let wp1 = fs::read_to_string(dir.join("tasks/WP01-gamma.md")).unwrap();
    assert!(wp1.contains("- id: T001\n  title: Part 01\n"), "{wp1}");
}

/// Kept ours (README compatibility notes): a mission with no work packages
/// yet (no tasks/ directory) finalizes to nothing with a warning and exit 0;
/// the reference exits 1 "Tasks directory not found".
#[test]
fn finalize_without_tasks_dir_warns_where_the_reference_refuses() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    fs::remove_dir_all(dir.join("tasks")).unwrap();
    fs::write(dir.join("tasks.md"), "# Work Packages\n").unwrap();
    fs::remove_file(dir.join("lanes.json")).unwrap();
    assert_eq!(reference_exit("finalize-no-tasks.json"), 1);
    let out = finalize(&env, &root, &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = parse(&out);
    assert_eq!(v["wp_count"], 0);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("no work packages yet"),
        "{v}"
    );
    assert!(
        !dir.join("lanes.json").exists(),
        "an empty mission got a lanes.json"
    );
    assert!(!dir.join("tasks").exists());
}

/// Kept ours: a WP without requirement refs, and a functional requirement no
/// WP names, are warnings (stderr and `warnings` in the JSON), exit 0; the
/// reference refuses (exit 1). `map-requirements` fixes the gap later.
#[test]
fn finalize_with_unmapped_requirements_warns_where_the_reference_refuses() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let dir = root.join("kitty-specs").join(M);
    for f in ["tasks.md", "tasks/WP04-gamma-tests.md"] {
        let t = fs::read_to_string(dir.join(f)).unwrap();
        let kept: Vec<&str> = t.lines().filter(|l| !l.contains("FR-004")).collect();
        fs::write(dir.join(f), kept.join("\n") + "\n").unwrap();
    }
    assert_eq!(reference_exit("finalize-unmapped-fr.json"), 1);
    let r = reference::json_in(&fixtures(), "finalize-unmapped-fr.json");
    let out = finalize(&env, &root, &["--validate-only"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = parse(&out);
    let warnings = v["warnings"].to_string();
    for wp in r["missing_requirement_refs_wps"].as_array().unwrap() {
        assert!(warnings.contains(wp.as_str().unwrap()), "{warnings}");
    }
    for fr in r["unmapped_functional_requirements"].as_array().unwrap() {
        assert!(warnings.contains(fr.as_str().unwrap()), "{warnings}");
    }
    assert!(stderr(&out).contains("FR-004"), "{}", stderr(&out));
    assert_eq!(v["dependencies_parsed"], r["dependencies_parsed"]);
}

/// Kept ours for dependent WPs (one lane, run in order: they never write at
/// once); the reference refuses any overlap. Overlap between WPs that can run
/// in parallel is refused by both.
#[test]
fn overlapping_ownership_is_refused_only_between_parallel_wps() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let tasks = root.join("kitty-specs").join(M).join("tasks");
    let retarget = |file: &str, from: &str| {
        let p = tasks.join(file);
        let t = fs::read_to_string(&p)
            .unwrap()
            .replace(&format!("- {from}/**"), "- src/gamma/**")
            .replace(
                &format!("authoritative_surface: {from}/"),
                "authoritative_surface: src/gamma/",
            );
        fs::write(&p, t).unwrap();
    };
    retarget("WP04-gamma-tests.md", "tests/gamma");
    assert_eq!(reference_exit("finalize-overlap-dependent.json"), 1);
    let out = finalize(&env, &root, &["--validate-only"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = parse(&out);
    let lane_a = &v["validation"]["lanes_preview"]["collapse_report"]["events"][0];
    assert_eq!(lane_a["wp_a"], "WP04");
    assert_eq!(lane_a["wp_b"], "WP01");

    retarget("WP03-delta.md", "src/delta");
    assert_eq!(reference_exit("finalize-overlap-parallel.json"), 1);
    let out = finalize(&env, &root, &["--validate-only"]);
    assert_eq!(code(&out), 1);
    let err = parse(&out)["error"].as_str().unwrap().to_string();
    assert!(err.contains("WP03") && err.contains("overlapping"), "{err}");
}

/// `--require-tasks` acts on `agent mission check-prerequisites` too: it is
/// `--include-tasks` (the task files listed), not an ignored flag.
#[test]
fn mission_check_prerequisites_require_tasks_acts() {
    let env = TestEnv::new();
    let root = reference_project(&env);
    let base = [
        "agent",
        "mission",
        "check-prerequisites",
        "--mission",
        M,
        "--json",
    ];
    let with = |flag: &str| {
        let mut a = base.to_vec();
        a.push(flag);
        without_clock(&env.json(&root, &a))
    };
    let plain = without_clock(&env.json(&root, &base));
    let required = with("--require-tasks");
    assert_eq!(required, with("--include-tasks"));
    assert_ne!(required, plain, "--require-tasks changed nothing");
}
