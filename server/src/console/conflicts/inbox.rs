//! The inbox's rows: open conflicts in scope with the record each is about and, for a lifecycle
//! fork, the events and photos of each branch since the branches parted.

use std::collections::{BTreeMap, HashSet};

use pengwang_shared::document::RecordRef;
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::item::Category;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};

use super::{record_of, text};
use crate::console::layout::local_time;
use crate::db::DbError;
use crate::error::AppError;
use crate::{conflicts, photos};

/// The open conflicts in scope (writes annotated with who, personal values masked), each with
/// the record it is about (`place`, `link`) and, for a fork, its branches' events and photos.
pub(super) fn rows(conn: &Connection, scope: &Scope) -> Result<Vec<Value>, AppError> {
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
