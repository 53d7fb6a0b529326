//! Photo benchmark: our pipeline (full-size photo and thumbnail) against `vipsthumbnail` and
//! ImageMagick's `convert` (full-size photo only), side by side in one run, on the real photos.
//!
//! Run with `scripts/bench-photos`, which installs the two tools from Debian when missing, or
//! with `cargo bench -p zonepatrol-tests --bench photo` when they are there. Each tool runs as
//! its own process, in turns, `RUNS` times per photo after one warm-up; the wall time is
//! measured around the process, the peak memory (maximum resident set) is read by GNU
//! `/usr/bin/time`. Prints the median of each, the output size, and our figures against the
//! goal: no slower than vipsthumbnail, at most 1.5× its peak memory, output no larger. So that
//! a smaller file is not bought with a worse picture, each output's luma PSNR is printed against
//! a reference: the photo decoded at full size and scaled with Lanczos-3 in one step.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fast_image_resize as fir;

const RUNS: usize = 11;
const PHOTOS: [&str; 3] = [
    "phone-12mp.jpg",
    "phone-12mp-orient6.jpg",
    "kleiber-20mp.jpg",
];
const TIME: &str = "/usr/bin/time";
const VIPS: &str = "/usr/bin/vipsthumbnail";
// Debian's binary: a stand-in script on PATH may shadow it.
const MAGICK: &str = "/usr/bin/convert";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ours,
    Vips,
    Magick,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "zonepatrol (photo + thumbnail)",
            Tool::Vips => "vipsthumbnail",
            Tool::Magick => "ImageMagick convert",
        }
    }

    /// The command line, and the full-size output it writes.
    fn command(self, input: &Path, out: &Path) -> (Vec<String>, PathBuf) {
        let input = input.display().to_string();
        match self {
            Tool::Ours => (
                vec![
                    env!("CARGO_BIN_EXE_zonepatrol-photo").into(),
                    input,
                    out.display().to_string(),
                ],
                out.join("full.jpg"),
            ),
            Tool::Vips => {
                let file = out.join("vips.jpg");
                (
                    vec![
                        VIPS.into(),
                        input,
                        "-s".into(),
                        "1600".into(),
                        "-o".into(),
                        format!("{}[Q=80,strip]", file.display()),
                    ],
                    file,
                )
            }
            Tool::Magick => {
                let file = out.join("magick.jpg");
                (
                    vec![
                        MAGICK.into(),
                        input,
                        "-auto-orient".into(),
                        "-resize".into(),
                        "1600x1600>".into(),
                        "-quality".into(),
                        "80".into(),
                        file.display().to_string(),
                    ],
                    file,
                )
            }
        }
    }
}

struct Figures {
    times: Vec<Duration>,
    peaks_kib: Vec<u64>,
    output: u64,
}

fn run(argv: &[String]) -> Duration {
    let start = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", argv[0]));
    let took = start.elapsed();
    assert!(status.success(), "{argv:?} failed");
    took
}

/// The peak resident memory of one run, in KiB, as GNU time reports it.
fn peak(argv: &[String], report: &Path) -> u64 {
    let status = Command::new(TIME)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report)
        .args(argv)
        .stdout(Stdio::null())
        .status()
        .expect("GNU time runs");
    assert!(status.success(), "{argv:?} failed under time");
    let text = std::fs::read_to_string(report).expect("time's report");
    text.trim()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("time reported {text:?}"))
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

fn jpeg_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).expect("output");
    let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
    decoder.read_info().expect("a JPEG");
    let info = decoder.info().expect("info");
    (u32::from(info.width), u32::from(info.height))
}

/// An output's luma, decoded by `jpeg-decoder` (independent of all three encoders).
fn luma(path: &Path) -> image::GrayImage {
    let bytes = std::fs::read(path).expect("output");
    let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
    let pixels = decoder.decode().expect("a JPEG");
    let info = decoder.info().expect("info");
    let rgb = image::RgbImage::from_raw(u32::from(info.width), u32::from(info.height), pixels)
        .expect("RGB output");
    image::DynamicImage::ImageRgb8(rgb).to_luma8()
}

