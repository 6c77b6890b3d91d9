//! Revealing an owner's phone and the audit view, over the tiny city of `common::tiny_city`
//! (h1 in 渝中区 七星岗街道 has owner phone 13812341234; h2 beside it has none).
#![allow(clippy::unwrap_used)]

use axum::http::{Method, StatusCode};
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;

mod common;
use common::tiny_city::id;
use common::{ConsoleUser, TestApp};

const PHONE: &str = "13812341234";

fn app() -> TestApp {
    let app = TestApp::at("2026-06-26 10:00", |_| {});
    app.seed("00");
    app
}

fn street(code: &str) -> Scope {
    Scope::Street {
        street: StreetCode::parse(code).unwrap(),
    }
}

fn unit(code: &str) -> Scope {
    Scope::Unit {
        unit: UnitCode::parse(code).unwrap(),
    }
}

async fn signed_in(app: &TestApp, login: &str, role: Role, scope: Scope) -> ConsoleUser {
    app.console_account(login, role, scope, login);
    app.sign_in(login).await
}

/// Every audit row as (account, action, target, detail, unit).
type Row = (Option<String>, String, String, String, Option<String>);

fn audit(app: &TestApp, action: &str) -> Vec<Row> {
    app.state
        .db
        .with_writer(|c| {
            let mut s = c.prepare(
                "SELECT account_id, action, target, detail, unit_code FROM audit WHERE action = ?1 ORDER BY id",
            )?;
            let rows = s.query_map([action], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<Row>>>()
        })
        .unwrap()
}

/// No audit row anywhere holds the full number.
fn assert_number_never_audited(app: &TestApp) {
    let n: i64 = app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT count(*) FROM audit WHERE instr(target || detail, ?1) > 0",
                [PHONE],
                |r| r.get(0),
            )
        })
        .unwrap();
    assert_eq!(n, 0);
}

fn reveal_uri(household: &str) -> String {
    format!("/console/households/{}/phone", id(household))
}

