//! Decoding, bounded before it starts. The frame header says how many pixels the image has and
//! how it is coded; from that we refuse bombs and work out what the decoder will allocate at the
//! scale we ask for, then let `jpeg-decoder` do its DCT-domain downscale (1/2, 1/4, 1/8) so a
//! 108 MP photo never exists in memory at full size.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::header::{read_frame, Frame, Process};
use super::{PhotoError, PhotoLimits};

/// Fewest pixels one byte of entropy-coded data can carry, conservatively: every 8×8 block of
/// every component costs at least one Huffman-coded bit (the DC difference), so a grey
/// progressive JPEG, the densest kind, needs at least one byte per 512 pixels. We refuse files
/// that declare more than twice that, which no encoder can produce.
const MAX_PIXELS_PER_BYTE: u64 = 1024;

/// 8-bit pixels, row-major, `channels` bytes per pixel (1 = grey, 3 = RGB).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub channels: usize,
}

/// What we will ask the decoder for, checked against the limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub frame: Frame,
    /// Decode at `idct`/8 of full size: 8 = full size, 1 = one eighth.
    pub idct: u32,
    pub width: u32,
    pub height: u32,
}

/// A decoded image with the metadata segments it carried.
pub(crate) struct Decoded {
    pub pixels: Pixels,
    pub exif: Option<Vec<u8>>,
    pub icc: Option<Vec<u8>>,
}

/// Reads the frame header and refuses what would be a decompression bomb. The chosen scale is the
/// smallest whose long side still reaches `limits.long_side` (or full size for smaller photos).
pub(crate) fn plan(bytes: &[u8], limits: &PhotoLimits) -> Result<Plan, PhotoError> {
    let frame = read_frame(bytes)?;
    let bomb = |reason: String| PhotoError::Bomb {
        width: frame.width,
        height: frame.height,
        reason,
    };
    let pixels = u64::from(frame.width) * u64::from(frame.height);
    if pixels > limits.max_pixels {
        return Err(bomb(format!(
            "{} megapixels is over the {} MP limit",
            pixels / 1_000_000,
            limits.max_pixels / 1_000_000
        )));
    }
    let len = bytes.len() as u64;
    if pixels > len.saturating_mul(MAX_PIXELS_PER_BYTE) {
        return Err(bomb(format!(
            "a {len}-byte file cannot hold {pixels} pixels (decompression bomb)"
        )));
    }
    let long = frame.width.max(frame.height);
    let idct = [1, 2, 4]
        .into_iter()
        .find(|&k| scaled(long, k) >= limits.long_side)
        .unwrap_or(8);
    let need = decoder_bytes(&frame, idct);
    if need > limits.max_decode_bytes {
        return Err(bomb(format!(
            "decoding would need about {} MiB, over the {} MiB budget",
            need >> 20,
            limits.max_decode_bytes >> 20
        )));
    }
    Ok(Plan {
        width: scaled(frame.width, idct),
        height: scaled(frame.height, idct),
        frame,
        idct,
    })
}

/// `len` at `idct`/8 scale, rounded up (as the decoder does).
fn scaled(len: u32, idct: u32) -> u32 {
    (u64::from(len) * u64::from(idct)).div_ceil(8) as u32
}

/// What `jpeg-decoder` allocates for this frame at this scale: one plane per component (padded
/// to whole MCUs), the interleaved output, and — for progressive JPEGs only — every DCT
/// coefficient of the full-size image (2 bytes × 64 per block), which no scale reduces.
fn decoder_bytes(frame: &Frame, idct: u32) -> u64 {
    let h_max = frame.sampling.iter().map(|s| s.0).max().unwrap_or(1);
    let v_max = frame.sampling.iter().map(|s| s.1).max().unwrap_or(1);
    let mcus_x = u64::from(frame.width.div_ceil(8 * h_max));
    let mcus_y = u64::from(frame.height.div_ceil(8 * v_max));
    let blocks: u64 = frame
        .sampling
        .iter()
        .map(|&(h, v)| mcus_x * u64::from(h) * mcus_y * u64::from(v))
        .sum();
    let coefficients = match frame.process {
        Process::Progressive => blocks * 64 * 2,
        Process::Sequential => 0,
    };
    let planes = blocks * u64::from(idct * idct);
    let output = u64::from(scaled(frame.width, idct))
        * u64::from(scaled(frame.height, idct))
        * frame.sampling.len() as u64;
    coefficients + planes + output
}

