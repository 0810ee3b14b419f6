//! The slash commands written for each agent, rendered by plain placeholder
//! substitution (`{{AGENT}}`, `{{ARGS}}`) from templates compiled into the binary.

use super::agents::{Agent, Format};

/// One slash command: `/spec-kitty.<name>`.
#[derive(Debug, Clone, Copy)]
pub struct SlashCommand {
    pub name: &'static str,
    pub description: &'static str,
}

/// The commands every agent gets, in workflow order.
pub const COMMANDS: [SlashCommand; 16] = [
    SlashCommand {
        name: "specify",
        description: "Interview the user, create a mission and write its specification",
    },
    SlashCommand {
        name: "clarify",
        description: "Ask the questions that resolve what a mission's spec leaves open",
    },
    SlashCommand {
        name: "plan",
        description: "Write the technical plan for a mission",
    },
    SlashCommand {
        name: "research",
        description: "Answer a mission's open technical questions in research.md",
    },
    SlashCommand {
        name: "charter",
        description: "Write or update the project charter every mission follows",
    },
    SlashCommand {
        name: "tasks",
        description: "Split a planned mission into work packages and finalize them",
    },
    SlashCommand {
        name: "tasks-finalize",
        description: "Validate work packages and compute their dependencies and lanes",
    },
    SlashCommand {
        name: "implement",
        description: "Implement one work package in the workspace spec-kitty prepares",
    },
    SlashCommand {
        name: "review",
        description: "Review one work package against a checklist and record the verdict",
    },
    SlashCommand {
        name: "analyze",
        description: "Check that spec, plan and work packages agree (read-only report)",
    },
    SlashCommand {
        name: "checklist",
        description: "Write a checklist that tests the quality of a mission's requirements",
    },
    SlashCommand {
        name: "accept",
        description: "Check that every work package of a mission is done",
    },
    SlashCommand {
        name: "merge",
        description: "Merge a finished mission into its target branch",
    },
    SlashCommand {
        name: "status",
        description: "Show the kanban board of a mission's work packages",
    },
    SlashCommand {
        name: "dashboard",
        description: "Open the live kanban of every mission in the browser",
    },
    SlashCommand {
        name: "next",
        description: "Run the mission loop: ask spec-kitty for the next step and do it",
    },
];

/// The first line of every generated command (after any front matter).
pub fn version_marker() -> String {
    format!("<!-- spec-kitty-command-version: {} -->", crate::VERSION)
}

/// `spec-kitty.<name>` as this agent names it; Codex gets `_` for `-`.
pub fn stem(agent: &Agent, name: &str) -> String {
    if agent.underscore_names {
        format!("spec-kitty.{}", name.replace('-', "_"))
    } else {
        format!("spec-kitty.{name}")
    }
}

/// How the user invokes a command in this agent: `/spec-kitty.tasks-finalize`
/// (`/spec-kitty.tasks_finalize` for Codex).
pub fn invocation(agent: &Agent, name: &str) -> String {
    format!("/{}", stem(agent, name))
}

/// `spec-kitty.<name><ext>`; Codex gets `_` for `-`.
pub fn file_name(agent: &Agent, cmd: &SlashCommand) -> String {
    format!("{}{}", stem(agent, cmd.name), agent.ext)
}

