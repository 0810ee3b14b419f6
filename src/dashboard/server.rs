//! The HTTP side: an axum router over the in-memory [`ProjectView`].
//!
//! Every handler only reads. Requests whose Host or Origin is not this
//! server's loopback address are refused (DNS rebinding); every response
//! carries a strict Content-Security-Policy; the token is accepted (by POST)
//! but never sent back.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::Stream;
use serde_json::json;
use tokio::sync::watch;

use super::compat;
use super::markdown;
use super::model::{confined, read_confined, MissionView, ProjectView, WpHistory, ARTIFACTS};
use super::views::{self, ArtifactBody, LaneRow};
use super::ReadProblem;
use crate::tasks_md::{self, WpFile};

/// The Content-Security-Policy of every response: nothing but this origin's
/// own script, style and images; no frames, no forms, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// How long and how many connections the server allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request's head must arrive whole within this; a kept-alive
    /// connection may wait this long for its next request; a request body
    /// must arrive within it. Then the connection is closed.
    pub timeout: Duration,
    /// Connections served at once; more wait in the listen queue until one
    /// ends (a stalled one ends within `timeout`), so file descriptors never
    /// run out.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            max_connections: 256,
        }
    }
}

/// The largest request body read (the token JSON is about 50 bytes).
const MAX_BODY: usize = 16 << 10;

/// Serve `router` on `listener` until `shutdown` resolves, then let open
/// connections finish for a moment and close them.
///
/// Built on hyper's HTTP/1 connection rather than `axum::serve`, which sets
/// no header-read timeout and no connection cap: a client that sends half a
/// request (or nothing) would hold its connection and a file descriptor
/// forever, and enough of them stop the server from accepting `/api/health`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.timeout)
        .keep_alive(true);
    let service = TowerToHyperService::new(router);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let (closing, _) = watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of descriptors or a connection reset before it was
                    // accepted: try again shortly rather than spin.
                    drop(permit);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), service.clone());
        let mut closing = closing.subscribe();
        conns.spawn(async move {
            let _slot = permit;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = async { closing.wait_for(|c| *c).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
                }
            }
        });
        while conns.try_join_next().is_some() {}
    }
    closing.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    conns.abort_all();
}

/// Answers that cover the whole project (the mission list, the reference's
/// feature list), rendered once per view version and then served as they
/// are: on a project of hundreds of missions a request costs a copy, not a
/// render of every mission. (The index page is rendered with its view, see
/// [`index_page`].)
#[derive(Default)]
pub struct Rendered {
    slots: std::sync::Mutex<std::collections::HashMap<&'static str, (u64, Bytes)>>,
}

impl Rendered {
    /// The answer `key` for view `version`, rendered by `render` (on the
    /// blocking pool) when it is missing or older.
    async fn get(
        &self,
        key: &'static str,
        version: u64,
        render: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) -> Option<Bytes> {
        let hit = self
            .slots
            .lock()
            .ok()?
            .get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, b)| b.clone());
        if hit.is_some() {
            return hit;
        }
        let bytes = Bytes::from(tokio::task::spawn_blocking(render).await.ok()?);
        if let Ok(mut slots) = self.slots.lock() {
            let newer = slots.get(key).is_some_and(|(v, _)| *v > version);
            if !newer {
                slots.insert(key, (version, bytes.clone()));
            }
        }
        Some(bytes)
    }
}

/// Shared state of the running server.
pub struct App {
    pub view: watch::Receiver<Arc<ProjectView>>,
    pub token: String,
    pub port: u16,
    pub pid: u32,
    /// The canonical project root.
    pub root: PathBuf,
    pub started_at: String,
    pub watch_mode: &'static str,
    /// Set to true to stop the server (and end every event stream).
    pub stop: watch::Sender<bool>,
    pub limits: Limits,
    /// The user's home, to show paths as the reference does (`~/...`).
    pub home: Option<PathBuf>,
    pub rendered: Rendered,
}

impl App {
    /// The view, once the first one is built: a server answers
    /// `/api/health` while it reads the project, and every other answer
    /// waits for the view (the loader's thread publishes it).
    async fn current(&self) -> Arc<ProjectView> {
        let mut rx = self.view.clone();
        if let Ok(v) = rx.wait_for(|v| v.is_built()).await {
            return v.clone();
        }
        // The loader's thread is gone without a view (it never is): what there is.
        let v = self.view.borrow().clone();
        v
    }
}

