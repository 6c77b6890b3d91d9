//! Document storage (DESIGN §7): each building document is a snapshot plus appended change
//! chunks, all in SQLite. Changes are applied to a copy and stored in the caller's transaction,
//! so a document is only ever replaced by a committed version.

use automerge::{ActorId, Automerge, ChangeHash};
use pengwang_shared::id::{AccountId, BuildingId, DeviceId};
use pengwang_shared::role::{normalize_name, Location};
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::db::DbError;

/// Compact a document once this many chunks follow its snapshot.
const COMPACT_AFTER_CHUNKS: i64 = 64;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    #[error("stored document {doc} does not load: {source}")]
    Corrupt {
        doc: BuildingId,
        source: Box<automerge::AutomergeError>,
    },
}

impl From<StorageError> for DbError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Db(e) => DbError::Sqlite(e),
            StorageError::Corrupt { doc, source } => {
                DbError::corrupt("document", format!("{doc}: {source}"))
            }
        }
    }
}

/// The automerge actor the server writes with on behalf of a console account. Distinct from every
/// device actor (device ids and account ids are both random UUIDs).
pub fn account_actor(account: AccountId) -> ActorId {
    ActorId::from(account.0.as_bytes().as_slice())
}

/// The device an actor belongs to, when the actor is a device's.
pub fn actor_device(actor_hex: &str) -> Option<DeviceId> {
    DeviceId::parse(actor_hex).ok()
}

/// Loads a stored document (snapshot ++ chunks), or `None` if the server has never seen it.
pub fn load(conn: &Connection, doc: BuildingId) -> Result<Option<Automerge>, StorageError> {
    let snapshot: Option<Option<Vec<u8>>> = conn
        .query_row(
            "SELECT snapshot FROM doc WHERE doc_id = ?1",
            [doc.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let mut bytes = snapshot.unwrap_or_default();
    let mut stmt =
        conn.prepare_cached("SELECT data FROM doc_chunk WHERE doc_id = ?1 ORDER BY seq")?;
    let mut rows = stmt.query([doc.to_string()])?;
    while let Some(row) = rows.next()? {
        bytes.extend_from_slice(&row.get::<_, Vec<u8>>(0)?);
    }
    Automerge::load(&bytes)
        .map(Some)
        .map_err(|source| StorageError::Corrupt {
            doc,
            source: Box::new(source),
        })
}

/// Stores the changes `doc` has beyond `before` as one chunk, with their metadata, and moves the
/// document's row (heads, feed position, location). Returns the new feed position, or `None` when
/// nothing changed.
pub fn append(
    tx: &Transaction<'_>,
    id: BuildingId,
    doc: &Automerge,
    before: &[ChangeHash],
    location: &Location,
    device: Option<DeviceId>,
    now: i64,
) -> Result<Option<i64>, StorageError> {
    let heads = doc.get_heads();
    if heads.as_slice() == before {
        return Ok(None);
    }
    let chunk = doc.save_after(before);
    tx.execute(
        "INSERT INTO doc (doc_id, unit_code, street_code, community_code, estate_norm, heads, feed_seq, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, x'', 0, ?6, ?6) ON CONFLICT (doc_id) DO NOTHING",
        params![id.to_string(), location.unit.as_str(), location.street.as_str(), location.community.as_str(), normalize_name(&location.estate), now],
    )?;
    tx.execute(
        "INSERT INTO doc_chunk (doc_id, data, device_id, received_at) VALUES (?1, ?2, ?3, ?4)",
        params![id.to_string(), chunk, device.map(|d| d.to_string()), now],
    )?;
    let seq = tx.last_insert_rowid();
    tx.execute(
        "UPDATE doc SET heads = ?2, feed_seq = ?3, chunk_count = chunk_count + 1, chunk_bytes = chunk_bytes + ?4,
                        estate_norm = ?5, updated_at = ?6 WHERE doc_id = ?1",
        params![id.to_string(), encode_heads(&heads), seq, chunk.len() as i64, normalize_name(&location.estate), now],
    )?;
    let mut meta = tx.prepare_cached(
        "INSERT OR IGNORE INTO change_meta (doc_id, hash, actor, seq, time, message, device_id, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for m in doc.get_changes_meta(before) {
        meta.execute(params![
            id.to_string(),
            m.hash.to_string(),
            m.actor.to_hex_string(),
            m.seq as i64,
            m.timestamp,
            m.message.as_deref(),
            device.map(|d| d.to_string()),
            now
        ])?;
    }
    Ok(Some(seq))
}

/// Rewrites a document as one snapshot and drops its chunks, in one transaction. The document's
/// heads and content do not change; its feed position stays (the feed is the chunk sequence,
/// which never reuses numbers).
pub fn compact(tx: &Transaction<'_>, id: BuildingId) -> Result<bool, StorageError> {
    let Some(doc) = load(tx, id)? else {
        return Ok(false);
    };
    let snapshot = doc.save();
    tx.execute(
        "UPDATE doc SET snapshot = ?2, chunk_count = 0, chunk_bytes = 0 WHERE doc_id = ?1",
        params![id.to_string(), snapshot],
    )?;
    tx.execute("DELETE FROM doc_chunk WHERE doc_id = ?1", [id.to_string()])?;
    Ok(true)
}

/// Whether a document has enough chunks to be worth compacting.
pub fn needs_compaction(conn: &Connection, id: BuildingId) -> Result<bool, StorageError> {
    let n: Option<i64> = conn
        .query_row(
            "SELECT chunk_count FROM doc WHERE doc_id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(n.is_some_and(|n| n > COMPACT_AFTER_CHUNKS))
}

pub fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

/// Every stored document id, in id order.
pub fn all_ids(conn: &Connection) -> Result<Vec<BuildingId>, StorageError> {
    let mut stmt = conn.prepare("SELECT doc_id FROM doc ORDER BY doc_id")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids
        .iter()
        .filter_map(|s| BuildingId::parse(s).ok())
        .collect())
}
