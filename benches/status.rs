//! Status log throughput: parse and reduce a large `status.events.jsonl`.
//! Run with `cargo bench --bench status`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use spec_kitty::status::store::parse_log;

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
    }
    group.finish();
}

criterion_group!(benches, bench_status);
criterion_main!(benches);
