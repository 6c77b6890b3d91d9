//! The ingest pipeline: check → decode (scaled) → shrink → upright → sRGB → encode, thumbnail,
//! hash.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::decode::{decode, plan, Decoded, Pixels};
use super::header::sniff;
use super::{
    colour, encode, exif, orient, resize, IngestedPhoto, PhotoError, PhotoLimits, PhotoMeta,
};
use pengwang_shared::id::PhotoHash;

/// Ingests the photo file at `path`. Its size is checked before it is read, so a 2 GB video
/// picked by mistake costs one `stat`.
#[tracing::instrument(skip_all, err)]
pub fn ingest_file(path: &Path, limits: &PhotoLimits) -> Result<IngestedPhoto, PhotoError> {
    let io = |e: std::io::Error| PhotoError::Io(format!("{}: {e}", path.display()));
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    check_size(len, limits)?;
    // Read at most one byte past the limit, in case the file grows while we read it.
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limits.max_file_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    ingest(&bytes, limits)
}

/// Ingests a photo from its bytes (the camera's JPEG file).
#[tracing::instrument(skip_all, fields(bytes = bytes.len()), err)]
pub fn ingest(bytes: &[u8], limits: &PhotoLimits) -> Result<IngestedPhoto, PhotoError> {
    check_size(bytes.len() as u64, limits)?;
    sniff(bytes)?;
    let plan = plan(bytes, limits)?;
    let decoded = decode(bytes, &plan)?;
    let exif = exif::read(decoded.exif.as_deref());
    let stored = stored_pixels(decoded, exif.orientation, limits.long_side)?;
    let jpeg = encode::jpeg(&stored, limits.quality)?;
    let thumbnail = match resize::fit(&stored, limits.thumbnail_long_side)? {
        Some(thumb) => encode::jpeg(&thumb, limits.quality)?,
        None => jpeg.clone(),
    };
    let hash = PhotoHash::parse(&hex::encode(Sha256::digest(&jpeg)))
        .map_err(|e| PhotoError::Internal(e.to_string()))?;
    let (original_width, original_height) = match exif.orientation {
        5..=8 => (plan.frame.height, plan.frame.width),
        _ => (plan.frame.width, plan.frame.height),
    };
    let decode_scale = 8 / plan.idct;
    tracing::debug!(decode_scale, stored.width, stored.height, "photo ingested");
    Ok(IngestedPhoto {
        meta: PhotoMeta {
            hash,
            bytes: jpeg.len() as u64,
            width: stored.width,
            height: stored.height,
            taken_at: exif.taken_at,
            gps: exif.gps,
            original_bytes: bytes.len() as u64,
            original_width,
            original_height,
            exif_note: exif.note,
        },
        jpeg,
        thumbnail,
        decode_scale,
    })
}

/// The decoded image made into what we store: fitted to `long_side`, upright, sRGB. Shrinking
/// comes first so turning and colour conversion touch fewer pixels (the long side is the same
/// either way), and the full-size decode is dropped as soon as the smaller copy exists.
fn stored_pixels(decoded: Decoded, orientation: u8, long_side: u32) -> Result<Pixels, PhotoError> {
    let shrunk = resize::fit(&decoded.pixels, long_side)?;
    let mut stored = orient::upright(shrunk.unwrap_or(decoded.pixels), orientation);
    if let Some(icc) = &decoded.icc {
        if let Err(why) = colour::to_srgb(&mut stored, icc) {
            tracing::debug!(%why, "colour profile not applied");
        }
    }
    Ok(stored)
}

fn check_size(len: u64, limits: &PhotoLimits) -> Result<(), PhotoError> {
    if len > limits.max_file_bytes {
        return Err(PhotoError::TooLarge {
            bytes: len,
            limit: limits.max_file_bytes,
        });
    }
    Ok(())
}
