//! The lane planner's plans and its speed.
//!
//! First a table: for synthetic dependency graphs (a chain, a binary tree of
//! 1,000, diamonds, layered random graphs of 100 and 1,000 WPs) and for real
//! missions (the reference-made fixture in tests/fixtures, this repository's
//! kitty-specs/, the end-to-end test's diamond-and-fan), the critical path, the
//! widest set of WPs that can run at once, and per strategy the makespan (steps
//! with one agent per lane), the lane count and the cross-lane hand-offs. Then
//! criterion timings of planning 1,000 WPs.
//!
//! `cargo bench --bench lanes` (add `-- --quick` for a short run).
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::path::Path;

use criterion::{BenchmarkId, Criterion};
use spec_kitty::lanes::plan::{plan, PlanMeta, PlanWp};
use spec_kitty::lanes::schedule::{stats, widest_parallel_set};
use spec_kitty::lanes::Strategy;
use spec_kitty::tasks_md::wp;

fn meta() -> PlanMeta {
    PlanMeta {
        mission_slug: "001-bench".into(),
        mission_id: "01JBENCH".into(),
        target_branch: "main".into(),
        computed_at: String::new(),
    }
}

fn id(i: usize) -> String {
    format!("WP{:04}", i + 1)
}

/// WP `i` owns `src/m<i>/**` and depends on `deps`.
fn wp(i: usize, deps: &[usize]) -> PlanWp {
    PlanWp {
        id: id(i),
        dependencies: deps.iter().map(|&d| id(d)).collect(),
        planning: false,
        owned_files: vec![format!("src/m{i}/**")],
    }
}

fn chain(n: usize) -> Vec<PlanWp> {
    (0..n)
        .map(|i| if i == 0 { wp(0, &[]) } else { wp(i, &[i - 1]) })
        .collect()
}

/// A binary tree: every WP depends on its parent.
fn tree(n: usize) -> Vec<PlanWp> {
    (0..n)
        .map(|i| {
            if i == 0 {
                wp(0, &[])
            } else {
                wp(i, &[(i - 1) / 2])
            }
        })
        .collect()
}

/// One root, `width` WPs on it, one WP joining them all.
fn diamond(width: usize) -> Vec<PlanWp> {
    let mut out = vec![wp(0, &[])];
    for i in 1..=width {
        out.push(wp(i, &[0]));
    }
    let all: Vec<usize> = (1..=width).collect();
    out.push(wp(width + 1, &all));
    out
}

/// `layers` layers of `width` WPs; each depends on one to three WPs of the
/// layer before and sometimes one of the layer before that (seeded, so every
/// run plans the same graph).
fn layered(layers: usize, width: usize, seed: u64) -> Vec<PlanWp> {
    let mut s = seed;
    let mut next = |m: usize| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % m as u64) as usize
    };
    let mut out = Vec::new();
    for l in 0..layers {
        for k in 0..width {
            let i = l * width + k;
            let mut deps = Vec::new();
            if l > 0 {
                for _ in 0..1 + next(3) {
                    deps.push((l - 1) * width + next(width));
                }
                if l > 1 && next(4) == 0 {
                    deps.push((l - 2) * width + next(width));
                }
            }
            deps.sort_unstable();
            deps.dedup();
            out.push(wp(i, &deps));
        }
    }
    out
}

/// The e2e test's mission: WP01 fans out to WP02, WP03, WP05; WP02 and WP03
/// join in WP04; WP06 needs WP04 and WP05.
fn diamond_and_fan() -> Vec<PlanWp> {
    vec![
        wp(0, &[]),
        wp(1, &[0]),
        wp(2, &[0]),
        wp(3, &[1, 2]),
        wp(4, &[0]),
        wp(5, &[3, 4]),
    ]
}

/// A mission on disk, as its WP files declare it.
fn mission(dir: &Path) -> Vec<PlanWp> {
    wp::load_all(&dir.join("tasks"))
        .expect("mission readable")
        .into_iter()
        .map(|f| PlanWp {
            dependencies: f.dependencies(),
            planning: f.is_planning_artifact(),
            owned_files: f.owned_files(),
            id: f.id,
        })
        .collect()
}

