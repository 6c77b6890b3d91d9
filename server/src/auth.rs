//! Request extractors for the app's API: the protocol check every request passes, and the
//! device behind a bearer token.
//!
//! The protocol is checked before the token, so an outdated app is told to update (426) rather
//! than to re-enroll.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use pengwang_shared::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};

use crate::devices::{self, Device};
use crate::error::AppError;
use crate::state::AppState;

/// `last_seen_at` is refreshed at most this often, so authenticating stays a read and does not
/// queue every request behind the single writer.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The request carries the protocol major this server speaks (`pengwang-protocol: 1`).
#[derive(Clone, Copy, Debug)]
pub struct ProtocolChecked;

impl<S: Send + Sync> FromRequestParts<S> for ProtocolChecked {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        check_protocol(&parts.headers).map(|()| ProtocolChecked)
    }
}

/// Accepts `N` or `N.minor` where N is [`PROTOCOL_VERSION`].
pub fn check_protocol(headers: &HeaderMap) -> Result<(), AppError> {
    let Some(value) = headers.get(PROTOCOL_HEADER) else {
        let msg = format!(
            "missing {PROTOCOL_HEADER} header: this server speaks protocol {PROTOCOL_VERSION}"
        );
        return Err(AppError::bad_request("missing_protocol", msg));
    };
    let text = value.to_str().unwrap_or("").trim();
    let major = text.split('.').next().unwrap_or("").parse::<u16>();
    match major {
        Ok(PROTOCOL_VERSION) => Ok(()),
        Ok(_) => Err(AppError::ProtocolMismatch {
            sent: text.chars().take(16).collect(),
        }),
        Err(_) => {
            let msg = format!("invalid {PROTOCOL_HEADER} header {text:?}: expected a protocol number such as {PROTOCOL_VERSION}");
            Err(AppError::bad_request("invalid_protocol", msg))
        }
    }
}

/// The enrolled, unrevoked device that sent the request.
#[derive(Clone, Debug)]
pub struct AuthDevice(pub Device);

impl FromRequestParts<AppState> for AuthDevice {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        check_protocol(&parts.headers)?;
        let token = bearer_token(&parts.headers)?.to_owned();
        let device = state
            .db
            .read(move |c| devices::authenticate(c, &token))
            .await?;
        let now = state.now();
        let stale = device
            .last_seen_at
            .is_none_or(|t| now.0 - t.0 >= TOUCH_INTERVAL_SECS);
        if stale {
            let id = device.id;
            state.db.write(move |c| devices::touch(c, id, now)).await?;
        }
        Ok(AuthDevice(device))
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, AppError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(AppError::unauthorized(
            "missing_token",
            "missing Authorization: Bearer <token> header: enroll this device first",
        ));
    };
    value
        .to_str()
        .ok()
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::unauthorized(
                "invalid_token",
                "the Authorization header must be `Bearer <token>`",
            )
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn headers(protocol: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(PROTOCOL_HEADER, HeaderValue::from_str(protocol).unwrap());
        h
    }

    #[test]
    fn the_protocol_header_accepts_the_major_with_or_without_a_minor() {
        assert!(check_protocol(&headers("1")).is_ok());
        assert!(check_protocol(&headers("1.3")).is_ok());
        let err = check_protocol(&headers("2.0")).unwrap_err();
        assert!(
            matches!(&err, AppError::ProtocolMismatch { sent } if sent == "2.0"),
            "{err}"
        );
        let err = check_protocol(&headers("one")).unwrap_err();
        assert_eq!(err.to_api_error().code, "invalid_protocol");
        let err = check_protocol(&HeaderMap::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing pengwang-protocol header: this server speaks protocol 1"
        );
    }

    #[test]
    fn only_a_bearer_authorization_is_a_token() {
        let mut h = HeaderMap::new();
        assert_eq!(
            bearer_token(&h).unwrap_err().to_api_error().code,
            "missing_token"
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(
            bearer_token(&h).unwrap_err().to_api_error().code,
            "invalid_token"
        );
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        assert_eq!(bearer_token(&h).unwrap(), "abc");
    }
}
