//! Build script: tells the integration tests which optional tools exist, so a
//! test that needs one is `#[ignore]`d (with its reason) where the tool is
//! missing instead of passing without testing anything. `.ci/run` installs
//! them. Nothing here affects the binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_script)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    // util-linux `script` gives a child a pseudo-terminal.
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|d| d.join("script").is_file()) {
        println!("cargo::rustc-cfg=has_script");
    }
}
