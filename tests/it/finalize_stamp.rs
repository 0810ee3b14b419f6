//! The finalize stamp: a re-run of finalize-tasks on unchanged files answers
//! from the report a run that found nothing to change saved, with exactly the
//! full run's output, writing nothing; any change to what finalize reads or
//! writes, and any corrupt or hostile stamp, is a full run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{finalize_tasks, snapshot, stderr, stdout, write, TestEnv};

const TASKS: &str = "# WPs\n\n## WP01: Alpha\n\n**Requirement Refs**: FR-001\n\n- [ ] T001 build alpha\n\n## WP02: Beta\n\n**Dependencies**: WP01\n\n- [ ] T002 build beta\n\n## WP03: Gamma\n\n**Requirement Refs**: FR-001\n**Dependencies**: WP01\n";

/// Mission `001-m` in `root` (a project made by `TestEnv::project`, or a plain
/// directory), with three WPs whose finalize reports warnings (a WP without
/// refs, an unmapped requirement, frontmatter dependencies kept over the prose).
fn mission(env: &TestEnv, root: &Path) -> PathBuf {
    let v = env.json(root, &["agent", "mission", "create", "m", "--json"]);
    let dir = PathBuf::from(v["feature_dir"].as_str().unwrap());
    write(
        &dir.join("spec.md"),
        "# Spec\n\n| FR-001 | a |\n| FR-002 | b |\n",
    );
    write(&dir.join("tasks.md"), TASKS);
    for (id, extra, body) in [
        ("WP01", "", "Create `src/alpha/core.py`."),
        ("WP02", "", "Create `src/beta/core.py`."),
        ("WP03", "dependencies: []\n", "Create `src/gamma/core.py`."),
    ] {
        write(
            &dir.join("tasks").join(format!("{id}-x.md")),
            &format!(
                "---\nwork_package_id: {id}\ntitle: {id} title\n{extra}---\n\n# {id}\n\n{body}\n"
            ),
        );
    }
    dir
}

fn finalize(env: &TestEnv, root: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["agent", "mission", "finalize-tasks", "--mission", "m"];
    args.extend_from_slice(extra);
    let out = env.run(root, &args);
    assert!(
        out.status.success(),
        "finalize {extra:?} failed:\nstdout: {}\nstderr: {}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    out
}

/// stdout and stderr of a run, for byte-for-byte comparison.
fn bytes(out: &Output) -> (Vec<u8>, Vec<u8>) {
    (out.stdout.clone(), out.stderr.clone())
}

fn cache_dir(root: &Path) -> PathBuf {
    root.join(".git/spec-kitty/finalize-cache")
}

/// The one stamp file in `dir`.
fn stamp_in(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("001-m-") && name.ends_with(".json"),
        "{name}"
    );
    files[0].clone()
}

/// A warning only the stamp's report carries: seen in the output exactly
/// when the run answered from the stamp.
const MARK: &str = "this warning comes from the saved stamp";

