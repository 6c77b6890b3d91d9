//! The device on its own: the store, editing, the lifecycle guard, deletion rules. The fake
//! server is only there to enroll.
#![allow(clippy::unwrap_used)]

mod common;

use automerge::AutoCommit;
use common::*;
use pengwang_core::{CoreError, Device, Pending};
use pengwang_shared::document::{self, FieldValue, RecordRef};
use pengwang_shared::event::ItemState;
use pengwang_shared::item::Category;
use pengwang_shared::region::CommunityCode;
use pengwang_shared::time::FakeClock;

fn changes_meta(device: &Device, b: pengwang_shared::id::BuildingId) -> Vec<(i64, Option<String>)> {
    let mut doc = AutoCommit::load(&device.save(b).unwrap()).unwrap();
    doc.get_changes_meta(&[])
        .iter()
        .map(|m| (m.timestamp, m.message.as_ref().map(|s| s.to_string())))
        .collect()
}

fn outbox_seq(d: &TestDevice) -> i64 {
    d.db()
        .query_row("SELECT seq FROM outbox", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_building_recorded_offline_reads_back_identically_after_reopening_the_database() {
    let server = FakeServer::start().await;
    let account = inspector();
    let mut d = TestDevice::enrolled(&server, &account).await;
    let (b, item) = d.building_with_item();
    d.clock.advance(3600);
    d.device.record_event(b, item, notify()).unwrap();
    d.device
        .set_field(
            b,
            RecordRef::Item(item),
            "fire_grade",
            FieldValue::Text("B3".into()),
        )
        .unwrap();
    let before = (
        d.device.building(b).unwrap(),
        d.device.heads(b).unwrap(),
        d.device.device_id(),
    );

    d.reopen();

    assert_eq!(
        (
            d.device.building(b).unwrap(),
            d.device.heads(b).unwrap(),
            d.device.device_id()
        ),
        before
    );
    assert_eq!(d.device.account(), Some(account));
    assert_eq!(d.device.buildings().unwrap(), vec![b]);
    let fold = d.device.item_fold(b, item).unwrap();
    assert_eq!(
        (fold.state, fold.persuasion_count),
        (Some(ItemState::Notified), 1)
    );
}

#[tokio::test]
async fn every_user_action_is_one_change_with_the_device_time_and_a_message() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let b = d
        .device
        .create_building(location(), &building_fields())
        .unwrap();
    assert_eq!(
        (d.device.pending().unwrap(), outbox_seq(&d)),
        (Pending { docs: 1, photos: 0 }, 1)
    );
    d.clock.advance(60);
    d.device
        .set_field(b, RecordRef::Building, "units", FieldValue::Int(2))
        .unwrap();
    d.clock.advance(60);
    let h = d
        .device
        .add_household(b, &[("floor", FieldValue::Int(12))])
        .unwrap();

    let t = t0().0;
    assert_eq!(
        changes_meta(&d.device, b),
        vec![
            (t, Some("create building".into())),
            (t + 60, Some("set building.units".into())),
            (t + 120, Some(format!("add household {h}"))),
        ]
    );
    assert_eq!(
        (d.device.pending().unwrap(), outbox_seq(&d)),
        (Pending { docs: 1, photos: 0 }, 3)
    );
    let chunks: i64 = d
        .db()
        .query_row("SELECT count(*) FROM doc_chunk", [], |r| r.get(0))
        .unwrap();
    assert_eq!(chunks, 3);
}

#[tokio::test]
async fn a_write_that_changes_nothing_commits_nothing_and_a_refused_write_leaves_no_trace() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let b = d
        .device
        .create_building(location(), &building_fields())
        .unwrap();
    d.device
        .set_field(b, RecordRef::Building, "floors", FieldValue::Int(33))
        .unwrap();
    let err = d
        .device
        .set_field(b, RecordRef::Building, "floors", FieldValue::Int(0))
        .unwrap_err();
    assert_eq!(err.code(), "invalid", "{err}");
    assert_eq!(outbox_seq(&d), 1);
    assert_eq!(changes_meta(&d.device, b).len(), 1);
    assert_eq!(
        d.device.building(b).unwrap().fields["floors"],
        FieldValue::Int(33)
    );
}

