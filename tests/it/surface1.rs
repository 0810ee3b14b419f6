//! The part-1 command surface: the options of the shared commands, their JSON
//! shapes, and the setup and health commands. Reference facts come from
//! tests/fixtures/surface1 (see its README); tests never run the reference.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface1")
}

fn walk(cmd: &clap::Command, path: &mut Vec<String>, f: &mut dyn FnMut(&[String], &clap::Command)) {
    f(path, cmd);
    for sub in cmd.get_subcommands() {
        path.push(sub.get_name().to_string());
        walk(sub, path, f);
        path.pop();
    }
}

/// Every `--mission` in our tree also answers to the hidden, deprecated
/// `--feature` (one mechanism: a clap alias, which clap never shows), except
/// the `orchestrator-api` contract, which refuses it like the reference's.
#[test]
fn every_mission_option_takes_the_hidden_feature_alias() {
    let mut cmd = spec_kitty::cli::Cli::command();
    cmd.build();
    let mut seen = 0;
    let mut missing = Vec::new();
    walk(&cmd, &mut Vec::new(), &mut |path, c| {
        for a in c.get_arguments() {
            if a.get_long() == Some("mission")
                && path.first().map(String::as_str) != Some("orchestrator-api")
            {
                seen += 1;
                let aliases = a.get_all_aliases().unwrap_or_default();
                let visible = a.get_visible_aliases().unwrap_or_default();
                if !aliases.contains(&"feature") || visible.contains(&"feature") {
                    missing.push(path.join(" "));
                }
            }
        }
    });
    assert!(seen >= 30, "only {seen} --mission options");
    assert!(missing.is_empty(), "no hidden --feature on: {missing:?}");
}

/// Every reference command that takes `--feature` is one of ours and takes it.
#[test]
fn every_reference_feature_alias_is_ours_too() {
    let tree = std::fs::read_to_string(fixtures().join("reference-tree.txt")).unwrap();
    let mut cmd = spec_kitty::cli::Cli::command();
    cmd.build();
    let mut missing = Vec::new();
    for line in tree.lines().filter(|l| l.contains("--feature(H)")) {
        let path: Vec<&str> = line
            .split("::")
            .next()
            .unwrap()
            .split_whitespace()
            .filter(|w| *w != "(HIDDEN)")
            .collect();
        let mut c = &cmd;
        let mut found = true;
        for p in &path {
            match c.find_subcommand(p) {
                Some(s) => c = s,
                None => {
                    found = false;
                    break;
                }
            }
        }
        let ok = found
            && c.get_arguments().any(|a| {
                a.get_long() == Some("mission")
                    && a.get_all_aliases().unwrap_or_default().contains(&"feature")
            });
        if !ok {
            missing.push(path.join(" "));
        }
    }
    assert!(
        missing.is_empty(),
        "reference --feature missing on: {missing:?}"
    );
}
