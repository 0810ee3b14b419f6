//! HTML pages, rendered on the server. Every value from the project is
//! escaped with [`esc`]; markdown goes through [`super::markdown::render`].
//! Pages carry no inline script or style (the CSP forbids both): behaviour is
//! `/static/app.js`, looks are `/static/app.css`.

use std::fmt::Write;

use super::model::{MissionView, Problem, ProjectView, WpCard, WpHistory, ARTIFACTS, COLUMNS};
use super::svg;
use crate::status::Lane;

/// Escape text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_esc(&mut out, s);
    out
}

/// [`esc`] of `s` appended to `out` (no string of its own).
fn push_esc(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A path segment for a link (slugs and ids are validated names, but escape anyway).
fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// A timestamp as people read it (`2026-01-05 14:03 UTC`), the exact value
/// kept in the element's `datetime` and tooltip; an unreadable one as written.
pub fn when(at: &str) -> String {
    match crate::timefmt::parse_iso(at) {
        Some(t) => format!(
            "<time datetime=\"{raw}\" title=\"{raw}\">{}</time>",
            t.format("%Y-%m-%d %H:%M UTC"),
            raw = esc(at)
        ),
        None => esc(at),
    }
}

pub fn mission_url(slug: &str, rest: &str) -> String {
    format!("/missions/{}/{rest}", seg(slug))
}

pub fn wp_url(slug: &str, wp: &str) -> String {
    mission_url(slug, &format!("wp/{}", seg(wp)))
}

/// The whole page around `body`. `crumbs` are (label, href) pairs after the project.
pub fn page(view: &ProjectView, title: &str, crumbs: &[(String, String)], body: &str) -> String {
    let mut nav = format!("<a href=\"/\">{}</a>", esc(&view.project_name));
    for (label, href) in crumbs {
        let _ = write!(
            nav,
            " <span class=\"sep\">/</span> <a href=\"{}\">{}</a>",
            esc(href),
            esc(label)
        );
    }
    let charter = if view.has_charter {
        "<a class=\"top-link\" href=\"/charter\">Charter</a>"
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · spec-kitty</title>\
         <link rel=\"stylesheet\" href=\"/static/app.css\">\
         <script src=\"/static/app.js\" defer></script></head>\
         <body><header><nav class=\"crumbs\">{nav}</nav><span class=\"grow\"></span>{charter}\
         <span id=\"live\" class=\"live\" title=\"live updates\">live</span></header>\
         <main id=\"view\" data-version=\"{version}\">{body}</main></body></html>\n",
        title = esc(title),
        version = view.version,
    )
}

fn problems_html(problems: &[Problem]) -> String {
    if problems.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<section class=\"problems\" role=\"alert\"><h3>Problems reading this mission</h3><ul>",
    );
    for p in problems {
        let at = match p.line {
            Some(l) => format!("{}:{l}", p.file),
            None => p.file.clone(),
        };
        let _ = write!(s, "<li><code>{}</code>: {}</li>", esc(&at), esc(&p.message));
    }
    s.push_str("</ul></section>");
    s
}

fn progress(pct: f64) -> String {
    let mut s = String::new();
    push_progress(&mut s, pct);
    s
}

/// [`progress`] appended to `out` (the number formatted once).
fn push_progress(out: &mut String, pct: f64) {
    let mut n = String::new();
    let _ = write!(n, "{pct}");
    let _ = write!(
        out,
        "<progress max=\"100\" value=\"{n}\" title=\"{n}%\"></progress> <span class=\"pct\">{n}%</span>"
    );
}

/// `/`: every mission.
pub fn index(view: &ProjectView) -> String {
    let mut s = String::from("<h1>Missions</h1>");
    s.push_str(&problems_html(&view.problems));
    if view.missions.is_empty() {
        s.push_str("<p class=\"empty\">No missions yet: <code>spec-kitty agent mission create NAME</code> makes one.</p>");
        return page(view, "Missions", &[], &s);
    }
    // Each mission's row is rendered once per mission view and kept with
    // it: the index of a view rebuilt after one mission changed renders one
    // row and copies the others.
    let rows: Vec<&str> = view
        .missions
        .iter()
        .map(|m| m.index_row.get_or_init(|| index_row(m)).as_str())
        .collect();
    s.reserve(rows.iter().map(|r| r.len()).sum::<usize>() + 256);
    s.push_str(
        "<table class=\"missions\"><thead><tr><th>#</th><th>Mission</th><th>Type</th>\
         <th>Progress</th><th>WPs</th><th>Lanes</th><th>State</th></tr></thead><tbody>",
    );
    for row in rows {
        s.push_str(row);
    }
    s.push_str("</tbody></table>");
    page(view, "Missions", &[], &s)
}

