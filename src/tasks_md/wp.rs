//! Work package prompt files: YAML frontmatter between `---` lines, then markdown.
//!
//! The frontmatter is kept as an ordered `serde_yaml::Mapping`, so unknown keys
//! and their order survive a rewrite.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::error::{Result, TasksError};
use crate::bounds::DocError;
use crate::fsutil;

/// One `tasks/WPxx-*.md` file.
#[derive(Debug, Clone)]
pub struct WpFile {
    pub path: PathBuf,
    /// `WP01`, from the file name.
    pub id: String,
    pub frontmatter: Mapping,
    /// Everything after the closing `---` line.
    pub body: String,
    /// The raw frontmatter text (without the `---` lines), as read.
    pub raw_frontmatter: String,
    /// `frontmatter` is what [`super::flatyaml::parse`] read from
    /// `raw_frontmatter` (a flat mapping of plain text): an edit of it that
    /// only adds flat lines needs no second parse ([`WpFile::text_with_keys`]).
    flat: bool,
}

/// `WP01` from `WP01-alpha.md`, `WP01_x.md`, `WP01.md`; None for other names.
#[allow(clippy::string_slice)] // `wp_id_len` counts the ASCII "WP" and ASCII digits: a char boundary
pub fn wp_id_from_filename(name: &str) -> Option<String> {
    wp_id_len(name.as_bytes()).map(|n| name[..n].to_string())
}

/// The length of the WP id that a file name (its bytes, any encoding)
/// starts with: `WP`, two digits or more, then `-`, `_`, `.` or the end of
/// the `.md` stem; None for other names. The id is ASCII.
pub fn wp_id_len(name: &[u8]) -> Option<usize> {
    let stem = name.strip_suffix(b".md")?;
    let rest = stem.strip_prefix(b"WP")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits < 2 {
        return None;
    }
    match rest.get(digits) {
        None | Some(b'-') | Some(b'_') | Some(b'.') => Some(2 + digits),
        _ => None,
    }
}

fn yaml_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// The WP files of a tasks directory, sorted by file name. A missing directory is empty.
pub fn list_wp_files(tasks_dir: &Path) -> Result<Vec<PathBuf>> {
    list_wp_files_clearing(tasks_dir, false)
}

/// The WP file of `id` (`WP` and digits, as [`wp_id_from_filename`] gives
/// it) in a tasks directory: the first in name order when several name it,
/// as [`list_wp_files`] orders them; None when none does (or the directory
/// does not exist). One pass over the names, keeping only the matches: a
/// command that needs one WP file does not pay for sorting and holding the
/// paths of the whole mission.
pub fn find_wp_file(tasks_dir: &Path, id: &str) -> Result<Option<PathBuf>> {
    let rd = match std::fs::read_dir(tasks_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(TasksError::Io {
                action: "read",
                path: tasks_dir.to_path_buf(),
                source,
            })
        }
    };
    let mut best: Option<(std::ffi::OsString, PathBuf)> = None;
    for e in rd.flatten() {
        let name = e.file_name();
        // A name that gives `id` starts with its (ASCII) bytes: the others
        // are passed over without decoding them.
        if !name.as_encoded_bytes().starts_with(id.as_bytes())
            || wp_id_from_filename(&name.to_string_lossy()).as_deref() != Some(id)
        {
            continue;
        }
        if best.as_ref().is_some_and(|(b, _)| *b <= name) {
            continue;
        }
        // The same rule as the listing: a file, or a link to one.
        let file = match e.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_dir() => false,
            _ => e.path().is_file(),
        };
        if file {
            best = Some((name, e.path()));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// [`list_wp_files`]; with `clear_temps`, the same listing also removes the
/// temp files a killed writer left there ([`fsutil::remove_if_stale_temp`]),
/// so a caller that does both reads the directory once.
pub fn list_wp_files_clearing(tasks_dir: &Path, clear_temps: bool) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(tasks_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TasksError::Io {
                action: "read",
                path: tasks_dir.to_path_buf(),
                source,
            })
        }
    };
    let mut files: Vec<(std::ffi::OsString, PathBuf)> = rd
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            if wp_id_from_filename(&name.to_string_lossy()).is_some() {
                return true;
            }
            if clear_temps {
                fsutil::remove_if_stale_temp(e);
            }
            false
        })
        // A link to a file counts (writes to it obey the safe-write rule of
        // fsutil). The entry's own type comes with the listing: only a link
        // (or a file system that does not say) costs a stat.
        .filter(|e| match e.file_type() {
            Ok(t) if t.is_file() => true,
            Ok(t) if t.is_dir() => false,
            _ => e.path().is_file(),
        })
        .map(|e| (e.file_name(), e.path()))
        .collect();
    // Every path has the same parent, so the order of the paths is the order
    // of their names (bytes); comparing names skips splitting each path into
    // components, which was most of a listing's cost at 5,000 WPs. Names in
    // one directory are unique, so an unstable sort gives the same order.
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Read every WP file in `tasks_dir`; the first malformed one is an error naming it.
///
/// Two files with one WP id (`WP01-a.md` and `WP01-b.md`) are an error naming
/// both: every command would otherwise act on whichever it found first.
pub fn load_all(tasks_dir: &Path) -> Result<Vec<WpFile>> {
    parse_texts(&read_texts(tasks_dir)?)
}

/// The text of one WP file as read, or why it could not be read.
pub type WpText = (PathBuf, Option<String>);

/// Every WP file of `tasks_dir` (as [`list_wp_files`] lists them) with its
/// text, None where it could not be read ([`parse_texts`] then reads it again
/// for the error). finalize-tasks hashes these texts for its stamp and parses
/// them only when the stamp does not match.
pub fn read_texts(tasks_dir: &Path) -> Result<Vec<WpText>> {
    Ok(read_listed(list_wp_files(tasks_dir)?))
}

/// The texts of WP files already listed (by [`list_wp_files_clearing`]), as
/// [`read_texts`] reads them.
pub fn read_listed(paths: Vec<PathBuf>) -> Vec<WpText> {
    paths
        .into_iter()
        .map(|p| {
            let text = fsutil::read_to_string(&p).ok();
            (p, text)
        })
        .collect()
}

