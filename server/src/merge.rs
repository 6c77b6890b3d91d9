//! Merging duplicates (DESIGN §7): a building or a household recorded twice is merged by a
//! supervisor (street checker or above, both records in scope). A merge links; it copies nothing:
//!
//! - only a pair of the suspected-duplicate list is merged (one street, the same normalised
//!   estate and number; for households also the same 单元 and room), anything else is a 409;
//! - the merged-away building keeps its document, untouched, so phones that still hold or edit it
//!   lose nothing and keep converging with the server; its projection row points to the survivor
//!   (`p_building.merged_into`), it is no longer counted as a building, and every view — ledger
//!   tally, 排查进度, item list, 附件2, charts, deadlines — counts its households and items under
//!   the survivor ([`ITEM_BUILDING`], [`HOUSEHOLD_BUILDING`]), whose page lists them;
//! - a merged-away household's items are counted under the surviving household
//!   (`p_item.household_id`; the document's own household stays in `doc_household_id`), so a
//!   household recorded in both buildings counts once, completed only when all its items are,
//!   and the merged-away household is no longer counted or listed ([`HOUSEHOLD_COUNTS`]);
//! - merging buildings also merges their households that share 单元 and room.
//!
//! Every item, event and photo stays where it was recorded. The links live in `building_merge` /
//! `household_merge`, and triggers (migration 0008) re-apply them whenever a document is
//! re-projected or the projections are rebuilt. Each merge writes an audit row.

use pengwang_shared::id::{BuildingId, HouseholdId};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Scope};
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};

use crate::audit::{self, Action, NewAudit};
use crate::db::DbError;
use crate::error::AppError;

/// SQL: the building an item (alias `t`) counts under. That is the building of the household it
/// counts under (`p_item.household_id`, already the survivor of a household merge), or its own
/// document's building for an item on common parts — and, when that building was merged away,
/// its survivor. Every count of items (ledger, survey, item list, 附件2, charts) joins
/// `p_building` on this, so an item counts once, under one building, everywhere.
pub const ITEM_BUILDING: &str = "(SELECT COALESCE(cb.merged_into, cb.id) FROM p_building cb
    WHERE cb.id = COALESCE((SELECT ch.building_id FROM p_household ch WHERE ch.id = t.household_id), t.building_id))";

/// SQL: the building a household (alias `h`) counts under: its own, or the survivor its
/// building was merged into.
pub const HOUSEHOLD_BUILDING: &str =
    "(SELECT COALESCE(cb.merged_into, cb.id) FROM p_building cb WHERE cb.id = h.building_id)";

/// SQL: the number of households counted in building `building` (an SQL expression naming a
/// building id): live households of its own and of the buildings merged into it, leaving out
/// households merged away.
pub fn counted_households(building: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM p_household ch2 WHERE ch2.deleted = 0
            AND ch2.id NOT IN (SELECT merged_id FROM household_merge)
            AND ch2.building_id IN (SELECT {building} UNION ALL SELECT merged_id FROM building_merge WHERE survivor_id = {building}))"
    )
}

/// SQL: a household (alias `h`) counts as a household of its own: it was not merged away (a
/// merged-away household's items count under its survivor).
pub const HOUSEHOLD_COUNTS: &str = "h.id NOT IN (SELECT merged_id FROM household_merge)";

/// What a merge did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    pub survivor: String,
    pub merged: String,
    /// Households linked along with a building merge (or 1 for a household merge).
    pub households: u64,
}

/// A building as a merge checks it.
struct BuildingRow {
    location: Location,
    merged_into: Option<String>,
    /// The duplicate key of [`crate::conflicts::duplicate_buildings`]: normalised estate and
    /// building number (the street is in `location`).
    estate_norm: String,
    number_norm: String,
}

fn supervisor(account: &AccountInfo) -> Result<(), AppError> {
    if !account.role.can_write() {
        return Err(AppError::forbidden(
            "read_only",
            "消防救援账号为只读，不能修改数据",
        ));
    }
    if !account.role.is_street() {
        return Err(AppError::forbidden(
            "not_supervisor",
            "只有街道核查员及以上账号可以合并重复记录",
        ));
    }
    Ok(())
}

fn building_row(conn: &Connection, id: &str) -> Result<Option<BuildingRow>, DbError> {
    let row = conn
        .query_row(
            "SELECT unit_code, street_code, community_code, estate, merged_into, estate_norm, number_norm
             FROM p_building WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    (
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ),
                    r.get::<_, Option<String>>(4)?,
                    (r.get::<_, String>(5)?, r.get::<_, String>(6)?),
                ))
            },
        )
        .optional()?;
    let Some(((unit, street, community, estate), merged_into, (estate_norm, number_norm))) = row
    else {
        return Ok(None);
    };
    let bad = |e| DbError::corrupt("p_building place", e);
    let location = Location {
        unit: UnitCode::parse(&unit).map_err(bad)?,
        street: StreetCode::parse(&street).map_err(bad)?,
        community: CommunityCode::parse(&community).map_err(bad)?,
        estate,
    };
    Ok(Some(BuildingRow {
        location,
        merged_into,
        estate_norm,
        number_norm,
    }))
}

