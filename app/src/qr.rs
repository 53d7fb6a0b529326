//! Reading the QR code on a zone's placard from a photo of it, so an inspector opens the zone
//! without looking for it in a list. Pure Rust (rqrr), so it runs the same on every phone.

use crate::photo::{PhotoError, PhotoSettings, grey};

/// The long edge the photo is brought down to before the code is looked for: large enough
/// for a placard's code filling a tenth of the frame, small enough to be quick.
pub const SCAN_EDGE: u32 = 1600;

/// The text of the first QR code found in a photo, or `None` if there is none that reads.
pub fn read(bytes: &[u8], settings: &PhotoSettings) -> Result<Option<String>, PhotoError> {
    let image = grey(bytes, settings, SCAN_EDGE)?;
    let width = image.width as usize;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width, image.height as usize, |x, y| {
            image.pixels[y * width + x]
        });
    Ok(prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text)))
}
