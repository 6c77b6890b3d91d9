//! `GET /v1/reports/attachment2`: 附件2 (DESIGN §6) for the reporting units the caller's scope
//! covers, as JSON or as a CSV laid out like the official form. The numbers come from the shared
//! [`attachment2`] function fed with the stored fold result of every item (`p_item`); nothing
//! here re-implements a formula. The table holds no personal data.

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pengwang_shared::event::ItemState;
use pengwang_shared::id::{BuildingId, HouseholdId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{RegionCatalog, UnitCode};
use pengwang_shared::report::{
    attachment2_counted, Attachment2, CategoryCells, Counted, Counting, ReportItem, ReportRow,
};
use pengwang_shared::role::Scope;
use pengwang_shared::settings::ReportPeriod;
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, Row};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::audit::{self, Action};
use crate::auth::AuthDevice;
use crate::campaign;
use crate::db::DbError;
use crate::error::AppError;
use crate::state::AppState;
use crate::submission::{self, Month, Status, Submission};

pub const TITLE: &str = "重庆市高层建筑可燃雨棚和突出外墙防护网整治情况统计表（附件2）";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reports/attachment2", get(attachment2_handler))
        .route(
            "/v1/reports/attachment2/{unit}/{month}/{action}",
            post(submission_handler),
        )
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    pub month: Option<String>,
    pub unit: Option<String>,
    pub format: Option<String>,
}

/// How a table goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: Option<&str>) -> Result<Format, AppError> {
        match s {
            None | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(other) => {
                let msg = format!("unknown format {other:?}: expected json, csv or xlsx");
                Err(AppError::bad_request("invalid_format", msg))
            }
        }
    }
}

async fn attachment2_handler(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query?;
    let format = Format::parse(q.format.as_deref())?;
    let month = Month::parse_query(q.month.as_deref())?;
    let table = load_table(&state, &device.account, month, q.unit.as_deref()).await?;
    respond(&state, &device.account, &table, format).await
}

/// The month's table for the units `account` may see (`unit` if given).
pub async fn load_table(
    state: &AppState,
    account: &AccountInfo,
    month: Month,
    unit: Option<&str>,
) -> Result<MonthTable, AppError> {
    let units = units_for(&state.catalog, &account.scope, unit)?;
    let now = state.now();
    state
        .db
        .read(move |c| {
            let settings = campaign::load(c, now)?;
            let period = month.period(&settings)?;
            month_table(c, &units, month, period)
        })
        .await
}

/// The table as JSON, or as a CSV / XLSX download (audited).
pub async fn respond(
    state: &AppState,
    account: &AccountInfo,
    table: &MonthTable,
    format: Format,
) -> Result<Response, AppError> {
    let catalog = &state.catalog;
    let now = state.now();
    Ok(match format {
        Format::Json => Json(to_json(catalog, table)).into_response(),
        Format::Csv => {
            audit_export(state, account, &table.report, "csv").await?;
            csv_response(catalog, table)
        }
        Format::Xlsx => {
            let bytes = crate::export::attachment2::workbook(catalog, table, now)?;
            audit_export(state, account, &table.report, "xlsx").await?;
            let p = &table.report.period;
            let name = format!("附件2-{:04}-{:02}.xlsx", p.year, p.month);
            crate::export::download(bytes, crate::export::XLSX, &name)
        }
    })
}

async fn audit_export(
    state: &AppState,
    account: &AccountInfo,
    r: &Attachment2,
    what: &str,
) -> Result<(), AppError> {
    let target = format!("attachment2/{:04}-{:02}", r.period.year, r.period.month);
    let detail = format!("{what}, {} units", r.rows.len());
    audit::record_read(
        state,
        account.id,
        Action::ReportExport,
        target,
        detail,
        None,
    )
    .await?;
    let (year, month) = (r.period.year, r.period.month);
    tracing::info!(account = %account.id, units = r.rows.len(), year, month, format = what, "附件2 exported");
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
pub struct UnfreezeBody {
    #[serde(default)]
    pub reason: String,
}

/// `POST /v1/reports/attachment2/{unit}/{month}/{freeze|submit|unfreeze}`.
async fn submission_handler(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path((unit, month, action)): Path<(String, String, String)>,
    body: Option<Json<UnfreezeBody>>,
) -> Result<Json<Value>, AppError> {
    let unit =
        UnitCode::parse(&unit).map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
    let month = Month::parse(&month)?;
    let action = SubmissionAction::parse(&action, body.map(|Json(b)| b.reason))?;
    let s = change_submission(&state, &device.account, &unit, month, action).await?;
    Ok(Json(submission_json(&state.catalog, &unit, Some(&s))))
}

/// A step of the month workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmissionAction {
    Freeze,
    Submit,
    Unfreeze { reason: String },
}

