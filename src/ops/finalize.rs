//! `finalize-tasks`: turn tasks.md and the WP files into a validated dependency
//! graph, complete each WP's frontmatter, seed the status log and plan lanes.
//!
//! Everything is read and checked first; only when the whole mission is valid
//! are files written (each atomically), so an error never leaves a mix of old
//! and new files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml::Value;

use crate::error::Diagnose;

mod stamp;
use crate::status::StatusError;
use crate::tasks_md::ownership::{self, Ownership};
use crate::tasks_md::parse::{self, TasksDoc};
use crate::tasks_md::wp::{self, WpFile};
use crate::tasks_md::TasksError;

type Result<T, E = TasksError> = std::result::Result<T, E>;

/// Why finalize failed: its checks of the mission's files ([`TasksError`]) or
/// the status log it seeds ([`StatusError`]); each speaks for itself.
#[derive(Debug, thiserror::Error)]
pub enum FinalizeError {
    #[error(transparent)]
    Tasks(#[from] TasksError),
    #[error(transparent)]
    Status(#[from] StatusError),
}

impl From<crate::fsutil::LockError> for FinalizeError {
    fn from(e: crate::fsutil::LockError) -> Self {
        FinalizeError::Tasks(e.into())
    }
}

impl From<crate::fsutil::FsError> for FinalizeError {
    fn from(e: crate::fsutil::FsError) -> Self {
        FinalizeError::Tasks(e.into())
    }
}

impl Diagnose for FinalizeError {
    fn wrapped(&self) -> Option<&dyn Diagnose> {
        Some(match self {
            FinalizeError::Tasks(e) => e,
            FinalizeError::Status(e) => e,
        })
    }
}
use crate::fsutil::{self, FileLock, LOCK_TIMEOUT};
use crate::lanes::model::LanesManifest;
use crate::lanes::pin::{keep_started, Started};
use crate::lanes::plan::{self, PlanMeta, PlanWp};
use crate::lanes::{schedule, Strategy};
use crate::mission::Mission;
use crate::project::Project;
use crate::status::{Lane, StatusStore};

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Bootstrap {
    pub total_wps: usize,
    pub newly_seeded: usize,
    pub already_initialized: usize,
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct LanesSummary {
    pub computed: bool,
    pub count: usize,
    pub lane_ids: Vec<String>,
    pub planning_artifact_wps: Vec<String>,
    pub collapse_report: Option<crate::lanes::CollapseReport>,
    /// Whether lanes.json was (or, with --validate-only, would be) rewritten.
    pub changed: bool,
    /// `parallel` or `components`.
    pub strategy: Option<Strategy>,
    /// WPs on the longest dependency chain.
    pub critical_path: usize,
    /// Steps the plan takes with one agent per lane.
    pub makespan: Option<usize>,
    /// Dependencies that cross from one code lane to another.
    pub handoffs: usize,
}

/// One WP whose frontmatter changes, with the new values of the changed keys.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WpChange {
    pub wp_id: String,
    pub changes: BTreeMap<String, serde_json::Value>,
}

/// What finalize did (or, with `validate_only`, would do).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Report {
    pub wp_count: usize,
    pub modified_wps: Vec<String>,
    pub unchanged_wps: Vec<String>,
    /// WPs whose explicit frontmatter dependencies were kept over tasks.md prose.
    pub preserved_wps: Vec<String>,
    pub would_modify: Vec<WpChange>,
    pub dependencies_parsed: BTreeMap<String, Vec<String>>,
    pub requirement_refs_parsed: BTreeMap<String, Vec<String>>,
    pub bootstrap: Bootstrap,
    pub lanes: LanesSummary,
    pub files_written: Vec<PathBuf>,
    pub warnings: Vec<String>,
    pub validate_only: bool,
}

struct Planned<'f> {
    file: &'f WpFile,
    deps: Vec<String>,
    refs: Vec<String>,
    ownership: Ownership,
    new_text: String,
    changes: BTreeMap<String, serde_json::Value>,
}

/// Line (1-based, in the file) of a top-level frontmatter key, for error messages.
fn key_line(file: &WpFile, key: &str) -> Option<usize> {
    file.key_line(key)
}

/// Longest owned_files glob accepted (PATH_MAX): comparing globs costs their
/// lengths multiplied, so a runaway entry is refused instead of slowing everything.
const MAX_GLOB_LEN: usize = 4096;

fn is_wp_id(s: &str) -> bool {
    s.len() >= 4 && crate::ids::is_wp_id(s)
}

/// Why an owned_files glob reaches outside the repository, if it does: an
/// absolute path (or a home-relative one) or a `..` component.
fn escapes_repo(glob: &str) -> Option<&'static str> {
    let g = glob.trim();
    if g.starts_with('/') || g.starts_with('\\') || g.starts_with('~') {
        return Some("is absolute; it must be relative to the repository root");
    }
    if g.len() >= 2 && g.as_bytes()[1] == b':' && g.as_bytes()[0].is_ascii_alphabetic() {
        return Some("is absolute (a drive path); it must be relative to the repository root");
    }
    if g.split(['/', '\\']).any(|c| c == "..") {
        return Some("climbs out with `..`; it must stay inside the repository");
    }
    None
}

