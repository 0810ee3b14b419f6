//! `agent mission setup-plan`: create a mission's plan.md from its mission
//! type's template, unless it exists (an existing plan is never touched).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::mission::branch::BranchContext;
use crate::mission::Mission;
use crate::project::{Project, VersionSkew};

/// Where the plan is, and whether this run created it.
#[derive(Debug, Clone)]
pub struct PlanSetUp {
    pub mission_slug: String,
    pub mission_type: String,
    pub feature_dir: PathBuf,
    pub spec_file: PathBuf,
    /// The mission's branch contract (for the reference's branch keys).
    pub branch: BranchContext,
    pub plan_file: PathBuf,
    pub created: bool,
    /// The binary and the project disagree on the version (said when the
    /// plan was written).
    pub skew: Option<VersionSkew>,
}

/// Create plan.md of `mission` from the template when it does not exist.
pub fn setup_plan(project: &Project, mission: &Mission) -> Result<PlanSetUp> {
    let plan_file = mission.plan_file();
    let done = |created: bool, skew: Option<VersionSkew>| PlanSetUp {
        mission_slug: mission.slug.clone(),
        mission_type: mission.mission_type().to_string(),
        feature_dir: mission.dir.clone(),
        spec_file: mission.spec_file(),
        branch: BranchContext::for_mission(project, mission),
        plan_file: plan_file.clone(),
        created,
        skew,
    };
    if plan_file.exists() {
        return Ok(done(false, None));
    }
    let skew = crate::config::version_skew(&project.root)?;
    let text =
        crate::templates::mission_template(mission.mission_type(), "plan").ok_or_else(|| {
            Error::user(format!(
                "no plan template for mission type {:?}",
                mission.mission_type()
            ))
        })?;
    crate::fsutil::atomic_write(&plan_file, text.as_bytes())?;
    Ok(done(true, skew))
}
