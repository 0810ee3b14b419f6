//! Login to the sync server: the credentials store and the file-locked token refresh.
//!
//! Credentials live in `~/.spec-kitty/credentials` (TOML, mode 0600, replaced
//! atomically) in the reference's layout. Every change to them happens while
//! holding an exclusive lock on `~/.spec-kitty/credentials.lock`; a refresh
//! holds it from reading the refresh token, through the request, to saving the
//! new tokens, so two processes never spend the same refresh token. This is
//! the only module that touches the network or starts a tokio runtime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::fsutil::{self, FileLock};

pub const DEFAULT_SERVER: &str = "https://spec-kitty-dev.fly.dev";
const DEFAULT_ACCESS_LIFETIME: i64 = 900;
const DEFAULT_REFRESH_LIFETIME: i64 = 604_800;
const DEFAULT_LOCK_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_HTTP_TIMEOUT_MS: u64 = 8_000;

/// `~/.spec-kitty/`, and the settings the environment gives `auth`.
#[derive(Debug, Clone)]
pub struct AuthHome {
    pub dir: PathBuf,
    /// The server named by the environment, which beats config.toml.
    pub server_override: Option<String>,
    /// How long to wait for the credentials lock.
    pub lock_timeout: Duration,
    /// How long one request to the server may take.
    pub http_timeout: Duration,
}

impl AuthHome {
    /// `home/.spec-kitty/` with no overrides.
    pub fn new(home: PathBuf) -> AuthHome {
        AuthHome {
            dir: home.join(".spec-kitty"),
            server_override: None,
            lock_timeout: Duration::from_millis(DEFAULT_LOCK_TIMEOUT_MS),
            http_timeout: Duration::from_millis(DEFAULT_HTTP_TIMEOUT_MS),
        }
    }

    /// From `$HOME`, `$SPEC_KITTY_SERVER_URL`, `$SPEC_KITTY_LOCK_TIMEOUT_MS` and
    /// `$SPEC_KITTY_HTTP_TIMEOUT_MS` (see [`crate::env`]).
    pub fn from_env() -> Result<AuthHome> {
        let home = crate::env::home().ok_or_else(|| {
            Error::user("HOME is not set").with_hint("set HOME to your home directory")
        })?;
        let mut h = AuthHome::new(home);
        h.server_override = crate::env::server_url();
        if let Some(t) = crate::env::lock_timeout() {
            h.lock_timeout = t;
        }
        if let Some(t) = crate::env::http_timeout() {
            h.http_timeout = t;
        }
        Ok(h)
    }
    pub fn credentials(&self) -> PathBuf {
        self.dir.join("credentials")
    }
    pub fn lock_path(&self) -> PathBuf {
        self.dir.join("credentials.lock")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    fn lock(&self) -> Result<FileLock> {
        // 0700 every time, also when it already existed wider; a link there is refused.
        fsutil::create_private_dir(&self.dir)?;
        FileLock::acquire(&self.lock_path(), self.lock_timeout, "the credentials file").map_err(|e| {
            Error::from(e).with_hint(format!(
                "another spec-kitty process holds {}; try again, or raise SPEC_KITTY_LOCK_TIMEOUT_MS",
                self.lock_path().display()
            ))
        })
    }
}

/// A stored login.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credentials {
    pub access: String,
    pub refresh: String,
    pub access_expires_at: String,
    pub refresh_expires_at: String,
    pub username: String,
    pub team_slug: Option<String>,
    pub server_url: String,
}

