//! Every environment variable spec-kitty reads, declared once.
//!
//! This is the only module that calls `std::env::var`; a test keeps it so. The
//! CLI reads its settings here and passes the values into the core; the core
//! calls in here only for git's own environment (read where git would read it)
//! and for the test hooks.
//!
//! Test hooks exist only in a build with the `test-hooks` cargo feature, which
//! the integration tests enable (a dev-dependency of the crate on itself). A
//! plain `cargo build` or `cargo install` compiles them out: their names are not
//! even in the binary (`.ci/run` checks), and no sleep can run.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// One environment variable and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    pub name: &'static str,
    pub doc: &'static str,
}

/// The user's home directory; credentials live in `$HOME/.spec-kitty/`.
pub const HOME: Var = Var {
    name: "HOME",
    doc: "Home directory: credentials and auth config live in $HOME/.spec-kitty/; `upgrade` looks there for the reference's global slash commands.",
};
/// Searched (never run) for a `git` executable when `init` writes config.yaml.
pub const PATH: Var = Var {
    name: "PATH",
    doc: "Searched, never run, for `git` when init decides whether to record `vcs: git`.",
};
/// Overrides the sync server of `auth`.
pub const SERVER_URL: Var = Var {
    name: "SPEC_KITTY_SERVER_URL",
    doc: "Sync server for `auth` (beats [sync] server_url in ~/.spec-kitty/config.toml).",
};
/// How long `auth` waits for the credentials lock.
pub const LOCK_TIMEOUT_MS: Var = Var {
    name: "SPEC_KITTY_LOCK_TIMEOUT_MS",
    doc: "Milliseconds `auth` waits for the credentials lock (default 10000).",
};
/// How long one request to the sync server may take.
pub const HTTP_TIMEOUT_MS: Var = Var {
    name: "SPEC_KITTY_HTTP_TIMEOUT_MS",
    doc: "Milliseconds one `auth` request to the sync server may take (default 8000).",
};
/// Makes `init` behave as with `--non-interactive`.
pub const NON_INTERACTIVE: Var = Var {
    name: "SPEC_KITTY_NON_INTERACTIVE",
    doc: "1/true/yes/on: `init` never prompts, as with --non-interactive.",
};
/// The reference's switch for its hosted sync service.
pub const ENABLE_SAAS_SYNC: Var = Var {
    name: "SPEC_KITTY_ENABLE_SAAS_SYNC",
    doc: "1/true/yes/on: `sync` commands report hosted sync as enabled; those that would need the hosted service refuse (this build syncs teams through git and sends nothing anywhere).",
};
/// Git's global configuration file, which libgit2 does not know about.
pub const GIT_CONFIG_GLOBAL: Var = Var {
    name: "GIT_CONFIG_GLOBAL",
    doc: "Replaces the global git configuration, as it does for git (libgit2 ignores it).",
};
/// The committer name, as git reads it.
pub const GIT_COMMITTER_NAME: Var = Var {
    name: "GIT_COMMITTER_NAME",
    doc: "Committer name for the commits `merge` makes (beats user.name).",
};
/// The committer email, as git reads it.
pub const GIT_COMMITTER_EMAIL: Var = Var {
    name: "GIT_COMMITTER_EMAIL",
    doc: "Committer email for the commits `merge` makes (beats user.email).",
};
/// Read by anstream for `--color auto`, never by our code.
pub const NO_COLOR: Var = Var {
    name: "NO_COLOR",
    doc: "Non-empty: no colour under --color auto (read by anstream).",
};
/// Read by anstream for `--color auto`, never by our code.
pub const CLICOLOR_FORCE: Var = Var {
    name: "CLICOLOR_FORCE",
    doc: "Non-zero: colour even when not a terminal under --color auto (read by anstream).",
};

/// Every variable this build reads, test hooks included when compiled in.
pub fn all() -> Vec<Var> {
    #[allow(unused_mut)]
    let mut v = vec![
        HOME,
        PATH,
        SERVER_URL,
        LOCK_TIMEOUT_MS,
        HTTP_TIMEOUT_MS,
        NON_INTERACTIVE,
        ENABLE_SAAS_SYNC,
        GIT_CONFIG_GLOBAL,
        GIT_COMMITTER_NAME,
        GIT_COMMITTER_EMAIL,
        NO_COLOR,
        CLICOLOR_FORCE,
    ];
    #[cfg(feature = "test-hooks")]
    v.extend(hooks::ALL);
    v
}

