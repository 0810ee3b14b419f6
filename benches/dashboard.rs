//! The dashboard's JSON at scale: the board of a 100-WP mission, and a project
//! of 100 missions holding 100,000 status events in total.
//!
//! For each: the cold cost (read from disk through the core, then serialise),
//! what a request costs once the view is in memory (serialise only), and the
//! periodic re-stat that keeps the view fresh (nothing changed, or one mission
//! changed). `cargo bench --bench dashboard` (add `-- --quick` for a short run).
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use spec_kitty::dashboard::model::{load_mission, Loader};
use spec_kitty::dashboard::server::{self, board_json, missions_json};
use spec_kitty::project::Project;

/// A mission of `wps` WPs (a dependency chain) and `events` events cycling
/// them through planned -> claimed -> in_progress -> for_review.
fn write_mission(dir: &Path, slug: &str, wps: usize, events: usize) {
    fs::create_dir_all(dir.join("tasks")).expect("dir");
    fs::write(
        dir.join("meta.json"),
        format!("{{\"mission_number\": \"{}\", \"slug\": \"{slug}\", \"friendly_name\": \"Bench {slug}\", \"mission_type\": \"software-dev\"}}\n", &slug[..3]),
    )
    .expect("meta");
    let mut tasks = String::from("# Work Packages\n");
    for i in 1..=wps {
        let deps = if i == 1 {
            "[]".to_string()
        } else {
            format!("[WP{:03}]", i - 1)
        };
        fs::write(
            dir.join(format!("tasks/WP{i:03}-part.md")),
            format!("---\nwork_package_id: WP{i:03}\ntitle: Part {i}\nagent: codex\ndependencies: {deps}\n---\n\n# Part {i}\n\nDo part {i}.\n"),
        )
        .expect("wp");
        tasks.push_str(&format!(
            "\n## WP{i:03}: Part {i}\n\n- [x] T{i:03}a first\n- [ ] T{i:03}b second\n"
        ));
    }
    fs::write(dir.join("tasks.md"), tasks).expect("tasks.md");
    let hops = [
        ("planned", "claimed"),
        ("claimed", "in_progress"),
        ("in_progress", "for_review"),
        ("for_review", "planned"),
    ];
    let mut log = String::with_capacity(events * 330);
    for i in 0..events {
        let (from, to) = hops[(i / wps) % hops.len()];
        let id = ulid::Ulid::from_parts(1_700_000_000_000 + i as u64, i as u128).to_string();
        log.push_str(&format!(
            "{{\"actor\": \"bench\", \"at\": \"2026-01-01T00:{:02}:{:02}.{:06}+00:00\", \"event_id\": \"{id}\", \
             \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"{from}\", \
             \"mission_slug\": \"{slug}\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \
             \"to_lane\": \"{to}\", \"wp_id\": \"WP{:03}\"}}\n",
            (i / 60_000_000) % 60,
            (i / 1_000_000) % 60,
            i % 1_000_000,
            i % wps + 1
        ));
    }
    fs::write(dir.join("status.events.jsonl"), log).expect("log");
}

fn bench_dashboard(c: &mut Criterion) {
    let mut group = c.benchmark_group("dashboard");
    group.sample_size(10);

    // One mission of 100 WPs (1,000 events).
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = fs::canonicalize(tmp.path()).expect("root");
    fs::create_dir_all(root.join(".kittify")).expect("kittify");
    let dir = root.join("kitty-specs/001-board");
    write_mission(&dir, "001-board", 100, 1_000);
    let mut loader = Loader::new(Project::at(&root));
    let view = loader.refresh(None, true).expect("view");
    let m = view.mission("001-board").expect("mission").clone();
    assert_eq!(m.total, 100);
    assert!(m.problems.is_empty(), "{:?}", m.problems);
    group.bench_function("board_json_100_wps/cold", |b| {
        b.iter(|| {
            let m = load_mission(&root, &dir);
            serde_json::to_vec(&board_json(&view, &m))
                .expect("json")
                .len()
        })
    });
    group.bench_function("board_json_100_wps/served", |b| {
        b.iter(|| {
            serde_json::to_vec(&board_json(&view, &m))
                .expect("json")
                .len()
        })
    });

    // 100 missions, 10 WPs and 1,000 events each: 100,000 events in all.
    let big = tempfile::tempdir().expect("tempdir");
    let broot = fs::canonicalize(big.path()).expect("root");
    fs::create_dir_all(broot.join(".kittify")).expect("kittify");
    for n in 1..=100 {
        let slug = format!("{n:03}-mission");
        write_mission(&broot.join("kitty-specs").join(&slug), &slug, 10, 1_000);
    }
    let project = Project::at(&broot);
    let mut big_loader = Loader::new(project.clone());
    let big_view = big_loader.refresh(None, true).expect("view");
    assert_eq!(big_view.missions.len(), 100);
    let events: usize = big_view.missions.iter().map(|m| m.event_count).sum();
    assert_eq!(events, 100_000);
    group.bench_function("project_100_missions_100k_events/cold", |b| {
        b.iter(|| {
            let mut l = Loader::new(project.clone());
            let v = l.refresh(None, true).expect("view");
            serde_json::to_vec(&missions_json(&v)).expect("json").len()
        })
    });
    group.bench_function("project_100_missions_100k_events/served", |b| {
        b.iter(|| {
            serde_json::to_vec(&missions_json(&big_view))
                .expect("json")
                .len()
        })
    });
    group.bench_function("project_100_missions_100k_events/restat_unchanged", |b| {
        b.iter(|| big_loader.refresh(None, false).is_some())
    });
    let one: BTreeSet<_> = [broot.join("kitty-specs/050-mission")]
        .into_iter()
        .collect();
    group.bench_function(
        "project_100_missions_100k_events/one_mission_changed",
        |b| b.iter(|| big_loader.refresh(Some(&one), false).is_some()),
    );
    group.finish();
}

