//! Storing a checked upload: under the photo's lock, look at the row; if the photo (or
//! thumbnail) is already stored and its file intact, answer as before and write nothing; else
//! write the file atomically, then commit the row.

use axum::body::Bytes;
use pengwang_shared::id::{DeviceId, PhotoHash};

use super::jpeg::Dimensions;
use super::rows::{self, NewPhoto, PhotoRow};
use super::store::Variant;
use super::{blocking, PhotoStored, ThumbnailStored};
use crate::error::AppError;
use crate::state::AppState;

pub(super) async fn store_photo(
    state: &AppState,
    device: DeviceId,
    hash: PhotoHash,
    bytes: Bytes,
    dimensions: Dimensions,
) -> Result<PhotoStored, AppError> {
    let _guard = state.photos.lock(&hash).await;
    let row = find(state, &hash).await?;
    if let Some(row) = row {
        if intact(state, &row, Variant::Original).await? {
            return Ok(answer(row));
        }
    }
    write_file(state, &hash, Variant::Original, bytes.clone()).await?;
    let new = NewPhoto {
        hash: hash.clone(),
        bytes: bytes.len() as u64,
        dimensions,
        device,
        received_at: state.now(),
    };
    state.db.write(move |c| rows::insert(c, &new)).await?;
    tracing::info!(%device, photo = %hash, bytes = bytes.len(), "photo stored");
    let row = find(state, &hash).await?;
    row.map(answer)
        .ok_or_else(|| AppError::internal(format!("photo {hash} vanished after it was stored")))
}

pub(super) async fn store_thumbnail(
    state: &AppState,
    hash: PhotoHash,
    bytes: Bytes,
) -> Result<ThumbnailStored, AppError> {
    let _guard = state.photos.lock(&hash).await;
    let Some(row) = find(state, &hash).await? else {
        return Err(AppError::conflict(
            "photo_not_uploaded",
            format!("photo {hash} has not been uploaded: upload the photo before its thumbnail"),
        ));
    };
    // The first thumbnail stored stays: a second upload answers with it and writes nothing.
    if let Some(len) = row.thumb_bytes {
        if intact(state, &row, Variant::Thumbnail).await? {
            return Ok(ThumbnailStored { hash, bytes: len });
        }
    }
    let len = bytes.len() as u64;
    write_file(state, &hash, Variant::Thumbnail, bytes).await?;
    let h = hash.clone();
    state
        .db
        .write(move |c| rows::set_thumbnail(c, &h, len))
        .await?;
    tracing::info!(photo = %hash, bytes = len, "thumbnail stored");
    Ok(ThumbnailStored { hash, bytes: len })
}

async fn find(state: &AppState, hash: &PhotoHash) -> Result<Option<PhotoRow>, AppError> {
    let h = hash.clone();
    Ok(state.db.read(move |c| rows::find(c, &h)).await?)
}

async fn intact(state: &AppState, row: &PhotoRow, variant: Variant) -> Result<bool, AppError> {
    let Some(len) = row.len(variant) else {
        return Ok(false);
    };
    let (photos, hash) = (state.photos.clone(), row.hash.clone());
    blocking(move || photos.is_intact(&hash, variant, len)).await
}

async fn write_file(
    state: &AppState,
    hash: &PhotoHash,
    variant: Variant,
    bytes: Bytes,
) -> Result<(), AppError> {
    let (photos, h) = (state.photos.clone(), hash.clone());
    blocking(move || photos.write(&h, variant, &bytes))
        .await?
        .map_err(AppError::internal)
}

fn answer(row: PhotoRow) -> PhotoStored {
    PhotoStored {
        hash: row.hash,
        bytes: row.bytes,
        width: row.dimensions.width,
        height: row.dimensions.height,
    }
}
