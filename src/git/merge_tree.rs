//! Merges, replays and commits computed on commit objects, without moving a
//! ref or touching a file: what `merge` (and `accept --test`) build a mission's
//! landing from. [`Repo::in_memory`] gives a second handle on the repository
//! whose new objects stay in memory until [`PendingObjects::write`] writes
//! them to the repository as one pack, so a conflict or a refused
//! precondition leaves the object database exactly as it was.

use std::io::Write;

use git2::{Repository, Signature, Sort, Time};

use super::error::Result;
use super::{GitError, Oid, Repo};

/// Who commits, and when: a name, an email and one instant, so every commit
/// of one merge carries the same committer time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committer {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    seconds: i64,
    /// The local offset from UTC, in minutes.
    offset_minutes: i32,
}

impl Committer {
    /// `name <email>`, now (in the local time zone).
    pub fn now(name: &str, email: &str) -> Result<Committer> {
        let sig = Signature::now(name, email)?;
        // As git stores them (libgit2 trims the surrounding whitespace).
        Ok(Committer {
            name: sig.name().unwrap_or(name).to_string(),
            email: sig.email().unwrap_or(email).to_string(),
            seconds: sig.when().seconds(),
            offset_minutes: sig.when().offset_minutes(),
        })
    }

    fn signature(&self) -> Result<Signature<'static>> {
        Ok(Signature::new(
            &self.name,
            &self.email,
            &Time::new(self.seconds, self.offset_minutes),
        )?)
    }
}

/// Where a replay stopped, or what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replayed {
    /// Every commit applied (or was dropped: it changed nothing any more).
    Done {
        tip: Oid,
        replayed: usize,
        dropped: usize,
    },
    /// `commit` (`<short id> <summary>`) did not apply: these files conflict.
    Conflict { commit: String, files: Vec<String> },
    /// A commit without a parent: there is nothing to replay it against.
    RootCommit(Oid),
}

/// The objects a [`Repo::in_memory`] handle created, not yet in the repository.
pub struct PendingObjects<'a> {
    sim: &'a Repository,
    mempack: git2::Mempack<'a>,
    real: &'a Repo,
}

impl PendingObjects<'_> {
    /// Write every object created in memory to the repository, as one pack.
    /// The outer error is git's; the inner one a failed write of the pack.
    pub fn write(&self) -> Result<std::result::Result<(), std::io::Error>> {
        let mut buf = git2::Buf::new();
        self.mempack.dump(self.sim, &mut buf)?;
        let real = self.real.git.odb()?;
        let mut writer = real.packwriter()?;
        if let Err(e) = writer.write_all(&buf) {
            return Ok(Err(e));
        }
        writer.commit()?;
        Ok(Ok(()))
    }
}

impl Repo {
    /// The committer git would use (see [`Repo::identity`]); None when
    /// user.name or user.email is not set.
    pub fn committer(&self) -> Result<Option<Committer>> {
        match self.identity()? {
            (Some(name), Some(email)) => Ok(Some(Committer::now(&name, &email)?)),
            _ => Ok(None),
        }
    }

