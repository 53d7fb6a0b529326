//! Why a photo was not added.

use super::MB;
use crate::store::StoreError;

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
