//! Deciding a mission's next step from its artifacts and status.
