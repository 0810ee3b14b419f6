//! `spec-kitty completion SHELL` and the hidden `spec-kitty man`: generated from
//! the clap definition, so they always match the commands this binary has.

use clap::CommandFactory;
use serde_json::{json, Value};

use super::output::Render;
use super::{Cli, Ctx};
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to write a completion script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand path (`agent mission create`) for its own page
    pub command: Vec<String>,
}

/// The completion script for `shell`, as text.
pub fn completion_script(shell: clap_complete::Shell) -> Result<String> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "spec-kitty", &mut buf);
    String::from_utf8(buf).map_err(|e| Error::internal(format!("completion script: {e}")))
}

/// The man page (roff) for `spec-kitty` or one of its subcommands (`path`).
pub fn man_page(path: &[String]) -> Result<String> {
    // Built first, so a subcommand's page carries the global options (--json,
    // --color) that clap propagates to every subcommand.
    let mut cmd = Cli::command();
    cmd.build();
    let mut name = String::from("spec-kitty");
    let mut bin = name.clone();
    for word in path {
        let sub = cmd.find_subcommand(word).cloned().ok_or_else(|| {
            Error::usage(format!("no command `{name} {word}`"))
                .with_hint(format!("see `{name} --help`"))
        })?;
        name = format!("{name}-{word}");
        bin = format!("{bin} {word}");
        cmd = sub;
    }
    let cmd = cmd.name(name).bin_name(bin);
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(format!("spec-kitty {}", crate::VERSION))
        .render(&mut buf)
        .map_err(|e| Error::internal(format!("cannot render the man page: {e}")))?;
    String::from_utf8(buf).map_err(|e| Error::internal(format!("man page: {e}")))
}

pub fn run_completion(ctx: &Ctx, a: &CompletionArgs) -> Result<()> {
    ctx.render(&Generated {
        text: completion_script(a.shell)?,
        key: "script",
        shell: Some(a.shell.to_string()),
    })
}

pub fn run_man(ctx: &Ctx, a: &ManArgs) -> Result<()> {
    ctx.render(&Generated {
        text: man_page(&a.command)?,
        key: "man_page",
        shell: None,
    })
}

/// A generated script or page: written as it is, or as one JSON field.
struct Generated {
    text: String,
    /// Its key in the JSON document.
    key: &'static str,
    /// The shell a completion script is for.
    shell: Option<String>,
}

impl Render for Generated {
    fn json(&self) -> Value {
        let mut doc = serde_json::Map::new();
        if let Some(shell) = &self.shell {
            doc.insert("shell".into(), json!(shell));
        }
        doc.insert(self.key.into(), json!(self.text));
        Value::Object(doc)
    }

    fn human(&self, ctx: &Ctx) {
        ctx.print_raw(&self.text);
    }
}
