//! The git merge drivers that let mission state travel through git: their
//! `.gitattributes` lines and their registration in the repository's own
//! configuration (`.git/config`; git never reads drivers from the repository's
//! files, so each clone registers them once).
//!
//! * `status.events.jsonl`: the union of both sides by `event_id`
//!   ([`super::logmerge::merge3`]), the driver the reference names.
//! * `status.json`: derived from the log; merged without conflict
//!   ([`super::logmerge::merge_snapshots`]) and rebuilt by readers when older.
//! * `tasks/WP*.md`: the activity log section is merged by union, the rest of
//!   the file line by line ([`super::wpmerge`]).

use std::path::Path;

use super::error::Result;

/// A merge driver spec-kitty ships.
#[derive(Debug, Clone, Copy)]
pub struct Driver {
    /// The `merge=<name>` attribute value and `merge.<name>.*` config section.
    pub name: &'static str,
    /// `merge.<name>.name`.
    pub label: &'static str,
    /// `merge.<name>.driver`.
    pub command: &'static str,
    /// The `.gitattributes` line.
    pub attributes: &'static str,
}

/// Every driver; the first is the reference's, with its exact strings.
pub const DRIVERS: [Driver; 3] = [
    Driver {
        name: "spec-kitty-event-log",
        label: "Spec Kitty event log union merge",
        command: "spec-kitty merge-driver-event-log %O %A %B",
        attributes: "kitty-specs/**/status.events.jsonl merge=spec-kitty-event-log",
    },
    Driver {
        name: "spec-kitty-status-json",
        label: "Spec Kitty derived status snapshot merge",
        command: "spec-kitty merge-driver-status-json %O %A %B",
        attributes: "kitty-specs/**/status.json merge=spec-kitty-status-json",
    },
    Driver {
        name: "spec-kitty-wp",
        label: "Spec Kitty work package merge (activity log by union)",
        command: "spec-kitty merge-driver-wp %O %A %B",
        attributes: "kitty-specs/**/tasks/WP*.md merge=spec-kitty-wp",
    },
];

/// Register every driver missing from (or different in) the repository's local
/// configuration at `<git_common_dir>/config`. Returns the names registered
/// now (empty when all were already there).
pub fn ensure_registered(git_common_dir: &Path) -> Result<Vec<&'static str>> {
    let path = git_common_dir.join("config");
    let mut cfg = git2::Config::open(&path)?;
    let mut added = Vec::new();
    for d in DRIVERS {
        let mut changed = false;
        for (key, want) in [("name", d.label), ("driver", d.command)] {
            let full = format!("merge.{}.{key}", d.name);
            if cfg.get_string(&full).ok().as_deref() != Some(want) {
                cfg.set_str(&full, want)?;
                changed = true;
            }
        }
        if changed {
            added.push(d.name);
        }
    }
    Ok(added)
}

/// The drivers not registered (or registered differently) in this repository.
pub fn missing(git_common_dir: &Path) -> Vec<&'static str> {
    let Ok(cfg) = git2::Config::open(&git_common_dir.join("config")) else {
        return DRIVERS.iter().map(|d| d.name).collect();
    };
    DRIVERS
        .iter()
        .filter(|d| {
            cfg.get_string(&format!("merge.{}.driver", d.name))
                .ok()
                .as_deref()
                != Some(d.command)
        })
        .map(|d| d.name)
        .collect()
}
