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
use pengwang_server::{charts, deadlines, merge, projection};
use pengwang_shared::document::{self, FieldValue};
use pengwang_shared::event::EventKind;
use pengwang_shared::id::{BuildingId, HouseholdId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{StreetCode, UnitCode};
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

// ---------------------------------------------------------------------------------------------
// Every view agrees before and after a merge (campaign 2026, clock 2026-07-02 10:00: items not
// CLOSED are past the 06-30 self-remediation deadline). 七星岗街道 / 华一坡社区 / 金汤小区:
// - bC "5栋": hC1 (1-101, 有隐患) iC1 awning closed 06-05; hC2 (1-102, 有隐患) iC2 net
//   NOTIFIED; hC3 (1-103, 无隐患).
// - bD "5 栋" (the same building recorded again): hD1 (2-201, 有隐患) iD1 awning closed 06-10;
//   hD2 (2-202, 有隐患) iD2 awning NOTIFIED; hD3 (2-203, 无法入户待复访); iD3 net IDENTIFIED on
//   common parts.
// - bE "6栋" (another building): hE1 (3-301, 有隐患) iE1 awning IDENTIFIED.
// No household is recorded in both, so merging bD into bC must leave every household and item
// total as it was (bC's + bD's, now all under bC) and take one building off.

fn household_surveyed(
    d: &mut BuildingDraft,
    tag: &str,
    unit: &str,
    room: &str,
    survey: &str,
) -> HouseholdId {
    let id = HouseholdId(uuid(tag));
    let fields = [
        ("unit", FieldValue::Text(unit.into())),
        ("room", FieldValue::Text(room.into())),
        ("survey_result", FieldValue::Text(survey.into())),
    ];
    document::add_household(&mut d.doc, id, d.crew.inspector, &fields).unwrap();
    id
}

struct Views {
    app: TestApp,
    token: String,
    console: common::ConsoleUser,
    b_c: BuildingId,
    b_d: BuildingId,
    b_e: BuildingId,
}

async fn views() -> Views {
    let app = TestApp::at("2026-07-02 10:00", |_| {});
    let crew = Crew::new();
    let place = location(STREET, COMMUNITY, "金汤小区");
    let mut c = BuildingDraft::new("bC", place.clone(), "5栋", crew);
    let h = household_surveyed(&mut c, "hC1", "1", "101", "hazard");
    let i = c.item("iC1", Category::Awning, Some(h), "2026-03-01 09:00");
    c.submit(i, "2026-06-01 09:00");
    c.street_step(i, EventKind::Close, "2026-06-05 09:00");
    let h = household_surveyed(&mut c, "hC2", "1", "102", "hazard");
    let i = c.item("iC2", Category::Net, Some(h), "2026-03-01 09:00");
    c.notify(i, "2026-04-01 09:00");
    household_surveyed(&mut c, "hC3", "1", "103", "no_hazard");
    let b_c = c.id;
    c.store(&app.state);

    let mut d = BuildingDraft::new("bD", place.clone(), "5 栋", crew);
    let h = household_surveyed(&mut d, "hD1", "2", "201", "hazard");
    let i = d.item("iD1", Category::Awning, Some(h), "2026-03-02 09:00");
    d.submit(i, "2026-06-08 09:00");
    d.street_step(i, EventKind::Close, "2026-06-10 09:00");
    let h = household_surveyed(&mut d, "hD2", "2", "202", "hazard");
    let i = d.item("iD2", Category::Awning, Some(h), "2026-03-02 09:00");
    d.notify(i, "2026-04-01 09:00");
    household_surveyed(&mut d, "hD3", "2", "203", "not_reached");
    d.item("iD3", Category::Net, None, "2026-03-02 09:00");
    let b_d = d.id;
    d.store(&app.state);

    let mut e = BuildingDraft::new("bE", place, "6栋", crew);
    let h = household_surveyed(&mut e, "hE1", "3", "301", "hazard");
    e.item("iE1", Category::Awning, Some(h), "2026-03-03 09:00");
    let b_e = e.id;
    e.store(&app.state);

    let (token, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    app.console_account("李街道", Role::StreetChecker, street(STREET), "lijd");
    let console = app.sign_in("lijd").await;
    Views {
        app,
        token,
        console,
        b_c,
        b_d,
        b_e,
    }
}

/// The cells (tags stripped) of the first table row of `html` that contains `marker`.
fn row_cells(html: &str, marker: &str) -> Vec<String> {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in page"));
    let start = html[..at].rfind("<tr").unwrap();
    let end = at + html[at..].find("</tr>").unwrap();
    html[start..end]
        .split("<td")
        .skip(1)
        .map(|cell| {
            let mut out = String::new();
            let mut in_tag = true; // the rest of the <td …> tag
            for ch in cell.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => out.push(c),
                    _ => {}
                }
            }
            out.trim().to_owned()
        })
        .collect()
}