/// Replace `{{CMD:<name>}}` with the agent's invocation of that command.
#[allow(clippy::string_slice)] // indices come from find() of ASCII markers (`{{CMD:`, `}}`) and their ASCII lengths: char boundaries
fn expand_cmds(agent: &Agent, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{CMD:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "{{CMD:".len()..];
        match after.find("}}") {
            Some(j) if COMMANDS.iter().any(|c| c.name == &after[..j]) => {
                out.push_str(&invocation(agent, &after[..j]));
                rest = &after[j + 2..];
            }
            _ => {
                out.push_str("{{CMD:");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Project-relative path of one command file, with `/` separators.
pub fn rel_path(agent: &Agent, cmd: &SlashCommand) -> String {
    format!("{}/{}", agent.command_dir, file_name(agent, cmd))
}

/// The full text of one command file for one agent.
pub fn render(agent: &Agent, cmd: &SlashCommand) -> String {
    let template = crate::templates::agent_command(cmd.name).unwrap_or("");
    let template = crate::templates::expand_formats(template);
    let mut body = expand_cmds(agent, &template)
        .replace("\r\n", "\n")
        .replace("{{AGENT}}", agent.key)
        .replace("{{ARGS}}", agent.args);
    if !body.ends_with('\n') {
        body.push('\n');
    }
    let marker = version_marker();
    match agent.format {
        Format::Markdown => format!(
            "---\ndescription: {}\n---\n{marker}\n{body}",
            yaml_scalar(cmd.description)
        ),
        Format::Toml => format!(
            "description = {}\n\nprompt = \"\"\"\n{marker}\n{}\"\"\"\n",
            toml_basic(cmd.description),
            toml_multiline_body(&body)
        ),
    }
}

/// A YAML plain scalar when safe, else a single-quoted one.
fn yaml_scalar(s: &str) -> String {
    let plain_ok = !s.is_empty()
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.starts_with(|c: char| "!&*-?[]{}|>'\"%@`#,".contains(c));
    if plain_ok {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// A TOML basic string (`"..."`).
fn toml_basic(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escape text for the inside of a TOML multi-line basic string (`"""..."""`).
fn toml_multiline_body(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quotes = 0;
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            // Never let three quotes in a row close the string early.
            '"' if quotes == 2 => {
                out.push_str("\\\"");
                quotes = 0;
                continue;
            }
            '"' => out.push('"'),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
        quotes = if c == '"' { quotes + 1 } else { 0 };
    }
    // A quote just before the closing `"""` would also close it early.
    if out.ends_with('"') {
        out.pop();
        out.push_str("\\\"");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::agents::{find, AGENTS};

    #[test]
    fn every_command_has_a_template() {
        for c in COMMANDS {
            assert!(
                crate::templates::agent_command(c.name).is_some(),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn toml_output_parses_and_keeps_the_body() {
        let gemini = find("gemini").unwrap();
        for c in COMMANDS {
            let text = render(gemini, &c);
            let v: toml::Value = toml::from_str(&text).unwrap();
            let prompt = v["prompt"].as_str().unwrap();
            assert!(prompt.starts_with("<!-- spec-kitty-command-version:"));
            assert!(prompt.contains("{{args}}"));
            assert!(!prompt.contains("$ARGUMENTS"));
            assert_eq!(v["description"].as_str().unwrap(), c.description);
        }
        let tricky = "a \\ b \"\"\" c \"";
        let text = format!("p = \"\"\"\n{}\"\"\"\n", toml_multiline_body(tricky));
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["p"].as_str().unwrap(), tricky);
    }

    #[test]
    fn no_command_teaches_top_level_implement() {
        for a in AGENTS {
            for c in COMMANDS {
                let text = render(&a, &c);
                assert!(!text.contains("spec-kitty implement"), "{}", c.name);
                assert!(!text.contains("{{AGENT}}") && !text.contains("{{ARGS}}"));
            }
        }
    }

    fn cmd(name: &str) -> SlashCommand {
        *COMMANDS.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn every_placeholder_is_known() {
        for c in COMMANDS {
            let t = crate::templates::agent_command(c.name).unwrap();
            for a in AGENTS {
                let text = render(&a, &c);
                assert!(
                    !text.contains("{{CMD:") && !text.contains("{{FORMAT:"),
                    "{}: {}",
                    c.name,
                    t
                );
            }
        }
    }

    #[test]
    fn codex_names_use_underscores() {
        let codex = find("codex").unwrap();
        assert_eq!(
            rel_path(codex, &cmd("tasks-finalize")),
            ".codex/prompts/spec-kitty.tasks_finalize.md"
        );
        let copilot = find("copilot").unwrap();
        assert_eq!(
            rel_path(copilot, &cmd("specify")),
            ".github/prompts/spec-kitty.specify.prompt.md"
        );
    }
}