/// One mission's row of the index.
fn index_row(m: &MissionView) -> String {
    let mut s = String::with_capacity(400);
    s.push_str("<tr data-mission=\"");
    push_esc(&mut s, &m.slug);
    s.push_str("\"><td>");
    push_esc(&mut s, &m.number);
    s.push_str("</td><td><a href=\"");
    push_esc(&mut s, &mission_url(&m.slug, "board"));
    s.push_str("\">");
    push_esc(&mut s, &m.name);
    s.push_str("</a><div class=\"slug\">");
    push_esc(&mut s, &m.slug);
    s.push_str("</div></td><td>");
    push_esc(&mut s, &m.mission_type);
    s.push_str("</td><td>");
    push_progress(&mut s, m.progress_percentage);
    let _ = write!(
        s,
        "</td><td>{}/{}</td><td>{}</td><td>",
        m.done,
        m.total,
        m.lane_count()
    );
    let mut sep = "";
    for (on, badge) in [
        (m.merged, "<span class=\"badge merged\">merged</span>"),
        (m.accepted, "<span class=\"badge accepted\">accepted</span>"),
        (
            !m.problems.is_empty(),
            "<span class=\"badge problem\">problem</span>",
        ),
    ] {
        if on {
            s.push_str(sep);
            s.push_str(badge);
            sep = " ";
        }
    }
    s.push_str("</td></tr>");
    s
}

/// The tabs of a mission page; `active` is the current one.
fn tabs(m: &MissionView, active: &str) -> String {
    let mut s = String::from("<nav class=\"tabs\">");
    let mut tab = |name: &str, label: &str, href: String| {
        let class = if name == active {
            " class=\"active\""
        } else {
            ""
        };
        let _ = write!(s, "<a{class} href=\"{}\">{}</a>", esc(&href), esc(label));
    };
    tab("board", "Board", mission_url(&m.slug, "board"));
    tab("lanes", "Lanes", mission_url(&m.slug, "lanes"));
    for (name, label, _) in ARTIFACTS {
        if m.artifacts.contains(&name) {
            tab(
                name,
                label,
                mission_url(&m.slug, &format!("artifacts/{name}")),
            );
        }
    }
    s.push_str("</nav>");
    s
}

fn mission_head(m: &MissionView, active: &str) -> String {
    let mut badges = String::new();
    if m.merged {
        badges.push_str(" <span class=\"badge merged\">merged</span>");
    }
    if m.accepted {
        badges.push_str(" <span class=\"badge accepted\">accepted</span>");
    }
    format!(
        "<h1>{num} {name}{badges}</h1><p class=\"meta\"><code>{slug}</code> · {ty} · {done}/{total} done · {prog}</p>{tabs}{problems}",
        num = esc(&m.number),
        name = esc(&m.name),
        slug = esc(&m.slug),
        ty = esc(&m.mission_type),
        done = m.done,
        total = m.total,
        prog = progress(m.progress_percentage),
        tabs = tabs(m, active),
        problems = problems_html(&m.problems),
    )
}

fn crumbs(m: &MissionView) -> Vec<(String, String)> {
    vec![(m.slug.clone(), mission_url(&m.slug, "board"))]
}

