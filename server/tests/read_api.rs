//! The read API over hand-seeded projections: ledger drill-down, 附件2 (JSON and CSV),
//! conflicts and duplicates, each limited by the caller's scope.
//!
//! The tiny city (campaign 2026, 附件2 for 2026-06 covers 2026-05-26 … 2026-06-25):
//! - 渝中区 500103, 七星岗街道 500103001 / 华一坡社区 500103001003:
//!   - b1 金汤小区 1栋 (high-rise): h1 (1单元 101, 张三 13812341234) with i1 awning CLOSED 06-10,
//!     i2 net NOTIFIED, i7 awning VOID; h2 (1单元 102) with i3 awning CLOSED 05-01.
//!   - b3 金汤小区 3栋 (multi-storey): i6 awning IDENTIFIED on common parts.
//!   - b5 金汤小区 "1 栋" (high-rise, a duplicate of b1): h5 (1单元 101).
//! - 渝中区, 解放碑街道 500103003 / 民生路社区 500103003013: b2 (high-rise), h3 with
//!   i4 awning PENDING_VERIFY.
//! - 大渡口区 500104, 新山村街道 500104001 / 平安社区 500104001001: b4 (high-rise), h4 with
//!   i5 net CLOSED 06-20.
//! - One open conflict in b1: h1's owner_phone written concurrently by the street checker's
//!   phone and an unknown actor.
#![allow(clippy::unwrap_used)]

use axum::http::{header, Method, StatusCode};
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use serde_json::{json, Value};

mod common;
use common::tiny_city::id;
use common::{Response, TestApp};

impl TestApp {
    fn new() -> Self {
        Self::at("2026-06-26 10:00", |_| {})
    }

    /// Creates an account, enrolls a phone for it and returns (token, device id).
    async fn login(&self, name: &str, role: Role, scope: Scope) -> (String, String) {
        self.enroll_account(name, role, scope).await
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let body = body.map(|v| ("application/json", v.to_string().into_bytes()));
        self.request(method, uri, token, body).await
    }

    async fn get(&self, uri: &str, token: &str) -> Response {
        self.send(Method::GET, uri, Some(token), None).await
    }
}

fn street_checker() -> Scope {
    Scope::Street {
        street: StreetCode::parse("500103001").unwrap(),
    }
}

fn unit_lead() -> Scope {
    Scope::Unit {
        unit: UnitCode::parse("500103").unwrap(),
    }
}

/// A city app, a 渝中区 lead and a 七星岗 checker, over the seeded city.
async fn seeded() -> (TestApp, String, String, String) {
    let app = TestApp::new();
    let (city, _) = app.login("市专班", Role::City, Scope::City).await;
    let (lead, _) = app.login("渝中区专班", Role::UnitLead, unit_lead()).await;
    let (checker, device) = app
        .login("李四", Role::StreetChecker, street_checker())
        .await;
    app.seed(&device.replace('-', ""));
    (app, city, lead, checker)
}

fn unit_named<'a>(units: &'a Value, code: &str) -> &'a Value {
    units
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap()
}