fn get(var: Var) -> Option<String> {
    std::env::var(var.name).ok()
}

fn get_os(var: Var) -> Option<OsString> {
    std::env::var_os(var.name).filter(|v| !v.is_empty())
}

/// `$HOME`, when set and not empty.
/// The running binary's absolute path (the merge drivers git runs name it).
pub fn current_exe() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(std::fs::canonicalize(&exe).unwrap_or(exe))
}

pub fn home() -> Option<PathBuf> {
    get_os(HOME).map(PathBuf::from)
}

/// `$PATH`, when set.
pub fn path() -> Option<OsString> {
    get_os(PATH)
}

/// `$SPEC_KITTY_SERVER_URL`, when set to something other than blanks.
pub fn server_url() -> Option<String> {
    get(SERVER_URL).filter(|s| !s.trim().is_empty())
}

/// `$SPEC_KITTY_LOCK_TIMEOUT_MS` as a duration, when it is a number.
pub fn lock_timeout() -> Option<Duration> {
    get(LOCK_TIMEOUT_MS)
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_millis)
}

/// `$SPEC_KITTY_HTTP_TIMEOUT_MS` as a duration, when it is a number.
pub fn http_timeout() -> Option<Duration> {
    get(HTTP_TIMEOUT_MS)
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_millis)
}

/// `$SPEC_KITTY_NON_INTERACTIVE` is a yes (1, true, yes, y, on).
pub fn non_interactive() -> bool {
    get(NON_INTERACTIVE).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "y" | "on"
        )
    })
}

/// `$SPEC_KITTY_ENABLE_SAAS_SYNC` is a yes (1, true, yes, on: the reference's values).
pub fn saas_sync_enabled() -> bool {
    get(ENABLE_SAAS_SYNC).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    })
}

/// `$GIT_CONFIG_GLOBAL`, when set and not empty.
pub fn git_config_global() -> Option<PathBuf> {
    get_os(GIT_CONFIG_GLOBAL).map(PathBuf::from)
}

/// `$GIT_COMMITTER_NAME` and `$GIT_COMMITTER_EMAIL`.
pub fn git_committer() -> (Option<String>, Option<String>) {
    (get(GIT_COMMITTER_NAME), get(GIT_COMMITTER_EMAIL))
}

/// Should a merge stop right after landing, as a crash there would? Always
/// false without the `test-hooks` feature.
#[inline]
pub fn merge_interrupt_after_landing() -> bool {
    #[cfg(feature = "test-hooks")]
    return hooks::merge_interrupt_after_landing();
    #[cfg(not(feature = "test-hooks"))]
    false
}

/// Where a test may make a status move die as a kill would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// The move's pending WP-file record is written, its events are not.
    BeforeAppend,
    /// The events are appended; status.json and the WP file are not written.
    AfterAppend,
    /// A merge's record commit moved the target; the index has not followed.
    RecordRefMoved,
    /// A merge wrote its state file and is about to move the refs.
    BeforeLanding,
    /// A spec-kitty commit (auto_commit, record, merge's record commit)
    /// holds `refs/heads/<branch>.lock` and has not moved the branch.
    CommitRefLocked,
    /// `agent action implement` added the lane worktree (files checked out)
    /// and has not yet marked its creation finished.
    WorktreeAdded,
    /// A named step of a merge's landing or finishing (see [`MERGE_STEPS`]).
    MergeStep(&'static str),
}

impl CrashPoint {
    /// Its name among the named crash steps ([`crash_step`]).
    pub fn step_name(self) -> std::borrow::Cow<'static, str> {
        match self {
            CrashPoint::BeforeAppend => "move-before-append".into(),
            CrashPoint::AfterAppend => "move-after-append".into(),
            CrashPoint::RecordRefMoved => "merge-record-ref".into(),
            CrashPoint::BeforeLanding => "merge-before-land".into(),
            CrashPoint::CommitRefLocked => "commit-ref-locked".into(),
            CrashPoint::WorktreeAdded => "implement-worktree-added".into(),
            CrashPoint::MergeStep(s) => format!("merge-{s}").into(),
        }
    }
}

