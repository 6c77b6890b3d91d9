//! The `photo` table (what has arrived) and the questions asked of it with `p_photo_ref` (who may
//! see it).

use pengwang_shared::id::{DeviceId, PhotoHash};
use pengwang_shared::protocol::PhotosMissingResponse;
use pengwang_shared::role::Scope;
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use std::collections::HashSet;

use super::jpeg::Dimensions;
use super::store::Variant;
use crate::db::DbError;
use crate::scope;

/// A stored photo as its row describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoRow {
    pub hash: PhotoHash,
    pub bytes: u64,
    pub dimensions: Dimensions,
    /// Size of the thumbnail, once it has arrived.
    pub thumb_bytes: Option<u64>,
}

impl PhotoRow {
    /// The size of the stored file of `variant`, if it has arrived.
    pub fn len(&self, variant: Variant) -> Option<u64> {
        match variant {
            Variant::Original => Some(self.bytes),
            Variant::Thumbnail => self.thumb_bytes,
        }
    }
}

/// A photo about to be recorded (its file is already durable).
#[derive(Clone, Debug)]
pub struct NewPhoto {
    pub hash: PhotoHash,
    pub bytes: u64,
    pub dimensions: Dimensions,
    pub device: DeviceId,
    pub received_at: Timestamp,
}

pub fn find(conn: &Connection, hash: &PhotoHash) -> Result<Option<PhotoRow>, DbError> {
    let row = conn
        .prepare_cached("SELECT bytes, width, height, thumb_bytes FROM photo WHERE hash = ?1")?
        .query_row([hash.as_str()], |r| {
            Ok(PhotoRow {
                hash: hash.clone(),
                bytes: r.get(0)?,
                dimensions: Dimensions {
                    width: r.get(1)?,
                    height: r.get(2)?,
                },
                thumb_bytes: r.get(3)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// Records a photo; a row already there (a concurrent upload that won) is kept as it is.
pub fn insert(conn: &Connection, new: &NewPhoto) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO photo (hash, bytes, width, height, thumb_bytes, device_id, received_at)
         VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
        params![
            new.hash.as_str(),
            new.bytes,
            new.dimensions.width,
            new.dimensions.height,
            new.device.to_string(),
            new.received_at.0
        ],
    )?;
    Ok(())
}

/// Records that the thumbnail of `hash` has arrived (its file is already durable).
pub fn set_thumbnail(conn: &Connection, hash: &PhotoHash, bytes: u64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE photo SET thumb_bytes = ?2 WHERE hash = ?1",
        params![hash.as_str(), bytes],
    )?;
    Ok(())
}

/// The hashes of `asked` the server has no photo for, in the order asked, each once.
pub fn missing(conn: &Connection, asked: &[PhotoHash]) -> Result<PhotosMissingResponse, DbError> {
    let mut stmt =
        conn.prepare_cached("SELECT thumb_bytes IS NOT NULL FROM photo WHERE hash = ?1")?;
    let mut seen = HashSet::new();
    let mut out = PhotosMissingResponse {
        missing: Vec::new(),
        missing_thumbnails: Vec::new(),
    };
    for hash in asked.iter().filter(|h| seen.insert(*h)) {
        let thumb: Option<bool> = stmt.query_row([hash.as_str()], |r| r.get(0)).optional()?;
        match thumb {
            None => {
                out.missing.push(hash.clone());
                out.missing_thumbnails.push(hash.clone());
            }
            Some(false) => out.missing_thumbnails.push(hash.clone()),
            Some(true) => {}
        }
    }
    Ok(out)
}

/// The stored photo `hash`, if an item of a building in `scope` references it. Unknown and
/// out-of-scope photos look the same to the caller.
pub fn visible(
    conn: &Connection,
    scope: &Scope,
    hash: &PhotoHash,
) -> Result<Option<PhotoRow>, DbError> {
    let (cond, scope_params) = scope::filter(scope, "b", "estate_norm");
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM p_photo_ref r JOIN p_building b ON b.id = r.building_id
                        WHERE r.hash = ? AND {cond})"
    );
    let mut params = vec![Sql::Text(hash.to_string())];
    params.extend(scope_params);
    let referenced: bool = conn.query_row(&sql, params_from_iter(params), |r| r.get(0))?;
    if referenced {
        find(conn, hash)
    } else {
        Ok(None)
    }
}
