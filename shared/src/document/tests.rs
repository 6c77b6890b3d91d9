#![allow(clippy::unwrap_used)]

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, Change};
use proptest::prelude::*;
use uuid::Uuid;

use super::conflict::{conflicts, DocConflict};
use super::*;
use crate::event::{EventDetail, ItemState};
use crate::household::NoticeMethod;
use crate::id::{DeviceId, EventId, PhotoHash};
use crate::lifecycle::fold;
use crate::region::{CommunityCode, StreetCode, UnitCode};
use crate::role::Role;
use crate::settings::CampaignSettings;
use crate::time::Timestamp;

fn location() -> Location {
    Location {
        unit: UnitCode::parse("500103").unwrap(),
        street: StreetCode::parse("500103001").unwrap(),
        community: CommunityCode::parse("500103001001").unwrap(),
        estate: "嘉华大厦".into(),
    }
}

fn device(n: u128) -> AutoCommit {
    AutoCommit::new().with_actor(ActorId::from(Uuid::from_u128(n).as_bytes().as_slice()))
}

fn commit(doc: &mut AutoCommit, msg: &str, at: i64) {
    doc.commit_with(CommitOptions::default().with_message(msg).with_time(at));
}

fn event(kind: EventKind, prev: Vec<EventId>, by: u128, role: Role, at: i64) -> Event {
    Event {
        id: EventId::new(),
        kind,
        to: None,
        at: Timestamp(at),
        by: AccountId(Uuid::from_u128(by)),
        role,
        device: Some(DeviceId(Uuid::from_u128(by))),
        note: String::new(),
        photos: vec![PhotoHash::parse(&"ab".repeat(32)).unwrap()],
        prev,
        detail: EventDetail {
            notice_method: Some(NoticeMethod::Written),
            ..Default::default()
        },
    }
}

/// A building with one household and one awning, created on device 1.
fn building() -> (AutoCommit, BuildingId, HouseholdId, ItemId, EventId) {
    let mut a = device(1);
    let b = BuildingId::new();
    create_building(
        &mut a,
        b,
        &location(),
        AccountId(Uuid::from_u128(1)),
        &[("number", FieldValue::Text("3栋".into()))],
    )
    .unwrap();
    let h = HouseholdId::new();
    add_household(
        &mut a,
        h,
        AccountId(Uuid::from_u128(1)),
        &[("room", FieldValue::Text("1201".into()))],
    )
    .unwrap();
    let i = ItemId::new();
    let create = event(
        EventKind::Create,
        vec![],
        1,
        Role::CommunityInspector,
        1_780_000_000,
    );
    add_item(
        &mut a,
        i,
        Category::Awning,
        Some(h),
        &[("fire_grade", FieldValue::Text("B2".into()))],
        &create,
    )
    .unwrap();
    commit(&mut a, "create", 1_780_000_000);
    (a, b, h, i, create.id)
}

#[test]
fn a_building_reads_back_with_its_records_and_events() {
    let (mut a, b, h, i, create) = building();
    let doc = read(a.document()).unwrap();
    assert_eq!(doc.id, b);
    assert_eq!(doc.location, location());
    assert_eq!(doc.text("number"), Some("3栋"));
    assert_eq!(
        doc.households[&h].fields["room"],
        FieldValue::Text("1201".into())
    );
    let item = &doc.items[&i];
    assert_eq!(
        (item.category, item.household, item.deleted),
        (Category::Awning, Some(h), false)
    );
    assert_eq!(item.events.len(), 1);
    assert_eq!(item.events[0].id, create);
    assert_eq!(
        fold(&item.events, &CampaignSettings::for_year(2026), false).state,
        Some(ItemState::Identified)
    );
}

#[test]
fn fixed_and_unknown_fields_and_bad_values_are_refused() {
    let (mut a, _, h, i, _) = building();
    let err = set_field(
        &mut a,
        RecordRef::Item(i),
        "category",
        FieldValue::Text("net".into()),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid field \"item.category\": is set when the record is created"
    );
    let err = set_field(
        &mut a,
        RecordRef::Household(h),
        "floor",
        FieldValue::Text("twelve".into()),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid floor \"twelve\": expected a whole number from -10 to 200"
    );
    let err = set_field(
        &mut a,
        RecordRef::Household(HouseholdId(Uuid::nil())),
        "room",
        FieldValue::Null,
    )
    .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("household 00000000-0000-0000-0000-000000000000 does not exist"));
}

fn merged(a: &mut AutoCommit, b: &mut AutoCommit) {
    a.merge(b).unwrap();
    b.merge(a).unwrap();
}

