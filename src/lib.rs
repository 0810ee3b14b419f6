//! spec-kitty: spec-driven development for people and AI coding agents.
//!
//! The crate is a library with a thin binary on top. Core modules take paths and
//! strings and return typed values or [`error::Error`]; they never print and never
//! exit. The [`cli`] module parses arguments, calls the core and renders human text
//! or a single JSON document.

pub mod auth;
pub mod bounds;
pub mod charter;
pub mod cli;
pub mod config;
pub mod confine;
pub mod dashboard;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod git;
pub mod ids;
pub mod init;
pub mod jsonfmt;
pub mod lanes;
pub mod logprefix;
pub mod mcp;
pub mod merge;
pub mod mission;
pub mod next;
pub mod ops;
pub mod orchestrator_api;
pub mod project;
pub mod release;
pub mod research;
pub mod shell;
pub mod status;
pub mod tasks_md;
pub mod templates;
pub mod timefmt;
pub mod workspace;

pub use error::{Error, Result};

/// The version of this binary, as written into project metadata.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(test)]
mod testutil {
    /// A seeded xorshift generator for randomised unit tests: `next(n)` is in `0..n`.
    pub fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        }
    }
}
