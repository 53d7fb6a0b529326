//! The audit checker's command line, built inside the test package so that end-to-end tests
//! can run it as a real process: the same entry point as `zonepatrol-audit`.

fn main() -> std::process::ExitCode {
    zonepatrol_audit::main()
}