/// "共 N 条" of the item list.
fn listed(html: &str) -> u64 {
    let at = html.find("共 ").expect("item count") + "共 ".len();
    html[at..].split(' ').next().unwrap().parse().unwrap()
}

/// Everything each view says about 金汤小区, in one comparable value.
#[derive(Debug, PartialEq)]
struct Totals {
    /// JSON ledger, the street's node: high-rise buildings, households with hazards, items.
    ledger: (u64, u64, Value),
    /// JSON street ledger: per listed building (estate number) → (households, households with
    /// hazards, live items).
    buildings: Vec<(String, u64, u64, u64)>,
    /// Console 排查进度 of the street: buildings surveyed, households surveyed, not reached.
    survey: Vec<String>,
    /// Console item list: unit=500103, unit=500103&state=closed, overdue only.
    listed: (u64, u64, u64),
    /// 附件2 2026-06: awning and net [buildings, households, completed in period, total].
    attachment2: ([u64; 4], [u64; 4]),
    /// Charts: the June point of the series (same cells), and the state mix's item count.
    chart_june: ([u64; 4], [u64; 4]),
    mix_items: u64,
    /// Deadlines of the unit: open, overdue in self-remediation.
    deadlines: (u64, u64),
}

impl Views {
    async fn json(&self, uri: &str) -> Value {
        let r = self
            .app
            .request(Method::GET, uri, Some(&self.token), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.json());
        r.json()
    }

