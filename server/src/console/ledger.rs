//! 台账: the drill-down reporting unit → street → community → building → household → item, with
//! survey progress (排查进度) per node, a filtered item list, and each item with its photos,
//! its event history and the lifecycle actions the user's role may take. Everything is read
//! from the projections through the same queries as the JSON ledger, limited to the user's
//! scope; owner names and phones are masked.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::document::field::{FieldValue, HOUSEHOLD_FIELDS, ITEM_FIELDS};
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::household::SurveyResult;
use pengwang_shared::item::Category;
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::Scope;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection};
use serde::Deserialize;
use serde_json::Value;

use super::layout::{self, count_link, page};
use super::{Console, PageError};
use crate::db::DbError;
use crate::error::AppError;
use crate::ledger::{self, Counts, BY_STREET, BY_UNIT};
use crate::merge;
use crate::photos::Variant;
use crate::scope;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/ledger", get(city))
        .route("/console/ledger/units/{code}", get(unit))
        .route("/console/ledger/streets/{code}", get(street))
        .route("/console/ledger/buildings/{id}", get(building))
        .route("/console/ledger/items", get(items))
        .route("/console/ledger/items/{id}", get(item))
        .route("/console/photos/{hash}", get(photo))
        .route("/console/photos/{hash}/thumbnail", get(thumbnail))
}

/// 排查进度 of one node: buildings and households surveyed of the total, households not reached.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Survey {
    pub buildings: u64,
    pub buildings_surveyed: u64,
    pub households: u64,
    pub households_surveyed: u64,
    pub households_not_reached: u64,
}

