//! The setup, health and validation commands of the part-1 surface (repair,
//! validate-tasks, validate-encoding, list-legacy-features, context, agent tests
//! stale-check), and the walk of the reference's whole command tree. Reference
//! facts come from tests/fixtures/surface1 and tests/fixtures/surface_health
//! (see their READMEs); tests never run the reference.

use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::common::{stdout, TestEnv};

fn tree() -> String {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface1/reference-tree.txt");
    fs::read_to_string(p).unwrap()
}

/// One line of reference-tree.txt: the command path and its option spellings
/// (`--a/--b` and `--a/-s` give both; `(H)` marks a hidden option).
fn parse_line(line: &str) -> Option<(Vec<String>, Vec<String>)> {
    let (path, opts) = line.split_once("::")?;
    if path.contains("(HIDDEN)") && path.trim_start().starts_with("__") {
        return None; // the reference's internal dispatch switch, not a command
    }
    let path: Vec<String> = path
        .split_whitespace()
        .filter(|w| *w != "(HIDDEN)")
        .map(str::to_string)
        .collect();
    let mut names = Vec::new();
    for tok in opts.split_whitespace().filter(|t| t.starts_with('-')) {
        for spelling in tok.trim_end_matches("(H)").split('/') {
            names.push(spelling.to_string());
        }
    }
    Some((path, names))
}

/// Commands other engineers are adding in parallel to this work; the lead
/// empties this list when their branches have landed.
const NOT_YET: &[&str] = &[];

/// Every command path of the reference answers `--help` with exit 0 on ours,
/// and every option spelling it lists is one our parser takes there.
#[test]
fn every_reference_command_answers_help_and_takes_its_options() {
    let env = TestEnv::new();
    let mut cmd = spec_kitty::cli::Cli::command();
    cmd.build();
    let mut missing_cmds = Vec::new();
    let mut missing_opts = Vec::new();
    let mut checked = 0;
    for line in tree().lines() {
        let Some((path, names)) = parse_line(line) else {
            continue;
        };
        let joined = path.join(" ");
        if NOT_YET.contains(&joined.as_str()) {
            continue;
        }
        checked += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = env.run(&env.work, &args);
        if out.status.code() != Some(0) || !stdout(&out).contains("Usage:") {
            missing_cmds.push(joined.clone());
            continue;
        }
        let mut c = &cmd;
        for p in &path {
            c = c.find_subcommand(p).unwrap();
        }
        for n in &names {
            let takes = if let Some(long) = n.strip_prefix("--") {
                c.get_arguments().any(|a| {
                    a.get_long() == Some(long)
                        || a.get_all_aliases().unwrap_or_default().contains(&long)
                })
            } else {
                let short = n.trim_start_matches('-').chars().next().unwrap();
                c.get_arguments().any(|a| {
                    a.get_short() == Some(short)
                        || a.get_all_short_aliases()
                            .unwrap_or_default()
                            .contains(&short)
                })
            };
            if !takes {
                missing_opts.push(format!("{joined} {n}"));
            }
        }
    }
    assert!(checked >= 100, "only {checked} reference commands walked");
    assert!(
        missing_cmds.is_empty() && missing_opts.is_empty(),
        "commands without --help: {missing_cmds:?}\noptions refused: {missing_opts:?}"
    );
}
