//! Near-misses: text in tasks.md or a WP file that looks like a field the
//! parser reads but is not in the form it accepts, so it would be silently
//! ignored. finalize-tasks reports each one as a warning that names the
//! accepted form (the agent prompts tell agents to treat warnings as errors).

use std::sync::OnceLock;

use regex::Regex;
use serde_yaml::Value;

use super::parse::{self, re, re_ci, TasksDoc};
use super::wp::WpFile;

/// `**Label**: value` (also `Label:`, `- **Label:** value`): the label and the value.
fn label_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^[ \t>*+-]*(?:\*\*|__)?[ \t]*([A-Za-z][A-Za-z /()_-]{0,40}?)[ \t]*(?:\*\*|__)?[ \t]*:[ \t]*(?:\*\*|__)?(.*)$",
    )
}

fn req_label_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"requirement|\breqs?\b|cover|\btraces?\b|implements|satisf|\brefs?\b|\bfrs?\b",
    )
}

fn dep_label_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(
        &R,
        r"depend|\bdeps\b|prereq|requires|blocked|\bafter\b|\bneeds\b",
    )
}

/// A list item that starts with a subtask id (`- T001`, `1. [ ] T001`, `- [ ] **T001**`).
fn subtask_like_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]*(?:\[[^\]]*\][ \t]*)?(?:\*\*|`|__)?T\d+\b",
    )
}

fn checkbox_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[ \t]*[-*][ \t]*\[[ xX]\]")
}

fn wp_heading_like_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(&R, r"^#{1,6}[ \t]*(?:work[ \t]+package[ \t]+)?WP\d+\b")
}

fn req_heading_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    re_ci(&R, r"^#{1,6}[ \t].*(?:requirement|\brefs?\b)")
}

const SUBTASK_FORM: &str = "`- [ ] T001 description` (a dash, a checkbox, then the id)";
const REFS_FORM: &str = "`**Requirement Refs**: FR-001, NFR-001` on one line inside the WP section";
const DEPS_FORM: &str =
    "`**Dependencies**: WP01, WP02` (or `**Dependencies**: none`) inside the WP section";

/// Frontmatter keys agents write by mistake, and the key finalize reads.
const KEY_NEAR_MISSES: &[(&str, &str)] = &[
    ("depends_on", "dependencies"),
    ("depends-on", "dependencies"),
    ("dependency", "dependencies"),
    ("deps", "dependencies"),
    ("prerequisites", "dependencies"),
    ("blocked_by", "dependencies"),
    ("requirements", "requirement_refs"),
    ("requirement", "requirement_refs"),
    ("requirement_ref", "requirement_refs"),
    ("requirements_refs", "requirement_refs"),
    ("requirement-refs", "requirement_refs"),
    ("requirements_covered", "requirement_refs"),
    ("refs", "requirement_refs"),
    ("covers", "requirement_refs"),
    ("owned_file", "owned_files"),
    ("owned-files", "owned_files"),
    ("owns", "owned_files"),
    ("files", "owned_files"),
    ("ownership", "owned_files"),
    ("mode", "execution_mode"),
    ("execution-mode", "execution_mode"),
    ("id", "work_package_id"),
    ("wp_id", "work_package_id"),
    ("work-package-id", "work_package_id"),
    ("subtask", "subtasks"),
    ("tasks", "subtasks"),
    ("surface", "authoritative_surface"),
    ("authoritative-surface", "authoritative_surface"),
];

/// Warnings for tasks.md (`text`, parsed as `doc`) and the WP files.
pub fn warnings(text: Option<&str>, doc: &TasksDoc, files: &[WpFile]) -> Vec<String> {
    let mut out = Vec::new();
    match text {
        Some(text) => out.extend(
            tasks_md(text, doc)
                .into_iter()
                .map(|(line, msg)| format!("tasks.md:{line}: {msg}")),
        ),
        None if !files.is_empty() => out.push(
            "tasks.md is missing: write one `## WP01: Title` section per WP file, with its subtasks, `**Dependencies**:` and `**Requirement Refs**:` lines".into(),
        ),
        None => {}
    }
    let lines: Vec<&str> = text.map(|t| t.lines().collect()).unwrap_or_default();
    for f in files {
        // `**Dependencies**: none` in tasks.md while the frontmatter lists some.
        if let Some(s) = doc.section(&f.id) {
            let declared = f.dependencies();
            let says_none = s.dependencies.is_empty()
                && lines
                    .iter()
                    .take(s.end_line)
                    .skip(s.line)
                    .any(|l| parse::deps_line_re().is_match(l));
            if says_none && f.declares_dependencies() && !declared.is_empty() {
                out.push(format!(
                    "{}: frontmatter `dependencies: [{}]` is what counts, but its tasks.md section says none; make them agree (write `**Dependencies**: {}` in tasks.md, or `dependencies: []` in {})",
                    f.id,
                    declared.join(", "),
                    declared.join(", "),
                    file_name(f)
                ));
            }
        }
        if text.is_some() && doc.section(&f.id).is_none() {
            out.push(format!(
                "{}: {} has no section in tasks.md (add `## {}: {}` with its subtasks)",
                f.id,
                file_name(f),
                f.id,
                f.title().unwrap_or_else(|| "Title".into())
            ));
        }
        out.extend(frontmatter(f));
    }
    out
}

