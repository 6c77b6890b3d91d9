//! One pushed document: applied to a copy, validated, and stored with its projections in one
//! transaction — or refused with its own error, storing nothing.

use automerge::sync::{Message, State as SyncState, SyncDoc};
use automerge::Automerge;
use pengwang_shared::document::{self, BuildingDoc};
use pengwang_shared::id::{EventId, ItemId, PhotoHash};
use pengwang_shared::protocol::{ApiError, DocOutcome, DocPush, DocReply};
use pengwang_shared::role::Location;
use pengwang_shared::settings::CampaignSettings;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashSet;

use crate::devices::Device;
use crate::error::AppError;
use crate::state::AppState;
use crate::{documents, projection};

pub(super) fn apply(
    conn: &mut Connection,
    state: &AppState,
    device: &Device,
    settings: &CampaignSettings,
    push: &DocPush,
) -> Result<DocReply, AppError> {
    let stored = documents::load(conn, push.doc).map_err(AppError::internal)?;
    let before_doc = stored
        .as_ref()
        .map(document::read)
        .transpose()
        .ok()
        .flatten();
    let mut sync_state = load_state(conn, device, push)?;
    let mut working = stored.as_ref().map(Automerge::fork).unwrap_or_default();
    let before_heads = working.get_heads();
    let checked = receive(
        &mut working,
        &mut sync_state,
        push,
        state.config.max_doc_bytes,
    )
    .and_then(|()| {
        validate(
            state,
            device,
            before_doc.as_ref(),
            stored.is_some(),
            &working,
            before_heads == working.get_heads(),
        )
    });
    let after = match checked {
        Ok(after) => after,
        Err(err) => {
            tracing::info!(device = %device.id, doc = %push.doc, code = %err.code, "document refused");
            return Ok(DocReply {
                doc: push.doc,
                outcome: DocOutcome::Refused(err),
            });
        }
    };
    let reply = working
        .generate_sync_message(&mut sync_state)
        .map(Message::encode)
        .unwrap_or_default();
    let now = state.now().0;
    let tx = conn.transaction()?;
    if let Some(after) = &after {
        documents::append(
            &tx,
            push.doc,
            &working,
            &before_heads,
            &after.location,
            Some(device.id),
            now,
        )
        .map_err(AppError::internal)?;
        projection::project(&tx, &working, settings, now).map_err(AppError::internal)?;
    }
    store_state(&tx, device, push, &sync_state, now)?;
    state.failpoint("sync.before_commit");
    tx.commit()?;
    if after.is_some() && documents::needs_compaction(conn, push.doc).map_err(AppError::internal)? {
        let tx = conn.transaction()?;
        documents::compact(&tx, push.doc).map_err(AppError::internal)?;
        tx.commit()?;
    }
    Ok(DocReply {
        doc: push.doc,
        outcome: DocOutcome::Synced {
            changes: Vec::new(),
            message: reply,
        },
    })
}

/// Applies the pushed changes and sync message to the working copy.
fn receive(
    working: &mut Automerge,
    st: &mut SyncState,
    push: &DocPush,
    max_bytes: usize,
) -> Result<(), ApiError> {
    let size = push.changes.len() + push.message.len();
    if size > max_bytes {
        return Err(ApiError::new(
            "document_too_large",
            format!("{size} bytes for one document; the limit is {max_bytes}"),
        ));
    }
    if !push.changes.is_empty() {
        super::chunks::check(&push.changes).map_err(|e| {
            ApiError::new(
                "malformed_document",
                format!("the document's changes do not decode: {e}"),
            )
        })?;
        working.load_incremental(&push.changes).map_err(|e| {
            ApiError::new(
                "malformed_document",
                format!("the document's changes do not decode: {e}"),
            )
        })?;
    }
    if !push.message.is_empty() {
        let msg = Message::decode(&push.message).map_err(|e| {
            ApiError::new(
                "malformed_document",
                format!("the sync message does not decode: {e}"),
            )
        })?;
        working.receive_sync_message(st, msg).map_err(|e| {
            ApiError::new(
                "malformed_document",
                format!("the sync message does not apply: {e}"),
            )
        })?;
    }
    Ok(())
}

/// Checks a document after the push: readable as a building, in the device's scope, unmoved, and
/// every new event authored by this device's account. `Ok(None)` when nothing changed.
fn validate(
    state: &AppState,
    device: &Device,
    before: Option<&BuildingDoc>,
    existed: bool,
    working: &Automerge,
    unchanged: bool,
) -> Result<Option<BuildingDoc>, ApiError> {
    let account = &device.account;
    if let Some(b) = before {
        in_scope(device, &b.location)?;
    }
    if unchanged {
        return if existed {
            Ok(None)
        } else {
            Err(ApiError::new(
                "unknown_document",
                "the server has no such building and the push held none",
            ))
        };
    }
    if !account.role.can_write() {
        return Err(ApiError::new(
            "read_only",
            format!("account role {} is read-only", account.role.code()),
        ));
    }
    let after =
        document::read(working).map_err(|e| ApiError::new("invalid_document", e.to_string()))?;
    if let Some(b) = before {
        // The estate name is an editable field (checked against the scope below); the
        // administrative place is fixed at creation.
        let place = |l: &Location| (l.unit.clone(), l.street.clone(), l.community.clone());
        if place(&b.location) != place(&after.location) {
            return Err(ApiError::new(
                "location_changed",
                "a building's unit, street and community are fixed when it is created",
            ));
        }
    }
    in_scope(device, &after.location)?;
    let street = state
        .catalog
        .streets
        .get(&after.location.street)
        .ok_or_else(|| {
            ApiError::new(
                "unknown_region",
                format!("street {} is not a known street", after.location.street),
            )
        })?;
    if street.unit != after.location.unit {
        return Err(ApiError::new(
            "wrong_unit",
            format!(
                "street {} reports under unit {}, not {}",
                street.code, street.unit, after.location.unit
            ),
        ));
    }
    if !state
        .catalog
        .communities
        .contains_key(&after.location.community)
    {
        return Err(ApiError::new(
            "unknown_region",
            format!(
                "community {} is not a known community",
                after.location.community
            ),
        ));
    }
    check_new_events(device, before, &after)?;
    check_new_tombstones(device, before, &after)?;
    check_new_photos(device, before, &after)?;
    Ok(Some(after))
}

