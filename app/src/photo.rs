//! The photo pipeline: a camera photo in, two small JPEGs out, named by their SHA-256.
//!
//! [`process`] takes the bytes of a JPEG, PNG or WebP file, applies its Exif orientation, scales
//! the long edge down to [`PhotoSettings::long_edge`] with a Lanczos-3 filter, encodes JPEG at
//! [`PhotoSettings::quality`] and makes a thumbnail of [`PhotoSettings::thumb_edge`]. Nothing of
//! the input's metadata is written out (no Exif, GPS, maker notes, ICC or comments); the capture
//! time is read from Exif and kept in the record instead. [`import`] runs it off the UI thread,
//! one photo at a time, and stores both files with [`Repo::add_photo`].
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

use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use exif::{In, Tag, Value};
use fast_image_resize as fir;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, RgbImage};

use crate::store::{PhotoRecord, Repo, StoreError};

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

/// Why a photo was not added. Nothing is stored when any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The picked file could not be read.
    #[error(
        "the photo file could not be read ({0}): check that it is still there and choose it again"
    )]
    Read(std::io::Error),
    /// The file has no bytes.
    #[error("the photo file is empty: choose the photo again, or take a new one")]
    Empty,
    /// The file is larger than the limit.
    #[error(
        "the photo file is {} MB, more than the {} MB the app takes: take the photo again at a lower resolution",
        .bytes.div_ceil(MB), .limit / MB
    )]
    FileTooLarge {
        /// The file's size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The picture has more pixels than the limit (this is also how a decompression bomb, a
    /// small file that claims an enormous picture, is refused).
    #[error(
        "the picture is {width}×{height} pixels, more than the {} megapixels the app takes: take the photo again at a lower resolution",
        .limit / 1_000_000
    )]
    TooManyPixels {
        /// Width the file claims.
        width: u32,
        /// Height the file claims.
        height: u32,
        /// The limit.
        limit: u64,
    },
    /// Decoding would take more memory than allowed.
    #[error(
        "the picture would need more than {} MB of memory to open: take the photo again at a lower resolution",
        .limit / MB
    )]
    TooMuchMemory {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Not a format the app reads.
    #[error(
        "this file is not a photo the app can read ({found}): choose a JPEG, PNG or WebP photo"
    )]
    Format {
        /// What the file looks like.
        found: String,
    },
    /// The file ends before the picture does.
    #[error(
        "the photo file is cut short (it was not saved or copied completely): take the photo again"
    )]
    Truncated,
    /// The file is damaged.
    #[error("the photo file is damaged ({why}): take the photo again")]
    Corrupt {
        /// What the decoder found.
        why: String,
    },
    /// A variant of the format the decoder does not implement.
    #[error(
        "this photo uses a feature of its format the app cannot read ({why}): save it as an ordinary JPEG and try again"
    )]
    Unsupported {
        /// Which feature.
        why: String,
    },
    /// The settings cannot be used.
    #[error("the photo settings are wrong ({0})")]
    Settings(String),
    /// The photo could not be stored.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The work was cut off (the app is closing).
    #[error("the photo was not added because the app is closing: add it again")]
    Interrupted,
}

/// One encoded JPEG.
#[derive(Clone, PartialEq, Eq)]
pub struct Jpeg {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl std::fmt::Debug for Jpeg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Jpeg({}×{}, {} bytes)",
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

/// A processed photo, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The photo, long edge at most [`PhotoSettings::long_edge`].
    pub full: Jpeg,
    /// The thumbnail, long edge at most [`PhotoSettings::thumb_edge`].
    pub thumb: Jpeg,
    /// The capture time from Exif, in milliseconds since the Unix epoch.
    pub taken_at: Option<i64>,
}

/// Decoded pixels: 3 bytes per pixel (RGB) or 1 (grey).
struct Raster {
    pixels: Vec<u8>,
    width: u32,
    height: u32,
    grey: bool,
}

impl Raster {
    fn channels(&self) -> usize {
        if self.grey { 1 } else { 3 }
    }
}

