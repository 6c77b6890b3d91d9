//! `/console/deadlines` 期限与逾期: the campaign deadlines, and per unit and per street the items
//! overdue in each phase, refusers awaiting transfer and transfers awaiting enforcement, then the
//! overdue items themselves (figures from [`crate::deadlines`]; the same as `GET /v1/deadlines`).

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::item::Category;

use super::layout::page;
use super::{Console, PageError};
use crate::deadlines::{self, DeadlineRow, Deadlines};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/deadlines", get(deadlines_page))
}

async fn deadlines_page(
    State(state): State<AppState>,
    console: Console,
) -> Result<Markup, PageError> {
    let now = state.now();
    let catalog = state.catalog.clone();
    let scope = console.account.scope.clone();
    let d = state
        .db
        .read(move |c| deadlines::compute(c, &catalog, &scope, now))
        .await?;
    Ok(page(&console, "期限与逾期", body(&d)))
}

fn body(d: &Deadlines) -> Markup {
    let s = &d.settings;
    html! {
        div.cards {
            div.card { h3 { "自行整改期限" } p { (s.self_remediation_deadline) } }
            div.card { h3 { "定点拆除期限" } p { (s.enforcement_deadline) } }
            div.card { h3 { "全部完成期限" } p { (s.completion_deadline) } }
            div.card { h3 { "月报报送日" } p { "每月 " (s.report_day) " 日" } }
            div.card { h3 { "今天" } p { (d.today) } }
        }
        h2 { "按填报单位" }
        (table("填报单位", &d.units))
        h2 { "按街道" }
        @if d.streets.is_empty() { p.muted { "范围内没有未完成的点位。" } }
        @else { (table("街道", &d.streets)) }
        h2 { "逾期点位" }
        @if d.overdue.is_empty() { p.muted { "没有逾期点位。" } }
        @else {
            @if d.overdue.len() as u32 >= deadlines::MAX_LISTED {
                p.muted { "只列出逾期最久的 " (deadlines::MAX_LISTED) " 个。" }
            }
            table.grid {
                thead { tr { th { "楼栋" } th { "类别" } th { "状态" } th { "阶段" } th { "期限" } th { "逾期天数" } } }
                tbody {
                    @for o in &d.overdue {
                        tr {
                            td { a href=(format!("/console/ledger/items/{}", o.id)) { (o.estate) (o.number) } }
                            td { (Category::parse(&o.category).map_or(o.category.as_str(), |c| c.label())) }
                            td { (o.state.label()) }
                            td { (o.phase.label()) }
                            td { (o.deadline) }
                            td { span.badge.warn { (o.days_overdue) " 天" } }
                        }
                    }
                }
            }
        }
    }
}

fn table(what: &str, rows: &[DeadlineRow]) -> Markup {
    html! {
        table.grid {
            thead { tr {
                th { (what) } th { "未完成" } th { "自行整改逾期" } th { "定点拆除逾期" }
                th { "拒改待移交" } th { "已移交待拆除" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        td { (r.name) }
                        td { (r.counts.open) }
                        td { (warn(r.counts.overdue_self_remediation)) }
                        td { (warn(r.counts.overdue_enforcement)) }
                        td { (r.counts.refused_awaiting_transfer) }
                        td { (r.counts.transferred_awaiting_enforcement) }
                    }
                }
            }
        }
    }
}

fn warn(n: u64) -> Markup {
    html! { @if n > 0 { span.badge.warn { (n) } } @else { (n) } }
}
