//! The server's command line, built inside the test package so that end-to-end tests can run
//! it as a real process (and kill it): the same entry point as `zonepatrol-server`.

fn main() -> std::process::ExitCode {
    zonepatrol_server::cli::main()
}
