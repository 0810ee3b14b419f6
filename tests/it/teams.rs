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

impl Machine {
    /// `git ARGS` here as an IDE or a cron job runs it: no spec-kitty on PATH.
    fn git_bare_path(&self, args: &[&str]) -> Output {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.env.home)
            .env("GIT_CONFIG_GLOBAL", self.env.tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("GIT_EDITOR", "true")
            .output()
            .unwrap()
    }
}

/// A and B share a three-WP mission through a bare origin; B has a driver
/// registration (it moved a WP). Returns (a, b).
fn two_clones() -> (Machine, Machine) {
    two_clones_with(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
        WpDef::code("WP03", "Three", "src/three/**", &[]),
    ])
}

fn two_clones_with(wps: &[WpDef]) -> (Machine, Machine) {
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
    (a, b)
}

#[test]
fn the_registered_drivers_run_without_spec_kitty_on_path() {
    let (a, b) = two_clones();
    b.mv("WP02", "claimed");
    let driver = b.git(&["config", "--get", "merge.spec-kitty-event-log.driver"]);
    let bin = fs::canonicalize(assert_cmd::cargo::cargo_bin("spec-kitty")).unwrap();
    assert!(
        driver.contains(&format!("'{}'", bin.display()))
            && driver.contains("else spec-kitty merge-driver-event-log %O %A %B;"),
        "the driver names the running binary, with a fallback: {driver}"
    );
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.mv("WP01", "claimed");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.git(&["push", "-q"]);
    let pull = b.git_bare_path(&["pull", "-q", "--no-rebase", "--no-edit"]);
    assert!(
        pull.status.success(),
        "the drivers ran from their absolute path: {}",
        String::from_utf8_lossy(&pull.stderr)
    );
    b.assert_sound();
    assert_eq!(b.board()["WP01"], "claimed");
    assert_eq!(b.board()["WP02"], "claimed");
    // The binary gone from where it was registered: the fallback is
    // spec-kitty on PATH (a registration naming a missing file still merges).
    let gone = b.env.tmp.path().join("gone/spec-kitty");
    let stale = format!(
        "sk='{}'; [ -x \"$sk\" ] || sk=spec-kitty; \"$sk\" merge-driver-event-log %O %A %B",
        gone.display()
    );
    b.git(&["config", "merge.spec-kitty-event-log.driver", &stale]);
    // Every state-writing command refreshes a registration that names
    // another binary.
    b.mv("WP02", "in_progress");
    assert_eq!(
        b.git(&["config", "--get", "merge.spec-kitty-event-log.driver"]),
        driver
    );
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["push", "-q"]);
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    a.mv("WP03", "claimed");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.git(&["push", "-q"]);
    b.mv("WP01", "blocked");
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["config", "merge.spec-kitty-event-log.driver", &stale]);
    let pull = b.git_out(&["pull", "-q", "--no-rebase", "--no-edit"]);
    assert!(
        pull.status.success(),
        "the fallback ran: {}",
        String::from_utf8_lossy(&pull.stderr)
    );
    b.assert_sound();
    assert_eq!(b.board()["WP03"], "claimed");
    assert_eq!(b.board()["WP01"], "blocked");
}

