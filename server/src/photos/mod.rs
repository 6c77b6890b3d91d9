//! Photo upload and download (DESIGN §8, issue 3).
//!
//! A phone asks which of its photos the server lacks (`POST /v1/photos/missing`), then uploads
//! each by hash (`PUT /v1/photos/{hash}`, then `/thumbnail`). The server re-hashes the bytes,
//! reads the JPEG header (never the pixels), writes the file atomically under `photo_dir` and only
//! then commits the `photo` row, so "the server has it" always means the file is durable.
//! Uploads are idempotent: the same photo again answers the same and rewrites nothing, and two
//! devices uploading one photo at once store it once.
//!
//! Anyone may download a photo (`GET`) that an item of a building in their scope references;
//! any other hash is 404, whether it exists or not.

mod evidence;
mod jpeg;
mod rows;
mod store;
mod upload;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use pengwang_shared::id::PhotoHash;
use pengwang_shared::protocol::{PhotosMissingRequest, PhotosMissingResponse, PHOTO_CONTENT_TYPE};
use pengwang_shared::role::Scope;
use serde::Serialize;

pub use evidence::{of_building as item_evidence, ItemEvidence, PhotoEntry, LACKS_EVIDENCE};
pub use jpeg::{Dimensions, PhotoError, MAX_PHOTO_SIDE, MAX_THUMBNAIL_SIDE};
pub use store::{PhotoStore, Variant};

use crate::auth::AuthDevice;
use crate::devices::Device;
use crate::error::AppError;
use crate::state::AppState;

/// At most this many hashes in one `POST /v1/photos/missing`.
pub const MAX_HASHES_PER_REQUEST: usize = 1000;

/// The answer to a photo upload, the same every time the same photo is uploaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhotoStored {
    pub hash: PhotoHash,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
}

/// The answer to a thumbnail upload: the stored thumbnail's size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ThumbnailStored {
    pub hash: PhotoHash,
    pub bytes: u64,
}

/// The photo routes; uploads may be up to `max_photo_bytes` (the rest of the API keeps
/// `max_batch_bytes`).
pub fn routes(max_photo_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v1/photos/missing", post(missing))
        .route("/v1/photos/{hash}", put(put_photo).get(get_photo))
        .route(
            "/v1/photos/{hash}/thumbnail",
            put(put_thumbnail).get(get_thumbnail),
        )
        .layer(DefaultBodyLimit::max(max_photo_bytes))
}

/// `POST /v1/photos/missing`: the asked hashes the server has no photo for.
async fn missing(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    body: Result<Json<PhotosMissingRequest>, JsonRejection>,
) -> Result<Json<PhotosMissingResponse>, AppError> {
    uploader(&device)?;
    let Json(req) = body?;
    if req.hashes.len() > MAX_HASHES_PER_REQUEST {
        return Err(AppError::bad_request(
            "too_many_hashes",
            format!(
                "{} hashes in one request; ask about at most {MAX_HASHES_PER_REQUEST} at a time",
                req.hashes.len()
            ),
        ));
    }
    let missing = state
        .db
        .read(move |c| rows::missing(c, &req.hashes))
        .await?;
    Ok(Json(missing))
}

/// `PUT /v1/photos/{hash}`: stores the photo (JPEG, long side ≤ 2048 px) named by its SHA-256.
async fn put_photo(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PhotoStored>, AppError> {
    uploader(&device)?;
    let hash = parse_hash(&hash)?;
    let bytes = upload_body(body, &state, Variant::Original)?;
    let (h, b) = (hash.clone(), bytes.clone());
    let dimensions = blocking(move || jpeg::check_photo(&h, &b)).await??;
    let stored = upload::store_photo(&state, device.id, hash, bytes, dimensions).await?;
    Ok(Json(stored))
}

/// `PUT /v1/photos/{hash}/thumbnail`: stores the photo's thumbnail (long side ≤ 320 px). The
/// photo must have arrived first (409).
async fn put_thumbnail(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ThumbnailStored>, AppError> {
    uploader(&device)?;
    let hash = parse_hash(&hash)?;
    let bytes = upload_body(body, &state, Variant::Thumbnail)?;
    let b = bytes.clone();
    blocking(move || jpeg::check_thumbnail(&b)).await??;
    let stored = upload::store_thumbnail(&state, hash, bytes).await?;
    Ok(Json(stored))
}

async fn get_photo(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    serve(state, device.account.scope, &hash, Variant::Original).await
}

async fn get_thumbnail(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(hash): Path<String>,
) -> Result<Response, AppError> {
    serve(state, device.account.scope, &hash, Variant::Thumbnail).await
}

/// The JPEG bytes of a photo an item in the caller's scope references, else 404.
pub(crate) async fn serve(
    state: AppState,
    scope: Scope,
    hash: &str,
    variant: Variant,
) -> Result<Response, AppError> {
    let hash = parse_hash(hash)?;
    let h = hash.clone();
    let row = state.db.read(move |c| rows::visible(c, &scope, &h)).await?;
    let not_found = || {
        AppError::not_found(
            "photo_not_found",
            format!("no {} {hash} in your scope", variant.noun()),
        )
    };
    if row.and_then(|r| r.len(variant)).is_none() {
        return Err(not_found());
    }
    let photos = state.photos.clone();
    let h = hash.clone();
    let bytes = blocking(move || photos.read(&h, variant))
        .await?
        .map_err(AppError::internal)?;
    // Content-addressed: the bytes behind a hash never change.
    let headers = [
        (CONTENT_TYPE, PHOTO_CONTENT_TYPE),
        (CACHE_CONTROL, "private, max-age=31536000, immutable"),
    ];
    Ok((StatusCode::OK, headers, bytes).into_response())
}

/// Only field roles upload: console accounts never hold photos of their own.
fn uploader(device: &Device) -> Result<(), AppError> {
    let role = device.account.role;
    if role.syncs_documents() {
        return Ok(());
    }
    Err(AppError::forbidden(
        "console_account",
        format!(
            "a {} account works in the console and does not upload photos",
            role.code()
        ),
    ))
}

fn parse_hash(s: &str) -> Result<PhotoHash, AppError> {
    PhotoHash::parse(s).map_err(|e| AppError::bad_request("invalid_photo_hash", e.to_string()))
}

fn upload_body(
    body: Result<Bytes, BytesRejection>,
    state: &AppState,
    variant: Variant,
) -> Result<Bytes, AppError> {
    body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(format!(
            "the {} is larger than this server accepts ({} bytes, max_photo_bytes, set by PENGWANG_MAX_PHOTO_BYTES)",
            variant.noun(),
            state.config.max_photo_bytes
        )),
        _ => AppError::from(r),
    })
}

/// Runs blocking work (hashing, header parsing, file I/O) off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(AppError::internal)
}
