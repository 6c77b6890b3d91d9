//! Documents on disk: snapshot + chunks, sync states and the outbox.

use pengwang_shared::id::BuildingId;
use pengwang_shared::time::Timestamp;
use rusqlite::{OptionalExtension, Transaction};

use super::photos::insert_photo;
use super::Store;
use crate::error::CoreError;
use crate::photo::IngestedPhoto;

/// A document waiting to be sent, and its change counter when read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OutboxEntry {
    pub doc: BuildingId,
    pub seq: i64,
}

impl Store {
    /// Ids of every document on the device.
    pub fn doc_ids(&self) -> Result<Vec<BuildingId>, CoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id FROM doc ORDER BY doc_id")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    /// `snapshot ++ chunks…`, ready for `AutoCommit::load`; `None` for an unknown document.
    pub fn doc_bytes(&self, doc: BuildingId) -> Result<Option<Vec<u8>>, CoreError> {
        let snapshot: Option<Option<Vec<u8>>> = self
            .conn
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
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM doc_chunk WHERE doc_id = ?1 ORDER BY id")?;
        let mut rows = stmt.query([doc.to_string()])?;
        while let Some(row) = rows.next()? {
            let chunk: Vec<u8> = row.get(0)?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some(bytes))
    }

    pub fn chunk_count(&self, doc: BuildingId) -> Result<i64, CoreError> {
        let n = self.conn.query_row(
            "SELECT count(*) FROM doc_chunk WHERE doc_id = ?1",
            [doc.to_string()],
            |r| r.get(0),
        )?;
        Ok(n)
    }

    /// A user action: appends its changes and queues the document for sending, in one
    /// transaction.
    #[cfg(test)]
    pub fn save_edit(
        &mut self,
        doc: BuildingId,
        chunk: &[u8],
        now: Timestamp,
    ) -> Result<(), CoreError> {
        self.save_edit_with_photos(doc, chunk, &[], now)
    }