/// A named step where a test may kill any command (`SPEC_KITTY_TEST_CRASH`):
/// `step` names what is about to happen or just happened (`write-temp`,
/// `append-done`, `create-staged`...), `file` the file it concerns (its name
/// joins the label: `write-done:lanes.json`). The test names a label and
/// which pass of it (`write-done:WP01.md#1`); with
/// `SPEC_KITTY_TEST_CRASH_TRACE` a run lists every label it passes, so a
/// test can crash a command at each of its steps in turn. Without the
/// `test-hooks` feature this does nothing and reads nothing.
#[inline]
pub fn crash_step(step: &str, file: Option<&std::path::Path>) {
    #[cfg(feature = "test-hooks")]
    hooks::crash_step(step, file, || {});
    #[cfg(not(feature = "test-hooks"))]
    let _ = (step, file);
}

/// [`crash_step`] that, when the test names this step, runs `before_abort`
/// first (an append writes half its bytes, as a kill in mid-write would).
#[inline]
pub fn crash_step_then(step: &str, file: Option<&std::path::Path>, before_abort: impl FnOnce()) {
    #[cfg(feature = "test-hooks")]
    hooks::crash_step(step, file, before_abort);
    #[cfg(not(feature = "test-hooks"))]
    let _ = (step, file, before_abort);
}

/// The named steps where a test may kill a merge (`SPEC_KITTY_TEST_MERGE_INTERRUPT`),
/// in the order a merge passes them. `before-land` and `record-ref` have
/// their own [`CrashPoint`]s; the rest are [`CrashPoint::MergeStep`]s.
pub const MERGE_STEPS: [&str; 14] = [
    "before-land",
    "mission-ref",
    "checkout-half",
    "checkout-done",
    "files-switched",
    "target-ref",
    "landed-state",
    "finishing",
    "wps-done",
    "meta",
    "record-ref",
    "lane-removing",
    "lane-worktree-removed",
    "before-state-removed",
];

/// Abort the process when the test variable names `path`'s file name: the
/// atomic write of that file has its temp file written and not yet renamed.
/// Without the `test-hooks` feature this does nothing and reads nothing.
#[inline]
pub fn crash_before_rename(path: &std::path::Path) {
    #[cfg(feature = "test-hooks")]
    hooks::crash_before_rename(path);
    #[cfg(not(feature = "test-hooks"))]
    let _ = path;
}

/// A point where a test may hold a process until it says go on (a
/// rendezvous, not a sleep: the test knows the process is there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePoint {
    /// merge: every precondition checked, about to take the mission's status
    /// lock, re-check the approvals and land.
    MergeBeforeLanding,
    /// merge: holds the mission (its state file is written), no ref moved yet.
    MergeHoldsMission,
    /// implement: the lane workspace is ready, the claim not yet recorded.
    ImplementBeforeClaim,
    /// next --claim: the step is decided, its claim not yet recorded.
    NextBeforeClaim,
    /// finalize-tasks: the WP files are read (under the status lock), not yet
    /// written back.
    FinalizeBeforeWrite,
    /// A status move: the event log is read (under the status lock), the
    /// events not yet appended.
    StatusBeforeAppend,
    /// Any lock: the first try found it held, the process is about to wait.
    LockBusy,
    /// init/upgrade: the project's state is read under the set-up lock, not
    /// yet written.
    InitBeforeWrite,
    /// agent mission create: the mission is staged and numbered under the
    /// numbering lock, not yet published.
    CreateBeforePublish,
    /// A commit of given paths (auto_commit, record): its commit is made on
    /// the tip it read, the branch not yet moved.
    CommitBeforeRef,
    /// An acting read of lanes.json: the file is parsed, its memo not yet
    /// written (`lanes::memo`).
    LanesMemoBeforeWrite,
    /// A new lane worktree: its branch is ready, git has not registered the
    /// worktree yet (`git::worktree`).
    WorktreeBeforeAdd,
}

