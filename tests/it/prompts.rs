//! The slash-command prompts and templates, tested as an agent would use them:
//! the worked examples they teach must finalize with zero warnings, every
//! `spec-kitty ...` command and flag they mention must exist, every placeholder
//! is substituted for every agent, and every name init prints is a file on disk.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::common::snap::assert_run;
use crate::common::{stderr, stdout, TestEnv};

/// (agent key, command directory, file suffix): the 13 agents.
const AGENTS: [(&str, &str, &str); 13] = [
    ("copilot", ".github/prompts", ".prompt.md"),
    ("claude", ".claude/commands", ".md"),
    ("gemini", ".gemini/commands", ".toml"),
    ("cursor", ".cursor/commands", ".md"),
    ("qwen", ".qwen/commands", ".toml"),
    ("opencode", ".opencode/command", ".md"),
    ("codex", ".codex/prompts", ".md"),
    ("windsurf", ".windsurf/workflows", ".md"),
    ("kilocode", ".kilocode/workflows", ".md"),
    ("auggie", ".augment/commands", ".md"),
    ("roo", ".roo/commands", ".md"),
    ("q", ".amazonq/prompts", ".md"),
    ("antigravity", ".agent/workflows", ".md"),
];

/// The full workflow every agent gets.
const COMMANDS: [&str; 16] = [
    "specify",
    "clarify",
    "plan",
    "research",
    "charter",
    "tasks",
    "tasks-finalize",
    "implement",
    "review",
    "analyze",
    "checklist",
    "accept",
    "merge",
    "status",
    "dashboard",
    "next",
];

fn stem(agent: &str, name: &str) -> String {
    if agent == "codex" {
        format!("spec-kitty.{}", name.replace('-', "_"))
    } else {
        format!("spec-kitty.{name}")
    }
}

/// A project with every agent's prompts: (root, agent -> command -> prompt text).
/// TOML files are parsed and their `prompt` returned, so every agent's text is
/// what the agent itself reads.
fn all_prompts(env: &TestEnv) -> (PathBuf, BTreeMap<String, BTreeMap<String, String>>) {
    let root = env.work.join("prompts");
    fs::create_dir_all(&root).unwrap();
    let keys: Vec<&str> = AGENTS.iter().map(|a| a.0).collect();
    env.ok(
        &root,
        &["init", ".", "--ai", &keys.join(","), "--non-interactive"],
    );
    let mut out = BTreeMap::new();
    for (agent, dir, ext) in AGENTS {
        let mut per = BTreeMap::new();
        for c in COMMANDS {
            let path = root.join(dir).join(format!("{}{ext}", stem(agent, c)));
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{agent}: {} missing: {e}", path.display()));
            let text = if ext == ".toml" {
                let doc: toml::Value = toml::from_str(&text).unwrap();
                doc["prompt"].as_str().unwrap().to_string()
            } else {
                text
            };
            per.insert(c.to_string(), text);
        }
        out.insert(agent.to_string(), per);
    }
    (root, out)
}

/// Every template file shipped in `templates/` (mission templates, tasks README, formats).
fn template_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
        &mut out,
    );
    out
}

