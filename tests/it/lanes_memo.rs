//! The memo of lanes.json's acting read (src/lanes/memo.rs): an acting read
//! (implement, review, a move's guards) leaves it under
//! `.git/spec-kitty/lanes-memo/`, the next one uses it while lanes.json is
//! the file it was read from, and nothing else: an edit in place that keeps
//! the size and mtime, a `git pull`, a memo of another version, cut short,
//! garbage or naming a hostile id all mean lanes.json is parsed again; two
//! writers at once leave a whole memo.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use spec_kitty::lanes::memo;
use spec_kitty::lanes::LanesManifest;

use crate::common::{stderr, MissionInfo, Pause, TestEnv, WpDef};

/// A finalized mission of two independent WPs: WP01 in lane-a, WP02 in lane-b.
fn two_lanes(env: &TestEnv) -> (PathBuf, MissionInfo) {
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
    ]);
    let lanes = LanesManifest::read(&m.dir.join("lanes.json"))
        .unwrap()
        .unwrap();
    let ids: Vec<(&str, &[String])> = lanes
        .lanes
        .iter()
        .map(|l| (l.lane_id.as_str(), l.wp_ids.as_slice()))
        .collect();
    assert_eq!(
        ids,
        [
            ("lane-a", &["WP01".to_string()][..]),
            ("lane-b", &["WP02".to_string()][..])
        ]
    );
    pad(&m.dir.join("lanes.json"));
    (root, m)
}

/// lanes.json with a `collapse_report` of 1,000 events: over
/// [`memo::MIN_BYTES`] (a smaller file keeps no memo), its lanes unchanged.
fn pad(lanes: &Path) {
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(lanes).unwrap()).unwrap();
    let event = serde_json::json!({"wp_a": "WP02", "wp_b": "WP01", "rule": "padding",
        "evidence": "a report long enough for lanes.json to keep a memo"});
    v["collapse_report"] = serde_json::json!({"events": vec![event; 1000], "total_merges": 0,
        "independent_wps_collapsed": 0, "by_rule": {}});
    fs::write(lanes, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    assert!(fs::metadata(lanes).unwrap().len() >= memo::MIN_BYTES);
}

fn memo_of(root: &Path, m: &MissionInfo) -> PathBuf {
    memo::path_for(&root.join(".git"), &m.dir.join("lanes.json")).unwrap()
}

fn identity(path: &Path) -> memo::Identity {
    memo::identity(&fs::metadata(path).unwrap()).unwrap()
}

/// Wait until lanes.json last changed longer ago than the clock's slack (the
/// racy-clean rule: a read closer to the change leaves no memo). It is the
/// clock that is waited for, not another process.
fn settle(path: &Path) {
    let id = identity(path);
    let changed = id[3].max(id[4]);
    while memo::now_ns().unwrap() <= changed + 30_000_000 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The acting read of lanes.json as its text says (no memo involved).
fn parsed(m: &MissionInfo) -> LanesManifest {
    let mut whole = LanesManifest::read(&m.dir.join("lanes.json"))
        .unwrap()
        .unwrap();
    whole.collapse_report = None;
    whole
}

/// What the memo holds, checked whole.
fn memo_says(root: &Path, m: &MissionInfo) -> (memo::Identity, LanesManifest) {
    let bytes = fs::read(memo_of(root, m)).unwrap();
    let (file, _, _, _, manifest) = memo::decode(&bytes).expect("a whole memo");
    (file, manifest)
}

/// The acting read of lanes.json with lane-b named lane-q: a memo of it
/// tells whether a command took its lanes from the memo.
fn lane_b_as_lane_q(m: &MissionInfo) -> LanesManifest {
    let mut other = parsed(m);
    other.lanes[1].lane_id = "lane-q".into();
    other
}

/// A memo of `manifest` for lanes.json as it is now, as the memo's own
/// encoder writes it.
fn forge(root: &Path, m: &MissionInfo, manifest: &LanesManifest) -> Vec<u8> {
    let lanes = m.dir.join("lanes.json");
    let id = identity(&lanes);
    let content = memo::Content::of(&fs::read(&lanes).unwrap());
    let bytes = memo::encode(manifest, id, memo::now_ns().unwrap(), content).unwrap();
    fs::write(memo_of(root, m), &bytes).unwrap();
    bytes
}

fn implement(env: &TestEnv, root: &Path, m: &MissionInfo, wp: &str, agent: &str) -> Output {
    env.run(root, &crate::common::implement_args(wp, &m.slug, agent))
}

/// The lane beta's claim of WP02 is handed out.
fn beta_claims_wp02(env: &TestEnv, root: &Path, m: &MissionInfo) -> String {
    lane_handed_out(&implement(env, root, m, "WP02", "beta"), m)
}

/// The lane a successful implement handed out (its worktree's name).
fn lane_handed_out(out: &Output, m: &MissionInfo) -> String {
    assert!(
        out.status.success(),
        "{:?}: {}{}",
        out.status,
        stderr(out),
        String::from_utf8_lossy(&out.stdout)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ws = v["workspace"].as_str().unwrap();
    let name = Path::new(ws).file_name().unwrap().to_str().unwrap();
    name.strip_prefix(&format!("{}-", m.slug))
        .unwrap_or(name)
        .to_string()
}

/// An acting read and nothing more: implement of a WP the mission does not
/// have reads lanes.json (and its memo) first, then is refused.
fn probe(env: &TestEnv, root: &Path, m: &MissionInfo) -> Output {
    let out = implement(env, root, m, "WP09", "probe");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Refused for the WP, past the read of lanes.json.
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("WP09") && !said.contains("lanes.json"),
        "{said}"
    );
    out
}

#[test]
fn an_acting_read_leaves_a_memo_the_next_command_uses() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    let lanes = m.dir.join("lanes.json");
    settle(&lanes);
    assert_eq!(
        lane_handed_out(&implement(&env, &root, &m, "WP01", "alpha"), &m),
        "lane-a"
    );
    let (file, read) = memo_says(&root, &m);
    assert_eq!(file, identity(&lanes));
    assert_eq!(read, parsed(&m));
    assert!(fs::metadata(memo_of(&root, &m)).unwrap().len() < fs::metadata(&lanes).unwrap().len());

    // A memo for this very file is believed without parsing it: one that
    // names lane-b otherwise (written by the memo's own encoder) is what
    // the next command acts on, and it is left as it is.
    let other = lane_b_as_lane_q(&m);
    let bytes = forge(&root, &m, &other);
    assert_eq!(beta_claims_wp02(&env, &root, &m), "lane-q");
    assert_eq!(fs::read(memo_of(&root, &m)).unwrap(), bytes);
}

