//! A lane worktree folder left by `agent action implement` killed before git
//! registered the worktree: rebuilt when it is safely ours (the creation
//! marker is there and the folder holds at most git's pointer file), refused
//! with the fix otherwise, and nothing but what git wrote is ever removed.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

struct Fx {
    root: PathBuf,
    slug: String,
    /// `.worktrees/<slug>-lane-a`.
    wt: PathBuf,
    /// The marker implement keeps beside the lane's lock while it creates the worktree.
    marker: PathBuf,
    /// git's registration directory for the worktree.
    registration: PathBuf,
    base_tree: String,
}

/// One code WP (lane-a), finalized and committed; no worktree yet.
fn fixture(env: &TestEnv) -> Fx {
    let root = env.project("p");
    write(&root.join("src/app.txt"), "app\n");
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "app"]);
    let m = env.create_mission(&root, "demo");
    write_mission(
        &m.dir,
        &m.slug,
        &[WpDef::code("WP01", "Core", "src/core/**", &[])],
    );
    env.ok(
        &root,
        &["agent", "mission", "finalize-tasks", "--mission", &m.slug],
    );
    env.git(&root, &["add", "-A"]);
    env.git(&root, &["commit", "-qm", "mission"]);
    let name = format!("{}-lane-a", m.slug);
    Fx {
        wt: root.join(".worktrees").join(&name),
        marker: root
            .join(".git/spec-kitty-locks")
            .join(format!("worktree-{name}.creating")),
        registration: root.join(".git/worktrees").join(&name),
        base_tree: env.git(&root, &["rev-parse", "HEAD^{tree}"]),
        root,
        slug: m.slug,
    }
}

impl Fx {
    /// What a kill inside `git worktree add` leaves: the marker, the folder,
    /// and (with `pointer`) the `.git` pointer file and a registration
    /// without HEAD.
    fn cut_short(&self, pointer: bool) {
        write(&self.marker, &self.wt.display().to_string());
        fs::create_dir_all(&self.wt).unwrap();
        if pointer {
            write(
                &self.wt.join(".git"),
                &format!("gitdir: {}\n", self.registration.display()),
            );
            write(&self.registration.join("commondir"), "../..\n");
            write(
                &self.registration.join("gitdir"),
                &format!("{}\n", self.wt.join(".git").display()),
            );
        }
    }

    fn implement(&self, env: &TestEnv) -> std::process::Output {
        env.run(
            &self.root,
            &crate::common::implement_args("WP01", &self.slug, "a"),
        )
    }

    /// implement succeeded with a fresh, clean worktree equal to the base.
    fn assert_rebuilt(&self, env: &TestEnv, o: &std::process::Output) {
        assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["worktree_created"], true, "{}", v["workspace"]);
        assert_eq!(
            Path::new(v["workspace"].as_str().unwrap()),
            self.wt.as_path()
        );
        assert_eq!(env.git(&self.wt, &["status", "--porcelain"]), "");
        assert_eq!(
            env.git(&self.wt, &["rev-parse", "HEAD^{tree}"]),
            self.base_tree
        );
        assert!(self.wt.join("src/app.txt").is_file());
        assert!(!self.marker.exists(), "the marker is gone");
        let list = env.git(&self.root, &["worktree", "list", "--porcelain"]);
        assert_eq!(list.matches("worktree ").count(), 2, "{list}");
    }

    /// implement refused with the fix and claimed nothing.
    fn assert_refused(&self, env: &TestEnv, o: &std::process::Output) {
        assert_eq!(o.status.code(), Some(1), "{}{}", stdout(o), stderr(o));
        let e: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(
            e["hint"]
                .as_str()
                .is_some_and(|h| h.contains("git worktree prune")),
            "{e}"
        );
        let v = env.json(
            &self.root,
            &[
                "agent",
                "tasks",
                "status",
                "--mission",
                &self.slug,
                "--json",
            ],
        );
        assert_eq!(v["work_packages"][0]["lane"], "planned", "{v}");
    }
}

#[test]
fn an_empty_folder_left_before_registration_is_rebuilt() {
    let env = TestEnv::new();
    let fx = fixture(&env);
    fx.cut_short(false);
    let o = fx.implement(&env);
    fx.assert_rebuilt(&env, &o);
}

#[test]
fn a_folder_with_only_gits_pointer_and_a_half_registration_is_rebuilt() {
    let env = TestEnv::new();
    let fx = fixture(&env);
    fx.cut_short(true);
    let o = fx.implement(&env);
    fx.assert_rebuilt(&env, &o);
}

/// Anything but what git writes first makes the folder not ours: refused with
/// the fix, nothing removed.
#[test]
fn a_cut_short_folder_holding_anything_else_is_refused_and_kept() {
    let env = TestEnv::new();
    let fx = fixture(&env);
    fx.cut_short(true);
    write(&fx.wt.join("notes.md"), "my notes\n");
    let o = fx.implement(&env);
    fx.assert_refused(&env, &o);
    assert_eq!(
        fs::read_to_string(fx.wt.join("notes.md")).unwrap(),
        "my notes\n"
    );
    assert!(fx.wt.join(".git").is_file());
    assert!(fx.registration.join("gitdir").is_file());

    // A registration holding more than git's two pointers: also not ours.
    fs::remove_file(fx.wt.join("notes.md")).unwrap();
    write(&fx.registration.join("index"), "something\n");
    let o = fx.implement(&env);
    fx.assert_refused(&env, &o);
    assert!(fx.wt.join(".git").is_file());
    assert!(fx.registration.join("index").is_file());

    // Once it is only what git wrote, it is rebuilt.
    fs::remove_file(fx.registration.join("index")).unwrap();
    let o = fx.implement(&env);
    fx.assert_rebuilt(&env, &o);
}

/// Without the marker (our creation was never cut short) or through a link,
/// even an empty folder is somebody else's: refused, left in place.
#[test]
fn without_the_marker_or_through_a_link_nothing_is_removed() {
    let env = TestEnv::new();
    let fx = fixture(&env);
    fs::create_dir_all(&fx.wt).unwrap();
    let o = fx.implement(&env);
    fx.assert_refused(&env, &o);
    assert!(fx.wt.is_dir());
    fs::remove_dir(&fx.wt).unwrap();

    // The folder is a link to an empty directory outside the project.
    let outside = env.tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fx.cut_short(false);
    fs::remove_dir(&fx.wt).unwrap();
    std::os::unix::fs::symlink(&outside, &fx.wt).unwrap();
    let o = fx.implement(&env);
    // Creation is confined like removal: the link is refused before anything.
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let msg = e["error"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with("refusing to create") && msg.contains("symbolic link"),
        "{e}"
    );
    let v = env.json(
        &fx.root,
        &["agent", "tasks", "status", "--mission", &fx.slug, "--json"],
    );
    assert_eq!(v["work_packages"][0]["lane"], "planned", "{v}");
    assert!(outside.is_dir(), "the link's target is untouched");
    assert!(fs::symlink_metadata(&fx.wt)
        .unwrap()
        .file_type()
        .is_symlink());
}
