//! Console downloads: 附件2 as XLSX or CSV for a month, and the ledger as XLSX with personal
//! data masked. Same tables and rules as the `/v1` API; every download is audited.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::{Console, PageError};
use crate::report::{self, Format, ReportQuery};
use crate::state::AppState;
use crate::submission::Month;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/reports/attachment2.xlsx", get(xlsx))
        .route("/console/reports/attachment2.csv", get(csv))
        .route("/console/ledger/export.xlsx", get(ledger))
}

async fn xlsx(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    attachment2(&state, &console, &q, Format::Xlsx).await
}

async fn csv(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    attachment2(&state, &console, &q, Format::Csv).await
}

async fn attachment2(
    state: &AppState,
    console: &Console,
    q: &ReportQuery,
    format: Format,
) -> Result<Response, PageError> {
    let month = Month::parse_query(q.month.as_deref())?;
    let unit = q.unit.as_deref().filter(|u| !u.is_empty());
    let table = report::load_table(state, &console.account, month, unit).await?;
    Ok(report::respond(state, &console.account, &table, format).await?)
}

#[derive(Debug, Default, Deserialize)]
struct LedgerExportQuery {
    unit: Option<String>,
    street: Option<String>,
}

async fn ledger(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<LedgerExportQuery>,
) -> Result<Response, PageError> {
    let (unit, street) = (q.unit.as_deref(), q.street.as_deref());
    Ok(crate::export::ledger::download(&state, &console.account, unit, street).await?)
}
