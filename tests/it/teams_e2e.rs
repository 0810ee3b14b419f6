//! A team through `agent mission sync-team`: clones of one bare origin, each
//! with its own HOME and git identity, sharing a mission only through the
//! commands the prompts teach; and the same flow with a third clone running
//! the Python spec-kitty 3.1.1 (ignored unless `SPEC_KITTY_PY_TOOL` names it).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::flow::{move_task, Flow};
use crate::common::{stderr, stdout, write_mission, TestEnv, WpDef};

/// One machine: its own HOME and git config, and its clone.
struct Machine {
    env: TestEnv,
    dir: PathBuf,
}

impl Machine {
    fn new(name: &str) -> Machine {
        let env = TestEnv::new();
        fs::write(
            env.tmp.path().join("gitconfig"),
            format!("[user]\n\tname = {name}\n\temail = {name}@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"),
        )
        .unwrap();
        let dir = env.work.join(name);
        Machine { env, dir }
    }

    /// `git ARGS` in `dir`. spec-kitty is NOT on PATH: the drivers sync-team
    /// registers run by their absolute path.
    fn git_out_in(&self, dir: &Path, args: &[&str]) -> Output {
        std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", &self.env.home)
            .env("GIT_CONFIG_GLOBAL", self.env.tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_EDITOR", "true")
            .output()
            .unwrap()
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_out_in(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.dir, args)
    }

    fn clone_from(&self, origin: &Path) {
        fs::create_dir_all(&self.dir).unwrap();
        self.git(&["clone", "-q", origin.to_str().unwrap(), "."]);
    }

    fn sk(&self, args: &[&str]) -> Output {
        self.env.sk(&self.dir, args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        self.env.ok(&self.dir, args)
    }

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

    fn mission(&self) -> PathBuf {
        self.dir.join("kitty-specs/001-demo")
    }

    fn board(&self) -> BTreeMap<String, String> {
        let v = self.env.json(
            &self.dir,
            &["agent", "tasks", "status", "--mission", "demo", "--json"],
        );
        v["work_packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["id"].as_str().unwrap().to_string(),
                    w["lane"].as_str().unwrap().to_string(),
                )
            })
            .collect()
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
/// bob's clone of it.
fn team(wps: &[WpDef]) -> (PathBuf, Machine, Machine) {
    let a = Machine::new("alice");
    let origin = a.env.tmp.path().join("origin.git");
    fs::create_dir_all(&a.dir).unwrap();
    a.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    a.git(&["init", "-q"]);
    fs::write(a.dir.join("README.md"), "demo\n").unwrap();
    a.git(&["add", "README.md"]);
    a.git(&["commit", "-qm", "initial"]);
    a.ok(&["init", ".", "--ai", "codex", "--non-interactive"]);
    let m = a.env.create_mission(&a.dir, "demo");
    write_mission(&m.dir, &m.slug, wps);
    a.ok(&["agent", "mission", "finalize-tasks", "--mission", "demo"]);
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "plan mission demo"]);
    a.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    a.git(&["push", "-q", "-u", "origin", "main"]);
    let b = Machine::new("bob");
    b.clone_from(&origin);
    (origin, a, b)
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
    let _ = move_task;
}
