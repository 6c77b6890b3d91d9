//! Photo upload, download and evidence (issue 3, DESIGN §8), through the router without a socket.
//!
//! The photos are small JPEGs encoded here; the building is a real automerge document stored and
//! projected as a sync would store it: 金汤小区 in 七星岗街道 (500103001), one awning created
//! with a before photo, submitted with an after photo and closed by the street.
#![allow(clippy::unwrap_used)]

use automerge::transaction::CommitOptions;
use automerge::AutoCommit;
use axum::http::{header, Method, StatusCode};
use pengwang_server::{campaign, documents, projection, Config};
use pengwang_shared::document::{self, FieldValue};
use pengwang_shared::event::{Event, EventDetail, EventKind};
use pengwang_shared::id::{AccountId, BuildingId, DeviceId, EventId, ItemId, PhotoHash};
use pengwang_shared::item::{Category, RemediationMethod};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Role, Scope};
use pengwang_shared::time::{Clock, Timestamp};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;

mod common;
use common::{Response, TestApp};

impl TestApp {
    fn new() -> Self {
        Self::with_config(|_| {})
    }

    fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        Self::at("2026-03-01 10:00", edit)
    }

    /// Creates an account, enrolls a phone for it and returns its token.
    async fn login(&self, role: Role, scope: Scope) -> String {
        self.enroll_account("王五", role, scope).await.0
    }

    async fn put(&self, uri: &str, token: &str, bytes: &[u8]) -> Response {
        let body = Some(("image/jpeg", bytes.to_vec()));
        self.request(Method::PUT, uri, Some(token), body).await
    }

    async fn get(&self, uri: &str, token: &str) -> Response {
        self.request(Method::GET, uri, Some(token), None).await
    }

    async fn missing(&self, token: &str, hashes: &[String]) -> Response {
        let body = json!({ "hashes": hashes });
        self.request(
            Method::POST,
            "/v1/photos/missing",
            Some(token),
            json_body(&body),
        )
        .await
    }

    fn photo_path(&self, hash: &str, suffix: &str) -> PathBuf {
        self.state
            .config
            .photo_dir()
            .join(&hash[0..2])
            .join(&hash[2..4])
            .join(format!("{hash}.{suffix}"))
    }

    fn count(&self, sql: &str) -> i64 {
        self.state
            .db
            .with_writer(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap()
    }

    /// Stores and projects `doc` as a sync from a phone would.
    fn store(&self, id: BuildingId, doc: &mut AutoCommit) {
        let now = self.clock.now();
        self.state
            .db
            .with_writer(|c| -> anyhow::Result<()> {
                let settings = campaign::load(c, now)?;
                let tx = c.transaction()?;
                documents::append(&tx, id, doc.document(), &[], &location(), None, now.0)?;
                projection::project(&tx, doc.document(), &settings, now.0)?;
                tx.commit()?;
                Ok(())
            })
            .unwrap();
    }
}

fn json_body(v: &Value) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", v.to_string().into_bytes()))
}

