//! The command line: clap definitions, one module per command group, and the one
//! exhaustive dispatch. Commands parse their arguments, call the core, and render
//! human text or a single JSON document through [`output`].

pub mod agent;
pub mod auth;
pub mod charter;
pub mod compat;
pub mod completion;
pub mod context_cmd;
pub mod dashboard;
pub mod doctor;
pub mod doctrine;
pub mod drivers;
pub mod glossary;
pub mod implement;
pub mod init;
pub mod lifecycle;
pub mod mcp;
pub mod mission_types;
pub mod next;
pub mod ops;
pub mod output;
pub mod repair;
pub mod research;
pub mod setup;
pub mod state;
pub mod sync;
pub mod upgrade;
pub mod validate;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::Result;
pub use output::Ctx;

/// Spec-driven development for people and AI coding agents.
///
/// Start with `spec-kitty init`, create a mission with `spec-kitty agent mission
/// create`, then loop on `spec-kitty next --agent <agent> --mission <slug>`.
#[derive(Debug, Parser)]
#[command(
    name = "spec-kitty",
    version,
    propagate_version = false,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: output::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

// `defer`: clap builds a subcommand's arguments only when that subcommand is
// parsed or its help rendered, so start-up does not pay for the whole tree (every
// `Subcommand` enum here says so). A variant's doc comment is its help text; an
// `Args` struct of a variant keeps plain `//` comments, since under `defer` its
// doc comment would be applied last and replace the variant's.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Set up a spec-kitty project (never runs git, never commits)
    Init(init::InitArgs),
    /// Decide the next step of a mission for an agent (the canonical loop entry)
    Next(next::NextArgs),
    /// Internal: allocate the workspace for a work package (use `agent action implement`)
    Implement(implement::ImplementArgs),
    /// Check a mission is ready to merge (same as `agent mission accept`)
    Accept(agent::merge::AcceptArgs),
    /// Merge a mission's lanes into its target branch and record the mission (it commits)
    Merge(agent::merge::MergeArgs),
    /// Create a mission (same as `agent mission create`; a free-form name becomes its slug)
    Specify(lifecycle::SpecifyArgs),
    /// Create a mission's plan.md from its template (same as `agent mission setup-plan`)
    Plan(lifecycle::PlanArgs),
    /// Finalize a mission's work packages: dependencies and lanes (same as `agent mission finalize-tasks`)
    Tasks(lifecycle::TasksArgs),
    /// Show where each asset spec-kitty uses comes from (--show-origin)
    Config(setup::ConfigArgs),
    /// Check the environment: project, missions, worktrees, command files, tools
    VerifySetup(setup::VerifyArgs),
    /// Bring a project made by an older spec-kitty up to this build's layout
    Migrate(setup::MigrateArgs),
    /// Project health: command files, state roots
    Doctor(Group<doctor::DoctorCommand>),
    /// Rebuild a mission's status.json from its event log
    Materialize(agent::tasks_status::MaterializeArgs),
    /// Bring project metadata and slash commands up to this binary's version
    Upgrade(upgrade::UpgradeArgs),
    /// The project charter: interview, generate, status, context
    Charter(Group<charter::CharterCommand>),
    /// Scaffold a mission's Phase 0 research files (research.md and companions)
    Research(research::ResearchArgs),
    /// Mission types: list, current, info
    Mission(Group<mission_types::MissionTypeCommand>),
    /// Mission types: list, current, info (the same commands as `mission`)
    MissionType(Group<mission_types::MissionTypeCommand>),
    /// Serve a live, read-only web kanban of the project on 127.0.0.1
    Dashboard(dashboard::DashboardArgs),
    /// Serve spec-kitty to MCP hosts (Claude Code, Codex, Cursor) over stdio
    #[command(after_help = mcp::AFTER_HELP)]
    Mcp(mcp::McpArgs),
    /// Log in to the sync server and manage the stored session
    Auth(Group<auth::AuthCommand>),
    /// The reference's hosted-sync group, answered locally (teams sync through git); `sync workspace` updates a lane
    Sync(Group<sync::SyncCommand>),
    /// Doctrine curation of the project's .kittify/doctrine/: status, promote, curate, reset
    Doctrine(Group<doctrine::DoctrineCommand>),
    /// The project glossary under .kittify/: list, conflicts, resolve
    Glossary(Group<glossary::GlossaryCommand>),
    /// Operation history (git reflog) and undo of spec-kitty's own last commit
    Ops(Group<ops::OpsCommand>),
    /// Commands AI agents call: missions, tasks, actions, releases
    Agent(Group<agent::AgentCommand>),
    /// Machine-contract API for external orchestrators (one JSON envelope on stdout, always)
    OrchestratorApi(Group<crate::orchestrator_api::Verb>),
    /// Workspace contexts and MissionContext tokens: info (the default), list, cleanup, mission-resolve, mission-show
    Context {
        #[command(subcommand)]
        cmd: Option<context_cmd::ContextCommand>,
    },
    /// Repair broken slash-command files; diagnose lane worktrees
    Repair(Group<repair::RepairCommand>),
    /// Check a mission's Markdown for encoding hazards (smart quotes, Windows-1252) and fix them
    ValidateEncoding(validate::EncodingArgs),
    /// Legacy lane directories (tasks/doing/...): find and fix frontmatter lanes that disagree
    ValidateTasks(validate::TasksArgs),
    /// List pre-0.11 one-worktree-per-mission worktrees that block the lane layout
    ListLegacyFeatures(validate::LegacyArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    Completion(completion::CompletionArgs),
    /// Print the man page (roff): `spec-kitty man | man -l -`
    #[command(hide = true)]
    Man(completion::ManArgs),
    /// git merge driver for status.events.jsonl (union by event_id)
    #[command(hide = true)]
    MergeDriverEventLog(drivers::DriverArgs),
    /// git merge driver for status.json (derived from the log; never conflicts)
    #[command(hide = true)]
    MergeDriverStatusJson(drivers::DriverArgs),
    /// git merge driver for tasks/WP*.md (activity log by union)
    #[command(hide = true)]
    MergeDriverWp(drivers::DriverArgs),
}

