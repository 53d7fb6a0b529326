//! The photo pipeline on real camera photos and on bad input, with a real sled store.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exif::{Field, In, Rational, Tag, Value};
use image::{DynamicImage, GenericImageView, GrayImage, ImageFormat, RgbImage, RgbaImage};
use sha2::{Digest, Sha256};
use zonepatrol_app::photo::{self, PhotoError, PhotoSettings, Processed};
use zonepatrol_app::store::Repo;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/photos")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn settings() -> PhotoSettings {
    PhotoSettings::default()
}

/// Our output, decoded. With `jpeg-decoder`, not `image`: `image` 0.25.10 decodes with
/// zune-jpeg 0.5.15, which mis-decodes baseline JPEGs with one scan per component (valid, and
/// what optimised Huffman tables give; libjpeg-turbo, browsers, Android and zune-jpeg
/// 0.5.16 read them correctly).
fn decoded(jpeg: &[u8]) -> DynamicImage {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let pixels = decoder.decode().expect("our output decodes");
    let info = decoder.info().expect("info");
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(width, height, pixels).expect("size"))
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, pixels).expect("size"))
        }
        other => panic!("we never write {other:?}"),
    }
}

fn camera(jpeg: &[u8]) -> DynamicImage {
    image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).expect("the fixture decodes")
}

/// The markers of a JPEG's segments before its image data.
fn markers(jpeg: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xff, 0xd8], "starts with SOI");
    let mut at = 2;
    let mut found = Vec::new();
    while at + 4 <= jpeg.len() {
        assert_eq!(jpeg[at], 0xff, "a marker at {at}");
        let marker = jpeg[at + 1];
        found.push(marker);
        if marker == 0xda {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        at += 2 + len;
    }
    found
}

/// The JPEG with its Exif replaced by the given segments, right after its SOI.
fn with_segments(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xff, *marker]);
        let len = u16::try_from(payload.len() + 2).expect("small segment");
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(payload);
    }
    let mut at = 2;
    while jpeg[at + 1] != 0xda {
        let end = at + 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        if jpeg[at + 1] != 0xe1 {
            out.extend_from_slice(&jpeg[at..end]);
        }
        at = end;
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// An Exif segment as a phone writes it: orientation, capture time, camera and GPS position.
fn exif_segment(orientation: u16, taken: &str, offset: Option<&str>) -> Vec<u8> {
    let mut fields = vec![
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![orientation]),
        },
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"SecretPhone".to_vec()]),
        },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![taken.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"N".to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![
                Rational { num: 39, denom: 1 },
                Rational { num: 54, denom: 1 },
                Rational { num: 27, denom: 1 },
            ]),
        },
    ];
    if let Some(offset) = offset {
        fields.push(Field {
            tag: Tag::OffsetTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![offset.as_bytes().to_vec()]),
        });
    }
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("exif writes");
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff.into_inner());
    segment
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn open_repo() -> Result<(tempfile::TempDir, Repo)> {
    let dir = tempfile::tempdir()?;
    let repo = Repo::open(dir.path())?;
    Ok((dir, repo))
}

fn blob_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("blobs"))
        .expect("blobs dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Processes and stores like the app does; on refusal checks that nothing at all was stored.
fn add(
    dir: &Path,
    repo: &Repo,
    bytes: &[u8],
    settings: &PhotoSettings,
) -> std::result::Result<Processed, PhotoError> {
    let result = photo::process(bytes, settings).and_then(|p| {
        repo.add_photo(&p)?;
        Ok(p)
    });
    if result.is_err() {
        assert!(repo.photos().expect("photos").is_empty(), "no photo record");
        assert!(
            repo.outbox().expect("outbox").is_empty(),
            "nothing to upload"
        );
        assert_eq!(blob_files(dir), Vec::<PathBuf>::new(), "no file");
    }
    result
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_12_megapixel_photo_becomes_1600_by_1200_with_a_320_thumbnail() -> Result {
    let original = fixture("phone-12mp.jpg");
    let photo = photo::process(&original, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1200));
    assert_eq!((photo.thumb.width, photo.thumb.height), (320, 240));
    assert_eq!(decoded(&photo.full.bytes).dimensions(), (1600, 1200));
    assert_eq!(decoded(&photo.thumb.bytes).dimensions(), (320, 240));
    // Small enough to send over a weak link: a few hundred kilobytes, a thumbnail of a few tens.
    assert!(
        photo.full.bytes.len() < 300_000,
        "{}",
        photo.full.bytes.len()
    );
    assert!(
        photo.thumb.bytes.len() < 30_000,
        "{}",
        photo.thumb.bytes.len()
    );
    // It still looks like the photograph: the thumbnail matches one made by `image` alone.
    let reference = camera(&original).thumbnail_exact(320, 240).to_luma8();
    let ours = decoded(&photo.thumb.bytes).to_luma8();
    assert!(mean_difference(&ours, &reference) < 4.0);
    // The same photo gives the same bytes, so the same names, every time.
    let again = photo::process(&original, &settings())?;
    assert_eq!(hash(&again.full.bytes), hash(&photo.full.bytes));
    assert_eq!(hash(&again.thumb.bytes), hash(&photo.thumb.bytes));
    Ok(())
}

#[test]
fn a_20_megapixel_photo_keeps_its_wide_aspect() -> Result {
    let photo = photo::process(&fixture("kleiber-20mp.jpg"), &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 900));
    assert_eq!((photo.thumb.width, photo.thumb.height), (320, 180));
    assert_eq!(decoded(&photo.full.bytes).dimensions(), (1600, 900));
    Ok(())
}

