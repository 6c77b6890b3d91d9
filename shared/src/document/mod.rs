//! The building document (DESIGN §7): one automerge document per building, holding its
//! households, hazard items and their lifecycle events in maps keyed by UUIDs made on the device.
//!
//! ```text
//! { schema: 1, id,
//!   building:   { unit, district, street, community, estate, number, … },
//!   households: { <uuid>: { unit, floor, room, …, deleted } },
//!   items:      { <uuid>: { category, household, …, deleted,
//!                           events: { <uuid>: { kind, at, by, role, prev, photos, … } } } } }
//! ```
//!
//! Rules this module keeps: the root maps are created once, by the building's creator; fields
//! are written one key at a time through [`field`] specs; nothing is ever removed from a map
//! (deletion is a `deleted` tombstone); events are written once and never changed.

pub mod conflict;
mod event_map;
pub mod field;
pub mod photo;
mod read;

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ObjId, ObjType, ReadDoc, ROOT};

use crate::error::ParseError;
use crate::event::{Event, EventKind};
use crate::id::{AccountId, BuildingId, HouseholdId, ItemId};
use crate::item::Category;
use crate::role::Location;

pub use field::{FieldSpec, FieldValue, BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS};
pub use photo::{attach_photo, PhotoPlace, PhotoRecord, PhotoRole};
pub use read::{read, BuildingDoc, Fields, HouseholdRecord, ItemRecord};

/// Bumped only with a migration of existing documents.
pub const SCHEMA_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("automerge: {0}")]
    Automerge(#[from] AutomergeError),
    #[error("not a valid building document: {0}")]
    Schema(String),
    #[error("{what} {id} does not exist in this building")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Refused(String),
}

/// Which record of the building a write or a conflict is about.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(tag = "record", content = "id", rename_all = "snake_case")]
pub enum RecordRef {
    Building,
    Household(HouseholdId),
    Item(ItemId),
}

impl RecordRef {
    /// `building`, `households/<id>`, `items/<id>`.
    pub fn path(&self) -> String {
        match self {
            RecordRef::Building => "building".into(),
            RecordRef::Household(id) => format!("households/{id}"),
            RecordRef::Item(id) => format!("items/{id}"),
        }
    }

    fn fields(&self) -> (&'static [FieldSpec], &'static str) {
        match self {
            RecordRef::Building => (BUILDING_FIELDS, "building"),
            RecordRef::Household(_) => (HOUSEHOLD_FIELDS, "household"),
            RecordRef::Item(_) => (ITEM_FIELDS, "item"),
        }
    }
}

/// Creates the skeleton and the building record. Call once, on the creating device.
pub fn create_building<D: Transactable>(
    doc: &mut D,
    id: BuildingId,
    location: &Location,
    created_by: AccountId,
    fields: &[(&str, FieldValue)],
) -> Result<(), DocumentError> {
    if doc.get(ROOT, "schema")?.is_some() {
        return Err(DocumentError::Refused(
            "this document already holds a building".into(),
        ));
    }
    let checked = check_fields(RecordRef::Building, fields)?;
    doc.put(ROOT, "schema", SCHEMA_VERSION)?;
    doc.put(ROOT, "id", id.to_string())?;
    let b = doc.put_object(ROOT, "building", ObjType::Map)?;
    doc.put(&b, "unit", location.unit.as_str())?;
    doc.put(&b, "district", location.street.district().as_str())?;
    doc.put(&b, "street", location.street.as_str())?;
    doc.put(&b, "community", location.community.as_str())?;
    doc.put(&b, "estate", location.estate.as_str())?;
    doc.put(&b, "created_by", created_by.to_string())?;
    put_fields(doc, &b, &checked)?;
    doc.put_object(ROOT, "households", ObjType::Map)?;
    doc.put_object(ROOT, "items", ObjType::Map)?;
    Ok(())
}

pub fn add_household<D: Transactable>(
    doc: &mut D,
    id: HouseholdId,
    created_by: AccountId,
    fields: &[(&str, FieldValue)],
) -> Result<(), DocumentError> {
    let checked = check_fields(RecordRef::Household(id), fields)?;
    let map = map_at(doc, &ROOT, "households")?;
    if doc.get(&map, id.to_string())?.is_some() {
        return Err(DocumentError::Refused(format!(
            "household {id} already exists"
        )));
    }
    let h = doc.put_object(&map, id.to_string(), ObjType::Map)?;
    doc.put(&h, "created_by", created_by.to_string())?;
    put_fields(doc, &h, &checked)
}

