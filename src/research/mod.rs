//! Phase 0 research scaffold: research.md, data-model.md and the evidence and
//! source registers under `research/`, once plan.md has been filled in.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::mission::Mission;
use crate::templates;

/// The files of the scaffold, by path in the mission directory.
pub const FILES: &[&str] = &[
    "research.md",
    "data-model.md",
    "research/evidence-log.csv",
    "research/source-register.csv",
];

/// What `scaffold` did with each file.
#[derive(Debug, Clone)]
pub struct Scaffolded {
    pub created: Vec<PathBuf>,
    pub overwritten: Vec<PathBuf>,
    pub kept: Vec<PathBuf>,
}

/// Write the scaffold's missing files (all of them with `force`). Refused while
/// plan.md is missing or still the mission type's template: research answers
/// the plan's questions, so the plan comes first.
pub fn scaffold(mission: &Mission, force: bool) -> Result<Scaffolded> {
    let plan = mission.plan_file();
    let text = std::fs::read_to_string(&plan).unwrap_or_default();
    let template = templates::mission_template(mission.mission_type(), "plan").unwrap_or_default();
    if text.trim().is_empty() || text.trim() == template.trim() {
        return Err(Error::user(format!(
            "{} is {}; research starts from a filled-in plan",
            plan.display(),
            if text.trim().is_empty() { "missing or empty" } else { "still the template" }
        ))
        .with_hint(format!(
            "write the plan first (`spec-kitty agent mission setup-plan --mission {}` creates it), then run research again",
            mission.slug
        )));
    }
    let mut out = Scaffolded {
        created: vec![],
        overwritten: vec![],
        kept: vec![],
    };
    let mut writes: Vec<(PathBuf, String)> = Vec::new();
    for name in FILES {
        let path = mission.dir.join(name);
        let exists = path.exists();
        if exists && !force {
            out.kept.push(path);
            continue;
        }
        let body = templates::research_file(name)
            .unwrap_or_default()
            .replace("{mission}", &mission.friendly_name());
        if exists {
            out.overwritten.push(path.clone());
        } else {
            out.created.push(path.clone());
        }
        writes.push((path, body));
    }
    fsutil::create_dir_all(&mission.dir.join("research"))?;
    let files: Vec<(&std::path::Path, &[u8])> = writes
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_bytes()))
        .collect();
    fsutil::atomic_write_all(&files)?;
    Ok(out)
}
