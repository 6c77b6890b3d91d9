//! The ledger (台账) as XLSX: one row per live hazard item in the caller's scope, with its
//! building, household and lifecycle state. Owner names and phones are masked (张*, 138****1234);
//! nothing else personal is written.

use pengwang_shared::event::ItemState;
use pengwang_shared::household::{mask_name, mask_phone};
use pengwang_shared::item::{Category, Position};
use pengwang_shared::region::{CommunityCode, RegionCatalog, StreetCode, UnitCode};
use pengwang_shared::role::Scope;
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, Row};
use rust_xlsxwriter::{Format, FormatBorder, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value};

use super::failed;
use crate::error::AppError;
use crate::scope;

/// The sheet's header, in column order.
pub const HEADER: [&str; 19] = [
    "填报单位",
    "街道",
    "社区",
    "小区",
    "楼栋",
    "高层",
    "单元",
    "楼层",
    "房号",
    "业主",
    "联系电话",
    "类别",
    "位置",
    "状态",
    "发现时间",
    "完成时间",
    "劝导次数",
    "冲突未决",
    "隐患编号",
];

/// What to export: the caller's scope, optionally narrowed to a unit or a street in it.
pub struct LedgerQuery {
    pub scope: Scope,
    pub unit: Option<UnitCode>,
    pub street: Option<StreetCode>,
}

/// One exported row, personal data already masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRow {
    pub cells: [String; 19],
}

/// The rows, in place order (unit, street, community, estate, building, household, item).
pub fn rows(
    conn: &Connection,
    catalog: &RegionCatalog,
    q: &LedgerQuery,
) -> Result<Vec<LedgerRow>, AppError> {
    let (cond, mut params) = scope::filter(&q.scope, "b", "estate_norm");
    let mut sql = format!(
        "SELECT b.unit_code, b.street_code, b.community_code, b.estate, b.number, b.high_rise,
                h.stair_unit, h.floor, h.room, h.fields_json,
                i.id, i.category, i.state, i.found_at, i.completed_at, i.persuasion_count, i.forked,
                i.fields_json
         FROM p_item i JOIN p_building b ON b.id = i.building_id
         LEFT JOIN p_household h ON h.id = i.household_id
         WHERE i.deleted = 0 AND {cond}"
    );
    if let Some(u) = &q.unit {
        sql.push_str(" AND b.unit_code = ?");
        params.push(Sql::Text(u.to_string()));
    }
    if let Some(s) = &q.street {
        sql.push_str(" AND b.street_code = ?");
        params.push(Sql::Text(s.to_string()));
    }
    sql.push_str(
        " ORDER BY b.unit_code, b.street_code, b.community_code, b.estate_norm, b.number_norm,
                   b.id, h.stair_unit, h.floor, h.room_norm, i.household_id, i.category, i.found_at, i.id",
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| Ok(ledger_row(r, catalog)))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r??);
    }
    Ok(out)
}

fn ledger_row(r: &Row<'_>, catalog: &RegionCatalog) -> Result<LedgerRow, rusqlite::Error> {
    let text = |i: usize| r.get::<_, Option<String>>(i).map(Option::unwrap_or_default);
    let household = object(r.get::<_, Option<String>>(9)?.as_deref());
    let item = object(Some(&r.get::<_, String>(17)?));
    let personal = |key: &str, mask: fn(&str) -> String| {
        household
            .get(key)
            .and_then(Value::as_str)
            .map(mask)
            .unwrap_or_default()
    };
    let category = text(11)?;
    let state = text(12)?;
    let time = |t: Option<i64>| t.map(|t| Timestamp(t).to_string()).unwrap_or_default();
    let floor: Option<i64> = r.get(7)?;
    let cells = [
        region_name(catalog, &text(0)?, Region::Unit),
        region_name(catalog, &text(1)?, Region::Street),
        region_name(catalog, &text(2)?, Region::Community),
        text(3)?,
        text(4)?,
        if r.get::<_, bool>(5)? { "是" } else { "否" }.to_owned(),
        text(6)?,
        floor.map(|f| f.to_string()).unwrap_or_default(),
        text(8)?,
        personal("owner_name", mask_name),
        personal("owner_phone", mask_phone),
        Category::parse(&category).map_or(category, |c| c.label().to_owned()),
        item.get("position")
            .and_then(Value::as_str)
            .map(|p| Position::parse(p).map_or(p.to_owned(), |p| p.label().to_owned()))
            .unwrap_or_default(),
        ItemState::parse(&state).map_or(state, |s| s.label().to_owned()),
        time(r.get(13)?),
        time(r.get(14)?),
        r.get::<_, i64>(15)?.to_string(),
        if r.get::<_, bool>(16)? { "是" } else { "" }.to_owned(),
        text(10)?,
    ];
    Ok(LedgerRow { cells })
}

