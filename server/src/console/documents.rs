//! A unit's work plan (工作方案, uploaded file) and monthly summaries (月度工作总结): read by the
//! city and the unit, handed in by the unit's lead. Every upload and save is a new version;
//! every download is audited.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::region::UnitCode;
use serde::Deserialize;

use super::contacts::{editable_unit, readable_unit};
use super::{layout, Console, CsrfForm, PageError};
use crate::audit::{self, Action};
use crate::campaign;
use crate::error::AppError;
use crate::export::download;
use crate::state::AppState;
use crate::unit_documents::{
    self as docs, NewUnitFile, Summary, SummaryForm, UnitFile, MAX_DOCUMENT_BYTES, SUMMARY_SECTIONS,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/documents/{unit}", get(page))
        .route(
            "/console/documents/{unit}/work-plan",
            post(upload).layer(DefaultBodyLimit::max(MAX_DOCUMENT_BYTES + 64 * 1024)),
        )
        .route("/console/documents/{unit}/summary", post(save_summary))
        .route("/console/documents/files/{id}", get(file))
}

#[derive(Deserialize, Default)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// `GET /console/documents/{unit}?month=YYYY-MM`.
async fn page(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
    Query(q): Query<MonthQuery>,
) -> Result<Markup, PageError> {
    let unit = readable_unit(&state.catalog, &console, &code)?;
    let (now, u2) = (state.now(), unit.clone());
    let (plans, summaries, month, latest) = state
        .db
        .read(move |c| {
            let settings = campaign::load(c, now)?;
            let latest = docs::current_month(&settings, now.local_date());
            let month = match q.month.as_str() {
                "" => latest,
                m => docs::parse_month(m)?,
            };
            let key = format!("{:04}-{:02}", month.0, month.1);
            let plans = docs::work_plans(c, &u2)?;
            let summaries = docs::summaries(c, &u2, &key)?;
            Ok::<_, AppError>((plans, summaries, key, latest))
        })
        .await?;
    let can_edit = crate::contacts::may_edit(&console.account, &unit);
    let ctx = PageCtx {
        console: &console,
        unit: &unit,
        can_edit,
    };
    let body = html! {
        p { a.btn href=(format!("/console/contacts/{unit}")) { "附件1 联系人回执" } " " a.btn href="/console/contacts" { "返回汇总" } }
        (work_plan_section(&ctx, &plans))
        (summary_section(&ctx, &month, latest, &summaries))
    };
    let name = layout::unit_name(&state.catalog, &unit);
    Ok(layout::page(
        &console,
        &format!("工作方案与月度总结 · {name}"),
        body,
    ))
}

struct PageCtx<'a> {
    console: &'a Console,
    unit: &'a UnitCode,
    can_edit: bool,
}

fn work_plan_section(ctx: &PageCtx<'_>, plans: &[UnitFile]) -> Markup {
    html! {
        h2 { "工作方案" span.muted { "（3 月 25 日前上传）" } }
        table.grid {
            thead { tr { th { "文件" } th.num { "大小" } th { "上传时间" } th { "" } } }
            tbody {
                @if plans.is_empty() { tr { td colspan="4" .muted { "尚未上传" } } }
                @for (i, f) in plans.iter().enumerate() {
                    tr {
                        td { a href=(format!("/console/documents/files/{}", f.id)) { (f.file_name) } }
                        td.num { (format!("{:.1} KB", f.bytes as f64 / 1024.0)) }
                        td { (layout::local_time(Some(f.uploaded_at))) }
                        td { @if i == 0 { span.badge.ok { "当前版本" } } @else { span.muted { "历史版本" } } }
                    }
                }
            }
        }
        @if ctx.can_edit {
            form.stack method="post" enctype="multipart/form-data" action=(format!("/console/documents/{}/work-plan", ctx.unit)) {
                (layout::csrf_field(ctx.console))
                label { "上传新版本（pdf、doc、docx、xls、xlsx、wps、jpg、png，不超过 20 MB）"
                    input type="file" name="file" required accept=".pdf,.doc,.docx,.xls,.xlsx,.wps,.jpg,.jpeg,.png"; }
                button.btn.primary type="submit" { "上传" }
            }
        }
    }
}

