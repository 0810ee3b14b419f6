//! The crate's shape: layering, test hooks, and the generated CLI surface
//! (help texts, completions, man page).

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::common::flow::move_task;
use crate::common::{stderr, stdout, TestEnv};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Core modules never reach into the CLI: no file outside `src/cli/` names
/// `crate::cli` (the binary's `main.rs` calls `spec_kitty::cli::main`, the one
/// edge allowed).
#[test]
fn no_core_module_names_the_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut offenders = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src.parent().unwrap()).unwrap();
        if rel.starts_with("src/cli") || rel == Path::new("src/main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let hit = text.lines().any(|l| {
            let code = l.split("//").next().unwrap_or("");
            code.contains("crate::cli")
                || code.contains("super::cli")
                || code.contains("spec_kitty::cli")
                || (code.contains("use crate::{") && code.contains("cli"))
        });
        if hit {
            offenders.push(rel.to_string_lossy().into_owned());
        }
    }
    assert!(
        offenders.is_empty(),
        "core modules must not name crate::cli (move the logic into core): {offenders:?}"
    );
}

/// Start-up builds only the parsed branch of the command tree: every
/// `Subcommand` enum defers its variants' arguments (clap's `defer`), so the
/// commands carry none until one is parsed, and building the tree
/// (as help, completions and the man page do) still yields all of them.
#[test]
fn the_command_tree_is_built_lazily() {
    fn no_arguments_below(cmd: &clap::Command, seen: &mut usize) {
        for sub in cmd.get_subcommands() {
            *seen += 1;
            assert_eq!(
                sub.get_arguments().count(),
                0,
                "`{}` was built eagerly",
                sub.get_name()
            );
            no_arguments_below(sub, seen);
        }
    }
    let mut seen = 0;
    no_arguments_below(&spec_kitty::cli::Cli::command(), &mut seen);
    assert!(seen > 10, "{seen}");
    let mut built = spec_kitty::cli::Cli::command();
    built.build();
    let next = built.find_subcommand("next").unwrap();
    assert!(next.get_arguments().any(|a| a.get_id() == "agent"));
    let agent = built.find_subcommand("agent").unwrap();
    assert!(agent.get_subcommands().count() > 3);

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut enums = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.starts_with("#[derive(") && l.contains("Subcommand") {
                enums += 1;
                assert_eq!(
                    lines.get(i + 1).copied(),
                    Some("#[command(defer = true)]"),
                    "{}:{}: a Subcommand enum without `#[command(defer = true)]`",
                    f.display(),
                    i + 1
                );
            }
        }
    }
    assert!(enums >= 10, "found only {enums} Subcommand enums");
}

/// The integration tests run a binary built with the `test-hooks` feature (the
/// crate's dev-dependency on itself): the hook variables are compiled in.
/// `.ci/run` checks the opposite for a plain `cargo build`.
#[test]
fn the_test_binary_has_the_test_hooks() {
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let bytes = std::fs::read(&bin).unwrap();
    for name in [
        "SPEC_KITTY_TEST_PAUSE",
        "SPEC_KITTY_TEST_CRASH",
        "SPEC_KITTY_TEST_MOVE_CRASH",
        "SPEC_KITTY_TEST_MERGE_INTERRUPT",
    ] {
        assert!(
            bytes.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} is not in {}: the tests need the test-hooks feature",
            bin.display()
        );
    }
}

/// Every command path of the clap tree, hidden ones included.
fn command_paths(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    // (`help` is clap's own, added by `build`.)
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let mut p = prefix.clone();
        p.push(sub.get_name().to_string());
        command_paths(sub, p, out);
    }
}

/// A snapshot of every `--help`, one file per command (walked from the clap
/// tree, so a new subcommand gets one too): a UI change shows as a .snap diff.
#[test]
fn every_help_page_matches_its_snapshot() {
    let env = TestEnv::new();
    let mut paths = Vec::new();
    // Built, so that subcommands under a deferred variant are walked too.
    let mut cli = spec_kitty::cli::Cli::command();
    cli.build();
    command_paths(&cli, Vec::new(), &mut paths);
    assert!(paths.len() > 40, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&env.work, &args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        // The global options come last, under their own heading, not
        // between the command's own options.
        let help = stdout(&out);
        // orchestrator-api is a machine contract with its own parser: every
        // answer is its JSON envelope, so it takes no --json or --color.
        if path.first().map(String::as_str) != Some("orchestrator-api") {
            let (own, global) = help
                .split_once("\nGlobal options:\n")
                .unwrap_or_else(|| panic!("{args:?}: no Global options heading:\n{help}"));
            for flag in ["--json", "--color <WHEN>"] {
                assert!(
                    !own.contains(flag) && global.contains(flag),
                    "{args:?}: {flag} is not under Global options:\n{help}"
                );
            }
        }
        // A doc comment written for developers (rustdoc links, a flattened
        // struct's doc taking over the command's about) never reaches users.
        assert!(
            !help.contains("[`") && !help.starts_with('`'),
            "{args:?}: developer docs leaked into help:\n{help}"
        );
        let name = if path.is_empty() {
            "help".to_string()
        } else {
            format!("help__{}", path.join("__"))
        };
        insta::assert_snapshot!(name, stdout(&out));
    }
}

