//! A team on several machines: a bare origin and clones, each with its own
//! HOME and git identity, moving work packages and sharing the board through
//! plain `git push` / `git pull` (merge and rebase), with the merge drivers
//! spec-kitty registers, and with a clone that has none.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::flow::move_task;
use crate::common::{stderr, write_mission, TestEnv, WpDef};

/// One machine: its own HOME and git config, and its clone.
struct Machine {
    env: TestEnv,
    dir: PathBuf,
}

impl Machine {
    fn new(name: &str) -> Machine {
        let env = TestEnv::new();
        // Each machine commits as its own person.
        fs::write(
            env.tmp.path().join("gitconfig"),
            format!("[user]\n\tname = {name}\n\temail = {name}@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"),
        )
        .unwrap();
        let dir = env.work.join(name);
        Machine { env, dir }
    }

    /// `git ARGS` here, with spec-kitty on PATH (git runs the merge drivers).
    fn git_out(&self, args: &[&str]) -> Output {
        let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
        let mut path = vec![bin.parent().unwrap().to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::process::Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.env.home)
            .env("GIT_CONFIG_GLOBAL", self.env.tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("GIT_EDITOR", "true")
            .output()
            .unwrap()
    }

    fn clone_from(&self, origin: &Path) {
        fs::create_dir_all(&self.dir).unwrap();
        self.git(&["clone", "-q", origin.to_str().unwrap(), "."]);
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.git_out(args);
        assert!(
            out.status.success(),
            "git {args:?} in {} failed:\n{}{}",
            self.dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn sk(&self, args: &[&str]) -> Output {
        self.env.sk(&self.dir, args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        self.env.ok(&self.dir, args)
    }

    fn mv(&self, wp: &str, to: &str) -> Output {
        let out = self.sk(&move_task(wp, to, &[], "demo"));
        assert!(out.status.success(), "move {wp} to {to}: {}", stderr(&out));
        out
    }

    fn mission(&self) -> PathBuf {
        self.dir.join("kitty-specs/001-demo")
    }

    /// WP id -> lane, as `agent tasks status` shows it.
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

    fn event_ids(&self) -> Vec<String> {
        fs::read_to_string(self.mission().join("status.events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("unreadable log line {l:?}: {e}"));
                v["event_id"].as_str().unwrap().to_string()
            })
            .collect()
    }

    /// No conflict markers in any file under kitty-specs, each event id once,
    /// status.json the reducer's output, and a clean tree.
    fn assert_sound(&self) {
        let mut files = Vec::new();
        walk(&self.dir.join("kitty-specs"), &mut files);
        for f in files {
            let text = fs::read_to_string(&f).unwrap_or_default();
            for marker in ["<<<<<<<", "=======", ">>>>>>>"] {
                assert!(
                    !text.lines().any(|l| l.starts_with(marker)),
                    "{marker} in {}:\n{text}",
                    f.display()
                );
            }
        }
        let ids = self.event_ids();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            ids.len(),
            unique.len(),
            "an event id twice in {}",
            self.dir.display()
        );
        let snap = fs::read(self.mission().join("status.json")).unwrap();
        self.ok(&["materialize", "--mission", "demo"]);
        assert_eq!(
            String::from_utf8(fs::read(self.mission().join("status.json")).unwrap()).unwrap(),
            String::from_utf8(snap).unwrap(),
            "status.json in {} is not the reducer's output",
            self.dir.display()
        );
        assert_eq!(
            self.git(&["status", "--porcelain", "--untracked-files=all"]),
            "",
            "{} is not clean",
            self.dir.display()
        );
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn two_clones_converge_on_one_board_through_push_and_pull() {
    // Machine A sets the project up and publishes it.
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
    write_mission(
        &m.dir,
        &m.slug,
        &[
            WpDef::code("WP01", "One", "src/one/**", &[]),
            WpDef::code("WP02", "Two", "src/two/**", &[]),
            WpDef::code("WP03", "Three", "src/three/**", &[]),
        ],
    );
    a.ok(&["agent", "mission", "finalize-tasks", "--mission", "demo"]);
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "plan mission demo"]);
    a.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    a.git(&["push", "-q", "-u", "origin", "main"]);

    // Machine B clones: no driver is registered in a fresh clone.
    let b = Machine::new("bob");
    b.clone_from(&origin);
    assert!(!b
        .git_out(&["config", "--get", "merge.spec-kitty-event-log.driver"])
        .status
        .success());
    b.board();
    assert!(
        !b.git_out(&["config", "--get", "merge.spec-kitty-event-log.driver"])
            .status
            .success(),
        "reading the board registered nothing"
    );
    let out = b.mv("WP02", "claimed");
    assert!(
        stderr(&out).contains("registered the git merge drivers"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&b.mv("WP02", "in_progress")).contains("registered"));

    // Different WPs, shared by `record`; A pulls with a merge.
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["push", "-q"]);
    a.mv("WP01", "claimed");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    a.assert_sound();
    a.git(&["push", "-q"]);
    b.git(&["pull", "-q", "--rebase"]);
    b.assert_sound();
    assert_eq!(a.board(), b.board());
    assert_eq!(a.board()["WP01"], "claimed");
    assert_eq!(a.board()["WP02"], "in_progress");

    // auto_commit on for the team; the same WP moved on both machines, and
    // different WPs too; B pulls with a rebase.
    let cfg = b.dir.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg)
        .unwrap()
        .replace("auto_commit: false", "auto_commit: true");
    fs::write(&cfg, text).unwrap();
    b.git(&["commit", "-qam", "auto_commit for the team"]);
    b.git(&["push", "-q"]);
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    let before = a.git(&["rev-parse", "HEAD"]);
    a.mv("WP03", "claimed");
    a.mv("WP01", "in_progress");
    assert_eq!(
        a.git(&["rev-list", "--count", &format!("{}..HEAD", before.trim())])
            .trim(),
        "2",
        "one auto commit per move"
    );
    b.mv("WP03", "blocked");
    b.mv("WP02", "blocked");
    a.git(&["push", "-q"]);
    b.git(&["pull", "-q", "--rebase"]);
    b.assert_sound();
    b.git(&["push", "-q"]);
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    a.assert_sound();
    assert_eq!(a.board(), b.board());
    assert_eq!(a.board()["WP02"], "blocked");
    // Both activity logs survived in the WP file (union, no markers).
    let wp03 = fs::read_to_string(a.mission().join("tasks/WP03-three.md")).unwrap();
    assert!(
        wp03.contains("Moved to claimed") && wp03.contains("Moved to blocked"),
        "{wp03}"
    );
    // The race on WP03 is reported, not passed.
    let out = a.sk(&["agent", "tasks", "validate-workflow", "--mission", "demo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        crate::common::stdout(&out).contains("WP03: concurrent transition"),
        "{}",
        crate::common::stdout(&out)
    );

    // A cherry-picked event: the same event reaches main twice (-x makes the
    // copy a different commit, so the merge is a real one).
    a.git(&["switch", "-q", "-c", "side"]);
    a.mv("WP01", "blocked");
    let picked = a.git(&["rev-parse", "HEAD"]);
    a.mv("WP02", "in_progress");
    a.git(&["switch", "-q", "main"]);
    a.git(&["cherry-pick", "-x", picked.trim()]);
    a.git(&["merge", "-q", "--no-edit", "side"]);
    // status.json could not know the event came twice: the next reader
    // rebuilds it from the log, and the record shares the fix.
    a.board();
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.assert_sound();
    a.git(&["push", "-q"]);

    // A clone without the driver (another tool's clone): the text merge
    // leaves conflict markers; repair-status mends the log.
    let c = Machine::new("carol");
    c.clone_from(&origin);
    c.mv("WP01", "in_progress");
    for d in [
        "spec-kitty-event-log",
        "spec-kitty-status-json",
        "spec-kitty-wp",
    ] {
        c.git(&[
            "config",
            "--local",
            "--remove-section",
            &format!("merge.{d}"),
        ]);
    }
    a.mv("WP02", "blocked");
    a.git(&["push", "-q"]);
    let pull = c.git_out(&["pull", "--no-rebase", "--no-edit"]);
    assert!(!pull.status.success(), "the text merge should conflict");
    let log = fs::read_to_string(c.mission().join("status.events.jsonl")).unwrap();
    assert!(log.contains("<<<<<<<"), "{log}");
    let out = c.sk(&["agent", "mission", "repair-status", "--mission", "demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    c.git(&["add", "kitty-specs"]);
    c.git(&["commit", "-q", "--no-edit"]);
    c.assert_sound();
    c.git(&["push", "-q"]);
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    b.git(&["pull", "-q", "--rebase"]);
    for m in [&a, &b, &c] {
        m.assert_sound();
    }
    assert_eq!(a.board(), b.board());
    assert_eq!(a.board(), c.board());
    assert_eq!(a.board()["WP01"], "in_progress");
    assert_eq!(a.board()["WP02"], "blocked");
}
