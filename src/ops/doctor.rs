//! `doctor command-files` and `doctor state-roots`: read-only health reports
//! on the agents' slash-command files and on every place spec-kitty keeps state.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;
use crate::init::commands::{self, COMMANDS};
use crate::init::manifest::{content_hash, Manifest};
use crate::project::Project;

/// One problem with one command file (the reference's keys).
#[derive(Debug, Clone, Serialize)]
pub struct CommandFileIssue {
    pub agent: String,
    pub command: String,
    /// Project-relative path.
    pub file: String,
    pub issue: String,
    /// `error` (missing or unreadable) or `warning`.
    pub severity: &'static str,
}

/// Check the command files of every configured agent whose command folder
/// exists: each of this version's commands is there, carries this version's
/// marker, and is what this version generates (else: run `spec-kitty upgrade`).
pub fn command_files(project: &Project) -> Result<Vec<CommandFileIssue>> {
    let root = &project.root;
    let state = crate::init::inspect(root, true, false)?;
    let manifest = Manifest::load(root)?;
    let marker = commands::version_marker();
    let mut issues = Vec::new();
    for agent in &state.configured_agents {
        if !root.join(agent.command_dir).is_dir() {
            continue;
        }
        let mut cmds: Vec<_> = COMMANDS.iter().collect();
        cmds.sort_by_key(|c| c.name);
        for cmd in cmds {
            let rel = commands::rel_path(agent, cmd);
            let issue = |issue: String, severity| CommandFileIssue {
                agent: agent.key.to_string(),
                command: cmd.name.to_string(),
                file: rel.clone(),
                issue,
                severity,
            };
            let path = root.join(&rel);
            if !path.exists() {
                issues.push(issue("missing".into(), "error"));
                continue;
            }
            let text = match crate::fsutil::read_capped(&path, crate::bounds::MAX_TEXT_BYTES) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    issues.push(issue(
                        "unreadable: larger than the read limit".into(),
                        "error",
                    ));
                    continue;
                }
                Err(e) => {
                    issues.push(issue(format!("unreadable: {e}"), "error"));
                    continue;
                }
            };
            if !text.lines().any(|l| l.trim() == marker) {
                issues.push(issue(
                    format!("stale or missing version marker (expected: {marker})"),
                    "warning",
                ));
            }
            if text != commands::render(agent, cmd) {
                let edited = manifest
                    .files
                    .get(&rel)
                    .is_none_or(|rec| rec.hash != content_hash(text.as_bytes()));
                issues.push(issue(
                    if edited {
                        "edited since spec-kitty wrote it (upgrade leaves it alone)".into()
                    } else {
                        "not what this version generates (run spec-kitty upgrade)".into()
                    },
                    "warning",
                ));
            }
        }
    }
    Ok(issues)
}

/// One state root (the reference's keys).
#[derive(Debug, Clone, Serialize)]
pub struct StateRoot {
    pub name: &'static str,
    pub label: &'static str,
    pub resolved_path: PathBuf,
    pub exists: bool,
}

