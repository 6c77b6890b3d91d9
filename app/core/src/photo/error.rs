//! Why a photo was refused. Every refusal names its reason so the inspector can act on it (retake,
//! change a camera setting); the item the photo belongs to still saves and syncs without it.

/// A photo that cannot be ingested, and why. The UI branches on [`PhotoError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// The file is larger than [`PhotoLimits::max_file_bytes`](super::PhotoLimits).
    #[error("photo file is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge { bytes: u64, limit: u64 },
    /// An HEIF/HEIC file (iPhone "High Efficiency" setting).
    #[error("HEIF/HEIC is not supported; set the camera to JPEG / 'Most Compatible'")]
    Heif,
    /// Another image format, or not an image at all.
    #[error("not a JPEG photo ({format}); only JPEG photos are accepted")]
    NotJpeg { format: &'static str },
    /// A JPEG variant that no camera produces for photos (CMYK, 12-bit, lossless, arithmetic…).
    #[error("unsupported JPEG: {0}")]
    Unsupported(String),
    /// Damaged or cut-off data.
    #[error("corrupt or truncated JPEG: {0}")]
    Corrupt(String),
    /// A decompression bomb: the header declares more pixels than a camera makes, more than the
    /// file could hold, or more than the decoder may allocate.
    #[error("refused {width}×{height} image: {reason}")]
    Bomb {
        width: u32,
        height: u32,
        reason: String,
    },
    /// The photo file could not be read.
    #[error("cannot read photo file: {0}")]
    Io(String),
    /// Resizing or encoding failed: a defect of ours, not of the photo.
    #[error("photo processing failed: {0}")]
    Internal(String),
}

impl PhotoError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::TooLarge { .. } => "photo_too_large",
            PhotoError::Heif => "photo_heif",
            PhotoError::NotJpeg { .. } => "photo_not_jpeg",
            PhotoError::Unsupported(_) => "photo_unsupported",
            PhotoError::Corrupt(_) => "photo_corrupt",
            PhotoError::Bomb { .. } => "photo_bomb",
            PhotoError::Io(_) => "photo_io",
            PhotoError::Internal(_) => "photo_internal",
        }
    }
}
