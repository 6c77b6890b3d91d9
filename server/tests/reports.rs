//! 附件2 month by month and the spreadsheet exports, over the backbone issue's hand-counted
//! scenario seeded straight into the projections (calendar months, June 2026, clock 07-02):
//!
//! - 渝中区 500103, 七星岗街道 500103001, y1 (high-rise) and y2 (multi-storey):
//!   h1 awning CLOSED 06-30 23:30 · h2 awning CLOSED 05-10 · h3 awning PENDING_VERIFY since 06-15 ·
//!   h4 net reopened 06-10 (NOTIFIED) · h5 awning VOID · h6 awning CLOSED 06-05 and net CLOSED
//!   06-06 · h7 (y2) awning CLOSED 06-01, not counted.
//! - 两江新区 500157, 礼嘉街道 500112019, l1 (high-rise): h8 net CLOSED 06-12 · h9 net IDENTIFIED ·
//!   h10 awning NOTIFIED.
//!
//! By hand, June: 渝中区 awning [1, 4, 2, 3, 75.00] (待核验 1), net [1, 2, 1, 1, 50.00];
//! 两江新区 awning [1, 1, 0, 0, 0.00], net [1, 2, 1, 1, 50.00]; every other unit zeros and "—";
//! 合计 awning [2, 5, 2, 3, 60.00], net [2, 4, 2, 2, 50.00].
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use axum::http::{header, Method, StatusCode};
use calamine::{open_workbook_from_rs, Data, Dimensions, Reader, Xlsx};
use pengwang_server::campaign;
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::{CampaignSettings, PeriodMode};
use rusqlite::params;
use serde_json::{json, Value};

mod common;
use common::tiny_city::{id, t};
use common::{Response, TestApp};

fn unit(code: &str) -> Scope {
    Scope::Unit {
        unit: UnitCode::parse(code).unwrap(),
    }
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

struct Item<'a> {
    tag: &'a str,
    building: &'a str,
    household: &'a str,
    category: &'a str,
    state: &'a str,
    done: Option<&'a str>,
    since: Option<&'a str>,
}

const fn item<'a>(
    tag: &'a str,
    building: &'a str,
    household: &'a str,
    category: &'a str,
    state: &'a str,
    done: Option<&'a str>,
) -> Item<'a> {
    Item {
        tag,
        building,
        household,
        category,
        state,
        done,
        since: None,
    }
}

const YUZHONG: (&str, &str, &str) = ("500103", "500103001", "500103001003");
const LIANGJIANG: (&str, &str, &str) = ("500157", "500112019", "500112019001");

impl TestApp {
    fn scenario() -> TestApp {
        let app = TestApp::at("2026-07-02 10:00", |_| {});
        let calendar = CampaignSettings {
            period_mode: PeriodMode::CalendarMonth,
            ..CampaignSettings::for_year(2026)
        };
        app.state
            .db
            .with_writer(|c| campaign::store(c, &calendar))
            .unwrap();
        app.building("y1", YUZHONG, "嘉华大厦", true);
        app.building("y2", YUZHONG, "老街坊", false);
        app.building("l1", LIANGJIANG, "龙湖春森彼岸", true);
        for (h, b) in [("h1", "y1"), ("h2", "y1"), ("h3", "y1"), ("h4", "y1")] {
            app.household(h, b, YUZHONG, json!({}));
        }
        let owner = json!({ "owner_name": "张三", "owner_phone": "13812341234" });
        app.household("h5", "y1", YUZHONG, json!({}));
        app.household("h6", "y1", YUZHONG, owner);
        app.household("h7", "y2", YUZHONG, json!({}));
        for h in ["h8", "h9", "h10"] {
            app.household(h, "l1", LIANGJIANG, json!({}));
        }
        let mut pending = item("a3", "y1", "h3", "awning", "pending_verify", None);
        pending.since = Some("2026-06-15 10:00");
        for (i, place) in [
            (
                item(
                    "a1",
                    "y1",
                    "h1",
                    "awning",
                    "closed",
                    Some("2026-06-30 23:30"),
                ),
                YUZHONG,
            ),
            (
                item(
                    "a2",
                    "y1",
                    "h2",
                    "awning",
                    "closed",
                    Some("2026-05-10 10:00"),
                ),
                YUZHONG,
            ),
            (pending, YUZHONG),
            (item("n4", "y1", "h4", "net", "notified", None), YUZHONG),
            (item("a5", "y1", "h5", "awning", "void", None), YUZHONG),
            (
                item(
                    "a6",
                    "y1",
                    "h6",
                    "awning",
                    "closed",
                    Some("2026-06-05 10:00"),
                ),
                YUZHONG,
            ),
            (
                item("n6", "y1", "h6", "net", "closed", Some("2026-06-06 10:00")),
                YUZHONG,
            ),
            (
                item(
                    "a7",
                    "y2",
                    "h7",
                    "awning",
                    "closed",
                    Some("2026-06-01 15:00"),
                ),
                YUZHONG,
            ),
            (
                item("n8", "l1", "h8", "net", "closed", Some("2026-06-12 10:00")),
                LIANGJIANG,
            ),
            (
                item("n9", "l1", "h9", "net", "identified", None),
                LIANGJIANG,
            ),
            (
                item("a10", "l1", "h10", "awning", "notified", None),
                LIANGJIANG,
            ),
        ] {
            app.item(&i, place, "2026-03-03 09:00");
        }
        app
    }

