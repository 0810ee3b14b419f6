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

/// The WP id → refs pairs a `map-requirements` call names: one WP with its
/// refs, or a `--batch` JSON object of WP id → list of ref strings.
pub fn batch(
    wp: Option<&str>,
    refs: &[String],
    batch: Option<&str>,
) -> crate::error::Result<Vec<(String, Vec<String>)>> {
    use crate::error::Error;
    let text = match (wp, batch) {
        (Some(wp), _) => return Ok(vec![(wp.to_string(), refs.to_vec())]),
        (None, Some(text)) => text,
        (None, None) => {
            return Err(Error::usage("give --wp with --refs, or --batch")
                .with_hint("e.g. --batch '{\"WP01\":[\"FR-001\"]}'"))
        }
    };
    let map: serde_json::Map<String, serde_json::Value> =
        crate::bounds::json(text).map_err(|e| {
            Error::usage(format!("--batch is not a JSON object: {e}"))
                .with_hint("e.g. --batch '{\"WP01\":[\"FR-001\"]}'")
        })?;
    map.into_iter()
        .map(|(wp, v)| {
            let refs = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .collect()
                })
                .filter(|r: &Vec<String>| r.len() == v.as_array().map_or(0, Vec::len))
                .ok_or_else(|| {
                    Error::usage(format!("--batch: {wp} must map to a list of strings"))
                })?;
            Ok((wp, refs))
        })
        .collect()
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
        let file = find_wp(mission, wp_id).map_err(OpError::from)?;
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
                .map_err(OpError::from)?;
            writes.push((file.path.clone(), text));
            changed.push(file.id.clone());
        }
    }
    let files: Vec<(&std::path::Path, &[u8])> = writes
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    fsutil::atomic_write_all(&files).map_err(MissionError::Fs)?;
    let all = wp::load_all(&mission.tasks_dir()).map_err(OpError::from)?;
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

#[cfg(test)]
mod tests {
    use super::batch;

    #[test]
    fn a_batch_is_a_json_object_of_lists_of_strings() {
        let one = batch(Some("wp01"), &["FR-001".into()], None).unwrap();
        assert_eq!(one, vec![("wp01".to_string(), vec!["FR-001".to_string()])]);
        let many = batch(None, &[], Some(r#"{"WP01":["FR-001"],"WP02":[]}"#)).unwrap();
        assert_eq!(
            many,
            vec![
                ("WP01".to_string(), vec!["FR-001".to_string()]),
                ("WP02".to_string(), vec![]),
            ]
        );
        for bad in [
            r#"["WP01"]"#,
            "{",
            r#"{"WP01":"FR-001"}"#,
            r#"{"WP01":["FR-001",1]}"#,
        ] {
            let e = batch(None, &[], Some(bad)).unwrap_err();
            assert!(e.message.starts_with("--batch"), "{bad}: {}", e.message);
        }
        assert!(batch(None, &[], None).is_err());
    }
}
