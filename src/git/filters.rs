//! Whether libgit2's checkout of a new worktree could write any file's bytes
//! other than the blob's own: only its two built-in filters can (crlf, which
//! reads the `text`, `crlf` and `eol` attributes and `core.autocrlf`, and
//! ident, which reads `ident`; this crate registers no filter of its own, and
//! libgit2 runs no `filter.<driver>` command). When neither can apply, the
//! checkout may skip them: each filter's check costs an attribute lookup, a
//! `realpath` of the file's path, per file.
//!
//! The answer is conservative: "unfiltered" only when no attribute source
//! libgit2 reads for a checkout (the tree's `.gitattributes` files, the common
//! directory's `info/attributes`, `core.attributesFile` or the XDG
//! `attributes`, the system `gitattributes`) so much as contains one of those
//! attribute names, in any case (a macro that would set one names it in its
//! definition, in one of these sources), and `core.autocrlf` is unset, false
//! or `input` (with no attribute set, `true` is the only setting that
//! converts). `core.eol` and `core.safecrlf` must be values libgit2 accepts
//! (its crlf check refuses others, failing the checkout: that stays so).
//! Anything unreadable, oversized or unexpected answers "filtered".

use std::io::Read;
use std::path::{Path, PathBuf};

use git2::{Config, ConfigLevel, ErrorCode, ObjectType, Repository, TreeWalkMode, TreeWalkResult};

/// The attribute names libgit2's built-in filters read.
const FILTER_ATTRIBUTES: [&[u8]; 4] = [b"text", b"crlf", b"eol", b"ident"];

/// An attribute file bigger than this is not read: "filtered".
const MAX_ATTRIBUTES_BYTES: u64 = 1024 * 1024;

/// Can a checkout of `repo`'s HEAD skip libgit2's filters and still write
/// every file's bytes exactly as it would with them (see the module)?
pub(in crate::git) fn head_checkout_is_unfiltered(repo: &Repository) -> bool {
    let Ok(cfg) = repo.config() else {
        return false;
    };
    crlf_settings_leave_bytes_alone(&cfg)
        && tree_attributes_are_clear(repo)
        && outside_attributes_are_clear(repo, &cfg)
}

/// Could this attribute file's content set a filter's attribute? Any
/// occurrence of a name counts (in a pattern or a comment too): a false
/// "yes" only costs the filtered checkout.
fn names_a_filter_attribute(bytes: &[u8]) -> bool {
    let lower = bytes.to_ascii_lowercase();
    FILTER_ATTRIBUTES
        .iter()
        .any(|name| memchr::memmem::find(&lower, name).is_some())
}

/// How libgit2 maps a `core.*` setting (its `git_config__configmap_lookup`):
/// unset, a boolean (when the setting takes one), or one of `strings`
/// (compared ignoring ASCII case, as libgit2 does); None when libgit2 would
/// refuse the value.
#[derive(Debug, PartialEq, Eq)]
enum Mapped {
    Unset,
    Bool(bool),
    Str(&'static str),
}

fn mapped(cfg: &Config, key: &str, strings: &[&'static str]) -> Option<Mapped> {
    let entry = match cfg.get_entry(key) {
        Ok(e) => e,
        Err(e) if e.code() == ErrorCode::NotFound => return Some(Mapped::Unset),
        Err(_) => return None,
    };
    // A key without `=` is true to libgit2's boolean parser.
    if !entry.has_value() {
        return Some(Mapped::Bool(true));
    }
    let value = std::str::from_utf8(entry.value_bytes()).ok()?;
    if let Ok(b) = Config::parse_bool(value) {
        return Some(Mapped::Bool(b));
    }
    strings
        .iter()
        .find(|s| s.eq_ignore_ascii_case(value))
        .map(|s| Mapped::Str(s))
}

/// With no filter attribute set anywhere, does the crlf filter leave every
/// file alone? Only `core.autocrlf` true converts; `core.eol` and
/// `core.safecrlf` are read (and a value libgit2 refuses fails the checkout).
fn crlf_settings_leave_bytes_alone(cfg: &Config) -> bool {
    let autocrlf = matches!(
        mapped(cfg, "core.autocrlf", &["input"]),
        Some(Mapped::Unset | Mapped::Bool(false) | Mapped::Str(_))
    );
    let eol = matches!(
        mapped(cfg, "core.eol", &["lf", "crlf", "native"]),
        Some(Mapped::Unset | Mapped::Bool(false) | Mapped::Str(_))
    );
    let safecrlf = mapped(cfg, "core.safecrlf", &["warn"]).is_some();
    autocrlf && eol && safecrlf
}

/// Is every `.gitattributes` of HEAD's tree a plain file naming no filter
/// attribute? Names are compared ignoring case (a case-insensitive file
/// system reads `.GitAttributes` as `.gitattributes`), and an NTFS short
/// name (`GITATT~1`) counts too.
fn tree_attributes_are_clear(repo: &Repository) -> bool {
    let Ok(tree) = repo.head().and_then(|h| h.peel_to_tree()) else {
        return false;
    };
    let mut found = Vec::new();
    let mut clear = true;
    let walked = tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        let name = entry.name_bytes();
        let short_name = name
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"gitatt~"));
        if name.eq_ignore_ascii_case(b".gitattributes") || short_name {
            let plain_file = entry.kind() == Some(ObjectType::Blob)
                && matches!(entry.filemode(), 0o100644 | 0o100755);
            if !plain_file {
                clear = false;
                return TreeWalkResult::Abort;
            }
            found.push(entry.id());
        }
        TreeWalkResult::Ok
    });
    if walked.is_err() || !clear {
        return false;
    }
    found.iter().all(|id| {
        repo.find_blob(*id).is_ok_and(|b| {
            b.size() as u64 <= MAX_ATTRIBUTES_BYTES && !names_a_filter_attribute(b.content())
        })
    })
}

