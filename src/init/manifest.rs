//! `.kittify/managed-files.json`: the files spec-kitty generated, with the hash
//! of the content it wrote. A file whose current hash differs from the recorded
//! one was edited by the user and is never overwritten.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::InitError;
use crate::fsutil;

/// Project-relative path of the manifest.
pub const MANIFEST_PATH: &str = ".kittify/managed-files.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// The spec-kitty version that last wrote the manifest.
    pub spec_kitty_version: String,
    /// Project-relative path (with `/`) to the record of what was written there.
    pub files: BTreeMap<String, ManagedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedFile {
    /// `fnv1a64:<16 hex digits>` of the bytes spec-kitty wrote.
    pub hash: String,
    pub agent: String,
    pub command: String,
}

impl Manifest {
    /// Read the manifest of the project at `root`; an absent file is an empty manifest.
    pub fn load(root: &Path) -> Result<Manifest, InitError> {
        let path = root.join(MANIFEST_PATH);
        if !path.exists() {
            return Ok(Manifest::default());
        }
        let text = fsutil::read_to_string(&path).map_err(InitError::Fs)?;
        crate::bounds::json(&text).map_err(|source| InitError::BadManifest { path, source })
    }

    /// The manifest's bytes: pretty JSON with sorted paths and a trailing newline,
    /// so an unchanged manifest is byte-identical.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }

    /// Write the manifest only when its bytes change. Returns whether it changed.
    pub fn save(&self, root: &Path) -> Result<bool, InitError> {
        fsutil::write_if_changed(&root.join(MANIFEST_PATH), &self.to_bytes()).map_err(InitError::Fs)
    }
}

/// Whether a manifest path (repo content) stays inside the project: relative,
/// `/`-separated, with no `..`, `.` or empty component.
pub fn is_safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && !rel.contains('\\')
        && !rel.contains(':')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// FNV-1a, 64 bit: a small stable content hash (this is change detection, not security).
pub fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

#[cfg(test)]
mod safe_rel_tests {
    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(super::is_safe_rel(".codex/prompts/spec-kitty.plan.md"));
        for bad in [
            "",
            "/etc/passwd",
            "../x.md",
            ".codex/../../x",
            "a//b",
            "C:/x",
            "a\\b",
            "./a",
        ] {
            assert!(!super::is_safe_rel(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_known_vectors() {
        assert_eq!(content_hash(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(content_hash(b"a"), "fnv1a64:af63dc4c8601ec8c");
        assert_eq!(content_hash(b"foobar"), "fnv1a64:85944171f73967e8");
    }

    #[test]
    fn round_trip_is_byte_stable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let mut m = Manifest {
            version: 1,
            spec_kitty_version: "3.1.1".into(),
            ..Default::default()
        };
        m.files.insert(
            ".codex/prompts/spec-kitty.plan.md".into(),
            ManagedFile {
                hash: content_hash(b"x"),
                agent: "codex".into(),
                command: "plan".into(),
            },
        );
        assert!(m.save(dir.path()).unwrap());
        assert!(!m.save(dir.path()).unwrap());
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
    }
}
