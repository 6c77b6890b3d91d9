//! The device store: one SQLite file holding the install's identity, every building document it
//! knows (snapshot + appended change chunks), the sync state shared with the server per document,
//! the outbox, and the photos ingested on the device with their upload state.
//!
//! Durability rules: every user action appends its changes and bumps the outbox in one
//! transaction; every applied sync reply appends its changes and stores the new sync state in one
//! transaction; compaction swaps chunks for a snapshot in one transaction. `synchronous=FULL`,
//! because a phone's battery runs out mid-write more often than a server's does.

mod documents;
mod photos;

pub(crate) use documents::OutboxEntry;
pub(crate) use photos::UploadState;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use crate::error::CoreError;

/// Keys of the `meta` table.
pub(crate) mod key {
    pub const DEVICE_ID: &str = "device_id";
    pub const TOKEN: &str = "token";
    pub const SERVER_URL: &str = "server_url";
    pub const ACCOUNT: &str = "account";
    pub const SETTINGS: &str = "settings";
    pub const CURSOR: &str = "cursor";
    /// Open conflicts in scope at the last sync, and when it finished.
    pub const OPEN_CONFLICTS: &str = "open_conflicts";
    pub const LAST_SYNC_AT: &str = "last_sync_at";
    /// The server's message when it revoked this device ("" after a new enrollment).
    pub const REVOKED: &str = "revoked";
}

/// A chunk count above which a document is compacted after a write.
pub(crate) const COMPACT_AFTER_CHUNKS: i64 = 32;

/// The device's SQLite database.
pub(crate) struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store, CoreError> {
        let conn = Connection::open(path)
            .map_err(|e| CoreError::Storage(format!("cannot open {}: {e}", path.display())))?;
        Self::init(conn)
    }

    /// A store in memory, for unit tests.
    #[cfg(test)]
    pub fn in_memory() -> Result<Store, CoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    /// Makes every later write fail, to test what a failing disk does to the device.
    #[cfg(test)]
    pub fn set_read_only(&self, on: bool) -> Result<(), CoreError> {
        self.conn.pragma_update(None, "query_only", on)?;
        Ok(())
    }

    fn init(mut conn: Connection) -> Result<Store, CoreError> {
        conn.busy_timeout(Duration::from_secs(5))?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
        pengwang_migrations::apply(&mut conn, pengwang_migrations::DEVICE)?;
        Ok(Store { conn })
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, CoreError> {
        let value = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        Ok(value)
    }

    /// Writes several meta values in one transaction.
    pub fn set_meta(&mut self, values: &[(&str, String)]) -> Result<(), CoreError> {
        let tx = self.conn.transaction()?;
        for (key, value) in values {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes every row of the install (documents, sync states, outbox, photos, identity) in
    /// one transaction.
    pub fn wipe(&mut self) -> Result<(), CoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM doc_chunk; DELETE FROM sync_state; DELETE FROM outbox;
             DELETE FROM doc; DELETE FROM photo; DELETE FROM meta;",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A meta value stored as JSON.
    pub fn meta_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CoreError> {
        self.meta(key)?
            .map(|text| serde_json::from_str(&text))
            .transpose()
            .map_err(|e| CoreError::Storage(format!("stored {key} is unreadable: {e}")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn meta_values_are_upserted() {
        let mut store = Store::in_memory().unwrap();
        assert_eq!(store.meta(key::CURSOR).unwrap(), None);
        store.set_meta(&[(key::CURSOR, "3".into())]).unwrap();
        store.set_meta(&[(key::CURSOR, "7".into())]).unwrap();
        assert_eq!(store.meta(key::CURSOR).unwrap().as_deref(), Some("7"));
    }

    #[test]
    fn a_file_store_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("device.db")).unwrap();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
