//! `TestEnv`: a temporary directory, an empty HOME that must stay empty, hermetic
//! git, and helpers to run the real binary.
#![allow(dead_code)]

pub mod flow;
pub mod reference;
pub mod snap;
pub mod team;

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
    pub gitconfig: PathBuf,
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

    /// `spec-kitty ARGS` in `dir` as a plain `std::process::Command`, with the
    /// same environment as [`TestEnv::sk`] (to wrap it in another program).
    pub fn std_cmd(&self, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("spec-kitty"));
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env("TMPDIR", self.tmp.path())
            .args(args);
        cmd
    }

    /// Start `spec-kitty ARGS` in `dir` with stdin, stdout and stderr piped (a
    /// server the test talks to).
    pub fn spawn_piped(&self, dir: &Path, args: &[&str]) -> std::process::Child {
        self.spawn_piped_env(dir, args, &[])
    }

    /// [`TestEnv::spawn_piped`] with extra environment variables.
    pub fn spawn_piped_env(
        &self,
        dir: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> std::process::Child {
        self.std_cmd(dir, args)
            .envs(vars.iter().copied())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn spec-kitty")
    }

    /// The environment variables every command runs with (for a client that
    /// starts the binary itself, like the Python MCP SDK).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home.display().to_string()),
            (
                "GIT_CONFIG_GLOBAL".into(),
                self.gitconfig.display().to_string(),
            ),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("NO_COLOR".into(), "1".into()),
            ("TMPDIR".into(), self.tmp.path().display().to_string()),
        ]
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

    /// Run `spec-kitty ARGS` in `dir` (it must succeed) with
    /// `SPEC_KITTY_TEST_CRASH_TRACE`: the named steps it passed, in order, as
    /// `<label>#<pass>` (see [`steps_of`]), and its output.
    pub fn traced(&self, dir: &Path, args: &[&str]) -> (Vec<String>, Output) {
        let trace = tempfile::NamedTempFile::new().unwrap();
        let out = self
            .sk(dir, args)
            .env("SPEC_KITTY_TEST_CRASH_TRACE", trace.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let steps = fs::read_to_string(trace.path())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        (steps, out)
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

    /// Run `spec-kitty ARGS` in `dir`; it must exit 0. Returns stdout.
    pub fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, args);
        assert!(
            out.status.success(),
            "spec-kitty {args:?} exited {:?}\nstdout: {}\nstderr: {}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// Run `spec-kitty ARGS` in `dir`; it must exit 1 (a refused command). Returns stderr.
    pub fn refused(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.run(dir, args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "spec-kitty {args:?} should exit 1\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        );
        stderr(&out)
    }

    /// `agent mission create NAME --json` in `root`: the mission's directory, slug and ULID.
    pub fn create_mission(&self, root: &Path, name: &str) -> MissionInfo {
        let v = self.json(root, &["agent", "mission", "create", name, "--json"]);
        MissionInfo {
            dir: PathBuf::from(v["feature_dir"].as_str().expect("feature_dir")),
            slug: v["mission_slug"]
                .as_str()
                .expect("mission_slug")
                .to_string(),
            id: v["mission_id"].as_str().expect("mission_id").to_string(),
        }
    }

    /// A committed project with mission `001-demo` (spec, plan, tasks.md, WP files
    /// from `wps`) finalized, nothing of the mission committed.
    pub fn finalized_mission(&self, wps: &[WpDef]) -> (PathBuf, MissionInfo) {
        let root = self.project("p");
        let m = self.create_mission(&root, "demo");
        write_mission(&m.dir, &m.slug, wps);
        self.ok(
            &root,
            &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
        );
        (root, m)
    }

    /// A one-WP mission (WP01 "Core", `src/core/**`), finalized in project `p`.
    pub fn one_wp_mission(&self) -> (PathBuf, MissionInfo) {
        self.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])])
    }

    /// A bare repository `work/<name>` added to the project at `root` as
    /// `origin`; its path.
    pub fn add_bare_origin(&self, root: &Path, name: &str) -> PathBuf {
        let bare = self.work.join(name);
        self.git(
            &self.work,
            &["init", "-q", "--bare", bare.to_str().unwrap()],
        );
        self.git(root, &["remote", "add", "origin", bare.to_str().unwrap()]);
        bare
    }

    /// The three-WP mission of issue 7: WP01 planning (owns research.md), WP02
    /// `src/core/**` after WP01, WP03 `src/cli/**` after WP02.
    pub fn three_wp_mission(&self) -> (PathBuf, MissionInfo) {
        self.finalized_mission(&three_wps())
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

/// How many of `steps` ([`TestEnv::traced`]) are passes of step `step` on
/// the file or directory named `name` (`<step>:<name>#<n>`).
pub fn steps_of(steps: &[String], step: &str, name: &str) -> usize {
    let label = format!("{step}:{name}#");
    steps.iter().filter(|s| s.starts_with(&label)).count()
}

/// `agent mission finalize-tasks --mission SLUG --json`.
pub fn finalize_tasks(slug: &str) -> [&str; 6] {
    [
        "agent",
        "mission",
        "finalize-tasks",
        "--mission",
        slug,
        "--json",
    ]
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
/// A mission made by [`TestEnv::create_mission`].
#[derive(Debug, Clone)]
pub struct MissionInfo {
    pub dir: PathBuf,
    /// `001-demo`.
    pub slug: String,
    /// The ULID in meta.json.
    pub id: String,
}

/// Write `text` to `p`, creating its parent directories.
pub fn write(p: &Path, text: &str) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// One work package for [`write_mission`].
#[derive(Debug, Clone)]
pub struct WpDef {
    pub id: String,
    pub title: String,
    pub deps: Vec<String>,
    /// `execution_mode: planning_artifact` (runs in the main checkout).
    pub planning: bool,
    /// The one path the WP owns; `{slug}` becomes the mission slug.
    pub owns: String,
}

impl WpDef {
    pub fn code(id: &str, title: &str, owns: &str, deps: &[&str]) -> WpDef {
        WpDef {
            id: id.into(),
            title: title.into(),
            deps: deps.iter().map(|d| d.to_string()).collect(),
            planning: false,
            owns: owns.into(),
        }
    }

    pub fn planning(id: &str, title: &str, owns: &str, deps: &[&str]) -> WpDef {
        WpDef {
            planning: true,
            ..WpDef::code(id, title, owns, deps)
        }
    }

    /// `T0` + the WP number (`T001` for WP01): the WP's single subtask.
    pub fn subtask(&self) -> String {
        format!("T0{}", &self.id[2..])
    }

    /// A phrase that appears only in this WP's body.
    pub fn marker(&self) -> String {
        format!("Body marker of {}", self.id)
    }

    /// A phrase from this WP's acceptance criteria.
    pub fn acceptance(&self) -> String {
        format!("{} is accepted when its checks pass", self.id)
    }
}

/// WP01 planning (owns `kitty-specs/<slug>/research.md`), WP02 `src/core/**`
/// depending on WP01, WP03 `src/cli/**` depending on WP02.
pub fn three_wps() -> Vec<WpDef> {
    vec![
        WpDef::planning("WP01", "Research", "kitty-specs/{slug}/research.md", &[]),
        WpDef::code("WP02", "Core", "src/core/**", &["WP01"]),
        WpDef::code("WP03", "CLI", "src/cli/**", &["WP02"]),
    ]
}

/// Spec text written by [`write_mission`].
pub const SPEC_MARKER: &str = "The demo mission specification";
/// Plan text written by [`write_mission`].
pub const PLAN_MARKER: &str = "The demo mission plan";

/// Write spec.md, plan.md, tasks.md (one subtask per WP, dependencies stated)
/// and `tasks/WPxx-*.md` for `wps` into the mission directory `dir`.
pub fn write_mission(dir: &Path, slug: &str, wps: &[WpDef]) {
    let mut spec = format!("# Specification\n\n{SPEC_MARKER}.\n\n");
    let mut tasks = String::from("# Work Packages\n");
    for (i, wp) in wps.iter().enumerate() {
        spec.push_str(&format!("| FR-{:03} | {} |\n", i + 1, wp.title));
        let deps = if wp.deps.is_empty() {
            "none".to_string()
        } else {
            wp.deps.join(", ")
        };
        tasks.push_str(&format!(
            "\n## {id}: {title}\n\n**Requirement Refs**: FR-{n:03}\n**Dependencies**: {deps}\n\n- [ ] {t} Do {title}\n",
            id = wp.id,
            title = wp.title,
            n = i + 1,
            t = wp.subtask(),
        ));
        let owns = wp.owns.replace("{slug}", slug);
        let mode = if wp.planning {
            "execution_mode: planning_artifact\n"
        } else {
            ""
        };
        let file = format!("{}-{}.md", wp.id, wp.title.to_lowercase().replace(' ', "-"));
        write(
            &dir.join("tasks").join(file),
            &format!(
                "---\nwork_package_id: {id}\ntitle: {title}\n{mode}owned_files:\n- {owns}\n---\n\n# {id}: {title}\n\n{marker}: work on `{owns}`.\n\n## Acceptance criteria\n\n- {acc}\n",
                id = wp.id,
                title = wp.title,
                marker = wp.marker(),
                acc = wp.acceptance(),
            ),
        );
    }
    write(&dir.join("spec.md"), &spec);
    write(
        &dir.join("plan.md"),
        &format!("# Plan\n\n{PLAN_MARKER}: build it in small steps.\n"),
    );
    write(&dir.join("tasks.md"), &tasks);
}

/// The main checkout's git state that no spec-kitty command may change: HEAD's
/// commit, the checked-out branch, the staged changes and the index entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitState {
    pub head: String,
    pub branch: String,
    pub staged: String,
    pub index: String,
}

impl TestEnv {
    pub fn git_state(&self, root: &Path) -> GitState {
        GitState {
            head: self.git(root, &["rev-parse", "HEAD"]),
            branch: self.git(root, &["symbolic-ref", "HEAD"]),
            staged: self.git(root, &["diff", "--cached"]),
            index: self.git(root, &["ls-files", "--stage"]),
        }
    }
}

/// Split a command line the way a POSIX shell would for the simple commands our
/// prompts print: words separated by blanks, `"..."` and `'...'` quoting.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            None => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quotes in {line:?}");
    if in_word {
        words.push(cur);
    }
    words
}