/// Survey progress in `scope`, grouped by `group` (a `p_building` column), optionally within
/// `(column, value)`. A building counts as surveyed when its 排查状态 is 已排查; a household when
/// it has a survey result other than 无法入户待复访. A merged-away building's households count
/// under its survivor; a merged-away household not at all (its survivor does).
pub fn survey(
    conn: &Connection,
    scope: &Scope,
    group: &str,
    within: Option<(&str, &str)>,
) -> Result<BTreeMap<String, Survey>, DbError> {
    let (mut cond, mut params) = scope::filter(scope, "b", "estate_norm");
    if let Some((col, v)) = within {
        cond = format!("{cond} AND b.{col} = ?");
        params.push(Sql::Text(v.to_owned()));
    }
    let mut out: BTreeMap<String, Survey> = BTreeMap::new();
    let sql = format!(
        "SELECT b.{group}, COUNT(*), SUM(b.survey_status = 'done') FROM p_building b
         WHERE b.merged_into IS NULL AND {cond} GROUP BY 1"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params.clone()))?;
    while let Some(r) = rows.next()? {
        let s = out.entry(r.get(0)?).or_default();
        s.buildings = r.get(1)?;
        s.buildings_surveyed = r.get::<_, Option<u64>>(2)?.unwrap_or(0);
    }
    let sql = format!(
        "SELECT b.{group}, COUNT(*), SUM(h.survey_result IS NOT NULL AND h.survey_result <> 'not_reached'),
                SUM(h.survey_result = 'not_reached')
         FROM p_household h JOIN p_building b ON b.id = {household_building}
         WHERE h.deleted = 0 AND {household_counts} AND {cond} GROUP BY 1",
        household_building = merge::HOUSEHOLD_BUILDING,
        household_counts = merge::HOUSEHOLD_COUNTS,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    while let Some(r) = rows.next()? {
        let s = out.entry(r.get(0)?).or_default();
        s.households = r.get(1)?;
        s.households_surveyed = r.get::<_, Option<u64>>(2)?.unwrap_or(0);
        s.households_not_reached = r.get::<_, Option<u64>>(3)?.unwrap_or(0);
    }
    Ok(out)
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

/// The states in the order the lifecycle moves through them.
const STATES: [ItemState; 9] = [
    ItemState::Identified,
    ItemState::Notified,
    ItemState::SelfRectifying,
    ItemState::PendingVerify,
    ItemState::Refused,
    ItemState::Transferred,
    ItemState::EnforcedRemoved,
    ItemState::Closed,
    ItemState::Void,
];

fn state_badge(state: Option<&str>) -> Markup {
    let parsed = state.and_then(|s| ItemState::parse(s).ok());
    let class = match parsed {
        Some(ItemState::Closed) => "badge ok",
        Some(ItemState::PendingVerify) => "badge warn",
        Some(ItemState::Refused | ItemState::Transferred) => "badge bad",
        _ => "badge",
    };
    html! { span class=(class) { (parsed.map_or("状态未定", ItemState::label)) } }
}

/// Header and cells of a node's counts, shared by the unit, street and building tables.
fn counts_head() -> Markup {
    html! {
        th.num { "高层(栋)" } th.num { "多层(栋)" } th.num { "隐患户" }
        th.num { "隐患总数" } th.num { "已销号" } th.num { "待核验" } th.num { "拒改/执法" }
        th.num { "冲突" } th.num { "无照片销号" }
    }
}

fn counts_cells(c: &Counts, items_href: &str) -> Markup {
    let n = |s: ItemState| c.items.get(s.code()).copied().unwrap_or(0);
    let live: u64 = c
        .items
        .iter()
        .filter(|(k, _)| k.as_str() != ItemState::Void.code())
        .map(|(_, v)| v)
        .sum();
    html! {
        td.num { (c.buildings_high_rise) } td.num { (c.buildings_multi_storey) }
        td.num { (c.households_with_hazards) }
        td.num { (count_link(live, items_href)) }
        td.num { (count_link(n(ItemState::Closed), &format!("{items_href}&state=closed"))) }
        td.num { (count_link(n(ItemState::PendingVerify), &format!("{items_href}&state=pending_verify"))) }
        td.num { (n(ItemState::Refused) + n(ItemState::Transferred)) }
        td.num { @if c.open_conflicts > 0 { a href="/console/conflicts" { span.badge.warn { (c.open_conflicts) } } } @else { "0" } }
        td.num { @if c.closed_without_evidence > 0 { span.badge.bad { (c.closed_without_evidence) } } @else { "0" } }
    }
}

fn survey_cells(s: &Survey) -> Markup {
    html! {
        td.num { (s.buildings_surveyed) " / " (s.buildings) }
        td.num { (s.households_surveyed) " / " (s.households) " " span.muted { (percent(s.households_surveyed, s.households)) } }
        td.num { (s.households_not_reached) }
    }
}

fn survey_head() -> Markup {
    html! { th.num { "已排查楼栋" } th.num { "已排查户" } th.num { "未入户待复访" } }
}

fn filters_link(scope_param: &str) -> String {
    format!("/console/ledger/items?{scope_param}")
}

async fn city(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    let scope = console.account.scope.clone();
    let (counts, surveys) = state
        .db
        .read(move |c| {
            Ok::<_, AppError>((
                ledger::tally(c, &scope, BY_UNIT, None)?,
                survey(c, &scope, "unit_code", None)?,
            ))
        })
        .await?;
    let scope = &console.account.scope;
    let units: Vec<_> = state
        .catalog
        .units
        .iter()
        .filter(|u| ledger::sees_unit(&state.catalog, scope, &u.code))
        .collect();
    let mut total = Counts::default();
    let mut total_survey = Survey::default();
    for u in &units {
        if let Some(c) = counts.get(u.code.as_str()) {
            add_counts(&mut total, c);
        }
        if let Some(s) = surveys.get(u.code.as_str()) {
            add_survey(&mut total_survey, s);
        }
    }
    // Only units with data are listed by default: the city has ~40 units, most of a demo's empty.
    let body = html! {
        (item_filters(&ItemFilter::default(), None))
        table.grid #units {
            thead { tr { th { "填报单位" } (counts_head()) (survey_head()) } }
            tbody {
                @for u in &units {
                    @let c = counts.get(u.code.as_str()).cloned().unwrap_or_default();
                    @let s = surveys.get(u.code.as_str()).cloned().unwrap_or_default();
                    @if s.buildings > 0 || units.len() == 1 {
                        tr {
                            td { a href=(format!("/console/ledger/units/{}", u.code)) { (u.name) } }
                            (counts_cells(&c, &filters_link(&format!("unit={}", u.code))))
                            (survey_cells(&s))
                        }
                    }
                }
                tr.total {
                    td { "合计" }
                    (counts_cells(&total, &filters_link("")))
                    (survey_cells(&total_survey))
                }
            }
        }
        p.muted { "只列出已有楼栋登记的填报单位。点击单位名称逐级查看街道、社区、楼栋、住户和隐患。" }
    };
    Ok(page(&console, "台账", body))
}

fn add_counts(total: &mut Counts, c: &Counts) {
    total.buildings_high_rise += c.buildings_high_rise;
    total.buildings_multi_storey += c.buildings_multi_storey;
    total.households_with_hazards += c.households_with_hazards;
    total.open_conflicts += c.open_conflicts;
    total.closed_without_evidence += c.closed_without_evidence;
    for (k, v) in &c.items {
        *total.items.entry(k.clone()).or_default() += v;
    }
}

fn add_survey(total: &mut Survey, s: &Survey) {
    total.buildings += s.buildings;
    total.buildings_surveyed += s.buildings_surveyed;
    total.households += s.households;
    total.households_surveyed += s.households_surveyed;
    total.households_not_reached += s.households_not_reached;
}

fn not_found(what: &str) -> PageError {
    PageError(AppError::not_found(
        "not_found",
        format!("没有这个{what}，或它不在您的管辖范围内"),
    ))
}

async fn unit(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
) -> Result<Markup, PageError> {
    let code = UnitCode::parse(&code).map_err(|_| not_found("填报单位"))?;
    let scope = console.account.scope.clone();
    let Some(u) = state.catalog.unit(&code) else {
        return Err(not_found("填报单位"));
    };
    if !ledger::sees_unit(&state.catalog, &scope, &code) {
        return Err(not_found("填报单位"));
    }
    let c2 = code.to_string();
    let (counts, surveys) = state
        .db
        .read(move |c| {
            Ok::<_, AppError>((
                ledger::tally(c, &scope, BY_STREET, Some(("unit_code", &c2)))?,
                survey(c, &scope, "street_code", Some(("unit_code", &c2)))?,
            ))
        })
        .await?;
    let scope = &console.account.scope;
    let body = html! {
        p.crumbs { a href="/console/ledger" { "台账" } span { (u.name) } }
        (item_filters(&ItemFilter { unit: code.to_string(), ..ItemFilter::default() }, None))
        table.grid #streets {
            thead { tr { th { "街道/乡镇" } (counts_head()) (survey_head()) } }
            tbody {
                @for s in state.catalog.streets_of(&code).filter(|s| ledger::sees_street(&state.catalog, scope, &s.code)) {
                    @let c = counts.get(s.code.as_str()).cloned().unwrap_or_default();
                    @let sv = surveys.get(s.code.as_str()).cloned().unwrap_or_default();
                    @if sv.buildings > 0 {
                        tr {
                            td { a href=(format!("/console/ledger/streets/{}", s.code)) { (s.name) } }
                            (counts_cells(&c, &filters_link(&format!("street={}", s.code))))
                            (survey_cells(&sv))
                        }
                    }
                }
            }
        }
        p.muted { "只列出已有楼栋登记的街道。" }
    };
    Ok(page(&console, &format!("台账 · {}", u.name), body))
}

async fn street(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
) -> Result<Markup, PageError> {
    let code = StreetCode::parse(&code).map_err(|_| not_found("街道"))?;
    let Some(st) = state.catalog.streets.get(&code) else {
        return Err(not_found("街道"));
    };
    let scope = console.account.scope.clone();
    if !ledger::sees_street(&state.catalog, &scope, &code) {
        return Err(not_found("街道"));
    }
    let c2 = code.to_string();
    let (buildings, surveys) = state
        .db
        .read(move |c| {
            Ok::<_, AppError>((
                ledger::street_buildings(c, &scope, &c2)?,
                survey(c, &scope, "id", Some(("street_code", &c2)))?,
            ))
        })
        .await?;
    let mut by_community: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for b in buildings {
        by_community
            .entry(b.community_code.clone())
            .or_default()
            .push(b);
    }
    let unit_name = layout::unit_name(&state.catalog, &st.unit);
    let body = html! {
        p.crumbs {
            a href="/console/ledger" { "台账" }
            a href=(format!("/console/ledger/units/{}", st.unit)) { (unit_name) }
            span { (st.name) }
        }
        (item_filters(&ItemFilter { street: code.to_string(), ..ItemFilter::default() }, None))
        @for (community, list) in &by_community {
            @let name = pengwang_shared::region::CommunityCode::parse(community).ok()
                .and_then(|c| state.catalog.communities.get(&c)).map_or(community.clone(), |c| c.name.clone());
            h2 { (name) " " span.muted { (list.len()) " 栋" } }
            table.grid.buildings {
                thead { tr { th { "小区" } th { "楼栋" } th { "地址" } th { "类型" } th { "排查状态" } th.num { "户数" } (counts_head()) } }
                tbody {
                    @for b in list {
                        @let sv = surveys.get(&b.id).cloned().unwrap_or_default();
                        tr {
                            td { (b.estate) }
                            td { a href=(format!("/console/ledger/buildings/{}", b.id)) { (b.number) } }
                            td { (b.address) }
                            td {
                                (if b.high_rise { "高层" } else { "多层" })
                                @if b.needs_height_check { " " span.badge.warn { "需核实高度" } }
                            }
                            td { (survey_label(b.survey_status.as_deref())) " " span.muted { (sv.households_surveyed) "/" (sv.households) } }
                            td.num { (b.households) }
                            (counts_cells(&b.counts, &filters_link(&format!("building={}", b.id))))
                        }
                    }
                }
            }
        }
        @if by_community.is_empty() { p.muted { "这个街道还没有登记楼栋。" } }
    };
    Ok(page(&console, &format!("台账 · {}", st.name), body))
}

fn survey_label(status: Option<&str>) -> &'static str {
    status
        .and_then(|s| pengwang_shared::building::SurveyStatus::parse(s).ok())
        .map_or("待排查", |s| s.label())
}