type Shared = Arc<App>;

/// The router, with the Host/Origin guard and the security headers.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/charter", get(charter))
        .route("/missions/{slug}", get(mission_root))
        .route("/missions/{slug}/board", get(board))
        .route("/missions/{slug}/lanes", get(lanes))
        .route("/missions/{slug}/wp/{wp}", get(wp))
        .route("/missions/{slug}/artifacts/{name}", get(artifact))
        .route(
            "/missions/{slug}/artifacts/{name}/{file}",
            get(artifact_file),
        )
        .route("/static/app.js", get(app_js))
        .route("/static/app.css", get(app_css))
        .route("/api/health", get(health))
        .route("/api/version", get(version))
        .route("/api/events", get(events))
        .route("/api/missions", get(api_missions))
        .route("/api/missions/{slug}", get(api_mission))
        .route("/api/missions/{slug}/wp/{wp}", get(api_wp))
        .route("/api/features", get(api_features))
        .route("/api/kanban/{id}", get(api_kanban))
        .route("/api/verify", post(verify))
        .route("/api/shutdown", post(shutdown))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Host and Origin must name this server on loopback; then add the headers.
async fn guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let allowed = [
        format!("127.0.0.1:{}", app.port),
        format!("localhost:{}", app.port),
    ];
    let host_ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h)));
    let origin_ok = match req.headers().get(header::ORIGIN) {
        None => true,
        Some(o) => o.to_str().ok().is_some_and(|o| {
            allowed
                .iter()
                .any(|a| o.eq_ignore_ascii_case(&format!("http://{a}")))
        }),
    };
    let mut resp = if host_ok && origin_ok {
        next.run(req).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "403 forbidden: this dashboard answers only to its own loopback address\n",
        )
            .into_response()
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "Cross-Origin-Resource-Policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

fn html(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

fn not_found(view: &ProjectView, what: &str) -> Response {
    html(StatusCode::NOT_FOUND, views::not_found(view, what))
}

/// Look a mission up by its directory name (never joined into a path as typed).
fn find<'a>(view: &'a ProjectView, slug: &str) -> Option<&'a Arc<MissionView>> {
    view.mission(slug)
}