fn cases() -> Vec<(String, Vec<PlanWp>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        ("chain of 1,000".into(), chain(1_000)),
        ("binary tree of 1,000".into(), tree(1_000)),
        ("diamond (4)".into(), diamond(2)),
        ("wide diamond (100)".into(), diamond(98)),
        ("layered random 100".into(), layered(10, 10, 0x9e37_79b9)),
        ("layered random 1,000".into(), layered(25, 40, 0x2545_f491)),
        (
            "reference fixture 001-dogfood-track2".into(),
            mission(&root.join("tests/fixtures/taskgraph/001-dogfood-track2")),
        ),
        (
            "kitty-specs/079-post-555-release-hardening".into(),
            mission(&root.join("kitty-specs/079-post-555-release-hardening")),
        ),
        ("e2e diamond-and-fan (6)".into(), diamond_and_fan()),
    ]
}

fn report() {
    println!(
        "\n{:<44} {:>5} {:>5} {:>5} | {:>9} {:>5} {:>8} | {:>9} {:>5} {:>8}",
        "mission",
        "WPs",
        "crit",
        "width",
        "parallel",
        "lanes",
        "handoffs",
        "compon.",
        "lanes",
        "handoffs"
    );
    println!("{}", "-".repeat(118));
    for (name, wps) in cases() {
        let p = stats(&wps, &plan(&wps, &meta(), Strategy::Parallel));
        let c = stats(&wps, &plan(&wps, &meta(), Strategy::Components));
        let show = |m: Option<usize>| m.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
        println!(
            "{:<44} {:>5} {:>5} {:>5} | {:>9} {:>5} {:>8} | {:>9} {:>5} {:>8}",
            name,
            p.wps,
            p.critical_path,
            widest_parallel_set(&wps),
            show(p.makespan),
            p.lanes,
            p.handoffs,
            show(c.makespan),
            c.lanes,
            c.handoffs
        );
    }
    println!("(crit: critical path in WPs; width: the most code WPs that can run at once;");
    println!(" parallel / compon.: makespan in steps with one agent per lane)\n");
}

fn bench_plan(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan_1000");
    group.sample_size(30);
    let graphs = [
        ("chain", chain(1_000)),
        ("tree", tree(1_000)),
        ("layered", layered(25, 40, 0x2545_f491)),
    ];
    for (name, wps) in &graphs {
        for strategy in [Strategy::Parallel, Strategy::Components] {
            group.bench_with_input(BenchmarkId::new(strategy.as_str(), name), wps, |b, wps| {
                b.iter(|| plan(wps, &meta(), strategy).lanes.len())
            });
        }
    }
    group.finish();
}

/// This thread's CPU time in seconds (Linux: /proc/thread-self/stat, in clock
/// ticks of 10 ms), so the figure holds on a machine busy with other work.
fn thread_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU time per plan of 1,000 WPs, averaged over enough runs to span seconds.
fn cpu_report() {
    let graphs = [
        ("chain", chain(1_000)),
        ("tree", tree(1_000)),
        ("layered", layered(25, 40, 0x2545_f491)),
    ];
    for (name, wps) in &graphs {
        for strategy in [Strategy::Parallel, Strategy::Components] {
            let (Some(t0), runs) = (thread_cpu(), 400) else {
                return;
            };
            for _ in 0..runs {
                std::hint::black_box(plan(wps, &meta(), strategy).lanes.len());
            }
            if let Some(t1) = thread_cpu() {
                println!(
                    "cpu time per plan, 1,000 WPs, {name:<8} {:<10} {:.2} ms",
                    strategy.as_str(),
                    (t1 - t0) * 1000.0 / runs as f64
                );
            }
        }
    }
    println!();
}

fn main() {
    report();
    cpu_report();
    let mut c = Criterion::default().configure_from_args();
    bench_plan(&mut c);
    c.final_summary();
}
