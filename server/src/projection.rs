//! Relational projections of the building documents (DESIGN §7): what ledgers, conflict lists,
//! duplicate lists and reports read, so no request ever loads every document.
//!
//! Projections are updated per stored change: the document that changed is re-projected in the
//! same transaction that stores the change. Every row is a pure function of the document (and
//! the campaign settings), which is what makes [`rebuild_all`] give the same rows.

use automerge::Automerge;
use pengwang_shared::document::conflict::{conflicts, DocConflict};
use pengwang_shared::document::{self, BuildingDoc, FieldValue, ItemRecord, PhotoRole, RecordRef};
use pengwang_shared::id::{BuildingId, DeviceId, ItemId, PhotoHash};
use pengwang_shared::lifecycle::{fold, Fold};
use pengwang_shared::role::normalize_name;
use pengwang_shared::settings::CampaignSettings;
use rusqlite::{params, Connection, Transaction};
use serde_json::json;

use crate::documents::{self, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    #[error("document {0} does not read as a building: {1}")]
    Document(BuildingId, Box<document::DocumentError>),
}

/// Replaces every projected row of one building with what its document says now.
pub fn project(
    tx: &Transaction<'_>,
    doc: &Automerge,
    settings: &CampaignSettings,
    now: i64,
) -> Result<BuildingDoc, ProjectionError> {
    let b = document::read(doc)
        .map_err(|e| ProjectionError::Document(BuildingId(uuid::Uuid::nil()), Box::new(e)))?;
    let id = b.id.to_string();
    for table in ["p_household", "p_item", "p_event", "p_photo_ref"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE building_id = ?1"),
            [&id],
        )?;
    }
    building_row(tx, &b)?;
    for (hid, h) in &b.households {
        let text = |k: &str| {
            h.fields
                .get(k)
                .and_then(FieldValue::as_str)
                .unwrap_or("")
                .to_owned()
        };
        tx.execute(
            "INSERT INTO p_household (id, building_id, unit_code, street_code, stair_unit, floor, room, room_norm, survey_result, deleted, fields_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                hid.to_string(), id, b.location.unit.as_str(), b.location.street.as_str(), text("unit"),
                h.fields.get("floor").and_then(FieldValue::as_i64), text("room"), normalize_name(&text("room")),
                h.fields.get("survey_result").and_then(FieldValue::as_str), h.deleted, serde_json::to_string(&h.fields).unwrap_or_default()
            ],
        )?;
    }
    let mut forks = Vec::new();
    for (iid, item) in &b.items {
        let f = fold(&item.events, settings, item.deleted);
        item_rows(tx, &b, *iid, item, &f)?;
        photo_ref_rows(tx, &b, *iid, item)?;
        if f.is_forked() {
            forks.push((*iid, f));
        }
    }
    let found = conflicts(doc).map_err(|e| ProjectionError::Document(b.id, Box::new(e)))?;
    conflict_rows(tx, b.id, &found, &forks, now)?;
    Ok(b)
}

fn building_row(tx: &Transaction<'_>, b: &BuildingDoc) -> Result<(), rusqlite::Error> {
    let class = b.height_class();
    let number = b.text("number").unwrap_or("");
    tx.execute(
        "INSERT INTO p_building (id, unit_code, district_code, street_code, community_code, estate, estate_norm, number, number_norm,
                                 address, building_use, height_m, floors, high_rise, needs_height_check, survey_status, fields_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (id) DO UPDATE SET unit_code = excluded.unit_code, district_code = excluded.district_code,
            street_code = excluded.street_code, community_code = excluded.community_code, estate = excluded.estate,
            estate_norm = excluded.estate_norm, number = excluded.number, number_norm = excluded.number_norm,
            address = excluded.address, building_use = excluded.building_use, height_m = excluded.height_m,
            floors = excluded.floors, high_rise = excluded.high_rise, needs_height_check = excluded.needs_height_check,
            survey_status = excluded.survey_status, fields_json = excluded.fields_json",
        params![
            b.id.to_string(), b.location.unit.as_str(), b.location.street.district().as_str(), b.location.street.as_str(),
            b.location.community.as_str(), b.location.estate, normalize_name(&b.location.estate), number, normalize_name(number),
            b.text("address").unwrap_or(""), b.text("use"), b.fields.get("height_m").and_then(FieldValue::as_f64),
            b.fields.get("floors").and_then(FieldValue::as_i64), class.high_rise, class.needs_check, b.text("survey_status"),
            serde_json::to_string(&b.fields).unwrap_or_default()
        ],
    )?;
    Ok(())
}

fn item_rows(
    tx: &Transaction<'_>,
    b: &BuildingDoc,
    id: ItemId,
    item: &ItemRecord,
    f: &Fold,
) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO p_item (id, building_id, household_id, unit_code, street_code, community_code, category, state, completed_at,
                             found_at, high_rise, persuasion_count, forked, invalid_events, deleted, fields_json, state_since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            id.to_string(), b.id.to_string(), item.household.map(|h| h.to_string()), b.location.unit.as_str(),
            b.location.street.as_str(), b.location.community.as_str(), item.category.code(), f.state.map(|s| s.code()),
            f.completed_at.map(|t| t.0), f.found_at.map(|t| t.0), b.height_class().high_rise, f.persuasion_count,
            f.is_forked(), f.invalid.len() as i64, item.deleted, serde_json::to_string(&item.fields).unwrap_or_default(),
            f.state_since.map(|t| t.0)
        ],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO p_event (id, item_id, building_id, kind, to_state, at, by_account, role, device_id, note, photos, prev, invalid_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for e in &item.events {
        let invalid = f
            .invalid
            .iter()
            .find(|i| i.event == e.id)
            .map(|i| i.reason.as_str());
        let join = |v: Vec<String>| v.join(",");
        stmt.execute(params![
            e.id.to_string(),
            id.to_string(),
            b.id.to_string(),
            e.kind.code(),
            e.target().map(|s| s.code()),
            e.at.0,
            e.by.to_string(),
            e.role.code(),
            e.device.map(|d| d.to_string()),
            e.note,
            join(e.photos.iter().map(|p| p.to_string()).collect()),
            join(e.prev.iter().map(|p| p.to_string()).collect()),
            invalid
        ])?;
    }
    Ok(())
}

