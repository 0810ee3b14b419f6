//! Project set-up: `.kittify/`, the agents' slash commands, and the managed-files manifest.
