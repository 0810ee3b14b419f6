//! The project charter: principles every agent must respect, in
//! `.kittify/charter/charter.md` (where the Python 3.1.1 reference keeps it),
//! generated from interview answers in `.kittify/charter/interview/answers.yaml`.
//!
//! Two runtime files sit beside it, both git-ignored by `init` and read the same
//! way by the reference: `metadata.yaml` (the hash of the charter as generated, so
//! `status` can tell a hand-edited charter) and `context-state.json` (which
//! actions have loaded the charter once: the first load of an action gets the
//! whole text, later ones the summary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::error::{Diagnose, Kind};
use crate::fsutil;
use crate::project::Project;

/// What can go wrong with the charter, its interview and its context.
#[derive(Debug, thiserror::Error)]
pub enum CharterError {
    #[error("unknown interview profile {profile:?}")]
    UnknownProfile { profile: String },
    /// An `--answer KEY=...` whose key the profile does not ask.
    #[error("--answer {key}: no such question in the {profile} profile")]
    UnknownQuestion {
        key: String,
        profile: String,
        questions: Vec<&'static str>,
    },
    #[error("unknown action {action:?}")]
    UnknownAction { action: String },
    /// answers.yaml is not YAML.
    #[error("{}: not valid YAML: {source}", .path.display())]
    BadAnswers {
        path: PathBuf,
        #[source]
        source: crate::bounds::DocError,
    },
    /// `generate` without `--force` over an existing charter.
    #[error("{} already exists", .path.display())]
    CharterExists { path: PathBuf },
    /// `generate --template-set` naming a set this build does not have.
    #[error("unknown template set {name:?}")]
    UnknownTemplateSet { name: String },
    /// `sync` with no charter.md to record.
    #[error("no charter at {}", .path.display())]
    NoCharter {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// answers.yaml could not be rendered (a bug).
    #[error("answers.yaml: {0}")]
    RenderAnswers(#[source] serde_yaml::Error),
    /// context-state.json could not be rendered (a bug).
    #[error("{0}")]
    RenderState(#[source] serde_json::Error),
    /// A read or write through [`crate::fsutil`], which reports its failures as
    /// [`crate::fsutil::FsError`]; kept whole.
    #[error("{0}")]
    Fs(#[from] crate::fsutil::FsError),
}

impl Diagnose for CharterError {
    fn kind(&self) -> Kind {
        use CharterError::*;
        match self {
            UnknownProfile { .. } | UnknownQuestion { .. } | UnknownAction { .. } => Kind::Usage,
            RenderAnswers(_) | RenderState(_) => Kind::Internal,
            Fs(e) => e.kind(),
            BadAnswers { .. }
            | CharterExists { .. }
            | UnknownTemplateSet { .. }
            | NoCharter { .. } => Kind::User,
        }
    }
    fn hint(&self) -> Option<String> {
        use CharterError::*;
        match self {
            UnknownProfile { .. } => Some(format!("choose one of: {}", PROFILES.join(", "))),
            UnknownQuestion { questions, .. } => Some(format!("questions: {}", questions.join(", "))),
            UnknownAction { .. } => Some(format!("choose one of: {}", ACTIONS.join(", "))),
            BadAnswers { .. } => {
                Some("fix the file or run `spec-kitty charter interview` again".into())
            }
            CharterExists { .. } => {
                Some("pass --force to regenerate it from the interview answers".into())
            }
            UnknownTemplateSet { .. } => Some(format!(
                "choose one of: {}",
                template_sets().join(", ")
            )),
            NoCharter { .. } => Some("create one: `spec-kitty charter interview`, then `spec-kitty charter generate --from-interview`".into()),
            RenderAnswers(_) | RenderState(_) => None,
            Fs(e) => e.hint(),
        }
    }
    fn details(&self) -> Option<serde_json::Value> {
        match self {
            CharterError::Fs(e) => e.details(),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, CharterError>;

/// The interview profiles.
pub const PROFILES: &[&str] = &["minimal", "comprehensive"];

/// One interview question: its answer key, the question, and the default answer.
#[derive(Debug, Clone, Copy)]
pub struct Question {
    pub key: &'static str,
    pub prompt: &'static str,
    pub default: &'static str,
    /// The heading the answer goes under in charter.md.
    pub section: &'static str,
}

const MINIMAL: &[Question] = &[
    Question { key: "project_intent", prompt: "What is this project for, in one sentence?", default: "Ship small, well-tested changes that a reviewer can follow.", section: "Purpose" },
    Question { key: "languages_frameworks", prompt: "Which languages, frameworks and tools does it use?", default: "", section: "Technology" },
    Question { key: "testing_requirements", prompt: "What must be tested, and how?", default: "Every behaviour change comes with a test that fails without it; the whole suite passes before review.", section: "Testing" },
    Question { key: "quality_gates", prompt: "Which checks must pass before work is done?", default: "Tests, formatter and linter are clean; no reviewer finding is left open.", section: "Quality gates" },
    Question { key: "review_policy", prompt: "Who reviews, and what does approval need?", default: "One reviewer other than the implementer approves each work package.", section: "Review" },
    Question { key: "performance_targets", prompt: "Any performance targets?", default: "Common commands respond in well under a second.", section: "Performance" },
    Question { key: "deployment_constraints", prompt: "Where must it run?", default: "Linux and macOS developer machines.", section: "Constraints" },
];

const COMPREHENSIVE_EXTRA: &[Question] = &[
    Question { key: "documentation_policy", prompt: "What documentation must change with the code?", default: "README and CHANGELOG are updated with every user-visible change.", section: "Documentation" },
    Question { key: "security_requirements", prompt: "Security rules every change must respect?", default: "Input from files and the network is validated; no secrets in the repository.", section: "Security" },
    Question { key: "dependency_policy", prompt: "When may a new dependency be added?", default: "Only a well-maintained one that replaces more code than it costs; say why in the commit.", section: "Dependencies" },
    Question { key: "branch_strategy", prompt: "How do branches and commits work here?", default: "Work lands on the mission's target branch through reviewed merges; commits are small and honest.", section: "Branches and commits" },
    Question { key: "amendment_process", prompt: "How is this charter changed?", default: "By re-running the charter interview and reviewing the regenerated charter like code.", section: "Amendments" },
];

/// The questions of `profile`, in order.
pub fn questions(profile: &str) -> Result<Vec<Question>> {
    match profile {
        "minimal" => Ok(MINIMAL.to_vec()),
        "comprehensive" => Ok(MINIMAL.iter().chain(COMPREHENSIVE_EXTRA).copied().collect()),
        _ => Err(CharterError::UnknownProfile {
            profile: profile.to_string(),
        }),
    }
}

pub fn charter_dir(project: &Project) -> PathBuf {
    project.kittify_dir().join("charter")
}
pub fn charter_file(project: &Project) -> PathBuf {
    charter_dir(project).join("charter.md")
}
pub fn answers_file(project: &Project) -> PathBuf {
    charter_dir(project).join("interview").join("answers.yaml")
}
fn metadata_file(project: &Project) -> PathBuf {
    charter_dir(project).join("metadata.yaml")
}
fn state_file(project: &Project) -> PathBuf {
    charter_dir(project).join("context-state.json")
}

/// Interview answers as stored in answers.yaml.
#[derive(Debug, Clone)]
pub struct Answers {
    pub mission: String,
    pub profile: String,
    pub answers: BTreeMap<String, String>,
    pub available_tools: Vec<String>,
    /// Keys kept as read (paradigms, directives, agent profile) so a file the
    /// reference wrote round-trips.
    pub extra: serde_yaml::Mapping,
}

/// Tools the project visibly uses, from the files at its root.
pub fn detect_tools(root: &Path) -> Vec<String> {
    let mut tools = vec!["git".to_string(), "spec-kitty".to_string()];
    for (file, names) in [
        ("Cargo.toml", &["cargo", "rust"][..]),
        ("pyproject.toml", &["python"][..]),
        ("package.json", &["node", "npm"][..]),
        ("go.mod", &["go"][..]),
    ] {
        if root.join(file).is_file() {
            tools.extend(names.iter().map(|s| s.to_string()));
        }
    }
    tools.sort();
    tools.dedup();
    tools
}

fn default_answer(q: &Question, tools: &[String]) -> String {
    if q.key == "languages_frameworks" {
        let langs: Vec<&str> = tools
            .iter()
            .filter_map(|t| match t.as_str() {
                "rust" => Some("Rust with cargo"),
                "python" => Some("Python"),
                "node" => Some("JavaScript/TypeScript with npm"),
                "go" => Some("Go"),
                _ => None,
            })
            .collect();
        return if langs.is_empty() {
            "The languages already used in the repository, with their standard tooling.".into()
        } else {
            langs.join(", ")
        };
    }
    q.default.to_string()
}

/// Build answers for `profile`: `given` first, then `ask` (None keeps the
/// default), then the default. `ask` is how the CLI asks a person at a terminal.
pub fn interview(
    project: &Project,
    mission: &str,
    profile: &str,
    given: &BTreeMap<String, String>,
    mut ask: impl FnMut(&Question, &str) -> Option<String>,
) -> Result<Answers> {
    let qs = questions(profile)?;
    for k in given.keys() {
        if !qs.iter().any(|q| q.key == k) {
            return Err(CharterError::UnknownQuestion {
                key: k.clone(),
                profile: profile.to_string(),
                questions: qs.iter().map(|q| q.key).collect(),
            });
        }
    }
    let tools = detect_tools(&project.root);
    let mut answers = BTreeMap::new();
    for q in &qs {
        let default = default_answer(q, &tools);
        let a = match given.get(q.key) {
            Some(v) => v.clone(),
            None => ask(q, &default)
                .filter(|s| !s.trim().is_empty())
                .unwrap_or(default),
        };
        answers.insert(q.key.to_string(), a.trim().to_string());
    }
    Ok(Answers {
        mission: mission.to_string(),
        profile: profile.to_string(),
        answers,
        available_tools: tools,
        extra: serde_yaml::Mapping::new(),
    })
}

/// Write answers.yaml (atomically).
pub fn save_answers(project: &Project, a: &Answers) -> Result<PathBuf> {
    let mut doc = serde_yaml::Mapping::new();
    let s = |v: &str| serde_yaml::Value::String(v.to_string());
    doc.insert(s("schema_version"), s("1.0.0"));
    doc.insert(s("mission"), s(&a.mission));
    doc.insert(s("profile"), s(&a.profile));
    let answers: serde_yaml::Mapping = a.answers.iter().map(|(k, v)| (s(k), s(v))).collect();
    doc.insert(s("answers"), serde_yaml::Value::Mapping(answers));
    for key in ["selected_paradigms", "selected_directives"] {
        let v = a
            .extra
            .get(key)
            .cloned()
            .unwrap_or(serde_yaml::Value::Sequence(Vec::new()));
        doc.insert(s(key), v);
    }
    doc.insert(
        s("available_tools"),
        serde_yaml::Value::Sequence(a.available_tools.iter().map(|t| s(t)).collect()),
    );
    for (k, v) in &a.extra {
        if !doc.contains_key(k) {
            doc.insert(k.clone(), v.clone());
        }
    }
    let text = serde_yaml::to_string(&doc).map_err(CharterError::RenderAnswers)?;
    let path = answers_file(project);
    fsutil::create_dir_all(path.parent().unwrap_or(&path)).map_err(CharterError::Fs)?;
    fsutil::atomic_write(&path, text.as_bytes()).map_err(CharterError::Fs)?;
    Ok(path)
}

/// Read answers.yaml (ours or the reference's); None when there is none.
pub fn load_answers(project: &Project) -> Result<Option<Answers>> {
    let path = answers_file(project);
    if !path.is_file() {
        return Ok(None);
    }
    let text = fsutil::read_to_string(&path).map_err(CharterError::Fs)?;
    let doc: serde_yaml::Mapping =
        crate::bounds::yaml(&text).map_err(|source| CharterError::BadAnswers {
            path: path.clone(),
            source,
        })?;
    let text_of = |v: &serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let get = |k: &str| doc.get(k).and_then(text_of);
    let answers = match doc.get("answers") {
        Some(serde_yaml::Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((text_of(k)?, text_of(v)?)))
            .collect(),
        _ => BTreeMap::new(),
    };
    let available_tools = match doc.get("available_tools") {
        Some(serde_yaml::Value::Sequence(s)) => s.iter().filter_map(text_of).collect(),
        _ => Vec::new(),
    };
    let mut extra = doc.clone();
    for k in [
        "schema_version",
        "mission",
        "profile",
        "answers",
        "available_tools",
    ] {
        extra.remove(k);
    }
    Ok(Some(Answers {
        mission: get("mission").unwrap_or_else(|| "software-dev".into()),
        profile: get("profile").unwrap_or_else(|| "minimal".into()),
        answers,
        available_tools,
        extra,
    }))
}

/// `sha256:<hex>` of `bytes`, the form metadata.yaml keeps.
fn hash(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// What `generate` wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    pub charter_file: PathBuf,
    pub files_written: Vec<PathBuf>,
    pub answers: Answers,
    /// The answers came from answers.yaml (else: the profile's defaults).
    pub from_interview: bool,
    pub template_set: String,
}

/// Render charter.md from `answers`.
pub fn render(a: &Answers, template_set: &str, now: &str) -> String {
    let mut out = format!(
        "# Project Charter\n\n<!-- Written by `spec-kitty charter generate` from the {} interview; regenerate rather than edit. -->\n\nGenerated: {now}\nMission type: {}\nTemplate set: {template_set}\n\n## Policy Summary\n\n",
        a.profile, a.mission
    );
    let mut keys: Vec<Question> = questions("comprehensive").unwrap_or_default();
    keys.retain(|q| a.answers.contains_key(q.key));
    for q in &keys {
        out.push_str(&format!("- {}: {}\n", q.section, a.answers[q.key]));
    }
    // Answers to questions we do not ask (a file the reference wrote) are kept.
    for (k, v) in &a.answers {
        if !keys.iter().any(|q| q.key == k) {
            out.push_str(&format!("- {k}: {v}\n"));
        }
    }
    for q in &keys {
        out.push_str(&format!("\n## {}\n\n{}\n", q.section, a.answers[q.key]));
    }
    for (key, title) in [
        ("selected_paradigms", "Paradigms"),
        ("selected_directives", "Directives"),
    ] {
        let v = selected(a, key);
        if !v.is_empty() {
            out.push_str(&format!("\n## {title}\n\n{}\n", v.join(", ")));
        }
    }
    if !a.available_tools.is_empty() {
        out.push_str(&format!("\n## Tools\n\n{}\n", a.available_tools.join(", ")));
    }
    out
}

/// The template sets: one per mission type, `<type>-default` (the reference's names).
pub fn template_sets() -> Vec<String> {
    crate::mission::types::ALL
        .iter()
        .map(|t| format!("{}-default", t.key))
        .collect()
}

/// What `generate` is asked for.
#[derive(Debug, Clone, Default)]
pub struct GenerateRequest<'a> {
    /// Mission type to record (default: the answers', else software-dev).
    pub mission: Option<&'a str>,
    /// Use the interview answers when there are some (else the defaults).
    pub from_interview: bool,
    /// The interview profile of the defaults used when there are no answers.
    pub profile: &'a str,
    /// `<type>-default` (default: the mission type's).
    pub template_set: Option<&'a str>,
    pub force: bool,
}

/// Write charter.md and metadata.yaml from the interview answers (with
/// `from_interview` and answers present) or the `profile`'s defaults. An
/// existing charter is kept unless `force`.
pub fn generate(project: &Project, req: &GenerateRequest<'_>) -> Result<Generated> {
    let path = charter_file(project);
    if path.exists() && !req.force {
        return Err(CharterError::CharterExists { path });
    }
    let loaded = if req.from_interview {
        load_answers(project)?
    } else {
        None
    };
    let from_interview = loaded.is_some();
    let mut answers = match loaded {
        Some(a) => a,
        None => {
            let profile = req.profile.trim().to_ascii_lowercase();
            interview(
                project,
                req.mission.unwrap_or("software-dev"),
                &profile,
                &BTreeMap::new(),
                |_, _| None,
            )?
        }
    };
    if let Some(m) = req.mission {
        answers.mission = m.to_string();
    }
    let template_set = match req.template_set {
        Some(t) if template_sets().iter().any(|k| k == t) => t.to_string(),
        Some(t) => {
            return Err(CharterError::UnknownTemplateSet {
                name: t.to_string(),
            })
        }
        None => format!("{}-default", answers.mission),
    };
    let now = crate::timefmt::now_iso_seconds_z();
    let text = render(&answers, &template_set, &now);
    let meta = metadata_text(text.as_bytes());
    let meta_path = metadata_file(project);
    fsutil::create_dir_all(&charter_dir(project)).map_err(CharterError::Fs)?;
    fsutil::atomic_write_all(&[
        (path.as_path(), text.as_bytes()),
        (meta_path.as_path(), meta.as_bytes()),
    ])
    .map_err(CharterError::Fs)?;
    Ok(Generated {
        charter_file: path.clone(),
        files_written: vec![path, meta_path],
        answers,
        from_interview,
        template_set,
    })
}

/// A comma-separated option (`--available-tools git,cargo`): trimmed, empty
/// parts dropped; `None` when the option was not given.
pub fn csv(raw: Option<&str>) -> Option<Vec<String>> {
    raw.map(|r| {
        r.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Apply `--selected-paradigms/--selected-directives/--available-tools` to answers.
pub fn apply_overrides(
    a: &mut Answers,
    paradigms: Option<Vec<String>>,
    directives: Option<Vec<String>>,
    tools: Option<Vec<String>>,
) {
    let seq = |v: Vec<String>| {
        serde_yaml::Value::Sequence(v.into_iter().map(serde_yaml::Value::String).collect())
    };
    if let Some(p) = paradigms {
        a.extra.insert("selected_paradigms".into(), seq(p));
    }
    if let Some(d) = directives {
        a.extra.insert("selected_directives".into(), seq(d));
    }
    if let Some(t) = tools {
        a.available_tools = t;
    }
}

/// The answers' `selected_paradigms` or `selected_directives` (strings only).
pub fn selected(a: &Answers, key: &str) -> Vec<String> {
    a.extra
        .get(key)
        .and_then(|v| v.as_sequence())
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn metadata_text(charter: &[u8]) -> String {
    format!(
        "# Written by `spec-kitty charter generate` or `sync`; `charter status` compares charter.md with this hash.\nschema_version: 1.0.0\nextracted_at: '{}'\ncharter_hash: {}\nsource_path: .kittify/charter/charter.md\n",
        crate::timefmt::now_iso(),
        hash(charter)
    )
}

/// What `sync` did.
#[derive(Debug, Clone, Copy)]
pub struct Synced {
    /// metadata.yaml was written.
    pub changed: bool,
    /// charter.md differed from the recorded hash before.
    pub stale_before: bool,
}

/// Record charter.md as it is now (after a hand edit) as the current charter, so
/// `status` says `synced`. Nothing is written when it already was (unless `force`).
pub fn sync(project: &Project, force: bool) -> Result<Synced> {
    let path = charter_file(project);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(source) => return Err(CharterError::NoCharter { path, source }),
    };
    let stale_before = status(project)?.status != "synced";
    if !force && !stale_before {
        return Ok(Synced {
            changed: false,
            stale_before,
        });
    }
    fsutil::atomic_write(&metadata_file(project), metadata_text(&bytes).as_bytes())
        .map_err(CharterError::Fs)?;
    Ok(Synced {
        changed: true,
        stale_before,
    })
}

/// The charter's state for `status`.
#[derive(Debug, Clone)]
pub struct Status {
    pub charter_file: PathBuf,
    pub answers_file: Option<PathBuf>,
    /// `synced` (as generated or synced), `stale` (edited since, or no
    /// metadata to compare with: the reference's word), or `missing` (no charter).
    pub status: &'static str,
    pub current_hash: Option<String>,
    pub stored_hash: Option<String>,
    pub last_sync: Option<String>,
    pub files: Vec<(String, bool, u64)>,
    /// Markdown files in `.kittify/charter/library/`.
    pub library_docs: usize,
}

pub fn status(project: &Project) -> Result<Status> {
    let path = charter_file(project);
    let current_hash = std::fs::read(&path).ok().map(|b| hash(&b));
    let meta: Option<serde_yaml::Mapping> = fsutil::read_to_string(&metadata_file(project))
        .ok()
        .and_then(|t| crate::bounds::yaml(&t).ok());
    let meta_str = |k: &str| {
        meta.as_ref()
            .and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let stored_hash = meta_str("charter_hash");
    let status = match (&current_hash, &stored_hash) {
        (None, _) => "missing",
        (Some(c), Some(s)) if c == s => "synced",
        _ => "stale",
    };
    let files = ["charter.md", "interview/answers.yaml", "metadata.yaml"]
        .iter()
        .map(|n| {
            let md = std::fs::metadata(charter_dir(project).join(n)).ok();
            (
                n.to_string(),
                md.is_some(),
                md.map(|m| m.len()).unwrap_or(0),
            )
        })
        .collect();
    let answers = answers_file(project);
    Ok(Status {
        charter_file: path,
        answers_file: answers.is_file().then_some(answers),
        status,
        current_hash,
        stored_hash,
        last_sync: meta_str("extracted_at"),
        files,
        library_docs: std::fs::read_dir(charter_dir(project).join("library"))
            .map(|rd| {
                rd.flatten()
                    .take(100_000)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                    .count()
            })
            .unwrap_or(0),
    })
}

/// The charter context for an action.
#[derive(Debug, Clone)]
pub struct Context {
    pub action: String,
    /// `bootstrap` (first load for this action: the whole charter), `compact`
    /// (later loads: the policy summary), `missing` (no charter).
    pub mode: &'static str,
    pub first_load: bool,
    pub text: String,
    pub charter_file: PathBuf,
}

/// The actions charter context is given for.
pub const ACTIONS: &[&str] = &["specify", "plan", "tasks", "implement", "review"];

/// How much of charter.md a context quotes.
const CONTEXT_LIMIT: usize = 12_000;

/// The policy-summary lines of a charter (our `## Policy Summary` section, which
/// the reference's charters have too); the whole text when there is none.
fn summary(text: &str) -> String {
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "## Policy Summary")
        .skip(1);
    let body: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if body.is_empty() {
        truncate(text, CONTEXT_LIMIT)
    } else {
        body.join("\n")
    }
}

/// The context text for `action`; with `mark_loaded`, records the first load
/// in context-state.json (so the next call gives the compact summary).
pub fn context(project: &Project, action: &str, mark_loaded: bool) -> Result<Context> {
    if !ACTIONS.contains(&action) {
        return Err(CharterError::UnknownAction {
            action: action.to_string(),
        });
    }
    let path = charter_file(project);
    let Some(text) = std::fs::read_to_string(&path).ok() else {
        return Ok(Context {
            action: action.to_string(),
            mode: "missing",
            first_load: true,
            text: "Charter Context:\n  - No charter at .kittify/charter/charter.md.\n  - Create one: `spec-kitty charter interview`, then `spec-kitty charter generate --from-interview`.".into(),
            charter_file: path,
        });
    };
    let state_path = state_file(project);
    let mut state: Value = fsutil::read_to_string(&state_path)
        .ok()
        .and_then(|t| crate::bounds::json(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({"schema_version": "1.0.0"}));
    let first_load = state["actions"].get(action).is_none();
    let body = if first_load {
        format!(
            "Charter Context (first load for {action}):\n  - Source: {}\n\n{}",
            path.display(),
            truncate(&text, CONTEXT_LIMIT)
        )
    } else {
        format!("Charter Context (summary):\n{}", summary(&text))
    };
    if first_load && mark_loaded {
        if !state["actions"].is_object() {
            state["actions"] = json!({});
        }
        state["actions"][action] = json!(crate::timefmt::now_iso_seconds_z());
        let out = serde_json::to_string_pretty(&state).map_err(CharterError::RenderState)?;
        fsutil::atomic_write(&state_path, out.as_bytes()).map_err(CharterError::Fs)?;
    }
    Ok(Context {
        action: action.to_string(),
        mode: if first_load { "bootstrap" } else { "compact" },
        first_load,
        text: body,
        charter_file: path,
    })
}

/// `prompt` followed by the charter's section, when the project has a charter.
pub fn with_prompt_block(project: &Project, prompt: String) -> String {
    match prompt_block(project) {
        Some(block) => prompt + &block,
        None => prompt,
    }
}

/// The section implement and review prompts carry, when the project has a
/// charter: its policy summary (reads only; no state recorded).
pub fn prompt_block(project: &Project) -> Option<String> {
    let text = std::fs::read_to_string(charter_file(project)).ok()?;
    Some(format!(
        "\n## Project charter\n\nThese principles (from .kittify/charter/charter.md) bind this work:\n\n{}\n",
        summary(&text)
    ))
}

/// At most `limit` characters of `text`, cut at a line end, with a note when cut.
#[allow(clippy::string_slice)] // the cut is at a '\n' rfind found, a char boundary
fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit).collect();
    let cut = cut.rfind('\n').map(|i| &cut[..i]).unwrap_or(&cut);
    format!("{cut}\n[... the rest of the charter is in the file]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn project() -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".kittify")).unwrap();
        let p = Project::at(dir.path());
        (dir, p)
    }

    #[test]
    fn bad_answers_yaml_keeps_the_yaml_error_and_names_the_file() {
        let (_d, p) = project();
        let path = answers_file(&p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "answers: [unclosed\n").unwrap();
        let e = load_answers(&p).unwrap_err();
        assert!(
            matches!(&e, CharterError::BadAnswers { path: at, .. } if *at == path),
            "{e:?}"
        );
        assert!(e
            .source()
            .unwrap()
            .source()
            .unwrap()
            .downcast_ref::<serde_yaml::Error>()
            .is_some());
        let e = crate::Error::from(e);
        assert_eq!(e.kind, Kind::User);
        assert!(
            e.message
                .starts_with(&format!("{}: not valid YAML: ", path.display())),
            "{}",
            e.message
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("fix the file or run `spec-kitty charter interview` again")
        );
    }

    #[test]
    fn usage_failures_are_usage_and_list_the_choices() {
        let (_d, p) = project();
        let e = questions("huge").unwrap_err();
        assert!(matches!(&e, CharterError::UnknownProfile { profile } if profile == "huge"));
        let e = crate::Error::from(e);
        assert_eq!(
            (e.kind, e.hint.as_deref()),
            (Kind::Usage, Some("choose one of: minimal, comprehensive"))
        );
        let given = BTreeMap::from([("nope".to_string(), "x".to_string())]);
        let e = interview(&p, "software-dev", "minimal", &given, |_, _| None).unwrap_err();
        assert!(
            matches!(&e, CharterError::UnknownQuestion { key, questions, .. } if key == "nope" && questions.len() == MINIMAL.len())
        );
        let e = context(&p, "deploy", true).unwrap_err();
        assert_eq!(crate::Error::from(e).message, "unknown action \"deploy\"");
    }

    #[test]
    fn sync_without_a_charter_keeps_the_io_error() {
        let (_d, p) = project();
        let e = sync(&p, false).unwrap_err();
        let CharterError::NoCharter { source, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        let req = GenerateRequest {
            from_interview: true,
            profile: "minimal",
            template_set: Some("cooking-default"),
            ..Default::default()
        };
        assert!(
            generate(&p, &req).is_err_and(|e| matches!(e, CharterError::UnknownTemplateSet { .. }))
        );
        assert!(!charter_file(&p).exists());
    }
}