/// [`load_all`] of texts already read by [`read_texts`].
pub fn parse_texts(texts: &[WpText]) -> Result<Vec<WpFile>> {
    let files = match parse_batch(texts) {
        Some(files) => files,
        // Something in some file is off: file by file, so the first bad
        // file is the one the error names, exactly as a lone parse names it
        // (a file that could not be read is read again for its error).
        None => texts
            .iter()
            .map(|(p, text)| match text {
                Some(t) => WpFile::parse(p, t),
                None => WpFile::read(p),
            })
            .collect::<Result<Vec<WpFile>>>()?,
    };
    let mut seen: std::collections::HashMap<&str, &Path> = std::collections::HashMap::new();
    for f in &files {
        if let Some(prev) = seen.insert(&f.id, &f.path) {
            return Err(TasksError::DuplicateWpFile {
                path: f.path.clone(),
                id: f.id.clone(),
                other: prev.to_path_buf(),
            });
        }
    }
    Ok(files)
}

/// Every WP file's frontmatter parsed in ONE pass of the YAML
/// parser over a stream of documents (one `---` document per file), instead of
/// a parser set up and torn down per file: at a thousand small files the set-up
/// was most of the cost. None when anything is off (a read error, a file
/// without frontmatter, a document over the caps, a YAML error, a document
/// count that does not match, a field of the wrong type): the caller then parses
/// file by file, which names the file and line of the first problem.
///
/// A frontmatter never holds a `---` line (it ends at the first), so each file
/// is exactly one document of the stream; a stray `...` line would make an
/// extra document, which the count check catches.
fn parse_batch(texts: &[WpText]) -> Option<Vec<WpFile>> {
    if texts.len() < 2 {
        return None;
    }
    let mut files = Vec::with_capacity(texts.len());
    let mut stream = String::new();
    let mut docs = 0usize;
    // Files whose frontmatter the YAML parser must read (the others were
    // read by [`super::flatyaml`], or are empty).
    let mut parse_later = Vec::with_capacity(texts.len());
    for (path, text) in texts {
        let id = wp_id_from_filename(path.file_name()?.to_str()?)?;
        let (yaml, body) = split_frontmatter(text.as_deref()?)?;
        if yaml.len() > crate::bounds::MAX_YAML_BYTES
            || crate::bounds::yaml_too_deep(yaml, crate::bounds::MAX_YAML_DEPTH).is_some()
        {
            return None;
        }
        let flat = super::flatyaml::parse(yaml);
        parse_later.push(flat.is_none() && !yaml.trim().is_empty());
        if flat.is_none() && !yaml.trim().is_empty() {
            stream.push_str("---\n");
            stream.push_str(yaml);
            docs += 1;
        }
        files.push(WpFile {
            path: path.clone(),
            id,
            flat: flat.is_some(),
            frontmatter: flat.unwrap_or_default(),
            body: body.to_string(),
            raw_frontmatter: yaml.to_string(),
        });
    }
    let mut parsed = Vec::with_capacity(docs);
    let stream_docs = (docs > 0).then(|| serde_yaml::Deserializer::from_str(&stream));
    for doc in stream_docs.into_iter().flatten() {
        match <Value as serde::Deserialize>::deserialize(doc).ok()? {
            Value::Mapping(m) if parsed.len() < docs => parsed.push(m),
            _ => return None,
        }
    }
    if parsed.len() != docs {
        return None;
    }
    let mut parsed = parsed.into_iter();
    for (wp, later) in files.iter_mut().zip(parse_later) {
        if later {
            wp.frontmatter = parsed.next()?;
        }
        wp.check_fields().ok()?;
    }
    Some(files)
}

/// How many frontmatter texts [`WpFile::parse`] remembers per process.
const PARSED_CAP: usize = 16;

/// The frontmatter texts this process parsed into a mapping, with the
/// mapping: a command reads its WP file several times (the pick, the move,
/// its guards, the activity line), and the same text is parsed once. Keyed
/// by the text itself, so a file that changed is parsed again. With each, whether
/// [`super::flatyaml`] read it (`WpFile::flat`).
#[allow(clippy::type_complexity)]
static PARSED: std::sync::Mutex<Vec<(String, Mapping, bool)>> = std::sync::Mutex::new(Vec::new());

fn parsed_before(yaml: &str) -> Option<(Mapping, bool)> {
    let known = PARSED.lock().ok()?;
    known
        .iter()
        .find(|(t, ..)| t == yaml)
        .map(|(_, m, flat)| (m.clone(), *flat))
}

fn remember_parse(yaml: &str, m: &Mapping, flat: bool) {
    let Ok(mut known) = PARSED.lock() else {
        return;
    };
    if known.iter().any(|(t, ..)| t == yaml) {
        return;
    }
    if known.len() >= PARSED_CAP {
        known.remove(0);
    }
    known.push((yaml.to_string(), m.clone(), flat));
}

/// Split `---\n<yaml>\n---\n<body>`. Returns (yaml, body, line number where the body starts).
#[allow(clippy::string_slice)] // `offset` sums whole lines of the text: a char boundary
pub fn split_frontmatter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---")?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Some((yaml, body));
        }
        offset += line.len();
    }
    None
}

impl WpFile {
    pub fn read(path: &Path) -> Result<WpFile> {
        let text = fsutil::read_to_string(path)?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<WpFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path_buf = || path.to_path_buf();
        let id = wp_id_from_filename(&name)
            .ok_or_else(|| TasksError::NotWpFileName { path: path_buf() })?;
        let (yaml, body) = split_frontmatter(text)
            .ok_or_else(|| TasksError::NoFrontmatter { path: path_buf() })?;
        // The line numbers are the file's: the frontmatter starts on line 2.
        let mut flat = false;
        let parsed = match parsed_before(yaml) {
            Some((m, was_flat)) => {
                flat = was_flat;
                Ok(Value::Mapping(m))
            }
            None if yaml.trim().is_empty() => Ok(Value::Mapping(Mapping::new())),
            None => match super::flatyaml::parse(yaml) {
                Some(m) if yaml.len() <= crate::bounds::MAX_YAML_BYTES => {
                    flat = true;
                    Ok(Value::Mapping(m))
                }
                _ => crate::bounds::yaml::<Value>(yaml),
            },
        };
        let frontmatter = match parsed {
            Ok(Value::Mapping(m)) => {
                remember_parse(yaml, &m, flat);
                m
            }
            Ok(_) => return Err(TasksError::FrontmatterNotMapping { path: path_buf() }),
            Err(DocError::TooBig { size, max }) => {
                return Err(TasksError::FrontmatterTooBig {
                    path: path_buf(),
                    size,
                    max,
                })
            }
            Err(DocError::TooDeep { line, max }) => {
                return Err(TasksError::FrontmatterTooDeep {
                    path: path_buf(),
                    line: line + 1,
                    max,
                })
            }
            Err(DocError::Yaml(source)) => {
                return Err(TasksError::FrontmatterYaml {
                    path: path_buf(),
                    line: source.location().map(|l| l.line() + 1),
                    source,
                });
            }
            Err(DocError::Json(_)) => {
                return Err(TasksError::FrontmatterNotMapping { path: path_buf() })
            }
        };
        let wp = WpFile {
            path: path.to_path_buf(),
            id,
            frontmatter,
            body: body.to_string(),
            raw_frontmatter: yaml.to_string(),
            flat,
        };
        wp.check_fields()?;
        Ok(wp)
    }

