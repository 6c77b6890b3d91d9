//! The one harness of the server's API tests: a real `AppState` on a temporary SQLite file with a
//! fake clock, called through the router without a socket (`tower::ServiceExt::oneshot`).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, AppState, Config};
use pengwang_shared::protocol::PROTOCOL_HEADER;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::{Clock, FakeClock, Timestamp};
use serde_json::{json, Value};
use tower::ServiceExt;

pub struct TestApp {
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub clock: Arc<FakeClock>,
}

impl TestApp {
    /// A server whose clock reads `local` (Asia/Shanghai), with `edit` applied to its config.
    pub fn at(local: &str, edit: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            database: dir.path().join("server.sqlite3"),
            ..Config::default()
        };
        edit(&mut config);
        let clock = Arc::new(FakeClock::at(Timestamp::parse_local(local).unwrap()));
        let state = AppState::open(config, clock.clone()).unwrap();
        TestApp {
            _dir: dir,
            state,
            clock,
        }
    }

    pub fn router(&self) -> axum::Router {
        pengwang_server::routes::router(self.state.clone())
    }

    /// One request through the router, with the protocol header, an optional bearer token and
    /// an optional body with its content type.
    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Response {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(PROTOCOL_HEADER, "1");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                req = req.header(header::CONTENT_TYPE, content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let response = self
            .router()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Response {
            status,
            headers,
            bytes,
        }
    }

    /// Creates an account, enrolls a phone for it over the API and returns (token, device id).
    pub async fn enroll_account(&self, name: &str, role: Role, scope: Scope) -> (String, String) {
        let now = self.clock.now();
        let new = NewAccount {
            name: name.into(),
            role,
            scope,
            password: None,
        };
        let code = self
            .state
            .db
            .with_writer(|c| {
                let info = accounts::create_account(c, new, now).unwrap();
                devices::issue_code(c, info.id, 7, now)
            })
            .unwrap();
        let body = json!({ "code": code, "device_name": "测试手机" })
            .to_string()
            .into_bytes();
        let r = self
            .request(
                Method::POST,
                "/v1/enroll",
                None,
                Some(("application/json", body)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json());
        let v = r.json();
        (
            v["token"].as_str().unwrap().to_owned(),
            v["device_id"].as_str().unwrap().to_owned(),
        )
    }
}

/// A response as a test reads it.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }
}