/// A baseline JPEG of `width` × `height` pixels; `seed` varies the pixels (and so the hash).
fn jpeg(width: u16, height: u16, seed: u8) -> Vec<u8> {
    let pixels: Vec<u8> = (0..usize::from(width) * usize::from(height) * 3)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

/// 渝中区 七星岗街道 华一坡社区 金汤小区.
fn location() -> Location {
    Location {
        unit: UnitCode::parse("500103").unwrap(),
        street: StreetCode::parse("500103001").unwrap(),
        community: CommunityCode::parse("500103001003").unwrap(),
        estate: "金汤小区".into(),
    }
}

const INSPECTOR: u128 = 1;
const CHECKER: u128 = 2;

fn event(kind: EventKind, by: u128, role: Role, at: i64, photos: &[&str]) -> Event {
    Event {
        id: EventId::new(),
        kind,
        to: None,
        at: Timestamp(at),
        by: AccountId(uuid::Uuid::from_u128(by)),
        role,
        device: Some(DeviceId(uuid::Uuid::from_u128(by))),
        note: String::new(),
        photos: photos
            .iter()
            .map(|h| PhotoHash::parse(h).unwrap())
            .collect(),
        prev: vec![],
        detail: EventDetail::default(),
    }
}

/// A building whose awning was created with `before`, submitted as removed with `after`, then
/// (after a bogus close by the inspector, invalid: only the street closes, carrying `stray`)
/// closed by the street checker.
fn closed_awning(before: &str, after: &str, stray: &str) -> (BuildingId, ItemId, AutoCommit) {
    let t = Timestamp::parse_local("2026-02-20 09:00").unwrap().0;
    let mut doc = AutoCommit::new();
    let (b, i) = (BuildingId::new(), ItemId::new());
    let by = AccountId(uuid::Uuid::from_u128(INSPECTOR));
    let number = [("number", FieldValue::Text("1栋".into()))];
    document::create_building(&mut doc, b, &location(), by, &number).unwrap();
    let create = event(
        EventKind::Create,
        INSPECTOR,
        Role::CommunityInspector,
        t,
        &[before],
    );
    let mut submit = event(
        EventKind::Submit,
        INSPECTOR,
        Role::CommunityInspector,
        t + 100,
        &[after],
    );
    submit.prev = vec![create.id];
    submit.detail.method = Some(RemediationMethod::Removed);
    let mut bogus = event(
        EventKind::Close,
        INSPECTOR,
        Role::CommunityInspector,
        t + 150,
        &[stray],
    );
    bogus.prev = vec![submit.id];
    let mut close = event(EventKind::Close, CHECKER, Role::StreetChecker, t + 200, &[]);
    close.prev = vec![bogus.id];
    document::add_item(&mut doc, i, Category::Awning, None, &[], &create).unwrap();
    for e in [&submit, &bogus, &close] {
        document::append_event(&mut doc, i, e).unwrap();
    }
    doc.commit_with(CommitOptions::default().with_message("test").with_time(t));
    (b, i, doc)
}

#[tokio::test]
async fn the_missing_list_names_only_what_has_not_arrived_in_the_order_asked() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let stored = jpeg(64, 48, 1);
    let (a, b, c) = (sha256(&stored), "b".repeat(64), "c".repeat(64));
    let r = app.put(&format!("/v1/photos/{a}"), &token, &stored).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());

    let r = app
        .missing(&token, &[c.clone(), a.clone(), b.clone(), c.clone()])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    // `a` arrived without its thumbnail: only the thumbnail is still missing.
    assert_eq!(
        r.json(),
        json!({ "missing": [c, b], "missing_thumbnails": [c, a, b] })
    );
    let thumb = jpeg(32, 24, 1);
    let r = app
        .put(&format!("/v1/photos/{a}/thumbnail"), &token, &thumb)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let r = app.missing(&token, &[a.clone(), b.clone()]).await;
    assert_eq!(
        r.json(),
        json!({ "missing": [b], "missing_thumbnails": [b] })
    );

    let many: Vec<String> = (0..1001).map(|n| format!("{n:064x}")).collect();
    let r = app.missing(&token, &many).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({ "code": "too_many_hashes", "message": "1001 hashes in one request; ask about at most 1000 at a time" })
    );
    let r = app.missing(&token, &["ABC".into()]).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_json"))
    );
}

#[tokio::test]
async fn an_upload_is_stored_once_and_the_same_upload_again_rewrites_nothing() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let bytes = jpeg(300, 200, 2);
    let hash = sha256(&bytes);
    let uri = format!("/v1/photos/{hash}");
    let r = app.put(&uri, &token, &bytes).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let answer = json!({ "hash": hash, "bytes": bytes.len(), "width": 300, "height": 200 });
    assert_eq!(r.json(), answer);
    let path = app.photo_path(&hash, "jpg");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let before = std::fs::metadata(&path).unwrap();

    let r = app.put(&uri, &token, &bytes).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, answer));
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (after.ino(), after.modified().unwrap()),
        (before.ino(), before.modified().unwrap()),
        "the file was rewritten"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM photo"), 1);
}