#[tokio::test]
async fn compaction_swaps_chunks_for_a_snapshot_without_changing_heads_or_content() {
    let server = FakeServer::start().await;
    let mut d = TestDevice::enrolled(&server, &inspector()).await;
    let b = d
        .device
        .create_building(location(), &building_fields())
        .unwrap();
    for floor in 1..=32 {
        d.device
            .set_field(b, RecordRef::Building, "floors", FieldValue::Int(floor))
            .unwrap();
    }
    // 33 chunks: the 33rd write compacted the document.
    let count = |d: &TestDevice| -> (i64, bool) {
        d.db()
            .query_row(
                "SELECT (SELECT count(*) FROM doc_chunk), snapshot IS NOT NULL FROM doc",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(count(&d), (0, true));
    d.device
        .set_field(b, RecordRef::Building, "units", FieldValue::Int(3))
        .unwrap();
    assert_eq!(count(&d), (1, true));

    let (heads, building) = (d.device.heads(b).unwrap(), d.device.building(b).unwrap());
    d.device.compact(b).unwrap();
    assert_eq!(count(&d), (0, true));
    d.reopen();
    assert_eq!(
        (d.device.heads(b).unwrap(), d.device.building(b).unwrap()),
        (heads, building)
    );
    assert_eq!(changes_meta(&d.device, b).len(), 34);
}

#[tokio::test]
async fn an_inspector_cannot_close_an_item_and_nothing_is_written() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let (b, item) = d.building_with_item();
    d.device.record_event(b, item, submit_removed()).unwrap();
    let (heads, seq) = (d.device.heads(b).unwrap(), outbox_seq(&d));

    let err = d.device.record_event(b, item, close()).unwrap_err();

    assert_eq!(err.code(), "not_allowed");
    assert_eq!(
        err.to_string(),
        "not allowed: 社区网格员不能进行“复核销号”，须由街道核查员及以上进行"
    );
    assert_eq!((d.device.heads(b).unwrap(), outbox_seq(&d)), (heads, seq));
    assert_eq!(
        d.device.item_fold(b, item).unwrap().state,
        Some(ItemState::PendingVerify)
    );
}

#[tokio::test]
async fn an_item_without_a_before_photo_is_refused_with_the_folds_reason() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let b = d
        .device
        .create_building(location(), &building_fields())
        .unwrap();
    let err = d
        .device
        .add_item(b, Category::Net, None, &[], vec![], "")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not allowed: 登记隐患需要至少一张整改前照片"
    );
    assert!(d.device.building(b).unwrap().items.is_empty());
}

#[tokio::test]
async fn a_new_event_follows_the_items_current_head_events() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let (b, item) = d.building_with_item();
    let created = d.device.building(b).unwrap().items[&item].events[0].id;
    d.clock.advance(60);
    let first = d.device.record_event(b, item, notify()).unwrap();

    // A concurrent notice (as if synced from another phone) also follows the creation.
    let mut sibling = d.device.building(b).unwrap().items[&item].events[1].clone();
    sibling.id = pengwang_shared::id::EventId::new();
    sibling.prev = vec![created];
    d.device
        .edit(b, "concurrent notice", |doc| {
            document::append_event(doc, item, &sibling)
        })
        .unwrap();

    d.clock.advance(60);
    let next = d.device.record_event(b, item, notify()).unwrap();
    let events = d.device.building(b).unwrap().items[&item].events.clone();
    let event = |id| events.iter().find(|e| e.id == id).unwrap();
    assert_eq!(event(first).prev, vec![created]);
    let mut both = vec![first, sibling.id];
    both.sort();
    assert_eq!(event(next).prev, both);
    let me = d.device.account().unwrap();
    assert_eq!(
        (event(next).by, event(next).role, event(next).device),
        (me.id, me.role, d.device.device_id())
    );
    assert_eq!(event(next).at.0, t0().0 + 120);
    assert_eq!(d.device.item_fold(b, item).unwrap().persuasion_count, 3);
}

#[tokio::test]
async fn only_the_creator_deletes_an_item_and_only_while_it_has_just_its_creation_event() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let (b, item) = d.building_with_item();
    let fresh = d
        .device
        .add_item(b, Category::Net, None, &[], vec![photo(3)], "")
        .unwrap();
    d.device.record_event(b, item, notify()).unwrap();

    let err = d.device.delete(b, RecordRef::Item(item)).unwrap_err();
    assert_eq!(err.code(), "not_allowed");
    assert!(
        err.to_string().contains("only voided by the street"),
        "{err}"
    );
    let err = d.device.delete(b, RecordRef::Building).unwrap_err();
    assert_eq!(err.code(), "not_allowed");

    // The same install re-enrolled for another account is not the creator.
    d.device
        .enroll(&server.url, &server.issue_code(&inspector()), "测试手机")
        .await
        .unwrap();
    let err = d.device.delete(b, RecordRef::Item(fresh)).unwrap_err();
    assert!(
        err.to_string()
            .contains("only the person who recorded item"),
        "{err}"
    );
}

