//! `spec-kitty dashboard`: the router in-process (tower `oneshot`), and the real
//! binary as a background server (start, reuse, kill, read-only, live events).
//! The headless-Chromium tests are in `dashboard_browser`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use spec_kitty::dashboard::model::{Loader, ProjectView};
use spec_kitty::dashboard::server::{self, App, CSP};
use spec_kitty::dashboard::{self as dash, DashboardFile};
use spec_kitty::project::Project;
use tower::ServiceExt;

use crate::common::flow::move_task;
use crate::common::snap::assert_run;
use crate::common::{stdout, write, MissionInfo, TestEnv};

const TOKEN: &str = "feedfacefeedfacefeedfacefeedface";
const PORT: u16 = 9999;

/// The router over `root`, as the server builds it, plus the stop flag.
fn app(root: &Path) -> (axum::Router, tokio::sync::watch::Receiver<bool>) {
    let mut loader = Loader::new(Project::at(root));
    let view = loader.refresh(None, true).expect("first view");
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(view));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    (server::router(test_app(&loader.root, rx, stop)), stop_rx)
}

/// The server's state over `root` as the tests run it, showing the views
/// `view` receives.
fn test_app(
    root: &Path,
    view: tokio::sync::watch::Receiver<Arc<ProjectView>>,
    stop: tokio::sync::watch::Sender<bool>,
) -> Arc<App> {
    Arc::new(App {
        view,
        token: TOKEN.into(),
        port: PORT,
        pid: std::process::id(),
        root: root.to_path_buf(),
        started_at: "2026-01-01T00:00:00+00:00".into(),
        watch_mode: "test",
        stop,
        limits: Default::default(),
        home: None,
        rendered: Default::default(),
    })
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    })
}

fn get(router: &axum::Router, path: &str) -> Resp {
    send(
        router,
        Request::get(path)
            .header("host", format!("127.0.0.1:{PORT}"))
            .body(Body::empty())
            .unwrap(),
    )
}

fn post(router: &axum::Router, path: &str, body: &str) -> Resp {
    send(
        router,
        Request::post(path)
            .header("host", format!("127.0.0.1:{PORT}"))
            .header("origin", format!("http://127.0.0.1:{PORT}"))
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
}

/// Every GET route of a mission project (the event stream is tested on a real server).
fn get_routes(slug: &str) -> Vec<String> {
    let mut r: Vec<String> = [
        "/",
        "/charter",
        "/static/app.js",
        "/static/app.css",
        "/api/health",
        "/api/version",
        "/api/missions",
        "/no/such/page",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for rest in [
        "",
        "/board",
        "/lanes",
        "/wp/WP01",
        "/wp/WP02",
        "/wp/WP99",
        "/artifacts/spec",
        "/artifacts/plan",
        "/artifacts/tasks",
        "/artifacts/plan.md",
        "/artifacts/research",
        "/artifacts/contracts",
        "/artifacts/checklists",
        "/artifacts/contracts/api.md",
        "/artifacts/nope",
    ] {
        r.push(format!("/missions/{slug}{rest}"));
    }
    r.push(format!("/api/missions/{slug}"));
    r.push(format!("/api/missions/{slug}/wp/WP01"));
    r.push("/api/missions/999-nope".into());
    r.push("/api/features".into());
    r.push(format!("/api/kanban/{slug}"));
    r.push("/api/kanban/..%2F..%2F.kittify".into());
    r
}

fn project_with_mission(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.three_wp_mission();
    write(&m.dir.join("contracts/api.md"), "# API\n\nGET /things\n");
    env.ok(
        &root,
        &move_task("WP01", "in_progress", &["--agent", "codex"], &m.slug),
    );
    (root, m)
}

#[test]
fn every_get_answers_with_a_strict_csp_and_never_the_token() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let (router, _) = app(&root);
    for path in get_routes(&m.slug) {
        let r = get(&router, &path);
        assert!(
            r.status == StatusCode::OK
                || r.status == StatusCode::NOT_FOUND
                || r.status == StatusCode::SEE_OTHER,
            "{path}: {}",
            r.status
        );
        assert_eq!(r.headers["content-security-policy"], CSP, "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert!(!r.body.contains(TOKEN), "{path} returned the token");
        let html = r
            .headers
            .get("content-type")
            .is_some_and(|c| c.to_str().unwrap().starts_with("text/html"));
        if html {
            // No inline script or style: the CSP would block it anyway.
            assert!(!r.body.contains("<script>"), "{path}");
            assert!(!r.body.contains(" style=\""), "{path}");
        }
    }
    let csp = CSP;
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(!csp.contains("unsafe-inline") && !csp.contains("http"));
}

/// A server answers `/api/health` while its first view is being built
/// (the watcher's thread builds it); a page, the mission list, the version
/// and the event stream asked for meanwhile wait for that view and answer
/// from it, as a server that had built it first does.
#[test]
fn pages_wait_for_the_first_view_while_health_answers_at_once() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let mut loader = Loader::new(Project::at(&root));
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(ProjectView::pending(&loader.root)));
    let (stop, _stop_rx) = tokio::sync::watch::channel(false);
    let router = server::router(test_app(&loader.root, rx, stop));
    let (built, _) = app(&root);
    let paths = [
        "/".to_string(),
        "/api/missions".to_string(),
        "/api/version".to_string(),
        format!("/missions/{}/board", m.slug),
    ];
    let request = |path: &str| {
        Request::get(path)
            .header("host", format!("127.0.0.1:{PORT}"))
            .body(Body::empty())
            .unwrap()
    };
    let body = |resp: axum::response::Response| async move {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = rt.block_on(async {
        let waiting: Vec<_> = paths
            .iter()
            .map(|p| tokio::spawn(router.clone().oneshot(request(p))))
            .collect();
        let events = router
            .clone()
            .oneshot(request("/api/events"))
            .await
            .unwrap();
        let health = router
            .clone()
            .oneshot(request("/api/health"))
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        let health: serde_json::Value = serde_json::from_str(&body(health).await).unwrap();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["version"], 0, "no view yet");
        // Every waiting request has had its turn, and none answered.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(
            waiting.iter().all(|h| !h.is_finished()),
            "nothing answers before the view"
        );
        let first_event = tokio::spawn(async move {
            use futures_util::StreamExt;
            let chunk = events.into_body().into_data_stream().next().await;
            String::from_utf8_lossy(&chunk.unwrap().unwrap()).into_owned()
        });
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(!first_event.is_finished(), "no event before the view");
        tx.send_replace(Arc::new(loader.refresh(None, true).unwrap()));
        let mut out = Vec::new();
        for h in waiting {
            let resp = h.await.unwrap().unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            out.push(body(resp).await);
        }
        let event = first_event.await.unwrap();
        assert!(
            event.contains("event: version\n") && event.contains("data: 1\n"),
            "{event:?}"
        );
        out
    });
    for (path, answer) in paths.iter().zip(answers) {
        assert_eq!(answer, get(&built, path).body, "{path}");
    }
}