/// Add [`MARK`] to the report saved in the stamp (its inputs untouched).
fn mark(stamp: &Path) {
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(stamp).unwrap()).unwrap();
    v["report"]["warnings"]
        .as_array_mut()
        .expect("report.warnings")
        .push(MARK.into());
    fs::write(stamp, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn answered_from_stamp(out: &Output) -> bool {
    stderr(out).contains(MARK)
}

/// Modification time and inode of every file under `dir`.
fn stats(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out: Vec<_> = snapshot(dir)
        .into_keys()
        .map(|p| {
            let md = fs::metadata(&p).unwrap();
            (p, md.modified().unwrap(), md.ino())
        })
        .collect();
    out.sort();
    out
}

/// A finalized mission, then the run that finds nothing to change (it saves
/// the stamp); returns that run's `--json` output.
fn finalized_twice(env: &TestEnv) -> (PathBuf, PathBuf, Output) {
    let root = env.project("p");
    let dir = mission(env, &root);
    let first = finalize(env, &root, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(v["updated_wp_count"], 3, "{v}");
    assert!(
        !cache_dir(&root).exists(),
        "a run that wrote saves no stamp"
    );
    let second = finalize(env, &root, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(v["updated_wp_count"], 0, "{v}");
    assert_eq!(v["bootstrap"]["newly_seeded"], 0, "{v}");
    assert_eq!(v["lanes"]["changed"], false, "{v}");
    stamp_in(&cache_dir(&root));
    (root, dir, second)
}

#[test]
fn an_unchanged_rerun_answers_from_the_stamp_with_the_full_runs_output() {
    let env = TestEnv::new();
    let (root, dir, full_json) = finalized_twice(&env);
    assert!(
        stderr(&full_json).contains("WP02: no requirement refs")
            && stderr(&full_json).contains("WP03: frontmatter `dependencies: []` is what counts"),
        "the mission reports warnings: {}",
        stderr(&full_json)
    );
    let stamp = stamp_in(&cache_dir(&root));

    // From the stamp: every mode prints what the full run prints, byte for byte.
    let full_of = |extra: &[&str]| {
        let saved = fs::read(&stamp).unwrap();
        fs::remove_file(&stamp).unwrap();
        let out = finalize(&env, &root, extra);
        // A validate-only run saves no stamp: put it back as it was.
        fs::write(&stamp, saved).unwrap();
        out
    };
    for extra in [
        &["--json"][..],
        &[][..],
        &["--validate-only", "--json"][..],
        &["--validate-only"][..],
    ] {
        let before = stats(&root);
        let files_before = snapshot(&root);
        let hit = finalize(&env, &root, extra);
        assert_eq!(stats(&root), before, "{extra:?}: the run wrote something");
        assert_eq!(snapshot(&root), files_before, "{extra:?}");
        let full = full_of(extra);
        assert_eq!(bytes(&hit), bytes(&full), "{extra:?}");
        assert!(!stdout(&hit).is_empty(), "{extra:?}");
    }
    assert_eq!(
        bytes(&finalize(&env, &root, &["--json"])),
        bytes(&full_json)
    );
    // And the answer did come from the stamp: its report is what is printed.
    mark(&stamp);
    for extra in [&["--json"][..], &[][..], &["--validate-only"][..]] {
        assert!(
            answered_from_stamp(&finalize(&env, &root, extra)),
            "{extra:?}"
        );
    }
    // `validate` checks the mission through finalize's dry run: the same answer.
    let out = env.run(
        &root,
        &["agent", "tasks", "validate-workflow", "--mission", "m"],
    );
    assert!(stdout(&out).contains(MARK) || stderr(&out).contains(MARK));
    let _ = dir;
}

/// Each change to what finalize reads or writes: the stamp's answer is not
/// used, the run is the full one (its output equals a run without any stamp).
#[test]
fn any_change_to_an_input_or_output_is_a_full_run() {
    let env = TestEnv::new();
    let (root, dir, _) = finalized_twice(&env);
    let wp = |id: &str| dir.join("tasks").join(format!("{id}-x.md"));
    type Edit<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let edits: Vec<Edit> = vec![
        (
            "a WP file's body",
            Box::new(|| {
                let t = fs::read_to_string(wp("WP02")).unwrap();
                fs::write(wp("WP02"), t.replace("# WP02", "# WP02 (edited)")).unwrap();
            }),
        ),
        (
            "a WP file's frontmatter",
            Box::new(|| {
                let t = fs::read_to_string(wp("WP03")).unwrap();
                fs::write(wp("WP03"), t.replace("dependencies: []\n", "")).unwrap();
            }),
        ),
        (
            "a WP file renamed",
            Box::new(|| fs::rename(wp("WP01"), dir.join("tasks/WP01-renamed.md")).unwrap()),
        ),
        (
            "a new WP file",
            Box::new(|| {
                write(
                    &wp("WP04"),
                    "---\nwork_package_id: WP04\ntitle: Delta\n---\n\n# WP04\n\nCreate `src/delta/x.py`.\n",
                )
            }),
        ),
        (
            "tasks.md",
            Box::new(|| write(&dir.join("tasks.md"), &format!("{TASKS}\n"))),
        ),
        (
            "spec.md",
            Box::new(|| {
                write(
                    &dir.join("spec.md"),
                    "# Spec\n\n| FR-001 | a |\n| FR-002 | b |\n| FR-003 | c |\n",
                )
            }),
        ),
        (
            "meta.json",
            Box::new(|| {
                let t = fs::read_to_string(dir.join("meta.json")).unwrap();
                fs::write(dir.join("meta.json"), format!("{t}\n")).unwrap();
            }),
        ),
        (
            "lanes.json deleted",
            Box::new(|| fs::remove_file(dir.join("lanes.json")).unwrap()),
        ),
        (
            "lanes.json edited",
            Box::new(|| {
                let t = fs::read_to_string(dir.join("lanes.json")).unwrap();
                fs::write(dir.join("lanes.json"), format!("{t}\n")).unwrap();
            }),
        ),
        (
            "status.json deleted",
            Box::new(|| fs::remove_file(dir.join("status.json")).unwrap()),
        ),
        (
            "an event appended to the log",
            Box::new(|| {
                let f = crate::common::flow::Flow::new(&env, &root, "m");
                assert!(f
                    .move_task("WP01", "claimed", &["--agent", "a"])
                    .status
                    .success());
            }),
        ),
        (
            "the log rewritten in place, same length",
            Box::new(|| {
                let log = dir.join("status.events.jsonl");
                let t = fs::read_to_string(&log).unwrap();
                let edited = t.replacen(
                    "\"actor\": \"finalize-tasks\"",
                    "\"actor\": \"finalize-taskz\"",
                    1,
                );
                assert_ne!(edited, t);
                fs::write(&log, edited).unwrap();
            }),
        ),
    ];
    for (what, edit) in edits {
        let stamp = stamp_in(&cache_dir(&root));
        mark(&stamp);
        assert!(
            answered_from_stamp(&finalize(&env, &root, &["--validate-only"])),
            "{what}: the stamp answers before the change"
        );
        edit();
        // Dry runs first (they save nothing): with the marked stamp, and
        // without any stamp: the same full answer.
        let with = finalize(&env, &root, &["--validate-only", "--json"]);
        assert!(!answered_from_stamp(&with), "{what}");
        let saved = fs::read(&stamp).unwrap();
        fs::remove_dir_all(cache_dir(&root)).unwrap();
        let without = finalize(&env, &root, &["--validate-only", "--json"]);
        assert_eq!(bytes(&with), bytes(&without), "{what}");
        write(&stamp, std::str::from_utf8(&saved).unwrap());
        // The real run is a full one too, then a run that changes nothing
        // stamps the new state.
        let out = finalize(&env, &root, &["--json"]);
        assert!(!answered_from_stamp(&out), "{what}");
        finalize(&env, &root, &["--json"]);
        let again = finalize(&env, &root, &["--json"]);
        let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(v["updated_wp_count"], 0, "{what}: {v}");
        assert!(dir.join("status.json").is_file(), "{what}");
        assert!(dir.join("lanes.json").is_file(), "{what}");
    }
}

#[test]
fn a_corrupt_or_hostile_stamp_is_a_full_run() {
    let env = TestEnv::new();
    let (root, _dir, full) = finalized_twice(&env);
    let stamp = stamp_in(&cache_dir(&root));
    let good: serde_json::Value = serde_json::from_slice(&fs::read(&stamp).unwrap()).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", fs::read(&stamp).unwrap()[..40].to_vec()),
        ("not utf-8", vec![0xff, 0xfe, 0x00, 0x9f]),
        ("null", b"null".to_vec()),
        ("another layout", with(&|v| v["version"] = 999.into())),
        (
            "another binary",
            with(&|v| v["inputs"]["binary"][1] = 1.into()),
        ),
        (
            "a WP counted that is not there",
            with(&|v| {
                v["report"]["wp_count"] = 4.into();
                v["report"]["warnings"] = serde_json::json!([MARK]);
            }),
        ),
        (
            "other WP ids",
            with(&|v| {
                v["report"]["unchanged_wps"] = serde_json::json!(["WP01", "WP02", "WP09"]);
                v["report"]["warnings"] = serde_json::json!([MARK]);
            }),
        ),
        (
            "a write it claims",
            with(&|v| {
                v["report"]["files_written"] = serde_json::json!(["/etc/passwd"]);
                v["report"]["warnings"] = serde_json::json!([MARK]);
            }),
        ),
        (
            "a report of the wrong shape",
            with(&|v| v["report"]["wp_count"] = "three".into()),
        ),
        (
            "deeply nested",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        (
            "over the size cap",
            format!(
                "{{\"version\": 1, \"pad\": \"{}\"}}",
                "x".repeat(17 * 1024 * 1024)
            )
            .into_bytes(),
        ),
    ];
    for (what, bytes_) in cases {
        fs::write(&stamp, &bytes_).unwrap();
        let out = finalize(&env, &root, &["--json"]);
        assert_eq!(bytes(&out), bytes(&full), "{what}");
        // The full run saved a good stamp again.
        let v: serde_json::Value = serde_json::from_slice(&fs::read(&stamp).unwrap()).unwrap();
        assert_eq!(v["version"], good["version"], "{what}");
    }
    // A directory where the stamp goes: a full run, every time.
    fs::remove_file(&stamp).unwrap();
    fs::create_dir(&stamp).unwrap();
    for _ in 0..2 {
        assert_eq!(bytes(&finalize(&env, &root, &["--json"])), bytes(&full));
    }
    fs::remove_dir(&stamp).unwrap();
    // Text from a stamp that matches reaches the terminal escaped, like any.
    finalize(&env, &root, &["--json"]);
    let stamp = stamp_in(&cache_dir(&root));
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&stamp).unwrap()).unwrap();
    v["report"]["warnings"] = serde_json::json!(["\u{1b}]0;owned\u{7}\u{1b}[2Jcleared"]);
    fs::write(&stamp, serde_json::to_vec(&v).unwrap()).unwrap();
    let out = finalize(&env, &root, &[]);
    let err = stderr(&out);
    assert!(err.contains("cleared"), "{err}");
    assert!(
        !out.stderr.contains(&0x1b) && !out.stderr.contains(&0x07),
        "{err}"
    );
}

/// The stamp lives in the git directory: `git status` never lists it, and a
/// command that commits (auto_commit) never commits it.
#[test]
fn the_stamp_is_not_in_the_work_tree_nor_committed() {
    let env = TestEnv::new();
    let root = env.project("p");
    let cfg = root.join(".kittify/config.yaml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(&cfg, format!("{text}  auto_commit: true\n")).unwrap();
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "auto_commit"]);
    mission(&env, &root);
    finalize(&env, &root, &["--json"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "finalized"]);
    let status = || env.git(&root, &["status", "--porcelain", "--ignored"]);
    let before = status();
    finalize(&env, &root, &["--json"]);
    stamp_in(&cache_dir(&root));
    finalize(&env, &root, &[]);
    assert_eq!(status(), before);
    let f = crate::common::flow::Flow::new(&env, &root, "m");
    assert!(f
        .move_task("WP01", "claimed", &["--agent", "a"])
        .status
        .success());
    let files = env.git(&root, &["log", "--name-only", "--format="]);
    assert!(
        files.contains("status.events.jsonl") && !files.contains("finalize-cache"),
        "{files}"
    );
    let tracked = env.git(&root, &["ls-files"]);
    assert!(!tracked.contains("finalize-cache"), "{tracked}");
}