pub fn finalize(
    project: &Project,
    mission: &Mission,
    validate_only: bool,
    strategy: Strategy,
) -> Result<Report, FinalizeError> {
    let lock_path = project
        .locks_dir()
        .join(format!("finalize-{}.lock", mission.slug));
    let _lock = FileLock::acquire(&lock_path, LOCK_TIMEOUT, "finalize-tasks for this mission")?;
    // The status lock too, for the whole read-render-write: move-task, mark-status
    // and history write WP files and the log under it, so neither side can
    // overwrite the other's change with a stale copy.
    let store = StatusStore::for_mission(project, mission);
    let held = store.hold()?;
    if !validate_only {
        // A move killed after its event was logged: its WP-file side first.
        crate::status::ops::settle_pending(project, mission)?;
    }

    let mut report = Report {
        validate_only,
        ..Default::default()
    };
    if !validate_only {
        // Leftovers of a finalize that was killed mid-write (those in tasks/
        // go in the listing that reads the WP files).
        fsutil::remove_stale_temps(&mission.dir);
    }
    // The WP files, each stat-ed before any is read (what a later run's
    // stamp compares); the one listing also sweeps a killed writer's temps.
    let tasks_dir = mission.tasks_dir();
    let listed = stamp::stat_listed(if tasks_dir.is_dir() {
        wp::list_wp_files_clearing(&tasks_dir, !validate_only)?
    } else {
        Vec::new()
    });
    let mut texts = Texts::read(mission)?;
    let target = mission
        .target_branch()
        .map(str::to_string)
        .or_else(|| project.current_branch())
        .unwrap_or_else(|| "main".into());
    let key = stamp::Key {
        mission,
        target: &target,
        strategy: strategy.as_str(),
    };
    // Nothing changed since a run that found nothing to change: its report.
    // WP files stat-ed as that run saw them, and settled by then, are not
    // read again; any other is read and its digest compared.
    let stamp_path = stamp::path(project, mission);
    if let Some(saved) = stamp::load(&stamp_path) {
        let answer = saved
            .unchanged_wps(&listed)
            .and_then(|wps| texts.stamp_inputs(&key, &store, &listed.paths, Some(wps)))
            .and_then(|inputs| saved.report_for(&inputs, &listed.paths));
        if let Some(mut r) = answer {
            r.validate_only = validate_only;
            return Ok(r);
        }
    }
    texts.wps = wp::read_listed(listed.paths.clone());
    let log_before = stamp::log(&store.events_path);

    let errors = std::mem::take(&mut texts.errors);
    let sources = Sources::parse(mission, &texts, errors.tasks)?;
    let by_id = check_identities(&sources)?;
    if sources.files.is_empty() {
        report
            .warnings
            .push("no work packages yet: write tasks.md and tasks/WPxx-*.md, then run finalize-tasks again".into());
        return Ok(report);
    }

    if let Some(e) = errors.spec {
        return Err(TasksError::from(e).into());
    }
    let spec_ids: Vec<String> = texts
        .spec
        .as_deref()
        .map(parse::requirement_ids)
        .unwrap_or_default();

    let ctx = WpContext {
        tasks_path: &sources.tasks_path,
        by_id: &by_id,
        spec_ids: &spec_ids,
        mission_slug: &mission.slug,
        target: &target,
    };
    let mut sections: BTreeMap<&str, &parse::Section> = BTreeMap::new();
    for s in &sources.doc.sections {
        sections.entry(s.wp_id.as_str()).or_insert(s);
    }
    let planned = sources
        .files
        .iter()
        .map(|f| plan_wp(&ctx, f, sections.get(f.id.as_str()).copied(), &mut report))
        .collect::<Result<Vec<Planned<'_>>>>()?;

    check_acyclic(&planned, &sources.tasks_path)?;
    let plan_wps = plan_inputs(&planned);
    check_ownership(&planned, &plan_wps)?;

    // Text that looks like a field but is not in an accepted form.
    report.warnings.extend(crate::tasks_md::lint::warnings(
        sources.tasks_text,
        &sources.doc,
        &sources.files,
    ));
    report
        .warnings
        .extend(coverage_warnings(&planned, &spec_ids));

    // One fold of the log (from the saved fold) serves the lane plan, the dry
    // run of the bootstrap and the bootstrap itself: the lock is held throughout.
    let folded = store.fold_held(&held)?;
    let snap = folded.current().snapshot();
    let lanes = plan_lanes(
        mission,
        texts.lanes.as_deref(),
        &plan_wps,
        &target,
        strategy,
        &snap,
    )?;
    let ids: Vec<String> = planned.iter().map(|p| p.file.id.clone()).collect();
    let renders = record_wps(&mut report, planned);

    let seeded = store.bootstrap_folded(&held, &folded, &ids, "finalize-tasks", true)?;
    report.bootstrap = Bootstrap {
        total_wps: ids.len(),
        newly_seeded: seeded.len(),
        already_initialized: ids.len() - seeded.len(),
    };
    report.lanes = lanes.summary(strategy);
    if validate_only {
        return Ok(report);
    }

    report.files_written = write_all(&renders, &lanes, &mission.lanes_file())?;
    store.bootstrap_folded(&held, &folded, &ids, "finalize-tasks", false)?;
    // A run that changed nothing leaves its stamp for the next one. The log
    // must be the one folded: healing an unmerged log rewrites it.
    if report.files_written.is_empty() && seeded.is_empty() {
        let log_after = stamp::log(&store.events_path);
        if log_after.is_some() && log_after == log_before {
            if let Some(digests) = stamp::wps_digest(&texts.wps) {
                let all = Some(digests.all.clone());
                if let Some(inputs) = texts.stamp_inputs(&key, &store, &listed.paths, all) {
                    stamp::save(&stamp_path, inputs, &listed, digests, &report);
                }
            }
        }
    }
    Ok(report)
}

