//! `/console/reports`: 附件2 for a month. A unit's lead reviews the table, freezes it and
//! submits it; the city sees every unit as 已提交 / 未提交 with the city total and may unfreeze a
//! unit's table with a reason. Beside the official columns: owner-claimed completions awaiting
//! verification (待核验, never counted), 本月反弹 and why a rate fell since the last cut-off.

use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::region::UnitCode;
use pengwang_shared::report::{CategoryCells, Movement, ReportRow};
use pengwang_shared::role::Role;
use pengwang_shared::settings::PeriodMode;
use serde::Deserialize;

use super::layout::{csrf_field, local_time, page, unit_name};
use super::{encode_query, Console, CsrfForm, PageError};
use crate::campaign;
use crate::error::AppError;
use crate::report::{self, MonthTable, SubmissionAction, COLUMNS, GROUPS};
use crate::state::AppState;
use crate::submission::{Month, Status, Submission};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/reports", get(reports_page))
        .route("/console/reports/freeze", post(freeze))
        .route("/console/reports/submit", post(submit))
        .route("/console/reports/unfreeze", post(unfreeze))
}

#[derive(Debug, Default, Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

/// The month shown by default: the report due next (report-day periods), or last month's
/// (calendar months are reported in the month after).
async fn default_month(state: &AppState) -> Result<Month, AppError> {
    let now = state.now();
    let settings = state.db.read(move |c| campaign::load(c, now)).await?;
    let p = settings.period_containing(now).ok_or_else(|| {
        AppError::bad_request("invalid_month", "当前时间没有统计期间，请选择月份")
    })?;
    let this = Month {
        year: p.year,
        month: p.month,
    };
    Ok(match settings.period_mode {
        PeriodMode::ReportDay => this,
        PeriodMode::CalendarMonth => this.previous(),
    })
}

async fn reports_page(
    State(state): State<AppState>,
    console: Console,
    Query(q): Query<MonthQuery>,
) -> Result<maud::Markup, PageError> {
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m)?,
        None => default_month(&state).await?,
    };
    let title = format!("附件2月报 · {month}");
    if !covers_a_unit(&console) {
        let body = html! {
            p.muted { "附件2 按填报单位（区县、管委会）统计。你的账号范围是" (console.scope_label) "，请查看台账与核验队列；月报由区县牵头部门冻结、提交。" }
        };
        return Ok(page(&console, &title, body));
    }
    let account = &console.account;
    let table = report::load_table(&state, account, month, None).await?;
    let before = report::load_table(&state, account, month.previous(), None).await?;
    Ok(page(
        &console,
        &title,
        body(&state, &console, month, &table, &before),
    ))
}

fn covers_a_unit(console: &Console) -> bool {
    matches!(
        console.account.scope,
        pengwang_shared::role::Scope::City | pengwang_shared::role::Scope::Unit { .. }
    )
}

fn body(
    state: &AppState,
    console: &Console,
    month: Month,
    table: &MonthTable,
    before: &MonthTable,
) -> Markup {
    let (first, last) = report::period_days(&table.report.period);
    let submitted = table
        .submissions
        .iter()
        .flatten()
        .filter(|s| s.status == Status::Submitted)
        .count();
    let units = table.report.rows.len();
    let q = format!("month={month}");
    html! {
        form.filters method="get" action="/console/reports" {
            label { "月份" input type="month" name="month" value=(month.to_string()); }
            button.btn type="submit" { "查看" }
            a.btn href={ "/console/reports/attachment2.xlsx?" (q) } { "下载 XLSX" }
            a.btn href={ "/console/reports/attachment2.csv?" (q) } { "下载 CSV" }
        }
        p.muted {
            "统计期间：" (first) " 至 " (last) "。"
            @if units > 1 { "已提交 " strong { (submitted) } " / " (units) " 个填报单位；" }
            "待核验（业主自报已整改、未复核销号）单列，不计入正式统计列。"
        }
        @for note in table.period_notes(&state.catalog) { p.notice.period-note { (note) } }
        (official_table(state, console, month, table))
        h2 { "待核验、本月反弹与整改率变化" }
        (movement_table(state, table, before))
    }
}

fn official_table(state: &AppState, console: &Console, month: Month, t: &MonthTable) -> Markup {
    let rows = t.report.rows.iter().zip(&t.submissions);
    html! {
        table.grid.attachment2 {
            thead {
                tr {
                    th rowspan="2" { "序号" }
                    th rowspan="2" { "填报单位" }
                    @for (_, name) in GROUPS { th colspan="5" { (name) } }
                    th rowspan="2" { "状态" }
                    th rowspan="2" { "操作" }
                }
                tr { @for _ in GROUPS { @for c in COLUMNS { th { (c) } } } }
            }
            tbody {
                @for (n, ((unit, row), s)) in rows.enumerate() {
                    tr {
                        td { (n + 1) }
                        td { (unit_name(&state.catalog, unit)) }
                        (cells(row))
                        td { (status_badge(s.as_ref())) }
                        td { (actions(console, unit, month, s.as_ref())) }
                    }
                }
                tr.total {
                    td colspan="2" { strong { "合计" } }
                    (cells(&t.report.total))
                    td {} td {}
                }
            }
        }
    }
}

