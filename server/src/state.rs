//! What every handler shares: the database, the configuration, the clock and the region catalog.

use pengwang_shared::region::RegionCatalog;
use pengwang_shared::time::{Clock, Timestamp};
use std::sync::Arc;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::photos::PhotoStore;
use crate::regions;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    /// Photo files on disk (`config.photo_dir()`).
    pub photos: Arc<PhotoStore>,
    /// The regions as the database held them at startup (street → unit edits take effect on
    /// restart). Read-mostly lookups without a query; the database stays the source of truth.
    pub catalog: Arc<RegionCatalog>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the shipped region seed is invalid: {0}")]
    Seed(#[from] pengwang_shared::error::ParseError),
    #[error("cannot open the photo directory {path}: {source}")]
    PhotoDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl AppState {
    /// Opens the database named in `config` (migrating it) and the photo directory, seeds the
    /// Chongqing regions into an empty database, and loads the catalog back from it.
    pub fn open(config: Config, clock: Arc<dyn Clock>) -> Result<AppState, StartupError> {
        let db = Db::open(&config.database)?;
        let seed = RegionCatalog::chongqing()?;
        let catalog = db.with_writer(|c| {
            regions::seed_if_empty(c, &seed)?;
            regions::load_catalog(c)
        })?;
        let path = config.photo_dir();
        let photos = PhotoStore::open(path.clone())
            .map_err(|source| StartupError::PhotoDir { path, source })?;
        Ok(AppState {
            db,
            photos: Arc::new(photos),
            config: Arc::new(config),
            clock,
            catalog: Arc::new(catalog),
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A crash point for durability tests: when `PENGWANG_CRASH_AT` names `point`, the process
    /// aborts here (no destructors, no flushing), as a power cut or OOM kill would stop it.
    /// Place calls between "committed" and "answered", e.g. `state.failpoint("sync.after_commit")`.
    pub fn failpoint(&self, point: &str) {
        if self.config.crash_at.as_deref() == Some(point) {
            tracing::error!(failpoint = point, "crashing on purpose (PENGWANG_CRASH_AT)");
            std::process::abort();
        }
    }
}
