//! Re-enabling a disabled account (启用), within the manager's scope and audited, and the audit
//! trail of failed sign-ins and lockouts (the login tried, never the password).
#![allow(clippy::unwrap_used)]

use axum::http::{Method, StatusCode};
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Clock;

mod common;
use common::TestApp;

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

/// (action, account_id, target, detail) of every audit row with an action in `actions`, oldest
/// first.
fn audit(app: &TestApp, actions: &[&str]) -> Vec<(String, Option<String>, String, String)> {
    app.state
        .db
        .with_writer(|c| {
            let mut s =
                c.prepare("SELECT action, account_id, target, detail FROM audit ORDER BY id")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<rusqlite::Result<Vec<(String, Option<String>, String, String)>>>()
        })
        .unwrap()
        .into_iter()
        .filter(|r| actions.contains(&r.0.as_str()))
        .collect()
}

#[tokio::test]
async fn a_disabled_account_is_enabled_again_by_its_manager_and_only_by_it() {
    let app = TestApp::at("2026-06-26 10:00", |_| {});
    app.console_account("渝中区专班", Role::UnitLead, unit("500103"), "yuzhong");
    let lead = app.sign_in("yuzhong").await;
    let zhao = app.console_account("赵核查", Role::StreetChecker, street("500103001"), "zhao");
    app.console_account("大渡口区专班", Role::UnitLead, unit("500104"), "dadukou");
    let other = app.sign_in("dadukou").await;

    let r = app
        .post_form(&lead, &format!("/console/accounts/{zhao}/disable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let form = "login=zhao&password=correct%20horse".to_owned();
    let r = app
        .raw(Method::POST, "/console/login", &[], Some(form.clone()))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(r.text().contains("该账号已停用"), "{}", r.text());
    let page = app.page(&lead, "/console/accounts").await.text();
    assert!(
        page.contains(&format!("action=\"/console/accounts/{zhao}/enable\"")),
        "{page}"
    );

    // Another unit's lead does not manage the account: 404, still disabled.
    let r = app
        .post_form(&other, &format!("/console/accounts/{zhao}/enable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    // The account itself (or any non-manager) cannot: zhao cannot even sign in; a street checker
    // of the same street is refused.
    app.console_account("钱核查", Role::StreetChecker, street("500103001"), "qian");
    let qian = app.sign_in("qian").await;
    let r = app
        .post_form(&qian, &format!("/console/accounts/{zhao}/enable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(audit(&app, &["account.enable"]), vec![]);

    let r = app
        .post_form(&lead, &format!("/console/accounts/{zhao}/enable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.location(), format!("/console/accounts#account-{zhao}"));
    let r = app
        .raw(Method::POST, "/console/login", &[], Some(form))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // Enabling an enabled account changes and audits nothing.
    let r = app
        .post_form(&lead, &format!("/console/accounts/{zhao}/enable"), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let by = Some(lead.account.to_string());
    assert_eq!(
        audit(&app, &["account.disable", "account.enable"]),
        vec![
            (
                "account.disable".into(),
                by.clone(),
                zhao.to_string(),
                String::new()
            ),
            ("account.enable".into(), by, zhao.to_string(), String::new()),
        ]
    );
    let page = app.page(&lead, "/console/audit").await.text();
    assert!(page.contains("启用账号"), "{page}");
}

#[tokio::test]
async fn every_failed_sign_in_and_the_lockout_are_audited_without_the_password() {
    let app = TestApp::at("2026-06-26 10:00", |_| {});
    let lisi = app.console_account("李四", Role::StreetChecker, street("500103001"), "lisi");
    let wang = app.console_account("王五", Role::StreetChecker, street("500103001"), "wang");
    app.state
        .db
        .with_writer(|c| pengwang_server::accounts::disable(c, wang, None, app.clock.now()))
        .unwrap();
    let attempt = |login: &'static str, pw: &'static str| {
        app.raw(
            Method::POST,
            "/console/login",
            &[],
            Some(format!("login={login}&password={pw}")),
        )
    };
    assert_eq!(
        attempt("nobody", "Secret-Guess-1").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("wang", "correct%20horse").await.status,
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..8 {
        assert_eq!(
            attempt("LiSi", "Secret-Guess-1").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked: even the right password is refused, and audited.
    let r = attempt("lisi", "correct%20horse").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("尝试次数过多"), "{}", r.text());

    let wrong = format!("用户名或密码不正确（账号 {lisi}）");
    let mut expected = vec![
        (
            "console.sign_in_failure".to_owned(),
            None,
            "nobody".to_owned(),
            "用户名或密码不正确（无此用户名）".to_owned(),
        ),
        (
            "console.sign_in_failure".into(),
            None,
            "wang".into(),
            format!("账号已停用（账号 {wang}）"),
        ),
    ];
    for _ in 0..7 {
        expected.push((
            "console.sign_in_failure".into(),
            None,
            "lisi".into(),
            wrong.clone(),
        ));
    }
    expected.push((
        "console.sign_in_failure".into(),
        None,
        "lisi".into(),
        format!("用户名或密码不正确；连续失败 8 次，已锁定 15 分钟（账号 {lisi}）"),
    ));
    expected.push((
        "console.sign_in_failure".into(),
        None,
        "lisi".into(),
        format!("登录被锁定期间再次尝试（账号 {lisi}）"),
    ));
    let rows = audit(&app, &["console.sign_in_failure", "console.sign_in"]);
    assert_eq!(rows, expected);
    let all = audit(
        &app,
        &[
            "console.sign_in_failure",
            "console.sign_in",
            "account.disable",
        ],
    );
    for (_, _, target, detail) in &all {
        assert!(!target.contains("Secret") && !detail.contains("Secret"));
        assert!(!target.contains("horse") && !detail.contains("horse"));
    }
    // The throttle still lets the right password in after 15 minutes; that success is audited
    // as a sign-in.
    app.clock.advance(15 * 60 + 1);
    assert_eq!(
        attempt("lisi", "correct%20horse").await.status,
        StatusCode::SEE_OTHER
    );
    let rows = audit(&app, &["console.sign_in_failure", "console.sign_in"]);
    assert_eq!(rows.len(), expected.len() + 1);
    assert_eq!(rows.last().unwrap().0, "console.sign_in");
}