fn file_name(f: &WpFile) -> String {
    format!(
        "tasks/{}",
        f.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    )
}

/// `(line, message)` for every near-miss in tasks.md, in line order.
pub fn tasks_md(text: &str, doc: &TasksDoc) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut owner: Vec<Option<&str>> = vec![None; lines.len()];
    for s in &doc.sections {
        for o in owner
            .iter_mut()
            .take(s.end_line.min(lines.len()))
            .skip(s.line)
        {
            *o = Some(s.wp_id.as_str());
        }
    }
    let mut out = Vec::new();
    let mut in_fence = false;
    for (i, l) in lines.iter().enumerate() {
        let n = i + 1;
        if l.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if wp_heading_like_re().is_match(l) && !parse::wp_heading_re().is_match(l) {
            out.push((
                n,
                format!(
                    "`{}` is not read as a work package heading; write `## WP01: Title` (two #, then `WP` and two or more digits)",
                    l.trim()
                ),
            ));
            continue;
        }
        let is_subtask = parse::subtask_re().is_match(l);
        if !is_subtask && subtask_like_re().is_match(l) {
            out.push((
                n,
                format!(
                    "`{}` is not read as a subtask; write {SUBTASK_FORM}",
                    l.trim()
                ),
            ));
            continue;
        }
        let Some(wp) = owner[i] else {
            if is_subtask {
                out.push((
                    n,
                    "this subtask is outside every WP section (only `### Dependencies` and `### Subtasks` headings stay inside one); move it under its `## WPxx:` heading".into(),
                ));
            }
            continue;
        };
        if !is_subtask && checkbox_re().is_match(l) {
            out.push((
                n,
                format!(
                    "{wp}: checkbox without a subtask id; accept requires every checkbox ticked, so write {SUBTASK_FORM} or drop the checkbox"
                ),
            ));
            continue;
        }
        if is_subtask || l.trim_start().starts_with('#') {
            continue;
        }
        let Some(c) = label_re().captures(l) else {
            continue;
        };
        let (label, value) = (c[1].trim(), &c[2]);
        if req_label_re().is_match(label)
            && parse::req_token_re().is_match(value)
            && !parse::refs_line_re().is_match(l)
        {
            out.push((
                n,
                format!("{wp}: `{label}:` is not read; write {REFS_FORM}"),
            ));
            continue;
        }
        if dep_label_re().is_match(label)
            && parse::wp_token_re().is_match(value)
            && !parse::deps_line_re().is_match(l)
        {
            let prose: Vec<&str> = parse::depends_on_re()
                .captures_iter(l)
                .flat_map(|c| {
                    parse::wp_token_re()
                        .find_iter(c.get(1).map_or("", |m| m.as_str()))
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                })
                .collect();
            let all_read = parse::wp_token_re()
                .find_iter(value)
                .all(|m| prose.contains(&m.as_str()));
            if !all_read {
                out.push((
                    n,
                    format!("{wp}: `{label}:` is not read; write {DEPS_FORM}"),
                ));
            }
        }
    }
    // A `### Requirement Refs` heading ends the section: its list is never read.
    for s in &doc.sections {
        if let Some(l) = lines.get(s.end_line) {
            if req_heading_re().is_match(l) {
                out.push((
                    s.end_line + 1,
                    format!(
                        "{}: the `{}` heading ends the WP section, so the list under it is not read; write {REFS_FORM}",
                        s.wp_id,
                        l.trim()
                    ),
                ));
            }
        }
    }
    out.sort_by_key(|(n, _)| *n);
    out
}

