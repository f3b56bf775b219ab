//! The `ward` binary: everything lives in the library so it can be tested.

fn main() -> std::process::ExitCode {
    ward_cli::main_with_args(std::env::args_os())
}