fn mean_difference(a: &GrayImage, b: &GrayImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(x, y)| u64::from(x.0[0].abs_diff(y.0[0])))
        .sum();
    total as f64 / f64::from(a.width() * a.height())
}

#[test]
fn a_photo_taken_upright_comes_out_portrait_and_turned_the_right_way() -> Result {
    let plain = photo::process(&fixture("phone-12mp.jpg"), &settings())?;
    let upright = photo::process(&fixture("phone-12mp-orient6.jpg"), &settings())?;
    assert_eq!((upright.full.width, upright.full.height), (1200, 1600));
    assert_eq!((upright.thumb.width, upright.thumb.height), (240, 320));
    assert_eq!(decoded(&upright.full.bytes).dimensions(), (1200, 1600));
    // Orientation 6 means "turn 90° clockwise to view": the pixels must be the plain photo's
    // turned clockwise, not anticlockwise and not mirrored.
    let ours = decoded(&upright.thumb.bytes).to_luma8();
    let plain = decoded(&plain.thumb.bytes);
    let clockwise = mean_difference(&ours, &plain.rotate90().to_luma8());
    let anticlockwise = mean_difference(&ours, &plain.rotate270().to_luma8());
    let mirrored = mean_difference(&ours, &plain.rotate90().fliph().to_luma8());
    assert!(clockwise < 3.0, "clockwise differs by {clockwise}");
    assert!(
        anticlockwise > 4.0 * clockwise,
        "{anticlockwise} vs {clockwise}"
    );
    assert!(mirrored > 4.0 * clockwise, "{mirrored} vs {clockwise}");
    Ok(())
}

#[test]
fn metadata_is_dropped_but_the_capture_time_is_kept() -> Result {
    let original = fixture("phone-12mp.jpg");
    let icc = {
        let mut p = b"ICC_PROFILE\0\x01\x01".to_vec();
        p.extend_from_slice(&[0x42; 200]);
        p
    };
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret-xmp</x:xmpmeta>".to_vec();
    let tagged = with_segments(
        &original,
        &[
            (0xe1, exif_segment(6, "2026:11:20 08:30:00", None)),
            (0xe1, xmp),
            (0xe2, icc),
            (0xfe, b"secret comment".to_vec()),
        ],
    );
    let photo = photo::process(&tagged, &settings())?;
    // 08:30 on the mine's clock (Asia/Shanghai, UTC+8) is 00:30 UTC.
    assert_eq!(photo.taken_at, Some(1_795_134_600_000));
    // The orientation was applied, then dropped with the rest.
    assert_eq!((photo.full.width, photo.full.height), (1200, 1600));
    for jpeg in [&photo.full.bytes, &photo.thumb.bytes] {
        let found = markers(jpeg);
        let app_or_comment: Vec<u8> = found
            .iter()
            .copied()
            .filter(|m| (0xe1..=0xef).contains(m) || *m == 0xfe)
            .collect();
        assert_eq!(app_or_comment, Vec::<u8>::new(), "markers {found:02x?}");
        for secret in [&b"SecretPhone"[..], b"Exif", b"secret", b"ICC_PROFILE"] {
            assert!(
                !contains(jpeg, secret),
                "{}",
                String::from_utf8_lossy(secret)
            );
        }
    }
    // A camera that records its UTC offset is taken at its word.
    let with_offset = with_segments(
        &original,
        &[(0xe1, exif_segment(1, "2026:11:20 08:30:00", Some("+00:00")))],
    );
    let photo = photo::process(&with_offset, &settings())?;
    assert_eq!(photo.taken_at, Some(1_795_163_400_000));
    assert_eq!((photo.full.width, photo.full.height), (1600, 1200));
    // No Exif, no time.
    assert_eq!(photo::process(&original, &settings())?.taken_at, None);
    // An offset out of range is ignored: the mine's clock again.
    let bad_offset = with_segments(
        &original,
        &[(0xe1, exif_segment(1, "2026:11:20 08:30:00", Some("+99:00")))],
    );
    assert_eq!(
        photo::process(&bad_offset, &settings())?.taken_at,
        Some(1_795_134_600_000)
    );
    Ok(())
}

