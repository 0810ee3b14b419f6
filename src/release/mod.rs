//! Release tooling: version coherence gates and changelog preparation.
//!
//! The version lives in the package manifest (Cargo.toml `[package] version`, or
//! pyproject.toml `[project] version` for a Python project) and in
//! `.kittify/metadata.yaml` `spec_kitty.version`; CHANGELOG.md needs a
//! `## [X.Y.Z]` entry, and the version must be newer than the last `vX.Y.Z` tag.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Diagnose, Kind};
use crate::fsutil;
use crate::project::version_key;

/// Why a release command stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("no Cargo.toml or pyproject.toml in {} or any parent", .start.display())]
    NoManifest { start: PathBuf },
    /// The manifest is not TOML (`line` where the parser says).
    #[error("{}: invalid TOML: {}", located(.path, *.line), .source.message())]
    BadManifest {
        path: PathBuf,
        line: Option<usize>,
        /// Boxed: a toml error is large, and this is the rare path.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// The manifest has no `[package]`/`[project]`/`[tool.poetry]` version.
    #[error("{}: no version found", .path.display())]
    NoVersion { path: PathBuf },
    /// `.kittify/metadata.yaml` cannot be used (read through
    /// [`crate::config::Metadata`], with its error policy).
    #[error(transparent)]
    Metadata(#[from] crate::config::ConfigError),
    /// The current version is not X.Y.Z (with an optional pre-release).
    #[error("cannot read version {version}")]
    BadVersion { version: String },
    #[error("unknown channel {channel}")]
    UnknownChannel { channel: String },
    /// `prep --write` found no `version = "<from>"` line to replace.
    #[error("could not find `version = \"{from}\"` to bump")]
    NoVersionLine { from: String },
    /// A read or write through [`crate::fsutil`], which reports its failures as
    /// [`crate::fsutil::FsError`]; kept whole.
    #[error("{0}")]
    Fs(#[from] crate::fsutil::FsError),
}

/// `path` or `path:line`, the way parse errors name where they are.
fn located(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("{}:{n}", path.display()),
        None => path.display().to_string(),
    }
}

impl Diagnose for ReleaseError {
    fn kind(&self) -> Kind {
        match self {
            ReleaseError::UnknownChannel { .. } => Kind::Usage,
            ReleaseError::Fs(e) => e.kind(),
            ReleaseError::Metadata(e) => e.kind(),
            _ => Kind::User,
        }
    }
    fn hint(&self) -> Option<String> {
        use ReleaseError::*;
        match self {
            NoManifest { .. } => {
                Some("run release commands from inside the repository you are releasing".into())
            }
            NoVersion { .. } => Some(
                "set `version = \"X.Y.Z\"` under [package] (Cargo) or [project] (Python)".into(),
            ),
            BadVersion { .. } => Some("use X.Y.Z".into()),
            UnknownChannel { .. } => Some("use stable, rc, alpha or beta".into()),
            NoVersionLine { .. } => Some("bump it by hand".into()),
            BadManifest { .. } => None,
            Metadata(e) => e.hint(),
            Fs(e) => e.hint(),
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            ReleaseError::Fs(e) => e.details(),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, ReleaseError>;

/// The repository being released.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
    /// `Cargo.toml` or `pyproject.toml`.
    pub manifest: PathBuf,
    pub version: String,
}

/// Find the nearest directory with a Cargo.toml or pyproject.toml and read its version.
pub fn open(start: &Path) -> Result<Repo> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in ["Cargo.toml", "pyproject.toml"] {
            let p = d.join(name);
            if p.is_file() {
                let version = manifest_version(&p)?;
                return Ok(Repo {
                    root: d.to_path_buf(),
                    manifest: p,
                    version,
                });
            }
        }
        dir = d.parent();
    }
    Err(ReleaseError::NoManifest {
        start: start.to_path_buf(),
    })
}

fn manifest_version(path: &Path) -> Result<String> {
    let text = fsutil::read_to_string(path).map_err(ReleaseError::Fs)?;
    let doc: toml::Table =
        text.parse()
            .map_err(|source: toml::de::Error| ReleaseError::BadManifest {
                path: path.to_path_buf(),
                line: crate::error::toml_error_line(&text, &source),
                source: Box::new(source),
            })?;
    let get = |table: &str| {
        doc.get(table)
            .and_then(|t| t.get("version"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    get("package")
        .or_else(|| get("project"))
        .or_else(|| {
            doc.get("tool")
                .and_then(|t| t.get("poetry"))
                .and_then(|t| t.get("version"))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .ok_or_else(|| ReleaseError::NoVersion {
            path: path.to_path_buf(),
        })
}

impl Repo {
    pub fn manifest_name(&self) -> String {
        self.manifest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn metadata_path(&self) -> PathBuf {
        self.root.join(".kittify").join("metadata.yaml")
    }

    pub fn changelog_path(&self) -> PathBuf {
        self.root.join("CHANGELOG.md")
    }

    pub fn metadata_version(&self) -> Result<Option<String>> {
        Ok(crate::config::Metadata::load(&self.root)?.version)
    }

    /// `vX.Y.Z` tags reachable from HEAD, newest first, with whether HEAD is on it.
    pub fn reachable_tags(&self) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> =
            crate::git::tags::reachable_from_head(&self.root, "v*", |name| {
                let Some(version) = name.strip_prefix('v') else {
                    return false;
                };
                let base = version.split('-').next().unwrap_or(version);
                version_key(version).is_some() || version_key(base).is_some()
            })
            .into_iter()
            .map(|(name, on_head)| (name.strip_prefix('v').unwrap_or(&name).to_string(), on_head))
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse(version_key(&t.0)));
        out
    }
}

/// One release gate.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// Check the release gates.
pub fn validate(repo: &Repo) -> Result<Vec<Gate>> {
    let manifest = repo.manifest_name();
    let mut gates = Vec::new();
    gates.push(match repo.metadata_version()? {
        Some(m) if m == repo.version => Gate {
            name: "version_sync",
            ok: true,
            detail: format!("{manifest} and .kittify/metadata.yaml both say {m}"),
        },
        Some(m) => Gate {
            name: "version_sync",
            ok: false,
            detail: format!(
                "{manifest} says {} but .kittify/metadata.yaml says {m}; make them equal (edit one, or run `spec-kitty agent release prep --write`)",
                repo.version
            ),
        },
        None => Gate {
            name: "version_sync",
            ok: false,
            detail: format!(
                ".kittify/metadata.yaml has no spec_kitty.version ({manifest} says {})",
                repo.version
            ),
        },
    });
    let changelog = fsutil::read_to_string(&repo.changelog_path()).unwrap_or_default();
    let has_entry = changelog
        .lines()
        .any(|l| l.starts_with(&format!("## [{}]", repo.version)));
    gates.push(Gate {
        name: "changelog_entry",
        ok: has_entry,
        detail: if has_entry {
            format!("CHANGELOG.md has a ## [{}] entry", repo.version)
        } else {
            format!(
                "CHANGELOG.md has no `## [{}]` entry; add one (spec-kitty agent release prep drafts it)",
                repo.version
            )
        },
    });
    let tags = repo.reachable_tags();
    gates.push(match tags.first() {
        None => Gate {
            name: "version_progression",
            ok: true,
            detail: "no vX.Y.Z tag reachable from HEAD yet".into(),
        },
        Some((tag, on_head)) => {
            let newer = version_key(&repo.version) > version_key(tag);
            let ok = newer || (&repo.version == tag && *on_head);
            Gate {
                name: "version_progression",
                ok,
                detail: if ok {
                    format!("{} follows the last tag v{tag}", repo.version)
                } else {
                    format!(
                        "{} is not newer than the last tag v{tag}; bump the version in {manifest} and .kittify/metadata.yaml",
                        repo.version
                    )
                },
            }
        }
    });
    Ok(gates)
}

/// A mission listed in the release notes.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseMission {
    pub slug: String,
    pub title: String,
    pub mission_type: String,
    pub accepted_at: Option<String>,
    pub section: &'static str,
}

/// The proposed release.
#[derive(Debug, Clone, Serialize)]
pub struct Prep {
    pub channel: String,
    pub current_version: String,
    pub target_version: String,
    pub last_tag: Option<String>,
    pub proposed_changelog_block: String,
    pub version_files: Vec<String>,
    pub missions: Vec<ReleaseMission>,
    pub warnings: Vec<String>,
    pub written: Vec<String>,
}

/// The version a channel proposes after `current`, given the existing tags.
pub fn target_version(
    current: &str,
    channel: &str,
    tagged: bool,
    tags: &[String],
) -> Result<String> {
    let base = current
        .split(['-', 'a', 'b', 'r'])
        .next()
        .unwrap_or(current);
    let parts: Vec<u64> = base.split('.').filter_map(|p| p.parse().ok()).collect();
    let [major, minor, patch] = parts[..] else {
        return Err(ReleaseError::BadVersion {
            version: current.to_string(),
        });
    };
    let is_pre = current.contains('-')
        || current.contains("rc")
        || current.contains('a')
        || current.contains('b');
    let next_patch = if tagged && !is_pre { patch + 1 } else { patch };
    let release = format!("{major}.{minor}.{next_patch}");
    Ok(match channel {
        "stable" => {
            if !tagged {
                current.to_string()
            } else {
                release
            }
        }
        pre => {
            let n = tags
                .iter()
                .filter_map(|t| t.strip_prefix(&format!("{release}-{pre}.")))
                .filter_map(|n| n.parse::<u64>().ok())
                .max()
                .map_or(1, |n| n + 1);
            format!("{release}-{pre}.{n}")
        }
    })
}

fn mission_title(dir: &Path, meta: &serde_json::Map<String, serde_json::Value>) -> String {
    let spec = fsutil::read_to_string(&dir.join("spec.md")).unwrap_or_default();
    spec.lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| {
            t.trim_start_matches("Specification:")
                .trim_start_matches("Feature Specification:")
                .trim()
                .to_string()
        })
        .filter(|t| !t.is_empty() && !t.contains('['))
        .or_else(|| {
            meta.get("friendly_name")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

fn section_for(slug: &str, mission_type: &str) -> &'static str {
    let s = slug.to_ascii_lowercase();
    if ["fix", "bug", "hotfix", "regression"]
        .iter()
        .any(|w| s.contains(w))
    {
        "Fixed"
    } else if mission_type == "software-dev"
        && !["harden", "refactor", "cleanup", "rework", "migrate"]
            .iter()
            .any(|w| s.contains(w))
    {
        "Added"
    } else {
        "Changed"
    }
}

/// Missions under kitty-specs/ that changed since `since_tag` (all of them without a tag).
fn missions_since(repo: &Repo, since_tag: Option<&str>) -> Vec<ReleaseMission> {
    let specs = repo.root.join("kitty-specs");
    let changed: Option<Vec<String>> = since_tag.and_then(|tag| {
        Some(
            crate::git::tags::changed_since_tag(&repo.root, &format!("v{tag}"))?
                .into_iter()
                .filter_map(|p| {
                    p.strip_prefix("kitty-specs/")
                        .and_then(|r| r.split('/').next())
                        .map(str::to_string)
                })
                .collect(),
        )
    });
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&specs) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let slug = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(c) = &changed {
            if !c.contains(&slug) {
                continue;
            }
        }
        let meta = crate::mission::read_meta(&dir.join("meta.json")).unwrap_or_default();
        let mission_type = meta
            .get("mission_type")
            .and_then(|v| v.as_str())
            .unwrap_or("software-dev")
            .to_string();
        out.push(ReleaseMission {
            title: mission_title(&dir, &meta),
            section: section_for(&slug, &mission_type),
            accepted_at: meta
                .get("accepted_at")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            slug,
            mission_type,
        });
    }
    out
}

/// The `## [Unreleased]` body of a changelog, by `### Section`.
fn unreleased_entries(changelog: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in changelog.lines() {
        if line.starts_with("## ") {
            inside = line.to_ascii_lowercase().starts_with("## [unreleased]");
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(h) = line.strip_prefix("### ") {
            out.push((h.trim().to_string(), Vec::new()));
        } else if line.starts_with("- ") || line.starts_with("  ") {
            if out.is_empty() {
                out.push(("Changed".into(), Vec::new()));
            }
            if let Some(last) = out.last_mut() {
                last.1.push(line.to_string());
            }
        }
    }
    out.retain(|(_, l)| !l.is_empty());
    out
}

pub fn prep(repo: &Repo, channel: &str, write: bool) -> Result<Prep> {
    if !["stable", "rc", "alpha", "beta"].contains(&channel) {
        return Err(ReleaseError::UnknownChannel {
            channel: channel.to_string(),
        });
    }
    let tags = repo.reachable_tags();
    let all_tags: Vec<String> = tags.iter().map(|(t, _)| t.clone()).collect();
    let last = tags.first().map(|(t, _)| t.clone());
    let tagged = last
        .as_deref()
        .is_some_and(|t| version_key(t) >= version_key(&repo.version));
    let target = target_version(&repo.version, channel, tagged, &all_tags)?;
    let missions = missions_since(repo, last.as_deref());
    let changelog_path = repo.changelog_path();
    let changelog = fsutil::read_to_string(&changelog_path).unwrap_or_default();
    let mut warnings = Vec::new();

    let mut sections: Vec<(String, Vec<String>)> = unreleased_entries(&changelog);
    for m in &missions {
        let line = format!("- {} (mission {})", m.title, m.slug);
        match sections.iter_mut().find(|(s, _)| s == m.section) {
            Some((_, lines)) => lines.push(line),
            None => sections.push((m.section.to_string(), vec![line])),
        }
    }
    let order = [
        "Added",
        "Changed",
        "Deprecated",
        "Removed",
        "Fixed",
        "Security",
    ];
    sections.sort_by_key(|(s, _)| order.iter().position(|o| o == s).unwrap_or(order.len()));
    let mut block = format!("## [{target}] - {}\n", crate::timefmt::today());
    for (name, lines) in &sections {
        block.push_str(&format!("\n### {name}\n"));
        for l in lines {
            block.push_str(l);
            block.push('\n');
        }
    }
    if sections.is_empty() {
        block.push_str("\n### Changed\n- Maintenance release.\n");
        warnings.push("no missions or [Unreleased] entries since the last release; the block is a placeholder".into());
    }
    let mut version_files = vec![repo.manifest_name()];
    if repo.metadata_path().is_file() {
        version_files.push(".kittify/metadata.yaml".into());
    }
    let heading = format!("## [{target}]");
    let already = changelog.lines().any(|l| l.starts_with(&heading));
    if already {
        warnings.push(format!("CHANGELOG.md already has a {heading} entry"));
    }
    let mut written = Vec::new();
    if write {
        let mut changes: Vec<(PathBuf, String)> = Vec::new();
        if !already {
            changes.push((changelog_path.clone(), insert_block(&changelog, &block)));
        }
        if target != repo.version {
            let text = fsutil::read_to_string(&repo.manifest).map_err(ReleaseError::Fs)?;
            changes.push((
                repo.manifest.clone(),
                bump_manifest(&text, &repo.version, &target)?,
            ));
            if repo.metadata_path().is_file() {
                let text =
                    fsutil::read_to_string(&repo.metadata_path()).map_err(ReleaseError::Fs)?;
                changes.push((repo.metadata_path(), bump_metadata(&text, &target)));
            }
        }
        write_all(&changes)?;
        written = changes
            .iter()
            .map(|(p, _)| {
                p.strip_prefix(&repo.root)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .collect();
    }
    Ok(Prep {
        channel: channel.to_string(),
        current_version: repo.version.clone(),
        target_version: target,
        last_tag: last.map(|t| format!("v{t}")),
        proposed_changelog_block: block,
        version_files,
        missions,
        warnings,
        written,
    })
}

/// Put the block after `## [Unreleased]` (emptying it) or before the first release.
fn insert_block(changelog: &str, block: &str) -> String {
    if changelog.trim().is_empty() {
        return format!("# Changelog\n\n## [Unreleased]\n\n{block}");
    }
    let lines: Vec<&str> = changelog.lines().collect();
    let unreleased = lines
        .iter()
        .position(|l| l.to_ascii_lowercase().starts_with("## [unreleased]"));
    let first_release = lines.iter().position(|l| {
        l.starts_with("## [") && !l.to_ascii_lowercase().starts_with("## [unreleased]")
    });
    let mut out = String::new();
    match unreleased {
        Some(u) => {
            let end = lines[u + 1..]
                .iter()
                .position(|l| l.starts_with("## "))
                .map_or(lines.len(), |i| u + 1 + i);
            for l in &lines[..=u] {
                out.push_str(l);
                out.push('\n');
            }
            out.push('\n');
            out.push_str(block);
            out.push('\n');
            for l in &lines[end..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        None => {
            let at = first_release.unwrap_or(lines.len());
            for l in &lines[..at] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(block);
            out.push('\n');
            for l in &lines[at..] {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

/// Replace the version line of `[package]` / `[project]` only, keeping formatting.
fn bump_manifest(text: &str, from: &str, to: &str) -> Result<String> {
    let mut section = String::new();
    let mut done = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.to_string();
        }
        if !done
            && matches!(
                section.as_str(),
                "[package]" | "[project]" | "[tool.poetry]"
            )
            && t.starts_with("version")
            && t.contains(&format!("\"{from}\""))
        {
            out.push_str(&line.replacen(&format!("\"{from}\""), &format!("\"{to}\""), 1));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    if !done {
        return Err(ReleaseError::NoVersionLine {
            from: from.to_string(),
        });
    }
    Ok(out)
}

/// Replace `version:` under `spec_kitty:` in metadata.yaml, keeping comments.
#[allow(clippy::string_slice)] // the indent is the prefix trim_start removed, ending at a char boundary
fn bump_metadata(text: &str, to: &str) -> String {
    let mut inside = false;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.trim().is_empty() {
            inside = line.starts_with("spec_kitty:");
        }
        let t = line.trim_start();
        if inside && t.starts_with("version:") {
            let indent = &line[..line.len() - t.len()];
            out.push_str(&format!("{indent}version: {to}\n"));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Write several files so that either all change or none (through
/// [`crate::fsutil::atomic_write_all`], with its safe-write rule).
fn write_all(changes: &[(PathBuf, String)]) -> Result<()> {
    let files: Vec<(&Path, &[u8])> = changes
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    crate::fsutil::atomic_write_all(&files).map_err(ReleaseError::Fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            target_version("3.1.1", "stable", false, &[]).unwrap(),
            "3.1.1"
        );
        assert_eq!(
            target_version("3.1.1", "stable", true, &[]).unwrap(),
            "3.1.2"
        );
        assert_eq!(
            target_version("3.1.1", "rc", true, &["3.1.2-rc.1".into()]).unwrap(),
            "3.1.2-rc.2"
        );
        assert_eq!(
            target_version("3.1.1", "alpha", false, &[]).unwrap(),
            "3.1.1-alpha.1"
        );
    }

    #[test]
    fn bumps_keep_formatting() {
        let cargo = "[package]\nname = \"x\"\nversion = \"1.0.0\" # keep\n\n[dependencies]\ny = { version = \"1.0.0\" }\n";
        assert_eq!(
            bump_manifest(cargo, "1.0.0", "1.0.1").unwrap(),
            "[package]\nname = \"x\"\nversion = \"1.0.1\" # keep\n\n[dependencies]\ny = { version = \"1.0.0\" }\n"
        );
        let meta =
            "# c\nspec_kitty:\n  version: 1.0.0\n  initialized_at: x\nother:\n  version: 9\n";
        assert_eq!(
            bump_metadata(meta, "1.0.1"),
            "# c\nspec_kitty:\n  version: 1.0.1\n  initialized_at: x\nother:\n  version: 9\n"
        );
    }

    #[test]
    fn a_broken_manifest_keeps_the_toml_error_and_its_line() {
        use std::error::Error as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, "[package]\nname = \"x\"\nversion = \n").unwrap();
        let e = open(dir.path()).unwrap_err();
        assert!(
            matches!(&e, ReleaseError::BadManifest { line: Some(3), path: p, .. } if *p == path),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .downcast_ref::<Box<toml::de::Error>>()
            .is_some());
        let e = crate::Error::from(e);
        assert!(
            e.message
                .starts_with(&format!("{}:3: invalid TOML: ", path.display())),
            "{}",
            e.message
        );
        assert_eq!(e.kind, Kind::User);

        std::fs::write(&path, "[package]\nname = \"x\"\n").unwrap();
        let e = crate::Error::from(open(dir.path()).unwrap_err());
        assert_eq!(e.message, format!("{}: no version found", path.display()));
        assert!(e.hint.unwrap().contains("under [package]"));
    }

    #[test]
    fn an_unknown_channel_is_a_usage_error() {
        let repo = Repo {
            root: "/nonexistent".into(),
            manifest: "/nonexistent/Cargo.toml".into(),
            version: "1.0.0".into(),
        };
        let e = prep(&repo, "nightly", false).unwrap_err();
        assert!(matches!(&e, ReleaseError::UnknownChannel { channel } if channel == "nightly"));
        let e = crate::Error::from(e);
        assert_eq!(
            (e.kind, e.message.as_str()),
            (Kind::Usage, "unknown channel nightly")
        );
        assert!(matches!(
            target_version("one", "stable", false, &[]),
            Err(ReleaseError::BadVersion { .. })
        ));
    }

    #[test]
    fn block_goes_after_unreleased() {
        let c = "# Changelog\n\n## [Unreleased]\n\n### Added\n- thing\n\n## [1.0.0] - 2026-01-01\n- old\n";
        let out = insert_block(c, "## [1.0.1] - 2026-02-02\n\n### Added\n- thing\n");
        assert_eq!(out, "# Changelog\n\n## [Unreleased]\n\n## [1.0.1] - 2026-02-02\n\n### Added\n- thing\n\n## [1.0.0] - 2026-01-01\n- old\n");
    }
}