fn in_scope(device: &Device, loc: &Location) -> Result<(), ApiError> {
    if device.account.scope.covers(loc) {
        Ok(())
    } else {
        Err(ApiError::new(
            "out_of_scope",
            format!(
                "building in {} / {} is outside this account's scope ({})",
                loc.street,
                loc.community,
                device.account.scope.describe()
            ),
        ))
    }
}

/// A photo record the server has not seen must name this device's account and device.
fn check_new_photos(
    device: &Device,
    before: Option<&BuildingDoc>,
    after: &BuildingDoc,
) -> Result<(), ApiError> {
    let known: HashSet<(ItemId, PhotoHash)> = before
        .into_iter()
        .flat_map(|b| b.items.iter())
        .flat_map(|(id, i)| i.photos.iter().map(move |p| (*id, p.hash.clone())))
        .collect();
    for (id, item) in &after.items {
        for p in item
            .photos
            .iter()
            .filter(|p| !known.contains(&(*id, p.hash.clone())))
        {
            if p.by != device.account.id || p.device != Some(device.id) {
                return Err(ApiError::new(
                    "photo_author_mismatch",
                    format!(
                        "photo {} on item {id} claims by {}, but this device belongs to account {}",
                        p.hash, p.by, device.account.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A record newly marked deleted must have been created by this device's account (DESIGN §4:
/// the tombstone belongs to the record's creator; everyone else voids).
fn check_new_tombstones(
    device: &Device,
    before: Option<&BuildingDoc>,
    after: &BuildingDoc,
) -> Result<(), ApiError> {
    let me = device.account.id.to_string();
    let was_deleted_item = |id| {
        before
            .and_then(|b| b.items.get(id))
            .is_some_and(|i| i.deleted)
    };
    let was_deleted_household = |id| {
        before
            .and_then(|b| b.households.get(id))
            .is_some_and(|h| h.deleted)
    };
    let creator = |fields: &document::Fields| {
        fields
            .get("created_by")
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let items = after
        .items
        .iter()
        .filter(|(id, i)| i.deleted && !was_deleted_item(*id))
        .map(|(id, i)| (format!("item {id}"), creator(&i.fields)));
    let households = after
        .households
        .iter()
        .filter(|(id, h)| h.deleted && !was_deleted_household(*id))
        .map(|(id, h)| (format!("household {id}"), creator(&h.fields)));
    for (what, by) in items.chain(households) {
        if by.as_deref() != Some(me.as_str()) {
            return Err(ApiError::new(
                "delete_not_allowed",
                format!(
                    "{what} was created by {}; only its creator may delete it — void it instead",
                    by.unwrap_or_else(|| "nobody".into())
                ),
            ));
        }
    }
    Ok(())
}

/// Every event the server has not seen must name this device's account, role and device.
fn check_new_events(
    device: &Device,
    before: Option<&BuildingDoc>,
    after: &BuildingDoc,
) -> Result<(), ApiError> {
    let known: HashSet<EventId> = before
        .into_iter()
        .flat_map(|b| b.items.values())
        .flat_map(|i| i.events.iter().map(|e| e.id))
        .collect();
    let account = &device.account;
    for e in after
        .items
        .values()
        .flat_map(|i| &i.events)
        .filter(|e| !known.contains(&e.id))
    {
        if e.by != account.id || e.role != account.role || e.device != Some(device.id) {
            return Err(ApiError::new(
                "event_author_mismatch",
                format!(
                    "event {} claims by {} as {} from device {}, but this device belongs to account {} ({})",
                    e.id,
                    e.by,
                    e.role.code(),
                    e.device.map(|d| d.to_string()).unwrap_or_else(|| "none".into()),
                    account.id,
                    account.role.code()
                ),
            ));
        }
    }
    Ok(())
}

fn load_state(conn: &Connection, device: &Device, push: &DocPush) -> Result<SyncState, AppError> {
    let bytes: Option<Vec<u8>> = conn
        .query_row(
            "SELECT state FROM sync_state WHERE device_id = ?1 AND doc_id = ?2",
            params![device.id.to_string(), push.doc.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(bytes
        .and_then(|b| SyncState::decode(&b).ok())
        .unwrap_or_default())
}

pub(super) fn store_state(
    conn: &Connection,
    device: &Device,
    push: &DocPush,
    st: &SyncState,
    now: i64,
) -> Result<(), AppError> {
    conn.execute(
        "INSERT INTO sync_state (device_id, doc_id, state, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id, doc_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![device.id.to_string(), push.doc.to_string(), st.encode(), now],
    )?;
    Ok(())
}
