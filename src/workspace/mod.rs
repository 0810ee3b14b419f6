//! Lane workspaces: one git worktree per code lane, the main checkout for planning.
