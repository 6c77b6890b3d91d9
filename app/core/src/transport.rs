//! HTTP to the server: one POST or PUT, its status mapped to [`CoreError`]. Every request carries the
//! protocol header, so an outdated app is told to update instead of failing obscurely.

use std::time::Duration;

use pengwang_shared::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use crate::error::CoreError;

/// Longest wait for one round trip; after it the attempt counts as offline.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The client every request of a [`crate::Device`] goes through. No system proxy: a field phone's
/// proxy settings are not ours to follow, and tests point devices at their own proxy explicitly.
pub(crate) fn client() -> Result<reqwest::Client, CoreError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| CoreError::Offline(format!("cannot start the HTTP client: {}", chain(&e))))
}

/// Sends `body` with `method` to `base_url` + `path` and returns the body of a 2xx answer. Any
/// failure to reach the server or to read its whole answer is [`CoreError::Offline`]; a non-2xx
/// answer is the error its JSON body names.
pub(crate) async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    base_url: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, CoreError> {
    send_within(
        client,
        method,
        base_url,
        path,
        token,
        content_type,
        body,
        TIMEOUT,
    )
    .await
}

/// [`send`] giving up after `timeout` (enrollment waits less than a sync).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_within(
    client: &reqwest::Client,
    method: reqwest::Method,
    base_url: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Vec<u8>, CoreError> {
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    let mut request = client
        .request(method, url)
        .timeout(timeout)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header(CONTENT_TYPE, content_type)
        .body(body);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| CoreError::Offline(chain(&e)))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| CoreError::Offline(chain(&e)))?;
    if !status.is_success() {
        return Err(CoreError::from_status(status.as_u16(), &bytes));
    }
    Ok(bytes.to_vec())
}

/// A 2xx body this app cannot read: the server is not the one it expects (or is newer).
pub(crate) fn undecodable(what: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Server {
        status: 200,
        code: "undecodable_response".into(),
        message: format!("cannot read the {what}: {e}"),
    }
}

/// An error and its causes, e.g. "error sending request: connection refused".
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
