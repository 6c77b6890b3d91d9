//! 附件2 end to end: phones record and progress items with their own clocks, sync, and the
//! server's table matches a count made by hand, cell by cell.
#![allow(clippy::unwrap_used)]

use pengwang_e2e::field::*;
use pengwang_e2e::raw::RawClient;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_server::campaign;
use pengwang_shared::document::FieldValue;
use pengwang_shared::event::EventKind;
use pengwang_shared::id::{BuildingId, HouseholdId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::role::{Location, Role};
use pengwang_shared::settings::{CampaignSettings, PeriodMode};
use serde_json::{json, Value};

struct Unit {
    inspector: TestDevice,
    checker: TestDevice,
}

async fn unit(server: &TestServer, street: &str) -> Unit {
    let i = server
        .account("网格员", Role::CommunityInspector, street_scope(street))
        .unwrap();
    let c = server
        .account("核查员", Role::StreetChecker, street_scope(street))
        .unwrap();
    Unit {
        inspector: TestDevice::enroll(server, &i).await.unwrap(),
        checker: TestDevice::enroll(server, &c).await.unwrap(),
    }
}

fn building(d: &TestDevice, loc: &Location, floors: i64) -> BuildingId {
    d.at("2026-03-02 09:00");
    d.create_building(
        loc.clone(),
        &[
            ("number", text("1栋")),
            ("use", text("residential")),
            ("floors", FieldValue::Int(floors)),
        ],
    )
    .unwrap()
}

fn household(d: &TestDevice, b: BuildingId, room: &str) -> HouseholdId {
    d.add_household(b, &[("room", text(room))]).unwrap()
}

fn item(d: &TestDevice, b: BuildingId, h: HouseholdId, c: Category) -> ItemId {
    d.at("2026-03-03 09:00");
    d.add_item(b, c, Some(h), &[], vec![photo(1)], "").unwrap()
}

/// Inspector submits at `fixed`, checker closes at `closed` (both Shanghai time).
async fn close(u: &Unit, b: BuildingId, i: ItemId, fixed: &str, closed: &str) {
    u.inspector.at(fixed);
    submit_removed(&u.inspector, b, i, 9).unwrap();
    u.inspector.sync().await.unwrap();
    u.checker.sync().await.unwrap();
    u.checker.at(closed);
    step(&u.checker, b, i, EventKind::Close, "").unwrap();
    u.checker.sync().await.unwrap();
    u.inspector.sync().await.unwrap();
}

fn cells(row: &Value) -> Value {
    let pick = |c: &Value| {
        json!([
            c["buildings"],
            c["households"],
            c["completed_in_period"],
            c["completed_total"],
            c["rate"],
            c["pending_verify"]
        ])
    };
    json!({ "awning": pick(&row["awning"]), "net": pick(&row["net"]) })
}

#[tokio::test]
async fn every_attachment2_cell_for_two_units_and_the_city_matches_the_hand_count() {
    let server = TestServer::start().await.unwrap();
    let calendar = CampaignSettings {
        period_mode: PeriodMode::CalendarMonth,
        ..CampaignSettings::for_year(2026)
    };
    server
        .state
        .db
        .with_writer(|c| campaign::store(c, &calendar))
        .unwrap();

    // 渝中区 七星岗街道: an 18-floor residential building (high-rise) and a 6-floor one.
    let yz = unit(&server, "500103001").await;
    let y1 = building(&yz.inspector, &yuzhong("嘉华大厦"), 18);
    let hh: Vec<HouseholdId> = (1..=6)
        .map(|n| household(&yz.inspector, y1, &format!("{n}01")))
        .collect();
    let h1 = item(&yz.inspector, y1, hh[0], Category::Awning); // closed 06-30 23:30
    let h2 = item(&yz.inspector, y1, hh[1], Category::Awning); // closed in May
    let h3 = item(&yz.inspector, y1, hh[2], Category::Awning); // PENDING_VERIFY
    let h4 = item(&yz.inspector, y1, hh[3], Category::Net); // closed in May, reopened in June
    let h5 = item(&yz.inspector, y1, hh[4], Category::Awning); // VOID
    let h6a = item(&yz.inspector, y1, hh[5], Category::Awning); // both categories,
    let h6n = item(&yz.inspector, y1, hh[5], Category::Net); //    both closed in June
    let y2 = building(&yz.inspector, &yuzhong("老街坊"), 6);
    let h7h = household(&yz.inspector, y2, "201");
    let h7 = item(&yz.inspector, y2, h7h, Category::Awning); // multi-storey: not in the table
    yz.inspector.sync().await.unwrap();

    close(&yz, y1, h1, "2026-06-20 10:00", "2026-06-30 23:30").await;
    close(&yz, y1, h2, "2026-05-08 10:00", "2026-05-10 10:00").await;
    yz.inspector.at("2026-06-15 10:00");
    submit_removed(&yz.inspector, y1, h3, 3).unwrap();
    close(&yz, y1, h4, "2026-05-15 10:00", "2026-05-20 10:00").await;
    yz.checker.at("2026-06-10 10:00");
    step(&yz.checker, y1, h4, EventKind::Reopen, "防护网又装回去了").unwrap();
    step(&yz.checker, y1, h5, EventKind::Void, "非高层外墙，误登记").unwrap();
    yz.checker.sync().await.unwrap();
    close(&yz, y1, h6a, "2026-06-04 10:00", "2026-06-05 10:00").await;
    close(&yz, y1, h6n, "2026-06-05 10:00", "2026-06-06 10:00").await;
    close(&yz, y2, h7, "2026-06-01 10:00", "2026-06-01 15:00").await;

    // 两江新区 礼嘉街道 (a 渝北区 street that reports under 两江新区).
    let lj = unit(&server, "500112019").await;
    let loc = place("500157", "500112019", "500112019001", "龙湖春森彼岸");
    let l1 = building(&lj.inspector, &loc, 25);
    let (h8h, h9h, h10h) = (
        household(&lj.inspector, l1, "801"),
        household(&lj.inspector, l1, "901"),
        household(&lj.inspector, l1, "1001"),
    );
    let h8 = item(&lj.inspector, l1, h8h, Category::Net);
    item(&lj.inspector, l1, h9h, Category::Net);
    let h10 = item(&lj.inspector, l1, h10h, Category::Awning);
    lj.inspector.at("2026-04-01 10:00");
    notify(&lj.inspector, l1, h10).unwrap();
    lj.inspector.sync().await.unwrap();
    close(&lj, l1, h8, "2026-06-11 10:00", "2026-06-12 10:00").await;
    yz.inspector.sync().await.unwrap();

    let city = server
        .account("市专班", Role::City, pengwang_shared::role::Scope::City)
        .unwrap();
    let raw = RawClient::enroll(&server, &city).await.unwrap();
    let report = raw
        .get("/v1/reports/attachment2?month=2026-06")
        .await
        .unwrap();
    assert_eq!(
        report.status,
        200,
        "{}",
        String::from_utf8_lossy(&report.body)
    );
    let r = report.json();
    let row = |code: &str| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["unit"] == code)
            .cloned()
            .unwrap()
    };
    // [楼栋总数, 总户数, 本月完成, 累计完成, 整改率, 待核查]
    assert_eq!(
        cells(&row("500103")),
        json!({ "awning": [1, 4, 2, 3, "75.00", 1], "net": [1, 2, 1, 1, "50.00", 0] })
    );
    assert_eq!(
        cells(&row("500157")),
        json!({ "awning": [1, 1, 0, 0, "0.00", 0], "net": [1, 2, 1, 1, "50.00", 0] })
    );
    assert_eq!(
        cells(&row("500112")),
        json!({ "awning": [0, 0, 0, 0, "—", 0], "net": [0, 0, 0, 0, "—", 0] })
    );
    assert_eq!(
        cells(&r["total"]),
        json!({ "awning": [2, 5, 2, 3, "60.00", 1], "net": [2, 4, 2, 2, "50.00", 0] })
    );

    // In May, h3 (submitted 06-15) was not yet awaiting verification; h2 was done.
    let may = raw
        .get("/v1/reports/attachment2?month=2026-05&unit=500103")
        .await
        .unwrap()
        .json();
    assert_eq!(
        cells(&may["rows"][0])["awning"],
        json!([1, 4, 1, 1, "25.00", 0])
    );

    // The default period (26th to 25th): 06-30 23:30 belongs to the July report instead.
    server
        .state
        .db
        .with_writer(|c| campaign::store(c, &CampaignSettings::for_year(2026)))
        .unwrap();
    let july = raw
        .get("/v1/reports/attachment2?month=2026-07&unit=500103")
        .await
        .unwrap()
        .json();
    assert_eq!(
        cells(&july["rows"][0])["awning"],
        json!([1, 4, 1, 3, "75.00", 1])
    );
    let june = raw
        .get("/v1/reports/attachment2?month=2026-06&unit=500103")
        .await
        .unwrap()
        .json();
    assert_eq!(
        cells(&june["rows"][0])["awning"],
        json!([1, 4, 1, 2, "50.00", 1])
    );
}
