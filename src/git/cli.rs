//! The `git` program itself, for the steps libgit2 cannot do as git does:
//! fetch, merge and push with the user's own credentials helpers, ssh config
//! and hooks, and a merge that runs the merge drivers registered in
//! `.git/config` (libgit2 does not run custom drivers). Every call runs with
//! no terminal prompt (`GIT_TERMINAL_PROMPT=0`, stdin closed) and is stopped
//! after a timeout, so a credential or network hang never hangs spec-kitty.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::error::{Diagnose, Kind};

/// How long one network step (fetch, push) may take before it is stopped.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a local step (merge, status) may take.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a local step may take: [`LOCAL_TIMEOUT`], or what a test sets
/// ([`crate::env::git_local_timeout`]).
pub fn local_timeout() -> Duration {
    crate::env::git_local_timeout().unwrap_or(LOCAL_TIMEOUT)
}

/// What one `git` run said.
#[derive(Debug, Clone)]
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot run `git {args}`: {source}")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` did not finish within {secs} s and was stopped")]
    TimedOut { args: String, secs: u64 },
}

impl Diagnose for CliError {
    fn kind(&self) -> Kind {
        Kind::User
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            CliError::Spawn { .. } => "install git and put it on PATH".into(),
            CliError::TimedOut { .. } => "check the remote is reachable and that git can authenticate without asking (a credential helper or an ssh agent): spec-kitty never lets git prompt".into(),
        })
    }
}

/// `git ARGS` in `dir`, captured, with no prompt and stopped after `timeout`.
pub fn run(dir: &Path, args: &[&str], timeout: Duration) -> Result<Ran, CliError> {
    let shown = args.join(" ");
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_MERGE_AUTOEDIT", "no")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CliError::Spawn {
            args: shown.clone(),
            source,
        })?;
    // Read both pipes while git runs, so a chatty git never blocks on a full pipe.
    let drain = |p: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = p {
                // Capped: what git prints is only shown, one screen at most.
                let _ = p.by_ref().take(1 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut p, &mut std::io::sink());
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match child.wait_timeout(timeout) {
        Ok(Some(s)) => s,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CliError::TimedOut {
                args: shown,
                secs: timeout.as_secs(),
            });
        }
        Err(source) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CliError::Spawn {
                args: shown,
                source,
            });
        }
    };
    Ok(Ran {
        success: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}