#[test]
fn the_board_shows_every_wp_in_its_column_with_its_real_title() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let (router, _) = app(&root);
    let page = get(&router, &format!("/missions/{}/board", m.slug)).body;
    let column_of = |wp: &str| -> String {
        let card = page.find(&format!("data-wp=\"{wp}\"")).expect(wp);
        let col = page[..card].rfind("data-column=\"").unwrap();
        page[col + 13..].split('"').next().unwrap().to_string()
    };
    assert_eq!(column_of("WP01"), "doing");
    assert_eq!(column_of("WP02"), "planned");
    assert_eq!(column_of("WP03"), "planned");
    assert!(page.contains(">Research</div>") && page.contains(">Core</div>"));
    assert!(page.contains("@codex"), "the agent is on the card");
    // WP02 waits on WP01; nothing is ready while WP01 is in progress.
    assert!(page.contains("<span class=\"dep waiting\">WP01</span>"));

    let json: serde_json::Value =
        serde_json::from_str(&get(&router, &format!("/api/missions/{}", m.slug)).body).unwrap();
    let wps = json["mission"]["work_packages"].as_array().unwrap();
    assert_eq!(wps.len(), 3);
    assert_eq!(wps[0]["lane"], "in_progress");
    assert_eq!(wps[0]["column"], "doing");
    assert_eq!(wps[1]["waiting_on"], serde_json::json!(["WP01"]));
    assert_eq!(wps[0]["subtasks_total"], 1);

    let list: serde_json::Value =
        serde_json::from_str(&get(&router, "/api/missions").body).unwrap();
    assert_eq!(list["missions"][0]["slug"], m.slug.as_str());
    assert_eq!(list["missions"][0]["total"], 3);
    assert!(list["missions"][0]["lane_count"].as_u64().unwrap() >= 1);
}

#[test]
fn wp_lanes_and_artifact_views_show_their_content() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let (router, _) = app(&root);
    let wp = get(&router, &format!("/missions/{}/wp/WP02", m.slug)).body;
    assert!(wp.contains("Body marker of WP02"), "the prompt is rendered");
    assert!(wp.contains("T002"), "subtasks are listed");
    let wp1 = get(&router, &format!("/missions/{}/wp/WP01", m.slug)).body;
    assert!(wp1.contains("planned → in_progress") || wp1.contains("claimed → in_progress"));
    assert!(wp1.contains("<h3>Event history</h3>"));

    let lanes = get(&router, &format!("/missions/{}/lanes", m.slug)).body;
    assert!(lanes.contains("<svg class=\"graph\""), "graphs are drawn");
    assert!(lanes.contains("id=\"wp-graph\""));
    assert!(lanes.contains("kitty/mission-"), "lane branches are shown");

    let spec = get(&router, &format!("/missions/{}/artifacts/spec", m.slug)).body;
    assert!(
        spec.contains("<h1>Specification</h1>"),
        "markdown is rendered on the server"
    );
    let plan = get(&router, &format!("/missions/{}/artifacts/plan.md", m.slug)).body;
    assert!(plan.contains("The demo mission plan"));
    let contracts = get(
        &router,
        &format!("/missions/{}/artifacts/contracts", m.slug),
    )
    .body;
    assert!(contracts.contains("artifacts/contracts/api.md"));
    let api = get(
        &router,
        &format!("/missions/{}/artifacts/contracts/api.md", m.slug),
    )
    .body;
    assert!(api.contains("GET /things"));
    let r = get(&router, &format!("/missions/{}", m.slug));
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers["location"], format!("/missions/{}/board", m.slug));
}

#[test]
fn foreign_host_or_origin_is_refused() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let (router, _) = app(&root);
    let req = |host: &str, origin: Option<&str>| {
        let mut b = Request::get("/api/health").header("host", host);
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        send(&router, b.body(Body::empty()).unwrap()).status
    };
    assert_eq!(req(&format!("127.0.0.1:{PORT}"), None), StatusCode::OK);
    assert_eq!(req(&format!("localhost:{PORT}"), None), StatusCode::OK);
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1.
    assert_eq!(
        req(&format!("evil.example:{PORT}"), None),
        StatusCode::FORBIDDEN
    );
    assert_eq!(req("127.0.0.1:1234", None), StatusCode::FORBIDDEN);
    assert_eq!(
        req(&format!("127.0.0.1:{PORT}"), Some("http://evil.example")),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        req(&format!("127.0.0.1:{PORT}"), Some("null")),
        StatusCode::FORBIDDEN
    );
    let no_host = send(&router, Request::get("/").body(Body::empty()).unwrap());
    assert_eq!(no_host.status, StatusCode::FORBIDDEN);
    assert_eq!(no_host.headers["content-security-policy"], CSP);
}

#[test]
fn shutdown_needs_a_post_with_the_token() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let (router, stop) = app(&root);
    assert_eq!(
        get(&router, &format!("/api/shutdown?token={TOKEN}")).status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        post(&router, "/api/shutdown", "{}").status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &router,
            "/api/shutdown",
            r#"{"token": "feedfacefeedfacefeedfacefeedfac0"}"#
        )
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&router, "/api/verify", r#"{"token": "x"}"#).status,
        StatusCode::FORBIDDEN
    );
    assert!(!*stop.borrow());
    assert_eq!(
        post(
            &router,
            "/api/verify",
            &format!(r#"{{"token": "{TOKEN}"}}"#)
        )
        .status,
        StatusCode::OK
    );
    assert!(!*stop.borrow(), "verify does not stop anything");
    let r = post(
        &router,
        "/api/shutdown",
        &format!(r#"{{"token": "{TOKEN}"}}"#),
    );
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains(TOKEN));
    assert!(*stop.borrow(), "the server was told to stop");
}

