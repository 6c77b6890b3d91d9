//! Overdue lists per unit and street against a hand-computed scenario at fixed clocks, and the
//! campaign settings that move the deadlines (city only, audited).
//!
//! Campaign 2026 defaults: self-remediation 06-30, enforcement 09-30, all done 12-31.
//! 渝中区 (500103):
//! - 七星岗街道 (500103001), b1: d1 awning IDENTIFIED; d2 net PENDING_VERIFY; d3 awning CLOSED;
//!   d4 awning REFUSED (2 notices, refused 06-20); d5 awning TRANSFERRED; d6 net VOID.
//! - 解放碑街道 (500103003), b2: d7 awning NOTIFIED.
//!
//! On 07-05: open d1 d2 d4 d5 d7 (5); overdue in self-remediation d1 d2 d7 (5 days each);
//! none in enforcement; 1 refused awaiting transfer (d4), 1 transferred awaiting enforcement (d5).
//! On 10-02: also d4 and d5 overdue in enforcement (2 days); d1 d2 d7 are 94 days overdue.
#![allow(clippy::unwrap_used)]

mod building_docs;
mod common;

use axum::http::{Method, StatusCode};
use building_docs::*;
use chrono::NaiveDate;
use common::TestApp;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::deadlines::{self, DeadlineCounts, Deadlines};
use pengwang_shared::event::EventKind;
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::StreetCode;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Clock;

fn scenario() -> TestApp {
    let app = TestApp::at("2026-07-05 10:00", |_| {});
    let crew = Crew::new();
    let mut b = BuildingDraft::new("b1", location(STREET, COMMUNITY, "金汤小区"), "1栋", crew);
    let h = b.household("h1", "1", "101");
    let at = "2026-03-01 09:00";
    b.item("d1", Category::Awning, Some(h), at);
    let d2 = b.item("d2", Category::Net, Some(h), at);
    b.submit(d2, "2026-06-20 09:00");
    let d3 = b.item("d3", Category::Awning, Some(h), at);
    b.submit(d3, "2026-06-20 09:00");
    b.street_step(d3, EventKind::Close, "2026-06-21 09:00");
    let d4 = b.item("d4", Category::Awning, Some(h), at);
    b.notify(d4, "2026-04-01 09:00");
    b.notify(d4, "2026-05-01 09:00");
    b.street_step(d4, EventKind::Refuse, "2026-06-20 09:00");
    let d5 = b.item("d5", Category::Awning, Some(h), at);
    b.notify(d5, "2026-04-01 09:00");
    b.notify(d5, "2026-05-01 09:00");
    b.street_step(d5, EventKind::Refuse, "2026-06-20 09:00");
    b.street_step(d5, EventKind::Transfer, "2026-06-22 09:00");
    let d6 = b.item("d6", Category::Net, Some(h), at);
    b.street_step(d6, EventKind::Void, "2026-03-05 09:00");
    b.store(&app.state);
    let mut b2 = BuildingDraft::new(
        "b2",
        location(OTHER_STREET, OTHER_COMMUNITY, "民生小区"),
        "2栋",
        crew,
    );
    let h2 = b2.household("h2", "1", "201");
    let d7 = b2.item("d7", Category::Awning, Some(h2), at);
    b2.notify(d7, "2026-04-01 09:00");
    b2.store(&app.state);
    app
}

fn account(app: &TestApp, role: Role, scope: Scope) -> AccountInfo {
    let now = app.clock.now();
    let new = NewAccount {
        name: "测试".into(),
        role,
        scope,
        password: None,
    };
    app.state
        .db
        .with_writer(|c| accounts::create_account(c, new, now))
        .unwrap()
}

fn compute(app: &TestApp, scope: &Scope) -> Deadlines {
    let now = app.clock.now();
    app.state
        .db
        .with_writer(|c| deadlines::compute(c, &app.state.catalog, scope, now))
        .unwrap()
}

fn counts(open: u64, self_: u64, enf: u64, refused: u64, transferred: u64) -> DeadlineCounts {
    DeadlineCounts {
        open,
        overdue_self_remediation: self_,
        overdue_enforcement: enf,
        refused_awaiting_transfer: refused,
        transferred_awaiting_enforcement: transferred,
    }
}

/// The overdue list as (item tag's UUID, days overdue).
fn listed(d: &Deadlines) -> Vec<(String, i64)> {
    d.overdue
        .iter()
        .map(|o| (o.id.clone(), o.days_overdue))
        .collect()
}

fn id(tag: &str) -> String {
    uuid(tag).to_string()
}

