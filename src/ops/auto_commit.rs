//! Around a command that writes mission state: with `auto_commit: true` in
//! `.kittify/config.yaml` (or the command's `--auto-commit`), commit exactly
//! the files the command changed under `kitty-specs/<mission>/`, one commit
//! per mission, on the current branch; and register the git merge drivers in
//! a clone that lacks them. A surface calls [`begin`] before the command and
//! [`Session::finish`] after it succeeded, and renders the [`Finished`]
//! outcome (`merge::autocommit` does the commit itself).

use std::path::Path;

use crate::merge::autocommit::{self, AutoCommit, Changes};
use crate::project::Project;
use crate::status::drivers;

/// What a surface says of the command it wraps.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// How the commit message names the command (`agent action implement`).
    pub name: String,
    /// The work package it acts on (`WP01`), named in the commit message.
    pub wp: Option<String>,
    /// It commits by itself (merge, record): nothing is committed after it.
    pub commits_itself: bool,
    /// `--auto-commit` (true) / `--no-auto-commit` (false), over the config.
    pub flag: Option<bool>,
}

/// An auto_commit open around one command.
pub struct Session {
    project: Project,
    command: Command,
    /// The record of what the command writes, when it will be committed.
    changes: Option<Changes>,
    /// The main checkout's repository, shared by the command and its commit
    /// (opened once), while it will be committed.
    _sharing: Option<crate::git::Sharing>,
}

/// Start recording what the command writes, when it will be committed. Reads
/// `.kittify/config.yaml` whether or not: a corrupt one stops every writer
/// here, the same way, before it writes anything.
pub fn begin(project: &Project, command: Command) -> Result<Session, crate::Error> {
    let configured = crate::config::auto_commit_enabled(&project.root)?;
    let changes =
        (project.is_git() && !command.commits_itself && command.flag.unwrap_or(configured))
            .then(Changes::start);
    let _sharing = changes
        .is_some()
        .then(|| crate::git::Repo::share(&project.root));
    Ok(Session {
        project: project.clone(),
        command,
        changes,
        _sharing,
    })
}

/// The merge drivers registered by [`Session::finish`].
#[derive(Debug)]
pub enum Drivers {
    /// Registered now (their names).
    Registered(Vec<&'static str>),
    /// Missing, and registering them failed.
    Failed(crate::Error),
}

/// What was done for one mission's files.
#[derive(Debug)]
pub struct MissionCommit {
    /// The mission directory's name.
    pub slug: String,
    /// The commit, or why it did not happen (the error names the mission).
    pub result: Result<AutoCommit, crate::Error>,
}

/// What [`Session::finish`] did.
#[derive(Debug)]
pub struct Finished {
    /// None when the clone had every driver.
    pub drivers: Option<Drivers>,
    /// One entry per mission the command wrote, when it was to be committed.
    pub missions: Vec<MissionCommit>,
}

impl Finished {
    /// The first mission whose commit should have happened and did not.
    pub fn first_failure(self) -> Option<crate::Error> {
        self.missions.into_iter().find_map(|m| m.result.err())
    }
}

impl Session {
    /// After the command succeeded: register missing merge drivers, then
    /// commit each mission's written files (every mission is tried).
    pub fn finish(mut self) -> Finished {
        let drivers = self.project.git_common_dir.as_ref().and_then(|common| {
            let exe = crate::env::current_exe();
            if drivers::missing(common, exe.as_deref()).is_empty() {
                return None;
            }
            match drivers::ensure_registered(common, exe.as_deref()) {
                Ok(names) if !names.is_empty() => Some(Drivers::Registered(names)),
                Ok(_) => None,
                Err(e) => Some(Drivers::Failed(crate::Error::from(e))),
            }
        });
        let Some(changes) = self.changes.take() else {
            return Finished {
                drivers,
                missions: Vec::new(),
            };
        };
        let mut missions = Vec::new();
        let mut repo = None;
        for (dir, files) in changes.finish(&self.project) {
            let slug = slug_of(&dir);
            let message = self.message(&slug);
            let result = autocommit::repo_in(&mut repo, &self.project)
                .and_then(|r| autocommit::commit_mission(r, &self.project, &dir, &files, &message))
                .map_err(|e| {
                    let mut e = crate::Error::from(e);
                    e.message = format!("auto_commit: nothing committed for {slug}: {}", e.message);
                    if let Some(h) = &mut e.hint {
                        *h = h.replace("<slug>", &slug);
                    }
                    e
                });
            missions.push(MissionCommit { slug, result });
        }
        Finished { drivers, missions }
    }

    /// The commit message of one mission's files.
    fn message(&self, slug: &str) -> String {
        let wp = self
            .command
            .wp
            .as_deref()
            .map(|w| format!(" {w}"))
            .unwrap_or_default();
        let why = if self.command.flag.is_some() {
            "--auto-commit"
        } else {
            "auto_commit: true in .kittify/config.yaml"
        };
        format!(
            "spec-kitty {}{wp} ({slug})\n\nCommitted by {why}.\n",
            self.command.name
        )
    }
}

fn slug_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
