//! What the server checks of an uploaded photo before storing it: that its bytes are the photo
//! the path names (SHA-256), that it is a JPEG whose header parses, and that its dimensions are
//! what the phone's ingest produces (no EXIF or XMP metadata — a camera's GPS and serial numbers
//! never reach the server — and an image that decodes to its end marker). The header is checked
//! first, so a hostile file is refused before any pixel buffer exists; the full decode that
//! follows is bounded by the 2048 px limit (≤ 16 MiB of pixels).
//!
//! CPU-bound (hashing up to `max_photo_bytes`): call through `spawn_blocking`.

use pengwang_shared::id::PhotoHash;
use sha2::{Digest, Sha256};

use super::store::Variant;
use crate::error::AppError;

/// The phone stores photos with a long side of at most 2048 px (DESIGN §8).
pub const MAX_PHOTO_SIDE: u32 = 2048;
/// … and thumbnails of at most 320 px.
pub const MAX_THUMBNAIL_SIDE: u32 = 320;

/// A JPEG's pixel dimensions, from its frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the uploaded bytes hash to {actual}, but the path names photo {expected}: the upload was altered or cut short")]
    HashMismatch { expected: PhotoHash, actual: String },
    #[error("the uploaded {noun} is not a JPEG: {reason}")]
    NotJpeg { noun: &'static str, reason: String },
    #[error("the uploaded {noun} carries {what} metadata (camera, time, GPS); upload the app's processed photo, which carries none")]
    Metadata {
        noun: &'static str,
        what: &'static str,
    },
    #[error("the uploaded {noun} is {width} × {height} px; its long side may be at most {max} px")]
    Dimensions {
        noun: &'static str,
        width: u32,
        height: u32,
        max: u32,
    },
}

impl From<PhotoError> for AppError {
    fn from(e: PhotoError) -> Self {
        let code = match e {
            PhotoError::HashMismatch { .. } => "hash_mismatch",
            PhotoError::NotJpeg { .. } => "not_a_jpeg",
            PhotoError::Dimensions { .. } => "photo_dimensions",
            PhotoError::Metadata { .. } => "photo_has_metadata",
        };
        AppError::bad_request(code, e.to_string())
    }
}

/// The SHA-256 of `bytes`, as a photo is named.
pub fn hash_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks an original: its hash is `expected`, it is a JPEG, its long side ≤ 2048 px.
pub fn check_photo(expected: &PhotoHash, bytes: &[u8]) -> Result<Dimensions, PhotoError> {
    let actual = hash_of(bytes);
    if actual != expected.as_str() {
        return Err(PhotoError::HashMismatch {
            expected: expected.clone(),
            actual,
        });
    }
    check_jpeg(bytes, Variant::Original)
}

/// Checks a thumbnail: a JPEG with a long side ≤ 320 px. (It is named by its photo's hash, not
/// its own, so there is nothing to re-hash.)
pub fn check_thumbnail(bytes: &[u8]) -> Result<Dimensions, PhotoError> {
    check_jpeg(bytes, Variant::Thumbnail)
}

