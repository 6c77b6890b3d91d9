//! The console's conflicts inbox over real documents: two phones push concurrent changes through
//! `POST /v1/sync`, and a supervisor ends the conflicts with the console's forms (the same
//! resolution code as the phones' `POST /v1/conflicts/resolve`).
//!
//! Scenario (campaign 2026, clock 2026-06-20 10:00), 七星岗街道 / 金汤小区 1栋, stored on the
//! server: h1 (1单元 101, 业主 张三) with i1 awning created 03-01 and notified 04-01 and 05-01.
//! Then, offline on both phones:
//! - 张网格 (phone A) writes h1's 联系电话 13812341234 (06-19 09:00) and submits i1 as removed
//!   with an after photo (06-19 09:05) → PENDING_VERIFY on that branch;
//! - 李网格 (phone B) writes 13998765432 (06-19 10:00) and proposes refusal for i1 (06-19
//!   10:05, "业主拒绝拆除") → still NOTIFIED on that branch.
//!
//! Both phones sync: two open conflicts, a field conflict (h1 联系电话) and a lifecycle fork (i1).
#![allow(clippy::unwrap_used)]

mod building_docs;
mod common;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, ReadDoc};
use axum::http::{Method, StatusCode};
use building_docs::*;
use common::{ConsoleUser, TestApp};
use pengwang_server::documents;
use pengwang_shared::document::{self, FieldValue, RecordRef};
use pengwang_shared::event::{Event, EventDetail, EventKind, ItemState};
use pengwang_shared::id::{AccountId, BuildingId, DeviceId, EventId, HouseholdId, ItemId};
use pengwang_shared::item::{Category, RemediationMethod};
use pengwang_shared::protocol::{
    DocOutcome, DocPush, SyncRequest, SyncResponse, PROTOCOL_VERSION, SYNC_CONTENT_TYPE,
};
use pengwang_shared::region::StreetCode;
use pengwang_shared::role::{Role, Scope};

/// An enrolled phone: its token, device and account.
struct Phone {
    token: String,
    device: DeviceId,
    account: AccountId,
}

struct Scenario {
    app: TestApp,
    doc: BuildingId,
    h1: HouseholdId,
    i1: ItemId,
    a: Phone,
    b: Phone,
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

async fn phone(app: &TestApp, name: &str) -> Phone {
    let (token, device) = app
        .enroll_account(name, Role::CommunityInspector, street(STREET))
        .await;
    let account: String = app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT account_id FROM device WHERE id = ?1",
                [&device],
                |r| r.get(0),
            )
        })
        .unwrap();
    Phone {
        token,
        device: DeviceId::parse(&device).unwrap(),
        account: AccountId::parse(&account).unwrap(),
    }
}

impl Phone {
    /// The stored document as this phone holds it, writing with the phone's actor.
    fn copy(&self, base: &Automerge) -> Automerge {
        let mut doc = base.fork();
        doc.set_actor(ActorId::from(self.device.0.as_bytes().as_slice()));
        doc
    }

    fn event(&self, kind: EventKind, at: &str, prev: Vec<EventId>) -> Event {
        Event {
            id: EventId::new(),
            kind,
            to: None,
            at: t(at),
            by: self.account,
            role: Role::CommunityInspector,
            device: Some(self.device),
            note: String::new(),
            photos: vec![],
            prev,
            detail: EventDetail::default(),
        }
    }