impl SubmissionAction {
    pub fn parse(action: &str, reason: Option<String>) -> Result<Self, AppError> {
        match action {
            "freeze" => Ok(Self::Freeze),
            "submit" => Ok(Self::Submit),
            "unfreeze" => Ok(Self::Unfreeze {
                reason: reason.unwrap_or_default(),
            }),
            other => Err(AppError::not_found(
                "unknown_route",
                format!("unknown action {other:?}: expected freeze, submit or unfreeze"),
            )),
        }
    }
}

/// Runs one workflow step on the writer (the unit must exist; the rules are in [`submission`]).
pub async fn change_submission(
    state: &AppState,
    account: &AccountInfo,
    unit: &UnitCode,
    month: Month,
    action: SubmissionAction,
) -> Result<Submission, AppError> {
    if state.catalog.unit(unit).is_none() {
        return Err(AppError::not_found(
            "unit_not_found",
            format!("no reporting unit {unit}"),
        ));
    }
    let (who, unit, now) = (account.clone(), unit.clone(), state.now());
    state
        .db
        .write(move |c| match action {
            SubmissionAction::Freeze => {
                let settings = campaign::load(c, now)?;
                submission::freeze(c, &who, &unit, month, &settings, now)
            }
            SubmissionAction::Submit => submission::submit(c, &who, &unit, month, now),
            SubmissionAction::Unfreeze { reason } => {
                submission::unfreeze(c, &who, &unit, month, &reason, now)
            }
        })
        .await
}