    fn building(
        &self,
        tag: &str,
        (unit, street, community): (&str, &str, &str),
        estate: &str,
        high: bool,
    ) {
        self.state
            .db
            .with_writer(|c| {
                c.execute(
                    "INSERT INTO p_building (id, unit_code, district_code, street_code, community_code, estate, estate_norm,
                                             number, number_norm, address, high_rise, needs_height_check, fields_json)
                     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?5, '1栋', '1栋', ?5, ?6, 0, '{}')",
                    params![id(tag), unit, street, community, estate, high],
                )
            })
            .unwrap();
    }

    fn household(
        &self,
        tag: &str,
        building: &str,
        (unit, street, _): (&str, &str, &str),
        fields: Value,
    ) {
        self.state
            .db
            .with_writer(|c| {
                c.execute(
                    "INSERT INTO p_household (id, building_id, unit_code, street_code, stair_unit, floor, room, room_norm, deleted, fields_json)
                     VALUES (?1, ?2, ?3, ?4, '1', 8, ?5, ?5, 0, ?6)",
                    params![id(tag), id(building), unit, street, format!("80{}", &tag[1..]), fields.to_string()],
                )
            })
            .unwrap();
    }

    fn item(&self, i: &Item<'_>, (unit, street, community): (&str, &str, &str), found: &str) {
        let high = i.building != "y2";
        self.state
            .db
            .with_writer(|c| {
                c.execute(
                    "INSERT INTO p_item (id, building_id, household_id, unit_code, street_code, community_code, category, state,
                                         completed_at, found_at, high_rise, persuasion_count, forked, invalid_events, deleted,
                                         fields_json, state_since)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, 0, 0, 0, '{\"position\":\"window\"}', ?12)",
                    params![id(i.tag), id(i.building), id(i.household), unit, street, community, i.category, i.state,
                            i.done.map(t), t(found), high, i.since.map(t)],
                )
            })
            .unwrap();
    }

    /// A change that reaches the server late (as a sync would re-project the item).
    fn set_item(&self, tag: &str, state: &str, done: Option<&str>) {
        self.state
            .db
            .with_writer(|c| {
                c.execute(
                    "UPDATE p_item SET state = ?2, completed_at = ?3, state_since = NULL WHERE id = ?1",
                    params![id(tag), state, done.map(t)],
                )
            })
            .unwrap();
    }

    async fn get(&self, uri: &str, token: &str) -> Response {
        self.request(Method::GET, uri, Some(token), None).await
    }

    async fn post(&self, uri: &str, token: &str, body: Value) -> Response {
        let body = Some(("application/json", body.to_string().into_bytes()));
        self.request(Method::POST, uri, Some(token), body).await
    }

    fn audit_rows(&self, action: &str) -> Vec<(String, String)> {
        self.state
            .db
            .with_writer(|c| {
                let mut s =
                    c.prepare("SELECT target, detail FROM audit WHERE action = ?1 ORDER BY id")?;
                let rows = s.query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
    }
}

/// [楼栋总数, 总户数, 本月完成, 累计完成, 整改率, 待核验, 本月反弹] of one category.
fn cells(c: &Value) -> Value {
    json!([
        c["buildings"],
        c["households"],
        c["completed_in_period"],
        c["completed_total"],
        c["rate"],
        c["pending_verify"],
        c["rebound"]
    ])
}

fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == code)
        .unwrap()
}