/// The router over the project at `root`, as the server builds it.
fn router_over(root: &Path) -> axum::Router {
    let mut loader = Loader::new(Project::at(root));
    let view = loader.refresh(None, true).expect("view");
    let (_tx, rx) = tokio::sync::watch::channel(std::sync::Arc::new(view));
    let (stop, _) = tokio::sync::watch::channel(false);
    server::router(std::sync::Arc::new(server::App {
        view: rx,
        token: "feedfacefeedfacefeedfacefeedface".into(),
        port: 9999,
        pid: std::process::id(),
        root: loader.root.clone(),
        started_at: String::new(),
        watch_mode: "bench",
        stop,
        limits: Default::default(),
        home: None,
        rendered: Default::default(),
    }))
}

/// The index page through the router, on one mission and on 437 (the
/// upstream repository's count): rendered once per view version, then served.
fn bench_index(c: &mut Criterion) {
    use tower::ServiceExt;
    let mut group = c.benchmark_group("dashboard_index");
    group.sample_size(20);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut keep = Vec::new();
    for n in [1usize, 437] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("root");
        fs::create_dir_all(root.join(".kittify")).expect("kittify");
        for k in 1..=n {
            let slug = format!("{k:03}-mission");
            write_mission(&root.join("kitty-specs").join(&slug), &slug, 5, 10);
        }
        // What publishing a view costs, and what rendering its index adds to
        // it: a dashboard's first view (a restart: the saved folds are
        // there), the watcher's rebuild after one mission changed, and the
        // index render the watcher does before it publishes either.
        group.bench_function(format!("view_first_build/{n}_missions"), |b| {
            b.iter(|| {
                Loader::new(Project::at(&root))
                    .refresh(None, true)
                    .is_some()
            })
        });
        let mut loader = Loader::new(Project::at(&root));
        let view = loader.refresh(None, true).expect("view");
        // Every row rendered (a first view), and every row kept from the
        // mission views before (all but the changed one after a rebuild).
        group.bench_function(format!("index_render_every_row/{n}_missions"), |b| {
            // The fresh view is dropped outside the timing.
            b.iter_batched_ref(
                || {
                    let mut fresh = view.clone();
                    fresh.missions = view
                        .missions
                        .iter()
                        .map(|m| std::sync::Arc::new((**m).clone()))
                        .collect();
                    fresh
                },
                |fresh| spec_kitty::dashboard::views::index(fresh).len(),
                criterion::BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("index_render_rows_kept/{n}_missions"), |b| {
            b.iter(|| spec_kitty::dashboard::views::index(&view).len())
        });
        let one: BTreeSet<_> = [root.join("kitty-specs/001-mission")].into_iter().collect();
        group.bench_function(format!("view_rebuild_one_mission/{n}_missions"), |b| {
            b.iter(|| loader.refresh(Some(&one), false).is_some())
        });
        let router = router_over(&root);
        let get = |router: axum::Router, path: &'static str| async move {
            let req = axum::http::Request::get(path)
                .header("host", "127.0.0.1:9999")
                .body(axum::body::Body::empty())
                .expect("request");
            let resp = router.oneshot(req).await.expect("response");
            axum::body::to_bytes(resp.into_body(), 1 << 26)
                .await
                .expect("body")
                .len()
        };
        for path in ["/", "/api/missions", "/api/features"] {
            group.bench_function(format!("{path}/{n}_missions/served"), |b| {
                b.iter(|| rt.block_on(get(router.clone(), path)))
            });
        }
        keep.push(tmp);
    }
    group.finish();
}

criterion_group!(benches, bench_dashboard, bench_index);
criterion_main!(benches);
