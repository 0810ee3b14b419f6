//! `spec-kitty mcp`: the MCP server over stdio, driven by a line-level JSON-RPC
//! client written here (the protocol as the wire carries it), plus one run of
//! the official Python SDK's client when it is installed.
//!
//! Nothing here sleeps: replies and notifications are awaited on a channel fed
//! by a reader thread; the long timeout only turns a hang into a failure.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::flow::Flow;
use crate::common::{stderr, stdout, TestEnv};

/// How long a reply may take before the test fails (a hang guard, not a sleep).
const HANG: Duration = Duration::from_secs(60);

/// A client speaking newline-delimited JSON-RPC to a spawned server.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Result<Value, String>>,
    /// The server's stderr, line by line.
    err_rx: Receiver<String>,
    /// Messages read while waiting for something else.
    pending: Vec<Value>,
    next_id: u64,
}

impl Client {
    fn start(env: &TestEnv, root: &Path) -> Client {
        Client::start_args(env, root, &["mcp"])
    }

    fn start_args(env: &TestEnv, dir: &Path, args: &[&str]) -> Client {
        Client::start_env(env, dir, args, &[])
    }

    fn start_env(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Client {
        let mut child = env.spawn_piped_env(dir, args, vars);
        let stdin = child.stdin.take();
        let err = child.stderr.take().expect("stderr");
        let (err_tx, err_rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if err_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                // Every stdout line must be one JSON-RPC message.
                let msg = serde_json::from_str::<Value>(&line)
                    .map_err(|e| format!("not JSON on stdout: {line:?}: {e}"));
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Client {
            child,
            stdin,
            rx,
            err_rx,
            pending: Vec::new(),
            next_id: 1,
        }
    }

    fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    fn send(&mut self, v: &Value) {
        self.send_raw(&v.to_string());
    }

    /// The next message satisfying `pred`, keeping the others.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i);
        }
        let deadline = Instant::now() + HANG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(Ok(v)) if pred(&v) => return v,
                Ok(Ok(v)) => self.pending.push(v),
                Ok(Err(e)) => panic!("{e}"),
                Err(RecvTimeoutError::Timeout) => panic!("no {what} within {HANG:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.wait();
                    let err: Vec<String> = self.err_rx.try_iter().collect();
                    panic!("server closed stdout while waiting for {what}; stderr: {err:?}")
                }
            }
        }
    }

    /// Send a request; return its response (result or error object).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(&format!("reply to {method}"), |v| {
            v["id"] == json!(id) && (v.get("result").is_some() || v.get("error").is_some())
        })
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    fn initialize(&mut self, version: &str) -> Value {
        let r = self.result(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "it", "version": "0"},
            }),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        r
    }

    fn call(&mut self, tool: &str, args: Value) -> Value {
        self.result("tools/call", json!({"name": tool, "arguments": args}))
    }

    /// The next stderr line containing `needle` (the server logs there).
    fn wait_log(&mut self, needle: &str) -> String {
        loop {
            match self.err_rx.recv_timeout(HANG) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(e) => panic!("no log line with {needle:?}: {e}"),
            }
        }
    }

    /// Wait for the exit; everything the server wrote to stderr.
    fn exit_log(&mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        let err: Vec<String> = self.err_rx.iter().collect();
        (status, err.join("\n"))
    }

    /// Close stdin and wait for the exit status.
    fn finish(mut self) -> (std::process::ExitStatus, String) {
        drop(self.stdin.take());
        self.exit_log()
    }
}

/// The JSON document inside a tool result's single text block.
fn tool_json(result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().expect("text content");
    serde_json::from_str(text).expect("tool output is JSON")
}

fn finalized(env: &TestEnv) -> (std::path::PathBuf, String) {
    let (root, m) = env.three_wp_mission();
    (root, m.slug)
}