#[test]
fn broken_missions_show_their_problem_and_the_rest_still_render() {
    let env = TestEnv::new();
    let (root, good) = project_with_mission(&env);
    let specs = root.join("kitty-specs");
    // A corrupt meta.json.
    write(&specs.join("002-bad-meta/meta.json"), "{ not json");
    // A torn event log (a line cut mid-write) beside a good WP.
    write(
        &specs.join("003-torn-log/tasks/WP01-one.md"),
        "---\nwork_package_id: WP01\ntitle: One\n---\n# One\n",
    );
    let log = fs::read_to_string(good.dir.join("status.events.jsonl")).unwrap();
    let first = log
        .lines()
        .next()
        .unwrap()
        .replace(&good.slug, "003-torn-log");
    write(
        &specs.join("003-torn-log/status.events.jsonl"),
        &format!("{first}\n{{\"event_id\": \"01J0000000000000000000000"),
    );
    // A WP file with broken frontmatter next to a good one.
    write(
        &specs.join("004-bad-wp/tasks/WP01-fine.md"),
        "---\ntitle: Fine one\n---\n# Fine\n",
    );
    write(
        &specs.join("004-bad-wp/tasks/WP02-broken.md"),
        "---\ntitle: [unclosed\n---\n",
    );
    let (router, _) = app(&root);

    let index = get(&router, "/");
    assert_eq!(index.status, StatusCode::OK);
    for slug in [
        good.slug.as_str(),
        "002-bad-meta",
        "003-torn-log",
        "004-bad-wp",
    ] {
        assert!(
            index.body.contains(&format!("data-mission=\"{slug}\"")),
            "{slug} listed"
        );
    }
    assert_eq!(index.body.matches("badge problem").count(), 3);

    let bad_meta = get(&router, "/missions/002-bad-meta/board");
    assert_eq!(bad_meta.status, StatusCode::OK);
    assert!(bad_meta.body.contains("role=\"alert\""));
    assert!(bad_meta.body.contains("kitty-specs/002-bad-meta/meta.json"));
    assert!(bad_meta.body.contains("invalid JSON"));

    let torn = get(&router, "/missions/003-torn-log/board").body;
    assert!(
        torn.contains("kitty-specs/003-torn-log/status.events.jsonl:2"),
        "{torn}"
    );
    assert!(
        torn.contains("data-wp=\"WP01\""),
        "the readable part still shows"
    );

    let bad_wp = get(&router, "/missions/004-bad-wp/board").body;
    assert!(bad_wp.contains("kitty-specs/004-bad-wp/tasks/WP02-broken.md"));
    assert!(bad_wp.contains("class=\"card-problem\""));
    assert!(
        bad_wp.contains(">Fine one</div>"),
        "the good WP keeps its card"
    );
    assert_eq!(
        get(&router, "/missions/004-bad-wp/wp/WP02").status,
        StatusCode::OK
    );

    let good_board = get(&router, &format!("/missions/{}/board", good.slug)).body;
    assert!(
        !good_board.contains("role=\"alert\""),
        "the good mission is unaffected"
    );
}

#[cfg(unix)]
#[test]
fn reads_stay_inside_the_project() {
    use std::os::unix::fs::symlink;
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let secret = env.tmp.path().join("secret.md");
    fs::write(&secret, "TOP SECRET OUTSIDE THE PROJECT\n").unwrap();
    fs::remove_file(m.dir.join("plan.md")).unwrap();
    symlink(&secret, m.dir.join("plan.md")).unwrap();
    symlink(&secret, m.dir.join("contracts/leak.md")).unwrap();
    symlink(&secret, m.dir.join("research.md")).unwrap();
    // A whole mission whose meta.json and log point out of the project.
    let other = root.join("kitty-specs/009-linked");
    fs::create_dir_all(other.join("tasks")).unwrap();
    symlink(&secret, other.join("meta.json")).unwrap();
    symlink(&secret, other.join("status.events.jsonl")).unwrap();
    symlink(&secret, other.join("tasks/WP01-leak.md")).unwrap();
    // A mission directory that is itself a link out.
    let outside = env.tmp.path().join("outside-mission");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("spec.md"), "TOP SECRET OUTSIDE THE PROJECT\n").unwrap();
    symlink(&outside, root.join("kitty-specs/010-outside")).unwrap();
    // A mission whose tasks/ directory is a link out: its WP files are not read.
    let tasks_out = root.join("kitty-specs/011-tasks-out");
    fs::create_dir_all(&tasks_out).unwrap();
    fs::write(
        outside.join("WP01-leak.md"),
        "---\nwork_package_id: WP01\ntitle: TOP SECRET OUTSIDE THE PROJECT\n---\n",
    )
    .unwrap();
    symlink(&outside, tasks_out.join("tasks")).unwrap();

    let (router, _) = app(&root);
    let mut bodies = Vec::new();
    for path in get_routes(&m.slug)
        .into_iter()
        .chain(get_routes("009-linked"))
        .chain(get_routes("010-outside"))
        .chain(get_routes("011-tasks-out"))
        .chain([
            format!("/missions/{}/artifacts/contracts/leak.md", m.slug),
            format!(
                "/missions/{}/artifacts/contracts/..%2F..%2F..%2Fsecret.md",
                m.slug
            ),
            format!("/missions/{}/artifacts/..%2F..%2Fsecret.md", m.slug),
            format!("/missions/..%2F..%2F{}/board", m.slug),
            "/missions/../../../etc/passwd".into(),
            "/static/../../secret.md".into(),
        ])
    {
        let r = get(&router, &path);
        assert_ne!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        assert!(
            !r.body.contains("TOP SECRET"),
            "{path} leaked a file outside the project"
        );
        bodies.push(r.body);
    }
    let plan = get(&router, &format!("/missions/{}/artifacts/plan", m.slug)).body;
    assert!(plan.contains("links outside the project"), "{plan}");
    let linked = get(&router, "/missions/009-linked/board").body;
    assert!(
        linked.contains("meta.json</code>: links outside the project"),
        "{linked}"
    );
    assert!(linked.contains("status.events.jsonl</code>: links outside the project"));
    let tasks_out = get(&router, "/missions/011-tasks-out/board").body;
    assert!(
        tasks_out.contains("tasks</code>: links outside the project"),
        "{tasks_out}"
    );
    assert_eq!(
        get(&router, "/missions/010-outside/board").status,
        StatusCode::NOT_FOUND,
        "a symlinked mission directory is not followed"
    );
}

#[test]
fn untrusted_text_is_escaped_everywhere() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    write(
        &m.dir.join("tasks/WP04-evil.md"),
        "---\ntitle: \"<img src=x onerror=alert(1)>\"\nagent: \"<script>alert(2)</script>\"\ndependencies: [\"<b>WP01</b>\"]\n---\n# Evil\n\n<script>alert(3)</script>\n\n[click](javascript:alert(4))\n",
    );
    // A review that sent WP04 back, by a hostile actor with hostile feedback,
    // and a hostile merge record: they reach cards, the WP page and lanes.
    let log = m.dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&log).unwrap();
    for (i, (from, to, actor, review)) in [
        ("planned", "for_review", "<script>alert(5)</script>", "null"),
        (
            "for_review",
            "planned",
            "<script>alert(5)</script>",
            "\"<img src=y onerror=alert(6)>\"",
        ),
    ]
    .iter()
    .enumerate()
    {
        text.push_str(&format!(
            "{{\"event_id\":\"01JZZZZZZZZZZZZZZZZZZZZZZ{i}\",\"mission_slug\":\"{}\",\"wp_id\":\"WP04\",\"from_lane\":\"{from}\",\"to_lane\":\"{to}\",\"at\":\"2030-01-01T00:00:0{i}+00:00\",\"actor\":\"{}\",\"force\":true,\"execution_mode\":\"worktree\",\"review_ref\":{review}}}\n",
            m.slug,
            actor.replace('"', "\\\""),
        ));
    }
    fs::write(&log, text).unwrap();
    let meta_path = m.dir.join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["merged_at"] = "2030-01-01T00:00:00+00:00".into();
    meta["merged_into"] = "<script>alert(7)</script>".into();
    meta["merged_by"] = "<img src=z onerror=alert(8)>".into();
    fs::write(&meta_path, meta.to_string()).unwrap();
    let (router, _) = app(&root);
    let board = get(&router, &format!("/missions/{}/board", m.slug)).body;
    assert!(board.contains("changes requested"), "{board}");
    for path in [
        format!("/missions/{}/board", m.slug),
        format!("/missions/{}/wp/WP04", m.slug),
        format!("/missions/{}/lanes", m.slug),
    ] {
        let body = get(&router, &path).body;
        assert!(!body.contains("<img src=x"), "{path}");
        assert!(!body.contains("<script>alert"), "{path}");
        assert!(!body.contains("<b>WP01"), "{path}");
        assert!(!body.contains("href=\"javascript:"), "{path}");
        assert!(
            !body.contains("<img src=y") && !body.contains("<img src=z"),
            "{path}"
        );
        assert!(
            body.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}"
        );
    }
}

