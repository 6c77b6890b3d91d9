//! Editing buildings on the phone. Every user action is one automerge commit (with a message and
//! the device time) written through [`Device::edit`]'s single path, and persisted as one chunk
//! plus an outbox bump in one transaction before it returns.
//!
//! The phone refuses what the server would refuse or the fold would mark invalid: writes outside
//! the account's scope, lifecycle steps that are not legal (the fold's own reason is shown), and
//! deletions the design does not allow.

use automerge::transaction::CommitOptions;
use automerge::AutoCommit;
use pengwang_shared::document::{
    self, read, BuildingDoc, DocumentError, FieldValue, ItemRecord, PhotoRole, RecordRef,
};
use pengwang_shared::event::{Event, EventDetail, EventKind, ItemState};
use pengwang_shared::id::{BuildingId, EventId, HouseholdId, ItemId, PhotoHash};
use pengwang_shared::item::Category;
use pengwang_shared::lifecycle::{self, head_events};
use pengwang_shared::role::{Location, Scope};
use pengwang_shared::time::Timestamp;
use tracing::instrument;

use crate::deletion::check_delete;
use crate::device::Device;
use crate::enrollment::Enrollment;
use crate::error::CoreError;
use crate::evidence::attach_records;
use crate::photo::IngestedPhoto;

/// A lifecycle step asked for by the user. Who, when, on which device and after which events
/// are filled in by the device.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRequest {
    pub kind: EventKind,
    /// The chosen state of a resolution ([`EventKind::Resolve`]); `None` otherwise.
    pub to: Option<ItemState>,
    pub note: String,
    pub photos: Vec<PhotoHash>,
    pub detail: EventDetail,
}

/// Whether a write starts a new document or changes an existing one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    New,
    Existing,
}

impl Device {
    /// The one place a write is applied: runs `f`, commits it as one change with `message` and
    /// the device time, and persists the change and the outbox bump in one transaction. Public
    /// so tests can craft raw documents; the app uses the typed methods below.
    pub fn edit(
        &self,
        b: BuildingId,
        message: &str,
        f: impl FnOnce(&mut AutoCommit) -> Result<(), DocumentError>,
    ) -> Result<(), CoreError> {
        self.write(b, message, Target::Existing, |doc, _, _| Ok(f(doc)?))
    }

    /// Records a new building, within the account's scope.
    pub fn create_building(
        &self,
        location: Location,
        fields: &[(&str, FieldValue)],
    ) -> Result<BuildingId, CoreError> {
        check_scope(&self.enrolled()?.account.scope, &location)?;
        let id = BuildingId::new();
        self.write(id, "create building", Target::New, |doc, me, _| {
            Ok(document::create_building(
                doc,
                id,
                &location,
                me.account.id,
                fields,
            )?)
        })?;
        Ok(id)
    }

    pub fn add_household(
        &self,
        b: BuildingId,
        fields: &[(&str, FieldValue)],
    ) -> Result<HouseholdId, CoreError> {
        let id = HouseholdId::new();
        self.write(
            b,
            &format!("add household {id}"),
            Target::Existing,
            |doc, me, _| Ok(document::add_household(doc, id, me.account.id, fields)?),
        )?;
        Ok(id)
    }

    /// Writes one field of one record (never a whole record: concurrent edits of other fields
    /// merge, and concurrent edits of this one surface as a conflict). The tombstone is not a
    /// field here: [`Device::delete`] checks who may delete. A building's estate may change only
    /// to one still within the account's scope.
    pub fn set_field(
        &self,
        b: BuildingId,
        record: RecordRef,
        key: &str,
        value: FieldValue,
    ) -> Result<(), CoreError> {
        if key == "deleted" {
            let why = format!(
                "{}.deleted is set by deleting the record, not as a field",
                record.path()
            );
            return Err(CoreError::NotAllowed(why));
        }
        self.write(
            b,
            &format!("set {}.{key}", record.path()),
            Target::Existing,
            |doc, me, _| {
                if let (RecordRef::Building, "estate", FieldValue::Text(estate)) =
                    (record, key, &value)
                {
                    let location = Location {
                        estate: estate.clone(),
                        ..read(&*doc)?.location
                    };
                    check_scope(&me.account.scope, &location)?;
                }
                Ok(document::set_field(doc, record, key, value)?)
            },
        )
    }

