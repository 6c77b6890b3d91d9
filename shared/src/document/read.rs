//! Reading a building document into plain records. Strict: a value that breaks the schema is an
//! error naming where it is, which is how the server refuses a malformed document.

use std::collections::BTreeMap;

use automerge::{ObjId, ReadDoc, ROOT};
use serde::{Deserialize, Serialize};

use super::field::{
    spec_of, FieldSpec, FieldValue, BUILDING_FIELDS, HOUSEHOLD_FIELDS, ITEM_FIELDS,
};
use super::{event_map, map_at, DocumentError};
use crate::building::{classify_height, BuildingUse, HeightClass};
use crate::event::Event;
use crate::id::{BuildingId, HouseholdId, ItemId};
use crate::item::Category;
use crate::region::{CommunityCode, StreetCode, UnitCode};
use crate::role::Location;

pub type Fields = BTreeMap<String, FieldValue>;

/// A building with everything in it, as of the document's current heads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuildingDoc {
    pub id: BuildingId,
    pub location: Location,
    pub fields: Fields,
    pub households: BTreeMap<HouseholdId, HouseholdRecord>,
    pub items: BTreeMap<ItemId, ItemRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub fields: Fields,
    pub deleted: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub category: Category,
    /// `None` for items on common parts (公共部位).
    pub household: Option<HouseholdId>,
    pub fields: Fields,
    pub deleted: bool,
    pub events: Vec<Event>,
    /// Photos attached to the item, in hash order.
    pub photos: Vec<super::photo::PhotoRecord>,
}

impl BuildingDoc {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(FieldValue::as_str)
    }

    pub fn height_class(&self) -> HeightClass {
        let use_ = self
            .text("use")
            .and_then(|s| BuildingUse::parse(s).ok())
            .unwrap_or(BuildingUse::Residential);
        let height = self.fields.get("height_m").and_then(FieldValue::as_f64);
        let floors = self
            .fields
            .get("floors")
            .and_then(FieldValue::as_i64)
            .and_then(|n| u32::try_from(n).ok());
        classify_height(use_, height, floors)
    }
}

/// Reads the whole document.
pub fn read<D: ReadDoc>(doc: &D) -> Result<BuildingDoc, DocumentError> {
    let schema = doc.get(ROOT, "schema")?.and_then(|(v, _)| v.as_i64());
    if schema != Some(super::SCHEMA_VERSION) {
        return Err(DocumentError::Schema(format!(
            "schema version {schema:?}, expected {}",
            super::SCHEMA_VERSION
        )));
    }
    let id = doc
        .get(ROOT, "id")?
        .and_then(|(v, _)| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let b = map_at(doc, &ROOT, "building")?;
    let mut fields = read_fields(doc, &b, BUILDING_FIELDS, "building")?;
    let take = |k: &str| match fields.get(k) {
        Some(FieldValue::Text(s)) => Ok(s.clone()),
        _ => Err(DocumentError::Schema(format!("building.{k} is missing"))),
    };
    let location = Location {
        unit: UnitCode::parse(&take("unit")?)?,
        street: StreetCode::parse(&take("street")?)?,
        community: CommunityCode::parse(&take("community")?)?,
        estate: take("estate")?,
    };
    if location.community.street() != location.street {
        return Err(DocumentError::Schema(format!(
            "community {} is not in street {}",
            location.community, location.street
        )));
    }
    fields.retain(|_, v| *v != FieldValue::Null);
    let households = read_households(doc)?;
    let items = read_items(doc, &households)?;
    Ok(BuildingDoc {
        id: BuildingId::parse(&id)?,
        location,
        fields,
        households,
        items,
    })
}

fn read_households<D: ReadDoc>(
    doc: &D,
) -> Result<BTreeMap<HouseholdId, HouseholdRecord>, DocumentError> {
    let map = map_at(doc, &ROOT, "households")?;
    let mut out = BTreeMap::new();
    for key in doc.keys(&map) {
        let obj = map_at(doc, &map, &key)?;
        let mut fields = read_fields(doc, &obj, HOUSEHOLD_FIELDS, "household")?;
        let deleted = fields
            .remove("deleted")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        out.insert(
            HouseholdId::parse(&key)?,
            HouseholdRecord { fields, deleted },
        );
    }
    Ok(out)
}

fn read_items<D: ReadDoc>(
    doc: &D,
    households: &BTreeMap<HouseholdId, HouseholdRecord>,
) -> Result<BTreeMap<ItemId, ItemRecord>, DocumentError> {
    let map = map_at(doc, &ROOT, "items")?;
    let mut out = BTreeMap::new();
    for key in doc.keys(&map) {
        let obj = map_at(doc, &map, &key)?;
        let mut fields = read_fields(doc, &obj, ITEM_FIELDS, "item")?;
        let deleted = fields
            .remove("deleted")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let category = match fields.remove("category") {
            Some(FieldValue::Text(s)) => Category::parse(&s)?,
            _ => {
                return Err(DocumentError::Schema(format!(
                    "item {key}: category is missing"
                )))
            }
        };
        let household = match fields.remove("household") {
            Some(FieldValue::Text(s)) if !s.is_empty() => {
                let h = HouseholdId::parse(&s)?;
                if !households.contains_key(&h) {
                    return Err(DocumentError::Schema(format!(
                        "item {key}: household {h} does not exist"
                    )));
                }
                Some(h)
            }
            _ => None,
        };
        let photos = super::photo::read_photos(doc, &obj)?;
        let events_obj = map_at(doc, &obj, "events")?;
        let events = doc
            .keys(&events_obj)
            .map(|eid| event_map::read(doc, &eid, &map_at(doc, &events_obj, &eid)?))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(
            ItemId::parse(&key)?,
            ItemRecord {
                category,
                household,
                fields,
                deleted,
                events,
                photos,
            },
        );
    }
    Ok(out)
}

/// The known fields of one record map, each checked against its spec. Unknown keys are ignored
/// (a newer app may write fields this build does not know), nested objects are not fields.
fn read_fields<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    specs: &'static [FieldSpec],
    record: &'static str,
) -> Result<Fields, DocumentError> {
    let mut out = Fields::new();
    for key in doc.keys(obj) {
        let Ok(spec) = spec_of(specs, record, &key) else {
            continue;
        };
        let Some((value, _)) = doc.get(obj, &key)? else {
            continue;
        };
        let Some(value) = FieldValue::from_value(&value) else {
            return Err(DocumentError::Schema(format!(
                "{record}.{key} is not a plain value"
            )));
        };
        if !(spec.fixed && matches!(value, FieldValue::Text(_))) {
            spec.check(&value)?;
        }
        out.insert(key, value);
    }
    Ok(out)
}
