//! Settings from a TOML file (`serve --config FILE`), beside flags and `ZONEPATROL_…`
//! environment variables. The file's values become clap's defaults for the arguments of the
//! same name before the command line is read, so clap keeps its own order: a flag wins over
//! its environment variable, which wins over the file, which wins over the built-in default.
//! A key clap does not know is refused with the keys it does.
//!
//! ```toml
//! listen = "0.0.0.0:8443"
//! data = "/var/lib/zonepatrol"
//! time_zone = "Asia/Shanghai"
//! tls_cert = "/etc/zonepatrol/cert.pem"
//! tls_key = "/etc/zonepatrol/key.pem"
//! max_connections = 4096
//! log_format = "json"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

/// The keys a file may set: the value arguments of `serve` and `demo`, and the log format.
pub const KEYS: [&str; 12] = [
    "listen",
    "data",
    "database",
    "database_connections",
    "mines",
    "time_zone",
    "tls_cert",
    "tls_key",
    "max_connections",
    "max_blob_mib",
    "token_days",
    "log_format",
];

/// The largest configuration file read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Reads a configuration file into its settings, by key. Says what is wrong and where.
pub fn read(path: &Path) -> Result<BTreeMap<&'static str, String>, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "the configuration file {} is {len} bytes: a configuration is a few lines",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the configuration file {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("in the configuration file {}: {e}", path.display()))
}

/// The settings a file's text gives.
pub fn parse(text: &str) -> Result<BTreeMap<&'static str, String>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let name = key.replace('-', "_");
        let Some(known) = KEYS.iter().find(|k| **k == name) else {
            return Err(format!(
                "“{key}” is not a setting; the settings are {}",
                KEYS.join(", ")
            ));
        };
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            other => {
                return Err(format!(
                    "{key} is {}: write it as a string or a whole number",
                    other.type_str()
                ));
            }
        };
        out.insert(*known, value);
    }
    Ok(out)
}

/// Gives `command`'s arguments named in `settings` the settings' values as defaults, in the
/// subcommands that have them.
pub fn as_defaults(
    mut command: clap::Command,
    settings: &BTreeMap<&'static str, String>,
) -> clap::Command {
    let default = |value: &String| -> &'static str {
        // clap keeps defaults for the life of the process; the file is read once.
        Box::leak(value.clone().into_boxed_str())
    };
    for (key, value) in settings {
        if command.get_arguments().any(|a| a.get_id() == *key) {
            command = command.mut_arg(*key, |a| a.default_value(default(value)));
        }
    }
    let names: Vec<String> = command
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        command = command.mut_subcommand(name, |mut sub| {
            for (key, value) in settings {
                if sub.get_arguments().any(|a| a.get_id() == *key) {
                    sub = sub.mut_arg(*key, |a| a.default_value(default(value)));
                }
            }
            sub
        });
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gives_known_settings_and_refuses_the_rest() {
        let got = parse("listen = \"0.0.0.0:8443\"\nmax-connections = 100\n").expect("parse");
        assert_eq!(got["listen"], "0.0.0.0:8443");
        assert_eq!(got["max_connections"], "100");
        let e = parse("lisen = \"x\"").expect_err("a typo");
        assert!(e.contains("lisen") && e.contains("listen"), "{e}");
        assert!(parse("data = [1]").is_err());
        assert!(parse("data = ").is_err(), "not TOML");
    }
}
