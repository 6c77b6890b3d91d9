//! Helpers shared by the photo tests: the fixtures, decoding, comparing, and JPEGs made to order.
#![allow(clippy::unwrap_used, dead_code)]

pub mod synthetic;

use std::path::{Path, PathBuf};

use pengwang_core::photo::{ingest_file, IngestedPhoto, PhotoLimits};

pub const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/photos"
);

pub fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

pub fn ingest_fixture(name: &str) -> IngestedPhoto {
    ingest_file(&fixture(name), &PhotoLimits::default()).unwrap()
}

/// Decoded 8-bit pixels of a stored JPEG.
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

pub fn decode(jpeg: &[u8]) -> Decoded {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let data = decoder.decode().unwrap();
    let info = decoder.info().unwrap();
    Decoded {
        width: u32::from(info.width),
        height: u32::from(info.height),
        data,
    }
}

/// Mean absolute difference per 8-bit sample of two same-sized images.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// The marker segments of a JPEG before its first scan: (marker, payload).
pub fn segments(jpeg: &[u8]) -> Vec<(u8, &[u8])> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut out = Vec::new();
    let mut pos = 2;
    while jpeg[pos] == 0xFF && jpeg[pos + 1] != 0xDA {
        let marker = jpeg[pos + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[pos + 2], jpeg[pos + 3]]));
        out.push((marker, &jpeg[pos + 4..pos + 2 + len]));
        pos += 2 + len;
    }
    assert_eq!(&jpeg[pos..pos + 2], &[0xFF, 0xDA], "header ends in a scan");
    out
}

/// No APP1 segment at all: neither EXIF (`Exif\0\0`) nor XMP survives ingest.
pub fn assert_no_exif(jpeg: &[u8]) {
    let segs = segments(jpeg);
    assert!(
        segs.iter().all(|(m, _)| *m != 0xE1),
        "APP1 segments: {:?}",
        segs.iter()
            .filter(|(m, _)| *m == 0xE1)
            .map(|(_, p)| String::from_utf8_lossy(&p[..p.len().min(6)]).into_owned())
            .collect::<Vec<_>>()
    );
    assert!(!jpeg.windows(6).any(|w| w == b"Exif\0\0"));
}

/// A small upright JPEG of the synthetic pattern carrying `exif` (raw TIFF structure) in APP1.
pub fn jpeg_with_exif(width: u16, height: u16, exif: &[u8]) -> Vec<u8> {
    let (w, h) = (u32::from(width), u32::from(height));
    let pixels: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| synthetic::pattern(x, y, w, h)))
        .collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.add_exif_metadata(exif).unwrap();
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}