#[test]
fn an_unmerged_log_is_read_as_the_union_of_its_stages_and_never_called_sound() {
    let (a, b) = two_clones();
    b.mv("WP02", "claimed");
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.mv("WP01", "claimed");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.git(&["push", "-q"]);
    let theirs: Vec<String> = a.event_ids();
    // B's clone registered the drivers the way the reference does (bare
    // `spec-kitty` on PATH), and git runs without it on PATH.
    for (name, args) in [
        ("spec-kitty-event-log", "merge-driver-event-log %O %A %B"),
        (
            "spec-kitty-status-json",
            "merge-driver-status-json %O %A %B %P",
        ),
        ("spec-kitty-wp", "merge-driver-wp %O %A %B %P"),
    ] {
        b.git(&[
            "config",
            &format!("merge.{name}.driver"),
            &format!("spec-kitty {args}"),
        ]);
    }
    let pull = b.git_bare_path(&["pull", "--no-rebase", "--no-edit"]);
    assert!(
        !pull.status.success(),
        "the driver could not run: a conflict"
    );
    let unmerged = b.git(&["ls-files", "-u"]);
    assert!(unmerged.contains("status.events.jsonl"), "{unmerged}");
    let working = fs::read_to_string(b.mission().join("status.events.jsonl")).unwrap();
    assert!(
        !working.contains("<<<<<<<"),
        "git left our side, no markers"
    );
    let missing: Vec<&String> = theirs
        .iter()
        .filter(|id| !working.contains(id.as_str()))
        .collect();
    assert!(
        !missing.is_empty(),
        "the working file lacks the teammate's events"
    );

    // Every reader unions the stages: A's claim is on B's board.
    assert_eq!(b.board()["WP01"], "claimed");
    assert_eq!(b.board()["WP02"], "claimed");
    // The doctor and repair-status never call it sound.
    let doctor = b.sk(&["agent", "status", "doctor", "--mission", "demo", "--json"]);
    let doc = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doc.contains("unmerged_event_log"),
        "{doc}{}",
        stderr(&doctor)
    );
    let dry = b.ok(&[
        "agent",
        "mission",
        "repair-status",
        "--mission",
        "demo",
        "--dry-run",
    ]);
    assert!(!dry.contains("sound"), "{dry}");
    assert!(dry.contains("unmerged in the git index"), "{dry}");
    assert_eq!(
        fs::read_to_string(b.mission().join("status.events.jsonl")).unwrap(),
        working,
        "--dry-run wrote nothing"
    );
    // A state change while unmerged lands on the union, not on our side only.
    b.mv("WP03", "claimed");
    let log = fs::read_to_string(b.mission().join("status.events.jsonl")).unwrap();
    for id in &theirs {
        assert!(log.contains(id.as_str()), "{id} lost from:\n{log}");
    }
    let out = b.ok(&["agent", "mission", "repair-status", "--mission", "demo"]);
    assert!(out.contains("unmerged in the git index"), "{out}");
    b.git(&["add", "kitty-specs"]);
    b.git(&["commit", "-q", "--no-edit"]);
    b.assert_sound();
    for id in &theirs {
        assert_eq!(
            b.event_ids().iter().filter(|e| *e == id).count(),
            1,
            "{id} once"
        );
    }
    assert_eq!(b.board()["WP01"], "claimed");
    assert_eq!(b.board()["WP03"], "claimed");
    let sound = b.ok(&["agent", "mission", "repair-status", "--mission", "demo"]);
    assert!(sound.contains("is sound"), "{sound}");
}

