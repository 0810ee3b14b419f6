//! Auth against an in-process mock server: login, status, logout, and the
//! locked refresh under parallel processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::snap::assert_out;
use crate::common::{stderr, stdout, Pause, TestEnv};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Rotate tokens on refresh; a refresh token that is not the current one gets 401.
    Rotate,
    Always401,
    Always500,
    /// Answer 401 after another writer (not spec-kitty, so not under our lock)
    /// stored rotated tokens: the file at `rotate_file` gets `refresh-elsewhere`.
    StaleAfterOutsideRotation,
    /// Read the request and never answer.
    Hang,
}

/// A rendezvous in the server: the next refresh request it reads is held
/// there (the client inside its locked refresh) until the test says go.
type Gate = Arc<Mutex<Option<(Sender<()>, Receiver<()>)>>>;

struct Mock {
    url: String,
    requests: Arc<AtomicUsize>,
    unauthorized: Arc<AtomicUsize>,
    current: Arc<Mutex<String>>,
    gate: Gate,
}

impl Mock {
    /// Hold the next refresh request: returns (arrived, go).
    fn hold_next_refresh(&self) -> (Receiver<()>, Sender<()>) {
        let (arrived_tx, arrived_rx) = channel();
        let (go_tx, go_rx) = channel();
        *self.gate.lock().unwrap() = Some((arrived_tx, go_rx));
        (arrived_rx, go_tx)
    }
}

fn mock(mode: Mode) -> Mock {
    mock_with(mode, None)
}