fn card(m: &MissionView, w: &WpCard) -> String {
    let mut s = format!(
        "<a class=\"card lane-{lane}{rejected}\" id=\"card-{id}\" data-wp=\"{id}\" data-lane=\"{lane}\" href=\"{href}\">\
         <div class=\"card-head\"><span class=\"wp-id\">{id}</span>",
        id = esc(&w.id),
        lane = w.lane.as_str(),
        href = esc(&wp_url(&m.slug, &w.id)),
        rejected = if w.changes_requested.is_some() {
            " rejected"
        } else {
            ""
        },
    );
    // The lane, where the column holds more than one and this is not its first.
    let primary = COLUMNS
        .iter()
        .find(|(id, _, _)| *id == w.column)
        .and_then(|(_, _, lanes)| lanes.first().copied());
    if primary != Some(w.lane) {
        let _ = write!(
            s,
            "<span class=\"badge lane-{0}\">{0}</span>",
            w.lane.as_str()
        );
    }
    if w.ready {
        s.push_str("<span class=\"badge ready\">ready</span>");
    } else if w.lane != Lane::Blocked && !w.waiting_on.is_empty() {
        s.push_str("<span class=\"badge blocked\">blocked</span>");
    }
    if let Some(c) = &w.changes_requested {
        let _ = write!(
            s,
            "<span class=\"badge rejected\" title=\"{}\">changes requested</span>",
            esc(&format!("by {} at {}: {}", c.by, c.at, c.feedback))
        );
    }
    let _ = write!(s, "</div><div class=\"title\">{}</div>", esc(&w.title));
    if let Some(p) = &w.problem {
        let _ = write!(s, "<div class=\"card-problem\">{}</div>", esc(p));
    }
    let mut meta = Vec::new();
    if !w.implementer.is_empty() {
        meta.push(format!(
            "<span class=\"implementer\" title=\"implementer\">@{}</span>",
            esc(&w.implementer)
        ));
    }
    if !w.reviewer.is_empty() {
        meta.push(format!(
            "<span class=\"reviewer\" title=\"reviewer\">reviewed by @{}</span>",
            esc(&w.reviewer)
        ));
    }
    if w.subtasks_total > 0 {
        meta.push(format!(
            "<span class=\"subtasks\">{}/{} subtasks</span>",
            w.subtasks_done, w.subtasks_total
        ));
    }
    if !meta.is_empty() {
        let _ = write!(s, "<div class=\"card-meta\">{}</div>", meta.join(" "));
    }
    if !w.dependencies.is_empty() {
        let deps: Vec<String> = w
            .dependencies
            .iter()
            .map(|d| {
                let class = if w.waiting_on.contains(d) {
                    "dep waiting"
                } else {
                    "dep met"
                };
                format!("<span class=\"{class}\">{}</span>", esc(d))
            })
            .collect();
        let _ = write!(s, "<div class=\"deps\">needs {}</div>", deps.join(" "));
    }
    s.push_str("</a>");
    s
}

/// `/missions/<slug>/board`.
pub fn board(view: &ProjectView, m: &MissionView) -> String {
    let mut s = mission_head(m, "board");
    if m.work_packages.is_empty() {
        s.push_str("<p class=\"empty\">No work packages yet: write tasks.md and tasks/WPxx-*.md, then run <code>spec-kitty agent mission finalize-tasks</code>.</p>");
    }
    s.push_str("<div class=\"board\">");
    for (col, label, _) in COLUMNS {
        let cards: Vec<&WpCard> = m.work_packages.iter().filter(|w| w.column == col).collect();
        let _ = write!(
            s,
            "<section class=\"column\" data-column=\"{col}\"><h2>{label} <span class=\"count\">{}</span></h2>",
            cards.len()
        );
        for w in cards {
            s.push_str(&card(m, w));
        }
        s.push_str("</section>");
    }
    s.push_str("</div>");
    page(view, &format!("{} board", m.slug), &crumbs(m), &s)
}

