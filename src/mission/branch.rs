//! The branch contract of a planning step: the branch checked out now, the branch
//! the mission plans on and merges into, and whether they agree.

use crate::mission::Mission;
use crate::project::Project;

/// Where the target branch came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetSource {
    /// `--target-branch` on the command line.
    Explicit,
    /// The mission's meta.json `target_branch`.
    Meta,
    /// No mission yet and no flag: the branch checked out now.
    CurrentBranch,
}

impl TargetSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetSource::Explicit => "explicit",
            TargetSource::Meta => "meta.json",
            TargetSource::CurrentBranch => "current_branch",
        }
    }
}

/// The branch contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchContext {
    /// None when HEAD is detached or the project is not a git repository.
    pub current_branch: Option<String>,
    /// The branch the mission is planned on and merges into.
    pub target_branch: String,
    pub source: TargetSource,
}

impl BranchContext {
    /// The contract before a mission exists: `target` if given, else the current
    /// branch (`main` when there is none, as `create` does outside git).
    pub fn for_project(project: &Project, target: Option<&str>) -> BranchContext {
        let current_branch = project.current_branch();
        let (target_branch, source) = match (target, &current_branch) {
            (Some(t), _) => (t.to_string(), TargetSource::Explicit),
            (None, Some(c)) => (c.clone(), TargetSource::CurrentBranch),
            (None, None) => ("main".to_string(), TargetSource::CurrentBranch),
        };
        BranchContext {
            current_branch,
            target_branch,
            source,
        }
    }

    /// The contract of an existing mission: its meta.json `target_branch`.
    pub fn for_mission(project: &Project, mission: &Mission) -> BranchContext {
        match mission.target_branch() {
            Some(t) => BranchContext {
                current_branch: project.current_branch(),
                target_branch: t.to_string(),
                source: TargetSource::Meta,
            },
            None => BranchContext::for_project(project, None),
        }
    }

    /// Is the branch checked out now the target branch?
    pub fn matches_target(&self) -> bool {
        self.current_branch.as_deref() == Some(self.target_branch.as_str())
    }

    /// One sentence naming the branches, for an agent to repeat to its user.
    pub fn summary(&self) -> String {
        let current = self.current_branch.as_deref().unwrap_or("(detached HEAD)");
        format!(
            "Checked out now: {current}. This mission is planned on {t} and its finished work merges into {t}.",
            t = self.target_branch
        )
    }
}