impl Command {
    /// Does this command write mission state, and what the hook around it
    /// needs to know (see [`state::Writes`]). Exhaustive: a new command says.
    pub fn writes(&self) -> Option<state::Writes> {
        use state::Writes;
        match self {
            Command::Next(_) | Command::Accept(_) | Command::Materialize(_) => Writes::state(),
            Command::Research(_) => Writes::state(),
            Command::Specify(_) | Command::Plan(_) | Command::Tasks(_) => Writes::state(),
            Command::Implement(a) => Writes::on_wp(a.wp_id.as_deref(), Some(&a.commit)),
            Command::Merge(_) => Writes::committer(),
            Command::Agent(c) => c.command.writes(),
            // A lane repair is a WP-metadata edit like move-task's; auto_commit commits it.
            Command::ValidateTasks(a) if a.fix => Writes::state(),
            // Encoding fixes leave `.bak` copies beside the files: never auto-committed.
            Command::ValidateTasks(_)
            | Command::ValidateEncoding(_)
            | Command::ListLegacyFeatures(_)
            | Command::Repair(_)
            | Command::Context { .. }
            | Command::Init(_)
            | Command::Config(_)
            | Command::VerifySetup(_)
            | Command::Migrate(_)
            | Command::Doctor(_)
            | Command::Upgrade(_)
            | Command::Charter(_)
            | Command::Mission(_)
            | Command::MissionType(_)
            | Command::Dashboard(_)
            | Command::Mcp(_)
            | Command::Auth(_)
            | Command::Sync(_)
            | Command::Doctrine(_)
            | Command::Glossary(_)
            | Command::Ops(_)
            | Command::OrchestratorApi(_)
            | Command::Completion(_)
            | Command::Man(_)
            | Command::MergeDriverEventLog(_)
            | Command::MergeDriverStatusJson(_)
            | Command::MergeDriverWp(_) => None,
        }
    }
}