    /// Run `f` on a second handle of this repository whose new objects go to
    /// memory (reads see the repository's objects too; the handle must be a
    /// second one, since every object written through a handle with the
    /// in-memory backend stays in memory). `f` may write them to
    /// the repository through the [`PendingObjects`] it is given; otherwise
    /// they are dropped with the handle.
    pub fn in_memory<T, E: From<GitError>>(
        &self,
        f: impl FnOnce(&Repo, &PendingObjects<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let at = self.git.workdir().unwrap_or_else(|| self.git.path());
        // A second handle on the same repository, not a second repository a
        // command reads: a step of its own, so traces that count `git-open`
        // count the repositories a command opens.
        crate::env::crash_step("git-in-memory", Some(at));
        let sim = Repo {
            git: Repository::open(at).map_err(GitError::from)?,
        };
        let odb = sim.git.odb().map_err(GitError::from)?;
        let mempack = odb.add_new_mempack_backend(1000).map_err(GitError::from)?;
        let pending = PendingObjects {
            sim: &sim.git,
            mempack,
            real: self,
        };
        f(&sim, &pending)
    }

    /// The tree of merging commit `theirs` into commit `ours`, or the
    /// conflicting paths (sorted, once each).
    pub fn merge_commits(
        &self,
        ours: Oid,
        theirs: Oid,
    ) -> Result<std::result::Result<Oid, Vec<String>>> {
        let repo = &self.git;
        let ours = repo.find_commit(ours)?;
        let theirs = repo.find_commit(theirs)?;
        let mut index = repo.merge_commits(&ours, &theirs, None)?;
        if index.has_conflicts() {
            return Ok(Err(super::conflict_paths(&index)?));
        }
        Ok(Ok(index.write_tree_to(repo)?))
    }

    /// A new commit of `tree` with `parents` (in order), authored and
    /// committed by `who`; no ref moves.
    pub fn commit_tree(
        &self,
        tree: Oid,
        parents: &[Oid],
        message: &str,
        who: &Committer,
    ) -> Result<Oid> {
        let repo = &self.git;
        let sig = who.signature()?;
        let tree = repo.find_tree(tree)?;
        let parents = parents
            .iter()
            .map(|p| repo.find_commit(*p))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        Ok(repo.commit(None, &sig, &sig, message, &tree, &refs)?)
    }

    /// The tree a commit holds.
    pub fn tree_of(&self, commit: Oid) -> Result<Oid> {
        Ok(self.git.find_commit(commit)?.tree_id())
    }

    /// The first line of a commit's message (None when it is not UTF-8).
    pub fn summary(&self, commit: Oid) -> Result<Option<String>> {
        Ok(self.git.find_commit(commit)?.summary().map(str::to_string))
    }

    /// A commit's first parent; None for a root commit.
    pub fn first_parent(&self, commit: Oid) -> Result<Option<Oid>> {
        Ok(self.git.find_commit(commit)?.parent_id(0).ok())
    }

    /// Commits reachable from `tip` and from none of `hide`.
    pub fn count_new(&self, tip: Oid, hide: &[Oid]) -> Result<usize> {
        let mut walk = self.git.revwalk()?;
        walk.push(tip)?;
        for h in hide {
            walk.hide(*h)?;
        }
        let mut n = 0;
        for oid in walk {
            oid?;
            n += 1;
        }
        Ok(n)
    }

    /// Replay the commits of `tip` that none of `hide` contains onto `onto`,
    /// oldest first, one new commit each (author kept, committer `who`). A
    /// merge commit is replayed against its first parent; a commit that
    /// changes nothing any more is dropped. Every commit made is pushed to
    /// `created`.
    pub fn replay(
        &self,
        onto: Oid,
        tip: Oid,
        hide: &[Oid],
        who: &Committer,
        created: &mut Vec<Oid>,
    ) -> Result<Replayed> {
        let repo = &self.git;
        let sig = who.signature()?;
        let mut walk = repo.revwalk()?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
        walk.push(tip)?;
        for h in hide {
            walk.hide(*h)?;
        }
        let mut todo = Vec::new();
        for oid in walk {
            todo.push(oid?);
        }
        let mut current = onto;
        let (mut replayed, mut dropped) = (0, 0);
        for oid in todo {
            let commit = repo.find_commit(oid)?;
            let base = repo.find_commit(current)?;
            let mainline = if commit.parent_count() > 1 { 1 } else { 0 };
            if commit.parent_count() == 0 {
                return Ok(Replayed::RootCommit(oid));
            }
            let mut index = repo.cherrypick_commit(&commit, &base, mainline, None)?;
            if index.has_conflicts() {
                let summary = commit.summary().unwrap_or("").to_string();
                return Ok(Replayed::Conflict {
                    commit: format!("{} {summary}", super::short(oid)),
                    files: super::conflict_paths(&index)?,
                });
            }
            let tree = index.write_tree_to(repo)?;
            if tree == base.tree_id() {
                dropped += 1;
                continue;
            }
            let tree = repo.find_tree(tree)?;
            let message = String::from_utf8_lossy(commit.message_raw_bytes()).into_owned();
            let id = repo.commit(None, &commit.author(), &sig, &message, &tree, &[&base])?;
            created.push(id);
            current = id;
            replayed += 1;
        }
        Ok(Replayed::Done {
            tip: current,
            replayed,
            dropped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with a base commit and `(name, file, text)` branches off it.
    fn repo_with(branches: &[(&str, &str, &str)]) -> (tempfile::TempDir, Repo, Oid) {
        let tmp = tempfile::tempdir().unwrap();
        let git = Repository::init(tmp.path()).unwrap();
        let sig = Signature::now("t", "t@example.com").unwrap();
        let commit = |parent: Option<Oid>, file: &str, text: &str| {
            let mut tb = match parent {
                Some(p) => git
                    .treebuilder(Some(&git.find_commit(p).unwrap().tree().unwrap()))
                    .unwrap(),
                None => git.treebuilder(None).unwrap(),
            };
            let blob = git.blob(text.as_bytes()).unwrap();
            tb.insert(file, blob, 0o100644).unwrap();
            let tree = git.find_tree(tb.write().unwrap()).unwrap();
            let parents: Vec<git2::Commit<'_>> = parent
                .map(|p| git.find_commit(p).unwrap())
                .into_iter()
                .collect();
            let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
            git.commit(None, &sig, &sig, file, &tree, &refs).unwrap()
        };
        let base = commit(None, "a.txt", "1\n");
        git.branch("base", &git.find_commit(base).unwrap(), false)
            .unwrap();
        for (name, file, text) in branches {
            let tip = commit(Some(base), file, text);
            git.branch(name, &git.find_commit(tip).unwrap(), false)
                .unwrap();
        }
        drop(git);
        let repo = Repo::open(tmp.path()).unwrap();
        (tmp, repo, base)
    }

    #[test]
    fn a_conflict_names_its_files_and_a_clean_merge_is_written_only_when_asked() {
        let (_tmp, repo, base) = repo_with(&[
            ("x", "a.txt", "2\n"),
            ("y", "a.txt", "3\n"),
            ("z", "b.txt", "b\n"),
        ]);
        let [x, y, z] = ["x", "y", "z"].map(|b| repo.branch_tip(b).unwrap());
        let who = Committer::now("m", "m@example.com").unwrap();
        let made = |write: bool| {
            repo.in_memory(|sim, pending| -> Result<Oid> {
                assert_eq!(sim.merge_commits(x, y)?, Err(vec!["a.txt".to_string()]));
                let tree = sim.merge_commits(x, z)?.unwrap();
                let id = sim.commit_tree(tree, &[x, z], "Merge z\n\nbody\n", &who)?;
                assert_eq!(sim.summary(id)?.as_deref(), Some("Merge z"));
                assert_eq!(sim.first_parent(id)?, Some(x));
                assert_eq!(sim.changed_paths(base, id)?, ["a.txt", "b.txt"]);
                assert_eq!(sim.count_new(id, &[x])?, 2);
                if write {
                    pending.write()?.unwrap();
                }
                Ok(id)
            })
            .unwrap()
        };
        let kept_in_memory = made(false);
        assert!(repo.summary(kept_in_memory).is_err(), "nothing was written");
        let written = made(true);
        assert_eq!(written, kept_in_memory, "one committer instant, one id");
        assert_eq!(repo.summary(written).unwrap().as_deref(), Some("Merge z"));
        assert!(repo.contains(written, z).unwrap());
    }

    #[test]
    fn a_replay_drops_what_is_applied_and_stops_at_a_conflict_or_a_root() {
        let (_tmp, repo, base) = repo_with(&[
            ("x", "a.txt", "2\n"),
            ("y", "a.txt", "3\n"),
            ("z", "b.txt", "b\n"),
        ]);
        let [x, y, z] = ["x", "y", "z"].map(|b| repo.branch_tip(b).unwrap());
        let who = Committer::now("m", "m@example.com").unwrap();
        repo.in_memory(|sim, _| -> Result<()> {
            let mut created = Vec::new();
            let Replayed::Done {
                tip,
                replayed,
                dropped,
            } = sim.replay(x, z, &[base], &who, &mut created)?
            else {
                panic!("z replays onto x")
            };
            assert_eq!((replayed, dropped, created.as_slice()), (1, 0, &[tip][..]));
            assert_eq!(sim.first_parent(tip)?, Some(x));
            // Replaying x onto itself applies nothing new: dropped.
            let again = sim.replay(x, x, &[base], &who, &mut created)?;
            assert_eq!(
                again,
                Replayed::Done {
                    tip: x,
                    replayed: 0,
                    dropped: 1
                }
            );
            match sim.replay(x, y, &[base], &who, &mut created)? {
                Replayed::Conflict { commit, files } => {
                    assert!(commit.starts_with(&super::super::short(y)), "{commit}");
                    assert_eq!(files, ["a.txt"]);
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(
                sim.replay(x, base, &[], &who, &mut created)?,
                Replayed::RootCommit(base)
            );
            Ok(())
        })
        .unwrap();
    }
}