#[test]
fn an_edit_in_place_that_keeps_size_and_mtime_is_seen() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    let lanes = m.dir.join("lanes.json");
    settle(&lanes);
    probe(&env, &root, &m);
    assert_eq!(memo_says(&root, &m).0, identity(&lanes));

    // Rewritten in place (same inode), same size, mtime set back (touch -d).
    let before = identity(&lanes);
    let mtime = fs::metadata(&lanes).unwrap().modified().unwrap();
    let text = fs::read_to_string(&lanes)
        .unwrap()
        .replace("lane-b", "lane-c");
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&lanes)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.set_modified(mtime).unwrap();
    }
    let after = identity(&lanes);
    assert_eq!(
        before[..4],
        after[..4],
        "device, inode, size and mtime kept"
    );
    assert_ne!(before[4], after[4], "only the change time tells");

    settle(&lanes);
    assert_eq!(beta_claims_wp02(&env, &root, &m), "lane-c");
    let (file, read) = memo_says(&root, &m);
    assert_eq!(file, after);
    assert_eq!(read.lanes[1].lane_id, "lane-c");
}

/// A lanes.json of another identity with the memo's bytes (a copy of the
/// project, a checkout that wrote them again) is read and recognised by its
/// length and CRC-32, not parsed: the memo stands for it and is written again
/// under the new identity. Other bytes are parsed.
#[test]
fn the_same_bytes_under_another_identity_keep_the_memo() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    let lanes = m.dir.join("lanes.json");
    settle(&lanes);
    probe(&env, &root, &m);
    // A memo that names lane-b otherwise, for lanes.json's bytes as they are.
    let other = lane_b_as_lane_q(&m);
    forge(&root, &m, &other);
    // The same bytes written again as a new file (another inode).
    let text = fs::read(&lanes).unwrap();
    let before = identity(&lanes);
    fs::remove_file(&lanes).unwrap();
    fs::write(&lanes, &text).unwrap();
    let after = identity(&lanes);
    assert_ne!(before, after);
    settle(&lanes);
    assert_eq!(
        beta_claims_wp02(&env, &root, &m),
        "lane-q",
        "the memo stood for the same bytes"
    );
    let (file, read) = memo_says(&root, &m);
    assert_eq!(file, after, "written again under the new identity");
    assert_eq!(read, other);

    // Bytes of the same length that differ: parsed, whatever the memo says.
    forge(&root, &m, &other);
    let changed = String::from_utf8(text)
        .unwrap()
        .replace("padding", "paddinG");
    fs::remove_file(&lanes).unwrap();
    fs::write(&lanes, &changed).unwrap();
    settle(&lanes);
    let out = implement(&env, &root, &m, "WP01", "gamma");
    assert_eq!(lane_handed_out(&out, &m), "lane-a");
    let (file, read) = memo_says(&root, &m);
    assert_eq!(file, identity(&lanes));
    assert_eq!(read, parsed(&m), "the file's own lanes, parsed");
    assert_eq!(read.lanes[1].lane_id, "lane-b");
}

