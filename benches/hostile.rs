//! Hostile input costs: the time spec-kitty takes to refuse (or parse) inputs
//! built to be expensive. Each case must stay in the milliseconds; the limits
//! that keep them there live in `spec_kitty::bounds`.
//!
//! * 100 000 nested `[` in WP frontmatter (libyaml alone spends over 50 s of
//!   CPU on it; the pre-parse depth check refuses it in one pass)
//! * an alias bomb (10^12 nodes if expanded; serde_yaml's repetition limit)
//! * frontmatter just over the 1 MiB cap, and a long but legal one under it
//! * a 1 MiB (legal) tasks.md section list, parsed
//!
//! `cargo bench --bench hostile` (add `-- --quick` for a short run).
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use spec_kitty::tasks_md::{parse, WpFile};

fn wp(front: &str) -> String {
    format!("---\n{front}---\nbody\n")
}

fn bench(c: &mut Criterion) {
    let path = Path::new("tasks/WP01-a.md");
    let deep = wp(&format!(
        "x: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    ));
    let mut bomb = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
    for i in 1..12 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    let bomb = wp(&bomb);
    let over = wp(&format!("title: {}\n", "x".repeat(1024 * 1024 + 1)));
    let long = wp(&format!(
        "title: t\nowned_files:\n{}",
        "- src/a/**\n".repeat(50_000)
    ));
    let tasks = {
        let mut t = String::from("# WPs\n");
        while t.len() < 1024 * 1024 {
            t.push_str("\n## WP01: A\n\nDepends on WP02\n\n- [ ] T001 x\n");
        }
        t
    };
    let mut g = c.benchmark_group("hostile");
    g.bench_function("deep_flow_nesting_refused", |b| {
        b.iter(|| WpFile::parse(path, &deep).unwrap_err())
    });
    g.bench_function("alias_bomb_refused", |b| {
        b.iter(|| WpFile::parse(path, &bomb).unwrap_err())
    });
    g.bench_function("frontmatter_over_cap_refused", |b| {
        b.iter(|| WpFile::parse(path, &over).unwrap_err())
    });
    g.bench_function("frontmatter_500k_legal", |b| {
        b.iter(|| WpFile::parse(path, &long).unwrap())
    });
    g.bench_function("tasks_md_1mib_parsed", |b| b.iter(|| parse::parse(&tasks)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
