//! The server's command line, built inside the test package so that end-to-end tests can run
//! it as a real process (and kill it): the same entry point and allocator as
//! `zonepatrol-server`.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    zonepatrol_server::cli::main()
}
