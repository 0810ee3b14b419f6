//! The task graph at 10, 100, 1,000 and 5,000 work packages: the tasks.md
//! parser, the WP frontmatter parser, the lane planner, and the whole
//! finalize-tasks core (read every file, validate, infer ownership, plan lanes;
//! `--validate-only`, so no writes) on a mission on disk.
//!
//! `cargo bench --bench taskgraph` (add `-- --quick` for a short run).
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use spec_kitty::lanes::plan::{plan, PlanMeta, PlanWp};
use spec_kitty::lanes::Strategy;
use spec_kitty::mission::Mission;
use spec_kitty::ops::finalize;
use spec_kitty::project::Project;
use spec_kitty::tasks_md::{parse, WpFile};

const SIZES: [usize; 4] = [10, 100, 1_000, 5_000];

/// A tasks.md with `n` sections in the three dependency styles. Section
/// headings only take two-digit ids (as the reference's do), so ids repeat
/// past 99; the parser's work per line is the same.
fn tasks_md(n: usize) -> String {
    let mut out =
        String::from("# Work Packages\n\nIntro prose with a table.\n\n| a | b |\n|---|---|\n\n");
    for i in 1..=n {
        let id = (i - 1) % 99 + 1;
        out.push_str(&format!("## WP{id:02}: Package {i}\n\n"));
        out.push_str("**Requirement Refs**: FR-001, NFR-002\n");
        match i % 3 {
            0 => out.push_str(&format!("**Dependencies**: WP{:02}\n", (id + 97) % 99 + 1)),
            1 => out.push_str(&format!("Depends on WP{:02}.\n", (id + 97) % 99 + 1)),
            _ => out.push_str(&format!(
                "\n### Dependencies\n- WP{:02}\n",
                (id + 97) % 99 + 1
            )),
        }
        out.push_str(&format!(
            "\n- [ ] T{i:04}1 write the module\n- [x] T{i:04}2 tests\n\nSome prose about `src/m{i}/`.\n\n"
        ));
    }
    out.push_str("## Notes\n\nDepends on nothing.\n");
    out
}

/// WP ids: two digits while they fit (tasks.md headings need them), else four.
fn wp_id(i: usize, n: usize) -> String {
    if n <= 99 {
        format!("WP{i:02}")
    } else {
        format!("WP{i:04}")
    }
}

/// A WP file of a mission of `n`: chains of 10 (each depends on the one
/// before), owned files declared or left to inference from the body.
fn wp_text(i: usize, n: usize, declared: bool) -> String {
    let deps = if i % 10 == 1 {
        "[]".to_string()
    } else {
        format!("\n- {}", wp_id(i - 1, n))
    };
    let owned = if declared {
        format!("owned_files:\n- src/chain{}/part{i}/**\n", (i - 1) / 10)
    } else {
        String::new()
    };
    format!(
        "---\nwork_package_id: {}\ntitle: Part {i}\ndependencies: {deps}\nrequirement_refs:\n- FR-001\n{owned}---\n\n# Part {i}\n\nBuild `src/chain{}/part{i}/` and its tests.\n\n## Activity Log\n\n- 2026-01-01T00:00:00Z – codex – created\n",
        wp_id(i, n),
        (i - 1) / 10
    )
}

/// tasks.md for the mission on disk: a section per WP agreeing with its
/// frontmatter while ids have two digits; past that, prose only.
fn mission_tasks_md(n: usize) -> String {
    let mut out = String::from("# Work Packages\n\n");
    if n > 99 {
        out.push_str("Dependencies are declared in each WP file.\n");
        return out;
    }
    for i in 1..=n {
        let deps = if i % 10 == 1 {
            "none".to_string()
        } else {
            wp_id(i - 1, n)
        };
        out.push_str(&format!(
            "## {}: Part {i}\n\n**Requirement Refs**: FR-001\n**Dependencies**: {deps}\n\n- [ ] T{i:03} build it\n\n",
            wp_id(i, n)
        ));
    }
    out
}

