//! Phase 0 research scaffold: research.md, data-model.md and the evidence and
//! source registers under `research/`, once plan.md has been filled in.

use std::path::PathBuf;

use crate::error::{Diagnose, Kind};
use crate::fsutil;
use crate::mission::Mission;
use crate::templates;

/// Why the scaffold was not written.
#[derive(Debug, thiserror::Error)]
pub enum ResearchError {
    /// plan.md is missing, empty, or still the mission type's template.
    #[error("{} is {}; research starts from a filled-in plan", .plan.display(), if *.template { "still the template" } else { "missing or empty" })]
    PlanNotWritten {
        plan: PathBuf,
        mission: String,
        /// True when plan.md is the untouched template (false: missing or empty).
        template: bool,
    },
    /// Writing the scaffold failed; [`crate::fsutil`] reports its failures as
    /// [`crate::fsutil::FsError`], kept whole here.
    #[error("{0}")]
    Fs(#[from] crate::fsutil::FsError),
}

impl Diagnose for ResearchError {
    fn kind(&self) -> Kind {
        match self {
            ResearchError::PlanNotWritten { .. } => Kind::User,
            ResearchError::Fs(e) => e.kind(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ResearchError::PlanNotWritten { mission, .. } => Some(format!(
                "write the plan first (`spec-kitty agent mission setup-plan --mission {mission}` creates it), then run research again"
            )),
            ResearchError::Fs(e) => e.hint(),
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            ResearchError::PlanNotWritten { .. } => None,
            ResearchError::Fs(e) => e.details(),
        }
    }
}

type Result<T> = std::result::Result<T, ResearchError>;

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
        return Err(ResearchError::PlanNotWritten {
            template: !text.trim().is_empty(),
            plan,
            mission: mission.slug.clone(),
        });
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
    fsutil::create_dir_all(&mission.dir.join("research")).map_err(ResearchError::Fs)?;
    let files: Vec<(&std::path::Path, &[u8])> = writes
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_bytes()))
        .collect();
    fsutil::atomic_write_all(&files).map_err(ResearchError::Fs)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mission_in(dir: &std::path::Path) -> Mission {
        let m = dir.join("kitty-specs/001-x");
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("meta.json"), "{}").unwrap();
        Mission::load(&m)
    }

    #[test]
    fn a_missing_plan_is_its_own_variant_with_the_setup_plan_hint() {
        let dir = tempfile::tempdir().unwrap();
        let m = mission_in(dir.path());
        let e = scaffold(&m, false).unwrap_err();
        assert!(
            matches!(&e, ResearchError::PlanNotWritten { template: false, mission, .. } if mission == "001-x"),
            "{e:?}"
        );
        let e = crate::Error::from(e);
        assert!(
            e.message
                .ends_with("plan.md is missing or empty; research starts from a filled-in plan"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("setup-plan --mission 001-x"));
    }

    #[test]
    fn a_failed_write_keeps_the_io_error_inside() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let m = mission_in(dir.path());
        std::fs::write(m.plan_file(), "# A real plan\n").unwrap();
        // A file where the research/ directory goes.
        std::fs::write(m.dir.join("research"), "").unwrap();
        let e = scaffold(&m, false).unwrap_err();
        let ResearchError::Fs(crate::fsutil::FsError::Io { action, path, .. }) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (*action, path),
            ("create directory", &m.dir.join("research"))
        );
        let io = e.source().and_then(|s| s.source());
        assert!(
            io.is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some()),
            "{e:?}"
        );
    }
}
