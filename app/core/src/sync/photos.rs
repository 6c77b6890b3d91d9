//! Photo upload, the last phase of a sync (DESIGN §8). The phone asks which of its unconfirmed
//! photos the server lacks (`POST /v1/photos/missing`, at most 1000 hashes a request) and PUTs
//! only those: the photo, then its thumbnail. Every step is idempotent on the server, and every
//! step's outcome is persisted before the next, so an upload cut anywhere resumes by asking
//! again and sending only what did not arrive. A photo becomes `confirmed` only when the server
//! has answered that it holds both the photo and its thumbnail.

use std::collections::HashSet;

use pengwang_shared::id::PhotoHash;
use pengwang_shared::protocol::{PhotosMissingRequest, PhotosMissingResponse, PHOTO_CONTENT_TYPE};

use super::SyncReport;
use crate::device::Device;
use crate::error::CoreError;
use crate::store::UploadState;
use crate::transport;

/// Hashes per `POST /v1/photos/missing` at most (the server's limit).
pub(crate) const MAX_HASHES_PER_ASK: usize = 1000;

impl Device {
    /// Uploads what the server lacks of every unconfirmed photo, counting into `report`. A
    /// photo the server refuses is skipped (it stays pending, the first refusal is returned at
    /// the end); losing the connection ends the phase at once.
    pub(crate) async fn upload_photos(
        &self,
        url: &str,
        token: &str,
        report: &mut SyncReport,
    ) -> Result<(), CoreError> {
        let pending = self.blocking(|d| d.store().unconfirmed_photos()).await?;
        let mut refused = None;
        for batch in pending.chunks(MAX_HASHES_PER_ASK) {
            let lacks = self.ask_missing(url, token, batch).await?;
            let photos: HashSet<&PhotoHash> = lacks.missing.iter().collect();
            let thumbnails: HashSet<&PhotoHash> = lacks.missing_thumbnails.iter().collect();
            for hash in batch {
                let photo = photos.contains(hash);
                let thumbnail = photo || thumbnails.contains(hash);
                match self
                    .upload_one(url, token, hash, photo, thumbnail, report)
                    .await
                {
                    Ok(()) => {}
                    Err(e @ CoreError::Server { .. }) => {
                        tracing::warn!(%hash, error = %e, "photo refused by the server");
                        refused.get_or_insert(e);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        refused.map_or(Ok(()), Err)
    }

    async fn ask_missing(
        &self,
        url: &str,
        token: &str,
        hashes: &[PhotoHash],
    ) -> Result<PhotosMissingResponse, CoreError> {
        let body = serde_json::to_vec(&PhotosMissingRequest {
            hashes: hashes.to_vec(),
        })
        .map_err(|e| CoreError::Invalid(format!("cannot encode the photo list: {e}")))?;
        let answer = transport::send(
            self.http(),
            reqwest::Method::POST,
            url,
            "/v1/photos/missing",
            Some(token),
            "application/json",
            body,
        )
        .await?;
        serde_json::from_slice(&answer).map_err(|e| transport::undecodable("missing-photo list", e))
    }

    /// Sends what the server lacks of one photo and records each step that arrived; a photo it
    /// lacks nothing of is confirmed.
    async fn upload_one(
        &self,
        url: &str,
        token: &str,
        hash: &PhotoHash,
        photo: bool,
        thumbnail: bool,
        report: &mut SyncReport,
    ) -> Result<(), CoreError> {
        let h = hash.clone();
        let Some((jpeg, thumb)) = self.blocking(move |d| d.store().photo_bytes(&h)).await? else {
            return Ok(()); // not on this device (cannot happen: photos are never deleted unconfirmed)
        };
        if photo {
            self.put_photo(url, token, &format!("/v1/photos/{hash}"), jpeg, report)
                .await?;
            report.photos_uploaded += 1;
            self.set_photo_state(hash, UploadState::Uploaded).await?;
        }
        if thumbnail {
            let path = format!("/v1/photos/{hash}/thumbnail");
            self.put_photo(url, token, &path, thumb, report).await?;
        }
        // The server answers a PUT only after its row is committed: it now has both.
        self.set_photo_state(hash, UploadState::Confirmed).await
    }

    async fn put_photo(
        &self,
        url: &str,
        token: &str,
        path: &str,
        body: Vec<u8>,
        report: &mut SyncReport,
    ) -> Result<(), CoreError> {
        report.photo_bytes_up += body.len() as u64;
        transport::send(
            self.http(),
            reqwest::Method::PUT,
            url,
            path,
            Some(token),
            PHOTO_CONTENT_TYPE,
            body,
        )
        .await?;
        Ok(())
    }

    async fn set_photo_state(&self, hash: &PhotoHash, state: UploadState) -> Result<(), CoreError> {
        let h = hash.clone();
        self.blocking(move |d| d.store().set_photo_state(&h, state, d.now()))
            .await
    }
}
