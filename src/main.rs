#![deny(clippy::unwrap_used, clippy::expect_used)]

fn main() -> std::process::ExitCode {
    spec_kitty::cli::main(std::env::args_os())
}