/// `/missions/<slug>/wp/<WP>`.
pub fn wp(
    view: &ProjectView,
    m: &MissionView,
    w: &WpCard,
    prompt_html: Option<&str>,
    subtasks: &[(String, bool)],
    history: &WpHistory,
) -> String {
    let mut s = mission_head(m, "");
    let _ = write!(
        s,
        "<article class=\"wp\" data-wp=\"{id}\"><h2><span class=\"wp-id\">{id}</span> {title} \
         <span class=\"badge lane-{lane}\">{lane}</span></h2><dl class=\"facts\">",
        id = esc(&w.id),
        title = esc(&w.title),
        lane = w.lane.as_str()
    );
    let mut fact = |k: &str, v: String| {
        if !v.is_empty() {
            let _ = write!(s, "<dt>{k}</dt><dd>{v}</dd>");
        }
    };
    fact("Implementer", esc(&w.implementer));
    fact("Reviewer", esc(&w.reviewer));
    if w.agent != w.implementer && w.agent != w.reviewer {
        fact("Last agent", esc(&w.agent));
    }
    if let Some(c) = &w.changes_requested {
        fact(
            "Changes requested",
            format!(
                "<span class=\"badge rejected\">changes requested</span> by {} at {}<blockquote class=\"feedback\">{}</blockquote>",
                esc(&c.by),
                when(&c.at),
                esc(&c.feedback)
            ),
        );
    }
    if let Some(c) = &w.merged_commit {
        fact(
            "Merged",
            format!(
                "<code title=\"{}\">{}</code>",
                esc(c),
                esc(crate::git::short10(c))
            ),
        );
    }
    fact(
        "Depends on",
        w.dependencies
            .iter()
            .map(|d| format!("<a href=\"{}\">{}</a>", esc(&wp_url(&m.slug, d)), esc(d)))
            .collect::<Vec<_>>()
            .join(", "),
    );
    fact("Waiting on", esc(&w.waiting_on.join(", ")));
    fact(
        "Lane",
        w.exec_lane
            .as_deref()
            .map(|l| {
                format!(
                    "<a href=\"{}\">{}</a>",
                    esc(&mission_url(&m.slug, "lanes")),
                    esc(l)
                )
            })
            .unwrap_or_default(),
    );
    fact("File", format!("<code>{}</code>", esc(&w.file)));
    s.push_str("</dl>");
    if let Some(p) = &w.problem {
        let _ = write!(
            s,
            "<section class=\"problems\" role=\"alert\"><p>{}</p></section>",
            esc(p)
        );
    }
    if !subtasks.is_empty() {
        s.push_str("<h3>Subtasks</h3><ul class=\"subtasks\">");
        for (id, done) in subtasks {
            let _ = write!(
                s,
                "<li class=\"{}\">{} {}</li>",
                if *done { "done" } else { "open" },
                if *done { "☑" } else { "☐" },
                esc(id)
            );
        }
        s.push_str("</ul>");
    }
    s.push_str("<h3>Event history</h3>");
    if history.rows.is_empty() {
        s.push_str("<p class=\"empty\">No status events yet.</p>");
    } else {
        if history.omitted() > 0 {
            let _ = write!(
                s,
                "<p class=\"dim\">The latest {} of {} transitions; the whole log is <code>status.events.jsonl</code>.</p>",
                history.rows.len(),
                history.total
            );
        }
        s.push_str("<table class=\"history\"><thead><tr><th>At</th><th>Move</th><th>Actor</th><th>Note</th></tr></thead><tbody>");
        for h in &history.rows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
                when(&h.at),
                h.from_lane.as_str(),
                h.to_lane.as_str(),
                esc(&h.actor),
                esc(&h.note)
            );
        }
        s.push_str("</tbody></table>");
    }
    if let Some(html) = prompt_html {
        let _ = write!(
            s,
            "<h3>Prompt and activity log</h3><div class=\"markdown\">{html}</div>"
        );
    }
    s.push_str("</article>");
    let mut c = crumbs(m);
    c.push((w.id.clone(), wp_url(&m.slug, &w.id)));
    page(view, &format!("{} {}", m.slug, w.id), &c, &s)
}

/// One execution lane as the lanes page shows it.
pub struct LaneRow {
    pub lane_id: String,
    pub wp_ids: Vec<String>,
    pub worktree: String,
    pub worktree_exists: bool,
    /// Every WP of the lane is done (merged), so no worktree is expected.
    pub merged: bool,
    pub branch: String,
    pub depends_on: Vec<String>,
}

