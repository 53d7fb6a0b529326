//! `zonepatrol-audit verify FILE`: checks an audit export with nothing but the file (see the
//! library's documentation).

fn main() -> std::process::ExitCode {
    zonepatrol_audit::main()
}
