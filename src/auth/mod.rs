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

use crate::error::{Diagnose, Kind};
use crate::fsutil::{self, FileLock, LockError};

/// Why a login, logout or refresh did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("HOME is not set")]
    NoHome,
    /// The credentials lock was not taken (timed out, or its file failed).
    #[error("{source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: LockError,
    },
    /// The credentials file is not TOML.
    #[error("{}: invalid credentials file: {}", located(.path, *.line), .source.message())]
    BadCredentials {
        path: PathBuf,
        line: Option<usize>,
        /// Boxed: a toml error is large, and this is the rare path.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The credentials file lacks a token.
    #[error("{}: credentials file has no [{table}] {key}", .path.display())]
    MissingCredential {
        path: PathBuf,
        table: &'static str,
        key: &'static str,
    },
    /// The credentials file could not be read (fsutil's error: too big, not
    /// UTF-8, unreadable), kept whole.
    #[error("{0}")]
    ReadCredentials(#[source] crate::fsutil::FsError),
    #[error("cannot remove {}: {source}", .path.display())]
    RemoveCredentials {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `~/.spec-kitty/config.toml` is not TOML.
    #[error("{}: invalid TOML: {}", .path.display(), .source.message())]
    BadConfig {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("invalid server URL {url}: {source}")]
    BadUrl {
        url: String,
        #[source]
        source: url::ParseError,
    },
    #[error("refusing to send credentials to {url}: HTTPS is required")]
    InsecureUrl { url: String },
    #[error("cannot start the network runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the server at {url} answered {status}, a redirect to {location}; spec-kitty does not follow redirects with credentials")]
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
    /// The answer was not JSON.
    #[error("invalid response from {url}")]
    BadResponse {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The answer is not JSON, or is over the size or nesting caps.
    #[error("invalid response from {url}: {source}")]
    BadAnswer {
        url: String,
        #[source]
        source: crate::bounds::DocError,
    },
    /// The answer is longer than [`MAX_ANSWER_BYTES`]; reading stopped there.
    #[error("invalid response from {url}: the answer is over the {max}-byte limit")]
    AnswerTooBig { url: String, max: usize },
    /// The tokens are too long to store (the credentials file is capped).
    #[error("invalid response from {url}: the tokens are {size} bytes, over the {max}-byte limit of the credentials file")]
    TokensTooBig { url: String, size: usize, max: u64 },
    /// The answer lacked a token.
    #[error("invalid response from {url}: no `{field}`")]
    MissingToken { url: String, field: String },
    #[error("already logged in as {username}")]
    AlreadyLoggedIn { username: String },
    #[error("no username given and no terminal to ask on")]
    NoUsername,
    #[error("no password given and no terminal to ask on")]
    NoPassword,
    #[error("the password is empty")]
    EmptyPassword,
    #[error("invalid username or password")]
    BadLogin,
    #[error("the server answered {status} to the login request")]
    LoginStatus { status: u16 },
    #[error("not logged in")]
    NotLoggedIn,
    #[error("the refresh token has expired")]
    RefreshExpired,
    /// The refresh token would go to a server other than its issuer.
    #[error("the stored login was issued by {issuer}, but the server is now set to {server}; the refresh token is only ever sent to its issuer")]
    ServerChanged { issuer: String, server: String },
    /// The server rejected the refresh token on disk; it was removed.
    #[error("session expired, run spec-kitty auth login")]
    SessionExpired,
    #[error("the server answered {status} to the refresh request")]
    RefreshStatus { status: u16 },
    /// A write through [`crate::fsutil`], which reports its failures as
    /// [`crate::fsutil::FsError`]; kept whole.
    #[error("{0}")]
    Fs(#[from] crate::fsutil::FsError),
}

/// `path` or `path:line`, the way parse errors name where they are.
fn located(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("{}:{n}", path.display()),
        None => path.display().to_string(),
    }
}

const RELOGIN: &str = "run `spec-kitty auth login --force` to replace it";
const KEPT: &str = "stored credentials were kept";

impl Diagnose for AuthError {
    fn kind(&self) -> Kind {
        match self {
            AuthError::Runtime(_) | AuthError::HttpClient(_) => Kind::Internal,
            AuthError::Lock { source, .. } => source.kind(),
            AuthError::ReadCredentials(e) | AuthError::Fs(e) => e.kind(),
            _ => Kind::User,
        }
    }
    fn hint(&self) -> Option<String> {
        use AuthError::*;
        Some(match self {
            NoHome => "set HOME to your home directory".into(),
            Lock { path, .. } => format!(
                "another spec-kitty process holds {}; try again, or raise SPEC_KITTY_LOCK_TIMEOUT_MS",
                path.display()
            ),
            BadCredentials { .. } | MissingCredential { .. } | ReadCredentials(_) => RELOGIN.into(),
            RemoveCredentials { path, source } => crate::error::io_hint(path, source.kind())?,
            BadUrl { .. } => "use a full URL such as https://sync.example.com".into(),
            InsecureUrl { .. } => {
                "use an https:// server URL (plain http is allowed only for localhost)".into()
            }
            Unreachable { .. } => {
                "check the network and the server URL; stored credentials were kept".into()
            }
            Redirect { .. } => "set the server URL to the final address (SPEC_KITTY_SERVER_URL or [sync] server_url); stored credentials were kept".into(),
            BadResponse { .. }
            | BadAnswer { .. }
            | AnswerTooBig { .. }
            | TokensTooBig { .. }
            | MissingToken { .. } => KEPT.into(),
            AlreadyLoggedIn { .. } => {
                "pass --force to log in again, or `spec-kitty auth logout` first".into()
            }
            NoUsername => "pass --username".into(),
            NoPassword => "pass --password-stdin and pipe the password in".into(),
            NotLoggedIn | RefreshExpired => "run `spec-kitty auth login`".into(),
            ServerChanged { .. } => "run `spec-kitty auth login --force` to log in to the new server (or set the server back)".into(),
            SessionExpired => {
                "the server rejected the refresh token; the stored credentials were removed".into()
            }
            RefreshStatus { .. } => "stored credentials were kept; try again later".into(),
            Fs(e) => e.hint()?,
            BadConfig { .. } | Runtime(_) | HttpClient(_) | EmptyPassword | BadLogin
            | LoginStatus { .. } => return None,
        })
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            AuthError::ReadCredentials(e) | AuthError::Fs(e) => e.details(),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, AuthError>;

pub const DEFAULT_SERVER: &str = "https://spec-kitty-dev.fly.dev";
const DEFAULT_ACCESS_LIFETIME: i64 = 900;
const DEFAULT_REFRESH_LIFETIME: i64 = 604_800;
/// Longest token lifetime taken from a server: ten years (a bigger or
/// unreadable one is cut to this, never an overflow).
const MAX_LIFETIME: i64 = 10 * 365 * 24 * 3600;
/// Largest answer read from the sync server: 256 KiB (its tokens are a few
/// KB). Reading stops at the cap; a longer answer is an error.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
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
        let home = crate::env::home().ok_or(AuthError::NoHome)?;
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
        fsutil::create_private_dir(&self.dir).map_err(AuthError::Fs)?;
        let path = self.lock_path();
        FileLock::acquire(&path, self.lock_timeout, "the credentials file")
            .map_err(|source| AuthError::Lock { path, source })
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
        let doc: toml::Table =
            text.parse()
                .map_err(|source: toml::de::Error| AuthError::BadCredentials {
                    path: path.to_path_buf(),
                    line: crate::error::toml_error_line(text, &source),
                    source: Box::new(source),
                })?;
        let get = |table: &str, key: &str| -> Option<String> {
            doc.get(table)?.get(key)?.as_str().map(str::to_string)
        };
        let need = |table: &'static str, key: &'static str| {
            get(table, key).ok_or_else(|| AuthError::MissingCredential {
                path: path.to_path_buf(),
                table,
                key,
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
        Err(e) => Err(AuthError::ReadCredentials(e)),
    }
}

fn save(home: &AuthHome, c: &Credentials) -> Result<()> {
    fsutil::atomic_write_mode(&home.credentials(), c.to_toml().as_bytes(), Some(0o600))
        .map_err(AuthError::Fs)
}

fn clear(home: &AuthHome) -> Result<bool> {
    match std::fs::remove_file(home.credentials()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(AuthError::RemoveCredentials {
            path: home.credentials(),
            source,
        }),
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
            let text = fsutil::read_capped(&cfg, MAX_CREDENTIALS_BYTES)
                .map_err(AuthError::Fs)?
                .unwrap_or_default();
            let doc: toml::Table =
                text.parse()
                    .map_err(|source: toml::de::Error| AuthError::BadConfig {
                        path: cfg.clone(),
                        source: Box::new(source),
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
    let parsed = reqwest::Url::parse(url).map_err(|source| AuthError::BadUrl {
        url: url.to_string(),
        source,
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
        _ => Err(AuthError::InsecureUrl {
            url: url.to_string(),
        }),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AuthError::Runtime)
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
            .map_err(AuthError::HttpClient)?;
        let resp =
            client
                .post(url)
                .json(body)
                .send()
                .await
                .map_err(|source| AuthError::Unreachable {
                    url: url.to_string(),
                    source,
                })?;
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("elsewhere")
                .to_string();
            return Err(AuthError::Redirect {
                url: url.to_string(),
                status,
                location,
            });
        }
        if status != 200 {
            return Ok(Reply::Status(status));
        }
        let too_big = || AuthError::AnswerTooBig {
            url: url.to_string(),
            max: MAX_ANSWER_BYTES,
        };
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
        {
            return Err(too_big());
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|source| AuthError::BadResponse {
                url: url.to_string(),
                source,
            })?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        let v: serde_json::Value =
            crate::bounds::json_capped(&body, MAX_ANSWER_BYTES).map_err(|source| {
                AuthError::BadAnswer {
                    url: url.to_string(),
                    source,
                }
            })?;
        Ok(Reply::Ok(v))
    })
}

/// A lifetime in seconds from the first of `keys` the answer has: a number
/// (a fraction is cut, one too big for i64 saturates) or a numeric string.
/// None, zero or negative: `default`; over ten years: ten years.
fn lifetime(v: &serde_json::Value, keys: &[&str], default: i64) -> i64 {
    keys.iter()
        .filter_map(|k| v.get(*k))
        .find_map(|x| {
            x.as_i64()
                .or_else(|| x.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
                .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .filter(|n| *n > 0)
        .unwrap_or(default)
        .min(MAX_LIFETIME)
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
            .ok_or_else(|| AuthError::MissingToken {
                url: url.to_string(),
                field: k.to_string(),
            })
    };
    let now = Utc::now();
    let at = |secs: i64| {
        chrono::TimeDelta::try_seconds(secs)
            .and_then(|d| now.checked_add_signed(d))
            .unwrap_or(now)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    };
    let creds = Credentials {
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
    };
    // Tokens the credentials file could not be read back with are refused
    // here, loudly, rather than stored and then unreadable.
    let size = creds.to_toml().len();
    if size as u64 > MAX_CREDENTIALS_BYTES {
        return Err(AuthError::TokensTooBig {
            url: url.to_string(),
            size,
            max: MAX_CREDENTIALS_BYTES,
        });
    }
    Ok(creds)
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
                return Err(AuthError::AlreadyLoggedIn {
                    username: c.username,
                });
            }
        }
    }
    let user = match username {
        Some(u) => LoginInput::Given(u),
        None if tty => LoginInput::Ask,
        None => return Err(AuthError::NoUsername),
    };
    let pass = match (password, password_stdin) {
        (Some(p), _) => LoginInput::Given(p),
        (None, true) => LoginInput::StdinLine,
        (None, false) if tty => LoginInput::Ask,
        (None, false) => return Err(AuthError::NoPassword),
    };
    Ok((user, pass))
}

/// Log in with a username and password and store the tokens.
pub fn login(home: &AuthHome, username: &str, password: &str) -> Result<Credentials> {
    if password.is_empty() {
        return Err(AuthError::EmptyPassword);
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
        Reply::Status(401) => Err(AuthError::BadLogin),
        Reply::Status(status) => Err(AuthError::LoginStatus { status }),
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
    // What we saw before waiting for the lock: if it changes meanwhile, someone else refreshed.
    let seen = load(home)?.ok_or(AuthError::NotLoggedIn)?;
    let _lock = home.lock()?;
    let current = load(home)?.ok_or(AuthError::NotLoggedIn)?;
    if current.refresh != seen.refresh {
        return Ok((Refreshed::RotatedElsewhere, current));
    }
    if !force && current.access_seconds_left() > 30 {
        return Ok((Refreshed::StillFresh, current));
    }
    if current.refresh_seconds_left() <= 0 {
        return Err(AuthError::RefreshExpired);
    }
    let server = server_url(home)?;
    // The refresh token goes only to the server that issued it.
    if !current.server_url.is_empty() && current.server_url.trim_end_matches('/') != server {
        return Err(AuthError::ServerChanged {
            issuer: current.server_url,
            server,
        });
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
            Err(AuthError::SessionExpired)
        }
        Reply::Status(status) => Err(AuthError::RefreshStatus { status }),
    }
}

#[cfg(test)]
mod tests {
    use super::{plan_login, AuthError, AuthHome, LockError, LoginInput};

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
        let e = crate::Error::from(plan(None, Some("p"), false, false).unwrap_err());
        assert_eq!(e.hint.as_deref(), Some("pass --username"));
        let e = plan(Some("u"), None, false, false).unwrap_err();
        assert!(matches!(e, AuthError::NoPassword), "{e:?}");
        assert!(e.to_string().contains("no password given"), "{e}");
        assert!(matches!(
            super::login(&home, "u", ""),
            Err(AuthError::EmptyPassword)
        ));
    }

    #[test]
    fn a_corrupt_credentials_file_keeps_its_toml_error_and_says_how_to_replace_it() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let home = AuthHome::new(dir.path().to_path_buf());
        std::fs::create_dir_all(&home.dir).unwrap();
        std::fs::write(home.credentials(), "[tokens]\naccess = \n").unwrap();
        let e = super::load(&home).unwrap_err();
        assert!(
            matches!(&e, AuthError::BadCredentials { line: Some(2), .. }),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<Box<toml::de::Error>>()
            .is_some());
        let e = crate::Error::from(e);
        assert!(
            e.message
                .contains("credentials:2: invalid credentials file: "),
            "{}",
            e.message
        );
        assert_eq!(e.hint.as_deref(), Some(super::RELOGIN));

        std::fs::write(home.credentials(), "[tokens]\naccess = \"a\"\n").unwrap();
        let e = super::load(&home).unwrap_err();
        assert!(
            matches!(
                &e,
                AuthError::MissingCredential {
                    table: "tokens",
                    key: "refresh",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn a_held_lock_is_a_lock_error_inside_with_the_auth_hint() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let mut home = AuthHome::new(dir.path().to_path_buf());
        home.lock_timeout = std::time::Duration::from_millis(20);
        let _held = home.lock().unwrap();
        let e = home.lock().unwrap_err();
        assert!(
            matches!(
                &e,
                AuthError::Lock {
                    source: LockError::Timeout { .. },
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.source().unwrap().downcast_ref::<LockError>().is_some());
        let e = crate::Error::from(e);
        assert!(
            e.message
                .starts_with("timed out after 0.0s waiting for the lock on the credentials file"),
            "{}",
            e.message
        );
        assert!(e
            .hint
            .unwrap()
            .ends_with("try again, or raise SPEC_KITTY_LOCK_TIMEOUT_MS"));
    }

    #[test]
    fn a_bad_or_plain_http_url_is_refused_with_the_parse_error_kept() {
        let e = super::check_url("not a url").unwrap_err();
        assert!(
            matches!(
                e,
                AuthError::BadUrl {
                    source: url::ParseError::RelativeUrlWithoutBase,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(matches!(
            super::check_url("http://example.com"),
            Err(AuthError::InsecureUrl { .. })
        ));
        assert!(super::check_url("http://127.0.0.1:9").is_ok());
    }
}
