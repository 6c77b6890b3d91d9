//! What the phone's always-visible status line needs: who this install is, what waits to be
//! sent, whether the server answers, what the last sync said (conflicts in scope, revocation),
//! and wiping the install when the server has revoked it.

use std::time::Duration;

use pengwang_shared::protocol::{AccountInfo, PROTOCOL_HEADER, PROTOCOL_VERSION};
use pengwang_shared::time::Timestamp;
use serde::Serialize;

use crate::device::{Device, Pending};
use crate::enrollment::Identity;
use crate::error::CoreError;
use crate::store::key;
use crate::sync::SyncReport;

/// How long a reachability probe waits: a phone in a stairwell should learn it is offline fast.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The install's state as the status line shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    pub account: Option<AccountInfo>,
    /// This install's id on the server (what an administrator revokes).
    pub device_id: Option<String>,
    /// The role in Chinese (社区网格员 …).
    pub role_label: Option<&'static str>,
    pub server_url: Option<String>,
    pub pending: Pending,
    /// Open conflicts in this account's scope, as the server reported at the last sync.
    pub open_conflicts: u32,
    /// Conflicts on the items this account recorded, in the device's copy.
    pub my_conflicts: usize,
    /// When the last sync finished without error.
    pub last_sync_at: Option<Timestamp>,
    /// The same as `YYYY-MM-DD HH:MM` in Asia/Shanghai, whatever the phone's time zone.
    pub last_sync_local: Option<String>,
    /// The server's message when it revoked this device; syncing stops until re-enrolled.
    pub revoked: Option<String>,
}

/// What [`Device::wipe`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Wiped {
    pub buildings: usize,
    /// What had not reached the server and is now lost.
    pub unsynced: Pending,
}

impl Device {
    pub fn status(&self) -> Result<Status, CoreError> {
        let account = self.account();
        let (open_conflicts, last_sync_at, revoked) = {
            let store = self.store();
            let number = |k| -> Result<Option<i64>, CoreError> {
                Ok(store.meta(k)?.and_then(|v: String| v.parse().ok()))
            };
            (
                number(key::OPEN_CONFLICTS)?.unwrap_or(0),
                number(key::LAST_SYNC_AT)?.map(Timestamp),
                store.meta(key::REVOKED)?.filter(|m| !m.is_empty()),
            )
        };
        Ok(Status {
            role_label: account.as_ref().map(|a| a.role.label()),
            device_id: self.device_id().map(|d| d.to_string()),
            my_conflicts: match account {
                Some(_) => self.conflicts_on_my_items()?,
                None => 0,
            },
            account,
            server_url: self.server_url(),
            pending: self.pending()?,
            open_conflicts: u32::try_from(open_conflicts).unwrap_or(0),
            last_sync_local: last_sync_at.map(crate::survey::local_time),
            last_sync_at,
            revoked,
        })
    }

    /// Refuses an edit once the server has revoked this device: nothing written now could
    /// ever be sent, only wiped.
    pub(crate) fn refuse_if_revoked(&self) -> Result<(), CoreError> {
        match self.store().meta(key::REVOKED)?.filter(|m| !m.is_empty()) {
            Some(message) => Err(CoreError::RevokedReadOnly(message)),
            None => Ok(()),
        }
    }

    /// Whether the server answers `GET /health` within a few seconds.
    pub async fn server_reachable(&self) -> bool {
        let Some(url) = self.server_url() else {
            return false;
        };
        let answer = self
            .http()
            .get(format!("{url}/health"))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .timeout(PROBE_TIMEOUT)
            .send()
            .await;
        answer.is_ok_and(|r| r.status().is_success())
    }

    /// What to remember of a sync's outcome: the conflicts in scope and the time of a
    /// successful one, or the revocation that ends syncing.
    pub(crate) fn outcome_meta(
        &self,
        outcome: &Result<SyncReport, CoreError>,
    ) -> Option<Vec<(&'static str, String)>> {
        match outcome {
            Ok(report) => Some(vec![
                (key::OPEN_CONFLICTS, report.open_conflicts.to_string()),
                (key::LAST_SYNC_AT, self.now().0.to_string()),
            ]),
            Err(CoreError::Revoked(message)) => Some(vec![(key::REVOKED, message.clone())]),
            Err(_) => None,
        }
    }

    /// Deletes everything on this install (documents, photos, identity) in one transaction and
    /// says what had not reached the server. The app asks before calling it.
    pub fn wipe(&self) -> Result<Wiped, CoreError> {
        let mut docs = self.docs();
        let mut store = self.store();
        let unsynced = Pending {
            docs: store.outbox_len()?,
            photos: store.unconfirmed_photo_count()?,
        };
        let buildings = store.doc_ids()?.len();
        store.wipe()?;
        docs.clear();
        drop(store);
        *self.identity() = Identity::default();
        Ok(Wiped {
            buildings,
            unsynced,
        })
    }
}