impl PausePoint {
    /// The name a test uses for it.
    pub fn name(self) -> &'static str {
        match self {
            PausePoint::MergeBeforeLanding => "merge-before-landing",
            PausePoint::MergeHoldsMission => "merge-holds-mission",
            PausePoint::ImplementBeforeClaim => "implement-before-claim",
            PausePoint::NextBeforeClaim => "next-before-claim",
            PausePoint::FinalizeBeforeWrite => "finalize-before-write",
            PausePoint::StatusBeforeAppend => "status-before-append",
            PausePoint::LockBusy => "lock-busy",
            PausePoint::InitBeforeWrite => "init-before-write",
            PausePoint::CreateBeforePublish => "create-before-publish",
            PausePoint::CommitBeforeRef => "commit-before-ref",
            PausePoint::LanesMemoBeforeWrite => "lanes-memo-before-write",
            PausePoint::WorktreeBeforeAdd => "worktree-before-add",
        }
    }
}

/// Hold here when the test variable names `point`: create
/// `<dir>/<point>.reached`, then wait until `<dir>/<point>.go` exists. Without
/// the `test-hooks` feature this does nothing and reads nothing.
#[inline]
pub fn pause_at(point: PausePoint) {
    #[cfg(feature = "test-hooks")]
    hooks::pause_at(point);
    #[cfg(not(feature = "test-hooks"))]
    let _ = point;
}

/// Abort the process at `point` if the test variable names it. Without the
/// `test-hooks` feature this does nothing and reads nothing.
#[inline]
pub fn crash_point(point: CrashPoint) {
    #[cfg(feature = "test-hooks")]
    hooks::crash_point(point);
    #[cfg(not(feature = "test-hooks"))]
    let _ = point;
}

/// Panic here if the test variable asks for it, so a test can check what a
/// bug's panic turns into. Without the `test-hooks` feature this does nothing.
#[inline]
pub fn test_panic() {
    #[cfg(feature = "test-hooks")]
    hooks::test_panic();
}

/// How many bytes an append writes before it fails as a full disk would, when
/// a test asks. Always None without the `test-hooks` feature.
#[inline]
pub fn append_fails_after() -> Option<usize> {
    #[cfg(feature = "test-hooks")]
    return hooks::append_fails_after();
    #[cfg(not(feature = "test-hooks"))]
    None
}

/// Whether this build has the test hooks compiled in.
/// Test hook: the dashboard's connection timeouts (header read, idle, request
/// body) when a test sets them; None without the `test-hooks` feature.
pub fn dashboard_timeout() -> Option<Duration> {
    #[cfg(feature = "test-hooks")]
    return hooks::dashboard_timeout();
    #[cfg(not(feature = "test-hooks"))]
    None
}

/// Test hook: how long a mission's files must have been left unchanged
/// before the mission listing's cache keeps what it read from them, when a
/// test sets it; None without the `test-hooks` feature.
pub fn listing_settle() -> Option<Duration> {
    #[cfg(feature = "test-hooks")]
    return hooks::listing_settle();
    #[cfg(not(feature = "test-hooks"))]
    None
}

/// Test hook: how long a local git step (`git merge --abort`...) may run
/// when a test sets it; None without the `test-hooks` feature.
pub fn git_local_timeout() -> Option<Duration> {
    #[cfg(feature = "test-hooks")]
    return hooks::git_local_timeout();
    #[cfg(not(feature = "test-hooks"))]
    None
}

pub const TEST_HOOKS: bool = cfg!(feature = "test-hooks");

#[cfg(feature = "test-hooks")]
mod hooks {
    use super::{get, CrashPoint, PausePoint, Var};

