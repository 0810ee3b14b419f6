//! `spec-kitty orchestrator-api`: the JSON contract for external orchestrators
//! (contract 1.0.0 of the reference). Each call maps its flags to one
//! operation of [`crate::ops::orchestrator`] and prints one envelope on
//! stdout, for every answer, usage errors of the group included:
//!
//! `{"contract_version", "command", "timestamp", "correlation_id", "success",
//! "error_code", "data"}`
//!
//! Failures exit 1 (usage errors 2). Nothing else is printed on stdout.
#![allow(clippy::print_stderr)] // a surface: it writes its own diagnostics next to the JSON envelope

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use serde_json::{json, Value};

use crate::ops::orchestrator::{self as orch, ErrorCode, OrchError, Policy, CONTRACT_VERSION};
use crate::project::Project;

/// Machine-contract API for external orchestrators (JSON envelope on stdout, always)
#[derive(Debug, Parser)]
#[command(name = "spec-kitty orchestrator-api", max_term_width = 100)]
pub struct OrchestratorApi {
    #[command(subcommand)]
    pub verb: Verb,
}

// Each verb's flags are the reference's, one for one. `defer`: built only when
// parsed or shown (see `cli::Command`).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Verb {
    /// Return the contract version; with --provider-version, refuse a provider below the minimum
    ContractVersion {
        /// The caller's provider version (CONTRACT_VERSION_MISMATCH when below 0.1.0)
        #[arg(long)]
        provider_version: Option<String>,
    },
    /// The state of a mission: every WP, its lane, dependencies and last actor
    MissionState(MissionArg),
    /// WPs ready to start: planned, dependencies done, lane worktree free
    ListReady(MissionArg),
    /// Claim a planned WP and start it (planned -> claimed -> in_progress), handing out its lane worktree
    StartImplementation(StartArgs),
    /// A reviewer takes a WP handed in for review (for_review -> in_review)
    StartReview(ReviewArgs),
    /// Move a WP to another lane
    Transition(TransitionArgs),
    /// Append a line to a WP's activity log
    AppendHistory(HistoryArgs),
    /// Accept a mission whose WPs are all done (records the acceptance in meta.json)
    AcceptMission(AcceptArgs),
    /// Merge the mission's lanes into the target branch, like `spec-kitty merge`
    MergeMission(MergeArgs),
}

impl Verb {
    fn name(&self) -> &'static str {
        match self {
            Verb::ContractVersion { .. } => "contract-version",
            Verb::MissionState(_) => "mission-state",
            Verb::ListReady(_) => "list-ready",
            Verb::StartImplementation(_) => "start-implementation",
            Verb::StartReview(_) => "start-review",
            Verb::Transition(_) => "transition",
            Verb::AppendHistory(_) => "append-history",
            Verb::AcceptMission(_) => "accept-mission",
            Verb::MergeMission(_) => "merge-mission",
        }
    }
}

const VERBS: [&str; 9] = [
    "contract-version",
    "mission-state",
    "list-ready",
    "start-implementation",
    "start-review",
    "transition",
    "append-history",
    "accept-mission",
    "merge-mission",
];

#[derive(Debug, Args)]
pub struct MissionArg {
    /// Mission slug (the kitty-specs/ directory name)
    #[arg(long)]
    pub mission: String,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Work package ID
    #[arg(long)]
    pub wp: String,
    /// Actor identity
    #[arg(long)]
    pub actor: String,
    /// Policy metadata JSON (required)
    #[arg(long)]
    pub policy: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Work package ID
    #[arg(long)]
    pub wp: String,
    /// Actor identity
    #[arg(long)]
    pub actor: String,
    /// Policy metadata JSON (required)
    #[arg(long)]
    pub policy: Option<String>,
    /// Review reference (recorded with the move)
    #[arg(long)]
    pub review_ref: Option<String>,
}

