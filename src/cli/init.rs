//! `spec-kitty init`.

use crate::cli::output::style;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use super::output::Render;
use super::Ctx;
use crate::error::{Error, Result};
use crate::init::agents::{self, Agent, AGENTS};
use crate::init::{self as core, commands, InitOptions, Report};

const AFTER_HELP: &str = "\
Creates project files only: it never runs `git init`, never commits, and never
writes outside the project directory.

What gets written:
  .kittify/config.yaml           the selected agents
  .kittify/metadata.yaml         spec-kitty version and set-up time
  .kittify/managed-files.json    the generated files and their content hashes
  <agent dir>/spec-kitty.*       slash commands, e.g. .codex/prompts/spec-kitty.plan.md
  .gitignore, .gitattributes     entries for agent folders, .worktrees/ and local state

Agents (--ai): copilot, claude, gemini, cursor, qwen, opencode, codex, windsurf,
kilocode, auggie, roo, q, antigravity

Running init again is safe: it refreshes the slash commands it wrote, keeps any
you edited (and lists them), and adds agents named with --ai.
Without a terminal, with --non-interactive, or with SPEC_KITTY_NON_INTERACTIVE=1,
it never prompts.

Examples:
  spec-kitty init demo --ai codex --non-interactive
  spec-kitty init . --ai claude,gemini

Canonical next steps:
  spec-kitty next --agent <agent> --mission <slug>
  spec-kitty agent action implement <WP> --agent <agent>
  spec-kitty agent action review <WP> --agent <agent>";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct InitArgs {
    /// Project directory to create, or `.` for the current directory (the default)
    pub project_name: Option<String>,
    /// Comma-separated agents to set up (codex,claude,gemini,...)
    #[arg(long, value_name = "AGENT[,AGENT...]")]
    pub ai: Option<String>,
    /// Never prompt; --ai is then required (unless the project already lists agents)
    #[arg(long, visible_alias = "yes")]
    pub non_interactive: bool,
    /// Set up a non-empty directory that is not a spec-kitty project, replacing
    /// files at the paths spec-kitty writes
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Ctx, args: &InitArgs) -> Result<()> {
    let (root, here) = match args.project_name.as_deref() {
        None | Some(".") => (ctx.cwd.clone(), true),
        Some("") => {
            return Err(Error::usage("the project name is empty")
                .with_hint("use `.` for the current directory"))
        }
        Some(name) => (ctx.cwd.join(name), false),
    };
    let root = crate::project::normalize(&root);
    // The directory to set up is the confinement root of every write.
    crate::fsutil::fix_confinement_root(&root);
    // `init ./` or the cwd's own absolute path mean the same as `init .`.
    let here = here || root == crate::project::normalize(&ctx.cwd);
    let requested = match args.ai.as_deref() {
        Some(list) => Some(agents::parse_list(list)?),
        None => None,
    };
    // Refuse a conflicting target before asking anything.
    let state = core::inspect(&root, here, args.force)?;
    let requested = match requested {
        Some(r) => Some(r),
        None if state.is_project && !state.configured_agents.is_empty() => None,
        None if interactive(args) => Some(prompt_agents()?),
        None => {
            return Err(Error::user(format!(
                "--ai is required when init cannot prompt (non-interactive mode or no terminal); valid agents are: {}",
                agents::valid_keys()
            ))
            .with_hint("e.g. spec-kitty init demo --ai codex --non-interactive"))
        }
    };
    let report = core::init(&InitOptions {
        root: root.clone(),
        here,
        agents: requested,
        force: args.force,
    })?;
    let selected: Vec<&'static Agent> = report
        .agents
        .iter()
        .filter_map(|k| agents::find(k))
        .collect();
    let steps = next_steps(here, args.project_name.as_deref(), &selected);
    ctx.render(&Initialized {
        root,
        here,
        report,
        selected,
        steps,
    })
}

/// What `init` did, with the agents it set up and the next steps.
struct Initialized {
    root: PathBuf,
    here: bool,
    report: Report,
    selected: Vec<&'static Agent>,
    steps: Vec<String>,
}

impl Render for Initialized {
    fn warnings(&self) -> Vec<String> {
        self.report.warnings.clone()
    }

