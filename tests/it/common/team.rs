//! A team on several machines: each [`Machine`] has its own HOME, git
//! identity and clone; [`team`] makes a bare origin, alice's clone with a
//! finalized mission `demo` pushed to it, and bob's clone of that.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{write_mission, TestEnv, WpDef};

/// One machine: its own HOME and git config, and its clone.
pub struct Machine {
    pub env: TestEnv,
    pub dir: PathBuf,
    /// git runs with spec-kitty's directory first on PATH (the merge drivers
    /// run by name); otherwise with the test's own PATH.
    pub spec_kitty_on_path: bool,
}

impl Machine {
    /// A machine committing as `name` (`name@example.com`), its clone at
    /// `work/<name>`; git runs with the test's PATH.
    pub fn new(name: &str) -> Machine {
        let env = TestEnv::new();
        // Each machine commits as its own person.
        fs::write(
            env.tmp.path().join("gitconfig"),
            format!("[user]\n\tname = {name}\n\temail = {name}@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"),
        )
        .unwrap();
        let dir = env.work.join(name);
        Machine {
            env,
            dir,
            spec_kitty_on_path: false,
        }
    }

    /// `git ARGS` in `dir`, as this machine runs it.
    pub fn git_out_in(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new("git");
        cmd.args(args)
            .current_dir(dir)
            .env("HOME", &self.env.home)
            .env("GIT_CONFIG_GLOBAL", self.env.tmp.path().join("gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1");
        if self.spec_kitty_on_path {
            let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
            let mut path = vec![bin.parent().unwrap().to_path_buf()];
            path.extend(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            ));
            cmd.env("PATH", std::env::join_paths(path).unwrap());
        }
        cmd.env("GIT_EDITOR", "true").output().unwrap()
    }

    /// `git ARGS` in the clone.
    pub fn git_out(&self, args: &[&str]) -> Output {
        self.git_out_in(&self.dir, args)
    }

    /// `git ARGS` in `dir`; it must succeed; its stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
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

    /// `git ARGS` in the clone; it must succeed; its stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.dir, args)
    }

    pub fn clone_from(&self, origin: &Path) {
        fs::create_dir_all(&self.dir).unwrap();
        self.git(&["clone", "-q", origin.to_str().unwrap(), "."]);
    }

    pub fn sk(&self, args: &[&str]) -> Output {
        self.env.sk(&self.dir, args).output().unwrap()
    }

    /// A git repository in this machine's directory (one commit), `init`
    /// run, and the mission `demo` of `wps` finalized (not committed).
    /// Returns the mission directory.
    pub fn planned(&self, wps: &[WpDef]) -> PathBuf {
        fs::create_dir_all(&self.dir).unwrap();
        self.git(&["init", "-q"]);
        fs::write(self.dir.join("README.md"), "demo\n").unwrap();
        self.git(&["add", "README.md"]);
        self.git(&["commit", "-qm", "initial"]);
        self.ok(&["init", ".", "--ai", "codex", "--non-interactive"]);
        let m = self.env.create_mission(&self.dir, "demo");
        write_mission(&m.dir, &m.slug, wps);
        self.ok(&["agent", "mission", "finalize-tasks", "--mission", "demo"]);
        m.dir
    }

    pub fn ok(&self, args: &[&str]) -> String {
        self.env.ok(&self.dir, args)
    }

    pub fn mission(&self) -> PathBuf {
        self.dir.join("kitty-specs/001-demo")
    }

    /// WP id -> lane, as `agent tasks status` shows it.
    pub fn board(&self) -> BTreeMap<String, String> {
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
}

/// A bare origin and alice's clone with the finalized mission `demo` (these
/// work packages) committed and pushed; bob's clone of it. `new` makes each
/// machine. Returns (origin, alice, bob).
pub fn team(wps: &[WpDef], new: fn(&str) -> Machine) -> (PathBuf, Machine, Machine) {
    let a = new("alice");
    let origin = a.env.tmp.path().join("origin.git");
    fs::create_dir_all(&a.dir).unwrap();
    a.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    a.planned(wps);
    a.git(&["add", "-A"]);
    a.git(&["commit", "-qm", "plan mission demo"]);
    a.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    a.git(&["push", "-q", "-u", "origin", "main"]);
    let b = new("bob");
    b.clone_from(&origin);
    (origin, a, b)
}