    async fn page(&self, uri: &str) -> String {
        let r = self.app.page(&self.console, uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        r.text()
    }

    async fn totals(&self) -> Totals {
        let v = self.json("/v1/ledger/units/500103").await;
        let s = v["streets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == STREET)
            .unwrap();
        let ledger = (
            s["buildings_high_rise"].as_u64().unwrap(),
            s["households_with_hazards"].as_u64().unwrap(),
            s["items"].clone(),
        );
        let v = self.json(&format!("/v1/ledger/streets/{STREET}")).await;
        let mut buildings = Vec::new();
        for c in v["communities"].as_array().unwrap() {
            for b in c["buildings"].as_array().unwrap() {
                let live: u64 = b["items"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(k, _)| *k != "void")
                    .map(|(_, n)| n.as_u64().unwrap())
                    .sum();
                buildings.push((
                    format!(
                        "{}{}",
                        b["estate"].as_str().unwrap(),
                        b["number"].as_str().unwrap()
                    ),
                    b["households"].as_u64().unwrap(),
                    b["households_with_hazards"].as_u64().unwrap(),
                    live,
                ));
            }
        }
        let unit_page = self.page("/console/ledger/units/500103").await;
        let cells = row_cells(&unit_page, &format!("/console/ledger/streets/{STREET}\""));
        let survey = cells[cells.len() - 3..].to_vec();
        let listed = (
            listed(&self.page("/console/ledger/items?unit=500103").await),
            listed(
                &self
                    .page("/console/ledger/items?unit=500103&state=closed")
                    .await,
            ),
            listed(
                &self
                    .page("/console/ledger/items?unit=500103&overdue=1")
                    .await,
            ),
        );
        let v = self
            .json("/v1/reports/attachment2?month=2026-06&unit=500103")
            .await;
        let cells4 = |c: &Value| {
            [
                "buildings",
                "households",
                "completed_in_period",
                "completed_total",
            ]
            .map(|k| c[k].as_u64().unwrap())
        };
        let attachment2 = (
            cells4(&v["rows"][0]["awning"]),
            cells4(&v["rows"][0]["net"]),
        );
        let now = self.app.clock.now();
        let unit = UnitCode::parse("500103").unwrap();
        let settings = CampaignSettings::for_year(2026);
        let (chart, dl) = self
            .app
            .state
            .db
            .with_writer(|c| {
                let chart =
                    charts::chart_data(c, std::slice::from_ref(&unit), &settings, now).unwrap();
                let dl = deadlines::compute(c, &self.app.state.catalog, &Scope::City, now).unwrap();
                Ok::<_, rusqlite::Error>((chart, dl))
            })
            .unwrap();
        let june = chart.series.iter().find(|a| a.period.month == 6).unwrap();
        let row = &june.rows[0].1;
        let c4 = |c: &pengwang_shared::report::CategoryCells| {
            [
                c.buildings,
                c.households,
                c.completed_in_period,
                c.completed_total,
            ]
        };
        let mix_items = chart.mix.values().flat_map(|m| m.values()).sum();
        let unit_dl = dl.units.iter().find(|u| u.code == "500103").unwrap();
        Totals {
            ledger,
            buildings,
            survey,
            listed,
            attachment2,
            chart_june: (c4(&row.awning), c4(&row.net)),
            mix_items,
            deadlines: (unit_dl.counts.open, unit_dl.counts.overdue_self_remediation),
        }
    }

    async fn merge(&self, survivor: BuildingId, merged: BuildingId) -> common::Response {
        self.app
            .post_form(
                &self.console,
                "/console/duplicates/buildings",
                &[
                    ("survivor", &survivor.to_string()),
                    ("merged", &merged.to_string()),
                ],
            )
            .await
    }
}

#[tokio::test]
async fn after_a_building_merge_every_view_counts_the_same_households_and_items_once() {
    let v = views().await;
    let items = json!({ "closed": 2, "notified": 2, "identified": 2 });
    let before = Totals {
        ledger: (3, 5, items.clone()),
        buildings: vec![
            ("金汤小区5栋".into(), 3, 2, 2),
            ("金汤小区5 栋".into(), 3, 2, 3),
            ("金汤小区6栋".into(), 1, 1, 1),
        ],
        survey: vec!["0 / 3".into(), "6 / 7 85.7%".into(), "1".into()],
        listed: (6, 2, 4),
        attachment2: ([3, 4, 2, 2], [1, 1, 0, 0]),
        chart_june: ([3, 4, 2, 2], [1, 1, 0, 0]),
        mix_items: 6,
        deadlines: (4, 4),
    };
    assert_eq!(v.totals().await, before);

    // Not a suspected duplicate (another number): refused, nothing changes.
    let r = v.merge(v.b_c, v.b_e).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("不在疑似重复名单上"), "{}", r.text());
    assert_eq!(v.totals().await, before);

    let r = v.merge(v.b_c, v.b_d).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // bC = bC + bD: 3 + 3 households, 2 + 2 with hazards, 2 + 3 items; one building fewer.
    let after = Totals {
        ledger: (2, 5, items),
        buildings: vec![
            ("金汤小区5栋".into(), 6, 4, 5),
            ("金汤小区6栋".into(), 1, 1, 1),
        ],
        survey: vec!["0 / 2".into(), "6 / 7 85.7%".into(), "1".into()],
        listed: (6, 2, 4),
        attachment2: ([2, 4, 2, 2], [1, 1, 0, 0]),
        chart_june: ([2, 4, 2, 2], [1, 1, 0, 0]),
        mix_items: 6,
        deadlines: (4, 4),
    };
    assert_eq!(v.totals().await, after);

    // The survivor's list and page hold what bD recorded; bD's page points there.
    let c = v.b_c.to_string();
    assert_eq!(
        listed(&v.page(&format!("/console/ledger/items?building={c}")).await),
        5
    );
    let d = v.b_d.to_string();
    assert_eq!(
        listed(&v.page(&format!("/console/ledger/items?building={d}")).await),
        0
    );
    let page = v.page(&format!("/console/ledger/buildings/{c}")).await;
    assert_eq!(page.matches("id=\"household-").count(), 6, "{page}");
    assert_eq!(page.matches("合并记录</span>").count(), 3, "{page}");
    assert!(
        page.contains(&format!("href=\"/console/ledger/buildings/{d}\"")),
        "{page}"
    );
    for item in ["iC1", "iC2", "iD1", "iD2"] {
        assert!(
            page.contains(&format!("/console/ledger/items/{}", uuid(item))),
            "{item}"
        );
    }
    let page = v.page(&format!("/console/ledger/buildings/{d}")).await;
    assert_eq!(page.matches("id=\"household-").count(), 0, "{page}");
    assert!(
        page.contains(&format!(
            "href=\"/console/ledger/buildings/{c}\">金汤小区 5栋</a>"
        )),
        "{page}"
    );
    assert!(
        page.contains("它登记的 3 户、3 个隐患点位现全部计入并列在该楼栋下"),
        "{page}"
    );
    // An item recorded in bD opens, under bC.
    let page = v
        .page(&format!("/console/ledger/items/{}", uuid("iD2")))
        .await;
    assert!(
        page.contains(&format!("href=\"/console/ledger/buildings/{c}\"")),
        "{page}"
    );
    let v2 = v.json(&format!("/v1/ledger/buildings/{c}")).await;
    assert_eq!(v2["households"].as_array().unwrap().len(), 6);
    assert_eq!(v2["items"].as_array().unwrap().len(), 5);
    assert_eq!(v2["absorbed"][0]["id"], d);
    let v2 = v.json(&format!("/v1/ledger/buildings/{d}")).await;
    assert_eq!(
        (v2["merged_into"].as_str(), v2["recorded"].clone()),
        (Some(c.as_str()), json!({ "households": 3, "items": 3 }))
    );
}

#[tokio::test]
async fn merging_a_household_recorded_twice_in_one_building_lists_and_counts_it_once() {
    let app = TestApp::at("2026-06-26 10:00", |_| {});
    let mut f = BuildingDraft::new(
        "bF",
        location(STREET, COMMUNITY, "金汤小区"),
        "7栋",
        Crew::new(),
    );
    let h1 = household_surveyed(&mut f, "hF1", "1", "101", "hazard");
    let i = f.item("iF1", Category::Awning, Some(h1), "2026-03-01 09:00");
    f.submit(i, "2026-06-01 09:00");
    f.street_step(i, EventKind::Close, "2026-06-05 09:00");
    // The same door recorded again by someone who did not fill in the survey result.
    let h2 = f.household("hF2", "1", "101");
    let i = f.item("iF2", Category::Net, Some(h2), "2026-03-02 09:00");
    f.notify(i, "2026-04-01 09:00");
    let h3 = household_surveyed(&mut f, "hF3", "1", "102", "hazard");
    f.item("iF3", Category::Awning, Some(h3), "2026-03-02 09:00");
    let b = f.id.to_string();
    f.store(&app.state);
    app.console_account("李街道", Role::StreetChecker, street(STREET), "lijd");
    let user = app.sign_in("lijd").await;
    let (token, _) = app.enroll_account("市专班", Role::City, Scope::City).await;

    // Before: three households (one 未排查), two surveyed of three.
    assert_eq!(
        household_views(&app, &user, &token, &b).await,
        (3, 1, "待排查 2/3".into(), "2 / 3 66.7%".into(), 3, (2, 1))
    );

    // 1-102 is not the same door: refused.
    let post = |s: HouseholdId, m: HouseholdId| {
        let (app, user) = (&app, user.clone());
        async move {
            let (s, m) = (s.to_string(), m.to_string());
            let fields = [("survivor", s.as_str()), ("merged", m.as_str())];
            app.post_form(&user, "/console/duplicates/households", &fields)
                .await
        }
    };
    let r = post(h1, h3).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("单元或房号不同"), "{}", r.text());

