//! End-to-end photo evidence (DESIGN §8, issue 3): real fixture photos ingested on real devices,
//! uploaded over HTTP through the proxy to a real server, and what the ledger makes of them.
#![allow(clippy::unwrap_used)]

use pengwang_core::{Pending, SyncReport};
use pengwang_e2e::field::*;
use pengwang_e2e::raw::RawClient;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_shared::document::{FieldValue, PhotoRole};
use pengwang_shared::id::{BuildingId, ItemId, PhotoHash};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::role::Role;
use serde_json::Value;

fn inspector(server: &TestServer, name: &str) -> AccountInfo {
    server
        .account(name, Role::CommunityInspector, street_scope("500103001"))
        .unwrap()
}

/// A building with one household and one awning whose creation names `before` photos.
fn building_with_item(
    d: &TestDevice,
    estate: &str,
    before: Vec<PhotoHash>,
) -> (BuildingId, ItemId) {
    let b = d
        .create_building(
            yuzhong(estate),
            &[
                ("number", text("2栋")),
                ("use", text("residential")),
                ("floors", FieldValue::Int(18)),
            ],
        )
        .unwrap();
    let h = d
        .add_household(b, &[("floor", FieldValue::Int(9)), ("room", text("901"))])
        .unwrap();
    let i = d
        .add_item(
            b,
            Category::Awning,
            Some(h),
            &[("material", text("sandwich_foam"))],
            before,
            "",
        )
        .unwrap();
    (b, i)
}

/// The ledger's view of one item, read with a second token of `account`.
async fn ledger_item(
    server: &TestServer,
    account: &AccountInfo,
    b: BuildingId,
    i: ItemId,
) -> Value {
    let raw = RawClient::enroll(server, account).await.unwrap();
    let answer = raw.get(&format!("/v1/ledger/buildings/{b}")).await.unwrap();
    assert_eq!(answer.status, 200);
    let ledger = answer.json();
    ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == i.to_string())
        .cloned()
        .unwrap()
}

/// (hash, role, state) of every photo the ledger lists for an item, sorted.
fn ledger_photos(item: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = item["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            (s("hash"), s("role"), s("state"))
        })
        .collect();
    out.sort();
    out
}

/// Stored photo + thumbnail size on the device.
fn stored_len(d: &TestDevice, h: &PhotoHash) -> (u64, u64) {
    let (jpeg, thumb) = d.photo(h).unwrap().unwrap();
    (jpeg.len() as u64, thumb.len() as u64)
}

fn clean(report: &SyncReport) {
    assert_eq!(
        (report.photos_pending, report.photo_error.as_deref()),
        (0, None),
        "{report:?}"
    );
}

#[tokio::test]
async fn before_and_after_photos_arrive_byte_exact_and_evidence_the_item() {
    let server = TestServer::start().await.unwrap();
    let account = inspector(&server, "张网格");
    let d = TestDevice::enroll(&server, &account).await.unwrap();

    let before = d
        .ingest_photo(&fixture_photo("orientation/landscape_6.jpg"))
        .unwrap();
    let (b, i) = building_with_item(&d, "嘉华大厦", vec![before.clone()]);
    notify(&d, b, i).unwrap();
    d.at("2026-03-05 15:00");
    let after = d.ingest_photo(&fixture_photo("gps/DSCN0010.jpg")).unwrap();
    submit_removed_with(&d, b, i, vec![after.clone()]).unwrap();
    assert_eq!(d.pending().unwrap(), Pending { docs: 1, photos: 2 });
    assert!(!d.pending().unwrap().is_clear());

    let report = d.sync().await.unwrap();
    clean(&report);
    let ((bj, bt), (aj, at)) = (stored_len(&d, &before), stored_len(&d, &after));
    assert_eq!(
        (report.photos_uploaded, report.photo_bytes_up),
        (2, bj + bt + aj + at)
    );
    assert!(d.pending().unwrap().is_clear());

    // The ledger: both photos stored, the item evidenced.
    let item = ledger_item(&server, &account, b, i).await;
    let mut expected = vec![
        (before.to_string(), "before".into(), "stored".into()),
        (after.to_string(), "after".into(), "stored".into()),
    ];
    expected.sort();
    assert_eq!(ledger_photos(&item), expected);
    assert_eq!(item["evidenced"], true);
    assert_eq!(item["state"], "pending_verify");

    // The server serves exactly the bytes the device stored.
    let raw = RawClient::enroll(&server, &account).await.unwrap();
    for h in [&before, &after] {
        let (jpeg, thumb) = d.photo(h).unwrap().unwrap();
        let got = raw.get(&format!("/v1/photos/{h}")).await.unwrap();
        assert_eq!((got.status, got.body == jpeg), (200, true), "{h}");
        let got = raw.get(&format!("/v1/photos/{h}/thumbnail")).await.unwrap();
        assert_eq!(
            (got.status, got.body == thumb),
            (200, true),
            "{h} thumbnail"
        );
    }

    // The document's records: role, place from the EXIF GPS, who, size; the before photo upright.
    let building = d.building(b).unwrap();
    let records = &building.items[&i].photos;
    assert_eq!(records.len(), 2);
    let rec = |h: &PhotoHash| records.iter().find(|r| &r.hash == h).unwrap();
    let a = rec(&after);
    assert_eq!(a.role, PhotoRole::After);
    let place = a.place.unwrap();
    // DSCN0010: N 43° 28' 2.814", E 11° 53' 6.456" (see app/core/tests/photo.rs).
    assert!(
        (place.lat - 43.467448).abs() < 1e-6 && (place.lng - 11.885127).abs() < 1e-6,
        "{place:?}"
    );
    assert_eq!((a.by, a.device, a.bytes), (account.id, d.device_id(), aj));
    assert!(a.taken_at.is_some());
    let bf = rec(&before);
    assert_eq!((bf.role, bf.bytes), (PhotoRole::Before, bj));
    assert!(bf.width > bf.height, "landscape_6 stored upright: {bf:?}");
}