// A command group: its subcommands are built only when the group is parsed
// or its help rendered (the `defer` of `Command` applies to a variant's
// `Args`, never to a `#[command(subcommand)]` variant, whose whole list of
// subcommands was built on every start: `agent` alone was a twelfth of
// `--version`). Plain comments: a doc comment would replace the variant's help.
#[derive(Debug, clap::Args)]
pub struct Group<T: Subcommand> {
    #[command(subcommand)]
    pub command: T,
}

/// Parse `args`, run the command, render its result, and map errors to exit codes.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    if let Some(at) = orchestrator_api_at(&args) {
        // Its own parser, so that usage errors are envelopes too.
        let cwd = std::env::current_dir().unwrap_or_else(|_| ".".into());
        return crate::orchestrator_api::main(&args[at..], &cwd);
    }
    let mut command = Cli::command();
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    // The command tree lives until the process ends: freeing it node by node
    // cost a third as much as building it (`--version`, `status`), for memory
    // the exit returns anyway.
    std::mem::forget(command);
    let (cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => return usage_error(&args, &e),
    };
    let ctx = Ctx::new(&cli.global);
    // A panic is a bug, but it still ends as an error (exit 3, and one JSON
    // document under --json), never as Rust's abort message and exit 101.
    let panicked = output::catch_panics();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let hook = match state::before(&ctx, subcommand_path(&matches), cli.command.writes()) {
            Ok(hook) => hook,
            Err(e) => return Err(AfterError::Command(e)),
        };
        let result = run(&ctx, cli.command);
        match (result, hook) {
            // The command's own output (its one JSON document under --json)
            // is out; a commit that did not happen is said on stderr and in
            // the exit status.
            (Ok(()), Some(hook)) => state::after(&ctx, hook).map_err(AfterError::After),
            (result, _) => result.map_err(AfterError::Command),
        }
    }))
    .unwrap_or_else(|_| Err(AfterError::Command(panicked.error())));
    let result = match result {
        Err(AfterError::After(e)) => {
            output::print_error(&ctx, &e);
            return ExitCode::from(e.kind.exit_code());
        }
        Err(AfterError::Command(e)) => Err(e),
        Ok(()) => Ok(()),
    };
    ctx.finish(result)
}

/// Where a failure came from: the command itself, or the auto_commit step after it.
enum AfterError {
    Command(crate::Error),
    After(crate::Error),
}

/// Report a clap error. Whether `--json` was given is asked of clap itself (a
/// lenient re-parse), so `create -- --json` is a positional, not JSON mode. Where
/// clap stops before the flag (an unknown argument or subcommand), the flag counts
/// only as a whole option token before any `--` terminator.
fn usage_error(args: &[OsString], e: &clap::Error) -> ExitCode {
    let code = if e.use_stderr() { 2 } else { 0 };
    // Only an error asks (`--version` and `--help` end here too, with code 0,
    // and would pay for a second parse).
    let lenient = || {
        Cli::command()
            .ignore_errors(true)
            .try_get_matches_from(args)
            .is_ok_and(|m| json_flag(&m))
    };
    let json = code != 0
        && (lenient()
            || args
                .iter()
                .skip(1)
                .take_while(|a| *a != "--")
                .any(|a| a == "--json"));
    if json {
        output::print_json_error(
            &crate::Error::usage(e.kind().to_string()).with_hint(usage_hint(e)),
        );
    } else {
        let _ = e.print();
    }
    ExitCode::from(code)
}

