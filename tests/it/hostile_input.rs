//! Full disk and huge or hostile input (issue 25): a failed append leaves the
//! event log as it was, every YAML/JSON file is read under the same caps, WP
//! ids of any length keep their dependencies, non-ASCII arguments never panic,
//! auth answers are size-capped, and control characters never reach the
//! terminal raw.

use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{stderr, stdout, TestEnv, WpDef};

/// Exit code 0-2 (3 is a bug), and under `--json` exactly one JSON document
/// on stdout.
fn well_behaved(out: &Output, json: bool) -> Option<Value> {
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "exit {code:?}\nstdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
    assert!(
        !stderr(out).contains("panicked"),
        "a panic message reached stderr: {}",
        stderr(out)
    );
    json.then(|| {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", stdout(out)))
    })
}

#[test]
fn non_ascii_arguments_never_panic() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let cases: Vec<Vec<&str>> = vec![
        vec!["next", "--agent", "田中", "--mission", &m.slug],
        vec!["agent", "mission", "create", "日本語"],
        vec!["agent", "mission", "create", "é"],
        vec![
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--agent",
            "田中",
            "--note",
            "a—b",
            "--mission",
            &m.slug,
        ],
        vec![
            "agent",
            "tasks",
            "add-history",
            "WP01",
            "--note",
            "a—b ✓ 日本",
            "--mission",
            &m.slug,
        ],
        vec!["agent", "tasks", "move-task", "WÖ1", "--to", "claimed"],
        vec!["agent", "tasks", "move-task", "WP１", "--to", "claimed"],
    ];
    for args in &cases {
        let mut with_json = args.clone();
        with_json.push("--json");
        let v = well_behaved(&env.run(&root, &with_json), true).unwrap();
        assert!(v.is_object(), "{args:?}: {v}");
        well_behaved(&env.run(&root, args), false);
    }
}

#[test]
fn a_panic_is_an_internal_error_with_one_json_document() {
    let env = TestEnv::new();
    let root = env.project("p");
    for json in [true, false] {
        let mut cmd = env.sk(&root, &["agent", "mission", "list"]);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .env("SPEC_KITTY_TEST_PANIC", "bug\u{1b}[2J")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        if json {
            let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
            assert_eq!(v["result"], "error");
            assert!(v["error"]
                .as_str()
                .unwrap()
                .contains("internal error: test panic: bug"));
        } else {
            let err = stderr(&out);
            assert!(err.contains("internal error: test panic: bug"), "{err}");
            assert!(!err.contains("panicked at"), "{err}");
            assert!(stdout(&out).is_empty());
        }
    }
}

fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap()
}

fn move_claimed(env: &TestEnv, root: &Path, slug: &str) -> std::process::Command {
    env.std_cmd(
        root,
        &[
            "agent",
            "tasks",
            "move-task",
            "WP01",
            "--to",
            "claimed",
            "--agent",
            "codex",
            "--mission",
            slug,
            "--json",
        ],
    )
}

/// After a failed move the log is byte for byte what it was, the move can be
/// made again, and nothing needs repairing.
fn failed_move_left_no_trace(env: &TestEnv, root: &Path, slug: &str, log: &Path, before: &[u8]) {
    assert_eq!(
        String::from_utf8_lossy(&read(log)),
        String::from_utf8_lossy(before),
        "the failed append changed the log"
    );
    let v = env.json(
        root,
        &[
            "agent",
            "mission",
            "repair-status",
            "--mission",
            slug,
            "--dry-run",
            "--json",
        ],
    );
    assert_eq!(v["changed"], false, "{v}");
    let out = move_claimed(env, root, slug).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let v = env.json(
        root,
        &["agent", "tasks", "status", "--mission", slug, "--json"],
    );
    assert!(v.to_string().contains("claimed"), "{v}");
    let merged = env.tmp.path().join("merged.jsonl");
    fs::copy(log, &merged).unwrap();
    let m = merged.to_str().unwrap();
    env.ok(root, &["merge-driver-event-log", m, m, m]);
}

#[test]
fn a_failed_append_leaves_the_log_byte_for_byte() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let before = read(&log);
    let out = move_claimed(&env, &root, &m.slug)
        .env("SPEC_KITTY_TEST_APPEND_FAIL_AFTER", "40")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("No space left") && msg.contains("unchanged"),
        "{msg}"
    );
    assert!(
        v["hint"].as_str().unwrap().contains("free some disk space"),
        "{v}"
    );
    failed_move_left_no_trace(&env, &root, &m.slug, &log, &before);
}

