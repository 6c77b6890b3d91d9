//! `POST /console/conflicts/{doc}/resolve`: a resolution form, checked against the stored
//! conflict and handed to [`crate::resolve::resolve_as`].

use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use pengwang_shared::document::field::{spec_of, FieldSpec, Rule};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::event::ItemState;
use pengwang_shared::id::BuildingId;
use pengwang_shared::protocol::{Resolution, ResolveRequest};
use pengwang_shared::role::Scope;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::Value;

use super::{may_resolve, record_of, refused, specs};
use crate::console::{CsrfForm, PageError};
use crate::db::DbError;
use crate::error::AppError;
use crate::scope;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/console/conflicts/{doc}/resolve", post(resolve))
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
    use pengwang_shared::document::{BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS};

    #[test]
    fn typed_text_becomes_the_value_type_of_the_fields_rule() {
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
        let deleted = spec_of(ITEM_FIELDS, "item", "deleted").unwrap();
        assert_eq!(typed_value(deleted, "是"), Some(FieldValue::Bool(true)));
        assert_eq!(typed_value(deleted, "否"), Some(FieldValue::Bool(false)));
        assert_eq!(typed_value(deleted, "也许"), None);
    }
}