// ---------------------------------------------------------------- the binary

/// A background dashboard started by the real binary; stopped on drop.
pub struct Running<'a> {
    env: &'a TestEnv,
    pub root: PathBuf,
    pub port: u16,
    pub pid: u32,
}

impl<'a> Running<'a> {
    pub fn start(env: &'a TestEnv, root: &Path) -> Running<'a> {
        let v = env.json(root, &["dashboard", "--background", "--json"]);
        assert_eq!(v["result"], "success", "{v}");
        Running {
            env,
            root: root.to_path_buf(),
            port: v["port"].as_u64().unwrap() as u16,
            pid: v["pid"].as_u64().unwrap() as u32,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let _ = self.env.run(&self.root, &["dashboard", "--kill"]);
        if alive(self.pid) {
            // SAFETY: a process this test started.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

pub fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped) counts as gone.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Every file under `root` but `.git/`, with its size and mtime.
fn tree(root: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, Vec<u8>)> {
    fn walk(d: &Path, out: &mut BTreeMap<PathBuf, (u64, SystemTime, Vec<u8>)>) {
        for e in fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            let md = fs::symlink_metadata(&p).unwrap();
            if md.is_dir() {
                walk(&p, out);
            } else {
                let bytes = if md.is_file() {
                    fs::read(&p).unwrap()
                } else {
                    Vec::new()
                };
                out.insert(p, (md.len(), md.modified().unwrap(), bytes));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, &mut out);
    out
}

#[test]
fn no_request_writes_any_file() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let d = Running::start(&env, &root);
    let before_tree = tree(&root);
    let before_status = env.git(&root, &["status", "--porcelain", "--ignored"]);
    let log_before = fs::read(m.dir.join("status.events.jsonl")).unwrap();
    for path in get_routes(&m.slug) {
        let (code, body) = dash::http(d.port, "GET", &path, None).unwrap();
        assert!(code < 500, "{path}: {code}");
        assert!(!body.contains(&DashboardFile::read(&Project::at(&root)).unwrap().token));
    }
    for (path, body) in [
        ("/api/verify", r#"{"token":"nope"}"#),
        ("/api/shutdown", r#"{"token":"nope"}"#),
    ] {
        let (code, _) = dash::http(d.port, "POST", path, Some(body)).unwrap();
        assert_eq!(code, 403, "{path}");
    }
    // One read of the event stream, too.
    let mut s = open_events(d.port, 5);
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("text/event-stream"));
    drop(s);
    assert_eq!(
        tree(&root),
        before_tree,
        "a request changed a file (content or mtime)"
    );
    assert_eq!(
        env.git(&root, &["status", "--porcelain", "--ignored"]),
        before_status
    );
    assert_eq!(
        fs::read(m.dir.join("status.events.jsonl")).unwrap(),
        log_before
    );
}

#[test]
fn background_start_reuse_and_kill() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let d = Running::start(&env, &root);
    assert!(alive(d.pid));
    // The reference's file: URL, port, token (32 hex), PID.
    let text = fs::read_to_string(root.join(".kittify/.dashboard")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0], format!("http://127.0.0.1:{}/", d.port));
    assert_eq!(lines[1], d.port.to_string());
    assert!(lines[2].len() == 32 && lines[2].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(lines[3], d.pid.to_string());
    // A second start, foreground or background, reuses it.
    for args in [
        &["dashboard", "--json"][..],
        &["dashboard", "--background", "--json"][..],
    ] {
        let again = env.json(&root, args);
        assert_eq!(again["reused"], true, "{again}");
        assert_eq!(again["pid"], d.pid);
        assert_eq!(again["port"], d.port);
    }
    let human = assert_run!(env, &root, "already_running", ["dashboard"]);
    assert!(human.status.success());
    // From a subdirectory too.
    let sub = root.join("src");
    fs::create_dir_all(&sub).unwrap();
    assert_eq!(env.json(&sub, &["dashboard", "--json"])["pid"], d.pid);

    let killed = env.json(&root, &["dashboard", "--kill", "--json"]);
    assert_eq!(killed["result"], "stopped", "{killed}");
    assert_eq!(killed["pid"], d.pid);
    assert!(!alive(d.pid), "the dashboard process is gone");
    assert!(
        !root.join(".kittify/.dashboard").exists(),
        "its record is removed"
    );
    assert_eq!(
        env.json(&root, &["dashboard", "--kill", "--json"])["result"],
        "not_running"
    );
}

#[test]
fn kill_never_signals_a_process_it_cannot_verify() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    // A stale record naming an unrelated live process.
    let mut bystander = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    fs::write(
        root.join(".kittify/.dashboard"),
        format!("http://127.0.0.1:1/\n1\n{TOKEN}\n{}\n", bystander.id()),
    )
    .unwrap();
    let out = env.json(&root, &["dashboard", "--kill", "--json"]);
    assert_eq!(out["result"], "stale", "{out}");
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "the bystander was not signalled"
    );
    assert!(
        !root.join(".kittify/.dashboard").exists(),
        "the stale record is removed"
    );

    // Another project's live dashboard, named by this project's record.
    let other = env.work.join("other");
    fs::create_dir_all(other.join(".kittify")).unwrap();
    let theirs = Running::start(&env, &other);
    let their_record = fs::read_to_string(other.join(".kittify/.dashboard")).unwrap();
    fs::write(root.join(".kittify/.dashboard"), &their_record).unwrap();
    let out = env.json(&root, &["dashboard", "--kill", "--json"]);
    assert_eq!(out["result"], "stale", "{out}");
    assert!(
        alive(theirs.pid),
        "the other project's dashboard still runs"
    );
    let (code, _) = dash::http(theirs.port, "GET", "/api/health", None).unwrap();
    assert_eq!(code, 200);
    bystander.kill().unwrap();
    let _ = bystander.wait();
}

#[test]
fn foreground_prints_its_url_and_stops_cleanly_on_ctrl_c() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let mut child = env.spawn(&root, &["dashboard", "--json"]);
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut doc = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        doc.push_str(&line);
        if line.starts_with('}') {
            break;
        }
    }
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let port = v["port"].as_u64().unwrap() as u16;
    assert_eq!(v["reused"], false);
    assert_eq!(v["pid"], child.id());
    assert_eq!(dash::http(port, "GET", "/api/health", None).unwrap().0, 200);
    assert!(root.join(".kittify/.dashboard").exists());
    // SAFETY: the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!root.join(".kittify/.dashboard").exists());
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert!(
        rest.trim().is_empty(),
        "one JSON document on stdout: {rest}"
    );
}