/// A building in scope, or 404 as if unknown.
fn visible_building(conn: &Connection, scope: &Scope, id: &str) -> Result<BuildingRow, AppError> {
    building_row(conn, id)?
        .filter(|b| scope.covers(&b.location))
        .ok_or_else(|| AppError::not_found("unknown_building", format!("没有找到楼栋 {id}")))
}

/// Merges building `merged` into `survivor`. Both must be in the caller's scope and a pair of the
/// suspected-duplicate list (one street, the same normalised estate and number), and neither
/// already merged away.
pub fn merge_buildings(
    conn: &mut Connection,
    account: &AccountInfo,
    survivor: BuildingId,
    merged: BuildingId,
    note: &str,
    now: Timestamp,
) -> Result<Merged, AppError> {
    supervisor(account)?;
    let (s_id, m_id) = (survivor.to_string(), merged.to_string());
    if s_id == m_id {
        return Err(AppError::bad_request(
            "same_record",
            "保留的楼栋和被合并的楼栋是同一条记录",
        ));
    }
    let s = visible_building(conn, &account.scope, &s_id)?;
    let m = visible_building(conn, &account.scope, &m_id)?;
    for (id, b) in [(&s_id, &s), (&m_id, &m)] {
        if let Some(into) = &b.merged_into {
            let msg = format!("楼栋 {id} 已合并到 {into}，不能再合并");
            return Err(AppError::conflict("already_merged", msg));
        }
    }
    if s.location.street != m.location.street {
        return Err(AppError::conflict(
            "not_duplicates",
            "两栋楼不在同一街道，不能作为重复记录合并",
        ));
    }
    // Only a pair on the suspected-duplicate list: one street, the same estate and number.
    if (&s.estate_norm, &s.number_norm) != (&m.estate_norm, &m.number_norm) {
        return Err(AppError::conflict(
            "not_duplicates",
            "两栋楼的小区名称或楼栋号不同，不在疑似重复名单上，不能合并；如确为同一栋楼，请先在手机上更正小区或楼栋号",
        ));
    }
    let tx = conn.transaction()?;
    // Twins first, while each side's earlier merges still name their own survivor.
    let households = link_twin_households(&tx, account, &s_id, &m_id, now)?;
    tx.execute(
        "INSERT INTO building_merge (merged_id, survivor_id, by_account, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![m_id, s_id, account.id.to_string(), now.0, note.trim()],
    )?;
    // Buildings merged into the merged-away one earlier now point at the survivor: no chains.
    tx.execute(
        "UPDATE building_merge SET survivor_id = ?2 WHERE survivor_id = ?1",
        params![m_id, s_id],
    )?;
    tx.execute(
        "UPDATE p_building SET merged_into = ?2 WHERE id = ?1 OR merged_into = ?1",
        params![m_id, s_id],
    )?;
    let detail = json!({ "kind": "building", "survivor": s_id, "merged": m_id, "households": households, "note": note.trim() })
        .to_string();
    audit_merge(&tx, account, &format!("buildings/{m_id}"), &detail, now)?;
    tx.commit()?;
    tracing::info!(survivor = %s_id, merged = %m_id, households, "buildings merged");
    Ok(Merged {
        survivor: s_id,
        merged: m_id,
        households,
    })
}

/// Links each household of `merged` (or of a building merged into it earlier) to the survivor's
/// household (or one of a building merged into the survivor earlier) with the same 单元 and room.
fn link_twin_households(
    tx: &Transaction<'_>,
    account: &AccountInfo,
    survivor: &str,
    merged: &str,
    now: Timestamp,
) -> Result<u64, AppError> {
    let pairs: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT m.id, MIN(s.id) FROM p_household m JOIN p_household s
               ON s.building_id IN (SELECT ?2 UNION ALL SELECT merged_id FROM building_merge WHERE survivor_id = ?2)
              AND s.deleted = 0 AND s.stair_unit = m.stair_unit AND s.room_norm = m.room_norm
             WHERE m.building_id IN (SELECT ?1 UNION ALL SELECT merged_id FROM building_merge WHERE survivor_id = ?1)
               AND m.deleted = 0 AND m.room_norm <> ''
               AND m.id NOT IN (SELECT merged_id FROM household_merge)
               AND s.id NOT IN (SELECT merged_id FROM household_merge)
             GROUP BY m.id ORDER BY m.id",
        )?;
        let rows = stmt.query_map(params![merged, survivor], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (m, s) in &pairs {
        link_household(tx, account, s, m, "随楼栋合并", now)?;
    }
    Ok(pairs.len() as u64)
}

