//! The scps binary, built inside the test crate so that tests can start it as a process.

use std::process::ExitCode;

fn main() -> ExitCode {
    scps::install_crypto();
    scps::cli::main()
}
