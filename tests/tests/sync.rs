//! End-to-end sync scenarios: a real server on 127.0.0.1:0 and real devices over HTTP.
#![allow(clippy::unwrap_used)]

use pengwang_e2e::field::*;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_server::projection;
use pengwang_shared::document::{conflict::DocConflict, FieldValue, RecordRef};
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::protocol::{Resolution, ResolveRequest};
use pengwang_shared::role::Role;

async fn pair(server: &TestServer) -> (TestDevice, TestDevice, TestDevice) {
    let scope = street_scope("500103001");
    let a = server
        .account("张网格", Role::CommunityInspector, scope.clone())
        .unwrap();
    let b = server
        .account("李网格", Role::CommunityInspector, scope.clone())
        .unwrap();
    let s = server
        .account("王核查", Role::StreetChecker, scope)
        .unwrap();
    (
        TestDevice::enroll(server, &a).await.unwrap(),
        TestDevice::enroll(server, &b).await.unwrap(),
        TestDevice::enroll(server, &s).await.unwrap(),
    )
}

async fn resolve(
    server: &TestServer,
    supervisor: &TestDevice,
    req: &ResolveRequest,
) -> reqwest::StatusCode {
    // The supervisor's phone token is the credential; read it back from its own store is not
    // exposed, so re-enroll a console token for the same account.
    let code = server.enrollment_code(&supervisor.account).unwrap();
    let client = reqwest::Client::new();
    let enrolled: serde_json::Value = client
        .post(format!("{}/v1/enroll", server.url()))
        .header("pengwang-protocol", "1")
        .json(&serde_json::json!({"code": code, "device_name": "console"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = enrolled["token"].as_str().unwrap();
    client
        .post(format!("{}/v1/conflicts/resolve", server.url()))
        .header("pengwang-protocol", "1")
        .bearer_auth(token)
        .json(req)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn two_inspectors_edit_different_fields_offline_and_both_edits_merge() {
    let server = TestServer::start().await.unwrap();
    let (a, b, _) = pair(&server).await;
    let (bid, h, _) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.go_offline();
    b.go_offline();
    a.set_field(bid, RecordRef::Household(h), "occupancy", text("rented"))
        .unwrap();
    b.set_field(
        bid,
        RecordRef::Household(h),
        "owner_phone",
        text("13812341234"),
    )
    .unwrap();
    assert!(a.sync().await.is_err());
    a.go_online();
    b.go_online();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.heads(bid).unwrap(), b.heads(bid).unwrap());
    let doc = a.building(bid).unwrap();
    assert_eq!(doc.households[&h].fields["occupancy"], text("rented"));
    assert_eq!(
        doc.households[&h].fields["owner_phone"],
        text("13812341234")
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
}

#[tokio::test]
async fn same_field_two_values_is_one_conflict_until_a_supervisor_resolves_it() {
    let server = TestServer::start().await.unwrap();
    let (a, b, sup) = pair(&server).await;
    let (bid, _, item) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.go_offline();
    b.go_offline();
    a.at("2026-03-02 10:00");
    a.set_field(bid, RecordRef::Item(item), "fire_grade", text("B3"))
        .unwrap();
    b.at("2026-03-02 11:00");
    b.set_field(bid, RecordRef::Item(item), "fire_grade", text("unknown"))
        .unwrap();
    a.go_online();
    b.go_online();
    a.sync().await.unwrap();
    let report = b.sync().await.unwrap();
    assert_eq!(report.open_conflicts, 1);
    a.sync().await.unwrap();
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_conflict WHERE kind = 'field'"),
        1
    );
    let found = a.conflicts(bid).unwrap();
    let [DocConflict::Field { writes, key, .. }] = found.as_slice() else {
        panic!("{found:?}")
    };
    assert_eq!(key, "fire_grade");
    let mut values: Vec<(String, i64)> = writes
        .iter()
        .map(|w| (w.value.to_string(), w.time))
        .collect();
    values.sort();
    assert_eq!(
        values,
        [
            ("B3".to_string(), 1_772_416_800),
            ("unknown".to_string(), 1_772_420_400)
        ]
    );

    let req = ResolveRequest {
        doc: bid,
        record: RecordRef::Item(item),
        resolution: Resolution::Field {
            key: "fire_grade".into(),
            value: text("B3"),
        },
        note: "现场复核为B3".into(),
    };
    assert_eq!(resolve(&server, &sup, &req).await, reqwest::StatusCode::OK);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    for d in [&a, &b] {
        assert!(d.conflicts(bid).unwrap().is_empty());
        assert_eq!(
            d.building(bid).unwrap().items[&item].fields["fire_grade"],
            text("B3")
        );
    }
    // Resolving again is refused: nothing is open.
    assert_eq!(
        resolve(&server, &sup, &req).await,
        reqwest::StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn identical_changes_on_two_devices_are_no_conflict() {
    let server = TestServer::start().await.unwrap();
    let (a, b, _) = pair(&server).await;
    let (bid, h, _) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.set_field(bid, RecordRef::Household(h), "occupancy", text("vacant"))
        .unwrap();
    b.set_field(bid, RecordRef::Household(h), "occupancy", text("vacant"))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    // Two concurrent puts of one value are still two ops in automerge, but they agree.
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
    assert!(a.conflicts(bid).unwrap().is_empty());
    assert_eq!(
        a.heads(bid).unwrap().len(),
        2,
        "both changes are there, concurrent"
    );
}

#[tokio::test]
async fn deleting_an_item_another_device_edits_offline_is_a_conflict_and_keeps_the_edit() {
    let server = TestServer::start().await.unwrap();
    let (a, b, _) = pair(&server).await;
    let (bid, _, item) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.delete(bid, RecordRef::Item(item)).unwrap();
    b.set_field(bid, RecordRef::Item(item), "area_m2", FieldValue::Real(2.5))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_conflict WHERE kind = 'deleted'"),
        1
    );
    let doc = a.building(bid).unwrap();
    assert_eq!(doc.items[&item].fields["area_m2"], FieldValue::Real(2.5));
}

#[tokio::test]
async fn concurrent_lifecycle_steps_fork_and_a_resolution_ends_the_fork_everywhere() {
    let server = TestServer::start().await.unwrap();
    let (a, b, sup) = pair(&server).await;
    let (bid, _, item) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    notify(&a, bid, item).unwrap();
    notify(&a, bid, item).unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    submit_removed(&a, bid, item, 2).unwrap();
    step(&b, bid, item, EventKind::ProposeRefusal, "业主拒绝拆除").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_conflict WHERE kind = 'fork'"),
        1
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_item WHERE forked = 1 AND completed_at IS NULL"),
        1
    );
    assert!(a.item_fold(bid, item).unwrap().is_forked());
    let req = ResolveRequest {
        doc: bid,
        record: RecordRef::Item(item),
        resolution: Resolution::Fork {
            to: ItemState::PendingVerify,
        },
        note: "业主已自行拆除".into(),
    };
    assert_eq!(resolve(&server, &sup, &req).await, reqwest::StatusCode::OK);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    for d in [&a, &b] {
        let f = d.item_fold(bid, item).unwrap();
        assert!(!f.is_forked());
        assert_eq!(f.state, Some(ItemState::PendingVerify));
    }
}

#[tokio::test]
async fn nothing_changed_means_no_document_bodies() {
    let server = TestServer::start().await.unwrap();
    let (a, _, _) = pair(&server).await;
    building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    let first = a.sync().await.unwrap();
    assert!(first.refused.is_empty(), "{:?}", first.refused);
    let idle = a.sync().await.unwrap();
    assert_eq!(idle.docs_sent, 0);
    assert_eq!(idle.docs_received, 0);
    // postcard: protocol (1) + cursor varint + empty doc list (1).
    assert!(
        idle.bytes_up <= 6,
        "idle request was {} bytes",
        idle.bytes_up
    );
    assert!(
        idle.bytes_down < 200,
        "idle response was {} bytes",
        idle.bytes_down
    );
}

#[tokio::test]
async fn a_lost_response_is_retried_and_every_record_is_stored_once() {
    let server = TestServer::start().await.unwrap();
    let (a, _, _) = pair(&server).await;
    let (bid, _, item) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    notify(&a, bid, item).unwrap();
    a.drop_responses();
    assert!(a.sync().await.is_err());
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_event"),
        2,
        "the server committed before answering"
    );
    a.go_online();
    a.sync().await.unwrap();
    assert_eq!(server.count("SELECT COUNT(*) FROM p_building"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_item"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_event"), 2);
    assert_eq!(a.pending().unwrap().docs, 0);
}

#[tokio::test]
async fn an_inspector_cannot_write_another_streets_building() {
    let server = TestServer::start().await.unwrap();
    let (a, _, _) = pair(&server).await;
    let other = place("500103", "500103003", "500103003013", "别的小区");
    assert!(
        a.create_building(other, &[("number", text("1栋"))])
            .is_err(),
        "the phone refuses out-of-scope buildings"
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM doc"), 0);
}

#[tokio::test]
async fn incremental_projections_equal_a_full_rebuild() {
    let server = TestServer::start().await.unwrap();
    let (a, b, s) = pair(&server).await;
    for (n, d) in [&a, &b, &a, &b].into_iter().enumerate() {
        let (bid, _, item) = building_with_awning(d, &yuzhong(&format!("小区{n}")), "1栋").unwrap();
        notify(d, bid, item).unwrap();
        d.sync().await.unwrap();
    }
    s.sync().await.unwrap();
    b.sync().await.unwrap();
    let before = server.rows(&TestServer::PROJECTIONS);
    assert_eq!(before.iter().filter(|r| r.starts_with("p_item")).count(), 4);
    let settings = pengwang_shared::settings::CampaignSettings::for_year(2026);
    server
        .state
        .db
        .with_writer(|c| projection::rebuild_all(c, &settings, 0))
        .unwrap();
    assert_eq!(server.rows(&TestServer::PROJECTIONS), before);
}

#[tokio::test]
async fn a_phone_that_only_receives_gets_each_change_as_a_delta_and_recovers_a_lost_answer() {
    let server = TestServer::start().await.unwrap();
    let (a, b, _) = pair(&server).await;
    let (bid, h, _) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    for n in 0..30 {
        let hh = a
            .add_household(bid, &[("room", text(&format!("{n}01")))])
            .unwrap();
        a.add_item(
            bid,
            pengwang_shared::item::Category::Net,
            Some(hh),
            &[],
            vec![photo(n)],
            "",
        )
        .unwrap();
    }
    a.sync().await.unwrap();
    let first = b.sync().await.unwrap();
    let whole = a.save(bid).unwrap().len() as u64;
    assert!(
        first.bytes_down >= whole / 2,
        "the first download carries the document"
    );

    a.set_field(bid, RecordRef::Household(h), "occupancy", text("rented"))
        .unwrap();
    a.sync().await.unwrap();
    let delta = b.sync().await.unwrap();
    assert_eq!(delta.docs_received, 1);
    assert!(
        delta.bytes_down < 1_000 && delta.bytes_down * 5 < whole,
        "{} bytes for one change of a {whole}-byte document",
        delta.bytes_down
    );

    // The answer carrying the next change is lost; a later change still reaches B whole.
    a.set_field(bid, RecordRef::Household(h), "occupancy", text("vacant"))
        .unwrap();
    a.sync().await.unwrap();
    b.drop_responses();
    assert!(b.sync().await.is_err());
    b.go_online();
    a.set_field(bid, RecordRef::Household(h), "floor", FieldValue::Int(7))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(b.heads(bid).unwrap(), a.heads(bid).unwrap());
    let doc = b.building(bid).unwrap();
    assert_eq!(doc.households[&h].fields["occupancy"], text("vacant"));
    assert_eq!(doc.households[&h].fields["floor"], FieldValue::Int(7));
}

#[tokio::test]
async fn a_resolution_must_pick_a_value_and_needs_an_open_conflict() {
    let server = TestServer::start().await.unwrap();
    let (a, b, sup) = pair(&server).await;
    let (bid, _, item) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.set_field(bid, RecordRef::Item(item), "area_m2", FieldValue::Real(2.4))
        .unwrap();
    b.set_field(bid, RecordRef::Item(item), "area_m2", FieldValue::Real(3.1))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let field = |value| ResolveRequest {
        doc: bid,
        record: RecordRef::Item(item),
        resolution: Resolution::Field {
            key: "area_m2".into(),
            value,
        },
        note: String::new(),
    };
    assert_eq!(
        resolve(&server, &sup, &field(FieldValue::Null)).await,
        reqwest::StatusCode::BAD_REQUEST
    );
    assert_eq!(
        resolve(&server, &sup, &field(text("a lot"))).await,
        reqwest::StatusCode::BAD_REQUEST
    );
    let undelete = ResolveRequest {
        doc: bid,
        record: RecordRef::Item(item),
        resolution: Resolution::Deleted {
            keep_deleted: false,
        },
        note: String::new(),
    };
    assert_eq!(
        resolve(&server, &sup, &undelete).await,
        reqwest::StatusCode::CONFLICT
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_conflict"),
        1,
        "nothing was resolved"
    );
    // A value neither inspector entered is the supervisor's to write (measured again on site).
    assert_eq!(
        resolve(&server, &sup, &field(FieldValue::Real(2.8))).await,
        reqwest::StatusCode::OK
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
}
