//! Fixtures for this crate's unit tests.
#![allow(clippy::unwrap_used)]

use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{RegionCatalog, StreetCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;

use crate::accounts::{self, NewAccount};
use crate::db::Db;
use crate::regions;

/// 2026-03-01 10:00 Shanghai: a fixed "now" for tests.
pub const NOW: Timestamp = Timestamp(1_772_330_400);

/// A fresh database in a temporary directory, with the Chongqing regions seeded.
pub fn seeded_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("test.sqlite3")).unwrap();
    let catalog = RegionCatalog::chongqing().unwrap();
    db.with_writer(|c| regions::seed_if_empty(c, &catalog))
        .unwrap();
    (dir, db)
}

/// A street checker for 七星岗街道 (500103001).
pub fn street_checker() -> NewAccount {
    NewAccount {
        name: "张三".into(),
        role: Role::StreetChecker,
        scope: Scope::Street {
            street: StreetCode::parse("500103001").unwrap(),
        },
        password: None,
    }
}

pub fn create(db: &Db, new: NewAccount) -> AccountInfo {
    db.with_writer(|c| accounts::create_account(c, new, NOW))
        .unwrap()
}