fn link_household(
    tx: &Transaction<'_>,
    account: &AccountInfo,
    survivor: &str,
    merged: &str,
    note: &str,
    now: Timestamp,
) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO household_merge (merged_id, survivor_id, by_account, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![merged, survivor, account.id.to_string(), now.0, note],
    )?;
    tx.execute(
        "UPDATE household_merge SET survivor_id = ?2 WHERE survivor_id = ?1",
        params![merged, survivor],
    )?;
    tx.execute(
        "UPDATE p_item SET household_id = ?2 WHERE household_id = ?1",
        params![merged, survivor],
    )?;
    Ok(())
}

/// Merges household `merged` into `survivor`: both live (not deleted), in scope, a pair of the
/// suspected-duplicate list (one building or two records of it — same street, estate and number
/// — and the same 单元 and room), and neither merged away already.
pub fn merge_households(
    conn: &mut Connection,
    account: &AccountInfo,
    survivor: HouseholdId,
    merged: HouseholdId,
    note: &str,
    now: Timestamp,
) -> Result<Merged, AppError> {
    supervisor(account)?;
    let (s_id, m_id) = (survivor.to_string(), merged.to_string());
    if s_id == m_id {
        return Err(AppError::bad_request(
            "same_record",
            "保留的住户和被合并的住户是同一条记录",
        ));
    }
    let (s, s_room) = visible_household(conn, &account.scope, &s_id)?;
    let (m, m_room) = visible_household(conn, &account.scope, &m_id)?;
    if s.location.street != m.location.street {
        return Err(AppError::conflict(
            "not_duplicates",
            "两户不在同一街道，不能作为重复记录合并",
        ));
    }
    // Only a pair on the suspected-duplicate list: the same building (or two records of it:
    // same estate and number) and the same 单元 and room.
    if (&s.estate_norm, &s.number_norm) != (&m.estate_norm, &m.number_norm) {
        return Err(AppError::conflict(
            "not_duplicates",
            "两户不在同一栋楼（小区名称或楼栋号不同），不在疑似重复名单上，不能合并",
        ));
    }
    if s_room != m_room || s_room.1.is_empty() {
        return Err(AppError::conflict(
            "not_duplicates",
            "两户的单元或房号不同（或未填房号），不在疑似重复名单上，不能合并",
        ));
    }
    let already: Option<String> = conn
        .query_row(
            "SELECT merged_id FROM household_merge WHERE merged_id IN (?1, ?2)",
            params![s_id, m_id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = already {
        let msg = format!("住户 {id} 已合并到其他住户，不能再合并");
        return Err(AppError::conflict("already_merged", msg));
    }
    let tx = conn.transaction()?;
    link_household(&tx, account, &s_id, &m_id, note.trim(), now)?;
    let detail =
        json!({ "kind": "household", "survivor": s_id, "merged": m_id, "note": note.trim() })
            .to_string();
    audit_merge(&tx, account, &format!("households/{m_id}"), &detail, now)?;
    tx.commit()?;
    tracing::info!(survivor = %s_id, merged = %m_id, "households merged");
    Ok(Merged {
        survivor: s_id,
        merged: m_id,
        households: 1,
    })
}

/// A live household's building in scope and its (单元, normalised room), or 404 as if unknown.
fn visible_household(
    conn: &Connection,
    scope: &Scope,
    id: &str,
) -> Result<(BuildingRow, (String, String)), AppError> {
    let unknown = || AppError::not_found("unknown_household", format!("没有找到住户 {id}"));
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT building_id, stair_unit, room_norm FROM p_household WHERE id = ?1 AND deleted = 0",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (building, stair_unit, room_norm) = row.ok_or_else(unknown)?;
    let b = building_row(conn, &building)?
        .filter(|b| scope.covers(&b.location))
        .ok_or_else(unknown)?;
    Ok((b, (stair_unit, room_norm)))
}

fn audit_merge(
    tx: &Transaction<'_>,
    account: &AccountInfo,
    target: &str,
    detail: &str,
    now: Timestamp,
) -> Result<(), rusqlite::Error> {
    audit::record(
        tx,
        &NewAudit {
            at: now,
            actor: Some(account.id),
            action: Action::DuplicateMerge,
            target,
            detail,
        },
    )
}

/// The buildings merged into `survivor`, oldest merge first.
pub fn absorbed(conn: &Connection, survivor: &str) -> Result<Vec<String>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT merged_id FROM building_merge WHERE survivor_id = ?1 ORDER BY at, merged_id",
    )?;
    let rows = stmt.query_map([survivor], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Possible duplicates in scope: the lists of [`crate::conflicts`], which leave out merged-away
/// buildings and households.
pub fn open_duplicates(
    conn: &Connection,
    scope: &Scope,
) -> Result<(Vec<Value>, Vec<Value>), DbError> {
    Ok((
        crate::conflicts::duplicate_buildings(conn, scope)?,
        crate::conflicts::duplicate_households(conn, scope)?,
    ))
}
