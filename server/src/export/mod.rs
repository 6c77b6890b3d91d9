//! Spreadsheet exports (DESIGN §6, §8): 附件2 laid out like the official form, and the ledger with
//! personal data masked. Built with `rust_xlsxwriter`; every export is audited by its caller.

pub mod attachment2;
pub mod ledger;

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::XlsxError;

use crate::auth::AuthDevice;
use crate::error::AppError;
use crate::state::AppState;

/// `GET /v1/ledger/export.xlsx[?unit=…&street=…]` for bearer devices (console downloads are
/// under `/console`).
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/v1/ledger/export.xlsx", axum::routing::get(ledger_export))
}

#[derive(Debug, Default, serde::Deserialize)]
struct LedgerExportQuery {
    unit: Option<String>,
    street: Option<String>,
}

async fn ledger_export(
    axum::extract::State(state): axum::extract::State<AppState>,
    AuthDevice(device): AuthDevice,
    query: Result<
        axum::extract::Query<LedgerExportQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Response, AppError> {
    let axum::extract::Query(q) = query?;
    let (unit, street) = (q.unit.as_deref(), q.street.as_deref());
    ledger::download(&state, &device.account, unit, street).await
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file download: its content type and a UTF-8 file name (RFC 6266 / 5987).
pub fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_name(name),
        crate::report::percent_encode(name)
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// The name for clients that ignore `filename*`: non-ASCII characters dropped.
fn ascii_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    kept.trim_start_matches(['-', '.']).to_owned()
}

/// A workbook that cannot be written is a bug, not bad input.
pub fn failed(e: XlsxError) -> AppError {
    AppError::internal(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_file_name_keeps_only_safe_characters() {
        assert_eq!(ascii_name("附件2-2026-06.xlsx"), "2-2026-06.xlsx");
        assert_eq!(ascii_name("台账-500103.xlsx"), "500103.xlsx");
    }
}
