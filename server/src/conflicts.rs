//! What a supervisor must look at: open conflicts (`GET /v1/conflicts`) and possible duplicate
//! buildings and households (`GET /v1/duplicates`), both limited by the caller's scope.
//!
//! Conflict details carry every concurrent write; each gets a `who` (the account behind the
//! automerge actor), and the values of owner name / phone are masked like everywhere else.

use std::collections::HashMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use pengwang_shared::household::{mask_name, mask_phone};
use pengwang_shared::role::Scope;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::auth::AuthDevice;
use crate::db::DbError;
use crate::error::AppError;
use crate::ledger::{local_text, mask_value, masked_fields};
use crate::scope;
use crate::state::AppState;

/// At most this many conflicts per answer (oldest first): a list longer than this is worked
/// through, not read.
const MAX_CONFLICTS: i64 = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/conflicts", get(list_conflicts))
        .route("/v1/duplicates", get(list_duplicates))
}

async fn list_conflicts(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Value>, AppError> {
    let scope = device.account.scope;
    let list = state.db.read(move |c| open_conflicts(c, &scope)).await?;
    Ok(Json(json!({ "conflicts": list })))
}

pub(crate) fn open_conflicts(conn: &Connection, scope: &Scope) -> Result<Vec<Value>, DbError> {
    let (cond, params) = scope::filter(scope, "d", "estate_norm");
    let sql = format!(
        "SELECT c.doc_id, c.key, c.kind, c.record, c.detail_json, c.first_seen, b.estate, b.number, d.unit_code, d.street_code
         FROM p_conflict c JOIN doc d ON d.doc_id = c.doc_id LEFT JOIN p_building b ON b.id = c.doc_id
         WHERE {cond} ORDER BY c.first_seen, c.doc_id, c.key LIMIT {MAX_CONFLICTS}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        Ok(json!({
            "doc_id": r.get::<_, String>(0)?, "key": r.get::<_, String>(1)?,
            "kind": r.get::<_, String>(2)?, "record": r.get::<_, String>(3)?,
            "detail": serde_json::from_str::<Value>(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
            "first_seen": local_text(Some(r.get(5)?)),
            "building": { "estate": r.get::<_, Option<String>>(6)?, "number": r.get::<_, Option<String>>(7)? },
            "unit_code": r.get::<_, String>(8)?, "street_code": r.get::<_, String>(9)?,
        }))
    })?;
    let mut list: Vec<Value> = rows.collect::<Result<_, _>>()?;
    let mut who = Who::default();
    for c in &mut list {
        let detail = &mut c["detail"];
        for w in writes_mut(detail) {
            annotate_write(conn, &mut who, w)?;
        }
    }
    Ok(list)
}

/// The writes of a field conflict (`writes`) or a tombstone conflict (`deleted_by`, `edits`).
fn writes_mut(detail: &mut Value) -> Vec<&mut Value> {
    let Value::Object(map) = detail else {
        return vec![];
    };
    let mut out = Vec::new();
    for (k, v) in map.iter_mut() {
        match (k.as_str(), v) {
            ("writes" | "edits", Value::Array(a)) => out.extend(a.iter_mut()),
            ("deleted_by", v @ Value::Object(_)) => out.push(v),
            _ => {}
        }
    }
    out
}

/// Adds `who` to one write and masks its value when it is an owner's name or phone.
fn annotate_write(conn: &Connection, who: &mut Who, w: &mut Value) -> Result<(), DbError> {
    let actor = w["actor"].as_str().unwrap_or("").to_owned();
    w["who"] = who.resolve(conn, &actor)?;
    let mask: Option<fn(&str) -> String> = match w["key"].as_str() {
        Some("owner_name") => Some(mask_name),
        Some("owner_phone") => Some(mask_phone),
        _ => None,
    };
    if let Some(mask) = mask {
        w["value"] = mask_value(&w["value"], mask);
    }
    Ok(())
}

/// Actor → account, cached per request.
#[derive(Default)]
struct Who(HashMap<String, Value>);

impl Who {
    /// An actor is a device id (32 hex digits: the UUID without dashes) or, for changes the
    /// server wrote (resolutions), an account id. Unknown actors give `null`.
    fn resolve(&mut self, conn: &Connection, actor: &str) -> Result<Value, DbError> {
        if let Some(v) = self.0.get(actor) {
            return Ok(v.clone());
        }
        let found = match uuid::Uuid::try_parse(actor) {
            Ok(id) => {
                let id = id.hyphenated().to_string();
                let by_device = conn
                    .query_row(
                        "SELECT a.id, a.name, a.role, d.id FROM device d JOIN account a ON a.id = d.account_id WHERE d.id = ?1",
                        [&id],
                        |r| Ok(json!({ "account_id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?, "role": r.get::<_, String>(2)?, "device_id": r.get::<_, String>(3)? })),
                    )
                    .optional()?;
                match by_device {
                    Some(v) => Some(v),
                    None => conn
                        .query_row(
                            "SELECT id, name, role FROM account WHERE id = ?1",
                            [&id],
                            |r| Ok(json!({ "account_id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?, "role": r.get::<_, String>(2)?, "device_id": null })),
                        )
                        .optional()?,
                }
            }
            Err(_) => None,
        };
        let v = found.unwrap_or(Value::Null);
        self.0.insert(actor.to_owned(), v.clone());
        Ok(v)
    }
}

async fn list_duplicates(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Value>, AppError> {
    let scope = device.account.scope;
    let (buildings, households) = state
        .db
        .read(move |c| {
            Ok::<_, DbError>((
                duplicate_buildings(c, &scope)?,
                duplicate_households(c, &scope)?,
            ))
        })
        .await?;
    Ok(Json(
        json!({ "buildings": buildings, "households": households }),
    ))
}

/// Groups consecutive rows `(key, record)` with equal keys.
fn groups(rows: Vec<(Value, Value)>) -> Vec<Value> {
    let mut out: Vec<(Value, Vec<Value>)> = Vec::new();
    for (key, record) in rows {
        match out.last_mut() {
            Some((k, records)) if *k == key => records.push(record),
            _ => out.push((key, vec![record])),
        }
    }
    out.into_iter()
        .map(|(key, records)| json!({ "key": key, "records": records }))
        .collect()
}

/// Buildings (not merged) with the same street, estate and number (normalised): an estate lies
/// in one street, and the same estate name recurs across a district.
pub fn duplicate_buildings(conn: &Connection, scope: &Scope) -> Result<Vec<Value>, DbError> {
    let (cond, params) = scope::filter(scope, "b", "estate_norm");
    let sql = format!(
        "SELECT * FROM (
            SELECT b.street_code, b.estate_norm, b.number_norm, b.id, b.street_code, b.community_code, b.estate, b.number,
                   b.address, b.floors, b.height_m, b.survey_status,
                   {households},
                   (SELECT COUNT(*) FROM p_item t WHERE t.building_id = b.id AND t.deleted = 0),
                   COUNT(*) OVER (PARTITION BY b.street_code, b.estate_norm, b.number_norm) AS n
            FROM p_building b WHERE b.merged_into IS NULL AND {cond})
         WHERE n >= 2 ORDER BY 1, 2, 3, 4",
        households = crate::merge::counted_households("b.id"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let key = json!({ "street_code": r.get::<_, String>(0)?, "estate_norm": r.get::<_, String>(1)?, "number_norm": r.get::<_, String>(2)? });
        let record = json!({
            "id": r.get::<_, String>(3)?, "street_code": r.get::<_, String>(4)?, "community_code": r.get::<_, String>(5)?,
            "estate": r.get::<_, String>(6)?, "number": r.get::<_, String>(7)?, "address": r.get::<_, String>(8)?,
            "floors": r.get::<_, Option<i64>>(9)?, "height_m": r.get::<_, Option<f64>>(10)?,
            "survey_status": r.get::<_, Option<String>>(11)?, "households": r.get::<_, i64>(12)?, "items": r.get::<_, i64>(13)?,
        });
        Ok((key, record))
    })?;
    Ok(groups(rows.collect::<Result<_, _>>()?))
}

/// Households (not deleted, not merged away) with the same 单元 and room (normalised) in one
/// building or in buildings that are themselves duplicates (same street, estate and number) —
/// merged or not: a household of a merged-away building counts under the survivor and may still
/// have a twin there. Personal fields are masked.
pub fn duplicate_households(conn: &Connection, scope: &Scope) -> Result<Vec<Value>, DbError> {
    let (cond, params) = scope::filter(scope, "b", "estate_norm");
    let sql = format!(
        "SELECT * FROM (
            SELECT b.street_code, b.estate_norm, b.number_norm, h.stair_unit, h.room_norm, h.id, h.building_id,
                   b.estate, b.number, h.floor, h.room, h.survey_result, h.fields_json,
                   COUNT(*) OVER (PARTITION BY b.street_code, b.estate_norm, b.number_norm, h.stair_unit, h.room_norm) AS n
            FROM p_household h JOIN p_building b ON b.id = h.building_id
            WHERE h.deleted = 0 AND h.room_norm <> ''
              AND h.id NOT IN (SELECT merged_id FROM household_merge) AND {cond})
         WHERE n >= 2 ORDER BY 1, 2, 3, 4, 5, 6"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let key = json!({
            "street_code": r.get::<_, String>(0)?, "estate_norm": r.get::<_, String>(1)?, "number_norm": r.get::<_, String>(2)?,
            "stair_unit": r.get::<_, String>(3)?, "room_norm": r.get::<_, String>(4)?,
        });
        let fields = masked_fields(&r.get::<_, String>(12)?);
        let record = json!({
            "id": r.get::<_, String>(5)?, "building_id": r.get::<_, String>(6)?,
            "estate": r.get::<_, String>(7)?, "number": r.get::<_, String>(8)?,
            "stair_unit": r.get::<_, String>(3)?, "floor": r.get::<_, Option<i64>>(9)?, "room": r.get::<_, String>(10)?,
            "survey_result": r.get::<_, Option<String>>(11)?,
            "owner_name": fields.get("owner_name").cloned().unwrap_or(Value::Null),
            "owner_phone": fields.get("owner_phone").cloned().unwrap_or(Value::Null),
        });
        Ok((key, record))
    })?;
    Ok(groups(rows.collect::<Result<_, _>>()?))
}