#[test]
fn different_fields_merge_and_the_same_field_conflicts_with_who_and_when() {
    let (mut a, _, h, i, _) = building();
    let mut b = a
        .fork()
        .with_actor(ActorId::from(Uuid::from_u128(2).as_bytes().as_slice()));
    set_field(
        &mut a,
        RecordRef::Household(h),
        "floor",
        FieldValue::Int(12),
    )
    .unwrap();
    set_field(
        &mut a,
        RecordRef::Item(i),
        "fire_grade",
        FieldValue::Text("B3".into()),
    )
    .unwrap();
    commit(&mut a, "A edits", 1_780_000_100);
    set_field(
        &mut b,
        RecordRef::Household(h),
        "occupancy",
        FieldValue::Text("rented".into()),
    )
    .unwrap();
    set_field(
        &mut b,
        RecordRef::Item(i),
        "fire_grade",
        FieldValue::Text("unknown".into()),
    )
    .unwrap();
    commit(&mut b, "B edits", 1_780_000_200);
    merged(&mut a, &mut b);
    let doc = read(a.document()).unwrap();
    assert_eq!(doc.households[&h].fields["floor"], FieldValue::Int(12));
    assert_eq!(
        doc.households[&h].fields["occupancy"],
        FieldValue::Text("rented".into())
    );
    let found = conflicts(a.document()).unwrap();
    assert_eq!(found.len(), 1);
    let DocConflict::Field {
        record,
        key,
        writes,
    } = &found[0]
    else {
        panic!("{found:?}")
    };
    assert_eq!((*record, key.as_str()), (RecordRef::Item(i), "fire_grade"));
    let mut seen: Vec<(String, i64, String)> = writes
        .iter()
        .map(|w| (w.value.to_string(), w.time, w.message.clone().unwrap()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("B3".into(), 1_780_000_100, "A edits".into()),
            ("unknown".into(), 1_780_000_200, "B edits".into())
        ]
    );
    // One new write resolves it everywhere.
    set_field(
        &mut a,
        RecordRef::Item(i),
        "fire_grade",
        FieldValue::Text("B3".into()),
    )
    .unwrap();
    commit(&mut a, "resolve", 1_780_000_300);
    merged(&mut a, &mut b);
    assert!(conflicts(b.document()).unwrap().is_empty());
}

#[test]
fn an_edit_concurrent_with_a_tombstone_is_a_conflict_and_the_edit_is_kept() {
    let (mut a, _, _, i, _) = building();
    let mut b = a
        .fork()
        .with_actor(ActorId::from(Uuid::from_u128(2).as_bytes().as_slice()));
    delete(&mut a, RecordRef::Item(i)).unwrap();
    commit(&mut a, "delete", 1_780_000_100);
    set_field(&mut b, RecordRef::Item(i), "area_m2", FieldValue::Real(2.5)).unwrap();
    commit(&mut b, "B measures", 1_780_000_200);
    merged(&mut a, &mut b);
    let doc = read(a.document()).unwrap();
    assert!(doc.items[&i].deleted);
    assert_eq!(doc.items[&i].fields["area_m2"], FieldValue::Real(2.5));
    let found = conflicts(a.document()).unwrap();
    let [DocConflict::Deleted { record, edits, .. }] = found.as_slice() else {
        panic!("{found:?}")
    };
    assert_eq!(*record, RecordRef::Item(i));
    assert_eq!(
        edits.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        ["area_m2"]
    );
    // Editing after seeing the tombstone is refused locally.
    assert!(matches!(
        set_field(&mut a, RecordRef::Item(i), "area_m2", FieldValue::Real(3.0)),
        Err(DocumentError::Refused(_))
    ));
    // A plain delete with nothing concurrent is no conflict.
    let (mut c, _, _, i2, _) = building();
    delete(&mut c, RecordRef::Item(i2)).unwrap();
    commit(&mut c, "delete", 1_780_000_100);
    assert!(conflicts(c.document()).unwrap().is_empty());
}

#[test]
fn a_malformed_document_is_a_schema_error_naming_the_place() {
    let (mut a, _, _, i, _) = building();
    let items = map_at(&a, &automerge::ROOT, "items").unwrap();
    let item = map_at(&a, &items, &i.to_string()).unwrap();
    a.put(&item, "category", "roof").unwrap();
    commit(&mut a, "bad", 1);
    assert_eq!(
        read(a.document()).unwrap_err().to_string(),
        "invalid category \"roof\": expected one of awning, net"
    );
    let empty = AutoCommit::new();
    assert_eq!(
        read(&empty).unwrap_err().to_string(),
        "not a valid building document: schema version None, expected 1"
    );
}

/// The ledger view of a document: every record and every item's fold.
fn ledger(doc: &AutoCommit) -> (BuildingDoc, Vec<crate::lifecycle::Fold>) {
    let b = read(doc).unwrap();
    let s = CampaignSettings::for_year(2026);
    let folds = b
        .items
        .values()
        .map(|i| fold(&i.events, &s, i.deleted))
        .collect();
    (b, folds)
}