#[test]
fn open_hands_the_url_to_the_browser_opener() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let bin = env.tmp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = env.tmp.path().join("opened.txt");
    let opener = bin.join("xdg-open");
    fs::write(
        &opener,
        // Written aside and renamed: the test never reads a half-written file.
        format!(
            "#!/bin/sh\necho \"$@\" > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&opener, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = env
        .sk(&root, &["dashboard", "--background", "--open", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = Running {
        env: &env,
        root: root.clone(),
        port: v["port"].as_u64().unwrap() as u16,
        pid: v["pid"].as_u64().unwrap() as u32,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !log.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let opened = fs::read_to_string(&log).unwrap();
    assert_eq!(opened.trim(), d.url("/"));
}

/// A connection to the dashboard's event stream (`GET /api/events`), its
/// reads timing out after `secs` seconds.
fn open_events(port: u16, secs: u64) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(secs))).unwrap();
    s
}

/// Read SSE events from a raw connection until `want` returns true.
fn next_version(reader: &mut BufReader<TcpStream>) -> u64 {
    let mut event = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "the event stream ended"
        );
        let line = line.trim_end();
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            if event == "version" {
                return d.trim().parse().unwrap();
            }
        }
    }
}

#[test]
fn a_move_task_reaches_the_event_stream_and_the_board() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let d = Running::start(&env, &root);
    let mut reader = BufReader::new(open_events(d.port, 10));
    let v0 = next_version(&mut reader);
    env.ok(
        &root,
        &move_task("WP02", "claimed", &["--agent", "claude"], &m.slug),
    );
    let moved = Instant::now();
    let v1 = next_version(&mut reader);
    let latency = moved.elapsed();
    eprintln!("move-task -> event stream: {latency:?}");
    assert!(v1 > v0);
    let (_, board) = dash::http(d.port, "GET", &format!("/api/missions/{}", m.slug), None).unwrap();
    let board: serde_json::Value = serde_json::from_str(&board).unwrap();
    assert_eq!(board["mission"]["work_packages"][1]["lane"], "claimed");
    // An edited WP file (its title) reaches the page too.
    let wp = fs::read_dir(m.dir.join("tasks"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("WP02"))
        .unwrap();
    let text = fs::read_to_string(&wp)
        .unwrap()
        .replace("title: Core", "title: Core engine");
    fs::write(&wp, text).unwrap();
    // A plain write is a truncate then a write: the stream may report both.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = next_version(&mut reader);
        assert!(v > v1);
        let (_, page) =
            dash::http(d.port, "GET", &format!("/missions/{}/board", m.slug), None).unwrap();
        if page.contains(">Core engine</div>") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the edited title never reached the board"
        );
    }
}

#[test]
fn the_re_stat_sees_changes_a_watcher_missed_and_only_rereads_that_mission() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let mut loader = Loader::new(Project::at(&root));
    let v1 = loader.refresh(None, true).unwrap();
    assert!(
        loader.refresh(None, false).is_none(),
        "nothing changed, nothing published"
    );
    env.ok(
        &root,
        &move_task("WP02", "claimed", &["--agent", "x"], &m.slug),
    );
    // A second mission appears; the first changed: both are seen by one re-stat.
    let other = env.create_mission(&root, "second");
    let v2 = loader.refresh(None, false).expect("the change is seen");
    assert!(v2.version > v1.version);
    let first = v2.mission(&m.slug).unwrap();
    assert_eq!(first.wp("WP02").unwrap().lane.as_str(), "claimed");
    assert!(v2.mission(&other.slug).is_some());
    // Untouched missions keep the very same view (no re-read).
    fs::write(m.dir.join("spec.md"), "# Changed spec\n").unwrap();
    let v3 = loader.refresh(None, false).expect("spec edit seen");
    assert!(Arc::ptr_eq(
        v2.mission(&other.slug).unwrap(),
        v3.mission(&other.slug).unwrap()
    ));
    assert!(!Arc::ptr_eq(
        v2.mission(&m.slug).unwrap(),
        v3.mission(&m.slug).unwrap()
    ));
    // A removed mission leaves the view.
    fs::remove_dir_all(&other.dir).unwrap();
    let v4 = loader.refresh(None, false).expect("removal seen");
    assert!(v4.mission(&other.slug).is_none());
}

#[cfg(target_os = "linux")]
#[test]
fn kill_signals_a_dashboard_that_does_not_answer_only_after_checking_its_process() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let d = Running::start(&env, &root);
    // The record's token no longer matches (say it was edited): the server
    // will not take a shutdown, but /proc shows the PID is this project's
    // `spec-kitty dashboard`, so --kill may signal it.
    let rec = fs::read_to_string(root.join(".kittify/.dashboard")).unwrap();
    let mut lines: Vec<String> = rec.lines().map(str::to_string).collect();
    lines[2] = "0".repeat(32);
    fs::write(root.join(".kittify/.dashboard"), lines.join("\n") + "\n").unwrap();
    assert!(dash::is_project_dashboard(&Project::at(&root), d.pid));
    assert!(
        !dash::is_project_dashboard(&Project::at(&env.work), d.pid),
        "another directory"
    );
    assert!(
        !dash::is_project_dashboard(&Project::at(&root), std::process::id()),
        "not a dashboard"
    );
    let out = env.json(&root, &["dashboard", "--kill", "--json"]);
    assert_eq!(out["result"], "stopped", "{out}");
    assert!(!alive(d.pid));
}

#[test]
fn an_oversized_artifact_is_a_problem_not_a_page() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    fs::write(m.dir.join("spec.md"), "x".repeat(5 << 20)).unwrap();
    let (router, _) = app(&root);
    let r = get(&router, &format!("/missions/{}/artifacts/spec", m.slug));
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("is larger than 4 MiB; not shown"));
    assert!(r.body.len() < 100_000);
}

/// A lanes.json that names another mission goes through the same mission
/// check the commands use: a problem shown on that mission, its lanes not
/// drawn; a corrupt one likewise; the other mission is unaffected.
#[test]
fn a_foreign_or_corrupt_lanes_json_is_a_problem_of_its_mission() {
    let env = TestEnv::new();
    let (root, good) = project_with_mission(&env);
    let other = env.create_mission(&root, "other");
    fs::copy(good.dir.join("lanes.json"), other.dir.join("lanes.json")).unwrap();
    let corrupt = env.create_mission(&root, "corrupt");
    write(&corrupt.dir.join("lanes.json"), "{ not json");
    let (router, _) = app(&root);

    let index = get(&router, "/").body;
    assert_eq!(index.matches("badge problem").count(), 2, "{index}");
    let board = get(&router, &format!("/missions/{}/board", other.slug)).body;
    assert!(board.contains("role=\"alert\""), "{board}");
    assert!(
        board.contains(&format!("kitty-specs/{}/lanes.json", other.slug)),
        "{board}"
    );
    assert!(board.contains("copied from another mission"), "{board}");
    let lanes = get(&router, &format!("/missions/{}/lanes", other.slug)).body;
    assert!(
        !lanes.contains(&format!("kitty/mission-{}-lane-", other.slug))
            && !lanes.contains(&format!("kitty/mission-{}-lane-", good.slug)),
        "the foreign lanes are not drawn: {lanes}"
    );
    let board = get(&router, &format!("/missions/{}/board", corrupt.slug)).body;
    assert!(board.contains("invalid lanes.json"), "{board}");

    let good_board = get(&router, &format!("/missions/{}/board", good.slug)).body;
    assert!(!good_board.contains("role=\"alert\""), "{good_board}");
    let good_lanes = get(&router, &format!("/missions/{}/lanes", good.slug)).body;
    assert!(good_lanes.contains("kitty/mission-"), "{good_lanes}");
}