/// An expiry timestamp; unreadable means expired. A naive time is UTC.
fn parse_expiry(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(&s.replace(' ', "T")) {
        return Some(t.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

fn seconds_left(s: &str) -> i64 {
    parse_expiry(s).map_or(i64::MIN, |t| (t - Utc::now()).num_seconds())
}

impl Credentials {
    pub fn access_seconds_left(&self) -> i64 {
        seconds_left(&self.access_expires_at)
    }
    pub fn refresh_seconds_left(&self) -> i64 {
        seconds_left(&self.refresh_expires_at)
    }

    fn to_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut out = format!(
            "[tokens]\naccess = {}\nrefresh = {}\naccess_expires_at = {}\nrefresh_expires_at = {}\n\n[user]\nusername = {}\n",
            q(&self.access),
            q(&self.refresh),
            q(&self.access_expires_at),
            q(&self.refresh_expires_at),
            q(&self.username)
        );
        if let Some(t) = &self.team_slug {
            out.push_str(&format!("team_slug = {}\n", q(t)));
        }
        out.push_str(&format!("\n[server]\nurl = {}\n", q(&self.server_url)));
        out
    }

    fn parse(path: &Path, text: &str) -> Result<Credentials> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = crate::error::toml_error_line(text, &e);
            Error::parse(
                path,
                line,
                format!("invalid credentials file: {}", e.message()),
            )
            .with_hint("run `spec-kitty auth login --force` to replace it")
        })?;
        let get = |table: &str, key: &str| -> Option<String> {
            doc.get(table)?.get(key)?.as_str().map(str::to_string)
        };
        let need = |table: &str, key: &str| {
            get(table, key).ok_or_else(|| {
                Error::parse(
                    path,
                    None,
                    format!("credentials file has no [{table}] {key}"),
                )
                .with_hint("run `spec-kitty auth login --force` to replace it")
            })
        };
        Ok(Credentials {
            access: need("tokens", "access")?,
            refresh: need("tokens", "refresh")?,
            access_expires_at: get("tokens", "access_expires_at").unwrap_or_default(),
            refresh_expires_at: get("tokens", "refresh_expires_at").unwrap_or_default(),
            username: get("user", "username").unwrap_or_else(|| "unknown".into()),
            team_slug: get("user", "team_slug"),
            server_url: get("server", "url").unwrap_or_default(),
        })
    }
}

/// A credentials file spec-kitty writes is well under 1 KiB; anything over this
/// is not one, and is refused before it is read into memory.
pub const MAX_CREDENTIALS_BYTES: u64 = 64 * 1024;

/// Read the stored login without locking (the file is only ever replaced whole).
pub fn load(home: &AuthHome) -> Result<Option<Credentials>> {
    let path = home.credentials();
    match fsutil::read_capped(&path, MAX_CREDENTIALS_BYTES) {
        Ok(Some(text)) => Credentials::parse(&path, &text).map(Some),
        Ok(None) => Ok(None),
        Err(e) => {
            Err(crate::Error::from(e)
                .with_hint("run `spec-kitty auth login --force` to replace it"))
        }
    }
}

fn save(home: &AuthHome, c: &Credentials) -> Result<()> {
    Ok(fsutil::atomic_write_mode(
        &home.credentials(),
        c.to_toml().as_bytes(),
        Some(0o600),
    )?)
}

fn clear(home: &AuthHome) -> Result<bool> {
    match std::fs::remove_file(home.credentials()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", &home.credentials(), e)),
    }
}

/// The server: `SPEC_KITTY_SERVER_URL`, else `[sync] server_url` in
/// `~/.spec-kitty/config.toml`, else the default. HTTPS is required except for
/// loopback addresses (local test servers).
pub fn server_url(home: &AuthHome) -> Result<String> {
    let url = match home.server_override.clone() {
        Some(u) => u,
        None => {
            let cfg = home.config();
            // Missing means the default; any other read error is an error,
            // never a silent fall-back to the default server.
            let text = fsutil::read_capped(&cfg, MAX_CREDENTIALS_BYTES)?.unwrap_or_default();
            let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                Error::parse(&cfg, None, format!("invalid TOML: {}", e.message()))
            })?;
            doc.get("sync")
                .and_then(|s| s.get("server_url"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| DEFAULT_SERVER.to_string())
        }
    };
    check_url(url.trim().trim_end_matches('/'))
}

fn check_url(url: &str) -> Result<String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        Error::user(format!("invalid server URL {url}: {e}"))
            .with_hint("use a full URL such as https://sync.example.com")
    })?;
    let host = parsed
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(url.to_string()),
        "http" if loopback => Ok(url.to_string()),
        _ => Err(Error::user(format!(
            "refusing to send credentials to {url}: HTTPS is required"
        ))
        .with_hint("use an https:// server URL (plain http is allowed only for localhost)")),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the network runtime: {e}")))
}

/// What the server answered.
enum Reply {
    Ok(serde_json::Value),
    Status(u16),
}