    /// Line (1-based, in the file) of a top-level frontmatter key.
    pub fn key_line(&self, key: &str) -> Option<usize> {
        self.raw_frontmatter
            .lines()
            .position(|l| l.starts_with(&format!("{key}:")))
            .map(|i| i + 2)
    }

    /// Line of the first list entry `value` under `key` (else the key's line).
    pub fn entry_line(&self, key: &str, value: &str) -> Option<usize> {
        let start = self.key_line(key)?;
        self.raw_frontmatter
            .lines()
            .enumerate()
            .skip(start - 1)
            .take_while(|(i, l)| *i == start - 2 || l.starts_with([' ', '-', '\t']))
            .find(|(_, l)| l.contains(value))
            .map(|(i, _)| i + 2)
            .or(Some(start))
    }

    /// The fields spec-kitty reads have the type it reads them as: list fields
    /// are a list of scalars (or a comma-separated string), text fields are
    /// scalars. A wrong type is an
    /// error naming the file, the line and the field, never silently read as
    /// empty (and then rewritten).
    fn check_fields(&self) -> Result<()> {
        for key in [
            "dependencies",
            "owned_files",
            "requirement_refs",
            "subtasks",
        ] {
            match self.get(key) {
                None | Some(Value::Null) | Some(Value::String(_)) => {}
                Some(Value::Sequence(items)) => {
                    // The reference team's tooling writes subtasks as mappings
                    // (`{id: T001, title: ..., status: planned}`); their id is
                    // what counts (and is validated where ids are).
                    let plain = |v: &Value| matches!(v, Value::String(_) | Value::Number(_));
                    if let Some(bad) = items.iter().find(|v| {
                        !(plain(v) || (key == "subtasks" && mapping_id(v).is_some_and(plain)))
                    }) {
                        return Err(TasksError::FieldEntryNotPlain {
                            path: self.path.clone(),
                            line: self.key_line(key),
                            key,
                            found: yaml_type(bad),
                        });
                    }
                }
                Some(other) => {
                    return Err(TasksError::FieldNotList {
                        path: self.path.clone(),
                        line: self.key_line(key),
                        key,
                        found: yaml_type(other),
                    })
                }
            }
        }
        for key in [
            "title",
            "execution_mode",
            "authoritative_surface",
            "work_package_id",
        ] {
            if let Some(v @ (Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_))) =
                self.get(key)
            {
                return Err(TasksError::FieldNotText {
                    path: self.path.clone(),
                    line: self.key_line(key),
                    key,
                    found: yaml_type(v),
                });
            }
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.frontmatter.get(key)
    }

