//! Photos on disk (DESIGN §8): the stored JPEG and thumbnail by hash, the record ingest made of
//! them, and how far their upload got. Nothing here deletes a photo.

use pengwang_shared::id::PhotoHash;
use pengwang_shared::time::Timestamp;
use rusqlite::{Connection, OptionalExtension};

use super::Store;
use crate::error::CoreError;
use crate::evidence::PhotoFiles;
use crate::photo::{IngestedPhoto, PhotoMeta};

/// How far a photo's upload got beyond `pending` (nothing known to have arrived), the state a
/// stored photo starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UploadState {
    /// The server took the photo; its thumbnail is still to go.
    Uploaded,
    /// The server has both: the only state in which the phone may let go of the photo.
    Confirmed,
}

impl UploadState {
    fn code(self) -> &'static str {
        match self {
            UploadState::Uploaded => "uploaded",
            UploadState::Confirmed => "confirmed",
        }
    }
}

impl Store {
    /// Stores an ingested photo, unattached, in its own transaction. A photo already stored
    /// keeps its row (and its upload state).
    pub fn put_photo(&mut self, photo: &IngestedPhoto, now: Timestamp) -> Result<(), CoreError> {
        insert_photo(&self.conn, photo, now)
    }

    /// The record ingest made of a stored photo.
    pub fn photo_meta(&self, hash: &PhotoHash) -> Result<Option<PhotoMeta>, CoreError> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT meta_json FROM photo WHERE hash = ?1",
                [hash.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| {
            serde_json::from_str(&j)
                .map_err(|e| CoreError::Storage(format!("stored photo {hash} is unreadable: {e}")))
        })
        .transpose()
    }

    /// The stored JPEG and thumbnail of a photo.
    pub fn photo_bytes(&self, hash: &PhotoHash) -> Result<Option<PhotoFiles>, CoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT jpeg, thumbnail FROM photo WHERE hash = ?1",
                [hash.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Photos the server has not confirmed, oldest first.
    pub fn unconfirmed_photos(&self) -> Result<Vec<PhotoHash>, CoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT hash FROM photo WHERE state <> 'confirmed' ORDER BY created_at, hash",
        )?;
        let hashes = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        hashes
            .iter()
            .map(|h| {
                PhotoHash::parse(h).map_err(|e| {
                    CoreError::Storage(format!("stored photo hash {h:?} is unreadable: {e}"))
                })
            })
            .collect()
    }

    pub fn unconfirmed_photo_count(&self) -> Result<usize, CoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM photo WHERE state <> 'confirmed'",
            [],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Moves a photo's upload forward. A confirmed photo stays confirmed.
    pub fn set_photo_state(
        &mut self,
        hash: &PhotoHash,
        state: UploadState,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let confirmed_at = (state == UploadState::Confirmed).then_some(now.0);
        self.conn.execute(
            "UPDATE photo SET state = ?2, confirmed_at = ?3
             WHERE hash = ?1 AND state <> 'confirmed'",
            (hash.as_str(), state.code(), confirmed_at),
        )?;
        Ok(())
    }

    /// A photo's upload state, `None` for a photo not on this device.
    #[cfg(test)]
    pub fn photo_state(&self, hash: &PhotoHash) -> Result<Option<String>, CoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM photo WHERE hash = ?1",
                [hash.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// Inserts a photo row unless the photo is already stored.
pub(super) fn insert_photo(
    conn: &Connection,
    photo: &IngestedPhoto,
    now: Timestamp,
) -> Result<(), CoreError> {
    let meta = serde_json::to_string(&photo.meta)
        .map_err(|e| CoreError::Storage(format!("cannot encode the photo record: {e}")))?;
    conn.execute(
        "INSERT INTO photo (hash, jpeg, thumbnail, meta_json, state, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5)
         ON CONFLICT (hash) DO NOTHING",
        (
            photo.meta.hash.as_str(),
            &photo.jpeg,
            &photo.thumbnail,
            meta,
            now.0,
        ),
    )?;
    Ok(())
}