#[test]
fn initialize_lists_tools_under_budget_with_annotations() {
    let env = TestEnv::new();
    let (root, _) = finalized(&env);
    let mut c = Client::start(&env, &root);
    let init = c.initialize("2025-11-25");
    assert_eq!(init["protocolVersion"], "2025-11-25");
    assert_eq!(init["serverInfo"]["name"], "spec-kitty");
    assert_eq!(init["capabilities"]["resources"]["subscribe"], true);
    assert!(init["capabilities"]["tools"].is_object());

    let list = c.result("tools/list", json!({}));
    let tools = list["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for want in ["next_step", "board"] {
        assert!(names.contains(&want), "{names:?}");
    }
    for t in tools {
        let a = &t["annotations"];
        for hint in ["readOnlyHint", "destructiveHint", "idempotentHint"] {
            assert!(a[hint].is_boolean(), "{} lacks {hint}: {t}", t["name"]);
        }
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }
    let with = |hint: &str| -> Vec<&str> {
        let mut v: Vec<&str> = tools
            .iter()
            .filter(|t| t["annotations"][hint] == true)
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        v.sort();
        v
    };
    // One tool per orchestrator-api verb, plus the two read tools.
    let mut all = names.clone();
    all.sort();
    assert_eq!(
        all,
        [
            "accept_mission",
            "append_history",
            "board",
            "contract_version",
            "list_ready",
            "merge_mission",
            "mission_state",
            "next_step",
            "start_implementation",
            "start_review",
            "transition"
        ]
    );
    assert_eq!(
        with("readOnlyHint"),
        [
            "board",
            "contract_version",
            "list_ready",
            "mission_state",
            "next_step"
        ]
    );
    assert_eq!(with("destructiveHint"), ["merge_mission"]);
    assert_eq!(
        with("idempotentHint"),
        [
            "board",
            "contract_version",
            "list_ready",
            "mission_state",
            "next_step",
            "start_implementation"
        ]
    );
    // Typed inputs: the lane and the policy's modes are enumerations.
    let transition = tools.iter().find(|t| t["name"] == "transition").unwrap();
    let schema = serde_json::to_string(&transition["inputSchema"]).unwrap();
    for word in ["in_review", "full_auto", "workspace_write", "allowlist"] {
        assert!(schema.contains(word), "{word} not in {schema}");
    }

    // The budget: the whole tools/list result, serialized compactly, at 4
    // characters per token (the usual estimate for English and JSON with
    // OpenAI/Anthropic tokenizers), under 3,000 tokens.
    let chars = serde_json::to_string(&list).unwrap().chars().count();
    let tokens = chars.div_ceil(4);
    eprintln!(
        "tools/list: {} tools, {chars} chars, ~{tokens} tokens",
        tools.len()
    );
    assert!(
        tokens < 3000,
        "tools/list is ~{tokens} tokens ({chars} chars)"
    );

    let (status, err) = c.finish();
    assert!(status.success(), "exit {status:?}: {err}");
}

#[test]
fn read_tools_answer_on_a_finalized_mission() {
    let env = TestEnv::new();
    let (root, slug) = finalized(&env);
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");

    let r = c.call("board", json!({"mission": slug}));
    assert_eq!(r["isError"], false, "{r}");
    let board = tool_json(&r);
    assert_eq!(board["mission_slug"], slug.as_str());
    assert_eq!(board["total_wps"], 3);
    assert_eq!(board["ready"], json!(["WP01"]));
    assert_eq!(board["by_lane"]["planned"], 3);
    // The same board the CLI shows.
    let cli = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &slug, "--json"],
    );
    assert_eq!(board["work_packages"], cli["work_packages"]);

    // Without `mission`: the only mission.
    let r = c.call("board", json!({}));
    assert_eq!(tool_json(&r)["mission_slug"], slug.as_str());

    let r = c.call("next_step", json!({"agent": "claude", "mission": slug}));
    assert_eq!(r["isError"], false, "{r}");
    let step = tool_json(&r);
    let cli = env.json(
        &root,
        &["next", "--agent", "claude", "--mission", &slug, "--json"],
    );
    for key in ["kind", "action", "wp_id", "mission_slug", "command"] {
        assert_eq!(step[key], cli[key], "{key}: {step} vs {cli}");
    }
    assert_eq!(step["wp_id"], "WP01");

    // A reviewer with nothing to review is told so, not handed WP01.
    let r = c.call(
        "next_step",
        json!({"agent": "codex", "mission": slug, "role": "review"}),
    );
    assert_ne!(tool_json(&r)["action"], "implement", "{r}");
    c.finish();
}