/// Adds an item with its creation event, in the same change.
pub fn add_item<D: Transactable>(
    doc: &mut D,
    id: ItemId,
    category: Category,
    household: Option<HouseholdId>,
    fields: &[(&str, FieldValue)],
    create: &Event,
) -> Result<(), DocumentError> {
    if create.kind != EventKind::Create {
        return Err(DocumentError::Refused(
            "an item starts with its creation event".into(),
        ));
    }
    let checked = check_fields(RecordRef::Item(id), fields)?;
    if let Some(h) = household {
        record_map(doc, RecordRef::Household(h))?;
    }
    let map = map_at(doc, &ROOT, "items")?;
    if doc.get(&map, id.to_string())?.is_some() {
        return Err(DocumentError::Refused(format!("item {id} already exists")));
    }
    let obj = doc.put_object(&map, id.to_string(), ObjType::Map)?;
    doc.put(&obj, "category", category.code())?;
    doc.put(
        &obj,
        "household",
        household.map(|h| h.to_string()).unwrap_or_default(),
    )?;
    doc.put(&obj, "created_by", create.by.to_string())?;
    put_fields(doc, &obj, &checked)?;
    doc.put_object(&obj, "photos", ObjType::Map)?;
    let events = doc.put_object(&obj, "events", ObjType::Map)?;
    event_map::write(doc, &events, create)
}

/// Writes one field of one record.
pub fn set_field<D: Transactable>(
    doc: &mut D,
    record: RecordRef,
    key: &str,
    value: FieldValue,
) -> Result<(), DocumentError> {
    let checked = check_fields(record, &[(key, value)])?;
    let obj = record_map(doc, record)?;
    if key != "deleted" && is_deleted(doc, &obj)? {
        return Err(DocumentError::Refused(format!(
            "{} is deleted; it can no longer be edited",
            record.path()
        )));
    }
    put_fields(doc, &obj, &checked)
}

/// Appends a lifecycle event to an item. Whether the step is legal is the fold's business.
pub fn append_event<D: Transactable>(
    doc: &mut D,
    item: ItemId,
    event: &Event,
) -> Result<(), DocumentError> {
    let obj = record_map(doc, RecordRef::Item(item))?;
    let events = map_at(doc, &obj, "events")?;
    if doc.get(&events, event.id.to_string())?.is_some() {
        return Err(DocumentError::Refused(format!(
            "event {} already exists",
            event.id
        )));
    }
    event_map::write(doc, &events, event)
}

/// Marks a household or item deleted (a tombstone). Buildings are never deleted.
pub fn delete<D: Transactable>(doc: &mut D, record: RecordRef) -> Result<(), DocumentError> {
    if record == RecordRef::Building {
        return Err(DocumentError::Refused(
            "a building is never deleted; void its items instead".into(),
        ));
    }
    let obj = record_map(doc, record)?;
    doc.put(&obj, "deleted", true)?;
    Ok(())
}

fn check_fields(
    record: RecordRef,
    fields: &[(&str, FieldValue)],
) -> Result<Vec<(&'static str, FieldValue)>, ParseError> {
    let (specs, name) = record.fields();
    fields
        .iter()
        .map(|(key, value)| {
            let spec = field::spec_of(specs, name, key)?;
            if spec.fixed {
                return Err(ParseError::new(
                    "field",
                    format!("{name}.{key}"),
                    "is set when the record is created",
                ));
            }
            spec.check(value)?;
            Ok((spec.key, value.clone()))
        })
        .collect()
}

fn put_fields<D: Transactable>(
    doc: &mut D,
    obj: &ObjId,
    fields: &[(&'static str, FieldValue)],
) -> Result<(), DocumentError> {
    for (key, value) in fields {
        doc.put(obj, *key, value.to_scalar())?;
    }
    Ok(())
}

fn is_deleted<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<bool, DocumentError> {
    Ok(doc
        .get(obj, "deleted")?
        .and_then(|(v, _)| v.as_bool())
        .unwrap_or(false))
}

/// The map of one record.
pub fn record_map<D: ReadDoc>(doc: &D, record: RecordRef) -> Result<ObjId, DocumentError> {
    let (parent, key, what) = match record {
        RecordRef::Building => return map_at(doc, &ROOT, "building"),
        RecordRef::Household(id) => ("households", id.to_string(), "household"),
        RecordRef::Item(id) => ("items", id.to_string(), "item"),
    };
    let parent = map_at(doc, &ROOT, parent)?;
    map_at(doc, &parent, &key).map_err(|_| DocumentError::NotFound { what, id: key })
}

/// The map under `key`, or a schema error.
pub(crate) fn map_at<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<ObjId, DocumentError> {
    match doc.get(obj, key)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(DocumentError::Schema(format!("missing map {key:?}"))),
    }
}

#[cfg(test)]
mod tests;