/// Where `orchestrator-api` is the subcommand: its index in `args`, after
/// any global options (`--json`, `--color WHEN`, `--color=WHEN`).
fn orchestrator_api_at(args: &[OsString]) -> Option<usize> {
    let mut i = 1;
    while let Some(a) = args.get(i) {
        match a.to_str() {
            Some("orchestrator-api") => return Some(i),
            Some("--json") => i += 1,
            Some("--color") => i += 2,
            Some(s) if s.starts_with("--color=") => i += 1,
            _ => return None,
        }
    }
    None
}

/// The matched subcommand chain, e.g. `["agent", "tasks", "move-task"]`.
fn subcommand_path(m: &clap::ArgMatches) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = m;
    while let Some((name, sub)) = cur.subcommand() {
        out.push(name.to_string());
        cur = sub;
    }
    out
}

/// `--json` anywhere in the matched subcommand chain (it is a global flag).
fn json_flag(m: &clap::ArgMatches) -> bool {
    let here = matches!(m.try_get_one::<bool>("json"), Ok(Some(true)));
    here || m.subcommand().is_some_and(|(_, sub)| json_flag(sub))
}

/// The error text without clap's usage footer, joined on one line, so a missing
/// argument is named ("... were not provided: --mission <MISSION>").
fn usage_hint(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let body: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    body.join(" ")
}

