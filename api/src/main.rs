use std::process::ExitCode;

/// jemalloc, chosen by measurement under the sign-in storm of issue 15 (`memory-storm`): with
/// its background thread (`.cargo/config.toml`) freed memory goes back to the system on time.
/// glibc kept each password hash's 19 MiB (1,047 MB peak, 933 MB a minute after the storm);
/// mimalloc held on to what a burst took until the next allocations came.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    scps::install_crypto();
    scps::cli::main()
}