/// Processes a photo the user picked or took. Pure: reads nothing, writes nothing.
pub fn process(bytes: &[u8], settings: &PhotoSettings) -> Result<Processed, PhotoError> {
    check_settings(settings)?;
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    let size = bytes.len() as u64;
    if size > settings.max_file_bytes {
        return Err(PhotoError::FileTooLarge {
            bytes: size,
            limit: settings.max_file_bytes,
        });
    }
    // The decoders are meant never to panic; if one does on a hostile file, the user gets an
    // error instead of a crash.
    catch_unwind(AssertUnwindSafe(|| process_checked(bytes, settings))).unwrap_or_else(|_| {
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
    catch_unwind(AssertUnwindSafe(|| {
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
    }))
    .unwrap_or_else(|_| {
        Err(PhotoError::Corrupt {
            why: DECODER_FAILED.into(),
        })
    })
}

/// What a file that is not a picture we know looks like, for the error.
fn describe(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    let texty = head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80);
    match head {
        [0x25, 0x50, 0x44, 0x46, ..] => "a PDF document".into(),
        [0x50, 0x4b, 0x03, 0x04, ..] => "a ZIP archive or office document".into(),
        [_, _, _, _, 0x66, 0x74, 0x79, 0x70, ..] => "an HEIC photo or a video".into(),
        _ if texty => "a text file".into(),
        _ => "an unknown kind of file".into(),
    }
}

/// The size that fits `(width, height)` inside a square of `edge`, never larger than it was.
pub fn fit(width: u32, height: u32, edge: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= edge {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled = (u64::from(side) * u64::from(edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(scaled).unwrap_or(edge).max(1)
    };
    if width >= height {
        (edge, scale(height))
    } else {
        (scale(width), edge)
    }
}

fn check_pixels(width: u32, height: u32, settings: &PhotoSettings) -> Result<(), PhotoError> {
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt {
            why: format!("the picture claims to be {width}×{height} pixels"),
        });
    }
    if u64::from(width) * u64::from(height) > settings.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            limit: settings.max_pixels,
        });
    }
    Ok(())
}

fn decode_jpeg(
    bytes: &[u8],
    settings: &PhotoSettings,
) -> Result<(Raster, Option<Vec<u8>>), PhotoError> {
    use jpeg_decoder::PixelFormat;
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(
        usize::try_from(settings.max_decode_bytes).unwrap_or(usize::MAX),
    );
    decoder.read_info().map_err(|e| jpeg_error(e, settings))?;
    let info = decoder.info().ok_or_else(|| PhotoError::Corrupt {
        why: "no picture header".into(),
    })?;
    let (full_width, full_height) = (u32::from(info.width), u32::from(info.height));
    check_pixels(full_width, full_height, settings)?;
    // A progressive JPEG keeps every coefficient of the full-size picture while it decodes:
    // two bytes per sample, at most three samples per pixel.
    if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive
        && u64::from(full_width) * u64::from(full_height) * 6 > settings.max_decode_bytes
    {
        return Err(PhotoError::TooMuchMemory {
            limit: settings.max_decode_bytes,
        });
    }
    // Decode at the smallest of 1/8, 1/4, 1/2 and 1 that keeps the long edge at least the
    // target (the decoder takes a scale that is large enough in either axis, so the short
    // axis asks for nothing).
    let (want_width, want_height) = fit(full_width, full_height, settings.long_edge);
    let want = |side: u32| u16::try_from(side).unwrap_or(u16::MAX);
    let (want_width, want_height) = if full_width >= full_height {
        (want(want_width), u16::MAX)
    } else {
        (u16::MAX, want(want_height))
    };
    let (width, height) = decoder
        .scale(want_width, want_height)
        .map_err(|e| jpeg_error(e, settings))?;
    let pixels = decoder.decode().map_err(|e| jpeg_error(e, settings))?;
    let exif = decoder.exif_data().map(<[u8]>::to_vec);
    let format = decoder.info().map(|i| i.pixel_format);
    let grey = match format {
        Some(PixelFormat::RGB24) => false,
        Some(PixelFormat::L8) => true,
        // CMYK and 16-bit JPEGs are rare in cameras; `image` converts them, at full size and
        // within the same limits.
        _ => {
            drop(pixels);
            let (raster, _) = decode_with_image(bytes, ImageFormat::Jpeg, settings)?;
            return Ok((raster, exif));
        }
    };
    let raster = Raster {
        pixels,
        width: u32::from(width),
        height: u32::from(height),
        grey,
    };
    if raster.pixels.len() != raster.width as usize * raster.height as usize * raster.channels() {
        return Err(PhotoError::Corrupt {
            why: "the decoded picture has the wrong size".into(),
        });
    }
    Ok((raster, exif))
}

