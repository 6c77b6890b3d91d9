//! The web console's door and frame: password sign-in with throttling, session cookies, CSRF on
//! every form, sign-out, account management inside one's scope, and the ledger pages limited
//! to the user's scope with personal data masked (over the tiny city of `common::tiny_city`).
#![allow(clippy::unwrap_used)]

use axum::http::{header, Method, StatusCode};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};

mod common;
use common::tiny_city::id;
use common::{ConsoleUser, TestApp};

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

#[tokio::test]
async fn a_page_without_a_session_sends_the_browser_to_sign_in_and_back() {
    let app = app();
    let r = app
        .raw(Method::GET, "/console/ledger/items?state=closed", &[], None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/console/login?next=/console/ledger/items%3Fstate%3Dclosed"
    );
    let r = app.raw(Method::GET, "/", &[], None).await;
    assert_eq!(r.location(), "/console");
    let r = app.raw(Method::GET, "/console", &[], None).await;
    assert_eq!(r.location(), "/console/login");
    let r = app.raw(Method::GET, "/console/login", &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .text()
        .contains("<form method=\"post\" action=\"/console/login\">"));
}

#[tokio::test]
async fn sign_in_sets_an_http_only_strict_cookie_and_a_wrong_password_says_so() {
    let app = app();
    app.console_account("渝中区专班", Role::UnitLead, unit("500103"), "YuZhong");
    let form = |pw: &str| Some(format!("login=yuzhong&password={pw}&next=/console/reports"));

    let r = app
        .raw(Method::POST, "/console/login", &[], form("wrong-password"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("用户名或密码不正确"), "{}", r.text());
    assert!(r.headers.get(header::SET_COOKIE).is_none());

    let r = app
        .raw(Method::POST, "/console/login", &[], form("correct%20horse"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/console/reports");
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("pw_session="), "{cookie}");
    assert!(
        cookie.ends_with("; Path=/; HttpOnly; SameSite=Strict; Max-Age=36000"),
        "{cookie}"
    );
    // Only a path on this site may follow sign-in.
    let r = app
        .raw(
            Method::POST,
            "/console/login",
            &[],
            Some("login=yuzhong&password=correct%20horse&next=https://evil.example/".into()),
        )
        .await;
    assert_eq!(r.location(), "/console/ledger");
    // A sign-in posted from another site's page is refused.
    let r = app
        .raw(
            Method::POST,
            "/console/login",
            &[
                ("origin", "https://evil.example"),
                ("host", "pengwang.local"),
            ],
            form("correct%20horse"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn password_guessing_is_stopped_after_eight_failures_for_fifteen_minutes() {
    let app = app();
    app.console_account("李四", Role::StreetChecker, street("500103001"), "lisi");
    let attempt = |pw: &'static str| {
        app.raw(
            Method::POST,
            "/console/login",
            &[],
            Some(format!("login=lisi&password={pw}")),
        )
    };
    for _ in 0..8 {
        assert_eq!(attempt("guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let r = attempt("correct%20horse").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("尝试次数过多"), "{}", r.text());
    app.clock.advance(15 * 60 + 1);
    assert_eq!(
        attempt("correct%20horse").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = app();
    let lead = signed_in(&app, "yuzhong", Role::UnitLead, unit("500103")).await;
    let fields = [
        ("name", "王网格"),
        ("role", "community_inspector"),
        ("scope_kind", "community"),
        ("scope_code", "500103001003"),
    ];
    let body = serde_urlencoded::to_string(fields).unwrap();
    let r = app
        .raw(
            Method::POST,
            "/console/accounts",
            &[("cookie", &lead.cookie)],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("CSRF"), "{}", r.text());
    let wrong = format!("_csrf=0000&{body}");
    let r = app
        .raw(
            Method::POST,
            "/console/accounts",
            &[("cookie", &lead.cookie)],
            Some(wrong),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!app
        .page(&lead, "/console/accounts")
        .await
        .text()
        .contains("王网格"));

    let r = app.post_form(&lead, "/console/accounts", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(app
        .page(&lead, "/console/accounts")
        .await
        .text()
        .contains("王网格"));
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = app();
    let user = signed_in(&app, "lisi", Role::StreetChecker, street("500103001")).await;
    let r = app.post_form(&user, "/console/logout", &[]).await;
    assert_eq!(r.location(), "/console/login");
    assert!(r.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    // The old cookie no longer works even if a browser kept it.
    let r = app.page(&user, "/console/ledger").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_session_expires_after_ten_hours() {
    let app = app();
    let user = signed_in(&app, "lisi", Role::StreetChecker, street("500103001")).await;
    app.clock.advance(10 * 3600 - 1);
    assert_eq!(
        app.page(&user, "/console/ledger").await.status,
        StatusCode::OK
    );
    app.clock.advance(1);
    assert_eq!(
        app.page(&user, "/console/ledger").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_unit_lead_manages_accounts_only_inside_its_unit() {
    let app = app();
    let lead = signed_in(&app, "yuzhong", Role::UnitLead, unit("500103")).await;
    // Another unit's street, and a role above the lead's, are refused.
    let r = app
        .post_form(
            &lead,
            "/console/accounts",
            &[
                ("name", "外区人员"),
                ("role", "street_checker"),
                ("scope_kind", "street"),
                ("scope_code", "500104001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("管辖范围"), "{}", r.text());
    let r = app
        .post_form(
            &lead,
            "/console/accounts",
            &[("name", "市里"), ("role", "city"), ("scope_kind", "city")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A street checker of 七星岗 with a console login, then an enrollment code for a phone.
    let r = app
        .post_form(
            &lead,
            "/console/accounts",
            &[
                ("name", "赵核查"),
                ("role", "street_checker"),
                ("scope_kind", "street"),
                ("scope_code", "500103001"),
                ("login", "zhao"),
                ("password", common::CONSOLE_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let zhao = app.sign_in("zhao").await;
    assert_eq!(zhao.csrf.len(), 64);
    let id = r.location().rsplit("account-").next().unwrap().to_owned();
    let r = app
        .post_form(&lead, &format!("/console/accounts/{id}/code"), &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = r.text();
    let at = page.find("id=\"enrollment-code\">").unwrap() + 21;
    assert_eq!(page[at..].split('<').next().unwrap().len(), 8);
    // Another unit's lead does not see the account, and cannot reset its password.
    let other = signed_in(&app, "dadukou", Role::UnitLead, unit("500104")).await;
    assert!(!app
        .page(&other, "/console/accounts")
        .await
        .text()
        .contains("赵核查"));
    let r = app
        .post_form(
            &other,
            &format!("/console/accounts/{id}/password"),
            &[("password", "taken over!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Only the city manages unit leads: another lead of the same unit cannot take one over.
    let peer = app.console_account("渝中区专班二", Role::UnitLead, unit("500103"), "yuzhong2");
    assert!(!app
        .page(&lead, "/console/accounts")
        .await
        .text()
        .contains("渝中区专班二"));
    let r = app
        .post_form(
            &lead,
            &format!("/console/accounts/{peer}/password"),
            &[("password", "taken over!")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // A street checker manages no accounts.
    assert_eq!(
        app.page(&zhao, "/console/accounts").await.status,
        StatusCode::FORBIDDEN
    );
    // Disabling ends the account's sessions at once.
    let r = app
        .post_form(&lead, &format!("/console/accounts/{id}/disable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.page(&zhao, "/console/ledger").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_ledger_pages_show_a_street_checker_only_its_street_with_owners_masked() {
    let app = app();
    let checker = signed_in(&app, "lisi", Role::StreetChecker, street("500103001")).await;
    let city = signed_in(&app, "city", Role::City, Scope::City).await;

    let home = app.page(&city, "/console/ledger").await.text();
    assert!(home.contains("渝中区") && home.contains("大渡口区"));
    let home = app.page(&checker, "/console/ledger").await.text();
    assert!(home.contains("渝中区") && !home.contains("大渡口区"));
    let yuzhong = app
        .page(&checker, "/console/ledger/units/500103")
        .await
        .text();
    assert!(yuzhong.contains("七星岗街道") && !yuzhong.contains("解放碑街道"));
    for uri in [
        "/console/ledger/units/500104".to_owned(),
        "/console/ledger/streets/500103003".to_owned(),
        format!("/console/ledger/buildings/{}", id("b2")),
        format!("/console/ledger/items/{}", id("i4")),
    ] {
        assert_eq!(
            app.page(&checker, &uri).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
        assert_eq!(app.page(&city, &uri).await.status, StatusCode::OK, "{uri}");
    }
    let b1 = app
        .page(&checker, &format!("/console/ledger/buildings/{}", id("b1")))
        .await
        .text();
    assert!(b1.contains("张*") && b1.contains("138****1234"), "{b1}");
    assert!(!b1.contains("张三") && !b1.contains("13812341234"));
    // The filtered list: closed items in the checker's street are i1 and i3.
    let closed = app
        .page(&checker, "/console/ledger/items?state=closed")
        .await
        .text();
    assert!(closed.contains("共 2 条"), "{closed}");
    let all = app.page(&city, "/console/ledger/items").await.text();
    // Every live item in the city: 7 minus the VOID one.
    assert!(all.contains("共 6 条"), "{all}");
    let nets = app
        .page(&city, "/console/ledger/items?category=net&height=high")
        .await
        .text();
    assert!(nets.contains("共 2 条"), "{nets}");
}

#[tokio::test]
async fn survey_progress_counts_buildings_and_households_surveyed_of_the_total() {
    let app = app();
    app.state
        .db
        .with_writer(|c| {
            c.execute(
                "UPDATE p_building SET survey_status = 'done' WHERE id = ?1",
                [id("b1")],
            )?;
            c.execute(
                "UPDATE p_household SET survey_result = 'hazard' WHERE id IN (?1, ?2)",
                [id("h1"), id("h2")],
            )?;
            c.execute(
                "UPDATE p_household SET survey_result = 'not_reached' WHERE id = ?1",
                [id("h5")],
            )
        })
        .unwrap();
    let city = signed_in(&app, "city", Role::City, Scope::City).await;
    let page = app.page(&city, "/console/ledger/units/500103").await.text();
    // 七星岗: b1, b3, b5 → 1 of 3 surveyed; households h1, h2, h5 → 2 of 3, 1 not reached.
    let row = page.split("七星岗街道").nth(1).unwrap();
    assert!(
        row.contains("<td class=\"num\">1 / 3</td><td class=\"num\">2 / 3 <span class=\"muted\">66.7%</span></td><td class=\"num\">1</td>"),
        "{row}"
    );
}

#[tokio::test]
async fn property_staff_see_only_their_estates() {
    let app = app();
    let staff = signed_in(
        &app,
        "wuye",
        Role::PropertyStaff,
        Scope::Estates {
            community: CommunityCode::parse("500103001003").unwrap(),
            estates: vec!["金汤小区".into()],
        },
    )
    .await;
    let items = app.page(&staff, "/console/ledger/items").await.text();
    // i1, i2, i3 (b1) and i6 (b3): the VOID i7 is left out.
    assert!(items.contains("共 4 条"), "{items}");
    assert_eq!(
        app.page(&staff, &format!("/console/ledger/items/{}", id("i5")))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn console_pages_are_not_cached_unknown_ones_answer_a_page_and_overlong_fields_are_refused() {
    let app = app();
    let lead = signed_in(&app, "yuzhong", Role::UnitLead, unit("500103")).await;
    let r = app.page(&lead, "/console/ledger").await;
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    let r = app.page(&lead, "/console/no-such-page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.text().contains("没有这个页面：/console/no-such-page"),
        "{}",
        r.text()
    );
    let r = app.page(&lead, "/console/logout").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.text().contains("<h1>"), "{}", r.text());

    let long = "长".repeat(10_001);
    let r = app
        .post_form(
            &lead,
            "/console/accounts",
            &[
                ("name", &long),
                ("role", "street_checker"),
                ("scope_kind", "street"),
                ("scope_code", "500103001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("表单项“name”太长：每项最多 10000 字"),
        "{}",
        r.text()
    );
    let r = app
        .post_form(
            &lead,
            "/console/accounts",
            &[
                ("name", &"名".repeat(51)),
                ("role", "street_checker"),
                ("scope_kind", "street"),
                ("scope_code", "500103001"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("姓名不能为空，最多 50 字"),
        "{}",
        r.text()
    );
}

#[tokio::test]
async fn a_deleted_household_that_still_has_hazards_stays_listed_and_marked() {
    let app = app();
    app.state
        .db
        .with_writer(|c| {
            c.execute(
                "UPDATE p_household SET deleted = 1 WHERE id IN (?1, ?2)",
                [id("h2"), id("h5")],
            )
        })
        .unwrap();
    let city = signed_in(&app, "city", Role::City, Scope::City).await;
    // h2 (102) still has the closed awning i3: listed and marked; h5 has no items: gone.
    let b1 = app
        .page(&city, &format!("/console/ledger/buildings/{}", id("b1")))
        .await
        .text();
    assert!(
        b1.contains(&format!("id=\"household-{}\"", id("h2"))),
        "{b1}"
    );
    assert!(b1.contains("已删除，但仍有隐患 — 待裁定"));
    let b5 = app
        .page(&city, &format!("/console/ledger/buildings/{}", id("b5")))
        .await
        .text();
    assert!(
        !b5.contains(&format!("id=\"household-{}\"", id("h5"))),
        "{b5}"
    );
}

#[tokio::test]
async fn the_navigation_offers_only_pages_the_account_may_open() {
    let app = app();
    let checker = signed_in(&app, "lisi", Role::StreetChecker, street("500103001")).await;
    let lead = signed_in(&app, "yuzhong", Role::UnitLead, unit("500103")).await;
    let page = app.page(&checker, "/console/ledger").await.text();
    assert!(!page.contains("href=\"/console/charts\""), "{page}");
    assert!(!page.contains("href=\"/console/accounts\""));
    let page = app.page(&lead, "/console/ledger").await.text();
    assert!(
        page.contains("href=\"/console/charts\"") && page.contains("href=\"/console/accounts\"")
    );
    assert_eq!(
        app.page(&lead, "/console/charts").await.status,
        StatusCode::OK
    );
}