    pub const MERGE_INTERRUPT: Var = Var {
        name: "SPEC_KITTY_TEST_MERGE_INTERRUPT",
        doc: "Test hook: `landed` stops a merge right after the refs and files landed; `record-ref` aborts it, as a kill would, after its record commit moved the target and before the index followed; `before-land` aborts it once its state file is written, before any ref moved; every other name of `env::MERGE_STEPS` aborts it at that step.",
    };
    pub const MOVE_CRASH: Var = Var {
        name: "SPEC_KITTY_TEST_MOVE_CRASH",
        doc: "Test hook: `before-append` or `after-append` aborts a status move there, as a kill would.",
    };
    pub const PANIC: Var = Var {
        name: "SPEC_KITTY_TEST_PANIC",
        doc: "Test hook: any value makes the command panic with that text before it runs, as a bug would.",
    };
    pub const APPEND_FAIL_AFTER: Var = Var {
        name: "SPEC_KITTY_TEST_APPEND_FAIL_AFTER",
        doc: "Test hook: an append to a log writes this many bytes, then fails with ENOSPC (a full disk).",
    };
    pub const COMMIT_CRASH: Var = Var {
        name: "SPEC_KITTY_TEST_COMMIT_CRASH",
        doc: "Test hook: `ref-locked` aborts a spec-kitty commit while it holds the branch's ref lock, as a kill would.",
    };
    pub const WRITE_CRASH: Var = Var {
        name: "SPEC_KITTY_TEST_WRITE_CRASH",
        doc: "Test hook: a file name; the first atomic write of a file so named aborts after its temp file is written, before the rename.",
    };
    pub const IMPLEMENT_CRASH: Var = Var {
        name: "SPEC_KITTY_TEST_IMPLEMENT_CRASH",
        doc: "Test hook: `worktree-added` aborts `agent action implement` right after git added the lane worktree, before its creation is marked finished.",
    };
    pub const PAUSE: Var = Var {
        name: "SPEC_KITTY_TEST_PAUSE",
        doc: "Test hook: `<point>=<dir>` holds the process at that point: it creates <dir>/<point>.reached and waits for <dir>/<point>.go.",
    };
    pub const DASHBOARD_TIMEOUT_MS: Var = Var {
        name: "SPEC_KITTY_TEST_DASHBOARD_TIMEOUT_MS",
        doc: "Test hook: the dashboard's header-read, idle and request-body timeout, in milliseconds (default 10000).",
    };
    pub const GIT_LOCAL_TIMEOUT_MS: Var = Var {
        name: "SPEC_KITTY_TEST_GIT_LOCAL_TIMEOUT_MS",
        doc: "Test hook: how long a local git step run through the git program may take, in milliseconds (default 60000).",
    };
    pub const CRASH: Var = Var {
        name: "SPEC_KITTY_TEST_CRASH",
        doc: "Test hook: `<step>[:<file name>][#<n>]` aborts the command, as a kill would, the n-th time (default first) it passes that named crash step (`env::crash_step`).",
    };
    pub const CRASH_TRACE: Var = Var {
        name: "SPEC_KITTY_TEST_CRASH_TRACE",
        doc: "Test hook: a file; every named crash step the command passes appends `<label>#<n>` to it.",
    };
    pub const LISTING_SETTLE_MS: Var = Var {
        name: "SPEC_KITTY_TEST_LISTING_SETTLE_MS",
        doc: "Test hook: how many milliseconds a mission's files must have been unchanged before `agent mission list` caches what it read from them (default 2000).",
    };
    pub const ALL: [Var; 13] = [
        LISTING_SETTLE_MS,
        CRASH,
        GIT_LOCAL_TIMEOUT_MS,
        CRASH_TRACE,
        DASHBOARD_TIMEOUT_MS,
        APPEND_FAIL_AFTER,
        PANIC,
        COMMIT_CRASH,
        WRITE_CRASH,
        IMPLEMENT_CRASH,
        PAUSE,
        MOVE_CRASH,
        MERGE_INTERRUPT,
    ];

    /// How often this process passed each crash label.
    static PASSES: std::sync::Mutex<std::collections::BTreeMap<String, u32>> =
        std::sync::Mutex::new(std::collections::BTreeMap::new());

