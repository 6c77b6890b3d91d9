//! The server's SQLite database: one writer connection, a few readers, embedded migrations.
//!
//! SQLite allows one writer at a time anyway, so writes share one connection behind a mutex
//! instead of fighting over locks; readers get their own read-only connections (WAL lets them
//! run beside the writer). Every call runs on `spawn_blocking` so rusqlite never blocks the
//! async runtime.
//!
//! `synchronous=FULL`: a sync answer promises the phone its changes are stored, so a commit must
//! survive a power cut, not only a process crash.

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Semaphore;

use pengwang_migrations::{self as migrations, MigrationError};

/// Read-only connections kept open at most (created on first use).
const MAX_READERS: usize = 4;
/// How long a statement waits for a lock held by another process (the CLI) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed, or the database is newer than this server (run a pengwang-server at
    /// least as new as the one that last opened it).
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error("stored {what} is unreadable: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("database task panicked")]
    Panicked,
}

impl DbError {
    /// A stored value that no longer parses (hand-edited row, or a bug in the writer).
    pub fn corrupt(what: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    idle_readers: Mutex<Vec<Connection>>,
    read_slots: Arc<Semaphore>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Db, DbError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open_writer(&path)?;
        for m in migrations::apply(&mut writer, migrations::SERVER)? {
            tracing::info!(version = m.version, name = m.name, "applied migration");
        }
        let inner = Inner {
            path,
            writer: Mutex::new(writer),
            idle_readers: Mutex::new(Vec::new()),
            read_slots: Arc::new(Semaphore::new(MAX_READERS)),
        };
        Ok(Db {
            inner: Arc::new(inner),
        })
    }

    /// Moves everything in the write-ahead log into the database file and empties the log, so
    /// the `.sqlite3` file alone is a complete copy. Called on shutdown.
    pub fn checkpoint(&self) -> Result<(), DbError> {
        self.with_writer(|c| c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);"))?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the writer connection, off the async runtime. Open a transaction inside `f`
    /// for anything that must be atomic.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer)))
            .await
            .map_err(|_| E::from(DbError::Panicked))?
    }

    /// Runs `f` on the writer connection on this thread: for the CLI and tests, never from async
    /// code (it blocks until the writer is free).
    pub fn with_writer<T, E>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        f(&mut lock(&self.inner.writer))
    }

    /// Runs `f` on a read-only connection, off the async runtime. At most [`MAX_READERS`] reads
    /// run at once; the rest wait here rather than piling up blocking threads.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let permit = Arc::clone(&self.inner.read_slots)
            .acquire_owned()
            .await
            .map_err(|_| E::from(DbError::Panicked))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = lock(&inner.idle_readers).pop();
            let conn = match conn {
                Some(c) => c,
                None => open_reader(&inner.path)?,
            };
            let result = f(&conn);
            let mut idle = lock(&inner.idle_readers);
            if idle.len() < MAX_READERS {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|_| E::from(DbError::Panicked))?
    }
}

/// A panic inside a closure poisons the mutex, but the connection is still sound: rusqlite rolls
/// back an open transaction when it is dropped during unwinding. So carry on with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn open_writer(path: &Path) -> Result<Connection, DbError> {
    let open_err = |source| DbError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(journal_mode = %mode, "SQLite refused WAL mode; readers will wait for writers");
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    Ok(conn)
}

fn open_reader(path: &Path) -> Result<Connection, DbError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let open_err = |source| DbError::Open {
        path: path.to_path_buf(),
        source,
    };
    let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_write_is_visible_to_a_later_read() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.sqlite3")).unwrap();
        db.write(|c| {
            c.execute(
                "INSERT INTO district (code, name) VALUES ('500103', 'x')",
                [],
            )
            .map_err(DbError::from)
        })
        .await
        .unwrap();
        let n: i64 = db
            .read(|c| {
                c.query_row("SELECT count(*) FROM district", [], |r| r.get(0))
                    .map_err(DbError::from)
            })
            .await
            .unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test]
    async fn readers_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.sqlite3")).unwrap();
        let err = db
            .read(|c| c.execute("DELETE FROM district", []).map_err(DbError::from))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("readonly"), "{err}");
    }

    #[test]
    fn the_writer_runs_wal_with_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path().join("t.sqlite3")).unwrap();
        let (mode, sync, fk) = db
            .with_writer(|c| {
                let get = |p: &str| {
                    c.query_row(&format!("PRAGMA {p}"), [], |r| {
                        r.get::<_, rusqlite::types::Value>(0)
                    })
                };
                Ok::<_, DbError>((
                    get("journal_mode")?,
                    get("synchronous")?,
                    get("foreign_keys")?,
                ))
            })
            .unwrap();
        use rusqlite::types::Value::{Integer, Text};
        assert_eq!(
            (mode, sync, fk),
            (Text("wal".into()), Integer(2), Integer(1))
        );
    }
}