#[derive(Debug, Args)]
pub struct TransitionArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Work package ID
    #[arg(long)]
    pub wp: String,
    /// Target lane
    #[arg(long)]
    pub to: String,
    /// Actor identity
    #[arg(long)]
    pub actor: String,
    /// Reason or note for the transition
    #[arg(long)]
    pub note: Option<String>,
    /// Policy metadata JSON (required for claimed, in_progress, for_review, in_review, approved)
    #[arg(long)]
    pub policy: Option<String>,
    /// Skip the lifecycle table (never the hand-in and approval guards); needs --note
    #[arg(long)]
    pub force: bool,
    /// Review reference: the verdict for approved/done, the feedback when sending back
    #[arg(long)]
    pub review_ref: Option<String>,
    /// JSON object with evidence, recorded with the move
    #[arg(long)]
    pub evidence_json: Option<String>,
    /// The caller reports the subtasks complete (for_review)
    #[arg(long, overrides_with = "no_subtasks_complete")]
    pub subtasks_complete: bool,
    /// The caller reports the subtasks not complete (refuses for_review)
    #[arg(long)]
    pub no_subtasks_complete: bool,
    /// The caller reports implementation evidence (for_review)
    #[arg(long, overrides_with = "no_implementation_evidence_present")]
    pub implementation_evidence_present: bool,
    /// The caller reports no implementation evidence (refuses for_review)
    #[arg(long)]
    pub no_implementation_evidence_present: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Work package ID
    #[arg(long)]
    pub wp: String,
    /// Actor identity
    #[arg(long)]
    pub actor: String,
    /// History note to append
    #[arg(long)]
    pub note: String,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Actor identity
    #[arg(long)]
    pub actor: String,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Mission slug
    #[arg(long)]
    pub mission: String,
    /// Target branch (must be the mission's; default: from meta.json)
    #[arg(long)]
    pub target: Option<String>,
    /// Merge strategy: merge, squash or rebase
    #[arg(long, default_value = "merge")]
    pub strategy: String,
    /// Push the target branch to `origin` after the merge
    #[arg(long)]
    pub push: bool,
}

/// The envelope every answer is.
#[derive(Debug, Serialize)]
pub struct Envelope {
    pub contract_version: &'static str,
    pub command: String,
    pub timestamp: String,
    pub correlation_id: String,
    pub success: bool,
    pub error_code: Option<&'static str>,
    pub data: Value,
}

fn correlation_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: a time-based id is still unique enough to correlate.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return format!("corr-{nanos:032x}");
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("corr-{hex}")
}

pub fn envelope(verb: &str, result: Result<Value, OrchError>) -> Envelope {
    let (success, error_code, data) = match result {
        Ok(data) => (true, None, data),
        Err(e) => (false, Some(e.error_code()), e.data()),
    };
    Envelope {
        contract_version: CONTRACT_VERSION,
        command: format!("orchestrator-api.{verb}"),
        timestamp: crate::timefmt::now_iso(),
        correlation_id: correlation_id(),
        success,
        error_code,
        data,
    }
}

