//! 附件1与材料: the city's (or a unit's) table of what each reporting unit has handed in
//! against its due date, and the 附件1 contact sheet of one unit — edited by its lead, shown
//! with phones masked, exported as XLSX (masked), a full number revealed only by an audited post.
//! The work plan and monthly summary pages are in [`super::documents`].

use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::region::{RegionCatalog, UnitCode};
use pengwang_shared::role::Role;
use serde::Deserialize;

use super::{layout, Console, CsrfForm, NoFields, PageError};
use crate::audit::{self, Action, NewAudit};
use crate::campaign;
use crate::contacts::{self, Contact, ContactForm, CATEGORIES, HEADER};
use crate::error::AppError;
use crate::export::{self, download, XLSX};
use crate::state::AppState;
use crate::unit_documents::{self, Standing, UnitStanding};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/contacts", get(overview))
        .route("/console/contacts/{unit}", get(sheet).post(add))
        .route("/console/contacts/{unit}/attachment1.xlsx", get(export))
        .route("/console/contacts/{unit}/{id}", post(edit))
        .route("/console/contacts/{unit}/{id}/remove", post(remove))
        .route("/console/contacts/{unit}/{id}/phone", post(reveal))
}

/// The unit `code` if the user may read its documents: the city, the unit's lead, or
/// fire-rescue over it.
pub fn readable_unit(
    catalog: &RegionCatalog,
    console: &Console,
    code: &str,
) -> Result<UnitCode, AppError> {
    let unit =
        UnitCode::parse(code).map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
    if catalog.unit(&unit).is_none() {
        return Err(AppError::not_found(
            "unit_not_found",
            format!("没有填报单位 {unit}"),
        ));
    }
    if !console.account.scope.covers_unit(&unit) {
        return Err(AppError::forbidden(
            "out_of_scope",
            format!("填报单位 {unit} 不在您的管辖范围内"),
        ));
    }
    Ok(unit)
}

/// The unit `code` if the user is its lead (the one who keeps its documents).
pub fn editable_unit(
    catalog: &RegionCatalog,
    console: &Console,
    code: &str,
) -> Result<UnitCode, AppError> {
    let unit = readable_unit(catalog, console, code)?;
    if !contacts::may_edit(&console.account, &unit) {
        return Err(AppError::forbidden(
            "not_unit_lead",
            "附件1、工作方案和月度总结由本区县牵头部门账号填报，其他账号只能查看",
        ));
    }
    Ok(unit)
}

#[derive(Deserialize, Default)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

fn standing_badge(s: Standing) -> Markup {
    let class = match s {
        Standing::Submitted { late: false, .. } => "badge ok",
        Standing::Submitted { late: true, .. } => "badge warn",
        Standing::Pending => "badge",
        Standing::Overdue => "badge bad",
    };
    html! {
        span class=(class) { (s.label()) }
        @if let Standing::Submitted { at, .. } = s { " " span.muted { (layout::local_time(Some(at))) } }
    }
}

/// `GET /console/contacts`: units × {附件1, 工作方案, 本月总结} with 已交/未交/逾期.
async fn overview(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<MonthQuery>,
) -> Result<Markup, PageError> {
    let units: Vec<UnitCode> = state
        .catalog
        .units
        .iter()
        .filter(|u| console.account.scope.covers_unit(&u.code))
        .map(|u| u.code.clone())
        .collect();
    if units.is_empty() {
        return Err(AppError::forbidden(
            "out_of_scope",
            "附件1与材料按填报单位查看，需要区县或市级账号",
        )
        .into());
    }
    let now = state.now();
    let (settings, rows, month) = state
        .db
        .read(move |c| {
            let settings = campaign::load(c, now)?;
            let month = match q.month.as_str() {
                "" => unit_documents::current_month(&settings, now.local_date()),
                m => unit_documents::parse_month(m)?,
            };
            let rows = unit_documents::standings(c, &units, &settings, month, now.local_date())?;
            Ok::<_, AppError>((settings, rows, month))
        })
        .await?;
    let due = unit_documents::DueDates::of(&settings, month.0, month.1);
    let body = overview_body(&state.catalog, &rows, month, due);
    Ok(layout::page(&console, "附件1与材料", body))
}