/// Are the attribute files outside the tree libgit2 reads for a checkout
/// absent or clear: `info/attributes` of the common directory, the global
/// one (`core.attributesFile`, else `attributes` in the XDG directory), the
/// system `gitattributes`?
fn outside_attributes_are_clear(repo: &Repository, cfg: &Config) -> bool {
    let mut files = vec![repo.commondir().join("info").join("attributes")];
    match global_attributes_file(cfg) {
        Some(Some(path)) => files.push(path),
        Some(None) => files.extend(
            search_path(ConfigLevel::XDG)
                .into_iter()
                .map(|d| d.join("attributes")),
        ),
        None => return false,
    }
    files.extend(
        search_path(ConfigLevel::System)
            .into_iter()
            .map(|d| d.join("gitattributes")),
    );
    files.iter().all(|f| file_is_clear(f))
}

/// `core.attributesFile` as libgit2 resolves it: Some(None) when unset,
/// None when it cannot be told (a relative path, a `~user` path).
fn global_attributes_file(cfg: &Config) -> Option<Option<PathBuf>> {
    let entry = match cfg.get_entry("core.attributesfile") {
        Ok(e) => e,
        Err(e) if e.code() == ErrorCode::NotFound => return Some(None),
        Err(_) => return None,
    };
    let value = std::str::from_utf8(entry.value_bytes()).ok()?;
    if value.starts_with("~/") {
        return cfg.get_path("core.attributesfile").ok().map(Some);
    }
    let path = PathBuf::from(value);
    path.is_absolute().then_some(Some(path))
}

