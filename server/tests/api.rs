//! The HTTP API, called through the router without a socket (`tower::ServiceExt::oneshot`).
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use pengwang_migrations::MigrationError;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::db::DbError;
use pengwang_server::{devices, Config, Db};
use pengwang_shared::id::AccountId;
use pengwang_shared::protocol::PROTOCOL_HEADER;
use pengwang_shared::region::StreetCode;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Clock;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;
use common::TestApp;

impl TestApp {
    fn new() -> Self {
        Self::with_config(|_| {})
    }

    fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        Self::at("2026-03-01 10:00", edit)
    }

    fn create_street_checker(&self) -> AccountId {
        let new = NewAccount {
            name: "李四".into(),
            role: Role::StreetChecker,
            scope: Scope::Street {
                street: StreetCode::parse("500103001").unwrap(),
            },
            password: None,
        };
        let now = self.clock.now();
        self.state
            .db
            .with_writer(|c| accounts::create_account(c, new, now))
            .unwrap()
            .id
    }

    fn issue_code(&self, account: AccountId) -> String {
        let now = self.clock.now();
        self.state
            .db
            .with_writer(|c| devices::issue_code(c, account, 7, now))
            .unwrap()
    }

    /// Sends a request; `protocol` is the header value (None: header absent).
    async fn send(
        &self,
        method: Method,
        uri: &str,
        protocol: Option<&str>,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(p) = protocol {
            req = req.header(PROTOCOL_HEADER, p);
        }
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn enroll(&self, code: &str) -> (StatusCode, Value) {
        let body = json!({ "code": code, "device_name": "测试手机" });
        self.send(Method::POST, "/v1/enroll", Some("1"), None, Some(body))
            .await
    }

    /// Enrolls a new device of a new street checker and returns its token.
    async fn enrolled_token(&self) -> String {
        let code = self.issue_code(self.create_street_checker());
        let (status, body) = self.enroll(&code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn health_reports_ok_version_and_database() {
    let app = TestApp::new();
    let (status, body) = app.send(Method::GET, "/health", None, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "protocol": 1, "database": "ok" })
    );
}

#[tokio::test]
async fn enrolling_with_a_fresh_code_returns_account_settings_and_a_working_token() {
    let app = TestApp::new();
    let account = app.create_street_checker();
    let code = app.issue_code(account);
    let (status, body) = app.enroll(&code.to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["account"]["id"], json!(account.to_string()));
    assert_eq!(body["account"]["role"], json!("street_checker"));
    assert_eq!(
        body["account"]["scope"],
        json!({ "kind": "street", "street": "500103001" })
    );
    assert_eq!(
        body["settings"],
        serde_json::to_value(CampaignSettings::for_year(2026)).unwrap()
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 64);
    let (status, me) = app
        .send(Method::GET, "/v1/me", Some("1"), Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me, body["account"]);
}

#[tokio::test]
async fn an_unknown_code_is_refused_with_the_code_in_the_message() {
    let app = TestApp::new();
    let (status, body) = app.enroll("ZZZZ-ZZZZ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "enrollment_code_unknown");
    assert_eq!(
        body["message"],
        "enrollment code \"ZZZZZZZZ\" is not known: check the code, or ask your supervisor for a new one"
    );
}

#[tokio::test]
async fn a_used_code_is_refused_as_a_conflict() {
    let app = TestApp::new();
    let code = app.issue_code(app.create_street_checker());
    assert_eq!(app.enroll(&code).await.0, StatusCode::OK);
    let (status, body) = app.enroll(&code).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "enrollment_code_used");
}

#[tokio::test]
async fn a_code_used_seven_days_after_issue_has_expired() {
    let app = TestApp::new();
    let code = app.issue_code(app.create_street_checker());
    app.clock.advance(7 * 24 * 3600);
    let (status, body) = app.enroll(&code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "enrollment_code_expired");
    assert_eq!(
        body["message"],
        "this enrollment code expired at 2026-03-08 10:00:00: ask your supervisor for a new one"
    );
}

#[tokio::test]
async fn a_request_without_the_protocol_header_is_a_bad_request() {
    let app = TestApp::new();
    let token = app.enrolled_token().await;
    let (status, body) = app
        .send(Method::GET, "/v1/me", None, Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "missing_protocol");
    assert_eq!(
        body["message"],
        "missing pengwang-protocol header: this server speaks protocol 1"
    );
}

#[tokio::test]
async fn an_app_speaking_protocol_2_is_told_to_update() {
    let app = TestApp::new();
    let token = app.enrolled_token().await;
    for (uri, method, body) in [
        ("/v1/me", Method::GET, None),
        ("/v1/enroll", Method::POST, Some(json!({}))),
    ] {
        let (status, body) = app.send(method, uri, Some("2"), Some(&token), body).await;
        assert_eq!(status, StatusCode::UPGRADE_REQUIRED, "{uri}");
        assert_eq!(body["code"], "protocol_mismatch");
        assert_eq!(
            body["message"],
            "请更新应用 / please update the app: server speaks protocol 1, app sent 2"
        );
    }
}

#[tokio::test]
async fn a_revoked_device_is_forbidden_with_device_revoked() {
    let app = TestApp::new();
    let token = app.enrolled_token().await;
    let device: String = app
        .state
        .db
        .with_writer(|c| c.query_row("SELECT id FROM device", [], |r| r.get(0)))
        .unwrap();
    let device = pengwang_shared::id::DeviceId::parse(&device).unwrap();
    let now = app.clock.now();
    app.state
        .db
        .with_writer(|c| devices::revoke(c, device, None, now))
        .unwrap();
    let (status, body) = app
        .send(Method::GET, "/v1/me", Some("1"), Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "device_revoked");
}

#[tokio::test]
async fn missing_and_unknown_tokens_are_unauthorized() {
    let app = TestApp::new();
    let (status, body) = app.send(Method::GET, "/v1/me", Some("1"), None, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_token"))
    );
    let (status, body) = app
        .send(
            Method::GET,
            "/v1/me",
            Some("1"),
            Some(&"0".repeat(64)),
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
}

#[tokio::test]
async fn a_body_over_the_batch_limit_is_refused_with_413() {
    let app = TestApp::with_config(|c| c.max_batch_bytes = 64);
    let body = json!({ "code": "A".repeat(100), "device_name": "x" });
    let (status, body) = app
        .send(Method::POST, "/v1/enroll", Some("1"), None, Some(body))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn a_malformed_enroll_body_is_a_bad_request_naming_the_field() {
    let app = TestApp::new();
    let (status, body) = app
        .send(
            Method::POST,
            "/v1/enroll",
            Some("1"),
            None,
            Some(json!({ "code": "X" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_json");
    assert!(
        body["message"].as_str().unwrap().contains("device_name"),
        "{body}"
    );
}

#[test]
fn opening_a_database_twice_applies_migrations_once_and_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite3");
    let count = |db: &Db, sql: &'static str| {
        db.with_writer(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)))
            .unwrap()
    };
    let db = Db::open(&path).unwrap();
    db.with_writer(|c| c.execute("INSERT INTO district VALUES ('500103', '渝中区')", []))
        .unwrap();
    drop(db);
    let db = Db::open(&path).unwrap();
    let known = pengwang_migrations::SERVER.len() as i64;
    assert_eq!(count(&db, "SELECT count(*) FROM schema_migrations"), known);
    assert_eq!(
        count(&db, "SELECT max(version) FROM schema_migrations"),
        known
    );
    assert_eq!(count(&db, "SELECT count(*) FROM district"), 1);
}

#[test]
fn a_database_with_a_newer_schema_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.sqlite3");
    let db = Db::open(&path).unwrap();
    db.with_writer(|c| {
        c.execute(
            "INSERT INTO schema_migrations VALUES (9999, '9999_future', 0)",
            [],
        )
    })
    .unwrap();
    drop(db);
    let err = Db::open(&path).err().unwrap();
    let known = pengwang_migrations::SERVER.len() as i64;
    assert!(
        matches!(err, DbError::Migration(MigrationError::FutureSchema { found: 9999, known: k }) if k == known),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "database schema version 9999 is newer than this build knows ({known}): update the program"
        )
    );
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json_errors() {
    let app = TestApp::new();
    let (status, body) = app
        .send(Method::GET, "/v1/nope", Some("1"), None, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_route"))
    );
    assert_eq!(body["message"], "no such endpoint: /v1/nope");
    let (status, body) = app
        .send(Method::GET, "/v1/sync", Some("1"), None, None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn the_bearer_scheme_name_is_case_insensitive() {
    let app = TestApp::new();
    let token = app.enrolled_token().await;
    let req = Request::builder()
        .uri("/v1/me")
        .header(PROTOCOL_HEADER, "1")
        .header(header::AUTHORIZATION, format!("bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.router().oneshot(req).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_body_over_the_batch_limit_says_which_setting_limits_it() {
    let app = TestApp::with_config(|c| c.max_batch_bytes = 64);
    let body = json!({ "code": "A".repeat(100), "device_name": "x" });
    let (_, body) = app
        .send(Method::POST, "/v1/enroll", Some("1"), None, Some(body))
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("PENGWANG_MAX_BATCH_BYTES"),
        "{body}"
    );
}

#[tokio::test]
async fn roles_get_only_the_scopes_they_work_at() {
    let app = TestApp::new();
    let street = Scope::Street {
        street: StreetCode::parse("500103001").unwrap(),
    };
    let cases = [
        (Role::City, street.clone(), "role city cannot have scope street 500103001: a city account's scope is the city"),
        (Role::StreetChecker, Scope::City, "role street_checker cannot have scope city: a street checker is scoped to one street"),
        (Role::UnitLead, street, "role unit_lead cannot have scope street 500103001: a unit lead is scoped to one reporting unit"),
    ];
    for (role, scope, message) in cases {
        let new = NewAccount {
            name: "某人".into(),
            role,
            scope,
            password: None,
        };
        let now = app.clock.now();
        let err = app
            .state
            .db
            .with_writer(|c| accounts::create_account(c, new, now))
            .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}
