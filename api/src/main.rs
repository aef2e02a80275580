use std::process::ExitCode;

/// mimalloc gives freed memory back to the system; glibc's per-thread arenas kept each password
/// hash's 19 MiB (1,047 MB peak and 933 MB a minute after the sign-in storm, with glibc).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    scps::install_crypto();
    scps::cli::main()
}
