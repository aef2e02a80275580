use std::process::ExitCode;

fn main() -> ExitCode {
    scps::install_crypto();
    scps::cli::main()
}