#[test]
fn tool_failures_carry_an_error_code_and_bad_calls_are_jsonrpc_errors() {
    let env = TestEnv::new();
    let (root, _) = finalized(&env);
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");

    // The operation ran and refused: isError with the code.
    let r = c.call("board", json!({"mission": "999-nope"}));
    assert_eq!(r["isError"], true, "{r}");
    let e = tool_json(&r);
    assert_eq!(e["error_code"], "MISSION_NOT_FOUND", "{e}");
    assert!(e["message"].as_str().unwrap().contains("999-nope"), "{e}");

    // Unknown tool, wrong argument types, unknown arguments: -32602.
    for (name, args) in [
        ("no_such_tool", json!({})),
        ("board", json!({"mission": 7})),
        ("board", json!({"mision": "x"})),
        ("next_step", json!({})),
        ("next_step", json!({"agent": "a", "role": "boss"})),
    ] {
        let r = c.request("tools/call", json!({"name": name, "arguments": args}));
        assert_eq!(r["error"]["code"], -32602, "{name} {args}: {r}");
    }
    // Unknown method: -32601.
    let r = c.request("no/such/method", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    // Not JSON: -32700 with a null id, and the server carries on.
    c.send_raw("{this is not json");
    let e = c.wait_for("parse error", |v| v["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    // JSON but not a message: -32600.
    c.send_raw(r#"{"hello": "world"}"#);
    let e = c.wait_for("invalid request", |v| v["error"]["code"] == -32600);
    assert_eq!(e["id"], Value::Null, "{e}");
    // Still serving.
    let r = c.call("board", json!({}));
    assert_eq!(r["isError"], false);
    let (status, err) = c.finish();
    assert!(status.success(), "{err}");
}

#[test]
fn resources_list_and_read_by_uri() {
    let env = TestEnv::new();
    let (root, slug) = finalized(&env);
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");
    let list = c.result("resources/list", json!({}));
    let uris: Vec<String> = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "spec-kitty://board".to_string(),
        format!("spec-kitty://mission/{slug}/state"),
        format!("spec-kitty://mission/{slug}/lanes"),
        format!("spec-kitty://mission/{slug}/events"),
        format!("spec-kitty://mission/{slug}/wp/WP01"),
        format!("spec-kitty://mission/{slug}/wp/WP03"),
    ] {
        assert!(uris.contains(&want), "{want} not in {uris:?}");
    }
    let templates = c.result("resources/templates/list", json!({}));
    assert_eq!(templates["resourceTemplates"].as_array().unwrap().len(), 4);

    let read = |c: &mut Client, uri: &str| -> (String, String) {
        let r = c.result("resources/read", json!({"uri": uri}));
        let item = &r["contents"][0];
        assert_eq!(item["uri"], uri);
        (
            item["mimeType"].as_str().unwrap().to_string(),
            item["text"].as_str().unwrap().to_string(),
        )
    };
    let (mime, text) = read(&mut c, "spec-kitty://board");
    assert_eq!(mime, "application/json");
    let board: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(board["missions"][0]["mission_slug"], slug.as_str());

    let (_, text) = read(&mut c, &format!("spec-kitty://mission/{slug}/state"));
    let state: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(state["work_packages"]["WP02"]["lane"], "planned");

    let (_, text) = read(&mut c, &format!("spec-kitty://mission/{slug}/lanes"));
    let on_disk =
        std::fs::read_to_string(root.join("kitty-specs").join(&slug).join("lanes.json")).unwrap();
    assert_eq!(text, on_disk);

    let (mime, text) = read(&mut c, &format!("spec-kitty://mission/{slug}/events"));
    assert_eq!(mime, "application/x-ndjson");
    assert!(text
        .lines()
        .all(|l| serde_json::from_str::<Value>(l).is_ok()));
    assert!(text.contains("WP01"), "{text}");

    let (mime, text) = read(&mut c, &format!("spec-kitty://mission/{slug}/wp/WP02"));
    assert_eq!(mime, "text/markdown");
    assert!(text.starts_with("---"), "{text}");

    // Hostile and unknown URIs: an error, never a path outside the project.
    for bad in [
        "spec-kitty://mission/../../etc/state".to_string(),
        format!("spec-kitty://mission/{slug}/wp/..%2F..%2Fmeta"),
        format!("spec-kitty://mission/{slug}/wp/WP99"),
        "spec-kitty://mission/999-nope/state".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        let r = c.request("resources/read", json!({"uri": bad}));
        assert!(r["error"]["code"].is_i64(), "{bad}: {r}");
    }
    c.finish();
}

/// A `move-task` run by another process reaches a 2025-11-25 subscriber as
/// `notifications/resources/updated` for the state, and not for an unrelated WP file.
#[test]
fn subscribe_receives_an_update_after_move_task_in_another_process() {
    let env = TestEnv::new();
    let (root, slug) = finalized(&env);
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");
    let state = format!("spec-kitty://mission/{slug}/state");
    let wp3 = format!("spec-kitty://mission/{slug}/wp/WP03");
    c.result("resources/subscribe", json!({"uri": state}));
    c.result("resources/subscribe", json!({"uri": wp3}));
    c.result("resources/subscribe", json!({"uri": "spec-kitty://board"}));

    let flow = Flow::new(&env, &root, &slug);
    flow.moved("WP01", "claimed", "claude");
    let n = c.wait_for("state update", |v| {
        v["method"] == "notifications/resources/updated" && v["params"]["uri"] == state.as_str()
    });
    assert!(n.get("id").is_none(), "a notification has no id: {n}");
    c.wait_for("board update", |v| {
        v["method"] == "notifications/resources/updated"
            && v["params"]["uri"] == "spec-kitty://board"
    });
    // What the notification announced is what a read now shows.
    let r = c.result("resources/read", json!({"uri": state}));
    let now: Value = serde_json::from_str(r["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(now["work_packages"]["WP01"]["lane"], "claimed");

    // After unsubscribing, moves announce the board only. Updates are
    // announced pass by pass, in order, so once the board's update for the
    // last move has arrived, every update of the move before it has too.
    c.result("resources/unsubscribe", json!({"uri": state}));
    for to in ["in_progress", "blocked"] {
        flow.moved("WP01", to, "claude");
        c.wait_for("board update", |v| {
            v["method"] == "notifications/resources/updated"
                && v["params"]["uri"] == "spec-kitty://board"
        });
    }
    let stray: Vec<&Value> = c
        .pending
        .iter()
        .filter(|v| v["method"] == "notifications/resources/updated")
        .collect();
    assert!(
        stray.is_empty(),
        "unsubscribed ({state}) or untouched ({wp3}) URIs were announced: {stray:?}"
    );
    let (status, _) = c.finish();
    assert!(status.success());
}

/// A client on protocol 2026-07-28 (no initialize; `_meta` on each request)
/// opens `subscriptions/listen`, is acknowledged, and gets the update on that
/// stream, tagged with the listen request's id.
#[test]
fn subscriptions_listen_receives_an_update_after_move_task() {
    let env = TestEnv::new();
    let (root, slug) = finalized(&env);
    let mut c = Client::start(&env, &root);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "it", "version": "0"},
    });
    let list = c.result("tools/list", json!({"_meta": meta}));
    assert!(list["tools"].as_array().unwrap().len() >= 2, "{list}");
    // The legacy method is gone on this protocol.
    let r = c.request(
        "resources/subscribe",
        json!({"_meta": meta, "uri": "spec-kitty://board"}),
    );
    assert_eq!(r["error"]["code"], -32601, "{r}");

    let state = format!("spec-kitty://mission/{slug}/state");
    let listen_id = 999;
    c.send(&json!({
        "jsonrpc": "2.0", "id": listen_id, "method": "subscriptions/listen",
        "params": {"_meta": meta, "notifications": {
            "resourceSubscriptions": [state, "spec-kitty://nope", "file:///etc/passwd"],
            "toolsListChanged": true,
        }},
    }));
    let ack = c.wait_for("acknowledgement", |v| {
        v["method"] == "notifications/subscriptions/acknowledged"
    });
    assert_eq!(
        ack["params"]["notifications"]["resourceSubscriptions"],
        json!([state]),
        "only our URIs are accepted: {ack}"
    );

    Flow::new(&env, &root, &slug).moved("WP01", "claimed", "claude");
    let n = c.wait_for("update on the stream", |v| {
        v["method"] == "notifications/resources/updated"
    });
    assert_eq!(n["params"]["uri"], state.as_str(), "{n}");
    assert_eq!(
        n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], listen_id,
        "{n}"
    );
    let (status, err) = c.finish();
    assert!(status.success(), "{err}");
}

#[test]
fn stdout_carries_only_protocol_and_eof_or_sigterm_end_cleanly() {
    let env = TestEnv::new();
    let (root, _) = finalized(&env);

    // EOF before anything: a clean exit, nothing on stdout.
    let mut child = env.spawn_piped(&root, &["mcp"]);
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("spec-kitty mcp"), "logs go to stderr");

    // --project: served from elsewhere.
    let mut c = Client::start_args(
        &env,
        &env.work,
        &["mcp", "--project", root.to_str().unwrap()],
    );
    c.initialize("2025-11-25");
    let r = c.call("board", json!({}));
    assert_eq!(r["isError"], false, "{r}");
    let (status, _) = c.finish();
    assert!(status.success());

    // SIGTERM mid-session: exit 0, and every stdout line was protocol (the
    // reader thread panics the test on anything else).
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");
    c.call("board", json!({}));
    let pid = c.child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let (status, err) = c.exit_log();
    assert!(status.success(), "SIGTERM exit: {status:?}");
    assert!(err.contains("stopped (SIGTERM)"), "{err}");
}

