//! # pengwang-migrations
//!
//! The SQL schemas of the phone's store (`device/`) and of the server (`server/`), numbered and
//! append-only, compiled into the binaries, and the one runner both apply on open.
//!
//! A released migration is never edited, so every database at version N has the same schema.
//! A database written by a newer build is refused rather than opened: older code could silently
//! ignore what the newer schema relies on.

use rusqlite::Connection;

/// One schema step. `version` is the file's number.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($dir:literal, $version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../", $dir, "/", $name, ".sql")),
        }
    };
}

/// The phone's store. Append only.
pub const DEVICE: &[Migration] = &[
    migration!("device", 1, "0001_init"),
    migration!("device", 2, "0002_photos"),
];

/// The server's database. Append only.
pub const SERVER: &[Migration] = &[
    migration!("server", 1, "0001_accounts_regions"),
    migration!("server", 2, "0002_documents"),
    migration!("server", 3, "0003_item_state_since"),
    migration!("server", 4, "0004_photos"),
    migration!("server", 5, "0005_photo_ref_details"),
    migration!("server", 6, "0006_console_sessions"),
    migration!("server", 7, "0007_report_submissions"),
    migration!("server", 8, "0008_merges"),
    migration!("server", 9, "0009_unit_documents"),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("database schema version {found} is newer than this build knows ({known}): update the program")]
    FutureSchema { found: i64, known: i64 },
    #[error("migration {version:04} ({name}) failed: {source}")]
    Failed {
        version: i64,
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// The newest version in `migrations`.
pub fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

/// The highest applied version, 0 for a new database.
pub fn current_version(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )
}

/// Applies every migration newer than the database, each in its own transaction. Returns the
/// migrations applied.
pub fn apply(
    conn: &mut Connection,
    migrations: &[Migration],
) -> Result<Vec<Migration>, MigrationError> {
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
        return Err(MigrationError::FutureSchema {
            found: current,
            known,
        });
    }
    let pending: Vec<Migration> = migrations
        .iter()
        .filter(|m| m.version > current)
        .copied()
        .collect();
    for m in &pending {
        apply_one(conn, m).map_err(|source| MigrationError::Failed {
            version: m.version,
            name: m.name,
            source,
        })?;
    }
    Ok(pending)
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
    fn versions_are_numbered_from_one_without_gaps_and_every_sql_file_is_listed() {
        for (dir, list) in [("device", DEVICE), ("server", SERVER)] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{dir}/{}", m.name);
                assert!(
                    m.name.starts_with(&format!("{:04}_", m.version)),
                    "{dir}/{}",
                    m.name
                );
            }
            let path = format!("{}/{dir}", env!("CARGO_MANIFEST_DIR"));
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|m| format!("{}.sql", m.name)).collect();
            assert_eq!(files, listed, "{dir}");
        }
    }

    #[test]
    fn both_schemas_apply_and_applying_twice_is_a_no_op() {
        for list in [DEVICE, SERVER] {
            let mut conn = Connection::open_in_memory().unwrap();
            assert_eq!(apply(&mut conn, list).unwrap().len(), list.len());
            assert!(apply(&mut conn, list).unwrap().is_empty());
            assert_eq!(current_version(&conn).unwrap(), latest(list));
        }
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn, &[FIRST]).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (9, '0009_future', 0)",
            [],
        )
        .unwrap();
        let err = apply(&mut conn, &[FIRST]).unwrap_err();
        assert!(
            matches!(err, MigrationError::FutureSchema { found: 9, known: 1 }),
            "{err}"
        );
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
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(b, 0);
    }
}
