//! The project's configuration files, on the ground floor: where they live and
//! the settings every layer reads (`.kittify/config.yaml`,
//! `.kittify/metadata.yaml`).

use std::path::Path;

/// The project configuration, relative to the project root.
pub const CONFIG_PATH: &str = ".kittify/config.yaml";
/// The project metadata (version, migrations), relative to the project root.
pub const METADATA_PATH: &str = ".kittify/metadata.yaml";

/// `auto_commit` in `.kittify/config.yaml`: `agents.auto_commit`, else a
/// top-level `auto_commit` (where the reference looks). Absent or unreadable:
/// false, spec-kitty's default (nothing commits unless asked).
pub fn auto_commit_enabled(root: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join(CONFIG_PATH)) else {
        return false;
    };
    let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&text) else {
        return false;
    };
    doc.get("agents")
        .and_then(|a| a.get("auto_commit"))
        .or_else(|| doc.get("auto_commit"))
        .and_then(serde_yaml::Value::as_bool)
        .unwrap_or(false)
}