#[test]
fn a_memo_of_another_version_cut_short_or_garbage_is_parsed_past() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    settle(&m.dir.join("lanes.json"));
    probe(&env, &root, &m);
    let other = lane_b_as_lane_q(&m);
    let good = forge(&root, &m, &other);
    let mut next_version = good.clone();
    next_version[memo::MAGIC.len() - 1] += 1;
    let mut longer = good.clone();
    longer.push(0);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("another version", next_version),
        ("cut short", good[..good.len() - 3].to_vec()),
        ("cut in its header", good[..5].to_vec()),
        ("a byte more", longer),
        ("empty", Vec::new()),
        ("garbage", b"\x00\xff{\"lanes\": []}\n\x07".repeat(50)),
        (
            "the JSON itself",
            fs::read(m.dir.join("lanes.json")).unwrap(),
        ),
    ];
    for (what, bytes) in variants {
        fs::write(memo_of(&root, &m), &bytes).unwrap();
        probe(&env, &root, &m);
        // Parsed again and written anew from the file.
        let (file, read) = memo_says(&root, &m);
        assert_eq!(file, identity(&m.dir.join("lanes.json")), "{what}");
        assert_eq!(read, parsed(&m), "{what}");
    }
    // A memo that is a directory is no memo either (and is left alone).
    fs::remove_file(memo_of(&root, &m)).unwrap();
    fs::create_dir(memo_of(&root, &m)).unwrap();
    assert_eq!(beta_claims_wp02(&env, &root, &m), "lane-b");
}

#[test]
fn a_memo_naming_a_hostile_id_builds_no_path_from_it() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    let lanes = m.dir.join("lanes.json");
    settle(&lanes);
    probe(&env, &root, &m);
    for (i, hostile) in ["../x", "lane-b/../../../x", "lane-b\n"]
        .into_iter()
        .enumerate()
    {
        let mut bad = parsed(&m);
        bad.lanes[1].lane_id = hostile.into();
        forge(&root, &m, &bad);
        let out = implement(&env, &root, &m, "WP02", "beta");
        // lanes.json is what counts: WP02 is in lane-b.
        assert_eq!(lane_handed_out(&out, &m), "lane-b", "{hostile}");
        assert_eq!(memo_says(&root, &m).1, parsed(&m), "{i}: rebuilt");
    }
    for p in [".worktrees/x", "x", ".worktrees/001-demo-..", "../x"] {
        assert!(!root.join(p).exists(), "{p}");
    }

    // The same id in lanes.json itself is refused, memo or not, with the
    // same message.
    let text = fs::read_to_string(&lanes)
        .unwrap()
        .replace("\"lane-b\"", "\"../x\"");
    fs::write(&lanes, text).unwrap();
    settle(&lanes);
    let with_memo = implement(&env, &root, &m, "WP02", "beta");
    fs::remove_dir_all(root.join(".git/spec-kitty/lanes-memo")).unwrap();
    let without = implement(&env, &root, &m, "WP02", "beta");
    assert_eq!(with_memo.status.code(), Some(1));
    assert_eq!(stderr(&with_memo), stderr(&without));
    assert_eq!(with_memo.stdout, without.stdout);
    let said = String::from_utf8_lossy(&without.stdout);
    assert!(
        said.contains("lanes.json") && said.contains("../x"),
        "{said}"
    );
    assert!(!root.join(".git/spec-kitty/lanes-memo").exists());
}

#[test]
fn a_lanes_json_a_git_pull_replaced_is_read_again() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let origin = env.add_bare_origin(&root, "origin.git");
    env.git(&root, &["push", "-q", "origin", "HEAD:main"]);
    env.git(&root, &["branch", "-q", "--set-upstream-to=origin/main"]);
    let mate = env.work.join("mate");
    env.git(
        &env.work,
        &[
            "clone",
            "-q",
            origin.to_str().unwrap(),
            mate.to_str().unwrap(),
        ],
    );

    let lanes = m.dir.join("lanes.json");
    settle(&lanes);
    assert_eq!(
        lane_handed_out(&implement(&env, &root, &m, "WP01", "alpha"), &m),
        "lane-a"
    );
    assert_eq!(memo_says(&root, &m).0, identity(&lanes));

    // A teammate renames lane-b (same size) and pushes; we pull.
    let theirs = mate.join("kitty-specs").join(&m.slug).join("lanes.json");
    let text = fs::read_to_string(&theirs)
        .unwrap()
        .replace("lane-b", "lane-c");
    fs::write(&theirs, text).unwrap();
    env.git(&mate, &["commit", "-qam", "replan"]);
    env.git(&mate, &["push", "-q", "origin", "HEAD:main"]);
    env.git(&root, &["pull", "-q", "--ff-only"]);
    assert!(fs::read_to_string(&lanes).unwrap().contains("lane-c"));

    assert_eq!(beta_claims_wp02(&env, &root, &m), "lane-c");
}

