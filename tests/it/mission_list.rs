//! `agent mission list` and its derived listing cache (issue 31, "many
//! missions"): every listing equals one read from the files alone, whatever
//! happened to the files or to the cache since the last one.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{stderr, stdout, TestEnv};

/// The listing's cache files (one per project root).
fn cache_files(root: &Path) -> Vec<PathBuf> {
    let dir = if root.join(".git").is_dir() {
        root.join(".git/spec-kitty")
    } else {
        root.join(".kittify/runtime")
    };
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("mission-list-"))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The one cache file of `root`, parsed into JSON of the same shape as
/// its lines: `{version, root, index, missions: {name: {stamps: {meta, log,
/// snapshot}, mission_id, mission_type, friendly_name, lanes: [[lane, n]]}}}`,
/// stamps as written (`dev,ino,size,mtime_ns,ctime_ns` or `-`); [`render_cache`]
/// writes it back.
fn cache(root: &Path) -> Value {
    let files = cache_files(root);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = fs::read_to_string(&files[0]).unwrap();
    assert!(text.ends_with('\n'), "{text:?}");
    let mut lines = text.lines();
    let version: u64 = lines
        .next()
        .unwrap()
        .strip_prefix("spec-kitty mission-list ")
        .unwrap()
        .parse()
        .unwrap();
    let unescape = |t: &str| {
        t.replace("\\\\", "\u{0}")
            .replace("\\t", "\t")
            .replace("\\n", "\n")
            .replace("\\r", "\r")
            .replace('\u{0}', "\\")
    };
    let doc_root = unescape(lines.next().unwrap());
    let index = lines.next().unwrap();
    let mut missions = serde_json::Map::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 8, "{line:?}");
        let lanes: Vec<Value> = f[7]
            .split(',')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (lane, n) = l.split_once(':').unwrap();
                serde_json::json!([lane, n.parse::<u64>().unwrap()])
            })
            .collect();
        missions.insert(
            unescape(f[0]),
            serde_json::json!({
                "stamps": {"meta": f[1], "log": f[2], "snapshot": f[3]},
                "mission_id": if f[4] == "-" { Value::Null } else { f[4].into() },
                "mission_type": unescape(f[5]),
                "friendly_name": unescape(f[6]),
                "lanes": lanes,
            }),
        );
    }
    serde_json::json!({
        "version": version,
        "root": doc_root,
        "index": index,
        "missions": missions,
    })
}

