//! Comparing our answers with the reference's saved ones (fixtures made by a
//! script beside them): its JSON documents, exit codes and keys, and a git copy
//! of a project it made.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{copy_dir, stdout, TestEnv};

/// The reference's stdout saved as `dir/name` (a JSON document).
pub fn json_in(dir: &Path, name: &str) -> Value {
    let text = fs::read_to_string(dir.join(name)).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The reference's exit code saved as `dir/name.exit` (`exit: N`).
pub fn exit_in(dir: &Path, name: &str) -> i32 {
    let t = fs::read_to_string(dir.join(format!("{name}.exit"))).unwrap();
    t.trim().trim_start_matches("exit: ").parse().unwrap()
}

/// The keys of a JSON object (empty for anything else).
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Every key the reference prints is in ours.
pub fn has_reference_keys(ours: &Value, reference: &Value, what: &str) {
    let missing: Vec<String> = keys(reference).difference(&keys(ours)).cloned().collect();
    assert!(
        missing.is_empty(),
        "{what}: missing keys {missing:?} in {ours}"
    );
}

/// A git copy of the reference-made project in `src`.
pub fn git_copy(env: &TestEnv, src: &Path) -> PathBuf {
    let root = env.work.join("refproj");
    copy_dir(src, &root);
    env.git(&root, &["init", "-q"]);
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "reference project"]);
    root
}

/// A git copy of the reference-made project of tests/fixtures/surface2
/// (mission 001-dogfood-track2), which the part-1 and part-2 surfaces are
/// checked on.
pub fn surface2_project(env: &TestEnv) -> PathBuf {
    git_copy(
        env,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/surface2/project"),
    )
}

/// stdout parsed as one JSON document.
pub fn parse(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(out)))
}