    /// Pushes what `doc` has beyond `base` through `POST /v1/sync`.
    async fn push(&self, app: &TestApp, id: BuildingId, base: &Automerge, doc: &Automerge) {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: 0,
            docs: vec![DocPush {
                doc: id,
                changes: doc.save_after(&base.get_heads()),
                message: vec![],
            }],
        };
        let body = postcard::to_stdvec(&req).unwrap();
        let r = app
            .request(
                Method::POST,
                "/v1/sync",
                Some(&self.token),
                Some((SYNC_CONTENT_TYPE, body)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let resp: SyncResponse = postcard::from_bytes(&r.bytes).unwrap();
        for d in &resp.docs {
            assert!(
                matches!(d.outcome, DocOutcome::Synced { .. }),
                "{:?}",
                d.outcome
            );
        }
    }
}

/// One commit on a phone at local time `at`.
fn commit(
    doc: &mut Automerge,
    at: &str,
    f: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) {
    doc.transact_with(
        |_| CommitOptions::default().with_time(t(at).0),
        |tx| -> Result<(), automerge::AutomergeError> {
            f(tx);
            Ok(())
        },
    )
    .unwrap();
}

fn set_phone(tx: &mut impl Transactable, h: HouseholdId, number: &str) {
    document::set_field(
        tx,
        RecordRef::Household(h),
        "owner_phone",
        FieldValue::Text(number.into()),
    )
    .unwrap();
}

async fn scenario() -> Scenario {
    let app = TestApp::at("2026-06-20 10:00", |_| {});
    let mut draft = BuildingDraft::new(
        "b1",
        location(STREET, COMMUNITY, "金汤小区"),
        "1栋",
        Crew::new(),
    );
    let h1 = draft.household("h1", "1", "101");
    let i1 = draft.item("i1", Category::Awning, Some(h1), "2026-03-01 09:00");
    draft.notify(i1, "2026-04-01 09:00");
    draft.notify(i1, "2026-05-01 09:00");
    let doc = draft.id;
    let base = draft.store(&app.state);
    let heads =
        pengwang_shared::lifecycle::head_events(&document::read(&base).unwrap().items[&i1].events);

    let a = phone(&app, "张网格").await;
    let mut on_a = a.copy(&base);
    commit(&mut on_a, "2026-06-19 09:00", |tx| {
        set_phone(tx, h1, "13812341234")
    });
    let mut submit = a.event(EventKind::Submit, "2026-06-19 09:05", heads.clone());
    submit.detail.method = Some(RemediationMethod::Removed);
    submit.photos = vec![photo("i1-after")];
    commit(&mut on_a, "2026-06-19 09:05", |tx| {
        document::append_event(tx, i1, &submit).unwrap()
    });
    a.push(&app, doc, &base, &on_a).await;

    let b = phone(&app, "李网格").await;
    let mut on_b = b.copy(&base);
    commit(&mut on_b, "2026-06-19 10:00", |tx| {
        set_phone(tx, h1, "13998765432")
    });
    let mut refusal = b.event(EventKind::ProposeRefusal, "2026-06-19 10:05", heads);
    refusal.note = "业主拒绝拆除".into();
    commit(&mut on_b, "2026-06-19 10:05", |tx| {
        document::append_event(tx, i1, &refusal).unwrap()
    });
    b.push(&app, doc, &base, &on_b).await;

    Scenario {
        app,
        doc,
        h1,
        i1,
        a,
        b,
    }
}

impl Scenario {
    async fn user(&self, name: &str, login: &str, role: Role, scope: Scope) -> ConsoleUser {
        self.app.console_account(name, role, scope, login);
        self.app.sign_in(login).await
    }

    async fn checker(&self) -> ConsoleUser {
        self.user("王核查", "wang", Role::StreetChecker, street(STREET))
            .await
    }