/// A whole-project answer from [`Rendered`].
async fn project_wide(
    app: &Shared,
    key: &'static str,
    content_type: &'static str,
    render: impl FnOnce(&ProjectView) -> Vec<u8> + Send + 'static,
) -> Response {
    let v = app.current().await;
    let version = v.version;
    match app.rendered.get(key, version, move || render(&v)).await {
        Some(body) => ([(header::CONTENT_TYPE, content_type)], body).into_response(),
        None => json_500("render"),
    }
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

/// The index page of `view`, rendered once per view. The watcher's thread
/// calls this before it publishes a view, so a request finds it rendered;
/// a view published by anyone else is rendered by its first request.
pub fn index_page(view: &ProjectView) -> &Bytes {
    view.index_page
        .get_or_init(|| Bytes::from(views::index(view).into_bytes()))
}

async fn index(State(app): State<Shared>) -> Response {
    let v = app.current().await;
    let body = match v.index_page.get() {
        Some(body) => body.clone(),
        None => match tokio::task::spawn_blocking(move || index_page(&v).clone()).await {
            Ok(body) => body,
            Err(_) => return json_500("render"),
        },
    };
    ([(header::CONTENT_TYPE, HTML)], body).into_response()
}

async fn mission_root(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current().await;
    match find(&v, &slug) {
        Some(m) => Redirect::to(&views::mission_url(&m.slug, "board")).into_response(),
        None => not_found(&v, &format!("no mission {slug}")),
    }
}

async fn board(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current().await;
    match find(&v, &slug) {
        Some(m) => html(StatusCode::OK, views::board(&v, m)),
        None => not_found(&v, &format!("no mission {slug}")),
    }
}

fn lane_rows(root: &Path, m: &MissionView) -> Vec<LaneRow> {
    let Some(manifest) = &m.lanes else {
        return Vec::new();
    };
    manifest
        .lanes
        .iter()
        .map(|l| {
            let planning = l.lane_id == crate::lanes::PLANNING_LANE;
            let wt = if planning {
                root.to_path_buf()
            } else {
                manifest.worktree_path(root, &l.lane_id)
            };
            LaneRow {
                lane_id: l.lane_id.clone(),
                wp_ids: l.wp_ids.clone(),
                worktree_exists: wt.is_dir(),
                merged: !l.wp_ids.is_empty()
                    && l.wp_ids.iter().all(|id| {
                        m.wp(id)
                            .is_some_and(|w| w.lane == crate::status::Lane::Done)
                    }),
                worktree: if planning {
                    "(main checkout)".into()
                } else {
                    wt.strip_prefix(root)
                        .unwrap_or(&wt)
                        .to_string_lossy()
                        .into_owned()
                },
                branch: if planning {
                    manifest.target_branch.clone()
                } else {
                    manifest.lane_branch(&l.lane_id)
                },
                depends_on: l.depends_on_lanes.clone(),
            }
        })
        .collect()
}

async fn lanes(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current().await;
    match find(&v, &slug) {
        Some(m) => html(
            StatusCode::OK,
            views::lanes(&v, m, &lane_rows(&app.root, m)),
        ),
        None => not_found(&v, &format!("no mission {slug}")),
    }
}

/// The WP's page data besides what the view holds: its prompt and its
/// subtasks, read fresh (two small files, size-capped). Its history comes
/// from the view, which the watcher builds once per change of the log: a page
/// never re-reads the log.
struct WpDetail {
    prompt_html: Option<String>,
    prompt_markdown: Option<String>,
    subtasks: Vec<(String, bool)>,
}

fn wp_detail(root: &Path, m: &MissionView, wp_id: &str) -> WpDetail {
    let card = m.wp(wp_id);
    let prompt_markdown = card.and_then(|c| {
        let path = root.join(&c.file);
        let text = read_confined(root, &path).ok().flatten()?;
        Some(match WpFile::parse(&path, &text) {
            Ok(f) => f.body,
            Err(_) => text,
        })
    });
    let subtasks = read_confined(root, &m.dir.join("tasks.md"))
        .ok()
        .flatten()
        .map(|t| {
            tasks_md::parse::parse(&t)
                .section(wp_id)
                .map(|s| s.subtasks.iter().map(|t| (t.id.clone(), t.done)).collect())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    WpDetail {
        prompt_html: prompt_markdown.as_deref().map(markdown::render),
        prompt_markdown,
        subtasks,
    }
}

/// [`wp_detail`] on the blocking pool, so file reads and markdown rendering
/// never hold the thread that answers every other request.
async fn wp_detail_off_thread(app: &Shared, m: &Arc<MissionView>, wp_id: &str) -> WpDetail {
    let (root, m2, id) = (app.root.clone(), m.clone(), wp_id.to_string());
    match tokio::task::spawn_blocking(move || wp_detail(&root, &m2, &id)).await {
        Ok(d) => d,
        Err(_) => WpDetail {
            prompt_html: None,
            prompt_markdown: None,
            subtasks: Vec::new(),
        },
    }
}

async fn wp(State(app): State<Shared>, UrlPath((slug, wp)): UrlPath<(String, String)>) -> Response {
    let v = app.current().await;
    let Some(m) = find(&v, &slug) else {
        return not_found(&v, &format!("no mission {slug}"));
    };
    let Some(card) = m.wp(&wp) else {
        return not_found(&v, &format!("no work package {wp} in {slug}"));
    };
    let d = wp_detail_off_thread(&app, m, &wp).await;
    let empty = WpHistory::default();
    let history = m.history.get(&wp).unwrap_or(&empty);
    html(
        StatusCode::OK,
        views::wp(&v, m, card, d.prompt_html.as_deref(), &d.subtasks, history),
    )
}

/// The artifact's file (or directory) when `name` is one of the known ones.
fn artifact_path(m: &MissionView, name: &str) -> Option<PathBuf> {
    ARTIFACTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, file)| m.dir.join(file))
}

fn render_file(root: &Path, path: &Path) -> ArtifactBody {
    match read_confined(root, path) {
        Ok(Some(text)) => {
            let md = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("md"));
            if md {
                ArtifactBody::Html(markdown::render(&text))
            } else {
                ArtifactBody::Text(text)
            }
        }
        Ok(None) => ArtifactBody::Missing,
        Err(p) => ArtifactBody::Problem(format!("{}: {p}", path.display())),
    }
}