/// `/missions/<slug>/lanes`.
pub fn lanes(view: &ProjectView, m: &MissionView, rows: &[LaneRow]) -> String {
    let mut s = mission_head(m, "lanes");
    if rows.is_empty() {
        s.push_str("<p class=\"empty\">No lanes.json yet: <code>spec-kitty agent mission finalize-tasks</code> plans the lanes.</p>");
    } else {
        s.push_str("<h2>Lanes</h2><table class=\"lanes\"><thead><tr><th>Lane</th><th>Work packages (in order)</th><th>Worktree</th><th>Branch</th><th>Depends on</th></tr></thead><tbody>");
        for r in rows {
            let wps: Vec<String> = r
                .wp_ids
                .iter()
                .map(|id| {
                    let lane = m.wp(id).map_or("planned", |w| w.lane.as_str());
                    format!(
                        "<a class=\"chip lane-{lane}\" href=\"{}\" title=\"{lane}\">{}</a>",
                        esc(&wp_url(&m.slug, id)),
                        esc(id)
                    )
                })
                .collect();
            let _ = write!(
                s,
                "<tr data-lane=\"{id}\"><td><code>{id}</code></td><td>{wps}</td><td><code>{wt}</code>{missing}</td>\
                 <td><code>{br}</code></td><td>{deps}</td></tr>",
                id = esc(&r.lane_id),
                wps = wps.join(" → "),
                wt = esc(&r.worktree),
                missing = if r.worktree_exists {
                    String::new()
                } else if r.merged {
                    merged_note(m)
                } else {
                    " <span class=\"dim\">(not created)</span>".into()
                },
                br = esc(&r.branch),
                deps = esc(&r.depends_on.join(", ")),
            );
        }
        s.push_str("</tbody></table>");
        let nodes: Vec<svg::Node<'_>> = rows
            .iter()
            .map(|r| svg::Node {
                id: &r.lane_id,
                label: r.wp_ids.join(", "),
                class: "lane",
                href: None,
            })
            .collect();
        let edges: Vec<(&str, &str)> = rows
            .iter()
            .flat_map(|r| {
                r.depends_on
                    .iter()
                    .map(move |d| (d.as_str(), r.lane_id.as_str()))
            })
            .collect();
        let _ = write!(
            s,
            "<h2>Lane dependencies</h2><div class=\"graph-wrap\" id=\"lane-graph\">{}</div>",
            svg::graph("lane dependencies", &nodes, &edges)
        );
    }
    if !m.work_packages.is_empty() {
        let nodes: Vec<svg::Node<'_>> = m
            .work_packages
            .iter()
            .map(|w| svg::Node {
                id: &w.id,
                label: w.title.clone(),
                class: w.lane.as_str(),
                href: Some(wp_url(&m.slug, &w.id)),
            })
            .collect();
        let edges: Vec<(&str, &str)> = m
            .work_packages
            .iter()
            .flat_map(|w| {
                w.dependencies
                    .iter()
                    .map(move |d| (d.as_str(), w.id.as_str()))
            })
            .collect();
        let _ = write!(
            s,
            "<h2>Work package dependencies</h2><div class=\"graph-wrap\" id=\"wp-graph\">{}</div>",
            svg::graph("work package dependencies", &nodes, &edges)
        );
    }
    let mut c = crumbs(m);
    c.push(("lanes".into(), mission_url(&m.slug, "lanes")));
    page(view, &format!("{} lanes", m.slug), &c, &s)
}

/// Where a lane's work went once merged: the target, the commit and when.
fn merged_note(m: &MissionView) -> String {
    let Some(g) = &m.merge else {
        return " <span class=\"badge merged\">merged</span> <span class=\"dim\">(worktree removed)</span>".into();
    };
    let mut s = String::from(" <span class=\"badge merged\">merged</span>");
    if let Some(into) = &g.into {
        let _ = write!(s, " into <code>{}</code>", esc(into));
    }
    if let Some(c) = &g.commit {
        let _ = write!(
            s,
            " at <code title=\"{}\">{}</code>",
            esc(c),
            esc(crate::git::short10(c))
        );
    }
    let _ = write!(s, " on {}", when(&g.at));
    if let Some(by) = &g.by {
        let _ = write!(s, " by {}", esc(by));
    }
    s
}

/// What an artifact page holds.
pub enum ArtifactBody {
    /// Rendered markdown (already sanitised).
    Html(String),
    /// A non-markdown file, shown as text.
    Text(String),
    /// A directory's files: (name, href).
    Listing(Vec<(String, String)>),
    Missing,
    Problem(String),
}