#[tokio::test]
async fn an_upload_cut_part_way_resumes_with_only_what_did_not_arrive() {
    let server = TestServer::start().await.unwrap();
    let account = inspector(&server, "张网格");
    let d = TestDevice::enroll(&server, &account).await.unwrap();
    let hashes: Vec<PhotoHash> = [
        "orientation/landscape_1.jpg",
        "orientation/portrait_1.jpg",
        "gps/DSCN0012.jpg",
        "gps/DSCN0025.jpg",
    ]
    .iter()
    .map(|f| d.ingest_photo(&fixture_photo(f)).unwrap())
    .collect();
    let (b, i) = building_with_item(&d, "嘉华大厦", hashes.clone());
    assert_eq!(d.pending().unwrap(), Pending { docs: 1, photos: 4 });

    // Photo 1 and its thumbnail, then photo 2 arrive; the link dies at thumbnail 2.
    d.proxy.cut_after_puts(3);
    let cut = d.sync().await.unwrap();
    assert!(cut.photo_error.is_some(), "{cut:?}");
    assert_eq!((cut.photos_uploaded, cut.photos_pending), (2, 3));
    assert_eq!(
        d.pending().unwrap(),
        Pending { docs: 0, photos: 3 },
        "the documents' sync stands"
    );
    assert_eq!(
        (
            server.count("SELECT count(*) FROM photo"),
            server.count("SELECT count(*) FROM photo WHERE thumb_bytes IS NOT NULL")
        ),
        (2, 1)
    );

    // What the server lacks, by its own rows: a whole photo, or just the thumbnail.
    let mut lacking = 0;
    let mut total = 0;
    for h in &hashes {
        let (jpeg, thumb) = stored_len(&d, h);
        total += jpeg + thumb;
        let has = server.count(&format!("SELECT count(*) FROM photo WHERE hash = '{h}'"));
        let has_thumb = server.count(&format!(
            "SELECT count(*) FROM photo WHERE hash = '{h}' AND thumb_bytes IS NOT NULL"
        ));
        lacking += match (has, has_thumb) {
            (0, _) => jpeg + thumb,
            (_, 0) => thumb,
            _ => 0,
        };
    }
    assert!(0 < lacking && lacking < total);

    d.go_online();
    let resumed = d.sync().await.unwrap();
    clean(&resumed);
    assert_eq!(
        (resumed.photos_uploaded, resumed.photo_bytes_up),
        (2, lacking)
    );
    assert_eq!(
        server.count("SELECT count(*) FROM photo WHERE thumb_bytes IS NOT NULL"),
        4
    );
    let again = d.sync().await.unwrap();
    assert_eq!((again.photos_uploaded, again.photo_bytes_up), (0, 0));
    assert!(d.pending().unwrap().is_clear());

    let item = ledger_item(&server, &account, b, i).await;
    assert_eq!(item["evidenced"], true);
    assert!(ledger_photos(&item).iter().all(|p| p.2 == "stored"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_photo_from_two_devices_syncing_at_once_is_stored_once() {
    let server = TestServer::start().await.unwrap();
    let (ka, kb) = (inspector(&server, "张网格"), inspector(&server, "李网格"));
    let a = TestDevice::enroll(&server, &ka).await.unwrap();
    let b = TestDevice::enroll(&server, &kb).await.unwrap();
    let original = fixture_photo("gps/DSCN0012.jpg");
    let ha = a.ingest_photo(&original).unwrap();
    let hb = b.ingest_photo(&original).unwrap();
    assert_eq!(ha, hb, "ingest is deterministic: same photo, same hash");
    assert_eq!(a.photo(&ha).unwrap(), b.photo(&hb).unwrap());
    building_with_item(&a, "嘉华大厦", vec![ha.clone()]);
    building_with_item(&b, "嘉华大厦", vec![hb.clone()]);

    let (ra, rb) = tokio::join!(a.sync(), b.sync());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    clean(&ra);
    clean(&rb);
    assert!(ra.photos_uploaded + rb.photos_uploaded >= 1);
    // Retried at once again: nothing left to send.
    let (ra, rb) = tokio::join!(a.sync(), b.sync());
    assert_eq!(
        (ra.unwrap().photo_bytes_up, rb.unwrap().photo_bytes_up),
        (0, 0)
    );
    assert_eq!(server.count("SELECT count(*) FROM photo"), 1);
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM photo WHERE hash = '{ha}' AND thumb_bytes IS NOT NULL"
        )),
        1
    );
    assert_eq!(server.count("SELECT count(*) FROM p_photo_ref"), 2);
    assert_eq!(a.pending().unwrap(), Pending { docs: 0, photos: 0 });
    assert_eq!(b.pending().unwrap(), Pending { docs: 0, photos: 0 });
}

