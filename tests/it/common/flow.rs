//! The work-package commands the tests drive again and again (move, claim,
//! tick, hand in, review, approve, `next`), built in one place so each test
//! says what it does in a line instead of a ten-word argument vector.
//!
//! Commands that take a snapshot stay in their own test module (insta names a
//! snapshot after the module that asserts it); they build their arguments with
//! [`move_task`].

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::TestEnv;

/// `agent tasks move-task WP --to TO`, then `extra`, then `--mission MISSION`:
/// the argument list every move in the tests is built from.
pub fn move_task<'a>(
    wp: &'a str,
    to: &'a str,
    extra: &[&'a str],
    mission: &'a str,
) -> Vec<&'a str> {
    let mut args = vec!["agent", "tasks", "move-task", wp, "--to", to];
    args.extend_from_slice(extra);
    args.extend(["--mission", mission]);
    args
}

/// `agent action VERB WP --mission demo --agent AGENT`: the hand-out (implement
/// or review) most tests run on their demo mission.
pub fn action<'a>(verb: &'a str, wp: &'a str, agent: &'a str) -> [&'a str; 8] {
    [
        "agent",
        "action",
        verb,
        wp,
        "--mission",
        "demo",
        "--agent",
        agent,
    ]
}

/// [`action`] with `--json`.
pub fn action_json<'a>(verb: &'a str, wp: &'a str, agent: &'a str) -> [&'a str; 9] {
    let [a, b, c, d, e, f, g, h] = action(verb, wp, agent);
    [a, b, c, d, e, f, g, h, "--json"]
}

/// One mission of one project, and the commands tests run on it. Every
/// command gets `--mission MISSION`; `root` is where it runs.
pub struct Flow<'a> {
    pub env: &'a TestEnv,
    pub root: &'a Path,
    pub mission: &'a str,
}

impl<'a> Flow<'a> {
    pub fn new(env: &'a TestEnv, root: &'a Path, mission: &'a str) -> Flow<'a> {
        Flow { env, root, mission }
    }

    fn args<'b>(&'b self, args: &[&'b str]) -> Vec<&'b str> {
        let mut all = args.to_vec();
        all.extend(["--mission", self.mission]);
        all
    }

    /// `spec-kitty ARGS --mission M`, exit code unchecked.
    pub fn run(&self, args: &[&str]) -> Output {
        self.env.run(self.root, &self.args(args))
    }

    /// `spec-kitty ARGS --mission M`; it must exit 0. Returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        self.env.ok(self.root, &self.args(args))
    }

    /// `spec-kitty ARGS --mission M --json`; it must exit 0 with one document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = self.args(args);
        all.push("--json");
        self.env.json(self.root, &all)
    }

    /// `move-task WP --to TO EXTRA`, exit code unchecked.
    pub fn move_task(&self, wp: &str, to: &str, extra: &[&str]) -> Output {
        self.env
            .run(self.root, &move_task(wp, to, extra, self.mission))
    }

    /// `move-task WP --to TO --agent AGENT --note "test move"`, exit code
    /// unchecked.
    pub fn mv(&self, wp: &str, to: &str, agent: &str) -> Output {
        self.move_task(wp, to, &["--agent", agent, "--note", "test move"])
    }

    /// [`Flow::mv`], which must succeed.
    pub fn moved(&self, wp: &str, to: &str, agent: &str) {
        let out = self.mv(wp, to, agent);
        assert!(
            out.status.success(),
            "move {wp} to {to} by {agent}: {}",
            super::stderr(&out)
        );
    }

    /// `agent action implement WP --agent AGENT --json`.
    pub fn implement(&self, wp: &str, agent: &str) -> Value {
        self.json(&["agent", "action", "implement", wp, "--agent", agent])
    }

    /// `agent action review WP --agent REVIEWER --json`.
    pub fn review(&self, wp: &str, reviewer: &str) -> Value {
        self.json(&["agent", "action", "review", wp, "--agent", reviewer])
    }

    /// `agent tasks mark-status SUBTASK --status done`.
    pub fn tick(&self, subtask: &str) {
        self.ok(&["agent", "tasks", "mark-status", subtask, "--status", "done"]);
    }

    /// `move-task WP --to for_review --agent AGENT --json` (the hand-in).
    pub fn hand_in(&self, wp: &str, agent: &str) -> Value {
        self.json(&[
            "agent",
            "tasks",
            "move-task",
            wp,
            "--to",
            "for_review",
            "--agent",
            agent,
        ])
    }

    /// `move-task WP --to approved --agent REVIEWER --note "looks right"`
    /// (the verdict), which must succeed.
    pub fn approve(&self, wp: &str, reviewer: &str) {
        let extra = ["--agent", reviewer, "--note", "looks right"];
        self.env
            .ok(self.root, &move_task(wp, "approved", &extra, self.mission));
    }

    /// Hand a WP in the way the implement prompt says: tick its subtask
    /// ([`subtask_of`]), then move it to for_review with a note.
    pub fn submit(&self, wp: &str, agent: &str) {
        self.tick(&subtask_of(wp));
        let extra = ["--agent", agent, "--note", "ready"];
        self.env.ok(
            self.root,
            &move_task(wp, "for_review", &extra, self.mission),
        );
    }

    /// A WP codex built, handed in ([`Flow::submit`]), reviewed and approved
    /// by claude.
    pub fn finish(&self, wp: &str) {
        self.submit(wp, "codex");
        self.review(wp, "claude");
        self.approve(wp, "claude");
    }

    /// `next --agent AGENT --json` plus `extra`.
    pub fn next(&self, agent: &str, extra: &[&str]) -> Value {
        let mut args = vec!["next", "--agent", agent];
        args.extend_from_slice(extra);
        let v = self.json(&args);
        assert!(v.is_object(), "{v}");
        v
    }
}

/// The single subtask [`super::write_mission`] gives a WP: `T001` for `WP01`.
pub fn subtask_of(wp: &str) -> String {
    format!("T0{}", &wp[2..])
}