fn overview_body(
    catalog: &RegionCatalog,
    rows: &[UnitStanding],
    (year, month): (i32, u32),
    due: Option<unit_documents::DueDates>,
) -> Markup {
    let missing = |f: fn(&UnitStanding) -> Standing| {
        rows.iter()
            .filter(|r| !matches!(f(r), Standing::Submitted { .. }))
            .count()
    };
    html! {
        form.filters method="get" action="/console/contacts" {
            label { "月份" input type="month" name="month" value=(format!("{year:04}-{month:02}")); }
            button.btn type="submit" { "查看" }
        }
        @if let Some(d) = due {
            p.muted {
                "截止日期：附件1 " (d.contacts) "，工作方案 " (d.work_plan) "，" (month) "月总结 " (d.summary)
                "。未交合计：附件1 " (missing(|r| r.contacts)) " 个，工作方案 " (missing(|r| r.work_plan))
                " 个，月度总结 " (missing(|r| r.summary)) " 个。"
            }
        }
        table.grid {
            thead { tr { th { "填报单位" } th { "附件1 联系人回执" } th { "工作方案" } th { (month) "月工作总结" } th { "" } } }
            tbody {
                @for r in rows {
                    tr {
                        td { (layout::unit_name(catalog, &r.unit)) }
                        td { (standing_badge(r.contacts)) }
                        td { (standing_badge(r.work_plan)) }
                        td { (standing_badge(r.summary)) }
                        td {
                            a href=(format!("/console/contacts/{}", r.unit)) { "附件1" } " · "
                            a href=(format!("/console/documents/{}?month={year:04}-{month:02}", r.unit)) { "方案与总结" }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/contacts/{unit}`: the sheet, masked, with forms for the unit's lead.
async fn sheet(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
) -> Result<Markup, PageError> {
    let unit = readable_unit(&state.catalog, &console, &code)?;
    let u2 = unit.clone();
    let list = state
        .db
        .read(move |c| contacts::list(c, &u2).map_err(AppError::from))
        .await?;
    let can_edit = contacts::may_edit(&console.account, &unit);
    let name = layout::unit_name(&state.catalog, &unit);
    let body = sheet_body(&console, &unit, &list, can_edit);
    Ok(layout::page(
        &console,
        &format!("附件1 联系人回执 · {name}"),
        body,
    ))
}

fn sheet_body(console: &Console, unit: &UnitCode, list: &[Contact], can_edit: bool) -> Markup {
    let may_reveal = matches!(console.account.role, Role::City | Role::UnitLead);
    html! {
        p {
            a.btn href=(format!("/console/contacts/{unit}/attachment1.xlsx")) { "导出 XLSX（手机号码已脱敏）" } " "
            a.btn href=(format!("/console/documents/{unit}")) { "工作方案与月度总结" } " "
            a.btn href="/console/contacts" { "返回汇总" }
        }
        p.muted { "截止日期 3 月 15 日。手机号码在列表和导出中均脱敏显示；查看完整号码会记入审计日志。" }
        datalist #contact-categories { @for c in CATEGORIES { option value=(c) {} } }
        table.grid {
            thead { tr { @for h in HEADER { th { (h) } } th { "" } } }
            tbody {
                @if list.is_empty() { tr { td colspan="6" .muted { "尚未填报" } } }
                @for c in list {
                    tr {
                        td { (c.category) } td { (c.name) } td { (c.organization) }
                        td {
                            (c.masked_phone())
                            @if may_reveal {
                                form.inline method="post" action=(format!("/console/contacts/{unit}/{}/phone", c.id)) {
                                    (layout::csrf_field(console))
                                    button.btn type="submit" title="查看完整号码（将记入审计日志）" { "查看" }
                                }
                            }
                        }
                        td { (c.note) }
                        td {
                            @if can_edit {
                                details {
                                    summary { "修改" }
                                    (contact_form(console, &format!("/console/contacts/{unit}/{}", c.id), Some(c)))
                                }
                                form.inline method="post" action=(format!("/console/contacts/{unit}/{}/remove", c.id)) {
                                    (layout::csrf_field(console))
                                    button.btn.danger type="submit" { "删除" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if can_edit {
            h2 { "添加联系人" }
            (contact_form(console, &format!("/console/contacts/{unit}"), None))
        }
    }
}

fn contact_form(console: &Console, action: &str, c: Option<&Contact>) -> Markup {
    let v = |f: fn(&Contact) -> &str| c.map_or("", f);
    html! {
        form.stack method="post" action=(action) {
            (layout::csrf_field(console))
            label { "类别" input name="category" list="contact-categories" required value=(v(|c| &c.category)); }
            label { "姓名" input name="name" required maxlength="20" value=(v(|c| &c.name)); }
            label { "单位及职务" input name="organization" required maxlength="60" value=(v(|c| &c.organization)); }
            @match c {
                Some(c) => label { "手机号码（不改请留空，现为 " (c.masked_phone()) "）" input name="phone" inputmode="numeric" maxlength="13"; }
                None => label { "手机号码" input name="phone" inputmode="numeric" maxlength="13" required; }
            }
            label { "备注" input name="note" maxlength="200" value=(v(|c| &c.note)); }
            button.btn.primary type="submit" { @if c.is_some() { "保存修改" } @else { "添加" } }
        }
    }
}

fn back_to_sheet(unit: &UnitCode) -> Redirect {
    Redirect::to(&format!("/console/contacts/{unit}"))
}

/// `POST /console/contacts/{unit}`: adds a row.
async fn add(
    State(state): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(console, form): CsrfForm<ContactForm>,
) -> Result<Redirect, PageError> {
    let unit = editable_unit(&state.catalog, &console, &code)?;
    let new = form.parse(None)?;
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    state
        .db
        .write(move |c| contacts::add(c, &u2, &new, actor, now))
        .await?;
    Ok(back_to_sheet(&unit))
}

/// `POST /console/contacts/{unit}/{id}`: replaces a row (an empty phone keeps the number).
async fn edit(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(console, form): CsrfForm<ContactForm>,
) -> Result<Redirect, PageError> {
    let unit = editable_unit(&state.catalog, &console, &code)?;
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    state
        .db
        .write(move |c| contacts::replace(c, &u2, id, &form, actor, now))
        .await?;
    Ok(back_to_sheet(&unit))
}

/// `POST /console/contacts/{unit}/{id}/remove`.
async fn remove(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Redirect, PageError> {
    let unit = editable_unit(&state.catalog, &console, &code)?;
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    state
        .db
        .write(move |c| contacts::remove(c, &u2, id, actor, now))
        .await?;
    Ok(back_to_sheet(&unit))
}

/// `POST /console/contacts/{unit}/{id}/phone`: one contact's full number, audited. The city and
/// the unit's lead only (they are the ones who call a liaison).
async fn reveal(
    State(state): State<AppState>,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(console, NoFields {}): CsrfForm<NoFields>,
) -> Result<Markup, PageError> {
    let unit = readable_unit(&state.catalog, &console, &code)?;
    if !matches!(console.account.role, Role::City | Role::UnitLead) {
        return Err(AppError::forbidden(
            "reveal_not_allowed",
            "只有市级专班和区县牵头部门可以查看完整号码",
        )
        .into());
    }
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    let phone = state
        .db
        .write(move |c| contacts::reveal_phone(c, &u2, id, actor, now))
        .await?;
    let body = html! {
        p.revealed-phone { "手机号码：" strong { (phone) } }
        p.muted { "本次查看已记入审计日志。" }
        p { a.btn href=(format!("/console/contacts/{unit}")) { "返回附件1" } }
    };
    Ok(layout::page(&console, "查看完整手机号码", body))
}

/// `GET /console/contacts/{unit}/attachment1.xlsx`: the sheet as XLSX, masked, audited.
async fn export(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let unit = readable_unit(&state.catalog, &console, &code)?;
    let name = layout::unit_name(&state.catalog, &unit);
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    let list = state
        .db
        .write(move |c| {
            let list = contacts::list(c, &u2)?;
            let target = format!("attachment1/{u2}");
            let detail = format!("xlsx, {} rows, phones masked", list.len());
            let row = NewAudit {
                at: now,
                actor: Some(actor),
                action: Action::ReportExport,
                target: &target,
                detail: &detail,
            };
            audit::record_in_unit(c, &row, u2.as_str())?;
            Ok::<_, AppError>(list)
        })
        .await?;
    let bytes = contacts::xlsx(&name, &list).map_err(export::failed)?;
    Ok(download(bytes, XLSX, &format!("附件1-{name}.xlsx")))
}
