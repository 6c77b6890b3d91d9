//! `/console/conflicts` 冲突: the open conflicts in the user's scope and the forms that end them.
//!
//! - a **field conflict** shows every concurrent value side by side with who wrote it and when
//!   (owner names and phones masked); the supervisor picks one or writes a corrected value;
//! - a **tombstone conflict** (deleted on one phone, edited on another) is kept deleted or
//!   restored;
//! - a **lifecycle fork** shows each branch's events and photos; the supervisor chooses the
//!   branch's resulting state.
//!
//! A resolution is a form post handled by [`crate::resolve::resolve_as`], the same code as the
//! phones' `POST /v1/conflicts/resolve`: a document change, synced to every device in scope and
//! audited. The form names the conflict, not its values: the values (unmasked) are taken from
//! the stored conflict, so the page never carries a full phone number.

mod inbox;
mod resolution;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::document::field::{spec_of, FieldSpec};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::document::{BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS};
use pengwang_shared::role::Role;
use pengwang_shared::time::Timestamp;
use serde_json::Value;

use super::layout::{csrf_field, local_time, page};
use super::ledger::photo_strip;
use super::{Console, PageError};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/conflicts", get(inbox))
        .merge(resolution::routes())
}

/// Street checkers and above resolve; fire-rescue looks (read-only); field roles work on phones.
fn may_view(role: Role) -> bool {
    role.is_street() || role == Role::FireRescue
}

fn may_resolve(role: Role) -> bool {
    role.is_street()
}

fn refused() -> PageError {
    PageError(AppError::forbidden(
        "not_supervisor",
        "只有街道核查员、区县专班和市级专班可以处理冲突",
    ))
}

async fn inbox(State(state): State<AppState>, console: Console) -> Result<Markup, PageError> {
    if !may_view(console.account.role) {
        return Err(refused());
    }
    let scope = console.account.scope.clone();
    let list = state.db.read(move |c| inbox::rows(c, &scope)).await?;
    let body = html! {
        p.muted {
            "共 " (list.len()) " 个待处理的冲突（最早发现的在前）。两部手机离线时改了同一项、删除与修改同时发生、"
            "或处理流程出现分叉时，系统保留所有写法，由街道核查员以上人员裁定；裁定结果同步到所有设备。"
        }
        @if list.is_empty() { p id="no-conflicts" { "暂无待处理的冲突。" } }
        @for c in &list { (card(&console, c)) }
    };
    Ok(page(&console, "冲突", body))
}

fn record_of(detail: &Value) -> Option<RecordRef> {
    serde_json::from_value(detail["record"].clone()).ok()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The field specs of a record kind, and its name in field errors.
fn specs(record: Option<RecordRef>) -> (&'static [FieldSpec], &'static str) {
    match record {
        Some(RecordRef::Household(_)) => (HOUSEHOLD_FIELDS, "household"),
        Some(RecordRef::Item(_)) => (ITEM_FIELDS, "item"),
        _ => (BUILDING_FIELDS, "building"),
    }
}

fn label_of(record: Option<RecordRef>, key: &str) -> String {
    if key.starts_with("events/") {
        return "处理记录".to_owned();
    }
    let (fields, kind) = specs(record);
    spec_of(fields, kind, key).map_or_else(|_| key.to_owned(), |s| s.label.to_owned())
}

/// A written value as people read it: a choice by its label, 是/否, numbers and text.
fn shown(record: Option<RecordRef>, key: &str, v: &Value) -> String {
    if key.starts_with("events/") {
        return "新增一条处理记录".to_owned();
    }
    let value: FieldValue = serde_json::from_value(v.clone()).unwrap_or(FieldValue::Null);
    let (fields, kind) = specs(record);
    match (spec_of(fields, kind, key), &value) {
        (_, FieldValue::Null) => "（空）".to_owned(),
        (Ok(spec), _) => spec.display(&value),
        (Err(_), _) => value.to_string(),
    }
}

/// Who wrote a value: the account's name and role, from the writer's device (or the console).
fn writer(w: &Value) -> String {
    let who = &w["who"];
    match who["name"].as_str() {
        Some(name) => {
            let role = who["role"].as_str().and_then(|r| Role::parse(r).ok());
            let via = if who["device_id"].is_null() {
                "控制台"
            } else {
                "手机"
            };
            format!("{name}（{}，{via}）", role.map_or("", Role::label))
        }
        None => "未知设备".to_owned(),
    }
}

fn written_at(w: &Value) -> String {
    local_time(w["time"].as_i64().map(Timestamp))
}

fn card(console: &Console, c: &Value) -> Markup {
    let kind = c["kind"].as_str().unwrap_or("");
    let detail = &c["detail"];
    let record = record_of(detail);
    let title = match kind {
        "field" => format!(
            "填写不一致：{}",
            label_of(record, detail["key"].as_str().unwrap_or(""))
        ),
        "deleted" => "删除与修改同时发生".to_owned(),
        _ => "处理流程分叉".to_owned(),
    };
    let action = format!("/console/conflicts/{}/resolve", text(&c["doc_id"]));
    let form = Resolve {
        console,
        action: &action,
        conflict: &text(&c["key"]),
        writable: may_resolve(console.account.role),
    };
    html! {
        section.card.conflict id=(format!("conflict-{}", text(&c["key"]).replace('/', "-"))) {
            h2 { (title) }
            p {
                a href=(text(&c["link"])) { (text(&c["building"]["estate"])) " " (text(&c["building"]["number"])) " · " (text(&c["place"])) }
                " " span.muted { "发现于 " (text(&c["first_seen"])) }
            }
            @match kind {
                "field" => (field_conflict(&form, record, detail)),
                "deleted" => (deleted_conflict(&form, record, detail)),
                _ => (fork_conflict(&form, c)),
            }
        }
    }
}

/// What every resolution form of one conflict needs.
struct Resolve<'a> {
    console: &'a Console,
    action: &'a str,
    conflict: &'a str,
    writable: bool,
}