/// Two commands write the memo at the same moment (both held after their
/// parse, then let go together): both succeed, and the memo reads back
/// whole, with no temp file left beside it.
#[test]
fn two_processes_writing_the_memo_at_once_leave_it_whole() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    settle(&m.dir.join("lanes.json"));
    let args = |wp: &'static str, agent: &'static str| {
        crate::common::implement_args(wp, "001-demo", agent)
    };
    assert_eq!(m.slug, "001-demo");
    let (one, two) = (
        Pause::at("lanes-memo-before-write"),
        Pause::at("lanes-memo-before-write"),
    );
    let (k1, v1) = one.var();
    let (k2, v2) = two.var();
    let mut a = env.spawn_env(&root, &args("WP01", "alpha"), &[(k1, &v1)]);
    let mut b = env.spawn_env(&root, &args("WP02", "beta"), &[(k2, &v2)]);
    one.reached(&mut a);
    two.reached(&mut b);
    one.go();
    two.go();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(lane_handed_out(&a, &m), "lane-a");
    assert_eq!(lane_handed_out(&b, &m), "lane-b");
    let (file, read) = memo_says(&root, &m);
    assert_eq!(file, identity(&m.dir.join("lanes.json")));
    assert_eq!(read, parsed(&m));
    let left: Vec<_> = fs::read_dir(memo_of(&root, &m).parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [memo_of(&root, &m).file_name().unwrap().to_owned()]);
}

/// A lanes.json under the size worth a memo (a few hundred WPs) is parsed
/// each time, as before: no memo is written or looked for.
#[test]
fn a_small_lanes_json_keeps_no_memo() {
    let env = TestEnv::new();
    let (root, m) = env.finalized_mission(&[
        WpDef::code("WP01", "One", "src/one/**", &[]),
        WpDef::code("WP02", "Two", "src/two/**", &[]),
    ]);
    assert!(fs::metadata(m.dir.join("lanes.json")).unwrap().len() < memo::MIN_BYTES);
    settle(&m.dir.join("lanes.json"));
    probe(&env, &root, &m);
    assert_eq!(beta_claims_wp02(&env, &root, &m), "lane-b");
    assert!(!root.join(".git/spec-kitty/lanes-memo").exists());
}

/// A project that is not a git repository keeps no memo, and reads lanes.json
/// as before.
#[test]
fn no_memo_outside_a_git_repository() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    fs::rename(root.join(".git"), env.work.join("moved.git")).unwrap();
    settle(&m.dir.join("lanes.json"));
    probe(&env, &root, &m);
    let named_memo = |p: &Path| p.to_string_lossy().contains("lanes-memo");
    let mut dirs = vec![env.tmp.path().to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            assert!(!named_memo(&p), "{}", p.display());
            if p.is_dir() && !p.is_symlink() {
                dirs.push(p);
            }
        }
    }
}

/// A copy of the whole project (its .git with it) finds its memo under the
/// same name: lanes.json there has another identity and the memo's bytes, so
/// it is recognised by its length and CRC-32 rather than parsed.
#[test]
fn a_copy_of_the_project_keeps_its_memo() {
    let env = TestEnv::new();
    let (root, m) = two_lanes(&env);
    settle(&m.dir.join("lanes.json"));
    probe(&env, &root, &m);
    // A memo that names lane-b otherwise, for lanes.json's bytes as they are.
    let other = lane_b_as_lane_q(&m);
    forge(&root, &m, &other);
    let copy = env.work.join("copy");
    let out = std::process::Command::new("cp")
        .arg("-a")
        .arg(&root)
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let cm = MissionInfo {
        dir: copy.join(m.dir.strip_prefix(&root).unwrap()),
        slug: m.slug.clone(),
        id: m.id.clone(),
    };
    assert_eq!(
        memo_of(&copy, &cm).file_name(),
        memo_of(&root, &m).file_name()
    );
    assert_ne!(
        identity(&cm.dir.join("lanes.json")),
        identity(&m.dir.join("lanes.json"))
    );
    settle(&cm.dir.join("lanes.json"));
    assert_eq!(
        lane_handed_out(&implement(&env, &copy, &cm, "WP02", "beta"), &cm),
        "lane-q",
        "the memo stood for the copy's lanes.json"
    );
    let (file, read) = memo_says(&copy, &cm);
    assert_eq!(file, identity(&cm.dir.join("lanes.json")));
    assert_eq!(read, other);
}
