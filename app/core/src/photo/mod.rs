//! Photo ingest on the device (DESIGN §8): a camera JPEG becomes the evidence we store.
//!
//! [`ingest`] decodes the photo once — at a reduced scale when it is large, so a 108 MP photo
//! never exists at full size in memory — shrinks it to a long side of at most 2048 px, turns it
//! upright per its EXIF orientation, converts it to sRGB if it carries a colour profile,
//! re-encodes it as JPEG without any metadata, makes a ≤ 320 px thumbnail and names the stored
//! bytes by their SHA-256. DateTimeOriginal (read as Asia/Shanghai time when the camera recorded
//! no offset) and the GPS position move from the EXIF into [`PhotoMeta`], the part that goes
//! into the building document.
//!
//! Anything we cannot ingest safely is refused with a [`PhotoError`] that names the reason,
//! before pixel buffers are allocated where the header is enough to tell: files over 40 MB,
//! HEIF/HEIC and other formats, corrupt or truncated data, decompression bombs (over 250 MP, more
//! pixels than the file could hold, or more decoder memory than the budget). The item the photo
//! belongs to saves and syncs regardless. Broken EXIF never refuses a photo; it leaves a note.
//!
//! ```no_run
//! use pengwang_core::photo::{ingest_file, PhotoLimits};
//!
//! let photo = ingest_file("IMG_0001.jpg".as_ref(), &PhotoLimits::default())?;
//! println!("{} {}×{}", photo.meta.hash, photo.meta.width, photo.meta.height);
//! # Ok::<(), pengwang_core::photo::PhotoError>(())
//! ```
//!
//! Ingest is CPU work (0.1 s for an 8 MP photo, 0.4 s for 108 MP on a 2-core x86 server; more
//! on a phone): call it through `spawn_blocking` from async code. Decoder panics are caught and
//! reported as corrupt photos, which needs the default `panic = "unwind"`.

mod colour;
mod decode;
mod encode;
mod error;
mod exif;
mod header;
mod ingest;
mod orient;
mod resize;

use pengwang_shared::id::PhotoHash;
use serde::{Deserialize, Serialize};

pub use error::PhotoError;
pub use exif::{Gps, TakenAt};
pub use ingest::{ingest, ingest_file};

/// The bounds of ingest. Defaults follow DESIGN §8; all are settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PhotoLimits {
    /// Larger files are refused unread (40 MB = 40,000,000 bytes).
    pub max_file_bytes: u64,
    /// Photos declaring more pixels are refused as bombs (250 MP; phone sensors reach 200 MP).
    pub max_pixels: u64,
    /// What the JPEG decoder may allocate at the chosen scale, estimated from the header (128 MiB).
    /// Only large progressive JPEGs come near it: the decoder keeps all their coefficients at
    /// full size (a 24 MP progressive 4:2:0 photo needs ~100 MB, a 48 MP one ~200 MB and is
    /// refused), whereas a sequential one, as cameras write, is decoded one MCU row at a time
    /// straight to the reduced scale (a 108 MP photo: ~30 MB).
    pub max_decode_bytes: u64,
    /// Long side of the stored photo, px (2048).
    pub long_side: u32,
    /// Long side of the thumbnail, px (320).
    pub thumbnail_long_side: u32,
    /// JPEG quality of the stored photo and the thumbnail, 1–100 (82).
    pub quality: u8,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 40_000_000,
            max_pixels: 250_000_000,
            max_decode_bytes: 128 << 20,
            long_side: 2048,
            thumbnail_long_side: 320,
            quality: 82,
        }
    }
}

/// The record of an ingested photo: what the building document keeps about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhotoMeta {
    /// SHA-256 of [`IngestedPhoto::jpeg`], the stored bytes.
    pub hash: PhotoHash,
    /// Size of the stored JPEG, bytes.
    pub bytes: u64,
    /// Stored image, upright, px.
    pub width: u32,
    pub height: u32,
    pub taken_at: Option<TakenAt>,
    pub gps: Option<Gps>,
    /// Size of the file the camera wrote, bytes.
    pub original_bytes: u64,
    /// The original's dimensions, upright (after the EXIF orientation), px.
    pub original_width: u32,
    pub original_height: u32,
    /// Set when the EXIF was unreadable in whole or part: taken-at, GPS or orientation may be
    /// missing for that reason rather than because the camera did not record them.
    pub exif_note: Option<String>,
}

/// An ingested photo: its record, the bytes to store and upload, and the thumbnail.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestedPhoto {
    pub meta: PhotoMeta,
    /// The stored photo: upright sRGB JPEG, long side ≤ 2048 px, no EXIF or other metadata.
    pub jpeg: Vec<u8>,
    /// The same, long side ≤ 320 px.
    pub thumbnail: Vec<u8>,
    /// The photo was decoded at 1/`decode_scale` of its size (1, 2, 4 or 8).
    pub decode_scale: u32,
}
