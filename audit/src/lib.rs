//! The audit checker's command line, `zonepatrol-audit verify FILE`: checks an audit export (`zonepatrol-server audit export`)
//! with nothing but the file: no server, no database, no network. Every change must be signed
//! by a key registered to the person it is attributed to, the log must be one unbroken chain
//! that the server's checkpoints vouch for, and every document's history must be what the log
//! accepted. Prints what was checked and exits 0, or names each place that does not hold and
//! exits 1 (2: the file cannot be read at all).

use std::process::ExitCode;

use zonepatrol_shared::audit::{AuditExport, verify};
use zonepatrol_shared::signing::KeyId;

const USAGE: &str = "usage: zonepatrol-audit verify EXPORT.json [--server-key HEX]\n\
    --server-key: the server's public key as you know it (a phone's settings, or the operator):\n\
    without it the export's own key is trusted, and an export made up whole would pass";

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, server) = match args.as_slice() {
        [verb, file] if verb == "verify" => (file, None),
        [verb, file, flag, key] if verb == "verify" && flag == "--server-key" => {
            match key.trim().to_ascii_lowercase().parse::<KeyId>() {
                Ok(key) => (file, Some(key)),
                Err(e) => {
                    eprintln!("zonepatrol-audit: --server-key: {e}");
                    return ExitCode::from(2);
                }
            }
        }
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
    match verify(&export, server.as_ref()) {
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
            if let Some((seq, at)) = s.vouched {
                let when = chrono::DateTime::from_timestamp_millis(at)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_else(|| format!("{at} ms"));
                println!(
                    "the server vouched for the log up to entry {seq} at {when}: an export cut \
                     back to an older checkpoint shows an older time here"
                );
            }
            if server.is_none() {
                println!(
                    "note: the server's key {} was taken from the export itself; check it with \
                     --server-key against the one the phones know",
                    export.server_key
                );
            }
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