#[test]
fn completion_scripts_cover_every_shell_and_command() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = env.run(&env.work, &["completion", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["finalize-tasks", "move-task", "completion", "materialize"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let out = env.run(&env.work, &["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let v = env.json(&env.work, &["completion", "fish", "--json"]);
    assert_eq!(v["shell"], "fish");
    assert!(v["script"]
        .as_str()
        .unwrap()
        .contains("complete -c spec-kitty"));
}

/// bash really loads the script and registers the completion function.
#[test]
fn the_bash_completion_script_loads_in_bash() {
    let env = TestEnv::new();
    let script = env.ok(&env.work, &["completion", "bash"]);
    let file = env.tmp.path().join("spec-kitty.bash");
    std::fs::write(&file, script).unwrap();
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c"])
        .arg(format!(
            "source '{}' && complete -p spec-kitty",
            file.display()
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("spec-kitty"),
        "complete -p printed {:?}",
        stdout(&out)
    );
}

/// Every command's own man page lists the global options (clap propagates
/// them to every subcommand; the page is rendered from the built tree).
#[test]
fn every_man_page_lists_the_global_options() {
    let env = TestEnv::new();
    let mut paths = Vec::new();
    command_paths(&spec_kitty::cli::Cli::command(), Vec::new(), &mut paths);
    for path in paths {
        if path.last().is_some_and(|w| w == "help") {
            continue;
        }
        let mut args = vec!["man"];
        args.extend(path.iter().map(String::as_str));
        let page = env.ok(&env.work, &args);
        let options = page
            .split(".SH \"GLOBAL OPTIONS\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?}: no GLOBAL OPTIONS section:\n{page}"));
        for flag in ["\\fB\\-\\-json\\fR\n", "\\fB\\-\\-color\\fR \\fI<WHEN>\\fR"] {
            assert!(
                options.contains(flag),
                "{args:?}: the man page does not list {flag}:\n{page}"
            );
        }
    }
}

#[test]
fn the_man_page_names_every_command() {
    let env = TestEnv::new();
    let page = env.ok(&env.work, &["man"]);
    assert!(page.contains(".TH spec-kitty 1"), "{page}");
    assert!(page.contains(".SH NAME"), "{page}");
    assert!(page.contains("spec-kitty 3.1.1"), "{page}");
    for sub in spec_kitty::cli::Cli::command().get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = sub.get_name().replace('-', "\\-");
        assert!(page.contains(&name), "man page lacks {name}");
    }
    let page = env.ok(&env.work, &["man", "agent", "mission", "create"]);
    assert!(
        page.contains(".TH spec-kitty-agent-mission-create 1"),
        "{page}"
    );
    assert!(page.contains("spec\\-kitty agent mission create"), "{page}");
    insta::assert_snapshot!("man__agent__mission__create", page);
    let out = env.run(&env.work, &["man", "no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no command `spec-kitty no-such-command`"));
}

/// finalize-tasks rewrites `dependencies` in a WP file whose keys are quoted
/// (`"dependencies": [...]`, legal YAML) in place: one key, the comments kept.
#[test]
fn finalize_edits_quoted_frontmatter_keys_in_place() {
    let env = TestEnv::new();
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    let wps = crate::common::three_wps();
    crate::common::write_mission(&m.dir, &m.slug, &wps);
    let wp2 = std::fs::read_dir(m.dir.join("tasks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("WP02"))
        .unwrap();
    let text = std::fs::read_to_string(&wp2).unwrap();
    let quoted = text
        .replacen("work_package_id:", "\"work_package_id\":", 1)
        .replacen("title:", "'title':", 1)
        .replacen(
            "owned_files:",
            "\"dependencies\": [ WP01 ]\n# keep this comment\n\"owned_files\":",
            1,
        );
    std::fs::write(&wp2, &quoted).unwrap();
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    let after = std::fs::read_to_string(&wp2).unwrap();
    let (yaml, _) = spec_kitty::tasks_md::wp::split_frontmatter(&after).unwrap();
    let fm: serde_yaml::Mapping = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(
        fm.get("dependencies"),
        Some(&serde_yaml::Value::Sequence(vec!["WP01".into()])),
        "{after}"
    );
    assert_eq!(after.matches("dependencies").count(), 1, "{after}");
    assert!(after.contains("# keep this comment\n"), "{after}");
    assert!(after.contains("\"work_package_id\": WP02\n"), "{after}");
}

/// Lifecycle lanes are typed in the core and serialize to the reference's
/// strings: move-task's `from_lane`/`to_lane`/`hops` and the board's lanes.
#[test]
fn lanes_serialize_to_their_reference_strings() {
    let env = TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let v = env.json(
        &root,
        &move_task(
            "WP01",
            "in_progress",
            &["--agent", "ana", "--json"],
            &m.slug,
        ),
    );
    assert_eq!(v["from_lane"], "planned");
    assert_eq!(v["to_lane"], "in_progress");
    assert_eq!(v["old_lane"], "planned");
    assert_eq!(v["new_lane"], "in_progress");
    assert_eq!(v["hops"], serde_json::json!(["claimed", "in_progress"]));
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert_eq!(
        board["by_lane"],
        serde_json::json!({"in_progress": 1, "planned": 2})
    );
    let lanes: Vec<&str> = board["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["lane"].as_str().unwrap())
        .collect();
    assert_eq!(lanes, ["in_progress", "planned", "planned"]);
    let list = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "list-tasks",
            "--lane",
            "in-progress",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(list["count"], 1);
    assert_eq!(list["tasks"][0]["lane"], "in_progress");
}
