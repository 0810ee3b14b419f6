//! `charter interview`: the answers given on the command line, the questions
//! asked of a person (through the caller's `ask`), the selections that
//! override them, saved to answers.yaml.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::charter::{self, Answers, Question};
use crate::error::{Error, Result};
use crate::project::Project;

/// What `charter interview` is given.
#[derive(Debug, Clone, Copy)]
pub struct InterviewRequest<'a> {
    pub mission: &'a str,
    pub profile: &'a str,
    /// `KEY=VALUE` answers.
    pub answers: &'a [String],
    /// Comma-separated id lists that replace the answers' selections.
    pub selected_paradigms: Option<&'a str>,
    pub selected_directives: Option<&'a str>,
    pub available_tools: Option<&'a str>,
}

/// The saved interview.
#[derive(Debug, Clone)]
pub struct Interviewed {
    pub answers: Answers,
    /// answers.yaml.
    pub answers_file: PathBuf,
}

/// Run the interview: `ask` is called for each question without a given
/// answer (None keeps the default); the answers are saved.
pub fn interview(
    project: &Project,
    req: &InterviewRequest<'_>,
    ask: impl FnMut(&Question, &str) -> Option<String>,
) -> Result<Interviewed> {
    let mut given = BTreeMap::new();
    for kv in req.answers {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            Error::usage(format!("--answer {kv:?} is not KEY=VALUE"))
                .with_hint("e.g. --answer project_intent=\"A fast wc clone\"")
        })?;
        given.insert(k.trim().to_string(), v.to_string());
    }
    let mut answers = charter::interview(project, req.mission, req.profile, &given, ask)?;
    charter::apply_overrides(
        &mut answers,
        charter::csv(req.selected_paradigms),
        charter::csv(req.selected_directives),
        charter::csv(req.available_tools),
    );
    let answers_file = charter::save_answers(project, &answers)?;
    Ok(Interviewed {
        answers,
        answers_file,
    })
}