/// The photos each event of the item references (DESIGN §8), for scope checks on download and
/// the ledger's missing-photo flags. A hash listed twice in one event is one row.
fn photo_ref_rows(
    tx: &Transaction<'_>,
    b: &BuildingDoc,
    id: ItemId,
    item: &ItemRecord,
) -> Result<(), rusqlite::Error> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO p_photo_ref (event_id, hash, building_id, item_id, role, device_id, at,
                                  taken_at, lat, lng, accuracy_m, by_account)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING",
    )?;
    let record = |hash: &PhotoHash| item.photos.iter().find(|p| &p.hash == hash);
    let mut insert =
        |source: String, hash: &PhotoHash, role: &str, device: Option<DeviceId>, at: i64| {
            let r = record(hash);
            let place = r.and_then(|r| r.place);
            stmt.execute(params![
                source,
                hash.as_str(),
                b.id.to_string(),
                id.to_string(),
                role,
                device.map(|d| d.to_string()),
                at,
                r.and_then(|r| r.taken_at).map(|t| t.0),
                place.map(|p| p.lat),
                place.map(|p| p.lng),
                place.and_then(|p| p.accuracy_m),
                r.map(|r| r.by.to_string())
            ])
        };
    for e in &item.events {
        for hash in &e.photos {
            insert(
                e.id.to_string(),
                hash,
                PhotoRole::of_step(e.target()).code(),
                e.device,
                e.at.0,
            )?;
        }
    }
    // Photos attached to the item that no event names (a notice served, a signed pledge): listed
    // and downloadable, never evidence of a step.
    for p in item
        .photos
        .iter()
        .filter(|p| !item.events.iter().any(|e| e.photos.contains(&p.hash)))
    {
        insert(
            format!("item:{id}"),
            &p.hash,
            p.role.code(),
            p.device,
            p.added_at.0,
        )?;
    }
    Ok(())
}

/// Upserts the open conflicts of one document (keeping when each was first seen) and drops those
/// no longer present.
fn conflict_rows(
    tx: &Transaction<'_>,
    doc: BuildingId,
    found: &[DocConflict],
    forks: &[(ItemId, Fold)],
    now: i64,
) -> Result<(), rusqlite::Error> {
    let mut rows: Vec<(String, &str, String, String)> = found
        .iter()
        .map(|c| {
            let kind = match c {
                DocConflict::Field { .. } => "field",
                DocConflict::Deleted { .. } => "deleted",
            };
            (
                c.key(),
                kind,
                c.record().path(),
                serde_json::to_string(c).unwrap_or_default(),
            )
        })
        .collect();
    for (item, f) in forks {
        let record = RecordRef::Item(*item).path();
        let detail =
            json!({ "kind": "fork", "record": RecordRef::Item(*item), "branches": f.fork });
        rows.push((
            format!("{record}/lifecycle"),
            "fork",
            record,
            detail.to_string(),
        ));
    }
    let keys: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let existing: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT key FROM p_conflict WHERE doc_id = ?1")?;
        let v = stmt
            .query_map([doc.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        v
    };
    for key in existing.iter().filter(|k| !keys.contains(k)) {
        tx.execute(
            "DELETE FROM p_conflict WHERE doc_id = ?1 AND key = ?2",
            params![doc.to_string(), key],
        )?;
    }
    for (key, kind, record, detail) in rows {
        tx.execute(
            "INSERT INTO p_conflict (doc_id, key, kind, record, detail_json, first_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (doc_id, key) DO UPDATE SET kind = excluded.kind, record = excluded.record, detail_json = excluded.detail_json",
            params![doc.to_string(), key, kind, record, detail, now],
        )?;
    }
    Ok(())
}

/// Drops every projection and re-projects every stored document: after a projection change, and
/// to check that the incremental projections are right.
pub fn rebuild_all(
    conn: &mut Connection,
    settings: &CampaignSettings,
    now: i64,
) -> Result<usize, ProjectionError> {
    let tx = conn.transaction()?;
    // Conflicts are not wiped: `project` upserts each document's open conflicts and drops the
    // ones gone, so a conflict keeps the time it was first seen across a rebuild.
    for table in [
        "p_building",
        "p_household",
        "p_item",
        "p_event",
        "p_photo_ref",
    ] {
        tx.execute(&format!("DELETE FROM {table}"), [])?;
    }
    tx.execute(
        "DELETE FROM p_conflict WHERE doc_id NOT IN (SELECT doc_id FROM doc)",
        [],
    )?;
    let ids = documents::all_ids(&tx)?;
    for id in &ids {
        if let Some(doc) = documents::load(&tx, *id)? {
            project(&tx, &doc, settings, now)?;
        }
    }
    tx.commit()?;
    Ok(ids.len())
}
