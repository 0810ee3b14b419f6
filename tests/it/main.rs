//! The single integration-test binary: one module per command area. Every test
//! drives the built `spec-kitty` binary in a throwaway directory with an empty
//! HOME and hermetic git configuration.

mod common;

mod auth;
mod compat_finalize;
mod dashboard;
mod dashboard_browser;
mod fuzz;
mod hardening;
mod init;
mod lanes;
mod merge;
mod merge_drivers;
mod mission;
mod next;
mod prompts;
mod release;
mod shape;
mod status;
mod taskgraph;
mod trust;
mod versions;
mod walkthrough;
mod workspace;