const UNIT_NAMES: [(&str, &str); 2] = [("500103", "渝中区"), ("500157", "两江新区")];

fn cell(range: &calamine::Range<Data>, r: u32, c: u32) -> Data {
    range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
}

fn s(v: &str) -> Data {
    Data::String(v.to_owned())
}

fn n(v: f64) -> Data {
    Data::Float(v)
}

/// The ten numbers of one form row from column C: counts as numbers, the rate as a number
/// rounded to two decimals or "—".
fn form_numbers(range: &calamine::Range<Data>, r: u32) -> Vec<Data> {
    (2..12).map(|c| cell(range, r, c)).collect()
}

fn numbers(
    awning: [f64; 4],
    awning_rate: Option<f64>,
    net: [f64; 4],
    net_rate: Option<f64>,
) -> Vec<Data> {
    let rate = |r: Option<f64>| r.map_or(s("—"), n);
    let mut out: Vec<Data> = awning.iter().map(|v| n(*v)).collect();
    out.push(rate(awning_rate));
    out.extend(net.iter().map(|v| n(*v)));
    out.push(rate(net_rate));
    out
}

fn dims(a: (u32, u32), b: (u32, u32)) -> Dimensions {
    Dimensions { start: a, end: b }
}

#[tokio::test]
async fn attachment2_xlsx_reads_back_cell_for_cell_as_the_official_form() {
    let app = TestApp::scenario();
    let (city, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    let json = app
        .get("/v1/reports/attachment2?month=2026-06", &city)
        .await
        .json();
    let units = json["rows"].as_array().unwrap().len() as u32;
    assert!(units > 30, "every reporting unit of the city: {units}");
    assert_eq!(
        cells(&row(&json, "500103")["awning"]),
        json!([1, 4, 2, 3, "75.00", 1, 0])
    );

    let r = app
        .get("/v1/reports/attachment2?month=2026-06&format=xlsx", &city)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        r.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"2-2026-06.xlsx\"; filename*=UTF-8''%E9%99%84%E4%BB%B62-2026-06.xlsx"
    );
    assert_eq!(
        app.audit_rows("report.export"),
        vec![(
            "attachment2/2026-06".to_owned(),
            format!("xlsx, {units} units")
        )]
    );

    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["附件2", "明细"]);
    let form = book.worksheet_range("附件2").unwrap();
    assert_eq!(cell(&form, 0, 0), s("附件2"));
    assert_eq!(
        cell(&form, 1, 0),
        s("重庆市高层建筑可燃雨棚和突出外墙防护网整治情况统计表（2026年06月）")
    );
    assert_eq!(cell(&form, 2, 0), s("填报单位（盖章）：重庆市"));
    assert_eq!(
        cell(&form, 2, 6),
        s("统计期间：2026-06-01 至 2026-06-30　填报时间：2026-07-02")
    );
    assert_eq!(
        (cell(&form, 3, 0), cell(&form, 3, 1)),
        (s("序号"), s("填报单位"))
    );
    assert_eq!(
        (cell(&form, 3, 2), cell(&form, 3, 7)),
        (s("可燃雨棚"), s("突出外墙防护网"))
    );
    let columns = [
        "楼栋总数(栋)",
        "总户数(户)",
        "本月完成户数(户)",
        "累计完成户数(户)",
        "整改率(%)",
    ];
    for g in 0..2 {
        for (i, name) in columns.iter().enumerate() {
            assert_eq!(cell(&form, 4, 2 + 5 * g + i as u32), s(name));
        }
    }
    let total = 5 + units;
    let mut merged = book.merge_cells_by_sheet_name("附件2").unwrap();
    merged.sort_by_key(|d| (d.start, d.end));
    assert_eq!(
        merged,
        vec![
            dims((1, 0), (1, 11)),
            dims((2, 0), (2, 5)),
            dims((2, 6), (2, 11)),
            dims((3, 0), (4, 0)),
            dims((3, 1), (4, 1)),
            dims((3, 2), (3, 6)),
            dims((3, 7), (3, 11)),
            dims((total, 0), (total, 1)),
        ]
    );
    for r in 5..total {
        assert_eq!(cell(&form, r, 0), n(f64::from(r - 4)), "序号 of row {r}");
        let expected = match cell(&form, r, 1) {
            Data::String(name) if name == "渝中区" => numbers(
                [1.0, 4.0, 2.0, 3.0],
                Some(75.0),
                [1.0, 2.0, 1.0, 1.0],
                Some(50.0),
            ),
            Data::String(name) if name == "两江新区" => numbers(
                [1.0, 1.0, 0.0, 0.0],
                Some(0.0),
                [1.0, 2.0, 1.0, 1.0],
                Some(50.0),
            ),
            _ => numbers([0.0; 4], None, [0.0; 4], None),
        };
        assert_eq!(
            form_numbers(&form, r),
            expected,
            "row {r}: {:?}",
            cell(&form, r, 1)
        );
    }
    let names: Vec<Data> = (5..total).map(|r| cell(&form, r, 1)).collect();
    for (_, name) in UNIT_NAMES {
        assert_eq!(names.iter().filter(|d| **d == s(name)).count(), 1, "{name}");
    }
    assert_eq!(cell(&form, total, 0), s("合计"));
    assert_eq!(
        form_numbers(&form, total),
        numbers(
            [2.0, 5.0, 2.0, 3.0],
            Some(60.0),
            [2.0, 4.0, 2.0, 2.0],
            Some(50.0)
        )
    );
    assert_eq!(cell(&form, total + 1, 0), Data::Empty);

    // 明细: 待核验 and 本月反弹 per unit, never in the official columns.
    let detail = book.worksheet_range("明细").unwrap();
    let heads: Vec<Data> = (0..15).map(|c| cell(&detail, 1, c)).collect();
    assert_eq!(
        &heads[..6],
        &[
            s("序号"),
            s("填报单位"),
            s("报表状态"),
            s("冻结时间"),
            s("提交时间"),
            s("可燃雨棚")
        ]
    );
    assert_eq!(heads[10], s("突出外墙防护网"));
    let detail_columns = [
        "待核验户数(户)",
        "本月反弹(户)",
        "反弹：重新打开(户)",
        "反弹：新发现隐患(户)",
        "反弹：移出统计(户)",
    ];
    for g in 0..2 {
        for (i, name) in detail_columns.iter().enumerate() {
            assert_eq!(cell(&detail, 2, 5 + 5 * g + i as u32), s(name));
        }
    }
    let yz = (3..3 + units)
        .find(|r| cell(&detail, *r, 1) == s("渝中区"))
        .unwrap();
    assert_eq!(cell(&detail, yz, 2), s("未冻结"));
    let pending: Vec<Data> = (5..15).map(|c| cell(&detail, yz, c)).collect();
    let zeros = |first: f64| vec![n(first), n(0.0), n(0.0), n(0.0), n(0.0)];
    assert_eq!(pending, [zeros(1.0), zeros(0.0)].concat());
    assert_eq!(cell(&detail, 3 + units, 0), s("合计"));
    assert_eq!(cell(&detail, 3 + units, 5), n(1.0));
    let mut merged = book.merge_cells_by_sheet_name("明细").unwrap();
    merged.sort_by_key(|d| (d.start, d.end));
    let mut expected = vec![dims((0, 0), (0, 14))];
    expected.extend((0..5).map(|c| dims((1, c), (2, c))));
    expected.extend([
        dims((1, 5), (1, 9)),
        dims((1, 10), (1, 14)),
        dims((3 + units, 0), (3 + units, 4)),
    ]);
    expected.sort_by_key(|d| (d.start, d.end));
    assert_eq!(merged, expected);
}

