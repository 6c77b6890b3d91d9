//! The ledger (台账): a JSON drill-down city → unit → street → community → building → household
//! → item → event, read from the projections. Every query is limited by the caller's scope, and a
//! unit, street or building outside it is refused with 403 `out_of_scope`.
//!
//! Owner names and phones are masked on the way out (DESIGN §8) and never logged.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::household::{mask_name, mask_phone};
use pengwang_shared::item::Category;
use pengwang_shared::region::{RegionCatalog, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Scope};
use pengwang_shared::time::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::auth::AuthDevice;
use crate::db::DbError;
use crate::error::AppError;
use crate::merge;
use crate::photos::{self, ItemEvidence, LACKS_EVIDENCE};
use crate::scope;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/ledger", get(city))
        .route("/v1/ledger/units/{unit}", get(unit))
        .route("/v1/ledger/streets/{street}", get(street))
        .route("/v1/ledger/buildings/{id}", get(building))
}

/// Totals of one node of the drill-down (a unit, a street, a building).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// 高层 buildings (not merged into another).
    pub buildings_high_rise: u64,
    /// 多层 buildings.
    pub buildings_multi_storey: u64,
    /// Households with at least one live (non-VOID, not deleted) hazard item.
    pub households_with_hazards: u64,
    /// Live items by state code (`closed`, `notified` …); `unknown` when the fold has no state.
    pub items: BTreeMap<String, u64>,
    /// Open conflicts (field, tombstone, fork) in the buildings' documents.
    pub open_conflicts: u64,
    /// Live CLOSED items a valid event of which references a photo that never arrived: not
    /// evidenced closures (DESIGN §8).
    pub closed_without_evidence: u64,
}

/// What a tally groups by: a column of `p_building` (alias `b`), and its twin on `doc` (alias `d`)
/// as an SQL expression.
#[derive(Clone, Copy)]
pub(crate) struct Level {
    building: &'static str,
    doc: &'static str,
}

pub(crate) const BY_UNIT: Level = Level {
    building: "unit_code",
    doc: "d.unit_code",
};
pub(crate) const BY_STREET: Level = Level {
    building: "street_code",
    doc: "d.street_code",
};
/// A merged-away building's conflicts count under its survivor, like its items.
pub(crate) const BY_BUILDING: Level = Level {
    building: "id",
    doc: "COALESCE((SELECT mb.merged_into FROM p_building mb WHERE mb.id = d.doc_id), d.doc_id)",
};

