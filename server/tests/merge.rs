//! Merging duplicate buildings and households: nothing is lost, everything counts once.
//!
//! Scenario (campaign 2026, clock 2026-06-26 10:00; 附件2 for 2026-06 covers 05-26 … 06-25),
//! 七星岗街道 / 华一坡社区 / 金汤小区, recorded twice by two inspectors:
//! - bA "1栋": hA1 (1单元 101) with iA1 awning, submitted 06-01, closed 06-05;
//! - bB "1 栋" (the same building): hB1 (1单元 101 — the same household as hA1) with iB1 awning
//!   NOTIFIED 04-01; hB2 (1单元 102) with iB2 net, submitted 06-08, closed 06-10.
//!
//! Before the merge the street counts 2 high-rise buildings and 3 households with hazards; 附件2
//! (渝中区) has awning 2 buildings / 2 households / 1 completed (hA1), net 1 / 1 / 1.
//! After merging bB into bA: 1 building, 2 households (hA1 = hB1, hB2), still 3 items, 8 events
//! (3 + 2 + 3) and 5 photo references (2 + 1 + 2); awning 1 building / 1 household / 0 completed
//! (hB1's iB1 is still open, so the merged household is not done), net 1 / 1 / 1 (bB's hB2 now
//! counts under bA).
#![allow(clippy::unwrap_used)]

mod building_docs;
mod common;