fn object(json: Option<&str>) -> Map<String, Value> {
    match json.and_then(|j| serde_json::from_str(j).ok()) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

enum Region {
    Unit,
    Street,
    Community,
}

/// A region's name from the catalog, or its code when unknown.
fn region_name(catalog: &RegionCatalog, code: &str, kind: Region) -> String {
    let name = match kind {
        Region::Unit => UnitCode::parse(code)
            .ok()
            .and_then(|c| catalog.unit(&c).map(|u| u.name.clone())),
        Region::Street => StreetCode::parse(code)
            .ok()
            .and_then(|c| catalog.streets.get(&c).map(|s| s.name.clone())),
        Region::Community => CommunityCode::parse(code)
            .ok()
            .and_then(|c| catalog.communities.get(&c).map(|s| s.name.clone())),
    };
    name.unwrap_or_else(|| code.to_owned())
}

/// The workbook: a title line, the header, the rows.
pub fn workbook(rows: &[LedgerRow], title: &str) -> Result<Vec<u8>, AppError> {
    let mut book = Workbook::new();
    sheet(book.add_worksheet(), rows, title).map_err(failed)?;
    book.save_to_buffer().map_err(failed)
}

fn sheet(ws: &mut Worksheet, rows: &[LedgerRow], title: &str) -> Result<(), XlsxError> {
    ws.set_name("台账")?;
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_border(FormatBorder::Thin);
    ws.merge_range(0, 0, 0, HEADER.len() as u16 - 1, title, &bold)?;
    for (c, name) in HEADER.iter().enumerate() {
        ws.write_string_with_format(1, c as u16, *name, &header)?;
    }
    for (i, row) in rows.iter().enumerate() {
        let r = i as u32 + 2;
        for (c, v) in row.cells.iter().enumerate() {
            // 楼层 and 劝导次数 are numbers; everything else is text (楼栋 "1栋", 房号 "0801").
            match (c, v.parse::<f64>()) {
                (7 | 16, Ok(n)) => ws.write_number(r, c as u16, n)?,
                _ => ws.write_string(r, c as u16, v)?,
            };
        }
    }
    ws.set_freeze_panes(2, 0)?;
    Ok(())
}

/// Checks the narrowing against the caller's scope, builds the workbook and audits the export.
pub async fn download(
    state: &crate::state::AppState,
    account: &pengwang_shared::protocol::AccountInfo,
    unit: Option<&str>,
    street: Option<&str>,
) -> Result<axum::response::Response, AppError> {
    let q = query(&state.catalog, &account.scope, unit, street)?;
    let (catalog, now, actor) = (state.catalog.clone(), state.now(), account.id);
    let target = match (&q.unit, &q.street) {
        (_, Some(s)) => format!("ledger/street/{s}"),
        (Some(u), None) => format!("ledger/unit/{u}"),
        (None, None) => "ledger".to_owned(),
    };
    let rows = state.db.read(move |c| rows(c, &catalog, &q)).await?;
    let title =
        format!("高层建筑可燃雨棚和突出外墙防护网隐患台账（导出时间：{now}；个人信息已脱敏）");
    let bytes = workbook(&rows, &title)?;
    let detail = format!("xlsx, {} items", rows.len());
    crate::audit::record_read(
        state,
        actor,
        crate::audit::Action::LedgerExport,
        target,
        detail,
        None,
    )
    .await?;
    tracing::info!(account = %actor, items = rows.len(), "ledger exported");
    let name = format!("台账-{}.xlsx", now.local_date());
    Ok(super::download(bytes, super::XLSX, &name))
}

/// The export's narrowing, refused with 403 outside the caller's scope.
fn query(
    catalog: &RegionCatalog,
    scope: &Scope,
    unit: Option<&str>,
    street: Option<&str>,
) -> Result<LedgerQuery, AppError> {
    let outside = |what: String| {
        AppError::forbidden(
            "out_of_scope",
            format!("{what} is outside your scope ({})", scope.describe()),
        )
    };
    let unit = match unit.filter(|u| !u.is_empty()) {
        Some(u) => {
            let code = UnitCode::parse(u)
                .map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
            if !crate::ledger::sees_unit(catalog, scope, &code) {
                return Err(outside(format!("unit {code}")));
            }
            Some(code)
        }
        None => None,
    };
    let street = match street.filter(|s| !s.is_empty()) {
        Some(s) => {
            let code = StreetCode::parse(s)
                .map_err(|e| AppError::bad_request("invalid_street", e.to_string()))?;
            if !crate::ledger::sees_street(catalog, scope, &code) {
                return Err(outside(format!("street {code}")));
            }
            Some(code)
        }
        None => None,
    };
    Ok(LedgerQuery {
        scope: scope.clone(),
        unit,
        street,
    })
}
