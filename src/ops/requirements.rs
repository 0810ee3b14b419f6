//! `map-requirements`: write requirement refs (`FR-001`, `NFR-002`, `C-003`) into
//! WP frontmatter (`requirement_refs`) and report which of the spec's functional
//! requirements no work package covers.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::OpError;
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::mission::{Mission, MissionError};
use crate::project::Project;
use crate::status::ops::find_wp;
use crate::tasks_md::parse::requirement_ids;
use crate::tasks_md::wp;

/// Coverage of the spec's requirements by the WPs' `requirement_refs`.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub functional: Vec<String>,
    pub mapped_functional: Vec<String>,
    pub unmapped_functional: Vec<String>,
    /// Every requirement id of the spec (FR, NFR, C) no WP names.
    pub unmapped_all: Vec<String>,
}

/// What was written, and the coverage after it.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// WP id → its requirement_refs after the write.
    pub refs: BTreeMap<String, Vec<String>>,
    /// WP ids whose file changed.
    pub changed: Vec<String>,
    pub coverage: Coverage,
}

/// Normalise one ref (`fr-1` stays as written but upper-cased; ids are kept in
/// the spec's own spelling), refusing what is not a requirement id.
fn normalise(r: &str) -> Result<String, MissionError> {
    let id = r.trim().to_ascii_uppercase();
    let ok = ["FR-", "NFR-", "C-"].iter().any(|p| {
        id.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    });
    if ok {
        Ok(id)
    } else {
        Err(MissionError::NotARequirement {
            given: r.to_string(),
        })
    }
}

/// Map `batch` (WP id → refs). Every ref must be named in spec.md and every WP
/// must exist; otherwise nothing is written. With `replace` a WP's refs become
/// exactly the given ones, else they are added to what it has.
pub fn map(
    project: &Project,
    mission: &Mission,
    batch: &[(String, Vec<String>)],
    replace: bool,
) -> Result<Mapped, OpError> {
    let spec = std::fs::read_to_string(mission.spec_file()).unwrap_or_default();
    let known = requirement_ids(&spec);
    let _lock = FileLock::acquire(
        &mission.status_lock_path(project),
        LOCK_TIMEOUT,
        "the mission's status",
    )?;
    let mut writes = Vec::new();
    let mut changed = Vec::new();
    for (wp_id, refs) in batch {
        let file = find_wp(mission, wp_id).map_err(OpError::Status)?;
        let mut new: Vec<String> = if replace {
            Vec::new()
        } else {
            file.get_list("requirement_refs")
        };
        for r in refs {
            let id = normalise(r)?;
            if !known.contains(&id) {
                return Err(MissionError::UnknownRequirement {
                    id,
                    mission: mission.slug.clone(),
                    known,
                }
                .into());
            }
            if !new.contains(&id) {
                new.push(id);
            }
        }
        if new != file.get_list("requirement_refs") {
            let v = Value::Sequence(new.iter().map(|s| Value::String(s.clone())).collect());
            let text = file
                .text_with_keys(&[("requirement_refs", v)], &[], "dependencies")
                .map_err(OpError::Tasks)?;
            writes.push((file.path.clone(), text));
            changed.push(file.id.clone());
        }
    }
    let files: Vec<(&std::path::Path, &[u8])> = writes
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    fsutil::atomic_write_all(&files).map_err(MissionError::Fs)?;
    let all = wp::load_all(&mission.tasks_dir()).map_err(OpError::Tasks)?;
    let refs: BTreeMap<String, Vec<String>> = all
        .iter()
        .map(|f| (f.id.clone(), f.get_list("requirement_refs")))
        .collect();
    Ok(Mapped {
        coverage: coverage(&known, &refs),
        refs,
        changed,
    })
}

fn coverage(known: &[String], refs: &BTreeMap<String, Vec<String>>) -> Coverage {
    let named = |id: &String| refs.values().any(|r| r.contains(id));
    let functional: Vec<String> = known
        .iter()
        .filter(|i| i.starts_with("FR-"))
        .cloned()
        .collect();
    Coverage {
        mapped_functional: functional.iter().filter(|i| named(i)).cloned().collect(),
        unmapped_functional: functional.iter().filter(|i| !named(i)).cloned().collect(),
        unmapped_all: known.iter().filter(|i| !named(i)).cloned().collect(),
        functional,
    }
}