/// The files finalize reads, as read (before any parse): the WP files,
/// tasks.md, spec.md and lanes.json.
struct Texts {
    wps: Vec<wp::WpText>,
    /// tasks.md and spec.md: None when not a file (or not readable, see `errors`).
    tasks: Option<String>,
    spec: Option<String>,
    /// lanes.json; None when missing or unreadable (the plan then starts afresh).
    lanes: Option<String>,
    /// Why tasks.md or spec.md could not be read, kept for the point where
    /// the full run reports it.
    errors: ReadErrors,
}

#[derive(Default)]
struct ReadErrors {
    tasks: Option<fsutil::FsError>,
    spec: Option<fsutil::FsError>,
}

/// A file's text when it is a file; None when it is not.
fn read_if_file(path: &Path) -> (Option<String>, Option<fsutil::FsError>) {
    if !path.is_file() {
        return (None, None);
    }
    match fsutil::read_to_string(path) {
        Ok(t) => (Some(t), None),
        Err(e) => (None, Some(e)),
    }
}

impl Texts {
    /// Read all but the WP files (`wps` is empty: the caller reads those it
    /// listed, when its stamp does not tell them unchanged).
    fn read(mission: &Mission) -> Result<Self> {
        let wps = Vec::new();
        let lanes_path = mission.lanes_file();
        let lanes = if lanes_path.exists() {
            fsutil::read_to_string(&lanes_path).ok()
        } else {
            None
        };
        let (tasks, tasks_err) = read_if_file(&mission.tasks_file());
        let (spec, spec_err) = read_if_file(&mission.spec_file());
        Ok(Texts {
            wps,
            tasks,
            spec,
            lanes,
            errors: ReadErrors {
                tasks: tasks_err,
                spec: spec_err,
            },
        })
    }

    /// What a stamp keys on for these texts, the WP files `listed` (whose
    /// digest is `wps`) and the mission's status files as they are now; None
    /// when there are no WP files or a read failed.
    fn stamp_inputs(
        &self,
        key: &stamp::Key<'_>,
        store: &StatusStore,
        listed: &[PathBuf],
        wps: Option<String>,
    ) -> Option<stamp::Inputs> {
        if listed.is_empty() || self.errors.tasks.is_some() || self.errors.spec.is_some() {
            return None;
        }
        stamp::inputs(
            key,
            stamp::Read {
                wps,
                tasks_md: self.tasks.as_deref(),
                spec_md: self.spec.as_deref(),
                lanes_json: self.lanes.as_deref(),
                status_json: &store.snapshot_path,
                log: stamp::log(&store.events_path),
            },
        )
    }
}

/// What finalize reads, parsed: the WP files, tasks.md (when present) and its parse.
struct Sources<'t> {
    files: Vec<WpFile>,
    tasks_path: PathBuf,
    tasks_text: Option<&'t str>,
    doc: TasksDoc,
}

impl<'t> Sources<'t> {
    fn parse(
        mission: &Mission,
        texts: &'t Texts,
        tasks_error: Option<fsutil::FsError>,
    ) -> Result<Self> {
        let files = wp::parse_texts(&texts.wps)?;
        if let Some(e) = tasks_error {
            return Err(e.into());
        }
        let tasks_path = mission.tasks_file();
        let tasks_text = texts.tasks.as_deref();
        let doc = tasks_text.map(parse::parse).unwrap_or_default();
        Ok(Sources {
            files,
            tasks_path,
            tasks_text,
            doc,
        })
    }
}

/// Identity problems first: duplicate files, duplicate or orphan sections.
/// Returns the WP files by id.
fn check_identities<'s>(sources: &'s Sources<'_>) -> Result<BTreeMap<String, &'s WpFile>> {
    let mut by_id: BTreeMap<String, &WpFile> = BTreeMap::new();
    for f in &sources.files {
        if let Some(prev) = by_id.insert(f.id.clone(), f) {
            return Err(TasksError::DuplicateWpFile {
                path: f.path.clone(),
                id: f.id.clone(),
                other: prev.path.clone(),
            });
        }
    }
    if let Some((id, first, again)) = sources.doc.duplicates().into_iter().next() {
        return Err(TasksError::DuplicateSection {
            path: sources.tasks_path.clone(),
            line: again,
            id: id.to_string(),
            first,
        });
    }
    for s in &sources.doc.sections {
        if !by_id.contains_key(&s.wp_id) {
            return Err(TasksError::OrphanSection {
                path: sources.tasks_path.clone(),
                line: s.line,
                id: s.wp_id.clone(),
            });
        }
    }
    Ok(by_id)
}

/// The mission-wide facts each WP is checked against.
struct WpContext<'a> {
    tasks_path: &'a Path,
    by_id: &'a BTreeMap<String, &'a WpFile>,
    spec_ids: &'a [String],
    mission_slug: &'a str,
    target: &'a str,
}