    /// A scalar frontmatter value as text (numbers included); None when absent, null or empty.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn title(&self) -> Option<String> {
        self.get_str("title")
    }

    /// A list field; a comma-separated string is split (the reference coerces both).
    pub fn get_list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::Sequence(seq)) => seq
                .iter()
                .map(|v| match mapping_id(v) {
                    Some(id) if key == "subtasks" => id,
                    _ => v,
                })
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.trim().to_string()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|s| !s.is_empty())
                .collect(),
            Some(Value::String(s)) => {
                let s = s.trim().trim_start_matches('[').trim_end_matches(']');
                s.split(',')
                    .map(|p| p.trim().trim_matches(['"', '\'']).to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Does the frontmatter declare `dependencies` at all (even `[]`)?
    pub fn declares_dependencies(&self) -> bool {
        self.frontmatter.contains_key("dependencies")
    }

    pub fn dependencies(&self) -> Vec<String> {
        self.get_list("dependencies")
    }

    pub fn execution_mode(&self) -> Option<String> {
        self.get_str("execution_mode")
    }

    pub fn owned_files(&self) -> Vec<String> {
        self.get_list("owned_files")
    }

    /// `planning_artifact` work runs in the main checkout, not a lane worktree.
    pub fn is_planning_artifact(&self) -> bool {
        self.execution_mode().as_deref() == Some("planning_artifact")
    }

    /// The file stem (`WP01-alpha`), used for per-WP side directories.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.id.clone())
    }

    /// Render the file: `---`, the frontmatter in its current key order, `---`, body.
    pub fn render(&self) -> Result<String> {
        let yaml = if self.frontmatter.is_empty() {
            String::new()
        } else {
            serde_yaml::to_string(&self.frontmatter).map_err(|source| {
                TasksError::SerializeFrontmatter {
                    path: self.path.clone(),
                    source,
                }
            })?
        };
        Ok(format!("---\n{yaml}---\n{}", self.body))
    }

    /// The file's text with some top-level frontmatter keys set, everything else
    /// kept byte for byte (comments, quoting, tags like `!!omap`, key order).
    /// Existing keys are replaced in place, whatever their style (`key:`,
    /// `"key":`, `'key' :`); new `head` keys go right after the `after` key (or
    /// the first key), new `tail` keys at the end.
    ///
    /// The edited frontmatter is parsed again and must equal the old one with
    /// the keys set; if a layout this editor does not understand got in the
    /// way, the whole frontmatter is rendered afresh instead (comments are then
    /// lost, values never are).
    pub fn text_with_keys(
        &self,
        head: &[(&str, Value)],
        tail: &[(&str, Value)],
        after: &str,
    ) -> Result<String> {
        Ok(match self.edit_keys(head, tail, after)? {
            Edited::InPlace(t) | Edited::Rendered(t) => t,
        })
    }

    fn edit_keys(
        &self,
        head: &[(&str, Value)],
        tail: &[(&str, Value)],
        after: &str,
    ) -> Result<Edited> {
        self.edit_keys_with(head, tail, after, true)
    }

    /// [`Self::edit_keys`]; with `flat`, the keys whose values are plain text
    /// (or lists of it) are rendered, and a flat result read back, without
    /// the YAML library ([`super::flatyaml`]: the same bytes and the same
    /// mapping as `serde_yaml`, which does everything else). Without `flat`,
    /// the YAML library does it all (the tests hold the two to the same text).
    fn edit_keys_with(
        &self,
        head: &[(&str, Value)],
        tail: &[(&str, Value)],
        after: &str,
        flat: bool,
    ) -> Result<Edited> {
        let mut lines: Vec<String> = self.raw_frontmatter.lines().map(str::to_string).collect();
        let render_one = |key: &str, v: &Value| -> Result<Vec<String>> {
            let mut m = Mapping::new();
            m.insert(Value::String(key.to_string()), v.clone());
            let text = serde_yaml::to_string(&m).map_err(|source| TasksError::SerializeKey {
                path: self.path.clone(),
                key: key.to_string(),
                source,
            })?;
            Ok(text.lines().map(str::to_string).collect())
        };
        // Every key rendered by one YAML call (one emitter per file, not per key),
        // then cut into one block per key; any surprise falls back to per-key calls.
        let flat_blocks = || -> Option<Vec<Vec<String>>> {
            head.iter()
                .chain(tail)
                .map(|(k, v)| super::flatyaml::render(k, v))
                .collect()
        };
        let flat_rendered = flat.then(flat_blocks).flatten();
        // A flat frontmatter with every key's lines flat: the edit is flat too
        // (each key's lines replaced by, or new keys added as, lines of the
        // shapes flatyaml reads), and reads back as the old mapping with the
        // keys set: no second parse (the tests hold the two ways to the same text).
        let flat_edit = self.flat && flat_rendered.is_some();
        let blocks = flat_rendered.unwrap_or_else(|| render_blocks(head.iter().chain(tail)));
        let mut next_block = blocks.into_iter();
        let mut render = |key: &str, v: &Value| -> Result<Vec<String>> {
            match next_block.next() {
                Some(b) => Ok(b),
                None => render_one(key, v),
            }
        };
        let mut new_head = Vec::new();
        for (k, v) in head {
            match key_block(&lines, k) {
                Some((a, b)) => {
                    lines.splice(a..b, render(k, v)?);
                }
                None => new_head.extend(render(k, v)?),
            }
        }
        if !new_head.is_empty() {
            let at = key_block(&lines, after)
                .or_else(|| first_key_block(&lines))
                .map_or(0, |(_, b)| b);
            lines.splice(at..at, new_head);
        }
        for (k, v) in tail {
            match key_block(&lines, k) {
                Some((a, b)) => {
                    lines.splice(a..b, render(k, v)?);
                }
                None => lines.extend(render(k, v)?),
            }
        }
        let mut fm = lines.join("\n");
        if !fm.is_empty() {
            fm.push('\n');
        }
        if flat_edit && fm.len() <= crate::bounds::MAX_YAML_BYTES {
            return Ok(Edited::InPlace(format!("---\n{fm}---\n{}", self.body)));
        }
        let mut expected = self.frontmatter.clone();
        for (k, v) in head.iter().chain(tail) {
            expected.insert(Value::String((*k).to_string()), v.clone());
        }
        let reparsed = if fm.trim().is_empty() {
            Some(Mapping::new())
        } else {
            let read_flat = || {
                super::flatyaml::parse(&fm).filter(|_| fm.len() <= crate::bounds::MAX_YAML_BYTES)
            };
            match flat.then(read_flat).flatten() {
                Some(m) => Some(m),
                None => match crate::bounds::yaml::<Value>(&fm) {
                    Ok(Value::Mapping(m)) => Some(m),
                    _ => None,
                },
            }
        };
        if reparsed.as_ref() != Some(&expected) {
            return Ok(Edited::Rendered(
                WpFile {
                    frontmatter: expected,
                    ..self.clone()
                }
                .render()?,
            ));
        }
        Ok(Edited::InPlace(format!("---\n{fm}---\n{}", self.body)))
    }

    /// Write the file back atomically.
    pub fn write(&self) -> Result<()> {
        Ok(fsutil::atomic_write(&self.path, self.render()?.as_bytes())?)
    }
}

/// The YAML lines of each `(key, value)` in order, from one serialisation of
/// them all as a mapping. A block starts at a line in column 0 that is not a
/// sequence item; the first line of block k must be key k's. Empty when the
/// output does not cut cleanly (the caller then renders key by key).
fn render_blocks<'a>(pairs: impl Iterator<Item = &'a (&'a str, Value)>) -> Vec<Vec<String>> {
    let pairs: Vec<&(&str, Value)> = pairs.collect();
    let mut m = Mapping::new();
    for (k, v) in &pairs {
        m.insert(Value::String((*k).to_string()), v.clone());
    }
    if m.len() != pairs.len() {
        return Vec::new();
    }
    let Ok(text) = serde_yaml::to_string(&m) else {
        return Vec::new();
    };
    let mut blocks: Vec<Vec<String>> = Vec::with_capacity(pairs.len());
    for line in text.lines() {
        let starts_block = !line.is_empty() && !line.starts_with([' ', '-', '\t', '#']);
        match blocks.last_mut() {
            Some(b) if !starts_block => b.push(line.to_string()),
            None if !starts_block => return Vec::new(),
            _ => blocks.push(vec![line.to_string()]),
        }
    }
    let heads_match = blocks.len() == pairs.len()
        && blocks.iter().zip(&pairs).all(|(b, (k, _))| {
            b.first()
                .and_then(|l| l.strip_prefix(*k))
                .is_some_and(|rest| rest.starts_with(':'))
        });
    if heads_match {
        blocks
    } else {
        Vec::new()
    }
}

/// The `id` of a mapping entry (`{id: T001, title: ...}`), if it has one.
fn mapping_id(v: &Value) -> Option<&Value> {
    match v {
        Value::Mapping(m) => m.get("id"),
        _ => None,
    }
}

