//! Around every command that writes mission state: register the git merge
//! drivers in a clone that lacks them (said once, on stderr), and, with
//! `auto_commit: true` in `.kittify/config.yaml`, commit exactly the files the
//! command changed under `kitty-specs/<mission>/` on the current branch
//! (the operation `ops::auto_commit` does the work; this file only knows
//! which commands write state and says what happened).

use crate::cli::Ctx;
use crate::merge::autocommit::AutoCommit;
use crate::ops::auto_commit::{self, Drivers};

/// What the hook needs to know of a command that writes mission state. Which
/// commands write state is a property of the parsed command:
/// [`crate::cli::Command::writes`] asks each command type, exhaustively, so a
/// new command states whether it writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    /// It commits by itself (merge, record): auto_commit leaves it alone.
    pub commits_itself: bool,
    /// The work package it acts on (`WP01`), named in the auto-commit message.
    pub wp: Option<String>,
    /// `--auto-commit` / `--no-auto-commit`, for the commands that take them.
    pub flag: Option<bool>,
}

impl Writes {
    /// A command that writes mission state and leaves committing to auto_commit.
    pub fn state() -> Option<Writes> {
        Some(Writes::default())
    }

    /// A command that writes mission state and commits it by itself.
    pub fn committer() -> Option<Writes> {
        Some(Writes {
            commits_itself: true,
            ..Writes::default()
        })
    }

    /// A state writer acting on work package `wp` (named in the commit message
    /// when it is a work package id, `WP` and digits in any case).
    pub fn on_wp(wp: Option<&str>, flag: Option<&AutoCommitFlag>) -> Option<Writes> {
        let wp = wp
            .filter(|a| {
                a.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("WP"))
                    && a.len() > 2
                    && a.bytes().skip(2).all(|b| b.is_ascii_digit())
            })
            .map(str::to_ascii_uppercase);
        Some(Writes {
            commits_itself: false,
            wp,
            flag: flag.and_then(AutoCommitFlag::choice),
        })
    }

    /// A state writer taking `--auto-commit/--no-auto-commit`.
    pub fn with_flag(flag: &AutoCommitFlag) -> Option<Writes> {
        Writes::on_wp(None, Some(flag))
    }
}

// `--auto-commit/--no-auto-commit` of the state-writing commands that take
// it: the command-line choice over `auto_commit` in `.kittify/config.yaml`.
// The command's `Writes` carries it to the hook. (Not a doc comment: clap
// would show it as the `about` of a command that flattens this struct.)
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct AutoCommitFlag {
    /// Commit the mission files this command changes (overrides auto_commit in .kittify/config.yaml)
    #[arg(long, overrides_with = "no_auto_commit")]
    pub auto_commit: bool,
    /// Commit nothing, whatever auto_commit in .kittify/config.yaml says
    #[arg(long, overrides_with = "auto_commit")]
    pub no_auto_commit: bool,
}

impl AutoCommitFlag {
    /// The command-line choice, if one was made.
    pub fn choice(&self) -> Option<bool> {
        if self.auto_commit {
            Some(true)
        } else if self.no_auto_commit {
            Some(false)
        } else {
            None
        }
    }
}

/// What the hook remembers from before the command: the auto_commit
/// operation open around it.
pub struct Before {
    session: auto_commit::Session,
}

/// Called before a command runs; `path` is its subcommand chain, `writes`
/// what the parsed command says of itself (None: it writes no mission state).
/// Every writer reads `.kittify/config.yaml` and `.kittify/metadata.yaml`
/// first, whether or not it will commit: a corrupt file stops it here, the
/// same way for each, before it writes anything.
pub fn before(
    ctx: &Ctx,
    path: Vec<String>,
    writes: Option<Writes>,
) -> Result<Option<Before>, crate::Error> {
    let Some(writes) = writes else {
        return Ok(None);
    };
    let Ok(project) = ctx.project() else {
        // Outside a project: the command says so itself.
        return Ok(None);
    };
    let command = auto_commit::Command {
        name: path.join(" "),
        wp: writes.wp,
        commits_itself: writes.commits_itself,
        flag: writes.flag,
    };
    let session = auto_commit::begin(project, command)?;
    // metadata.yaml has the same policy: a corrupt one stops every writer here.
    // Parsed once: the command's version-skew warning reads this parse.
    ctx.metadata(project)?;
    Ok(Some(Before { session }))
}

/// Called after the command succeeded. An auto_commit that did not commit
/// what it should have is an error (the command's own result stands, the exit
/// status says the commit did not happen); the first such error is returned
/// after every mission was tried.
pub fn after(ctx: &Ctx, b: Before) -> Result<(), crate::Error> {
    let finished = b.session.finish();
    match &finished.drivers {
        Some(Drivers::Registered(names)) => ctx.warn(format!(
            "registered the git merge drivers {} in this clone's .git/config, so status logs, status.json and work package activity logs merge without conflicts (once per clone)",
            names.join(", ")
        )),
        Some(Drivers::Failed(e)) => ctx.warn(format!(
            "could not register the git merge drivers in .git/config: {}",
            e.message
        )),
        None => {}
    }
    for m in &finished.missions {
        let slug = &m.slug;
        match &m.result {
            Ok(AutoCommit::Committed(done)) => ctx.warn(format!(
                "auto_commit: committed {} file(s) of kitty-specs/{slug}/ on {}",
                done.files, done.branch
            )),
            Ok(AutoCommit::Deferred { state }) => ctx.warn(format!(
                "auto_commit: not committing kitty-specs/{slug}/ while a git {state} is in progress; the commit that finishes it takes the files"
            )),
            Ok(AutoCommit::Nothing) | Err(_) => {}
        }
    }
    finished.first_failure().map_or(Ok(()), Err)
}