#[tokio::test]
async fn the_city_ledger_totals_every_unit_and_a_street_checker_sees_only_its_street() {
    let (app, city, _, checker) = seeded().await;
    let r = app.get("/v1/ledger", &city).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["units"].as_array().unwrap().len(), 41);
    assert_eq!(
        unit_named(&v["units"], "500103"),
        &json!({
            "code": "500103", "name": "渝中区",
            "buildings_high_rise": 3, "buildings_multi_storey": 1, "households_with_hazards": 3,
            "items": { "closed": 2, "identified": 1, "notified": 1, "pending_verify": 1, "void": 1 },
            "open_conflicts": 1, "closed_without_evidence": 0,
        })
    );
    assert_eq!(
        unit_named(&v["units"], "500104")["items"],
        json!({ "closed": 1 })
    );

    let v = app.get("/v1/ledger", &checker).await.json();
    assert_eq!(
        v["units"],
        json!([{
            "code": "500103", "name": "渝中区",
            "buildings_high_rise": 2, "buildings_multi_storey": 1, "households_with_hazards": 2,
            "items": { "closed": 2, "identified": 1, "notified": 1, "void": 1 },
            "open_conflicts": 1, "closed_without_evidence": 0,
        }])
    );
    let v = app.get("/v1/ledger/units/500103", &checker).await.json();
    let streets = v["streets"].as_array().unwrap();
    assert_eq!(streets.len(), 1);
    assert_eq!(
        (&streets[0]["name"], &streets[0]["households_with_hazards"]),
        (&json!("七星岗街道"), &json!(2))
    );
    let r = app.get("/v1/ledger/units/500104", &checker).await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::FORBIDDEN, json!("out_of_scope"))
    );
    let r = app.get("/v1/ledger/streets/500103003", &checker).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_unit_lead_drills_from_streets_to_buildings() {
    let (app, _, lead, _) = seeded().await;
    let v = app.get("/v1/ledger/units/500103", &lead).await.json();
    let jfb = v["streets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "500103003")
        .unwrap();
    assert_eq!(jfb["name"], "解放碑街道");
    assert_eq!(jfb["items"], json!({ "pending_verify": 1 }));

    let v = app.get("/v1/ledger/streets/500103001", &lead).await.json();
    assert_eq!(v["name"], "七星岗街道");
    let communities = v["communities"].as_array().unwrap();
    assert_eq!(communities.len(), 1);
    assert_eq!(communities[0]["name"], "华一坡社区居民委员会");
    let b: Vec<(&str, &Value, &Value, &Value)> = communities[0]["buildings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["number"].as_str().unwrap(),
                &b["high_rise"],
                &b["households"],
                &b["items"],
            )
        })
        .collect();
    assert_eq!(
        b,
        vec![
            (
                "1栋",
                &json!(true),
                &json!(2),
                &json!({ "closed": 2, "notified": 1, "void": 1 })
            ),
            ("1 栋", &json!(true), &json!(1), &json!({})),
            ("3栋", &json!(false), &json!(0), &json!({ "identified": 1 })),
        ]
    );
}

#[tokio::test]
async fn a_building_shows_masked_owners_and_items_with_their_events() {
    let (app, _, _, checker) = seeded().await;
    let r = app
        .get(&format!("/v1/ledger/buildings/{}", id("b1")), &checker)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let text = String::from_utf8(r.bytes.clone()).unwrap();
    assert!(
        !text.contains("13812341234") && !text.contains("张三"),
        "{text}"
    );
    let v = r.json();
    let h1 = &v["households"][0];
    assert_eq!(
        (&h1["owner_name"], &h1["owner_phone"], &h1["room"]),
        (&json!("张*"), &json!("138****1234"), &json!("101"))
    );
    let i1 = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id("i1"))
        .unwrap();
    assert_eq!(
        (
            &i1["category"],
            &i1["state"],
            &i1["state_label"],
            &i1["completed_at"]
        ),
        (
            &json!("awning"),
            &json!("closed"),
            &json!("已复核销号"),
            &json!("2026-06-10 10:00:00")
        )
    );
    assert_eq!(i1["fields"], json!({ "position": "window" }));
    let kinds: Vec<&Value> = i1["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["kind"])
        .collect();
    assert_eq!(kinds, vec![&json!("create"), &json!("close")]);
    assert_eq!(i1["events"][1]["at"], "2026-06-10 10:00:00");

    let r = app
        .get(&format!("/v1/ledger/buildings/{}", id("b2")), &checker)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::FORBIDDEN, json!("out_of_scope"))
    );
    let r = app
        .get(&format!("/v1/ledger/buildings/{}", id("b9")), &checker)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn attachment2_as_json_counts_households_by_the_shared_rules() {
    let (app, city, _, _) = seeded().await;
    let r = app
        .get("/v1/reports/attachment2?month=2026-06", &city)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["rows"].as_array().unwrap().len(), 41);
    assert_eq!(v["period"]["first_day"], "2026-05-26");
    assert_eq!(v["period"]["last_day"], "2026-06-25");
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == "500103")
        .unwrap();
    assert_eq!(
        row,
        &json!({
            "unit": "500103", "name": "渝中区",
            "awning": { "buildings": 2, "households": 3, "completed_in_period": 1, "completed_total": 2, "rate": "66.67", "pending_verify": 1, "rebound": 0, "rebound_reopened": 0, "rebound_new_item": 0, "rebound_removed": 0 },
            "net": { "buildings": 1, "households": 1, "completed_in_period": 0, "completed_total": 0, "rate": "0.00", "pending_verify": 0, "rebound": 0, "rebound_reopened": 0, "rebound_new_item": 0, "rebound_removed": 0 },
            "submission": { "unit": "500103", "name": "渝中区", "status": "open", "status_label": "未冻结",
                            "frozen_at": null, "submitted_at": null, "unfrozen_at": null, "unfreeze_reason": null,
                            "frozen_period": null },
        })
    );
    assert_eq!(
        v["total"],
        json!({
            "awning": { "buildings": 2, "households": 3, "completed_in_period": 1, "completed_total": 2, "rate": "66.67", "pending_verify": 1, "rebound": 0, "rebound_reopened": 0, "rebound_new_item": 0, "rebound_removed": 0 },
            "net": { "buildings": 2, "households": 2, "completed_in_period": 1, "completed_total": 1, "rate": "50.00", "pending_verify": 0, "rebound": 0, "rebound_reopened": 0, "rebound_new_item": 0, "rebound_removed": 0 },
        })
    );
    let r = app
        .get("/v1/reports/attachment2?month=2026-13", &city)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_month"))
    );
}

