//! `spec-kitty dashboard`: a live, read-only web kanban of the project.
//!
//! - [`model`] reads the missions through the core into an in-memory view,
//!   per mission, and rebuilds a mission only when a stat of its files changes;
//! - [`watch`] keeps that view fresh (a file watcher plus a periodic re-stat);
//! - [`server`] answers HTTP on 127.0.0.1 with axum, on a tokio runtime built
//!   here and nowhere else, so no other command pays for it;
//! - [`views`], [`markdown`] and [`svg`] render pages on the server;
//! - this module starts, finds, reuses and stops dashboards through the
//!   reference's `.kittify/.dashboard` file (URL, port, token, PID).
//!
//! No request writes a file. The only files this command writes are
//! `.kittify/.dashboard` (when a server starts) and its removal (when it
//! stops), and, beside the commands' saved status folds (derived state `git
//! status` never sees, see [`crate::status::cache`]), each mission's log
//! folded for the pages, so a restart folds only the events appended since.

pub mod compat;
pub mod error;
pub mod markdown;
pub mod model;
pub mod server;
pub mod svg;
pub mod views;
pub mod watch;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::{DashboardError, ReadProblem};

use crate::fsutil;
use crate::project::Project;

type Result<T> = std::result::Result<T, DashboardError>;

/// The first port tried, as the reference does; then the next 99.
pub const FIRST_PORT: u16 = 9237;
const PORTS_TRIED: u16 = 100;

/// `.kittify/.dashboard`: four lines, URL, port, token, PID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardFile {
    pub url: String,
    pub port: u16,
    pub token: String,
    pub pid: Option<u32>,
}

impl DashboardFile {
    pub fn path(project: &Project) -> PathBuf {
        project.kittify_dir().join(".dashboard")
    }

    /// Parse the file; None when it is missing or unreadable.
    pub fn read(project: &Project) -> Option<DashboardFile> {
        let text = std::fs::read_to_string(Self::path(project)).ok()?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Option<DashboardFile> {
        let mut lines = text.lines().map(str::trim);
        let url = lines.next()?.to_string();
        let port = lines.next()?.parse().ok()?;
        let token = lines.next()?.to_string();
        let pid = lines.next().and_then(|l| l.parse().ok());
        Some(DashboardFile {
            url,
            port,
            token,
            pid,
        })
    }

    pub fn render(&self) -> String {
        let pid = self.pid.map(|p| p.to_string()).unwrap_or_default();
        format!("{}\n{}\n{}\n{pid}\n", self.url, self.port, self.token)
    }

    /// Write the record owner-only (0600): it holds the shutdown token. A
    /// looser file already there is replaced by an owner-only one.
    pub fn write(&self, project: &Project) -> Result<()> {
        Ok(fsutil::atomic_write_mode(
            &Self::path(project),
            self.render().as_bytes(),
            Some(0o600),
        )?)
    }

    /// Make an existing record owner-only (a record written by an older
    /// version, or by hand, may be readable by everyone). A link is left
    /// alone: its target is not ours to change.
    pub fn tighten(project: &Project) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = Self::path(project);
            if let Ok(m) = std::fs::symlink_metadata(&path) {
                if m.file_type().is_file() && m.permissions().mode() & 0o077 != 0 {
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
        #[cfg(not(unix))]
        let _ = project;
    }
}

/// A dashboard that answers for this project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub url: String,
    pub port: u16,
    pub pid: Option<u32>,
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (never to a host read from a
/// file): the status code and body.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.set_write_timeout(Some(Duration::from_secs(3)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.take(1 << 20).read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    ))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        // A size that does not fall on a character boundary is a broken body.
        let Some((chunk, after)) = (n > 0).then(|| rest.split_at_checked(n)).flatten() else {
            break;
        };
        out.push_str(chunk);
        body = after.strip_prefix("\r\n").unwrap_or(after);
    }
    out
}

fn same_path(a: &str, b: &Path) -> bool {
    let a = std::fs::canonicalize(a).unwrap_or_else(|_| PathBuf::from(a));
    let b = std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf());
    a == b
}