impl Resolve<'_> {
    /// A one-button form posting `fields` (plus the conflict and an optional note).
    fn button(&self, fields: &[(&str, &str)], label: &str, class: &str) -> Markup {
        if !self.writable {
            return html! {};
        }
        html! {
            form.inline method="post" action=(self.action) {
                (csrf_field(self.console))
                input type="hidden" name="conflict" value=(self.conflict);
                @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
                input type="text" name="note" placeholder="裁定说明（选填）";
                button type="submit" class=(class) { (label) }
            }
        }
    }
}

fn field_conflict(form: &Resolve<'_>, record: Option<RecordRef>, detail: &Value) -> Markup {
    let key = detail["key"].as_str().unwrap_or("");
    html! {
        div.side-by-side {
            @for w in detail["writes"].as_array().into_iter().flatten() {
                div.value {
                    div.big { (shown(record, key, &w["value"])) }
                    div { (writer(w)) }
                    div.muted { (written_at(w)) }
                    (form.button(&[("pick", w["actor"].as_str().unwrap_or(""))], "采用此值", "btn primary"))
                }
            }
        }
        @if form.writable {
            form.inline method="post" action=(form.action) {
                (csrf_field(form.console))
                input type="hidden" name="conflict" value=(form.conflict);
                input type="text" name="value" required placeholder="更正后的值";
                input type="text" name="note" placeholder="裁定说明（选填）";
                button.btn type="submit" { "改为填写的值" }
            }
        }
    }
}

fn deleted_conflict(form: &Resolve<'_>, record: Option<RecordRef>, detail: &Value) -> Markup {
    let by = &detail["deleted_by"];
    html! {
        div.side-by-side {
            div {
                h3 { "删除" }
                p { (writer(by)) } p.muted { (written_at(by)) }
                (form.button(&[("keep_deleted", "1")], "保持删除", "btn danger"))
            }
            div {
                h3 { "删除后（或同时）的修改" }
                table.grid {
                    thead { tr { th { "项目" } th { "新值" } th { "修改人" } th { "时间" } } }
                    tbody {
                        @for w in detail["edits"].as_array().into_iter().flatten() {
                            @let key = w["key"].as_str().unwrap_or("");
                            tr { td { (label_of(record, key)) } td { (shown(record, key, &w["value"])) } td { (writer(w)) } td { (written_at(w)) } }
                        }
                    }
                }
                (form.button(&[("keep_deleted", "0")], "恢复记录（保留修改）", "btn primary"))
            }
        }
    }
}

fn fork_conflict(form: &Resolve<'_>, c: &Value) -> Markup {
    html! {
        div.side-by-side {
            @for b in c["branches"].as_array().into_iter().flatten() {
                div.branch {
                    h3 { "分支：" (text(&b["state_label"])) }
                    table.grid {
                        thead { tr { th { "时间" } th { "操作" } th { "操作人" } th { "说明" } } }
                        tbody {
                            @for e in b["events"].as_array().into_iter().flatten() {
                                tr { td { (text(&e["at"])) } td { (text(&e["kind_label"])) } td { (text(&e["who"])) " " span.muted { (text(&e["role"])) } } td { (text(&e["note"])) } }
                            }
                        }
                    }
                    (photo_strip(&b["photos"].as_array().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default()))
                    (form.button(&[("to", b["state"].as_str().unwrap_or(""))], &format!("采用此分支：{}", text(&b["state_label"])), "btn primary"))
                }
            }
        }
    }
}