#[test]
fn a_photo_is_stored_once_under_its_hash_and_queued_for_upload() -> Result {
    let (dir, repo) = open_repo()?;
    let photo = photo::process(&fixture("phone-12mp-orient6.jpg"), &settings())?;
    let record = repo.add_photo(&photo)?;
    assert_eq!(record.hash, hash(&photo.full.bytes));
    assert_eq!(record.thumb, hash(&photo.thumb.bytes));
    assert_eq!((record.width, record.height), (1200, 1600));
    assert_eq!((record.thumb_width, record.thumb_height), (240, 320));
    assert_eq!(
        std::fs::read(repo.blob_path(&record.hash))?,
        photo.full.bytes
    );
    assert_eq!(
        std::fs::read(repo.blob_path(&record.thumb))?,
        photo.thumb.bytes
    );
    let mut queued: Vec<String> = repo.outbox()?.into_iter().map(|o| o.hash).collect();
    queued.sort();
    let mut expected = vec![record.hash.clone(), record.thumb.clone()];
    expected.sort();
    assert_eq!(queued, expected);
    assert_eq!(record.reference().thumb, record.thumb);

    // Picking the same photo again changes nothing.
    let again = repo.add_photo(&photo::process(
        &fixture("phone-12mp-orient6.jpg"),
        &settings(),
    )?)?;
    assert_eq!(again, record);
    assert_eq!(repo.photos()?, vec![record.clone()]);
    assert_eq!(blob_files(dir.path()).len(), 2);

    // It is all still there after the app restarts; a file cut off by a crash is cleaned up.
    std::fs::write(
        dir.path()
            .join("blobs")
            .join(format!("{}.tmp", "0".repeat(64))),
        b"half",
    )?;
    drop(repo);
    let repo = Repo::open(dir.path())?;
    assert_eq!(repo.photo(&record.hash)?, Some(record));
    assert_eq!(repo.outbox()?.len(), 2);
    assert_eq!(blob_files(dir.path()).len(), 2);
    Ok(())
}

#[test]
fn a_failed_store_leaves_no_file_and_no_record() -> Result {
    let (dir, repo) = open_repo()?;
    let photo = photo::process(&fixture("phone-12mp.jpg"), &settings())?;
    // The thumbnail's file cannot be written: a directory is in the way.
    let blocker = dir
        .path()
        .join("blobs")
        .join(format!("{}.tmp", hash(&photo.thumb.bytes)));
    std::fs::create_dir(&blocker)?;
    let err = repo.add_photo(&photo).expect_err("cannot store");
    assert!(err.to_string().contains("free some space"), "{err}");
    assert!(repo.photos()?.is_empty());
    assert!(repo.outbox()?.is_empty());
    assert!(
        !repo.blob_path(&hash(&photo.full.bytes)).exists(),
        "full-size file removed"
    );
    // The store still opens with the obstacle there, and takes the photo once it is gone.
    drop(repo);
    let repo = Repo::open(dir.path())?;
    std::fs::remove_dir(&blocker)?;
    let record = repo.add_photo(&photo)?;
    assert_eq!(repo.photos()?, vec![record]);
    assert_eq!(blob_files(dir.path()).len(), 2);
    Ok(())
}