#[tokio::test]
async fn attachment2_as_csv_mirrors_the_official_form() {
    let (app, _, lead, _) = seeded().await;
    let r = app
        .get("/v1/reports/attachment2?month=2026-06&format=csv", &lead)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        r.headers[header::CONTENT_DISPOSITION].as_bytes(),
        "attachment; filename=\"附件2-2026-06.csv\"; filename*=UTF-8''%E9%99%84%E4%BB%B62-2026-06.csv".as_bytes()
    );
    let expected = "\u{feff}重庆市高层建筑可燃雨棚和突出外墙防护网整治情况统计表（附件2）\r\n\
        统计期间：2026-05-26 至 2026-06-25（2026年06月）\r\n\
        填报单位,可燃雨棚,,,,,突出外墙防护网,,,,\r\n\
        ,楼栋总数(栋),总户数(户),本月完成户数(户),累计完成户数(户),整改率(%),楼栋总数(栋),总户数(户),本月完成户数(户),累计完成户数(户),整改率(%)\r\n\
        渝中区,2,3,1,2,66.67,1,1,0,0,0.00\r\n\
        合计,2,3,1,2,66.67,1,1,0,0,0.00\r\n";
    assert_eq!(String::from_utf8(r.bytes).unwrap(), expected);

    let r = app
        .get(
            "/v1/reports/attachment2?month=2026-06&unit=500104&format=csv",
            &lead,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::FORBIDDEN, json!("out_of_scope"))
    );
}

#[tokio::test]
async fn a_unit_with_no_households_reports_a_dash_and_a_street_checker_gets_no_report() {
    let (app, city, _, checker) = seeded().await;
    let v = app
        .get("/v1/reports/attachment2?month=2026-06&unit=500104", &city)
        .await
        .json();
    assert_eq!(v["rows"][0]["awning"]["rate"], "—");
    assert_eq!(v["rows"][0]["net"]["rate"], "100.00");
    assert_eq!(v["rows"][0]["net"]["completed_in_period"], 1);
    let r = app
        .get("/v1/reports/attachment2?month=2026-06", &checker)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn conflicts_name_the_writer_and_mask_the_phone() {
    let (app, city, _, _) = seeded().await;
    let v = app.get("/v1/conflicts", &city).await.json();
    let list = v["conflicts"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let c = &list[0];
    assert_eq!(
        (&c["doc_id"], &c["kind"], &c["first_seen"]),
        (
            &json!(id("b1")),
            &json!("field"),
            &json!("2026-06-01 08:00:00")
        )
    );
    let writes = c["detail"]["writes"].as_array().unwrap();
    assert_eq!(writes[0]["value"], "138****1234");
    assert_eq!(writes[0]["who"]["name"], "李四");
    assert_eq!(writes[0]["who"]["role"], "street_checker");
    assert_eq!(writes[1]["value"], "139****1111");
    assert_eq!(writes[1]["who"], Value::Null);

    let (other, _) = app
        .login(
            "大渡口专班",
            Role::UnitLead,
            Scope::Unit {
                unit: UnitCode::parse("500104").unwrap(),
            },
        )
        .await;
    let v = app.get("/v1/conflicts", &other).await.json();
    assert_eq!(v["conflicts"], json!([]));
}

#[tokio::test]
async fn duplicates_pair_buildings_and_households_side_by_side() {
    let (app, _, _, checker) = seeded().await;
    let v = app.get("/v1/duplicates", &checker).await.json();
    let buildings = v["buildings"].as_array().unwrap();
    assert_eq!(buildings.len(), 1);
    let ids: Vec<&Value> = buildings[0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, vec![&json!(id("b1")), &json!(id("b5"))]);
    let households = v["households"].as_array().unwrap();
    assert_eq!(households.len(), 1);
    let owners: Vec<(&Value, &Value)> = households[0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["id"], &r["owner_name"]))
        .collect();
    assert_eq!(
        owners,
        vec![
            (&json!(id("h1")), &json!("张*")),
            (&json!(id("h5")), &json!("王*"))
        ]
    );
}
