//! Merge drivers only merge what they own (issue 25): one pushed
//! `.gitattributes` line can route any file to a spec-kitty driver, so every
//! driver refuses input that is not its own format (non-zero exit, "ours"
//! untouched, so git reports a conflict), and its error names the file git is
//! merging (`%P`), not git's temp file.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{stderr, stdout, TestEnv};

/// `git ARGS` in `dir` with the built `spec-kitty` first on PATH (git runs the
/// drivers by name), hermetic config; any exit code.
fn git_with_drivers(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut path = std::ffi::OsString::from(bin.parent().unwrap());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", &env.home)
        .env("GIT_CONFIG_GLOBAL", env.tmp.path().join("gitconfig"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("git")
}

const BASE: &str = "fn main() {\n    println!(\"base\");\n}\n";
const OURS: &str = "fn main() {\n    println!(\"ours\");\n}\n";
const THEIRS: &str = "fn main() {\n    println!(\"theirs\");\n}\n";

/// A project set up by `init` (drivers registered) whose `.gitattributes` was
/// given one hostile line routing `file` to `driver`; `file` conflicts between
/// `main` and branch `other`.
fn hostile_repo(env: &TestEnv, file: &str, driver: &str) -> PathBuf {
    let dir = env.work.join(format!("repo-{driver}"));
    fs::create_dir_all(dir.join("src")).unwrap();
    env.git(&dir, &["init", "-q"]);
    env.ok(&dir, &["init", ".", "--ai", "codex", "--json"]);
    let mut attrs = fs::read_to_string(dir.join(".gitattributes")).unwrap();
    attrs.push_str(&format!("{file} merge={driver}\n"));
    fs::write(dir.join(".gitattributes"), attrs).unwrap();
    fs::write(dir.join(file), BASE).unwrap();
    env.git(&dir, &["add", "-A"]);
    env.git(&dir, &["commit", "-qm", "base"]);
    env.git(&dir, &["checkout", "-qb", "other"]);
    fs::write(dir.join(file), THEIRS).unwrap();
    env.git(&dir, &["commit", "-qam", "theirs"]);
    env.git(&dir, &["checkout", "-q", "main"]);
    fs::write(dir.join(file), OURS).unwrap();
    env.git(&dir, &["commit", "-qam", "ours"]);
    dir
}

#[test]
fn a_source_file_routed_to_any_driver_still_conflicts_and_is_never_rewritten() {
    for driver in [
        "spec-kitty-status-json",
        "spec-kitty-wp",
        "spec-kitty-event-log",
    ] {
        let env = TestEnv::new();
        let file = "src/main.rs";
        let dir = hostile_repo(&env, file, driver);
        let head = env.git(&dir, &["rev-parse", "HEAD"]);
        let out = git_with_drivers(&env, &dir, &["merge", "--no-edit", "other"]);
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !out.status.success(),
            "{driver}: the merge must conflict\n{all}"
        );
        assert_eq!(
            env.git(&dir, &["rev-parse", "HEAD"]),
            head,
            "{driver}: nothing committed"
        );
        assert_eq!(
            env.git(&dir, &["diff", "--name-only", "--diff-filter=U"])
                .trim(),
            file,
            "{driver}: {all}"
        );
        assert_eq!(
            fs::read_to_string(dir.join(file)).unwrap(),
            OURS,
            "{driver}: ours untouched"
        );
        assert!(
            all.contains("not a"),
            "{driver}: the refusal is shown\n{all}"
        );
        assert!(!all.contains("\n{}"), "{all}");
        // spec-kitty registers every driver with git's path (%P).
        assert!(
            all.contains(&format!("{file}: not a")),
            "{driver}: the error names the file\n{all}"
        );
        assert!(!all.contains(".merge_file_"), "{driver}: {all}");
    }
}

/// A clone where the Python tool registered the event-log driver (its
/// three-argument form, `spec-kitty` on PATH): our driver still refuses a
/// foreign file, and its error says git passed no path instead of naming
/// git's temp file. Our own registration (four arguments) names the file.
#[test]
fn the_event_log_driver_takes_the_python_tools_three_argument_registration() {
    let env = TestEnv::new();
    let file = "src/main.rs";
    let dir = hostile_repo(&env, file, "spec-kitty-event-log");
    env.git(
        &dir,
        &[
            "config",
            "--local",
            "merge.spec-kitty-event-log.driver",
            "spec-kitty merge-driver-event-log %O %A %B",
        ],
    );
    let out = git_with_drivers(&env, &dir, &["merge", "--no-edit", "other"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{all}");
    assert_eq!(fs::read_to_string(dir.join(file)).unwrap(), OURS);
    assert!(
        all.contains(
            "the status event log git is merging (git passed no path): not a status event log"
        ),
        "{all}"
    );
    assert!(!all.contains(".merge_file_"), "{all}");
}

#[test]
fn each_driver_refuses_input_of_another_format_and_leaves_ours_untouched() {
    let env = TestEnv::new();
    let dir = env.work.join("d");
    fs::create_dir_all(&dir).unwrap();
    let wp = "---\nwork_package_id: WP01\ntitle: Core\n---\n\n# WP01\n\n## Activity Log\n\n- 2026-01-01T00:00:00Z – a – Moved to claimed\n";
    let snapshot = "{\n  \"work_packages\": {},\n  \"summary\": {}\n}\n";
    let event =
        "{\"at\": \"2026-01-01T00:00:00Z\", \"event_id\": \"01J0000000000000000000000A\"}\n";
    let cases: [(&str, &str, &str); 6] = [
        ("merge-driver-status-json", snapshot, OURS),
        ("merge-driver-status-json", snapshot, "[1, 2]\n"),
        (
            "merge-driver-status-json",
            snapshot,
            "{\"name\": \"a package.json\"}\n",
        ),
        ("merge-driver-wp", wp, OURS),
        (
            "merge-driver-wp",
            wp,
            "---\ntitle: a blog post\n---\n\ntext\n",
        ),
        ("merge-driver-event-log", event, OURS),
    ];
    for (cmd, good, bad) in cases {
        // The bad input on any side refuses; ours keeps its bytes.
        for side in 0..3 {
            let mut texts = [good, good, good];
            texts[side] = bad;
            for (name, t) in ["base", "ours", "theirs"].iter().zip(texts) {
                fs::write(dir.join(name), t).unwrap();
            }
            let out = env.run(
                &dir,
                &[cmd, "base", "ours", "theirs", "kitty-specs/x/named-file"],
            );
            assert_eq!(
                out.status.code(),
                Some(1),
                "{cmd} side {side} {bad:?}: {}",
                stderr(&out)
            );
            assert_eq!(fs::read_to_string(dir.join("ours")).unwrap(), texts[1]);
            assert!(
                stderr(&out).contains("kitty-specs/x/named-file"),
                "{cmd}: {}",
                stderr(&out)
            );
        }
        // Called with three arguments (no %P), the refusal says git passed no
        // path and names no temp file.
        for (name, t) in ["base", "ours", "theirs"].iter().zip([good, bad, good]) {
            fs::write(dir.join(name), t).unwrap();
        }
        let out = env.run(&dir, &[cmd, "base", "ours", "theirs"]);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {}", stderr(&out));
        assert_eq!(fs::read_to_string(dir.join("ours")).unwrap(), bad);
        assert!(
            stderr(&out).contains("git is merging (git passed no path): not a"),
            "{cmd}: {}",
            stderr(&out)
        );
    }
    // Its own format still merges (and the path argument is optional, as the
    // reference registers the event-log driver with `%O %A %B`).
    for (cmd, good) in [
        ("merge-driver-status-json", snapshot),
        ("merge-driver-wp", wp),
        ("merge-driver-event-log", event),
    ] {
        for name in ["base", "ours", "theirs"] {
            fs::write(dir.join(name), good).unwrap();
        }
        env.ok(&dir, &[cmd, "base", "ours", "theirs"]);
        env.ok(&dir, &[cmd, "base", "ours", "theirs", "kitty-specs/x/f"]);
        // A side git passes as an empty file (no such file there) is fine.
        fs::write(dir.join("base"), "").unwrap();
        env.ok(&dir, &[cmd, "base", "ours", "theirs", "kitty-specs/x/f"]);
    }
}

#[test]
fn the_drivers_are_registered_by_the_binarys_absolute_path_with_a_fallback() {
    let env = TestEnv::new();
    let dir = env.work.join("r");
    fs::create_dir_all(&dir).unwrap();
    env.git(&dir, &["init", "-q"]);
    env.ok(&dir, &["init", ".", "--ai", "codex"]);
    let cfg = env.git(
        &dir,
        &["config", "--local", "--get-regexp", "merge\\..*\\.driver"],
    );
    assert!(
        cfg.contains(&format!(
            "merge.spec-kitty-event-log.driver {}\n",
            crate::common::event_log_driver_command()
        )),
        "{cfg}"
    );
    assert!(
        cfg.contains(&format!(
            "merge.spec-kitty-status-json.driver {}\n",
            crate::common::driver_command("merge-driver-status-json %O %A %B %P")
        )),
        "{cfg}"
    );
    assert!(
        cfg.contains(&format!(
            "merge.spec-kitty-wp.driver {}\n",
            crate::common::driver_command("merge-driver-wp %O %A %B %P")
        )),
        "{cfg}"
    );
    // A clone registered by an earlier version is brought up to date by upgrade.
    env.git(
        &dir,
        &[
            "config",
            "--local",
            "merge.spec-kitty-wp.driver",
            "spec-kitty merge-driver-wp %O %A %B",
        ],
    );
    env.ok(&dir, &["upgrade"]);
    let cfg = env.git(
        &dir,
        &["config", "--local", "--get", "merge.spec-kitty-wp.driver"],
    );
    assert_eq!(
        cfg.trim(),
        crate::common::driver_command("merge-driver-wp %O %A %B %P")
    );
}

/// The registered event-log command runs the registered binary with git's
/// path (`%P`), and, when that binary is gone, `spec-kitty` on PATH with the
/// reference's three arguments only (the Python tool's driver takes no
/// fourth). Fake binaries record the arguments they get.
#[test]
fn the_event_log_fallback_passes_the_references_three_arguments() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let dir = env.work.join("fallback");
    let bin_dir = dir.join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let fake = |path: &Path, log: &str| {
        fs::write(path, format!("#!/bin/sh\nprintf '%s|' \"$@\" > {log}\n")).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    };
    let registered = dir.join("registered-spec-kitty");
    fake(&registered, "registered.args");
    fake(&bin_dir.join("spec-kitty"), "on-path.args");
    let real = fs::canonicalize(assert_cmd::cargo::cargo_bin("spec-kitty")).unwrap();
    let command = crate::common::event_log_driver_command().replace(
        &format!("sk='{}'", real.display()),
        &format!("sk='{}'", registered.display()),
    );
    assert_ne!(command, crate::common::event_log_driver_command());
    // git replaces the placeholders with shell-quoted paths.
    let line = command
        .replace("%O", "'.merge_file_O'")
        .replace("%A", "'.merge_file_A'")
        .replace("%B", "'.merge_file_B'")
        .replace("%P", "'kitty-specs/001-x/status.events.jsonl'");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = || {
        let st = std::process::Command::new("sh")
            .args(["-c", &line])
            .current_dir(&dir)
            .env("PATH", &path)
            .status()
            .unwrap();
        assert!(st.success());
    };
    run();
    assert_eq!(
        fs::read_to_string(dir.join("registered.args")).unwrap(),
        "merge-driver-event-log|.merge_file_O|.merge_file_A|.merge_file_B|kitty-specs/001-x/status.events.jsonl|"
    );
    assert!(!dir.join("on-path.args").exists());
    fs::remove_file(&registered).unwrap();
    run();
    assert_eq!(
        fs::read_to_string(dir.join("on-path.args")).unwrap(),
        "merge-driver-event-log|.merge_file_O|.merge_file_A|.merge_file_B|"
    );
}
