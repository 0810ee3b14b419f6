//! `spec-kitty auth` (also `spec-kitty agent auth`).

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;
use serde_json::{json, Value};

use super::output::{esc, Render};
use super::Ctx;
use crate::auth::{self, AuthHome, LoginInput, Refreshed};
use crate::error::{Error, Result};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum AuthCommand {
    /// Log in to the sync server and store the tokens in ~/.spec-kitty/credentials
    Login {
        /// Username (asked for on a terminal when left out)
        #[arg(short, long)]
        username: Option<String>,
        /// Password (prefer --password-stdin; asked for on a terminal)
        #[arg(short, long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
        /// Log in again even when a session is stored
        #[arg(short, long)]
        force: bool,
    },
    /// Forget the stored session
    Logout {},
    /// Show the stored session (never refreshes or clears it)
    Status {},
    /// Refresh the access token now, holding the credentials lock throughout
    Refresh {
        /// Ask the server even when the access token is still fresh
        #[arg(long)]
        force: bool,
    },
}

/// Ask for the password on the terminal without echoing it (echo is turned
/// off on stdin for the read and restored after, also on error).
fn prompt_password() -> Result<String> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = std::io::stdin().as_raw_fd();
        // SAFETY: tcgetattr/tcsetattr on our own stdin with a zeroed termios
        // that tcgetattr fills; nothing else is touched.
        let mut old: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fills `old`, a termios we own, from our own stdin.
        if unsafe { libc::tcgetattr(fd, &mut old) } == 0 {
            let mut quiet = old;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            // SAFETY: sets our own stdin from a termios copied from the one read above.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
            let line = prompt_line("Password");
            // SAFETY: restores the settings read above.
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
            return line;
        }
    }
    prompt_line("Password")
}

fn prompt_line(label: &str) -> Result<String> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{label}: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::user(format!("cannot read {label}: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Read a login value from where [`auth::plan_login`] said.
fn read_input(from: LoginInput, label: &str) -> Result<String> {
    match from {
        LoginInput::Given(v) => Ok(v),
        LoginInput::Ask if label == "Password" => prompt_password(),
        LoginInput::Ask => prompt_line(label),
        LoginInput::StdinLine => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::user(format!("cannot read the password from stdin: {e}")))?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

fn describe(c: &auth::Credentials) -> Value {
    json!({
        "username": c.username,
        "team_slug": c.team_slug,
        "server_url": c.server_url,
        "access_expires_at": c.access_expires_at,
        "refresh_expires_at": c.refresh_expires_at,
        "access_seconds_left": c.access_seconds_left().max(0),
        "refresh_seconds_left": c.refresh_seconds_left().max(0),
        "access_valid": c.access_seconds_left() > 0,
        "refresh_valid": c.refresh_seconds_left() > 0,
    })
}

fn human_left(secs: i64) -> String {
    match secs {
        s if s <= 0 => "expired".into(),
        s if s < 120 => format!("{s} s left"),
        s if s < 7200 => format!("{} min left", s / 60),
        s if s < 172_800 => format!("{} h left", s / 3600),
        s => format!("{} days left", s / 86_400),
    }
}

pub fn run(ctx: &Ctx, cmd: AuthCommand) -> Result<()> {
    let home = AuthHome::from_env()?;
    match cmd {
        AuthCommand::Status { .. } => ctx.render(&Status {
            creds: auth::load(&home)?,
            credentials_file: home.credentials(),
        }),
        AuthCommand::Logout { .. } => ctx.render(&LoggedOut(auth::logout(&home)?)),
        AuthCommand::Refresh { force, .. } => {
            let (how, creds) = auth::refresh(&home, force)?;
            ctx.render(&Refresh { how, creds })
        }
        AuthCommand::Login {
            username,
            password,
            password_stdin,
            force,
            ..
        } => {
            let tty = std::io::stdin().is_terminal();
            let (user_from, pass_from) =
                auth::plan_login(&home, username, password, password_stdin, force, tty)?;
            let username = read_input(user_from, "Username")?;
            let password = read_input(pass_from, "Password")?;
            ctx.render(&LoggedIn(auth::login(&home, &username, &password)?))
        }
    }
}

/// `head` followed by the fields of [`describe`].
fn with_session(mut head: Value, c: &auth::Credentials) -> Value {
    if let (Some(obj), Some(d)) = (head.as_object_mut(), describe(c).as_object()) {
        obj.extend(d.clone());
    }
    head
}

/// `auth status`: the stored session, if any.
struct Status {
    creds: Option<auth::Credentials>,
    credentials_file: std::path::PathBuf,
}

impl Render for Status {
    fn json(&self) -> Value {
        let head =
            json!({"logged_in": self.creds.is_some(), "credentials_file": self.credentials_file});
        match &self.creds {
            Some(c) => with_session(head, c),
            None => head,
        }
    }

    fn human(&self, ctx: &Ctx) {
        match &self.creds {
            None => ctx.say("not logged in (run `spec-kitty auth login`)"),
            Some(c) => {
                ctx.say(format!(
                    "logged in as {} on {}",
                    ctx.bold(&esc(&c.username)),
                    esc(&c.server_url)
                ));
                ctx.say(format!(
                    "  access token:  {} ({})",
                    c.access_expires_at,
                    human_left(c.access_seconds_left())
                ));
                ctx.say(format!(
                    "  refresh token: {} ({})",
                    c.refresh_expires_at,
                    human_left(c.refresh_seconds_left())
                ));
            }
        }
    }
}

/// `auth logout`: whether a session was stored.
struct LoggedOut(bool);

impl Render for LoggedOut {
    fn json(&self) -> Value {
        json!({"result": "success", "was_logged_in": self.0})
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(if self.0 {
            "logged out"
        } else {
            "not logged in"
        });
    }
}

/// `auth refresh`: what happened, and the session now stored.
struct Refresh {
    how: Refreshed,
    creds: auth::Credentials,
}

impl Render for Refresh {
    fn json(&self) -> Value {
        with_session(
            json!({"result": "success", "outcome": self.how}),
            &self.creds,
        )
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(match self.how {
            Refreshed::Refreshed => "refreshed the access token",
            Refreshed::StillFresh => "the access token is still fresh; nothing to do",
            Refreshed::RotatedElsewhere => {
                "another spec-kitty process refreshed the tokens; using them"
            }
        });
    }
}

/// `auth login`: the new session.
struct LoggedIn(auth::Credentials);

impl Render for LoggedIn {
    fn json(&self) -> Value {
        with_session(json!({"result": "success"}), &self.0)
    }

    fn human(&self, ctx: &Ctx) {
        ctx.say(format!(
            "logged in as {} on {}",
            esc(&self.0.username),
            esc(&self.0.server_url)
        ));
    }
}
