//! Who this install acts for: the enrollment (device id, token, account), the server it syncs
//! with and the campaign settings last received. Loaded from `meta` at open, kept in memory.

use std::time::Duration;

use automerge::ActorId;
use pengwang_shared::id::DeviceId;
use pengwang_shared::protocol::{AccountInfo, EnrollRequest, EnrollResponse};
use pengwang_shared::settings::CampaignSettings;
use tracing::instrument;

use crate::device::Device;
use crate::error::CoreError;
use crate::store::{key, Store};
use crate::transport;

/// How long enrollment waits for the server: someone is standing at the form.
const ENROLL_TIMEOUT: Duration = Duration::from_secs(10);

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
        let url = server_address(server_url)?;
        let code = code.trim();
        if code.is_empty() {
            return Err(CoreError::EnrollInput {
                code: "enrollment_code_missing",
                why: "no enrollment code".into(),
            });
        }
        let request = EnrollRequest {
            code: code.to_owned(),
            device_name: device_name.to_owned(),
        };
        let body = serde_json::to_vec(&request)
            .map_err(|e| CoreError::Invalid(format!("enrollment request: {e}")))?;
        let answer = transport::send_within(
            self.http(),
            reqwest::Method::POST,
            &url,
            "/v1/enroll",
            None,
            "application/json",
            body,
            ENROLL_TIMEOUT,
        )
        .await
        .map_err(not_pengwang)?;
        let enrolled: EnrollResponse = serde_json::from_slice(&answer)
            .map_err(|e| CoreError::NotPengwang(format!("cannot read its answer: {e}")))?;
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

/// The server address as `http(s)://host[:port]`, or why the form's text is not one.
pub(crate) fn server_address(text: &str) -> Result<String, CoreError> {
    let text = text.trim();
    let refuse = |code, why: String| Err(CoreError::EnrollInput { code, why });
    if text.is_empty() {
        return refuse("server_url_missing", "no server address".into());
    }
    if !text.contains("://") {
        return refuse(
            "server_url_no_scheme",
            format!("{text:?} lacks http:// or https://"),
        );
    }
    let url = match reqwest::Url::parse(text) {
        Ok(url) => url,
        Err(e) => return refuse("server_url_invalid", format!("{text:?}: {e}")),
    };
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return refuse(
            "server_url_invalid",
            format!("{text:?} is not of the form http(s)://host[:port]"),
        );
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// An answer no Pengwang server gives (an HTML page, another service's error) says the address
/// is wrong, not that the code is.
fn not_pengwang(e: CoreError) -> CoreError {
    match e {
        CoreError::Server {
            status,
            code,
            message,
        } if code.starts_with("http_") || code == "undecodable_response" => {
            CoreError::NotPengwang(format!("HTTP {status}: {message}"))
        }
        other => other,
    }
}

/// A `meta` value as JSON.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string(value)
        .map_err(|e| CoreError::Storage(format!("cannot encode a stored value: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> &'static str {
        server_address(text).unwrap_err().code()
    }

    #[test]
    fn a_server_address_is_http_or_https_host_and_port_and_nothing_else() {
        assert_eq!(
            server_address(" http://192.168.1.10:8080/ ").unwrap(),
            "http://192.168.1.10:8080"
        );
        assert_eq!(
            server_address("https://pengwang.example").unwrap(),
            "https://pengwang.example"
        );
        assert_eq!(code(""), "server_url_missing");
        assert_eq!(code("   "), "server_url_missing");
        assert_eq!(code("192.168.1.10:8080"), "server_url_no_scheme");
        assert_eq!(code("localhost:8080"), "server_url_no_scheme");
        assert_eq!(code("ftp://pengwang.example"), "server_url_invalid");
        assert_eq!(code("http://"), "server_url_invalid");
        assert_eq!(code("http://host:99999"), "server_url_invalid");
        assert_eq!(code("http://host/v1"), "server_url_invalid");
        assert_eq!(code("http://host/?x=1"), "server_url_invalid");
    }

    #[test]
    fn an_answer_without_a_pengwang_error_body_is_not_a_pengwang_server() {
        let html = CoreError::from_status(404, b"<html>Not Found</html>");
        assert_eq!(not_pengwang(html).code(), "not_pengwang_server");
        let ours = CoreError::from_status(
            404,
            br#"{"code":"enrollment_code_unknown","message":"unknown code"}"#,
        );
        assert_eq!(not_pengwang(ours).code(), "server");
    }
}
