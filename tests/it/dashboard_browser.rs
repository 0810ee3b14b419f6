//! The dashboard in a real browser: headless Chromium driven over the Chrome
//! DevTools Protocol (a small client on a tungstenite websocket).
//!
//! These tests need Chromium, so they are `#[ignore]`d in a plain `cargo test`
//! and say so in its summary; `.ci/run` installs Chromium and runs them with
//! `--ignored`. Run them locally with
//! `cargo test --test it dashboard_browser -- --ignored`; without Chromium
//! they fail with a message saying how to install it, never pass silently.
//! Screenshots land in `target/dashboard-screenshots/`.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

use super::dashboard::Running;
use crate::common::flow::move_task;
use crate::common::{TestEnv, WpDef};

const NEEDS: &str = "needs headless Chromium (apt-get install -y chromium); .ci/run installs it and runs these with --ignored";

fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        if let Ok(out) = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {c}"))
            .output()
        {
            let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !p.is_empty() {
                return PathBuf::from(p);
            }
        }
    }
    panic!("Chromium not found on PATH: these tests {NEEDS}");
}

/// A headless Chromium and one page, attached over CDP.
struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--window-size=1400,900",
                "about:blank",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("ws://") {
                    let _ = tx.send(line[i..].trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium did not print its DevTools address");
        let hostport = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let stream = TcpStream::connect(&hostport).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).expect("CDP websocket");
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = b.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b.page("Page.enable", json!({}));
        b.page("Runtime.enable", json!({}));
        b.page(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        b
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let m = self.ws.read().expect("CDP read");
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("CDP {method} failed: {e}");
                }
                return v["result"].clone();
            }
        }
    }

    fn page(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.call(Some(&s), method, params)
    }

    /// Evaluate `js` in the page (awaiting a promise) and return its value.
    fn eval(&mut self, js: &str) -> Value {
        let r = self.page(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("page script failed: {e}\n{js}");
        }
        r["result"]["value"].clone()
    }

    /// Poll `js` until it is true; the time it took.
    fn wait_for(&mut self, js: &str, what: &str) -> Duration {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if self.eval(js) == json!(true) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let html = self.eval("document.documentElement.outerHTML");
        panic!("timed out waiting for {what} ({js}); page:\n{html}");
    }

    fn goto(&mut self, url: &str) {
        self.page("Page.navigate", json!({"url": url}));
        self.wait_for(
            "document.readyState === 'complete' && !!document.getElementById('view')",
            url,
        );
    }

    /// A real mouse click in the middle of the first element matching `selector`.
    fn click(&mut self, selector: &str) {
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); e.scrollIntoView(); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            sel = json!(selector)
        ));
        let (x, y) = (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap());
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.page(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    fn screenshot(&mut self, name: &str) -> PathBuf {
        let r = self.page("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn column_of(b: &mut Browser, wp: &str) -> Value {
    b.eval(&format!(
        "(() => {{ const c = document.querySelector('[data-wp=\"{wp}\"].card'); \
         return c ? c.closest('[data-column]').getAttribute('data-column') : null; }})()"
    ))
}

/// A mission with two agents' work in flight: five WPs, a dependency chain
/// and two lanes.
fn demo(env: &TestEnv) -> (PathBuf, String) {
    let wps = vec![
        WpDef::planning(
            "WP01",
            "Research the data model",
            "kitty-specs/{slug}/research.md",
            &[],
        ),
        WpDef::code("WP02", "Storage layer", "src/store/**", &["WP01"]),
        WpDef::code("WP03", "HTTP API", "src/api/**", &["WP02"]),
        WpDef::code("WP04", "Command line", "src/cli/**", &["WP01"]),
        WpDef::code("WP05", "Docs and examples", "docs/**", &["WP03", "WP04"]),
    ];
    let (root, m) = env.finalized_mission(&wps);
    let mv = |wp: &str, to: &str, agent: &str| {
        env.ok(
            &root,
            &move_task(
                wp,
                to,
                &[
                    "--agent",
                    agent,
                    "--note",
                    "demo",
                    "--force",
                    "--reason",
                    "demo set-up without lane work",
                ],
                &m.slug,
            ),
        );
    };
    for t in ["T001", "T002", "T004"] {
        env.ok(
            &root,
            &[
                "agent",
                "tasks",
                "mark-status",
                t,
                "--status",
                "done",
                "--mission",
                &m.slug,
            ],
        );
    }
    env.ok(
        &root,
        &move_task(
            "WP01",
            "done",
            &["--force", "--reason", "demo: reviewed elsewhere"],
            &m.slug,
        ),
    );
    for to in ["claimed", "in_progress"] {
        mv("WP02", to, "codex");
    }
    for to in ["claimed", "in_progress", "for_review"] {
        mv("WP04", to, "claude");
    }
    (root, m.slug)
}

#[test]
#[ignore = "needs headless Chromium (apt-get install -y chromium); .ci/run installs it and runs these with --ignored"]
fn the_board_lives_in_a_real_browser() {
    let env = TestEnv::new();
    let (root, slug) = demo(&env);
    let d = Running::start(&env, &root);
    let mut b = Browser::launch();

    // Every WP in its column.
    b.goto(&d.url(&format!("/missions/{slug}/board")));
    assert_eq!(column_of(&mut b, "WP01"), json!("done"));
    assert_eq!(column_of(&mut b, "WP02"), json!("doing"));
    assert_eq!(column_of(&mut b, "WP03"), json!("planned"));
    assert_eq!(column_of(&mut b, "WP04"), json!("for_review"));
    assert_eq!(column_of(&mut b, "WP05"), json!("planned"));
    b.wait_for(
        "document.getElementById('live').classList.contains('on')",
        "the live stream",
    );
    let shot = b.screenshot("board");
    eprintln!("screenshot: {}", shot.display());

    // A move-task during the test moves the card without a reload.
    b.eval("window.__noReload = 'still here'; true");
    env.ok(
        &root,
        &move_task(
            "WP02",
            "for_review",
            &[
                "--agent",
                "codex",
                "--note",
                "ready",
                "--force",
                "--reason",
                "test: no lane work",
            ],
            &slug,
        ),
    );
    let took = b.wait_for(
        "(() => { const c = document.querySelector('[data-wp=\"WP02\"].card'); \
         return !!c && c.closest('[data-column]').getAttribute('data-column') === 'for_review'; })()",
        "WP02 to move to For review",
    );
    eprintln!("move-task -> card moved in the browser: {took:?}");
    assert_eq!(
        b.eval("window.__noReload"),
        json!("still here"),
        "the page reloaded"
    );

    // Clicking a card opens its view (in-page, with a real URL).
    b.click("[data-wp=\"WP03\"].card");
    b.wait_for(
        &format!("location.pathname === '/missions/{slug}/wp/WP03' && !!document.querySelector('article.wp[data-wp=\"WP03\"]')"),
        "the WP03 view",
    );
    assert_eq!(b.eval("window.__noReload"), json!("still here"));
    let body = b.eval("document.querySelector('article.wp').innerText");
    assert!(body.as_str().unwrap().contains("HTTP API"), "{body}");
    assert!(
        body.as_str().unwrap().contains("Body marker of WP03"),
        "{body}"
    );
    b.screenshot("wp");

    // The route reloads to the same view.
    b.page("Page.reload", json!({}));
    b.wait_for(
        "document.readyState === 'complete' && window.__noReload === undefined && !!document.querySelector('article.wp[data-wp=\"WP03\"]')",
        "the same WP view after a reload",
    );

    // Back goes back to the board.
    b.eval("history.back(); true");
    b.wait_for(
        "location.pathname.endsWith('/board') && !!document.querySelector('[data-column=\"for_review\"] [data-wp=\"WP02\"]')",
        "the board after Back",
    );

    // The lanes view draws both graphs.
    b.goto(&d.url(&format!("/missions/{slug}/lanes")));
    assert_eq!(
        b.eval("document.querySelectorAll('#wp-graph svg g.node').length"),
        json!(5)
    );
    assert_eq!(
        b.eval("document.querySelectorAll('#wp-graph svg path.edge').length"),
        json!(5)
    );
    assert_eq!(
        b.eval("!!document.querySelector('#lane-graph svg')"),
        json!(true)
    );
    b.screenshot("lanes");

    // Nothing the page did broke its CSP: no script or style was refused.
    let violations = b.eval("performance.getEntriesByType('resource').filter(e => !e.name.startsWith(location.origin)).length");
    assert_eq!(
        violations,
        json!(0),
        "the page loaded something from another origin"
    );
}

#[test]
#[ignore = "needs headless Chromium (apt-get install -y chromium); .ci/run installs it and runs these with --ignored"]
fn a_missing_mission_route_and_the_index_render_in_the_browser() {
    let env = TestEnv::new();
    let (root, slug) = demo(&env);
    let d = Running::start(&env, &root);
    let mut b = Browser::launch();
    b.goto(&d.url("/"));
    assert_eq!(
        b.eval(&format!(
            "!!document.querySelector('tr[data-mission=\"{slug}\"]')"
        )),
        json!(true)
    );
    b.click(&format!("tr[data-mission=\"{slug}\"] a"));
    b.wait_for(
        &format!(
            "location.pathname === '/missions/{slug}/board' && !!document.querySelector('.board')"
        ),
        "the board from the index",
    );
    b.goto(&d.url("/missions/999-nope/board"));
    let text = b.eval("document.getElementById('view').innerText");
    assert!(
        text.as_str().unwrap().contains("no mission 999-nope"),
        "{text}"
    );
}

#[test]
#[ignore = "needs headless Chromium (apt-get install -y chromium); .ci/run installs it and runs these with --ignored"]
fn without_server_sent_events_the_page_polls_and_still_moves_cards() {
    let env = TestEnv::new();
    let (root, slug) = demo(&env);
    let d = Running::start(&env, &root);
    let mut b = Browser::launch();
    // A browser (or proxy) without EventSource.
    b.page(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "delete window.EventSource; window.EventSource = undefined;"}),
    );
    b.goto(&d.url(&format!("/missions/{slug}/board")));
    b.wait_for(
        "document.getElementById('live').classList.contains('polling')",
        "the polling fallback",
    );
    b.eval("window.__noReload = 1; true");
    env.ok(
        &root,
        &move_task("WP03", "claimed", &["--agent", "gemini"], &slug),
    );
    b.wait_for(
        "(() => { const c = document.querySelector('[data-wp=\"WP03\"].card'); \
         return !!c && c.getAttribute('data-lane') === 'claimed'; })()",
        "WP03 to show as claimed",
    );
    assert_eq!(b.eval("window.__noReload"), json!(1));
}