/// The real thing: the kernel refuses the write past a file size limit
/// (RLIMIT_FSIZE, SIGXFSZ ignored as a full disk would not signal) part way
/// through the event's line.
#[test]
fn a_file_size_limit_inside_the_append_leaves_the_log_byte_for_byte() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let before = read(&log);
    let limit = before.len() + 30;
    let cmd = move_claimed(&env, &root, &m.slug);
    let mut wrapped = std::process::Command::new("sh");
    wrapped
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize={limit} -- \"$@\""
        ))
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir(&root);
    wrapped.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            wrapped.env(k, v);
        }
    }
    let out = wrapped.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&read(&log)),
        String::from_utf8_lossy(&before),
        "the failed append changed the log"
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert!(v["error"].as_str().unwrap().contains("unchanged"), "{v}");
    failed_move_left_no_trace(&env, &root, &m.slug, &log, &before);
}

/// A torn last line (a crash inside the write, or a log from before this
/// guarantee) is not a dead end: repair-status drops it and says so, and then
/// the merge driver and every command read the log again.
#[test]
fn repair_status_drops_a_torn_line_and_reports_it() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let log = m.dir.join("status.events.jsonl");
    let good = read(&log);
    let line = String::from_utf8(good.clone()).unwrap();
    let cut = line.find("\"at\"").unwrap();
    let m_log = log.to_str().unwrap().to_string();
    // The merge driver refuses the torn log, pointing at repair-status.
    let mut torn = good.clone();
    torn.extend_from_slice(&line.as_bytes()[..cut]);
    fs::write(&log, &torn).unwrap();
    let out = env.run(
        &root,
        &["merge-driver-event-log", &m_log, &m_log, &m_log, "--json"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("repair-status"), "{}", stdout(&out));
    let v = env.json(
        &root,
        &[
            "agent",
            "mission",
            "repair-status",
            "--mission",
            &m.slug,
            "--json",
        ],
    );
    assert_eq!(v["torn_lines_dropped"], serde_json::json!([2]), "{v}");
    assert_eq!(v["events"], 1);
    assert_eq!(read(&log), good);
    // Torn inside a character (the log's last line stops mid-UTF-8), and a
    // torn line a later append closed with a newline: both dropped.
    let mut torn = good.clone();
    torn.extend_from_slice(&line.as_bytes()[..cut]);
    torn.push(b'\n');
    torn.extend_from_slice(&good);
    torn.extend_from_slice(&"{\"event_id\": \"日".as_bytes()[..16]);
    fs::write(&log, &torn).unwrap();
    let human = env.ok(
        &root,
        &["agent", "mission", "repair-status", "--mission", &m.slug],
    );
    assert!(human.contains("line 2: an event cut short"), "{human}");
    assert!(human.contains("line 4: an event cut short"), "{human}");
    assert_eq!(read(&log), good);
    env.ok(&root, &["merge-driver-event-log", &m_log, &m_log, &m_log]);
    let out = move_claimed(&env, &root, &m.slug).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
}

/// WP ids of three or more digits keep their tasks.md dependencies: a chain
/// across WP99 -> WP100 -> WP101 (and WP1000) is one lane, and every WP file
/// records its dependency.
#[test]
fn long_wp_ids_keep_their_dependencies() {
    let env = TestEnv::new();
    let wps = [
        WpDef::code("WP99", "Start", "src/chain/start.rs", &[]),
        WpDef::code("WP100", "Middle", "src/chain/mid.rs", &["WP99"]),
        WpDef::code("WP101", "End", "src/chain/end.rs", &["WP100"]),
        WpDef::code("WP1000", "Last", "src/chain/last.rs", &["WP101", "WP99"]),
        WpDef::code("WP102", "Apart", "src/apart/**", &[]),
    ];
    let (_root, m) = env.finalized_mission(&wps);
    let lanes: Value =
        serde_json::from_str(&fs::read_to_string(m.dir.join("lanes.json")).unwrap()).unwrap();
    let lane_of = |wp: &str| -> String {
        lanes["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["wp_ids"].as_array().unwrap().iter().any(|w| w == wp))
            .unwrap_or_else(|| panic!("{wp} in no lane: {lanes}"))["lane_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for wp in ["WP100", "WP101", "WP1000"] {
        assert_eq!(lane_of(wp), lane_of("WP99"), "{wp}: {lanes}");
    }
    assert_ne!(lane_of("WP102"), lane_of("WP99"), "{lanes}");
    for (file, deps) in [
        ("WP100-middle.md", "- WP99"),
        ("WP101-end.md", "- WP100"),
        ("WP1000-last.md", "- WP101\n- WP99"),
    ] {
        let text = fs::read_to_string(m.dir.join("tasks").join(file)).unwrap();
        assert!(
            text.contains(&format!("dependencies:\n{deps}\n")),
            "{file}:\n{text}"
        );
    }
}

/// A local server that reads each request and lets `answer(request line,
/// stream)` write the raw answer. Returns its URL and the bytes it managed to
/// send (a client that stops reading makes the writes fail).
fn fake_server(answer: impl Fn(&str, &mut std::net::TcpStream) + Send + 'static) -> String {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut len = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            answer(&request_line, &mut stream);
        }
    });
    url
}

