//! The one harness of the server's API tests: a real `AppState` on a temporary SQLite file with a
//! fake clock, called through the router without a socket (`tower::ServiceExt::oneshot`).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use pengwang_server::{AppState, Config};
use pengwang_shared::time::{FakeClock, Timestamp};
use serde_json::Value;

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
