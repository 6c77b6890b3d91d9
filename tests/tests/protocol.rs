//! The sync endpoint against bad, forged and repeated batches.
#![allow(clippy::unwrap_used)]

use pengwang_e2e::field::*;
use pengwang_e2e::raw::RawClient;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_shared::protocol::{DocOutcome, DocPush, SyncRequest};
use pengwang_shared::role::Role;

/// Every stored row that sync may touch.
const STORED: [&str; 10] = [
    "doc",
    "doc_chunk",
    "change_meta",
    "sync_state",
    "p_building",
    "p_household",
    "p_item",
    "p_event",
    "p_conflict",
    "audit",
];

async fn inspector(server: &TestServer, street: &str) -> RawClient {
    let a = server
        .account("张网格", Role::CommunityInspector, street_scope(street))
        .unwrap();
    RawClient::enroll(server, &a).await.unwrap()
}

#[tokio::test]
async fn an_event_by_someone_else_refuses_that_document_and_stores_the_rest_of_the_batch() {
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let other = server
        .account(
            "李网格",
            Role::CommunityInspector,
            street_scope("500103001"),
        )
        .unwrap();
    let mut docs = vec![
        raw.building(&yuzhong("嘉华大厦"), None).unwrap(),
        raw.building(&yuzhong("阳光花园"), Some(&other)).unwrap(),
    ];
    let answer = raw
        .post("/v1/sync", RawClient::batch(&mut docs))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let resp = answer.sync().unwrap();
    assert!(matches!(resp.docs[0].outcome, DocOutcome::Synced { .. }));
    let DocOutcome::Refused(err) = &resp.docs[1].outcome else {
        panic!("{:?}", resp.docs[1])
    };
    assert_eq!(err.code, "event_author_mismatch");
    assert!(
        err.message.contains(&other.id.to_string()),
        "{}",
        err.message
    );
    assert_eq!(server.count("SELECT COUNT(*) FROM doc"), 1);
    assert_eq!(
        server.count(&format!(
            "SELECT COUNT(*) FROM doc WHERE doc_id = '{}'",
            docs[1].0
        )),
        0
    );
}