/// `/missions/<slug>/artifacts/<name>[/<file>]`.
pub fn artifact(
    view: &ProjectView,
    m: &MissionView,
    name: &str,
    file: Option<&str>,
    body: &ArtifactBody,
) -> String {
    let mut s = mission_head(m, name);
    if let Some(f) = file {
        let _ = write!(s, "<h2>{}</h2>", esc(f));
    }
    match body {
        ArtifactBody::Html(h) => {
            let _ = write!(s, "<div class=\"markdown\">{h}</div>");
        }
        ArtifactBody::Text(t) => {
            let _ = write!(s, "<pre>{}</pre>", esc(t));
        }
        ArtifactBody::Listing(items) if items.is_empty() => {
            s.push_str("<p class=\"empty\">No files.</p>")
        }
        ArtifactBody::Listing(items) => {
            s.push_str("<ul class=\"files\">");
            for (n, href) in items {
                let _ = write!(s, "<li><a href=\"{}\">{}</a></li>", esc(href), esc(n));
            }
            s.push_str("</ul>");
        }
        ArtifactBody::Missing => {
            s.push_str("<p class=\"empty\">This mission has no such artifact yet.</p>")
        }
        ArtifactBody::Problem(p) => {
            let _ = write!(
                s,
                "<section class=\"problems\" role=\"alert\"><p>{}</p></section>",
                esc(p)
            );
        }
    }
    let mut c = crumbs(m);
    c.push((
        name.to_string(),
        mission_url(&m.slug, &format!("artifacts/{name}")),
    ));
    page(view, &format!("{} {name}", m.slug), &c, &s)
}

/// `/charter`.
pub fn charter(view: &ProjectView, body: &ArtifactBody) -> String {
    let inner = match body {
        ArtifactBody::Html(h) => format!("<div class=\"markdown\">{h}</div>"),
        ArtifactBody::Problem(p) => format!("<section class=\"problems\" role=\"alert\"><p>{}</p></section>", esc(p)),
        _ => "<p class=\"empty\">No charter: <code>.kittify/charter/charter.md</code> does not exist.</p>".into(),
    };
    page(
        view,
        "Charter",
        &[("charter".into(), "/charter".into())],
        &format!("<h1>Charter</h1>{inner}"),
    )
}

