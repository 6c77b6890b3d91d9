//! `POST /v1/conflicts/resolve`: a supervisor (street checker or above, in scope) ends a field
//! conflict, a tombstone conflict or a lifecycle fork. The decision is a change in the document,
//! written with the supervisor's own actor, stored like any synced change, and sent to every
//! device in scope by their next sync.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ReadDoc};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use pengwang_shared::document::conflict::{self, DocConflict};
use pengwang_shared::document::{self, DocumentError, FieldValue, RecordRef};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::household::{mask_name, mask_phone};
use pengwang_shared::id::EventId;
use pengwang_shared::lifecycle::{self, fold};
use pengwang_shared::protocol::{Resolution, ResolveRequest, ResolveResponse};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::ParseError;
use serde_json::{json, Value};

use crate::audit::{self, Action, NewAudit};
use crate::auth::AuthDevice;
use crate::devices::Device;
use crate::error::AppError;
use crate::state::AppState;
use crate::{campaign, documents, projection};

pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/conflicts/resolve", post(resolve))
}

async fn resolve(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    body: Result<Json<ResolveRequest>, JsonRejection>,
) -> Result<Json<ResolveResponse>, AppError> {
    let Json(req) = body?;
    if !device.account.role.is_street() {
        return Err(AppError::forbidden(
            "not_supervisor",
            "only a street checker or above may resolve conflicts",
        ));
    }
    let worker = state.clone();
    let resolved = state
        .db
        .write(move |conn| apply(conn, &worker, &device, &req))
        .await?;
    Ok(Json(resolved))
}

fn apply(
    conn: &mut rusqlite::Connection,
    state: &AppState,
    device: &Device,
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
    if !device.account.scope.covers(&building.location) {
        return Err(AppError::forbidden(
            "out_of_scope",
            format!("building {} is outside this account's scope", req.doc),
        ));
    }
    let mut working = stored.fork();
    working.set_actor(documents::account_actor(device.account.id));
    let before = working.get_heads();
    let message = format!(
        "resolve {} by {} ({})",
        req.record.path(),
        device.account.id,
        device.account.role.code()
    );
    working
        .transact_with(
            |_| {
                CommitOptions::default()
                    .with_message(message.clone())
                    .with_time(now.0)
            },
            |tx| write(tx, &stored, device, req, &settings, now),
        )
        .map_err(|f| resolution_error(f.error))?;
    let tx = conn.transaction()?;
    documents::append(
        &tx,
        req.doc,
        &working,
        &before,
        &building.location,
        Some(device.id),
        now.0,
    )
    .map_err(AppError::internal)?;
    projection::project(&tx, &working, &settings, now.0).map_err(AppError::internal)?;
    let target = format!("{}/{}", req.doc, req.record.path());
    let decision = decision(&stored, req, &settings);
    let detail = decision.to_string();
    let row = NewAudit {
        at: now,
        actor: Some(device.account.id),
        action: Action::ConflictResolve,
        target: &target,
        detail: &detail,
    };
    audit::record(&tx, &row)?;
    tx.commit()?;
    let heads = working.get_heads().iter().map(|h| h.to_string()).collect();
    Ok(ResolveResponse { heads, decision })
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
    device: &Device,
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
                by: device.account.id,
                role: device.account.role,
                device: Some(device.id),
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