/// Does the server on `port` serve `project` and know `token`? Ours proves it
/// by accepting the token (POST /api/verify); the reference's returns it in
/// its health answer.
fn answers_for(project: &Project, port: u16, token: &str) -> Option<serde_json::Value> {
    let (code, body) = http(port, "GET", "/api/health", None).ok()?;
    if code != 200 {
        return None;
    }
    let health: serde_json::Value = crate::bounds::json(&body).ok()?;
    if !same_path(health.get("project_path")?.as_str()?, &project.root) {
        return None;
    }
    if health.get("token").and_then(|t| t.as_str()) == Some(token) {
        return Some(health);
    }
    let proof = serde_json::json!({ "token": token }).to_string();
    match http(port, "POST", "/api/verify", Some(&proof)) {
        Ok((200, _)) => Some(health),
        _ => None,
    }
}

/// The live dashboard of this project, if `.kittify/.dashboard` names one.
pub fn find_running(project: &Project) -> Option<Running> {
    let rec = DashboardFile::read(project)?;
    DashboardFile::tighten(project);
    let health = answers_for(project, rec.port, &rec.token)?;
    Some(Running {
        url: format!("http://127.0.0.1:{}/", rec.port),
        port: rec.port,
        pid: health
            .get("pid")
            .and_then(|p| p.as_u64())
            .map(|p| p as u32)
            .or(rec.pid),
    })
}

/// A bound, loaded dashboard, not yet serving.
pub struct Server {
    pub url: String,
    pub port: u16,
    pub pid: u32,
    pub watch_mode: &'static str,
    project: Project,
    token: String,
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    app: Arc<server::App>,
    stop_watch: Arc<AtomicBool>,
}

