//! A team on several machines: a bare origin and clones, each with its own
//! HOME and git identity, moving work packages and sharing the board through
//! plain `git push` / `git pull` (merge and rebase), with the merge drivers
//! spec-kitty registers, and with a clone that has none.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::flow::{action, move_task};
use crate::common::team::{team, Machine};
use crate::common::{stderr, write_mission, TestEnv, WpDef};

/// A machine whose git runs with spec-kitty on PATH (git runs the merge
/// drivers by name).
fn machine(name: &str) -> Machine {
    Machine {
        spec_kitty_on_path: true,
        ..Machine::new(name)
    }
}

impl Machine {
    fn mv(&self, wp: &str, to: &str) -> Output {
        let out = self.sk(&move_task(wp, to, &[], "demo"));
        assert!(out.status.success(), "move {wp} to {to}: {}", stderr(&out));
        out
    }

    /// The event ids of the log, in file order.
    fn log_event_ids(&self) -> Vec<String> {
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
        let ids = self.log_event_ids();
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
    // Machine A sets the project up and publishes it; machine B clones it.
    let (origin, a, b) = team(
        &[
            WpDef::code("WP01", "One", "src/one/**", &[]),
            WpDef::code("WP02", "Two", "src/two/**", &[]),
            WpDef::code("WP03", "Three", "src/three/**", &[]),
        ],
        machine,
    );
    // No driver is registered in a fresh clone.
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
    let c = machine("carol");
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
    let (_origin, a, b) = team(wps, machine);
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
    let theirs: Vec<String> = a.log_event_ids();
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
            b.log_event_ids().iter().filter(|e| *e == id).count(),
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

    // B pulls the merge; its lane worktree and branch are left over, and the
    // mission branch its first lane made.
    b.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    assert!(ws.exists());
    let mission_branch = "kitty/mission-001-demo";
    assert!(!b
        .git(&["branch", "--list", mission_branch])
        .trim()
        .is_empty());
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
    assert!(out.contains(mission_branch), "{out}");
    assert!(b
        .git(&["branch", "--list", mission_branch])
        .trim()
        .is_empty());
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

/// `merge --clean-up --remote` deletes the remote lane branch through the
/// git layer's runner: git never prompts (`GIT_TERMINAL_PROMPT=0`, the
/// pre-push hook sees it) and a refused push is said, with the local
/// clean-up kept.
#[test]
fn the_remote_clean_up_pushes_without_a_prompt_and_says_when_git_refuses() {
    use crate::common::flow::Flow;
    let (a, _b) = two_clones_with(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    let fa = Flow::new(&a.env, &a.dir, "demo");
    let imp = fa.implement("WP01", "codex");
    let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
    let branch = imp["branch"].as_str().unwrap().to_string();
    fs::create_dir_all(ws.join("src/one")).unwrap();
    fs::write(ws.join("src/one/lib.rs"), "pub fn one() {}\n").unwrap();
    a.env.git(&ws, &["add", "-A"]);
    a.env.git(&ws, &["commit", "-qm", "WP01 work"]);
    // Shared before the merge (the merge removes the local lane branch).
    a.git(&["push", "-q", "origin", &branch]);
    fa.submit("WP01", "codex");
    fa.review("WP01", "claude");
    fa.approve("WP01", "claude");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["accept", "--mission", "demo"]);
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["merge", "--mission", "demo"]);
    a.git(&["push", "-q", "origin", "main"]);
    assert!(a.git(&["ls-remote", "origin", &branch]).contains(&branch));

    // The hook records what git passed on, then refuses the push.
    let seen = a.env.tmp.path().join("pre-push-env");
    let hook = a.dir.join(".git/hooks/pre-push");
    let write_hook = |exit: u8| {
        fs::write(
            &hook,
            format!(
                "#!/bin/sh\necho \"prompt=$GIT_TERMINAL_PROMPT autoedit=$GIT_MERGE_AUTOEDIT\" >> '{}'\necho 'remote says no' >&2\nexit {exit}\n",
                seen.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
        }
    };
    write_hook(1);
    let args = [
        "merge",
        "--mission",
        "demo",
        "--clean-up",
        "--remote",
        "origin",
    ];
    let refused = a.sk(&args);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!("git push origin --delete {branch} failed")),
        "{err}"
    );
    assert!(err.contains("remote says no"), "{err}");
    assert!(err.contains("the local clean-up above is done"), "{err}");
    assert_eq!(
        fs::read_to_string(&seen).unwrap(),
        "prompt=0 autoedit=no\n",
        "git ran through the no-prompt runner"
    );
    assert!(
        a.git(&["ls-remote", "origin", &branch]).contains(&branch),
        "the refused push deleted nothing"
    );