#[tokio::test]
async fn bytes_that_do_not_hash_to_the_path_are_refused_naming_both_hashes() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let bytes = jpeg(64, 48, 3);
    let claimed = "0".repeat(64);
    let r = app
        .put(&format!("/v1/photos/{claimed}"), &token, &bytes)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = format!(
        "the uploaded bytes hash to {}, but the path names photo {claimed}: the upload was altered or cut short",
        sha256(&bytes)
    );
    assert_eq!(
        r.json(),
        json!({ "code": "hash_mismatch", "message": message })
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM photo"), 0);
    assert!(!app.photo_path(&claimed, "jpg").exists());
}

#[tokio::test]
async fn a_file_that_is_not_a_jpeg_is_refused_with_the_reason() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&png)), &token, &png)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["code"], "not_a_jpeg");
    assert_eq!(
        r.json()["message"],
        "the uploaded photo is not a JPEG: it does not start with the JPEG start-of-image marker FF D8 (it starts with 89 50 4E 47)"
    );
    // A start-of-image marker followed by garbage: the header does not parse.
    let broken = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&broken)), &token, &broken)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let message = r.json()["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("the uploaded photo is not a JPEG: its header does not parse"),
        "{message}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM photo"), 0);
}

#[tokio::test]
async fn a_photo_larger_than_max_photo_bytes_gets_413_whatever_the_batch_limit() {
    let app = TestApp::with_config(|c| {
        c.max_photo_bytes = 2000;
        c.max_batch_bytes = 500;
    });
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let small = jpeg(16, 16, 4);
    assert!((500..2000).contains(&small.len()), "{}", small.len());
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&small)), &token, &small)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let bytes = jpeg(128, 128, 4);
    assert!(bytes.len() > 2000, "{}", bytes.len());
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&bytes)), &token, &bytes)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json(),
        json!({
            "code": "payload_too_large",
            "message": "the photo is larger than this server accepts (2000 bytes, max_photo_bytes, set by PENGWANG_MAX_PHOTO_BYTES)"
        })
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM photo"), 1);
}

#[tokio::test]
async fn a_3000_px_photo_is_refused_as_the_phone_stores_at_most_2048() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let bytes = jpeg(3000, 16, 5);
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&bytes)), &token, &bytes)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({
            "code": "photo_dimensions",
            "message": "the uploaded photo is 3000 × 16 px; its long side may be at most 2048 px"
        })
    );
    let exact = jpeg(16, 2048, 5);
    let r = app
        .put(&format!("/v1/photos/{}", sha256(&exact)), &token, &exact)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
}