#[test]
fn overdue_items_per_unit_and_street_match_the_hand_computed_scenario() {
    let app = scenario();
    let d = compute(&app, &Scope::City);
    assert_eq!(d.today, NaiveDate::from_ymd_opt(2026, 7, 5).unwrap());
    assert_eq!(d.total, counts(5, 3, 0, 1, 1));
    let yuzhong = d.units.iter().find(|u| u.code == "500103").unwrap();
    assert_eq!(yuzhong.counts, counts(5, 3, 0, 1, 1));
    let dadukou = d.units.iter().find(|u| u.code == "500104").unwrap();
    assert_eq!(dadukou.counts, counts(0, 0, 0, 0, 0));
    let streets: Vec<(&str, &DeadlineCounts)> = d
        .streets
        .iter()
        .map(|s| (s.code.as_str(), &s.counts))
        .collect();
    assert_eq!(
        streets,
        vec![
            (STREET, &counts(4, 2, 0, 1, 1)),
            (OTHER_STREET, &counts(1, 1, 0, 0, 0))
        ]
    );
    assert_eq!(
        listed(&d),
        vec![(id("d1"), 5), (id("d2"), 5), (id("d7"), 5)]
    );

    // A street checker sees only the street's.
    let street = Scope::Street {
        street: StreetCode::parse(STREET).unwrap(),
    };
    let d = compute(&app, &street);
    assert_eq!(d.total, counts(4, 2, 0, 1, 1));
    assert_eq!(d.units.len(), 1);
    assert_eq!(d.streets.len(), 1);
    assert_eq!(listed(&d), vec![(id("d1"), 5), (id("d2"), 5)]);

    // After the enforcement deadline the refusal and the transfer are overdue too.
    app.clock.set(t("2026-10-02 10:00"));
    let d = compute(&app, &Scope::City);
    assert_eq!(d.total, counts(5, 3, 2, 1, 1));
    assert_eq!(
        listed(&d),
        vec![
            (id("d1"), 94),
            (id("d2"), 94),
            (id("d7"), 94),
            (id("d4"), 2),
            (id("d5"), 2)
        ]
    );
}

#[tokio::test]
async fn the_json_endpoint_serves_the_callers_scope() {
    let app = scenario();
    let scope = Scope::Street {
        street: StreetCode::parse(OTHER_STREET).unwrap(),
    };
    let (token, _) = app
        .enroll_account("王街道", Role::StreetChecker, scope)
        .await;
    let r = app
        .request(Method::GET, "/v1/deadlines", Some(&token), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["today"], "2026-07-05");
    assert_eq!(v["total"]["open"], 1);
    assert_eq!(v["total"]["overdue_self_remediation"], 1);
    assert_eq!(v["streets"][0]["code"], OTHER_STREET);
    assert_eq!(v["streets"][0]["name"], "解放碑街道");
    assert_eq!(v["overdue"].as_array().unwrap().len(), 1);
    assert_eq!(v["overdue"][0]["id"], id("d7"));
    assert_eq!(v["overdue"][0]["phase"], "self_remediation");
    assert_eq!(v["overdue"][0]["deadline"], "2026-06-30");
}

#[test]
fn only_the_city_moves_deadlines_and_the_change_is_audited() {
    let app = scenario();
    let now = app.clock.now();
    let later = CampaignSettings {
        self_remediation_deadline: NaiveDate::from_ymd_opt(2026, 7, 15).unwrap(),
        ..CampaignSettings::for_year(2026)
    };
    let lead = account(
        &app,
        Role::UnitLead,
        Scope::Unit {
            unit: pengwang_shared::region::UnitCode::parse("500103").unwrap(),
        },
    );
    let e = app
        .state
        .db
        .with_writer(|c| deadlines::change_settings(c, &lead, &later, now))
        .unwrap_err();
    assert_eq!(e.to_api_error().code, "city_only");
    let city = account(&app, Role::City, Scope::City);
    let backwards = CampaignSettings {
        enforcement_deadline: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        ..CampaignSettings::for_year(2026)
    };
    let e = app
        .state
        .db
        .with_writer(|c| deadlines::change_settings(c, &city, &backwards, now))
        .unwrap_err();
    assert_eq!(e.to_api_error().code, "invalid_settings");
    app.state
        .db
        .with_writer(|c| deadlines::change_settings(c, &city, &later, now))
        .unwrap();
    let d = compute(&app, &Scope::City);
    assert_eq!(d.total, counts(5, 0, 0, 1, 1));
    assert!(d.overdue.is_empty());
    let audits: i64 = app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT count(*) FROM audit WHERE action = 'campaign.change' AND target = 'campaign_settings'",
                [],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(audits, 1);
}
