//! `agent tests stale-check`: test assertions a change probably made stale
//! (see [`crate::ops::stale_check`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::output::Render;
use crate::cli::Ctx;
use crate::error::Result;
use crate::ops::stale_check;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum TestsCommand {
    /// Find Python test assertions that name functions, classes or strings removed between two revisions
    StaleCheck(StaleCheckArgs),
}

#[derive(Debug, Args)]
pub struct StaleCheckArgs {
    /// Base revision of the comparison (a branch, tag or commit)
    #[arg(long)]
    pub base: String,
    /// Head revision of the comparison
    #[arg(long, default_value = "HEAD")]
    pub head: String,
    /// The repository's root directory
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
}

pub fn run(ctx: &Ctx, cmd: TestsCommand) -> Result<()> {
    match cmd {
        TestsCommand::StaleCheck(a) => stale(ctx, &a),
    }
}

fn stale(ctx: &Ctx, a: &StaleCheckArgs) -> Result<()> {
    let repo = if a.repo.is_absolute() {
        a.repo.clone()
    } else {
        ctx.cwd.join(&a.repo)
    };
    ctx.render(&stale_check::run(&repo, &a.base, &a.head)?)
}

impl Render for stale_check::Report {
    fn warnings(&self) -> Vec<String> {
        if self.findings_per_100_loc <= stale_check::FP_CEILING {
            return Vec::new();
        }
        vec![format!(
            "findings_per_100_loc={:.1} is over {:.1}: many of these are likely false positives",
            self.findings_per_100_loc,
            stale_check::FP_CEILING
        )]
    }

    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    fn human(&self, ctx: &Ctx) {
        let r = self;
        ctx.say(format!(
            "Stale-assertion analysis: {} -> {}",
            r.base_ref, r.head_ref
        ));
        ctx.say(format!(
            "  scanned {} test file(s) | findings/100 LOC: {:.2}",
            r.files_scanned, r.findings_per_100_loc
        ));
        if r.findings.is_empty() {
            ctx.say("No stale assertions detected.");
            return;
        }
        for level in ["high", "medium", "low"] {
            let of: Vec<_> = r
                .findings
                .iter()
                .filter(|f| f.confidence == level)
                .collect();
            if of.is_empty() {
                continue;
            }
            ctx.say(format!("{} confidence:", level.to_uppercase()));
            for f in of {
                let test = f
                    .test_file
                    .strip_prefix(&r.repo_root)
                    .unwrap_or(&f.test_file);
                ctx.say(format!(
                    "  {}:{}  {}  ({})",
                    test.display(),
                    f.test_line,
                    f.changed_symbol.replace(['\n', '\r'], " "),
                    f.hint
                ));
            }
        }
    }
}
