//! `mission-type switch` (and `mission switch`): a mission's type is chosen
//! when the mission is created and recorded in its meta.json; changing it
//! afterwards would leave its artifacts shaped for the old type. The
//! reference removed the command in 0.8.0; this build refuses it the same way,
//! naming the known type (or saying it is unknown) and how to choose one.

use crate::error::{Error, Result};
use crate::mission::types;

/// Always refused; the error says why and what to do instead.
pub fn switch(requested: &str) -> Result<()> {
    let known = types::find(requested).is_some();
    let what = if known {
        format!("{requested} is a mission type this build ships, but")
    } else {
        let keys: Vec<&str> = types::ALL.iter().map(|t| t.key).collect();
        format!(
            "{requested:?} is not a mission type (known: {}); and",
            keys.join(", ")
        )
    };
    Err(Error::user(format!(
        "{what} a mission's type is chosen when the mission is created (meta.json `mission_type`): `mission switch` was removed in 0.8.0"
    ))
    .with_hint("create a mission of that type with `spec-kitty agent mission create <name> --mission-type <type>`; see the types with `spec-kitty mission-type list`"))
}
