//! Schema migrations of the device store, compiled in from `migrations/device/NNNN_name.sql`.
//!
//! The list is append-only: a released migration is never edited, so every phone database at
//! version N has the same schema. A database written by a newer app is refused rather than
//! opened: an older app could silently ignore what the newer one relies on.

use rusqlite::Connection;

use crate::error::CoreError;

/// One schema step. `version` is the file's number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../../../migrations/device/", $name, ".sql")),
        }
    };
}

/// Every migration this build knows, in order. Append only.
pub(crate) const ALL: &[Migration] = &[migration!(1, "0001_init")];

/// Applies every migration newer than the database, each in its own transaction.
pub(crate) fn apply(conn: &mut Connection, migrations: &[Migration]) -> Result<(), CoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )?;
    let current: i64 = conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    let known = migrations.last().map_or(0, |m| m.version);
    if current > known {
        return Err(CoreError::FutureSchema {
            found: current,
            known,
        });
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        apply_one(conn, m).map_err(|e| {
            CoreError::Storage(format!(
                "migration {:04} ({}) failed: {e}",
                m.version, m.name
            ))
        })?;
    }
    Ok(())
}

fn apply_one(conn: &mut Connection, m: &Migration) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    tx.execute_batch(m.sql)?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())",
        (m.version, m.name),
    )?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn versions_are_numbered_from_one_and_match_their_file_names() {
        for (i, m) in ALL.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            assert!(
                m.name.starts_with(&format!("{:04}_", m.version)),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn every_sql_file_in_the_migrations_directory_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/device");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = ALL.iter().map(|m| format!("{}.sql", m.name)).collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn applying_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, ALL).unwrap();
        apply(&mut conn, ALL).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, ALL.len() as i64);
    }

    #[test]
    fn a_database_from_a_newer_app_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, ALL).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (9, '0009_future', 0)",
            [],
        )
        .unwrap();
        let err = apply(&mut conn, ALL).unwrap_err();
        assert!(
            matches!(err, CoreError::FutureSchema { found: 9, known: 1 }),
            "{err}"
        );
        assert_eq!(err.code(), "storage");
    }
}