    let r = post(h1, h2).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // After: two households, none 未排查, both surveyed; hF1 holds the awning and the net.
    assert_eq!(
        household_views(&app, &user, &token, &b).await,
        (2, 0, "待排查 2/2".into(), "2 / 2 100.0%".into(), 2, (2, 1))
    );
    let page = app
        .page(&user, &format!("/console/ledger/buildings/{b}"))
        .await
        .text();
    let row = row_cells(&page, &format!("household-{h1}"));
    assert!(
        row[6].contains("可燃雨棚") && row[6].contains("突出外墙防护网"),
        "{row:?}"
    );
    assert!(row[5].contains("含 1 条重复登记"), "{row:?}");
}

/// What the household merge changes: household rows on the building page, 未排查 rows, the street
/// page's survey cell, the unit's 已排查户, the JSON ledger's households with hazards, 附件2
/// households (awning, net).
async fn household_views(
    app: &TestApp,
    user: &common::ConsoleUser,
    token: &str,
    b: &str,
) -> (usize, usize, String, String, u64, (u64, u64)) {
    let page = app
        .page(user, &format!("/console/ledger/buildings/{b}"))
        .await
        .text();
    let street = app
        .page(user, &format!("/console/ledger/streets/{STREET}"))
        .await
        .text();
    let unit = app.page(user, "/console/ledger/units/500103").await.text();
    let survey = row_cells(&unit, &format!("/console/ledger/streets/{STREET}\""));
    let v = app
        .request(Method::GET, "/v1/ledger/units/500103", Some(token), None)
        .await
        .json();
    let s = v["streets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == STREET)
        .unwrap()
        .clone();
    let uri = "/v1/reports/attachment2?month=2026-06&unit=500103";
    let a2 = app
        .request(Method::GET, uri, Some(token), None)
        .await
        .json();
    let row = &a2["rows"][0];
    (
        page.matches("id=\"household-").count(),
        page.matches("未排查").count(),
        row_cells(&street, "<td>金汤小区")[4].clone(),
        survey[survey.len() - 2].clone(),
        s["households_with_hazards"].as_u64().unwrap(),
        (
            row["awning"]["households"].as_u64().unwrap(),
            row["net"]["households"].as_u64().unwrap(),
        ),
    )
}