fn jpeg_error(e: jpeg_decoder::Error, settings: &PhotoSettings) -> PhotoError {
    use jpeg_decoder::Error;
    match e {
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => PhotoError::Truncated,
        Error::Unsupported(feature) => PhotoError::Unsupported {
            why: format!("JPEG {feature:?}"),
        },
        Error::Format(why) if why.contains("exceeds maximum") => PhotoError::TooMuchMemory {
            limit: settings.max_decode_bytes,
        },
        Error::Format(why) => PhotoError::Corrupt { why },
        other => PhotoError::Corrupt {
            why: other.to_string(),
        },
    }
}

fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
    settings: &PhotoSettings,
) -> Result<(Raster, Option<Vec<u8>>), PhotoError> {
    if format == ImageFormat::WebP && riff_is_cut(bytes) {
        return Err(PhotoError::Truncated);
    }
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(settings.max_decode_bytes);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_error(e, settings))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, settings)?;
    // The decoded picture, plus the RGB copy made when it is not 8-bit RGB or grey already.
    let converted = match decoder.color_type() {
        image::ColorType::L8 | image::ColorType::Rgb8 => 0,
        _ => u64::from(width) * u64::from(height) * 3,
    };
    if decoder.total_bytes().saturating_add(converted) > settings.max_decode_bytes {
        return Err(PhotoError::TooMuchMemory {
            limit: settings.max_decode_bytes,
        });
    }
    let exif = decoder.exif_metadata().ok().flatten();
    let picture = DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, settings))?;
    let raster = match picture {
        DynamicImage::ImageLuma8(grey) => Raster {
            width,
            height,
            pixels: grey.into_raw(),
            grey: true,
        },
        DynamicImage::ImageRgb8(rgb) => Raster {
            width,
            height,
            pixels: rgb.into_raw(),
            grey: false,
        },
        other if other.color().has_alpha() => {
            // Transparent parts (screenshots, drawings) are laid over white, as paper would.
            let rgba = other.into_rgba8();
            let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
            for p in rgba.pixels() {
                let [r, g, b, a] = p.0;
                let a = u16::from(a);
                for c in [r, g, b] {
                    let over = (u16::from(c) * a + 255 * (255 - a) + 127) / 255;
                    pixels.push(u8::try_from(over).unwrap_or(u8::MAX));
                }
            }
            Raster {
                width,
                height,
                pixels,
                grey: false,
            }
        }
        other => Raster {
            width,
            height,
            pixels: other.into_rgb8().into_raw(),
            grey: false,
        },
    };
    Ok((raster, exif))
}

/// A WebP file says how long it is; one that is shorter was cut off.
fn riff_is_cut(bytes: &[u8]) -> bool {
    match bytes.get(4..8) {
        Some(&[a, b, c, d]) => {
            (bytes.len() as u64) < u64::from(u32::from_le_bytes([a, b, c, d])) + 8
        }
        _ => true,
    }
}

fn image_error(e: image::ImageError, settings: &PhotoSettings) -> PhotoError {
    use image::ImageError;
    let truncated = |why: &str| {
        let why = why.to_ascii_lowercase();
        why.contains("eof") || why.contains("end of") || why.contains("unexpected end")
    };
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Truncated
        }
        ImageError::Limits(_) => PhotoError::TooMuchMemory {
            limit: settings.max_decode_bytes,
        },
        ImageError::Unsupported(why) => PhotoError::Unsupported {
            why: why.to_string(),
        },
        ImageError::Decoding(why) if truncated(&why.to_string()) => PhotoError::Truncated,
        other => PhotoError::Corrupt {
            why: other.to_string(),
        },
    }
}

/// Orientation and capture time from raw Exif (a TIFF structure). Damaged Exif is ignored: the
/// picture itself is what matters.
fn read_exif(raw: &[u8], time_zone: Tz) -> (Orientation, Option<i64>) {
    let Ok(exif) = exif::Reader::new().read_raw(raw.to_vec()) else {
        return (Orientation::NoTransforms, None);
    };
    let orientation = exif
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms);
    let ascii = |tag: Tag| match exif.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(parts)) => parts.first().cloned(),
        _ => None,
    };
    // When the shutter was pressed; failing that, when the picture was digitised. Not
    // `DateTime`, which editors rewrite.
    let taken_at = [
        (
            Tag::DateTimeOriginal,
            Tag::OffsetTimeOriginal,
            Tag::SubSecTimeOriginal,
        ),
        (
            Tag::DateTimeDigitized,
            Tag::OffsetTimeDigitized,
            Tag::SubSecTimeDigitized,
        ),
    ]
    .into_iter()
    .find_map(|(time, offset, subsec)| {
        let mut when = exif::DateTime::from_ascii(&ascii(time)?).ok()?;
        if let Some(offset) = ascii(offset) {
            // A malformed offset leaves the time in the mine's zone.
            let _ = when.parse_offset(&offset);
        }
        if let Some(subsec) = ascii(subsec) {
            let _ = when.parse_subsec(&subsec);
        }
        exif_millis(&when, time_zone)
    });
    (orientation, taken_at)
}