    fn json(&self) -> Value {
        let mut v = serde_json::to_value(&self.report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("result".into(), json!("success"));
            o.insert("here".into(), json!(self.here));
            o.insert("next_steps".into(), json!(self.steps));
            o.insert("spec_kitty_version".into(), json!(crate::VERSION));
        }
        v
    }

    fn human(&self, ctx: &Ctx) {
        render_human(ctx, &self.root, &self.report, &self.selected, &self.steps);
    }
}

fn interactive(args: &InitArgs) -> bool {
    if args.non_interactive {
        return false;
    }
    !crate::env::non_interactive() && std::io::stdin().is_terminal()
}

/// Ask on the terminal (prompt on stderr so stdout stays clean).
fn prompt_agents() -> Result<Vec<&'static Agent>> {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "Which AI agents will work in this project?");
    for (i, a) in AGENTS.iter().enumerate() {
        let _ = writeln!(err, "  {:>2}. {:<12} {}", i + 1, a.key, a.display);
    }
    let _ = write!(err, "Agents (numbers or names, comma-separated): ");
    let _ = err.flush();
    drop(err);
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::user(format!("cannot read the answer: {e}")))?;
    parse_answer(&line)
}

/// An answer to the agent prompt: numbers from the list or agent keys.
fn parse_answer(line: &str) -> Result<Vec<&'static Agent>> {
    let keys: Vec<String> = line
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<usize>() {
            Ok(n) if (1..=AGENTS.len()).contains(&n) => AGENTS[n - 1].key.to_string(),
            _ => s.to_string(),
        })
        .collect();
    if keys.is_empty() {
        return Err(Error::user(format!(
            "no agent selected; valid agents are: {}",
            agents::valid_keys()
        ))
        .with_hint("run again and pick at least one, or pass --ai"));
    }
    Ok(agents::parse_list(&keys.join(","))?)
}

/// The "Next steps" lines (also in `--json`).
fn next_steps(here: bool, name: Option<&str>, selected: &[&'static Agent]) -> Vec<String> {
    let keys: Vec<&str> = selected.iter().map(|a| a.key).collect();
    let dirs: Vec<String> = selected
        .iter()
        .map(|a| format!("{}/", a.command_dir))
        .collect();
    let mut s = Vec::new();
    match (here, name) {
        (false, Some(n)) => s.push(format!("1. Go to the project folder: cd {n}")),
        _ => s.push("1. You are already in the project folder.".to_string()),
    }
    s.push(format!(
        "2. Start your agent there; its slash commands are in {}:",
        dirs.join(", ")
    ));
    // The names exactly as the selected agents' files are named (Codex: `_`).
    for c in &commands::COMMANDS {
        let mut names: Vec<(String, Vec<&str>)> = Vec::new();
        for a in selected {
            let n = commands::invocation(a, c.name);
            match names.iter_mut().find(|(m, _)| *m == n) {
                Some((_, who)) => who.push(a.display),
                None => names.push((n, vec![a.display])),
            }
        }
        let shown = names
            .first()
            .map_or_else(|| format!("/spec-kitty.{}", c.name), |(n, _)| n.clone());
        let others: Vec<String> = names
            .iter()
            .skip(1)
            .map(|(m, who)| format!("{}: {m}", who.join(", ")))
            .collect();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" ({})", others.join("; "))
        };
        s.push(format!("     {shown:<26} {}{others}", c.description));
    }
    if selected.iter().any(|a| a.key == "codex") {
        // Codex reads custom prompts from $CODEX_HOME/prompts only; nothing
        // is written under $HOME unasked, so say how to point it here.
        s.push(
            "   Codex reads its prompts from $CODEX_HOME/prompts only (default ~/.codex/prompts). Point it at this project's:"
                .into(),
        );
        s.push("     CODEX_HOME=\"$PWD/.codex\" codex        (from the project folder; .codex/ is git-ignored, so Codex's own login and config kept there stay local)".into());
        s.push("   or link them into your own: mkdir -p ~/.codex/prompts && ln -s \"$PWD\"/.codex/prompts/spec-kitty.*.md ~/.codex/prompts/".into());
    }
    s.push(
        "3. Describe the feature with /spec-kitty.specify; it creates the mission (its <slug>)."
            .into(),
    );
    s.push("4. Run the mission loop (the canonical workflow):".into());
    s.push("     spec-kitty next --agent <agent> --mission <slug>".into());
    s.push(format!("   where <agent> is {}.", keys.join(" or ")));
    s.push("   For each work package the agent calls:".into());
    s.push("     spec-kitty agent action implement <WP> --agent <agent>   (implement it)".into());
    s.push("     spec-kitty agent action review <WP> --agent <agent>      (review it)".into());
    s.push("   Check progress with: spec-kitty agent tasks status --mission <slug>".into());
    s.push(
        "5. Or let an MCP host call spec-kitty as tools: `spec-kitty mcp --help` shows how to register it."
            .into(),
    );
    s
}