fn summary_section(
    ctx: &PageCtx<'_>,
    month: &str,
    latest: (i32, u32),
    versions: &[Summary],
) -> Markup {
    let current = versions.first();
    html! {
        h2 { (month) " 月度工作总结" span.muted { "（每月报告日前提交）" } }
        form.filters method="get" action=(format!("/console/documents/{}", ctx.unit)) {
            label { "月份" input type="month" name="month" value=(month); }
            button.btn type="submit" { "查看" }
        }
        @match current {
            Some(s) => {
                p.muted { "当前版本保存于 " (layout::local_time(Some(s.saved_at))) "，共 " (versions.len()) " 个版本。" }
                @for (label, text) in SUMMARY_SECTIONS.iter().zip(&s.sections) {
                    h3 { (label) } p.summary-text { (text) }
                }
            }
            None => p.muted { "本月总结尚未提交。" }
        }
        @if ctx.can_edit && month <= format!("{:04}-{:02}", latest.0, latest.1).as_str() {
            details open[current.is_none()] {
                summary { @if current.is_some() { "修改（保存为新版本）" } @else { "填写本月总结" } }
                form.stack method="post" action=(format!("/console/documents/{}/summary", ctx.unit)) {
                    (layout::csrf_field(ctx.console))
                    input type="hidden" name="month" value=(month);
                    @for (i, (name, label)) in ["progress", "practices", "problems", "next_steps"].iter().zip(SUMMARY_SECTIONS).enumerate() {
                        label { (label)
                            textarea name=(name) required rows="5" { (current.map_or("", |s| s.sections[i].as_str())) }
                        }
                    }
                    button.btn.primary type="submit" { "保存" }
                }
            }
        }
    }
}

/// `POST /console/documents/{unit}/work-plan` (multipart: `_csrf`, `file`).
async fn upload(
    State(state): State<AppState>,
    console: Console,
    Path(code): Path<String>,
    mut form: Multipart,
) -> Result<Redirect, PageError> {
    let mut csrf = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("_csrf") => csrf = field.text().await.map_err(multipart_error)?,
            Some("file") => {
                let name = docs::clean_file_name(field.file_name().unwrap_or(""));
                let bytes = field.bytes().await.map_err(multipart_error)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    console.check_csrf(&csrf)?;
    let unit = editable_unit(&state.catalog, &console, &code)?;
    let Some((name, bytes)) = file.filter(|(n, _)| !n.is_empty()) else {
        return Err(AppError::bad_request("invalid_document", "请选择要上传的文件").into());
    };
    let ext = docs::check_file(&name, &bytes)?;
    let dir = docs::document_dir(&state.config);
    let sha = tokio::task::spawn_blocking(move || {
        docs::store_file(&dir, &bytes).map(|h| (h, bytes.len()))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    state
        .db
        .write(move |c| {
            let new = NewUnitFile {
                file_name: &name,
                extension: ext,
                bytes: sha.1,
                sha256: &sha.0,
            };
            docs::add_work_plan(c, &u2, &new, actor, now)
        })
        .await?;
    Ok(Redirect::to(&format!("/console/documents/{unit}")))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> PageError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge(format!(
            "文件超过 {} MB 的上限，请压缩或拆分后再上传",
            MAX_DOCUMENT_BYTES / 1_048_576
        ))
        .into()
    } else {
        AppError::bad_request(
            "invalid_upload",
            format!("上传的表单无法读取：{}", e.body_text()),
        )
        .into()
    }
}

/// `POST /console/documents/{unit}/summary`: saves a new version of a month's summary.
async fn save_summary(
    State(state): State<AppState>,
    Path(code): Path<String>,
    CsrfForm(console, form): CsrfForm<SummaryForm>,
) -> Result<Redirect, PageError> {
    let unit = editable_unit(&state.catalog, &console, &code)?;
    let (now, actor, u2) = (state.now(), console.account.id, unit.clone());
    let month = state
        .db
        .write(move |c| {
            let settings = campaign::load(c, now)?;
            let latest = docs::current_month(&settings, now.local_date());
            let (month, sections) = form.parse(latest)?;
            docs::save_summary(c, &u2, &month, &sections, actor, now)?;
            Ok::<_, AppError>(month)
        })
        .await?;
    Ok(Redirect::to(&format!(
        "/console/documents/{unit}?month={month}"
    )))
}

/// `GET /console/documents/files/{id}`: an uploaded file, to readers of its unit; audited.
async fn file(
    State(state): State<AppState>,
    console: Console,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let f = state.db.read(move |c| docs::file(c, id)).await?;
    let unit = readable_unit(&state.catalog, &console, &f.unit)?;
    let path = docs::file_path(&docs::document_dir(&state.config), &f.sha256);
    let sha = f.sha256.clone();
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(&path))
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::internal(format!("document file {sha} unreadable: {e}")))?;
    let target = format!("unit/{unit}/work_plan/{}", f.id);
    let (actor, unit_code) = (console.account.id, unit.to_string());
    audit::record_read(
        &state,
        actor,
        Action::DocumentDownload,
        target,
        String::new(),
        Some(unit_code),
    )
    .await?;
    Ok(download(
        bytes,
        docs::content_type(&f.extension),
        &f.file_name,
    ))
}