/// Three devices make interleaved edits and lifecycle events offline; their changes, applied to
/// a fresh replica in any order, give the same ledger.
fn scripted_changes() -> (Vec<Change>, AutoCommit) {
    let (mut a, _, h, i, create) = building();
    let mut b = a
        .fork()
        .with_actor(ActorId::from(Uuid::from_u128(2).as_bytes().as_slice()));
    let mut c = a
        .fork()
        .with_actor(ActorId::from(Uuid::from_u128(3).as_bytes().as_slice()));
    let n1 = event(
        EventKind::Notify,
        vec![create],
        1,
        Role::CommunityInspector,
        1_780_000_100,
    );
    append_event(&mut a, i, &n1).unwrap();
    set_field(
        &mut a,
        RecordRef::Household(h),
        "floor",
        FieldValue::Int(12),
    )
    .unwrap();
    commit(&mut a, "a1", 1_780_000_100);
    let n2 = event(
        EventKind::Notify,
        vec![create],
        2,
        Role::StreetChecker,
        1_780_000_150,
    );
    append_event(&mut b, i, &n2).unwrap();
    set_field(
        &mut b,
        RecordRef::Household(h),
        "floor",
        FieldValue::Int(11),
    )
    .unwrap();
    commit(&mut b, "b1", 1_780_000_150);
    let i2 = ItemId::new();
    let create2 = event(
        EventKind::Create,
        vec![],
        3,
        Role::CommunityInspector,
        1_780_000_160,
    );
    add_item(&mut c, i2, Category::Net, Some(h), &[], &create2).unwrap();
    commit(&mut c, "c1", 1_780_000_160);
    let mut s = event(
        EventKind::Submit,
        vec![create2.id],
        3,
        Role::CommunityInspector,
        1_780_000_170,
    );
    s.detail.method = Some(crate::item::RemediationMethod::Removed);
    append_event(&mut c, i2, &s).unwrap();
    commit(&mut c, "c2", 1_780_000_170);
    a.merge(&mut b).unwrap();
    a.merge(&mut c).unwrap();
    let changes = a.get_changes(&[]).into_iter().collect();
    (changes, a)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn the_same_changes_in_any_order_give_the_same_ledger(seed in any::<u64>()) {
        let (changes, reference) = scripted_changes();
        let mut order: Vec<usize> = (0..changes.len()).collect();
        // A seeded Fisher–Yates shuffle.
        let mut x = seed | 1;
        for k in (1..order.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            order.swap(k, (x % (k as u64 + 1)) as usize);
        }
        let mut replica = AutoCommit::new();
        for k in order {
            replica.apply_changes([changes[k].clone()]).unwrap();
        }
        let mut reference = reference;
        prop_assert_eq!(replica.get_heads(), reference.get_heads());
        prop_assert_eq!(ledger(&replica), ledger(&reference));
        prop_assert_eq!(conflicts(replica.document()).unwrap(), conflicts(reference.document()).unwrap());
    }
}

#[test]
fn the_same_value_written_concurrently_is_no_conflict() {
    let (mut a, _, h, _, _) = building();
    let mut b = a
        .fork()
        .with_actor(ActorId::from(Uuid::from_u128(2).as_bytes().as_slice()));
    set_field(
        &mut a,
        RecordRef::Household(h),
        "occupancy",
        FieldValue::Text("vacant".into()),
    )
    .unwrap();
    commit(&mut a, "A", 1_780_000_100);
    set_field(
        &mut b,
        RecordRef::Household(h),
        "occupancy",
        FieldValue::Text("vacant".into()),
    )
    .unwrap();
    commit(&mut b, "B", 1_780_000_200);
    merged(&mut a, &mut b);
    let households = map_at(&a, &automerge::ROOT, "households").unwrap();
    let obj = map_at(&a, &households, &h.to_string()).unwrap();
    assert_eq!(a.get_all(&obj, "occupancy").unwrap().len(), 2);
    assert!(conflicts(a.document()).unwrap().is_empty());
}

#[test]
fn a_photo_attached_to_an_item_reads_back_with_its_place_and_time() {
    let (mut a, _, _, i, _) = building();
    let photo = super::photo::PhotoRecord {
        hash: PhotoHash::parse(&"cd".repeat(32)).unwrap(),
        role: super::PhotoRole::After,
        taken_at: Some(Timestamp(1_780_000_050)),
        place: Some(super::PhotoPlace {
            lat: 29.5630,
            lng: 106.5516,
            accuracy_m: Some(5.0),
        }),
        bytes: 412_345,
        width: 2048,
        height: 1536,
        by: AccountId(Uuid::from_u128(1)),
        device: Some(DeviceId(Uuid::from_u128(1))),
        added_at: Timestamp(1_780_000_100),
    };
    super::attach_photo(&mut a, i, &photo).unwrap();
    commit(&mut a, "photo", 1_780_000_100);
    assert_eq!(read(&a).unwrap().items[&i].photos, vec![photo.clone()]);
    let again = super::attach_photo(&mut a, i, &photo).unwrap_err();
    assert!(again.to_string().contains("already attached"), "{again}");
}