fn check_jpeg(bytes: &[u8], variant: Variant) -> Result<Dimensions, PhotoError> {
    let noun = variant.noun();
    let not_jpeg = |reason: String| PhotoError::NotJpeg { noun, reason };
    if bytes.is_empty() {
        return Err(not_jpeg("the body is empty".into()));
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02X}")).collect();
        return Err(not_jpeg(format!(
            "it does not start with the JPEG start-of-image marker FF D8 (it starts with {})",
            head.join(" ")
        )));
    }
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder
        .read_info()
        .map_err(|e| not_jpeg(format!("its header does not parse: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| not_jpeg("it has no frame header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let max = match variant {
        Variant::Original => MAX_PHOTO_SIDE,
        Variant::Thumbnail => MAX_THUMBNAIL_SIDE,
    };
    if width.max(height) > max {
        return Err(PhotoError::Dimensions {
            noun,
            width,
            height,
            max,
        });
    }
    if let Some(what) = metadata_segment(bytes) {
        return Err(PhotoError::Metadata { noun, what });
    }
    if !bytes.ends_with(&[0xFF, 0xD9]) {
        return Err(not_jpeg("it does not end with the end-of-image marker FF D9 (cut short, or bytes after the image)".into()));
    }
    decoder
        .decode()
        .map_err(|e| not_jpeg(format!("its image data does not decode: {e}")))?;
    Ok(Dimensions { width, height })
}

/// The kind of metadata segment (EXIF or XMP in APP1) among the segments before the image data.
fn metadata_segment(bytes: &[u8]) -> Option<&'static str> {
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        if marker == 0xDA {
            break; // start of scan: no more header segments
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let payload = bytes
            .get(at + 4..(at + 2 + len).min(bytes.len()))
            .unwrap_or_default();
        if marker == 0xE1 && payload.starts_with(b"Exif\0") {
            return Some("EXIF");
        }
        if marker == 0xE1 && payload.starts_with(b"http://ns.adobe.com/xap/") {
            return Some("XMP");
        }
        at += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A baseline JPEG of `width` × `height` grey pixels.
    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = Vec::new();
        let pixels = vec![128u8; usize::from(width) * usize::from(height)];
        jpeg_encoder::Encoder::new(&mut out, 80)
            .encode(&pixels, width, height, jpeg_encoder::ColorType::Luma)
            .unwrap();
        out
    }

    #[test]
    fn a_jpeg_whose_hash_matches_is_measured_without_decoding() {
        let bytes = jpeg(64, 48);
        let hash = PhotoHash::parse(&hash_of(&bytes)).unwrap();
        assert_eq!(
            check_photo(&hash, &bytes),
            Ok(Dimensions {
                width: 64,
                height: 48
            })
        );
    }

    #[test]
    fn camera_metadata_truncation_and_trailing_bytes_are_refused() {
        let bytes = jpeg(64, 48);
        // An APP1 EXIF segment right after SOI, as a camera writes it.
        let mut exif = vec![0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x0E];
        exif.extend_from_slice(b"Exif\0\0MM\0*\0\0");
        exif.extend_from_slice(&bytes[2..]);
        let err = check_thumbnail(&exif).unwrap_err();
        assert_eq!(
            err,
            PhotoError::Metadata {
                noun: "thumbnail",
                what: "EXIF"
            }
        );
        let cut = &bytes[..bytes.len() - 10];
        assert!(check_thumbnail(cut)
            .unwrap_err()
            .to_string()
            .contains("end-of-image marker"));
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 100]);
        assert!(check_thumbnail(&padded)
            .unwrap_err()
            .to_string()
            .contains("end-of-image marker"));
        // Damaged image data between a good header and a good end marker.
        let mut damaged = bytes[..bytes.len() / 2].to_vec();
        damaged.extend_from_slice(&[0xFF, 0xD9]);
        let err = check_thumbnail(&damaged).unwrap_err();
        assert!(err.to_string().contains("does not decode"), "{err}");
    }

    #[test]
    fn a_header_that_does_not_parse_is_named_as_such() {
        let bytes = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02];
        let err = check_thumbnail(&bytes).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the uploaded thumbnail is not a JPEG: its header does not parse"),
            "{err}"
        );
    }

    #[test]
    fn a_png_is_refused_with_its_first_bytes() {
        let err = check_thumbnail(b"\x89PNG\r\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the uploaded thumbnail is not a JPEG: it does not start with the JPEG start-of-image marker FF D8 (it starts with 89 50 4E 47)"
        );
    }

    #[test]
    fn a_321_px_thumbnail_is_too_large() {
        let err = check_thumbnail(&jpeg(321, 10)).unwrap_err();
        assert_eq!(
            err,
            PhotoError::Dimensions {
                noun: "thumbnail",
                width: 321,
                height: 10,
                max: 320
            }
        );
        assert!(check_thumbnail(&jpeg(10, 320)).is_ok());
    }
}