/// Issue 25: a WP page is served from the view the watcher maintains, never
/// by re-reading the event log on the server's thread (a 1,000,000-event log
/// cost 2.6 s and hundreds of MB per page, and stalled every other request).
/// Proof: once the view is built, the log is replaced by one the page could
/// not read without blocking (a FIFO nobody writes to); the page and its
/// JSON still answer with the history the view holds.
#[cfg(unix)]
#[test]
fn a_wp_page_answers_from_the_view_without_reading_the_log() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let (router, _) = app(&root);
    let log = m.dir.join("status.events.jsonl");
    fs::remove_file(&log).unwrap();
    let c = std::ffi::CString::new(log.to_string_lossy().as_bytes()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (tx, rx) = std::sync::mpsc::channel();
    let slug = m.slug.clone();
    std::thread::spawn(move || {
        let page = get(&router, &format!("/missions/{slug}/wp/WP01"));
        let api = get(&router, &format!("/api/missions/{slug}/wp/WP01"));
        let _ = tx.send((page, api));
    });
    // A page that reads the log blocks on the FIFO forever: the wait is the
    // failure, not a synchronisation.
    let (page, api) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the WP page read the log instead of answering from the view");
    // Unblock a reader, if one was left behind (without blocking ourselves
    // when there is none).
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&log);
    }
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("planned → in_progress") || page.body.contains("claimed → in_progress"),
        "{}",
        page.body
    );
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let moves: Vec<String> = api["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}>{}",
                h["from_lane"].as_str().unwrap(),
                h["to_lane"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        moves.last().is_some_and(|m| m.ends_with(">in_progress")),
        "{moves:?}"
    );
    assert_eq!(api["history_total"], moves.len());
}

/// Issue 25: the view keeps a bounded history per WP, whatever the log's
/// length, and the page says how much it leaves out.
#[test]
fn a_long_history_is_kept_bounded_and_says_what_it_leaves_out() {
    use spec_kitty::dashboard::model::HISTORY_KEEP;
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let log = m.dir.join("status.events.jsonl");
    let mut text = fs::read_to_string(&log).unwrap();
    let n = HISTORY_KEEP * 3;
    for i in 0..n {
        let (from, to) = if i % 2 == 0 {
            ("in_progress", "blocked")
        } else {
            ("blocked", "in_progress")
        };
        text.push_str(&format!(
            "{{\"event_id\":\"01J{i:023}\",\"mission_slug\":\"{slug}\",\"wp_id\":\"WP01\",\"from_lane\":\"{from}\",\"to_lane\":\"{to}\",\"at\":\"2030-01-01T00:{min:02}:{sec:02}+00:00\",\"actor\":\"bot{i}\",\"force\":true,\"execution_mode\":\"worktree\",\"reason\":\"r\"}}\n",
            slug = m.slug,
            min = i / 60,
            sec = i % 60
        ));
    }
    fs::write(&log, text).unwrap();
    let (router, _) = app(&root);
    let api: serde_json::Value =
        serde_json::from_str(&get(&router, &format!("/api/missions/{}/wp/WP01", m.slug)).body)
            .unwrap();
    let rows = api["history"].as_array().unwrap();
    assert_eq!(rows.len(), HISTORY_KEEP);
    assert!(api["history_total"].as_u64().unwrap() as usize >= n);
    // The kept ones are the latest, oldest first.
    assert_eq!(rows.last().unwrap()["actor"], format!("bot{}", n - 1));
    assert_eq!(rows[0]["actor"], format!("bot{}", n - HISTORY_KEEP));
    let page = get(&router, &format!("/missions/{}/wp/WP01", m.slug)).body;
    assert!(
        page.contains(&format!("The latest {HISTORY_KEEP} of ")),
        "{page}"
    );
    // Timestamps are readable, the exact value kept for hover.
    assert!(
        page.contains("<time datetime=\"2030-01-01T00:09:59+00:00\" title=\"2030-01-01T00:09:59+00:00\">2030-01-01 00:09 UTC</time>"),
        "{page}"
    );
}

fn commit_in(env: &TestEnv, dir: &Path, file: &str, text: &str) {
    write(&dir.join(file), text);
    env.git(dir, &["add", "-A"]);
    env.git(dir, &["commit", "-qm", file]);
}

