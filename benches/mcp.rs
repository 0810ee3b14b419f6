//! `spec-kitty mcp` against the CLI, and how fast a change reaches a subscriber.
//!
//! - `board`: the `board` tool over a running server vs `spec-kitty agent tasks
//!   status --json` (a process per call, as an agent's shell tool runs it);
//! - `next_step`: the `next_step` tool vs `spec-kitty next --agent A --json`;
//! - `notify/wp_file_write`: a WP file is rewritten (atomically, as spec-kitty
//!   writes) and the time from the end of the write to the arrival of
//!   `notifications/resources/updated` on a subscribed client is measured (the
//!   promise: under 300 ms);
//! - `notify/move_task`: the same for the mission state after a `move-task`
//!   process, measured from that process's exit.
//!
//! `cargo bench --bench mcp` (add `-- --quick` for a short run). The project is
//! the integration tests' three-WP mission, built with their helpers.
#![allow(
    clippy::string_slice, // benches slice their own ASCII fixtures
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

#[path = "../tests/it/common/mod.rs"]
#[allow(unused_imports, unused_macros)]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

struct Client {
    _child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: u64,
}

impl Client {
    fn start(env: &common::TestEnv, root: &std::path::Path) -> Client {
        let mut child = env.spawn_piped(root, &["mcp"]);
        let stdin = child.stdin.take().expect("stdin");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let mut c = Client {
            _child: child,
            stdin,
            rx,
            next_id: 1,
        };
        c.request(
            "initialize",
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}),
        );
        c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        c
    }

    fn send(&mut self, v: &Value) {
        let mut line = v.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self
                .rx
                .recv_timeout(Duration::from_secs(30))
                .expect("server answered");
            if pred(&v) {
                return v;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|v| v["id"] == json!(id))
    }
}

fn updated(uri: &str) -> impl Fn(&Value) -> bool + '_ {
    move |v| v["method"] == "notifications/resources/updated" && v["params"]["uri"] == uri
}

fn bench_mcp(c: &mut Criterion) {
    let env = common::TestEnv::new();
    let (root, m) = env.three_wp_mission();
    let slug = m.slug.clone();
    let mut client = Client::start(&env, &root);

    let mut group = c.benchmark_group("mcp");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(4));

    group.bench_function("board/cli_process", |b| {
        b.iter(|| {
            let out = env.run(
                &root,
                &["agent", "tasks", "status", "--mission", &slug, "--json"],
            );
            assert!(out.status.success());
        })
    });
    group.bench_function("board/mcp_tool_call", |b| {
        b.iter(|| {
            let r = client.request(
                "tools/call",
                json!({"name": "board", "arguments": {"mission": slug}}),
            );
            assert_eq!(r["result"]["isError"], false);
        })
    });
    group.bench_function("next_step/cli_process", |b| {
        b.iter(|| {
            let out = env.run(
                &root,
                &["next", "--agent", "claude", "--mission", &slug, "--json"],
            );
            assert!(out.status.success());
        })
    });
    group.bench_function("next_step/mcp_tool_call", |b| {
        b.iter(|| {
            let r = client.request(
                "tools/call",
                json!({"name": "next_step", "arguments": {"agent": "claude", "mission": slug}}),
            );
            assert_eq!(r["result"]["isError"], false);
        })
    });

    // Pushed updates.
    let wp_uri = format!("spec-kitty://mission/{slug}/wp/WP03");
    let state_uri = format!("spec-kitty://mission/{slug}/state");
    client.request("resources/subscribe", json!({"uri": wp_uri}));
    client.request("resources/subscribe", json!({"uri": state_uri}));
    let wp_file = std::fs::read_dir(m.dir.join("tasks"))
        .expect("tasks")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("WP03"))
        })
        .expect("WP03 file");
    let base = std::fs::read_to_string(&wp_file).expect("WP03");
    let mut n = 0u64;
    let mut worst = Duration::ZERO;
    group.bench_function("notify/wp_file_write", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                n += 1;
                let tmp = wp_file.with_extension("md.tmp");
                std::fs::write(&tmp, format!("{base}\nrevision {n}\n")).expect("write");
                std::fs::rename(&tmp, &wp_file).expect("rename");
                let written = Instant::now();
                client.wait(updated(&wp_uri));
                let took = written.elapsed();
                worst = worst.max(took);
                total += took;
            }
            total
        })
    });
    eprintln!("notify/wp_file_write: worst {worst:?} (target < 300 ms)");

    // move-task: a few real moves of WP01 (there are only so many lanes).
    let mut moves = [
        "claimed",
        "in_progress",
        "blocked",
        "in_progress",
        "blocked",
    ]
    .iter();
    let mut latencies = Vec::new();
    for to in moves.by_ref() {
        let out = env.run(
            &root,
            &[
                "agent",
                "tasks",
                "move-task",
                "WP01",
                "--to",
                to,
                "--agent",
                "claude",
                "--mission",
                &slug,
            ],
        );
        let exited = Instant::now();
        if !out.status.success() {
            eprintln!("move to {to} refused: {}", common::stderr(&out));
            continue;
        }
        client.wait(updated(&state_uri));
        latencies.push(exited.elapsed());
    }
    eprintln!("notify/move_task after the process exits: {latencies:?} (target < 300 ms)");
    group.finish();
}

criterion_group!(benches, bench_mcp);
criterion_main!(benches);