/// The directories of libgit2's search path for `level` (empty when it
/// has none or cannot say).
fn search_path(level: ConfigLevel) -> Vec<PathBuf> {
    // SAFETY: libgit2's search paths are process-global state that must not
    // be read while another thread sets them; this crate never sets one
    // (`git2::opts::set_search_path` is called nowhere), so the read races
    // with no write.
    let Ok(list) = (unsafe { git2::opts::get_search_path(level) }) else {
        return Vec::new();
    };
    let separator = if cfg!(windows) { ';' } else { ':' };
    list.to_string_lossy()
        .split(separator)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Is the attribute file at `path` absent, or a readable file of at most
/// [`MAX_ATTRIBUTES_BYTES`] naming no filter attribute?
fn file_is_clear(path: &Path) -> bool {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return true,
        Err(_) => return false,
    };
    let mut bytes = Vec::new();
    match file.take(MAX_ATTRIBUTES_BYTES + 1).read_to_end(&mut bytes) {
        Ok(n) if n as u64 <= MAX_ATTRIBUTES_BYTES => !names_a_filter_attribute(&bytes),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_filter_attribute_name_in_any_case_counts() {
        for text in [
            "* text=auto\n",
            "*.bat eol=crlf\n",
            "*.c -CRLF\n",
            "*.c Ident\n",
            "[attr]mine TEXT\n",
            "# text\n",
            "context.md merge=union\n",
        ] {
            assert!(names_a_filter_attribute(text.as_bytes()), "{text}");
        }
        for text in [
            "",
            "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log\n\
             kitty-specs/**/status.json merge=spec-kitty-status-json\n\
             kitty-specs/**/tasks/WP*.md merge=spec-kitty-wp\n",
            "*.png binary\n*.md diff=markdown export-ignore\n",
        ] {
            assert!(!names_a_filter_attribute(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn settings_are_mapped_as_libgit2_maps_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        let mut cfg = Config::open(&path).unwrap();
        assert_eq!(
            mapped(&cfg, "core.autocrlf", &["input"]),
            Some(Mapped::Unset)
        );
        for (value, want) in [
            ("false", Some(Mapped::Bool(false))),
            ("0", Some(Mapped::Bool(false))),
            ("off", Some(Mapped::Bool(false))),
            ("Yes", Some(Mapped::Bool(true))),
            ("INPUT", Some(Mapped::Str("input"))),
            ("sometimes", None),
        ] {
            cfg.set_str("core.autocrlf", value).unwrap();
            assert_eq!(mapped(&cfg, "core.autocrlf", &["input"]), want, "{value}");
        }
        cfg.set_str("core.autocrlf", "input").unwrap();
        assert!(crlf_settings_leave_bytes_alone(&cfg));
        cfg.set_str("core.eol", "crlf").unwrap();
        assert!(
            crlf_settings_leave_bytes_alone(&cfg),
            "eol alone converts nothing"
        );
        cfg.set_str("core.eol", "true").unwrap();
        assert!(
            !crlf_settings_leave_bytes_alone(&cfg),
            "libgit2 refuses eol=true"
        );
        cfg.set_str("core.eol", "lf").unwrap();
        cfg.set_str("core.safecrlf", "maybe").unwrap();
        assert!(!crlf_settings_leave_bytes_alone(&cfg), "libgit2 refuses it");
        cfg.set_str("core.safecrlf", "warn").unwrap();
        cfg.set_str("core.autocrlf", "true").unwrap();
        assert!(!crlf_settings_leave_bytes_alone(&cfg), "autocrlf converts");
        // A key without a value is true.
        std::fs::write(&path, "[core]\n\tautocrlf\n").unwrap();
        let cfg = Config::open(&path).unwrap();
        assert_eq!(
            mapped(&cfg, "core.autocrlf", &["input"]),
            Some(Mapped::Bool(true))
        );
    }

    /// A repository whose HEAD holds `files` (path, bytes, mode).
    fn repo_with(files: &[(&str, &[u8], i32)]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut index = repo.index().unwrap();
        for (path, bytes, mode) in files {
            let id = repo.blob(bytes).unwrap();
            let mut e = git2::IndexEntry {
                ctime: git2::IndexTime::new(0, 0),
                mtime: git2::IndexTime::new(0, 0),
                dev: 0,
                ino: 0,
                mode: *mode as u32,
                uid: 0,
                gid: 0,
                file_size: 0,
                id,
                flags: 0,
                flags_extended: 0,
                path: path.as_bytes().to_vec(),
            };
            e.flags = (path.len() as u16) & 0xfff;
            index.add(&e).unwrap();
        }
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &[])
            .unwrap();
        drop(tree);
        (dir, repo)
    }

    #[test]
    fn the_trees_attribute_files_are_found_at_any_depth_in_any_case() {
        let plain = b"*.md merge=union\n".as_slice();
        let (_d, repo) = repo_with(&[
            (".gitattributes", plain, 0o100644),
            ("a.md", b"x", 0o100644),
        ]);
        assert!(tree_attributes_are_clear(&repo));
        for (path, bytes, mode) in [
            (
                "deep/er/.gitattributes",
                b"*.c ident\n".as_slice(),
                0o100644,
            ),
            ("src/.GitAttributes", b"* text\n".as_slice(), 0o100644),
            ("GITATT~1", b"* eol=crlf\n".as_slice(), 0o100644),
            // A link, whose target libgit2 would read, is not looked into.
            ("sub/.gitattributes", b"../elsewhere".as_slice(), 0o120000),
        ] {
            let (_d, repo) = repo_with(&[(".gitattributes", plain, 0o100644), (path, bytes, mode)]);
            assert!(!tree_attributes_are_clear(&repo), "{path}");
        }
    }

    #[test]
    fn an_attribute_file_is_clear_only_when_readable_small_and_silent() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("attributes");
        assert!(file_is_clear(&f), "absent");
        std::fs::write(&f, "*.md merge=union\n").unwrap();
        assert!(file_is_clear(&f));
        std::fs::write(&f, "*.md text\n").unwrap();
        assert!(!file_is_clear(&f));
        let big = vec![b'#'; MAX_ATTRIBUTES_BYTES as usize + 1];
        std::fs::write(&f, big).unwrap();
        assert!(!file_is_clear(&f), "oversized");
        assert!(
            !file_is_clear(dir.path()),
            "a directory is not readable as a file"
        );
    }
}
