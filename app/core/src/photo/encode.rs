//! JPEG encoding of what we store, with `jpeg-encoder`: 4:2:0 chroma box-averaged as libjpeg
//! does (the crate's default takes the top-left sample, which aliases on coloured edges), the
//! standard Huffman tables (optimised ones saved only 1–3 % on the phone fixtures and cost up to
//! 20 ms a photo), AVX2 when the CPU has it. Nothing of the original's metadata is written: no
//! EXIF, no XMP, no profile (the pixels are sRGB by then, see `colour`); just JFIF and the image.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use super::decode::Pixels;
use super::PhotoError;

pub(crate) fn jpeg(img: &Pixels, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let internal = |e: &dyn std::fmt::Display| PhotoError::Internal(format!("JPEG encoding: {e}"));
    let side = |len: u32| u16::try_from(len).map_err(|e| internal(&e));
    let (width, height) = (side(img.width)?, side(img.height)?);
    let mut out = Vec::with_capacity(img.data.len() / 8);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    let color = match img.channels {
        1 => ColorType::Luma,
        _ => ColorType::Rgb,
    };
    encoder
        .encode(&img.data, width, height, color)
        .map_err(|e| internal(&e))?;
    Ok(out)
}