/// One place spec-kitty keeps state, and how it stands (the reference's keys).
#[derive(Debug, Clone, Serialize)]
pub struct SurfaceCheck {
    pub name: &'static str,
    pub path_pattern: &'static str,
    pub root: &'static str,
    pub authority: &'static str,
    pub git_class: &'static str,
    pub present: bool,
    pub gitignore_covered: bool,
    pub warning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateRootsReport {
    pub healthy: bool,
    pub roots: Vec<StateRoot>,
    pub surfaces: Vec<SurfaceCheck>,
    pub warnings: Vec<String>,
}

struct Surface {
    name: &'static str,
    path: &'static str,
    root: &'static str,
    authority: &'static str,
    git_class: &'static str,
}

const fn s(
    name: &'static str,
    path: &'static str,
    root: &'static str,
    authority: &'static str,
    git_class: &'static str,
) -> Surface {
    Surface {
        name,
        path,
        root,
        authority,
        git_class,
    }
}

const P: &str = "project";
const F: &str = "feature";
const G: &str = "global_sync";
const AUTH: &str = "authoritative";
const DER: &str = "derived";
const LOCAL: &str = "local_runtime";
const COMPAT: &str = "compatibility";
const TRACKED: &str = "tracked";
const IGNORED: &str = "ignored";
const OUTSIDE: &str = "outside_repo";

/// Every place this build reads or writes state (names follow the reference
/// where the surface is the same).
const SURFACES: &[Surface] = &[
    s("project_config", ".kittify/config.yaml", P, AUTH, TRACKED),
    s(
        "project_metadata",
        ".kittify/metadata.yaml",
        P,
        AUTH,
        TRACKED,
    ),
    s(
        "managed_files_manifest",
        ".kittify/managed-files.json",
        P,
        AUTH,
        TRACKED,
    ),
    s("locks", ".kittify/.locks/", P, LOCAL, IGNORED),
    s(
        "dashboard_control",
        ".kittify/.dashboard",
        P,
        LOCAL,
        IGNORED,
    ),
    s(
        "workspace_context",
        ".kittify/workspaces/<feature>-<WP>.json",
        P,
        LOCAL,
        IGNORED,
    ),
    s(
        "merge_resume_state",
        ".kittify/merge-state.json",
        P,
        LOCAL,
        IGNORED,
    ),
    s("lane_worktrees", ".worktrees/", P, LOCAL, IGNORED),
    s(
        "charter_source",
        ".kittify/charter/charter.md",
        P,
        AUTH,
        TRACKED,
    ),
    s(
        "charter_interview_answers",
        ".kittify/charter/interview/answers.yaml",
        P,
        AUTH,
        TRACKED,
    ),
    s(
        "charter_references",
        ".kittify/charter/references.yaml",
        P,
        LOCAL,
        IGNORED,
    ),
    s(
        "charter_governance",
        ".kittify/charter/governance.yaml",
        P,
        DER,
        IGNORED,
    ),
    s(
        "charter_directives",
        ".kittify/charter/directives.yaml",
        P,
        DER,
        IGNORED,
    ),
    s(
        "charter_sync_metadata",
        ".kittify/charter/metadata.yaml",
        P,
        DER,
        IGNORED,
    ),
    s(
        "charter_context_state",
        ".kittify/charter/context-state.json",
        P,
        LOCAL,
        IGNORED,
    ),
    s("doctrine", ".kittify/doctrine/", P, AUTH, TRACKED),
    s(
        "feature_metadata",
        "kitty-specs/<feature>/meta.json",
        F,
        AUTH,
        TRACKED,
    ),
    s(
        "canonical_status_log",
        "kitty-specs/<feature>/status.events.jsonl",
        F,
        AUTH,
        TRACKED,
    ),
    s(
        "canonical_status_snapshot",
        "kitty-specs/<feature>/status.json",
        F,
        DER,
        TRACKED,
    ),
    s(
        "lanes_manifest",
        "kitty-specs/<feature>/lanes.json",
        F,
        DER,
        TRACKED,
    ),
    s(
        "wp_prompt_frontmatter",
        "kitty-specs/<feature>/tasks/WP*.md",
        F,
        COMPAT,
        TRACKED,
    ),
    s(
        "tasks_status_block",
        "kitty-specs/<feature>/tasks.md",
        F,
        DER,
        TRACKED,
    ),
    s(
        "auth_credentials",
        "~/.spec-kitty/credentials",
        G,
        AUTH,
        OUTSIDE,
    ),
    s("sync_config", "~/.spec-kitty/config.toml", G, AUTH, OUTSIDE),
];

/// Directory entries looked at per folder (a bound on hostile trees).
const MAX_ENTRIES: usize = 100_000;

/// Is there anything at `pattern` under `base`? `<x>` is any one name, `*`
/// any run of characters within a name.
fn present(base: &Path, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let mut here = vec![base.to_path_buf()];
    for part in parts {
        let mut next = Vec::new();
        let matcher = part_matcher(part);
        for dir in &here {
            if !part.contains('<') && !part.contains('*') {
                let p = dir.join(part);
                if std::fs::symlink_metadata(&p).is_ok() {
                    next.push(p);
                }
                continue;
            }
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in rd.flatten().take(MAX_ENTRIES) {
                let name = e.file_name().to_string_lossy().into_owned();
                if matcher.as_ref().is_some_and(|m| m.is_match(&name)) {
                    next.push(e.path());
                }
            }
        }
        if next.is_empty() {
            return false;
        }
        here = next;
    }
    true
}

/// A matcher of one file name for `part`, whose `<...>` placeholders and `*`
/// match any run of characters.
fn part_matcher(part: &str) -> Option<globset::GlobMatcher> {
    // Placeholders become `*`.
    let mut pat = String::new();
    let mut in_ph = false;
    for c in part.chars() {
        match c {
            '<' => {
                in_ph = true;
                pat.push('*');
            }
            '>' => in_ph = false,
            c if !in_ph => pat.push(c),
            _ => {}
        }
    }
    // The patterns are this module's constants; a name is one path segment.
    globset::Glob::new(&pat).ok().map(|g| g.compile_matcher())
}

/// Resolve the state roots, look for every surface, and warn about local
/// runtime or derived files in the project that git would not ignore.
pub fn state_roots(project: &Project) -> Result<StateRootsReport> {
    let root = &project.root;
    let home = crate::env::home();
    let sync_home = home
        .as_ref()
        .map_or_else(|| PathBuf::from("~/.spec-kitty"), |h| h.join(".spec-kitty"));
    let roots = vec![
        StateRoot {
            name: "project",
            label: "Project-local state",
            resolved_path: project.kittify_dir(),
            exists: project.kittify_dir().is_dir(),
        },
        StateRoot {
            name: "global_sync",
            label: "Global sync/auth home",
            exists: sync_home.is_dir(),
            resolved_path: sync_home.clone(),
        },
    ];
    let is_git = project.is_git();
    let mut surfaces = Vec::new();
    let mut warnings = Vec::new();
    for sf in SURFACES {
        let present = match sf.root {
            "global_sync" => {
                let rel = sf.path.trim_start_matches("~/.spec-kitty/");
                home.is_some() && self::present(&sync_home, rel)
            }
            _ => self::present(root, sf.path),
        };
        let needs_ignore = sf.root == P && sf.git_class == IGNORED;
        let covered = if needs_ignore && is_git {
            // A pattern's fixed prefix is what .gitignore has to cover.
            let fixed: String = sf
                .path
                .split('/')
                .take_while(|p| !p.contains('<') && !p.contains('*'))
                .collect::<Vec<_>>()
                .join("/");
            crate::git::is_ignored(root, fixed.trim_end_matches('/')).unwrap_or(true)
        } else {
            true
        };
        let warning = (needs_ignore
            && (sf.authority == LOCAL || sf.authority == DER)
            && present
            && !covered)
            .then(|| {
                format!(
                    "{} ({}) is present but not gitignored. Authority: {}. Risk: accidental commit.",
                    sf.name, sf.path, sf.authority
                )
            });
        if let Some(w) = &warning {
            warnings.push(w.clone());
        }
        surfaces.push(SurfaceCheck {
            name: sf.name,
            path_pattern: sf.path,
            root: sf.root,
            authority: sf.authority,
            git_class: sf.git_class,
            present,
            gitignore_covered: covered,
            warning,
        });
    }
    Ok(StateRootsReport {
        healthy: warnings.is_empty(),
        roots,
        surfaces,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_match_one_name() {
        let is = |p: &str, n: &str| super::part_matcher(p).is_some_and(|m| m.is_match(n));
        assert!(is("<feature>-<WP>.json", "001-x-WP01.json"));
        assert!(is("WP*.md", "WP01-a.md"));
        assert!(!is("WP*.md", "WP01.txt"));
    }
}