#[test]
fn a_review_or_approval_needs_the_hand_in_commit_in_this_clone() {
    use crate::common::flow::Flow;
    let (a, b) = two_clones();
    let fa = Flow::new(&a.env, &a.dir, "demo");
    let imp = fa.implement("WP01", "codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap_or_else(|| panic!("{imp}")));
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    a.env.git(&ws, &["add", "-A"]);
    a.env.git(&ws, &["commit", "-qm", "WP01 work"]);
    fa.submit("WP01", "codex");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.git(&["push", "-q"]);
    b.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    let branch = a.env.git(&ws, &["rev-parse", "--abbrev-ref", "HEAD"]);
    let branch = branch.trim();
    let fetch = format!("git fetch origin {branch}");

    let fb = Flow::new(&b.env, &b.dir, "demo");
    let before = fs::read(b.mission().join("status.events.jsonl")).unwrap();
    let review = fb.run(&["agent", "action", "review", "WP01", "--agent", "claude"]);
    assert!(
        !review.status.success(),
        "{}",
        crate::common::stdout(&review)
    );
    assert!(stderr(&review).contains(&fetch), "{}", stderr(&review));
    let approve = b.sk(&move_task(
        "WP01",
        "approved",
        &["--agent", "claude", "--note", "ok"],
        "demo",
    ));
    assert!(!approve.status.success());
    assert!(stderr(&approve).contains(&fetch), "{}", stderr(&approve));
    assert_eq!(
        fs::read(b.mission().join("status.events.jsonl")).unwrap(),
        before,
        "nothing recorded"
    );
    assert_eq!(b.board()["WP01"], "for_review");

    // The teammate pushes the lane; the named command brings the commit.
    a.env.git(&ws, &["push", "-q", "origin", branch]);
    let words: Vec<&str> = fetch.split(' ').skip(1).collect();
    b.git(&words);
    let prompt = fb.review("WP01", "claude");
    let text = prompt.to_string();
    assert!(text.contains("src/one/lib.rs"), "the diff is shown: {text}");
    assert!(!text.contains("(no diff"), "{text}");
    fb.approve("WP01", "claude");
    assert_eq!(b.board()["WP01"], "approved");
}

#[test]
fn a_teammate_never_re_records_a_merge_and_cleans_up_what_it_left() {
    use crate::common::flow::Flow;
    let (a, b) = two_clones_with(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    // B builds WP01 and shares it (main and the lane branch).
    let fb = Flow::new(&b.env, &b.dir, "demo");
    let imp = fb.implement("WP01", "codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
    let branch = imp["branch"].as_str().unwrap().to_string();
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    b.env.git(&ws, &["add", "-A"]);
    b.env.git(&ws, &["commit", "-qm", "WP01 work"]);
    fb.submit("WP01", "codex");
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["push", "-q", "origin", "main", &branch]);
    // A reviews, accepts and merges.
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    a.git(&["fetch", "-q", "origin", &format!("{branch}:{branch}")]);
    let fa = Flow::new(&a.env, &a.dir, "demo");
    fa.review("WP01", "claude");
    fa.approve("WP01", "claude");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["accept", "--mission", "demo"]);
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["merge", "--mission", "demo"]);
    a.git(&["push", "-q"]);

    // B pulls the merge; its lane worktree and branch are left over.
    b.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    assert!(ws.exists());
    let head = b.git(&["rev-parse", "HEAD"]);
    let meta = fs::read(b.mission().join("meta.json")).unwrap();
    let again = b.sk(&["merge", "--mission", "demo"]);
    assert!(!again.status.success(), "{}", crate::common::stdout(&again));
    let err = stderr(&again);
    assert!(err.contains("already merged"), "{err}");
    assert!(err.contains("--clean-up"), "{err}");
    assert_eq!(b.git(&["rev-parse", "HEAD"]), head, "no new commit");
    assert_eq!(
        fs::read(b.mission().join("meta.json")).unwrap(),
        meta,
        "meta.json untouched"
    );

    // The clean-up says what it removed; the remote branch only when asked.
    let out = b.ok(&["merge", "--mission", "demo", "--clean-up"]);
    assert!(out.contains("Cleaned up"), "{out}");
    assert!(out.contains(&branch), "{out}");
    assert!(!ws.exists());
    assert!(b.git(&["branch", "--list", &branch]).trim().is_empty());
    assert!(
        b.git(&["ls-remote", "origin", &branch]).contains(&branch),
        "the remote branch stays unless asked"
    );
    let out = b.ok(&[
        "merge",
        "--mission",
        "demo",
        "--clean-up",
        "--remote",
        "origin",
    ]);
    assert!(
        out.contains(&format!("remote branch origin/{branch}")),
        "{out}"
    );
    assert!(b.git(&["ls-remote", "origin", &branch]).trim().is_empty());
    assert_eq!(b.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(b.git(&["status", "--porcelain"]), "");
}

#[test]
fn after_a_double_claim_nobody_who_implemented_reviews() {
    use crate::common::flow::Flow;
    let (a, b) = two_clones_with(&[WpDef::planning("WP01", "Plan", "docs/**", &[])]);
    let fa = Flow::new(&a.env, &a.dir, "demo");
    let fb = Flow::new(&b.env, &b.dir, "demo");
    // Both clones claim WP01; the logs merge into one with both claims.
    fa.moved("WP01", "claimed", "alice-bot");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    fb.moved("WP01", "claimed", "bob-bot");
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["push", "-q"]);
    // The WP file's frontmatter conflicts (both set `agent:`): the team
    // settles it for bob-bot.
    let pull = a.git_out(&["pull", "-q", "--no-rebase", "--no-edit"]);
    assert!(!pull.status.success());
    a.git(&[
        "checkout",
        "--theirs",
        "kitty-specs/001-demo/tasks/WP01-plan.md",
    ]);
    a.git(&["add", "kitty-specs"]);
    a.git(&["commit", "-q", "--no-edit"]);
    a.assert_sound();
    // bob-bot's (later) claim is kept; bob-bot does the work and hands in.
    fa.moved("WP01", "in_progress", "bob-bot");
    fa.tick("T001");
    fa.moved("WP01", "for_review", "bob-bot");
    // alice-bot claimed it too: she implemented it and does not review it.
    let out = fa.run(&["agent", "action", "review", "WP01", "--agent", "alice-bot"]);
    assert!(!out.status.success(), "{}", crate::common::stdout(&out));
    assert!(
        stderr(&out).contains("alice-bot also implemented WP01"),
        "{}",
        stderr(&out)
    );
    let out = fa.mv("WP01", "in_review", "alice-bot");
    assert!(!out.status.success());
    assert_eq!(a.board()["WP01"], "for_review");
    // Nor does auto-pick offer it to her.
    let out = fa.run(&["agent", "action", "review", "--agent", "alice-bot"]);
    assert!(!out.status.success());
    // Someone else reviews and approves.
    fa.review("WP01", "carol-bot");
    fa.approve("WP01", "carol-bot");
    assert_eq!(a.board()["WP01"], "approved");
}
