//! `agent release validate|prep`: the release gates of the repository a
//! command runs in, and the proposed next release (with the branch it would
//! be cut from).

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::release::{self, Gate, Prep};

/// The release gates of the repository around `cwd`.
#[derive(Debug, Clone)]
pub struct Validated {
    pub version: String,
    /// `Cargo.toml` or `pyproject.toml`.
    pub manifest: String,
    pub gates: Vec<Gate>,
}

impl Validated {
    /// Did every gate pass?
    pub fn ok(&self) -> bool {
        self.gates.iter().all(|g| g.ok)
    }
}

/// Check the release gates of the repository around `cwd`.
pub fn validate(cwd: &Path) -> Result<Validated> {
    let repo = release::open(cwd)?;
    let gates = release::validate(&repo)?;
    Ok(Validated {
        version: repo.version.clone(),
        manifest: repo.manifest_name().to_string(),
        gates,
    })
}

/// The proposed release of the repository at `root`.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub root: PathBuf,
    pub prep: Prep,
    /// The branch checked out in `root`'s project (else `main`).
    pub target_branch: String,
}

/// Draft the next release of the repository at `root` on `channel` (stable,
/// rc, alpha, beta); with `write`, apply it (all or nothing). Writes stay
/// inside `root`.
pub fn prep(root: &Path, channel: &str, write: bool) -> Result<Prepared> {
    crate::fsutil::fix_confinement_root(root);
    let repo = release::open(root)?;
    let prep = release::prep(&repo, channel, write)?;
    let target_branch = crate::project::Project::discover(root)
        .ok()
        .and_then(|pr| pr.current_branch())
        .unwrap_or_else(|| "main".into());
    Ok(Prepared {
        root: root.to_path_buf(),
        prep,
        target_branch,
    })
}
