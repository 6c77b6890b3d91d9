//! Who this install acts for: the enrollment (device id, token, account), the server it syncs
//! with and the campaign settings last received. Loaded from `meta` at open, kept in memory.

use automerge::ActorId;
use pengwang_shared::id::DeviceId;
use pengwang_shared::protocol::{AccountInfo, EnrollRequest, EnrollResponse};
use pengwang_shared::settings::CampaignSettings;
use tracing::instrument;

use crate::device::Device;
use crate::error::CoreError;
use crate::store::{key, Store};
use crate::transport;

/// What enrollment gave this install.
#[derive(Clone, Debug)]
pub(crate) struct Enrollment {
    pub device_id: DeviceId,
    pub token: String,
    pub account: AccountInfo,
}

impl Enrollment {
    /// The automerge actor of this install: its device id. One actor per (install, account),
    /// so no two replicas ever write with the same actor.
    pub fn actor(&self) -> ActorId {
        ActorId::from(self.device_id.0.as_bytes())
    }
}

/// The identity and settings cached from `meta`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Identity {
    pub enrollment: Option<Enrollment>,
    pub server_url: Option<String>,
    pub settings: Option<CampaignSettings>,
}

impl Identity {
    pub fn load(store: &Store) -> Result<Identity, CoreError> {
        let device_id = store
            .meta(key::DEVICE_ID)?
            .map(|s| DeviceId::parse(&s))
            .transpose()
            .map_err(|e| CoreError::Storage(format!("stored device id is unreadable: {e}")))?;
        let token = store.meta(key::TOKEN)?;
        let account = store.meta_json::<AccountInfo>(key::ACCOUNT)?;
        let enrollment = match (device_id, token, account) {
            (Some(device_id), Some(token), Some(account)) => Some(Enrollment {
                device_id,
                token,
                account,
            }),
            _ => None,
        };
        Ok(Identity {
            enrollment,
            server_url: store.meta(key::SERVER_URL)?,
            settings: store.meta_json(key::SETTINGS)?,
        })
    }
}

impl Device {
    /// Trades a one-time enrollment code for this install's identity: POST `{server_url}/v1/enroll`.
    /// Stores the token, device id, account and settings, and restarts the change feed from 0
    /// (a new enrollment may see a different scope). Re-enrolling gives the install a new actor.
    #[instrument(skip_all, err)]
    pub async fn enroll(
        &self,
        server_url: &str,
        code: &str,
        device_name: &str,
    ) -> Result<AccountInfo, CoreError> {
        let request = EnrollRequest {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| CoreError::Invalid(format!("enrollment request: {e}")))?;
        let url = server_url.trim_end_matches('/').to_owned();
        let answer = transport::send(
            self.http(),
            reqwest::Method::POST,
            &url,
            "/v1/enroll",
            None,
            "application/json",
            body,
        )
        .await?;
        let enrolled: EnrollResponse = serde_json::from_slice(&answer)
            .map_err(|e| transport::undecodable("enrollment answer", e))?;
        let account = enrolled.account.clone();
        self.blocking(move |device| device.store_enrollment(&url, enrolled))
            .await?;
        Ok(account)
    }

    pub(crate) fn store_enrollment(
        &self,
        url: &str,
        enrolled: EnrollResponse,
    ) -> Result<(), CoreError> {
        let values = [
            (key::DEVICE_ID, enrolled.device_id.to_string()),
            (key::TOKEN, enrolled.token.clone()),
            (key::SERVER_URL, url.to_owned()),
            (key::ACCOUNT, to_json(&enrolled.account)?),
            (key::SETTINGS, to_json(&enrolled.settings)?),
            (key::CURSOR, "0".to_owned()),
            (key::REVOKED, String::new()),
        ];
        // Cached documents carry the old actor: drop them so they reload with the new one.
        let mut docs = self.docs();
        self.store().set_meta(&values)?;
        docs.clear();
        let mut identity = self.identity();
        identity.enrollment = Some(Enrollment {
            device_id: enrolled.device_id,
            token: enrolled.token,
            account: enrolled.account,
        });
        identity.server_url = Some(url.to_owned());
        identity.settings = Some(enrolled.settings);
        Ok(())
    }
}

/// A `meta` value as JSON.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string(value)
        .map_err(|e| CoreError::Storage(format!("cannot encode a stored value: {e}")))
}
