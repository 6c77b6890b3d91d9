//! A synthetic camera photo of any size, generated row by row straight into the JPEG encoder so
//! even 108 MP costs no full-size buffer. Shared by `tests/photo.rs` and `examples/photo_bench.rs`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use jpeg_encoder::{rgb_to_ycbcr, Encoder, ImageBuffer, JpegColorType, SamplingFactor};

/// The picture, as a function of position in the frame (so any scaled copy can be checked
/// against it): red rises left to right, green top to bottom, blue alternates between the cells
/// of an 8 × 6 checkerboard ([`smooth`]), and pixel noise (0–31 on red and blue, 0–15 on green)
/// makes the file about as large as a phone's (22 MB at 108 MP).
pub fn pattern(x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    let [r, g, b] = smooth(x, y, width, height);
    let ripple = noise(x, y) >> 3; // 0..=31
    [r.saturating_add(ripple), g + ripple / 2, b + ripple]
}

/// [`pattern`] without its noise.
pub fn smooth(x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    let r = (x as u64 * 255 / width as u64) as u8;
    let g = (y as u64 * 220 / height as u64) as u8;
    let cell = x as u64 * 8 / width as u64 + y as u64 * 6 / height as u64;
    let b = if cell.is_multiple_of(2) { 40 } else { 200 };
    [r, g, b]
}

/// The mean the noise adds to each channel of [`smooth`] (where red does not saturate).
#[allow(dead_code)] // used by the tests, not the benchmark
pub const NOISE_MEAN: [f64; 3] = [15.5, 7.5, 15.5];

/// A well-mixed hash of the position: sensor-like noise that survives JPEG quantisation.
fn noise(x: u32, y: u32) -> u8 {
    let mut h = x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2C1B_3C6D);
    h ^= h >> 12;
    (h >> 24) as u8
}

struct Synthetic {
    width: u16,
    height: u16,
}

impl ImageBuffer for Synthetic {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        JpegColorType::Ycbcr
    }
    fn width(&self) -> u16 {
        self.width
    }
    fn height(&self) -> u16 {
        self.height
    }
    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let (w, h) = (u32::from(self.width), u32::from(self.height));
        for x in 0..w {
            let [r, g, b] = pattern(x, u32::from(y), w, h);
            let (luma, cb, cr) = rgb_to_ycbcr(r, g, b);
            buffers[0].push(luma);
            buffers[1].push(cb);
            buffers[2].push(cr);
        }
    }
}

/// Writes a `width`×`height` baseline 4:2:0 JPEG of [`pattern`] at quality 85, as a phone would.
pub fn write_synthetic_jpeg(path: &Path, width: u16, height: u16) -> std::io::Result<()> {
    let out = BufWriter::new(File::create(path)?);
    let mut encoder = Encoder::new(out, 85);
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    encoder
        .encode_image(Synthetic { width, height })
        .map_err(std::io::Error::other)
}