#[tokio::test]
async fn a_thumbnail_needs_its_photo_first_and_is_then_stored_once() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let (photo, thumb) = (jpeg(640, 480, 6), jpeg(320, 240, 6));
    let hash = sha256(&photo);
    let uri = format!("/v1/photos/{hash}/thumbnail");
    let r = app.put(&uri, &token, &thumb).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(
        r.json(),
        json!({
            "code": "photo_not_uploaded",
            "message": format!("photo {hash} has not been uploaded: upload the photo before its thumbnail")
        })
    );
    assert_eq!(
        app.put(&format!("/v1/photos/{hash}"), &token, &photo)
            .await
            .status,
        StatusCode::OK
    );
    let r = app.put(&uri, &token, &jpeg(400, 300, 6)).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("photo_dimensions"))
    );
    let answer = json!({ "hash": hash, "bytes": thumb.len() });
    let r = app.put(&uri, &token, &thumb).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, answer.clone()));
    let path = app.photo_path(&hash, "thumb.jpg");
    assert_eq!(std::fs::read(&path).unwrap(), thumb);
    let ino = std::fs::metadata(&path).unwrap().ino();
    let r = app.put(&uri, &token, &thumb).await;
    assert_eq!((r.status, r.json()), (StatusCode::OK, answer));
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), ino);
    assert_eq!(
        app.count("SELECT thumb_bytes FROM photo"),
        thumb.len() as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_uploading_one_photo_five_times_at_once_store_it_once() {
    let app = Arc::new(TestApp::new());
    let a = app.login(Role::StreetChecker, street("500103001")).await;
    let b = app
        .login(Role::CommunityInspector, street("500103001"))
        .await;
    let bytes = Arc::new(jpeg(1024, 768, 7));
    let hash = sha256(&bytes);
    let tasks: Vec<_> = (0..5)
        .map(|n| {
            let (app, bytes, hash) = (app.clone(), bytes.clone(), hash.clone());
            let token = if n % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                let r = app.put(&format!("/v1/photos/{hash}"), &token, &bytes).await;
                (r.status, r.json())
            })
        })
        .collect();
    let answer = json!({ "hash": hash, "bytes": bytes.len(), "width": 1024, "height": 768 });
    for t in tasks {
        assert_eq!(t.await.unwrap(), (StatusCode::OK, answer.clone()));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM photo"), 1);
    let path = app.photo_path(&hash, "jpg");
    assert_eq!(std::fs::read(&path).unwrap(), *bytes);
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [format!("{hash}.jpg")], "no temporary file is left");
}

#[tokio::test]
async fn a_photo_is_served_in_scope_and_is_404_outside_it_or_when_unknown() {
    let app = TestApp::new();
    let field = app.login(Role::StreetChecker, street("500103001")).await;
    let elsewhere = app.login(Role::StreetChecker, street("500103003")).await;
    let city = app.login(Role::City, Scope::City).await;
    let (photo, thumb) = (jpeg(200, 100, 8), jpeg(100, 50, 8));
    let hash = sha256(&photo);
    let (b, _, mut doc) = closed_awning(&hash, &"a".repeat(64), &"e".repeat(64));
    let uri = format!("/v1/photos/{hash}");
    app.put(&uri, &field, &photo).await;
    app.put(&format!("{uri}/thumbnail"), &field, &thumb).await;

    // Stored but referenced by no building yet: nobody sees it.
    assert_eq!(app.get(&uri, &field).await.status, StatusCode::NOT_FOUND);
    app.store(b, &mut doc);

    for token in [&field, &city] {
        let r = app.get(&uri, token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(r.bytes, photo);
        let r = app.get(&format!("{uri}/thumbnail"), token).await;
        assert_eq!((r.status, r.bytes), (StatusCode::OK, thumb.clone()));
    }
    let hidden = app.get(&uri, &elsewhere).await;
    let unknown_hash = "f".repeat(64);
    let unknown = app.get(&format!("/v1/photos/{unknown_hash}"), &field).await;
    assert_eq!(
        (hidden.status, hidden.json()),
        (
            StatusCode::NOT_FOUND,
            json!({ "code": "photo_not_found", "message": format!("no photo {hash} in your scope") })
        )
    );
    assert_eq!(
        (unknown.status, unknown.json()),
        (
            StatusCode::NOT_FOUND,
            json!({ "code": "photo_not_found", "message": format!("no photo {unknown_hash} in your scope") })
        )
    );
    // Console accounts read but do not upload.
    let r = app.put(&uri, &city, &photo).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::FORBIDDEN, json!("console_account"))
    );
}