/// Issue 27: the board names who built a WP and who reviewed it from the
/// event log (the frontmatter `agent:` is whoever acted last: the reviewer,
/// after a review); a WP sent back shows "changes requested" with the
/// feedback; after the merge the Lanes tab says where the lanes went.
#[test]
fn cards_name_implementer_and_reviewer_show_rejection_and_lanes_show_the_merge() {
    use crate::common::flow::Flow;
    use crate::common::WpDef;
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "Core", "src/core/**", &[]),
        WpDef::code("WP02", "CLI", "src/cli/**", &[]),
    ]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "plan"]);
    let f = Flow::new(&env, &root, &m.slug);
    for (wp, dir) in [("WP01", "core"), ("WP02", "cli")] {
        let v = f.implement(wp, "codex");
        let wt = PathBuf::from(v["workspace"].as_str().unwrap());
        commit_in(
            &env,
            &wt,
            &format!("src/{dir}/mod.rs"),
            &format!("// {wp}\n"),
        );
        f.submit(wp, "codex");
        f.review(wp, "claude");
    }
    f.approve("WP02", "claude");
    env.ok(
        &root,
        &move_task(
            "WP01",
            "planned",
            &[
                "--agent",
                "claude",
                "--review-feedback",
                "Handle the empty input",
            ],
            &m.slug,
        ),
    );

    let (router, _) = app(&root);
    let board = get(&router, &format!("/missions/{}/board", m.slug)).body;
    let card = |wp: &str| -> String {
        let id = board.find(&format!("id=\"card-{wp}\"")).expect(wp);
        let at = board[..id].rfind("<a ").unwrap();
        board[at..].split("</a>").next().unwrap().to_string()
    };
    let wp2 = card("WP02");
    assert!(wp2.contains("title=\"implementer\">@codex<"), "{wp2}");
    assert!(
        wp2.contains("title=\"reviewer\">reviewed by @claude<"),
        "{wp2}"
    );
    assert!(!wp2.contains("changes requested"), "{wp2}");
    let wp1 = card("WP01");
    assert!(wp1.contains("title=\"implementer\">@codex<"), "{wp1}");
    assert!(
        wp1.contains("class=\"card lane-planned rejected\""),
        "{wp1}"
    );
    assert!(wp1.contains(">changes requested</span>"), "{wp1}");
    assert!(wp1.contains("Handle the empty input"), "{wp1}");
    let json: serde_json::Value =
        serde_json::from_str(&get(&router, &format!("/api/missions/{}", m.slug)).body).unwrap();
    let wps = &json["mission"]["work_packages"];
    assert_eq!(wps[0]["implementer"], "codex");
    assert_eq!(wps[0]["changes_requested"]["by"], "claude");
    assert_eq!(
        wps[0]["changes_requested"]["feedback"],
        "Handle the empty input"
    );
    assert_eq!(wps[1]["implementer"], "codex");
    assert_eq!(wps[1]["reviewer"], "claude");
    assert_eq!(
        wps[1]["agent"], "claude",
        "the frontmatter names the last actor"
    );
    let page = get(&router, &format!("/missions/{}/wp/WP01", m.slug)).body;
    assert!(
        page.contains("<dt>Implementer</dt><dd>codex</dd>"),
        "{page}"
    );
    assert!(page.contains("<dt>Changes requested</dt>"), "{page}");

    // The rework: claimed again by its implementer, handed in, approved.
    let v = f.implement("WP01", "codex");
    let wt = PathBuf::from(v["workspace"].as_str().unwrap());
    commit_in(&env, &wt, "src/core/empty.rs", "// empty input\n");
    f.moved("WP01", "for_review", "codex");
    f.review("WP01", "claude");
    f.approve("WP01", "claude");
    let (router, _) = app(&root);
    let board = get(&router, &format!("/missions/{}/board", m.slug)).body;
    assert!(
        !board.contains("changes requested"),
        "handed in again: {board}"
    );

    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "approved"]);
    env.ok(&root, &["accept", "--mission", &m.slug]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "accepted"]);
    env.ok(&root, &["merge", "--mission", &m.slug]);
    let (router, _) = app(&root);
    let lanes = get(&router, &format!("/missions/{}/lanes", m.slug)).body;
    assert!(!lanes.contains("(not created)"), "{lanes}");
    assert!(
        lanes.contains(
            "<span class=\"badge merged\">merged</span> into <code>main</code> at <code title=\""
        ),
        "{lanes}"
    );
    let page = get(&router, &format!("/missions/{}/wp/WP02", m.slug)).body;
    assert!(page.contains("<dt>Merged</dt>"), "{page}");
}

/// A background dashboard started with extra environment (test hooks).
fn start_with<'a>(env: &'a TestEnv, root: &Path, vars: &[(&str, &str)]) -> Running<'a> {
    let out = env
        .sk(root, &["dashboard", "--background", "--json"])
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Running {
        env,
        root: root.to_path_buf(),
        port: v["port"].as_u64().unwrap() as u16,
        pid: v["pid"].as_u64().unwrap() as u32,
    }
}

/// Wait (bounded) for a process to be gone; the deadline only decides failure.
fn gone_within(pid: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

/// Issue 25: half-sent requests cannot hold connections. A thousand local
/// clients that connect and stall (half of them mid-header, half silent, and
/// one kept-alive client idle after a full request) do not stop
/// `/api/health` from answering, and the server closes every one of them
/// itself once the header-read/idle timeout passes.
#[test]
fn stalled_clients_are_closed_and_health_still_answers() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let d = start_with(
        &env,
        &root,
        &[("SPEC_KITTY_TEST_DASHBOARD_TIMEOUT_MS", "300")],
    );
    let mut stalled = Vec::new();
    for i in 0..1000 {
        let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
        if i % 2 == 0 {
            let _ = write!(
                s,
                "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
                d.port
            );
        }
        stalled.push(s);
    }
    // One full keep-alive request, answered, then silence.
    let mut idle = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    write!(
        idle,
        "GET /api/version HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        d.port
    )
    .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    // Health answers while they stall (the generous timeout only decides
    // failure; the server has 256 slots and frees stalled ones in 300 ms).
    let mut h = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    h.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        h,
        "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        d.port
    )
    .unwrap();
    let mut health = String::new();
    h.read_to_string(&mut health).unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    // Every stalled connection is closed by the server (EOF or reset); a
    // server without timeouts leaves them open and the read times out.
    for (i, mut s) in stalled.into_iter().chain([idle]).enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("connection {i} was not closed by the server: {e}"),
        }
    }
    assert_eq!(
        dash::http(d.port, "GET", "/api/health", None).unwrap().0,
        200
    );
}

/// Issue 25: `.kittify/.dashboard` holds the shutdown token: it is written
/// owner-only, a looser record already there is replaced by an owner-only
/// one, and a reused dashboard's loose record is tightened.
#[cfg(unix)]
#[test]
fn the_record_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let rec = root.join(".kittify/.dashboard");
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // A stale record, world-readable, as an older version left it.
    fs::write(&rec, format!("http://127.0.0.1:1/\n1\n{TOKEN}\n\n")).unwrap();
    fs::set_permissions(&rec, fs::Permissions::from_mode(0o644)).unwrap();
    let d = Running::start(&env, &root);
    assert_eq!(mode(&rec), 0o600);
    fs::set_permissions(&rec, fs::Permissions::from_mode(0o644)).unwrap();
    let again = env.json(&root, &["dashboard", "--json"]);
    assert_eq!(again["reused"], true);
    assert_eq!(mode(&rec), 0o600, "reuse tightens a loose record");
    drop(d);
}

/// Issue 27: the Python tool's `dashboard --kill` cannot read our token from
/// `/api/health`, takes the server for dead and deletes the record: the
/// server notices its record is gone (or names another server) and stops.
#[test]
fn the_server_stops_when_its_record_is_removed_or_replaced() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let rec = root.join(".kittify/.dashboard");

    let d = Running::start(&env, &root);
    fs::remove_file(&rec).unwrap();
    assert!(
        gone_within(d.pid, Duration::from_secs(20)),
        "the server outlived its removed record"
    );
    assert!(dash::http(d.port, "GET", "/api/health", None).is_err());
    assert!(!rec.exists());

    let d = Running::start(&env, &root);
    let other = format!("http://127.0.0.1:1/\n1\n{TOKEN}\n1\n");
    fs::write(&rec, &other).unwrap();
    assert!(
        gone_within(d.pid, Duration::from_secs(20)),
        "the server outlived a record naming another server"
    );
    assert_eq!(
        fs::read_to_string(&rec).unwrap(),
        other,
        "a record that is not ours is left alone"
    );
}

/// Normalise what depends on the machine in a reference answer: artifact
/// mtimes become their kind, the project's own path becomes `<project>`.
fn normalised(mut v: serde_json::Value, project: &str) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value, project: &str) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    if k == "mtime" {
                        *x = serde_json::json!(if x.is_number() { "number" } else { "null" });
                    } else {
                        walk(x, project);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, project)),
            serde_json::Value::String(s) if s.starts_with(project) => {
                *s = s.replacen(project, "<project>", 1);
            }
            _ => {}
        }
    }
    walk(&mut v, project);
    v
}