/// Without git the stamp goes under `.kittify/runtime/`, which init ignores.
#[test]
fn without_git_the_stamp_is_kept_in_the_runtime_directory() {
    let env = TestEnv::new();
    let root = env.work.join("plain");
    fs::create_dir_all(root.join(".kittify")).unwrap();
    fs::write(
        root.join(".kittify/config.yaml"),
        "agents:\n  available:\n  - codex\n",
    )
    .unwrap();
    mission(&env, &root);
    finalize(&env, &root, &["--json"]);
    let full = finalize(&env, &root, &["--json"]);
    let stamp = stamp_in(&root.join(".kittify/runtime/finalize-cache"));
    assert_eq!(bytes(&finalize(&env, &root, &["--json"])), bytes(&full));
    mark(&stamp);
    assert!(answered_from_stamp(&finalize(&env, &root, &["--json"])));
}

/// Runs at once on an unchanged mission (the locks serialize them; one may
/// save the stamp while others read it): each prints the full run's output.
#[test]
fn parallel_reruns_all_print_the_full_runs_output() {
    let env = TestEnv::new();
    let (root, _dir, full) = finalized_twice(&env);
    for round in 0..2 {
        if round == 1 {
            fs::remove_dir_all(cache_dir(&root)).unwrap();
        }
        let children: Vec<_> = (0..4)
            .map(|_| env.spawn_piped(&root, &finalize_tasks("m")))
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            assert_eq!(bytes(&out), bytes(&full), "round {round}");
        }
        stamp_in(&cache_dir(&root));
    }
}

