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

pub mod tiny_city;

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

/// A signed-in console user: the session cookie and the CSRF token its pages carry.
#[derive(Clone, Debug)]
pub struct ConsoleUser {
    pub cookie: String,
    pub csrf: String,
    pub account: pengwang_shared::id::AccountId,
}

impl TestApp {
    /// Creates a console account with `login` and password `"correct horse"`.
    pub fn console_account(
        &self,
        name: &str,
        role: Role,
        scope: Scope,
        login: &str,
    ) -> pengwang_shared::id::AccountId {
        let now = self.clock.now();
        let new = NewAccount {
            name: name.into(),
            role,
            scope,
            password: Some(CONSOLE_PASSWORD.into()),
        };
        self.state
            .db
            .with_writer(|c| {
                let info = accounts::create_account(c, new, now)?;
                accounts::set_login(c, info.id, login)?;
                Ok::<_, accounts::AccountError>(info.id)
            })
            .unwrap()
    }

    /// Signs `login` in through the sign-in form and reads the CSRF token off a page.
    pub async fn sign_in(&self, login: &str) -> ConsoleUser {
        let form = format!("login={login}&password=correct%20horse");
        let r = self
            .raw(Method::POST, "/console/login", &[], Some(form))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        let set = r.headers[header::SET_COOKIE].to_str().unwrap();
        let cookie = set.split(';').next().unwrap().to_owned();
        let account = self
            .state
            .db
            .with_writer(|c| {
                c.query_row("SELECT id FROM account WHERE login = ?1", [login], |r| {
                    r.get::<_, String>(0)
                })
            })
            .unwrap();
        let page = self
            .raw(Method::GET, "/console/ledger", &[("cookie", &cookie)], None)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        ConsoleUser {
            csrf: csrf_of(&page.text()),
            cookie,
            account: pengwang_shared::id::AccountId::parse(&account).unwrap(),
        }
    }

    /// A console page as `user`.
    pub async fn page(&self, user: &ConsoleUser, uri: &str) -> Response {
        self.raw(Method::GET, uri, &[("cookie", &user.cookie)], None)
            .await
    }

    /// A console form post as `user`, with its CSRF token added.
    pub async fn post_form(
        &self,
        user: &ConsoleUser,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut all = vec![("_csrf", user.csrf.as_str())];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap();
        self.raw(Method::POST, uri, &[("cookie", &user.cookie)], Some(body))
            .await
    }

    /// A request with exactly these headers (no protocol header, no token); a body is sent as a
    /// urlencoded form.
    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        form: Option<String>,
    ) -> Response {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f)
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
}

pub const CONSOLE_PASSWORD: &str = "correct horse";

/// The CSRF token in a console page's forms.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("page has a CSRF field")
        + 20;
    html[at..].split('"').next().unwrap().to_owned()
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

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Where a redirect points.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }
}