/// [`cache`]'s JSON written back as a cache file (a `stamps` that is not an
/// object is written in place of the three).
fn render_cache(doc: &Value) -> String {
    let esc = |v: &Value| {
        v.as_str()
            .unwrap()
            .replace('\\', "\\\\")
            .replace('\t', "\\t")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    };
    let mut out = format!(
        "spec-kitty mission-list {}\n{}\n{}\n",
        doc["version"],
        esc(&doc["root"]),
        doc["index"].as_str().unwrap()
    );
    for (name, m) in doc["missions"].as_object().unwrap() {
        let stamps = match &m["stamps"] {
            Value::Object(o) => ["meta", "log", "snapshot"]
                .map(|k| o[k].as_str().unwrap())
                .join("\t"),
            other => other.as_str().unwrap().to_string(),
        };
        let lanes: Vec<String> = m["lanes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("{}:{}", l[0].as_str().unwrap(), l[1]))
            .collect();
        out.push_str(&format!(
            "{}\t{stamps}\t{}\t{}\t{}\t{}\n",
            esc(&Value::from(name.as_str())),
            m["mission_id"].as_str().unwrap_or("-"),
            esc(&m["mission_type"]),
            esc(&m["friendly_name"]),
            lanes.join(","),
        ));
    }
    out
}

/// The mission names the cache holds an entry for.
fn cached(root: &Path) -> Vec<String> {
    cache(root)["missions"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// `agent mission list --json` with files kept once unchanged for `settle_ms`
/// (None: the built-in two seconds).
fn list(env: &TestEnv, root: &Path, settle_ms: Option<&str>) -> Value {
    let mut cmd = env.sk(root, &["agent", "mission", "list", "--json"]);
    if let Some(ms) = settle_ms {
        cmd.env("SPEC_KITTY_TEST_LISTING_SETTLE_MS", ms);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The listing read from the files alone: the cache removed first.
fn from_files(env: &TestEnv, root: &Path) -> Value {
    for f in cache_files(root) {
        fs::remove_file(f).unwrap();
    }
    list(env, root, Some("0"))
}

/// Both the human and the JSON listing, from the cache as it is, equal the
/// listing read from the files alone (which then rewrites the cache).
fn assert_current(env: &TestEnv, root: &Path, what: &str) -> Value {
    let human = env.ok(root, &["agent", "mission", "list"]);
    let listed = list(env, root, Some("0"));
    let truth = from_files(env, root);
    assert_eq!(listed, truth, "{what}");
    let human_truth = env.ok(root, &["agent", "mission", "list"]);
    assert_eq!(human, human_truth, "{what}");
    truth
}

fn event(n: usize, slug: &str, wp: &str, from: &str, to: &str) -> String {
    format!(
        "{{\"actor\": \"t\", \"at\": \"2026-01-01T00:00:{:02}.000000+00:00\", \"event_id\": \"01KB{n:022}\", \"evidence\": null, \"execution_mode\": \"worktree\", \"force\": false, \"from_lane\": \"{from}\", \"mission_slug\": \"{slug}\", \"policy_metadata\": null, \"reason\": null, \"review_ref\": null, \"to_lane\": \"{to}\", \"wp_id\": \"{wp}\"}}\n",
        n % 60
    )
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A project of three missions, each with a status log.
fn three_missions(env: &TestEnv) -> (PathBuf, Vec<PathBuf>) {
    let root = env.project("repo");
    let mut dirs = Vec::new();
    for (k, name) in ["alpha", "beta", "gamma"].iter().enumerate() {
        let m = env.create_mission(&root, name);
        append(
            &m.dir.join("status.events.jsonl"),
            &(0..=k)
                .map(|i| {
                    event(
                        10 * k + i,
                        &m.slug,
                        &format!("WP0{}", i + 1),
                        "planned",
                        "claimed",
                    )
                })
                .collect::<String>(),
        );
        dirs.push(m.dir);
    }
    (root, dirs)
}

/// Every change to a mission's files reaches the next listing, taken from
/// the cache for the others: a log appended to, meta.json rewritten in place
/// at the same size and replaced by a rename, a log removed, a status.json
/// appearing, a meta.json broken and mended, missions added and removed.
#[test]
fn every_change_reaches_the_next_listing() {
    let env = TestEnv::new();
    let (root, dirs) = three_missions(&env);
    let first = assert_current(&env, &root, "first listing");
    assert_eq!(first["count"], 3);
    assert_eq!(first["missions"][2]["lanes"]["claimed"], 3);
    assert_eq!(cached(&root).len(), 3, "settled missions are kept");

    append(
        &dirs[1].join("status.events.jsonl"),
        &event(40, "002-beta", "WP01", "claimed", "in_progress"),
    );
    let v = assert_current(&env, &root, "log appended");
    assert_eq!(v["missions"][1]["lanes"]["in_progress"], 1);

    // Same size, same inode: only the times tell.
    let meta = dirs[0].join("meta.json");
    let text = fs::read_to_string(&meta).unwrap();
    fs::write(&meta, text.replace("\"alpha\"", "\"omega\"")).unwrap();
    let v = assert_current(&env, &root, "meta.json rewritten in place");
    assert_eq!(v["missions"][0]["friendly_name"], "omega");

    let tmp = dirs[0].join("meta.json.new");
    fs::write(&tmp, text.replace("\"alpha\"", "\"renamed one\"")).unwrap();
    fs::rename(&tmp, &meta).unwrap();
    let v = assert_current(&env, &root, "meta.json replaced");
    assert_eq!(v["missions"][0]["friendly_name"], "renamed one");

    fs::remove_file(dirs[2].join("status.events.jsonl")).unwrap();
    let v = assert_current(&env, &root, "log removed");
    assert_eq!(v["missions"][2]["total_wps"], 0);

    fs::write(dirs[1].join("status.json"), "{}\n").unwrap();
    assert_current(&env, &root, "status.json appeared");

    let beta = fs::read_to_string(dirs[1].join("meta.json")).unwrap();
    fs::write(dirs[1].join("meta.json"), "{\"mission_id\": \"nope\"}").unwrap();
    let v = assert_current(&env, &root, "meta.json broken");
    assert!(v["missions"][1]["meta_error"].is_string(), "{v}");
    assert!(
        !cached(&root).contains(&"002-beta".to_string()),
        "a broken mission is read every time"
    );
    let human = env.run(&root, &["agent", "mission", "list"]);
    assert!(stderr(&human).contains("not a ULID"), "{}", stderr(&human));
    fs::write(dirs[1].join("meta.json"), &beta).unwrap();
    assert_current(&env, &root, "meta.json mended");
    assert!(cached(&root).contains(&"002-beta".to_string()));

    env.create_mission(&root, "delta");
    let v = assert_current(&env, &root, "mission added");
    assert_eq!(v["count"], 4);
    fs::remove_dir_all(&dirs[0]).unwrap();
    let v = assert_current(&env, &root, "mission removed");
    assert_eq!(v["count"], 3);
    assert!(!cached(&root).contains(&"001-alpha".to_string()));
}

/// Files changed less than the settle time ago are never kept: a rewrite in
/// place within one tick of the filesystem's clock keeps size, inode and
/// times, and would otherwise go unseen.
#[test]
fn freshly_changed_missions_are_read_every_time() {
    let env = TestEnv::new();
    let (root, dirs) = three_missions(&env);
    let v = list(&env, &root, None);
    assert_eq!(v["count"], 3);
    assert!(cached(&root).is_empty(), "{:?}", cached(&root));
    let meta = dirs[0].join("meta.json");
    let text = fs::read_to_string(&meta).unwrap();
    fs::write(&meta, text.replace("\"alpha\"", "\"omega\"")).unwrap();
    let v = list(&env, &root, None);
    assert_eq!(v["missions"][0]["friendly_name"], "omega");
}

/// The cache answers for missions whose stat is unchanged (a listing of
/// hundreds of missions reads none of them), and is bypassed while the git
/// index holds an unmerged path: then every log is read, its stages joined.
#[test]
fn an_unchanged_mission_comes_from_the_cache_unless_the_index_is_unmerged() {
    let env = TestEnv::new();
    let (root, _) = three_missions(&env);
    list(&env, &root, Some("0"));
    // An entry changed behind the listing's back (its files untouched) is
    // what the listing shows: the files were not read again.
    let path = cache_files(&root).remove(0);
    let mut doc = cache(&root);
    doc["missions"]["001-alpha"]["friendly_name"] = "from the cache".into();
    fs::write(&path, render_cache(&doc)).unwrap();
    let v = list(&env, &root, Some("0"));
    assert_eq!(v["missions"][0]["friendly_name"], "from the cache");

    // An unmerged path anywhere in the index: the cache is not read.
    env.git(&root, &["checkout", "-qb", "side"]);
    fs::write(root.join("README.md"), "side\n").unwrap();
    env.git(&root, &["commit", "-qam", "side"]);
    env.git(&root, &["checkout", "-q", "-"]);
    fs::write(root.join("README.md"), "main\n").unwrap();
    env.git(&root, &["commit", "-qam", "main"]);
    let merge = std::process::Command::new("git")
        .current_dir(&root)
        .env("GIT_CONFIG_GLOBAL", &env.gitconfig)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["merge", "-q", "side"])
        .output()
        .unwrap();
    assert!(!merge.status.success(), "the merge conflicts");
    let v = list(&env, &root, Some("0"));
    assert_eq!(v["missions"][0]["friendly_name"], "alpha");
    assert_eq!(
        fs::read(&path).unwrap(),
        render_cache(&doc).into_bytes(),
        "nor written"
    );
}

/// A cache that is corrupt, of another version or project, or holds what no
/// listing writes (unknown lanes, counts of zero, a non-ULID id, a huge
/// text, a stamp or escape that is not one, a field too many, missions out
/// of order or twice) is ignored and written anew; the listing is the one
/// read from the files.
#[test]
fn corrupt_and_hostile_caches_are_rebuilt() {
    let env = TestEnv::new();
    let (root, _) = three_missions(&env);
    let truth = from_files(&env, &root);
    let path = cache_files(&root).remove(0);
    let good = cache(&root);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut doc = good.clone();
        // A lie that would show if the entry were used.
        doc["missions"]["001-alpha"]["friendly_name"] = "forged".into();
        f(&mut doc);
        render_cache(&doc)
    };
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("not json", "\u{1b}]0;pwned\u{7}".into()),
        ("torn", with(&|_| {}).chars().take(40).collect()),
        ("other version", with(&|d| d["version"] = 99.into())),
        ("other project", with(&|d| d["root"] = "/elsewhere".into())),
        (
            "unknown lane",
            with(&|d| d["missions"]["002-beta"]["lanes"] = serde_json::json!([["pwned", 1]])),
        ),
        (
            "empty lane",
            with(&|d| d["missions"]["002-beta"]["lanes"] = serde_json::json!([["claimed", 0]])),
        ),
        (
            "lanes out of order",
            with(&|d| {
                d["missions"]["002-beta"]["lanes"] =
                    serde_json::json!([["planned", 1], ["claimed", 1]])
            }),
        ),
        (
            "count overflow",
            with(&|d| {
                d["missions"]["002-beta"]["lanes"] =
                    serde_json::json!([["claimed", u64::MAX], ["planned", u64::MAX]])
            }),
        ),
        (
            "not a ulid",
            with(&|d| d["missions"]["002-beta"]["mission_id"] = "../../etc".into()),
        ),
        (
            "huge text",
            with(&|d| d["missions"]["002-beta"]["friendly_name"] = "x".repeat(100_000).into()),
        ),
        (
            "wrong type",
            with(&|d| d["missions"]["002-beta"]["stamps"] = "yesterday".into()),
        ),
        (
            "too deep",
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        (
            "a stamp not a number",
            with(&|d| d["missions"]["002-beta"]["stamps"]["log"] = "1,2,x,4,5".into()),
        ),
        (
            "a stamp of six numbers",
            with(&|d| d["missions"]["002-beta"]["stamps"]["meta"] = "1,2,3,4,5,6".into()),
        ),
        (
            "an unknown escape",
            with(&|_| {}).replace("\tbeta\t", "\tbe\\qta\t"),
        ),
        (
            "a field too many",
            with(&|_| {}).replace("\tbeta\t", "\tbeta\textra\t"),
        ),
        (
            "no header",
            with(&|_| {}).split_once('\n').unwrap().1.to_string(),
        ),
        ("missions out of order", {
            let text = with(&|_| {});
            let mut lines: Vec<&str> = text.lines().collect();
            lines.swap(3, 4);
            lines.join("\n") + "\n"
        }),
        ("a mission twice", {
            let text = with(&|_| {});
            let mut lines: Vec<&str> = text.lines().collect();
            lines.insert(4, lines[4]);
            lines.join("\n") + "\n"
        }),
    ];
    for (what, text) in cases {
        fs::write(&path, &text).unwrap();
        let v = list(&env, &root, Some("0"));
        assert_eq!(v, truth, "{what}");
        let rebuilt = cache(&root);
        assert_eq!(rebuilt["version"], 2, "{what}: written anew");
        assert_eq!(rebuilt["missions"].as_object().unwrap().len(), 3, "{what}");
    }
    // Bigger than any listing: refused before it is read, then replaced.
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(17 << 20).unwrap();
    drop(f);
    assert_eq!(list(&env, &root, Some("0")), truth, "oversized");
    assert!(fs::metadata(&path).unwrap().len() < 1 << 20);
}

/// Listings running at once while logs grow: each prints a whole listing,
/// the cache they leave is one whole file (each replaced it atomically), no
/// temp file stays, and the next listing is the one read from the files.
#[test]
fn concurrent_listings_leave_a_whole_cache() {
    let env = TestEnv::new();
    let (root, dirs) = three_missions(&env);
    let truth = from_files(&env, &root);
    assert_eq!(truth["count"], 3);
    for round in 0..3 {
        let kids: Vec<_> = (0..6)
            .map(|_| {
                env.spawn_env(
                    &root,
                    &["agent", "mission", "list", "--json"],
                    &[("SPEC_KITTY_TEST_LISTING_SETTLE_MS", "0")],
                )
            })
            .collect();
        for (k, d) in dirs.iter().enumerate() {
            append(
                &d.join("status.events.jsonl"),
                &event(100 + 10 * round + k, "x", "WP09", "planned", "claimed"),
            );
        }
        for kid in kids {
            let out = kid.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["count"], 3, "{}", stdout(&out));
        }
        let doc = cache(&root);
        assert_eq!(doc["version"], 2);
        let listed = list(&env, &root, Some("0"));
        assert_eq!(listed, from_files(&env, &root), "round {round}");
    }
    let temps: Vec<_> = fs::read_dir(root.join(".git/spec-kitty"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

/// The cache is derived state git never sees; in a project without git it
/// lives under `.kittify/runtime/` (which init's .gitignore covers).
#[test]
fn the_cache_stays_out_of_the_tracked_files() {
    let env = TestEnv::new();
    let (root, _) = three_missions(&env);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "missions"]);
    list(&env, &root, Some("0"));
    assert_eq!(env.git(&root, &["status", "--porcelain"]), "");
    assert_eq!(cached(&root).len(), 3);

    let plain = env.work.join("plain");
    fs::create_dir_all(plain.join(".kittify")).unwrap();
    fs::write(
        plain.join(".kittify/config.yaml"),
        "agents:\n  available:\n  - codex\n",
    )
    .unwrap();
    let dir = plain.join("kitty-specs/001-solo");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("meta.json"),
        "{\"mission_id\": \"01KB0000000000000000000001\", \"friendly_name\": \"Solo\"}\n",
    )
    .unwrap();
    append(
        &dir.join("status.events.jsonl"),
        &event(1, "001-solo", "WP01", "planned", "claimed"),
    );
    let v = assert_current(&env, &plain, "no git");
    assert_eq!(v["missions"][0]["lanes"]["claimed"], 1);
    assert_eq!(v["missions"][0]["friendly_name"], "Solo");
    assert_eq!(cached(&plain), vec!["001-solo".to_string()]);
}

/// A mission directory written by hand: `meta.json` naming it `name` and a
/// log claiming WP01..WP`claimed`.
fn hand_mission(root: &Path, slug: &str, name: &str, n: usize, claimed: usize) -> PathBuf {
    let dir = root.join("kitty-specs").join(slug);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("meta.json"),
        format!("{{\"mission_id\": \"01KB{n:022}\", \"friendly_name\": \"{name}\"}}\n"),
    )
    .unwrap();
    append(
        &dir.join("status.events.jsonl"),
        &(1..=claimed)
            .map(|w| {
                event(
                    1000 * n + w,
                    slug,
                    &format!("WP{w:02}"),
                    "planned",
                    "claimed",
                )
            })
            .collect::<String>(),
    );
    dir
}

/// Many missions (more than one thread reads when the cache is missing):
/// each listed in directory order with its own name and counts, cold and
/// from the cache with a few changed, added and removed; a listing that
/// finds nothing changed leaves the cache file as it is (not rewritten),
/// one that finds a mission gone rewrites it without the mission.
#[test]
fn many_missions_list_in_order_cold_and_warm() {
    let env = TestEnv::new();
    let root = env.project("repo");
    let mut dirs = Vec::new();
    for k in 1..=40 {
        dirs.push(hand_mission(
            &root,
            &format!("{k:03}-m{k}"),
            &format!("mission {k}"),
            k,
            k % 7 + 1,
        ));
    }
    let check = |v: &Value, skip: &[usize], moved: bool, what: &str| {
        let rows = v["missions"].as_array().unwrap();
        let want: Vec<usize> = (1..=40).filter(|k| !skip.contains(k)).collect();
        assert_eq!(rows.len(), want.len(), "{what}");
        for (row, k) in rows.iter().zip(&want) {
            assert_eq!(row["slug"], format!("{k:03}-m{k}"), "{what}");
            assert_eq!(row["friendly_name"], format!("mission {k}"), "{what}");
            assert_eq!(row["mission_id"], format!("01KB{k:022}"), "{what}");
            let claimed = if moved && *k == 5 { k % 7 } else { k % 7 + 1 };
            assert_eq!(row["lanes"]["claimed"], claimed, "{what}: {row}");
            assert_eq!(row["total_wps"], k % 7 + 1, "{what}: {row}");
        }
    };
    let cold = from_files(&env, &root);
    check(&cold, &[], false, "cold");
    assert_eq!(cached(&root).len(), 40);

    let path = cache_files(&root).remove(0);
    let ino = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(p).unwrap().ino()
    };
    let before = (ino(&path), fs::read(&path).unwrap());
    check(&list(&env, &root, Some("0")), &[], false, "warm");
    assert_eq!(
        (ino(&path), fs::read(&path).unwrap()),
        before,
        "nothing changed: the cache is not written again"
    );

    // Mission 5's WP01 moves on; 17's meta.json is rewritten in place at
    // the same size (the same name); 23 is removed.
    append(
        &dirs[4].join("status.events.jsonl"),
        &event(99_999, "005-m5", "WP01", "claimed", "in_progress"),
    );
    let meta = dirs[16].join("meta.json");
    let text = fs::read_to_string(&meta).unwrap();
    fs::write(&meta, text.replace("mission 17", "mission_17")).unwrap();
    fs::remove_dir_all(&dirs[22]).unwrap();
    let v = list(&env, &root, Some("0"));
    assert_eq!(v["missions"][4]["lanes"]["in_progress"], 1);
    assert_eq!(v["missions"][16]["friendly_name"], "mission_17");
    fs::write(&meta, &text).unwrap();
    let v = list(&env, &root, Some("0"));
    check(&v, &[23], true, "changed");
    // The bytes, not the inode: a rewrite may be given a freed inode number
    // again (the file was replaced twice since `before`).
    assert_ne!(fs::read(&path).unwrap(), before.1, "rewritten");
    assert!(!cached(&root).contains(&"023-m23".to_string()));
    assert_eq!(v, from_files(&env, &root));
}

/// The saved status folds a listing leaves: none for a short log (folding it
/// again costs less than writing it), one for a log of 64 KiB or more, which
/// a later listing of a changed mission folds on from; both listed the same
/// as read from the files.
#[test]
fn a_listing_saves_the_fold_of_a_long_log_only() {
    let env = TestEnv::new();
    let root = env.project("repo");
    hand_mission(&root, "001-short", "short", 1, 3);
    let long = hand_mission(&root, "002-long", "long", 2, 0);
    // About 300 bytes an event: 300 of them are past 64 KiB.
    append(
        &long.join("status.events.jsonl"),
        &(0..300)
            .map(|i| {
                let (from, to) = if i % 2 == 0 {
                    ("planned", "claimed")
                } else {
                    ("claimed", "planned")
                };
                event(5000 + i, "002-long", "WP01", from, to)
            })
            .collect::<String>(),
    );
    assert!(
        fs::metadata(long.join("status.events.jsonl"))
            .unwrap()
            .len()
            >= 64 << 10
    );
    let folds = || -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(root.join(".git/spec-kitty/status-cache"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let v = from_files(&env, &root);
    assert_eq!(v["missions"][0]["lanes"]["claimed"], 3);
    assert_eq!(v["missions"][1]["lanes"]["planned"], 1);
    let saved = folds();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].starts_with("002-long-"), "{saved:?}");
    // The long log grows: listed from its saved fold plus the new line.
    append(
        &long.join("status.events.jsonl"),
        &event(5999, "002-long", "WP01", "planned", "claimed"),
    );
    let v = list(&env, &root, Some("0"));
    assert_eq!(v["missions"][1]["lanes"]["claimed"], 1, "{v}");
    assert_eq!(v, from_files(&env, &root));
}

/// Names holding a tab, a newline, a backslash and text that is not ASCII
/// are kept in the cache (escaped) and listed from it as read from the files;
/// the JSON cache an older spec-kitty left (version 1) is removed when the
/// cache is written.
#[test]
fn odd_texts_round_trip_through_the_cache_and_the_old_cache_goes() {
    let env = TestEnv::new();
    let root = env.project("repo");
    hand_mission(&root, "001-odd", r"tab\there\\back\nline «ü» \\t", 1, 2);
    hand_mission(&root, "002-plain", "plain", 2, 1);
    list(&env, &root, Some("0"));
    // The old cache, where an older spec-kitty kept it (the same name, .json).
    let path = cache_files(&root).remove(0);
    let old = path.with_extension("json");
    assert_ne!(old, path);
    fs::remove_file(&path).unwrap();
    fs::write(&old, "{\"version\":1,\"missions\":{}}").unwrap();
    let cold = list(&env, &root, Some("0"));
    assert_eq!(
        cold["missions"][0]["friendly_name"],
        "tab\there\\back\nline «ü» \\t"
    );
    let doc = cache(&root);
    assert_eq!(
        doc["missions"]["001-odd"]["friendly_name"],
        cold["missions"][0]["friendly_name"]
    );
    assert_eq!(cached(&root).len(), 2);
    let written = fs::read(&path).unwrap();
    let warm = list(&env, &root, Some("0"));
    assert_eq!(warm, cold);
    assert_eq!(fs::read(&path).unwrap(), written, "listed from the cache");
    assert!(!old.exists(), "the version 1 cache is gone");
}
