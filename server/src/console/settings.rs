//! `/console/settings` 活动设置: the campaign settings (deadlines, report day and period,
//! persuasion attempts before a refusal, escape-opening thresholds). Everyone signed in may read
//! them; only the city changes them ([`crate::deadlines::change_settings`], audited).

use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::role::Role;
use pengwang_shared::settings::{CampaignSettings, EscapeThresholds, PeriodMode};
use pengwang_shared::time::parse_date;
use serde::Deserialize;

use super::layout::{csrf_field, page};
use super::{Console, CsrfForm, PageError};
use crate::error::AppError;
use crate::state::AppState;
use crate::{campaign, deadlines};

pub fn routes() -> Router<AppState> {
    Router::new().route("/console/settings", get(show).post(change))
}

async fn show(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    let now = state.now();
    let s = state.db.read(move |c| campaign::load(c, now)).await?;
    let city = console.account.role == Role::City;
    let body = html! {
        @if !city { p.muted { "活动设置由市级专班维护，此处仅供查看。" } }
        form.settings method="post" action="/console/settings" {
            (csrf_field(&console))
            fieldset disabled[!city] {
                legend { "活动年度 " (s.year) }
                input type="hidden" name="year" value=(s.year);
                (date("self_remediation_deadline", "自行整改期限", &s.self_remediation_deadline.to_string()))
                (date("enforcement_deadline", "定点拆除期限", &s.enforcement_deadline.to_string()))
                (date("completion_deadline", "全部完成期限", &s.completion_deadline.to_string()))
                label { "月报报送日（每月）" input type="number" name="report_day" min="1" max="28" value=(s.report_day); }
                label { "统计周期"
                    select name="period_mode" {
                        option value="report_day" selected[s.period_mode == PeriodMode::ReportDay] { "上月26日至本月报送日" }
                        option value="calendar_month" selected[s.period_mode == PeriodMode::CalendarMonth] { "自然月（次月报送日前报送）" }
                    }
                }
                label { "认定拒不整改前的劝导次数" input type="number" name="persuasion_attempts" min="1" max="20" value=(s.persuasion_attempts); }
                label { "逃生口最小宽度（米）" input type="number" step="0.01" name="min_width_m" value=(s.escape.min_width_m); }
                label { "逃生口最小高度（米）" input type="number" step="0.01" name="min_height_m" value=(s.escape.min_height_m); }
                label { "逃生口窗台最大高度（米）" input type="number" step="0.01" name="max_sill_m" value=(s.escape.max_sill_m); }
                @if city { button.btn.primary type="submit" { "保存设置" } }
            }
        }
        p.muted { "修改后各手机在下一次同步时收到新设置；每次修改都记入审计日志。" }
    };
    Ok(page(&console, "活动设置", body))
}

fn date(name: &str, label: &str, value: &str) -> Markup {
    html! { label { (label) input type="date" name=(name) required value=(value); } }
}

#[derive(Deserialize)]
struct SettingsForm {
    year: i32,
    self_remediation_deadline: String,
    enforcement_deadline: String,
    completion_deadline: String,
    report_day: u32,
    period_mode: String,
    persuasion_attempts: u32,
    min_width_m: f64,
    min_height_m: f64,
    max_sill_m: f64,
}

impl SettingsForm {
    fn parse(self) -> Result<CampaignSettings, AppError> {
        let day = |field: &'static str, v: &str| {
            parse_date(field, v)
                .map_err(|e| AppError::bad_request("invalid_settings", e.to_string()))
        };
        let period_mode = match self.period_mode.as_str() {
            "report_day" => PeriodMode::ReportDay,
            "calendar_month" => PeriodMode::CalendarMonth,
            other => {
                let msg = format!("未知的统计周期：{other}");
                return Err(AppError::bad_request("invalid_settings", msg));
            }
        };
        Ok(CampaignSettings {
            year: self.year,
            self_remediation_deadline: day(
                "self_remediation_deadline",
                &self.self_remediation_deadline,
            )?,
            enforcement_deadline: day("enforcement_deadline", &self.enforcement_deadline)?,
            completion_deadline: day("completion_deadline", &self.completion_deadline)?,
            report_day: self.report_day,
            period_mode,
            persuasion_attempts: self.persuasion_attempts,
            escape: EscapeThresholds {
                min_width_m: self.min_width_m,
                min_height_m: self.min_height_m,
                max_sill_m: self.max_sill_m,
            },
        })
    }
}

async fn change(
    State(state): State<AppState>,
    CsrfForm(console, form): CsrfForm<SettingsForm>,
) -> Result<Redirect, PageError> {
    console.require_write()?;
    let new = form.parse()?;
    let now = state.now();
    let account = console.account.clone();
    state
        .db
        .write(move |c| deadlines::change_settings(c, &account, &new, now))
        .await?;
    Ok(Redirect::to("/console/settings"))
}