fn new_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(DashboardError::NoRandom)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn bind(port: Option<u16>) -> Result<TcpListener> {
    let candidates: Vec<u16> = match port {
        Some(p) => vec![p],
        None => (FIRST_PORT..FIRST_PORT + PORTS_TRIED).collect(),
    };
    let mut last = None;
    for p in &candidates {
        match TcpListener::bind(("127.0.0.1", *p)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    let what = match port {
        Some(p) => format!("port {p}"),
        None => format!(
            "any port from {FIRST_PORT} to {}",
            FIRST_PORT + PORTS_TRIED - 1
        ),
    };
    Err(DashboardError::Bind { what, last })
}

impl Server {
    /// Bind 127.0.0.1 (`port`, or the first free one from 9237), start
    /// reading and watching the project (on the watcher's thread). Nothing
    /// is served until [`Server::run`].
    /// `home` is only shown: the reference's JSON writes paths under it as `~/...`.
    pub fn start(
        project: &Project,
        port: Option<u16>,
        limits: server::Limits,
        home: Option<PathBuf>,
    ) -> Result<Server> {
        let listener = bind(port)?;
        let port = listener
            .local_addr()
            .map_err(|source| DashboardError::Listener {
                step: "listener address",
                source,
            })?
            .port();
        listener
            .set_nonblocking(true)
            .map_err(|source| DashboardError::Listener {
                step: "listener",
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(DashboardError::Runtime)?;
        // The project is read by the watcher's thread (its first view,
        // then every change): the server records itself and answers
        // `/api/health` at once, and a page asked for meanwhile waits for
        // that first view.
        let loader = model::Loader::new(project.clone());
        let root = loader.root.clone();
        let (tx, rx) = tokio::sync::watch::channel(Arc::new(model::ProjectView::pending(&root)));
        let stop_watch = Arc::new(AtomicBool::new(false));
        let mode = watch::spawn(loader, tx, stop_watch.clone()).map_err(DashboardError::Watcher)?;
        let (stop, _) = tokio::sync::watch::channel(false);
        let token = new_token()?;
        let app = Arc::new(server::App {
            view: rx,
            token: token.clone(),
            port,
            pid: std::process::id(),
            root,
            started_at: crate::timefmt::now_iso(),
            watch_mode: mode.as_str(),
            stop,
            limits,
            home,
            rendered: Default::default(),
        });
        Ok(Server {
            url: format!("http://127.0.0.1:{port}/"),
            port,
            pid: std::process::id(),
            watch_mode: mode.as_str(),
            project: project.clone(),
            token,
            runtime,
            listener,
            app,
            stop_watch,
        })
    }

    /// Record the server in `.kittify/.dashboard`.
    pub fn record(&self) -> Result<()> {
        DashboardFile {
            url: self.url.clone(),
            port: self.port,
            token: self.token.clone(),
            pid: Some(self.pid),
        }
        .write(&self.project)
    }

    /// Serve until Ctrl-C, SIGTERM, an authorised POST /api/shutdown, or
    /// until `.kittify/.dashboard` stops naming this server (removed, or
    /// replaced by another); then remove the record if it still names this
    /// server.
    ///
    /// The record check is how another tool stops this server: the Python
    /// 3.1.1 `dashboard --kill` removes the record (it cannot read our token
    /// from `/api/health`, so it takes the server for gone) and expects the
    /// server to be gone with it.
    pub fn run(self) -> Result<()> {
        let Server {
            project,
            token,
            runtime,
            listener,
            app,
            stop_watch,
            ..
        } = self;
        let stop_tx = app.stop.clone();
        let mut stop_rx = app.stop.subscribe();
        let limits = app.limits;
        let router = server::router(app);
        let record_project = project.clone();
        let record_token = token.clone();
        let result = runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|source| DashboardError::Listener {
                step: "listener",
                source,
            })?;
            let record_gone = async move {
                let mut seen = false;
                let mut tick = tokio::time::interval(RECORD_CHECK);
                loop {
                    tick.tick().await;
                    let ours = DashboardFile::read(&record_project)
                        .is_some_and(|r| r.token == record_token);
                    if ours {
                        seen = true;
                    } else if seen {
                        return;
                    }
                }
            };
            let signals = async move {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    let mut term = signal(SignalKind::terminate()).ok();
                    let mut hup = signal(SignalKind::hangup()).ok();
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
                        _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
                        _ = stop_rx.wait_for(|s| *s) => {}
                        _ = record_gone => {}
                    }
                }
                #[cfg(not(unix))]
                {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = stop_rx.wait_for(|s| *s) => {}
                        _ = record_gone => {}
                    }
                }
                // End the event streams too, so open tabs do not hold the server.
                stop_tx.send_replace(true);
            };
            server::serve(listener, router, limits, signals).await;
            Ok(())
        });
        stop_watch.store(true, std::sync::atomic::Ordering::Relaxed);
        if DashboardFile::read(&project).is_some_and(|r| r.token == token) {
            let _ = crate::confine::remove_file(&project, &DashboardFile::path(&project));
        }
        result
    }
}

/// How often a running server checks that `.kittify/.dashboard` still names it.
pub const RECORD_CHECK: Duration = Duration::from_millis(500);