#[tokio::test]
async fn the_csv_and_the_xlsx_of_one_unit_carry_the_same_row() {
    let app = TestApp::scenario();
    let (lead, _) = app
        .enroll_account("渝中区专班", Role::UnitLead, unit("500103"))
        .await;
    let csv = app
        .get("/v1/reports/attachment2?month=2026-06&format=csv", &lead)
        .await
        .text();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[4], "渝中区,1,4,2,3,75.00,1,2,1,1,50.00");
    assert_eq!(lines[5], "合计,1,4,2,3,75.00,1,2,1,1,50.00");
    let r = app
        .get("/v1/reports/attachment2?month=2026-06&format=xlsx", &lead)
        .await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    let form = book.worksheet_range("附件2").unwrap();
    assert_eq!(cell(&form, 2, 0), s("填报单位（盖章）：渝中区"));
    assert_eq!(cell(&form, 5, 1), s("渝中区"));
    let expected = numbers(
        [1.0, 4.0, 2.0, 3.0],
        Some(75.0),
        [1.0, 2.0, 1.0, 1.0],
        Some(50.0),
    );
    assert_eq!(form_numbers(&form, 5), expected);
    assert_eq!(form_numbers(&form, 6), expected);
    assert_eq!(app.audit_rows("report.export").len(), 2);
}

