//! The photo pipeline as a command, so that the photo benchmark can time it and read its peak
//! memory exactly as it does vipsthumbnail's and ImageMagick's: one process per photo.
//!
//! `zonepatrol-photo IN OUT_DIR` writes `OUT_DIR/full.jpg` and `OUT_DIR/thumb.jpg` with the
//! app's default settings and prints their sizes.

use std::path::PathBuf;
use std::process::ExitCode;

use zonepatrol_app::photo::{self, PhotoSettings};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: zonepatrol-photo IN OUT_DIR");
        return ExitCode::from(2);
    };
    let settings = PhotoSettings::default();
    let result = photo::read_file(input, &settings)
        .and_then(|bytes| photo::process(&bytes, &settings))
        .map_err(|e| e.to_string())
        .and_then(|p| {
            std::fs::write(out_dir.join("full.jpg"), &p.full.bytes)
                .and_then(|()| std::fs::write(out_dir.join("thumb.jpg"), &p.thumb.bytes))
                .map_err(|e| e.to_string())?;
            Ok(p)
        });
    match result {
        Ok(p) => {
            println!(
                "full {}x{} {} bytes, thumb {}x{} {} bytes",
                p.full.width,
                p.full.height,
                p.full.bytes.len(),
                p.thumb.width,
                p.thumb.height,
                p.thumb.bytes.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", input.display());
            ExitCode::FAILURE
        }
    }
}
