//! Lifecycle steps taken in the console (DESIGN §4): verify/close (销号), return (退回), refuse
//! (拒改), transfer to enforcement (移交执法), void (作废) and reopen (反弹).
//!
//! A step is an event written into the building's automerge document with the console account's
//! own actor and `device: None`, exactly as a resolution is (`resolve`): admitted first by the
//! shared fold's [`lifecycle::admit`], so the console obeys the same rules as the phone; stored
//! like a synced change, re-projected and audited in one transaction; sent to the phones in scope
//! by their next sync.
//!
//! Which steps a user is offered is decided the same way: each candidate is tried with `admit`,
//! so a form is shown only for a step the fold would accept.

use automerge::Automerge;
use pengwang_shared::document::{self, BuildingDoc, DocumentError, ItemRecord};
use pengwang_shared::event::{Event, EventDetail, EventKind, ItemState};
use pengwang_shared::id::{BuildingId, EventId, ItemId};
use pengwang_shared::lifecycle::{self, fold, head_events};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;
use rusqlite::{Connection, OptionalExtension};

use crate::audit::Action;
use crate::error::AppError;
use crate::{authoring, campaign, documents};

/// The steps the console offers, in the order forms are shown.
pub const CONSOLE_STEPS: [EventKind; 6] = [
    EventKind::Close,
    EventKind::Return,
    EventKind::Refuse,
    EventKind::Transfer,
    EventKind::Void,
    EventKind::Reopen,
];

/// What the form asks for beside the step: every step but closing and refusing needs a reason
/// (the fold refuses an empty one; a refusal's reason is optional but kept).
pub fn needs_note(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Return | EventKind::Transfer | EventKind::Void | EventKind::Reopen
    )
}

/// The button label of a console step.
pub fn step_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Close => "核验通过，销号",
        EventKind::Return => "退回整改",
        EventKind::Refuse => "认定拒不整改",
        EventKind::Transfer => "移交执法",
        EventKind::Void => "作废",
        EventKind::Reopen => "反弹，重新打开",
        other => other.label(),
    }
}

/// A step a console user asks for.
#[derive(Clone, Debug)]
pub struct StepRequest {
    pub item: ItemId,
    pub kind: EventKind,
    pub note: String,
}

/// One item as the action forms need it: its state and the steps this user may take now.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemChoices {
    pub item: ItemId,
    pub building: BuildingId,
    pub state: Option<ItemState>,
    pub persuasion_count: u32,
    pub forked: bool,
    pub steps: Vec<EventKind>,
}

/// The event `account` would write for `kind` now.
fn event_for(
    record: &ItemRecord,
    account: &AccountInfo,
    kind: EventKind,
    note: &str,
    now: Timestamp,
) -> Event {
    Event {
        id: EventId::new(),
        kind,
        to: None,
        at: now,
        by: account.id,
        role: account.role,
        device: None,
        note: note.trim().to_owned(),
        photos: vec![],
        prev: head_events(&record.events),
        detail: EventDetail::default(),
    }
}

/// The console steps the fold would admit for `account` on `record` now (read-only roles: none).
pub fn allowed_steps(
    record: &ItemRecord,
    account: &AccountInfo,
    settings: &CampaignSettings,
    now: Timestamp,
) -> Vec<EventKind> {
    if !account.role.can_write() {
        return vec![];
    }
    CONSOLE_STEPS
        .into_iter()
        .filter(|k| {
            let e = event_for(record, account, *k, "原因", now);
            lifecycle::admit(&record.events, &e, settings, record.deleted).is_ok()
        })
        .collect()
}