    // Allowed, the same command deletes the remote branch.
    write_hook(0);
    let out = a.ok(&args);
    assert!(
        out.contains(&format!("remote branch origin/{branch}")),
        "{out}"
    );
    assert!(a.git(&["ls-remote", "origin", &branch]).trim().is_empty());
    assert!(fs::read_to_string(&seen)
        .unwrap()
        .lines()
        .all(|l| l == "prompt=0 autoedit=no"));
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

#[test]
fn validate_flags_a_review_by_anyone_who_implemented_it_after_the_logs_merged() {
    use crate::common::flow::Flow;
    let (a, b) = two_clones_with(&[WpDef::planning("WP01", "Plan", "docs/**", &[])]);
    let fa = Flow::new(&a.env, &a.dir, "demo");
    let fb = Flow::new(&b.env, &b.dir, "demo");
    // alice-bot claims WP01 in her clone (not pushed yet).
    fa.moved("WP01", "claimed", "alice-bot");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    // In bob's clone, which never saw that claim, bob-bot claims and hands
    // in, and alice-bot reviews and approves: nothing there forbids it.
    fb.moved("WP01", "claimed", "bob-bot");
    fb.moved("WP01", "in_progress", "bob-bot");
    fb.tick("T001");
    fb.moved("WP01", "for_review", "bob-bot");
    fb.review("WP01", "alice-bot");
    fb.approve("WP01", "alice-bot");
    b.ok(&["agent", "mission", "record", "--mission", "demo"]);
    b.git(&["push", "-q"]);
    let validate = ["agent", "tasks", "validate-workflow", "--mission", "demo"];
    let out = b.sk(&validate);
    assert!(out.status.success(), "{}", stderr(&out));
    // The logs meet in alice's clone: alice-bot claimed WP01 and reviewed it.
    // (The WP file's driver settles its frontmatter for the later side.)
    a.git(&["pull", "-q", "--no-rebase", "--no-edit"]);
    a.assert_sound();
    assert_eq!(a.board()["WP01"], "approved");
    let out = a.sk(&validate);
    let text = format!("{}{}", crate::common::stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("WP01 was reviewed by alice-bot, who also implemented it"),
        "{text}"
    );
    // bob-bot, the latest claimant, is not the reviewer: the old check (latest
    // claimant only) passed this log.
    let out = a.sk(&[&validate[..], &["--json"]].concat());
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let wp = &v["work_packages"][0];
    assert_eq!(wp["valid"], false, "{v}");
    assert!(wp["errors"].to_string().contains("implementers: "), "{v}");
}

#[test]
fn the_first_lane_makes_the_mission_branch_where_the_lanes_start_and_merge_lands_them_there() {
    use crate::common::flow::Flow;
    let (a, _b) = two_clones_with(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
    ]);
    let mission_branch = "kitty/mission-001-demo";
    let lanes: Value =
        serde_json::from_str(&fs::read_to_string(a.mission().join("lanes.json")).unwrap()).unwrap();
    assert_eq!(lanes["mission_branch"], mission_branch);
    assert_eq!(a.git(&["branch", "--list", mission_branch]), "");
    let start = a.git(&["rev-parse", "main"]);
    let fa = Flow::new(&a.env, &a.dir, "demo");
    let mut lanes = Vec::new();
    for (wp, dir) in [("WP01", "one"), ("WP02", "two")] {
        let imp = fa.implement(wp, "codex");
        let ws = PathBuf::from(imp["workspace"].as_str().unwrap());
        // Made with the first lane, at the commit that lane starts from; a
        // later lane starts from main as it is then and leaves it alone.
        assert_eq!(a.git(&["rev-parse", mission_branch]), start, "{wp}");
        let main_now = a.git(&["rev-parse", "main"]);
        assert_eq!(a.env.git(&ws, &["rev-parse", "HEAD"]), main_now, "{wp}");
        fs::create_dir_all(ws.join(format!("src/{dir}"))).unwrap();
        fs::write(ws.join(format!("src/{dir}/lib.rs")), "pub fn f() {}\n").unwrap();
        a.env.git(&ws, &["add", "-A"]);
        a.env.git(&ws, &["commit", "-qm", &format!("{wp} work")]);
        lanes.push(imp["branch"].as_str().unwrap().to_string());
        // main moves on; the mission branch does not follow it.
        fs::write(a.dir.join("NOTES.md"), format!("after {wp}\n")).unwrap();
        a.git(&["add", "NOTES.md"]);
        a.git(&["commit", "-qm", &format!("notes after {wp}")]);
    }
    assert_eq!(a.git(&["rev-parse", mission_branch]), start);
    // WP01's reviewer checks the hand-in out to run the tests.
    fa.submit("WP01", "codex");
    let v = fa.json(&[
        "agent",
        "action",
        "review",
        "WP01",
        "--agent",
        "claude",
        "--checkout",
    ]);
    let review_tree = PathBuf::from(v["checkout"]["path"].as_str().unwrap());
    assert!(review_tree.join("src/one/lib.rs").is_file());
    fa.approve("WP01", "claude");
    fa.finish("WP02");
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["accept", "--mission", "demo"]);
    assert_eq!(
        a.git(&["rev-parse", mission_branch]),
        start,
        "accept moves nothing"
    );
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    a.ok(&["merge", "--mission", "demo"]);
    // merge lands the lanes on it, then it on main (as the Python tool does).
    let landed = a.git(&["rev-parse", mission_branch]);
    assert_ne!(landed, start);
    a.git(&["merge-base", "--is-ancestor", landed.trim(), "main"]);
    for f in ["src/one/lib.rs", "src/two/lib.rs"] {
        a.git(&["cat-file", "-e", &format!("{}:{f}", landed.trim())]);
    }
    // `merge --clean-up` takes it away once main holds it.
    let out = a.ok(&["merge", "--mission", "demo", "--clean-up"]);
    assert!(out.contains(mission_branch), "{out}");
    assert_eq!(a.git(&["branch", "--list", mission_branch]), "");
    // And the reviewer's scratch checkout with it.
    assert!(out.contains(".worktrees/001-demo-review-WP01"), "{out}");
    assert!(!review_tree.exists());
    assert!(!a.git(&["worktree", "list"]).contains("review-WP01"));
}