    /// Records a hazard item with its creation event (→ IDENTIFIED).
    pub fn add_item(
        &self,
        b: BuildingId,
        category: Category,
        household: Option<HouseholdId>,
        fields: &[(&str, FieldValue)],
        before_photos: Vec<PhotoHash>,
        note: &str,
    ) -> Result<ItemId, CoreError> {
        let id = ItemId::new();
        let settings = self.settings();
        let request = EventRequest {
            kind: EventKind::Create,
            to: None,
            note: note.to_owned(),
            photos: before_photos,
            detail: EventDetail::default(),
        };
        let local = self.local_photos(&request.photos)?;
        self.write(
            b,
            &format!("add item {id}"),
            Target::Existing,
            |doc, me, now| {
                let create = new_event(EventId::new(), me, request, Vec::new(), now);
                lifecycle::admit(&[], &create, &settings, false).map_err(CoreError::NotAllowed)?;
                document::add_item(doc, id, category, household, fields, &create)?;
                attach_records(doc, id, &[], &local, PhotoRole::Before, me, now)
            },
        )?;
        Ok(id)
    }

    /// Appends a lifecycle event after the item's current head events. Refused before anything
    /// is written when the fold would mark it invalid, with the fold's reason.
    pub fn record_event(
        &self,
        b: BuildingId,
        item: ItemId,
        req: EventRequest,
    ) -> Result<EventId, CoreError> {
        let id = EventId::new();
        let settings = self.settings();
        let message = format!("{} item {item}", req.kind.code());
        let local = self.local_photos(&req.photos)?;
        let role = PhotoRole::of_step(req.kind.target());
        self.write(b, &message, Target::Existing, |doc, me, now| {
            let building = read(&*doc)?;
            let record = live_item(&building, item)?;
            let event = new_event(id, me, req, head_events(&record.events), now);
            lifecycle::admit(&record.events, &event, &settings, false)
                .map_err(CoreError::NotAllowed)?;
            document::append_event(doc, item, &event)?;
            attach_records(doc, item, &record.photos, &local, role, me, now)
        })?;
        Ok(id)
    }

    /// Marks a household or item deleted (a tombstone). Only its creator may; an item only while
    /// it has nothing but its creation event, a household only once it has no live items.
    pub fn delete(&self, b: BuildingId, record: RecordRef) -> Result<(), CoreError> {
        self.write(
            b,
            &format!("delete {}", record.path()),
            Target::Existing,
            |doc, me, _| {
                check_delete(&read(&*doc)?, record, me.account.id)?;
                Ok(document::delete(doc, record)?)
            },
        )
    }

    /// Applies `f` to the document, commits, persists. See [`Device::edit`].
    fn write(
        &self,
        b: BuildingId,
        message: &str,
        target: Target,
        f: impl FnOnce(&mut AutoCommit, &Enrollment, Timestamp) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        self.write_with_photos(b, message, target, &[], f)
    }