/// The reference a quality figure is measured against: the whole photo decoded at full size,
/// turned as its Exif says, and scaled with Lanczos-3 in one step.
fn reference(input: &Path, width: u32, height: u32) -> image::GrayImage {
    use image::ImageDecoder;
    let bytes = std::fs::read(input).expect("photo");
    let mut decoder =
        image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes)).expect("a JPEG");
    let orientation = decoder.orientation().expect("orientation");
    let mut picture = image::DynamicImage::from_decoder(decoder).expect("decodes");
    picture.apply_orientation(orientation);
    let rgb = picture.to_rgb8();
    let source = fir::images::ImageRef::new(
        rgb.width(),
        rgb.height(),
        rgb.as_raw(),
        fir::PixelType::U8x3,
    )
    .expect("image");
    let mut target = fir::images::Image::new(width, height, fir::PixelType::U8x3);
    fir::Resizer::new()
        .resize(
            &source,
            &mut target,
            &fir::ResizeOptions::new()
                .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3)),
        )
        .expect("resizes");
    let scaled = image::RgbImage::from_raw(width, height, target.into_vec()).expect("size");
    image::DynamicImage::ImageRgb8(scaled).to_luma8()
}

/// Peak signal-to-noise ratio of the luma, in dB: higher is closer to the reference.
fn psnr(a: &image::GrayImage, b: &image::GrayImage) -> f64 {
    let squared: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum();
    let mse = squared / a.as_raw().len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

fn main() {
    for tool in [TIME, VIPS, MAGICK] {
        if !Path::new(tool).exists() {
            eprintln!("{tool} is missing: run scripts/bench-photos, which installs it");
            std::process::exit(2);
        }
    }
    let photos = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/photos");
    let scratch = tempfile::tempdir().expect("scratch dir");
    let report = scratch.path().join("time.txt");
    let tools = [Tool::Ours, Tool::Vips, Tool::Magick];
    println!(
        "photo benchmark: median of {RUNS} runs each, tools in turns; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut verdicts = Vec::new();
    for name in PHOTOS {
        let input = photos.join(name);
        let input_size = std::fs::metadata(&input).expect("photo").len();
        let commands: Vec<_> = tools
            .iter()
            .map(|t| t.command(&input, scratch.path()))
            .collect();
        let mut figures: Vec<Figures> = tools
            .iter()
            .map(|_| Figures {
                times: Vec::new(),
                peaks_kib: Vec::new(),
                output: 0,
            })
            .collect();
        for (argv, _) in &commands {
            run(argv);
        }
        for _ in 0..RUNS {
            for (i, (argv, _)) in commands.iter().enumerate() {
                figures[i].times.push(run(argv));
                figures[i].peaks_kib.push(peak(argv, &report));
            }
        }
        for (i, (_, out)) in commands.iter().enumerate() {
            figures[i].output = std::fs::metadata(out).expect("output").len();
        }
        println!("\n{name} ({} bytes)", input_size);
        println!(
            "  {:<32} {:>9} {:>11} {:>12} {:>11} {:>9}",
            "tool", "time ms", "peak MiB", "output B", "size", "PSNR dB"
        );
        let (w, h) = jpeg_size(&commands[0].1);
        let truth = reference(&input, w, h);
        for (i, tool) in tools.iter().enumerate() {
            let (w, h) = jpeg_size(&commands[i].1);
            println!(
                "  {:<32} {:>9.1} {:>11.1} {:>12} {:>11} {:>9.2}",
                tool.name(),
                median(figures[i].times.clone()).as_secs_f64() * 1000.0,
                median(figures[i].peaks_kib.clone()) as f64 / 1024.0,
                figures[i].output,
                format!("{w}×{h}"),
                psnr(&luma(&commands[i].1), &truth),
            );
        }
        let thumb = std::fs::metadata(scratch.path().join("thumb.jpg")).map_or(0, |m| m.len());
        println!(
            "  (our thumbnail: {thumb} bytes, {:?})",
            jpeg_size(&scratch.path().join("thumb.jpg"))
        );
        let ours = &figures[0];
        let vips = &figures[1];
        let time_ratio =
            median(ours.times.clone()).as_secs_f64() / median(vips.times.clone()).as_secs_f64();
        let memory_ratio =
            median(ours.peaks_kib.clone()) as f64 / median(vips.peaks_kib.clone()) as f64;
        let size_ratio = ours.output as f64 / vips.output as f64;
        let met = time_ratio <= 1.0 && memory_ratio <= 1.5 && size_ratio <= 1.0;
        println!(
            "  ours / vipsthumbnail: time {time_ratio:.2}× (goal ≤ 1), peak memory {memory_ratio:.2}× (goal ≤ 1.5), output {size_ratio:.3}× (goal ≤ 1): {}",
            if met { "met" } else { "NOT MET" }
        );
        verdicts.push((name, met));
    }
    println!();
    for (name, met) in verdicts {
        println!("{name}: goal {}", if met { "met" } else { "NOT MET" });
    }
}