fn plan_wps(n: usize) -> Vec<PlanWp> {
    (1..=n)
        .map(|i| PlanWp {
            id: format!("WP{i:04}"),
            dependencies: if i % 10 == 1 {
                Vec::new()
            } else {
                vec![format!("WP{:04}", i - 1)]
            },
            // Every 50th WP is planning work; every 7th also touches a shared file,
            // so some lanes merge on write scope.
            planning: i % 50 == 0,
            owned_files: if i % 50 == 0 {
                vec!["kitty-specs/001-bench/**".into()]
            } else if i % 7 == 0 {
                vec![
                    format!("src/chain{}/part{i}/**", (i - 1) / 10),
                    format!("src/shared/f{}.rs", i % 3),
                ]
            } else {
                vec![format!("src/chain{}/part{i}/**", (i - 1) / 10)]
            },
        })
        .collect()
}

fn bench_tasks_md(c: &mut Criterion) {
    let mut group = c.benchmark_group("tasks_md_parse");
    group.sample_size(20);
    for n in SIZES {
        let text = tasks_md(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| parse::parse(text).sections.len())
        });
    }
    group.finish();
}

fn bench_wp_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("wp_frontmatter_parse");
    group.sample_size(20);
    for n in SIZES {
        let texts: Vec<String> = (1..=n).map(|i| wp_text(i, n, true)).collect();
        let path = PathBuf::from("tasks/WP0001-part.md");
        group.bench_with_input(BenchmarkId::from_parameter(n), &texts, |b, texts| {
            b.iter(|| {
                texts
                    .iter()
                    .filter_map(|t| WpFile::parse(&path, t).ok())
                    .map(|w| w.dependencies().len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

fn bench_lane_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("lane_plan");
    group.sample_size(20);
    let meta = PlanMeta {
        mission_slug: "001-bench".into(),
        mission_id: "01JBENCH".into(),
        target_branch: "main".into(),
        computed_at: String::new(),
    };
    for n in SIZES {
        let wps = plan_wps(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &wps, |b, wps| {
            b.iter(|| plan(wps, &meta, Strategy::Parallel).lanes.len())
        });
    }
    group.finish();
}

/// A project on disk with one mission of `n` WPs, as an agent leaves it before
/// finalize-tasks: dependencies declared, owned files left to inference.
fn mission_on_disk(root: &Path, n: usize) -> (Project, Mission) {
    let dir = root.join("kitty-specs/001-bench");
    std::fs::create_dir_all(root.join(".kittify")).expect("bench dir");
    std::fs::create_dir_all(dir.join("tasks")).expect("bench dir");
    std::fs::write(
        dir.join("spec.md"),
        "# Spec\n\n| FR-001 | x |\n| NFR-002 | y |\n",
    )
    .expect("spec");
    std::fs::write(dir.join("tasks.md"), mission_tasks_md(n)).expect("tasks.md");
    for i in 1..=n {
        std::fs::write(
            dir.join(format!("tasks/{}-part-{i}.md", wp_id(i, n))),
            wp_text(i, n, false),
        )
        .expect("wp");
    }
    (Project::at(root), Mission::load(&dir))
}

fn bench_finalize(c: &mut Criterion) {
    let mut group = c.benchmark_group("finalize_validate_only");
    group.sample_size(10);
    for n in SIZES {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (project, mission) = mission_on_disk(tmp.path(), n);
        let report = finalize::finalize(&project, &mission, true, Strategy::Parallel)
            .expect("valid mission");
        assert_eq!(report.wp_count, n);
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                finalize::finalize(&project, &mission, true, Strategy::Parallel)
                    .map(|r| r.lanes.count)
                    .unwrap_or(0)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_tasks_md,
    bench_wp_parse,
    bench_lane_plan,
    bench_finalize
);
criterion_main!(benches);
