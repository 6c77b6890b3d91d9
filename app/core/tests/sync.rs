//! The sync client over real HTTP against an in-process fake of the server's sync endpoint:
//! convergence between phones, exact byte counts, failures that persist nothing, refusals.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::event::ItemState;
use pengwang_shared::protocol::{ApiError, SyncRequest, PROTOCOL_VERSION};
use pengwang_shared::settings::CampaignSettings;

fn sorted(mut heads: Vec<automerge::ChangeHash>) -> Vec<automerge::ChangeHash> {
    heads.sort();
    heads
}

fn count(d: &TestDevice, table: &str) -> i64 {
    d.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_recorded_offline_is_closed_by_the_street_on_another_phone() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let b = TestDevice::enrolled(&server, &checker()).await;
    let (building, item) = a.building_with_item();
    a.device
        .record_event(building, item, submit_removed())
        .unwrap();

    let report = a.device.sync().await.unwrap();
    assert_eq!(
        (report.rounds, report.docs_sent, report.docs_received),
        (1, 1, 0)
    );
    assert_eq!(a.device.pending().unwrap().docs, 0);
    assert_eq!(
        server.heads(building),
        sorted(a.device.heads(building).unwrap())
    );

    let report = b.device.sync().await.unwrap();
    assert_eq!(
        (report.rounds, report.docs_sent, report.docs_received),
        (1, 0, 1)
    );
    assert_eq!(
        b.device.building(building).unwrap(),
        a.device.building(building).unwrap()
    );
    b.device.record_event(building, item, close()).unwrap();
    b.device.sync().await.unwrap();

    let report = a.device.sync().await.unwrap();
    assert_eq!((report.rounds, report.docs_received), (1, 1));
    assert_eq!(
        a.device.item_fold(building, item).unwrap().state,
        Some(ItemState::Closed)
    );
    let heads = sorted(a.device.heads(building).unwrap());
    assert_eq!(
        (
            sorted(b.device.heads(building).unwrap()),
            server.heads(building)
        ),
        (heads.clone(), heads)
    );
    assert_eq!(
        (
            a.device.pending().unwrap().docs,
            b.device.pending().unwrap().docs
        ),
        (0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_are_counted_exactly_as_they_cross_the_wire() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;

    let report = a.device.sync().await.unwrap();
    let empty = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        docs: vec![],
    };
    assert_eq!(
        (report.rounds, report.docs_sent),
        (1, 0),
        "an empty outbox still asks for news once"
    );
    assert_eq!(
        report.bytes_up,
        postcard::to_stdvec(&empty).unwrap().len() as u64
    );

    a.building_with_item();
    let second = a.device.sync().await.unwrap();
    let (up, down) = server.bytes();
    assert_eq!(
        (
            report.bytes_up + second.bytes_up,
            report.bytes_down + second.bytes_down
        ),
        (up, down)
    );
    assert!(second.bytes_up > report.bytes_up);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_lost_reply_nothing_is_persisted_and_the_next_sync_converges() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let (building, _) = a.building_with_item();
    server.fail_next(Fault::LoseReply);

    let err = a.device.sync().await.unwrap_err();

    assert_eq!(err.code(), "server");
    assert!(err.to_string().contains("undecodable_response"), "{err}");
    assert_eq!(
        (a.device.pending().unwrap().docs, count(&a, "sync_state")),
        (1, 0)
    );
    let cursor: Option<String> = a
        .db()
        .query_row("SELECT value FROM meta WHERE key = 'cursor'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(cursor.as_deref(), Some("0"));

    let report = a.device.sync().await.unwrap();
    assert_eq!(report.rounds, 1);
    assert_eq!(a.device.pending().unwrap().docs, 0);
    assert_eq!(
        server.heads(building),
        sorted(a.device.heads(building).unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_failures_become_clear_errors_and_keep_the_outbox() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    a.building_with_item();

    server.fail_next(Fault::Status(426, "protocol_mismatch"));
    assert_eq!(a.device.sync().await.unwrap_err().code(), "update_required");
    server.fail_next(Fault::Status(403, "device_revoked"));
    assert_eq!(a.device.sync().await.unwrap_err().code(), "revoked");
    server.fail_next(Fault::Status(500, "internal"));
    match a.device.sync().await.unwrap_err() {
        pengwang_core::CoreError::Server { status, code, .. } => {
            assert_eq!((status, code.as_str()), (500, "internal"))
        }
        other => panic!("unexpected {other:?}"),
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    a.device.set_server_url(&url).unwrap();
    assert_eq!(a.device.sync().await.unwrap_err().code(), "offline");

    assert_eq!(
        (a.device.pending().unwrap().docs, count(&a, "sync_state")),
        (1, 0)
    );
    a.device.set_server_url(&server.url).unwrap();
    a.device.sync().await.unwrap();
    assert_eq!(a.device.pending().unwrap().docs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_document_stays_queued_with_its_reason_while_the_others_sync() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let (refused, _) = a.building_with_item();
    let (accepted, _) = a.building_with_item();
    server.refuse(refused, "event_author_mismatch", "event by another account");

    let report = a.device.sync().await.unwrap();

    let reason = ApiError::new("event_author_mismatch", "event by another account");
    assert_eq!(report.refused, vec![(refused, reason)]);
    assert_eq!(
        (report.rounds, report.docs_sent),
        (1, 2),
        "a refused document is not resent in the same sync"
    );
    assert_eq!(a.device.pending().unwrap().docs, 1);
    assert_eq!(
        (server.heads(refused), server.heads(accepted).len()),
        (vec![], 1)
    );
    let last_error: String = a
        .db()
        .query_row("SELECT last_error FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        last_error,
        "event_author_mismatch: event by another account"
    );

    server.accept(refused);
    let report = a.device.sync().await.unwrap();
    assert!(report.refused.is_empty());
    assert_eq!(a.device.pending().unwrap().docs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_while_a_request_is_in_flight_goes_in_the_next_round() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let (building, _) = a.building_with_item();
    let editor = a.device.clone();
    server.during_next_request(move || {
        editor
            .set_field(building, RecordRef::Building, "units", FieldValue::Int(4))
            .unwrap();
    });

    let report = a.device.sync().await.unwrap();

    assert_eq!((report.rounds, report.docs_sent), (2, 2));
    assert_eq!(a.device.pending().unwrap().docs, 0);
    assert_eq!(
        server.heads(building),
        sorted(a.device.heads(building).unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_settings_arrive_with_each_sync_and_are_kept() {
    let server = FakeServer::start().await;
    let mut a = TestDevice::enrolled(&server, &inspector()).await;
    assert_eq!(a.device.settings().persuasion_attempts, 2);
    server.set_settings(CampaignSettings {
        persuasion_attempts: 3,
        ..CampaignSettings::for_year(2026)
    });
    a.device.sync().await.unwrap();
    a.reopen();
    assert_eq!(a.device.settings().persuasion_attempts, 3);
}

#[tokio::test]
async fn syncing_before_enrollment_is_refused() {
    let d = TestDevice::new();
    assert_eq!(d.device.sync().await.unwrap_err().code(), "not_enrolled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_hundred_documents_go_in_batches_of_a_hundred() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    for _ in 0..101 {
        a.device
            .create_building(location(), &building_fields())
            .unwrap();
    }
    let report = a.device.sync().await.unwrap();
    assert_eq!((report.rounds, report.docs_sent), (2, 101));
    assert_eq!(server.docs_per_request(), vec![100, 1]);
    assert_eq!(a.device.pending().unwrap().docs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_asks_again_while_the_server_has_more() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    server.fail_next(Fault::More);
    let report = a.device.sync().await.unwrap();
    assert_eq!((report.rounds, server.sync_requests()), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_deleted_on_one_phone_while_another_records_an_item_there_stays_visible() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let b = TestDevice::enrolled(&server, &inspector()).await;
    let building = a
        .device
        .create_building(location(), &building_fields())
        .unwrap();
    assert_eq!(a.device.add_household_grid(building, 1, 2, 1).unwrap(), 2);
    a.device.sync().await.unwrap();
    b.device.sync().await.unwrap();
    let room = |d: &TestDevice, room: &str| {
        let hs = d.device.households(building).unwrap();
        hs.into_iter().find(|h| h.room == room).unwrap()
    };
    let h201 = room(&a, "201").id;

    // Offline at the same time: A deletes 201 (recorded by mistake, no items yet), B finds an
    // awning there.
    a.device
        .delete(building, RecordRef::Household(h201))
        .unwrap();
    assert_eq!(a.device.households(building).unwrap().len(), 1);
    let item = b
        .device
        .add_item(
            building,
            pengwang_shared::item::Category::Awning,
            Some(h201),
            &[],
            vec![photo(2)],
            "",
        )
        .unwrap();
    for d in [&a, &b, &a] {
        d.device.sync().await.unwrap();
    }

    for d in [&a, &b] {
        let held = room(d, "201");
        assert_eq!(
            (held.id, held.deleted, held.deleted_label, held.items),
            (h201, true, Some("已删除，但仍有隐患 — 待街道裁定"), 1)
        );
        assert!(!room(d, "101").deleted);
        let items = d.device.items(building, Some(h201)).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (
                items[0].id,
                items[0].household_deleted,
                items[0].conflicts,
                items[0].place.as_str()
            ),
            (item, true, 1, "1单元 201")
        );
        let summary = &d.device.my_buildings().unwrap()[0];
        assert_eq!((summary.households, summary.items), (2, 1));
        // The badge: A recorded the household, B the item; both see the conflict.
        assert_eq!(d.device.conflicts_on_my_items().unwrap(), 1);
        assert_eq!(d.device.status().unwrap().my_conflicts, 1);
    }
    // Regenerating the grid does not recreate 201 beside the deleted one.
    assert_eq!(a.device.add_household_grid(building, 1, 2, 1).unwrap(), 0);
    assert_eq!(a.device.households(building).unwrap().len(), 2);
    assert_eq!(
        a.device
            .delete(building, RecordRef::Household(h201))
            .unwrap_err()
            .code(),
        "not_allowed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_refuses_edits() {
    let server = FakeServer::start().await;
    let a = TestDevice::enrolled(&server, &inspector()).await;
    let (building, item) = a.building_with_item();
    server.fail_next(Fault::Status(403, "device_revoked"));
    assert_eq!(a.device.sync().await.unwrap_err().code(), "revoked");
    let before = a.device.heads(building).unwrap();

    let err = a
        .device
        .set_field(
            building,
            RecordRef::Item(item),
            "note",
            FieldValue::Text("x".into()),
        )
        .unwrap_err();
    assert_eq!(err.code(), "revoked_read_only");
    assert_eq!(
        a.device
            .record_event(building, item, notify())
            .unwrap_err()
            .code(),
        "revoked_read_only"
    );
    assert_eq!(
        a.device
            .add_household_grid(building, 1, 1, 1)
            .unwrap_err()
            .code(),
        "revoked_read_only"
    );
    assert_eq!(
        a.device.ingest_photo(b"\xff\xd8").unwrap_err().code(),
        "revoked_read_only"
    );
    assert_eq!(a.device.heads(building).unwrap(), before);
    assert_eq!(a.device.pending().unwrap().docs, 1);
}
