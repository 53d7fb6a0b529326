//! Decoded pixels: scaling, turning the way the camera was held, and JPEG encoding.

use fast_image_resize as fir;
use image::metadata::Orientation;
use image::{DynamicImage, GrayImage, RgbImage};

use super::{Jpeg, PhotoError};

/// Decoded pixels: 3 bytes per pixel (RGB) or 1 (grey).
pub(super) struct Raster {
    /// Row by row, `channels()` bytes a pixel.
    pub(super) pixels: Vec<u8>,
    /// Width.
    pub(super) width: u32,
    /// Height.
    pub(super) height: u32,
    /// One grey byte a pixel, not three of RGB.
    pub(super) grey: bool,
}

impl Raster {
    /// Bytes per pixel.
    pub(super) fn channels(&self) -> usize {
        if self.grey { 1 } else { 3 }
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
pub(super) fn resize(raster: Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
    if (raster.width, raster.height) == (width, height) {
        return Ok(raster);
    }
    resize_ref(&raster, width, height)
}

pub(super) fn resize_ref(raster: &Raster, width: u32, height: u32) -> Result<Raster, PhotoError> {
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
pub(super) fn orient(raster: Raster, orientation: Orientation) -> Raster {
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

pub(super) fn encode(raster: &Raster, quality: u8) -> Result<Jpeg, PhotoError> {
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
}
