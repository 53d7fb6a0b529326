//! Reading a placard's QR code from a photo of it.

use image::{GrayImage, ImageFormat, Luma};
use qrcode::{Color, QrCode};
use zonepatrol_app::photo::{PhotoError, PhotoSettings};
use zonepatrol_app::qr;

/// A photo-sized picture of a placard: grey background, the code in a quiet zone, slightly
/// uneven light, at an offset.
fn placard(text: &str, width: u32, height: u32, module: u32) -> GrayImage {
    let code = QrCode::new(text.as_bytes()).expect("code");
    let n = code.width() as u32;
    let colors = code.to_colors();
    let (x0, y0) = (width / 3, height / 4);
    GrayImage::from_fn(width, height, |x, y| {
        let light = 150 + ((x + y) % 37) as u8;
        let (cx, cy) = (x.wrapping_sub(x0), y.wrapping_sub(y0));
        let quiet = 4 * module;
        if cx < n * module + 2 * quiet && cy < n * module + 2 * quiet {
            let (mx, my) = (
                cx.wrapping_sub(quiet) / module,
                cy.wrapping_sub(quiet) / module,
            );
            let inside = cx >= quiet && cy >= quiet && mx < n && my < n;
            if inside && colors[(my * n + mx) as usize] == Color::Dark {
                return Luma([25]);
            }
            return Luma([235]);
        }
        Luma([light])
    })
}

fn encode(image: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

#[test]
fn the_code_on_a_placard_photo_reads_back() {
    let settings = PhotoSettings::default();
    // A 12 MP JPEG, brought down to 1600 px before the search, as a phone would take it.
    let big = placard("zonepatrol:zone:zcyd:z2", 4000, 3000, 24);
    let text = qr::read(&encode(&big, ImageFormat::Jpeg), &settings).expect("decode");
    assert_eq!(text.as_deref(), Some("zonepatrol:zone:zcyd:z2"));
    let small = placard("z1", 800, 600, 8);
    let text = qr::read(&encode(&small, ImageFormat::Png), &settings).expect("decode");
    assert_eq!(text.as_deref(), Some("z1"));
}

#[test]
fn a_photo_without_a_code_reads_as_none_and_a_bad_file_as_an_error() {
    let settings = PhotoSettings::default();
    let photo = std::fs::read("../tests/fixtures/photos/phone-12mp.jpg").expect("fixture");
    assert_eq!(qr::read(&photo, &settings).expect("decode"), None);
    assert!(matches!(
        qr::read(b"%PDF-1.7 not a photo", &settings),
        Err(PhotoError::Format { .. })
    ));
    assert!(matches!(qr::read(&[], &settings), Err(PhotoError::Empty)));
    let cut = &photo[..photo.len() / 3];
    assert!(
        qr::read(cut, &settings).is_err(),
        "a truncated photo is an error, not a panic"
    );
}
