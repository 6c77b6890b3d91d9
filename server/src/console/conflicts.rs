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

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use pengwang_shared::document::field::{spec_of, FieldSpec, Rule};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::document::{BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS};
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::id::BuildingId;
use pengwang_shared::item::Category;
use pengwang_shared::protocol::{Resolution, ResolveRequest};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};

use super::layout::{csrf_field, local_time, page};
use super::ledger::photo_strip;
use super::{Console, CsrfForm, PageError};
use crate::db::DbError;
use crate::error::AppError;
use crate::state::AppState;
use crate::{conflicts, photos, scope};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/conflicts", get(inbox))
        .route("/console/conflicts/{doc}/resolve", post(resolve))
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
    let list = state.db.read(move |c| inbox_rows(c, &scope)).await?;
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

/// The open conflicts in scope (writes annotated with who, personal values masked), each with
/// the record it is about (`place`, `link`) and, for a fork, its branches' events and photos.
fn inbox_rows(conn: &Connection, scope: &Scope) -> Result<Vec<Value>, AppError> {
    let mut list = conflicts::open_conflicts(conn, scope)?;
    let names = account_names(conn)?;
    for c in &mut list {
        let doc = c["doc_id"].as_str().unwrap_or_default().to_owned();
        let record = record_of(&c["detail"]);
        let (place, link) = describe(conn, &doc, record)?;
        c["place"] = json!(place);
        c["link"] = json!(link);
        if let (Some(RecordRef::Item(item)), "fork") = (record, c["kind"].as_str().unwrap_or("")) {
            let branches = fork_branches(conn, &doc, &item.to_string(), &c["detail"], &names)?;
            c["branches"] = Value::Array(branches);
        }
    }
    Ok(list)
}

fn record_of(detail: &Value) -> Option<RecordRef> {
    serde_json::from_value(detail["record"].clone()).ok()
}

/// The record in words and its ledger page.
fn describe(
    conn: &Connection,
    doc: &str,
    record: Option<RecordRef>,
) -> Result<(String, String), DbError> {
    let building_page = format!("/console/ledger/buildings/{doc}");
    let household = |id: &str| -> Result<String, DbError> {
        let room = conn
            .query_row(
                "SELECT stair_unit, room FROM p_household WHERE id = ?1",
                [id],
                |r| {
                    Ok(format!(
                        "{}单元 {}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?
                    ))
                },
            )
            .optional()?;
        Ok(room.unwrap_or_else(|| "住户".to_owned()))
    };
    Ok(match record {
        Some(RecordRef::Household(h)) => {
            let h = h.to_string();
            (
                format!("住户 {}", household(&h)?),
                format!("{building_page}#household-{h}"),
            )
        }
        Some(RecordRef::Item(i)) => {
            let i = i.to_string();
            let found: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT category, household_id FROM p_item WHERE id = ?1",
                    [&i],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (category, hh) = found.unwrap_or_default();
            let category = Category::parse(&category).map_or("隐患", Category::label);
            let whose = match hh {
                Some(h) => household(&h)?,
                None => "公共部位".to_owned(),
            };
            (
                format!("{category} · {whose}"),
                format!("/console/ledger/items/{i}"),
            )
        }
        _ => ("楼栋信息".to_owned(), building_page),
    })
}

