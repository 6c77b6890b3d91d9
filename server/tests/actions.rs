//! Lifecycle steps from the console: the same rules as on the phone (the shared fold), limited
//! to the caller's scope, refused to read-only roles, stored as events and audited.
//!
//! Scenario (campaign 2026, clock 2026-06-20 10:00), 七星岗街道 / 金汤小区 1栋:
//! - i1 awning, h1: created 03-01, submitted (removed, after photo) 06-10 → PENDING_VERIFY;
//! - i2 net, h1: created 03-01, notified once 04-01 → NOTIFIED (1 persuasion attempt);
//! - i3 awning, h2: created 03-01, notified 04-01 and 05-01 → NOTIFIED (2 attempts).
#![allow(clippy::unwrap_used)]

mod building_docs;
mod common;

use axum::http::{header, Method, StatusCode};
use building_docs::*;
use common::TestApp;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::actions::{self, StepRequest};
use pengwang_server::console::session;
use pengwang_shared::event::{EventKind, ItemState};
use pengwang_shared::id::ItemId;
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::StreetCode;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Clock;

struct Scenario {
    app: TestApp,
    i1: ItemId,
    i2: ItemId,
    i3: ItemId,
}

fn scenario() -> Scenario {
    let app = TestApp::at("2026-06-20 10:00", |_| {});
    let mut b = BuildingDraft::new(
        "b1",
        location(STREET, COMMUNITY, "金汤小区"),
        "1栋",
        Crew::new(),
    );
    let h1 = b.household("h1", "1", "101");
    let h2 = b.household("h2", "1", "102");
    let i1 = b.item("i1", Category::Awning, Some(h1), "2026-03-01 09:00");
    b.submit(i1, "2026-06-10 09:00");
    let i2 = b.item("i2", Category::Net, Some(h1), "2026-03-01 09:00");
    b.notify(i2, "2026-04-01 09:00");
    let i3 = b.item("i3", Category::Awning, Some(h2), "2026-03-01 09:00");
    b.notify(i3, "2026-04-01 09:00");
    b.notify(i3, "2026-05-01 09:00");
    b.store(&app.state);
    Scenario { app, i1, i2, i3 }
}

fn account(app: &TestApp, name: &str, role: Role, scope: Scope) -> AccountInfo {
    let now = app.clock.now();
    let new = NewAccount {
        name: name.into(),
        role,
        scope,
        password: Some("correct horse battery".into()),
    };
    app.state
        .db
        .with_writer(|c| accounts::create_account(c, new, now))
        .unwrap()
}

fn street_scope(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

fn step(
    app: &TestApp,
    who: &AccountInfo,
    item: ItemId,
    kind: EventKind,
    note: &str,
) -> Result<actions::StepDone, pengwang_server::AppError> {
    let req = StepRequest {
        item,
        kind,
        note: note.into(),
    };
    let now = app.clock.now();
    app.state
        .db
        .with_writer(|c| actions::take_step(c, who, &req, now))
}

fn state_of(app: &TestApp, item: ItemId) -> Option<String> {
    app.state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT state FROM p_item WHERE id = ?1",
                [item.to_string()],
                |r| r.get(0),
            )
        })
        .unwrap()
}

fn offered(app: &TestApp, who: &AccountInfo, item: ItemId) -> Vec<EventKind> {
    let now = app.clock.now();
    app.state
        .db
        .with_writer(|c| actions::choices(c, who, item, now))
        .unwrap()
        .steps
}

#[test]
fn a_street_checker_closes_a_pending_item_and_the_event_is_stored_projected_and_audited() {
    let s = scenario();
    let checker = account(&s.app, "李街道", Role::StreetChecker, street_scope(STREET));
    assert_eq!(
        offered(&s.app, &checker, s.i1),
        vec![EventKind::Close, EventKind::Return, EventKind::Void]
    );
    let done = step(&s.app, &checker, s.i1, EventKind::Close, "").unwrap();
    assert_eq!(done.state, Some(ItemState::Closed));
    assert_eq!(state_of(&s.app, s.i1).as_deref(), Some("closed"));
    let (by, role, device, at, completed): (String, String, Option<String>, i64, i64) = s
        .app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT e.by_account, e.role, e.device_id, e.at, t.completed_at FROM p_event e JOIN p_item t ON t.id = e.item_id
                 WHERE e.id = ?1",
                [done.event.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
        })
        .unwrap();
    assert_eq!(
        (by, role.as_str(), device, at, completed),
        (
            checker.id.to_string(),
            "street_checker",
            None,
            t("2026-06-20 10:00").0,
            t("2026-06-20 10:00").0
        )
    );
    let audit: (String, String) = s
        .app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT action, target FROM audit WHERE action = 'item.step'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .unwrap();
    assert_eq!(
        audit,
        (
            "item.step".to_owned(),
            format!("{}/items/{}", uuid("b1"), s.i1)
        )
    );
    // CLOSED: only reopening is left.
    assert_eq!(offered(&s.app, &checker, s.i1), vec![EventKind::Reopen]);
    assert_eq!(
        step(&s.app, &checker, s.i1, EventKind::Reopen, "")
            .unwrap_err()
            .to_api_error()
            .code,
        "note_required"
    );
    let reopened = step(&s.app, &checker, s.i1, EventKind::Reopen, "雨棚又装回去了").unwrap();
    assert_eq!(reopened.state, Some(ItemState::Notified));
}

