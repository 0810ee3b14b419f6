//! Parsing work package files. Run with `cargo bench --bench taskgraph`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use spec_kitty::tasks_md::wp::WpFile;

fn wp_text(i: usize) -> String {
    format!(
        "---\nwork_package_id: WP{i:02}\ntitle: Work package {i}\ndependencies: []\nowned_files:\n- src/m{i}/**\n---\n# WP{i:02}\n\nBody.\n"
    )
}

fn bench_wp_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("wp_parse");
    for n in [10usize, 100, 1_000] {
        let texts: Vec<String> = (1..=n).map(wp_text).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &texts, |b, texts| {
            b.iter(|| {
                texts
                    .iter()
                    .filter_map(|t| WpFile::parse(Path::new("WP.md"), t).ok())
                    .map(|w| w.dependencies().len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_wp_parse);
criterion_main!(benches);
