//! The one error type of the device library. The UI branches on [`CoreError::code`] (stable
//! strings) and shows the message, which says what was wrong and, where it helps, what to do.

use pengwang_shared::document::DocumentError;
use pengwang_shared::protocol::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Editing and syncing need the identity that enrollment gives (account, device id, token).
    #[error("device not enrolled: enroll it with the code from your supervisor first")]
    NotEnrolled,
    /// The step is not allowed for this account, in this state, or in this scope.
    #[error("not allowed: {0}")]
    NotAllowed(String),
    /// A photo that cannot be ingested (corrupt, HEIF, too large, a decompression bomb…): the
    /// message names the reason. Nothing was stored or attached.
    #[error("invalid photo: {0}")]
    InvalidPhoto(#[from] crate::photo::PhotoError),
    /// A value or document that does not pass the schema.
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("{what} {id} not found on this device")]
    NotFound { what: &'static str, id: String },
    /// The server could not be reached (no network, timeout, connection dropped).
    #[error("offline: cannot reach the server: {0}")]
    Offline(String),
    /// The server answered with an error (or with a body this app cannot read).
    #[error("server refused the request ({status} {code}): {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The server revoked this device; it needs a new enrollment code.
    #[error("this device has been revoked: {0}")]
    Revoked(String),
    /// The server revoked this device: it no longer accepts edits (they could never be sent,
    /// only wiped).
    #[error("this device has been revoked and no longer accepts edits: {0}")]
    RevokedReadOnly(String),
    /// What the enrollment form holds cannot be sent: `code` says which field and why
    /// (`server_url_missing`, `server_url_no_scheme`, `server_url_invalid`,
    /// `enrollment_code_missing`).
    #[error("cannot enroll: {why}")]
    EnrollInput { code: &'static str, why: String },
    /// The address answers, but not as a Pengwang server.
    #[error("not a Pengwang server: {0}")]
    NotPengwang(String),
    /// The server speaks another protocol version.
    #[error("please update the app: {0}")]
    UpdateRequired(String),
    /// The device database or a stored document failed.
    #[error("storage: {0}")]
    Storage(String),
    /// A migration failed, or the database was written by a newer app (opening it with this one
    /// could lose data).
    #[error("device database: {0}")]
    Migration(#[from] pengwang_migrations::MigrationError),
}

impl CoreError {
    /// A stable code for the UI to branch on.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::NotEnrolled => "not_enrolled",
            CoreError::NotAllowed(_) => "not_allowed",
            CoreError::Invalid(_) => "invalid",
            CoreError::InvalidPhoto(_) => "invalid_photo",
            CoreError::NotFound { .. } => "not_found",
            CoreError::Offline(_) => "offline",
            CoreError::Server { .. } => "server",
            CoreError::Revoked(_) => "revoked",
            CoreError::RevokedReadOnly(_) => "revoked_read_only",
            CoreError::EnrollInput { code, .. } => code,
            CoreError::NotPengwang(_) => "not_pengwang_server",
            CoreError::UpdateRequired(_) => "update_required",
            CoreError::Storage(_) | CoreError::Migration(_) => "storage",
        }
    }

    /// The error a non-2xx answer stands for: 426 asks for an update, 403 `device_revoked`
    /// means this install is finished, anything else is reported as the server said it.
    pub(crate) fn from_status(status: u16, body: &[u8]) -> Self {
        let err = serde_json::from_slice::<ApiError>(body).unwrap_or_else(|_| {
            let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
            ApiError::new(format!("http_{status}"), text)
        });
        match (status, err.code.as_str()) {
            (426, _) => CoreError::UpdateRequired(err.message),
            (403, "device_revoked") => CoreError::Revoked(err.message),
            _ => CoreError::Server {
                status,
                code: err.code,
                message: err.message,
            },
        }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::Storage(format!("device database: {e}"))
    }
}

impl From<DocumentError> for CoreError {
    fn from(e: DocumentError) -> Self {
        match e {
            DocumentError::Invalid(p) => CoreError::Invalid(p.to_string()),
            DocumentError::Schema(s) => {
                CoreError::Invalid(format!("not a valid building document: {s}"))
            }
            DocumentError::Automerge(a) => CoreError::Invalid(format!("document edit failed: {a}")),
            DocumentError::NotFound { what, id } => CoreError::NotFound { what, id },
            DocumentError::Refused(why) => CoreError::NotAllowed(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_426_asks_for_an_update_and_403_device_revoked_is_revoked() {
        let body = br#"{"code":"protocol_mismatch","message":"please update"}"#;
        assert_eq!(CoreError::from_status(426, body).code(), "update_required");
        let body = br#"{"code":"device_revoked","message":"device x has been revoked"}"#;
        let err = CoreError::from_status(403, body);
        assert_eq!(
            (err.code(), err.to_string().as_str()),
            (
                "revoked",
                "this device has been revoked: device x has been revoked"
            )
        );
        let body = br#"{"code":"account_disabled","message":"disabled"}"#;
        assert_eq!(CoreError::from_status(403, body).code(), "server");
    }

    #[test]
    fn a_body_that_is_not_an_api_error_is_quoted_with_the_status() {
        match CoreError::from_status(502, b"Bad Gateway") {
            CoreError::Server {
                status,
                code,
                message,
            } => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (502, "http_502", "Bad Gateway")
                )
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