/// SIGTERM while a tool call is running: the operation finishes and is
/// answered before the server exits (nothing half-done, the client not left
/// waiting). The status move is held between reading and appending the log
/// (pause point `status-before-append`); the signal is sent while it is held,
/// and the move is let go once the server has logged the signal.
#[test]
fn sigterm_waits_for_a_running_operation() {
    let env = TestEnv::new();
    let root = orch_mission(&env);
    let hold = crate::common::Pause::at("status-before-append");
    let (k, v) = hold.var();
    let mut c = Client::start_env(&env, &root, &["mcp"], &[(k, &v)]);
    c.initialize("2025-11-25");
    c.send(&json!({"jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": {
        "name": "transition",
        "arguments": {"mission": "001-demo", "wp": "WP01", "to": "blocked", "actor": "orch", "note": "waiting on a decision"},
    }}));
    hold.reached(&mut c.child);
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(c.child.id() as i32, libc::SIGTERM) }, 0);
    c.wait_log("SIGTERM received");
    hold.go();
    let r = c.wait_for("the running call's answer", |v| v["id"] == 77);
    assert_eq!(r["result"]["isError"], false, "{r}");
    let (status, err) = c.exit_log();
    assert!(status.success(), "{status:?}: {err}");
    let log =
        std::fs::read_to_string(root.join("kitty-specs/001-demo/status.events.jsonl")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["to_lane"], "blocked", "{last}");
}

