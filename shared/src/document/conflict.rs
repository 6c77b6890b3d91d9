//! Conflicts a supervisor must look at, found in the document itself:
//! - a **field conflict**: concurrent writes of different values to one field (`get_all` returns
//!   more than one value, and they differ);
//! - a **tombstone conflict**: a deleted record that was edited concurrently with (or after) its
//!   deletion. The edit is kept in the document; the supervisor decides.
//!
//! Lifecycle forks are found by the fold ([`crate::lifecycle::Fold::fork`]).

use std::collections::HashSet;

use automerge::{Automerge, ChangeHash, ObjId, ReadDoc, ROOT};
use serde::{Deserialize, Serialize};

use super::field::{FieldValue, BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS};
use super::{map_at, DocumentError, RecordRef};
use crate::id::{HouseholdId, ItemId};

/// One concurrent write: its value and who wrote it when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Write {
    pub key: String,
    pub value: FieldValue,
    /// The automerge actor (hex): a device id, or a console account's actor.
    pub actor: String,
    /// Commit time, Unix seconds (device clock).
    pub time: i64,
    pub message: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocConflict {
    Field {
        record: RecordRef,
        key: String,
        writes: Vec<Write>,
    },
    Deleted {
        record: RecordRef,
        deleted_by: Write,
        edits: Vec<Write>,
    },
}

impl DocConflict {
    pub fn record(&self) -> RecordRef {
        match self {
            DocConflict::Field { record, .. } | DocConflict::Deleted { record, .. } => *record,
        }
    }

    /// A stable key: one open conflict per record field, or per deleted record.
    pub fn key(&self) -> String {
        match self {
            DocConflict::Field { record, key, .. } => format!("{}/{key}", record.path()),
            DocConflict::Deleted { record, .. } => format!("{}/deleted", record.path()),
        }
    }
}

/// Every field and tombstone conflict in the document.
pub fn conflicts(doc: &Automerge) -> Result<Vec<DocConflict>, DocumentError> {
    let mut out = Vec::new();
    let building = map_at(doc, &ROOT, "building")?;
    field_conflicts(
        doc,
        RecordRef::Building,
        &building,
        BUILDING_FIELDS.iter().map(|f| f.key),
        &mut out,
    )?;
    let households = map_at(doc, &ROOT, "households")?;
    for key in doc.keys(&households) {
        let obj = map_at(doc, &households, &key)?;
        let record = RecordRef::Household(HouseholdId::parse(&key)?);
        field_conflicts(
            doc,
            record,
            &obj,
            HOUSEHOLD_FIELDS.iter().map(|f| f.key),
            &mut out,
        )?;
        tombstone_conflict(doc, record, &obj, &mut out)?;
    }
    let items = map_at(doc, &ROOT, "items")?;
    for key in doc.keys(&items) {
        let obj = map_at(doc, &items, &key)?;
        let record = RecordRef::Item(ItemId::parse(&key)?);
        field_conflicts(
            doc,
            record,
            &obj,
            ITEM_FIELDS.iter().map(|f| f.key),
            &mut out,
        )?;
        tombstone_conflict(doc, record, &obj, &mut out)?;
    }
    Ok(out)
}

fn field_conflicts<'a>(
    doc: &Automerge,
    record: RecordRef,
    obj: &ObjId,
    keys: impl Iterator<Item = &'a str>,
    out: &mut Vec<DocConflict>,
) -> Result<(), DocumentError> {
    for key in keys {
        let values = doc.get_all(obj, key)?;
        if values.len() > 1 {
            let writes: Vec<Write> = values
                .iter()
                .map(|(v, op)| write_of(doc, key, v, op))
                .collect::<Result<_, _>>()?;
            // Two people who wrote the same value agree: nothing for a supervisor to decide.
            if writes.iter().all(|w| w.value == writes[0].value) {
                continue;
            }
            out.push(DocConflict::Field {
                record,
                key: key.to_owned(),
                writes,
            });
        }
    }
    Ok(())
}

/// A deleted record with edits that its deletion had not seen.
fn tombstone_conflict(
    doc: &Automerge,
    record: RecordRef,
    obj: &ObjId,
    out: &mut Vec<DocConflict>,
) -> Result<(), DocumentError> {
    let deletes: Vec<_> = doc
        .get_all(obj, "deleted")?
        .into_iter()
        .filter(|(v, _)| v.as_bool() == Some(true))
        .collect();
    let Some((value, op)) = deletes.first() else {
        return Ok(());
    };
    let Some(delete_hash) = doc.hash_for_opid(op) else {
        return Ok(());
    };
    let unseen: HashSet<ChangeHash> = doc
        .get_changes(&[delete_hash])
        .iter()
        .map(|c| c.hash())
        .collect();
    if unseen.is_empty() {
        return Ok(());
    }
    let mut edits = Vec::new();
    for key in doc.keys(obj) {
        for (v, op) in doc.get_all(obj, &key)? {
            let seen = doc.hash_for_opid(&op).is_none_or(|h| !unseen.contains(&h));
            if seen {
                continue;
            }
            if key == "events" {
                if let Ok(events) = map_at(doc, obj, "events") {
                    for eid in doc.keys(&events) {
                        if let Some((ev, eop)) = doc.get(&events, &eid)? {
                            if doc.hash_for_opid(&eop).is_some_and(|h| unseen.contains(&h)) {
                                edits.push(write_of(doc, &format!("events/{eid}"), &ev, &eop)?);
                            }
                        }
                    }
                }
            } else {
                edits.push(write_of(doc, &key, &v, &op)?);
            }
        }
    }
    if !edits.is_empty() {
        let deleted_by = write_of(doc, "deleted", value, op)?;
        out.push(DocConflict::Deleted {
            record,
            deleted_by,
            edits,
        });
    }
    Ok(())
}

fn write_of(
    doc: &Automerge,
    key: &str,
    value: &automerge::Value<'_>,
    op: &ObjId,
) -> Result<Write, DocumentError> {
    let hash = doc
        .hash_for_opid(op)
        .ok_or_else(|| DocumentError::Schema(format!("no change holds op {op} of {key}")))?;
    let meta = doc
        .get_change_meta_by_hash(&hash)
        .ok_or_else(|| DocumentError::Schema(format!("change {hash} of {key} is missing")))?;
    Ok(Write {
        key: key.to_owned(),
        value: FieldValue::from_value(value).unwrap_or(FieldValue::Null),
        actor: meta.actor.to_hex_string(),
        time: meta.timestamp,
        message: meta.message.map(|m| m.into_owned()),
    })
}