/// The stored document holding `item` and the building read from it, if `account` may see it.
/// An item outside the scope is reported as unknown (404), like one that does not exist.
fn load_item(
    conn: &Connection,
    account: &AccountInfo,
    item: ItemId,
) -> Result<(Automerge, BuildingDoc), AppError> {
    let unknown = || AppError::not_found("unknown_item", format!("没有找到隐患点位 {item}"));
    let building: Option<String> = conn
        .query_row(
            "SELECT building_id FROM p_item WHERE id = ?1",
            [item.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let building = building
        .and_then(|b| BuildingId::parse(&b).ok())
        .ok_or_else(unknown)?;
    let stored = documents::load(conn, building)
        .map_err(AppError::internal)?
        .ok_or_else(unknown)?;
    let b = document::read(&stored).map_err(AppError::internal)?;
    if !account.scope.covers(&b.location) || !b.items.contains_key(&item) {
        return Err(unknown());
    }
    Ok((stored, b))
}

/// The item's state and the steps `account` may take on it.
pub fn choices(
    conn: &Connection,
    account: &AccountInfo,
    item: ItemId,
    now: Timestamp,
) -> Result<ItemChoices, AppError> {
    let settings = campaign::load(conn, now)?;
    let (_, b) = load_item(conn, account, item)?;
    let record = &b.items[&item];
    let f = fold(&record.events, &settings, record.deleted);
    Ok(ItemChoices {
        item,
        building: b.id,
        state: f.state,
        persuasion_count: f.persuasion_count,
        forked: f.is_forked(),
        steps: allowed_steps(record, account, &settings, now),
    })
}

/// What a stored step did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDone {
    pub building: BuildingId,
    pub event: EventId,
    pub state: Option<ItemState>,
}

/// Writes one console step: checks role, scope and the fold's rules, then stores the change,
/// its projections and an audit row in one transaction.
pub fn take_step(
    conn: &mut Connection,
    account: &AccountInfo,
    req: &StepRequest,
    now: Timestamp,
) -> Result<StepDone, AppError> {
    if !account.role.can_write() {
        return Err(AppError::forbidden(
            "read_only",
            "消防救援账号为只读，不能修改数据",
        ));
    }
    if !CONSOLE_STEPS.contains(&req.kind) {
        let msg = format!("控制台不能进行“{}”操作", req.kind.label());
        return Err(AppError::bad_request("invalid_step", msg));
    }
    if needs_note(req.kind) && req.note.trim().is_empty() {
        let msg = format!("“{}”需要填写原因", step_label(req.kind));
        return Err(AppError::bad_request("note_required", msg));
    }
    let settings = campaign::load(conn, now)?;
    let (stored, b) = load_item(conn, account, req.item)?;
    let record = &b.items[&req.item];
    let event = event_for(record, account, req.kind, &req.note, now);
    lifecycle::admit(&record.events, &event, &settings, record.deleted).map_err(|why| {
        AppError::conflict(
            "step_refused",
            format!(
                "不能{}：{}",
                step_label(req.kind),
                lifecycle::reason_in_chinese(&why)
            ),
        )
    })?;
    let who = authoring::Authored {
        account,
        device: None,
        building: b.id,
        location: &b.location,
        message: format!(
            "{} {} by {} ({})",
            req.kind.code(),
            req.item,
            account.id,
            account.role.code()
        ),
        action: Action::ItemStep,
        target: format!("{}/items/{}", b.id, req.item),
        detail:
            serde_json::json!({ "step": req.kind.code(), "event": event.id, "note": event.note })
                .to_string(),
    };
    let (_, projected) = authoring::commit(
        conn,
        &stored,
        &who,
        &settings,
        now,
        |tx| document::append_event(tx, req.item, &event),
        step_error,
    )?;
    let state = projected
        .items
        .get(&req.item)
        .and_then(|i| fold(&i.events, &settings, i.deleted).state);
    tracing::info!(item = %req.item, step = req.kind.code(), account = %account.id, "console lifecycle step");
    Ok(StepDone {
        building: b.id,
        event: event.id,
        state,
    })
}

fn step_error(e: DocumentError) -> AppError {
    match e {
        DocumentError::NotFound { .. } => AppError::not_found("unknown_item", e.to_string()),
        DocumentError::Invalid(_) => AppError::bad_request("invalid_value", e.to_string()),
        DocumentError::Refused(_) => AppError::conflict("step_refused", e.to_string()),
        DocumentError::Automerge(_) | DocumentError::Schema(_) => AppError::internal(e),
    }
}

/// Items `account` may see in `state`, oldest state first (the verification queue reads
/// `PendingVerify`). Returns (item id, building id).
pub fn items_in_state(
    conn: &Connection,
    account: &AccountInfo,
    state: ItemState,
    limit: u32,
) -> Result<Vec<(String, String)>, AppError> {
    let (cond, mut params) = crate::scope::filter(&account.scope, "b", "estate_norm");
    params.push(rusqlite::types::Value::Text(state.code().to_owned()));
    let sql = format!(
        "SELECT t.id, t.building_id FROM p_item t JOIN p_building b ON b.id = t.building_id
         WHERE {cond} AND t.deleted = 0 AND t.state = ? ORDER BY t.state_since, t.id LIMIT {limit}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
