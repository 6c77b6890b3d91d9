//! [`Device`]: one app install. It owns the store, a cache of loaded documents and the HTTP
//! client; editing lives in [`crate::editing`], syncing in [`crate::sync`].
//!
//! Invariant: a cached document equals what the store would load. Every write persists before it
//! returns, and any failure to persist drops the cached document, so the next use reloads it from
//! disk rather than trusting memory that disk never saw. Locks are always taken in the order
//! documents → store → identity.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use automerge::{ActorId, AutoCommit, ChangeHash};
use chrono::Datelike;
use pengwang_shared::document::conflict::{conflicts, DocConflict};
use pengwang_shared::document::{read, BuildingDoc};
use pengwang_shared::id::{BuildingId, DeviceId, ItemId};
use pengwang_shared::lifecycle::{fold, Fold};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::{Clock, Timestamp};
use tracing::instrument;

use crate::enrollment::{Enrollment, Identity};
use crate::error::CoreError;
use crate::store::{key, Store, COMPACT_AFTER_CHUNKS};
use crate::transport;

pub(crate) type DocCache = HashMap<BuildingId, AutoCommit>;

/// One app install: its store, identity and documents. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Device {
    inner: Arc<Inner>,
}

struct Inner {
    docs: Mutex<DocCache>,
    store: Mutex<Store>,
    identity: Mutex<Identity>,
    clock: Arc<dyn Clock>,
    http: reqwest::Client,
    /// One sync at a time: the outbox seq check assumes no other sync clears rows meanwhile.
    sync_lock: tokio::sync::Mutex<()>,
}

/// What is waiting to be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Pending {
    /// Documents with changes the server has not confirmed.
    pub docs: usize,
    /// Photos the server has not confirmed having (photo and thumbnail).
    pub photos: usize,
}

impl Pending {
    /// Nothing waits: the only state in which the app may say "all synced".
    pub fn is_clear(&self) -> bool {
        self.docs == 0 && self.photos == 0
    }
}

impl Device {
    /// Opens (creating if needed) the device database at `path`.
    #[instrument(skip_all, err)]
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Device, CoreError> {
        let store = Store::open(path)?;
        let identity = Identity::load(&store)?;
        let inner = Inner {
            docs: Mutex::new(HashMap::new()),
            store: Mutex::new(store),
            identity: Mutex::new(identity),
            clock,
            http: transport::client()?,
            sync_lock: tokio::sync::Mutex::new(()),
        };
        Ok(Device {
            inner: Arc::new(inner),
        })
    }

    /// The account this device acts for, once enrolled.
    pub fn account(&self) -> Option<AccountInfo> {
        self.identity()
            .enrollment
            .as_ref()
            .map(|e| e.account.clone())
    }

    pub fn device_id(&self) -> Option<DeviceId> {
        self.identity().enrollment.as_ref().map(|e| e.device_id)
    }

    /// The campaign settings last received, or the defaults for the current year.
    pub fn settings(&self) -> CampaignSettings {
        let stored = self.identity().settings.clone();
        stored.unwrap_or_else(|| CampaignSettings::for_year(self.now().local_date().year()))
    }

    /// Points the device at another server address (tests route devices through a proxy).
    pub fn set_server_url(&self, url: &str) -> Result<(), CoreError> {
        let url = url.trim_end_matches('/').to_owned();
        self.store().set_meta(&[(key::SERVER_URL, url.clone())])?;
        self.identity().server_url = Some(url);
        Ok(())
    }

    /// The building as of the document's current heads.
    pub fn building(&self, b: BuildingId) -> Result<BuildingDoc, CoreError> {
        self.with_doc(b, |doc| Ok(read(doc)?))
    }

    /// Every building on this device.
    pub fn buildings(&self) -> Result<Vec<BuildingId>, CoreError> {
        self.store().doc_ids()
    }

    /// What an item's events add up to, with the campaign settings this device has.
    pub fn item_fold(&self, b: BuildingId, item: ItemId) -> Result<Fold, CoreError> {
        let building = self.building(b)?;
        let item = crate::editing::item_of(&building, item)?;
        Ok(fold(&item.events, &self.settings(), item.deleted))
    }

    pub fn heads(&self, b: BuildingId) -> Result<Vec<ChangeHash>, CoreError> {
        self.with_doc(b, |doc| Ok(doc.get_heads()))
    }

    /// Field and tombstone conflicts in the building's document.
    pub fn conflicts(&self, b: BuildingId) -> Result<Vec<DocConflict>, CoreError> {
        self.with_doc(b, |doc| Ok(conflicts(doc.document())?))
    }