/// The regular files of an artifact directory, by name.
fn listing(root: &Path, dir: &Path) -> Result<Vec<String>, ReadProblem> {
    if confined(root, dir)?.is_none() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(ReadProblem::Unlisted)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

async fn artifact(
    State(app): State<Shared>,
    UrlPath((slug, name)): UrlPath<(String, String)>,
) -> Response {
    let v = app.current().await;
    let Some(m) = find(&v, &slug) else {
        return not_found(&v, &format!("no mission {slug}"));
    };
    // A markdown link between artifacts (`plan.md`) lands on the artifact.
    let name = ARTIFACTS
        .iter()
        .find(|(n, _, f)| *n == name || *f == name)
        .map(|(n, _, _)| *n);
    let Some(name) = name else {
        return not_found(&v, "no such artifact");
    };
    let Some(path) = artifact_path(m, name) else {
        return not_found(&v, "no such artifact");
    };
    let body = if matches!(name, "contracts" | "checklists") {
        match listing(&app.root, &path) {
            Ok(names) => ArtifactBody::Listing(
                names
                    .into_iter()
                    .map(|n| {
                        let href = views::mission_url(&m.slug, &format!("artifacts/{name}/{n}"));
                        (n, href)
                    })
                    .collect(),
            ),
            Err(p) => ArtifactBody::Problem(p.to_string()),
        }
    } else {
        render_file(&app.root, &path)
    };
    html(StatusCode::OK, views::artifact(&v, m, name, None, &body))
}

async fn artifact_file(
    State(app): State<Shared>,
    UrlPath((slug, name, file)): UrlPath<(String, String, String)>,
) -> Response {
    let v = app.current().await;
    let Some(m) = find(&v, &slug) else {
        return not_found(&v, &format!("no mission {slug}"));
    };
    if !matches!(name.as_str(), "contracts" | "checklists") {
        return not_found(&v, "no such artifact");
    }
    let Some(dir) = artifact_path(m, &name) else {
        return not_found(&v, "no such artifact");
    };
    // The file is looked up in the directory's listing, never joined as typed;
    // the read itself is confined (a link out of the project is refused).
    let names = listing(&app.root, &dir).unwrap_or_default();
    let Some(found) = names.into_iter().find(|n| *n == file) else {
        return not_found(&v, &format!("no file {file} in {name}"));
    };
    let body = render_file(&app.root, &dir.join(&found));
    html(
        StatusCode::OK,
        views::artifact(&v, m, &name, Some(&found), &body),
    )
}

async fn charter(State(app): State<Shared>) -> Response {
    let v = app.current().await;
    let path = app.root.join(".kittify/charter/charter.md");
    let body = render_file(&app.root, &path);
    html(StatusCode::OK, views::charter(&v, &body))
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
        .into_response()
}

async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS).into_response()
}

async fn health(State(app): State<Shared>) -> Response {
    Json(json!({
        "status": "ok",
        "project_path": app.root.to_string_lossy(),
        "pid": app.pid,
        "port": app.port,
        "started_at": app.started_at,
        "watch_mode": app.watch_mode,
        "version": app.view.borrow().version,
        "spec_kitty_version": crate::VERSION,
        "implementation": "spec-kitty-rs",
    }))
    .into_response()
}

async fn version(State(app): State<Shared>) -> Response {
    Json(json!({ "version": app.current().await.version })).into_response()
}

/// Server-Sent Events: the view's version now, then on every change. The
/// stream ends when the server stops, so shutdown never waits on a tab.
async fn events(State(app): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = app.view.clone();
    let stop = app.stop.subscribe();
    let stream =
        futures_util::stream::unfold((rx, stop, true), |(mut rx, mut stop, first)| async move {
            if !first {
                if *stop.borrow() {
                    return None;
                }
                tokio::select! {
                    r = rx.changed() => { r.ok()?; }
                    _ = stop.changed() => return None,
                }
            } else if !rx.borrow().is_built() {
                // The first event names the first built view.
                tokio::select! {
                    r = rx.wait_for(|v| v.is_built()) => { r.ok()?; }
                    _ = stop.wait_for(|s| *s) => return None,
                }
            }
            let version = rx.borrow_and_update().version;
            let ev = Event::default()
                .event("version")
                .retry(Duration::from_millis(500))
                .data(version.to_string());
            Some((Ok(ev), (rx, stop, false)))
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
}

async fn api_missions(State(app): State<Shared>) -> Response {
    project_wide(&app, "missions", JSON, |v| {
        serde_json::to_vec(&MissionsJson::of(v)).unwrap_or_default()
    })
    .await
}

/// The JSON behind the mission list, serialized as it is (building a JSON
/// value per mission first was most of the first request's cost on a large
/// project). Its fields, in their order, are the answer's.
#[derive(serde::Serialize)]
pub struct MissionsJson<'a> {
    version: u64,
    project_path: &'a str,
    missions: Vec<MissionRow<'a>>,
    problems: &'a [super::model::Problem],
}

/// One mission of [`MissionsJson`].
#[derive(serde::Serialize)]
struct MissionRow<'a> {
    slug: &'a str,
    number: &'a str,
    name: &'a str,
    mission_type: &'a str,
    mission_id: &'a Option<String>,
    progress_percentage: f64,
    done: usize,
    total: usize,
    lane_count: usize,
    accepted: bool,
    merged: bool,
    problems: &'a [super::model::Problem],
}