#[tokio::test]
async fn a_closure_whose_after_photo_never_arrived_is_not_evidenced_until_it_does() {
    let app = TestApp::new();
    let token = app.login(Role::StreetChecker, street("500103001")).await;
    let (before, after) = (jpeg(64, 48, 9), jpeg(64, 48, 10));
    let (hb, ha, stray) = (sha256(&before), sha256(&after), "e".repeat(64));
    let (b, i, mut doc) = closed_awning(&hb, &ha, &stray);
    app.store(b, &mut doc);
    app.put(&format!("/v1/photos/{hb}"), &token, &before).await;

    let item = |v: Value| v["items"][0].clone();
    let r = app.get(&format!("/v1/ledger/buildings/{b}"), &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let v = item(r.json());
    assert_eq!(
        (&v["id"], &v["state"], &v["invalid_events"]),
        (&json!(i.to_string()), &json!("closed"), &json!(1))
    );
    let device = |n: u128| DeviceId(uuid::Uuid::from_u128(n)).to_string();
    let summary: Vec<Value> = v["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            json!([
                p["hash"],
                p["role"],
                p["state"],
                p["note"],
                p["valid_event"]
            ])
        })
        .collect();
    let missing = format!("photo missing (device {})", device(INSPECTOR));
    assert_eq!(
        summary,
        [
            json!([hb, "before", "stored", null, true]),
            json!([ha, "after", "missing", missing, true]),
            json!([stray, "other", "missing", missing, false]),
        ]
    );
    assert_eq!(v["photos"][1]["at"], "2026-02-20 09:01:40");
    assert_eq!(v["photos"][1]["device_id"], json!(device(INSPECTOR)));
    assert_eq!(v["photos"][1]["thumbnail"], json!(false));
    assert_eq!(v["evidenced"], json!(false));
    let street_ledger = app.get("/v1/ledger/units/500103", &token).await.json();
    assert_eq!(street_ledger["streets"][0]["closed_without_evidence"], 1);

    app.put(&format!("/v1/photos/{ha}"), &token, &after).await;
    let v = item(
        app.get(&format!("/v1/ledger/buildings/{b}"), &token)
            .await
            .json(),
    );
    assert_eq!(
        (&v["photos"][1]["state"], &v["photos"][1]["note"]),
        (&json!("stored"), &Value::Null)
    );
    assert_eq!(
        v["evidenced"],
        json!(true),
        "the stray photo of an invalid step does not count"
    );
    let street_ledger = app.get("/v1/ledger/units/500103", &token).await.json();
    assert_eq!(street_ledger["streets"][0]["closed_without_evidence"], 0);
}

#[tokio::test]
async fn migration_0004_derives_the_same_photo_references_as_the_projection_and_a_rebuild() {
    let app = TestApp::new();
    let (b, _, mut doc) = closed_awning(&"1".repeat(64), &"2".repeat(64), &"3".repeat(64));
    app.store(b, &mut doc);
    let rows = |app: &TestApp| -> Vec<String> {
        app.state
            .db
            .with_writer(|c| {
                let mut stmt = c.prepare("SELECT * FROM p_photo_ref ORDER BY 1, 2")?;
                let rows = stmt.query_map([], |r| {
                    (0..7)
                        .map(|k| {
                            r.get::<_, rusqlite::types::Value>(k)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(|v| v.join("|"))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
    };
    let projected = rows(&app);
    assert_eq!(projected.len(), 3);

    let now = app.clock.now();
    app.state
        .db
        .with_writer(|c| -> anyhow::Result<()> {
            let settings = campaign::load(c, now)?;
            projection::rebuild_all(c, &settings, now.0)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(rows(&app), projected, "rebuild");

    app.state
        .db
        .with_writer(|c| -> anyhow::Result<()> {
            c.execute_batch(
                "DROP TABLE p_photo_ref; DROP TABLE photo; DELETE FROM schema_migrations WHERE version >= 4;",
            )?;
            // Re-apply 0004 and 0005 only: the later migrations are not about photos.
            let applied = pengwang_migrations::apply(c, &pengwang_migrations::SERVER[..5])?;
            assert_eq!(applied.len(), 2, "0004 and 0005");
            Ok(())
        })
        .unwrap();
    assert_eq!(rows(&app), projected, "migration backfill");
}