    fn count(&self, sql: &str) -> i64 {
        self.app
            .state
            .db
            .with_writer(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap()
    }

    fn conflicts(&self) -> Vec<(String, String)> {
        self.app
            .state
            .db
            .with_writer(|c| {
                let mut stmt = c.prepare("SELECT kind, key FROM p_conflict ORDER BY key")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
    }

    fn phone_key(&self) -> String {
        format!("households/{}/owner_phone", self.h1)
    }

    fn fork_key(&self) -> String {
        format!("items/{}/lifecycle", self.i1)
    }

    fn resolve_uri(&self) -> String {
        format!("/console/conflicts/{}/resolve", self.doc)
    }

    /// The stored document as read by the shared schema.
    fn stored(&self) -> document::BuildingDoc {
        let doc = self
            .app
            .state
            .db
            .with_writer(|c| documents::load(c, self.doc))
            .unwrap()
            .unwrap();
        document::read(&doc).unwrap()
    }

    fn stored_doc(&self) -> Automerge {
        self.app
            .state
            .db
            .with_writer(|c| documents::load(c, self.doc))
            .unwrap()
            .unwrap()
    }

    fn stored_phone(&self) -> FieldValue {
        self.stored().households[&self.h1].fields["owner_phone"].clone()
    }

    fn actor(&self, p: &Phone) -> String {
        p.device.0.simple().to_string()
    }
}

#[tokio::test]
async fn two_phones_writing_one_phone_number_and_forking_an_item_show_side_by_side_masked() {
    let s = scenario().await;
    assert_eq!(
        s.conflicts(),
        vec![
            ("field".to_owned(), s.phone_key()),
            ("fork".to_owned(), s.fork_key())
        ]
    );
    let wang = s.checker().await;
    let r = s.app.page(&wang, "/console/conflicts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("共 2 个待处理的冲突"), "{html}");
    assert!(html.contains("填写不一致：联系电话"), "{html}");
    assert!(html.contains("处理流程分叉"));
    assert!(html.contains("住户 1单元 101"));
    assert!(html.contains(&format!("/console/ledger/items/{}", s.i1)));
    // Both values, masked, with who wrote each from which phone and when.
    for shown in [
        "138****1234",
        "张网格（社区网格员，手机）",
        "2026-06-19 09:05",
        "139****5432",
        "李网格（社区网格员，手机）",
        "2026-06-19 10:05",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
    // Phone times are the commits' (09:00, 10:00), shown by the field's write; the fork's events
    // carry the steps' own times (09:05, 10:05) above.
    assert!(html.contains("2026-06-19 09:00") && html.contains("2026-06-19 10:00"));
    assert!(!html.contains("13812341234") && !html.contains("13998765432"));
    // One button per value (picked by the writer, not by the value), one per branch.
    assert_eq!(html.matches("采用此值").count(), 2);
    assert!(html.contains(&format!("name=\"pick\" value=\"{}\"", s.actor(&s.a))));
    assert!(html.contains(&format!("name=\"pick\" value=\"{}\"", s.actor(&s.b))));
    assert!(html.contains("分支：已整改待核查"));
    assert!(html.contains("分支：已告知"));
    assert!(html.contains("采用此分支：已整改待核查"));
    assert!(html.contains("采用此分支：已告知"));
    assert!(html.contains("业主拒绝拆除"));
    assert!(html.contains("提请认定拒不整改") && html.contains("整改完成待核查"));
    // The after photo of the submit branch (not uploaded yet); the shared create photo is not
    // part of either branch.
    assert_eq!(html.matches("照片未上传").count(), 1);
    // Once the phone has uploaded it, the branch shows its thumbnail.
    let after = photo("i1-after").to_string();
    s.app
        .state
        .db
        .with_writer(|c| {
            c.execute(
                "INSERT INTO photo (hash, bytes, width, height, thumb_bytes, device_id, received_at)
                 VALUES (?1, 1000, 2048, 1536, 100, ?2, 0)",
                [&after, &s.a.device.to_string()],
            )
        })
        .unwrap();
    let html = s.app.page(&wang, "/console/conflicts").await.text();
    assert_eq!(html.matches("照片未上传").count(), 0);
    assert!(html.contains(&format!("src=\"/console/photos/{after}/thumbnail\"")));
}

#[tokio::test]
async fn another_streets_checker_sees_no_conflict_and_gets_404_for_it() {
    let s = scenario().await;
    let zhao = s
        .user("赵核查", "zhao", Role::StreetChecker, street(OTHER_STREET))
        .await;
    let html = s.app.page(&zhao, "/console/conflicts").await.text();
    assert!(html.contains("共 0 个待处理的冲突"), "{html}");
    assert!(html.contains("暂无待处理的冲突"));
    assert!(!html.contains("138****1234"));
    let pick = s.actor(&s.a);
    let r = s
        .app
        .post_form(
            &zhao,
            &s.resolve_uri(),
            &[("conflict", &s.phone_key()), ("pick", &pick)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(s.conflicts().len(), 2);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM audit WHERE action = 'conflict.resolve'"),
        0
    );
}

#[tokio::test]
async fn picking_a_value_ends_the_conflict_everywhere_and_the_ledger_shows_it() {
    let s = scenario().await;
    let wang = s.checker().await;
    let pick = s.actor(&s.b);
    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[
                ("conflict", &s.phone_key()),
                ("pick", &pick),
                ("note", "电话核实"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), "/console/conflicts");
    assert_eq!(s.conflicts(), vec![("fork".to_owned(), s.fork_key())]);
    assert_eq!(s.stored_phone(), FieldValue::Text("13998765432".into()));

    let html = s.app.page(&wang, "/console/conflicts").await.text();
    assert!(html.contains("共 1 个待处理的冲突"));
    assert!(!html.contains("填写不一致") && !html.contains("138****1234"));
    let building = s
        .app
        .page(&wang, &format!("/console/ledger/buildings/{}", s.doc))
        .await
        .text();
    assert!(building.contains("<td>139****5432</td>"), "{building}");
    assert!(!building.contains("138****1234"));

    // Written by the console (no device), audited with masked values.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM doc_chunk WHERE device_id IS NULL"),
        2,
        "the stored base and the resolution"
    );
    let (account, target, detail): (String, String, String) = s
        .app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT account_id, target, detail FROM audit WHERE action = 'conflict.resolve'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
        .unwrap();
    assert_eq!(account, wang.account.to_string());
    assert_eq!(target, format!("{}/households/{}", s.doc, s.h1));
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({
            "kind": "field", "key": "owner_phone", "chosen": "139****5432",
            "replaced": ["138****1234", "139****5432"], "note": "电话核实"
        })
    );

    // Phone A's next sync brings the resolution: it now reads one value.
    let req = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        docs: vec![],
    };
    let r = s
        .app
        .request(
            Method::POST,
            "/v1/sync",
            Some(&s.a.token),
            Some((SYNC_CONTENT_TYPE, postcard::to_stdvec(&req).unwrap())),
        )
        .await;
    let resp: SyncResponse = postcard::from_bytes(&r.bytes).unwrap();
    assert_eq!(resp.open_conflicts, 1);
    let DocOutcome::Synced { changes, .. } = &resp.docs[0].outcome else {
        panic!("{:?}", resp.docs[0].outcome)
    };
    let mut on_a = Automerge::new();
    on_a.load_incremental(changes).unwrap();
    let h = document::record_map(&on_a, RecordRef::Household(s.h1)).unwrap();
    assert_eq!(on_a.get_all(&h, "owner_phone").unwrap().len(), 1);
    assert_eq!(
        document::read(&on_a).unwrap().households[&s.h1].fields["owner_phone"],
        FieldValue::Text("13998765432".into())
    );
}

#[tokio::test]
async fn a_written_value_is_read_by_the_fields_rule_and_a_bad_one_is_refused_keeping_both() {
    let s = scenario().await;
    let wang = s.checker().await;
    let key = s.phone_key();
    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[("conflict", &key), ("value", "call me")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("联系电话填写有误"), "{}", r.text());
    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[("conflict", &key), ("value", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("请选择其中一个值，或填写更正后的值"));
    assert_eq!(s.conflicts().len(), 2, "nothing resolved");

    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[("conflict", &key), ("value", " 13700001111 ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(s.stored_phone(), FieldValue::Text("13700001111".into()));
    assert_eq!(s.conflicts(), vec![("fork".to_owned(), s.fork_key())]);
}

#[tokio::test]
async fn choosing_a_fork_branch_records_a_resolve_event_by_the_supervisor_and_the_item_shows_it() {
    let s = scenario().await;
    let wang = s.checker().await;
    let fork = s.fork_key();
    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[("conflict", &fork), ("to", "closed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "not a branch's state");
    assert_eq!(s.conflicts().len(), 2);

    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[
                ("conflict", &fork),
                ("to", "pending_verify"),
                ("note", "业主已自行拆除"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(s.conflicts(), vec![("field".to_owned(), s.phone_key())]);
    let item = &s.stored().items[&s.i1];
    let resolve = item
        .events
        .iter()
        .find(|e| e.kind == EventKind::Resolve)
        .unwrap();
    assert_eq!(
        (
            resolve.to,
            resolve.by,
            resolve.role,
            resolve.device,
            resolve.note.as_str(),
            resolve.prev.len()
        ),
        (
            Some(ItemState::PendingVerify),
            wang.account,
            Role::StreetChecker,
            None,
            "业主已自行拆除",
            2
        )
    );
    let html = s
        .app
        .page(&wang, &format!("/console/ledger/items/{}", s.i1))
        .await
        .text();
    assert!(html.contains("已整改待核查"), "{html}");
    assert!(!html.contains("处理流程有分叉"));
    assert_eq!(
        s.count("SELECT COUNT(*) FROM p_item WHERE forked = 0 AND state = 'pending_verify'"),
        1
    );
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_refused_and_resolves_nothing() {
    let s = scenario().await;
    let wang = s.checker().await;
    let body = serde_urlencoded::to_string([("conflict", s.phone_key()), ("pick", s.actor(&s.a))])
        .unwrap();
    let r = s
        .app
        .raw(
            Method::POST,
            &s.resolve_uri(),
            &[("cookie", &wang.cookie)],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let wrong = format!("_csrf=not-the-token&{body}");
    let r = s
        .app
        .raw(
            Method::POST,
            &s.resolve_uri(),
            &[("cookie", &wang.cookie)],
            Some(wrong),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.conflicts().len(), 2);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM audit WHERE action = 'conflict.resolve'"),
        0
    );
}

#[tokio::test]
async fn fire_rescue_reads_the_inbox_without_buttons_and_field_roles_are_turned_away() {
    let s = scenario().await;
    let unit = Scope::Unit {
        unit: pengwang_shared::region::UnitCode::parse("500103").unwrap(),
    };
    let fire = s.user("消防支队", "fire", Role::FireRescue, unit).await;
    let r = s.app.page(&fire, "/console/conflicts").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("共 2 个待处理的冲突"));
    assert!(html.contains("138****1234"));
    assert!(
        !html.contains("采用此值")
            && !html.contains("采用此分支")
            && !html.contains("改为填写的值")
    );
    let pick = s.actor(&s.a);
    let r = s
        .app
        .post_form(
            &fire,
            &s.resolve_uri(),
            &[("conflict", &s.phone_key()), ("pick", &pick)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.conflicts().len(), 2);

    let inspector = s
        .user("刘网格", "liu", Role::CommunityInspector, street(STREET))
        .await;
    let r = s.app.page(&inspector, "/console/conflicts").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .app
        .post_form(
            &inspector,
            &s.resolve_uri(),
            &[("conflict", &s.phone_key()), ("pick", &pick)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.conflicts().len(), 2);
}

#[tokio::test]
async fn an_item_deleted_on_one_phone_and_edited_on_the_other_is_restored_with_the_edit() {
    let s = scenario().await;
    let base = s.stored_doc();
    let i2 = ItemId(uuid("i2"));
    let mut on_a = s.a.copy(&base);
    let mut create = s.a.event(EventKind::Create, "2026-06-19 11:00", vec![]);
    create.photos = vec![photo("i2-before")];
    commit(&mut on_a, "2026-06-19 11:00", |tx| {
        document::add_item(tx, i2, Category::Net, Some(s.h1), &[], &create).unwrap()
    });
    s.a.push(&s.app, s.doc, &base, &on_a).await;
    let base = s.stored_doc();
    let mut on_a = s.a.copy(&base);
    commit(&mut on_a, "2026-06-19 12:00", |tx| {
        document::delete(tx, RecordRef::Item(i2)).unwrap()
    });
    s.a.push(&s.app, s.doc, &base, &on_a).await;
    let mut on_b = s.b.copy(&base);
    commit(&mut on_b, "2026-06-19 12:30", |tx| {
        document::set_field(tx, RecordRef::Item(i2), "area_m2", FieldValue::Real(2.5)).unwrap()
    });
    s.b.push(&s.app, s.doc, &base, &on_b).await;
    let key = format!("items/{i2}/deleted");
    assert!(s.conflicts().contains(&("deleted".to_owned(), key.clone())));

    let wang = s.checker().await;
    let html = s.app.page(&wang, "/console/conflicts").await.text();
    assert!(html.contains("共 3 个待处理的冲突"));
    assert!(html.contains("删除与修改同时发生"));
    assert!(html.contains("突出外墙防护网 · 1单元 101"));
    assert!(html.contains("<td>面积(㎡)</td><td>2.5</td><td>李网格（社区网格员，手机）</td><td>2026-06-19 12:30</td>"), "{html}");
    assert!(
        html.contains("<p>张网格（社区网格员，手机）</p><p class=\"muted\">2026-06-19 12:00</p>")
    );
    assert!(html.contains("保持删除") && html.contains("恢复记录（保留修改）"));

    let r = s
        .app
        .post_form(&wang, &s.resolve_uri(), &[("conflict", &key)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("请选择保持删除或恢复记录"));
    let r = s
        .app
        .post_form(
            &wang,
            &s.resolve_uri(),
            &[("conflict", &key), ("keep_deleted", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(!s.conflicts().iter().any(|(kind, _)| kind == "deleted"));
    let item = &s.stored().items[&i2];
    assert!(!item.deleted);
    assert_eq!(item.fields["area_m2"], FieldValue::Real(2.5));
    let page = s
        .app
        .page(&wang, &format!("/console/ledger/items/{i2}"))
        .await
        .text();
    assert!(page.contains("<th>面积(㎡)</th><td>2.5</td>"), "{page}");
}
