//! The pure pipeline: bytes in, JPEGs (or grey pixels) out. Reads nothing, writes nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};

use image::ImageFormat;
use image::metadata::Orientation;

use super::decode::{decode_jpeg, decode_with_image, describe};
use super::exif::read_exif;
use super::raster::{encode, fit, orient, resize, resize_ref};
use super::{DECODER_FAILED, PhotoError, PhotoSettings, Processed};

/// Processes a photo the user picked or took. Pure: reads nothing, writes nothing.
pub fn process(bytes: &[u8], settings: &PhotoSettings) -> Result<Processed, PhotoError> {
    check_settings(settings)?;
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let size = bytes.len() as u64;
    settings.check_file_size(size)?;
    caught(|| process_checked(bytes, settings))
}

/// Runs a decoder. The decoders are meant never to panic; if one does on a hostile file, the
/// user gets an error instead of a crash.
fn caught<T>(decode: impl FnOnce() -> Result<T, PhotoError>) -> Result<T, PhotoError> {
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_else(|_| {
        Err(PhotoError::Corrupt {
            why: DECODER_FAILED.into(),
        })
    })
}

fn check_settings(s: &PhotoSettings) -> Result<(), PhotoError> {
    let bad = |why: &str| Err(PhotoError::Settings(why.into()));
    if !(16..=8192).contains(&s.long_edge) {
        return bad("the long edge must be 16 to 8192 pixels");
    }
    if !(16..=s.long_edge).contains(&s.thumb_edge) {
        return bad("the thumbnail edge must be 16 pixels up to the long edge");
    }
    if !(1..=100).contains(&s.quality) {
        return bad("the quality must be 1 to 100");
    }
    Ok(())
}

fn process_checked(bytes: &[u8], settings: &PhotoSettings) -> Result<Processed, PhotoError> {
    let format = image::guess_format(bytes).map_err(|_| PhotoError::Format {
        found: describe(bytes),
    })?;
    let (raster, exif) = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, settings)?,
        ImageFormat::Png | ImageFormat::WebP => decode_with_image(bytes, format, settings)?,
        other => {
            return Err(PhotoError::Format {
                found: other
                    .extensions_str()
                    .first()
                    .map_or_else(|| format!("{other:?}"), |ext| ext.to_uppercase()),
            });
        }
    };
    let (orientation, taken_at) = exif
        .as_deref()
        .map(|raw| read_exif(raw, settings.time_zone))
        .unwrap_or((Orientation::NoTransforms, None));

    let (width, height) = fit(raster.width, raster.height, settings.long_edge);
    let full = orient(resize(raster, width, height)?, orientation);
    let (thumb_width, thumb_height) = fit(full.width, full.height, settings.thumb_edge);
    let quality = settings.quality;
    // The thumbnail is made on a second thread while the photo is encoded.
    let (full_jpeg, thumb) = std::thread::scope(|scope| {
        let thumb = scope.spawn(|| {
            let small = resize_ref(&full, thumb_width, thumb_height)?;
            encode(&small, quality)
        });
        let full_jpeg = encode(&full, quality);
        let thumb = thumb.join().unwrap_or_else(|_| {
            Err(PhotoError::Corrupt {
                why: "the thumbnail could not be made".into(),
            })
        });
        (full_jpeg, thumb)
    });
    Ok(Processed {
        full: full_jpeg?,
        thumb: thumb?,
        taken_at,
    })
}

/// A photo as grey pixels, one byte each, row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grey {
    /// The pixels.
    pub pixels: Vec<u8>,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// Decodes a photo to grey pixels, long edge at most `edge`, with the same limits and checks
/// as [`process`]. For reading the QR code of a placard.
pub fn grey(bytes: &[u8], settings: &PhotoSettings, edge: u32) -> Result<Grey, PhotoError> {
    let settings = PhotoSettings {
        long_edge: edge,
        thumb_edge: edge.min(settings.thumb_edge),
        ..settings.clone()
    };
    check_settings(&settings)?;
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    caught(|| {
        let format = image::guess_format(bytes).map_err(|_| PhotoError::Format {
            found: describe(bytes),
        })?;
        let (raster, _) = match format {
            ImageFormat::Jpeg => decode_jpeg(bytes, &settings)?,
            ImageFormat::Png | ImageFormat::WebP => decode_with_image(bytes, format, &settings)?,
            other => {
                return Err(PhotoError::Format {
                    found: format!("{other:?}"),
                });
            }
        };
        let (width, height) = fit(raster.width, raster.height, edge);
        let small = resize(raster, width, height)?;
        let pixels = if small.grey {
            small.pixels
        } else {
            small
                .pixels
                .chunks_exact(3)
                .map(|p| {
                    // ITU-R BT.601 luma, in integers.
                    let y = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
                    u8::try_from(y / 1000).unwrap_or(u8::MAX)
                })
                .collect()
        };
        Ok(Grey {
            pixels,
            width: small.width,
            height: small.height,
        })
    })
}