#[tokio::test]
async fn after_a_table_is_frozen_a_later_completion_dated_inside_that_period_counts_in_the_next_one(
) {
    let app = TestApp::scenario();
    let (lead, _) = app
        .enroll_account("渝中区专班", Role::UnitLead, unit("500103"))
        .await;
    let (city, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    let june = "/v1/reports/attachment2/500103/2026-06";
    let r = app.post(&format!("{june}/freeze"), &lead, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "frozen");
    let r = app.post(&format!("{june}/submit"), &lead, json!({})).await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, json!("submitted"))
    );

    // Arriving after the freeze: h3's awning closed 06-28 (inside June); h2's awning reopened in
    // July; a new household h11 found 07-03 and closed 07-05.
    app.set_item("a3", "closed", Some("2026-06-28 10:00"));
    app.set_item("a2", "notified", None);
    app.household("h11", "y1", YUZHONG, json!({}));
    app.item(
        &item(
            "a11",
            "y1",
            "h11",
            "awning",
            "closed",
            Some("2026-07-05 10:00"),
        ),
        YUZHONG,
        "2026-07-03 09:00",
    );

    // June stays as frozen; the city sees it submitted, and 两江新区 not.
    let v = app
        .get("/v1/reports/attachment2?month=2026-06", &city)
        .await
        .json();
    let yz = row(&v, "500103");
    assert_eq!(cells(&yz["awning"]), json!([1, 4, 2, 3, "75.00", 1, 0]));
    assert_eq!(yz["submission"]["status"], "submitted");
    assert_eq!(yz["submission"]["submitted_at"], "2026-07-02 10:00:00");
    assert_eq!(row(&v, "500157")["submission"]["status"], "open");
    assert_eq!(v["submitted"], 1);
    assert_eq!(
        cells(&v["total"]["awning"]),
        json!([2, 5, 2, 3, "60.00", 1, 0])
    );

    // July, counted against June's snapshot {h1, h2, h6}: h3 (dated June) and h11 complete in
    // July, h2 rebounds: 累计 3 + 2 − 1 = 4 of 5 households.
    let july = app
        .get("/v1/reports/attachment2?month=2026-07&unit=500103", &lead)
        .await
        .json();
    let a = &july["rows"][0]["awning"];
    assert_eq!(cells(a), json!([1, 5, 2, 4, "80.00", 0, 1]));
    assert_eq!(
        (a["rebound_reopened"].clone(), a["rebound_new_item"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(
        cells(&july["rows"][0]["net"]),
        json!([1, 2, 0, 1, "50.00", 0, 0])
    );

    // The city unfreezes June (a reason is required); June is counted live again, and July by
    // date: h3 now belongs to June.
    let r = app
        .post(&format!("{june}/unfreeze"), &city, json!({ "reason": " " }))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_reason"))
    );
    let r = app
        .post(
            &format!("{june}/unfreeze"),
            &city,
            json!({ "reason": "h3 复核日期录错，重新上报" }),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (StatusCode::OK, json!("open"))
    );
    assert_eq!(r.json()["unfreeze_reason"], "h3 复核日期录错，重新上报");
    let v = app
        .get("/v1/reports/attachment2?month=2026-06&unit=500103", &lead)
        .await
        .json();
    assert_eq!(
        cells(&v["rows"][0]["awning"]),
        json!([1, 4, 3, 3, "75.00", 0, 0])
    );
    let july = app
        .get("/v1/reports/attachment2?month=2026-07&unit=500103", &lead)
        .await
        .json();
    assert_eq!(
        cells(&july["rows"][0]["awning"]),
        json!([1, 5, 1, 4, "80.00", 0, 0])
    );

    let target = "attachment2/500103/2026-06".to_owned();
    assert_eq!(
        app.audit_rows("report.freeze"),
        vec![(target.clone(), "雨棚 3/4 户，防护网 1/2 户".to_owned())]
    );
    assert_eq!(
        app.audit_rows("report.submit"),
        vec![(target.clone(), String::new())]
    );
    assert_eq!(
        app.audit_rows("report.unfreeze"),
        vec![(target, "h3 复核日期录错，重新上报".to_owned())]
    );
}

#[tokio::test]
async fn only_the_units_lead_freezes_and_submits_and_only_the_city_unfreezes() {
    let app = TestApp::scenario();
    let (lead, _) = app
        .enroll_account("渝中区专班", Role::UnitLead, unit("500103"))
        .await;
    let (other_lead, _) = app
        .enroll_account("两江专班", Role::UnitLead, unit("500157"))
        .await;
    let (city, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    let (fire, _) = app
        .enroll_account("消防", Role::FireRescue, Scope::City)
        .await;
    let (checker, _) = app
        .enroll_account("核查员", Role::StreetChecker, street("500103001"))
        .await;
    let june = "/v1/reports/attachment2/500103/2026-06";
    let code = |r: &Response| (r.status, r.json()["code"].as_str().unwrap_or("").to_owned());
    let refused = (StatusCode::FORBIDDEN, "not_allowed".to_owned());
    for token in [&checker, &city, &other_lead, &fire] {
        assert_eq!(
            code(&app.post(&format!("{june}/freeze"), token, json!({})).await),
            refused
        );
    }
    let r = app.post(&format!("{june}/submit"), &lead, json!({})).await;
    assert_eq!(code(&r), (StatusCode::CONFLICT, "not_frozen".to_owned()));
    let r = app
        .post(
            "/v1/reports/attachment2/500103/2026-09/freeze",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(
        code(&r),
        (StatusCode::BAD_REQUEST, "month_not_started".to_owned())
    );
    let r = app
        .post(
            "/v1/reports/attachment2/500103/2026-06/approve",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            "/v1/reports/attachment2/500199/2026-06/freeze",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(
        code(&r),
        (StatusCode::NOT_FOUND, "unit_not_found".to_owned())
    );

    assert_eq!(
        app.post(&format!("{june}/freeze"), &lead, json!({}))
            .await
            .status,
        StatusCode::OK
    );
    let r = app.post(&format!("{june}/freeze"), &lead, json!({})).await;
    assert_eq!(
        code(&r),
        (StatusCode::CONFLICT, "already_frozen".to_owned())
    );
    for token in [&lead, &fire, &checker] {
        let r = app
            .post(
                &format!("{june}/unfreeze"),
                token,
                json!({ "reason": "重报" }),
            )
            .await;
        assert_eq!(code(&r), refused);
    }
    // July frozen on top of June: June cannot be unfrozen before July, nor May frozen after.
    let r = app
        .post(
            "/v1/reports/attachment2/500103/2026-07/freeze",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .post(
            &format!("{june}/unfreeze"),
            &city,
            json!({ "reason": "重报" }),
        )
        .await;
    assert_eq!(
        code(&r),
        (StatusCode::CONFLICT, "later_month_frozen".to_owned())
    );
    let r = app
        .post(
            "/v1/reports/attachment2/500103/2026-05/freeze",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(
        code(&r),
        (StatusCode::CONFLICT, "later_month_frozen".to_owned())
    );
    assert_eq!(app.audit_rows("report.freeze").len(), 2);
    assert!(app.audit_rows("report.unfreeze").is_empty());
}

#[tokio::test]
async fn the_ledger_export_masks_owners_and_keeps_to_the_callers_scope() {
    let app = TestApp::scenario();
    let (checker, _) = app
        .enroll_account("核查员", Role::StreetChecker, street("500103001"))
        .await;
    let (other, _) = app
        .enroll_account("别的街道", Role::StreetChecker, street("500103003"))
        .await;
    let r = app.get("/v1/ledger/export.xlsx", &checker).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    let sheet = book.worksheet_range("台账").unwrap();
    let header: Vec<Data> = (0..19).map(|c| cell(&sheet, 1, c)).collect();
    let names = [
        "填报单位",
        "街道",
        "社区",
        "小区",
        "楼栋",
        "高层",
        "单元",
        "楼层",
        "房号",
        "业主",
        "联系电话",
        "类别",
        "位置",
        "状态",
        "发现时间",
        "完成时间",
        "劝导次数",
        "冲突未决",
        "隐患编号",
    ];
    assert_eq!(header, names.iter().map(|h| s(h)).collect::<Vec<_>>());
    // 渝中区's eight items of 七星岗街道 (y1: a1 a2 a3 n4 a5 a6 n6; y2: a7), none of 两江新区.
    let rows: Vec<u32> = (2..)
        .take_while(|r| cell(&sheet, *r, 0) != Data::Empty)
        .collect();
    assert_eq!(rows.len(), 8);
    let h6: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|r| cell(&sheet, *r, 18) == s(&id("a6")))
        .collect();
    let r = h6[0];
    assert_eq!(cell(&sheet, r, 0), s("渝中区"));
    assert_eq!(
        (cell(&sheet, r, 9), cell(&sheet, r, 10)),
        (s("张*"), s("138****1234"))
    );
    assert_eq!((cell(&sheet, r, 7), cell(&sheet, r, 8)), (n(8.0), s("806")));
    assert_eq!(
        (cell(&sheet, r, 11), cell(&sheet, r, 13)),
        (s("可燃雨棚"), s("已复核销号"))
    );
    assert_eq!(cell(&sheet, r, 15), s("2026-06-05 10:00:00"));
    assert_eq!(cell(&sheet, r, 16), n(1.0));
    let all: String = rows
        .iter()
        .flat_map(|r| (0..19).map(move |c| (*r, c)))
        .map(|(r, c)| cell(&sheet, r, c).to_string())
        .collect();
    assert!(!all.contains("张三") && !all.contains("13812341234"));
    assert_eq!(
        app.audit_rows("ledger.export"),
        vec![("ledger".to_owned(), "xlsx, 8 items".to_owned())]
    );

    let r = app
        .get("/v1/ledger/export.xlsx?street=500103001", &other)
        .await;
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (StatusCode::FORBIDDEN, json!("out_of_scope"))
    );
    let r = app
        .get("/v1/ledger/export.xlsx?unit=500157", &checker)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.get("/v1/ledger/export.xlsx", &other).await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    let sheet = book.worksheet_range("台账").unwrap();
    assert_eq!(cell(&sheet, 2, 0), Data::Empty);
}

#[tokio::test]
async fn in_the_console_the_lead_freezes_and_submits_and_the_city_unfreezes_and_downloads() {
    let app = TestApp::scenario();
    app.console_account("渝中区专班", Role::UnitLead, unit("500103"), "yz-lead");
    app.console_account("市专班", Role::City, Scope::City, "city");
    let lead = app.sign_in("yz-lead").await;
    let city = app.sign_in("city").await;

    // The default month in calendar mode on 07-02 is June.
    let page = app.page(&lead, "/console/reports").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("附件2月报 · 2026-06"), "{html}");
    assert!(html.contains("action=\"/console/reports/freeze\""));
    assert!(!html.contains("action=\"/console/reports/unfreeze\""));

    let fields = [("unit", "500103"), ("month", "2026-06")];
    let mut no_token = lead.clone();
    no_token.csrf = "wrong".into();
    let r = app
        .post_form(&no_token, "/console/reports/freeze", &fields)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post_form(&lead, "/console/reports/freeze", &fields)
        .await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/console/reports?month=2026-06")
    );
    let r = app
        .post_form(&lead, "/console/reports/submit", &fields)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let html = app
        .page(&city, "/console/reports?month=2026-06")
        .await
        .text();
    assert!(html.contains("已提交 <strong>1</strong>"), "{html}");
    assert!(html.contains("action=\"/console/reports/unfreeze\""));
    let r = app
        .post_form(&city, "/console/reports/unfreeze", &fields)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let with_reason = [
        ("unit", "500103"),
        ("month", "2026-06"),
        ("reason", "数据有误，退回重报"),
    ];
    let r = app
        .post_form(&city, "/console/reports/unfreeze", &with_reason)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = app
        .page(&lead, "/console/reports?month=2026-06")
        .await
        .text();
    assert!(html.contains("已解冻：数据有误，退回重报"), "{html}");

    let r = app
        .page(&city, "/console/reports/attachment2.xlsx?month=2026-06")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["附件2", "明细"]);
    let r = app
        .page(&lead, "/console/reports/attachment2.csv?month=2026-06")
        .await;
    assert!(r.text().contains("渝中区,1,4,2,3,75.00,1,2,1,1,50.00"));
    let r = app.page(&lead, "/console/ledger/export.xlsx").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.audit_rows("report.export").len(), 2);
    // The lead's unit: 渝中区's eight items, not 两江新区's three.
    assert_eq!(
        app.audit_rows("ledger.export"),
        vec![("ledger".to_owned(), "xlsx, 8 items".to_owned())]
    );
}