#[test]
fn refusal_needs_the_persuasion_attempts_the_campaign_sets() {
    let s = scenario();
    let checker = account(&s.app, "李街道", Role::StreetChecker, street_scope(STREET));
    // One notice: refusing is not offered and refused with the fold's reason.
    assert_eq!(offered(&s.app, &checker, s.i2), vec![EventKind::Void]);
    let e = step(&s.app, &checker, s.i2, EventKind::Refuse, "").unwrap_err();
    assert_eq!(e.to_api_error().code, "step_refused");
    assert!(
        e.to_string()
            .contains("不能认定拒不整改：认定拒不整改需要至少 2 次告知劝导，目前 1 次。"),
        "{e}"
    );
    assert_eq!(state_of(&s.app, s.i2).as_deref(), Some("notified"));
    // Two notices: refuse, then transfer (needs the reason), then return (owner agrees late).
    assert_eq!(
        offered(&s.app, &checker, s.i3),
        vec![EventKind::Refuse, EventKind::Void]
    );
    step(&s.app, &checker, s.i3, EventKind::Refuse, "").unwrap();
    assert_eq!(
        offered(&s.app, &checker, s.i3),
        vec![EventKind::Return, EventKind::Transfer, EventKind::Void]
    );
    step(&s.app, &checker, s.i3, EventKind::Transfer, "业主拒不拆除").unwrap();
    assert_eq!(state_of(&s.app, s.i3).as_deref(), Some("transferred"));
    step(
        &s.app,
        &checker,
        s.i3,
        EventKind::Return,
        "业主同意自行拆除",
    )
    .unwrap();
    assert_eq!(state_of(&s.app, s.i3).as_deref(), Some("self_rectifying"));
}

#[test]
fn other_streets_get_404_fire_rescue_is_read_only_and_inspectors_are_offered_nothing() {
    let s = scenario();
    let other = account(
        &s.app,
        "王街道",
        Role::StreetChecker,
        street_scope(OTHER_STREET),
    );
    let e = step(&s.app, &other, s.i1, EventKind::Close, "").unwrap_err();
    assert_eq!(
        (e.status(), e.to_api_error().code),
        (StatusCode::NOT_FOUND, "unknown_item".to_owned())
    );
    let fire = account(&s.app, "消防", Role::FireRescue, Scope::City);
    let e = step(&s.app, &fire, s.i1, EventKind::Close, "").unwrap_err();
    assert_eq!(
        (e.status(), e.to_api_error().code),
        (StatusCode::FORBIDDEN, "read_only".to_owned())
    );
    assert!(offered(&s.app, &fire, s.i1).is_empty());
    let inspector = account(
        &s.app,
        "网格员",
        Role::CommunityInspector,
        Scope::Community {
            community: pengwang_shared::region::CommunityCode::parse(COMMUNITY).unwrap(),
        },
    );
    assert!(offered(&s.app, &inspector, s.i1).is_empty());
    let e = step(&s.app, &inspector, s.i1, EventKind::Close, "").unwrap_err();
    assert_eq!(e.to_api_error().code, "step_refused");
    assert_eq!(state_of(&s.app, s.i1).as_deref(), Some("pending_verify"));
    let audits: i64 = s
        .app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT count(*) FROM audit WHERE action = 'item.step'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(audits, 0);
}

#[tokio::test]
async fn the_console_form_closes_an_item_only_with_the_csrf_token() {
    let s = scenario();
    let checker = account(&s.app, "李街道", Role::StreetChecker, street_scope(STREET));
    let now = s.app.clock.now();
    let signed = s
        .app
        .state
        .db
        .with_writer(|c| {
            accounts::set_login(c, checker.id, "li.jiedao").unwrap();
            session::sign_in(c, "li.jiedao", "correct horse battery", now)
        })
        .unwrap();
    let post = |body: String| {
        let cookie = format!("pw_session={}", signed.token);
        let uri = format!("/console/items/{}/action", s.i1);
        let router = s.app.router();
        async move {
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri(uri)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body))
                .unwrap();
            tower::ServiceExt::oneshot(router, req).await.unwrap()
        }
    };
    let refused = post("step=close&note=".into()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(state_of(&s.app, s.i1).as_deref(), Some("pending_verify"));
    let done = post(format!(
        "_csrf={}&step=close&note=&back=%2Fconsole%2Fqueue",
        signed.csrf
    ))
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/console/queue");
    assert_eq!(state_of(&s.app, s.i1).as_deref(), Some("closed"));
}

#[tokio::test]
async fn the_queue_shows_the_pending_item_with_its_photos_and_the_verify_and_return_forms() {
    let s = scenario();
    let checker = account(&s.app, "李街道", Role::StreetChecker, street_scope(STREET));
    let now = s.app.clock.now();
    let signed = s
        .app
        .state
        .db
        .with_writer(|c| {
            accounts::set_login(c, checker.id, "li.jiedao").unwrap();
            session::sign_in(c, "li.jiedao", "correct horse battery", now)
        })
        .unwrap();
    let req = axum::http::Request::builder()
        .uri("/console/queue")
        .header(header::COOKIE, format!("pw_session={}", signed.token))
        .body(axum::body::Body::empty())
        .unwrap();
    let r = tower::ServiceExt::oneshot(s.app.router(), req)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(html.contains("共 1 个点位已整改待核查"), "{html}");
    assert!(html.contains("金汤小区1栋 1单元 101 · 可燃雨棚"), "{html}");
    assert!(html.contains("整改前") && html.contains("整改后"));
    // The photos never arrived: shown as missing, one before and one after.
    assert_eq!(html.matches("照片未上传").count(), 2);
    assert!(html.contains("核验通过，销号") && html.contains("退回整改"));
    assert!(!html.contains("认定拒不整改"));
    assert!(html.contains(&format!("/console/items/{}/action", s.i1)));
}
