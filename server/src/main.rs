//! `zonepatrol-server`: the command line lives in the library (`cli`), so that this file stays
//! small and the tests can run the very same entry point.

/// mimalloc: a start is mostly small allocations (see `benches/start.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    zonepatrol_server::cli::main()
}