#[tokio::test]
async fn a_frozen_table_keeps_the_period_it_was_frozen_for_when_the_settings_change() {
    let app = TestApp::scenario();
    let report_day = |day: u32| {
        let s = CampaignSettings {
            period_mode: PeriodMode::ReportDay,
            report_day: day,
            ..CampaignSettings::for_year(2026)
        };
        app.state
            .db
            .with_writer(|c| campaign::store(c, &s))
            .unwrap();
    };
    let (lead, _) = app
        .enroll_account("渝中区专班", Role::UnitLead, unit("500103"))
        .await;
    let (city, _) = app.enroll_account("市专班", Role::City, Scope::City).await;
    // Report day 3: July runs 06-04 … 07-03. Frozen so, then the report day goes back to 25
    // (July: 06-26 … 07-25).
    report_day(3);
    let r = app
        .post(
            "/v1/reports/attachment2/500103/2026-07/freeze",
            &lead,
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let frozen = app
        .get("/v1/reports/attachment2?month=2026-07&unit=500103", &lead)
        .await
        .json();
    report_day(25);

    let v = app
        .get("/v1/reports/attachment2?month=2026-07&unit=500103", &lead)
        .await
        .json();
    assert_eq!(
        (&v["period"]["first_day"], &v["period"]["last_day"]),
        (&json!("2026-06-04"), &json!("2026-07-03"))
    );
    assert_eq!(v["period"]["end"], "2026-07-04 00:00:00");
    assert_eq!(v["rows"], frozen["rows"]);
    let r = row(&v, "500103");
    assert_eq!(
        (cells(&r["awning"]), cells(&r["net"])),
        (
            json!([1, 4, 2, 3, "75.00", 1, 0]),
            json!([1, 2, 1, 1, "50.00", 0, 0])
        )
    );
    assert_eq!(
        r["submission"]["frozen_period"]["first_day"],
        json!("2026-06-04")
    );
    assert_eq!(v["period_notes"], json!([]));
    let csv = app
        .get(
            "/v1/reports/attachment2?month=2026-07&unit=500103&format=csv",
            &lead,
        )
        .await
        .text();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[1], "统计期间：2026-06-04 至 2026-07-03（2026年07月）");
    assert_eq!(lines[4], "渝中区,1,4,2,3,75.00,1,2,1,1,50.00");
    assert_eq!(lines.len(), 7, "{csv}");
    let r = app
        .get(
            "/v1/reports/attachment2?month=2026-07&unit=500103&format=xlsx",
            &lead,
        )
        .await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    let form = book.worksheet_range("附件2").unwrap();
    assert_eq!(
        cell(&form, 2, 6),
        s("统计期间：2026-06-04 至 2026-07-03　填报时间：2026-07-02")
    );

    // The city's table mixes the frozen unit with open ones: today's period, and a note naming
    // the frozen unit's own period, on the JSON, the CSV, the XLSX and the page.
    let v = app
        .get("/v1/reports/attachment2?month=2026-07", &city)
        .await
        .json();
    assert_eq!(
        (&v["period"]["first_day"], &v["period"]["last_day"]),
        (&json!("2026-06-26"), &json!("2026-07-25"))
    );
    let note = "注：渝中区的冻结表统计期间为 2026-06-04 至 2026-07-03（冻结时的设置）";
    assert_eq!(v["period_notes"], json!([note]));
    let csv = app
        .get("/v1/reports/attachment2?month=2026-07&format=csv", &city)
        .await
        .text();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[1], "统计期间：2026-06-26 至 2026-07-25（2026年07月）");
    assert_eq!(lines[lines.len() - 2], note);
    let r = app
        .get("/v1/reports/attachment2?month=2026-07&format=xlsx", &city)
        .await;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    let form = book.worksheet_range("附件2").unwrap();
    let units = v["rows"].as_array().unwrap().len() as u32;
    assert_eq!(cell(&form, 5 + units + 1, 0), s(note));
    app.console_account("渝中区专班", Role::UnitLead, unit("500103"), "yuzhong");
    let user = app.sign_in("yuzhong").await;
    let page = app
        .page(&user, "/console/reports?month=2026-07")
        .await
        .text();
    assert!(
        page.contains("统计期间：2026-06-04 至 2026-07-03"),
        "{page}"
    );
    app.console_account("市专班", Role::City, Scope::City, "city");
    let user = app.sign_in("city").await;
    let page = app
        .page(&user, "/console/reports?month=2026-07")
        .await
        .text();
    assert!(
        page.contains("统计期间：2026-06-26 至 2026-07-25"),
        "{page}"
    );
    assert!(page.contains(note), "{page}");
}