/// A temp file a killed writer left in tasks/ (a dead pid) is swept by a run
/// answered from the stamp too, and is no WP file: the stamp still answers.
/// A running writer's temp stays.
#[test]
fn a_run_from_the_stamp_sweeps_a_killed_writers_temp_files() {
    let env = TestEnv::new();
    let (root, dir, full) = finalized_twice(&env);
    mark(&stamp_in(&cache_dir(&root)));
    // No process has pid 4194304 + 1 (above the Linux maximum).
    let dead = dir.join("tasks/.WP01-x.md.4194305.7.tmp");
    let live = dir.join(format!("tasks/.WP02-x.md.{}.7.tmp", std::process::id()));
    write(&dead, "half\n");
    write(&live, "half\n");
    let out = finalize(&env, &root, &["--json"]);
    assert!(answered_from_stamp(&out), "{}", stderr(&out));
    // The full run's document, and the marked warning.
    let mut hit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = hit["warnings"].as_array_mut().unwrap();
    assert_eq!(warnings.pop(), Some(MARK.into()));
    let full: serde_json::Value = serde_json::from_slice(&full.stdout).unwrap();
    assert_eq!(hit, full);
    if cfg!(target_os = "linux") {
        assert!(!dead.exists(), "the dead writer's temp is gone");
    }
    assert!(live.exists(), "a running writer's temp stays");
}