#[tokio::test]
async fn revealing_a_phone_writes_exactly_one_audit_row_naming_the_checker_and_the_household() {
    let app = app();
    let checker = signed_in(&app, "qxgcheck", Role::StreetChecker, street("500103001")).await;
    let building = app
        .page(&checker, &format!("/console/ledger/buildings/{}", id("b1")))
        .await;
    assert!(
        !building.text().contains(PHONE),
        "the ledger masks the phone"
    );

    // The ledger's link asks first and reveals nothing.
    let r = app
        .page(&checker, &format!("/console/reveal/{}", id("h1")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r
        .text()
        .contains(&format!("action=\"{}\"", reveal_uri("h1"))));
    assert!(!r.text().contains(PHONE));
    assert_eq!(audit(&app, "phone.reveal"), vec![]);

    let r = app.post_form(&checker, &reveal_uri("h1"), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let text = r.text();
    assert!(
        text.contains(&format!("<strong>{PHONE}</strong>")),
        "{text}"
    );
    assert!(text.contains("本次查看已记入审计日志"));

    let rows = audit(&app, "phone.reveal");
    assert_eq!(
        rows,
        vec![(
            Some(checker.account.to_string()),
            "phone.reveal".to_owned(),
            format!("household/{}", id("h1")),
            format!("building/{}", id("b1")),
            Some("500103".to_owned()),
        )]
    );
    assert_number_never_audited(&app);

    // A household with no phone recorded reveals nothing and is not audited.
    let r = app.post_form(&checker, &reveal_uri("h2"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("该户没有登记业主手机号码"));
    assert_eq!(audit(&app, "phone.reveal").len(), 1);
}

#[tokio::test]
async fn an_out_of_scope_or_unauthorised_reveal_is_refused_and_writes_no_audit_row() {
    let app = app();
    let other_street = signed_in(&app, "jfbcheck", Role::StreetChecker, street("500103003")).await;
    let r = app.post_form(&other_street, &reveal_uri("h1"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .contains("这一户不在您的管辖范围（street 500103003）内"),
        "{}",
        r.text()
    );
    assert!(!r.text().contains(PHONE));

    let other_unit = signed_in(&app, "ddklead", Role::UnitLead, unit("500104")).await;
    let r = app.post_form(&other_unit, &reveal_uri("h1"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let fire = signed_in(&app, "firerescue", Role::FireRescue, Scope::City).await;
    let r = app.post_form(&fire, &reveal_uri("h1"), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .page(&fire, &format!("/console/reveal/{}", id("h1")))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text().contains("消防救援(只读)不能查看完整手机号码"),
        "{}",
        r.text()
    );

    // The right checker without the CSRF token.
    let checker = signed_in(&app, "qxgcheck", Role::StreetChecker, street("500103001")).await;
    let r = app
        .raw(
            Method::POST,
            &reveal_uri("h1"),
            &[("cookie", &checker.cookie)],
            Some(String::new()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Unknown household.
    let r = app.post_form(&checker, &reveal_uri("zz"), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    assert_eq!(audit(&app, "phone.reveal"), vec![]);
    assert_number_never_audited(&app);
}

/// "共 N 条，第 P / Q 页" of an audit page.
fn counted(text: &str) -> String {
    let at = text.find("共 ").expect("a count line");
    text[at..].split('。').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_audit_view_shows_a_unit_lead_its_units_rows_and_the_city_everything() {
    let app = app();
    let checker = signed_in(&app, "qxgcheck", Role::StreetChecker, street("500103001")).await;
    app.post_form(&checker, &reveal_uri("h1"), &[]).await;
    let yz = signed_in(&app, "yzlead", Role::UnitLead, unit("500103")).await;
    let ddk = signed_in(&app, "ddklead", Role::UnitLead, unit("500104")).await;
    let city = signed_in(&app, "city", Role::City, Scope::City).await;

    let uri = "/console/audit?action=phone.reveal";
    let r = app.page(&yz, uri).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(counted(&r.text()), "共 1 条，第 1 / 1 页");
    assert!(r.text().contains(&format!("household/{}", id("h1"))));
    assert!(
        r.text().contains("<td>qxgcheck</td>"),
        "the actor by account name"
    );
    assert_eq!(
        counted(&app.page(&ddk, uri).await.text()),
        "共 0 条，第 1 / 1 页"
    );
    assert_eq!(
        counted(&app.page(&city, uri).await.text()),
        "共 1 条，第 1 / 1 页"
    );

    // Sign-ins: 渝中区 sees its checker's and its own, 大渡口区 only its own.
    let uri = "/console/audit?action=console.sign_in";
    assert_eq!(
        counted(&app.page(&yz, uri).await.text()),
        "共 2 条，第 1 / 1 页"
    );
    assert_eq!(
        counted(&app.page(&ddk, uri).await.text()),
        "共 1 条，第 1 / 1 页"
    );
    assert_eq!(
        counted(&app.page(&city, uri).await.text()),
        "共 4 条，第 1 / 1 页"
    );
    let r = app
        .page(
            &city,
            "/console/audit?action=console.sign_in&actor=qxgcheck",
        )
        .await;
    assert_eq!(counted(&r.text()), "共 1 条，第 1 / 1 页");

    // Street checkers and fire-rescue have no audit view.
    let r = app.page(&checker, "/console/audit").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_view_filters_by_date_and_pages_by_fifty() {
    let app = app();
    let city = signed_in(&app, "city", Role::City, Scope::City).await;
    let day = Timestamp::parse_local("2026-06-20 12:00").unwrap().0;
    app.state
        .db
        .with_writer(|c| {
            for i in 0..120 {
                c.execute(
                    "INSERT INTO audit (at, account_id, action, target, detail) VALUES (?1, NULL, 'campaign.change', ?2, '')",
                    rusqlite::params![day + i, format!("t{i}")],
                )?;
            }
            Ok::<_, rusqlite::Error>(())
        })
        .unwrap();
    let base = "/console/audit?action=campaign.change";
    let r = app.page(&city, base).await;
    assert_eq!(counted(&r.text()), "共 120 条，第 1 / 3 页");
    assert!(r.text().contains("<code>t119</code>") && !r.text().contains("<code>t69</code>"));
    let r = app.page(&city, &format!("{base}&page=3")).await;
    assert_eq!(counted(&r.text()), "共 120 条，第 3 / 3 页");
    assert_eq!(r.text().matches("<code>t").count(), 20);
    assert!(r.text().contains("<code>t0</code>") && r.text().contains("<code>t19</code>"));

    let r = app
        .page(&city, &format!("{base}&from=2026-06-20&to=2026-06-20"))
        .await;
    assert_eq!(counted(&r.text()), "共 120 条，第 1 / 3 页");
    let r = app.page(&city, &format!("{base}&from=2026-06-21")).await;
    assert_eq!(counted(&r.text()), "共 0 条，第 1 / 1 页");
    let r = app.page(&city, &format!("{base}&to=2026-06-19")).await;
    assert_eq!(counted(&r.text()), "共 0 条，第 1 / 1 页");

    let r = app.page(&city, &format!("{base}&from=2026/06/01")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .contains("日期应写作 YYYY-MM-DD（如 2026-06-25），收到“2026/06/01”"));
}
