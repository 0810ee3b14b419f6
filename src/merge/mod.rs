//! Accepting a mission and merging its lanes into the target branch.