/// The ```` ```markdown path=X ```` blocks of a text: (X, content).
fn worked_examples(text: &str) -> Vec<(String, String)> {
    let re = Regex::new(r"(?ms)^```[a-z]* path=(\S+)\n(.*?)^```[ \t]*$").unwrap();
    re.captures_iter(text)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

#[test]
fn the_worked_example_mission_finalizes_with_zero_warnings() {
    let env = TestEnv::new();
    let (_, prompts) = all_prompts(&env);
    // Every copy of an example, in every agent's prompts and in templates/, is the same text.
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut seen_in: BTreeSet<String> = BTreeSet::new();
    let sources = prompts
        .iter()
        .flat_map(|(a, per)| {
            per.iter()
                .map(move |(c, t)| (format!("{a}/{c}"), t.clone()))
        })
        .chain(
            template_files()
                .into_iter()
                .map(|(p, t)| (p.display().to_string(), t)),
        );
    for (source, text) in sources {
        for (path, body) in worked_examples(&text) {
            seen_in.insert(source.clone());
            match files.get(&path) {
                Some(prev) => assert_eq!(prev, &body, "{path} differs in {source}"),
                None => {
                    files.insert(path, body);
                }
            }
        }
    }
    // The prompts that teach a format carry its example.
    for (agent, _, _) in AGENTS {
        for c in ["specify", "plan", "tasks", "tasks-finalize"] {
            assert!(seen_in.contains(&format!("{agent}/{c}")), "{agent}/{c}");
        }
    }
    let wps: Vec<&String> = files.keys().filter(|p| p.starts_with("tasks/WP")).collect();
    assert_eq!(wps.len(), 4, "{:?}", files.keys());
    for need in ["spec.md", "plan.md", "tasks.md"] {
        assert!(files.contains_key(need), "{need}: {:?}", files.keys());
    }

    let root = env.project("p");
    let m = env.create_mission(&root, "export-csv");
    assert_eq!(m.slug, "001-export-csv", "the examples name this mission");
    for (path, body) in &files {
        let p = m.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, body).unwrap();
    }
    let finalize = |extra: &[&str]| {
        let mut args = vec![
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--json",
        ];
        args.extend_from_slice(extra);
        env.json(&root, &args)
    };
    let v = finalize(&["--validate-only"]);
    assert_eq!(v["warnings"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["wp_count"], 4);
    let v = finalize(&[]);
    assert_eq!(v["warnings"], serde_json::json!([]), "{v:#}");
    // Two code lanes that really run in parallel, and the planning lane.
    assert_eq!(
        v["lanes"]["lane_ids"],
        serde_json::json!(["lane-a", "lane-b", "lane-planning"]),
        "{v:#}"
    );
    assert_eq!(
        v["lanes"]["planning_artifact_wps"],
        serde_json::json!(["WP04"])
    );
    assert_eq!(
        v["dependencies_parsed"]["WP04"],
        serde_json::json!(["WP02", "WP03"])
    );
    assert_eq!(
        v["requirement_refs_parsed"]["WP01"],
        serde_json::json!(["FR-002", "NFR-001", "C-001"])
    );
    // A second run has nothing left to change.
    let v = finalize(&[]);
    assert_eq!(v["modified_wps"], serde_json::json!([]), "{v:#}");
    assert_eq!(v["warnings"], serde_json::json!([]));
    // The board and the workflow check agree with the example.
    let board = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert!(board.to_string().contains("WP04"), "{board}");
    let check = env.json(
        &root,
        &[
            "agent",
            "tasks",
            "validate-workflow",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(check["valid"], true, "{check:#}");
    assert_eq!(check["warnings"], serde_json::json!([]), "{check:#}");
    let out = env.run(
        &root,
        &[
            "agent",
            "tasks",
            "mark-status",
            "T001",
            "T007",
            "--status",
            "done",
            "--mission",
            &m.slug,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The examples are the accepted forms: a near-miss of each is a warning that
/// names the accepted form (so changing the parser without the prompts fails here).
#[test]
fn near_misses_of_the_example_are_warnings_naming_the_accepted_form() {
    let env = TestEnv::new();
    let (_, prompts) = all_prompts(&env);
    let files: BTreeMap<String, String> = worked_examples(&prompts["claude"]["tasks"])
        .into_iter()
        .chain(worked_examples(&prompts["claude"]["specify"]))
        .collect();
    let root = env.project("p");
    let m = env.create_mission(&root, "export-csv");
    for (path, body) in &files {
        let p = m.dir.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, body).unwrap();
    }
    let tasks = files["tasks.md"]
        .replace(
            "**Requirement Refs**: FR-003\n",
            "**Requirements covered:** FR-003\n",
        )
        .replace("- [ ] T007 Write", "- T007 Write")
        .replace("**Dependencies**: WP01\n", "**Depends on**: WP01\n")
        .replace("**Dependencies**: WP02, WP03\n", "**Dependencies**: WP02\n");
    fs::write(m.dir.join("tasks.md"), &tasks).unwrap();
    let wp03 = m.dir.join("tasks/WP03-user-guide.md");
    let text = fs::read_to_string(&wp03).unwrap();
    fs::write(
        &wp03,
        text.replace("dependencies: []", "dependencies: [WP01]"),
    )
    .unwrap();
    fs::write(
        m.dir.join("tasks/WP05-extra.md"),
        "---\nwork_package_id: WP05\ntitle: Extra\ndependencies: []\nexecution_mode: code_change\nowned_files:\n- src/extra.rs\n---\n# WP05\n",
    )
    .unwrap();
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "finalize-tasks",
            "--mission",
            &m.slug,
            "--validate-only",
            "--json",
        ],
    );
    let w = v["warnings"].to_string();
    for expected in [
        "`Requirements covered:` is not read; write `**Requirement Refs**: FR-001, NFR-001`",
        "is not read as a subtask; write `- [ ] T001 description`",
        "`Depends on:` is not read; write `**Dependencies**: WP01, WP02`",
        "WP03: frontmatter `dependencies: [WP01]` is what counts, but its tasks.md section says none",
        "WP04: frontmatter `dependencies: [WP02, WP03]` is what counts, but its tasks.md section says [WP02]",
        "WP05: tasks/WP05-extra.md has no section in tasks.md (add `## WP05: Extra`",
    ] {
        assert!(w.contains(expected), "missing {expected:?} in {w}");
    }
}

/// `spec-kitty ...` commands in code: indented lines and backtick spans.
fn mentioned_commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut prose = String::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if line.starts_with("    ") || line.starts_with('\t') {
            let t = line.trim();
            if let Some(i) = t.find("spec-kitty ") {
                if i == 0 {
                    out.push(t.to_string());
                }
            }
            continue;
        }
        prose.push_str(line);
        prose.push(' ');
    }
    let span = Regex::new(r"`(spec-kitty [^`]+)`").unwrap();
    for c in span.captures_iter(&prose) {
        out.push(c[1].split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

#[test]
fn every_command_and_flag_a_prompt_mentions_exists() {
    let env = TestEnv::new();
    let (root, prompts) = all_prompts(&env);
    let mut texts: Vec<(String, String)> = prompts
        .iter()
        .flat_map(|(a, per)| {
            per.iter()
                .map(move |(c, t)| (format!("{a}/{c}"), t.clone()))
        })
        .collect();
    texts.extend(
        template_files()
            .into_iter()
            .map(|(p, t)| (p.display().to_string(), t)),
    );
    // Subcommand path -> (flags, first place seen).
    let mut wanted: BTreeMap<String, (BTreeSet<String>, String)> = BTreeMap::new();
    for (source, text) in &texts {
        assert!(
            !text.contains("spec-kitty implement"),
            "{source} teaches top-level `spec-kitty implement`"
        );
        for cmd in mentioned_commands(text) {
            let tokens: Vec<&str> = cmd.split_whitespace().skip(1).collect();
            let path: Vec<&str> = tokens
                .iter()
                .copied()
                .take_while(|t| {
                    t.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && t.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
                .collect();
            assert!(!path.is_empty(), "{source}: `{cmd}` names no subcommand");
            let flags = tokens
                .iter()
                .filter(|t| t.starts_with("--") && t.len() > 2)
                .map(|t| {
                    t.split('=')
                        .next()
                        .unwrap()
                        .trim_end_matches(['.', ',', ')'])
                        .to_string()
                });
            let entry = wanted
                .entry(path.join(" "))
                .or_insert_with(|| (BTreeSet::new(), source.clone()));
            entry.0.extend(flags);
        }
    }
    assert!(wanted.len() >= 15, "{:?}", wanted.keys());
    for (path, (flags, source)) in &wanted {
        let mut args: Vec<&str> = path.split(' ').collect();
        args.push("--help");
        let out = env.run(&root, &args);
        let help = stdout(&out);
        assert!(
            out.status.success(),
            "{source}: `spec-kitty {path} --help` exited {:?}: {}",
            out.status.code(),
            stderr(&out)
        );
        assert!(
            help.contains(&format!("Usage: spec-kitty {path} "))
                || help.contains(&format!("Usage: spec-kitty {path}\n")),
            "{source}: `spec-kitty {path}` is not a command of its own:\n{help}"
        );
        for f in flags {
            let re = Regex::new(&format!(r"(^|[\s,\[]){}([\s=<\]]|$)", regex::escape(f))).unwrap();
            assert!(
                re.is_match(&help),
                "{source}: `spec-kitty {path}` has no {f}:\n{help}"
            );
        }
    }
}

/// Which agents share a rendering: Markdown with `$ARGUMENTS`, Codex's
/// underscore names, Copilot's `.prompt.md`, TOML with `{{args}}`.
const FAMILIES: [(&str, &str); 4] = [
    ("markdown", "claude"),
    ("codex", "codex"),
    ("copilot", "copilot"),
    ("toml", "gemini"),
];

#[test]
fn placeholders_are_substituted_for_every_agent() {
    let env = TestEnv::new();
    let (root, prompts) = all_prompts(&env);
    let templates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/agents");
    let slash = Regex::new(r"/spec-kitty\.[a-z_-]+").unwrap();
    for (agent, dir, ext) in AGENTS {
        let toml = ext == ".toml";
        for c in COMMANDS {
            let text = &prompts[agent][c];
            let template = fs::read_to_string(templates_dir.join(format!("{c}.md"))).unwrap();
            let args = if toml { "{{args}}" } else { "$ARGUMENTS" };
            let rest = text.replace("{{args}}", "");
            assert!(
                !rest.contains("{{") && !rest.contains("}}"),
                "{agent}/{c}: a placeholder was left:\n{text}"
            );
            if toml {
                assert!(!text.contains("$ARGUMENTS"), "{agent}/{c}");
            }
            if template.contains("{{ARGS}}") {
                assert!(text.contains(args), "{agent}/{c}: no {args}");
            }
            if template.contains("{{AGENT}}") {
                assert!(
                    text.contains(&format!("You are {agent}"))
                        || text.contains(&format!("--agent {agent}")),
                    "{agent}/{c}: agent not named"
                );
            }
            assert!(
                text.contains("<!-- spec-kitty-command-version: 3.1.1 -->"),
                "{agent}/{c}"
            );
            // Every slash command a prompt names is a file of this agent.
            for m in slash.find_iter(text) {
                let name = &m.as_str()[1..];
                assert!(
                    root.join(dir).join(format!("{name}{ext}")).is_file(),
                    "{agent}/{c} names {} which {agent} does not have",
                    m.as_str()
                );
            }
        }
    }
    for (family, agent) in FAMILIES {
        let (_, dir, ext) = AGENTS.iter().find(|a| a.0 == agent).unwrap();
        let mut names: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let implement = fs::read_to_string(
            root.join(dir)
                .join(format!("{}{ext}", stem(agent, "implement"))),
        )
        .unwrap();
        let next = fs::read_to_string(root.join(dir).join(format!("{}{ext}", stem(agent, "next"))))
            .unwrap();
        insta::assert_snapshot!(
            format!("family_{family}"),
            format!(
                "files in {dir}:\n{}\n\n===== implement\n{implement}\n===== next\n{next}",
                names.join("\n")
            )
        );
    }
}

#[test]
fn every_name_init_prints_exists_on_disk() {
    let env = TestEnv::new();
    let slash = Regex::new(r"/spec-kitty\.[a-z_-]+").unwrap();
    // One agent at a time: every printed name is that agent's file.
    for (agent, dir, ext) in AGENTS {
        let root = env.work.join(format!("one-{agent}"));
        fs::create_dir_all(&root).unwrap();
        let out = env.ok(&root, &["init", ".", "--ai", agent, "--non-interactive"]);
        let names: BTreeSet<&str> = slash.find_iter(&out).map(|m| m.as_str()).collect();
        assert!(names.len() >= COMMANDS.len(), "{agent}: {out}");
        for n in names {
            assert!(
                root.join(dir).join(format!("{}{ext}", &n[1..])).is_file(),
                "{agent}: init printed {n}, which is not on disk:\n{out}"
            );
        }
        let mut files: Vec<String> = fs::read_dir(root.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("{}{ext}", stem(agent, c)))
            .collect();
        expected.sort();
        assert_eq!(files, expected, "{agent}");
    }
    // Mixed naming: Codex's name is printed too, and both exist.
    let root = env.work.join("mixed");
    fs::create_dir_all(&root).unwrap();
    let out = assert_run!(
        env,
        &root,
        "init_mixed_naming",
        ["init", ".", "--ai", "claude,codex", "--non-interactive"]
    );
    assert!(out.status.success());
    let out = stdout(&out);
    for n in slash.find_iter(&out) {
        let name = &n.as_str()[1..];
        assert!(
            root.join(".claude/commands")
                .join(format!("{name}.md"))
                .is_file()
                || root
                    .join(".codex/prompts")
                    .join(format!("{name}.md"))
                    .is_file(),
            "init printed {}, which no selected agent has",
            n.as_str()
        );
    }
}