/// One WP: resolve and check its dependencies, requirement refs, ownership
/// and subtasks, then render its completed frontmatter (not yet written).
fn plan_wp<'f>(
    ctx: &WpContext<'_>,
    f: &'f WpFile,
    section: Option<&parse::Section>,
    report: &mut Report,
) -> Result<Planned<'f>> {
    let deps = resolve_dependencies(f, section, report);
    check_dependencies(ctx, f, section, &deps)?;
    let refs = resolve_requirement_refs(ctx, f, section)?;
    let ownership = resolve_ownership(f, ctx.mission_slug);
    check_owned_files(f, &ownership)?;
    check_subtasks(f)?;
    if ownership.fallback {
        report.warnings.push(format!(
            "{}: no file paths in the WP text; it owns the broad `src/**` (declare owned_files to narrow it)",
            f.id
        ));
    }
    let subtasks: Vec<String> = section
        .map(|s| s.subtasks.iter().map(|t| t.id.clone()).collect())
        .unwrap_or_default();
    let (head, tail, changes) =
        frontmatter_changes(f, &deps, &refs, &subtasks, &ownership, ctx.target);
    let anchor = if f.get("title").is_some() {
        "title"
    } else {
        "work_package_id"
    };
    let new_text = if changes.is_empty() {
        String::new()
    } else {
        f.text_with_keys(&head, &tail, anchor)?
    };
    Ok(Planned {
        file: f,
        deps,
        refs,
        ownership,
        new_text,
        changes,
    })
}

/// Dependencies: explicit frontmatter wins (`[]` included), else the WP's own
/// section. A frontmatter list that disagrees with the prose is kept, with a warning.
fn resolve_dependencies(
    f: &WpFile,
    section: Option<&parse::Section>,
    report: &mut Report,
) -> Vec<String> {
    let prose: Vec<String> = section
        .map(|s| s.dependencies.iter().map(|d| d.wp_id.clone()).collect())
        .unwrap_or_default();
    if !f.declares_dependencies() {
        return prose;
    }
    let declared = f.dependencies();
    let a: BTreeSet<&String> = declared.iter().collect();
    let b: BTreeSet<&String> = prose.iter().collect();
    if !prose.is_empty() && a != b {
        report.preserved_wps.push(f.id.clone());
        report.warnings.push(format!(
            "{}: frontmatter `dependencies: [{}]` is what counts, but its tasks.md section says [{}]; make them agree (write `**Dependencies**: {}` in tasks.md, or edit {})",
            f.id,
            declared.join(", "),
            prose.join(", "),
            if declared.is_empty() { "none".to_string() } else { declared.join(", ") },
            f.path.display()
        ));
    }
    declared
}

/// Every dependency is a WP id, not the WP itself, and names an existing WP.
fn check_dependencies(
    ctx: &WpContext<'_>,
    f: &WpFile,
    section: Option<&parse::Section>,
    deps: &[String],
) -> Result<()> {
    for d in deps {
        let (path, line) = match section.and_then(|s| s.dependencies.iter().find(|x| &x.wp_id == d))
        {
            Some(x) if !f.declares_dependencies() => (ctx.tasks_path.to_path_buf(), Some(x.line)),
            _ => (f.path.clone(), key_line(f, "dependencies")),
        };
        if !is_wp_id(d) {
            return Err(TasksError::DependencyNotWpId {
                path,
                line,
                wp: f.id.clone(),
                dep: d.clone(),
            });
        }
        if d == &f.id {
            return Err(TasksError::SelfDependency {
                path,
                line,
                wp: f.id.clone(),
            });
        }
        if !ctx.by_id.contains_key(d) {
            return Err(TasksError::UnknownDependency {
                path,
                line,
                wp: f.id.clone(),
                dep: d.clone(),
                known: ctx.by_id.keys().cloned().collect(),
            });
        }
    }
    Ok(())
}

/// Requirement refs: the frontmatter's (upper-cased) when declared, else the
/// section's; each must be defined in spec.md when spec.md defines any.
fn resolve_requirement_refs(
    ctx: &WpContext<'_>,
    f: &WpFile,
    section: Option<&parse::Section>,
) -> Result<Vec<String>> {
    let declared_refs = f.get_list("requirement_refs");
    let refs: Vec<String> = if declared_refs.is_empty() {
        section
            .map(|s| s.requirement_refs.clone())
            .unwrap_or_default()
    } else {
        declared_refs
            .iter()
            .map(|r| r.to_ascii_uppercase())
            .collect()
    };
    if ctx.spec_ids.is_empty() {
        return Ok(refs);
    }
    if let Some(bad) = refs.iter().find(|r| !ctx.spec_ids.contains(r)) {
        let (path, line) = if declared_refs.is_empty() {
            (ctx.tasks_path.to_path_buf(), section.map(|s| s.line))
        } else {
            (f.path.clone(), key_line(f, "requirement_refs"))
        };
        return Err(TasksError::UnknownRequirement {
            path,
            line,
            wp: f.id.clone(),
            requirement: bad.clone(),
        });
    }
    Ok(refs)
}

/// owned_files entries are bounded in length and stay inside the repository.
fn check_owned_files(f: &WpFile, ownership: &Ownership) -> Result<()> {
    if let Some(long) = ownership
        .owned_files
        .iter()
        .find(|g| g.len() > MAX_GLOB_LEN)
    {
        return Err(TasksError::OwnedGlobTooLong {
            path: f.path.clone(),
            line: key_line(f, "owned_files"),
            wp: f.id.clone(),
            len: long.len(),
            max: MAX_GLOB_LEN,
        });
    }
    for g in &ownership.owned_files {
        if let Some(why) = escapes_repo(g) {
            return Err(TasksError::OwnedGlobEscapes {
                path: f.path.clone(),
                line: f.entry_line("owned_files", g),
                wp: f.id.clone(),
                glob: g.clone(),
                why,
            });
        }
    }
    Ok(())
}

