//! `zonepatrol-server`: the command line lives in the library (`cli`), so that this file stays
//! one line and the tests can run the very same entry point.

fn main() -> std::process::ExitCode {
    zonepatrol_server::cli::main()
}
