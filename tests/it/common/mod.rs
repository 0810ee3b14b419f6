//! `TestEnv`: a temporary directory, an empty HOME that must stay empty, hermetic
//! git, and helpers to run the real binary.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct TestEnv {
    pub tmp: tempfile::TempDir,
    /// The fake HOME every command runs with.
    pub home: PathBuf,
    /// Where tests build their projects.
    pub work: PathBuf,
    gitconfig: PathBuf,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let work = tmp.path().join("work");
        fs::create_dir_all(&home).unwrap();
        fs::create_dir_all(&work).unwrap();
        let gitconfig = tmp.path().join("gitconfig");
        fs::write(
            &gitconfig,
            "[user]\n\tname = Test Operator\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        )
        .unwrap();
        TestEnv {
            tmp,
            home,
            work,
            gitconfig,
        }
    }

    fn apply_env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TMPDIR", self.tmp.path());
    }

    /// `spec-kitty ARGS` in `dir`.
    pub fn sk(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("spec-kitty").expect("binary");
        self.apply_env(&mut cmd);
        cmd.current_dir(dir).args(args);
        cmd
    }

    /// Start `spec-kitty ARGS` in `dir` without waiting (for parallel-process tests).
    pub fn spawn(&self, dir: &Path, args: &[&str]) -> std::process::Child {
        self.spawn_env(dir, args, &[])
    }

    /// [`TestEnv::spawn`] with extra environment variables.
    pub fn spawn_env(
        &self,
        dir: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> std::process::Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("spec-kitty"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TMPDIR", self.tmp.path())
            .envs(vars.iter().copied())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn spec-kitty")
    }

    /// Run `spec-kitty ARGS` in `dir` and return its output (any exit code).
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        self.sk(dir, args).output().expect("run spec-kitty")
    }

    /// Run `spec-kitty ARGS --json`-style command that must succeed; parse stdout as one JSON document.
    pub fn json(&self, dir: &Path, args: &[&str]) -> serde_json::Value {
        let out = self.run(dir, args);
        assert!(
            out.status.success(),
            "spec-kitty {args:?} failed:\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of {args:?} is not one JSON document ({e}):\n{}",
                stdout(&out)
            )
        })
    }

    /// `git ARGS` in `dir` with the hermetic config; panics on failure; returns stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A git repo at `work/<name>` with one commit, set up as a spec-kitty project
    /// by writing `.kittify/` directly (independent of `init`).
    pub fn project(&self, name: &str) -> PathBuf {
        let dir = self.work.join(name);
        fs::create_dir_all(dir.join(".kittify")).unwrap();
        fs::write(
            dir.join(".kittify/config.yaml"),
            "agents:\n  available:\n  - codex\n",
        )
        .unwrap();
        fs::write(
            dir.join(".kittify/metadata.yaml"),
            format!(
                "spec_kitty:\n  version: {}\n  initialized_at: '2026-11-24T00:00:00'\n",
                env!("CARGO_PKG_VERSION")
            ),
        )
        .unwrap();
        fs::write(dir.join("README.md"), "demo\n").unwrap();
        self.git(&dir, &["init", "-q"]);
        self.git(&dir, &["add", "-A"]);
        self.git(&dir, &["commit", "-qm", "initial"]);
        dir
    }

    /// Every file under HOME (the tool must write none outside `~/.spec-kitty/`).
    pub fn home_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.home, &mut out);
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copy a directory tree (fixtures into a test project).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