fn json_answer(stream: &mut std::net::TcpStream, v: &str) {
    use std::io::Write;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{v}",
        v.len()
    );
}

fn auth(env: &TestEnv, url: &str, args: &[&str]) -> Output {
    env.sk(&env.work, args)
        .env("SPEC_KITTY_SERVER_URL", url)
        .write_stdin("secret\n")
        .output()
        .unwrap()
}

const LOGIN: [&str; 7] = [
    "auth",
    "login",
    "-u",
    "alice",
    "--password-stdin",
    "--force",
    "--json",
];

/// A 64 MiB answer (with no length, or claiming 4 GiB) is cut at the cap:
/// the client stops reading long before the server is done, and says why.
#[test]
fn a_huge_auth_answer_is_read_only_up_to_the_cap() {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let env = TestEnv::new();
    for claimed in ["", "Content-Length: 4294967296\r\n"] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let url = fake_server(move |_, stream| {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{claimed}Connection: close\r\n\r\n{{\"access\": \""
            );
            let _ = stream.write_all(head.as_bytes());
            let block = vec![b'a'; 1 << 20];
            for _ in 0..64 {
                if stream.write_all(&block).is_err() {
                    return;
                }
                counter.fetch_add(block.len(), Ordering::SeqCst);
            }
            let _ = stream.write_all(b"\", \"refresh\": \"r\"}");
        });
        let out = auth(&env, &url, &LOGIN);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains("over the 262144-byte limit"),
            "{v}"
        );
        assert!(!env.home.join(".spec-kitty/credentials").exists());
        let sent = sent.load(Ordering::SeqCst);
        assert!(
            sent < 16 << 20,
            "the client read {sent} bytes of a 64 MiB answer"
        );
    }
}

