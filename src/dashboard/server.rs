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

use super::markdown;
use super::model::{confined, read_confined, MissionView, ProjectView, ARTIFACTS};
use super::views::{self, ArtifactBody, HistoryRow, LaneRow};
use super::ReadProblem;
use crate::status::store::parse_events;
use crate::status::{EventFields, RawEvent};
use crate::tasks_md::{self, WpFile};

/// The Content-Security-Policy of every response: nothing but this origin's
/// own script, style and images; no frames, no forms, no plugins.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

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
}

impl App {
    fn current(&self) -> Arc<ProjectView> {
        self.view.borrow().clone()
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

async fn index(State(app): State<Shared>) -> Response {
    let v = app.current();
    html(StatusCode::OK, views::index(&v))
}

async fn mission_root(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current();
    match find(&v, &slug) {
        Some(m) => Redirect::to(&views::mission_url(&m.slug, "board")).into_response(),
        None => not_found(&v, &format!("no mission {slug}")),
    }
}

async fn board(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current();
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
    let v = app.current();
    match find(&v, &slug) {
        Some(m) => html(
            StatusCode::OK,
            views::lanes(&v, m, &lane_rows(&app.root, m)),
        ),
        None => not_found(&v, &format!("no mission {slug}")),
    }
}

/// The WP's page data, read fresh: the prompt, subtasks, and its events.
struct WpDetail {
    prompt_html: Option<String>,
    prompt_markdown: Option<String>,
    subtasks: Vec<(String, bool)>,
    history: Vec<HistoryRow>,
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
    let events_path = m.dir.join("status.events.jsonl");
    let mut history = Vec::new();
    if let Ok(Some(real)) = confined(root, &events_path) {
        if let Ok(bytes) = std::fs::read(real) {
            let (events, _) = parse_events::<RawEvent>(&events_path, &bytes);
            let mut mine: Vec<&RawEvent> = events.iter().filter(|e| e.wp_id() == wp_id).collect();
            mine.sort_by(|a, b| (a.at(), a.event_id()).cmp(&(b.at(), b.event_id())));
            history = mine
                .into_iter()
                .map(|e| HistoryRow {
                    at: e.at.to_string(),
                    from: e.from_lane.to_string(),
                    to: e.to_lane.to_string(),
                    actor: e.actor.to_string(),
                    note: e
                        .reason
                        .as_deref()
                        .or(e.review_ref.as_deref())
                        .unwrap_or_default()
                        .to_string(),
                })
                .collect();
        }
    }
    WpDetail {
        prompt_html: prompt_markdown.as_deref().map(markdown::render),
        prompt_markdown,
        subtasks,
        history,
    }
}

async fn wp(State(app): State<Shared>, UrlPath((slug, wp)): UrlPath<(String, String)>) -> Response {
    let v = app.current();
    let Some(m) = find(&v, &slug) else {
        return not_found(&v, &format!("no mission {slug}"));
    };
    let Some(card) = m.wp(&wp) else {
        return not_found(&v, &format!("no work package {wp} in {slug}"));
    };
    let d = wp_detail(&app.root, m, &wp);
    html(
        StatusCode::OK,
        views::wp(
            &v,
            m,
            card,
            d.prompt_html.as_deref(),
            &d.subtasks,
            &d.history,
        ),
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
    let v = app.current();
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
    let v = app.current();
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
    let v = app.current();
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
        "version": app.current().version,
        "spec_kitty_version": crate::VERSION,
        "implementation": "spec-kitty-rs",
    }))
    .into_response()
}

async fn version(State(app): State<Shared>) -> Response {
    Json(json!({ "version": app.current().version })).into_response()
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
    Json(missions_json(&app.current())).into_response()
}

/// The JSON behind the mission list.
pub fn missions_json(v: &ProjectView) -> serde_json::Value {
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

fn json_404(what: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

async fn api_mission(State(app): State<Shared>, UrlPath(slug): UrlPath<String>) -> Response {
    let v = app.current();
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
    let v = app.current();
    let Some(m) = find(&v, &slug) else {
        return json_404(format!("no mission {slug}"));
    };
    let Some(card) = m.wp(&wp) else {
        return json_404(format!("no work package {wp} in {slug}"));
    };
    let d = wp_detail(&app.root, m, &wp);
    Json(json!({
        "version": v.version,
        "work_package": card,
        "prompt_markdown": d.prompt_markdown,
        "subtasks": d.subtasks.iter().map(|(id, done)| json!({"id": id, "done": done})).collect::<Vec<_>>(),
        "history": d.history.iter().map(|h| json!({"at": h.at, "from_lane": h.from, "to_lane": h.to, "actor": h.actor, "note": h.note})).collect::<Vec<_>>(),
    }))
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

async fn verify(State(app): State<Shared>, headers: HeaderMap, body: String) -> Response {
    match given_token(&headers, &body) {
        Some(t) if token_eq(&t, &app.token) => Json(json!({"ok": true})).into_response(),
        _ => (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "invalid_token"})),
        )
            .into_response(),
    }
}

async fn shutdown(State(app): State<Shared>, headers: HeaderMap, body: String) -> Response {
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
    let v = app.current();
    not_found(&v, "no such page")
}
