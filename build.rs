//! Build script: tells the integration tests which optional tools exist, so a
//! test that needs one is `#[ignore]`d (with its reason) where the tool is
//! missing instead of passing without testing anything (`.ci/run` installs
//! them), and links the binary with packed relative relocations where the
//! toolchain supports them (see [`pack_relative_relocs`]).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::too_many_lines
)]

use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(has_script)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-changed=build.rs");
    // util-linux `script` gives a child a pseudo-terminal.
    let path = std::env::var_os("PATH").unwrap_or_default();
    if std::env::split_paths(&path).any(|d| d.join("script").is_file()) {
        println!("cargo::rustc-cfg=has_script");
    }
    if pack_relative_relocs() {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether to link the binary with `-z pack-relative-relocs` (DT_RELR). The
/// binary is position-independent, so the loader applies about 30,000
/// relative relocations at every start; as RELA entries they are a 720 KB
/// table it reads page by page before `main`, packed they are a few KB. Only
/// when building for GNU/Linux on the machine itself, and only when the linker
/// this build uses accepts the option on a probe program and the probe then
/// starts (the loader of glibc 2.36 and later reads DT_RELR); anywhere else
/// the binary is linked as before.
fn pack_relative_relocs() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let target = var("TARGET");
    // A cross build cannot run the probe: it keeps the usual relocations.
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || target != var("HOST")
    {
        return false;
    }
    let Some(out) = std::env::var_os("OUT_DIR") else {
        return false;
    };
    let out = Path::new(&out);
    let src = out.join("relr_probe.rs");
    let exe = out.join("relr_probe");
    if std::fs::write(&src, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut probe = Command::new(rustc);
    probe
        .arg("--crate-type=bin")
        .arg("--target")
        .arg(&target)
        .arg("-o")
        .arg(&exe)
        .arg("-Clink-arg=-Wl,-z,pack-relative-relocs");
    // The same linker as the build's own link: a configured one, and the
    // build's flags (a `-C linker=` or `-fuse-ld=` lives there).
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        let mut arg = std::ffi::OsString::from("-Clinker=");
        arg.push(linker);
        probe.arg(arg);
    }
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    probe.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    probe.arg(&src).stdout(Stdio::null()).stderr(Stdio::null());
    probe.status().is_ok_and(|s| s.success())
        && Command::new(&exe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}
