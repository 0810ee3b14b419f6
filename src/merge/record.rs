//! Committing a mission's own files, and nothing else: `agent mission
//! record`. The commit itself is the git layer's ([`crate::git::commit`]): the
//! branch tip's tree with exactly the chosen paths taken from the working
//! tree; other staged changes refuse the commit rather than ride along.

use crate::git::commit::dir_prefix;

use super::error::MergeError;
type Result<T, E = MergeError> = std::result::Result<T, E>;

/// What [`record_mission`] committed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recorded {
    pub mission_slug: String,
    pub branch: String,
    /// None when the mission's files already matched the branch.
    pub commit: Option<String>,
    pub files: Vec<String>,
}

/// Commit the mission's own files (everything under `kitty-specs/<slug>/`
/// that differs from the current branch), and without `only` also the
/// project's `.kittify/` and `.gitattributes`, on the main checkout's current
/// branch. `only`: just these paths (auto_commit: the files a command wrote).
/// Refuses, committing nothing, when other files are staged.
pub fn record_mission(
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    only: Option<&[String]>,
    message: &str,
) -> Result<Recorded> {
    record_mission_in(&super::open_repo(project)?, project, mission, only, message)
}

/// [`record_mission`] in the main checkout's repository `repo`, which the
/// caller opened (a team sync records, then fetches and merges, with one).
pub fn record_mission_in(
    repo: &crate::git::Repo,
    project: &crate::project::Project,
    mission: &crate::mission::Mission,
    only: Option<&[String]>,
    message: &str,
) -> Result<Recorded> {
    // One spec-kitty commit at a time ([`crate::git::Repo::lock_commits`]).
    let _commits = repo.lock_commits()?;
    // A commit a kill cut short may have left the index behind its branch.
    repo.recover_killed_commits()?;
    let branch = repo.current_branch()?;
    let prefix = dir_prefix(&project.root, &mission.dir)?;
    let head = Some(repo.head_commit_required()?);
    let mut files = repo.changed_under(head, &prefix)?;
    match only {
        Some(only) => files.retain(|f| only.contains(f)),
        // The project files a fresh clone needs too: `.kittify/` (its
        // ignored runtime files left out) and `.gitattributes` (the merge
        // drivers' lines).
        None => {
            files.extend(repo.changed_under(head, ".kittify/")?);
            if repo.file_changed(head, ".gitattributes")? {
                files.push(".gitattributes".into());
            }
        }
    }
    let others = repo.staged_elsewhere(&files)?;
    if !others.is_empty() {
        return Err(MergeError::StagedElsewhere {
            slug: mission.slug.clone(),
            others,
        });
    }
    let commit = if files.is_empty() {
        None
    } else {
        repo.commit_paths(&branch, &files, message, true)?
    };
    Ok(Recorded {
        mission_slug: mission.slug.clone(),
        branch,
        commit: commit.map(|c| c.to_string()),
        files,
    })
}
