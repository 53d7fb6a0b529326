//! The photo pipeline: a camera photo in, two small JPEGs out, named by their SHA-256.
//!
//! [`process`] takes the bytes of a JPEG, PNG or WebP file, applies its Exif orientation, scales
//! the long edge down to [`PhotoSettings::long_edge`] with a Lanczos-3 filter, encodes JPEG at
//! [`PhotoSettings::quality`] and makes a thumbnail of [`PhotoSettings::thumb_edge`]. Nothing of
//! the input's metadata is written out (no Exif, GPS, maker notes, ICC or comments); the capture
//! time is read from Exif and kept in the record instead. [`import`] runs it off the UI thread,
//! one photo at a time, and stores both files with
//! [`Repo::add_photo`](crate::store::Repo::add_photo).
//!
//! Speed and memory come from decoding JPEG at a reduced scale: a 4000×3000 photo is decoded
//! at 1/2 (2000×1500) by `jpeg-decoder`'s reduced inverse DCT, so the full-size picture never
//! exists in memory, then resampled to 1600×1200 by `fast_image_resize`. PNG and WebP are
//! decoded by `image` at full size, within the same pixel and memory limits. `BENCHMARKS.md`
//! has the figures against libvips and ImageMagick.
//!
//! Every input is untrusted: the size of the file and the number of pixels the header claims
//! are checked before anything is decoded, the decoders get a memory limit, and a decoder that
//! panics is caught and reported like a damaged file.
//!
//! # Layout
//!
//! The pipeline is pure (bytes in, [`Processed`] out) and never touches the repository; only
//! `import` stores. The arrows go one way: `import` → pipeline, `import` → [`crate::store`],
//! and the store imports nothing from here. The pipeline names only the store's plain types
//! ([`Processed`] and [`Jpeg`], which the store takes in, and `StoreError` inside
//! [`PhotoError`]).
//!
//! - `pipeline`: [`process`] and [`grey`], from bytes to JPEGs or grey pixels.
//! - `decode`: JPEG, PNG and WebP to pixels, within the limits.
//! - `exif`: orientation and capture time.
//! - `raster`: scaling, turning and JPEG encoding of decoded pixels.
//! - `error`: [`PhotoError`].
//! - `import`: reading a picked file and storing a processed photo, off the UI thread.

mod decode;
mod error;
mod exif;
mod import;
mod pipeline;
mod raster;

use chrono_tz::Tz;

pub use crate::store::{Jpeg, Processed};
pub use error::PhotoError;
pub use import::{import, import_file, read_file};
pub use pipeline::{Grey, grey, process};
pub use raster::fit;

pub(crate) const MB: u64 = 1024 * 1024;

/// Why a photo is [`PhotoError::Corrupt`] when a decoder panicked on it: caught, so the app goes
/// on (a build with `panic = "abort"` would lose this safety net).
pub const DECODER_FAILED: &str = "the decoder failed on it";

/// How photos are prepared.
#[derive(Debug, Clone)]
pub struct PhotoSettings {
    /// The long edge of the stored photo, in pixels; smaller photos keep their size.
    pub long_edge: u32,
    /// The long edge of the thumbnail, in pixels.
    pub thumb_edge: u32,
    /// JPEG quality of both, 1–100.
    pub quality: u8,
    /// Larger files are refused before they are read.
    pub max_file_bytes: u64,
    /// Pictures with more pixels are refused before they are decoded.
    pub max_pixels: u64,
    /// The most memory a decoder may ask for, in bytes.
    pub max_decode_bytes: u64,
    /// Where a capture time without a UTC offset was taken: the mine's time zone.
    pub time_zone: Tz,
}

impl Default for PhotoSettings {
    fn default() -> Self {
        PhotoSettings {
            long_edge: 1600,
            thumb_edge: 320,
            quality: 80,
            max_file_bytes: 50 * MB,
            max_pixels: 100_000_000,
            max_decode_bytes: 512 * MB,
            time_zone: chrono_tz::Asia::Shanghai,
        }
    }
}

impl PhotoSettings {
    /// Refuses a file larger than [`PhotoSettings::max_file_bytes`].
    fn check_file_size(&self, size: u64) -> Result<(), PhotoError> {
        if size > self.max_file_bytes {
            return Err(PhotoError::FileTooLarge {
                bytes: size,
                limit: self.max_file_bytes,
            });
        }
        Ok(())
    }
}