fn post(url: &str, body: &serde_json::Value, timeout: Duration) -> Result<Reply> {
    runtime()?.block_on(async {
        // Redirects are never followed: a 307/308 would resend the body (the
        // password or the refresh token) to wherever the Location points.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        let resp = client.post(url).json(body).send().await.map_err(|e| {
            Error::user(format!("cannot reach the server at {url}: {e}"))
                .with_hint("check the network and the server URL; stored credentials were kept")
        })?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let to = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("elsewhere")
                .to_string();
            return Err(Error::user(format!(
                "the server at {url} answered {status}, a redirect to {to}; spec-kitty does not follow redirects with credentials"
            ))
            .with_hint("set the server URL to the final address (SPEC_KITTY_SERVER_URL or [sync] server_url); stored credentials were kept"));
        }
        if status != 200 {
            return Ok(Reply::Status(status));
        }
        let v: serde_json::Value = resp.json().await.map_err(|_| {
            Error::user(format!("invalid response from {url}"))
                .with_hint("stored credentials were kept")
        })?;
        Ok(Reply::Ok(v))
    })
}

fn lifetime(v: &serde_json::Value, keys: &[&str], default: i64) -> i64 {
    keys.iter()
        .filter_map(|k| v.get(*k))
        .find_map(|x| {
            x.as_i64()
                .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

fn tokens_from(
    v: &serde_json::Value,
    username: &str,
    team: Option<String>,
    server: &str,
    url: &str,
) -> Result<Credentials> {
    let field = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::user(format!("invalid response from {url}: no `{k}`"))
                    .with_hint("stored credentials were kept")
            })
    };
    let now = Utc::now();
    let at = |secs: i64| {
        (now + chrono::Duration::seconds(secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    };
    Ok(Credentials {
        access: field("access")?,
        refresh: field("refresh")?,
        access_expires_at: at(lifetime(
            v,
            &["access_lifetime", "expires_in", "access_expires_in"],
            DEFAULT_ACCESS_LIFETIME,
        )),
        refresh_expires_at: at(lifetime(
            v,
            &["refresh_lifetime", "refresh_expires_in"],
            DEFAULT_REFRESH_LIFETIME,
        )),
        username: v
            .get("username")
            .and_then(|x| x.as_str())
            .unwrap_or(username)
            .to_string(),
        team_slug: v
            .get("team_slug")
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .or(team),
        server_url: server.to_string(),
    })
}

/// Where `auth login` takes a value from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginInput {
    /// Given on the command line.
    Given(String),
    /// The first line of stdin (`--password-stdin`).
    StdinLine,
    /// Asked for on the terminal.
    Ask,
}

/// The login policy, decided before anything is read or sent: a stored session
/// that can still refresh is kept unless `force`; a value not given is asked
/// for only on a terminal (`tty`), never waited for on a pipe.
pub fn plan_login(
    home: &AuthHome,
    username: Option<String>,
    password: Option<String>,
    password_stdin: bool,
    force: bool,
    tty: bool,
) -> Result<(LoginInput, LoginInput)> {
    if !force {
        if let Some(c) = load(home)? {
            if c.refresh_seconds_left() > 0 {
                return Err(Error::user(format!("already logged in as {}", c.username))
                    .with_hint("pass --force to log in again, or `spec-kitty auth logout` first"));
            }
        }
    }
    let user = match username {
        Some(u) => LoginInput::Given(u),
        None if tty => LoginInput::Ask,
        None => {
            return Err(Error::user("no username given and no terminal to ask on")
                .with_hint("pass --username"))
        }
    };
    let pass = match (password, password_stdin) {
        (Some(p), _) => LoginInput::Given(p),
        (None, true) => LoginInput::StdinLine,
        (None, false) if tty => LoginInput::Ask,
        (None, false) => {
            return Err(Error::user("no password given and no terminal to ask on")
                .with_hint("pass --password-stdin and pipe the password in"))
        }
    };
    Ok((user, pass))
}

/// Log in with a username and password and store the tokens.
pub fn login(home: &AuthHome, username: &str, password: &str) -> Result<Credentials> {
    if password.is_empty() {
        return Err(Error::user("the password is empty"));
    }
    let server = server_url(home)?;
    let url = format!("{server}/api/v1/token/");
    match post(
        &url,
        &serde_json::json!({"username": username, "password": password}),
        home.http_timeout,
    )? {
        Reply::Ok(v) => {
            let creds = tokens_from(&v, username, None, &server, &url)?;
            let _lock = home.lock()?;
            save(home, &creds)?;
            Ok(creds)
        }
        Reply::Status(401) => Err(Error::user("invalid username or password")),
        Reply::Status(code) => Err(Error::user(format!(
            "the server answered {code} to the login request"
        ))),
    }
}

/// Forget the stored login. Returns whether there was one.
pub fn logout(home: &AuthHome) -> Result<bool> {
    if !home.credentials().exists() {
        return Ok(false);
    }
    let _lock = home.lock()?;
    clear(home)
}

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refreshed {
    /// This process got new tokens from the server.
    Refreshed,
    /// The access token was still fresh; no request was made.
    StillFresh,
    /// Another process rotated the tokens first; its tokens are used.
    RotatedElsewhere,
}

/// Refresh the tokens under the credentials lock. Without `force`, a fresh
/// access token (more than 30 s left) is kept as is.
pub fn refresh(home: &AuthHome, force: bool) -> Result<(Refreshed, Credentials)> {
    let not_logged_in = || Error::user("not logged in").with_hint("run `spec-kitty auth login`");
    // What we saw before waiting for the lock: if it changes meanwhile, someone else refreshed.
    let seen = load(home)?.ok_or_else(not_logged_in)?;
    let _lock = home.lock()?;
    let current = load(home)?.ok_or_else(not_logged_in)?;
    if current.refresh != seen.refresh {
        return Ok((Refreshed::RotatedElsewhere, current));
    }
    if !force && current.access_seconds_left() > 30 {
        return Ok((Refreshed::StillFresh, current));
    }
    if current.refresh_seconds_left() <= 0 {
        return Err(
            Error::user("the refresh token has expired").with_hint("run `spec-kitty auth login`")
        );
    }
    let server = server_url(home)?;
    // The refresh token goes only to the server that issued it.
    if !current.server_url.is_empty() && current.server_url.trim_end_matches('/') != server {
        return Err(Error::user(format!(
            "the stored login was issued by {}, but the server is now set to {server}; the refresh token is only ever sent to its issuer",
            current.server_url
        ))
        .with_hint("run `spec-kitty auth login --force` to log in to the new server (or set the server back)"));
    }
    let url = format!("{server}/api/v1/token/refresh/");
    let sent = current.refresh.clone();
    match post(
        &url,
        &serde_json::json!({"refresh": sent}),
        home.http_timeout,
    )? {
        Reply::Ok(v) => {
            let creds = tokens_from(
                &v,
                &current.username,
                current.team_slug.clone(),
                &server,
                &url,
            )?;
            save(home, &creds)?;
            Ok((Refreshed::Refreshed, creds))
        }
        Reply::Status(401) => {
            // Stale 401: another process rotated the token while our request was in flight.
            if let Some(now) = load(home)? {
                if now.refresh != sent {
                    return Ok((Refreshed::RotatedElsewhere, now));
                }
            }
            clear(home)?;
            Err(
                Error::user("session expired, run spec-kitty auth login").with_hint(
                    "the server rejected the refresh token; the stored credentials were removed",
                ),
            )
        }
        Reply::Status(code) => Err(Error::user(format!(
            "the server answered {code} to the refresh request"
        ))
        .with_hint("stored credentials were kept; try again later")),
    }
}

#[cfg(test)]
mod tests {
    use super::{plan_login, AuthHome, LoginInput};

    #[test]
    fn login_asks_only_on_a_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let home = AuthHome::new(dir.path().to_path_buf());
        let plan = |u: Option<&str>, p: Option<&str>, stdin: bool, tty: bool| {
            plan_login(
                &home,
                u.map(str::to_string),
                p.map(str::to_string),
                stdin,
                false,
                tty,
            )
        };
        assert_eq!(
            plan(None, None, false, true).unwrap(),
            (LoginInput::Ask, LoginInput::Ask)
        );
        assert_eq!(
            plan(Some("u"), None, true, false).unwrap(),
            (LoginInput::Given("u".into()), LoginInput::StdinLine)
        );
        assert_eq!(
            plan(Some("u"), Some("p"), false, false).unwrap(),
            (LoginInput::Given("u".into()), LoginInput::Given("p".into()))
        );
        let e = plan(None, Some("p"), false, false).unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("pass --username"));
        let e = plan(Some("u"), None, false, false).unwrap_err();
        assert!(e.message.contains("no password given"), "{}", e.message);
        assert!(super::login(&home, "u", "").is_err());
    }
}
