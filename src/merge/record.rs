//! Committing a mission's own files, and nothing else: `agent mission
//! record`. The commit itself is the git layer's ([`crate::git::commit`]): the
//! branch tip's tree with exactly the chosen paths taken from the working
//! tree; other staged changes refuse the commit rather than ride along.

use crate::git::commit::{
    changed_under, commit_paths, current_branch, dir_prefix, file_changed, staged_elsewhere,
};

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
    let repo = super::open_repo(project)?;
    let _commits = crate::git::commit::lock_commits(&repo)?;
    // A commit a kill cut short may have left the index behind its branch.
    crate::git::reflock::recover_killed_commits(&repo)?;
    let branch = current_branch(&repo)?;
    let prefix = dir_prefix(&project.root, &mission.dir)?;
    let tree = repo.head()?.peel_to_tree()?;
    let mut files = changed_under(&repo, Some(&tree), &prefix)?;
    match only {
        Some(only) => files.retain(|f| only.contains(f)),
        // The project files a fresh clone needs too: `.kittify/` (its
        // ignored runtime files left out) and `.gitattributes` (the merge
        // drivers' lines).
        None => {
            files.extend(changed_under(&repo, Some(&tree), ".kittify/")?);
            if file_changed(&repo, Some(&tree), ".gitattributes")? {
                files.push(".gitattributes".into());
            }
        }
    }
    let others = staged_elsewhere(&repo, &files)?;
    if !others.is_empty() {
        return Err(MergeError::StagedElsewhere {
            slug: mission.slug.clone(),
            others,
        });
    }
    let commit = if files.is_empty() {
        None
    } else {
        commit_paths(&repo, &branch, &files, message, true)?
    };
    Ok(Recorded {
        mission_slug: mission.slug.clone(),
        branch,
        commit: commit.map(|c| c.to_string()),
        files,
    })
}