impl<'a> MissionsJson<'a> {
    pub fn of(v: &'a ProjectView) -> MissionsJson<'a> {
        MissionsJson {
            version: v.version,
            project_path: &v.project_path,
            missions: v
                .missions
                .iter()
                .map(|m| MissionRow {
                    slug: &m.slug,
                    number: &m.number,
                    name: &m.name,
                    mission_type: &m.mission_type,
                    mission_id: &m.mission_id,
                    progress_percentage: m.progress_percentage,
                    done: m.done,
                    total: m.total,
                    lane_count: m.lane_count(),
                    accepted: m.accepted,
                    merged: m.merged,
                    problems: &m.problems,
                })
                .collect(),
            problems: &v.problems,
        }
    }
}

/// The JSON behind the mission list, as a value.
pub fn missions_json(v: &ProjectView) -> serde_json::Value {
    serde_json::to_value(MissionsJson::of(v)).unwrap_or_default()
}

fn json_404(what: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

async fn api_mission(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current().await;
    match find(&v, &slug) {
        Some(m) => Json(board_json(&v, m)).into_response(),
        None => json_404(format!("no mission {slug}")),
    }
}

/// The JSON behind the board.
pub fn board_json(v: &ProjectView, m: &MissionView) -> serde_json::Value {
    json!({ "version": v.version, "mission": m })
}

async fn api_wp(
    State(app): State<Shared>,
    UrlPath((slug, wp)): UrlPath<(String, String)>,
) -> Response {
    let v = app.current().await;
    let Some(m) = find(&v, &slug) else {
        return json_404(format!("no mission {slug}"));
    };
    let Some(card) = m.wp(&wp) else {
        return json_404(format!("no work package {wp} in {slug}"));
    };
    let d = wp_detail_off_thread(&app, m, &wp).await;
    let empty = WpHistory::default();
    let history = m.history.get(&wp).unwrap_or(&empty);
    Json(json!({
        "version": v.version,
        "work_package": card,
        "prompt_markdown": d.prompt_markdown,
        "subtasks": d.subtasks.iter().map(|(id, done)| json!({"id": id, "done": done})).collect::<Vec<_>>(),
        "history": history.rows,
        "history_total": history.total,
    }))
    .into_response()
}

/// The reference's `GET /api/features` (see [`super::compat`]).
async fn api_features(State(app): State<Shared>) -> Response {
    let (root, home) = (app.root.clone(), app.home.clone());
    let cwd = std::env::current_dir().ok();
    project_wide(&app, "features", JSON, move |v| {
        serde_json::to_vec(&compat::features(v, &root, home.as_deref(), cwd)).unwrap_or_default()
    })
    .await
}

/// The reference's `GET /api/kanban/<id>` (see [`super::compat`]).
async fn api_kanban(State(app): State<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    let v = app.current().await;
    let root = app.root.clone();
    match tokio::task::spawn_blocking(move || compat::kanban(&v, &root, &id)).await {
        Ok(body) => Json(body).into_response(),
        Err(_) => json_500("failed_to_scan_kanban"),
    }
}

fn json_500(what: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": what })),
    )
        .into_response()
}

/// Constant-time comparison, so the token cannot be guessed byte by byte.
fn token_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The token from a JSON body `{"token": ...}` or an `X-Dashboard-Token` header.
fn given_token(headers: &HeaderMap, body: &str) -> Option<String> {
    if let Some(t) = headers
        .get("x-dashboard-token")
        .and_then(|h| h.to_str().ok())
    {
        return Some(t.to_string());
    }
    crate::bounds::json::<serde_json::Value>(body)
        .ok()?
        .get("token")?
        .as_str()
        .map(str::to_string)
}

/// A request body, size-capped and within the time limit (None otherwise).
async fn read_body(app: &App, body: Body) -> Option<String> {
    let bytes = tokio::time::timeout(app.limits.timeout, axum::body::to_bytes(body, MAX_BODY))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

async fn verify(State(app): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let Some(body) = read_body(&app, body).await else {
        return (StatusCode::REQUEST_TIMEOUT, Json(json!({"error": "body"}))).into_response();
    };
    match given_token(&headers, &body) {
        Some(t) if token_eq(&t, &app.token) => Json(json!({"ok": true})).into_response(),
        _ => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "invalid_token"})),
        )
            .into_response(),
    }
}