#[tokio::test]
async fn a_declared_photo_that_never_arrived_is_missing_in_the_ledger() {
    let server = TestServer::start().await.unwrap();
    let account = inspector(&server, "张网格");
    let d = TestDevice::enroll(&server, &account).await.unwrap();
    let h = d
        .ingest_photo(&fixture_photo("orientation/portrait_3.jpg"))
        .unwrap();
    let (b, i) = building_with_item(&d, "嘉华大厦", vec![h.clone()]);

    // The document goes; the link dies at the first photo upload.
    d.proxy.cut_after_puts(0);
    let report = d.sync().await.unwrap();
    assert!(report.photo_error.is_some());
    assert_eq!(report.photos_pending, 1);
    let pending = d.pending().unwrap();
    assert_eq!(pending, Pending { docs: 0, photos: 1 });
    assert!(
        !pending.is_clear(),
        "never \"all synced\" with a photo pending"
    );

    let item = ledger_item(&server, &account, b, i).await;
    assert_eq!(item["evidenced"], false);
    let photo = &item["photos"][0];
    assert_eq!(
        (&photo["hash"], &photo["state"]),
        (&Value::from(h.to_string()), &Value::from("missing"))
    );
    assert_eq!(
        photo["note"],
        format!("photo missing (device {})", d.device_id().unwrap())
    );

    // Back online, the photo arrives and the item is evidenced.
    d.go_online();
    clean(&d.sync().await.unwrap());
    let item = ledger_item(&server, &account, b, i).await;
    assert_eq!(item["evidenced"], true);
    assert_eq!(item["photos"][0]["state"], "stored");
}

#[tokio::test]
async fn a_heif_photo_is_refused_by_name_and_the_item_still_syncs() {
    let server = TestServer::start().await.unwrap();
    let account = inspector(&server, "张网格");
    let d = TestDevice::enroll(&server, &account).await.unwrap();
    let (b, _, i) = building_with_awning(&d, &yuzhong("嘉华大厦"), "5栋").unwrap();
    let heads = d.heads(b).unwrap();

    let err = d
        .add_photo(b, i, PhotoRole::Before, &fixture_photo("bad/sample.heif"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_photo");
    assert!(err.to_string().contains("HEIF"), "{err}");
    assert_eq!(d.heads(b).unwrap(), heads, "nothing was written");
    assert_eq!(d.pending().unwrap(), Pending { docs: 1, photos: 0 });
    let err = d
        .ingest_photo(&fixture_photo("bad/corrupted.jpg"))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_photo");

    // A good photo of the same item goes in with its record, in one change.
    let good = d
        .add_photo(
            b,
            i,
            PhotoRole::Document,
            &fixture_photo("orientation/landscape_1.jpg"),
        )
        .unwrap();
    let records = d.building(b).unwrap().items[&i].photos.clone();
    assert_eq!(
        records
            .iter()
            .map(|r| (&r.hash, r.role))
            .collect::<Vec<_>>(),
        vec![(&good, PhotoRole::Document)]
    );
    assert_eq!(d.pending().unwrap(), Pending { docs: 1, photos: 1 });

    clean(&d.sync().await.unwrap());
    assert!(d.pending().unwrap().is_clear());
    assert_eq!(
        server.count(&format!(
            "SELECT count(*) FROM p_item WHERE building_id = '{b}'"
        )),
        1
    );
    assert_eq!(server.count("SELECT count(*) FROM photo"), 1);
}