fn exif_millis(when: &exif::DateTime, time_zone: Tz) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(
        i32::from(when.year),
        u32::from(when.month),
        u32::from(when.day),
    )?;
    let time = NaiveTime::from_hms_nano_opt(
        u32::from(when.hour),
        u32::from(when.minute),
        // A leap second, as some cameras write it, is the last second of its minute.
        u32::from(when.second.min(59)),
        when.nanosecond.unwrap_or(0),
    )?;
    let local = NaiveDateTime::new(date, time);
    // An offset out of range is ignored like a malformed one: the time is then the mine's.
    let offset = when
        .offset
        .and_then(|minutes| FixedOffset::east_opt(i32::from(minutes) * 60));
    let instant = match offset {
        Some(offset) => offset.from_local_datetime(&local).single()?,
        None => time_zone
            .from_local_datetime(&local)
            .earliest()?
            .fixed_offset(),
    };
    Some(instant.timestamp_millis())
}

fn resize_error(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Corrupt {
        why: format!("the picture could not be scaled: {e}"),
    }
}

fn pixel_type(raster: &Raster) -> fir::PixelType {
    if raster.grey {
        fir::PixelType::U8
    } else {
        fir::PixelType::U8x3
    }
}

/// Scales down with a Lanczos-3 filter; a raster already the right size is passed through.
fn resize(raster: Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
    if (raster.width, raster.height) == (width, height) {
        return Ok(raster);
    }
    resize_ref(&raster, width, height)
}

fn resize_ref(raster: &Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
    let kind = pixel_type(raster);
    let source = fir::images::ImageRef::new(raster.width, raster.height, &raster.pixels, kind)
        .map_err(resize_error)?;
    let mut target = fir::images::Image::new(width, height, kind);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    fir::Resizer::new()
        .resize(&source, &mut target, &options)
        .map_err(resize_error)?;
    Ok(Raster {
        pixels: target.into_vec(),
        width,
        height,
        grey: raster.grey,
    })
}

/// Turns the pixels the way the camera says it was held.
fn orient(raster: Raster, orientation: Orientation) -> Raster {
    if orientation == Orientation::NoTransforms {
        return raster;
    }
    let Raster {
        pixels,
        width,
        height,
        grey,
    } = raster;
    let picture = if grey {
        GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8)
    } else {
        RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
    };
    let Some(mut picture) = picture else {
        // Cannot happen: the buffer was made for these dimensions.
        return Raster {
            pixels: Vec::new(),
            width: 0,
            height: 0,
            grey,
        };
    };
    picture.apply_orientation(orientation);
    let (width, height) = (picture.width(), picture.height());
    let pixels = match picture {
        DynamicImage::ImageLuma8(p) => p.into_raw(),
        other => other.into_rgb8().into_raw(),
    };
    Raster {
        pixels,
        width,
        height,
        grey,
    }
}

fn encode(raster: &Raster, quality: u8) -> Result<Jpeg, PhotoError> {
    let side = |v: u32| u16::try_from(v).map_err(resize_error);
    let (width, height) = (side(raster.width)?, side(raster.height)?);
    let mut bytes = Vec::with_capacity(raster.pixels.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut bytes, quality);
    encoder.set_optimized_huffman_tables(true);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    let color = if raster.grey {
        jpeg_encoder::ColorType::Luma
    } else {
        jpeg_encoder::ColorType::Rgb
    };
    encoder
        .encode(&raster.pixels, width, height, color)
        .map_err(|e| PhotoError::Corrupt {
            why: format!("the photo could not be encoded: {e}"),
        })?;
    Ok(Jpeg {
        bytes,
        width: raster.width,
        height: raster.height,
    })
}

