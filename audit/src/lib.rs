//! The audit checker's command line, `zonepatrol-audit verify FILE`: checks an audit export (`zonepatrol-server audit export`)
//! with nothing but the file: no server, no database, no network. Every change must be signed
//! by a key registered to the person it is attributed to, the log must be one unbroken chain
//! that the server's checkpoints vouch for, and every document's history must be what the log
//! accepted. Prints what was checked and exits 0, or names each place that does not hold and
//! exits 1 (2: the file cannot be read at all).

use std::process::ExitCode;

use zonepatrol_shared::audit::{AuditExport, verify};

const USAGE: &str = "usage: zonepatrol-audit verify EXPORT.json";

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = match args.as_slice() {
        [verb, file] if verb == "verify" => file,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("zonepatrol-audit: cannot read {file}: {e}");
            return ExitCode::from(2);
        }
    };
    let export: AuditExport = match serde_json::from_slice(&bytes) {
        Ok(export) => export,
        Err(e) => {
            eprintln!(
                "zonepatrol-audit: {file} is not an audit export ({e}): was it cut short or \
                 altered?"
            );
            return ExitCode::from(1);
        }
    };
    match verify(&export) {
        Ok(s) => {
            println!(
                "OK: branch {}: {} log entries chained ({} of the branch), {} checkpoints signed \
                 by the server, {} documents, {} changes each signed for its author ({} by \
                 devices, {} by the server for someone)",
                export.branch,
                s.entries,
                s.branch_entries,
                s.checkpoints,
                s.documents,
                s.changes,
                s.device_signed,
                s.changes - s.device_signed
            );
            ExitCode::SUCCESS
        }
        Err(findings) => {
            println!(
                "FAILED: branch {}: {} finding(s)",
                export.branch,
                findings.len()
            );
            for f in &findings {
                println!("  {f}");
            }
            ExitCode::from(1)
        }
    }
}