fn mock_with(mode: Mode, rotate_file: Option<std::path::PathBuf>) -> Mock {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let unauthorized = Arc::new(AtomicUsize::new(0));
    let current = Arc::new(Mutex::new("refresh-0".to_string()));
    let gate: Gate = Arc::new(Mutex::new(None));
    let (r, u, c, g) = (
        requests.clone(),
        unauthorized.clone(),
        current.clone(),
        gate.clone(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            r.fetch_add(1, Ordering::SeqCst);
            if mode == Mode::Hang {
                // Keep the connection open and silent until the test ends.
                std::mem::forget(stream);
                continue;
            }
            if let (Mode::StaleAfterOutsideRotation, Some(path)) = (mode, &rotate_file) {
                let text = std::fs::read_to_string(path).unwrap();
                let rotated = text.replace(
                    &format!("refresh = \"{}\"", body["refresh"].as_str().unwrap()),
                    "refresh = \"refresh-elsewhere\"",
                );
                std::fs::write(path, rotated).unwrap();
            }
            if request_line.contains("/api/v1/token/refresh/") {
                let held = g.lock().unwrap().take();
                if let Some((arrived, go)) = held {
                    let _ = arrived.send(());
                    let _ = go.recv();
                }
            }
            let (status, reply) = if request_line.contains("/api/v1/token/refresh/") {
                let mut cur = c.lock().unwrap();
                match mode {
                    Mode::Always500 => (500, serde_json::json!({})),
                    Mode::Always401 | Mode::StaleAfterOutsideRotation => {
                        (401, serde_json::json!({"detail": "bad"}))
                    }
                    Mode::Rotate if body["refresh"] == *cur => {
                        let n: usize = cur.trim_start_matches("refresh-").parse().unwrap();
                        *cur = format!("refresh-{}", n + 1);
                        (
                            200,
                            serde_json::json!({"access": format!("access-{}", n + 1), "refresh": *cur, "access_lifetime": 900}),
                        )
                    }
                    Mode::Rotate => (401, serde_json::json!({"detail": "stale"})),
                    Mode::Hang => unreachable!("answered above"),
                }
            } else if body["password"] == "secret" {
                (
                    200,
                    serde_json::json!({"access": "access-0", "refresh": "refresh-0", "expires_in": 900, "team_slug": "acme"}),
                )
            } else {
                (401, serde_json::json!({"detail": "no"}))
            };
            if status == 401 {
                u.fetch_add(1, Ordering::SeqCst);
            }
            let text = reply.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    Mock {
        url,
        requests,
        unauthorized,
        current,
        gate,
    }
}

fn sk(env: &TestEnv, url: &str, args: &[&str]) -> std::process::Output {
    env.sk(&env.work, args)
        .env("SPEC_KITTY_SERVER_URL", url)
        .output()
        .unwrap()
}

fn login(env: &TestEnv, m: &Mock) {
    let out = env
        .sk(
            &env.work,
            &["auth", "login", "-u", "alice", "--password-stdin", "--json"],
        )
        .env("SPEC_KITTY_SERVER_URL", &m.url)
        .write_stdin("secret\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
}

fn creds_path(env: &TestEnv) -> std::path::PathBuf {
    env.home.join(".spec-kitty/credentials")
}

/// Record `url` as the server that issued the stored login (the refresh token
/// only goes to its issuer), for tests that play one server on several ports.
fn issued_by(env: &TestEnv, url: &str) {
    let text = std::fs::read_to_string(creds_path(env)).unwrap();
    let re: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("url = ") {
                format!("url = \"{url}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(creds_path(env), re.join("\n") + "\n").unwrap();
}

/// Make the stored access token look expired so a refresh is due.
fn expire_access(env: &TestEnv) {
    let text = std::fs::read_to_string(creds_path(env)).unwrap();
    let re = text
        .lines()
        .map(|l| {
            if l.starts_with("access_expires_at") {
                "access_expires_at = \"2000-01-01T00:00:00+00:00\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(creds_path(env), re + "\n").unwrap();
}

#[test]
fn login_status_logout() {
    let env = TestEnv::new();
    let m = mock(Mode::Rotate);
    // Logged out: status says so and creates nothing.
    let v: serde_json::Value =
        serde_json::from_slice(&sk(&env, &m.url, &["auth", "status", "--json"]).stdout).unwrap();
    assert_eq!(v["logged_in"], false);
    assert!(env.home_files().is_empty());

    login(&env, &m);
    let text = std::fs::read_to_string(creds_path(&env)).unwrap();
    assert!(
        text.contains("[tokens]\naccess = \"access-0\"\nrefresh = \"refresh-0\""),
        "{text}"
    );
    assert!(
        text.contains("[user]\nusername = \"alice\"\nteam_slug = \"acme\""),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(creds_path(&env))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    let before = std::fs::read(creds_path(&env)).unwrap();
    for args in [
        &["auth", "status", "--json"][..],
        &["agent", "auth", "status", "--json"],
    ] {
        let v: serde_json::Value = serde_json::from_slice(&sk(&env, &m.url, args).stdout).unwrap();
        assert_eq!(v["logged_in"], true);
        assert_eq!(v["username"], "alice");
        assert!(v["access_seconds_left"].as_i64().unwrap() > 800);
    }
    assert_eq!(
        std::fs::read(creds_path(&env)).unwrap(),
        before,
        "status must not write"
    );
    assert_eq!(
        m.requests.load(Ordering::SeqCst),
        1,
        "status must not call the server"
    );

    for (name, args) in [
        ("refresh_still_fresh", &["auth", "refresh"][..]),
        ("refresh_forced", &["auth", "refresh", "--force"]),
    ] {
        let out = sk(&env, &m.url, args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_out!(env, name, args, &out);
    }
    assert_eq!(
        m.requests.load(Ordering::SeqCst),
        2,
        "one login, one refresh"
    );
    let status = ["auth", "status"];
    let out = sk(&env, &m.url, &status);
    assert!(out.status.success());
    assert_out!(env, "status_logged_in", status, &out);

    let again = ["auth", "login", "-u", "alice", "-p", "secret"];
    let out = sk(&env, &m.url, &again);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "login_when_logged_in", again, &out);
    // `-f` (the reference's short --force) logs in again over the session.
    let before = m.requests.load(Ordering::SeqCst);
    let forced = ["auth", "login", "-u", "alice", "-p", "secret", "-f"];
    let out = sk(&env, &m.url, &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        m.requests.load(Ordering::SeqCst),
        before + 1,
        "-f logged in again"
    );
    let out = sk(&env, &m.url, &["auth", "logout"]);
    assert!(out.status.success());
    assert_out!(env, "logout", ["auth", "logout"], &out);
    assert!(!creds_path(&env).exists());
    // A human login prints who is logged in.
    let first = ["auth", "login", "-u", "alice", "-p", "secret"];
    let out = sk(&env, &m.url, &first);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_out!(env, "login", first, &out);
}

#[test]
fn wrong_password_and_no_tty_fail_fast() {
    let env = TestEnv::new();
    let m = mock(Mode::Rotate);
    let wrong = ["auth", "login", "-u", "alice", "-p", "nope"];
    let out = sk(&env, &m.url, &wrong);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "login_wrong_password", wrong, &out);
    // No password, no terminal (stdin is not a TTY): a clear error, no prompt, no hang.
    let no_password = ["auth", "login", "-u", "alice"];
    let out = env
        .sk(&env.work, &no_password)
        .env("SPEC_KITTY_SERVER_URL", &m.url)
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "login_no_password_no_terminal", no_password, &out);
    assert!(!creds_path(&env).exists());
}

#[test]
fn plain_http_is_refused_except_loopback() {
    let env = TestEnv::new();
    let args = ["auth", "login", "-u", "a", "-p", "b"];
    let out = sk(&env, "http://sync.example.com", &args);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "login_plain_http", args, &out);
}

/// `n` processes run `auth ARGS` at once: the first is held by the server
/// inside its refresh (it holds the credentials lock), the others start and
/// each reports it waits for that lock; then the server answers. Without the
/// lock the others would not wait (the test fails) and would spend the same
/// refresh token.
fn refresh_race(env: &TestEnv, m: &Mock, args: &[&str], n: usize) {
    let vars = [("SPEC_KITTY_SERVER_URL", m.url.as_str())];
    let (arrived, go) = m.hold_next_refresh();
    let mut first = env.spawn_env(&env.work, args, &vars);
    arrived
        .recv_timeout(Duration::from_secs(120))
        .expect("the first refresh reached the server");
    let mut children = Vec::new();
    let mut waiting = Vec::new();
    for _ in 1..n {
        let busy = Pause::at("lock-busy");
        busy.go();
        let (k, v) = busy.var();
        let mut c = env.spawn_env(&env.work, args, &[vars[0], (k, &v)]);
        busy.reached(&mut c);
        children.push(c);
        waiting.push(busy);
    }
    go.send(()).unwrap();
    assert!(first.wait().unwrap().success());
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn parallel_refreshes_spend_each_refresh_token_once() {
    let env = TestEnv::new();
    let m = mock(Mode::Rotate);
    login(&env, &m);
    expire_access(&env);
    refresh_race(&env, &m, &["auth", "refresh", "--json"], 8);
    // One login and exactly one refresh reached the server; nobody sent a spent token.
    assert_eq!(m.unauthorized.load(Ordering::SeqCst), 0);
    assert_eq!(m.requests.load(Ordering::SeqCst), 2);
    let text = std::fs::read_to_string(creds_path(&env)).unwrap();
    assert!(
        text.contains(&format!("refresh = \"{}\"", m.current.lock().unwrap())),
        "{text}"
    );

    // Forced refreshes by 8 processes: each one either refreshes with the
    // current token or adopts the one another process just stored.
    refresh_race(&env, &m, &["auth", "refresh", "--force", "--json"], 8);
    assert_eq!(
        m.unauthorized.load(Ordering::SeqCst),
        0,
        "a refresh token was spent twice"
    );
    let text = std::fs::read_to_string(creds_path(&env)).unwrap();
    assert!(
        text.contains(&format!("refresh = \"{}\"", m.current.lock().unwrap())),
        "{text}"
    );
}

#[test]
fn real_401_clears_but_network_and_5xx_keep() {
    let env = TestEnv::new();
    let ok = mock(Mode::Rotate);
    login(&env, &ok);
    expire_access(&env);
    let down = mock(Mode::Always500);
    issued_by(&env, &down.url);
    let before = std::fs::read(creds_path(&env)).unwrap();
    let refresh = ["auth", "refresh"];
    let out = sk(&env, &down.url, &refresh);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "refresh_server_error", refresh, &out);
    assert_eq!(
        std::fs::read(creds_path(&env)).unwrap(),
        before,
        "5xx must keep credentials"
    );

    // Nothing listening: a network error keeps credentials.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    issued_by(&env, &dead_url);
    let out = sk(&env, &dead_url, &refresh);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "refresh_nothing_listening", refresh, &out);
    assert!(creds_path(&env).exists());

    // A 401 for the token we still hold: the session is over.
    let reject = mock(Mode::Always401);
    issued_by(&env, &reject.url);
    let out = sk(&env, &reject.url, &refresh);
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "refresh_session_expired", refresh, &out);
    assert!(!creds_path(&env).exists());
}

#[test]
fn lock_timeout_is_a_clear_error() {
    let env = TestEnv::new();
    let m = mock(Mode::Rotate);
    login(&env, &m);
    expire_access(&env);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(env.home.join(".spec-kitty/credentials.lock"))
        .unwrap();
    fs2::FileExt::lock_exclusive(&lock).unwrap();
    let out = env
        .sk(&env.work, &["auth", "refresh"])
        .env("SPEC_KITTY_SERVER_URL", &m.url)
        .env("SPEC_KITTY_LOCK_TIMEOUT_MS", "300")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_out!(env, "refresh_lock_timeout", ["auth", "refresh"], &out);
    assert_eq!(
        m.requests.load(Ordering::SeqCst),
        1,
        "no refresh while another process holds the lock"
    );
    fs2::FileExt::unlock(&lock).unwrap();
}

#[test]
fn stale_401_after_rotation_elsewhere_keeps_the_new_tokens() {
    let env = TestEnv::new();
    let ok = mock(Mode::Rotate);
    login(&env, &ok);
    expire_access(&env);
    let m = mock_with(Mode::StaleAfterOutsideRotation, Some(creds_path(&env)));
    issued_by(&env, &m.url);
    let out = sk(&env, &m.url, &["auth", "refresh", "--json"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"], "rotated_elsewhere", "{v}");
    assert_eq!(m.unauthorized.load(Ordering::SeqCst), 1);
    let text = std::fs::read_to_string(creds_path(&env)).unwrap();
    assert!(text.contains("refresh = \"refresh-elsewhere\""), "{text}");
}

#[test]
fn a_server_that_never_answers_times_out_and_keeps_credentials() {
    let env = TestEnv::new();
    let ok = mock(Mode::Rotate);
    login(&env, &ok);
    expire_access(&env);
    let m = mock(Mode::Hang);
    issued_by(&env, &m.url);
    let before = std::fs::read(creds_path(&env)).unwrap();
    let out = env
        .sk(&env.work, &["auth", "refresh"])
        .env("SPEC_KITTY_SERVER_URL", &m.url)
        .env("SPEC_KITTY_HTTP_TIMEOUT_MS", "300")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_out!(env, "refresh_timeout", ["auth", "refresh"], &out);
    assert_eq!(m.requests.load(Ordering::SeqCst), 1);
    assert_eq!(std::fs::read(creds_path(&env)).unwrap(), before);
}

#[test]
fn a_corrupt_credentials_file_is_named_and_left_alone() {
    let env = TestEnv::new();
    let m = mock(Mode::Rotate);
    std::fs::create_dir_all(env.home.join(".spec-kitty")).unwrap();
    for (kind, garbage) in [
        ("bad_toml", "[tokens\naccess = \"a\"\n"),
        ("no_tokens", "[user]\nusername = \"bob\"\n"),
    ] {
        std::fs::write(creds_path(&env), garbage).unwrap();
        for args in [&["auth", "status"][..], &["auth", "refresh"]] {
            let out = sk(&env, &m.url, args);
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            assert_out!(env, format!("corrupt_{kind}_{}", args[1]), args, &out);
        }
        let v: serde_json::Value =
            serde_json::from_slice(&sk(&env, &m.url, &["auth", "status", "--json"]).stdout)
                .unwrap();
        assert_eq!(v["result"], "error");
        assert_eq!(std::fs::read_to_string(creds_path(&env)).unwrap(), garbage);
    }
    assert_eq!(m.requests.load(Ordering::SeqCst), 0);
}
