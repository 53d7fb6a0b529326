//! Encoded pictures to pixels: JPEG by `jpeg-decoder` at a reduced scale, PNG and WebP by
//! `image`; every decoder within the settings' pixel and memory limits.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat};

use super::raster::{Raster, fit};
use super::{PhotoError, PhotoSettings};

/// What a file that is not a picture we know looks like, for the error.
pub(super) fn describe(bytes: &[u8]) -> String {
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

pub(super) fn decode_jpeg(
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

pub(super) fn decode_with_image(
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