use axum::http::{Method, StatusCode};
use building_docs::*;
use common::TestApp;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::actions::{self, StepRequest};
use pengwang_server::{merge, projection};
use pengwang_shared::event::EventKind;
use pengwang_shared::id::{BuildingId, HouseholdId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::StreetCode;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Clock;
use serde_json::{json, Value};

struct Scenario {
    app: TestApp,
    token: String,
    checker: AccountInfo,
    b_a: BuildingId,
    b_b: BuildingId,
    i_b1: ItemId,
}

async fn scenario() -> Scenario {
    let app = TestApp::at("2026-06-26 10:00", |_| {});
    let crew = Crew::new();
    let place = location(STREET, COMMUNITY, "金汤小区");
    let mut a = BuildingDraft::new("bA", place.clone(), "1栋", crew);
    let h_a1 = a.household("hA1", "1", "101");
    let i_a1 = a.item("iA1", Category::Awning, Some(h_a1), "2026-03-01 09:00");
    a.submit(i_a1, "2026-06-01 09:00");
    a.street_step(i_a1, EventKind::Close, "2026-06-05 09:00");
    let b_a = a.id;
    a.store(&app.state);
    let mut b = BuildingDraft::new("bB", place, "1 栋", crew);
    let h_b1 = b.household("hB1", "1", "101");
    let h_b2 = b.household("hB2", "1", "102");
    let i_b1 = b.item("iB1", Category::Awning, Some(h_b1), "2026-03-02 09:00");
    b.notify(i_b1, "2026-04-01 09:00");
    let i_b2 = b.item("iB2", Category::Net, Some(h_b2), "2026-03-02 09:00");
    b.submit(i_b2, "2026-06-08 09:00");
    b.street_step(i_b2, EventKind::Close, "2026-06-10 09:00");
    let b_b = b.id;
    b.store(&app.state);
    let checker = account(&app, "李街道", Role::StreetChecker, street(STREET));
    let (token, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    Scenario {
        app,
        token,
        checker,
        b_a,
        b_b,
        i_b1,
    }
}

fn account(app: &TestApp, name: &str, role: Role, scope: Scope) -> AccountInfo {
    let now = app.clock.now();
    let new = NewAccount {
        name: name.into(),
        role,
        scope,
        password: None,
    };
    app.state
        .db
        .with_writer(|c| accounts::create_account(c, new, now))
        .unwrap()
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

impl Scenario {
    async fn get(&self, uri: &str) -> Value {
        let r = self
            .app
            .request(Method::GET, uri, Some(&self.token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.json());
        r.json()
    }

    /// The street's ledger totals: (high-rise buildings, households with hazards, items by state).
    async fn street_counts(&self) -> (u64, u64, Value) {
        let v = self.get("/v1/ledger/units/500103").await;
        let s = v["streets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == STREET)
            .unwrap()
            .clone();
        (
            s["buildings_high_rise"].as_u64().unwrap(),
            s["households_with_hazards"].as_u64().unwrap(),
            s["items"].clone(),
        )
    }

    /// 附件2 for 2026-06, 渝中区: [buildings, households, completed in period, completed total]
    /// for awnings and for nets.
    async fn attachment2(&self) -> ([u64; 4], [u64; 4]) {
        let v = self
            .get("/v1/reports/attachment2?month=2026-06&unit=500103")
            .await;
        let row = &v["rows"][0];
        let cells = |c: &Value| {
            [
                c["buildings"].as_u64().unwrap(),
                c["households"].as_u64().unwrap(),
                c["completed_in_period"].as_u64().unwrap(),
                c["completed_total"].as_u64().unwrap(),
            ]
        };
        (cells(&row["awning"]), cells(&row["net"]))
    }

    fn count(&self, sql: &str) -> i64 {
        self.app
            .state
            .db
            .with_writer(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap()
    }

    fn duplicates(&self) -> (usize, usize) {
        let scope = self.checker.scope.clone();
        let (b, h) = self
            .app
            .state
            .db
            .with_writer(|c| merge::open_duplicates(c, &scope))
            .unwrap();
        (b.len(), h.len())
    }
}

#[tokio::test]
async fn merging_two_duplicate_buildings_loses_nothing_and_counts_each_item_once() {
    let s = scenario().await;
    assert_eq!(
        s.street_counts().await,
        (2, 3, json!({ "closed": 2, "notified": 1 }))
    );
    assert_eq!(s.attachment2().await, ([2, 2, 1, 1], [1, 1, 1, 1]));
    assert_eq!(s.duplicates(), (1, 1));

    let now = s.app.clock.now();
    let merged = s
        .app
        .state
        .db
        .with_writer(|c| merge::merge_buildings(c, &s.checker, s.b_a, s.b_b, "同一栋楼", now))
        .unwrap();
    assert_eq!(merged.households, 1);

    let check = |label: &str| {
        assert_eq!(s.count("SELECT count(*) FROM p_item"), 3, "{label}");
        assert_eq!(s.count("SELECT count(*) FROM p_event"), 8, "{label}");
        assert_eq!(s.count("SELECT count(*) FROM p_photo_ref"), 5, "{label}");
        assert_eq!(
            s.count(&format!(
                "SELECT count(*) FROM p_building WHERE id = '{}' AND merged_into = '{}'",
                s.b_b, s.b_a
            )),
            1,
            "{label}"
        );
    };
    check("after merge");
    assert_eq!(
        s.street_counts().await,
        (1, 2, json!({ "closed": 2, "notified": 1 }))
    );
    assert_eq!(s.attachment2().await, ([1, 1, 0, 0], [1, 1, 1, 1]));
    assert_eq!(s.duplicates(), (0, 0));
    let audit = s.count("SELECT count(*) FROM audit WHERE action = 'duplicate.merge'");
    assert_eq!(audit, 1);

    // The links survive a rebuild of every projection …
    s.app
        .state
        .db
        .with_writer(|c| projection::rebuild_all(c, &CampaignSettings::for_year(2026), now.0))
        .unwrap();
    check("after rebuild");
    assert_eq!(s.attachment2().await, ([1, 1, 0, 0], [1, 1, 1, 1]));
    // … and a new change to the merged-away document (here a console step voiding iB1, recorded
    // twice): hA1's only live awning is then closed, so the household is done, dated 06-05.
    let req = StepRequest {
        item: s.i_b1,
        kind: EventKind::Void,
        note: "重复登记".into(),
    };
    s.app
        .state
        .db
        .with_writer(|c| actions::take_step(c, &s.checker, &req, now))
        .unwrap();
    assert_eq!(s.count("SELECT count(*) FROM p_event"), 9);
    assert_eq!(s.attachment2().await, ([1, 1, 1, 1], [1, 1, 1, 1]));
    assert_eq!(
        s.street_counts().await,
        (1, 2, json!({ "closed": 2, "void": 1 }))
    );
}

#[tokio::test]
async fn merges_are_refused_outside_the_scope_and_twice() {
    let s = scenario().await;
    let now = s.app.clock.now();
    let other = account(&s.app, "王街道", Role::StreetChecker, street(OTHER_STREET));
    let inspector = account(&s.app, "网格员", Role::CommunityInspector, street(STREET));
    let attempt = |who: &AccountInfo| {
        s.app
            .state
            .db
            .with_writer(|c| merge::merge_buildings(c, who, s.b_a, s.b_b, "", now))
            .unwrap_err()
            .to_api_error()
            .code
    };
    assert_eq!(attempt(&other), "unknown_building");
    assert_eq!(attempt(&inspector), "not_supervisor");
    s.app
        .state
        .db
        .with_writer(|c| merge::merge_buildings(c, &s.checker, s.b_a, s.b_b, "", now))
        .unwrap();
    assert_eq!(attempt(&s.checker), "already_merged");
    assert_eq!(
        s.count("SELECT count(*) FROM audit WHERE action = 'duplicate.merge'"),
        1
    );
}

#[tokio::test]
async fn merging_a_household_recorded_twice_counts_it_once() {
    let s = scenario().await;
    let now = s.app.clock.now();
    let (a1, b1) = (HouseholdId(uuid("hA1")), HouseholdId(uuid("hB1")));
    s.app
        .state
        .db
        .with_writer(|c| merge::merge_households(c, &s.checker, a1, b1, "同一户", now))
        .unwrap();
    // The buildings stay two; the household counts once, not completed (iB1 open).
    assert_eq!(
        s.street_counts().await,
        (2, 2, json!({ "closed": 2, "notified": 1 }))
    );
    assert_eq!(s.attachment2().await, ([1, 1, 0, 0], [1, 1, 1, 1]));
    assert_eq!(s.duplicates(), (1, 0));
}
