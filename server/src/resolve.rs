//! `POST /v1/conflicts/resolve`: a supervisor (street checker or above, in scope) ends a field
//! conflict, a tombstone conflict or a lifecycle fork. The decision is a change in the document,
//! written with the supervisor's own actor, stored like any synced change, and sent to every
//! device in scope by their next sync. The console's conflicts inbox (`console::conflicts`)
//! resolves through the same [`resolve_as`].

use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use pengwang_shared::document::conflict::{self, DocConflict};
use pengwang_shared::document::{self, DocumentError, FieldValue, RecordRef};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::household::{mask_name, mask_phone};
use pengwang_shared::id::{DeviceId, EventId};
use pengwang_shared::lifecycle::{self, fold};
use pengwang_shared::protocol::{AccountInfo, Resolution, ResolveRequest, ResolveResponse};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::ParseError;
use serde_json::{json, Value};

use crate::audit::Action;
use crate::auth::AuthDevice;
use crate::error::AppError;
use crate::state::AppState;
use crate::{authoring, campaign, documents};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/conflicts/resolve", post(resolve))
}

async fn resolve(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    body: Result<Json<ResolveRequest>, JsonRejection>,
) -> Result<Json<ResolveResponse>, AppError> {
    let Json(req) = body?;
    let resolved = resolve_as(&state, device.account, Some(device.id), req).await?;
    Ok(Json(resolved))
}

/// Resolves one conflict as `account` — from a phone (`device` is that phone, named in a
/// resolving event) or from the console (`device` is `None`). The one implementation behind
/// `POST /v1/conflicts/resolve` and the console's conflicts inbox.
pub async fn resolve_as(
    state: &AppState,
    account: AccountInfo,
    device: Option<DeviceId>,
    req: ResolveRequest,
) -> Result<ResolveResponse, AppError> {
    if !account.role.is_street() {
        return Err(AppError::forbidden(
            "not_supervisor",
            "only a street checker or above may resolve conflicts",
        ));
    }
    let worker = state.clone();
    state
        .db
        .write(move |conn| apply(conn, &worker, &account, device, &req))
        .await
}

fn apply(
    conn: &mut rusqlite::Connection,
    state: &AppState,
    account: &AccountInfo,
    device: Option<DeviceId>,
    req: &ResolveRequest,
) -> Result<ResolveResponse, AppError> {
    let now = state.now();
    let settings = campaign::load(conn, now)?;
    let stored = documents::load(conn, req.doc)
        .map_err(AppError::internal)?
        .ok_or_else(|| {
            AppError::not_found("unknown_document", format!("no building {}", req.doc))
        })?;
    let building = document::read(&stored).map_err(AppError::internal)?;
    if !account.scope.covers(&building.location) {
        return Err(AppError::forbidden(
            "out_of_scope",
            format!("building {} is outside this account's scope", req.doc),
        ));
    }
    let decision = decision(&stored, req, &settings);
    let who = authoring::Authored {
        account,
        device,
        building: req.doc,
        location: &building.location,
        message: format!(
            "resolve {} by {} ({})",
            req.record.path(),
            account.id,
            account.role.code()
        ),
        action: Action::ConflictResolve,
        target: format!("{}/{}", req.doc, req.record.path()),
        detail: decision.to_string(),
    };
    let author = Author { account, device };
    let (working, _) = authoring::commit(
        conn,
        &stored,
        &who,
        &settings,
        now,
        |tx| write(tx, &stored, &author, req, &settings, now),
        resolution_error,
    )?;
    let heads = working.get_heads().iter().map(|h| h.to_string()).collect();
    Ok(ResolveResponse { heads, decision })
}

/// Who writes a resolution: the account, and the phone it came from (none from the console).
struct Author<'a> {
    account: &'a AccountInfo,
    device: Option<DeviceId>,
}