#[test]
fn the_long_edge_is_never_short_of_the_target() -> Result {
    // Half of 3198 is 1599: the decoder must not halve it.
    let odd = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(3198, 2399)),
        ImageFormat::Jpeg,
    );
    let photo = photo::process(&odd, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1200));
    let tall = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(2399, 3198)),
        ImageFormat::Jpeg,
    );
    let photo = photo::process(&tall, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1200, 1600));
    Ok(())
}

#[test]
fn sizes_and_quality_are_configurable() -> Result {
    let custom = PhotoSettings {
        long_edge: 1024,
        thumb_edge: 200,
        quality: 60,
        ..settings()
    };
    let small = photo::process(&fixture("phone-12mp.jpg"), &custom)?;
    assert_eq!((small.full.width, small.full.height), (1024, 768));
    assert_eq!((small.thumb.width, small.thumb.height), (200, 150));
    let normal = photo::process(&fixture("phone-12mp.jpg"), &settings())?;
    assert!(small.full.bytes.len() < normal.full.bytes.len() / 2);
    let wrong = PhotoSettings {
        quality: 0,
        ..settings()
    };
    assert!(matches!(
        photo::process(&fixture("phone-12mp.jpg"), &wrong),
        Err(PhotoError::Settings(_))
    ));
    Ok(())
}

/// A smaller copy of the 12-megapixel photo, as pixels.
fn sample_rgb(width: u32, height: u32) -> RgbImage {
    camera(&fixture("phone-12mp.jpg"))
        .resize_exact(width, height, image::imageops::FilterType::Triangle)
        .to_rgb8()
}

fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, format).expect("encodes");
    out.into_inner()
}

#[test]
fn png_webp_and_greyscale_photos_are_read_too() -> Result {
    let (dir, repo) = open_repo()?;
    let rgb = sample_rgb(2000, 1500);

    let png = encoded(&DynamicImage::ImageRgb8(rgb.clone()), ImageFormat::Png);
    let photo = add(dir.path(), &repo, &png, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1200));

    // A small picture is not enlarged.
    let webp = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(1000, 750)),
        ImageFormat::WebP,
    );
    let photo = add(dir.path(), &repo, &webp, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1000, 750));
    assert_eq!((photo.thumb.width, photo.thumb.height), (320, 240));

    // Grey stays grey.
    let grey = DynamicImage::ImageRgb8(rgb).to_luma8();
    let grey_jpeg = encoded(&DynamicImage::ImageLuma8(grey), ImageFormat::Jpeg);
    let photo = add(dir.path(), &repo, &grey_jpeg, &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1200));
    assert_eq!(decoded(&photo.full.bytes).color(), image::ColorType::L8);

    // Transparency is laid over white.
    let mut rgba = RgbaImage::from_pixel(1000, 500, image::Rgba([0, 0, 0, 255]));
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        if x < 500 {
            p.0[3] = 0;
        }
    }
    let png = encoded(&DynamicImage::ImageRgba8(rgba), ImageFormat::Png);
    let photo = add(dir.path(), &repo, &png, &settings())?;
    let out = decoded(&photo.full.bytes).to_luma8();
    assert!(out.get_pixel(100, 250).0[0] > 245, "transparent is white");
    assert!(
        out.get_pixel(900, 250).0[0] < 10,
        "opaque black stays black"
    );
    assert_eq!(repo.photos()?.len(), 4);
    Ok(())
}

#[test]
fn a_file_over_50_mb_is_refused_before_it_is_read() -> Result {
    let (dir, repo) = open_repo()?;
    let mut big = fixture("phone-12mp.jpg");
    big.resize(51 * 1024 * 1024, 0);
    let err = add(dir.path(), &repo, &big, &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::FileTooLarge { limit, .. } if limit == 50 * 1024 * 1024));
    assert!(err.to_string().contains("50 MB"), "{err}");

    // From a file: the size is known before reading, so a huge file is never loaded.
    let path = dir.path().join("huge.jpg");
    std::fs::File::create(&path)?.set_len(4 * 1024 * 1024 * 1024)?;
    let err = photo::read_file(&path, &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::FileTooLarge { bytes, .. } if bytes == 4 << 30));
    std::fs::remove_file(&path)?;
    assert_eq!(blob_files(dir.path()), Vec::<PathBuf>::new());
    Ok(())
}

