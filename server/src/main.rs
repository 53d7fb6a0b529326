//! `zonepatrol-server`: thin command line over the library.

use anyhow::Context;

const USAGE: &str = "usage: zonepatrol-server demo

  demo   print the demo mine's weekly ranking and monthly money, computed with the shared rules
         (the sync server, `serve` and `user add` come with the sync issue)";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("demo") => {
            let report = zonepatrol_server::demo::report().context("building the demo mine")?;
            print!("{report}");
            Ok(())
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    }
}