/// Decodes at the planned scale. A panic inside the decoder (a crate defect on hostile input)
/// becomes a [`PhotoError::Corrupt`] instead of taking the app down.
pub(crate) fn decode(bytes: &[u8], plan: &Plan) -> Result<Decoded, PhotoError> {
    match catch_unwind(AssertUnwindSafe(|| decode_inner(bytes, plan))) {
        Ok(result) => result,
        Err(_) => Err(PhotoError::Corrupt(
            "the JPEG decoder failed on this file".into(),
        )),
    }
}

fn decode_inner(bytes: &[u8], plan: &Plan) -> Result<Decoded, PhotoError> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    // Ask for exactly the planned size: the decoder picks the same scale as `plan`.
    let want = |len: u32| u16::try_from(len).unwrap_or(u16::MAX);
    let (w, h) = decoder
        .scale(want(plan.width), want(plan.height))
        .map_err(from_decoder)?;
    if (u32::from(w), u32::from(h)) != (plan.width, plan.height) {
        return Err(PhotoError::Internal(format!(
            "decoder chose {w}×{h}, planned {}×{}",
            plan.width, plan.height
        )));
    }
    let data = decoder.decode().map_err(from_decoder)?;
    let channels = plan.frame.sampling.len();
    if data.len() != plan.width as usize * plan.height as usize * channels {
        return Err(PhotoError::Internal(format!(
            "decoder returned {} bytes for {w}×{h}×{channels}",
            data.len()
        )));
    }
    Ok(Decoded {
        pixels: Pixels {
            data,
            width: plan.width,
            height: plan.height,
            channels,
        },
        exif: decoder.exif_data().map(<[u8]>::to_vec),
        icc: decoder.icc_profile(),
    })
}

fn from_decoder(e: jpeg_decoder::Error) -> PhotoError {
    use jpeg_decoder::Error;
    match e {
        Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PhotoError::Corrupt("the data ends before the image does (truncated file)".into())
        }
        Error::Unsupported(feature) => PhotoError::Unsupported(format!("{feature:?}")),
        Error::Format(why) => PhotoError::Corrupt(why),
        other => PhotoError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(process: Process, width: u32, height: u32) -> Frame {
        Frame {
            process,
            width,
            height,
            sampling: vec![(2, 2), (1, 1), (1, 1)],
        }
    }

    #[test]
    fn decoder_memory_of_a_108_mp_photo_by_hand() {
        // 12000×9000 4:2:0: 750×563 MCUs of 16×16 (9000/16 = 562.5, rounded up).
        // Blocks: luma 4 × 750 × 563 = 1,689,000, chroma 2 × 422,250 → 2,533,500 blocks.
        let f = frame(Process::Sequential, 12_000, 9_000);
        // At 1/4 (idct 2): planes 2,533,500 × 4 = 10,134,000; output 3000 × 2250 × 3 = 20,250,000.
        assert_eq!(decoder_bytes(&f, 2), 10_134_000 + 20_250_000);
        // Progressive adds 2,533,500 × 128 bytes of coefficients.
        let p = frame(Process::Progressive, 12_000, 9_000);
        assert_eq!(decoder_bytes(&p, 2), 324_288_000 + 10_134_000 + 20_250_000);
    }

    #[test]
    fn scale_is_the_smallest_whose_long_side_reaches_the_target() {
        let limits = PhotoLimits::default();
        let cases = [
            (12_000, 9_000, 2, 3_000, 2_250),
            (8_000, 6_000, 4, 4_000, 3_000),
            (16_384, 12_288, 1, 2_048, 1_536),
            (16_385, 100, 1, 2_049, 13),
            (3_264, 2_448, 8, 3_264, 2_448),
            (600, 450, 8, 600, 450),
        ];
        for (w, h, idct, pw, ph) in cases {
            let p = plan_for(frame(Process::Sequential, w, h), &limits);
            assert_eq!((p.idct, p.width, p.height), (idct, pw, ph), "{w}×{h}");
        }
    }

    fn plan_for(frame: Frame, limits: &PhotoLimits) -> Plan {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8];
        bytes.extend((frame.height as u16).to_be_bytes());
        bytes.extend((frame.width as u16).to_be_bytes());
        bytes.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes.resize(1 << 20, 0); // big enough to pass the bytes-per-pixel check
        plan(&bytes, limits).unwrap()
    }
}
