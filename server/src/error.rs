//! The one HTTP error type. Every handler returns `Result<_, AppError>`; the body is always a
//! JSON [`ApiError`] whose `code` the app branches on and whose `message` a person can act on.
//! 4xx messages say what was wrong; 5xx bodies are generic and the cause is logged once, here.

use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pengwang_shared::protocol::{ApiError, PROTOCOL_VERSION};

use crate::accounts::AccountError;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request itself is wrong.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no usable credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: known caller, not allowed (out of scope, revoked device, disabled account).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 409: conflicts with the current state (a used code, a duplicate).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 405.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 413.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 426: the app speaks another protocol major version.
    #[error("请更新应用 / please update the app: server speaks protocol {PROTOCOL_VERSION}, app sent {sent}")]
    ProtocolMismatch { sent: String },
    /// 500: logged, never shown.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::ProtocolMismatch { .. } => StatusCode::UPGRADE_REQUIRED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body as it goes on the wire (also what a refused sync document carries).
    pub fn to_api_error(&self) -> ApiError {
        let code = match self {
            AppError::BadRequest { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Conflict { code, .. } => *code,
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::ProtocolMismatch { .. } => "protocol_mismatch",
            AppError::Internal(_) => {
                return ApiError::new("internal", "internal server error; it has been logged")
            }
        };
        ApiError::new(code, self.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        (self.status(), Json(self.to_api_error())).into_response()
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        let msg = e.to_string();
        match e {
            AccountError::Invalid(_)
            | AccountError::UnknownRegion { .. }
            | AccountError::RoleScopeMismatch { .. } => {
                AppError::bad_request("invalid_request", msg)
            }
            AccountError::CodeUnknown(_) => AppError::bad_request("enrollment_code_unknown", msg),
            AccountError::CodeExpired(_) => AppError::bad_request("enrollment_code_expired", msg),
            AccountError::CodeUsed => AppError::conflict("enrollment_code_used", msg),
            AccountError::InvalidToken => AppError::unauthorized("invalid_token", msg),
            AccountError::DeviceRevoked(_) => AppError::forbidden("device_revoked", msg),
            AccountError::AccountDisabled(_) => AppError::forbidden("account_disabled", msg),
            AccountError::AccountNotFound(_) => AppError::not_found("account_not_found", msg),
            AccountError::DeviceNotFound(_) => AppError::not_found("device_not_found", msg),
            AccountError::PasswordHash(_) => AppError::internal(msg),
            AccountError::Db(e) => e.into(),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::internal(e)
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::internal(e)
    }
}

const TOO_LARGE: &str = "request body is larger than this server accepts: a sync batch is \
     limited by PENGWANG_MAX_BATCH_BYTES (8 MiB by default; sync fewer documents at a time), a \
     photo by PENGWANG_MAX_PHOTO_BYTES (10 MiB)";

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        AppError::bad_request("invalid_query", r.body_text())
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(TOO_LARGE.into()),
            _ => AppError::bad_request("invalid_json", r.body_text()),
        }
    }
}

impl From<BytesRejection> for AppError {
    fn from(r: BytesRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge(TOO_LARGE.into()),
            _ => AppError::bad_request("invalid_body", r.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn protocol_mismatch_is_426_with_a_bilingual_message() {
        let e = AppError::ProtocolMismatch { sent: "2".into() };
        assert_eq!(e.status(), StatusCode::UPGRADE_REQUIRED);
        let body = e.to_api_error();
        assert_eq!(body.code, "protocol_mismatch");
        assert_eq!(
            body.message,
            "请更新应用 / please update the app: server speaks protocol 1, app sent 2"
        );
    }

    #[test]
    fn an_internal_error_keeps_its_cause_out_of_the_body() {
        let e = AppError::from(DbError::corrupt("account scope", "secret detail"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            e.to_api_error(),
            ApiError::new("internal", "internal server error; it has been logged")
        );
    }

    #[test]
    fn account_errors_map_to_the_codes_the_app_branches_on() {
        let revoked = AppError::from(AccountError::DeviceRevoked(
            pengwang_shared::id::DeviceId::new(),
        ));
        assert_eq!(
            (revoked.status(), revoked.to_api_error().code.as_str()),
            (StatusCode::FORBIDDEN, "device_revoked")
        );
        let used = AppError::from(AccountError::CodeUsed);
        assert_eq!(
            (used.status(), used.to_api_error().code.as_str()),
            (StatusCode::CONFLICT, "enrollment_code_used")
        );
    }
}
