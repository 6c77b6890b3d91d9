//! `/console/duplicates` 疑似重复: buildings and households recorded twice, side by side, each
//! with forms to merge it into another record of its group ([`crate::merge`]: nothing is copied
//! or lost; the merged-away record points to the survivor and counts once, under it).

use axum::extract::State;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::id::{BuildingId, HouseholdId};
use serde::Deserialize;
use serde_json::Value;

use super::layout::{csrf_field, page};
use super::{Console, CsrfForm, PageError};
use crate::error::AppError;
use crate::merge;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/duplicates", get(list))
        .route("/console/duplicates/buildings", post(merge_buildings))
        .route("/console/duplicates/households", post(merge_households))
}

async fn list(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    let scope = console.account.scope.clone();
    let (buildings, households) = state
        .db
        .read(move |c| merge::open_duplicates(c, &scope))
        .await?;
    let may_merge = console.account.role.is_street();
    let body = html! {
        p.muted { "同一街道内小区、楼栋号（及单元、房号）相同的记录可能是两人重复登记。合并后被合并的记录指向保留的记录，其点位、事件和照片全部保留，只计一次。" }
        h2 { "疑似重复楼栋（" (buildings.len()) " 组）" }
        @if buildings.is_empty() { p.muted { "暂无。" } }
        @for g in &buildings { (group(&console, may_merge, "buildings", g, building_card)) }
        h2 { "疑似重复住户（" (households.len()) " 组）" }
        @if households.is_empty() { p.muted { "暂无。" } }
        @for g in &households { (group(&console, may_merge, "households", g, household_card)) }
    };
    Ok(page(&console, "疑似重复", body))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

fn building_card(r: &Value) -> Markup {
    html! {
        h3 { a href=(format!("/console/ledger/buildings/{}", text(&r["id"]))) { (text(&r["estate"])) (text(&r["number"])) } }
        dl {
            dt { "地址" } dd { (text(&r["address"])) }
            dt { "层数 / 高度" } dd { (text(&r["floors"])) " 层 / " (text(&r["height_m"])) " 米" }
            dt { "排查状态" } dd { (text(&r["survey_status"])) }
            dt { "住户 / 点位" } dd { (text(&r["households"])) " 户 / " (text(&r["items"])) " 个" }
            dt { "编号" } dd.muted { (text(&r["id"])) }
        }
    }
}

/// Owner name and phone arrive masked from the duplicate list.
fn household_card(r: &Value) -> Markup {
    html! {
        h3 { (text(&r["estate"])) (text(&r["number"])) " " (text(&r["stair_unit"])) "单元 " (text(&r["room"])) }
        dl {
            dt { "楼层" } dd { (text(&r["floor"])) }
            dt { "业主" } dd { (text(&r["owner_name"])) " " (text(&r["owner_phone"])) }
            dt { "排查结果" } dd { (text(&r["survey_result"])) }
            dt { "编号" } dd.muted { (text(&r["id"])) }
        }
    }
}

fn group(
    console: &Console,
    may_merge: bool,
    kind: &str,
    g: &Value,
    card: fn(&Value) -> Markup,
) -> Markup {
    let records = g["records"].as_array().cloned().unwrap_or_default();
    html! {
        section.card.duplicate-group {
            div.side-by-side {
                @for (i, r) in records.iter().enumerate() {
                    div {
                        p.badge { "记录 " (letter(i)) }
                        (card(r))
                        @if may_merge {
                            @for (j, s) in records.iter().enumerate().filter(|(j, _)| *j != i) {
                                form.inline method="post" action=(format!("/console/duplicates/{kind}")) {
                                    (csrf_field(console))
                                    input type="hidden" name="survivor" value=(text(&s["id"]));
                                    input type="hidden" name="merged" value=(text(&r["id"]));
                                    input type="text" name="note" placeholder="说明（选填）";
                                    button.btn.danger type="submit" { "本条并入记录 " (letter(j)) "（保留 " (letter(j)) "）" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Records of a group are named A, B, C … on the page.
fn letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

#[derive(Deserialize)]
struct MergeForm {
    survivor: String,
    merged: String,
    #[serde(default)]
    note: String,
}

fn bad_id(what: &str, v: &str) -> AppError {
    AppError::bad_request("invalid_id", format!("{what}编号无效：{v}"))
}

async fn merge_buildings(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<MergeForm>,
) -> Result<Redirect, PageError> {
    console.require_write()?;
    let survivor = BuildingId::parse(&form.survivor).map_err(|_| bad_id("楼栋", &form.survivor))?;
    let merged = BuildingId::parse(&form.merged).map_err(|_| bad_id("楼栋", &form.merged))?;
    let (now, account) = (state.now(), console.account.clone());
    state
        .db
        .write(move |c| merge::merge_buildings(c, &account, survivor, merged, &form.note, now))
        .await?;
    Ok(Redirect::to("/console/duplicates"))
}

async fn merge_households(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<MergeForm>,
) -> Result<Redirect, PageError> {
    console.require_write()?;
    let survivor =
        HouseholdId::parse(&form.survivor).map_err(|_| bad_id("住户", &form.survivor))?;
    let merged = HouseholdId::parse(&form.merged).map_err(|_| bad_id("住户", &form.merged))?;
    let (now, account) = (state.now(), console.account.clone());
    state
        .db
        .write(move |c| merge::merge_households(c, &account, survivor, merged, &form.note, now))
        .await?;
    Ok(Redirect::to("/console/duplicates"))
}