/// A page for a route that names nothing.
pub fn not_found(view: &ProjectView, what: &str) -> String {
    page(
        view,
        "Not found",
        &[],
        &format!(
            "<h1>Not found</h1><p>{}</p><p><a href=\"/\">All missions</a></p>",
            esc(what)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index's rows as they were written before (one string per field).
    fn old_rows(view: &ProjectView) -> String {
        let mut s = String::new();
        for m in &view.missions {
            let mut state = Vec::new();
            if m.merged {
                state.push("<span class=\"badge merged\">merged</span>");
            }
            if m.accepted {
                state.push("<span class=\"badge accepted\">accepted</span>");
            }
            if !m.problems.is_empty() {
                state.push("<span class=\"badge problem\">problem</span>");
            }
            let prog = format!("<progress max=\"100\" value=\"{pct}\" title=\"{pct}%\"></progress> <span class=\"pct\">{pct}%</span>", pct = m.progress_percentage);
            let _ = write!(
                s,
                "<tr data-mission=\"{slug}\"><td>{num}</td><td><a href=\"{href}\">{name}</a>\
                 <div class=\"slug\">{slug}</div></td><td>{ty}</td><td>{prog}</td><td>{done}/{total}</td>\
                 <td>{lanes}</td><td>{state}</td></tr>",
                slug = esc(&m.slug),
                num = esc(&m.number),
                href = esc(&mission_url(&m.slug, "board")),
                name = esc(&m.name),
                ty = esc(&m.mission_type),
                prog = prog,
                done = m.done,
                total = m.total,
                lanes = m.lane_count(),
                state = state.join(" "),
            );
        }
        s
    }

    #[test]
    fn the_index_rows_are_the_ones_written_field_by_field() {
        use super::super::model::load_mission;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut missions = Vec::new();
        for (slug, meta, log) in [
            ("001-plain", "{}", ""),
            (
                "002-odd'<name>&\"",
                r#"{"friendly_name": "A <b>'&\"</b> ünï", "mission_type": "res<earch>", "accepted_at": "x", "merged_at": "y"}"#,
                "{\"actor\": \"a\", \"at\": \"2026-01-01T00:00:00+00:00\", \"event_id\": \"01KB0000000000000000000001\", \"from_lane\": \"planned\", \"to_lane\": \"done\", \"wp_id\": \"WP01\", \"mission_slug\": \"002\", \"force\": true, \"execution_mode\": \"worktree\"}\nbroken\n",
            ),
            ("no-number", "{", ""),
        ] {
            let m = root.join("kitty-specs").join(slug);
            std::fs::create_dir_all(m.join("tasks")).unwrap();
            std::fs::write(m.join("meta.json"), meta).unwrap();
            std::fs::write(m.join("status.events.jsonl"), log).unwrap();
            for wp in ["WP01-a", "WP02-b", "WP03-c"] {
                std::fs::write(m.join(format!("tasks/{wp}.md")), "---\ntitle: T\n---\n").unwrap();
            }
            missions.push(std::sync::Arc::new(load_mission(root, &m)));
        }
        assert!(missions[1].merged && missions[1].accepted && !missions[1].problems.is_empty());
        assert!(missions[1].progress_percentage > 0.0 && missions[1].progress_percentage < 100.0);
        let view = ProjectView {
            version: 3,
            project_path: root.to_string_lossy().into_owned(),
            project_name: "p".into(),
            missions,
            problems: Vec::new(),
            has_charter: false,
            index_page: Default::default(),
        };
        let page = index(&view);
        let rows = old_rows(&view);
        assert!(
            page.contains(&rows),
            "{page}\n--- expected rows ---\n{rows}"
        );
        assert_eq!(progress(33.3), format!("<progress max=\"100\" value=\"33.3\" title=\"33.3%\"></progress> <span class=\"pct\">33.3%</span>"));
    }

    /// The view as it is with every rendered fragment dropped (a clone of
    /// each mission starts without its row).
    fn unrendered(view: &ProjectView) -> ProjectView {
        let mut fresh = view.clone();
        fresh.missions = view
            .missions
            .iter()
            .map(|m| std::sync::Arc::new((**m).clone()))
            .collect();
        fresh
    }

    /// A view rebuilt after one mission changed renders that mission's row
    /// only (the others are the same mission views, rows kept), and the page
    /// is byte for byte the page rendered from nothing.
    #[test]
    fn the_index_renders_only_the_rows_of_changed_missions() {
        use super::super::model::Loader;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for slug in ["001-a", "002-b", "003-c"] {
            let m = root.join("kitty-specs").join(slug);
            std::fs::create_dir_all(m.join("tasks")).unwrap();
            std::fs::write(m.join("meta.json"), "{}").unwrap();
            std::fs::write(m.join("tasks/WP01-a.md"), "---\ntitle: T\n---\n").unwrap();
        }
        let mut loader = Loader::new(crate::project::Project::at(root));
        let v1 = loader.refresh(None, true).unwrap();
        assert!(v1.missions.iter().all(|m| m.index_row.get().is_none()));
        let page1 = index(&v1);
        assert_eq!(page1, index(&unrendered(&v1)));
        assert!(v1.missions.iter().all(|m| m.index_row.get().is_some()));

        let b = root.join("kitty-specs/002-b");
        std::fs::write(
            b.join("status.events.jsonl"),
            "{\"actor\": \"a\", \"at\": \"2026-01-01T00:00:00+00:00\", \"event_id\": \"01KB0000000000000000000001\", \"from_lane\": \"planned\", \"to_lane\": \"done\", \"wp_id\": \"WP01\", \"mission_slug\": \"002-b\", \"force\": true, \"execution_mode\": \"worktree\"}\n",
        )
        .unwrap();
        let one = [b].into_iter().collect();
        let v2 = loader.refresh(Some(&one), false).unwrap();
        for (old, new) in v1.missions.iter().zip(&v2.missions) {
            let changed = new.slug == "002-b";
            assert_eq!(Arc::ptr_eq(old, new), !changed, "{}", new.slug);
            assert_eq!(new.index_row.get().is_none(), changed, "{}", new.slug);
        }
        let page2 = index(&v2);
        assert_eq!(page2, index(&unrendered(&v2)));
        assert_ne!(page1, page2);
        assert!(page2.contains("title=\"100%\""), "{page2}");
    }

    #[test]
    fn a_clone_starts_without_what_was_rendered() {
        let memo = super::super::model::Memo::default();
        assert_eq!(memo.get_or_init(|| "row".to_string()), "row");
        assert_eq!(memo.get_or_init(|| "other".to_string()), "row");
        assert!(memo.clone().get().is_none());
        assert_eq!(memo.set("x".into()), Err("x".to_string()));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(seg("001-a b/.."), "001-a%20b%2F..");
    }
}