/// The `spec-kitty ...` command lines of a prompt or decision, as argument lists
/// (without the leading `spec-kitty`), in order.
pub fn spec_kitty_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.trim().trim_matches('`'))
        .filter(|l| l.starts_with("spec-kitty "))
        .map(|l| shell_words(l).into_iter().skip(1).collect())
        .collect()
}

/// What a refused command must leave as it was: every file under the
/// project's `kitty-specs/` and `.kittify/`, with its bytes.
pub fn project_state(
    root: &Path,
) -> (
    std::collections::BTreeMap<PathBuf, Vec<u8>>,
    std::collections::BTreeMap<PathBuf, Vec<u8>>,
) {
    (
        snapshot(&root.join("kitty-specs")),
        snapshot(&root.join(".kittify")),
    )
}

/// Every file under `dir`, with its bytes.
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// After a successful `merge`: the main checkout's tree is clean and the tip
/// of `target` is the record commit holding the mission's final files (every
/// WP done in its status.json, the merge in its meta.json). Returns the record
/// commit's parent (the commit the merge landed).
pub fn assert_recorded(env: &TestEnv, root: &Path, target: &str, slug: &str) -> String {
    let status = env.git(root, &["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(status, "", "the tree is not clean after merge");
    assert_eq!(
        env.git(root, &["log", "-1", "--format=%s", target]).trim(),
        format!("Record mission {slug} merged into {target}")
    );
    let landed = env
        .git(root, &["rev-parse", &format!("{target}^")])
        .trim()
        .to_string();
    let meta: serde_json::Value = serde_json::from_str(&env.git(
        root,
        &["show", &format!("{target}:kitty-specs/{slug}/meta.json")],
    ))
    .unwrap();
    assert_eq!(meta["merged_commit"], landed.as_str(), "{meta}");
    let snap: serde_json::Value = serde_json::from_str(&env.git(
        root,
        &["show", &format!("{target}:kitty-specs/{slug}/status.json")],
    ))
    .unwrap();
    for (id, wp) in snap["work_packages"].as_object().unwrap() {
        assert!(
            matches!(wp["lane"].as_str(), Some("done" | "canceled")),
            "{id} is not done in the recorded status.json: {snap}"
        );
    }
    landed
}

/// A rendezvous with a process held at a named pause point
/// (`SPEC_KITTY_TEST_PAUSE`, src/env.rs): the test knows the process is
/// there, does its part, then lets it go on. No sleep decides an order.
pub struct Pause {
    dir: tempfile::TempDir,
    point: &'static str,
}

impl Pause {
    pub fn at(point: &'static str) -> Pause {
        Pause {
            dir: tempfile::tempdir().expect("tempdir"),
            point,
        }
    }

    /// The environment variable that holds a process at this point.
    pub fn var(&self) -> (&'static str, String) {
        (
            "SPEC_KITTY_TEST_PAUSE",
            format!("{}={}", self.point, self.dir.path().display()),
        )
    }

    /// Wait until `child` is held at the point; panics if it ended first.
    pub fn reached(&self, child: &mut std::process::Child) {
        let flag = self.dir.path().join(format!("{}.reached", self.point));
        let start = std::time::Instant::now();
        while !flag.exists() {
            if let Ok(Some(st)) = child.try_wait() {
                let mut err = String::new();
                if let Some(e) = child.stderr.as_mut() {
                    let _ = std::io::Read::read_to_string(e, &mut err);
                }
                panic!(
                    "the process ended ({st}) before reaching {}: {err}",
                    self.point
                );
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(120),
                "{} never reached",
                self.point
            );
            std::thread::yield_now();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Let the held process go on.
    pub fn go(&self) {
        fs::write(self.dir.path().join(format!("{}.go", self.point)), b"").unwrap();
    }
}

/// A lock test with real processes and no sleep: `first` runs until it is
/// held at pause point `point` (inside the window its lock guards), then each
/// of `others` starts and runs until it finds a lock held and waits for it
/// (`lock-busy`); only then is `first` let go. Without the lock an other would
/// finish without waiting, and [`Pause::reached`] fails the test. Returns every
/// output, `first`'s first.
pub fn hold_and_contend(
    env: &TestEnv,
    dir: &Path,
    first: &[&str],
    point: &'static str,
    others: &[Vec<String>],
) -> Vec<Output> {
    let hold = Pause::at(point);
    let (k, v) = hold.var();
    let mut a = env.spawn_env(dir, first, &[(k, &v)]);
    hold.reached(&mut a);
    let mut children = vec![a];
    // Kept until every process ended: a waiter may still be checking its go.
    let mut waiting = Vec::new();
    for args in others {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Each waiter says where it waits; its go is there already.
        let busy = Pause::at("lock-busy");
        busy.go();
        let (k, v) = busy.var();
        let mut b = env.spawn_env(dir, &args, &[(k, &v)]);
        busy.reached(&mut b);
        children.push(b);
        waiting.push(busy);
    }
    hold.go();
    let outs = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    drop(waiting);
    outs
}

/// `merge.<driver>.driver` as spec-kitty registers it: the built binary by
/// its absolute path, falling back to `spec-kitty` on PATH.
pub fn driver_command(args: &str) -> String {
    let bin = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("spec-kitty")).unwrap();
    format!(
        "sk='{}'; [ -x \"$sk\" ] || sk=spec-kitty; \"$sk\" {args}",
        bin.display()
    )
}

/// `merge.spec-kitty-event-log.driver` as spec-kitty registers it: the built
/// binary by its absolute path with git's path (`%P`), falling back to
/// `spec-kitty` on PATH with the reference's three arguments (the Python
/// tool's driver takes no fourth).
pub fn event_log_driver_command() -> String {
    let bin = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("spec-kitty")).unwrap();
    format!(
        "sk='{}'; if [ -x \"$sk\" ]; then \"$sk\" merge-driver-event-log %O %A %B %P; else spec-kitty merge-driver-event-log %O %A %B; fi",
        bin.display()
    )
}

/// `doc` without its clock fields (`NOW_UTC_ISO`, `runtime_vars.now_utc_iso`).
pub fn without_clock(doc: &serde_json::Value) -> serde_json::Value {
    let mut doc = doc.clone();
    if let Some(m) = doc.as_object_mut() {
        assert!(m.remove("NOW_UTC_ISO").is_some(), "no NOW_UTC_ISO: {m:?}");
        if let Some(rv) = m.get_mut("runtime_vars").and_then(|v| v.as_object_mut()) {
            assert!(rv.remove("now_utc_iso").is_some(), "no now_utc_iso: {rv:?}");
        }
    }
    doc
}

/// The arguments of `agent action implement WP --mission SLUG --agent AGENT --json`.
pub fn implement_args<'a>(wp: &'a str, slug: &'a str, agent: &'a str) -> [&'a str; 9] {
    [
        "agent",
        "action",
        "implement",
        wp,
        "--mission",
        slug,
        "--agent",
        agent,
        "--json",
    ]
}
