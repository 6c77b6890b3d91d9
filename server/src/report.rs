//! `GET /v1/reports/attachment2`: 附件2 (DESIGN §6) for the reporting units the caller's scope
//! covers, as JSON or as a CSV laid out like the official form. The numbers come from the shared
//! [`attachment2`] function fed with the stored fold result of every item (`p_item`); nothing
//! here re-implements a formula. The table holds no personal data.

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pengwang_shared::event::ItemState;
use pengwang_shared::id::{BuildingId, HouseholdId};
use pengwang_shared::item::Category;
use pengwang_shared::region::{RegionCatalog, UnitCode};
use pengwang_shared::report::{attachment2, Attachment2, CategoryCells, ReportItem};
use pengwang_shared::role::Scope;
use pengwang_shared::settings::ReportPeriod;
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, Row};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::{self, Action, NewAudit};
use crate::auth::AuthDevice;
use crate::campaign;
use crate::db::DbError;
use crate::error::AppError;
use crate::state::AppState;

pub const TITLE: &str = "重庆市高层建筑可燃雨棚和突出外墙防护网整治情况统计表（附件2）";

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/reports/attachment2", get(attachment2_handler))
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    month: Option<String>,
    unit: Option<String>,
    format: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

async fn attachment2_handler(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let (year, month) = parse_month(q.month.as_deref())?;
    let format = match q.format.as_deref() {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(other) => {
            let msg = format!("unknown format {other:?}: expected json or csv");
            return Err(AppError::bad_request("invalid_format", msg));
        }
    };
    let units = units_for(&state.catalog, &device.account.scope, q.unit.as_deref())?;
    let now = state.now();
    let report = state
        .db
        .read(move |c| {
            let settings = campaign::load(c, now)?;
            let Some(period) = settings.period(year, month) else {
                let msg = format!("no reporting period for {year:04}-{month:02}");
                return Err(AppError::bad_request("invalid_month", msg));
            };
            compute(c, &units, period)
        })
        .await?;
    if format == Format::Csv {
        let (actor, target) = (
            device.account.id,
            format!("attachment2/{year:04}-{month:02}"),
        );
        let detail = format!("csv, {} units", report.rows.len());
        state
            .db
            .write(move |c| {
                let row = NewAudit {
                    at: now,
                    actor: Some(actor),
                    action: Action::ReportExport,
                    target: &target,
                    detail: &detail,
                };
                audit::record(c, &row).map_err(DbError::from)
            })
            .await?;
        tracing::info!(account = %device.account.id, units = report.rows.len(), year, month, "附件2 exported as CSV");
    }
    Ok(match format {
        Format::Json => Json(to_json(&state.catalog, &report)).into_response(),
        Format::Csv => csv_response(&state.catalog, &report),
    })
}

/// `YYYY-MM` → (year, month).
fn parse_month(month: Option<&str>) -> Result<(i32, u32), AppError> {
    let bad = |s: &str| {
        AppError::bad_request(
            "invalid_month",
            format!("month must be YYYY-MM (e.g. 2026-06), got {s:?}"),
        )
    };
    let Some(s) = month else {
        return Err(AppError::bad_request(
            "invalid_month",
            "the month query parameter is required: month=YYYY-MM (e.g. 2026-06)",
        ));
    };
    let (y, m) = s.split_once('-').ok_or_else(|| bad(s))?;
    let ok = y.len() == 4 && m.len() == 2;
    // The campaign began in 2021; reports are not made a century away from it.
    let year = y
        .parse::<i32>()
        .ok()
        .filter(|y| ok && (2000..=2100).contains(y))
        .ok_or_else(|| bad(s))?;
    let month = m
        .parse::<u32>()
        .ok()
        .filter(|m| ok && (1..=12).contains(m))
        .ok_or_else(|| bad(s))?;
    Ok((year, month))
}

/// The units of the report: `unit` if given (and covered), else every unit the scope covers, in
/// catalog order. A scope that covers no whole unit gets 403.
fn units_for(
    catalog: &RegionCatalog,
    scope: &Scope,
    unit: Option<&str>,
) -> Result<Vec<UnitCode>, AppError> {
    let refuse = |what: String| {
        AppError::forbidden(
            "out_of_scope",
            format!("{what} is outside your scope ({})", scope.describe()),
        )
    };
    if let Some(u) = unit {
        let code =
            UnitCode::parse(u).map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
        if catalog.unit(&code).is_none() {
            return Err(AppError::not_found(
                "unit_not_found",
                format!("no reporting unit {code}"),
            ));
        }
        if !scope.covers_unit(&code) {
            return Err(refuse(format!("the report of unit {code}")));
        }
        return Ok(vec![code]);
    }
    let units: Vec<UnitCode> = catalog
        .units
        .iter()
        .filter(|u| scope.covers_unit(&u.code))
        .map(|u| u.code.clone())
        .collect();
    if units.is_empty() {
        return Err(refuse("附件2 (a whole reporting unit)".into()));
    }
    Ok(units)
}