    /// [`Device::write`] that stores `photos` in the transaction that persists the change (the
    /// change attaches them). Nothing is stored when `f` fails or changes nothing.
    #[instrument(skip_all, fields(building = %b), err)]
    pub(crate) fn write_with_photos(
        &self,
        b: BuildingId,
        message: &str,
        target: Target,
        photos: &[IngestedPhoto],
        f: impl FnOnce(&mut AutoCommit, &Enrollment, Timestamp) -> Result<(), CoreError>,
    ) -> Result<(), CoreError> {
        let me = self.enrolled()?;
        self.refuse_if_revoked()?;
        if !me.account.role.can_write() {
            let role = me.account.role.label();
            return Err(CoreError::NotAllowed(format!(
                "a {role} account is read-only"
            )));
        }
        let mut docs = self.docs();
        let mut store = self.store();
        if target == Target::New {
            if docs.contains_key(&b) || store.doc_bytes(b)?.is_some() {
                let why = format!("building {b} already exists on this device");
                return Err(CoreError::NotAllowed(why));
            }
            docs.insert(b, AutoCommit::new().with_actor(me.actor()));
        }
        let now = self.now();
        let doc = self.cached(&mut docs, &store, b)?;
        let saved =
            commit_action(doc, message, now, |doc| f(doc, &me, now)).and_then(
                |chunk| match chunk {
                    Some(chunk) => store
                        .save_edit_with_photos(b, &chunk, photos, now)
                        .map(|()| true),
                    None => Ok(false),
                },
            );
        match saved {
            Ok(true) => self.compact_if_due(&mut docs, &mut store, b),
            // Nothing changed: a new document that stayed empty is not kept.
            Ok(false) if target == Target::New => drop(docs.remove(&b)),
            Ok(false) => {}
            // Whatever memory holds now, disk did not see: reload from disk next time.
            Err(e) => {
                docs.remove(&b);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// Applies `f` and commits it as one change with `message` and the device time. Returns the
/// change's bytes (`save_after` the heads before), or `None` when `f` changed nothing.
fn commit_action(
    doc: &mut AutoCommit,
    message: &str,
    now: Timestamp,
    f: impl FnOnce(&mut AutoCommit) -> Result<(), CoreError>,
) -> Result<Option<Vec<u8>>, CoreError> {
    let before = doc.get_heads();
    if let Err(e) = f(doc) {
        doc.rollback();
        return Err(e);
    }
    doc.commit_with(
        CommitOptions::default()
            .with_message(message)
            .with_time(now.0),
    );
    if doc.get_heads() == before {
        return Ok(None);
    }
    Ok(Some(doc.save_after(&before)))
}

/// Refuses a location outside `scope`, naming both.
fn check_scope(scope: &Scope, location: &Location) -> Result<(), CoreError> {
    if scope.covers(location) {
        return Ok(());
    }
    Err(CoreError::NotAllowed(format!(
        "estate {:?} in community {} is outside your scope ({})",
        location.estate,
        location.community,
        scope.describe()
    )))
}

fn new_event(
    id: EventId,
    me: &Enrollment,
    req: EventRequest,
    prev: Vec<EventId>,
    at: Timestamp,
) -> Event {
    Event {
        id,
        kind: req.kind,
        to: req.to,
        at,
        by: me.account.id,
        role: me.account.role,
        device: Some(me.device_id),
        note: req.note,
        photos: req.photos,
        prev,
        detail: req.detail,
    }
}

/// An item of the building, or the error that it does not exist.
pub(crate) fn item_of(building: &BuildingDoc, item: ItemId) -> Result<&ItemRecord, CoreError> {
    building
        .items
        .get(&item)
        .ok_or_else(|| CoreError::NotFound {
            what: "item",
            id: item.to_string(),
        })
}

/// An item that may still change: it exists and is not deleted.
pub(crate) fn live_item(building: &BuildingDoc, item: ItemId) -> Result<&ItemRecord, CoreError> {
    let record = item_of(building, item)?;
    if record.deleted {
        return Err(CoreError::NotAllowed(format!(
            "item {item} is deleted; it can no longer change"
        )));
    }
    Ok(record)
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use pengwang_shared::id::{AccountId, DeviceId};
    use pengwang_shared::protocol::{AccountInfo, EnrollResponse};
    use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
    use pengwang_shared::role::{Role, Scope};
    use pengwang_shared::settings::CampaignSettings;
    use pengwang_shared::time::FakeClock;

    use super::*;

    /// A device enrolled (without a server) as a city-scoped inspector.
    pub(crate) fn enrolled(dir: &tempfile::TempDir) -> Device {
        let clock = Arc::new(FakeClock::at(Timestamp(1_780_000_000)));
        let device = Device::open(&dir.path().join("device.db"), clock).unwrap();
        let account = AccountInfo {
            id: AccountId::new(),
            name: "x".into(),
            role: Role::CommunityInspector,
            scope: Scope::City,
        };
        let settings = CampaignSettings::for_year(2026);
        let enrolled = EnrollResponse {
            device_id: DeviceId::new(),
            token: "t".into(),
            account,
            settings,
        };
        device
            .store_enrollment("http://127.0.0.1:9", enrolled)
            .unwrap();
        device
    }

    fn location() -> Location {
        Location {
            unit: UnitCode::parse("500103").unwrap(),
            street: StreetCode::parse("500103001").unwrap(),
            community: CommunityCode::parse("500103001001").unwrap(),
            estate: "嘉华大厦".into(),
        }
    }

    #[test]
    fn a_write_the_disk_refuses_is_forgotten_in_memory_too() {
        let dir = tempfile::tempdir().unwrap();
        let device = enrolled(&dir);
        let b = device.create_building(location(), &[]).unwrap();
        let heads = device.heads(b).unwrap();

        device.store().set_read_only(true).unwrap();
        let err = device
            .set_field(b, RecordRef::Building, "floors", FieldValue::Int(9))
            .unwrap_err();
        device.store().set_read_only(false).unwrap();

        assert_eq!(err.code(), "storage");
        assert_eq!(device.heads(b).unwrap(), heads);
        assert_eq!(device.building(b).unwrap().fields.get("floors"), None);
        // The actor's next change takes the sequence number the lost one had: no duplicate.
        device
            .set_field(b, RecordRef::Building, "floors", FieldValue::Int(12))
            .unwrap();
        let mut reloaded = AutoCommit::load(&device.save(b).unwrap()).unwrap();
        assert_eq!(reloaded.get_changes(&[]).len(), 2);
        assert_eq!(device.pending().unwrap().docs, 1);
    }
}