/// Counts per `level` value of everything in `scope`, further limited by `within`
/// (`(column, value)` on both `p_building` and `doc`, e.g. the unit being drilled into). Items
/// and households count under the building they count in ([`merge::ITEM_BUILDING`]): a
/// merged-away building's under its survivor, a merged-away household's under its survivor.
pub(crate) fn tally(
    conn: &Connection,
    scope: &Scope,
    level: Level,
    within: Option<(&str, &str)>,
) -> Result<BTreeMap<String, Counts>, DbError> {
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    let g = level.building;
    let q = |sql: &str, alias: &str, f: &mut dyn FnMut(&Row<'_>) -> rusqlite::Result<()>| {
        let (mut cond, mut params) = scope::filter(scope, alias, "estate_norm");
        if let Some((col, v)) = within {
            cond = format!("{cond} AND {alias}.{col} = ?");
            params.push(Sql::Text(v.to_owned()));
        }
        let sql = sql.replace("{scope}", &cond);
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            f(r)?;
        }
        Ok::<_, rusqlite::Error>(())
    };
    q(
        &format!("SELECT b.{g}, b.high_rise, COUNT(*) FROM p_building b WHERE b.merged_into IS NULL AND {{scope}} GROUP BY 1, 2"),
        "b",
        &mut |r| {
            let c = out.entry(r.get(0)?).or_default();
            let n: u64 = r.get(2)?;
            if r.get::<_, bool>(1)? {
                c.buildings_high_rise = n;
            } else {
                c.buildings_multi_storey = n;
            }
            Ok(())
        },
    )?;
    q(
        &format!("SELECT b.{g}, COUNT(DISTINCT t.household_id) FROM p_item t JOIN p_building b ON b.id = {item_building}
                  WHERE t.deleted = 0 AND t.household_id IS NOT NULL AND t.state IS NOT NULL AND t.state <> 'void' AND {{scope}} GROUP BY 1", item_building = merge::ITEM_BUILDING),
        "b",
        &mut |r| {
            out.entry(r.get(0)?).or_default().households_with_hazards = r.get(1)?;
            Ok(())
        },
    )?;
    q(
        &format!("SELECT b.{g}, COALESCE(t.state, 'unknown'), COUNT(*) FROM p_item t JOIN p_building b ON b.id = {item_building}
                  WHERE t.deleted = 0 AND {{scope}} GROUP BY 1, 2", item_building = merge::ITEM_BUILDING),
        "b",
        &mut |r| {
            let n: u64 = r.get(2)?;
            out.entry(r.get(0)?).or_default().items.insert(r.get(1)?, n);
            Ok(())
        },
    )?;
    q(
        &format!("SELECT b.{g}, COUNT(*) FROM p_item t JOIN p_building b ON b.id = {item_building}
                  WHERE t.deleted = 0 AND t.state = 'closed' AND {LACKS_EVIDENCE} AND {{scope}} GROUP BY 1", item_building = merge::ITEM_BUILDING),
        "b",
        &mut |r| {
            out.entry(r.get(0)?).or_default().closed_without_evidence = r.get(1)?;
            Ok(())
        },
    )?;
    q(
        &format!(
            "SELECT {}, COUNT(*) FROM p_conflict c JOIN doc d ON d.doc_id = c.doc_id WHERE {{scope}} GROUP BY 1",
            level.doc
        ),
        "d",
        &mut |r| {
            out.entry(r.get(0)?).or_default().open_conflicts = r.get(1)?;
            Ok(())
        },
    )?;
    Ok(out)
}

/// Whether any of `unit` is visible to `scope`: all of it, or the caller's street / community.
pub fn sees_unit(catalog: &RegionCatalog, scope: &Scope, unit: &UnitCode) -> bool {
    scope.covers_unit(unit)
        || scope_street(scope)
            .and_then(|s| catalog.streets.get(&s))
            .is_some_and(|st| &st.unit == unit)
}

/// Whether any of `street` is visible to `scope`.
pub fn sees_street(catalog: &RegionCatalog, scope: &Scope, street: &StreetCode) -> bool {
    match scope {
        Scope::City => true,
        Scope::Unit { unit } => catalog.streets.get(street).is_some_and(|s| &s.unit == unit),
        _ => scope_street(scope).as_ref() == Some(street),
    }
}

/// The one street a street, community or estates scope lies in.
fn scope_street(scope: &Scope) -> Option<StreetCode> {
    match scope {
        Scope::City | Scope::Unit { .. } => None,
        Scope::Street { street } => Some(street.clone()),
        Scope::Community { community } | Scope::Estates { community, .. } => {
            Some(community.street())
        }
    }
}

fn out_of_scope(what: &str, scope: &Scope) -> AppError {
    AppError::forbidden(
        "out_of_scope",
        format!("{what} is outside your scope ({})", scope.describe()),
    )
}

#[derive(Serialize)]
struct Node {
    code: String,
    name: String,
    #[serde(flatten)]
    counts: Counts,
}

/// `GET /v1/ledger`: the reporting units the caller sees, with totals.
async fn city(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
) -> Result<Json<Value>, AppError> {
    let scope = device.account.scope.clone();
    let counts = state
        .db
        .read(move |c| tally(c, &scope, BY_UNIT, None))
        .await?;
    let scope = &device.account.scope;
    let units: Vec<Node> = state
        .catalog
        .units
        .iter()
        .filter(|u| sees_unit(&state.catalog, scope, &u.code))
        .map(|u| Node {
            code: u.code.to_string(),
            name: u.name.clone(),
            counts: counts.get(u.code.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(Json(json!({ "units": units })))
}

/// `GET /v1/ledger/units/{unit}`: the unit's streets the caller sees, with totals.
async fn unit(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(code): Path<String>,
) -> Result<Json<Value>, AppError> {
    let code =
        UnitCode::parse(&code).map_err(|e| AppError::bad_request("invalid_unit", e.to_string()))?;
    let Some(u) = state.catalog.unit(&code) else {
        return Err(AppError::not_found(
            "unit_not_found",
            format!("no reporting unit {code}"),
        ));
    };
    let scope = device.account.scope.clone();
    if !sees_unit(&state.catalog, &scope, &code) {
        return Err(out_of_scope(&format!("reporting unit {code}"), &scope));
    }
    let (s2, c2) = (scope.clone(), code.to_string());
    let counts = state
        .db
        .read(move |c| tally(c, &s2, BY_STREET, Some(("unit_code", &c2))))
        .await?;
    let streets: Vec<Node> = state
        .catalog
        .streets_of(&code)
        .filter(|s| sees_street(&state.catalog, &scope, &s.code))
        .map(|s| Node {
            code: s.code.to_string(),
            name: s.name.clone(),
            counts: counts.get(s.code.as_str()).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(Json(
        json!({ "code": code, "name": u.name, "streets": streets }),
    ))
}

#[derive(Serialize)]
pub(crate) struct BuildingRow {
    pub id: String,
    pub community_code: String,
    pub estate: String,
    pub number: String,
    pub address: String,
    pub high_rise: bool,
    pub needs_height_check: bool,
    pub survey_status: Option<String>,
    pub households: u64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// `GET /v1/ledger/streets/{street}`: communities → buildings, each with its counts.
async fn street(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(code): Path<String>,
) -> Result<Json<Value>, AppError> {
    let code = StreetCode::parse(&code)
        .map_err(|e| AppError::bad_request("invalid_street", e.to_string()))?;
    let Some(st) = state.catalog.streets.get(&code) else {
        return Err(AppError::not_found(
            "street_not_found",
            format!("no street {code}"),
        ));
    };
    let scope = device.account.scope.clone();
    if !sees_street(&state.catalog, &scope, &code) {
        return Err(out_of_scope(&format!("street {code}"), &scope));
    }
    let (s2, c2) = (scope.clone(), code.to_string());
    let buildings = state
        .db
        .read(move |c| street_buildings(c, &s2, &c2))
        .await?;
    let mut communities: Vec<Value> = Vec::new();
    let mut by_community: BTreeMap<String, Vec<BuildingRow>> = BTreeMap::new();
    for b in buildings {
        by_community
            .entry(b.community_code.clone())
            .or_default()
            .push(b);
    }
    for (cc, list) in by_community {
        let name = pengwang_shared::region::CommunityCode::parse(&cc)
            .ok()
            .and_then(|c| state.catalog.communities.get(&c))
            .map(|c| c.name.clone());
        communities.push(json!({ "code": cc, "name": name, "buildings": list }));
    }
    Ok(Json(json!({
        "code": code, "name": st.name, "unit": st.unit, "communities": communities
    })))
}

pub(crate) fn street_buildings(
    conn: &Connection,
    scope: &Scope,
    street: &str,
) -> Result<Vec<BuildingRow>, DbError> {
    let mut counts = tally(conn, scope, BY_BUILDING, Some(("street_code", street)))?;
    let (cond, mut params) = scope::filter(scope, "b", "estate_norm");
    params.push(Sql::Text(street.to_owned()));
    let sql = format!(
        "SELECT b.id, b.community_code, b.estate, b.number, b.address, b.high_rise, b.needs_height_check, b.survey_status,
                {households}
         FROM p_building b WHERE {cond} AND b.street_code = ? AND b.merged_into IS NULL
         ORDER BY b.community_code, b.estate_norm, b.number_norm, b.id",
        households = merge::counted_households("b.id"),
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let id: String = r.get(0)?;
        Ok(BuildingRow {
            counts: counts.remove(&id).unwrap_or_default(),
            id,
            community_code: r.get(1)?,
            estate: r.get(2)?,
            number: r.get(3)?,
            address: r.get(4)?,
            high_rise: r.get(5)?,
            needs_height_check: r.get(6)?,
            survey_status: r.get(7)?,
            households: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `GET /v1/ledger/buildings/{id}`: one building with its households (masked) and items with
/// their events.
async fn building(
    State(state): State<AppState>,
    AuthDevice(device): AuthDevice,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let scope = device.account.scope.clone();
    state
        .db
        .read(move |c| building_detail(c, &scope, &id))
        .await
        .map(Json)
}

pub(crate) fn building_detail(
    conn: &Connection,
    scope: &Scope,
    id: &str,
) -> Result<Value, AppError> {
    let row = conn
        .query_row(
            "SELECT id, unit_code, street_code, community_code, estate, number, address, building_use, height_m, floors,
                    high_rise, needs_height_check, survey_status, merged_into, fields_json
             FROM p_building WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    json!({
                        "id": r.get::<_, String>(0)?, "unit_code": r.get::<_, String>(1)?,
                        "street_code": r.get::<_, String>(2)?, "community_code": r.get::<_, String>(3)?,
                        "estate": r.get::<_, String>(4)?, "number": r.get::<_, String>(5)?,
                        "address": r.get::<_, String>(6)?, "use": r.get::<_, Option<String>>(7)?,
                        "height_m": r.get::<_, Option<f64>>(8)?, "floors": r.get::<_, Option<i64>>(9)?,
                        "high_rise": r.get::<_, bool>(10)?, "needs_height_check": r.get::<_, bool>(11)?,
                        "survey_status": r.get::<_, Option<String>>(12)?, "merged_into": r.get::<_, Option<String>>(13)?,
                        "fields": parse_json(&r.get::<_, String>(14)?),
                    }),
                    (r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?),
                ))
            },
        )
        .optional()?;
    let Some((mut b, (unit, street, community, estate))) = row else {
        return Err(AppError::not_found(
            "building_not_found",
            format!("no building {id}"),
        ));
    };
    let loc = Location {
        unit: UnitCode::parse(&unit).map_err(|e| DbError::corrupt("building unit", e))?,
        street: StreetCode::parse(&street).map_err(|e| DbError::corrupt("building street", e))?,
        community: pengwang_shared::region::CommunityCode::parse(&community)
            .map_err(|e| DbError::corrupt("building community", e))?,
        estate,
    };
    if !scope.covers(&loc) {
        return Err(out_of_scope(&format!("building {id}"), scope));
    }
    if let Some(survivor) = b["merged_into"].as_str().map(str::to_owned) {
        // Merged away: what it recorded counts (and is listed) under the survivor only.
        b["survivor"] = building_ref(conn, &survivor)?;
        b["recorded"] = recorded(conn, id)?;
        b["households"] = json!([]);
        b["items"] = json!([]);
    } else {
        b["absorbed"] = Value::Array(absorbed(conn, id)?);
        b["households"] = Value::Array(households(conn, id)?);
        b["items"] = Value::Array(items(conn, id)?);
    }
    Ok(b)
}

/// Id, estate and number of a building, for a link.
fn building_ref(conn: &Connection, id: &str) -> Result<Value, DbError> {
    Ok(conn
        .query_row(
            "SELECT estate, number FROM p_building WHERE id = ?1",
            [id],
            |r| Ok(json!({ "id": id, "estate": r.get::<_, String>(0)?, "number": r.get::<_, String>(1)? })),
        )
        .optional()?
        .unwrap_or_else(|| json!({ "id": id, "estate": null, "number": null })))
}

/// What a merged-away building recorded: its live households and items.
fn recorded(conn: &Connection, id: &str) -> Result<Value, DbError> {
    let (households, items): (i64, i64) = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM p_household WHERE building_id = ?1 AND deleted = 0),
                (SELECT COUNT(*) FROM p_item WHERE building_id = ?1 AND deleted = 0)",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(json!({ "households": households, "items": items }))
}

/// The buildings merged into `survivor`, with when and why.
fn absorbed(conn: &Connection, survivor: &str) -> Result<Vec<Value>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT m.merged_id, b.estate, b.number, m.at, m.note FROM building_merge m
         LEFT JOIN p_building b ON b.id = m.merged_id WHERE m.survivor_id = ?1 ORDER BY m.at, m.merged_id",
    )?;
    let rows = stmt.query_map([survivor], |r| {
        Ok(json!({
            "id": r.get::<_, String>(0)?, "estate": r.get::<_, Option<String>>(1)?,
            "number": r.get::<_, Option<String>>(2)?, "merged_at": local_text(Some(r.get(3)?)),
            "note": r.get::<_, String>(4)?,
        }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The documents whose records count in `building`: itself and the buildings merged into it
/// (`docs`), and besides those (`sources`) the buildings of households merged into one of theirs.
fn counted_sources(conn: &Connection, building: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare(
        "WITH docs(id) AS (SELECT ?1 UNION SELECT merged_id FROM building_merge WHERE survivor_id = ?1)
         SELECT id FROM docs
         UNION
         SELECT mh.building_id FROM p_household sh JOIN household_merge hm ON hm.survivor_id = sh.id
           JOIN p_household mh ON mh.id = hm.merged_id
         WHERE sh.building_id IN (SELECT id FROM docs)",
    )?;
    let rows = stmt.query_map([building], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The households counted in `building`: its own and those of buildings merged into it, less
/// those merged away (each survivor names the records merged into it, `merged_from`). A record
/// of another document names it in `recorded_in`.
fn households(conn: &Connection, building: &str) -> Result<Vec<Value>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT h.id, h.stair_unit, h.floor, h.room, h.survey_result, h.deleted, h.fields_json, h.building_id,
                (SELECT group_concat(merged_id) FROM household_merge WHERE survivor_id = h.id)
         FROM p_household h
         WHERE h.building_id IN (SELECT ?1 UNION SELECT merged_id FROM building_merge WHERE survivor_id = ?1)
           AND h.id NOT IN (SELECT merged_id FROM household_merge)
         ORDER BY h.stair_unit, h.floor, h.room_norm, h.id",
    )?;
    let rows = stmt.query_map([building], |r| {
        let fields = masked_fields(&r.get::<_, String>(6)?);
        let doc: String = r.get(7)?;
        let merged_from: Vec<String> = r
            .get::<_, Option<String>>(8)?
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(json!({
            "id": r.get::<_, String>(0)?, "stair_unit": r.get::<_, String>(1)?,
            "floor": r.get::<_, Option<i64>>(2)?, "room": r.get::<_, String>(3)?,
            "survey_result": r.get::<_, Option<String>>(4)?, "deleted": r.get::<_, bool>(5)?,
            "owner_name": fields.get("owner_name").cloned().unwrap_or(Value::Null),
            "owner_phone": fields.get("owner_phone").cloned().unwrap_or(Value::Null),
            "fields": Value::Object(fields),
            "recorded_in": (doc != building).then_some(doc),
            "merged_from": merged_from,
        }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A household's fields with `owner_name` / `owner_phone` masked (张*, 138****1234).
pub fn masked_fields(json: &str) -> Map<String, Value> {
    let mut fields = match parse_json(json) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    mask_personal(&mut fields);
    fields
}

/// Masks the personal fields of one record's field map in place.
pub fn mask_personal(fields: &mut Map<String, Value>) {
    for (key, mask) in [
        ("owner_name", mask_name as fn(&str) -> String),
        ("owner_phone", mask_phone),
    ] {
        if let Some(v) = fields.get_mut(key) {
            *v = mask_value(v, mask);
        }
    }
}

/// A personal value masked; anything that is not text becomes null.
pub fn mask_value(v: &Value, mask: fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(mask(s)),
        _ => Value::Null,
    }
}

/// The items counted in `building` ([`merge::ITEM_BUILDING`]), with their events and photos. An
/// item recorded in another document (a merged-away building or household) names it in
/// `recorded_in`.
fn items(conn: &Connection, building: &str) -> Result<Vec<Value>, DbError> {
    let sources = counted_sources(conn, building)?;
    let mut events_by_item = BTreeMap::new();
    let mut evidence = BTreeMap::new();
    for doc in &sources {
        events_by_item.extend(events(conn, doc)?);
        evidence.extend(photos::item_evidence(conn, doc)?);
    }
    let events = &mut events_by_item;
    let marks = vec!["?"; sources.len()].join(", ");
    let sql = format!(
        "SELECT t.id, t.household_id, t.category, t.state, t.completed_at, t.found_at, t.persuasion_count, t.forked,
                t.invalid_events, t.deleted, t.fields_json, t.building_id
         FROM p_item t WHERE t.building_id IN ({marks}) AND {item_building} = ?
         ORDER BY t.household_id, t.category, t.found_at, t.id",
        item_building = merge::ITEM_BUILDING,
    );
    let mut stmt = conn.prepare(&sql)?;
    let params = sources
        .iter()
        .map(String::as_str)
        .chain([building])
        .map(|s| Sql::Text(s.to_owned()));
    let rows = stmt.query_map(params_from_iter(params), |r| {
        let doc: String = r.get(11)?;
        let id: String = r.get(0)?;
        let category: String = r.get(2)?;
        let state: Option<String> = r.get(3)?;
        let ev = evidence.remove(&id).unwrap_or_else(ItemEvidence::none);
        Ok(json!({
            "id": id, "household_id": r.get::<_, Option<String>>(1)?,
            "category": category, "category_label": Category::parse(&category).ok().map(Category::label),
            "state": state, "state_label": state.as_deref().and_then(|s| ItemState::parse(s).ok()).map(ItemState::label),
            "completed_at": local_text(r.get(4)?), "found_at": local_text(r.get(5)?),
            "persuasion_count": r.get::<_, i64>(6)?, "forked": r.get::<_, bool>(7)?,
            "invalid_events": r.get::<_, i64>(8)?, "deleted": r.get::<_, bool>(9)?,
            "fields": parse_json(&r.get::<_, String>(10)?),
            "events": events.remove(&id).unwrap_or_default(),
            "photos": ev.photos, "evidenced": ev.evidenced,
            "recorded_in": (doc != building).then_some(doc),
        }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every event of the building's items, by item, in time order.
fn events(conn: &Connection, building: &str) -> Result<BTreeMap<String, Vec<Value>>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT item_id, id, kind, to_state, at, by_account, role, invalid_reason, note FROM p_event
         WHERE building_id = ?1 ORDER BY item_id, at, id",
    )?;
    let mut rows = stmt.query([building])?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(2)?;
        let to_state: Option<String> = r.get(3)?;
        out.entry(r.get(0)?).or_default().push(json!({
            "id": r.get::<_, String>(1)?,
            "kind": kind, "kind_label": EventKind::parse(&kind).ok().map(EventKind::label),
            "to_state": to_state,
            "to_state_label": to_state.as_deref().and_then(|s| ItemState::parse(s).ok()).map(ItemState::label),
            "at": local_text(Some(r.get(4)?)), "by_account": r.get::<_, String>(5)?,
            "role": r.get::<_, String>(6)?, "invalid_reason": r.get::<_, Option<String>>(7)?,
            "note": r.get::<_, String>(8)?,
        }));
    }
    Ok(out)
}

/// Unix seconds as Asia/Shanghai text, `2026-06-20 14:30:00`.
pub fn local_text(t: Option<i64>) -> Option<String> {
    t.map(|t| Timestamp(t).to_string())
}

fn parse_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}