/// Subtask ids reach the commands agents run, so each must be a valid id.
fn check_subtasks(f: &WpFile) -> Result<()> {
    for t in f.get_list("subtasks") {
        if !crate::ids::is_subtask_id(&t) {
            return Err(TasksError::BadSubtaskId {
                path: f.path.clone(),
                line: f.entry_line("subtasks", &t),
                wp: f.id.clone(),
                subtask: t,
            });
        }
    }
    Ok(())
}

/// The dependency graph has no cycle.
fn check_acyclic(planned: &[Planned<'_>], tasks_path: &Path) -> Result<()> {
    let Some(cycle) = find_cycle(planned) else {
        return Ok(());
    };
    let first = planned
        .iter()
        .find(|p| p.file.id == cycle[0])
        .map(|p| p.file.path.clone())
        .unwrap_or_else(|| tasks_path.to_path_buf());
    Err(TasksError::DependencyCycle { path: first, cycle })
}

/// The lane planner's view of each WP.
fn plan_inputs(planned: &[Planned<'_>]) -> Vec<PlanWp> {
    planned
        .iter()
        .map(|p| PlanWp {
            id: p.file.id.clone(),
            dependencies: p.deps.clone(),
            planning: p.ownership.execution_mode == ownership::PLANNING,
            owned_files: p.ownership.owned_files.clone(),
        })
        .collect()
}

/// Requirement coverage is advice, not a gate: WPs without refs and
/// functional requirements no WP refers to.
fn coverage_warnings(planned: &[Planned<'_>], spec_ids: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    let mapped: BTreeSet<&String> = planned.iter().flat_map(|p| &p.refs).collect();
    for p in planned {
        if p.refs.is_empty() && !spec_ids.is_empty() {
            warnings.push(format!("{}: no requirement refs (add `**Requirement Refs**: FR-001` to its tasks.md section)", p.file.id));
        }
    }
    let unmapped: Vec<&String> = spec_ids
        .iter()
        .filter(|r| r.starts_with("FR-") && !mapped.contains(r))
        .collect();
    if !unmapped.is_empty() {
        warnings.push(format!(
            "functional requirements no WP refers to: {}",
            unmapped
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    warnings
}

/// The planned lanes and whether they differ from lanes.json on disk.
struct PlannedLanes {
    manifest: LanesManifest,
    changed: bool,
    stats: schedule::PlanStats,
}

impl PlannedLanes {
    fn summary(&self, strategy: Strategy) -> LanesSummary {
        let manifest = &self.manifest;
        LanesSummary {
            computed: true,
            count: manifest.lanes.len(),
            lane_ids: manifest.lanes.iter().map(|l| l.lane_id.clone()).collect(),
            planning_artifact_wps: manifest.planning_artifact_wps.clone(),
            collapse_report: manifest.collapse_report.clone(),
            changed: self.changed,
            strategy: Some(strategy),
            critical_path: self.stats.critical_path,
            makespan: self.stats.makespan,
            handoffs: self.stats.handoffs,
        }
    }
}

/// Plan lanes; a plan equal to lanes.json but for its timestamp keeps the old
/// timestamp and counts as unchanged.
fn plan_lanes(
    mission: &Mission,
    lanes_text: Option<&str>,
    plan_wps: &[PlanWp],
    target: &str,
    strategy: Strategy,
    snap: &crate::status::Snapshot,
) -> Result<PlannedLanes> {
    let mission_id = mission
        .mission_id()
        .map(str::to_string)
        .unwrap_or_else(|| mission.slug.clone());
    let mut manifest = plan::plan(
        plan_wps,
        &PlanMeta {
            mission_slug: mission.slug.clone(),
            mission_id,
            target_branch: target.to_string(),
            computed_at: crate::timefmt::now_iso(),
        },
        strategy,
    );
    let old = lanes_text.and_then(|t| LanesManifest::parse(&mission.lanes_file(), t).ok());
    // Started work stays in the lane whose worktree holds it.
    let started: Vec<Started> = old
        .iter()
        .flat_map(|o| o.lanes.iter())
        .flat_map(|l| l.wp_ids.iter().map(move |w| (w, &l.lane_id)))
        .filter_map(|(w, lane)| {
            let status = snap.lane_of(w)?;
            (!matches!(status, Lane::Planned | Lane::Done | Lane::Canceled)).then(|| Started {
                wp_id: w.clone(),
                lane_id: lane.clone(),
                status: status.to_string(),
            })
        })
        .collect();
    keep_started(&mut manifest, &started).map_err(|c| TasksError::ReplanMovesStartedWork {
        lanes_file: mission.lanes_file(),
        slug: mission.slug.clone(),
        problems: c.problems,
    })?;
    let stats = schedule::stats(plan_wps, &manifest);
    let changed = match &old {
        Some(o) => {
            let mut same = manifest.clone();
            same.computed_at = o.computed_at.clone();
            if &same == o {
                manifest.computed_at = o.computed_at.clone();
                false
            } else {
                true
            }
        }
        None => true,
    };
    Ok(PlannedLanes {
        manifest,
        changed,
        stats,
    })
}

/// Record each WP in the report; returns the new text of every changed WP file.
fn record_wps(report: &mut Report, planned: Vec<Planned<'_>>) -> Vec<(PathBuf, String)> {
    let mut renders: Vec<(PathBuf, String)> = Vec::new();
    for p in planned {
        report.wp_count += 1;
        report.dependencies_parsed.insert(p.file.id.clone(), p.deps);
        report
            .requirement_refs_parsed
            .insert(p.file.id.clone(), p.refs);
        if p.changes.is_empty() {
            report.unchanged_wps.push(p.file.id.clone());
            continue;
        }
        report.modified_wps.push(p.file.id.clone());
        report.would_modify.push(WpChange {
            wp_id: p.file.id.clone(),
            changes: p.changes,
        });
        renders.push((p.file.path.clone(), p.new_text));
    }
    renders
}

/// All WP files and lanes.json in one step: an error while writing (a full
/// disk, a read-only file) changes none of them. Returns the paths written.
fn write_all(
    renders: &[(PathBuf, String)],
    lanes: &PlannedLanes,
    lanes_path: &Path,
) -> Result<Vec<PathBuf>> {
    let lanes_text = lanes.changed.then(|| lanes.manifest.render());
    let mut batch: Vec<(&Path, &[u8])> = renders
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    if let Some(text) = &lanes_text {
        batch.push((lanes_path, text.as_bytes()));
    }
    // Test hook: hold between reading and writing the WP files while another
    // process waits for the status lock (the parallel-process tests).
    crate::env::pause_at(crate::env::PausePoint::FinalizeBeforeWrite);
    fsutil::atomic_write_all(&batch)?;
    Ok(batch.iter().map(|(p, _)| p.to_path_buf()).collect())
}

/// Ownership from the frontmatter where declared, inferred from the text where not.
fn resolve_ownership(f: &WpFile, mission_slug: &str) -> Ownership {
    // Inference scans the whole text: only done when something is not declared.
    let infer = || ownership::infer(&format!("{}\n{}", f.raw_frontmatter, f.body), mission_slug);
    let declared_mode = f.execution_mode();
    let declared_owned = f.owned_files();
    let (execution_mode, owned_files, fallback) = match (declared_mode, declared_owned.is_empty()) {
        (Some(m), false) => (m, declared_owned, false),
        (None, false) => (
            ownership::mode_for(&declared_owned).to_string(),
            declared_owned,
            false,
        ),
        (Some(m), true) if m == ownership::PLANNING => {
            (m, vec![format!("kitty-specs/{mission_slug}/**")], false)
        }
        (Some(m), true) => {
            let inferred = infer();
            let code: Vec<String> = inferred
                .owned_files
                .iter()
                .filter(|g| !g.starts_with("kitty-specs/"))
                .cloned()
                .collect();
            if inferred.execution_mode == ownership::CODE && !code.is_empty() {
                (m, code, inferred.fallback)
            } else {
                (m, vec!["src/**".to_string()], true)
            }
        }
        (None, true) => {
            let inferred = infer();
            (
                inferred.execution_mode,
                inferred.owned_files,
                inferred.fallback,
            )
        }
    };
    let authoritative_surface = f
        .get_str("authoritative_surface")
        .unwrap_or_else(|| ownership::surface(&owned_files));
    Ownership {
        execution_mode,
        owned_files,
        authoritative_surface,
        fallback,
    }
}

fn seq(items: &[String]) -> Value {
    Value::Sequence(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn yaml_to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// Finalize's fields for this WP that differ from its frontmatter, split into
/// keys that belong near the top (after `title`) and ownership keys (at the end).
// A style lint, not a panic: the tuple is built and taken apart right here.
#[allow(clippy::type_complexity)]
fn frontmatter_changes(
    f: &WpFile,
    deps: &[String],
    refs: &[String],
    subtasks: &[String],
    own: &Ownership,
    target: &str,
) -> (
    Vec<(&'static str, Value)>,
    Vec<(&'static str, Value)>,
    BTreeMap<String, serde_json::Value>,
) {
    let mut head: Vec<(&'static str, Value)> = vec![("dependencies", seq(deps))];
    if !refs.is_empty() {
        head.push(("requirement_refs", seq(refs)));
    }
    head.push(("planning_base_branch", Value::String(target.into())));
    head.push(("merge_target_branch", Value::String(target.into())));
    if f.get("branch_strategy").is_none() {
        head.push((
            "branch_strategy",
            Value::String(format!(
                "Planned on {target}. A WP may start from a dependency's lane branch, but finished work lands on {target} unless a person chooses another branch."
            )),
        ));
    }
    if !subtasks.is_empty() && f.get_list("subtasks").is_empty() {
        head.push(("subtasks", seq(subtasks)));
    }
    let mut tail: Vec<(&'static str, Value)> = Vec::new();
    if f.get("authoritative_surface").is_none() {
        tail.push((
            "authoritative_surface",
            Value::String(own.authoritative_surface.clone()),
        ));
    }
    if f.execution_mode().is_none() {
        tail.push(("execution_mode", Value::String(own.execution_mode.clone())));
    }
    if f.owned_files().is_empty() {
        tail.push(("owned_files", seq(&own.owned_files)));
    }
    let differs = |(k, v): &(&'static str, Value)| f.get(k) != Some(v);
    head.retain(differs);
    tail.retain(differs);
    let changes = head
        .iter()
        .chain(&tail)
        .map(|(k, v)| (k.to_string(), yaml_to_json(v)))
        .collect();
    (head, tail, changes)
}

/// The first dependency cycle, as a closed path (`[WP02, WP04, WP02]`).
fn find_cycle(planned: &[Planned<'_>]) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, &Vec<String>> = planned
        .iter()
        .map(|p| (p.file.id.as_str(), &p.deps))
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum C {
        White,
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, C> = deps.keys().map(|&k| (k, C::White)).collect();
    fn visit<'a>(
        n: &'a str,
        deps: &BTreeMap<&'a str, &'a Vec<String>>,
        colour: &mut BTreeMap<&'a str, C>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        colour.insert(n, C::Grey);
        path.push(n);
        for d in deps.get(n).map(|v| v.as_slice()).unwrap_or(&[]) {
            match colour.get(d.as_str()).copied() {
                Some(C::Grey) => {
                    let start = path.iter().position(|p| p == d).unwrap_or(0);
                    let mut cycle: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                Some(C::White) => {
                    if let Some((k, _)) = deps.get_key_value(d.as_str()) {
                        if let Some(c) = visit(k, deps, colour, path) {
                            return Some(c);
                        }
                    }
                }
                _ => {}
            }
        }
        path.pop();
        colour.insert(n, C::Black);
        None
    }
    let keys: Vec<&str> = deps.keys().copied().collect();
    for k in keys {
        if colour.get(k) == Some(&C::White) {
            if let Some(c) = visit(k, &deps, &mut colour, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// Two WPs that can run at the same time must not own the same paths.
fn check_ownership(planned: &[Planned<'_>], wps: &[PlanWp]) -> Result<()> {
    let mut reach = plan::Reach::new(wps);
    for p in planned {
        let surface = &p.ownership.authoritative_surface;
        if surface.is_empty() {
            return Err(TasksError::EmptySurface {
                path: p.file.path.clone(),
                line: key_line(p.file, "authoritative_surface"),
                wp: p.file.id.clone(),
            });
        }
        // A literal prefix of an owned glob (as the reference checks), or a path
        // inside one: `wc.py/` is neither for `wc.py`.
        if !p
            .ownership
            .owned_files
            .iter()
            .any(|g| g.starts_with(surface.as_str()) || ownership::glob_match(g, surface))
        {
            return Err(TasksError::SurfaceOutsideOwned {
                path: p.file.path.clone(),
                line: key_line(p.file, "authoritative_surface"),
                wp: p.file.id.clone(),
                surface: surface.clone(),
                owned: p.ownership.owned_files.clone(),
            });
        }
    }
    // The first conflict in (WP, WP, glob, glob) order, as a scan of every pair
    // would find it; only glob pairs that overlap at all are looked at.
    let mut globs: Vec<&str> = Vec::new();
    let mut owner: Vec<(usize, usize)> = Vec::new();
    for (i, p) in planned.iter().enumerate() {
        for (k, g) in p.ownership.owned_files.iter().enumerate() {
            globs.push(g);
            owner.push((i, k));
        }
    }
    let mut first: Option<(usize, usize, usize, usize)> = None;
    for (x, y) in ownership::overlapping_pairs(&globs) {
        let (ox, oy) = (owner[x], owner[y]);
        if ox.0 == oy.0 {
            continue;
        }
        let ((i, ka), (j, kb)) = if ox.0 < oy.0 { (ox, oy) } else { (oy, ox) };
        if first.is_some_and(|f| f <= (i, j, ka, kb)) {
            continue;
        }
        let (a, b) = (&planned[i], &planned[j]);
        let both_planning = a.ownership.execution_mode == ownership::PLANNING
            && b.ownership.execution_mode == ownership::PLANNING;
        if both_planning
            || reach.depends_on(&a.file.id, &b.file.id)
            || reach.depends_on(&b.file.id, &a.file.id)
        {
            continue;
        }
        first = Some((i, j, ka, kb));
    }
    if let Some((i, j, ka, kb)) = first {
        let (a, b) = (&planned[i], &planned[j]);
        let (ga, gb) = (&a.ownership.owned_files[ka], &b.ownership.owned_files[kb]);
        return Err(TasksError::OverlappingOwnership {
            path: b.file.path.clone(),
            line: key_line(b.file, "owned_files"),
            a: a.file.id.clone(),
            b: b.file.id.clone(),
            globs: Box::new((ga.clone(), gb.clone())),
        });
    }
    Ok(())
}

/// WP ids that list `wp_id` among their dependencies, directly or transitively.
pub fn dependents(files: &[WpFile], wp_id: &str) -> (Vec<String>, Vec<String>) {
    let wps: Vec<PlanWp> = files
        .iter()
        .map(|f| PlanWp {
            id: f.id.clone(),
            dependencies: f.dependencies(),
            planning: false,
            owned_files: Vec::new(),
        })
        .collect();
    let direct: Vec<String> = wps
        .iter()
        .filter(|w| w.dependencies.iter().any(|d| d == wp_id))
        .map(|w| w.id.clone())
        .collect();
    let closure = plan::transitive_deps(&wps);
    let all: Vec<String> = closure
        .iter()
        .filter(|(_, s)| s.contains(wp_id))
        .map(|(k, _)| k.clone())
        .collect();
    (direct, all)
}

/// `list-dependents`: what a work package depends on, and the work packages
/// that depend on it.
#[derive(Debug, Clone)]
pub struct Dependents {
    pub mission_slug: String,
    pub wp_id: String,
    pub depends_on: Vec<String>,
    /// Work packages listing it among their dependencies.
    pub direct: Vec<String>,
    /// Those and what depends on them, transitively.
    pub all: Vec<String>,
}

/// The dependents of `wp_id` (any case) in `mission`; an unknown id is an
/// error naming the known ones.
pub fn dependents_of(mission: &Mission, wp_id: &str) -> crate::error::Result<Dependents> {
    let files = wp::load_all(&mission.tasks_dir())?;
    let wp_id = wp_id.to_ascii_uppercase();
    let Some(this) = files.iter().find(|f| f.id == wp_id) else {
        let known: Vec<&str> = files.iter().map(|f| f.id.as_str()).collect();
        return Err(crate::error::Error::user(format!(
            "{} has no work package {wp_id}",
            mission.slug
        ))
        .with_hint(format!("known work packages: {}", known.join(", "))));
    };
    let depends_on = this.dependencies();
    let (direct, all) = dependents(&files, &wp_id);
    Ok(Dependents {
        mission_slug: mission.slug.clone(),
        wp_id,
        depends_on,
        direct,
        all,
    })
}

/// Relative display of a path under `root`.
pub fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_error_under_finalize_stays_whole() {
        let e = FinalizeError::from(StatusError::ForceWithoutReason);
        assert!(matches!(
            &e,
            FinalizeError::Status(StatusError::ForceWithoutReason)
        ));
        let lib = crate::Error::from(e);
        assert_eq!(lib.message, "a forced move needs an actor and a reason");
        assert!(lib.hint.unwrap().contains("--force together with --reason"));
    }

    /// The pairwise scan `check_ownership` used before the glob-pair index.
    fn check_ownership_by_scan(planned: &[Planned<'_>], wps: &[PlanWp]) -> Option<String> {
        let closure = plan::transitive_deps(wps);
        for (i, a) in planned.iter().enumerate() {
            for b in &planned[i + 1..] {
                let both_planning = a.ownership.execution_mode == ownership::PLANNING
                    && b.ownership.execution_mode == ownership::PLANNING;
                let related = closure[&a.file.id].contains(&b.file.id)
                    || closure[&b.file.id].contains(&a.file.id);
                if both_planning || related {
                    continue;
                }
                for ga in &a.ownership.owned_files {
                    for gb in &b.ownership.owned_files {
                        if ownership::globs_overlap(ga, gb) {
                            return Some(format!(
                                "{} ('{ga}') and {} ('{gb}') can run in parallel but own overlapping paths",
                                a.file.id, b.file.id
                            ));
                        }
                    }
                }
            }
        }
        None
    }

    #[test]
    fn ownership_check_reports_the_same_first_conflict_as_a_full_scan() {
        let mut next = crate::testutil::xorshift(0x2545_f491_4f6c_dd1du64);
        let pool = [
            "src/**",
            "src/a/**",
            "src/a/b.rs",
            "src/ab/**",
            "src/*.rs",
            "src/main.rs",
            "tests/**",
            "tests/a.rs",
            "docs/x/**",
            "src/c/**",
            "src/d/**",
            "src/e/**",
            "src/f/**",
        ];
        let mut conflicts = 0;
        for _ in 0..400 {
            let n = 2 + next(9) as usize;
            let files: Vec<WpFile> = (0..n)
                .map(|i| {
                    let path = PathBuf::from(format!("tasks/WP{:02}-x.md", i + 1));
                    WpFile::parse(&path, "---\ntitle: x\n---\n").unwrap()
                })
                .collect();
            let planned: Vec<Planned> = files
                .iter()
                .enumerate()
                .map(|(i, file)| {
                    let owned: Vec<String> = (0..1 + next(2))
                        .map(|_| pool[next(pool.len() as u64) as usize].to_string())
                        .collect();
                    Planned {
                        file,
                        // Backward edges only: finalize rejects cycles before this check.
                        deps: (0..next(2))
                            .filter(|_| i > 0)
                            .map(|_| format!("WP{:02}", next(i as u64) + 1))
                            .collect(),
                        refs: Vec::new(),
                        ownership: Ownership {
                            execution_mode: if next(6) == 0 {
                                ownership::PLANNING.into()
                            } else {
                                ownership::CODE.into()
                            },
                            authoritative_surface: ownership::surface(&owned),
                            owned_files: owned,
                            fallback: false,
                        },
                        new_text: String::new(),
                        changes: BTreeMap::new(),
                    }
                })
                .collect();
            let wps: Vec<PlanWp> = planned
                .iter()
                .map(|p| PlanWp {
                    id: p.file.id.clone(),
                    dependencies: p.deps.clone(),
                    planning: p.ownership.execution_mode == ownership::PLANNING,
                    owned_files: p.ownership.owned_files.clone(),
                })
                .collect();
            let expected = check_ownership_by_scan(&planned, &wps);
            let got = check_ownership(&planned, &wps).err().map(|e| e.to_string());
            let expected_ok = expected.is_none();
            match (&got, &expected) {
                (Some(g), Some(e)) => assert!(g.ends_with(e.as_str()), "{g} vs {e}"),
                (None, None) => {}
                _ => panic!("{got:?} vs {expected:?}"),
            }
            conflicts += usize::from(!expected_ok);
        }
        assert!(
            conflicts > 50,
            "only {conflicts} conflicting missions generated"
        );
    }
}