    pub fn crash_step(step: &str, file: Option<&std::path::Path>, before_abort: impl FnOnce()) {
        let want = get(CRASH);
        let trace = super::get_os(CRASH_TRACE);
        if want.is_none() && trace.is_none() {
            return;
        }
        // A file named after this process (a commit's intent record) is
        // labelled `<pid>`, so a label means the same step in every run.
        let label = match file.and_then(|f| f.file_name()) {
            Some(name) => format!(
                "{step}:{}",
                name.to_string_lossy()
                    .replace(&std::process::id().to_string(), "<pid>")
            ),
            None => step.to_string(),
        };
        let n = {
            let mut passes = PASSES.lock().unwrap_or_else(|e| e.into_inner());
            let n = passes.entry(label.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let pass = format!("{label}#{n}");
        if let Some(trace) = trace {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(trace)
            {
                let _ = f.write_all(format!("{pass}\n").as_bytes());
            }
        }
        if want.as_deref() == Some(pass.as_str()) || (n == 1 && want.as_deref() == Some(&label)) {
            before_abort();
            std::process::abort();
        }
    }

    pub fn crash_point(point: CrashPoint) {
        crash_step(&point.step_name(), None, || {});
        let (var, want) = match point {
            CrashPoint::BeforeAppend => (MOVE_CRASH, "before-append"),
            CrashPoint::AfterAppend => (MOVE_CRASH, "after-append"),
            CrashPoint::RecordRefMoved => (MERGE_INTERRUPT, "record-ref"),
            CrashPoint::BeforeLanding => (MERGE_INTERRUPT, "before-land"),
            CrashPoint::CommitRefLocked => (COMMIT_CRASH, "ref-locked"),
            CrashPoint::WorktreeAdded => (IMPLEMENT_CRASH, "worktree-added"),
            CrashPoint::MergeStep(step) => (MERGE_INTERRUPT, step),
        };
        if get(var).as_deref() == Some(want) {
            std::process::abort();
        }
    }

    pub fn listing_settle() -> Option<std::time::Duration> {
        get(LISTING_SETTLE_MS)
            .and_then(|v| v.trim().parse().ok())
            .map(std::time::Duration::from_millis)
    }

    pub fn append_fails_after() -> Option<usize> {
        get(APPEND_FAIL_AFTER).and_then(|v| v.trim().parse().ok())
    }

    pub fn test_panic() {
        if let Some(text) = get(PANIC) {
            panic!("test panic: {text}");
        }
    }

    pub fn crash_before_rename(path: &std::path::Path) {
        let Some(want) = get(WRITE_CRASH) else { return };
        if path.file_name().and_then(|n| n.to_str()) == Some(want.as_str()) {
            std::process::abort();
        }
    }

    pub fn pause_at(point: PausePoint) {
        let Some(spec) = get(PAUSE) else { return };
        let Some((name, dir)) = spec.split_once('=') else {
            return;
        };
        if name != point.name() {
            return;
        }
        let dir = std::path::Path::new(dir);
        let _ = std::fs::write(dir.join(format!("{name}.reached")), b"");
        let go = dir.join(format!("{name}.go"));
        // Wait for the test's go; a test that never says it fails (abort)
        // instead of hanging the suite.
        for _ in 0..60_000 {
            if go.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::process::abort();
    }

    pub fn merge_interrupt_after_landing() -> bool {
        get(MERGE_INTERRUPT).as_deref() == Some("landed")
    }

    pub fn dashboard_timeout() -> Option<std::time::Duration> {
        get(DASHBOARD_TIMEOUT_MS)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_millis)
    }

    pub fn git_local_timeout() -> Option<std::time::Duration> {
        get(GIT_LOCAL_TIMEOUT_MS)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(std::time::Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every `.rs` file under `dir`, recursively.
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn only_this_module_reads_the_environment() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() > 20, "found only {} files", files.len());
        let mut offenders = Vec::new();
        for f in files {
            if f.ends_with("src/env.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if ["env::var(", "env::var_os(", "env::vars(", "env::vars_os("]
                    .iter()
                    .any(|p| code.contains(p))
                {
                    offenders.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "read environment variables through crate::env:\n{}",
            offenders.join("\n")
        );
    }

    #[test]
    fn every_variable_is_documented_once() {
        let all = super::all();
        let mut names: Vec<&str> = all.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len(), "a variable is declared twice");
        for v in &all {
            assert!(v.doc.len() > 10, "{} has no doc line", v.name);
        }
    }
}