/// How [`WpFile::text_with_keys`] produced its text.
#[derive(Debug)]
enum Edited {
    /// Only the edited keys' lines changed.
    InPlace(String),
    /// The layout defeated the line editor; the frontmatter was rendered afresh.
    Rendered(String),
}

/// The key a top-level `key: value` line of a block mapping starts with, in
/// any key style: plain (`key:`), double- or single-quoted (`"key":`,
/// `'key':`), with or without spaces before the colon. None for indented
/// lines, sequence items, comments, blank lines and explicit `? key` entries.
#[allow(clippy::string_slice)] // 1 follows the ASCII '-' checked first, `colon` is where find met ':': char boundaries
pub fn top_level_key(line: &str) -> Option<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    let first = line.chars().next()?;
    if first.is_whitespace() || first == '#' || first == '?' {
        return None;
    }
    if first == '-' && line[1..].chars().next().is_none_or(char::is_whitespace) {
        return None;
    }
    let colon_ends_key = |rest: &str| {
        let rest = rest.trim_start_matches([' ', '\t']);
        rest.strip_prefix(':')
            .is_some_and(|r| r.chars().next().is_none_or(char::is_whitespace))
    };
    if first == '"' || first == '\'' {
        // The end of the quoted token: `\"` escapes in double quotes, `''` in single.
        let bytes = line.as_bytes();
        let mut i = 1;
        let end = loop {
            match bytes.get(i) {
                None => return None,
                Some(b'\\') if first == '"' => i += 2,
                Some(b'\'') if first == '\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                Some(&b) if b == first as u8 => break i + 1,
                Some(_) => i += 1,
            }
        };
        let (token, rest) = line.split_at(end.min(line.len()));
        if !colon_ends_key(rest) {
            return None;
        }
        return crate::bounds::yaml::<String>(token).ok().map(Cow::Owned);
    }
    // A plain key runs to the first `:` followed by a blank or the line's end.
    let bytes = line.as_bytes();
    let colon = (0..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|b| b.is_ascii_whitespace()))?;
    let key = line[..colon].trim_end();
    (!key.is_empty()).then_some(Cow::Borrowed(key))
}

/// Lines `start..end` of the top-level entry at `start`: the key line, then
/// every indented line or column-0 sequence item after it (blank and comment
/// lines only when more of the entry follows them).
fn entry_end(lines: &[String], start: usize) -> usize {
    let mut end = start + 1;
    let mut i = end;
    while i < lines.len() {
        let l = lines[i].as_str();
        let t = l.trim_start();
        let indented = l.starts_with([' ', '\t']) && !t.is_empty() && !t.starts_with('#');
        let item = l == "-" || l.starts_with("- ") || l.starts_with("-\t");
        if indented || item {
            end = i + 1;
        } else if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        i += 1;
    }
    end
}

/// The lines of top-level `key`'s entry.
fn key_block(lines: &[String], key: &str) -> Option<(usize, usize)> {
    let start = lines
        .iter()
        .position(|l| top_level_key(l).is_some_and(|k| k == key))?;
    Some((start, entry_end(lines, start)))
}