/// Issue 27: a teammate on the Python tool reads `/api/features` and
/// `/api/kanban/<id>`: ours answers them read-only, in the reference's
/// shapes and with its values, compared with the reference's own answers
/// on the same project (tests/fixtures/reference-dashboard).
#[test]
fn the_reference_api_paths_answer_in_its_shapes() {
    let env = TestEnv::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference-dashboard");
    let root = env.work.join("p");
    crate::common::copy_dir(&fixture.join("project"), &root);
    fs::create_dir_all(root.join("kitty-specs/001-demo/checklists")).unwrap();
    let (router, _) = app(&root);
    let answer = |name: &str| -> serde_json::Value {
        let text = fs::read_to_string(fixture.join("answers").join(name)).unwrap();
        normalised(serde_json::from_str(&text).unwrap(), "/tmp/refdash/p")
    };
    let ours = |path: &str| -> serde_json::Value {
        let r = get(&router, path);
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let real = fs::canonicalize(&root).unwrap();
        normalised(
            serde_json::from_str(&r.body).unwrap(),
            &real.to_string_lossy(),
        )
    };
    let mut features = ours("/api/features");
    let mut reference = answer("features.json");
    // meta.json's timestamps and id are the fixture's own, equal on both sides.
    assert_eq!(
        features["features"][0]["meta"],
        reference["features"][0]["meta"]
    );
    // `active_worktree` is where the server process runs from (the
    // reference ran in the project, this test does not).
    features["active_worktree"] = serde_json::Value::Null;
    reference["active_worktree"] = serde_json::Value::Null;
    assert_eq!(features, reference);
    assert_eq!(ours("/api/kanban/001-demo"), answer("kanban-001-demo.json"));
    assert_eq!(ours("/api/kanban/999-nope"), answer("kanban-999-nope.json"));
}

/// Issue 31: the project-wide answers (index, mission list, the reference's
/// feature list) are rendered once per view version and then served as they
/// are; a change still reaches them at once (never a stale page).
#[test]
fn project_wide_answers_follow_every_change() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let d = Running::start(&env, &root);
    let mut reader = BufReader::new(open_events(d.port, 20));
    let v0 = next_version(&mut reader);
    let answers = || -> Vec<String> {
        ["/", "/api/missions", "/api/features"]
            .iter()
            .map(|p| {
                let (code, body) = dash::http(d.port, "GET", p, None).unwrap();
                assert_eq!(code, 200, "{p}");
                body
            })
            .collect()
    };
    let first = answers();
    assert_eq!(first, answers(), "served twice, the same");
    assert!(first.iter().all(|b| b.contains(&m.slug)));
    let other = env.create_mission(&root, "second");
    let mut v = v0;
    while !(v > v0
        && dash::http(d.port, "GET", "/api/missions", None)
            .unwrap()
            .1
            .contains(&other.slug))
    {
        v = next_version(&mut reader);
    }
    for (p, body) in ["/", "/api/missions", "/api/features"]
        .iter()
        .zip(answers())
    {
        assert!(body.contains(&other.slug), "{p} is stale: {body}");
    }
}

/// The index page as the in-process router renders it for the project as it
/// is now, with the served page's view version (the real server may have
/// published more views than the one fresh loader behind it).
fn index_as_rendered_now(root: &Path, served: &str) -> String {
    let version = served_version(served);
    let (router, _) = app(root);
    get(&router, "/").body.replacen(
        "data-version=\"1\"",
        &format!("data-version=\"{version}\""),
        1,
    )
}

fn served_version(page: &str) -> u64 {
    page.split_once("data-version=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .and_then(|(v, _)| v.parse().ok())
        .expect("a page with its view version")
}

/// Issue 31: the index is rendered when a view is published, not by the
/// first request. Against the real server: the first `/` after its start
/// shows every mission, byte for byte the page the router renders; after a
/// WP moves and a mission appears, every `/` asked once the event stream
/// names a new version is that version's page or a newer one (never
/// older), and the first whose view holds the change shows it.
#[test]
fn the_index_is_whole_at_start_and_follows_every_published_view() {
    let env = TestEnv::new();
    let (root, m) = project_with_mission(&env);
    let second = env.create_mission(&root, "second");
    let d = Running::start(&env, &root);
    let (code, first) = dash::http(d.port, "GET", "/", None).unwrap();
    assert_eq!(code, 200);
    for slug in [&m.slug, &second.slug] {
        assert!(
            first.contains(&format!("<tr data-mission=\"{slug}\">")),
            "{first}"
        );
    }
    assert_eq!(first, index_as_rendered_now(&root, &first));

    let mut reader = BufReader::new(open_events(d.port, 20));
    let v0 = next_version(&mut reader);
    env.ok(
        &root,
        &move_task("WP02", "claimed", &["--agent", "claude"], &m.slug),
    );
    let third = env.create_mission(&root, "third");
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        let v = next_version(&mut reader);
        assert!(v > v0);
        let (code, page) = dash::http(d.port, "GET", "/", None).unwrap();
        assert_eq!(code, 200);
        assert!(
            served_version(&page) >= v,
            "asked after version {v} was published, served {}",
            served_version(&page)
        );
        if page.contains(&format!("<tr data-mission=\"{}\">", third.slug))
            && page.contains("title=\"11.7%\"")
        {
            break page;
        }
        assert!(
            Instant::now() < deadline,
            "the change never reached /: {page}"
        );
    };
    assert_eq!(page, index_as_rendered_now(&root, &page));
}

/// The index of a view that carries its rendered page is that page, as it
/// is (no request renders it again); a view without one is rendered on its
/// first request, once, and kept with the view.
#[test]
fn the_index_is_served_from_its_view() {
    let env = TestEnv::new();
    let (root, _) = project_with_mission(&env);
    let mut loader = Loader::new(Project::at(&root));
    let view = loader.refresh(None, true).unwrap();
    let expected = get(&app(&root).0, "/").body;
    view.index_page
        .set(axum::body::Bytes::from_static(b"pre-rendered"))
        .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(view));
    let (stop, _) = tokio::sync::watch::channel(false);
    let router = server::router(test_app(&loader.root, rx, stop));
    let resp = get(&router, "/");
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.body, "pre-rendered");
    assert_eq!(resp.headers["content-type"], "text/html; charset=utf-8");

    let view = Arc::new(loader.refresh(None, true).unwrap());
    assert!(view.index_page.get().is_none());
    let (_tx, rx) = tokio::sync::watch::channel(view.clone());
    let (stop, _) = tokio::sync::watch::channel(false);
    let router = server::router(test_app(&loader.root, rx, stop));
    let served = get(&router, "/").body;
    assert_eq!(
        served,
        expected.replacen("data-version=\"1\"", "data-version=\"2\"", 1)
    );
    assert_eq!(
        view.index_page.get().map(|b| &b[..]),
        Some(served.as_bytes())
    );
    assert_eq!(get(&router, "/").body, served);
}
