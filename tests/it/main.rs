//! The single integration-test binary: one module per command area. Every test
//! drives the built `spec-kitty` binary in a throwaway directory with an empty
//! HOME and hermetic git configuration.
#![allow(
    // Tests slice their own ASCII fixtures; a bad index fails the test.
    clippy::string_slice,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

mod common;

mod auth;
mod compat_commands;
mod compat_finalize;
mod compat_prompts;
mod config;
mod confinement;
mod crash;
mod cut_short;
mod dashboard;
mod dashboard_browser;
mod driver_refusals;
mod finalize_stamp;
mod fuzz;
mod guarded;
mod hardening;
mod hostile_input;
mod human;
mod init;
mod lane_checkout;
mod lanes;
mod lanes_check;
mod lanes_memo;
mod layers;
mod mcp;
mod merge;
mod merge_crash;
mod merge_drivers;
mod mission;
mod mission_list;
mod next;
mod orchestrator_api;
mod prompts;
mod races;
mod release;
mod repo_opens;
mod shape;
mod status;
mod surface1;
mod surface1_options;
mod surface2;
mod surface_health;
mod surface_setup;
mod taskgraph;
mod teams;
mod teams_e2e;
mod trust;
mod versions;
mod walkthrough;
mod workspace;
