//! Status at scale: parse and reduce a `status.events.jsonl` of 1,000 and
//! 100,000 events (owned, and folded borrowed in pieces), the streaming fold
//! of a whole log from disk (what a reader does when the log was rewritten),
//! the incremental fold (a saved fold plus 10 appended events), and the whole
//! `agent tasks status` core (read the WP files, fold the log from its saved
//! fold, build the board) on missions of 1,000 and 100,000 events.
//!
//! Whole-process timings and peak memory on 1,000 and 1,000,000 events:
//! `benches/status_scale.sh` (fixtures from `benches/make_big_log.sh`).
//!
//! `cargo bench --bench status` (add `-- --quick` for a short run).
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use spec_kitty::mission::Mission;
use spec_kitty::project::Project;
use spec_kitty::status::cache::{fold_log, FoldState};
use spec_kitty::status::ops::Board;
use spec_kitty::status::store::{parse_event_pieces, parse_log};
use spec_kitty::status::FoldEvent;

/// A log of `n` events cycling 200 WPs through planned -> claimed -> in_progress -> for_review.
fn synthetic_log(n: usize) -> String {
    let hops = [
        ("planned", "claimed"),
        ("claimed", "in_progress"),
        ("in_progress", "for_review"),
        ("for_review", "planned"),
    ];
    let mut out = String::with_capacity(n * 330);
    for i in 0..n {
        let (from, to) = hops[(i / 200) % hops.len()];
        let id = ulid::Ulid::from_parts(1_700_000_000_000 + i as u64, i as u128).to_string();
        out.push_str(&format!(
            "{{\"actor\": \"bench\", \"at\": \"2026-01-01T00:00:{:02}.{:06}+00:00\", \"event_id\": \"{id}\", \
             \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"{from}\", \
             \"mission_slug\": \"001-bench\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \
             \"to_lane\": \"{to}\", \"wp_id\": \"WP{:03}\"}}\n",
            (i / 1_000_000) % 60,
            i % 1_000_000,
            i % 200 + 1
        ));
    }
    out
}

fn bench_status(c: &mut Criterion) {
    let mut group = c.benchmark_group("status_log");
    group.sample_size(10);
    for n in [1_000usize, 100_000] {
        let text = synthetic_log(n);
        group.bench_with_input(BenchmarkId::new("parse_and_reduce", n), &text, |b, text| {
            b.iter(|| {
                let log = parse_log(Path::new("status.events.jsonl"), text.as_bytes());
                spec_kitty::status::reduce::reduce(&log.events)
            })
        });
        // What the board and status.json read: fold events in pieces, borrowed.
        group.bench_with_input(BenchmarkId::new("fold_pieces", n), &text, |b, text| {
            b.iter(|| {
                let (pieces, _) = parse_event_pieces::<FoldEvent>(
                    Path::new("status.events.jsonl"),
                    text.as_bytes(),
                );
                spec_kitty::status::reduce_pieces(&pieces)
            })
        });
    }
    // The streaming fold from disk, whole and from a saved fold.
    for n in [1_000usize, 100_000] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("status.events.jsonl");
        let text = synthetic_log(n + 10);
        let cut = text
            .match_indices('\n')
            .nth(n - 1)
            .map(|(i, _)| i + 1)
            .expect("lines");
        std::fs::write(&path, &text[..cut]).expect("log");
        let saved = fold_log::<FoldState>(&path, None).expect("fold");
        let saved = (saved.state, saved.cursor.expect("cursor"));
        std::fs::write(&path, &text).expect("log");
        group.bench_with_input(BenchmarkId::new("fold_whole_log", n), &path, |b, path| {
            b.iter(|| fold_log::<FoldState>(path, None).map(|f| f.state.snapshot()))
        });
        group.bench_with_input(
            BenchmarkId::new("fold_10_new_events", n),
            &path,
            |b, path| b.iter(|| fold_log(path, Some(saved.clone())).map(|f| f.state.snapshot())),
        );
    }
    for n in [1_000usize, 100_000] {
        board_from_disk(&mut group, n);
    }
    group.finish();
}

/// The board: 200 WP files and an `n`-event log on disk, its fold saved by
/// the first read.
fn board_from_disk(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let dir = root.join("kitty-specs/001-bench");
    std::fs::create_dir_all(root.join(".kittify")).expect("bench dir");
    std::fs::create_dir_all(dir.join("tasks")).expect("bench dir");
    for i in 1..=200 {
        std::fs::write(
            dir.join(format!("tasks/WP{i:03}-part.md")),
            format!("---\nwork_package_id: WP{i:03}\ntitle: Part {i}\ndependencies: []\nexecution_mode: code_change\n---\n\n# Part {i}\n"),
        )
        .expect("wp");
    }
    std::fs::write(dir.join("status.events.jsonl"), synthetic_log(n)).expect("log");
    let project = Project::at(root);
    let mission = Mission::load(&dir);
    let board = Board::load(&project, &mission).expect("board");
    assert_eq!(board.total, 200);
    assert!(board.warnings.is_empty());
    group.bench_function(BenchmarkId::new("board_from_disk", n), |b| {
        b.iter(|| Board::load(&project, &mission).map(|b| b.done).unwrap_or(0))
    });
}

criterion_group!(benches, bench_status);
criterion_main!(benches);