/// Streams the report rows from `p_item` into [`attachment2`]: rows are read one at a time
/// inside this closure (no Vec of a million items), and the first row that fails to read stops
/// the stream and is returned as the error.
fn compute(
    conn: &Connection,
    units: &[UnitCode],
    period: ReportPeriod,
) -> Result<Attachment2, AppError> {
    let marks = vec!["?"; units.len()].join(", ");
    let sql = format!(
        "SELECT unit_code, building_id, high_rise, household_id, category, state, completed_at, found_at, state_since FROM p_item
         WHERE household_id IS NOT NULL AND found_at IS NOT NULL AND state IS NOT NULL AND unit_code IN ({marks})
         ORDER BY unit_code, household_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let params = units.iter().map(|u| Sql::Text(u.to_string()));
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut failed: Option<DbError> = None;
    let items = std::iter::from_fn(|| match rows.next() {
        Ok(Some(r)) => match report_item(r) {
            Ok(item) => Some(item),
            Err(e) => {
                failed = Some(e);
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            failed = Some(e.into());
            None
        }
    });
    let report = attachment2(units, period, items).map_err(|e| DbError::corrupt("p_item order", e));
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(report?)
}

fn report_item(r: &Row<'_>) -> Result<ReportItem, DbError> {
    let text = |i: usize| r.get::<_, String>(i);
    let bad = |what: &'static str| move |e| DbError::corrupt(what, e);
    Ok(ReportItem {
        unit: UnitCode::parse(&text(0)?).map_err(bad("p_item unit"))?,
        building: BuildingId::parse(&text(1)?).map_err(bad("p_item building"))?,
        high_rise: r.get(2)?,
        household: Some(HouseholdId::parse(&text(3)?).map_err(bad("p_item household"))?),
        category: Category::parse(&text(4)?).map_err(bad("p_item category"))?,
        state: ItemState::parse(&text(5)?).map_err(bad("p_item state"))?,
        completed_at: r.get::<_, Option<i64>>(6)?.map(Timestamp),
        found_at: Timestamp(r.get(7)?),
        state_since: r.get::<_, Option<i64>>(8)?.map(Timestamp),
    })
}

fn cells_json(c: &CategoryCells) -> Value {
    json!({
        "buildings": c.buildings, "households": c.households,
        "completed_in_period": c.completed_in_period, "completed_total": c.completed_total,
        "rate": c.rate_text(), "pending_verify": c.pending_verify,
    })
}

fn unit_name(catalog: &RegionCatalog, code: &UnitCode) -> String {
    catalog
        .unit(code)
        .map_or_else(|| code.to_string(), |u| u.name.clone())
}

/// The last day of the period (its cut-off is exclusive), `YYYY-MM-DD`.
fn period_days(p: &ReportPeriod) -> (String, String) {
    let last = Timestamp(p.end.0 - 1).local_date();
    (p.start.local_date().to_string(), last.to_string())
}

fn to_json(catalog: &RegionCatalog, r: &Attachment2) -> Value {
    let (first, last) = period_days(&r.period);
    let rows: Vec<Value> = r
        .rows
        .iter()
        .map(|(u, row)| {
            json!({
                "unit": u, "name": unit_name(catalog, u),
                "awning": cells_json(&row.awning), "net": cells_json(&row.net),
            })
        })
        .collect();
    json!({
        "period": {
            "year": r.period.year, "month": r.period.month,
            "first_day": first, "last_day": last,
            "start": r.period.start.to_string(), "end": r.period.end.to_string(),
        },
        "rows": rows,
        "total": { "awning": cells_json(&r.total.awning), "net": cells_json(&r.total.net) },
    })
}

/// The CSV text, BOM first so Excel opens it as UTF-8; CRLF line ends.
pub fn csv_text(catalog: &RegionCatalog, r: &Attachment2) -> String {
    let (first, last) = period_days(&r.period);
    let mut lines = vec![
        format!("\u{feff}{TITLE}"),
        format!(
            "统计期间：{first} 至 {last}（{:04}年{:02}月）",
            r.period.year, r.period.month
        ),
        "填报单位,可燃雨棚,,,,,突出外墙防护网,,,,".to_owned(),
        ",楼栋总数(栋),总户数(户),本月完成户数(户),累计完成户数(户),整改率(%),楼栋总数(栋),总户数(户),本月完成户数(户),累计完成户数(户),整改率(%)".to_owned(),
    ];
    let line = |name: &str, a: &CategoryCells, n: &CategoryCells| {
        let cells = |c: &CategoryCells| {
            format!(
                "{},{},{},{},{}",
                c.buildings,
                c.households,
                c.completed_in_period,
                c.completed_total,
                c.rate_text()
            )
        };
        format!("{},{},{}", csv_field(name), cells(a), cells(n))
    };
    for (u, row) in &r.rows {
        lines.push(line(&unit_name(catalog, u), &row.awning, &row.net));
    }
    lines.push(line("合计", &r.total.awning, &r.total.net));
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn csv_response(catalog: &RegionCatalog, r: &Attachment2) -> Response {
    let name = format!("附件2-{:04}-{:02}.csv", r.period.year, r.period.month);
    let disposition = format!(
        "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    let mut response = csv_text(catalog, r).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_bytes(disposition.as_bytes()) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// RFC 5987 `attr-char` percent-encoding of UTF-8 text.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn months_must_be_year_dash_two_digit_month() {
        assert_eq!(parse_month(Some("2026-06")).unwrap(), (2026, 6));
        for bad in [
            "2026-13", "2026-6", "26-06", "2026/06", "x", "0000-01", "9999-12",
        ] {
            let e = parse_month(Some(bad)).unwrap_err();
            assert_eq!(e.to_api_error().code, "invalid_month", "{bad}");
        }
        assert!(parse_month(None).is_err());
    }

    #[test]
    fn filenames_are_percent_encoded_as_utf8() {
        assert_eq!(
            percent_encode("附件2-2026-06.csv"),
            "%E9%99%84%E4%BB%B62-2026-06.csv"
        );
    }
}