#[test]
fn outside_a_project_it_fails_before_serving() {
    let env = TestEnv::new();
    let out = env.run(&env.work, &["mcp"]);
    assert!(!out.status.success());
    assert_eq!(stdout(&out), "", "nothing on stdout");
}

#[test]
fn help_says_how_to_register_with_hosts() {
    let env = TestEnv::new();
    let text = env.ok(&env.work, &["mcp", "--help"]);
    for needle in [
        "claude mcp add spec-kitty -- spec-kitty mcp",
        "\"mcpServers\"",
        "[mcp_servers.spec-kitty]",
        ".cursor/mcp.json",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// The official Python SDK (`pip install mcp`) as the client: initialize, list,
/// call, read, subscribe and receive an update after a `move-task`. CI installs
/// the SDK in a venv (.ci/run) and points SPEC_KITTY_MCP_PYTHON at it.
#[test]
#[ignore = "needs the Python mcp SDK (.ci/run installs it)"]
fn python_sdk_client_lists_calls_and_subscribes() {
    let python = std::env::var("SPEC_KITTY_MCP_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_sdk = std::process::Command::new(&python)
        .args(["-c", "import mcp.client.stdio"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(has_sdk, "{python} cannot import the mcp SDK");
    let env = TestEnv::new();
    let (root, slug) = finalized(&env);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let bin = assert_cmd::cargo::cargo_bin("spec-kitty");
    let mut cmd = std::process::Command::new(&python);
    cmd.arg(&script)
        .arg(&bin)
        .arg(&root)
        .arg(&slug)
        .current_dir(&root)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{text}");
    for step in ["initialized", "listed", "called", "read", "updated"] {
        assert!(text.contains(&format!("ok {step}")), "{step}: {text}");
    }
}

// ---- the orchestrator-api verbs as tools ------------------------------------

const POLICY: &str = r#"{"orchestrator_id":"spec-kitty-orchestrator","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[],"tool_restrictions":null}"#;

fn policy() -> Value {
    serde_json::from_str(POLICY).unwrap()
}

/// A committed project with mission 001-demo: WP01, WP02 after WP01, subtasks ticked.
fn orch_mission(env: &TestEnv) -> std::path::PathBuf {
    use crate::common::{write, write_mission, WpDef};
    let root = env.project("p");
    let m = env.create_mission(&root, "demo");
    let wps = vec![
        WpDef::code("WP01", "Alpha", "src/wp01/**", &[]),
        WpDef::code("WP02", "Beta", "src/wp02/**", &["WP01"]),
    ];
    write_mission(&m.dir, &m.slug, &wps);
    let tasks = m.dir.join("tasks.md");
    let text = std::fs::read_to_string(&tasks).unwrap();
    write(&tasks, &text.replace("- [ ]", "- [x]"));
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission 001-demo"]);
    root
}

/// `spec-kitty orchestrator-api ARGS`: its envelope.
fn orch_cli(env: &TestEnv, root: &Path, args: &[&str]) -> Value {
    let mut full = vec!["orchestrator-api"];
    full.extend_from_slice(args);
    let out = env.run(root, &full);
    serde_json::from_slice(&out.stdout).expect("one envelope")
}

/// A tool's outcome: Ok(data) or Err((error_code, body)).
fn verb(c: &mut Client, tool: &str, args: Value) -> Result<Value, (String, Value)> {
    let r = c.call(tool, args);
    let body = tool_json(&r);
    if r["isError"] == true {
        Err((body["error_code"].as_str().unwrap().to_string(), body))
    } else {
        Ok(body)
    }
}

fn code_of(r: Result<Value, (String, Value)>) -> String {
    match r {
        Ok(v) => panic!("expected a refusal, got {v}"),
        Err((code, _)) => code,
    }
}

fn commit_work(env: &TestEnv, ws: &Path, wp: &str) {
    let dir = ws.join(format!("src/{}", wp.to_lowercase()));
    crate::common::write(&dir.join("impl.txt"), &format!("{wp} work\n"));
    env.git(ws, &["add", "-A"]);
    env.git(ws, &["commit", "-qm", &format!("{wp} work")]);
}

/// Every verb tool on one mission, from planned to merged, each answer
/// checked against `orchestrator-api` (same data, same error codes) and the
/// guards holding (no hand-in without a commit, policy required and validated).
#[test]
fn verb_tools_drive_a_mission_to_merged_with_the_contracts_guards_and_codes() {
    let env = TestEnv::new();
    let root = orch_mission(&env);
    let slug = "001-demo";
    let mut c = Client::start(&env, &root);
    c.initialize("2025-11-25");

    // Reads: the same data as the CLI contract.
    let v = verb(&mut c, "contract_version", json!({})).unwrap();
    assert_eq!(v, orch_cli(&env, &root, &["contract-version"])["data"]);
    assert_eq!(v["api_version"], "1.0.0");
    let e = code_of(verb(
        &mut c,
        "contract_version",
        json!({"provider_version": "0.0.1"}),
    ));
    assert_eq!(e, "CONTRACT_VERSION_MISMATCH");
    for tool in ["mission_state", "list_ready"] {
        let v = verb(&mut c, tool, json!({"mission": slug})).unwrap();
        let cli = orch_cli(&env, &root, &[&tool.replace('_', "-"), "--mission", slug]);
        assert_eq!(v, cli["data"], "{tool}");
    }
    let ready = verb(&mut c, "list_ready", json!({"mission": slug})).unwrap();
    assert_eq!(ready["ready_work_packages"][0]["wp_id"], "WP01", "{ready}");
    let e = code_of(verb(
        &mut c,
        "mission_state",
        json!({"mission": "999-nope"}),
    ));
    assert_eq!(e, "MISSION_NOT_FOUND");

    // Policy: required, then validated (a secret-looking value), nothing recorded.
    let start = |p: Option<Value>| {
        let mut a = json!({"mission": slug, "wp": "WP01", "actor": "orch"});
        if let Some(p) = p {
            a["policy"] = p;
        }
        a
    };
    assert_eq!(
        code_of(verb(&mut c, "start_implementation", start(None))),
        "POLICY_METADATA_REQUIRED"
    );
    let mut secret = policy();
    secret["agent_family"] = json!("my-api-token");
    assert_eq!(
        code_of(verb(&mut c, "start_implementation", start(Some(secret)))),
        "POLICY_VALIDATION_FAILED"
    );
    let mut bad_mode = policy();
    bad_mode["approval_mode"] = json!("yolo");
    assert_eq!(
        code_of(verb(&mut c, "start_implementation", start(Some(bad_mode)))),
        "POLICY_VALIDATION_FAILED"
    );
    let cli = orch_cli(
        &env,
        &root,
        &[
            "start-implementation",
            "--mission",
            slug,
            "--wp",
            "WP01",
            "--actor",
            "orch",
        ],
    );
    assert_eq!(
        cli["error_code"], "POLICY_METADATA_REQUIRED",
        "same code as the CLI"
    );
    let e = code_of(verb(
        &mut c,
        "start_implementation",
        json!({"mission": slug, "wp": "WP09", "actor": "orch", "policy": policy()}),
    ));
    assert_eq!(e, "WP_NOT_FOUND");

    // Start WP01: the real lane worktree; idempotent for the same actor.
    let s = verb(&mut c, "start_implementation", start(Some(policy()))).unwrap();
    assert_eq!(s["to_lane"], "in_progress", "{s}");
    assert_eq!(s["policy_metadata_recorded"], true);
    let ws = std::path::PathBuf::from(s["workspace_path"].as_str().unwrap());
    assert!(ws.is_dir(), "{s}");
    let again = verb(&mut c, "start_implementation", start(Some(policy()))).unwrap();
    assert_eq!(again["no_op"], true, "{again}");
    let other = json!({"mission": slug, "wp": "WP01", "actor": "someone-else", "policy": policy()});
    assert_eq!(
        code_of(verb(&mut c, "start_implementation", other)),
        "WP_ALREADY_CLAIMED"
    );

    let tr = |to: &str, extra: Value| {
        let mut a =
            json!({"mission": slug, "wp": "WP01", "to": to, "actor": "orch", "policy": policy()});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    // An unknown lane is the contract's usage error; a run-affecting move needs a policy.
    assert_eq!(
        code_of(verb(&mut c, "transition", tr("nowhere", json!({})))),
        "USAGE_ERROR"
    );
    let mut no_policy = tr("for_review", json!({}));
    no_policy.as_object_mut().unwrap().remove("policy");
    assert_eq!(
        code_of(verb(&mut c, "transition", no_policy)),
        "POLICY_METADATA_REQUIRED"
    );
    // The hand-in guard holds even forced: no commit on the lane since the claim.
    let e = verb(
        &mut c,
        "transition",
        tr("for_review", json!({"force": true, "note": "x"})),
    );
    assert_eq!(code_of(e), "TRANSITION_REJECTED");

    commit_work(&env, &ws, "WP01");
    let v = verb(
        &mut c,
        "transition",
        tr("for_review", json!({"note": "built"})),
    )
    .unwrap();
    assert_eq!(v["to_lane"], "for_review", "{v}");
    let v = verb(
        &mut c,
        "start_review",
        json!({"mission": slug, "wp": "WP01", "actor": "orch", "policy": policy()}),
    )
    .unwrap();
    assert_eq!(v["to_lane"], "in_review", "{v}");
    let v = verb(
        &mut c,
        "transition",
        tr("done", json!({"review_ref": "review-1"})),
    )
    .unwrap();
    assert_eq!(v["to_lane"], "done", "{v}");

    let h = verb(
        &mut c,
        "append_history",
        json!({"mission": slug, "wp": "WP01", "actor": "orch", "note": "merged soon"}),
    )
    .unwrap();
    assert!(
        h["history_entry_id"].as_str().unwrap().starts_with("hist-"),
        "{h}"
    );

    // Not all done: MISSION_NOT_READY naming WP02.
    let e = verb(
        &mut c,
        "accept_mission",
        json!({"mission": slug, "actor": "orch"}),
    );
    let Err((code, body)) = e else {
        panic!("accept with WP02 planned")
    };
    assert_eq!(code, "MISSION_NOT_READY");
    assert_eq!(body["data"]["incomplete_wps"], json!(["WP02"]), "{body}");

    // WP02 is built on WP01's work.
    let s = verb(
        &mut c,
        "start_implementation",
        json!({"mission": slug, "wp": "WP02", "actor": "orch", "policy": policy()}),
    )
    .unwrap();
    let ws2 = std::path::PathBuf::from(s["workspace_path"].as_str().unwrap());
    assert!(
        ws2.join("src/wp01/impl.txt").is_file(),
        "WP02's worktree has WP01's work"
    );
    commit_work(&env, &ws2, "WP02");
    let tr2 = |to: &str, extra: Value| {
        let mut a =
            json!({"mission": slug, "wp": "WP02", "to": to, "actor": "orch", "policy": policy()});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    verb(
        &mut c,
        "transition",
        tr2("for_review", json!({"note": "built"})),
    )
    .unwrap();
    verb(
        &mut c,
        "transition",
        tr2("done", json!({"review_ref": "review-2"})),
    )
    .unwrap();

    let v = verb(
        &mut c,
        "accept_mission",
        json!({"mission": slug, "actor": "orch"}),
    )
    .unwrap();
    assert_eq!(v["accepted"], true, "{v}");
    let e = verb(
        &mut c,
        "merge_mission",
        json!({"mission": slug, "strategy": "octopus"}),
    );
    assert_eq!(code_of(e), "UNSUPPORTED_STRATEGY");
    let v = verb(&mut c, "merge_mission", json!({"mission": slug})).unwrap();
    assert_eq!(v["merged"], true, "{v}");
    assert_eq!(v["merged_wps"], json!(["WP01", "WP02"]), "{v}");
    assert!(root.join("src/wp01/impl.txt").is_file() && root.join("src/wp02/impl.txt").is_file());
    assert_eq!(
        env.git(&root, &["status", "--porcelain"]),
        "",
        "tree clean after merge"
    );
    let (status, err) = c.finish();
    assert!(status.success(), "{err}");
}