/// What was decided, for the audit trail and the answer: the kind, what was chosen, what it
/// replaced and the supervisor's note. Owner names and phones appear masked.
fn decision(stored: &Automerge, req: &ResolveRequest, settings: &CampaignSettings) -> Value {
    let shown = |key: &str, v: &FieldValue| -> Value {
        match (key, v) {
            ("owner_name", FieldValue::Text(t)) => json!(mask_name(t)),
            ("owner_phone", FieldValue::Text(t)) => json!(mask_phone(t)),
            (_, v) => json!(v),
        }
    };
    match &req.resolution {
        Resolution::Field { key, value } => {
            let replaced: Vec<Value> = document::record_map(stored, req.record)
                .ok()
                .and_then(|obj| stored.get_all(&obj, key.as_str()).ok())
                .unwrap_or_default()
                .iter()
                .filter_map(|(v, _)| FieldValue::from_value(v))
                .map(|v| shown(key, &v))
                .collect();
            json!({ "kind": "field", "key": key, "chosen": shown(key, value), "replaced": replaced, "note": req.note })
        }
        Resolution::Deleted { keep_deleted } => {
            json!({ "kind": "deleted", "keep_deleted": keep_deleted, "note": req.note })
        }
        Resolution::Fork { to } => {
            let branches: Vec<&str> = match req.record {
                RecordRef::Item(item) => document::read(stored)
                    .ok()
                    .and_then(|b| {
                        b.items
                            .get(&item)
                            .map(|i| fold(&i.events, settings, i.deleted))
                    })
                    .map(|f| f.fork.iter().map(|b| b.state.code()).collect())
                    .unwrap_or_default(),
                _ => vec![],
            };
            json!({ "kind": "fork", "to": to.code(), "branches": branches, "note": req.note })
        }
    }
}

/// Writes the decision, after checking there is a conflict of that kind to resolve.
fn write<T: Transactable>(
    tx: &mut T,
    stored: &Automerge,
    author: &Author<'_>,
    req: &ResolveRequest,
    settings: &CampaignSettings,
    now: pengwang_shared::time::Timestamp,
) -> Result<(), DocumentError> {
    let obj = document::record_map(stored, req.record)?;
    match &req.resolution {
        Resolution::Field { key, value } => {
            if stored.get_all(&obj, key.as_str())?.len() < 2 {
                return Err(DocumentError::Refused(format!(
                    "{}.{key} has no open conflict",
                    req.record.path()
                )));
            }
            if *value == FieldValue::Null {
                let why = "choose or write a value: clearing the field would drop both inspectors' values";
                return Err(ParseError::new("value", "null", why).into());
            }
            document::set_field(tx, req.record, key, value.clone())
        }
        Resolution::Deleted { keep_deleted } => {
            let open = conflict::conflicts(stored)?
                .iter()
                .any(|c| matches!(c, DocConflict::Deleted { record, .. } if *record == req.record));
            if !open {
                return Err(DocumentError::Refused(format!(
                    "{} has no open deletion conflict",
                    req.record.path()
                )));
            }
            document::set_field(tx, req.record, "deleted", FieldValue::Bool(*keep_deleted))
        }
        Resolution::Fork { to } => {
            let RecordRef::Item(item) = req.record else {
                return Err(DocumentError::Refused(
                    "a lifecycle fork belongs to an item".into(),
                ));
            };
            let record =
                document::read(stored)?
                    .items
                    .remove(&item)
                    .ok_or(DocumentError::NotFound {
                        what: "item",
                        id: item.to_string(),
                    })?;
            let f = fold(&record.events, settings, record.deleted);
            if !f.is_forked() {
                return Err(DocumentError::Refused(format!(
                    "item {item} has no lifecycle fork"
                )));
            }
            let event = Event {
                id: EventId::new(),
                kind: EventKind::Resolve,
                to: Some(*to),
                at: now,
                by: author.account.id,
                role: author.account.role,
                device: author.device,
                note: req.note.clone(),
                photos: vec![],
                prev: f.fork.iter().map(|b| b.event).collect(),
                detail: EventDetail::default(),
            };
            lifecycle::admit(&record.events, &event, settings, record.deleted)
                .map_err(DocumentError::Refused)?;
            document::append_event(tx, item, &event)
        }
    }
}

fn resolution_error(e: DocumentError) -> AppError {
    match e {
        DocumentError::NotFound { .. } => AppError::not_found("unknown_record", e.to_string()),
        DocumentError::Automerge(_) | DocumentError::Schema(_) => AppError::internal(e),
        DocumentError::Invalid(_) => AppError::bad_request("invalid_value", e.to_string()),
        DocumentError::Refused(_) => AppError::conflict("cannot_resolve", e.to_string()),
    }
}