    /// The whole document, compacted (`AutoCommit::save`).
    pub fn save(&self, b: BuildingId) -> Result<Vec<u8>, CoreError> {
        self.with_doc(b, |doc| Ok(doc.save()))
    }

    pub fn pending(&self) -> Result<Pending, CoreError> {
        let store = self.store();
        Ok(Pending {
            docs: store.outbox_len()?,
            photos: store.unconfirmed_photo_count()?,
        })
    }

    /// Replaces the document's chunks with one snapshot. Heads and content do not change.
    #[instrument(skip_all, fields(building = %b), err)]
    pub fn compact(&self, b: BuildingId) -> Result<(), CoreError> {
        let mut docs = self.docs();
        let mut store = self.store();
        self.compact_locked(&mut docs, &mut store, b)
    }

    pub(crate) fn compact_locked(
        &self,
        docs: &mut DocCache,
        store: &mut Store,
        b: BuildingId,
    ) -> Result<(), CoreError> {
        let doc = self.cached(docs, store, b)?;
        let snapshot = doc.save();
        let done = store.compact(b, &snapshot, self.now());
        if done.is_err() {
            docs.remove(&b);
        }
        done
    }

    /// Compacts a document whose chunks piled up. Best effort: the write before it is already
    /// durable, so a failure here only leaves the chunks for the next write to compact.
    pub(crate) fn compact_if_due(&self, docs: &mut DocCache, store: &mut Store, b: BuildingId) {
        if store.chunk_count(b).is_ok_and(|n| n > COMPACT_AFTER_CHUNKS) {
            // A failure has already dropped the cached document; the chunks stay valid.
            let _ = self.compact_locked(docs, store, b);
        }
    }

    /// Runs `f` on the building's document, loading it if needed.
    fn with_doc<T>(
        &self,
        b: BuildingId,
        f: impl FnOnce(&mut AutoCommit) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        let mut docs = self.docs();
        let store = self.store();
        f(self.cached(&mut docs, &store, b)?)
    }

    /// The cached document, loaded from `snapshot ++ chunks` on first use.
    pub(crate) fn cached<'a>(
        &self,
        docs: &'a mut DocCache,
        store: &Store,
        b: BuildingId,
    ) -> Result<&'a mut AutoCommit, CoreError> {
        self.try_cached(docs, store, b)?
            .ok_or_else(|| CoreError::NotFound {
                what: "building",
                id: b.to_string(),
            })
    }

    /// Like [`Self::cached`], `None` for a document this device does not have.
    pub(crate) fn try_cached<'a>(
        &self,
        docs: &'a mut DocCache,
        store: &Store,
        b: BuildingId,
    ) -> Result<Option<&'a mut AutoCommit>, CoreError> {
        let vacant = match docs.entry(b) {
            Entry::Occupied(cached) => return Ok(Some(cached.into_mut())),
            Entry::Vacant(vacant) => vacant,
        };
        let Some(bytes) = store.doc_bytes(b)? else {
            return Ok(None);
        };
        let mut doc = AutoCommit::load(&bytes)
            .map_err(|e| CoreError::Storage(format!("stored building {b} is unreadable: {e}")))?;
        if let Some(actor) = self.actor() {
            doc.set_actor(actor);
        }
        Ok(Some(vacant.insert(doc)))
    }

    /// The enrollment, or the error that editing and syncing need one.
    pub(crate) fn enrolled(&self) -> Result<Enrollment, CoreError> {
        self.identity()
            .enrollment
            .clone()
            .ok_or(CoreError::NotEnrolled)
    }

    pub(crate) fn actor(&self) -> Option<ActorId> {
        self.identity().enrollment.as_ref().map(Enrollment::actor)
    }

    pub(crate) fn server_url(&self) -> Option<String> {
        self.identity().server_url.clone()
    }

    pub(crate) fn set_cached_settings(&self, settings: CampaignSettings) {
        self.identity().settings = Some(settings);
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn sync_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.sync_lock
    }

    /// The document cache. A panic while it was held may have left a document half-edited in
    /// memory, so a poisoned cache is emptied: everything reloads from disk.
    pub(crate) fn docs(&self) -> MutexGuard<'_, DocCache> {
        self.inner.docs.lock().unwrap_or_else(|poisoned| {
            let mut docs = poisoned.into_inner();
            docs.clear();
            docs
        })
    }

    /// The store. SQLite rolls back an unfinished transaction when it is dropped, so a poisoned
    /// store is still consistent.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn identity(&self) -> MutexGuard<'_, Identity> {
        self.inner
            .identity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs blocking store work off the async runtime.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Device) -> Result<T, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let device = self.clone();
        tokio::task::spawn_blocking(move || f(&device))
            .await
            .map_err(|e| CoreError::Storage(format!("background task failed: {e}")))?
    }
}