/// Lifetimes too big for a date, negative, fractional or not numbers never
/// panic, and the tokens a refresh already rotated on the server are stored.
#[test]
fn huge_or_negative_expires_in_never_panics_and_keeps_rotated_tokens() {
    let answers = [
        r#"{"access": "access-N", "refresh": "refresh-N", "expires_in": 9223372036854775807, "refresh_expires_in": 9223372036854775807}"#,
        r#"{"access": "access-N", "refresh": "refresh-N", "expires_in": -9223372036854775808, "refresh_expires_in": -1}"#,
        r#"{"access": "access-N", "refresh": "refresh-N", "expires_in": 1e300, "refresh_expires_in": 18446744073709551615}"#,
        r#"{"access": "access-N", "refresh": "refresh-N", "access_lifetime": "99999999999999999", "refresh_lifetime": 0.5}"#,
    ];
    for answer in answers {
        let env = TestEnv::new();
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = n.clone();
        let url = fake_server(move |_, stream| {
            let i = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json_answer(stream, &answer.replace("-N", &format!("-{i}")));
        });
        let out = auth(&env, &url, &LOGIN);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{answer}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let creds = env.home.join(".spec-kitty/credentials");
        assert!(fs::read_to_string(&creds)
            .unwrap()
            .contains("refresh = \"refresh-0\""));
        // The refresh rotates the tokens on the server: they are stored.
        let out = auth(&env, &url, &["auth", "refresh", "--force", "--json"]);
        let text = fs::read_to_string(&creds).unwrap();
        assert!(
            text.contains("refresh = \"refresh-1\""),
            "{answer}: exit {:?}: {}{}\n{text}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        well_behaved(&out, true);
        let out = auth(&env, &url, &["auth", "status", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
}

/// `key: [[[...]]]`, `depth` levels: about 2 bytes a level.
fn nested_yaml(depth: usize) -> String {
    format!("deep: {}{}\n", "[".repeat(depth), "]".repeat(depth))
}

/// Every YAML and JSON file of a project is read under the same caps: a
/// 100 KB nested metadata.yaml or config.yaml costs nothing (libyaml was
/// quadratic: minutes per command), and where the file matters the error
/// names it and the nesting limit.
#[test]
fn deeply_nested_project_files_are_refused_in_linear_time() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let deep = nested_yaml(50_000);
    let config = root.join(".kittify/config.yaml");
    let good_config = fs::read_to_string(&config).unwrap();
    let good_metadata = fs::read_to_string(root.join(".kittify/metadata.yaml")).unwrap();
    for file in [".kittify/metadata.yaml", ".kittify/config.yaml"] {
        let p = root.join(file);
        let mut text = fs::read_to_string(&p).unwrap();
        text.push_str(&deep);
        fs::write(&p, text).unwrap();
    }
    // Bounded by CPU time, not the wall clock (a loaded machine never makes
    // it fail): the process may use 20 CPU seconds, then SIGXCPU kills it.
    let timed = |args: &[&str]| {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let mut cmd = env.std_cmd(&root, args);
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
        unsafe {
            cmd.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 20,
                    rlim_max: 20,
                };
                if libc::setrlimit(libc::RLIMIT_CPU, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        assert_ne!(
            out.status.signal(),
            Some(libc::SIGXCPU),
            "{args:?} used 20 CPU seconds on a 100 KB nested file"
        );
        out
    };
    let out = timed(&["agent", "mission", "create", "second", "--json"]);
    well_behaved(&out, true);
    let out = timed(&[
        "agent",
        "mission",
        "finalize-tasks",
        "--mission",
        &m.slug,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("config.yaml") && msg.contains("deeper than 64 levels"),
        "{msg}"
    );
    // Every writer reads config.yaml and metadata.yaml first (one error
    // policy): mend them, so the files below are the ones refused.
    fs::write(&config, &good_config).unwrap();
    fs::write(root.join(".kittify/metadata.yaml"), &good_metadata).unwrap();
    // JSON the same way: meta.json and lanes.json.
    let nested_json = |key: &str| {
        format!(
            "{{\"{key}\": {}{}}}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        )
    };
    fs::write(m.dir.join("lanes.json"), nested_json("lanes")).unwrap();
    let out = timed(&crate::common::implement_args("WP01", &m.slug, "codex"));
    let v = well_behaved(&out, true).unwrap();
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains("lanes.json") && msg.contains("deeper than 64 levels"),
        "{v}"
    );
    fs::write(m.dir.join("meta.json"), nested_json("mission_slug")).unwrap();
    let out = timed(&["agent", "tasks", "status", "--mission", &m.slug, "--json"]);
    let v = well_behaved(&out, true).unwrap();
    let msg = v["error"].as_str().unwrap_or_default();
    assert!(
        msg.contains("meta.json") && msg.contains("deeper than 64 levels"),
        "{v}"
    );
}

/// No raw control character but newline and tab in human output.
fn assert_terminal_safe(text: &str, what: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: raw {bad:?} reached the terminal:\n{text:?}"
    );
}

/// ESC, BEL, CR and a newline inside a WP title (repo content) or a username
/// (a server's answer) are escaped in human output and kept exact in JSON.
#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[WpDef::code("WP01", "Core", "src/core/**", &[])]);
    let wp = m.dir.join("tasks/WP01-core.md");
    let text = fs::read_to_string(&wp).unwrap().replace(
        "title: Core\n",
        "title: \"Co\\e]0;pwned\\a\\e[2J\\rre\\nForged line\"\n",
    );
    fs::write(&wp, text).unwrap();
    let raw_title = "Co\u{1b}]0;pwned\u{7}\u{1b}[2J\rre\nForged line";
    let human = env.ok(&root, &["agent", "tasks", "status", "--mission", &m.slug]);
    assert_terminal_safe(&human, "status");
    // The board cuts long titles; the escaped start is there.
    assert!(
        human.contains("Co\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\r"),
        "{human}"
    );
    assert!(
        !human.lines().any(|l| l.starts_with("Forged line")),
        "{human}"
    );
    let v = env.json(
        &root,
        &["agent", "tasks", "status", "--mission", &m.slug, "--json"],
    );
    assert!(
        v.to_string()
            .contains(&serde_json::to_string(raw_title).unwrap()),
        "{v}"
    );
    let out = env.run(
        &root,
        &[
            "agent",
            "action",
            "implement",
            "WP01",
            "--mission",
            &m.slug,
            "--agent",
            "codex",
        ],
    );
    assert_terminal_safe(&stdout(&out), "implement");
    assert_terminal_safe(&stderr(&out), "implement (stderr)");
    assert!(
        stdout(&out).contains("Co\\u{1b}]0;pwned"),
        "{}",
        stdout(&out)
    );

    // A username from the server.
    let url = fake_server(|_, stream| {
        json_answer(
            stream,
            r#"{"access": "a", "refresh": "r", "username": "eve\u001b[1A\u001b[2K\r\nlogged in as admin\u0007"}"#,
        )
    });
    let out = auth(
        &env,
        &url,
        &["auth", "login", "-u", "alice", "--password-stdin"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_terminal_safe(&stdout(&out), "login");
    assert!(
        !stdout(&out)
            .lines()
            .any(|l| l.starts_with("logged in as admin")),
        "{}",
        stdout(&out)
    );
    let out = auth(&env, &url, &["auth", "status"]);
    assert_terminal_safe(&stdout(&out), "auth status");
    assert!(stdout(&out).contains("eve\\u{1b}[1A"), "{}", stdout(&out));
    let out = auth(&env, &url, &["auth", "status", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["username"],
        "eve\u{1b}[1A\u{1b}[2K\r\nlogged in as admin\u{7}"
    );
}