async fn building(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let scope = console.account.scope.clone();
    let b = state
        .db
        .read(move |c| ledger::building_detail(c, &scope, &id))
        .await
        .map_err(hide_out_of_scope("楼栋"))?;
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let items = b["items"].as_array().cloned().unwrap_or_default();
    let mut items_by_household: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for it in items
        .into_iter()
        .filter(|i| i["deleted"] != Value::Bool(true))
    {
        items_by_household
            .entry(text(&it["household_id"]))
            .or_default()
            .push(it);
    }
    let street = StreetCode::parse(&text(&b["street_code"])).ok();
    let title = format!("{} {}", text(&b["estate"]), text(&b["number"]));
    let body = html! {
        p.crumbs {
            a href="/console/ledger" { "台账" }
            @if let Some(s) = &street {
                a href=(format!("/console/ledger/streets/{s}")) { (layout::street_label(&state.catalog, s)) }
            }
            span { (title) }
        }
        @if let Some(m) = b["merged_into"].as_str() {
            p.notice #merged-into {
                "此楼栋记录已作为重复记录合并到 "
                a href=(format!("/console/ledger/buildings/{m}")) { (text(&b["survivor"]["estate"])) " " (text(&b["survivor"]["number"])) }
                "（保留的记录）。它登记的 " (b["recorded"]["households"].as_i64().unwrap_or(0)) " 户、"
                (b["recorded"]["items"].as_i64().unwrap_or(0)) " 个隐患点位现全部计入并列在该楼栋下，请到那里查看和处理；此处不再单独计数。"
            }
        }
        @if let Some(absorbed) = b["absorbed"].as_array().filter(|a| !a.is_empty()) {
            p.notice #absorbed {
                "已合并进本楼栋的重复记录："
                @for a in absorbed {
                    " " a href=(format!("/console/ledger/buildings/{}", text(&a["id"]))) { (text(&a["estate"])) " " (text(&a["number"])) }
                    span.muted { "（" (text(&a["merged_at"]).chars().take(10).collect::<String>()) "）" }
                }
                "。它们登记的住户和隐患列在下表，标“合并记录”，只在本楼栋计数。"
            }
        }
        div.cards {
            div.card { div.muted { "地址" } div { (text(&b["address"])) } }
            div.card { div.muted { "类型" } div {
                (if b["high_rise"] == Value::Bool(true) { "高层" } else { "多层" })
                @if let Some(h) = b["height_m"].as_f64() { " · " (h) " 米" }
                @if let Some(f) = b["floors"].as_i64() { " · " (f) " 层" }
                @if b["needs_height_check"] == Value::Bool(true) { " " span.badge.warn { "需核实高度" } }
            } }
            div.card { div.muted { "排查状态" } div { (survey_label(b["survey_status"].as_str())) } }
        }
        h2 { "住户与隐患" }
        table.grid #households {
            thead { tr { th { "单元" } th { "楼层" } th { "房号" } th { "户主" } th { "电话" } th { "排查结果" } th { "隐患" } } }
            tbody {
                // A household deleted on one phone while another recorded a hazard there stays
                // listed, marked, until a supervisor decides (冲突 page).
                @for h in b["households"].as_array().into_iter().flatten().filter(|h| h["deleted"] != Value::Bool(true) || items_by_household.contains_key(&text(&h["id"]))) {
                    @let hid = text(&h["id"]);
                    tr id=(format!("household-{hid}")) {
                        td { (text(&h["stair_unit"])) }
                        td { (h["floor"].as_i64().map(|f| f.to_string()).unwrap_or_default()) }
                        td {
                            (text(&h["room"]))
                            @if h["deleted"] == Value::Bool(true) { " " a href="/console/conflicts" { span.badge.warn { "已删除，但仍有隐患 — 待裁定" } } }
                        }
                        td { (text(&h["owner_name"])) }
                        td { (text(&h["owner_phone"])) }
                        td {
                            (h["survey_result"].as_str().and_then(|s| SurveyResult::parse(s).ok()).map_or("未排查", SurveyResult::label))
                            @if h["recorded_in"].is_string() { " " span.badge { "合并记录" } }
                            @if let Some(n) = h["merged_from"].as_array().map(Vec::len).filter(|n| *n > 0) { " " span.badge { "含 " (n) " 条重复登记" } }
                        }
                        td {
                            @for it in items_by_household.get(&hid).into_iter().flatten() {
                                div {
                                    a href=(format!("/console/ledger/items/{}", text(&it["id"]))) { (text(&it["category_label"])) }
                                    " " (state_badge(it["state"].as_str()))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&console, &title, body))
}

/// Out-of-scope reads answer 404, as if the record did not exist.
fn hide_out_of_scope(what: &'static str) -> impl Fn(AppError) -> PageError {
    move |e| match e {
        AppError::Forbidden { .. } | AppError::NotFound { .. } => not_found(what),
        e => PageError(e),
    }
}

/// The filters of the item list.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ItemFilter {
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub building: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub state: String,
    /// `high` / `multi`.
    #[serde(default)]
    pub height: String,
    /// `1`: only items past the deadline of their phase.
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub page: u32,
}

const PAGE_SIZE: u32 = 100;

fn item_filters(f: &ItemFilter, total: Option<u64>) -> Markup {
    let sel = |a: &str, b: &str| a == b;
    html! {
        form.filters method="get" action="/console/ledger/items" {
            @if !f.unit.is_empty() { input type="hidden" name="unit" value=(f.unit); }
            @if !f.street.is_empty() { input type="hidden" name="street" value=(f.street); }
            @if !f.building.is_empty() { input type="hidden" name="building" value=(f.building); }
            label { "类别" select name="category" {
                option value="" { "全部" }
                @for c in Category::ALL { option value=(c.code()) selected[sel(&f.category, c.code())] { (c.label()) } }
            } }
            label { "状态" select name="state" {
                option value="" { "全部（不含作废）" }
                @for s in STATES { option value=(s.code()) selected[sel(&f.state, s.code())] { (s.label()) } }
            } }
            label { "楼栋类型" select name="height" {
                option value="" { "全部" }
                option value="high" selected[sel(&f.height, "high")] { "高层" }
                option value="multi" selected[sel(&f.height, "multi")] { "多层" }
            } }
            label { "逾期" select name="overdue" {
                option value="" { "全部" }
                option value="1" selected[sel(&f.overdue, "1")] { "只看逾期" }
            } }
            button.btn.primary type="submit" { "筛选隐患" }
            @if let Some(n) = total { span.muted { "共 " (n) " 条" } }
            a.btn href=(export_link(f)) title="本范围内的全部隐患，户主姓名和电话已脱敏" { "导出台账 XLSX" }
        }
    }
}

/// The masked ledger export of the unit or street the list is narrowed to (else the scope).
fn export_link(f: &ItemFilter) -> String {
    let mut q: Vec<(&str, &str)> = Vec::new();
    if !f.unit.is_empty() {
        q.push(("unit", &f.unit));
    }
    if !f.street.is_empty() {
        q.push(("street", &f.street));
    }
    let q = serde_urlencoded::to_string(&q).unwrap_or_default();
    format!("/console/ledger/export.xlsx?{q}")
}

/// One row of the filtered item list.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    pub id: String,
    pub building_id: String,
    pub estate: String,
    pub number: String,
    pub stair_unit: String,
    pub room: String,
    pub category: String,
    pub state: Option<String>,
    pub found_at: Option<i64>,
    pub state_since: Option<i64>,
    pub high_rise: bool,
}

/// The items in `scope` matching `f` (overdue is decided by the caller's `overdue` test), one
/// page of them, and how many match in all.
pub fn filtered_items(
    conn: &Connection,
    scope: &Scope,
    f: &ItemFilter,
    overdue: &dyn Fn(&ItemRow) -> bool,
) -> Result<(Vec<ItemRow>, u64), DbError> {
    let (mut cond, mut params) = scope::filter(scope, "b", "estate_norm");
    let mut eq = |col: &str, v: &str| {
        if !v.is_empty() {
            cond.push_str(&format!(" AND {col} = ?"));
            params.push(Sql::Text(v.to_owned()));
        }
    };
    eq("b.unit_code", &f.unit);
    eq("b.street_code", &f.street);
    eq("b.id", &f.building);
    eq("t.category", &f.category);
    eq("t.state", &f.state);
    if f.state.is_empty() {
        cond.push_str(" AND (t.state IS NULL OR t.state <> 'void')");
    }
    match f.height.as_str() {
        "high" => cond.push_str(" AND b.high_rise = 1"),
        "multi" => cond.push_str(" AND b.high_rise = 0"),
        _ => {}
    }
    let sql = format!(
        "SELECT t.id, b.id, b.estate, b.number, COALESCE(h.stair_unit, ''), COALESCE(h.room, ''), t.category, t.state,
                t.found_at, t.state_since, b.high_rise
         FROM p_item t JOIN p_building b ON b.id = {item_building}
         LEFT JOIN p_household h ON h.id = t.household_id
         WHERE t.deleted = 0 AND {cond}
         ORDER BY b.street_code, b.estate_norm, b.number_norm, h.stair_unit, h.floor, h.room_norm, t.id",
        item_building = merge::ITEM_BUILDING,
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let (skip, take) = ((f.page * PAGE_SIZE) as u64, PAGE_SIZE as usize);
    let mut out = Vec::new();
    let mut total = 0u64;
    while let Some(r) = rows.next()? {
        let row = ItemRow {
            id: r.get(0)?,
            building_id: r.get(1)?,
            estate: r.get(2)?,
            number: r.get(3)?,
            stair_unit: r.get(4)?,
            room: r.get(5)?,
            category: r.get(6)?,
            state: r.get(7)?,
            found_at: r.get(8)?,
            state_since: r.get(9)?,
            high_rise: r.get(10)?,
        };
        if f.overdue == "1" && !overdue(&row) {
            continue;
        }
        if total >= skip && out.len() < take {
            out.push(row);
        }
        total += 1;
    }
    Ok((out, total))
}

async fn items(
    State(state): State<AppState>,
    console: Console,
    Query(f): Query<ItemFilter>,
) -> Result<Markup, PageError> {
    let scope = console.account.scope.clone();
    let now = state.now();
    let f2 = f.clone();
    let (rows, total) = state
        .db
        .read(move |c| {
            let settings = crate::campaign::load(c, now)?;
            let overdue = |row: &ItemRow| overdue_now(&settings, row, now);
            Ok::<_, AppError>(filtered_items(c, &scope, &f2, &overdue)?)
        })
        .await?;
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let link = |page: u32| {
        let q = serde_urlencoded::to_string([
            ("unit", f.unit.as_str()),
            ("street", f.street.as_str()),
            ("building", f.building.as_str()),
            ("category", f.category.as_str()),
            ("state", f.state.as_str()),
            ("height", f.height.as_str()),
            ("overdue", f.overdue.as_str()),
            ("page", &page.to_string()),
        ])
        .unwrap_or_default();
        format!("/console/ledger/items?{q}")
    };
    let body = html! {
        (item_filters(&f, Some(total)))
        table.grid #items {
            thead { tr { th { "小区楼栋" } th { "单元房号" } th { "类别" } th { "状态" } th { "发现时间" } th { "当前状态起" } th { "" } } }
            tbody {
                @for r in &rows {
                    tr {
                        td { a href=(format!("/console/ledger/buildings/{}", r.building_id)) { (r.estate) " " (r.number) } (if r.high_rise { "" } else { "（多层）" }) }
                        td { (r.stair_unit) "单元 " (r.room) }
                        td { (Category::parse(&r.category).map_or("?", Category::label)) }
                        td { (state_badge(r.state.as_deref())) }
                        td { (layout::local_time(r.found_at.map(pengwang_shared::time::Timestamp))) }
                        td { (layout::local_time(r.state_since.map(pengwang_shared::time::Timestamp))) }
                        td { a.btn href=(format!("/console/ledger/items/{}", r.id)) { "查看" } }
                    }
                }
            }
        }
        @if rows.is_empty() { p.muted { "没有符合条件的隐患。" } }
        @if pages > 1 {
            p.pager {
                @if f.page > 0 { a.btn href=(link(f.page - 1)) { "上一页" } }
                span { "第 " (f.page + 1) " / " (pages) " 页" }
                @if u64::from(f.page) + 1 < pages { a.btn href=(link(f.page + 1)) { "下一页" } }
            }
        }
    };
    Ok(page(&console, "隐患清单", body))
}

/// Whether an item is past the deadline of its phase today. The phases and their deadlines are
/// the campaign's (DESIGN §4): self-remediation, enforcement, everything.
fn overdue_now(
    settings: &pengwang_shared::settings::CampaignSettings,
    row: &ItemRow,
    now: pengwang_shared::time::Timestamp,
) -> bool {
    let Some(state) = row.state.as_deref().and_then(|s| ItemState::parse(s).ok()) else {
        return false;
    };
    settings.is_overdue(state, now.local_date())
}

async fn item(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let item_id = pengwang_shared::id::ItemId::parse(&id).map_err(|_| not_found("隐患"))?;
    // Out of scope is decided below by the building; an item whose document is not stored
    // (a projection without its document) is shown without actions.
    let choices = super::item_actions::choices(&state, &console, item_id)
        .await
        .ok();
    let scope = console.account.scope.clone();
    let id2 = id.clone();
    let (b, names) = state
        .db
        .read(move |c| {
            let building: Option<String> = c
                .query_row(
                    &format!(
                        "SELECT {} FROM p_item t WHERE t.id = ?1",
                        merge::ITEM_BUILDING
                    ),
                    [&id2],
                    |r| r.get(0),
                )
                .ok();
            let Some(building) = building else {
                return Err(AppError::not_found("item_not_found", "no such item"));
            };
            let b = ledger::building_detail(c, &scope, &building)?;
            let names = account_names(c)?;
            Ok((b, names))
        })
        .await
        .map_err(hide_out_of_scope("隐患"))?;
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let Some(it) = b["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"].as_str() == Some(id.as_str())))
        .cloned()
    else {
        return Err(not_found("隐患"));
    };
    let household = b["households"]
        .as_array()
        .and_then(|a| a.iter().find(|h| h["id"] == it["household_id"]))
        .cloned()
        .unwrap_or(Value::Null);
    let title = format!(
        "{} · {} {} {}单元 {}",
        text(&it["category_label"]),
        text(&b["estate"]),
        text(&b["number"]),
        text(&household["stair_unit"]),
        text(&household["room"])
    );
    let fields = it["fields"].as_object().cloned().unwrap_or_default();
    let hh_fields = household["fields"].as_object().cloned().unwrap_or_default();
    let photos = it["photos"].as_array().cloned().unwrap_or_default();
    let before: Vec<&Value> = photos.iter().filter(|p| p["role"] == "before").collect();
    let after: Vec<&Value> = photos.iter().filter(|p| p["role"] != "before").collect();
    let body = html! {
        p.crumbs {
            a href="/console/ledger" { "台账" }
            a href=(format!("/console/ledger/buildings/{}", text(&b["id"]))) { (text(&b["estate"])) " " (text(&b["number"])) }
            span { (text(&household["stair_unit"])) "单元 " (text(&household["room"])) }
        }
        div.cards {
            div.card { div.muted { "状态" } div.big { (state_badge(it["state"].as_str())) } }
            div.card { div.muted { "发现时间" } div { (text(&it["found_at"])) } }
            div.card { div.muted { "完成时间" } div { (it["completed_at"].as_str().unwrap_or("—")) } }
            div.card { div.muted { "劝导次数" } div { (it["persuasion_count"].as_i64().unwrap_or(0)) } }
            @if it["evidenced"] == Value::Bool(false) {
                div.card { div.muted { "照片" } div { span.badge.bad { "缺少照片（设备未上传）" } } }
            }
            @if it["forked"] == Value::Bool(true) {
                div.card { div.muted { "冲突" } div { a href="/console/conflicts" { span.badge.warn { "处理流程有分叉，待处理" } } } }
            }
        }
        h2 { "处理" }
        @if let Some(choices) = &choices {
            (super::item_actions::action_forms(&console, choices))
        } @else {
            p.muted { "这条隐患的文档尚未同步到服务器，暂不能在控制台处理。" }
        }
        h2 { "照片" }
        div.side-by-side #photos {
            div { h3 { "整改前" } (photo_strip(&before)) }
            div { h3 { "整改后 / 执法" } (photo_strip(&after)) }
        }
        h2 { "登记信息" }
        table.grid #fields {
            tbody {
                @for spec in ITEM_FIELDS {
                    @if let Some(v) = fields.get(spec.key).and_then(field_value) {
                        @if spec.key != "household" && spec.key != "deleted" {
                            tr { th { (spec.label) } td { (shown(spec, &v, &names)) } }
                        }
                    }
                }
                @for spec in HOUSEHOLD_FIELDS {
                    @if let Some(v) = hh_fields.get(spec.key).and_then(field_value) {
                        tr { th { "住户 · " (spec.label) } td {
                            (shown(spec, &v, &names))
                            @if spec.key == "owner_phone" {
                                " " a.btn href=(format!("/console/reveal/{}", text(&household["id"]))) { "查看完整号码" }
                            }
                        } }
                    }
                }
            }
        }
        h2 { "处理记录" }
        table.grid #events {
            thead { tr { th { "时间" } th { "操作" } th { "结果" } th { "操作人" } th { "角色" } th { "说明" } } }
            tbody {
                @for e in it["events"].as_array().into_iter().flatten() {
                    tr {
                        td { (text(&e["at"]).chars().take(16).collect::<String>()) }
                        td { (e["kind"].as_str().and_then(|k| EventKind::parse(k).ok()).map_or("?", EventKind::label)) }
                        td { (text(&e["to_state_label"])) }
                        td { (names.get(&text(&e["by_account"])).cloned().unwrap_or_else(|| "（未知账号）".into())) }
                        td { (e["role"].as_str().and_then(|r| pengwang_shared::role::Role::parse(r).ok()).map_or("", |r| r.label())) }
                        td {
                            (text(&e["note"]))
                            @if let Some(why) = e["invalid_reason"].as_str() { " " span.badge.bad title=(why) { "无效：" (pengwang_shared::lifecycle::reason_in_chinese(why)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&console, &title, body))
}

/// A field as a person reads it; the creator is named rather than shown as an account id.
fn shown(
    spec: &pengwang_shared::document::field::FieldSpec,
    v: &FieldValue,
    names: &BTreeMap<String, String>,
) -> String {
    match (spec.key, v) {
        ("created_by", FieldValue::Text(id)) => names
            .get(id)
            .cloned()
            .unwrap_or_else(|| "（未知账号）".into()),
        _ => spec.display(v),
    }
}

/// A projected field's JSON value as the field type it was written with.
fn field_value(v: &Value) -> Option<FieldValue> {
    match v {
        Value::Bool(b) => Some(FieldValue::Bool(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(FieldValue::Int)
            .or_else(|| n.as_f64().map(FieldValue::Real)),
        Value::String(s) => Some(FieldValue::Text(s.clone())),
        _ => None,
    }
}

/// Staff names by account id, for event histories (staff, not owners: not personal data of the
/// households).
fn account_names(conn: &Connection) -> Result<BTreeMap<String, String>, DbError> {
    let mut stmt = conn.prepare("SELECT id, name FROM account")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Thumbnails of photo entries (the ledger's `photos` list), each linking to the full photo.
pub fn photo_strip(photos: &[&Value]) -> Markup {
    html! {
        div.photos {
            @if photos.is_empty() { span.muted { "无" } }
            @for p in photos {
                @let hash = p["hash"].as_str().unwrap_or("");
                figure {
                    @if p["state"] == "stored" {
                        a href=(format!("/console/photos/{hash}")) target="_blank" {
                            img src=(format!("/console/photos/{hash}/thumbnail")) alt="隐患照片" loading="lazy";
                        }
                    } @else {
                        div.badge.bad { "照片未上传" }
                    }
                    figcaption { (p["taken_at"].as_str().or(p["at"].as_str()).unwrap_or("")) }
                }
            }
        }
    }
}

async fn photo(
    State(state): State<AppState>,
    console: Console,
    Path(hash): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::photos::serve(state, console.account.scope, &hash, Variant::Original).await?)
}

async fn thumbnail(
    State(state): State<AppState>,
    console: Console,
    Path(hash): Path<String>,
) -> Result<Response, PageError> {
    Ok(crate::photos::serve(state, console.account.scope, &hash, Variant::Thumbnail).await?)
}
