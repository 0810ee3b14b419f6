//! The single integration-test binary: one module per command area. Every test
//! drives the built `spec-kitty` binary in a throwaway directory with an empty
//! HOME and hermetic git configuration.

mod common;

mod auth;
mod compat_commands;
mod compat_finalize;
mod compat_prompts;
mod fuzz;
mod hardening;
mod init;
mod merge;
mod mission;
mod next;
mod release;
mod status;
mod taskgraph;
mod walkthrough;
mod workspace;