fn emit(env: &Envelope) {
    let text = serde_json::to_string(env).unwrap_or_else(|e| {
        json!({"contract_version": CONTRACT_VERSION, "command": env.command, "success": false,
               "error_code": "INTERNAL_ERROR", "data": {"message": format!("cannot serialise: {e}")}})
        .to_string()
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

/// `spec-kitty orchestrator-api ARGS...` (`args` from the subcommand's name on).
pub fn main(args: &[OsString], cwd: &Path) -> ExitCode {
    let mut argv: Vec<OsString> = vec!["spec-kitty orchestrator-api".into()];
    argv.extend(args.iter().skip(1).cloned());
    let parsed = match OrchestratorApi::try_parse_from(&argv) {
        Ok(p) => p,
        Err(e) if !e.use_stderr() => {
            // --help / --version: text, as asked.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let verb = argv
                .get(1)
                .and_then(|a| a.to_str())
                .filter(|a| VERBS.contains(a))
                .unwrap_or("unknown");
            emit(&envelope(verb, Err(OrchError::usage(usage_message(&e)))));
            return ExitCode::from(2);
        }
    };
    let verb = parsed.verb.name();
    let result = run(parsed.verb, cwd);
    let code = match &result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.code == ErrorCode::Usage => ExitCode::from(2),
        Err(_) => ExitCode::from(1),
    };
    emit(&envelope(verb, result));
    code
}

/// clap's message without its usage footer, on one line.
fn usage_message(e: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return format!("Missing command; one of: {}", VERBS.join(", "));
    }
    let text = e.render().to_string();
    text.lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join(" ")
}

fn to_value(v: impl Serialize) -> Result<Value, OrchError> {
    serde_json::to_value(v)
        .map_err(|e| OrchError::new(ErrorCode::Internal, format!("cannot serialise: {e}")))
}

fn policy(raw: Option<&str>) -> Result<Option<Policy>, OrchError> {
    raw.map(Policy::parse).transpose()
}

/// The project of `cwd`; finding it fixes the command's confinement root, as
/// for every other command ([`crate::fsutil::fix_confinement_root`]).
fn project(cwd: &Path, mission: &str) -> Result<Project, OrchError> {
    let p = Project::discover(cwd).map_err(|e| {
        OrchError::new(
            ErrorCode::MissionNotFound,
            format!("Mission '{mission}' not found: {e}"),
        )
    })?;
    crate::fsutil::fix_confinement_root(&p.root);
    Ok(p)
}

/// Run a verb that writes mission state as the CLI runs its writers, inside
/// the auto_commit operation: with `auto_commit: true`, commit exactly the
/// mission files it changed (unless the verb commits by itself); register the
/// git merge drivers in a clone that lacks them. What happened is said on
/// stderr. A commit that should have happened and did not is the answer's
/// failure (the state change stands), after every mission was tried.
fn writing<T: Serialize>(
    p: &Project,
    verb: &str,
    wp: Option<&str>,
    commits_itself: bool,
    f: impl FnOnce() -> Result<T, OrchError>,
) -> Result<Value, OrchError> {
    use crate::merge::autocommit::AutoCommit;
    use crate::ops::auto_commit::{self, Command, Drivers};
    // A corrupt config.yaml stops every writer the same way, before it writes.
    let session = auto_commit::begin(
        p,
        Command {
            name: format!("orchestrator-api {verb}"),
            wp: wp.map(str::to_owned),
            commits_itself,
            flag: None,
        },
    )
    .map_err(|e| {
        let message = match &e.hint {
            Some(h) if !h.is_empty() => format!("{} ({h})", e.message),
            _ => e.message,
        };
        OrchError::new(ErrorCode::PreflightFailed, message)
    })?;
    let out = to_value(f()?)?;
    let finished = session.finish();
    match &finished.drivers {
        Some(Drivers::Registered(names)) => eprintln!(
            "spec-kitty: registered the git merge drivers {} in this clone's .git/config (once per clone)",
            names.join(", ")
        ),
        Some(Drivers::Failed(e)) => eprintln!(
            "spec-kitty: could not register the git merge drivers in .git/config: {}",
            e.message
        ),
        None => {}
    }
    for m in &finished.missions {
        let slug = &m.slug;
        match &m.result {
            Ok(AutoCommit::Committed(done)) => eprintln!(
                "spec-kitty: auto_commit: committed {} file(s) of kitty-specs/{slug}/ on {}",
                done.files, done.branch
            ),
            Ok(AutoCommit::Deferred { state }) => eprintln!(
                "spec-kitty: auto_commit: not committing kitty-specs/{slug}/ while a git {state} is in progress"
            ),
            Ok(AutoCommit::Nothing) | Err(_) => {}
        }
    }
    match finished.first_failure() {
        Some(e) => Err(OrchError::new(
            ErrorCode::Internal,
            format!("{verb} was recorded, but {}", e.message),
        )),
        None => Ok(out),
    }
}

fn flag(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Map one verb's flags to its operation. Policy problems come first, as in
/// the reference (a missing policy, then an invalid one, then the mission).
pub fn run(verb: Verb, cwd: &Path) -> Result<Value, OrchError> {
    match verb {
        Verb::ContractVersion { provider_version } => {
            to_value(orch::contract_version(&orch::ContractVersionRequest {
                provider_version,
            })?)
        }
        Verb::MissionState(a) => {
            let p = project(cwd, &a.mission)?;
            to_value(orch::mission_state(
                &p,
                &orch::MissionRequest { mission: a.mission },
            )?)
        }
        Verb::ListReady(a) => {
            let p = project(cwd, &a.mission)?;
            to_value(orch::list_ready(
                &p,
                &orch::MissionRequest { mission: a.mission },
            )?)
        }
        Verb::StartImplementation(a) => {
            let req = orch::StartImplementationRequest {
                policy: required_policy(a.policy.as_deref(), "for start-implementation")?,
                mission: a.mission,
                wp: a.wp,
                actor: a.actor,
            };
            let p = project(cwd, &req.mission)?;
            writing(&p, "start-implementation", Some(&req.wp), false, || {
                orch::start_implementation(&p, &req)
            })
        }
        Verb::StartReview(a) => {
            let req = orch::StartReviewRequest {
                policy: required_policy(a.policy.as_deref(), "for start-review")?,
                mission: a.mission,
                wp: a.wp,
                actor: a.actor,
                review_ref: a.review_ref,
            };
            let p = project(cwd, &req.mission)?;
            writing(&p, "start-review", Some(&req.wp), false, || {
                orch::start_review(&p, &req)
            })
        }
        Verb::Transition(a) => {
            let needs_policy = crate::status::Lane::parse(&a.to).is_ok_and(orch::run_affecting);
            if needs_policy && a.policy.is_none() {
                return Err(OrchError::new(
                    ErrorCode::PolicyMetadataRequired,
                    format!(
                        "--policy is required when transitioning to '{}'",
                        crate::status::Lane::parse(&a.to)
                            .map(|l| l.to_string())
                            .unwrap_or_default()
                    ),
                ));
            }
            let policy_given = policy(a.policy.as_deref())?;
            let evidence = match &a.evidence_json {
                None => None,
                Some(raw) => Some(crate::bounds::json::<Value>(raw).map_err(|e| {
                    OrchError::usage(format!("Invalid JSON in --evidence-json: {e}"))
                })?),
            };
            let req = orch::TransitionRequest {
                policy: None,
                evidence,
                subtasks_complete: flag(a.subtasks_complete, a.no_subtasks_complete),
                implementation_evidence_present: flag(
                    a.implementation_evidence_present,
                    a.no_implementation_evidence_present,
                ),
                mission: a.mission,
                wp: a.wp,
                to: a.to,
                actor: a.actor,
                note: a.note,
                force: a.force,
                review_ref: a.review_ref,
            };
            let req = orch::TransitionRequest {
                policy: policy_given,
                ..req
            };
            let p = project(cwd, &req.mission)?;
            writing(&p, "transition", Some(&req.wp), false, || {
                orch::transition(&p, &req)
            })
        }
        Verb::AppendHistory(a) => {
            let p = project(cwd, &a.mission)?;
            let req = orch::AppendHistoryRequest {
                mission: a.mission,
                wp: a.wp,
                actor: a.actor,
                note: a.note,
            };
            writing(&p, "append-history", Some(&req.wp), false, || {
                orch::append_history(&p, &req)
            })
        }
        Verb::AcceptMission(a) => {
            let p = project(cwd, &a.mission)?;
            let req = orch::AcceptMissionRequest {
                mission: a.mission,
                actor: a.actor,
            };
            writing(&p, "accept-mission", None, false, || {
                orch::accept_mission(&p, &req)
            })
        }
        Verb::MergeMission(a) => {
            let req = orch::MergeMissionRequest {
                mission: a.mission,
                target: a.target,
                strategy: a.strategy,
                push: a.push,
            };
            if !matches!(req.strategy.as_str(), "merge" | "squash" | "rebase") {
                // Refused before the project is looked for, as the reference does.
                return to_value(orch::merge_mission(&Project::at(cwd), &req)?);
            }
            let p = project(cwd, &req.mission)?;
            writing(&p, "merge-mission", None, true, || {
                orch::merge_mission(&p, &req)
            })
        }
    }
}

/// A policy the verb cannot run without: missing is POLICY_METADATA_REQUIRED,
/// invalid is POLICY_VALIDATION_FAILED.
fn required_policy(raw: Option<&str>, what: &str) -> Result<Option<Policy>, OrchError> {
    match raw {
        None => Err(OrchError::new(
            ErrorCode::PolicyMetadataRequired,
            format!("--policy is required {what}"),
        )),
        Some(r) => policy(Some(r)),
    }
}