#[tokio::test]
async fn five_identical_batches_in_parallel_are_stored_once() {
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let mut docs = vec![raw.building(&yuzhong("嘉华大厦"), None).unwrap()];
    let body = RawClient::batch(&mut docs);
    let answers = futures_join(&raw, &body).await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(server.count("SELECT COUNT(*) FROM doc"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM doc_chunk"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_item"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM p_event"), 1);
    assert_eq!(server.count("SELECT COUNT(*) FROM change_meta"), 1);
}

async fn futures_join(raw: &RawClient, body: &[u8]) -> Vec<u16> {
    let handles: Vec<_> = (0..5)
        .map(|_| {
            let (raw, body) = (raw.clone(), body.to_vec());
            tokio::spawn(async move { raw.post("/v1/sync", body).await.unwrap().status })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn truncated_garbage_and_oversized_batches_are_refused_and_nothing_stored_changes() {
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let mut docs = vec![raw.building(&yuzhong("嘉华大厦"), None).unwrap()];
    let good = RawClient::batch(&mut docs);
    assert_eq!(
        raw.post("/v1/sync", good.clone()).await.unwrap().status,
        200
    );
    let before = server.rows(&STORED);

    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("empty", vec![], 400, "malformed_batch"),
        (
            "garbage",
            b"\xff\xfe not a batch at all".to_vec(),
            400,
            "malformed_batch",
        ),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            400,
            "malformed_batch",
        ),
        (
            "trailing bytes",
            [good.clone(), vec![0, 1, 2]].concat(),
            400,
            "malformed_batch",
        ),
        (
            "oversized",
            vec![0u8; 9 * 1024 * 1024],
            413,
            "payload_too_large",
        ),
        (
            "wrong protocol in the envelope",
            postcard::to_stdvec(&SyncRequest {
                protocol: 9,
                cursor: 0,
                docs: vec![],
            })
            .unwrap(),
            426,
            "protocol_mismatch",
        ),
    ];
    for (what, body, status, code) in cases {
        let a = raw.post("/v1/sync", body).await.unwrap();
        assert_eq!(
            (a.status, a.json()["code"].as_str()),
            (status, Some(code)),
            "{what}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert!(
            !a.json()["message"].as_str().unwrap_or("").is_empty(),
            "{what} says what was wrong"
        );
        assert_eq!(server.rows(&STORED), before, "{what} changed stored state");
    }

    // A well-formed batch whose document bytes are garbage: that document is refused on its own.
    let (id, _) = raw.building(&yuzhong("阳光花园"), None).unwrap();
    let body = postcard::to_stdvec(&SyncRequest {
        protocol: 1,
        cursor: 0,
        docs: vec![DocPush {
            doc: id,
            changes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
            message: vec![],
        }],
    })
    .unwrap();
    let a = raw.post("/v1/sync", body).await.unwrap();
    let resp = a.sync().unwrap();
    let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
        panic!()
    };
    assert_eq!(err.code, "malformed_document");
    assert_eq!(
        server
            .rows(&STORED)
            .iter()
            .filter(|r| !r.starts_with("sync_state"))
            .collect::<Vec<_>>(),
        before
            .iter()
            .filter(|r| !r.starts_with("sync_state"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_device_of_one_street_can_neither_write_nor_read_another_streets_building() {
    let server = TestServer::start().await.unwrap();
    let qixinggang = inspector(&server, "500103001").await;
    let jiefangbei = server
        .account(
            "赵网格",
            Role::CommunityInspector,
            street_scope("500103003"),
        )
        .unwrap();
    let jfb = TestDevice::enroll(&server, &jiefangbei).await.unwrap();
    let (their, _, _) = building_with_awning(
        &jfb,
        &place("500103", "500103003", "500103003013", "解放碑小区"),
        "2栋",
    )
    .unwrap();
    jfb.sync().await.unwrap();

    // Write: a document placed in the other street is refused.
    let mut docs = vec![qixinggang
        .building(
            &place("500103", "500103003", "500103003013", "别的小区"),
            None,
        )
        .unwrap()];
    let resp = qixinggang
        .post("/v1/sync", RawClient::batch(&mut docs))
        .await
        .unwrap()
        .sync()
        .unwrap();
    let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
        panic!()
    };
    assert_eq!(err.code, "out_of_scope");
    // Read: sync never sends it, and the ledger refuses it.
    let empty = postcard::to_stdvec(&SyncRequest {
        protocol: 1,
        cursor: 0,
        docs: vec![],
    })
    .unwrap();
    let resp = qixinggang
        .post("/v1/sync", empty)
        .await
        .unwrap()
        .sync()
        .unwrap();
    assert!(resp.docs.iter().all(|d| d.doc != their));
    assert_eq!(
        qixinggang
            .get(&format!("/v1/ledger/buildings/{their}"))
            .await
            .unwrap()
            .status,
        403
    );
    // Pushing changes to it by id is refused too.
    let body = postcard::to_stdvec(&SyncRequest {
        protocol: 1,
        cursor: 0,
        docs: vec![DocPush {
            doc: their,
            changes: vec![],
            message: vec![],
        }],
    })
    .unwrap();
    let resp = qixinggang
        .post("/v1/sync", body)
        .await
        .unwrap()
        .sync()
        .unwrap();
    let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
        panic!()
    };
    assert_eq!(err.code, "out_of_scope");
}

#[tokio::test]
async fn the_same_building_number_in_one_estate_is_listed_as_a_possible_duplicate() {
    let server = TestServer::start().await.unwrap();
    let a = server
        .account(
            "张网格",
            Role::CommunityInspector,
            street_scope("500103001"),
        )
        .unwrap();
    let b = server
        .account(
            "李网格",
            Role::CommunityInspector,
            street_scope("500103001"),
        )
        .unwrap();
    let (a, b) = (
        TestDevice::enroll(&server, &a).await.unwrap(),
        TestDevice::enroll(&server, &b).await.unwrap(),
    );
    let (one, _, _) = building_with_awning(&a, &yuzhong("嘉华大厦"), "3栋").unwrap();
    let (two, _, _) = building_with_awning(&b, &yuzhong("嘉华 大厦"), "３栋").unwrap();
    building_with_awning(&b, &yuzhong("嘉华大厦"), "4栋").unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let sup = server
        .account("王核查", Role::StreetChecker, street_scope("500103001"))
        .unwrap();
    let raw = RawClient::enroll(&server, &sup).await.unwrap();
    let dups = raw.get("/v1/duplicates").await.unwrap().json();
    let groups = dups["buildings"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{dups}");
    let mut ids: Vec<String> = groups[0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut want = vec![one.to_string(), two.to_string()];
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn only_the_creator_may_tombstone_a_record() {
    let server = TestServer::start().await.unwrap();
    let creator = inspector(&server, "500103001").await;
    let mut docs = vec![creator.building(&yuzhong("嘉华大厦"), None).unwrap()];
    assert_eq!(
        creator
            .post("/v1/sync", RawClient::batch(&mut docs))
            .await
            .unwrap()
            .status,
        200
    );
    // Someone else in the same street deletes the creator's item by a plain field write.
    let other = inspector(&server, "500103001").await;
    let (id, doc) = &mut docs[0];
    let mut theirs = doc.fork().with_actor(automerge::ActorId::from(
        other.device.0.as_bytes().as_slice(),
    ));
    let item = *pengwang_shared::document::read(&theirs)
        .unwrap()
        .items
        .keys()
        .next()
        .unwrap();
    pengwang_shared::document::delete(
        &mut theirs,
        pengwang_shared::document::RecordRef::Item(item),
    )
    .unwrap();
    theirs.commit();
    let mut batch = vec![(*id, theirs)];
    let resp = other
        .post("/v1/sync", RawClient::batch(&mut batch))
        .await
        .unwrap()
        .sync()
        .unwrap();
    let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
        panic!("{:?}", resp.docs[0])
    };
    assert_eq!(err.code, "delete_not_allowed");
    assert_eq!(
        server.count("SELECT COUNT(*) FROM p_item WHERE deleted = 1"),
        0
    );
}

#[tokio::test]
async fn console_accounts_never_receive_raw_documents() {
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let mut docs = vec![raw.building(&yuzhong("嘉华大厦"), None).unwrap()];
    assert_eq!(
        raw.post("/v1/sync", RawClient::batch(&mut docs))
            .await
            .unwrap()
            .status,
        200
    );
    let empty = postcard::to_stdvec(&SyncRequest {
        protocol: 1,
        cursor: 0,
        docs: vec![],
    })
    .unwrap();
    for (role, scope) in [
        (Role::City, pengwang_shared::role::Scope::City),
        (Role::UnitLead, unit_scope("500103")),
        (Role::FireRescue, pengwang_shared::role::Scope::City),
    ] {
        let account = server.account("专班", role, scope).unwrap();
        let console = RawClient::enroll(&server, &account).await.unwrap();
        let a = console.post("/v1/sync", empty.clone()).await.unwrap();
        assert_eq!(
            (a.status, a.json()["code"].as_str()),
            (403, Some("console_account")),
            "{role:?}"
        );
    }
}

#[tokio::test]
async fn garbage_changes_for_a_stored_building_are_refused_like_for_a_new_one() {
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let mut docs = vec![raw.building(&yuzhong("嘉华大厦"), None).unwrap()];
    assert_eq!(
        raw.post("/v1/sync", RawClient::batch(&mut docs))
            .await
            .unwrap()
            .status,
        200
    );
    let before = server.rows(&STORED);
    for garbage in [
        vec![1u8, 2, 3, 4, 5, 6, 7, 8],
        b"not automerge at all, just text".to_vec(),
        vec![0x85, 0x6f, 0x4a, 0x83, 9, 9, 9],
    ] {
        let push = DocPush {
            doc: docs[0].0,
            changes: garbage,
            message: vec![],
        };
        let body = postcard::to_stdvec(&SyncRequest {
            protocol: 1,
            cursor: 0,
            docs: vec![push],
        })
        .unwrap();
        let resp = raw.post("/v1/sync", body).await.unwrap().sync().unwrap();
        let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
            panic!("{:?}", resp.docs[0])
        };
        assert_eq!(err.code, "malformed_document");
    }
    let strip = |rows: Vec<String>| {
        rows.into_iter()
            .filter(|r| !r.starts_with("sync_state"))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(server.rows(&STORED)), strip(before));
}

#[tokio::test]
async fn a_photo_record_naming_someone_else_refuses_the_document() {
    use pengwang_shared::document::{attach_photo, PhotoRecord, PhotoRole};
    let server = TestServer::start().await.unwrap();
    let raw = inspector(&server, "500103001").await;
    let other = server
        .account(
            "李网格",
            Role::CommunityInspector,
            street_scope("500103001"),
        )
        .unwrap();
    let (id, mut doc) = raw.building(&yuzhong("嘉华大厦"), None).unwrap();
    let item = *pengwang_shared::document::read(&doc)
        .unwrap()
        .items
        .keys()
        .next()
        .unwrap();
    let record = |by, device| PhotoRecord {
        hash: photo(77),
        role: PhotoRole::Before,
        taken_at: None,
        place: None,
        bytes: 1000,
        width: 640,
        height: 480,
        by,
        device,
        added_at: pengwang_shared::time::Timestamp(1_780_000_000),
    };
    attach_photo(&mut doc, item, &record(other.id, Some(raw.device))).unwrap();
    doc.commit();
    let resp = raw
        .post("/v1/sync", RawClient::batch(&mut [(id, doc)]))
        .await
        .unwrap()
        .sync()
        .unwrap();
    let DocOutcome::Refused(err) = &resp.docs[0].outcome else {
        panic!("{:?}", resp.docs[0])
    };
    assert_eq!(err.code, "photo_author_mismatch");
    assert_eq!(server.count("SELECT COUNT(*) FROM doc"), 0);
}