async fn shutdown(State(app): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let Some(body) = read_body(&app, body).await else {
        return (StatusCode::REQUEST_TIMEOUT, Json(json!({"error": "body"}))).into_response();
    };
    match given_token(&headers, &body) {
        Some(t) if token_eq(&t, &app.token) => {
            app.stop.send_replace(true);
            Json(json!({"status": "stopping"})).into_response()
        }
        _ => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "invalid_token"})),
        )
            .into_response(),
    }
}

async fn fallback(State(app): State<Shared>) -> Response {
    let v = app.current().await;
    not_found(&v, "no such page")
}

#[cfg(test)]
mod tests {
    use super::super::model::{load_mission, Problem};
    use super::*;

    /// The answer as it was built before, a JSON value per mission.
    fn missions_value(v: &ProjectView) -> serde_json::Value {
        let missions: Vec<_> = v
            .missions
            .iter()
            .map(|m| {
                json!({
                    "slug": m.slug,
                    "number": m.number,
                    "name": m.name,
                    "mission_type": m.mission_type,
                    "mission_id": m.mission_id,
                    "progress_percentage": m.progress_percentage,
                    "done": m.done,
                    "total": m.total,
                    "lane_count": m.lane_count(),
                    "accepted": m.accepted,
                    "merged": m.merged,
                    "problems": m.problems,
                })
            })
            .collect();
        json!({
            "version": v.version,
            "project_path": v.project_path,
            "missions": missions,
            "problems": v.problems,
        })
    }

    #[test]
    fn the_mission_list_serializes_byte_for_byte_as_its_json_value() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let specs = root.join("kitty-specs");
        let a = specs.join("001-first");
        std::fs::create_dir_all(a.join("tasks")).unwrap();
        std::fs::write(
            a.join("meta.json"),
            r#"{"mission_id": "01KB0000000000000000000001", "friendly_name": "First \"one\" <b>", "accepted_at": "2026-01-01"}"#,
        )
        .unwrap();
        std::fs::write(
            a.join("tasks/WP01-x.md"),
            "---\nwork_package_id: WP01\ntitle: X\n---\n",
        )
        .unwrap();
        std::fs::write(
            a.join("tasks/WP02-y.md"),
            "---\nwork_package_id: WP02\ntitle: Y\n---\n",
        )
        .unwrap();
        std::fs::write(
            a.join("status.events.jsonl"),
            "{\"actor\": \"a\", \"at\": \"2026-01-01T00:00:00+00:00\", \"event_id\": \"01KB0000000000000000000001\", \"from_lane\": \"planned\", \"to_lane\": \"claimed\", \"wp_id\": \"WP01\", \"mission_slug\": \"001-first\", \"force\": false, \"execution_mode\": \"worktree\"}\nnot json\n",
        )
        .unwrap();
        let b = specs.join("002-broken");
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("meta.json"), "{").unwrap();
        let view = ProjectView {
            version: 7,
            project_path: root.to_string_lossy().into_owned(),
            project_name: "p".into(),
            missions: [&a, &b]
                .iter()
                .map(|d| Arc::new(load_mission(root, d)))
                .collect(),
            problems: vec![Problem {
                file: "kitty-specs".into(),
                line: Some(3),
                message: "odd \u{1b} text".into(),
            }],
            has_charter: false,
            index_page: Default::default(),
        };
        assert!(!view.missions[0].problems.is_empty() && !view.missions[1].problems.is_empty());
        assert_eq!(view.missions[0].total, 2);
        let typed = serde_json::to_vec(&MissionsJson::of(&view)).unwrap();
        let value = serde_json::to_vec(&missions_value(&view)).unwrap();
        assert_eq!(
            String::from_utf8(typed).unwrap(),
            String::from_utf8(value).unwrap()
        );
        assert_eq!(missions_json(&view), missions_value(&view));
    }
}