/// Staff by account id: (name, role).
fn account_names(conn: &Connection) -> Result<BTreeMap<String, (String, String)>, DbError> {
    let mut stmt = conn.prepare("SELECT id, name, role FROM account")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One projected event of a forked item.
struct EventRow {
    id: String,
    kind: String,
    at: i64,
    by: String,
    role: String,
    note: String,
    prev: Vec<String>,
}

/// Each branch of a fork: its state and the events since the branches parted (those not shared
/// by every branch), oldest first, with who, when, note and photos.
fn fork_branches(
    conn: &Connection,
    doc: &str,
    item: &str,
    detail: &Value,
    names: &BTreeMap<String, (String, String)>,
) -> Result<Vec<Value>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, at, by_account, role, note, prev FROM p_event WHERE item_id = ?1 ORDER BY at, id",
    )?;
    let events: Vec<EventRow> = stmt
        .query_map([item], |r| {
            let prev: String = r.get(6)?;
            Ok(EventRow {
                id: r.get(0)?,
                kind: r.get(1)?,
                at: r.get(2)?,
                by: r.get(3)?,
                role: r.get(4)?,
                note: r.get(5)?,
                prev: prev
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let photos = photos::item_evidence(conn, doc)?
        .remove(item)
        .map(|e| e.photos)
        .unwrap_or_default();
    let leaves: Vec<(String, String)> = detail["branches"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| (text(&b["event"]), text(&b["state"])))
        .collect();
    let lines: Vec<HashSet<&str>> = leaves.iter().map(|(l, _)| ancestry(&events, l)).collect();
    let shared: HashSet<&str> = lines
        .iter()
        .skip(1)
        .fold(lines.first().cloned().unwrap_or_default(), |acc, l| {
            acc.intersection(l).copied().collect()
        });
    let branches = leaves.iter().zip(&lines).map(|((_, state), line)| {
        let own: Vec<&EventRow> = events
            .iter()
            .filter(|e| line.contains(e.id.as_str()) && !shared.contains(e.id.as_str()))
            .collect();
        let own_photos: Vec<Value> = photos
            .iter()
            .filter(|p| own.iter().any(|e| e.id == p.event_id))
            .map(|p| serde_json::to_value(p).unwrap_or(Value::Null))
            .collect();
        json!({
            "state": state,
            "state_label": ItemState::parse(state).map_or("?", ItemState::label),
            "events": own.iter().map(|e| event_json(e, names)).collect::<Vec<_>>(),
            "photos": own_photos,
        })
    });
    Ok(branches.collect())
}

/// The event `leaf` and every event it descends from.
fn ancestry<'a>(events: &'a [EventRow], leaf: &str) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut todo = vec![leaf.to_owned()];
    while let Some(id) = todo.pop() {
        if let Some(e) = events.iter().find(|e| e.id == id) {
            if seen.insert(e.id.as_str()) {
                todo.extend(e.prev.iter().cloned());
            }
        }
    }
    seen
}

fn event_json(e: &EventRow, names: &BTreeMap<String, (String, String)>) -> Value {
    json!({
        "kind_label": EventKind::parse(&e.kind).map_or("?", EventKind::label),
        "at": local_time(Some(Timestamp(e.at))),
        "who": names.get(&e.by).map_or("（未知账号）", |n| n.0.as_str()),
        "role": Role::parse(&e.role).map_or("", Role::label),
        "note": e.note,
    })
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

/// A resolution form: the conflict (its key in the document), and what was chosen.
#[derive(Deserialize)]
struct ResolveForm {
    conflict: String,
    /// The actor whose value is picked (field conflict).
    #[serde(default)]
    pick: String,
    /// A corrected value typed in (field conflict).
    #[serde(default)]
    value: String,
    /// `1` keep deleted, `0` restore (tombstone conflict).
    #[serde(default)]
    keep_deleted: String,
    /// The chosen state (lifecycle fork).
    #[serde(default)]
    to: String,
    #[serde(default)]
    note: String,
}

async fn resolve(
    State(state): State<AppState>,
    Path(doc): Path<String>,
    CsrfForm(console, form): CsrfForm<ResolveForm>,
) -> Result<Redirect, PageError> {
    if !may_resolve(console.account.role) {
        return Err(refused());
    }
    let doc = BuildingId::parse(&doc).map_err(|_| gone())?;
    let scope = console.account.scope.clone();
    let key = form.conflict.clone();
    let stored = state
        .db
        .read(move |c| stored_conflict(c, &scope, doc, &key))
        .await?
        .ok_or_else(gone)?;
    let req = request(doc, &stored, &form)?;
    crate::resolve::resolve_as(&state, console.account, None, req)
        .await
        .map_err(|e| match e {
            AppError::Forbidden { .. } | AppError::NotFound { .. } => gone(),
            e => PageError(e),
        })?;
    Ok(Redirect::to("/console/conflicts"))
}

/// Out of scope answers like a conflict that does not exist.
fn gone() -> PageError {
    PageError(AppError::not_found(
        "unknown_conflict",
        "没有找到这个冲突：它可能已被处理，或不在您的管辖范围内",
    ))
}

/// One open conflict (kind, detail with unmasked values) of a document in `scope`.
fn stored_conflict(
    conn: &Connection,
    scope: &Scope,
    doc: BuildingId,
    key: &str,
) -> Result<Option<(String, Value)>, DbError> {
    let (cond, mut params) = scope::filter(scope, "d", "estate_norm");
    let sql = format!(
        "SELECT c.kind, c.detail_json FROM p_conflict c JOIN doc d ON d.doc_id = c.doc_id
         WHERE {cond} AND c.doc_id = ? AND c.key = ?"
    );
    params.push(rusqlite::types::Value::Text(doc.to_string()));
    params.push(rusqlite::types::Value::Text(key.to_owned()));
    let row = conn
        .query_row(&sql, params_from_iter(params), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    Ok(row.map(|(kind, detail)| (kind, serde_json::from_str(&detail).unwrap_or(Value::Null))))
}

/// The resolution the form asks for, checked against the stored conflict.
fn request(
    doc: BuildingId,
    (kind, detail): &(String, Value),
    form: &ResolveForm,
) -> Result<ResolveRequest, PageError> {
    let record = record_of(detail).ok_or_else(gone)?;
    let bad = |why: String| PageError(AppError::bad_request("invalid_resolution", why));
    let resolution = match kind.as_str() {
        "field" => {
            let key = detail["key"].as_str().unwrap_or_default().to_owned();
            let value = chosen_value(record, &key, detail, form)?;
            Resolution::Field { key, value }
        }
        "deleted" => match form.keep_deleted.as_str() {
            "1" => Resolution::Deleted { keep_deleted: true },
            "0" => Resolution::Deleted {
                keep_deleted: false,
            },
            _ => return Err(bad("请选择保持删除或恢复记录".into())),
        },
        _ => {
            let offered = detail["branches"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|b| b["state"].as_str() == Some(form.to.as_str()));
            let to = ItemState::parse(&form.to)
                .ok()
                .filter(|_| offered)
                .ok_or_else(|| bad(format!("“{}”不是这个分叉的任何一个分支的状态", form.to)))?;
            Resolution::Fork { to }
        }
    };
    Ok(ResolveRequest {
        doc,
        record,
        resolution,
        note: form.note.trim().to_owned(),
    })
}

/// The picked write's value, or the typed value read by the field's rule.
fn chosen_value(
    record: RecordRef,
    key: &str,
    detail: &Value,
    form: &ResolveForm,
) -> Result<FieldValue, PageError> {
    let bad = |why: String| PageError(AppError::bad_request("invalid_value", why));
    if !form.pick.is_empty() {
        let write = detail["writes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|w| w["actor"].as_str() == Some(form.pick.as_str()))
            .ok_or_else(|| {
                PageError(AppError::conflict(
                    "conflict_changed",
                    "这个冲突已有变化（所选的值已不在其中），请刷新页面后重新选择",
                ))
            })?;
        return serde_json::from_value(write["value"].clone())
            .map_err(|e| bad(format!("所选的值无法读取：{e}")));
    }
    let typed = form.value.trim();
    if typed.is_empty() {
        return Err(bad("请选择其中一个值，或填写更正后的值".into()));
    }
    let (fields, kind) = specs(Some(record));
    let spec = spec_of(fields, kind, key).map_err(|e| bad(e.to_string()))?;
    let value = typed_value(spec, typed)
        .ok_or_else(|| bad(format!("“{typed}”不是{}的有效写法", spec.label)))?;
    spec.check(&value)
        .map_err(|e| bad(format!("{}填写有误：{e}", spec.label)))?;
    Ok(value)
}

/// Text typed into the form as the field's value type.
fn typed_value(spec: &FieldSpec, typed: &str) -> Option<FieldValue> {
    Some(match spec.rule {
        Rule::Int { .. } => FieldValue::Int(typed.parse().ok()?),
        Rule::Real { .. } => FieldValue::Real(typed.parse().ok()?),
        Rule::Bool => FieldValue::Bool(match typed {
            "是" | "true" | "1" => true,
            "否" | "false" | "0" => false,
            _ => return None,
        }),
        _ => FieldValue::Text(typed.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pengwang_shared::document::field::spec_of;

    #[test]
    fn typed_values_follow_the_field_rule_and_say_what_was_wrong() {
        let floors = spec_of(BUILDING_FIELDS, "building", "floors").unwrap();
        assert_eq!(typed_value(floors, "33"), Some(FieldValue::Int(33)));
        assert_eq!(typed_value(floors, "三十三"), None);
        let area = spec_of(ITEM_FIELDS, "item", "area_m2").unwrap();
        assert_eq!(typed_value(area, "2.5"), Some(FieldValue::Real(2.5)));
        let phone = spec_of(HOUSEHOLD_FIELDS, "household", "owner_phone").unwrap();
        assert_eq!(
            typed_value(phone, "13900001111"),
            Some(FieldValue::Text("13900001111".into()))
        );
    }
}
