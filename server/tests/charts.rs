//! The charts' data and page over the tiny city of `common::tiny_city`, on 2026-06-26 10:00
//! (report-day periods: April = 03-26…04-25, May = 04-26…05-25, June = 05-26…06-25, July from
//! 06-26 cut at now). Every item was found 04-01.
//! - 渝中区 awning: h1 (i1 closed 06-10; i7 void), h2 (i3 closed 05-01), h3 (i4 pending) →
//!   3 households in 2 buildings; completed: May h2, June h1.
//! - 渝中区 net: h1 (i2 notified). 大渡口区 net: h4 (i5 closed 06-20).
//! - Common parts: i6 awning identified (b3, multi-storey) — in the state mix only.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use pengwang_server::charts;
use pengwang_shared::event::ItemState;
use pengwang_shared::item::Category;
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::report::Attachment2;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;

mod common;
use common::TestApp;

const NOW: &str = "2026-06-26 10:00";

fn app() -> TestApp {
    let app = TestApp::at(NOW, |_| {});
    app.seed("00");
    app
}

fn u(code: &str) -> UnitCode {
    UnitCode::parse(code).unwrap()
}

/// (cut-off day, [households, completed in period, completed total, pending] per category).
type Point = (String, [u64; 4], [u64; 4]);

fn points(series: &[Attachment2]) -> Vec<Point> {
    let cells = |c: &pengwang_shared::report::CategoryCells| {
        [
            c.households,
            c.completed_in_period,
            c.completed_total,
            c.pending_verify,
        ]
    };
    series
        .iter()
        .map(|a| {
            let day = Timestamp(a.period.end.0 - 1).local_date().to_string();
            (day, cells(&a.total.awning), cells(&a.total.net))
        })
        .collect()
}

fn data(app: &TestApp, units: &[UnitCode]) -> charts::ChartData {
    let now = Timestamp::parse_local(NOW).unwrap();
    let settings = CampaignSettings::for_year(2026);
    app.state
        .db
        .with_writer(|c| {
            Ok::<_, rusqlite::Error>(charts::chart_data(c, units, &settings, now).unwrap())
        })
        .unwrap()
}

#[test]
fn completed_households_per_cut_off_match_the_hand_count() {
    let app = app();
    let city = data(&app, &[u("500103"), u("500104")]);
    let p = |day: &str, a: [u64; 4], n: [u64; 4]| (day.to_owned(), a, n);
    let empty = [0; 4];
    assert_eq!(
        points(&city.series),
        vec![
            p("2026-01-25", empty, empty),
            p("2026-02-25", empty, empty),
            p("2026-03-25", empty, empty),
            p("2026-04-25", [3, 0, 0, 1], [2, 0, 0, 0]),
            p("2026-05-25", [3, 1, 1, 1], [2, 0, 0, 0]),
            p("2026-06-25", [3, 1, 2, 1], [2, 1, 1, 0]),
            p("2026-06-26", [3, 0, 2, 1], [2, 0, 1, 0]),
        ]
    );
    assert_eq!(
        city.series[6].period.end,
        Timestamp::parse_local(NOW).unwrap()
    );
    let buildings: Vec<(u64, u64)> = city
        .series
        .iter()
        .map(|a| (a.total.awning.buildings, a.total.net.buildings))
        .collect();
    assert_eq!(buildings[3..], [(2, 2), (2, 2), (2, 2), (2, 2)]);

    let ddk = data(&app, &[u("500104")]);
    assert_eq!(
        points(&ddk.series)[3..],
        [
            p("2026-04-25", empty, [1, 0, 0, 0]),
            p("2026-05-25", empty, [1, 0, 0, 0]),
            p("2026-06-25", empty, [1, 1, 1, 0]),
            p("2026-06-26", empty, [1, 0, 1, 0]),
        ]
    );
    let deadlines: Vec<String> = city
        .deadlines
        .iter()
        .map(|(d, name)| format!("{d} {name}"))
        .collect();
    assert_eq!(
        deadlines,
        [
            "2026-06-30 自行整改期限",
            "2026-09-30 定点拆除期限",
            "2026-12-31 全部完成期限"
        ]
    );
}

#[test]
fn the_state_mix_counts_every_live_item_by_category_and_state() {
    let app = app();
    let city = data(&app, &[u("500103"), u("500104")]);
    let of = |c: Category| -> Vec<(ItemState, u64)> {
        city.mix[&c].iter().map(|(s, n)| (*s, *n)).collect()
    };
    use ItemState::*;
    assert_eq!(
        of(Category::Awning),
        vec![(Identified, 1), (PendingVerify, 1), (Closed, 2), (Void, 1)]
    );
    assert_eq!(of(Category::Net), vec![(Notified, 1), (Closed, 1)]);
    let ddk = data(&app, &[u("500104")]);
    assert!(ddk.mix[&Category::Awning].is_empty());
    assert_eq!(
        ddk.mix[&Category::Net].iter().collect::<Vec<_>>(),
        vec![(&Closed, &1)]
    );
}

#[tokio::test]
async fn the_chart_page_draws_labelled_svg_with_its_numbers_for_the_users_scope() {
    let app = app();
    app.console_account("citylead", Role::City, Scope::City, "citylead");
    let unit = Scope::Unit { unit: u("500104") };
    app.console_account("ddklead", Role::UnitLead, unit, "ddklead");
    let street = Scope::Street {
        street: StreetCode::parse("500103001").unwrap(),
    };
    app.console_account("qxgcheck", Role::StreetChecker, street, "qxgcheck");

    let city = app.sign_in("citylead").await;
    let r = app.page(&city, "/console/charts").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    assert!(page.contains("<title>图表 · 全市 · 棚网控制台</title>"));
    assert!(page.contains("<title id=\"chart-progress-0-t\">可燃雨棚整改进度</title>"));
    assert!(page.contains("可燃雨棚：截至最近统计期，总户数 3 户，累计完成 2 户，整改率 66.67%。"));
    assert!(page
        .contains("突出外墙防护网：截至最近统计期，总户数 2 户，累计完成 1 户，整改率 50.00%。"));
    assert!(
        page.contains("6/30 自行整改期限")
            && page.contains("9/30 定点拆除期限")
            && page.contains("12/31 全部完成期限")
    );
    assert!(page.contains("2026-06-25：累计完成 2 户 / 总户数 3 户"));
    assert!(page.contains("共 7 个隐患点位"));
    // The numbers table: June's row.
    assert!(page.contains("<td>2026-06-25</td><td class=\"num\">3</td><td class=\"num\">1</td><td class=\"num\">2</td><td class=\"num\">66.67</td>"));

    let r = app.page(&city, "/console/charts?unit=500104").await;
    assert!(r
        .text()
        .contains("突出外墙防护网：截至最近统计期，总户数 1 户，累计完成 1 户，整改率 100.00%。"));

    let ddk = app.sign_in("ddklead").await;
    let r = app.page(&ddk, "/console/charts").await;
    assert!(r
        .text()
        .contains("<title>图表 · 大渡口区 · 棚网控制台</title>"));
    assert!(r
        .text()
        .contains("可燃雨棚：截至最近统计期，总户数 0 户，累计完成 0 户，整改率 —。"));
    assert_eq!(
        app.page(&ddk, "/console/charts?unit=500103").await.status,
        StatusCode::FORBIDDEN
    );

    let checker = app.sign_in("qxgcheck").await;
    assert_eq!(
        app.page(&checker, "/console/charts").await.status,
        StatusCode::FORBIDDEN
    );
}