/// `YYYY-MM` → (year, month).
pub(crate) fn parse_month(month: Option<&str>) -> Result<(i32, u32), AppError> {
    let bad = |s: &str| {
        AppError::bad_request(
            "invalid_month",
            format!("月份应为 YYYY-MM，年份在 2000–2100 之间（如 2026-06），收到 {s:?} / month must be YYYY-MM (e.g. 2026-06)"),
        )
    };
    let Some(s) = month else {
        return Err(AppError::bad_request(
            "invalid_month",
            "缺少月份 month=YYYY-MM（如 2026-06）/ the month query parameter is required: month=YYYY-MM",
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

/// One month's 附件2 for `units` as it stands: a frozen unit's row is its snapshot; an open
/// unit's row is counted now, against the previous month's snapshot when that one is frozen.
pub struct MonthTable {
    /// Its period is the month's under today's settings, or, when every unit is frozen under one
    /// period, the period they were frozen for.
    pub report: Attachment2,
    /// Per row of `report`, in order: the unit's stored state (`None`: never frozen).
    pub submissions: Vec<Option<Submission>>,
}

pub fn month_table(
    conn: &Connection,
    units: &[UnitCode],
    month: Month,
    period: ReportPeriod,
) -> Result<MonthTable, AppError> {
    let mut stored = submission::of_month(conn, month)?;
    let frozen = |u: &UnitCode| {
        stored
            .get(u)
            .and_then(|s| s.status.is_frozen().then_some(s.row.as_ref()).flatten())
            .cloned()
    };
    let live: Vec<UnitCode> = units
        .iter()
        .filter(|u| frozen(u).is_none())
        .cloned()
        .collect();
    let counting = submission::counting(conn, &live, month, &period, false)?;
    let counted = compute_counted(conn, &live, period, counting)?;
    let mut live_rows: std::collections::HashMap<UnitCode, ReportRow> =
        counted.report.rows.into_iter().collect();
    let rows: Vec<(UnitCode, ReportRow)> = units
        .iter()
        .map(|u| {
            let row = frozen(u)
                .or_else(|| live_rows.remove(u))
                .unwrap_or_default();
            (u.clone(), row)
        })
        .collect();
    let total = ReportRow::sum(rows.iter().map(|(_, r)| r));
    let submissions: Vec<Option<Submission>> = units.iter().map(|u| stored.remove(u)).collect();
    // A table of frozen units only shows the period they were frozen for: the campaign settings
    // (report day, period mode) may have changed since, the snapshot's numbers did not.
    let frozen_periods: Vec<ReportPeriod> = submissions
        .iter()
        .flatten()
        .filter(|s| s.status.is_frozen())
        .map(Submission::period)
        .collect();
    let period = match frozen_periods.first() {
        Some(p) if frozen_periods.len() == units.len() && frozen_periods.iter().all(|q| q == p) => {
            *p
        }
        _ => period,
    };
    Ok(MonthTable {
        report: Attachment2 {
            period,
            rows,
            total,
        },
        submissions,
    })
}

impl MonthTable {
    /// The frozen units whose snapshot covers another period than the table's (frozen under
    /// other campaign settings), with that period: each export and page names them.
    pub fn other_periods(&self) -> Vec<(UnitCode, ReportPeriod)> {
        self.report
            .rows
            .iter()
            .zip(&self.submissions)
            .filter_map(|((u, _), s)| {
                let s = s.as_ref().filter(|s| s.status.is_frozen())?;
                (s.period() != self.report.period).then(|| (u.clone(), s.period()))
            })
            .collect()
    }

    /// One line per [`MonthTable::other_periods`]: "渝中区的冻结表统计期间为 … 至 …".
    pub fn period_notes(&self, catalog: &RegionCatalog) -> Vec<String> {
        self.other_periods()
            .iter()
            .map(|(u, p)| {
                let (first, last) = period_days(p);
                format!(
                    "注：{}的冻结表统计期间为 {first} 至 {last}（冻结时的设置）",
                    unit_name(catalog, u)
                )
            })
            .collect()
    }
}

/// Streams the report rows from `p_item` into [`attachment2_counted`]: rows are read one at a time
/// inside this closure (no Vec of a million items), and the first row that fails to read stops
/// the stream and is returned as the error.
pub fn compute_counted(
    conn: &Connection,
    units: &[UnitCode],
    period: ReportPeriod,
    counting: Counting,
) -> Result<Counted, AppError> {
    let report = stream_items(conn, units, |items| {
        attachment2_counted(units, period, counting, items)
    })?;
    Ok(report.map_err(|e| DbError::corrupt("p_item order", e))?)
}

/// Streams the report rows of `units` from `p_item` — ordered by unit and household as the
/// shared report functions require, each item under the building (and 高层 flag) it counts in
/// ([`crate::merge::ITEM_BUILDING`]: a merged-away building's under its survivor) — into
/// `consume`. No Vec of a million items; the first row that fails to read stops
/// the stream and is returned as the error.
pub(crate) fn stream_items<T>(
    conn: &Connection,
    units: &[UnitCode],
    consume: impl FnOnce(&mut dyn Iterator<Item = ReportItem>) -> T,
) -> Result<T, AppError> {
    if units.is_empty() {
        return Ok(consume(&mut std::iter::empty()));
    }
    let marks = vec!["?"; units.len()].join(", ");
    // Without any merge, every item counts under its own building: a plain join (three index
    // lookups per row fewer — a million items take a third of the time).
    let merged: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM building_merge) OR EXISTS (SELECT 1 FROM household_merge)",
        [],
        |r| r.get(0),
    )?;
    let item_building = if merged {
        crate::merge::ITEM_BUILDING
    } else {
        "t.building_id"
    };
    let sql = format!(
        "SELECT t.unit_code, b.id, b.high_rise, t.household_id, t.category, t.state, t.completed_at, t.found_at, t.state_since
         FROM p_item t JOIN p_building b ON b.id = {item_building}
         WHERE t.household_id IS NOT NULL AND t.found_at IS NOT NULL AND t.state IS NOT NULL AND t.unit_code IN ({marks})
         ORDER BY t.unit_code, t.household_id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let params = units.iter().map(|u| Sql::Text(u.to_string()));
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut failed: Option<DbError> = None;
    let mut items = std::iter::from_fn(|| match rows.next() {
        Ok(Some(r)) => report_item(r).map_err(|e| failed = Some(e)).ok(),
        Ok(None) => None,
        Err(e) => {
            failed = Some(e.into());
            None
        }
    });
    let out = consume(&mut items);
    if let Some(e) = failed {
        return Err(e.into());
    }
    Ok(out)
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
        "rebound": c.rebound.total(), "rebound_reopened": c.rebound.reopened,
        "rebound_new_item": c.rebound.new_item, "rebound_removed": c.rebound.removed,
    })
}

pub fn unit_name(catalog: &RegionCatalog, code: &UnitCode) -> String {
    catalog
        .unit(code)
        .map_or_else(|| code.to_string(), |u| u.name.clone())
}

/// The last day of the period (its cut-off is exclusive), `YYYY-MM-DD`.
pub fn period_days(p: &ReportPeriod) -> (String, String) {
    let last = Timestamp(p.end.0 - 1).local_date();
    (p.start.local_date().to_string(), last.to_string())
}

fn to_json(catalog: &RegionCatalog, t: &MonthTable) -> Value {
    let r = &t.report;
    let (first, last) = period_days(&r.period);
    let rows: Vec<Value> = r
        .rows
        .iter()
        .zip(&t.submissions)
        .map(|((u, row), s)| {
            json!({
                "unit": u, "name": unit_name(catalog, u),
                "awning": cells_json(&row.awning), "net": cells_json(&row.net),
                "submission": submission_json(catalog, u, s.as_ref()),
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
        "submitted": t.submissions.iter().flatten().filter(|s| s.status == Status::Submitted).count(),
        "period_notes": t.period_notes(catalog),
    })
}

/// A unit's month state: `open` when nothing is stored.
pub fn submission_json(catalog: &RegionCatalog, unit: &UnitCode, s: Option<&Submission>) -> Value {
    let status = s.map_or(Status::Open, |s| s.status);
    let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
    json!({
        "unit": unit, "name": unit_name(catalog, unit),
        "status": status.code(), "status_label": status.label(),
        "frozen_at": time(s.and_then(|s| s.frozen_at)),
        "submitted_at": time(s.and_then(|s| s.submitted_at)),
        "unfrozen_at": time(s.and_then(|s| s.unfrozen_at)),
        "unfreeze_reason": s.and_then(|s| s.unfreeze_reason.clone()),
        "frozen_period": s.filter(|s| s.status.is_frozen()).map(|s| {
            let p = s.period();
            let (first, last) = period_days(&p);
            json!({ "first_day": first, "last_day": last, "start": p.start.to_string(), "end": p.end.to_string() })
        }),
    })
}

/// The five columns of each category group, as the official form heads them.
pub const COLUMNS: [&str; 5] = [
    "楼栋总数(栋)",
    "总户数(户)",
    "本月完成户数(户)",
    "累计完成户数(户)",
    "整改率(%)",
];

/// The two category groups, in the form's order.
pub const GROUPS: [(Category, &str); 2] = [
    (Category::Awning, "可燃雨棚"),
    (Category::Net, "突出外墙防护网"),
];

/// The CSV text, BOM first so Excel opens it as UTF-8; CRLF line ends. Frozen units whose
/// period differs from the table's are named below the total ([`MonthTable::period_notes`]).
pub fn csv_text(catalog: &RegionCatalog, t: &MonthTable) -> String {
    let r = &t.report;
    let (first, last) = period_days(&r.period);
    let mut lines = vec![
        format!("\u{feff}{TITLE}"),
        format!(
            "统计期间：{first} 至 {last}（{:04}年{:02}月）",
            r.period.year, r.period.month
        ),
        format!("填报单位,{},,,,,{},,,,", GROUPS[0].1, GROUPS[1].1),
        format!(",{},{}", COLUMNS.join(","), COLUMNS.join(",")),
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
    lines.extend(t.period_notes(catalog).iter().map(|n| csv_field(n)));
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

fn csv_response(catalog: &RegionCatalog, t: &MonthTable) -> Response {
    let r = &t.report;
    let name = format!("附件2-{:04}-{:02}.csv", r.period.year, r.period.month);
    let disposition = format!(
        "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    let mut response = csv_text(catalog, t).into_response();
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
pub fn percent_encode(s: &str) -> String {
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
