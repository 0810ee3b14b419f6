//! The agents spec-kitty can set up: where each keeps its slash commands and in
//! which file format.

use super::InitError;

/// How an agent reads a slash-command file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown with a small YAML front matter (`description:`).
    Markdown,
    /// TOML with `description` and a multi-line `prompt` (Gemini CLI, Qwen Code).
    Toml,
}

/// One supported agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    /// The key used with `--ai` and `--agent`.
    pub key: &'static str,
    /// Human name.
    pub display: &'static str,
    /// Project-relative directory of the slash commands.
    pub command_dir: &'static str,
    /// File name suffix, dot included (`.md`, `.toml`, `.prompt.md`).
    pub ext: &'static str,
    pub format: Format,
    /// How the agent spells "the arguments the user typed after the command".
    pub args: &'static str,
    /// Codex does not accept `-` in prompt names: `tasks-finalize` becomes `tasks_finalize`.
    pub underscore_names: bool,
}

const fn md(
    key: &'static str,
    display: &'static str,
    command_dir: &'static str,
    ext: &'static str,
) -> Agent {
    Agent {
        key,
        display,
        command_dir,
        ext,
        format: Format::Markdown,
        args: "$ARGUMENTS",
        underscore_names: false,
    }
}

/// Every supported agent, in the reference's order.
pub const AGENTS: [Agent; 13] = [
    md("copilot", "GitHub Copilot", ".github/prompts", ".prompt.md"),
    md("claude", "Claude Code", ".claude/commands", ".md"),
    Agent {
        key: "gemini",
        display: "Gemini CLI",
        command_dir: ".gemini/commands",
        ext: ".toml",
        format: Format::Toml,
        args: "{{args}}",
        underscore_names: false,
    },
    md("cursor", "Cursor", ".cursor/commands", ".md"),
    Agent {
        key: "qwen",
        display: "Qwen Code",
        command_dir: ".qwen/commands",
        ext: ".toml",
        format: Format::Toml,
        args: "{{args}}",
        underscore_names: false,
    },
    md("opencode", "opencode", ".opencode/command", ".md"),
    Agent {
        key: "codex",
        display: "Codex CLI",
        command_dir: ".codex/prompts",
        ext: ".md",
        format: Format::Markdown,
        args: "$ARGUMENTS",
        underscore_names: true,
    },
    md("windsurf", "Windsurf", ".windsurf/workflows", ".md"),
    md("kilocode", "Kilo Code", ".kilocode/workflows", ".md"),
    md("auggie", "Auggie CLI", ".augment/commands", ".md"),
    md("roo", "Roo Code", ".roo/commands", ".md"),
    md("q", "Amazon Q Developer CLI", ".amazonq/prompts", ".md"),
    md(
        "antigravity",
        "Google Antigravity",
        ".agent/workflows",
        ".md",
    ),
];

/// `copilot, claude, gemini, ...` for error messages and help.
pub fn valid_keys() -> String {
    AGENTS.iter().map(|a| a.key).collect::<Vec<_>>().join(", ")
}

/// The agent with this key (case-insensitive).
pub fn find(key: &str) -> Option<&'static Agent> {
    let key = key.trim().to_ascii_lowercase();
    AGENTS.iter().find(|a| a.key == key)
}

/// Parse `--ai codex,claude` (commas or semicolons, any case, duplicates dropped,
/// order kept). Unknown keys are one error listing all of them and the valid keys.
pub fn parse_list(list: &str) -> Result<Vec<&'static Agent>, InitError> {
    let mut out: Vec<&'static Agent> = Vec::new();
    let mut unknown = Vec::new();
    for part in list.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        match find(part) {
            Some(a) => {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            None => unknown.push(part.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(InitError::UnknownAgents { keys: unknown });
    }
    if out.is_empty() {
        return Err(InitError::NoAgentNamed);
    }
    Ok(out)
}

/// The top-level directories of every agent (for `.gitignore`): `.claude/`, ...
/// Copilot's prompts live in `.github/`, which holds more than agent state, so only
/// `.github/copilot/` is listed.
pub const GITIGNORE_DIRS: [&str; 13] = [
    ".claude/",
    ".codex/",
    ".opencode/",
    ".windsurf/",
    ".gemini/",
    ".cursor/",
    ".qwen/",
    ".kilocode/",
    ".augment/",
    ".roo/",
    ".amazonq/",
    ".agent/",
    ".github/copilot/",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_list_dedups_and_keeps_order() {
        let a = parse_list(" Codex;claude,codex ").unwrap();
        assert_eq!(
            a.iter().map(|a| a.key).collect::<Vec<_>>(),
            ["codex", "claude"]
        );
        let e = parse_list("codex,vim,emacs").unwrap_err();
        assert!(
            matches!(&e, InitError::UnknownAgents { keys } if keys == &["vim", "emacs"]),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert!(
            e.message
                .starts_with("unknown agents vim, emacs; valid agents are: "),
            "{}",
            e.message
        );
        assert!(e.message.contains("antigravity"));
        assert!(matches!(parse_list(" , "), Err(InitError::NoAgentNamed)));
    }

    #[test]
    fn every_agent_has_a_distinct_directory() {
        let mut dirs: Vec<_> = AGENTS.iter().map(|a| a.command_dir).collect();
        dirs.sort();
        dirs.dedup();
        assert_eq!(dirs.len(), AGENTS.len());
    }
}