/// Nanoseconds since the epoch of `t`.
fn epoch_ns(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// A file's change time (ns since the epoch): when it was last written or
/// its times were set.
fn changed_ns(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let md = fs::metadata(p).unwrap();
    md.ctime() as u64 * 1_000_000_000 + md.ctime_nsec() as u64
}

/// Set a file's modification time (its change time becomes now).
fn set_mtime(p: &Path, t: std::time::SystemTime) {
    fs::OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// git's racy-clean rule, with every time set explicitly: a WP file whose
/// stat is the one the stamp saved is trusted without a read only when its
/// last change is older than when the stats were taken and than the stamp
/// file itself; otherwise (racily clean) its bytes are read and compared with
/// the digest saved for it. The stamp is made to save the stat of a file
/// whose bytes differ from its saved digest, the one case a read would catch.
#[test]
fn racily_clean_wp_files_are_read_and_settled_ones_trusted_by_their_stat() {
    use std::os::unix::fs::MetadataExt;
    use std::time::{Duration, SystemTime};
    let env = TestEnv::new();
    let (root, dir, _) = finalized_twice(&env);
    let stamp = stamp_in(&cache_dir(&root));
    mark(&stamp);
    let wp02 = dir.join("tasks/WP02-x.md");
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    // The stamp as if its stats were taken at `taken`, saying WP02's stat is
    // the one it has now (whatever its bytes), the stamp file written at
    // `written`.
    let restamp = |taken: u64, written: SystemTime| {
        let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&stamp).unwrap()).unwrap();
        v["wp_stats"]["taken"] = taken.into();
        let md = fs::metadata(&wp02).unwrap();
        let files = v["wp_stats"]["files"].as_array_mut().unwrap();
        let entry = files
            .iter_mut()
            .find(|f| f[0] == "WP02-x.md")
            .expect("WP02 in the stamp");
        *entry = serde_json::json!([
            "WP02-x.md",
            md.len(),
            [md.mtime(), md.mtime_nsec()],
            [md.ctime(), md.ctime_nsec()],
            md.ino(),
            md.dev()
        ]);
        fs::write(&stamp, serde_json::to_vec(&v).unwrap()).unwrap();
        set_mtime(&stamp, written);
    };
    let dry = || finalize(&env, &root, &["--validate-only", "--json"]);
    // The answer without any stamp, the stamp put back after.
    let without_stamp = || {
        let saved = fs::read(&stamp).unwrap();
        let modified = fs::metadata(&stamp).unwrap().modified().unwrap();
        fs::remove_file(&stamp).unwrap();
        let out = dry();
        fs::write(&stamp, saved).unwrap();
        set_mtime(&stamp, modified);
        out
    };
    let original = fs::read_to_string(&wp02).unwrap();
    fs::write(&wp02, original.replace("# WP02", "# WP02 (edited)")).unwrap();

    // Settled: changed before the stats were taken and before the stamp was
    // written. Its stat is trusted: the stamp answers, WP02 unread.
    restamp(epoch_ns(now + day), now + day);
    assert!(answered_from_stamp(&dry()), "a settled file is trusted");

    // Changed after the stats were taken (its time in the future): read, and
    // its bytes are not the saved ones: the full answer.
    set_mtime(&wp02, now + 2 * day);
    restamp(epoch_ns(now + day), now + 3 * day);
    let out = dry();
    assert!(!answered_from_stamp(&out), "a file changed after the stats");
    assert_eq!(bytes(&out), bytes(&without_stamp()));

    // Changed in the very clock tick the stats were taken: read.
    set_mtime(&wp02, now - day);
    restamp(changed_ns(&wp02), now + day);
    let out = dry();
    assert!(!answered_from_stamp(&out), "a file changed just before");
    assert_eq!(bytes(&out), bytes(&without_stamp()));

    // Changed before the stats but not before the stamp file's own time: read.
    restamp(epoch_ns(now + day), now - day);
    let out = dry();
    assert!(!answered_from_stamp(&out), "a file newer than the stamp");
    assert_eq!(bytes(&out), bytes(&without_stamp()));

    // A racily clean file with its saved bytes: read, and the stamp answers.
    fs::write(&wp02, &original).unwrap();
    restamp(changed_ns(&wp02), now + day);
    assert!(
        answered_from_stamp(&dry()),
        "a racy file with its saved bytes"
    );
    // And the real run that follows is answered the same way, writing nothing.
    let before = stats(&root);
    assert!(answered_from_stamp(&finalize(&env, &root, &["--json"])));
    assert_eq!(stats(&root), before);
}