fn cells(row: &ReportRow) -> Markup {
    html! {
        @for (category, _) in GROUPS {
            @let c = row.cells(category);
            td.num { (c.buildings) }
            td.num { (c.households) }
            td.num { (c.completed_in_period) }
            td.num { (c.completed_total) }
            td.num { (c.rate_text()) }
        }
    }
}

fn status_badge(s: Option<&Submission>) -> Markup {
    let status = s.map_or(Status::Open, |s| s.status);
    let class = match status {
        Status::Submitted => "badge ok",
        Status::Frozen => "badge",
        Status::Open => "badge warn",
    };
    html! {
        span class=(class) { (status.label()) }
        @if let Some(s) = s {
            @if let Some(at) = s.submitted_at.or(s.frozen_at) {
                br; span.muted { (local_time(Some(at))) }
            }
            @if let (Status::Open, Some(reason)) = (status, &s.unfreeze_reason) {
                br; span.muted { "已解冻：" (reason) }
            }
        }
    }
}

/// The buttons the user may press for this unit's month.
fn actions(console: &Console, unit: &UnitCode, month: Month, s: Option<&Submission>) -> Markup {
    let account = &console.account;
    let status = s.map_or(Status::Open, |s| s.status);
    let lead = account.role == Role::UnitLead && account.scope.covers_unit(unit);
    let city = account.role == Role::City;
    html! {
        @if lead && status == Status::Open {
            (step_form(console, "/console/reports/freeze", unit, month, "冻结", "btn"))
        }
        @if lead && status == Status::Frozen {
            (step_form(console, "/console/reports/submit", unit, month, "提交", "btn primary"))
        }
        @if city && status.is_frozen() {
            form.inline method="post" action="/console/reports/unfreeze" {
                (csrf_field(console))
                input type="hidden" name="unit" value=(unit.as_str());
                input type="hidden" name="month" value=(month.to_string());
                input type="text" name="reason" required placeholder="解冻原因" maxlength="500";
                button.btn.danger type="submit" { "解冻" }
            }
        }
        a href={ "/console/reports/attachment2.xlsx?month=" (month) "&unit=" (encode_query(unit.as_str())) } { "XLSX" }
    }
}

fn step_form(
    console: &Console,
    action: &str,
    unit: &UnitCode,
    month: Month,
    label: &str,
    class: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(console))
            input type="hidden" name="unit" value=(unit.as_str());
            input type="hidden" name="month" value=(month.to_string());
            button type="submit" class=(class) { (label) }
        }
    }
}

fn movement_table(state: &AppState, now: &MonthTable, before: &MonthTable) -> Markup {
    let rows = now.report.rows.iter().zip(&before.report.rows);
    html! {
        table.grid {
            thead {
                tr {
                    th { "填报单位" } th { "类别" } th { "待核验(户)" } th { "上期累计" }
                    th { "本月完成" } th { "本月反弹" } th { "本期累计" } th { "核对" }
                    th { "整改率变化" } th { "整改率下降原因" }
                }
            }
            tbody {
                @for ((unit, row), (_, prev)) in rows {
                    @for (category, label) in GROUPS {
                        @let c = row.cells(category);
                        @if c.households > 0 || prev.cells(category).households > 0 {
                            (movement_row(&unit_name(&state.catalog, unit), label, c, prev.cells(category)))
                        }
                    }
                }
            }
        }
    }
}

fn movement_row(unit: &str, label: &str, c: &CategoryCells, prev: &CategoryCells) -> Markup {
    let m = Movement::between(prev, c);
    let rate =
        |r: Option<u64>| r.map_or("—".to_owned(), |c| format!("{}.{:02}", c / 100, c % 100));
    let r = c.rebound;
    html! {
        tr {
            td { (unit) } td { (label) }
            td.num { (c.pending_verify) }
            td.num { (m.completed_before) }
            td.num { (m.completed_in_period) }
            td.num {
                (r.total())
                @if r.total() > 0 {
                    br; span.muted { "复发 " (r.reopened) "，新增隐患 " (r.new_item) "，移出 " (r.removed) }
                }
            }
            td.num { (m.completed_now) }
            td { @if m.balances() { span.badge.ok { "✓ 平衡" } } @else { span.badge.warn { "与上期不衔接" } } }
            td { (rate(m.rate_before)) " → " (rate(m.rate_now)) }
            td { @for reason in m.reasons() { div { (reason) } } }
        }
    }
}

#[derive(Debug, Deserialize)]
struct StepForm {
    unit: String,
    month: String,
    #[serde(default)]
    reason: String,
}

async fn step(
    state: &AppState,
    console: &Console,
    form: StepForm,
    action: SubmissionAction,
) -> Result<Redirect, PageError> {
    console.require_write()?;
    let unit = UnitCode::parse(&form.unit)
        .map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
    let month = Month::parse(&form.month)?;
    report::change_submission(state, &console.account, &unit, month, action).await?;
    Ok(Redirect::to(&format!("/console/reports?month={month}")))
}

async fn freeze(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<StepForm>,
) -> Result<Redirect, PageError> {
    step(&state, &console, form, SubmissionAction::Freeze).await
}

async fn submit(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<StepForm>,
) -> Result<Redirect, PageError> {
    step(&state, &console, form, SubmissionAction::Submit).await
}

async fn unfreeze(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<StepForm>,
) -> Result<Redirect, PageError> {
    let reason = form.reason.clone();
    step(
        &state,
        &console,
        form,
        SubmissionAction::Unfreeze { reason },
    )
    .await
}