fn render_human(
    ctx: &Ctx,
    root: &std::path::Path,
    report: &Report,
    selected: &[&'static Agent],
    steps: &[String],
) {
    let shown: PathBuf = root.to_path_buf();
    if report.already_initialized {
        ctx.say(format!(
            "{} {} is already a spec-kitty project; refreshed what spec-kitty manages.",
            ctx.paint("Already initialized:", style::WARNING),
            shown.display()
        ));
    } else {
        ctx.say(format!(
            "{} {}",
            ctx.paint("Initialized spec-kitty project in", style::SUCCESS),
            shown.display()
        ));
    }
    let names: Vec<String> = selected
        .iter()
        .map(|a| format!("{} ({})", a.display, a.key))
        .collect();
    ctx.say(format!("Agents: {}", names.join(", ")));
    if !report.agents_added.is_empty() && report.already_initialized {
        ctx.say(format!("Added agents: {}", report.agents_added.join(", ")));
    }
    ctx.say(format!(
        "Slash commands: {} written, {} already up to date",
        report.files_written.len(),
        report.files_unchanged.len()
    ));
    if !report.files_removed.is_empty() {
        ctx.say(format!(
            "Removed {} slash commands this version no longer ships",
            report.files_removed.len()
        ));
    }
    if !report.files_skipped_user_modified.is_empty() {
        ctx.say(format!(
            "{} these files were changed by you, so they were left alone:",
            ctx.paint("Kept:", style::WARNING)
        ));
        for f in &report.files_skipped_user_modified {
            ctx.say(format!("  - {f}"));
        }
        ctx.say("  (delete one and run `spec-kitty init .` again to get the current version)");
    }
    if report.config_written {
        ctx.say("Saved agent configuration in .kittify/config.yaml");
    }
    if !report.gitignore_added.is_empty() {
        ctx.say(format!(
            "Updated .gitignore with {} entries (agent folders, .worktrees/, local state)",
            report.gitignore_added.len()
        ));
    }
    if report.gitattributes_updated {
        ctx.say("Updated .gitattributes so status logs, status.json and work package files merge with spec-kitty's merge drivers");
    }
    if !report.drivers_registered.is_empty() {
        ctx.say(format!(
            "Registered the git merge drivers {} in .git/config (each clone registers them once)",
            report.drivers_registered.join(", ")
        ));
    }
    ctx.say("spec-kitty ran no git commands: no repository was created and nothing was committed.");
    ctx.say("");
    ctx.say(ctx.bold("Next steps"));
    for line in steps {
        ctx.say(format!("  {line}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_answers_take_numbers_and_names() {
        let keys = |l: &str| {
            parse_answer(l)
                .unwrap()
                .iter()
                .map(|a| a.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("7"), ["codex"]);
        assert_eq!(keys("2, gemini 7"), ["claude", "gemini", "codex"]);
        assert!(parse_answer("  \n").is_err());
        assert!(parse_answer("99").unwrap_err().message.contains("99"));
    }

    #[test]
    fn next_steps_never_teach_top_level_implement() {
        let codex = agents::find("codex").unwrap();
        let text = next_steps(false, Some("demo"), &[codex]).join("\n");
        assert!(text.contains("spec-kitty next --agent <agent> --mission <slug>"));
        assert!(text.contains("spec-kitty agent action implement"));
        assert!(text.contains("spec-kitty agent action review"));
        assert!(!text.contains("spec-kitty implement"));
        assert!(!AFTER_HELP.contains("spec-kitty implement"));
        // Codex is told how to find the project's prompts; others are not.
        assert!(text.contains("CODEX_HOME=\"$PWD/.codex\" codex"), "{text}");
        let claude = agents::find("claude").unwrap();
        let text = next_steps(false, Some("demo"), &[claude]).join("\n");
        assert!(!text.contains("CODEX_HOME"), "{text}");
    }
}