/// Near-misses in one WP file's frontmatter.
pub fn frontmatter(f: &WpFile) -> Vec<String> {
    let mut out = Vec::new();
    let name = file_name(f);
    for (k, _) in &f.frontmatter {
        let Some(k) = k.as_str() else { continue };
        if let Some((_, good)) = KEY_NEAR_MISSES.iter().find(|(bad, _)| *bad == k) {
            if !f.frontmatter.contains_key(*good) {
                out.push(format!(
                    "{}: {name}: frontmatter key `{k}` is not read; write `{good}:`",
                    f.id
                ));
            }
        }
    }
    match f.get("work_package_id") {
        None => out.push(format!(
            "{}: {name}: frontmatter has no `work_package_id`; write `work_package_id: {}`",
            f.id, f.id
        )),
        Some(v) => {
            let declared = match v {
                Value::String(s) => s.clone(),
                other => serde_yaml::to_string(other)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            };
            if declared != f.id {
                out.push(format!(
                    "{}: {name}: `work_package_id: {declared}` disagrees with the file name; the file name wins, write `work_package_id: {}`",
                    f.id, f.id
                ));
            }
        }
    }
    if let Some(mode) = f.execution_mode() {
        if mode != super::ownership::CODE && mode != super::ownership::PLANNING {
            out.push(format!(
                "{}: {name}: `execution_mode: {mode}` is not a mode; write `execution_mode: code_change` or `execution_mode: planning_artifact`",
                f.id
            ));
        }
    }
    for key in [
        "dependencies",
        "owned_files",
        "requirement_refs",
        "subtasks",
    ] {
        if let Some(Value::Mapping(_)) = f.get(key) {
            out.push(format!(
                "{}: {name}: `{key}` is a mapping; write it as a YAML list (`{key}: [a, b]` or `- a` lines)",
                f.id
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The case-insensitive near-miss patterns match as their `(?i)` forms do.
    #[test]
    fn case_insensitive_patterns_match_as_unicode_case_insensitive_regexes() {
        for re in [
            req_label_re(),
            dep_label_re(),
            wp_heading_like_re(),
            req_heading_re(),
        ] {
            parse::assert_folds_as_case_insensitive(re);
        }
    }

    fn lint(text: &str) -> Vec<(usize, String)> {
        tasks_md(text, &parse::parse(text))
    }

    #[test]
    fn accepted_forms_are_quiet() {
        let text = "# Tasks\n\n## WP01: A\n\n**Requirement Refs**: FR-001\n**Dependencies**: none\n\n### Subtasks\n- [ ] T001 Do it\n- [x] T002 Done\n\n## WP02: B\n\nDepends on WP01.\n**Requirements**: FR-002\n\n### Dependencies\n- WP01\n\n## Notes\n\nWP02 needs WP01: it reads its output.\n";
        assert_eq!(lint(text), Vec::<(usize, String)>::new());
    }

    #[test]
    fn near_misses_name_the_accepted_form() {
        let text = "## WP01: A\n**Requirements covered:** FR-001\n**Depends on**: WP02\n- T001 no box\n- [ ] write tests\n#### WP03 deep\n## WP02: B\n### Requirement Refs\n- FR-002\n- [ ] T009 stray\n";
        let got = lint(text);
        let lines: Vec<usize> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 8, 10], "{got:#?}");
        assert!(got[0].1.contains("`Requirements covered:` is not read"));
        assert!(got[0].1.contains("**Requirement Refs**: FR-001"));
        assert!(got[1].1.contains("**Dependencies**: WP01"));
        assert!(got[2].1.contains("- [ ] T001 description"));
        assert!(got[3].1.contains("checkbox without a subtask id"));
        assert!(got[4].1.contains("## WP01: Title"));
        assert!(got[5].1.contains("heading ends the WP section"));
        assert!(got[6].1.contains("outside every WP section"));
    }

    /// Every form the tasks.md format document lists as "not read" is a warning
    /// here: the prompt and the lint cannot drift apart.
    #[test]
    #[allow(clippy::string_slice)] // test: offsets find() returned in the ASCII prompt text
    fn the_forms_the_prompt_calls_unread_are_warnings() {
        let doc = crate::templates::format("tasks").unwrap();
        let spans = |marker: &str| -> Vec<String> {
            let start = doc.find(marker).unwrap();
            let para = &doc[start..];
            let para = &para[..para.find("\n\n").unwrap_or(para.len())];
            let para = para.replace('\n', " ");
            para.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect()
        };
        let fields = spans("Not read, and reported by finalize");
        assert!(fields.len() >= 6, "{fields:?}");
        for form in &fields {
            let text = if form.starts_with('#') {
                if form.contains("Requirement") {
                    format!("## WP01: A\n{form}\n- FR-001\n")
                } else {
                    format!("{form} A\n")
                }
            } else if form.contains("WP") {
                format!("## WP01: A\n{form}\n")
            } else if dep_label_re().is_match(form) {
                format!("## WP01: A\n{form} WP02\n")
            } else {
                format!("## WP01: A\n{form} FR-001\n")
            };
            assert!(
                !lint(&text).is_empty(),
                "`{form}` gives no warning:\n{text}"
            );
        }
        let subtasks = spans("Not read: `- T001");
        assert_eq!(subtasks.len(), 3, "{subtasks:?}");
        for form in &subtasks {
            let text = format!("## WP01: A\n{}\n", form.replace("...", "x"));
            assert!(!lint(&text).is_empty(), "`{form}` gives no warning");
        }
    }

    #[test]
    fn fenced_examples_are_not_linted() {
        assert!(lint("## WP01: A\n```\n- T001 x\n```\n").is_empty());
    }

    #[test]
    fn frontmatter_near_misses() {
        let f = WpFile::parse(
            Path::new("tasks/WP01-a.md"),
            "---\nwork_package_id: WP02\ndepends_on: [WP03]\nexecution_mode: planning\n---\n",
        )
        .unwrap();
        let w = frontmatter(&f).join("\n");
        assert!(
            w.contains("`depends_on` is not read; write `dependencies:`"),
            "{w}"
        );
        assert!(w.contains("write `work_package_id: WP01`"), "{w}");
        assert!(
            w.contains("`execution_mode: planning` is not a mode"),
            "{w}"
        );
        // A list field written as a mapping is a parse error (WpFile::parse,
        // the trust rule), so it never reaches the near-miss warnings.
        let e = WpFile::parse(
            Path::new("tasks/WP01-a.md"),
            "---\nwork_package_id: WP01\nowned_files:\n  a: b\n---\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("`owned_files` must be a list"),
            "{}",
            e.to_string()
        );
        let ok = WpFile::parse(
            Path::new("tasks/WP01-a.md"),
            "---\nwork_package_id: WP01\ndependencies: []\nexecution_mode: code_change\n---\n",
        )
        .unwrap();
        assert!(frontmatter(&ok).is_empty());
    }
}