/// The photo with the picture size in its frame header changed.
fn claiming_size(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let mut at = 2;
    loop {
        let marker = out[at + 1];
        if matches!(marker, 0xc0..=0xc2) {
            out[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
            out[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
            return out;
        }
        at += 2 + usize::from(u16::from_be_bytes([out[at + 2], out[at + 3]]));
    }
}

#[test]
fn pictures_over_100_megapixels_and_decompression_bombs_are_refused() -> Result {
    let (dir, repo) = open_repo()?;
    // A JPEG that claims 12000×9000 (108 megapixels).
    let claims = claiming_size(&fixture("phone-12mp.jpg"), 12000, 9000);
    let err = add(dir.path(), &repo, &claims, &settings()).expect_err("refused");
    assert!(
        matches!(
            err,
            PhotoError::TooManyPixels {
                width: 12000,
                height: 9000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("100 megapixels"), "{err}");

    // A real bomb: a PNG of a few hundred kilobytes that inflates to 108 million pixels.
    let bomb = encoded(
        &DynamicImage::ImageLuma8(GrayImage::new(12000, 9000)),
        ImageFormat::Png,
    );
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let err = add(dir.path(), &repo, &bomb, &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::TooManyPixels { .. }), "{err:?}");

    // Under the pixel limit but over the memory a decoder may take.
    let tight = PhotoSettings {
        max_decode_bytes: 8 * 1024 * 1024,
        ..settings()
    };
    let wide = encoded(
        &DynamicImage::ImageRgb8(RgbImage::new(3000, 2000)),
        ImageFormat::Png,
    );
    let err = add(dir.path(), &repo, &wide, &tight).expect_err("refused");
    assert!(matches!(err, PhotoError::TooMuchMemory { .. }), "{err:?}");
    // A progressive JPEG holds all its coefficients while it decodes (6 bytes a pixel here,
    // 36 MB); a baseline one of the same size is decoded at half scale and fits.
    let pixels = sample_rgb(3000, 2000);
    let jpeg_of = |progressive: bool| {
        let mut out = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
        encoder.set_progressive(progressive);
        encoder
            .encode(pixels.as_raw(), 3000, 2000, jpeg_encoder::ColorType::Rgb)
            .expect("encodes");
        out
    };
    let tight = PhotoSettings {
        max_decode_bytes: 32 * 1024 * 1024,
        ..settings()
    };
    let err = add(dir.path(), &repo, &jpeg_of(true), &tight).expect_err("refused");
    assert!(matches!(err, PhotoError::TooMuchMemory { .. }), "{err:?}");
    let photo = add(dir.path(), &repo, &jpeg_of(false), &tight)?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1067));
    // With room enough the progressive one is read too.
    let photo = add(dir.path(), &repo, &jpeg_of(true), &settings())?;
    assert_eq!((photo.full.width, photo.full.height), (1600, 1067));
    Ok(())
}

#[test]
fn truncated_files_are_refused() -> Result {
    let (dir, repo) = open_repo()?;
    let jpeg = fixture("phone-12mp.jpg");
    for cut in [jpeg.len() / 2, jpeg.len() - 100, 1000] {
        let err = add(dir.path(), &repo, &jpeg[..cut], &settings()).expect_err("refused");
        assert!(
            matches!(err, PhotoError::Truncated),
            "cut at {cut}: {err:?}"
        );
        assert!(err.to_string().contains("take the photo again"), "{err}");
    }
    let png = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(800, 600)),
        ImageFormat::Png,
    );
    let err = add(dir.path(), &repo, &png[..png.len() / 2], &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::Truncated), "png: {err:?}");
    let webp = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(800, 600)),
        ImageFormat::WebP,
    );
    let err = add(dir.path(), &repo, &webp[..webp.len() / 2], &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::Truncated), "webp: {err:?}");
    Ok(())
}

#[test]
fn corrupt_files_are_refused() -> Result {
    let (dir, repo) = open_repo()?;
    let jpeg = fixture("phone-12mp.jpg");
    // The headers overwritten with noise.
    let mut noisy = jpeg.clone();
    let mut state = 0x2545_f491_u32;
    for byte in &mut noisy[200..4000] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *byte = state.to_le_bytes()[0];
    }
    let err = add(dir.path(), &repo, &noisy, &settings()).expect_err("refused");
    assert!(
        matches!(err, PhotoError::Corrupt { .. } | PhotoError::Truncated),
        "{err:?}"
    );
    // A picture that claims no pixels.
    let err = add(
        dir.path(),
        &repo,
        &claiming_size(&jpeg, 0, 3000),
        &settings(),
    )
    .expect_err("refused");
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
    // A PNG whose pixel data fails its checksum.
    let mut png = encoded(
        &DynamicImage::ImageRgb8(sample_rgb(800, 600)),
        ImageFormat::Png,
    );
    let middle = png.len() / 2;
    png[middle] ^= 0xff;
    let err = add(dir.path(), &repo, &png, &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("damaged"), "{err}");
    Ok(())
}

