//! Slash commands the Python reference installed globally (in `$HOME`, e.g.
//! `~/.claude/commands/spec-kitty.plan.md`). They keep calling spec-kitty with the
//! reference's flags, so `upgrade` reports them; they are removed only when asked.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::InitError;
use crate::init::agents::AGENTS;

/// One agent folder in `$HOME` holding reference prompts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaleFolder {
    pub agent: &'static str,
    pub folder: PathBuf,
    pub files: Vec<PathBuf>,
}

/// Is `path` a slash command the reference generated: `spec-kitty.<name>.<ext>`,
/// a regular file (never a link), with its version marker near the top?
fn is_reference_prompt(path: &Path, ext: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if !name.starts_with("spec-kitty.") || !name.ends_with(ext) {
        return false;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => {}
        _ => return false,
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    String::from_utf8_lossy(&head[..n]).contains("spec-kitty-command-version:")
}

/// The reference's prompts under `home`, one entry per agent folder that has any.
/// `project_root` is skipped: a project's own commands are not global ones.
pub fn find(home: &Path, project_root: &Path) -> Vec<StaleFolder> {
    let mut out = Vec::new();
    if home == project_root {
        return out;
    }
    for a in AGENTS.iter() {
        let folder = home.join(a.command_dir);
        let Ok(rd) = std::fs::read_dir(&folder) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| is_reference_prompt(p, a.ext))
            .collect();
        if files.is_empty() {
            continue;
        }
        files.sort();
        out.push(StaleFolder {
            agent: a.key,
            folder,
            files,
        });
    }
    out
}

/// Delete the files `find` reported, each checked again just before (still a
/// regular file with the marker). Returns how many were removed.
pub fn remove(folders: &[StaleFolder]) -> Result<usize, InitError> {
    let mut n = 0;
    for f in folders {
        let ext = AGENTS
            .iter()
            .find(|a| a.key == f.agent)
            .map(|a| a.ext)
            .unwrap_or(".md");
        for p in &f.files {
            if p.parent() == Some(f.folder.as_path()) && is_reference_prompt(p, ext) {
                std::fs::remove_file(p).map_err(|e| InitError::io("remove", p, e))?;
                n += 1;
            }
        }
    }
    Ok(n)
}