#[tokio::test]
async fn a_deleted_item_reads_as_void_and_no_longer_changes() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let (b, item) = d.building_with_item();
    let household = d.device.building(b).unwrap().items[&item]
        .household
        .unwrap();
    let err = d
        .device
        .delete(b, RecordRef::Household(household))
        .unwrap_err();
    assert!(err.to_string().contains("still has 1 item(s)"), "{err}");

    d.device.delete(b, RecordRef::Item(item)).unwrap();

    assert!(d.device.building(b).unwrap().items[&item].deleted);
    assert_eq!(
        d.device.item_fold(b, item).unwrap().state,
        Some(ItemState::Void)
    );
    let err = d.device.record_event(b, item, notify()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("not allowed: item {item} is deleted; it can no longer change")
    );
    let err = d.device.delete(b, RecordRef::Item(item)).unwrap_err();
    assert!(err.to_string().contains("already deleted"), "{err}");
    d.device.delete(b, RecordRef::Household(household)).unwrap();
    assert!(d.device.building(b).unwrap().households[&household].deleted);
}

#[tokio::test]
async fn a_building_outside_the_accounts_scope_is_refused() {
    let server = FakeServer::start().await;
    let d = TestDevice::enrolled(&server, &inspector()).await;
    let mut elsewhere = location();
    elsewhere.community = CommunityCode::parse("500103001002").unwrap();
    let err = d
        .device
        .create_building(elsewhere, &building_fields())
        .unwrap_err();
    assert_eq!(err.code(), "not_allowed");
    assert_eq!(
        err.to_string(),
        "not allowed: estate \"嘉华大厦\" in community 500103001002 is outside your scope (community 500103001001)"
    );
    assert!(d.device.buildings().unwrap().is_empty());
}

#[test]
fn editing_before_enrollment_is_refused() {
    let d = TestDevice::new();
    let err = d
        .device
        .create_building(location(), &building_fields())
        .unwrap_err();
    assert_eq!(
        (
            err.code(),
            err.to_string().starts_with("device not enrolled")
        ),
        ("not_enrolled", true)
    );
    assert_eq!(d.device.account(), None);
    assert_eq!(d.device.settings().year, 2026);
}

#[test]
fn a_database_written_by_a_newer_app_is_refused() {
    let d = TestDevice::new();
    d.db()
        .execute(
            "INSERT INTO schema_migrations VALUES (99, '0099_future', 0)",
            [],
        )
        .unwrap();
    let clock = std::sync::Arc::new(FakeClock::at(t0()));
    let err = Device::open(&d.db_path(), clock).err().unwrap();
    assert!(
        matches!(
            err,
            CoreError::Migration(pengwang_migrations::MigrationError::FutureSchema {
                found: 99,
                known: 2
            })
        ),
        "{err}"
    );
    assert_eq!(err.code(), "storage");
}

#[tokio::test]
async fn a_read_only_account_cannot_edit() {
    let server = FakeServer::start().await;
    let mut account = checker();
    account.role = pengwang_shared::role::Role::FireRescue;
    let d = TestDevice::enrolled(&server, &account).await;
    let err = d
        .device
        .create_building(location(), &building_fields())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not allowed: a 消防救援(只读) account is read-only"
    );
}

#[tokio::test]
async fn the_tombstone_and_the_estate_cannot_be_used_to_escape_the_rules() {
    let server = FakeServer::start().await;
    let mut account = inspector();
    account.role = pengwang_shared::role::Role::PropertyStaff;
    account.scope = pengwang_shared::role::Scope::Estates {
        community: location().community,
        estates: vec!["嘉华大厦".into()],
    };
    let d = TestDevice::enrolled(&server, &account).await;
    let (b, item) = d.building_with_item();
    d.device.record_event(b, item, notify()).unwrap();

    let err = d
        .device
        .set_field(b, RecordRef::Item(item), "deleted", FieldValue::Bool(true))
        .unwrap_err();
    assert_eq!(err.code(), "not_allowed");
    let err = d
        .device
        .set_field(
            b,
            RecordRef::Building,
            "estate",
            FieldValue::Text("融汇".into()),
        )
        .unwrap_err();
    assert!(err.to_string().contains("outside your scope"), "{err}");
    d.device
        .set_field(
            b,
            RecordRef::Building,
            "estate",
            FieldValue::Text("嘉华 大厦".into()),
        )
        .unwrap();
    assert!(!d.device.building(b).unwrap().items[&item].deleted);
}
