//! A team through `agent mission sync-team`: clones of one bare origin, each
//! with its own HOME and git identity, sharing a mission only through the
//! commands the prompts teach; and the same flow with a third clone running
//! the Python spec-kitty 3.1.1 (ignored unless `SPEC_KITTY_PY_TOOL` names it).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::flow::Flow;
use crate::common::team::Machine;
use crate::common::{stderr, stdout, TestEnv, WpDef};

impl Machine {
    /// The sync the prompts teach; it must succeed.
    fn sync(&self) -> Value {
        self.env.json(
            &self.dir,
            &[
                "agent",
                "mission",
                "sync-team",
                "--mission",
                "demo",
                "--json",
            ],
        )
    }

    fn flow(&self) -> Flow<'_> {
        Flow::new(&self.env, &self.dir, "demo")
    }

    /// The event log: (event_id, wp, to_lane, actor) per line, in file order.
    fn events(&self) -> Vec<Value> {
        fs::read_to_string(self.mission().join("status.events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }

    fn event_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .events()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_string())
            .collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(n, ids.len(), "an event twice in {}", self.dir.display());
        ids
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    fn clean(&self) {
        assert_eq!(
            self.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "{} is not clean",
            self.dir.display()
        );
    }
}

/// A origin and alice's clone with a finalized mission committed and pushed;
/// bob's clone of it. spec-kitty is NOT on git's PATH: the drivers sync-team
/// registers run by their absolute path.
fn team(wps: &[WpDef]) -> (PathBuf, Machine, Machine) {
    crate::common::team::team(wps, Machine::new)
}

fn origin_main(m: &Machine) -> String {
    m.git(&["ls-remote", "origin", "refs/heads/main"])
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn sync_team_shares_state_both_ways_and_commits_only_mission_files() {
    let (_o, a, b) = team(&[
        WpDef::planning("WP01", "One", "docs/one/**", &[]),
        WpDef::planning("WP02", "Two", "docs/two/**", &[]),
    ]);
    a.flow().moved("WP01", "claimed", "alice-bot");
    let r = a.sync();
    assert_eq!(r["pushed"], serde_json::json!(["main"]), "{r}");
    assert!(
        r["recorded_files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().ends_with("status.events.jsonl")),
        "{r}"
    );
    assert_eq!(origin_main(&a), a.head());

    // bob moves another WP, then syncs: alice's claim comes in by a merge the
    // drivers make (no conflict), his goes out.
    b.flow().moved("WP02", "claimed", "bob-bot");
    let r = b.sync();
    assert!(
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["command"] == "git merge --no-edit origin/main" && s["outcome"] == "done"),
        "{r}"
    );
    assert_eq!(r["pushed"], serde_json::json!(["main"]));
    a.sync();
    assert_eq!(a.board(), b.board());
    assert_eq!(a.board()["WP01"], "claimed");
    assert_eq!(a.board()["WP02"], "claimed");
    assert_eq!(a.event_ids(), b.event_ids());
    assert_eq!(a.head(), b.head());
    a.clean();
    b.clean();
    // Nothing but records and merges was committed: no other file.
    let subjects = b.git(&["log", "--format=%s"]);
    for s in subjects.lines() {
        assert!(
            s.starts_with("Record mission 001-demo state")
                || s.starts_with("Merge remote-tracking branch 'origin/main'")
                || s == "plan mission demo"
                || s == "initial",
            "an unexpected commit: {s}"
        );
    }
    // A second sync with nothing new records, merges and pushes nothing.
    let r = a.sync();
    assert_eq!(r["recorded_commit"], Value::Null);
    assert_eq!(r["pushed"], serde_json::json!([]));
}

#[test]
fn sync_team_refuses_to_push_over_a_conflict_and_names_the_files() {
    let (_o, a, b) = team(&[WpDef::planning("WP01", "One", "docs/one/**", &[])]);
    let spec = "kitty-specs/001-demo/spec.md";
    fs::write(a.dir.join(spec), "# Spec\n\nalice's version\n").unwrap();
    a.sync();
    let pushed = origin_main(&a);
    fs::write(b.dir.join(spec), "# Spec\n\nbob's version\n").unwrap();
    let out = b.sk(&["agent", "mission", "sync-team", "--mission", "demo"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(spec), "{err}");
    assert!(err.contains("nothing was pushed"), "{err}");
    assert_eq!(origin_main(&b), pushed, "nothing pushed");
    // Run again while the merge is unresolved: refused, files named, --json
    // lists them.
    let out = b.sk(&[
        "agent",
        "mission",
        "sync-team",
        "--mission",
        "demo",
        "--json",
    ]);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", stdout(&out), stderr(&out));
    });
    assert_eq!(v["conflicts"], serde_json::json!([spec]), "{v}");
    assert_eq!(origin_main(&b), pushed);
    // Resolved and committed by the user, the next sync pushes.
    fs::write(b.dir.join(spec), "# Spec\n\nboth versions\n").unwrap();
    b.git(&["add", spec]);
    b.git(&["commit", "-q", "--no-edit"]);
    let r = b.sync();
    assert_eq!(r["pushed"], serde_json::json!(["main"]));
    assert_eq!(origin_main(&b), b.head());
    b.clean();
}

#[test]
fn sync_team_dry_run_shows_the_steps_and_changes_nothing() {
    let (o, a, _b) = team(&[WpDef::planning("WP01", "One", "docs/one/**", &[])]);
    a.flow().moved("WP01", "claimed", "alice-bot");
    let head = a.head();
    let status = a.git(&["status", "--porcelain"]);
    let v = a.env.json(
        &a.dir,
        &[
            "agent",
            "mission",
            "sync-team",
            "--mission",
            "demo",
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["remote"], "origin");
    let steps: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["command"].as_str().unwrap())
        .collect();
    assert!(steps.contains(&"git fetch origin"), "{v}");
    assert!(steps.contains(&"git merge --no-edit origin/main"), "{v}");
    assert!(
        steps.iter().any(|s| s.starts_with("git push origin main")),
        "{v}"
    );
    assert!(!v["recorded_files"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(a.head(), head);
    assert_eq!(a.git(&["status", "--porcelain"]), status);
    assert_eq!(origin_main(&a), head);
    let _ = o;
    // Human output names the same steps.
    let out = a.ok(&[
        "agent",
        "mission",
        "sync-team",
        "--mission",
        "demo",
        "--dry-run",
    ]);
    assert!(
        out.contains("Would sync 001-demo on main with origin"),
        "{out}"
    );
    assert!(out.contains("git fetch origin"), "{out}");
}

#[test]
fn sync_team_refuses_an_unknown_remote_and_records_nothing() {
    let (_o, a, _b) = team(&[WpDef::planning("WP01", "One", "docs/one/**", &[])]);
    a.flow().moved("WP01", "claimed", "alice-bot");
    let head = a.head();
    let out = a.sk(&[
        "agent",
        "mission",
        "sync-team",
        "--mission",
        "demo",
        "--remote",
        "--upload-pack=x",
    ]);
    assert!(!out.status.success());
    let out = a.sk(&[
        "agent",
        "mission",
        "sync-team",
        "--mission",
        "demo",
        "--remote",
        "nowhere",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no git remote named \"nowhere\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(a.head(), head, "nothing recorded");
}

#[test]
fn sync_team_carries_lane_branches_so_a_teammate_reviews_and_merges() {
    let (_o, a, b) = team(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    // alice implements WP01 in its lane and hands it in.
    let imp = a.flow().implement("WP01", "codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
    let branch = imp["branch"].as_str().unwrap().to_string();
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    a.git_in(&ws, &["add", "-A"]);
    a.git_in(&ws, &["commit", "-qm", "WP01 work"]);
    a.flow().submit("WP01", "codex");
    let r = a.sync();
    let pushed: Vec<&str> = r["pushed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(pushed.contains(&branch.as_str()), "{r}");
    // bob syncs: the lane branch arrives, so he can review and approve.
    let r = b.sync();
    assert!(
        r["lanes_updated"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == &Value::String(branch.clone())),
        "{r}"
    );
    let prompt = b.flow().review("WP01", "claude").to_string();
    assert!(prompt.contains("src/one/lib.rs"), "{prompt}");
    b.flow().approve("WP01", "claude");
    b.sync();
    b.ok(&["accept", "--mission", "demo"]);
    b.sync();
    b.ok(&["merge", "--mission", "demo"]);
    b.sync();
    assert!(
        b.git(&["branch", "--list", &branch]).trim().is_empty(),
        "the sync after the merge does not bring the merged lane branch back"
    );
    // alice pulls the merge; her clone agrees and cleans up what it left.
    a.sync();
    assert_eq!(a.head(), b.head());
    assert_eq!(a.event_ids(), b.event_ids());
    assert!(a.dir.join("src/one/lib.rs").exists());
    a.ok(&["merge", "--mission", "demo", "--clean-up"]);
    a.clean();
    b.clean();
}

/// The Python spec-kitty 3.1.1 in carol's clone, with her own HOME (it writes
/// hundreds of files there) and git identity.
fn py(carol: &Machine, tool: &Path, args: &[&str]) -> Output {
    std::process::Command::new(tool)
        .args(args)
        .current_dir(&carol.dir)
        .env("HOME", &carol.env.home)
        .env("GIT_CONFIG_GLOBAL", carol.env.tmp.path().join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .env("TMPDIR", carol.env.tmp.path())
        .env_remove("SPEC_KITTY_ENABLE_SAAS_SYNC")
        .output()
        .unwrap()
}

fn py_ok(carol: &Machine, tool: &Path, args: &[&str]) -> String {
    let out = py(carol, tool, args);
    assert!(
        out.status.success(),
        "python spec-kitty {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// The JSON document a Python command printed (it may print notes first).
fn py_json(carol: &Machine, tool: &Path, args: &[&str]) -> Value {
    let text = py_ok(carol, tool, args);
    let start = text
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {text}"));
    serde_json::from_str(&text[start..]).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
#[ignore = "needs the Python spec-kitty-cli 3.1.1: set SPEC_KITTY_PY_TOOL to its spec-kitty"]
fn two_clones_and_a_python_teammate_take_one_mission_from_finalize_to_merge() {
    let tool = PathBuf::from(
        std::env::var_os("SPEC_KITTY_PY_TOOL")
            .expect("SPEC_KITTY_PY_TOOL: the path of the Python spec-kitty 3.1.1"),
    );
    // alice finalized the mission and pushed it; bob and carol clone it.
    let (origin, a, b) = team(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::planning("WP02", "Two", "docs/two/**", &[]),
    ]);
    let c = Machine::new("carol");
    c.clone_from(&origin);
    let version = py_ok(&c, &tool, &["--version"]);
    assert!(version.contains("3.1.1"), "{version}");

    // alice implements WP01 in its lane, as the implement prompt teaches,
    // and syncs after the state change.
    let imp = a.flow().implement("WP01", "alice-codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
    let lane = imp["branch"].as_str().unwrap().to_string();
    a.sync();
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    a.git_in(&ws, &["add", "-A"]);
    a.git_in(&ws, &["commit", "-qm", "WP01: one"]);
    a.flow().submit("WP01", "alice-codex");
    a.sync();

    // carol, on the Python tool, pulls, takes the planning WP02 on our
    // mission, does it, hands it in, and shares it with plain git.
    c.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    let board = py_json(
        &c,
        &tool,
        &[
            "agent",
            "tasks",
            "status",
            "--mission",
            "001-demo",
            "--json",
        ],
    );
    let lanes: BTreeMap<&str, &str> = board["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_str().unwrap(), w["lane"].as_str().unwrap()))
        .collect();
    assert_eq!(
        lanes["WP01"], "for_review",
        "the Python tool reads our log: {board}"
    );
    assert_eq!(lanes["WP02"], "planned");
    for to in ["claimed", "in_progress"] {
        py_json(
            &c,
            &tool,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP02",
                "--to",
                to,
                "--agent",
                "carol-bot",
                "--mission",
                "001-demo",
                "--json",
            ],
        );
    }
    fs::create_dir_all(c.dir.join("docs/two")).unwrap();
    fs::write(c.dir.join("docs/two/guide.md"), "# Two\n").unwrap();
    py_json(
        &c,
        &tool,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T002",
            "--status",
            "done",
            "--mission",
            "001-demo",
            "--json",
        ],
    );
    c.git(&["add", "-A"]);
    c.git(&["commit", "-qm", "WP02: two"]);
    py_json(
        &c,
        &tool,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP02",
            "--to",
            "for_review",
            "--agent",
            "carol-bot",
            "--mission",
            "001-demo",
            "--note",
            "done",
            "--json",
        ],
    );
    c.git(&["add", "-A"]);
    c.git(&["commit", "-qm", "WP02 for review"]);
    c.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    c.git(&["push", "-q"]);

    // bob syncs, reviews and approves both, as the review prompt teaches.
    b.sync();
    assert_eq!(b.board()["WP01"], "for_review");
    assert_eq!(b.board()["WP02"], "for_review");
    // WP02 is planning work in the main checkout: its approval event names
    // no commit, so what backs it is carol's work commit in bob's clone.
    let planning_work = b.git(&["log", "--format=%H", "-1", "--", "docs/two/guide.md"]);
    assert!(
        !planning_work.trim().is_empty(),
        "bob has carol's WP02 work"
    );
    for wp in ["WP01", "WP02"] {
        b.flow().review(wp, "bob-claude");
        b.flow().approve(wp, "bob-claude");
    }
    b.sync();

    // alice syncs, accepts (with a test run) and merges, as the merge prompt
    // teaches; then syncs.
    a.sync();
    assert_eq!(a.board()["WP02"], "approved");
    // `accept --test` runs once on the mission as it will land: the code
    // lane merged with the target, where carol's planning work is. Neither
    // the lane worktree (no docs/two) nor the main checkout (no src/one)
    // passes this alone.
    let accepted = a.ok(&[
        "accept",
        "--mission",
        "demo",
        "--test",
        "test -f src/one/lib.rs && test -f docs/two/guide.md",
    ]);
    assert!(accepted.contains("tests"), "{accepted}");
    a.sync();
    a.ok(&["merge", "--mission", "demo"]);
    a.sync();

    // bob and carol pull the merge; bob cleans up what his review left.
    b.sync();
    b.ok(&["merge", "--mission", "demo", "--clean-up"]);
    c.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    let board = py_json(
        &c,
        &tool,
        &[
            "agent",
            "tasks",
            "status",
            "--mission",
            "001-demo",
            "--json",
        ],
    );
    for w in board["work_packages"].as_array().unwrap() {
        assert_eq!(w["lane"], "done", "the Python tool sees the merge: {board}");
    }

    // Every event once in every clone, the same events everywhere.
    let ids = a.event_ids();
    assert_eq!(b.event_ids(), ids);
    assert_eq!(c.event_ids(), ids);
    // Every approval backed by a commit the approving clone (bob's) has.
    let approvals: Vec<Value> = a
        .events()
        .into_iter()
        .filter(|e| e["to_lane"] == "approved")
        .collect();
    assert_eq!(approvals.len(), 2, "{approvals:?}");
    for e in &approvals {
        assert_eq!(e["actor"], "bob-claude");
        if e["wp_id"] == "WP02" {
            assert_eq!(e["execution_mode"], "direct_repo", "{e}");
            continue;
        }
        let repos = e["evidence"]["repos"]
            .as_array()
            .unwrap_or_else(|| panic!("{e}"));
        assert!(!repos.is_empty(), "{e}");
        for r in repos {
            let commit = r["commit"].as_str().unwrap();
            let out = b.git_out_in(&b.dir, &["cat-file", "-e", &format!("{commit}^{{commit}}")]);
            assert!(out.status.success(), "bob lacks {commit} he approved: {e}");
        }
    }
    // The merge recorded once: one record commit, the same meta everywhere.
    let records = a.git(&[
        "log",
        "--format=%s",
        "--grep",
        "Record mission 001-demo merged",
    ]);
    assert_eq!(records.lines().count(), 1, "{records}");
    let meta = fs::read(a.mission().join("meta.json")).unwrap();
    assert_eq!(fs::read(b.mission().join("meta.json")).unwrap(), meta);
    assert_eq!(fs::read(c.mission().join("meta.json")).unwrap(), meta);
    let done = a
        .events()
        .into_iter()
        .filter(|e| e["to_lane"] == "done")
        .count();
    assert_eq!(done, 2);
    // The combined work is on main in every clone, and nothing is dirty.
    assert_eq!(a.head(), b.head());
    assert_eq!(a.head(), c.head());
    for m in [&a, &b, &c] {
        assert!(m.dir.join("src/one/lib.rs").exists());
        assert!(m.dir.join("docs/two/guide.md").exists());
        m.clean();
    }
    assert!(!ws.exists(), "the merge removed alice's lane worktree");
    assert!(b.git(&["branch", "--list", &lane]).trim().is_empty());
}

#[test]
fn the_implement_review_and_merge_prompts_teach_the_team_sync() {
    let env = TestEnv::new();
    let root = env.work.join("p");
    fs::create_dir_all(&root).unwrap();
    env.ok(&root, &["init", ".", "--ai", "codex", "--non-interactive"]);
    for name in ["implement", "review", "merge"] {
        let path = root.join(format!(".codex/prompts/spec-kitty.{name}.md"));
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("spec-kitty agent mission sync-team --mission <mission_slug>"),
            "{name}: {text}"
        );
        assert!(text.contains("working with others"), "{name}: {text}");
    }
    let merge = fs::read_to_string(root.join(".codex/prompts/spec-kitty.merge.md")).unwrap();
    assert!(merge.contains("--clean-up"), "{merge}");
}

#[test]
fn sync_team_leaves_a_lane_branch_checked_out_in_a_worktree_alone() {
    let (_o, a, b) = team(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    let imp = a.flow().implement("WP01", "codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
    let branch = imp["branch"].as_str().unwrap().to_string();
    a.sync();
    // bob adds a commit to the lane on the remote.
    b.sync();
    let side = b.env.tmp.path().join("side");
    b.git(&["worktree", "add", "-q", side.to_str().unwrap(), &branch]);
    fs::create_dir_all(side.join("src/one")).unwrap();
    fs::write(side.join("src/one/b.rs"), "// bob\n").unwrap();
    b.git_in(&side, &["add", "-A"]);
    b.git_in(&side, &["commit", "-qm", "bob on the lane"]);
    b.git_in(&side, &["push", "-q", "origin", &branch]);
    // alice's lane branch is checked out in her lane worktree: git refuses to
    // move it under the worktree; the sync says so and goes on.
    let before = a.git_in(&ws, &["rev-parse", "HEAD"]);
    let r = a.sync();
    let kept = r["lanes_kept"].as_array().unwrap();
    assert!(
        kept.iter()
            .any(|k| k.as_str().unwrap().starts_with(&format!("{branch}: "))),
        "{r}"
    );
    assert_eq!(a.git_in(&ws, &["rev-parse", "HEAD"]), before);
    assert_eq!(a.git_in(&ws, &["status", "--porcelain"]), "");
}

#[test]
fn sync_team_stops_when_the_remote_is_unreachable_and_pushes_nothing() {
    let (o, a, _b) = team(&[WpDef::planning("WP01", "One", "docs/one/**", &[])]);
    a.flow().moved("WP01", "claimed", "alice-bot");
    let gone = a.env.tmp.path().join("gone.git");
    a.git(&["remote", "set-url", "origin", gone.to_str().unwrap()]);
    let out = a.sk(&["agent", "mission", "sync-team", "--mission", "demo"]);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("git fetch origin failed"), "{err}");
    assert!(err.contains("nothing was pushed"), "{err}");
    // The mission's files were recorded (and stay so); the old origin is untouched.
    assert_eq!(a.git(&["status", "--porcelain"]), "");
    let main = std::process::Command::new("git")
        .args(["--git-dir", o.to_str().unwrap(), "rev-parse", "main"])
        .output()
        .unwrap();
    assert_ne!(stdout(&main).trim(), a.head());
}

#[test]
fn two_clones_syncing_at_once_lose_nothing() {
    let (_o, a, b) = team(&[
        WpDef::planning("WP01", "One", "docs/one/**", &[]),
        WpDef::planning("WP02", "Two", "docs/two/**", &[]),
    ]);
    a.flow().moved("WP01", "claimed", "alice-bot");
    b.flow().moved("WP02", "claimed", "bob-bot");
    let args = ["agent", "mission", "sync-team", "--mission", "demo"];
    let ca = a.env.spawn_piped(&a.dir, &args);
    let cb = b.env.spawn_piped(&b.dir, &args);
    for out in [
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    ] {
        // The one that lost the race to the remote is refused, never forced.
        if !out.status.success() {
            let err = stderr(&out);
            assert!(
                err.contains("git push origin failed") || err.contains("git fetch origin failed"),
                "{err}"
            );
        }
    }
    // Running it again converges: both claims everywhere, once each.
    a.sync();
    b.sync();
    a.sync();
    assert_eq!(a.event_ids(), b.event_ids());
    assert_eq!(a.board()["WP01"], "claimed");
    assert_eq!(b.board()["WP02"], "claimed");
    assert_eq!(a.board(), b.board());
    assert_eq!(a.head(), b.head());
    assert_eq!(origin_main(&a), a.head());
    a.clean();
    b.clean();
}
