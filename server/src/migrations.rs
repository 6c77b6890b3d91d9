//! Schema migrations, compiled into the binary from `migrations/server/NNNN_name.sql`.
//!
//! The list is append-only: a released migration is never edited, so every database that says
//! it is at version N has the same schema. To add one, write `migrations/server/0002_x.sql` and
//! append a line to [`ALL`]; a test fails if the directory and the list disagree.

use rusqlite::{params, Connection};

use crate::db::DbError;

/// One schema step. `version` is the file's number.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/server/", $name, ".sql")),
        }
    };
}

/// Every migration this binary knows, in order. Append only.
pub const ALL: &[Migration] = &[
    migration!(1, "0001_accounts_regions"),
    migration!(2, "0002_documents"),
];

/// The newest schema version this binary knows.
pub fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

/// Applies every migration newer than the database, each in its own transaction, and refuses a
/// database written by a newer binary: running old code on a newer schema could silently drop
/// what the newer code relies on.
pub fn apply(conn: &mut Connection, migrations: &[Migration]) -> Result<(), DbError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    INTEGER PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at INTEGER NOT NULL
         ) STRICT;",
    )?;
    let current = current_version(conn)?;
    let known = latest(migrations);
    if current > known {
        return Err(DbError::FutureSchema {
            found: current,
            known,
        });
    }
    for m in migrations.iter().filter(|m| m.version > current) {
        apply_one(conn, m).map_err(|source| DbError::Migration {
            version: m.version,
            name: m.name,
            source,
        })?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

/// The highest applied version, 0 for a new database.
pub fn current_version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?)
}

fn apply_one(conn: &mut Connection, m: &Migration) -> Result<(), rusqlite::Error> {
    let tx = conn.transaction()?;
    tx.execute_batch(m.sql)?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, unixepoch())",
        params![m.version, m.name],
    )?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FIRST: Migration = Migration {
        version: 1,
        name: "0001_a",
        sql: "CREATE TABLE a (x INTEGER);",
    };
    const BROKEN: Migration = Migration {
        version: 2,
        name: "0002_b",
        sql: "CREATE TABLE b (x); NOT SQL;",
    };

    #[test]
    fn versions_are_numbered_from_one_without_gaps_and_match_their_file_names() {
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
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/server");
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
    fn a_failing_migration_is_rolled_back_and_named_in_the_error() {
        let mut conn = Connection::open_in_memory().unwrap();
        let err = apply(&mut conn, &[FIRST, BROKEN]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("migration 0002 (0002_b) failed"),
            "{err}"
        );
        assert_eq!(current_version(&conn).unwrap(), 1);
        let b_exists: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b_exists, 0);
    }

    #[test]
    fn a_database_from_a_newer_binary_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, &[FIRST]).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (7, '0007_future', 0)",
            [],
        )
        .unwrap();
        let err = apply(&mut conn, &[FIRST]).unwrap_err();
        assert!(
            matches!(err, DbError::FutureSchema { found: 7, known: 1 }),
            "{err}"
        );
    }
}