#[test]
fn formats_it_does_not_read_are_refused_by_name() -> Result {
    let (dir, repo) = open_repo()?;
    // A 1×1 GIF.
    let gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
    let cases: [(&[u8], &str); 5] = [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic", "HEIC"),
        (b"inspection notes: roadway 3 is wet", "text"),
        (gif, "GIF"),
        (&[0x13, 0x37, 0x00, 0xff, 0x42, 0x99, 0x01, 0x02], "unknown"),
    ];
    for (bytes, name) in cases {
        let err = add(dir.path(), &repo, bytes, &settings()).expect_err("refused");
        assert!(matches!(err, PhotoError::Format { .. }), "{name}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(name), "{message}");
        assert!(message.contains("JPEG, PNG or WebP"), "{message}");
    }
    let err = add(dir.path(), &repo, b"", &settings()).expect_err("refused");
    assert!(matches!(err, PhotoError::Empty), "{err:?}");
    Ok(())
}

#[test]
fn damaged_photos_never_panic() {
    let jpeg = fixture("phone-12mp.jpg");
    let mut state = 0x9e37_79b9_u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as usize
    };
    // The photo with a few bytes flipped, eighty ways: half in the headers, half anywhere.
    for round in 0..80 {
        let mut bent = jpeg.clone();
        let span = if round % 2 == 0 { 2000 } else { bent.len() };
        for _ in 0..6 {
            let at = next() % span;
            bent[at] ^= (next() % 255 + 1) as u8;
        }
        // Either result is fine, but not a caught decoder panic.
        if let Err(PhotoError::Corrupt { why }) = photo::process(&bent, &settings()) {
            assert_ne!(why, photo::DECODER_FAILED, "round {round}");
        }
    }
}

#[tokio::test]
async fn import_runs_off_the_calling_thread_one_photo_at_a_time() -> Result {
    let dir = tempfile::tempdir()?;
    let repo = Arc::new(Repo::open(dir.path())?);
    let first = photo::import(repo.clone(), fixture("phone-12mp.jpg"), settings());
    let second = photo::import(repo.clone(), fixture("kleiber-20mp.jpg"), settings());
    let bad = photo::import(repo.clone(), b"not a photo".to_vec(), settings());
    let (first, second, bad) = tokio::join!(first, second, bad);
    let (first, second) = (first?, second?);
    assert!(matches!(bad, Err(PhotoError::Format { .. })));
    assert_eq!((first.width, first.height), (1600, 1200));
    assert_eq!((second.width, second.height), (1600, 900));
    assert_eq!(repo.photos()?.len(), 2);
    assert_eq!(repo.outbox()?.len(), 4);

    // A picked file: the same photo, so the same record.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/photos/phone-12mp.jpg");
    let picked = photo::import_file(repo.clone(), path, settings()).await?;
    assert_eq!(picked, first);
    let missing = photo::import_file(repo.clone(), dir.path().join("gone.jpg"), settings()).await;
    assert!(matches!(missing, Err(PhotoError::Read(_))), "{missing:?}");
    assert_eq!(repo.photos()?.len(), 2);
    Ok(())
}

#[test]
fn a_fetched_photo_is_kept_only_under_its_own_name_and_never_sent_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = Repo::open(dir.path()).expect("open");
    let bytes = b"thumbnail bytes".to_vec();
    let hash = hex::encode(Sha256::digest(&bytes));
    let other = hex::encode(Sha256::digest(b"something else"));
    assert!(repo.keep_blob(&other, &bytes).is_err(), "a damaged fetch");
    assert!(!repo.blob_path(&other).exists());
    repo.keep_blob(&hash, &bytes).expect("kept");
    assert_eq!(std::fs::read(repo.blob_path(&hash)).expect("file"), bytes);
    assert!(
        repo.outbox().expect("outbox").is_empty(),
        "the server has it"
    );
    assert!(repo.thumbs_missing("b1").expect("missing").is_empty());
}
