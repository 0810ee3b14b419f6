//! One git configuration file read and written on its own (e.g. a
//! repository's `.git/config`), without the other levels git merges in.

use std::path::Path;

use super::error::Result;

/// A git configuration file opened on its own.
pub struct ConfigFile {
    cfg: git2::Config,
}

impl ConfigFile {
    /// Open (or create on first write) the configuration file at `path`.
    pub fn open(path: &Path) -> Result<ConfigFile> {
        Ok(ConfigFile {
            cfg: git2::Config::open(path)?,
        })
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