/// The one dispatch over every command.
pub fn run(ctx: &Ctx, command: Command) -> Result<()> {
    crate::env::test_panic();
    match command {
        Command::Init(a) => init::run(ctx, &a),
        Command::Next(a) => next::run(ctx, &a),
        Command::Implement(a) => implement::run(ctx, &a),
        Command::Accept(a) => agent::merge::run_accept(ctx, &a),
        Command::Merge(a) => agent::merge::run_merge(ctx, &a),
        Command::Specify(a) => lifecycle::run_specify(ctx, &a),
        Command::Plan(a) => lifecycle::run_plan(ctx, &a),
        Command::Tasks(a) => lifecycle::run_tasks(ctx, &a),
        Command::Config(a) => setup::run_config(ctx, &a),
        Command::VerifySetup(a) => setup::run_verify(ctx, &a),
        Command::Migrate(a) => setup::run_migrate(ctx, &a),
        Command::Doctor(c) => doctor::run(ctx, c.command),
        Command::Materialize(a) => agent::tasks_status::run_materialize(ctx, &a),
        Command::Upgrade(a) => upgrade::run(ctx, &a),
        Command::Charter(c) => charter::run(ctx, c.command),
        Command::Research(a) => research::run(ctx, &a),
        Command::Mission(c) => mission_types::run(ctx, c.command),
        Command::MissionType(c) => mission_types::run(ctx, c.command),
        Command::Auth(c) => auth::run(ctx, c.command),
        Command::Sync(c) => sync::run(ctx, c.command),
        Command::Ops(c) => ops::run(ctx, c.command),
        Command::Doctrine(c) => doctrine::run(ctx, c.command),
        Command::Glossary(c) => glossary::run(ctx, c.command),
        Command::Dashboard(a) => dashboard::run(ctx, &a),
        Command::Mcp(a) => mcp::run(ctx, &a),
        Command::Agent(c) => agent::run(ctx, c.command),
        // `main` hands `orchestrator-api` to its own parser before this one runs.
        Command::OrchestratorApi(_) => Err(crate::Error::internal(
            "orchestrator-api is answered before the main parser runs",
        )),
        Command::Context { cmd } => context_cmd::run(ctx, cmd),
        Command::Repair(c) => repair::run(ctx, c.command),
        Command::ValidateEncoding(a) => validate::run_encoding(ctx, &a),
        Command::ValidateTasks(a) => validate::run_tasks(ctx, &a),
        Command::ListLegacyFeatures(a) => validate::run_legacy(ctx, &a),
        Command::Completion(a) => completion::run_completion(ctx, &a),
        Command::Man(a) => completion::run_man(ctx, &a),
        Command::MergeDriverEventLog(a) => drivers::run_event_log(ctx, &a),
        Command::MergeDriverStatusJson(a) => drivers::run_status_json(ctx, &a),
        Command::MergeDriverWp(a) => drivers::run_wp(ctx, &a),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    fn writes(args: &[&str]) -> Option<super::state::Writes> {
        use clap::Parser;
        let argv = std::iter::once("spec-kitty").chain(args.iter().copied());
        super::Cli::try_parse_from(argv)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .command
            .writes()
    }

    /// The commands that write mission state (the hook registers the merge
    /// drivers after them and auto-commits what they changed) are the ones the
    /// old argv table listed; the committers are left alone by auto_commit.
    #[test]
    fn writing_state_is_a_property_of_the_parsed_command() {
        let state: &[&[&str]] = &[
            &["next", "--agent", "a"],
            &["accept"],
            &["materialize"],
            &["research"],
            &["specify", "x"],
            &["plan"],
            &["tasks"],
            &["agent", "action", "implement"],
            &["agent", "action", "review"],
            &["agent", "mission", "create", "x"],
            &["agent", "mission", "finalize-tasks"],
            &["agent", "mission", "accept"],
            &["agent", "mission", "repair-status"],
            &["agent", "mission", "backfill-identity"],
            &["agent", "mission", "setup-plan"],
            &["agent", "tasks", "finalize-tasks"],
            &["agent", "tasks", "map-requirements", "--batch", "{}"],
        ];
        for args in state {
            assert_eq!(
                writes(args),
                Some(super::state::Writes::default()),
                "{args:?}"
            );
        }
        for args in [
            &["merge"][..],
            &["agent", "mission", "merge"],
            &["agent", "mission", "record"],
        ] {
            let w = writes(args).unwrap_or_else(|| panic!("{args:?} writes"));
            assert!(w.commits_itself, "{args:?}");
        }
        let readers: &[&[&str]] = &[
            &["init"],
            &["upgrade"],
            &["agent", "mission", "list"],
            &["agent", "mission", "check-prerequisites"],
            &["agent", "mission", "delete", "--mission", "x"],
            &["agent", "tasks", "status"],
            &["agent", "tasks", "list-tasks"],
            &["agent", "tasks", "list-dependents", "WP01"],
            &["agent", "tasks", "validate-workflow"],
            &["agent", "status", "validate"],
            &["agent", "check-prerequisites"],
        ];
        for args in readers {
            assert_eq!(writes(args), None, "{args:?}");
        }
    }

    /// The work package named in the auto-commit message, and the
    /// `--auto-commit/--no-auto-commit` choice, come from the typed arguments;
    /// non-ASCII ids never panic and never count as a work package.
    #[test]
    fn a_writer_names_its_work_package_and_carries_its_flag() {
        let w = writes(&[
            "agent",
            "tasks",
            "move-task",
            "wp01",
            "--to",
            "claimed",
            "--auto-commit",
        ])
        .unwrap();
        assert_eq!((w.wp.as_deref(), w.flag), (Some("WP01"), Some(true)));
        let w = writes(&["implement", "WP02", "--no-auto-commit"]).unwrap();
        assert_eq!((w.wp.as_deref(), w.flag), (Some("WP02"), Some(false)));
        let w = writes(&["agent", "tasks", "mark-status", "T001", "--status", "done"]).unwrap();
        assert_eq!((w.wp, w.flag), (None, None));
        let w = writes(&["agent", "tasks", "add-history", "WP03", "--note", "n"]).unwrap();
        assert_eq!(w.wp.as_deref(), Some("WP03"));
        let w = writes(&[
            "agent",
            "tasks",
            "map-requirements",
            "--wp",
            "WP04",
            "--refs",
            "FR-001",
        ])
        .unwrap();
        assert_eq!(w.wp.as_deref(), Some("WP04"));
        for id in ["WÖ1", "WP１", "日本語", "é", "W", "WP"] {
            let w = writes(&["agent", "action", "implement", id]).unwrap();
            assert_eq!(w.wp, None, "{id}");
        }
    }
}