fn commit_in(env: &TestEnv, dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    env.git(dir, &["add", "-A"]);
    env.git(dir, &["commit", "-qm", file]);
}

/// A WP a review sent back goes to its implementer first (`next` and the
/// picker), the CLI board says "changes requested" until it is handed in
/// again (the dashboard's card: dashboard::cards_name_implementer_and_reviewer_
/// show_rejection_and_lanes_show_the_merge), and the second review shows the
/// rework since the previous hand-in with the feedback it answers.
#[test]
fn rework_goes_back_to_its_implementer_and_the_second_review_starts_at_the_last_hand_in() {
    use crate::common::flow::Flow;
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "CLI", "src/cli/**", &[]),
        WpDef::code("WP03", "Docs", "src/docs/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(&env, &root, &m.slug);
    let v = f.implement("WP01", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/first.rs", "// first try\n");
    f.submit("WP01", "codex");
    f.review("WP01", "claude");
    env.ok(
        &root,
        &move_task(
            "WP01",
            "planned",
            &[
                "--agent",
                "claude",
                "--review-feedback",
                "Handle the empty input",
            ],
            &m.slug,
        ),
    );
    // The CLI board says so, in both outputs.
    let board = f.ok(&["agent", "tasks", "status"]);
    assert!(
        board.contains("changes requested by @claude: Handle the empty input"),
        "{board}"
    );
    let v = f.json(&["agent", "tasks", "status"]);
    let wp1 = &v["work_packages"][0];
    assert_eq!(wp1["changes_requested"]["by"], "claude", "{v}");
    assert_eq!(
        wp1["changes_requested"]["feedback"],
        "Handle the empty input"
    );
    assert_eq!(v["work_packages"][1]["changes_requested"], Value::Null);
    // `next` gives codex its rework before new work, and others new work.
    let n = f.next("codex", &[]);
    assert_eq!(n["action"], "implement", "{n}");
    assert_eq!(n["wp_id"], "WP01", "{n}");
    assert!(
        n["reason"]
            .as_str()
            .unwrap()
            .contains("sent back to codex by claude"),
        "{n}"
    );
    let n = f.next("gemini", &[]);
    assert_eq!(n["wp_id"], "WP02", "{n}");
    // The picker (implement without an id) does the same.
    let v = f.json(&["agent", "action", "implement", "--agent", "gemini"]);
    assert_eq!(v["wp_id"], "WP02", "{v}");
    // The rework, handed in again: the board no longer says changes requested.
    let v = f.json(&["agent", "action", "implement", "--agent", "codex"]);
    assert_eq!(v["wp_id"], "WP01", "{v}");
    assert!(
        v["prompt"]
            .as_str()
            .unwrap()
            .contains("Handle the empty input"),
        "the implement prompt carries the feedback"
    );
    let first_hand_in = env.git(&wt, &["rev-parse", "HEAD"]);
    commit_in(&env, &wt, "src/core/empty.rs", "// empty input\n");
    f.moved("WP01", "for_review", "codex");
    let board = f.ok(&["agent", "tasks", "status"]);
    assert!(!board.contains("changes requested"), "{board}");
    // The second review: the rework since the last hand-in, and the feedback.
    let r = f.review("WP01", "carol");
    let prompt = r["prompt"].as_str().unwrap();
    assert!(prompt.contains("CHANGES REQUESTED before"), "{prompt}");
    assert!(prompt.contains("> Handle the empty input"), "{prompt}");
    let prev = &first_hand_in.trim()[..12];
    assert!(
        prompt.contains(&format!("from the previous hand-in ({prev})")),
        "{prompt}"
    );
    assert!(prompt.contains("src/core/empty.rs"), "{prompt}");
    assert!(
        !prompt.contains("+// first try"),
        "the first hand-in's change is not in the rework diff: {prompt}"
    );
}

/// `agent action review WP --checkout` gives the reviewer a runnable tree of
/// exactly the hand-in commit (not the lane worktree, where the implementer
/// carries on), in a scratch worktree under .worktrees/ whose path it prints.
#[test]
fn review_checkout_gives_the_reviewer_the_hand_in_in_a_tree_of_its_own() {
    use crate::common::flow::Flow;
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::planning("WP02", "Notes", "docs/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(&env, &root, &m.slug);
    let v = f.implement("WP01", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/lib.rs", "// handed in\n");
    f.submit("WP01", "codex");
    let hand_in = env.git(&wt, &["rev-parse", "HEAD"]).trim().to_string();
    // The implementer carries on in the lane worktree after the hand-in.
    commit_in(&env, &wt, "src/core/later.rs", "// not handed in\n");
    fs::write(wt.join("src/core/lib.rs"), "// uncommitted edit\n").unwrap();

    // Without --checkout the prompt says how to get one.
    let r = f.review("WP01", "claude");
    assert_eq!(r["checkout"], Value::Null);
    assert!(r["prompt"].as_str().unwrap().contains("--checkout"), "{r}");
    let v = f.json(&[
        "agent",
        "action",
        "review",
        "WP01",
        "--agent",
        "claude",
        "--checkout",
    ]);
    let path = PathBuf::from(v["checkout"]["path"].as_str().unwrap());
    assert_eq!(v["checkout"]["commit"], hand_in.as_str());
    assert_eq!(
        path,
        fs::canonicalize(&root)
            .unwrap()
            .join(format!(".worktrees/{}-review-WP01", m.slug))
    );
    // Exactly the hand-in: detached at it, its files, nothing later.
    assert_eq!(env.git(&path, &["rev-parse", "HEAD"]).trim(), hand_in);
    assert_eq!(
        fs::read_to_string(path.join("src/core/lib.rs")).unwrap(),
        "// handed in\n"
    );
    assert!(!path.join("src/core/later.rs").exists());
    assert_eq!(env.git(&path, &["status", "--porcelain"]), "");
    let prompt = v["prompt"].as_str().unwrap();
    assert!(
        prompt.contains(&format!("is at {}", path.display())),
        "{prompt}"
    );
    // The human output names it too; a second --checkout makes it afresh.
    fs::write(path.join("build-output.txt"), "x").unwrap();
    let out = f.ok(&[
        "agent",
        "action",
        "review",
        "WP01",
        "--agent",
        "claude",
        "--checkout",
    ]);
    assert!(out.contains(&format!("{}", path.display())), "{out}");
    assert!(!path.join("build-output.txt").exists());
    // No branch was left behind for it; the lane worktree is untouched.
    assert_eq!(env.git(&root, &["branch", "--list", "kitty/scratch*"]), "");
    assert_eq!(
        fs::read_to_string(wt.join("src/core/lib.rs")).unwrap(),
        "// uncommitted edit\n"
    );
    // A planning WP has no hand-in tree: refused, saying where to look.
    f.implement("WP02", "codex");
    f.submit("WP02", "codex");
    let out = f.run(&[
        "agent",
        "action",
        "review",
        "WP02",
        "--agent",
        "claude",
        "--checkout",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("WP02 is planning work"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        f.json(&["agent", "tasks", "status"])["work_packages"][1]["lane"],
        "for_review",
        "the review was not taken"
    );
}

/// Two agents ask `next --claim` at the same moment (both decided WP01 and
/// are held before their claim): one gets WP01, the other WP02, each taken
/// for it under the status lock. The same for two reviewers.
#[test]
fn two_agents_asking_next_with_claim_at_once_never_get_the_same_wp() {
    use crate::common::flow::Flow;
    use crate::common::Pause;
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "CLI", "src/cli/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(&env, &root, &m.slug);
    let race = |agents: [&str; 2], role: &str| -> Vec<Value> {
        let pauses = [
            Pause::at("next-before-claim"),
            Pause::at("next-before-claim"),
        ];
        let mut kids: Vec<_> = agents
            .iter()
            .zip(&pauses)
            .map(|(a, p)| {
                let (k, v) = p.var();
                env.spawn_env(
                    &root,
                    &[
                        "next",
                        "--agent",
                        a,
                        "--mission",
                        &m.slug,
                        "--role",
                        role,
                        "--claim",
                        "--json",
                    ],
                    &[(k, &v)],
                )
            })
            .collect();
        // Both decided before either claimed.
        for (k, p) in kids.iter_mut().zip(&pauses) {
            p.reached(k);
        }
        for p in &pauses {
            p.go();
        }
        kids.into_iter()
            .map(|k| {
                let o = k.wait_with_output().unwrap();
                assert!(o.status.success(), "{}", stderr(&o));
                serde_json::from_slice(&o.stdout).unwrap()
            })
            .collect()
    };
    let got = race(["codex", "gemini"], "implement");
    let mut wps: Vec<&str> = got.iter().map(|v| v["wp_id"].as_str().unwrap()).collect();
    wps.sort();
    assert_eq!(wps, ["WP01", "WP02"], "{got:?}");
    let board = f.json(&["agent", "tasks", "status"]);
    for (v, agent) in got.iter().zip(["codex", "gemini"]) {
        let wp = v["wp_id"].as_str().unwrap();
        let row = board["work_packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == wp)
            .unwrap();
        assert_eq!(row["lane"], "claimed", "{board}");
        assert_eq!(row["implementer"], agent, "{board}");
        // The agent goes on with the command it was given.
        let cmd = v["command"].as_str().unwrap();
        assert!(cmd.contains(&format!("implement {wp}")), "{cmd}");
        let out = env.json(&root, &crate::common::implement_args(wp, &m.slug, agent));
        let wt = PathBuf::from(out["workspace"].as_str().unwrap());
        commit_in(
            &env,
            &wt,
            &format!("src/{}/x.rs", if wp == "WP01" { "core" } else { "cli" }),
            "//\n",
        );
        f.submit(wp, agent);
    }
    // Two reviewers at once: different reviews, and the workspace `next`
    // names is the main checkout, never the implementer's lane worktree.
    let got = race(["claude", "carol"], "review");
    let mut wps: Vec<&str> = got.iter().map(|v| v["wp_id"].as_str().unwrap()).collect();
    wps.sort();
    assert_eq!(wps, ["WP01", "WP02"], "{got:?}");
    for v in &got {
        assert_eq!(v["action"], "review");
        let ws = PathBuf::from(v["workspace_path"].as_str().unwrap());
        assert_eq!(ws, root, "{v}");
    }
    let board = f.json(&["agent", "tasks", "status"]);
    for w in board["work_packages"].as_array().unwrap() {
        assert_eq!(w["lane"], "in_review", "{board}");
    }
}

/// The project files `init` wrote or changed (`.kittify/`, `.gitignore`,
/// `.gitattributes`) must be committed before the first lane: `next` warns
/// before it hands out the first implement, `implement` refuses naming every
/// one in its `git add`, and `record` commits `.kittify/` and `.gitattributes`
/// (what a fresh clone needs for the drivers) with the mission's files.
#[test]
fn the_project_files_are_named_before_the_first_lane_and_record_takes_the_clones_needs() {
    let a = machine("alice");
    fs::create_dir_all(&a.dir).unwrap();
    a.git(&["init", "-q"]);
    fs::write(a.dir.join("README.md"), "demo\n").unwrap();
    fs::write(a.dir.join(".gitignore"), "/target/\n").unwrap();
    a.git(&["add", "README.md", ".gitignore"]);
    a.git(&["commit", "-qm", "initial"]);
    a.ok(&["init", ".", "--ai", "codex", "--non-interactive"]);
    let m = a.env.create_mission(&a.dir, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "One", "src/one/**", &[])],
    );
    a.ok(&["agent", "mission", "finalize-tasks", "--mission", "demo"]);
    a.git(&["add", "kitty-specs"]);
    a.git(&["commit", "-qm", "plan mission demo"]);
    let dirty = a.git(&["status", "--porcelain", "--untracked-files=all"]);
    for f in [".gitignore", ".gitattributes", ".kittify/"] {
        assert!(dirty.contains(f), "init wrote {f}: {dirty}");
    }
    // `next` hands out the first implement with a warning naming them all.
    let v = a.env.json(
        &a.dir,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    assert_eq!(v["action"], "implement", "{v}");
    let warning = v["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("git add .kittify .gitignore .gitattributes kitty-specs/001-demo"),
        "{v}"
    );
    let out = a.sk(&["next", "--agent", "codex", "--mission", "demo"]);
    assert!(stderr(&out).contains(".gitignore"), "{}", stderr(&out));
    // implement refuses with the same `git add`.
    let out = a.sk(&action("implement", "WP01", "codex"));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("git add .kittify .gitignore .gitattributes kitty-specs/001-demo"),
        "{}",
        stderr(&out)
    );
    // record takes .kittify/ and .gitattributes, not the user's .gitignore.
    a.ok(&["agent", "mission", "record", "--mission", "demo"]);
    let files = a.git(&["show", "--name-only", "--format=", "HEAD"]);
    assert!(files.lines().any(|l| l == ".gitattributes"), "{files}");
    assert!(files.lines().any(|l| l.starts_with(".kittify/")), "{files}");
    assert!(!files.lines().any(|l| l == ".gitignore"), "{files}");
    assert_eq!(
        a.git(&["status", "--porcelain", "--untracked-files=all"]),
        " M .gitignore\n"
    );
    // With .gitignore committed too: no warning, and the lane is made.
    a.git(&["commit", "-qam", "gitignore from init"]);
    let v = a.env.json(
        &a.dir,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    assert!(v.get("warnings").is_none(), "{v}");
    a.ok(&action("implement", "WP01", "codex"));
    // Once a lane exists, `next` no longer checks.
    fs::write(a.dir.join(".gitattributes"), "# changed\n").unwrap();
    let v = a.env.json(
        &a.dir,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    assert!(v.get("warnings").is_none(), "{v}");
}

/// Ignore rules apply to untracked files only, as in git: a committed file
/// that a later `.gitignore` rule matches (under `.kittify/` or the mission)
/// is still tracked, so it is not "missing" before the first lane, while an
/// untracked ignored file is still left out.
#[test]
fn a_committed_file_matched_by_gitignore_is_not_reported_before_the_first_lane() {
    let a = machine("alice");
    let m = a.planned(&[WpDef::code("WP01", "One", "src/one/**", &[])]);
    fs::write(a.dir.join(".kittify/team.local"), "kept\n").unwrap();
    fs::write(m.join("draft.local"), "kept\n").unwrap();
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "project and mission"]);
    let ignore = fs::read_to_string(a.dir.join(".gitignore")).unwrap();
    fs::write(a.dir.join(".gitignore"), format!("{ignore}*.local\n")).unwrap();
    a.git(&["commit", "-qam", "ignore *.local"]);
    // Untracked and ignored: still left out.
    fs::write(a.dir.join(".kittify/other.local"), "scratch\n").unwrap();
    fs::write(m.join("other.local"), "scratch\n").unwrap();
    assert_eq!(
        a.git(&["status", "--porcelain", "--untracked-files=all"]),
        ""
    );

    let v = a.env.json(
        &a.dir,
        &["next", "--agent", "codex", "--mission", "demo", "--json"],
    );
    assert_eq!(v["action"], "implement", "{v}");
    assert!(v.get("warnings").is_none(), "{v}");
    let out = a.ok(&action("implement", "WP01", "codex"));
    assert!(!out.contains("not committed"), "{out}");
}

/// A rejection the Python 3.1.1 tool records straight from `for_review` to
/// `planned` (no `in_review` claim before it) is rework all the same: `next`
/// gives it back to its implementer first and to nobody else. (next reads
/// this from the status fold, which keeps whether a WP was sent back.)
#[test]
fn a_rejection_recorded_straight_from_for_review_is_routed_to_its_implementer() {
    use crate::common::flow::Flow;
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "CLI", "src/cli/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(&env, &root, &m.slug);
    let v = f.implement("WP01", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/first.rs", "// first try\n");
    f.submit("WP01", "codex");
    // The Python tool's rejection: one event, for_review -> planned.
    let log = m.dir.join("status.events.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["to_lane"], "for_review", "{last}");
    let mut ev = last.clone();
    let id = last["event_id"].as_str().unwrap();
    // Same millisecond, the largest random part: later than `id` unless its
    // 80 random bits are all ones (a last character already `Z` made a
    // one-in-32 flake of the former `...Z` spelling).
    ev["event_id"] = Value::from(format!("{}ZZZZZZZZZZZZZZZZ", &id[..10]));
    assert!(ev["event_id"].as_str().unwrap() > id);
    ev["from_lane"] = Value::from("for_review");
    ev["to_lane"] = Value::from("planned");
    ev["actor"] = Value::from("carol");
    ev["reason"] = Value::from("Handle the empty input");
    fs::write(&log, format!("{text}{ev}\n")).unwrap();

    let n = f.next("gemini", &[]);
    assert_eq!(n["wp_id"], "WP02", "WP01 is codex's rework: {n}");
    let n = f.next("codex", &[]);
    assert_eq!(n["action"], "implement", "{n}");
    assert_eq!(n["wp_id"], "WP01", "{n}");
    assert!(
        n["reason"].as_str().unwrap().contains("sent back to codex"),
        "{n}"
    );
}