/// Start `spec-kitty dashboard` detached (its own session, no terminal) and
/// wait until it answers.
pub fn spawn_background(project: &Project, port: Option<u16>) -> Result<Running> {
    let exe = std::env::current_exe().map_err(DashboardError::CurrentExe)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("dashboard")
        .current_dir(&project.root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(p) = port {
        cmd.arg("--port").arg(p.to_string());
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().map_err(DashboardError::Spawn)?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Some(r) = find_running(project) {
            if r.pid == Some(child.id()) {
                return Ok(r);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(DashboardError::ExitedAtOnce { status });
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(DashboardError::NoAnswer { pid: child.id() })
}

/// What `--kill` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// No `.kittify/.dashboard`.
    NotRunning,
    /// Stopped through its shutdown endpoint (with the token).
    Shutdown { pid: Option<u32>, port: u16 },
    /// It did not answer; the PID was verified to be this project's dashboard
    /// process and sent SIGTERM.
    Signalled { pid: u32 },
    /// The record was stale: nothing answered for this project and the PID is
    /// not this project's dashboard (or is gone). Nothing was signalled; the
    /// record was removed.
    Stale { pid: Option<u32> },
}

fn pid_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: kill with signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        false
    }
}

fn wait_gone(pid: Option<u32>, port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let pid_gone = pid.is_none_or(|p| !pid_alive(p));
        let port_closed = http(port, "GET", "/api/health", None).is_err();
        if pid_gone && port_closed {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Is `pid` a dashboard process of this project? On Linux, its command line
/// must be a spec-kitty dashboard (ours or the reference's) and its working
/// directory the project root. Elsewhere nothing is trusted.
pub fn is_project_dashboard(project: &Project, pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_ours = args.first().is_some_and(|a| {
            Path::new(a)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("spec-kitty"))
        });
        let is_reference = args
            .iter()
            .any(|a| a.contains("specify_cli") || a.ends_with("/spec-kitty"));
        let is_dashboard = args
            .iter()
            .any(|a| a == "dashboard" || a.contains("dashboard"));
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let in_project = cwd.is_some_and(|c| same_path(&c.to_string_lossy(), &project.root));
        (is_ours || is_reference) && is_dashboard && in_project
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (project, pid);
        false
    }
}

/// `--kill`: stop this project's dashboard, and only it.
pub fn stop(project: &Project) -> Result<Stopped> {
    let Some(rec) = DashboardFile::read(project) else {
        return Ok(Stopped::NotRunning);
    };
    let remove_record = || {
        if DashboardFile::read(project).is_some_and(|r| r.token == rec.token) {
            let _ = crate::confine::remove_file(project, &DashboardFile::path(project));
        }
    };
    if let Some(health) = answers_for(project, rec.port, &rec.token) {
        let pid = health
            .get("pid")
            .and_then(|p| p.as_u64())
            .map(|p| p as u32)
            .or(rec.pid);
        let body = serde_json::json!({ "token": rec.token }).to_string();
        let accepted = matches!(
            http(rec.port, "POST", "/api/shutdown", Some(&body)),
            Ok((200, _))
        );
        if accepted && wait_gone(pid, rec.port, Duration::from_secs(10)) {
            remove_record();
            return Ok(Stopped::Shutdown {
                pid,
                port: rec.port,
            });
        }
        if !accepted {
            return Err(DashboardError::ShutdownRefused { port: rec.port });
        }
        return Err(DashboardError::StillRunning { port: rec.port });
    }
    // Nothing answers for this project with this token.
    if let Some(pid) = rec
        .pid
        .filter(|p| pid_alive(*p) && *p != std::process::id())
    {
        if is_project_dashboard(project, pid) {
            #[cfg(unix)]
            {
                // SAFETY: sending SIGTERM to a process verified above.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGTERM);
                }
            }
            if wait_gone(Some(pid), rec.port, Duration::from_secs(10)) {
                remove_record();
                return Ok(Stopped::Signalled { pid });
            }
            return Err(DashboardError::IgnoredSigterm { pid });
        }
    }
    remove_record();
    Ok(Stopped::Stale { pid: rec.pid })
}

/// Open `url` in the user's browser (xdg-open, open, or start), detached.
pub fn open_browser(url: &str) -> Result<()> {
    let (prog, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    std::process::Command::new(prog)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|source| DashboardError::Browser {
            program: prog,
            url: url.to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_file_round_trips_in_the_reference_format() {
        let f = DashboardFile {
            url: "http://127.0.0.1:9237".into(),
            port: 9237,
            token: "0123456789abcdef0123456789abcdef".into(),
            pid: Some(4242),
        };
        assert_eq!(
            f.render(),
            "http://127.0.0.1:9237\n9237\n0123456789abcdef0123456789abcdef\n4242\n"
        );
        assert_eq!(DashboardFile::parse(&f.render()), Some(f));
        assert_eq!(DashboardFile::parse("x\nnot-a-port\nt\n"), None);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            "hello world"
        );
    }

    #[test]
    fn tokens_are_32_hex() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 32);
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(t, new_token().unwrap());
    }
}
