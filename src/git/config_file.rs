//! One git configuration file read and written on its own (e.g. a
//! repository's `.git/config`), without the other levels git merges in.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use super::error::Result;

/// A git configuration file opened on its own.
pub struct ConfigFile {
    cfg: git2::Config,
}

thread_local! {
    /// The repository-level configuration file of the last repository
    /// [`super::Repo::open`] opened on this thread, as that open parsed it:
    /// its path and its level of the repository's configuration. libgit2
    /// checks the file's stat data on every read and parses it again when
    /// it changed, so a read through it sees the file as it is.
    static PARSED: RefCell<Option<(PathBuf, git2::Config)>> = const { RefCell::new(None) };
}

/// Remember the repository-level configuration `repo` parsed when it was
/// opened (the file `<common dir>/config`), for [`ConfigFile::open_for_reading`].
pub(in crate::git) fn remember_parsed(repo: &git2::Repository) {
    let Ok(local) = repo
        .config()
        .and_then(|c| c.open_level(git2::ConfigLevel::Local))
    else {
        return;
    };
    let path = repo.commondir().join("config");
    PARSED.with(|p| *p.borrow_mut() = Some((path, local)));
}

impl ConfigFile {
    /// Open (or create on first write) the configuration file at `path`.
    pub fn open(path: &Path) -> Result<ConfigFile> {
        Ok(ConfigFile {
            cfg: git2::Config::open(path)?,
        })
    }

    /// Open the configuration file at `path` to read it: when it is the
    /// repository-level file of a repository this thread opened, the parse
    /// that open made (no second read and parse of the same file; libgit2
    /// parses it again if it changed since), else as [`ConfigFile::open`].
    pub fn open_for_reading(path: &Path) -> Result<ConfigFile> {
        let parsed = PARSED.with(|p| {
            p.borrow()
                .as_ref()
                .filter(|(at, _)| at == path)
                .and_then(|(_, cfg)| cfg.open_level(git2::ConfigLevel::Local).ok())
        });
        match parsed {
            Some(cfg) => Ok(ConfigFile { cfg }),
            None => ConfigFile::open(path),
        }
    }

    /// The string value of `key`, None when unset or unreadable.
    pub fn get(&self, key: &str) -> Option<String> {
        self.cfg.get_string(key).ok()
    }

    /// Set `key` to `value` in the file.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        Ok(self.cfg.set_str(key, value)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_through_the_open_repository_sees_the_file_as_it_is_now() {
        let tmp = tempfile::tempdir().unwrap();
        git2::Repository::init(tmp.path()).unwrap();
        let path = std::fs::canonicalize(tmp.path())
            .unwrap()
            .join(".git")
            .join("config");
        ConfigFile::open(&path)
            .unwrap()
            .set("merge.x.driver", "one")
            .unwrap();
        let repo = crate::git::Repo::open(tmp.path()).unwrap();
        let remembered = PARSED.with(|p| p.borrow().as_ref().map(|(at, _)| at.clone()));
        assert_eq!(
            remembered
                .as_deref()
                .map(std::fs::canonicalize)
                .map(Result::unwrap),
            Some(path.clone()),
            "the open remembered the repository's own config file"
        );
        let at = remembered.unwrap();
        assert_eq!(
            ConfigFile::open_for_reading(&at)
                .unwrap()
                .get("merge.x.driver")
                .as_deref(),
            Some("one")
        );
        // Another writer changes the file (a new inode, as git writes it):
        // the remembered parse is not trusted over it.
        ConfigFile::open(&path)
            .unwrap()
            .set("merge.x.driver", "two-and-longer")
            .unwrap();
        assert_eq!(
            ConfigFile::open_for_reading(&at)
                .unwrap()
                .get("merge.x.driver")
                .as_deref(),
            Some("two-and-longer")
        );
        // Another file is read on its own.
        let other = tmp.path().join("other.config");
        std::fs::write(&other, "[merge \"x\"]\n\tdriver = three\n").unwrap();
        assert_eq!(
            ConfigFile::open_for_reading(&other)
                .unwrap()
                .get("merge.x.driver")
                .as_deref(),
            Some("three")
        );
        drop(repo);
    }
}