/// The lines of the first top-level entry.
fn first_key_block(lines: &[String]) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| top_level_key(l).is_some())?;
    Some((start, entry_end(lines, start)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_one_wp_file_agrees_with_the_listing() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path();
        for name in [
            "WP02-b.md",
            "WP01-z.md",
            "WP01-a.md",
            "WP010-x.md",
            "notes.md",
        ] {
            std::fs::write(t.join(name), "x").unwrap();
        }
        // A directory named like a WP file is not one.
        std::fs::create_dir(t.join("WP03-dir.md")).unwrap();
        let listed = list_wp_files(t).unwrap();
        for id in ["WP01", "WP02", "WP010", "WP03", "WP04"] {
            let first = listed
                .iter()
                .find(|p| {
                    wp_id_from_filename(&p.file_name().unwrap().to_string_lossy()).as_deref()
                        == Some(id)
                })
                .cloned();
            assert_eq!(find_wp_file(t, id).unwrap(), first, "{id}");
        }
        // Two files of one id: the first in name order, as the listing has it.
        assert_eq!(find_wp_file(t, "WP01").unwrap(), Some(t.join("WP01-a.md")));
        assert_eq!(find_wp_file(t, "WP03").unwrap(), None);
        assert_eq!(find_wp_file(&t.join("missing"), "WP01").unwrap(), None);
    }

    #[test]
    fn a_remembered_parse_follows_the_text_not_the_path() {
        let path = Path::new("/x/tasks/WP01-a.md");
        let one = "---\nwork_package_id: WP01\ntitle: One\ndependencies: []\n---\n# One\n";
        let two = "---\nwork_package_id: WP01\ntitle: Two\ndependencies:\n- WP02\n---\n# Two\n";
        for _ in 0..2 {
            let a = WpFile::parse(path, one).unwrap();
            assert_eq!(a.get_str("title").as_deref(), Some("One"));
            assert!(a.dependencies().is_empty());
            let b = WpFile::parse(path, two).unwrap();
            assert_eq!(b.get_str("title").as_deref(), Some("Two"));
            assert_eq!(b.dependencies(), vec!["WP02".to_string()]);
        }
        // A remembered mapping still goes through the field checks.
        let bad = "---\ntitle: Bad\ndependencies: {a: 1}\n---\n";
        assert!(WpFile::parse(path, bad).is_err());
        assert!(WpFile::parse(path, bad).is_err());
        // More texts than the memo holds: each still parses to its own values.
        for i in 0..(PARSED_CAP + 3) {
            let t = format!("---\ntitle: T{i}\n---\n");
            let f = WpFile::parse(path, &t).unwrap();
            assert_eq!(f.get_str("title"), Some(format!("T{i}")));
        }
    }

    #[test]
    fn ids_from_names() {
        assert_eq!(
            wp_id_from_filename("WP01-alpha.md").as_deref(),
            Some("WP01")
        );
        assert_eq!(wp_id_from_filename("WP123.md").as_deref(), Some("WP123"));
        assert_eq!(wp_id_from_filename("WP1-x.md"), None);
        assert_eq!(wp_id_from_filename("README.md"), None);
        assert_eq!(wp_id_from_filename("WP01x.md"), None);
    }

    #[test]
    fn parse_keeps_order_and_body() {
        let text = "---\nzeta: 1\nwork_package_id: WP01\ndependencies: []\ntitle: A\n---\n# Body\n";
        let wp = WpFile::parse(Path::new("tasks/WP01-a.md"), text).unwrap();
        assert_eq!(wp.title().as_deref(), Some("A"));
        assert!(wp.declares_dependencies());
        assert!(wp.dependencies().is_empty());
        let out = wp.render().unwrap();
        assert!(
            out.starts_with("---\nzeta: 1\nwork_package_id: WP01\n"),
            "{out}"
        );
        assert!(out.ends_with("---\n# Body\n"));
    }

    #[test]
    fn key_edits_keep_everything_else() {
        let text = "---\nwork_package_id: WP01\ntitle: A\nhistory:\n- !!omap\n  - at: '2026-01-01T00:00:00Z'\ndependencies:\n- WP09\n# a comment\n---\nbody\n";
        let wp = WpFile::parse(Path::new("tasks/WP01-a.md"), text).unwrap();
        let out = wp
            .text_with_keys(
                &[
                    ("dependencies", Value::Sequence(vec![])),
                    ("requirement_refs", Value::Sequence(vec!["FR-001".into()])),
                ],
                &[("execution_mode", "code_change".into())],
                "title",
            )
            .unwrap();
        assert_eq!(
            out,
            "---\nwork_package_id: WP01\ntitle: A\nrequirement_refs:\n- FR-001\nhistory:\n- !!omap\n  - at: '2026-01-01T00:00:00Z'\ndependencies: []\n# a comment\nexecution_mode: code_change\n---\nbody\n"
        );
    }

    #[test]
    fn malformed_frontmatter_names_file_and_line() {
        let e = WpFile::parse(Path::new("tasks/WP02-b.md"), "---\ntitle: [unclosed\n---\n")
            .unwrap_err();
        assert!(
            e.to_string().starts_with("tasks/WP02-b.md:"),
            "{}",
            e.to_string()
        );
        let e = WpFile::parse(Path::new("tasks/WP02-b.md"), "no frontmatter").unwrap_err();
        assert!(e.to_string().contains("missing YAML frontmatter"));
    }

    #[test]
    fn top_level_keys_in_every_style() {
        for (line, key) in [
            ("dependencies: []", Some("dependencies")),
            ("dependencies:", Some("dependencies")),
            ("\"dependencies\": [WP01]", Some("dependencies")),
            ("'dependencies' : [WP01]", Some("dependencies")),
            ("dependencies  :\t[]", Some("dependencies")),
            ("\"a\\\"b\": 1", Some("a\"b")),
            ("'it''s': 1", Some("it's")),
            ("url: http://x", Some("url")),
            ("a:b: 1", Some("a:b")),
            ("-x: 1", Some("-x")),
            ("  nested: 1", None),
            ("- item", None),
            ("-", None),
            ("# comment: no", None),
            ("? complex", None),
            ("\"unclosed: 1", None),
            ("plain", None),
        ] {
            assert_eq!(top_level_key(line).as_deref(), key, "{line:?}");
        }
    }

    #[test]
    fn quoted_keys_are_replaced_in_place() {
        let text = "---\n\"work_package_id\": WP01\n'title': A\n\"dependencies\": [WP09]\n# keep me\nlane : x\n---\nbody\n";
        let wp = WpFile::parse(Path::new("tasks/WP01-a.md"), text).unwrap();
        let out = wp
            .edit_keys(
                &[("dependencies", Value::Sequence(vec![]))],
                &[("lane", "y".into())],
                "title",
            )
            .unwrap();
        let Edited::InPlace(out) = out else {
            panic!("fell back: {out:?}")
        };
        assert_eq!(
            out,
            "---\n\"work_package_id\": WP01\n'title': A\ndependencies: []\n# keep me\nlane: y\n---\nbody\n"
        );
    }

    #[test]
    fn a_layout_the_line_editor_cannot_follow_is_rendered_afresh() {
        let text = "---\n{dependencies: [WP09], title: A}\n---\nbody\n";
        let wp = WpFile::parse(Path::new("tasks/WP01-a.md"), text).unwrap();
        let out = wp
            .edit_keys(&[("dependencies", Value::Sequence(vec![]))], &[], "title")
            .unwrap();
        let Edited::Rendered(out) = out else {
            panic!("in place on a flow mapping: {out:?}")
        };
        let again = WpFile::parse(Path::new("tasks/WP01-a.md"), &out).unwrap();
        assert_eq!(again.get_list("dependencies"), Vec::<String>::new());
        assert_eq!(again.title().as_deref(), Some("A"));
        assert!(out.ends_with("---\nbody\n"));
    }

    /// Random frontmatter in many key and value styles, random edits: the
    /// result always parses (serde_yaml) to the old mapping with the edits, the
    /// line editor handles every generated layout in place, and the comments
    /// between entries survive.
    #[test]
    fn key_edits_agree_with_serde_yaml() {
        let mut next = crate::testutil::xorshift(0x5eed_f00d_1234_5678);
        let names = [
            "dependencies",
            "title",
            "owned_files",
            "lane",
            "a b",
            "x-y",
            "requirement_refs",
            "execution_mode",
            "history",
        ];
        let values = [
            " WP01",
            " \"x: y\"",
            " 'it''s'",
            " [WP01, WP02]",
            "\n- a\n- b",
            "\n  - a\n\n  - b",
            "\n- a\n# between items\n- b",
            " |\n  line one\n\n  line two",
            "\n  k: v\n  k2: [1]",
            "",
            " [a,\n  b]",
            " !!omap\n  - at: x",
        ];
        let (mut replaced, mut added) = (0, 0);
        for case in 0..2_000 {
            let mut text = String::new();
            let mut comments = Vec::new();
            let mut used = Vec::new();
            for _ in 0..1 + next(6) {
                let name = names[next(names.len() as u64) as usize];
                if used.contains(&name) {
                    continue;
                }
                used.push(name);
                let key = match next(4) {
                    0 => format!("\"{name}\":"),
                    1 => format!("'{name}' :"),
                    2 => format!("{name}  :"),
                    _ => format!("{name}:"),
                };
                // Keys the parser types get values of their type (a wrong
                // type is an error, tested elsewhere); the rest get anything.
                let allowed: &[usize] = match name {
                    "dependencies" | "owned_files" | "requirement_refs" => {
                        &[0, 1, 2, 3, 4, 5, 6, 7, 9, 10]
                    }
                    "title" | "execution_mode" => &[0, 1, 2, 7, 9],
                    _ => &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
                };
                let value = values[allowed[next(allowed.len() as u64) as usize]];
                text.push_str(&format!("{key}{value}\n"));
                match next(4) {
                    0 => {
                        let c = format!("# comment {case}-{}", comments.len());
                        text.push_str(&format!("{c}\n"));
                        comments.push(c);
                    }
                    1 => text.push('\n'),
                    _ => {}
                }
            }
            let file = format!("---\n{text}---\nbody\n");
            let wp = WpFile::parse(Path::new("tasks/WP01-a.md"), &file)
                .unwrap_or_else(|e| panic!("generator made bad YAML: {e}\n{file}"));
            let pick = |next: &mut dyn FnMut(u64) -> u64| -> Vec<(&str, Value)> {
                (0..next(3))
                    .map(|_| {
                        let k = names[next(names.len() as u64) as usize];
                        let v = match (k, next(3)) {
                            ("title" | "execution_mode", _) | (_, 1) => {
                                Value::String("new: value".into())
                            }
                            (_, 0) => Value::Sequence(vec!["WP03".into()]),
                            ("dependencies" | "owned_files" | "requirement_refs", _) => {
                                Value::Sequence(vec![])
                            }
                            _ => Value::Bool(true),
                        };
                        (k, v)
                    })
                    .collect()
            };
            let head = pick(&mut next);
            let tail: Vec<_> = pick(&mut next)
                .into_iter()
                .filter(|(k, _)| !head.iter().any(|(h, _)| h == k))
                .collect();
            let mut head = head;
            head.dedup_by(|a, b| a.0 == b.0);
            for (k, _) in head.iter().chain(&tail) {
                if used.contains(k) {
                    replaced += 1;
                } else {
                    added += 1;
                }
            }
            let out = wp.edit_keys(&head, &tail, "title").unwrap();
            let Edited::InPlace(out) = out else {
                panic!("fell back on\n{file}\nedits {head:?} {tail:?}\n{out:?}")
            };
            let again = WpFile::parse(Path::new("tasks/WP01-a.md"), &out).unwrap();
            let mut expected = wp.frontmatter.clone();
            for (k, v) in head.iter().chain(&tail) {
                expected.insert(Value::String((*k).to_string()), v.clone());
            }
            assert_eq!(again.frontmatter, expected, "\n{file}\n->\n{out}");
            for c in &comments {
                assert!(out.contains(c.as_str()), "{c} lost:\n{file}\n->\n{out}");
            }
            assert!(out.ends_with("---\nbody\n"));
        }
        // Both kinds of edit were exercised many times.
        assert!(
            replaced > 300 && added > 300,
            "{replaced} replaced, {added} added"
        );
    }

    /// The key editor without the YAML library (flat values rendered as text,
    /// a flat result read back as text) writes the same bytes as with it, for
    /// the frontmatter finalize-tasks reads and writes and for edits of every
    /// kind: flat and not, keys replaced and added, in frontmatter that is
    /// flat and frontmatter that is not (a comment, a quoted value, a nested
    /// map), the result read back the same way or rendered afresh.
    #[test]
    fn flat_key_edits_write_the_same_bytes_as_the_yaml_library() {
        let mut next = crate::testutil::xorshift(0x00f1_a7ed_17ed_0001);
        let keys = [
            "work_package_id",
            "title",
            "dependencies",
            "requirement_refs",
            "planning_base_branch",
            "merge_target_branch",
            "branch_strategy",
            "subtasks",
            "authoritative_surface",
            "execution_mode",
            "owned_files",
            "lane",
        ];
        let words = [
            "WP0001",
            "Part 1",
            "FR-001",
            "main",
            "feature/x-1.2",
            "src/chain0/part1/**",
            "src/chain0/part1/",
            "code_change",
            "Planned on main. A WP may start from a dependency's lane branch, but finished work lands on main unless a person chooses another branch.",
        ];
        let lines_of = |next: &mut dyn FnMut(u64) -> u64, key: &str| -> String {
            let word = |next: &mut dyn FnMut(u64) -> u64| words[next(words.len() as u64) as usize];
            // The fields spec-kitty reads have their types (else the parse
            // refuses the file): lists (or text) and text; the others anything.
            let list = matches!(
                key,
                "dependencies" | "requirement_refs" | "subtasks" | "owned_files"
            );
            let text = matches!(
                key,
                "work_package_id" | "title" | "authoritative_surface" | "execution_mode"
            );
            match next(9) {
                0 if !text => format!("{key}: []\n"),
                1 if !text => format!("{key}: \n- {}\n", word(next)),
                2 if !text => format!("{key}:\n  - {}\n  - {}\n", word(next), word(next)),
                3 if !text => format!("{key}:\n- {}\n", word(next)),
                // Not flat: the YAML library reads these.
                4 if next(3) == 0 => format!("{key}: 'quoted'\n# a comment\n"),
                5 if next(3) == 0 && !list && !text => format!("{key}:\n  nested: map\n"),
                6 if next(3) == 0 && !list => format!("{key}: 12\n"),
                _ => format!("{key}: {}\n", word(next)),
            }
        };
        let value_of = |next: &mut dyn FnMut(u64) -> u64| -> Value {
            let word = |next: &mut dyn FnMut(u64) -> u64| {
                Value::String(words[next(words.len() as u64) as usize].into())
            };
            match next(8) {
                0 => Value::Sequence(Vec::new()),
                1 => Value::Sequence((0..1 + next(3)).map(|_| word(next)).collect()),
                2 => Value::String("needs: quotes".into()),
                3 if next(2) == 0 => Value::Bool(true),
                4 if next(2) == 0 => Value::Sequence(vec![Value::Number(7.into())]),
                _ => word(next),
            }
        };
        let (mut flat_files, mut same_as_read, mut unparsed) = (0, 0, 0);
        for _ in 0..3_000 {
            let mut text = String::new();
            let mut used: Vec<&str> = Vec::new();
            for _ in 0..1 + next(7) {
                let key = keys[next(keys.len() as u64) as usize];
                if !used.contains(&key) {
                    used.push(key);
                    text.push_str(&lines_of(&mut next, key));
                }
            }
            let file = format!("---\n{text}---\n\n# Body\n");
            let wp = WpFile::parse(Path::new("tasks/WP0001-a.md"), &file).unwrap();
            flat_files += usize::from(super::super::flatyaml::parse(&text).is_some());
            let mut pick = |n: u64| -> Vec<(&str, Value)> {
                let mut out: Vec<(&str, Value)> = Vec::new();
                for _ in 0..next(n) {
                    let k = keys[next(keys.len() as u64) as usize];
                    if !out.iter().any(|(o, _)| *o == k) {
                        out.push((k, value_of(&mut next)));
                    }
                }
                out
            };
            let head = pick(5);
            let tail: Vec<_> = pick(4)
                .into_iter()
                .filter(|(k, _)| !head.iter().any(|(h, _)| h == k))
                .collect();
            let after = if next(2) == 0 {
                "title"
            } else {
                "work_package_id"
            };
            let fast = wp.edit_keys_with(&head, &tail, after, true).unwrap();
            let slow = wp.edit_keys_with(&head, &tail, after, false).unwrap();
            // The flat edits, whose result is not parsed again.
            assert_eq!(wp.flat, super::super::flatyaml::parse(&text).is_some());
            unparsed += usize::from(
                wp.flat
                    && head
                        .iter()
                        .chain(&tail)
                        .all(|(k, v)| super::super::flatyaml::render(k, v).is_some()),
            );
            match (&fast, &slow) {
                (Edited::InPlace(a), Edited::InPlace(b)) => {
                    same_as_read += 1;
                    assert_eq!(a, b, "\n{file}\n{head:?} {tail:?}");
                }
                (Edited::Rendered(a), Edited::Rendered(b)) => assert_eq!(a, b),
                _ => panic!("{fast:?} against {slow:?}\n{file}\n{head:?} {tail:?}"),
            }
        }
        assert!(
            flat_files > 1_000 && same_as_read > 2_000 && unparsed > 300,
            "{flat_files} flat, {same_as_read} in place, {unparsed} flat edits"
        );
    }

    #[test]
    fn one_yaml_call_cuts_into_the_same_blocks_as_one_call_per_key() {
        let long = "Planned on main. A WP may start from a dependency's lane branch, but finished work lands on main unless a person chooses another branch.";
        let pairs: Vec<(&str, Value)> = vec![
            (
                "dependencies",
                Value::Sequence(vec![Value::String("WP01".into())]),
            ),
            ("requirement_refs", Value::Sequence(Vec::new())),
            ("branch_strategy", Value::String(long.into())),
            (
                "note",
                Value::String("- starts like an item\n# and a comment".into()),
            ),
            ("execution_mode", Value::String("code_change".into())),
        ];
        let per_key: Vec<Vec<String>> = pairs
            .iter()
            .map(|(k, v)| {
                let mut m = Mapping::new();
                m.insert(Value::String((*k).to_string()), v.clone());
                serde_yaml::to_string(&m)
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect()
            })
            .collect();
        assert_eq!(render_blocks(pairs.iter()), per_key);
    }

    /// The one-stream parse of a tasks directory gives exactly what parsing
    /// each file alone gives, or gives up (and the caller parses file by file):
    /// comments, quoted keys, block scalars with every chomping, anchors, tags,
    /// empty and comment-only frontmatter, `...` lines, CRLF endings.
    #[test]
    fn one_stream_parse_equals_a_parse_per_file_or_gives_up() {
        let frontmatters = [
            "title: A\ndependencies: []\n",
            "# only a comment\ntitle: B # trailing\n\"quoted key\": 1\n'single': two\n",
            "desc: |\n  kept\n  lines\n",
            "desc: |+\n  keep\n\n\n",
            "desc: >-\n  folded\n  text\n",
            "base: &b\n  x: 1\nother: *b\n",
            "when: !!str 2026-01-01\nn: 0x1F\nf: .inf\nnull_v: ~\nyes: yes\n",
            "",
            "   \n",
            "owned_files:\n- src/a/**\n- 'src/b c/**'\nsubtasks:\n- {id: T001, title: x}\n",
            "title: CRLF\r\ndependencies:\r\n- WP01\r\n",
            "list: [a, b,\n  c]\nmap: {k: v}\n",
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, fm) in frontmatters.iter().enumerate() {
            let p = dir.path().join(format!("WP{:02}-x.md", i + 1));
            std::fs::write(&p, format!("---\n{fm}---\n\n# Body {i}\n---\nmore\n")).unwrap();
            paths.push(p);
        }
        let texts = |paths: &[PathBuf]| -> Vec<WpText> {
            paths
                .iter()
                .map(|p| (p.clone(), std::fs::read_to_string(p).ok()))
                .collect()
        };
        let batch =
            parse_batch(&texts(&paths)).expect("every file parses alone, so the stream does");
        assert_eq!(batch.len(), paths.len());
        for (b, p) in batch.iter().zip(&paths) {
            let one = WpFile::read(p).unwrap();
            assert_eq!(b.frontmatter, one.frontmatter, "{}", p.display());
            assert_eq!(b.raw_frontmatter, one.raw_frontmatter);
            assert_eq!(b.flat, one.flat, "{}", p.display());
            assert_eq!(b.body, one.body);
            assert_eq!(b.id, one.id);
        }
        // Files a lone parse refuses: the stream gives up, so the per-file
        // parse names the file (and the line) as before.
        for bad in [
            "a: 1\n...\nb: 2\n",
            "# comment only\n",
            "- a list\n",
            "a: [unclosed\n",
            "%YAML 1.2\na: 1\n",
            "dependencies: {a: 1}\n",
        ] {
            let p = dir.path().join("WP99-bad.md");
            std::fs::write(&p, format!("---\n{bad}---\nbody\n")).unwrap();
            let mut with_bad = paths.clone();
            with_bad.push(p.clone());
            assert!(WpFile::read(&p).is_err(), "{bad:?} parses alone");
            assert!(parse_batch(&texts(&with_bad)).is_none(), "{bad:?}");
            let e = load_all(dir.path()).unwrap_err();
            assert!(e.to_string().contains("WP99-bad.md"), "{bad:?}: {e}");
        }
    }
}