/// Reads a photo file, refusing one over the limit before reading it.
pub fn read_file(path: &Path, settings: &PhotoSettings) -> Result<Vec<u8>, PhotoError> {
    let file = std::fs::File::open(path).map_err(PhotoError::Read)?;
    let size = file.metadata().map_err(PhotoError::Read)?.len();
    if size > settings.max_file_bytes {
        return Err(PhotoError::FileTooLarge {
            bytes: size,
            limit: settings.max_file_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // The file may grow while it is read: never take more than the limit and one byte.
    file.take(settings.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(PhotoError::Read)?;
    Ok(bytes)
}

/// Only one photo is decoded at a time, so memory stays bounded when many are picked at once.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Processes a photo off the UI thread and stores it; returns what documents keep.
pub async fn import(
    repo: Arc<Repo>,
    bytes: Vec<u8>,
    settings: PhotoSettings,
) -> Result<PhotoRecord, PhotoError> {
    in_turn(move || {
        let photo = process(&bytes, &settings)?;
        Ok(repo.add_photo(&photo)?)
    })
    .await
}

/// Like [`import`], for a file the user picked: it is read off the UI thread too, and a file
/// over the limit is refused before it is read.
pub async fn import_file(
    repo: Arc<Repo>,
    path: std::path::PathBuf,
    settings: PhotoSettings,
) -> Result<PhotoRecord, PhotoError> {
    in_turn(move || {
        let bytes = read_file(&path, &settings)?;
        let photo = process(&bytes, &settings)?;
        Ok(repo.add_photo(&photo)?)
    })
    .await
}

async fn in_turn(
    work: impl FnOnce() -> Result<PhotoRecord, PhotoError> + Send + 'static,
) -> Result<PhotoRecord, PhotoError> {
    let turn = ONE_AT_A_TIME
        .acquire()
        .await
        .map_err(|_| PhotoError::Interrupted)?;
    // The turn goes with the work, so a caller that stops waiting does not let the next photo
    // start while this one is still being decoded.
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|e| {
        if e.is_panic() {
            PhotoError::Corrupt {
                why: DECODER_FAILED.into(),
            }
        } else {
            PhotoError::Interrupted
        }
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_the_aspect_and_never_enlarges() {
        assert_eq!(fit(4000, 3000, 1600), (1600, 1200));
        assert_eq!(fit(3000, 4000, 1600), (1200, 1600));
        assert_eq!(fit(6028, 3391, 1600), (1600, 900));
        assert_eq!(fit(800, 600, 1600), (800, 600));
        assert_eq!(fit(100_000, 1, 1600), (1600, 1));
    }

    fn tiff(fields: &[(Tag, &str)]) -> Vec<u8> {
        let fields: Vec<exif::Field> = fields
            .iter()
            .map(|(tag, text)| exif::Field {
                tag: *tag,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![text.as_bytes().to_vec()]),
            })
            .collect();
        let mut writer = exif::experimental::Writer::new();
        for field in &fields {
            writer.push_field(field);
        }
        let mut out = Cursor::new(Vec::new());
        writer.write(&mut out, false).expect("writes");
        out.into_inner()
    }

    #[test]
    fn the_capture_time_is_the_shutters_not_the_editors() {
        let shanghai = chrono_tz::Asia::Shanghai;
        let edited_only = tiff(&[(Tag::DateTime, "2026:11:21 09:00:00")]);
        assert_eq!(read_exif(&edited_only, shanghai).1, None);
        let digitized = tiff(&[
            (Tag::DateTime, "2026:11:21 09:00:00"),
            (Tag::DateTimeDigitized, "2026:11:20 08:30:00"),
        ]);
        assert_eq!(read_exif(&digitized, shanghai).1, Some(1_795_134_600_000));
        let leap = tiff(&[(Tag::DateTimeOriginal, "2026:11:20 08:29:60")]);
        assert_eq!(read_exif(&leap, shanghai).1, Some(1_795_134_599_000));
        assert_eq!(
            read_exif(b"not exif at all", shanghai),
            (Orientation::NoTransforms, None)
        );
    }

    #[test]
    fn exif_time_without_an_offset_is_in_the_mines_zone() {
        let mut when = exif::DateTime::from_ascii(b"2026:11:20 08:30:00").expect("parses");
        let shanghai = exif_millis(&when, chrono_tz::Asia::Shanghai);
        assert_eq!(shanghai, Some(1_795_134_600_000));
        when.parse_offset(b"+00:00").expect("offset");
        assert_eq!(
            exif_millis(&when, chrono_tz::Asia::Shanghai),
            Some(1_795_163_400_000)
        );
        let nonsense = exif::DateTime::from_ascii(b"2026:13:45 99:00:00").expect("parses");
        assert_eq!(exif_millis(&nonsense, chrono_tz::Asia::Shanghai), None);
    }
}
