fn main() -> std::process::ExitCode {
    spec_kitty::cli::main(std::env::args_os())
}