    /// A user action: appends its changes, stores the photos it attaches and queues the
    /// document for sending, in one transaction: a document never names an attached photo the
    /// phone does not have.
    pub fn save_edit_with_photos(
        &mut self,
        doc: BuildingId,
        chunk: &[u8],
        photos: &[IngestedPhoto],
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let tx = self.conn.transaction()?;
        append_chunk(&tx, doc, chunk, now)?;
        for photo in photos {
            insert_photo(&tx, photo, now)?;
        }
        tx.execute(
            "INSERT INTO outbox (doc_id, seq, queued_at) VALUES (?1, 1, ?2)
             ON CONFLICT (doc_id) DO UPDATE SET seq = seq + 1, last_error = NULL",
            (doc.to_string(), now.0),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// An applied sync reply: appends the changes it brought (if any), stores the new sync state,
    /// and clears the outbox row when the document is in sync and did not change meanwhile
    /// (`clear_seq` is the row's seq when the request was built). One transaction.
    pub fn save_sync(
        &mut self,
        doc: BuildingId,
        chunk: &[u8],
        state: &[u8],
        clear_seq: Option<i64>,
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let tx = self.conn.transaction()?;
        if !chunk.is_empty() {
            append_chunk(&tx, doc, chunk, now)?;
        }
        tx.execute(
            "INSERT INTO sync_state (doc_id, state) VALUES (?1, ?2)
             ON CONFLICT (doc_id) DO UPDATE SET state = excluded.state",
            (doc.to_string(), state),
        )?;
        if let Some(seq) = clear_seq {
            tx.execute(
                "DELETE FROM outbox WHERE doc_id = ?1 AND seq = ?2",
                (doc.to_string(), seq),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces the snapshot and drops the chunks it now holds, in one transaction.
    pub fn compact(
        &mut self,
        doc: BuildingId,
        snapshot: &[u8],
        now: Timestamp,
    ) -> Result<(), CoreError> {
        let tx = self.conn.transaction()?;
        let id = doc.to_string();
        let n = tx.execute(
            "UPDATE doc SET snapshot = ?2, updated_at = ?3 WHERE doc_id = ?1",
            (&id, snapshot, now.0),
        )?;
        if n != 1 {
            return Err(CoreError::NotFound {
                what: "building",
                id,
            });
        }
        tx.execute("DELETE FROM doc_chunk WHERE doc_id = ?1", [&id])?;
        tx.commit()?;
        Ok(())
    }

    /// The persisted sync state of a document (shared heads), if it was ever synced.
    pub fn sync_state(&self, doc: BuildingId) -> Result<Option<Vec<u8>>, CoreError> {
        let state = self
            .conn
            .query_row(
                "SELECT state FROM sync_state WHERE doc_id = ?1",
                [doc.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(state)
    }

    /// Every queued document, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, CoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id, seq FROM outbox ORDER BY queued_at, doc_id")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(id, seq)| {
                Ok(OutboxEntry {
                    doc: parse_id(&id)?,
                    seq,
                })
            })
            .collect()
    }

    pub fn outbox_len(&self) -> Result<usize, CoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The server refused the document: it stays queued, with the reason.
    pub fn set_outbox_error(&mut self, doc: BuildingId, error: &str) -> Result<(), CoreError> {
        self.conn.execute(
            "UPDATE outbox SET last_error = ?2 WHERE doc_id = ?1",
            (doc.to_string(), error),
        )?;
        Ok(())
    }

    /// The reason the server last refused a queued document.
    #[cfg(test)]
    pub fn outbox_error(&self, doc: BuildingId) -> Result<Option<String>, CoreError> {
        let e = self
            .conn
            .query_row(
                "SELECT last_error FROM outbox WHERE doc_id = ?1",
                [doc.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(e.flatten())
    }
}

fn append_chunk(
    tx: &Transaction<'_>,
    doc: BuildingId,
    chunk: &[u8],
    now: Timestamp,
) -> Result<(), CoreError> {
    tx.execute(
        "INSERT INTO doc (doc_id, snapshot, updated_at) VALUES (?1, NULL, ?2)
         ON CONFLICT (doc_id) DO UPDATE SET updated_at = excluded.updated_at",
        (doc.to_string(), now.0),
    )?;
    tx.execute(
        "INSERT INTO doc_chunk (doc_id, data) VALUES (?1, ?2)",
        (doc.to_string(), chunk),
    )?;
    Ok(())
}

fn parse_id(id: &str) -> Result<BuildingId, CoreError> {
    BuildingId::parse(id)
        .map_err(|e| CoreError::Storage(format!("stored document id is unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn each_edit_appends_a_chunk_and_bumps_the_outbox_seq() {
        let mut store = Store::in_memory().unwrap();
        let b = BuildingId::new();
        assert_eq!(store.doc_bytes(b).unwrap(), None);
        store.save_edit(b, b"ab", Timestamp(10)).unwrap();
        store.save_edit(b, b"cd", Timestamp(20)).unwrap();
        assert_eq!(store.doc_bytes(b).unwrap().unwrap(), b"abcd");
        assert_eq!(
            store.outbox().unwrap(),
            vec![OutboxEntry { doc: b, seq: 2 }]
        );
        assert_eq!(store.chunk_count(b).unwrap(), 2);
    }

    #[test]
    fn a_sync_clears_the_outbox_only_if_its_seq_is_unchanged() {
        let mut store = Store::in_memory().unwrap();
        let b = BuildingId::new();
        store.save_edit(b, b"ab", Timestamp(10)).unwrap();
        store.save_edit(b, b"cd", Timestamp(10)).unwrap();
        store
            .save_sync(b, b"", b"s1", Some(1), Timestamp(11))
            .unwrap();
        assert_eq!(
            store.outbox_len().unwrap(),
            1,
            "an edit made while the request was in flight stays queued"
        );
        store
            .save_sync(b, b"ef", b"s2", Some(2), Timestamp(12))
            .unwrap();
        assert_eq!(store.outbox_len().unwrap(), 0);
        assert_eq!(store.sync_state(b).unwrap().unwrap(), b"s2");
        assert_eq!(store.doc_bytes(b).unwrap().unwrap(), b"abcdef");
    }

    #[test]
    fn compaction_replaces_chunks_with_the_snapshot() {
        let mut store = Store::in_memory().unwrap();
        let b = BuildingId::new();
        store.save_edit(b, b"ab", Timestamp(10)).unwrap();
        store.compact(b, b"AB", Timestamp(11)).unwrap();
        store.save_edit(b, b"cd", Timestamp(12)).unwrap();
        assert_eq!(store.doc_bytes(b).unwrap().unwrap(), b"ABcd");
        assert!(matches!(
            store.compact(BuildingId::new(), b"x", Timestamp(1)),
            Err(CoreError::NotFound { .. })
        ));
    }

    #[test]
    fn a_refusal_is_kept_until_the_next_edit() {
        let mut store = Store::in_memory().unwrap();
        let b = BuildingId::new();
        store.save_edit(b, b"ab", Timestamp(10)).unwrap();
        store.set_outbox_error(b, "scope: outside").unwrap();
        assert_eq!(
            store.outbox_error(b).unwrap().as_deref(),
            Some("scope: outside")
        );
        store.save_edit(b, b"cd", Timestamp(11)).unwrap();
        assert_eq!(store.outbox_error(b).unwrap(), None);
    }
}
